"""IEEPA refunds through CBP's CAPE: an importer's ACE entry report read into entries, each with
the IEEPA duty deposited, the IEEPA duty the schedule computes for its lines, whether CAPE takes
it on a filing date (and the rule that decides), and an estimate of the interest on the refund.

The rules (which chapter 99 numbers carry IEEPA duty, the entry types CAPE rejects, its windows,
the quarterly overpayment rates) are the ``refunds`` section of the schedule (reference §14).
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal, localcontext
from pathlib import Path
from typing import IO, Any

from .batch import STATUS_OK, BatchSummary, price_rows
from .engine import PricingPlan, plan_key, plan_pricing, price_with_plan
from .entries import entry_line
from .errors import InputError, ScheduleError, TariffError, quoted
from .money import ZERO_MONEY, format_money, plain_text, round_cent
from .outputs import RESULT_FIELDS, atomic_output, neutralize_formula
from .rules import Interest, Refunds, Schedule
from .shipment import Shipment, check_origin
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

# What an entry's refund comes to on the filing date.
NOW = "cape-now"  # in the CAPE declaration
LATER = "cape-later"  # CAPE takes it from a later date
PROTEST = "protest"  # not CAPE: a protest is the way, while its window is open
NOT_ELIGIBLE = "not-eligible"
NOT_ESTABLISHED = "not-established"  # finally liquidated: later CAPE phases not established
ERROR = "error"  # a bad entry number or a bad row: kept out of the declaration
STATUSES = (NOW, LATER, PROTEST, NOT_ELIGIBLE, NOT_ESTABLISHED, ERROR)

_ENTRY_NUMBER = re.compile(r"^[0-9A-Z]{3}\d{8}$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_REPORT_AMOUNT = re.compile(r"^\$?\d{1,3}(,\d{3})*(\.\d+)?$|^\$?\d+(\.\d+)?$|^\$?\.\d+$")
_YES = frozenset({"y", "yes", "true", "1", "x"})
_SUSPENDED = ("suspend", "extend", "review")


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


def normalize_entry_number(text: str) -> tuple[str, str | None]:
    """The 11 characters of an entry number (dashes and spaces dropped, upper case), and what
    is wrong with it, if anything."""
    cleaned = re.sub(r"[\s\-]", "", plain_text(text)).upper()
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


def _heading(hts: str) -> str:
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
    key, _problem = normalize_entry_number(raw_number)
    record = by_number.get(key)
    if record is None:
        record = by_number[key] = EntryRecord(raw_number, line, **fields)
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


# ----------------------------------------------------------------------------- what it comes to


@dataclass
class EntryRefund:
    """One entry: its deposit, the schedule's IEEPA duty, CAPE on the filing date, interest."""

    entry_number: str  # 11 characters (as written, when it is not a valid number)
    record: EntryRecord
    ieepa_deposited: Decimal
    ieepa_headings: list[str]  # the IEEPA chapter 99 numbers filed
    ieepa_computed: Decimal | None  # None: not every line could be recomputed
    not_computed: list[str]  # "line 2: ..." why a line was not recomputed
    causes: list[str]  # the likely reasons the deposit differs from the schedule's duty
    status: str
    reason: str
    warnings: list[str]
    deposit_date: date | None
    interest: Decimal | None
    interest_to: date | None
    declaration: str | None = None  # the CAPE declaration file it is written in

    @property
    def difference(self) -> Decimal | None:
        if self.ieepa_computed is None:
            return None
        return self.ieepa_deposited - self.ieepa_computed

    @property
    def month(self) -> str:
        on = self.record.summary_date or self.record.entry_date
        return on.strftime("%Y-%m") if on is not None else "?"


@dataclass(frozen=True)
class RefundTerms:
    """The user's side of the claim: when the declaration is filed, to when interest runs,
    and whether the importer is a corporation (the overpayment rate is a point lower)."""

    filing_date: date
    interest_to: date | None = None  # default: filing date + CBP's usual processing time
    corporate: bool = True

    def interest_end(self, rules: Refunds) -> date:
        return self.interest_to or _days_after(self.filing_date, rules.processing_days)


