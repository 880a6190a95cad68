"""An importer's ACE entry report (ES-003 "Entry Summary Line Tariff Details", one row per
tariff ordinal) read into entries: their numbers (checked), dates, status columns and each
line's goods and chapter 99 rows; or a tariffcalc batch file with entry numbers, whose IEEPA
duty the schedule estimates. What the refund comes to is :mod:`tariffcalc.refunds`'s."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from .batch import STATUS_OK, BatchSummary, price_rows
from .entries import entry_line
from .errors import InputError, quoted
from .money import ZERO_MONEY, plain_text
from .outputs import RESULT_FIELDS
from .rules import Schedule
from .tables import ColumnLayout, InputTable, open_input

# The columns of an ACE ES-003 "Entry Summary Line Tariff Details" report (reference §14; no
# official column list has been published: these are the names seen), compared as batch
# compares headers (case, spaces and punctuation aside).
REPORT_LAYOUT = ColumnLayout(
    "an ACE entry summary line tariff report (ES-003)",
    {
        "entry_number": ("entry_summary_number", "entry_number", "entry_no", "entry"),
        "line_number": ("entry_summary_line_number", "line_number", "line_no"),
        "entry_type": ("entry_type_code", "entry_type"),
        "importer": ("importer_number", "importer_of_record_number", "ior_number"),
        "entry_date": ("entry_date",),
        "summary_date": ("entry_summary_date",),
        "origin": ("country_of_origin_code", "country_of_origin", "origin"),
        "ordinal": ("tariff_ordinal_number", "tariff_ordinal"),
        "hts": ("hts_number_full", "hts_number", "hts"),
        "value": ("line_tariff_goods_value_amount", "line_goods_value_amount", "goods_value"),
        "duty": ("line_tariff_duty_amount", "line_duty_amount", "duty_amount"),
        "payment_date": ("payment_date", "duty_payment_date", "statement_payment_date"),
        "liquidation_date": ("liquidation_date",),
        "liquidation_status": ("liquidation_status", "liquidation_status_code"),
        "reconciliation": ("reconciliation_indicator", "reconciliation_flag"),
        "protest": ("protest_number",),
    },
    (("entry_number",), ("line_number",), ("hts",), ("duty",), ("summary_date", "entry_date")),
)

_ENTRY_NUMBER = re.compile(r"^[0-9A-Z]{3}\d{8}$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_REPORT_AMOUNT = re.compile(r"^\$?\d{1,3}(,\d{3})*(\.\d+)?$|^\$?\d+(\.\d+)?$|^\$?\.\d+$")
_YES = frozenset({"y", "yes", "true", "1", "x"})


def entry_check_digit(base: str) -> int:
    """The check digit of an entry number's 10 base characters (filer code + 7 digits):
    letters as digits (A-I 1-9, J-R 1-9, S-Z 2-9), the digits in even places doubled (less 9
    above 9), all summed; the digit that brings the sum to a multiple of 10 (reference §14)."""
    total = 0
    for place, char in enumerate(base, start=1):
        if char.isdigit():
            digit = int(char)
        else:
            offset = ord(char) - ord("A")
            digit = offset % 9 + 1 if offset < 18 else offset - 16
        if place % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def entry_key(text: str) -> str:
    """An entry number as its rows are grouped: dashes and spaces dropped, upper case."""
    return re.sub(r"[\s\-]", "", plain_text(text)).upper()


def normalize_entry_number(text: str) -> tuple[str, str | None]:
    """The 11 characters of an entry number (dashes and spaces dropped, upper case), and what
    is wrong with it, if anything."""
    cleaned = entry_key(text)
    if not _ENTRY_NUMBER.match(cleaned):
        return cleaned, (
            f"entry number {quoted(text)}: expected 11 characters, a 3-character filer code, "
            "7 digits and a check digit (XXX-NNNNNNN-C)"
        )
    expected = entry_check_digit(cleaned[:10])
    if int(cleaned[10]) != expected:
        return cleaned, (
            f"entry number {quoted(text)}: check digit {cleaned[10]} does not match; "
            f"{cleaned[:3]}-{cleaned[3:10]} has check digit {expected}"
        )
    return cleaned, None


def report_date(text: str, what: str) -> date:
    """A date as ACE reports write it (MM/DD/YYYY) or as YYYY-MM-DD or YYYYMMDD."""
    cleaned = plain_text(text)
    try:
        us = _US_DATE.match(cleaned)
        if us:
            return date(int(us[3]), int(us[1]), int(us[2]))
        compact = _COMPACT_DATE.match(cleaned)
        if compact:
            return date(int(compact[1]), int(compact[2]), int(compact[3]))
        return date.fromisoformat(cleaned)
    except ValueError:
        raise InputError(
            f"{what}: expected a date like 04/15/2025 or 2025-04-15, got {quoted(text)}"
        ) from None


def report_amount(text: str, what: str) -> Decimal:
    """A non-negative amount as reports write it: 1234.56, 1,234.56 or $1,234.56."""
    cleaned = plain_text(text)
    if not _REPORT_AMOUNT.match(cleaned):
        raise InputError(f"{what}: expected an amount such as 1,234.56, got {quoted(text)}")
    return Decimal(cleaned.replace("$", "").replace(",", ""))


def chapter99_heading(hts: str) -> str:
    """A chapter 99 number as 9903.01.25 from the report's 9903012500 or 9903.01.25."""
    digits = re.sub(r"\D", "", hts)[:8]
    return f"{digits[:4]}.{digits[4:6]}.{digits[6:8]}"


