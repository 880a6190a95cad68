"""Batch pricing of a CSV of shipments: every row out, in order, bad rows marked, never a
half-written output file."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import IO, Any

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
from .fees import EntryShares, entry_mpf, hmf_amount
from .money import LARGEST_AMOUNT, ZERO, ZERO_MONEY, format_money, round_cent, times
from .notices import Notice, code_of, warnings_cell
from .outputs import OUTPUT_FORMATS, RESULT_FIELDS, RowWriter, result_columns
from .report import money_or_none, rate_or_none
from .rules import Fee, Schedule
from .shipment import (
    DECLARATION_FIELDS,
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
    """What the batch writes for a priced row (from a full Quote, or from the fast path)."""

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


def price_table(
    schedule: Schedule,
    table: InputTable,
    out: IO[Any],
    *,
    fmt: str = "csv",
    default_date: date,
    scenario: str | None = None,
    entries: EntryBook | None = None,
    progress: Callable[[int], None] | None = None,
    fast: bool = True,
    warning_style: str = "codes",
) -> BatchSummary:
    """Price every row of ``table`` and write one output row per input row, in order.

    ``entries`` (from :func:`scan_entries`) groups rows by their ``entry`` column: the MPF is
    then computed on the entry and shared among its rows in proportion to their values.
    ``fast`` prices the rows whose duty is proportional to their value without building a
    full quote (see :class:`_LinearRows`); the results are the same.
    """
    if fmt not in OUTPUT_FORMATS:
        raise InputError(f"--format: expected one of {', '.join(OUTPUT_FORMATS)}, got {fmt!r}")
    schedule.scenario(scenario)  # an unknown scenario fails before any row is written
    header = table.header
    writer = RowWriter(out, fmt, header + result_columns(header))
    summary = BatchSummary(warning_style=warning_style)
    rows = price_rows(
        schedule, table, summary, default_date=default_date, scenario=scenario,
        entries=entries, fast=fast,
    )  # fmt: skip
    for number, inputs, results in rows:
        writer.write(inputs + results)
        if progress is not None:
            progress(number)
    writer.close()
    return summary


def price_rows(
    schedule: Schedule,
    table: InputTable,
    summary: BatchSummary,
    *,
    default_date: date,
    scenario: str | None = None,
    entries: EntryBook | None = None,
    fast: bool = True,
    plans: dict[tuple[object, ...], PricingPlan] | None = None,
) -> Iterator[tuple[int, list[str | None], list[str | None]]]:
    """(row number, input cells, result cells) of every row of ``table``, in order, counted
    into ``summary``. The input cells are as read (a short row padded, undecodable bytes as
    U+FFFD); a row that cannot be priced has status ``error`` and says why. ``plans`` may
    hold plans already resolved for this schedule and scenario."""
    header = table.header
    reader = _RowReader(table, default_date)
    plans = {} if plans is None else plans  # (plan key, date) -> plan; may be shared
    # The linear path reads plain cells only: amounts grouped by thousands, dates in a file's
    # own format or rates per dollar are the engine's path's to read.
    plain = table.cells == PLAIN_CELLS
    linear = _LinearRows(schedule, scenario, reader, entries, plans) if fast and plain else None
    for number, line, raw_cells, last in _marking_last(table.rows):
        summary.rows += 1
        cells = reader.clean(raw_cells)
        priced = linear.price(raw_cells) if linear is not None else None
        error = ""
        if priced is None:
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
                    summary.first_errors.append(
                        f"{table.source}: row {number} (line {line}): {error}"
                    )
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


class _Linear:
    """The duty of goods whose every line is a fixed rate of the customs value: the rates come
    from the engine (a quote of the same goods, date and declarations); only the arithmetic,
    with the engine's rounding, is done here per row."""

    __slots__ = ("category", "mfn", "lines", "warnings", "on")

    def __init__(self, quote: Quote) -> None:
        self.category = quote.category
        self.on = quote.entry_date
        self.mfn = next((line.rate for line in quote.lines if line.measure == MFN_MEASURE), None)
        # (rate collected, rate on hold, collected under IEEPA) of each additional line
        self.lines = tuple(
            (line.rate, line.on_hold_rate, line.program == "ieepa")
            for line in quote.lines
            if line.measure != MFN_MEASURE
        )
        self.warnings = quote.warnings


