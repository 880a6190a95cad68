"""Rows of a batch priced one at a time by the engine (:func:`price_rows`): the rows a priced
file (:mod:`~tariffcalc.columnar`) leaves to the engine, one by one, and a batch's summary."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from .engine import (
    EFFECTIVE_RATE_PLACES,
    MFN_MEASURE,
    PricingPlan,
    Quote,
    plan_key,
    plan_pricing,
    price_with_plan,
)
from .entries import Entry, EntryBook
from .errors import InputError, TariffError
from .fees import EntryShares, entry_mpf
from .money import ZERO, format_money
from .notices import Notice, code_of, warnings_cell
from .outputs import RESULT_FIELDS
from .report import money_or_none, rate_or_none
from .rules import Fee, Schedule
from .shipment import (
    PLAIN_CELLS,
    CellFormat,
    Shipment,
    parse_date,
    shipment_from_fields,
)
from .tables import UNDECODED, InputTable, read_problem

STATUS_OK = "ok"
FIRST_ERRORS = 5  # errors a summary quotes with their row and line
STATUS_ERROR = "error"


@dataclass(frozen=True, slots=True)
class PricedRow:
    """What the batch writes for a row the engine priced."""

    category: str
    customs_value: Decimal
    base_duty: Decimal | None
    additional_duty: Decimal
    total_duty: Decimal | None
    on_hold_duty: Decimal
    effective_rate: Decimal | None
    ieepa_duty: Decimal
    mpf: Decimal | None
    hmf: Decimal | None
    total_fees: Decimal | None
    landed_cost: Decimal | None
    warnings: tuple[str, ...]  # the quote's (notices.Notice: text and code)

    @classmethod
    def from_quote(cls, quote: Quote) -> PricedRow:
        return cls(
            quote.category,
            quote.customs_value,
            quote.base_duty,
            quote.additional_duty,
            quote.total_duty,
            quote.on_hold_duty,
            quote.effective_rate,
            quote.ieepa_duty,
            quote.mpf,
            quote.hmf,
            quote.total_fees,
            quote.landed_cost,
            quote.warnings,
        )

    def cells(self, warning_style: str = "codes") -> list[str | None]:
        return [
            self.category,
            money_or_none(self.base_duty),
            format_money(self.additional_duty),
            money_or_none(self.total_duty),
            format_money(self.on_hold_duty),
            rate_or_none(self.effective_rate),
            STATUS_OK,
            None,
            format_money(self.ieepa_duty),
            money_or_none(self.mpf),
            money_or_none(self.hmf),
            money_or_none(self.total_fees),
            money_or_none(self.landed_cost),
            warnings_cell(self.warnings, warning_style),
        ]


@dataclass
class CategoryTotals:
    rows: int = 0
    customs_value: Decimal = ZERO
    base_duty: Decimal = ZERO
    base_unknown_rows: int = 0
    additional_duty: Decimal = ZERO
    on_hold_duty: Decimal = ZERO
    ieepa_duty: Decimal = ZERO
    total_fees: Decimal = ZERO
    fees_unknown_rows: int = 0

    def add(self, row: PricedRow) -> None:
        self.rows += 1
        self.customs_value += row.customs_value
        if row.base_duty is None:
            self.base_unknown_rows += 1
        else:
            self.base_duty += row.base_duty
        self.additional_duty += row.additional_duty
        self.on_hold_duty += row.on_hold_duty
        self.ieepa_duty += row.ieepa_duty
        if row.total_fees is None:
            self.fees_unknown_rows += 1
        else:
            self.total_fees += row.total_fees

    def merge(self, other: CategoryTotals) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def effective_rate(self) -> Decimal | None:
        """Total duty over customs value; None while any row's base duty is unknown."""
        if self.base_unknown_rows or not self.customs_value:
            return None
        total = self.base_duty + self.additional_duty
        return (total / self.customs_value).quantize(EFFECTIVE_RATE_PLACES)