# ----------------------------------------------------------------------------- what is read


@dataclass
class TariffRow:
    """One tariff ordinal of a report line: an HTS number (goods or chapter 99), its goods value
    and duty."""

    hts: str
    value: Decimal | None
    duty: Decimal
    origin: str


@dataclass
class EntryRecord:
    """An entry summary as the report shows it, its rows gathered by line number."""

    number: str  # as written
    first_line: int  # the report line of its first row
    # Its 11 characters and what is wrong with them (normalize_entry_number), made once.
    entry_number: str = ""
    number_problem: str | None = None
    lines: dict[str, list[TariffRow]] = field(default_factory=dict)
    entry_type: str = ""
    importer: str = ""
    entry_date: date | None = None
    summary_date: date | None = None
    payment_date: date | None = None
    liquidation_date: date | None = None
    liquidation_status: str = ""
    reconciliation: bool = False
    protest: str = ""
    problems: list[str] = field(default_factory=list)  # bad rows: "line 7: duty: ..."
    # A tariffcalc batch file: the IEEPA duty is the schedule's estimate, not a deposit.
    estimated_ieepa: Decimal | None = None


@dataclass
class ReadReport:
    """The entries of a report, in the order they first appear, and the rows that belong to no
    entry (no entry number)."""

    source: str
    entries: list[EntryRecord]
    stray_rows: list[str]
    columns: frozenset[str]  # the fields the file has
    estimate: bool = False  # a batch file of shipments, not an ACE report


def read_report(table: InputTable) -> ReadReport:
    """Gather an ES-003 report's rows into entries. A row that cannot be read is named (with
    its line) on its entry, which is then kept out of the declaration; nothing is dropped."""
    fields = table.fields
    by_number: dict[str, EntryRecord] = {}
    stray: list[str] = []

    def cell(cells: list[str], name: str) -> str:
        position = fields.get(name)
        return cells[position].strip() if position is not None and position < len(cells) else ""

    for _number, line, cells in table.rows:
        raw_number = cell(cells, "entry_number")
        if not raw_number:
            stray.append(f"line {line}: no entry number")
            continue
        record = _record(by_number, raw_number, line)
        try:
            _read_row(record, lambda name, c=cells: cell(c, name), table.header, fields)
        except InputError as exc:
            record.problems.append(f"line {line}: {exc}")
    return ReadReport(table.source, list(by_number.values()), stray, frozenset(fields))