# Cells the fast path reads as they are; any other declared field sends the row to the engine.
_LINEAR_FIELDS = ("hts", "category", "date", "mfn_rate", "auto_part", "not_auto_part", "annex_ii",
                  "civil_aircraft", "mode", "origin", "loaded_on",
                  *DECLARATION_FIELDS)  # fmt: skip
_AMOUNT_FIELDS = ("metal_content", "steel_content", "aluminum_content", "copper_content",
                  "us_content", "quantity")  # fmt: skip
_PROBE_VALUE = "1000"


class _LinearRows:
    """The batch's fast path. Most rows declare no content or quantity, so every duty line is
    a fixed rate of the customs value: the law for their goods, date and declarations is
    resolved once (by a quote from the engine) and each row only multiplies and rounds, as the
    engine does. A row that is not of that kind, or that is not perfectly plain, returns None
    and goes through the engine; so do all errors, so that their messages are the engine's."""

    def __init__(
        self,
        schedule: Schedule,
        scenario: str | None,
        reader: _RowReader,
        entries: EntryBook | None,
        plans: dict[tuple[object, ...], PricingPlan],
    ) -> None:
        self.schedule, self.scenario, self.reader = schedule, scenario, reader
        self.entries, self.plans = entries, plans
        fields = reader.index
        self.width = len(reader.header)
        self.value_at = fields["value"]
        self.key_at = tuple(fields.get(name) for name in _LINEAR_FIELDS)
        self.currency_at = (fields.get("currency"), fields.get("fx_rate"))
        # The exchange rate of each (currency, fx_rate) pair of cells, or None when the pair
        # is not valid (the engine's path then says why).
        self.exchange: dict[tuple[str, str], tuple[Decimal | None] | None] = {}
        self.amount_at = tuple(fields[name] for name in _AMOUNT_FIELDS if name in fields)
        self.entry_at = fields.get("entry")
        self.read_at = (self.value_at, *self.key_at, *self.currency_at, self.entry_at)
        self.known: dict[tuple[str, ...], tuple[_Linear, str | None] | None] = {}

    def price(self, cells: list[str]) -> PricedRow | None:
        if len(cells) != self.width:
            return None
        joined = "".join(cells)
        if not joined.isascii():
            # Notes in Japanese are fine; undecodable bytes, or full-width digits in the cells
            # that are read (NFKC turns them into digits), are for the engine's path.
            if UNDECODED.search(joined) or not all(
                cells[at].isascii() for at in self.read_at if at is not None
            ):
                return None
        for position in self.amount_at:
            if cells[position].strip():
                return None
        value_text = cells[self.value_at].strip()
        if not _PLAIN_AMOUNT.match(value_text):
            return None
        value = Decimal(value_text)
        if not value:
            return None
        key = tuple("" if at is None else cells[at] for at in self.key_at)
        resolved = self.known.get(key, _UNKNOWN)
        if resolved is _UNKNOWN:
            resolved = self.known[key] = self._resolve(key)
        if resolved is None:
            return None
        linear, mode = resolved
        pair = tuple("" if at is None else cells[at] for at in self.currency_at)
        exchange = self.exchange.get(pair, _UNKNOWN)  # type: ignore[arg-type]
        if exchange is _UNKNOWN:
            exchange = self.exchange[pair] = self._exchange(pair)  # type: ignore[index]
        if exchange is None:
            return None
        fx_rate = exchange[0]
        customs_value = round_cent(value if fx_rate is None else times(value, fx_rate))
        if not customs_value or customs_value > LARGEST_AMOUNT:
            return None  # under half a cent, or over 15 digits: the engine's path says so
        entry = entry_key = None
        if self.entry_at is not None and self.entries is not None:
            entry_key = cells[self.entry_at].strip() or None
            entry = self.entries.get(entry_key)
            if entry is not None and entry.entry_date != linear.on:
                return None  # the engine's path says why (one entry, one date)
        priced = self._amounts(linear, customs_value, mode, entry)
        if entry is not None and entry_key is not None and self.entries is not None:
            self.entries.handed_out(entry_key, entry)
        return priced

    def _exchange(self, pair: tuple[str, ...]) -> tuple[Decimal | None] | None:
        cells = {"currency": pair[0], "fx_rate": pair[1]}
        try:
            return (probe_shipment(cells, self.reader.names).fx_rate,)
        except TariffError:
            return None

    def _resolve(self, key: tuple[str, ...]) -> tuple[_Linear, str | None] | None:
        fields: dict[str, str | None] = dict(zip(_LINEAR_FIELDS, key, strict=True))
        fields["value"] = _PROBE_VALUE
        try:
            shipment = shipment_from_fields(fields, self.reader.names)
            date_text = fields.get("date")
            on = parse_date(date_text, "date") if date_text else self.reader.default_date
            plan_id = (plan_key(shipment), on)
            plan = self.plans.get(plan_id)
            if plan is None:
                plan = self.plans[plan_id] = plan_pricing(
                    self.schedule, shipment, on, self.scenario
                )
            quote = price_with_plan(self.schedule, plan, shipment)
        except TariffError:
            return None
        if plan.mfn is not None and plan.mfn.specific:
            return None
        if any(line.basis != quote.customs_value for line in quote.lines):
            return None
        return _Linear(quote), shipment.mode

    def _amounts(
        self, linear: _Linear, customs_value: Decimal, mode: str | None, entry: Entry | None
    ) -> PricedRow:
        additional = on_hold = ieepa = ZERO_MONEY
        for rate, held, is_ieepa in linear.lines:
            amount = round_cent(times(customs_value, rate))
            additional += amount
            if held:
                on_hold += round_cent(times(customs_value, held))
            if is_ieepa:
                ieepa += amount
        base = None if linear.mfn is None else round_cent(times(customs_value, linear.mfn))
        total = None if base is None else base + additional
        effective = None
        if total is not None:
            effective = (total / customs_value).quantize(EFFECTIVE_RATE_PLACES)
        mpf = hmf = None
        fees = self.schedule.fees
        if fees is not None:
            chapter_99 = bool(linear.lines)
            if entry is not None:
                mpf = _entry_share(fees.mpf, entry, customs_value, chapter_99)
            else:
                mpf = entry_mpf(fees.mpf, customs_value, linear.on, 1, chapter_99)
            hmf = hmf_amount(fees.hmf, customs_value, mode)
        total_fees = None if mpf is None else mpf + (hmf or ZERO_MONEY)
        landed = None
        if total is not None and total_fees is not None:
            landed = customs_value + total + total_fees
        return PricedRow(
            linear.category,
            customs_value,
            base,
            additional,
            total,
            on_hold,
            effective,
            ieepa,
            mpf,
            hmf,
            total_fees,
            landed,
            linear.warnings,
        )


_UNKNOWN: Any = object()


def probe_shipment(
    cells: Mapping[str, str | None],
    names: Mapping[str, str] | None = None,
    formats: CellFormat = PLAIN_CELLS,
) -> Shipment:
    """General goods worth 1000 with these cells: what the engine reads them as (an exchange
    rate, a transport mode), or the InputError that says why it cannot."""
    fields = {"category": "general", "value": _PROBE_VALUE, **cells}
    return shipment_from_fields(fields, names or {}, formats)


_PLAIN_AMOUNT = re.compile(r"^\d{1,15}(\.\d{1,10})?$|^\.\d{1,10}$", re.ASCII)


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