@dataclass
class BatchSummary:
    rows: int = 0
    failed: int = 0
    by_category: dict[str, CategoryTotals] = field(default_factory=dict)
    first_errors: list[str] = field(default_factory=list)
    # How rows carry their warnings: "codes" (the text once, here) or "text".
    warning_style: str = "codes"
    notices: dict[str, list[Any]] = field(default_factory=dict)  # code -> [rows, first text]

    def note(self, warnings: Iterable[str], rows: int = 1) -> None:
        """Count ``rows`` rows that carry these warnings (each code once a row)."""
        counted: set[str] = set()
        for warning in warnings:
            code = code_of(warning)
            if code not in counted:
                counted.add(code)
                self.notices.setdefault(code, [0, str(warning)])[0] += rows

    @property
    def priced(self) -> int:
        return self.rows - self.failed

    def total(self) -> CategoryTotals:
        grand = CategoryTotals()
        for totals in self.by_category.values():
            grand.merge(totals)
        return grand


class _RowReader:
    """Turns the cells of one row into (shipment, entry date, entry key), naming bad columns."""

    def __init__(self, table: InputTable, default_date: date) -> None:
        self.header, self.encoding, self.default_date = table.header, table.encoding, default_date
        self.index = table.fields
        self.names = {key: table.header[i].strip() for key, i in table.fields.items()}
        self.cells = table.cells
        self.path = table.path

    def clean(self, cells: list[str]) -> list[str]:
        """Cells as they will be written: undecodable bytes shown as U+FFFD."""
        if UNDECODED.search("".join(cells)):
            return [UNDECODED.sub("\ufffd", c) for c in cells]
        return cells

    def read(self, cells: list[str]) -> tuple[Shipment, date, str | None]:
        if UNDECODED.search("".join(cells)):
            undecoded = next(i for i, c in enumerate(cells) if UNDECODED.search(c))
            header = self.header
            column = header[undecoded] if undecoded < len(header) else f"cell {undecoded + 1}"
            raise InputError(f"{column}: {read_problem(self.encoding, self.path)}")
        if len(cells) > len(self.header):
            extra = ", ".join(repr(c) for c in cells[len(self.header) :])
            raise InputError(
                f"row has {len(cells)} cells but the header has {len(self.header)} columns "
                f"(cells beyond the header: {extra})"
            )
        fields = {key: cells[i] if i < len(cells) else None for key, i in self.index.items()}
        shipment = shipment_from_fields(fields, self.names, self.cells)
        date_text = fields.get("date")
        on = (
            parse_date(date_text, self.names["date"], self.cells.date_format)
            if date_text
            else self.default_date
        )
        entry = (fields.get("entry") or "").strip() or None
        return shipment, on, entry