def _record(
    by_number: dict[str, EntryRecord], raw_number: str, line: int, **fields: Any
) -> EntryRecord:
    """The entry of an entry number (its 11 characters, however written), made on its first
    row (its report ``line``)."""
    key = entry_key(raw_number)
    record = by_number.get(key)
    if record is None:
        number, problem = normalize_entry_number(raw_number)
        record = by_number[key] = EntryRecord(raw_number, line, number, problem, **fields)
    return record


def _read_row(record: EntryRecord, cell: Any, header: list[str], fields: dict[str, int]) -> None:
    def named(name: str) -> str:
        return header[fields[name]]

    def dated(name: str) -> date | None:
        text = cell(name)
        return report_date(text, named(name)) if text else None

    for name in ("entry_type", "importer", "liquidation_status", "protest"):
        if cell(name) and not getattr(record, name):
            setattr(record, name, cell(name))
    for name in ("entry_date", "summary_date", "payment_date", "liquidation_date"):
        on = dated(name)
        if on is not None and getattr(record, name) is None:
            setattr(record, name, on)
    if cell("reconciliation").lower() in _YES:
        record.reconciliation = True
    hts = cell("hts")
    if not hts:
        raise InputError(f"{named('hts')}: empty")
    duty_text = cell("duty")
    duty = report_amount(duty_text, named("duty")) if duty_text else ZERO_MONEY
    value_text = cell("value")
    value = report_amount(value_text, named("value")) if value_text else None
    line_number = cell("line_number") or "?"
    record.lines.setdefault(line_number, []).append(TariffRow(hts, value, duty, cell("origin")))


# ----------------------------------------------------------------------------- a batch file


def read_batch_estimate(schedule: Schedule, table: InputTable, default_date: date) -> ReadReport:
    """A tariffcalc batch file whose rows name their entry numbers (column ``entry``): the
    IEEPA duty of each entry as the schedule computes it (an estimate of the deposit, for a
    user without the ACE report). A row that cannot be priced is named on its entry."""
    if "entry" not in table.fields:
        raise InputError(
            f"{table.source}: header: no entry number column (entry, entry_number) and not an "
            "ACE entry report; a batch file needs one to group its rows into entries"
        )
    by_number: dict[str, EntryRecord] = {}
    stray: list[str] = []
    summary = BatchSummary()
    rows = price_rows(schedule, table, summary, default_date=default_date)
    for number, inputs, results in rows:
        cells = [c or "" for c in inputs]
        key_line = entry_line(table.fields, cells, default_date, table.cells)
        raw_number = cells[table.fields["entry"]].strip()
        if not raw_number:
            stray.append(f"row {number}: no entry number")
            continue
        record = _record(by_number, raw_number, number + 1, estimated_ieepa=ZERO_MONEY)
        if key_line is not None and record.summary_date is None:
            record.summary_date = record.entry_date = key_line[1]
        if results[_RESULT.index("status")] != STATUS_OK:
            record.problems.append(f"row {number}: {results[_RESULT.index('error')]}")
            continue
        ieepa = Decimal(results[_RESULT.index("ieepa_duty")] or "0")
        record.estimated_ieepa = (record.estimated_ieepa or ZERO_MONEY) + ieepa
    return ReadReport(
        table.source, list(by_number.values()), stray, frozenset(table.fields), estimate=True
    )


_RESULT = list(RESULT_FIELDS)


def open_refund_source(
    schedule: Schedule,
    path: Path,
    *,
    default_date: date,
    encoding: str = "utf-8-sig",
    columns: dict[str, str] | None = None,
    name: str | None = None,
) -> ReadReport:
    """Read an ACE ES-003 report (a file with entry numbers and line duty amounts) or, failing
    that, a tariffcalc batch file with an entry column (the deposit then estimated)."""
    columns = columns or {}
    probe = replace(REPORT_LAYOUT, required=())
    known = {k: v for k, v in columns.items() if k in REPORT_LAYOUT.aliases}
    with open_input(path, encoding, known, name, probe) as table:
        is_report = "duty" in table.fields and "entry_number" in table.fields
    if is_report:
        with open_input(path, encoding, columns, name, REPORT_LAYOUT) as table:
            return read_report(table)
    with open_input(path, encoding, columns, name) as table:
        return read_batch_estimate(schedule, table, default_date)