_LONGEST = 20 * 365  # days of interest estimated at most (the rates are known for two years)


def _days_after(day: date, days: int) -> date:
    """``day`` + ``days``, or the last day there is (9999-12-31) when that is past it."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max


def refund_rules(schedule: Schedule) -> Refunds:
    if schedule.refunds is None:
        raise ScheduleError("this schedule has no refunds section (CAPE rules and interest)")
    return schedule.refunds


def assess(schedule: Schedule, report: ReadReport, terms: RefundTerms) -> list[EntryRefund]:
    """Every entry of the report, in order, with what its IEEPA refund comes to."""
    rules = refund_rules(schedule)
    end = terms.interest_end(rules)
    plans: dict[tuple[object, ...], PricingPlan] = {}  # the law, once per goods and date
    return [
        _assess_entry(schedule, rules, report, record, terms, end, plans)
        for record in report.entries
    ]


def _assess_entry(
    schedule: Schedule,
    rules: Refunds,
    report: ReadReport,
    record: EntryRecord,
    terms: RefundTerms,
    end: date,
    plans: dict[tuple[object, ...], PricingPlan],
) -> EntryRefund:
    number, number_problem = normalize_entry_number(record.number)
    refundable = {h.heading: h for h in rules.headings if h.refundable}
    marks = {h.heading: h for h in rules.headings if not h.refundable}
    deposited = ZERO_MONEY
    headings: list[str] = []
    computed: Decimal | None = ZERO_MONEY
    not_computed: list[str] = []
    causes: list[str] = []
    warnings: list[str] = []
    if record.estimated_ieepa is not None:
        deposited = record.estimated_ieepa
        computed = None
        if deposited:
            headings = ["(estimated)"]
    else:
        on = record.entry_date or record.summary_date
        for line_number, rows in record.lines.items():
            filed = [_heading(r.hts) for r in rows if r.hts.startswith("99")]
            line_deposit = sum(
                (r.duty for r in rows if _heading(r.hts) in refundable and r.hts.startswith("99")),
                ZERO_MONEY,
            )
            deposited += line_deposit
            headings += [h for h in filed if h in refundable and h not in headings]
            result = _recompute_line(
                schedule,
                plans,
                rows,
                on,
                {marks[h].declares for h in filed if h in marks and marks[h].declares},
            )
            if isinstance(result, str):
                not_computed.append(f"line {line_number}: {result}")
                computed = None
                continue
            line_computed, charged, excluded = result
            if computed is not None:
                computed += line_computed
            cause = _cause(
                line_number,
                on,
                line_deposit,
                line_computed,
                [h for h in filed if h in refundable],
                charged,
                excluded,
            )
            if cause:
                causes.append(cause)
    status, reason = _eligibility(rules, record, report, terms, number_problem, deposited, warnings)
    deposit_date = record.payment_date or record.summary_date or record.entry_date
    interest = None
    if deposited > 0 and deposit_date is not None and (end - deposit_date).days > _LONGEST:
        warnings.append(f"no interest estimate over more than {_LONGEST // 365} years")
    elif deposited > 0 and deposit_date is not None:
        interest = overpayment_interest(
            deposited, deposit_date, end, rules.interest, terms.corporate, warnings
        )
    elif deposited > 0:
        warnings.append("no deposit date (Payment Date, Entry Summary Date): no interest estimate")
    return EntryRefund(
        entry_number=number,
        record=record,
        ieepa_deposited=deposited,
        ieepa_headings=headings,
        ieepa_computed=computed,
        not_computed=not_computed,
        causes=causes,
        status=status,
        reason=reason,
        warnings=warnings,
        deposit_date=deposit_date,
        interest=interest,
        interest_to=end if interest is not None else None,
    )


def _recompute_line(
    schedule: Schedule,
    plans: dict[tuple[object, ...], PricingPlan],
    rows: list[TariffRow],
    on: date | None,
    declared: set[str | None],
) -> tuple[Decimal, list[str], list[str]] | str:
    """The IEEPA duty the schedule computes for a report line's goods, the headings it charges
    them under and why it leaves the IEEPA duty out, or why it cannot say."""
    goods = [r for r in rows if not r.hts.startswith("99")]
    if not goods:
        return "no goods line (only chapter 99 numbers)"
    if on is None:
        return "no entry date"
    total = ZERO_MONEY
    charged: list[str] = []
    excluded: list[str] = []
    for row in goods:
        if row.value is None or row.value <= 0:
            return f"{row.hts}: no goods value"
        try:
            if row.origin:
                check_origin(row.origin)
            shipment = Shipment(
                hts=re.sub(r"\D", "", row.hts),
                value=row.value,
                **{name: True for name in declared if name},
            )
            plan_id = (plan_key(shipment), on)
            plan = plans.get(plan_id)
            if plan is None:
                plan = plans[plan_id] = plan_pricing(schedule, shipment, on)
            quote = price_with_plan(schedule, plan, shipment)
        except TariffError as exc:
            return str(exc)
        total += quote.ieepa_duty
        for line in quote.lines:
            if line.program == "ieepa" and line.heading not in charged:
                charged.append(line.heading)
        for item in quote.excluded:
            if schedule.measure(item.measure).program == "ieepa" and item.reason not in excluded:
                excluded.append(item.reason)
    return total, charged, excluded


def _cause(
    line: str,
    on: date | None,
    deposited: Decimal,
    computed: Decimal,
    filed: list[str],
    charged: list[str],
    excluded: list[str],
) -> str | None:
    """Why a line's IEEPA deposit differs from the schedule's duty, as far as the report shows."""
    if deposited == computed:
        return None
    gap = f"{format_money(deposited)} filed, {format_money(computed)} computed"
    if "9903.02.30" in filed:
        return (
            f"line {line}: filed under 9903.02.30 (+15% on top of MFN, as first published) "
            f"before the 2025-09-16 correction; the 15% inclusive of MFN (9903.02.73/.72) "
            f"applies from 2025-08-07 (EO 14345): {gap}"
        )
    if computed == 0:
        why = "; ".join(excluded) if excluded else "no IEEPA duty is in force on this date"
        return f"line {line}: the schedule charges no IEEPA duty on {on} ({why}): {gap}"
    if deposited == 0:
        return (
            f"line {line}: no IEEPA duty filed; the schedule charges {', '.join(charged)} "
            f"(an exemption claimed that the report does not show?): {gap}"
        )
    if set(filed) != set(charged):
        return (
            f"line {line}: filed under {', '.join(filed)}; the schedule charges "
            f"{', '.join(charged)} on {on}: {gap}"
        )
    return f"line {line}: same heading, different amount (value or rate): {gap}"


def _eligibility(
    rules: Refunds,
    record: EntryRecord,
    report: ReadReport,
    terms: RefundTerms,
    number_problem: str | None,
    deposited: Decimal,
    warnings: list[str],
) -> tuple[str, str]:
    """(status, the rule that decides it) of an entry on the filing date (reference §14)."""
    filing = terms.filing_date
    if number_problem:
        return ERROR, number_problem
    if record.problems:
        return ERROR, f"{len(record.problems)} row(s) cannot be read: {record.problems[0]}"
    if deposited <= 0:
        if report.estimate:
            return NOT_ELIGIBLE, "the schedule charges no IEEPA duty on these shipments"
        return NOT_ELIGIBLE, "no IEEPA chapter 99 number on the entry (CAPE rejects it)"
    entry_type = record.entry_type.zfill(2) if record.entry_type else ""
    for rule in rules.entry_types:
        if entry_type in rule.types and rule.covers(filing):
            return NOT_ELIGIBLE, rule.reason
    if record.protest:
        return NOT_ELIGIBLE, (
            f"protest {record.protest} is recorded: CAPE rejects an entry with an open or "
            "suspended protest (the protest itself may recover the duty)"
        )
    if filing < rules.opens:
        return LATER, f"CAPE takes declarations from {rules.opens}"
    if record.reconciliation:
        if filing < rules.reconciliation_from:
            return LATER, (
                f"flagged for reconciliation: CAPE takes it from {rules.reconciliation_from} "
                "if no type 09 entry has been filed"
            )
        warnings.append(
            "flagged for reconciliation: CAPE takes it only if no type 09 entry has been filed"
        )
    if entry_type in rules.adcvd_types:
        warnings.append(
            f"an AD/CVD entry (type {entry_type}): CAPE rejects it if it is pending "
            "liquidation after Commerce's instructions, which the report does not show"
        )
    if not entry_type and not report.estimate:
        warnings.append(
            "no entry type (column Entry Type Code): types 08, 09 and 47 are not accepted"
        )
    return _liquidation(rules, record, report, filing, warnings)


def _liquidation(
    rules: Refunds, record: EntryRecord, report: ReadReport, filing: date, warnings: list[str]
) -> tuple[str, str]:
    liquidated = record.liquidation_date
    status = record.liquidation_status.lower()
    if liquidated is not None and liquidated <= filing:
        days = (filing - liquidated).days
        if days <= rules.liquidated_within_days:
            last = _days_after(liquidated, rules.liquidated_within_days)
            return NOW, (
                f"liquidated {liquidated}, {days} days before filing "
                f"(within {rules.liquidated_within_days}; file by {last})"
            )
        protest_by = _days_after(liquidated, rules.protest_days)
        if days <= rules.protest_days:
            return PROTEST, (
                f"liquidated {liquidated}, {days} days before filing: past CAPE's "
                f"{rules.liquidated_within_days} days; protest by {protest_by} (19 U.S.C. 1514)"
            )
        return NOT_ESTABLISHED, (
            f"liquidated {liquidated}: the protest window closed on {protest_by}; whether later "
            "CAPE phases will take finally liquidated entries is not established"
        )
    if liquidated is not None:
        return NOW, f"unliquidated on the filing date (liquidation set for {liquidated})"
    if any(word in status for word in _SUSPENDED):
        return NOW, f"liquidation {record.liquidation_status.lower()} (CAPE takes it)"
    if status and ("unliq" in status or status in {"open", "pending", "u", "n"}):
        return NOW, "unliquidated"
    if status:
        warnings.append(
            f"liquidation status {quoted(record.liquidation_status)} without a Liquidation "
            f"Date: CAPE takes it only if liquidated within {rules.liquidated_within_days} days "
            "before filing; the Liquidation Date column decides"
        )
        return NOW, "liquidated on a date the report does not give (taken as within the window)"
    if "liquidation_date" not in report.columns and "liquidation_status" not in report.columns:
        warnings.append(
            "taken as unliquidated: the report has no Liquidation Date or "
            "Liquidation Status column, which would decide it"
        )
    return NOW, "unliquidated"


def overpayment_interest(
    principal: Decimal,
    start: date,
    end: date,
    interest: Interest,
    corporate: bool,
    warnings: list[str] | None = None,
) -> Decimal:
    """Interest on ``principal`` deposited on ``start`` to ``end`` (each day from ``start`` up
    to, not including, ``end``), compounded daily at the overpayment rate of the day's quarter
    over the days of its year (26 U.S.C. 6622). A day outside the known quarters takes the
    nearest known rate, and ``warnings`` says so."""
    if end <= start:
        return ZERO_MONEY
    notes = warnings if warnings is not None else []
    quarters = interest.quarters
    factor = Decimal(1)
    day = start
    with localcontext() as ctx:
        ctx.prec = 50
        while day < end:
            quarter = next((q for q in quarters if q.covers(day)), None)
            if quarter is None:
                nearest = quarters[0] if day < quarters[0].start else quarters[-1]
                stop = min(end, nearest.start) if day < nearest.start else end
                if day.year < date.max.year:
                    stop = min(stop, date(day.year + 1, 1, 1))
                _note(
                    notes,
                    f"no overpayment rate known for {day.year} Q{(day.month - 1) // 3 + 1}"
                    f": the nearest known one ({_percent(nearest, corporate)}) is used",
                )
            else:
                nearest = quarter
                stop = min(end, _days_after(quarter.end, 1))
                if quarter.confidence != "H":
                    _note(
                        notes,
                        f"the overpayment rate from {quarter.start} "
                        f"({_percent(quarter, corporate)}) is of confidence {quarter.confidence}"
                        f" ({quarter.source})",
                    )
            rate = nearest.corporate if corporate else nearest.non_corporate
            year_days = 366 if calendar.isleap(day.year) else 365
            factor *= (1 + rate / year_days) ** (stop - day).days
            day = stop
        return round_cent(principal * (factor - 1))


def _percent(quarter: Any, corporate: bool) -> str:
    rate = quarter.corporate if corporate else quarter.non_corporate
    return f"{(rate * 100).normalize():f}%"


def _note(notes: list[str], text: str) -> None:
    if text not in notes:
        notes.append(text)


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
    rows = price_rows(schedule, table, summary, default_date=default_date, fast=False)
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


# ----------------------------------------------------------------------------- writing


ENTRY_COLUMNS = (
    "entry_number", "status", "reason", "declaration", "entry_type", "importer",
    "entry_date", "entry_summary_date", "deposit_date", "liquidation_date", "ieepa_headings",
    "ieepa_deposited", "ieepa_computed", "difference", "likely_cause", "interest_estimate",
    "interest_to", "refund_with_interest", "warnings", "not_computed", "row_problems",
)  # fmt: skip


def entry_cells(refund: EntryRefund) -> dict[str, str]:
    record = refund.record

    def day(on: date | None) -> str:
        return on.isoformat() if on is not None else ""

    def money(amount: Decimal | None) -> str:
        return format_money(amount) if amount is not None else ""

    total = refund.ieepa_deposited + refund.interest if refund.interest is not None else None
    return {
        "entry_number": refund.entry_number if refund.status != ERROR else record.number,
        "status": refund.status,
        "reason": refund.reason,
        "declaration": refund.declaration or "",
        "entry_type": record.entry_type,
        "importer": record.importer,
        "entry_date": day(record.entry_date),
        "entry_summary_date": day(record.summary_date),
        "deposit_date": day(refund.deposit_date),
        "liquidation_date": day(record.liquidation_date),
        "ieepa_headings": " ".join(refund.ieepa_headings),
        "ieepa_deposited": money(refund.ieepa_deposited),
        "ieepa_computed": money(refund.ieepa_computed),
        "difference": money(refund.difference),
        "likely_cause": "; ".join(refund.causes),
        "interest_estimate": money(refund.interest),
        "interest_to": day(refund.interest_to),
        "refund_with_interest": money(total),
        "warnings": "; ".join(refund.warnings),
        "not_computed": "; ".join(refund.not_computed),
        "row_problems": "; ".join(record.problems),
    }


def declarations(refunds: list[EntryRefund], per_file: int) -> list[list[str]]:
    """The entry numbers CAPE takes now, once each, in report order, in files of at most
    ``per_file``; each refund learns the file it is in."""
    numbers: list[str] = []
    seen: set[str] = set()
    for refund in refunds:
        if refund.status == NOW and refund.entry_number not in seen:
            seen.add(refund.entry_number)
            numbers.append(refund.entry_number)
    files = [numbers[i : i + per_file] for i in range(0, len(numbers), per_file)]
    where = {number: index for index, chunk in enumerate(files) for number in chunk}
    for refund in refunds:
        if refund.status == NOW:
            refund.declaration = declaration_name(where[refund.entry_number], len(files))
    return files


def declaration_name(index: int, count: int) -> str:
    return "cape-declaration.csv" if count == 1 else f"cape-declaration-{index + 1:02d}.csv"


def write_outputs(
    refunds: list[EntryRefund], folder: Path, per_file: int, fmt: str = "csv"
) -> list[Path]:
    """The CAPE declaration file(s) and the per-entry file (refunds.csv or .json), written in
    ``folder``: each whole or not at all, the declarations first composed in memory. Stale
    declaration files of an earlier run with more of them are removed."""
    if not folder.is_dir():
        raise InputError(f"-o {folder}: no such folder")
    files = declarations(refunds, per_file)
    written: list[Path] = []
    for index, numbers in enumerate(files):
        path = folder / declaration_name(index, len(files))
        with atomic_output(path) as stream:
            writer = csv.writer(stream, lineterminator="\r\n")
            writer.writerow(["Entry Number"])
            writer.writerows([number] for number in numbers)
        written.append(path)
    keep = {p.name for p in written}
    for stale in folder.glob("cape-declaration*.csv"):
        if stale.name not in keep and re.fullmatch(r"cape-declaration(-\d+)?\.csv", stale.name):
            stale.unlink()
    path = folder / f"refunds.{fmt}"
    with atomic_output(path) as stream:
        write_entries(refunds, stream, fmt)
    written.append(path)
    return written


def write_entries(refunds: list[EntryRefund], stream: IO[str], fmt: str) -> None:
    if fmt == "json":
        json.dump([entry_cells(r) for r in refunds], stream, indent=2, ensure_ascii=False)
        stream.write("\n")
        return
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(ENTRY_COLUMNS)
    for refund in refunds:
        cells = entry_cells(refund)
        writer.writerow([neutralize_formula(cells[name]) for name in ENTRY_COLUMNS])


def entries_csv(refunds: list[EntryRefund]) -> str:
    stream = io.StringIO()
    write_entries(refunds, stream, "csv")
    return stream.getvalue()


# ----------------------------------------------------------------------------- the summary


@dataclass
class Tally:
    entries: int = 0
    deposited: Decimal = ZERO_MONEY
    interest: Decimal = ZERO_MONEY

    def add(self, refund: EntryRefund) -> None:
        self.entries += 1
        self.deposited += refund.ieepa_deposited
        self.interest += refund.interest or ZERO_MONEY


@dataclass
class RefundSummary:
    entries: int = 0
    deposited: Decimal = ZERO_MONEY
    by_status: dict[str, Tally] = field(default_factory=dict)
    by_month: dict[str, dict[str, Tally]] = field(default_factory=dict)
    by_reason: dict[str, Tally] = field(default_factory=dict)
    warned: int = 0  # entries with a warning
    differing: int = 0  # entries whose deposit differs from the schedule's duty
    declarations: int = 0
    stray_rows: list[str] = field(default_factory=list)

    def tally(self, status: str) -> Tally:
        return self.by_status.get(status, Tally())


def summarize(refunds: list[EntryRefund], report: ReadReport, per_file: int) -> RefundSummary:
    summary = RefundSummary(stray_rows=list(report.stray_rows))
    now = 0
    for refund in refunds:
        summary.entries += 1
        summary.deposited += refund.ieepa_deposited
        summary.by_status.setdefault(refund.status, Tally()).add(refund)
        summary.by_month.setdefault(refund.month, {}).setdefault(refund.status, Tally()).add(refund)
        summary.by_reason.setdefault(_reason_kind(refund.reason), Tally()).add(refund)
        summary.warned += bool(refund.warnings)
        difference = refund.difference
        summary.differing += bool(difference)
        now += refund.status == NOW
    summary.declarations = -(-now // per_file)
    return summary


def _reason_kind(reason: str) -> str:
    """A reason without its entry's own dates and numbers, so that entries group by rule."""
    kind = re.sub(r"\d{4}-\d\d-\d\d", "DATE", reason)
    kind = re.sub(r"\b\d+ days before filing\b", "N days before filing", kind)
    kind = re.sub(r"protest \S+ is recorded", "a protest is recorded", kind)
    return re.sub(r"line \d+", "line N", kind)