def price_rows(
    schedule: Schedule,
    table: InputTable,
    summary: BatchSummary,
    *,
    default_date: date,
    scenario: str | None = None,
    entries: EntryBook | None = None,
    plans: dict[tuple[object, ...], PricingPlan] | None = None,
) -> Iterator[tuple[int, list[str | None], list[str | None]]]:
    """(row number, input cells, result cells) of every row of ``table``, in order, counted
    into ``summary``. The input cells are as read (a short row padded, undecodable bytes as
    U+FFFD); a row that cannot be priced has status ``error`` and says why. ``plans`` may
    hold plans already resolved for this schedule and scenario."""
    header = table.header
    reader = _RowReader(table, default_date)
    plans = {} if plans is None else plans  # (plan key, date) -> plan; may be shared
    for number, line, raw_cells, last in _marking_last(table.rows):
        summary.rows += 1
        cells = reader.clean(raw_cells)
        priced: PricedRow | None = None
        error = ""
        try:
            shipment, on, key = reader.read(raw_cells)
            # The law is resolved once per distinct goods, date and declarations; each row
            # only does its own arithmetic.
            plan_id = (plan_key(shipment), on)
            plan = plans.get(plan_id)
            if plan is None:
                plan = plans[plan_id] = plan_pricing(schedule, shipment, on, scenario)
            quote = price_with_plan(schedule, plan, shipment)
            entry = entries.get(key) if entries is not None else None
            if entry is not None and key is not None:
                quote = _with_entry_fees(schedule, quote, entry, reader.names)
                entries.handed_out(key, entry)  # type: ignore[union-attr]
            priced = PricedRow.from_quote(quote)
        except TariffError as exc:
            error = str(exc)
            summary.failed += 1
            if len(summary.first_errors) < FIRST_ERRORS:
                summary.first_errors.append(f"{table.source}: row {number} (line {line}): {error}")
        warnings: tuple[str, ...] = () if priced is None else priced.warnings
        if last and table.cut_off:
            warnings = (*warnings, CUT_OFF_WARNING)
        summary.note(warnings)
        if priced is None:
            results: list[str | None] = [None] * len(RESULT_FIELDS)
            results[RESULT_FIELDS.index("status")] = STATUS_ERROR
            results[RESULT_FIELDS.index("error")] = error
            results[RESULT_FIELDS.index("warnings")] = warnings_cell(
                warnings, summary.warning_style
            )
        else:
            summary.by_category.setdefault(priced.category, CategoryTotals()).add(priced)
            results = replace(priced, warnings=warnings).cells(summary.warning_style)
        # The input cells as they were (a short row padded, a long row's surplus in the error).
        inputs: list[str | None] = [*cells[: len(header)], *[""] * (len(header) - len(cells))]
        yield number, inputs, results


CUT_OFF_WARNING = Notice("ROW_CUT_OFF", (
    "the file ends in this row, without a line end: if the file was cut off (an interrupted "
    "copy or download), this row may be incomplete"
))  # fmt: skip


def _marking_last(
    rows: Iterator[tuple[int, int, list[str]]],
) -> Iterator[tuple[int, int, list[str], bool]]:
    """The rows, each with whether it is the file's last."""
    previous = next(rows, None)
    for row in rows:
        assert previous is not None
        yield (*previous, False)
        previous = row
    if previous is not None:
        yield (*previous, True)


def _with_entry_fees(
    schedule: Schedule, quote: Quote, entry: Entry, names: dict[str, str]
) -> Quote:
    """The quote with its share of its entry's MPF in place of an MPF of its own."""
    if quote.entry_date != entry.entry_date:
        raise InputError(
            f"{names.get('date', 'date')}: this row's entry is dated {entry.entry_date} on an "
            f"earlier row; the rows of one entry share one entry date"
        )
    if schedule.fees is None:
        return quote
    chapter_99 = any(line.program != MFN_MEASURE for line in quote.lines)
    share = _entry_share(schedule.fees.mpf, entry, quote.customs_value, chapter_99)
    if share is None or entry.shares is None:
        return quote  # unknown for the entry as for the row; the quote already says so
    note = f"MPF: {format_money(share)} of the entry's {format_money(entry.shares.total)}"
    notes = (note, *(n for n in quote.fee_notes if not n.startswith("MPF:")))
    return replace(quote, mpf=share, fee_notes=notes)


def probe_shipment(
    cells: Mapping[str, str | None],
    names: Mapping[str, str] | None = None,
    formats: CellFormat = PLAIN_CELLS,
) -> Shipment:
    """General goods worth 1000 with these cells: what the engine reads them as (an exchange
    rate, a transport mode), or the InputError that says why it cannot."""
    fields = {"category": "general", "value": "1000", **cells}
    return shipment_from_fields(fields, names or {}, formats)


def _entry_share(
    fee: Fee, entry: Entry, customs_value: Decimal, chapter_99: bool
) -> Decimal | None:
    """A row's share of its entry's MPF (None while the entry's MPF is not known); a one-row
    entry may be an informal one (``chapter_99``: its goods pay a chapter 99 duty)."""
    if entry.shares is None:
        mpf = entry_mpf(fee, entry.value, entry.entry_date, entry.rows, chapter_99)
        if mpf is None:
            return None
        entry.shares = EntryShares(mpf, entry.value, entry.rows)
    return entry.shares.share(customs_value)
