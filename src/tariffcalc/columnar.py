"""The batch's columnar path: a whole CSV priced as columns (polars), for speed on big files.

It gives the row path's answer, byte for byte, because it asks the engine for the law and does
only the arithmetic itself:

- Each distinct combination of goods, declarations and dated period is priced by the engine
  (:func:`~tariffcalc.engine.price_with_plan`) on probe values. Its quotes give each duty line's
  rate and what the line is charged on (the customs value, the declared metal content, or the
  value less that content, checked on several probes); rows only multiply and round, in whole
  cents with the engine's half-up rounding (half-even for the effective rate, as Decimal does).
- The schedule's pricing can change only on a date the schedule names, or the day after one:
  rows dated between two such dates share one resolution (rows whose warnings name their own
  date, such as entries after the review date, are resolved date by date).
- A row that is not plain (a cell outside printable ASCII, a declaration other than the metal
  content, an amount with more than 4 decimals, a line of more than 1,000,000,000 USD, a row the
  engine refuses...) goes through the row path (:func:`~tariffcalc.batch.price_rows`), with the
  whole entry it belongs to, so that an entry's MPF is shared in one place.
- A file that Python's csv module might read differently (a lone carriage return, a blank line,
  a NUL byte, a cell with a stray quote, bytes that are not UTF-8, a ragged row...) is left to
  the row path entirely: :func:`price_csv` returns None.

The tests price generated files both ways and compare the outputs byte for byte.
"""

from __future__ import annotations

import bisect
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import polars as pl
from pydantic import BaseModel

from .batch import (
    RESULT_FIELDS,
    STATUS_OK,
    BatchSummary,
    CategoryTotals,
    InputTable,
    neutralize_formula,
    price_rows,
    result_columns,
    scan_entries,
)
from .engine import MFN_MEASURE, PricingPlan, Quote, plan_key, plan_pricing, price_with_plan
from .errors import TariffError
from .fees import hmf_rate, mpf_terms
from .schedule import Schedule
from .shipment import MODES, parse_date, shipment_from_fields

# Files larger than this are priced row by row, in memory that does not grow with the file.
MAX_BYTES = 160 * 2**20
# Rows that need the row path; past this share of the file, the whole file takes the row path.
_MAX_ROW_PATH_SHARE = 0.1
_RATE_SCALE = 10**6  # rates as whole millionths
_HALF_RATE = _RATE_SCALE // 2
_MAX_LINE_CENTS = 10**11  # 1,000,000,000 USD: every product below stays within 64 bits
_MAX_ENTRY_CENTS = 10**12
_INT64_MAX = 2**63 - 1
_PRINTABLE = r"^[ -~]*$"
_AMOUNT = r"^[0-9]{1,12}(\.[0-9]{1,4})?$"
_RISKY = r"^[=@\t+\-]"
# Probe values (USD): (customs value, metal content).
_PROBES = ((10000, None), (20000, None))
_CONTENT_PROBES = ((10000, 1000), (20000, 1000), (10000, 3000), (30000, 7000))
# Cells whose meaning the engine resolves once per distinct value.
_GOODS_FIELDS = ("hts", "category", "mfn_rate", "auto_part", "annex_ii", "civil_aircraft")
# Declarations the columnar path leaves to the row path.
_ROW_PATH_FIELDS = ("steel_content", "aluminum_content", "us_content", "quantity")


def pricing_dates(schedule: Schedule) -> list[int]:
    """Every day (as an ordinal) on which the schedule's pricing might change: each date the
    schedule holds anywhere, and the day after it (a rule "to" a date ends the day after).

    Deliberately blind to what the dates mean, so that no dated rule can be missed."""
    days: set[int] = set()

    def walk(node: object) -> None:
        if isinstance(node, date):
            days.add(node.toordinal())
            days.add(node.toordinal() + 1)
        elif isinstance(node, BaseModel):
            for value in vars(node).values():
                walk(value)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list | tuple | set | frozenset):
            for value in node:
                walk(value)

    walk(schedule)
    return sorted(days)


@dataclass(frozen=True, slots=True)
class _Terms:
    """What the engine says about one distinct key: the output category and warnings, the MFN
    rate, and each additional line as (rate, rate on hold, collected under IEEPA, coefficient
    of the customs value, coefficient of the metal content in its basis); rates in millionths."""

    category: str
    warnings: str | None
    mfn: int | None
    lines: tuple[tuple[int, int, bool, int, int], ...]


def _millionths(rate: Decimal) -> int | None:
    scaled = rate * _RATE_SCALE
    return int(scaled) if scaled == scaled.to_integral_value() else None


class _Resolver:
    """Asks the engine, once per distinct key, what the columnar path needs."""

    def __init__(self, schedule: Schedule, scenario: str | None) -> None:
        self.schedule, self.scenario = schedule, scenario
        self.plans: dict[tuple[object, ...], PricingPlan] = {}

    def quote(self, fields: dict[str, str | None], on: date) -> Quote:
        shipment = shipment_from_fields(fields, {})
        key = (plan_key(shipment), on)
        plan = self.plans.get(key)
        if plan is None:
            plan = self.plans[key] = plan_pricing(self.schedule, shipment, on, self.scenario)
        if plan.mfn is not None and plan.mfn.specific:
            raise _NotLinear
        return price_with_plan(self.schedule, plan, shipment)

    def dated(self, on: date) -> bool:
        """Whether quotes of this date carry warnings that name the date itself (the review
        warning, fees not known for the date): then rows are resolved date by date."""
        probe = {"category": "general", "value": "10000", "mode": MODES[0]}
        try:
            quote = self.quote(probe, on)
        except (TariffError, _NotLinear):
            return True
        return any(on.isoformat() in warning for warning in quote.warnings)

    def terms(
        self, goods: dict[str, str | None], metal: bool, mode_given: bool, on: date, dated: bool
    ) -> _Terms | None:
        fields: dict[str, str | None] = {**goods, "mode": MODES[0] if mode_given else None}
        probes = _CONTENT_PROBES if metal else _PROBES
        quotes = []
        for value, content in probes:
            fields["value"] = str(value)
            fields["metal_content"] = None if content is None else str(content)
            try:
                quotes.append(self.quote(fields, on))
            except (TariffError, _NotLinear):
                return None
        first = quotes[0]

        def shape(quote: Quote) -> object:
            lines = tuple((ln.measure, ln.rate, ln.on_hold_rate, ln.program) for ln in quote.lines)
            return quote.category, quote.warnings, lines

        if any(shape(quote) != shape(first) for quote in quotes[1:]):
            return None
        if not dated and any(on.isoformat() in warning for warning in first.warnings):
            return None
        mfn = None
        lines = []
        for i, line in enumerate(first.lines):
            bases = [quote.lines[i].basis for quote in quotes]
            of_value = (bases[1] - bases[0]) / (probes[1][0] - probes[0][0])
            of_content = (bases[2] - bases[0]) / 2000 if metal else Decimal(0)
            if of_value not in (-1, 0, 1) or of_content not in (-1, 0, 1):
                return None
            for basis, (value, content) in zip(bases, probes, strict=True):
                if basis != of_value * value + of_content * (content or 0):
                    return None
            rate, held = _millionths(line.rate), _millionths(line.on_hold_rate)
            if rate is None or held is None:
                return None
            if line.measure == MFN_MEASURE:
                if (of_value, of_content) != (1, 0):
                    return None
                mfn = rate
            else:
                lines.append((rate, held, line.program == "ieepa", int(of_value), int(of_content)))
        return _Terms(first.category, " | ".join(first.warnings) or None, mfn, tuple(lines))


class _NotLinear(Exception):
    """The goods' duty is not a fixed rate of their value (a specific MFN rate)."""


@dataclass
class ColumnarBatch:
    """A priced file: the output as columns, ready to write, and its summary."""

    header: list[str]
    frame: pl.DataFrame
    summary: BatchSummary

    def write_csv(self, stream: IO[Any]) -> None:
        """Write as the row path's CSV writer does (formula cells neutralised, minimal quoting,
        empty cells empty, "\\n" line ends)."""
        csv.writer(stream, lineterminator="\n").writerow(
            [neutralize_formula(name) for name in self.header]
        )
        frame = self.frame.with_columns(_neutralized(self.frame, name) for name in self.frame.columns)
        buffer = getattr(stream, "buffer", None)
        if buffer is not None:
            stream.flush()
            frame.write_csv(buffer, include_header=False, line_terminator="\n", null_value="")
            buffer.flush()
        else:
            stream.write(frame.write_csv(None, include_header=False, line_terminator="\n"))


def _neutralized(frame: pl.DataFrame, name: str) -> pl.Expr:
    """A column as the CSV writer must write it: "" as an empty cell (not a quoted empty
    string), a cell a spreadsheet would run as a formula prefixed with '."""
    column = pl.col(name)
    risky = frame.get_column(name).filter(frame.get_column(name).str.contains(_RISKY)).unique()
    changed = {cell: neutralize_formula(cell) for cell in risky.to_list()}
    changed = {cell: safe for cell, safe in changed.items() if safe != cell}
    if changed:
        column = column.replace(changed)
    return pl.when(column == "").then(None).otherwise(column).alias(name)


def _read(path: Path, header: list[str]) -> pl.DataFrame | None:
    """The file's rows as string columns c0, c1, ..., or None when polars might read the file
    otherwise than Python's csv module (which the row path uses)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if b"\x00" in data:
        return None
    names = [f"c{i}" for i in range(len(header))]
    try:
        frame = pl.read_csv(
            data, has_header=False, schema=pl.Schema(dict.fromkeys(names, pl.String))
        )
    except pl.exceptions.PolarsError:
        return None  # not UTF-8, a stray quote, a row longer than the header...
    del data
    if frame.height < 2 or [cell or "" for cell in frame.row(0)] != header:
        return None
    frame = frame.slice(1)
    # A blank line is no row to Python's csv module but a row of nulls to polars (and a row
    # of empty cells is a row to both): leave such files to the row path.
    if frame.select(pl.all_horizontal(pl.all().is_null()).any()).item():
        return None
    # Python's csv module ends a line at a lone "\r"; polars does not.
    if frame.select(pl.any_horizontal(pl.all().str.contains("\r", literal=True)).any()).item():
        return None
    return frame


def price_csv(
    schedule: Schedule,
    path: Path,
    table: InputTable,
    *,
    default_date: date,
    scenario: str | None = None,
) -> ColumnarBatch | None:
    """Price a CSV file as columns; None when the file is for the row path (see the module's
    documentation). ``table`` is the file opened by :func:`~tariffcalc.batch.open_input`
    (its header and column mapping; its rows are not read)."""
    if table.encoding.lower().replace("_", "-") not in ("utf-8", "utf-8-sig", "utf8"):
        return None
    try:
        if path.stat().st_size > MAX_BYTES:
            return None
    except OSError:
        return None
    frame = _read(path, table.header)
    if frame is None:
        return None
    return _Pricing(schedule, scenario, table, frame, default_date).run()


class _Pricing:
    def __init__(
        self,
        schedule: Schedule,
        scenario: str | None,
        table: InputTable,
        frame: pl.DataFrame,
        default_date: date,
    ) -> None:
        self.schedule, self.scenario, self.table = schedule, scenario, table
        self.frame, self.default_date = frame, default_date
        self.resolver = _Resolver(schedule, scenario)
        self.fields = table.fields

    def cell(self, name: str) -> pl.Expr:
        """A field's cells, "" where empty or absent."""
        if name not in self.fields:
            return pl.lit("", pl.String)
        return pl.col(f"c{self.fields[name]}").fill_null("")

    def run(self) -> ColumnarBatch | None:
        frame = self.frame.with_row_index("row")
        read = [f"c{i}" for name, i in self.fields.items() if name != "id"]
        stripped = {name: self.cell(name).str.strip_chars(" ") for name in self.fields}

        def blank(name: str) -> pl.Expr:
            return stripped[name] == "" if name in stripped else pl.lit(True)

        plain = pl.all_horizontal(
            *(pl.col(c).fill_null("").str.contains(_PRINTABLE) for c in read),
            *(blank(name) for name in _ROW_PATH_FIELDS),
        )
        frame = frame.with_columns(
            plain.alias("plain"),
            _units(stripped["value"]).alias("value_units"),
            _units(stripped["metal_content"] if "metal_content" in stripped else pl.lit(""))
            .alias("content_units"),
            (~blank("metal_content")).alias("metal"),
            (~blank("mode")).alias("mode_given"),
            self.cell("date").alias("date_cell"),
            self.cell("mode").alias("mode_cell"),
            self.cell("currency").alias("currency_cell"),
            self.cell("fx_rate").alias("fx_cell"),
            *(self.cell(name).alias(f"goods_{name}") for name in _GOODS_FIELDS),
            (stripped["entry"] if "entry" in stripped else pl.lit("")).alias("entry"),
        )
        frame = self._join_dates(frame)
        frame = self._join_modes(frame)
        frame = self._join_exchange(frame)
        frame = self._join_terms(frame)
        if frame is None:
            return None
        frame = self._amounts(frame)
        row_path = frame.filter(~pl.col("ok")).get_column("row")
        if row_path.len() > max(1000, _MAX_ROW_PATH_SHARE * frame.height):
            return None
        return self._assemble(frame, row_path.to_list())

    # --- what the engine resolves once per distinct cell or key

    def _join_dates(self, frame: pl.DataFrame) -> pl.DataFrame:
        bounds = pricing_dates(self.schedule)
        label = self.table.header[self.fields["date"]].strip() if "date" in self.fields else "date"
        days: dict[str, int | None] = {}
        for text in frame.get_column("date_cell").unique().to_list():
            try:
                on = parse_date(text, label) if text else self.default_date
            except TariffError:
                days[text] = None
                continue
            days[text] = on.toordinal()
        # Each period between two pricing dates is resolved once, on the first day seen in it;
        # a period whose quotes name their date is resolved date by date.
        periods: dict[int, int] = {}
        when: dict[str, int | None] = {}
        self.dated_days: set[int] = set()
        for text, day in sorted(days.items(), key=lambda item: item[1] or 0):
            if day is None:
                when[text] = None
                continue
            period = bisect.bisect_right(bounds, day)
            first = periods.setdefault(period, day)
            if self.resolver.dated(date.fromordinal(first)):
                self.dated_days.add(day)
                when[text] = day
            else:
                when[text] = first
        table = pl.DataFrame(
            {
                "date_cell": list(days),
                "day": [days[t] for t in days],
                "when": [when[t] for t in days],
            },
            schema={"date_cell": pl.String, "day": pl.Int64, "when": pl.Int64},
        )
        return frame.join(table, on="date_cell", how="left")

    def _join_modes(self, frame: pl.DataFrame) -> pl.DataFrame:
        fee = self.schedule.fees
        rows: dict[str, tuple[bool, int | None]] = {}
        for text in frame.get_column("mode_cell").unique().to_list():
            probe = {"category": "general", "value": "10000", "mode": text}
            try:
                mode = shipment_from_fields(probe, {}).mode
            except TariffError:
                rows[text] = (False, None)
                continue
            rate = None if fee is None else hmf_rate(fee.hmf, mode)
            scaled = None if rate is None else _millionths(rate)
            rows[text] = (rate is None or scaled is not None, scaled)
        table = pl.DataFrame(
            {
                "mode_cell": list(rows),
                "mode_ok": [ok for ok, _ in rows.values()],
                "hmf_rate": [rate for _, rate in rows.values()],
            },
            schema={"mode_cell": pl.String, "mode_ok": pl.Boolean, "hmf_rate": pl.Int64},
        )
        return frame.join(table, on="mode_cell", how="left")

    def _join_exchange(self, frame: pl.DataFrame) -> pl.DataFrame:
        pairs = frame.select("currency_cell", "fx_cell").unique()
        numerators, scales = [], []
        for currency, fx_text in pairs.iter_rows():
            probe = {"category": "general", "value": "10000", "currency": currency,
                     "fx_rate": fx_text}  # fmt: skip
            try:
                fx_rate = shipment_from_fields(probe, {}).fx_rate
            except TariffError:
                numerators.append(None)
                scales.append(None)
                continue
            if fx_rate is None:
                numerators.append(1)
                scales.append(0)
                continue
            exponent = fx_rate.as_tuple().exponent
            assert isinstance(exponent, int)
            places = max(0, -exponent)
            numerators.append(int(fx_rate.scaleb(places)))
            scales.append(places)
        table = pairs.with_columns(
            pl.Series("fx_num", numerators, pl.Int64), pl.Series("fx_places", scales, pl.Int64)
        )
        return frame.join(table, on=["currency_cell", "fx_cell"], how="left", nulls_equal=True)

    def _join_terms(self, frame: pl.DataFrame) -> pl.DataFrame | None:
        key = [f"goods_{name}" for name in _GOODS_FIELDS] + ["metal", "mode_given", "when"]
        keys = frame.filter(pl.col("when").is_not_null()).select(key).unique()
        resolved: list[_Terms | None] = []
        for row in keys.iter_rows():
            goods = dict(zip(_GOODS_FIELDS, row[: len(_GOODS_FIELDS)], strict=True))
            metal, mode_given, when = row[len(_GOODS_FIELDS) :]
            on = date.fromordinal(when)
            resolved.append(
                self.resolver.terms(goods, metal, mode_given, on, when in self.dated_days)
            )
        width = max((len(t.lines) for t in resolved if t is not None), default=0)
        columns: dict[str, list[Any]] = {
            "terms_ok": [t is not None for t in resolved],
            "category": [t.category if t else None for t in resolved],
            "warnings": [t.warnings if t else None for t in resolved],
            "mfn": [t.mfn if t else None for t in resolved],
        }
        for j in range(width):
            for k, name in enumerate(("rate", "held", "ieepa", "of_value", "of_content")):
                columns[f"{name}{j}"] = [
                    (int(t.lines[j][k]) if j < len(t.lines) else 0) if t else 0 for t in resolved
                ]
        schema = {name: pl.Int64 for name in columns}
        schema.update(terms_ok=pl.Boolean, category=pl.String, warnings=pl.String)
        table = keys.hstack(pl.DataFrame(columns, schema=schema))
        self.width = width
        return frame.join(table, on=key, how="left", nulls_equal=True)

    # --- the arithmetic, in whole cents

    def _amounts(self, frame: pl.DataFrame) -> pl.DataFrame:
        fee = self.schedule.fees
        mpf_by_day: dict[int, tuple[int, int, int] | None] = {}
        for when in frame.get_column("when").drop_nulls().unique().to_list():
            terms = None if fee is None else mpf_terms(fee.mpf, date.fromordinal(when))
            if terms is not None:
                rate = _millionths(terms[0])
                low, high = (int(bound * 100) for bound in terms[1:])
                mpf_by_day[when] = None if rate is None else (rate, low, high)
            else:
                mpf_by_day[when] = None
        mpf_table = pl.DataFrame(
            {
                "when": list(mpf_by_day),
                "mpf_rate": [t[0] if t else None for t in mpf_by_day.values()],
                "mpf_low": [t[1] if t else None for t in mpf_by_day.values()],
                "mpf_high": [t[2] if t else None for t in mpf_by_day.values()],
            },
            schema={"when": pl.Int64, "mpf_rate": pl.Int64, "mpf_low": pl.Int64,
                    "mpf_high": pl.Int64},
        )  # fmt: skip
        frame = frame.join(mpf_table, on="when", how="left")

        def to_cents(units: str) -> pl.Expr:
            scale = pl.lit(10, pl.Int64).pow(pl.col("fx_places") + 2)
            product = pl.col(units) * pl.col("fx_num")
            return (product + scale // 2) // scale

        def cents_of(base: pl.Expr, rate: pl.Expr) -> pl.Expr:
            return (base * rate + _HALF_RATE) // _RATE_SCALE

        frame = frame.with_columns(
            to_cents("value_units").alias("cv"),
            pl.when(pl.col("metal")).then(to_cents("content_units")).otherwise(0).alias("content"),
        )
        fits = pl.lit(_INT64_MAX) // pl.col("fx_num")
        ok = (
            pl.col("plain")
            & pl.col("terms_ok").fill_null(False)
            & pl.col("mode_ok").fill_null(False)
            & pl.col("value_units").is_not_null()
            & pl.col("fx_num").is_not_null()
            & (pl.col("value_units") <= fits)
            & (pl.col("cv") > 0)
            & (pl.col("cv") <= _MAX_LINE_CENTS)
            & (
                ~pl.col("metal")
                | (
                    pl.col("content_units").is_not_null()
                    & (pl.col("content_units") <= fits)
                    & (pl.col("content") > 0)
                    & (pl.col("content") < pl.col("cv"))
                )
            )
        )
        frame = frame.with_columns(ok.fill_null(False).alias("ok"))
        cv, content = pl.col("cv"), pl.col("content")
        additional, on_hold, ieepa = pl.lit(0, pl.Int64), pl.lit(0, pl.Int64), pl.lit(0, pl.Int64)
        for j in range(self.width):
            basis = pl.col(f"of_value{j}") * cv + pl.col(f"of_content{j}") * content
            amount = cents_of(basis, pl.col(f"rate{j}"))
            additional = additional + amount
            on_hold = on_hold + cents_of(basis, pl.col(f"held{j}"))
            ieepa = ieepa + amount * pl.col(f"ieepa{j}")
        base = cents_of(cv, pl.col("mfn"))
        frame = frame.with_columns(
            base.alias("base_duty"),
            additional.alias("additional_duty"),
            on_hold.alias("on_hold_duty"),
            ieepa.alias("ieepa_duty"),
        ).with_columns((pl.col("base_duty") + pl.col("additional_duty")).alias("total_duty"))
        # The effective rate: total / value to 6 places, half-even (Decimal's quantize).
        scaled = pl.col("total_duty") * _RATE_SCALE
        quotient, remainder = scaled // cv, scaled % cv
        up = (2 * remainder > cv) | ((2 * remainder == cv) & (quotient % 2 == 1))
        frame = frame.with_columns((quotient + up.cast(pl.Int64)).alias("effective_rate"))

        # Fees: the MPF of the row's own entry, or its share of its entry's MPF; the HMF.
        def mpf_of(value: pl.Expr) -> pl.Expr:
            computed = cents_of(value, pl.col("mpf_rate"))
            return computed.clip(pl.col("mpf_low"), pl.col("mpf_high"))

        if fee is None:
            return frame.with_columns(
                pl.lit(None, pl.Int64).alias("mpf"), pl.lit(None, pl.Int64).alias("hmf")
            )
        own_mpf = mpf_of(cv)
        in_entry = pl.col("entry") != ""
        if "entry" in self.fields:
            by_entry = ["entry"]
            entry_value = cv.sum().over(by_entry)
            lines = pl.len().over(by_entry)
            position = pl.int_range(pl.len()).over(by_entry)
            frame = frame.with_columns(
                entry_value.alias("entry_value"),
                lines.alias("entry_lines"),
                position.alias("entry_position"),
                (
                    pl.col("ok").all().over(by_entry)
                    & (pl.col("day").n_unique().over(by_entry) == 1)
                    & pl.col("day").is_not_null().all().over(by_entry)
                ).alias("entry_ok"),
            )
            value = pl.col("entry_value")
            entry_mpf = mpf_of(value)
            share = (2 * entry_mpf * cv + value) // (2 * value)
            last = pl.col("entry_position") == pl.col("entry_lines") - 1
            before_last = pl.when(last).then(0).otherwise(share).sum().over(by_entry)
            frame = frame.with_columns(
                pl.when(in_entry)
                .then(pl.when(last).then(entry_mpf - before_last).otherwise(share))
                .otherwise(own_mpf)
                .alias("mpf"),
                (
                    pl.col("ok")
                    & (
                        ~in_entry
                        | (pl.col("entry_ok") & (pl.col("entry_value") <= _MAX_ENTRY_CENTS))
                    )
                ).alias("ok"),
            )
        else:
            frame = frame.with_columns(own_mpf.alias("mpf"))
        return frame.with_columns(cents_of(cv, pl.col("hmf_rate")).alias("hmf"))

    # --- the output

    def _assemble(self, frame: pl.DataFrame, row_path: list[int]) -> ColumnarBatch:
        header = self.table.header
        money = ("base_duty", "additional_duty", "total_duty", "on_hold_duty", "ieepa_duty",
                 "mpf", "hmf")  # fmt: skip
        ok = pl.col("ok")
        fees = pl.col("mpf") + pl.col("hmf").fill_null(0)
        landed = pl.col("cv") + pl.col("total_duty") + fees
        results = {
            "category": pl.col("category"),
            **{name: _money(pl.col(name)) for name in money},
            "effective_rate": _rate(pl.col("effective_rate")),
            "status": pl.lit(STATUS_OK),
            "error": pl.lit(None, pl.String),
            "total_fees": _money(fees),
            "landed_cost": _money(landed),
            "warnings": pl.col("warnings"),
        }
        names = [f"r{i}" for i in range(len(RESULT_FIELDS))]
        inputs = [f"c{i}" for i in range(len(header))]
        out = frame.select(
            *(pl.col(c).fill_null("") for c in inputs),
            *(
                pl.when(ok).then(results[field]).otherwise(None).alias(name)
                for field, name in zip(RESULT_FIELDS, names, strict=True)
            ),
        )
        summary = self._summary(frame.filter(ok))
        if row_path:
            self._price_row_path(frame, out, names, row_path, summary)
        columns = header + result_columns(header)
        return ColumnarBatch(columns, out, summary)

    def _summary(self, priced: pl.DataFrame) -> BatchSummary:
        summary = BatchSummary(rows=priced.height)
        fees = pl.col("mpf") + pl.col("hmf").fill_null(0)
        totals = priced.group_by("category").agg(
            pl.len().alias("rows"),
            pl.col("cv").sum(),
            pl.col("base_duty").null_count().alias("base_unknown"),
            pl.col("base_duty").sum(),
            pl.col("additional_duty").sum(),
            pl.col("on_hold_duty").sum(),
            pl.col("ieepa_duty").sum(),
            fees.sum().alias("fees"),
            fees.null_count().alias("fees_unknown"),
        )
        for row in totals.iter_rows(named=True):
            summary.by_category[row["category"]] = CategoryTotals(
                rows=row["rows"],
                customs_value=_dollars(row["cv"]),
                base_duty=_dollars(row["base_duty"]),
                base_unknown_rows=row["base_unknown"],
                additional_duty=_dollars(row["additional_duty"]),
                on_hold_duty=_dollars(row["on_hold_duty"]),
                ieepa_duty=_dollars(row["ieepa_duty"]),
                total_fees=_dollars(row["fees"]),
                fees_unknown_rows=row["fees_unknown"],
            )
        return summary

    def _price_row_path(
        self,
        frame: pl.DataFrame,
        out: pl.DataFrame,
        names: list[str],
        row_path: list[int],
        summary: BatchSummary,
    ) -> None:
        """Price the rows the columnar path leaves alone with the row path, in file order,
        and put their results in place."""
        inputs = [f"c{i}" for i in range(len(self.table.header))]
        picked = frame.select(inputs).gather(row_path)
        lines = self._line_numbers(frame, row_path)
        table = self.table

        def rows() -> Iterator[tuple[int, int, list[str]]]:
            for index, line, cells in zip(row_path, lines, picked.iter_rows(), strict=True):
                yield index + 1, line, [cell or "" for cell in cells]

        entries = None
        if "entry" in self.fields:
            scan = InputTable(table.source, table.header, rows(), table.encoding, self.fields)
            entries = scan_entries(scan, self.default_date)
        subset = InputTable(table.source, table.header, rows(), table.encoding, self.fields)
        results: list[list[str | None]] = []
        try:
            for _number, _inputs, cells in price_rows(
                self.schedule, subset, summary, default_date=self.default_date,
                scenario=self.scenario, entries=entries,
            ):  # fmt: skip
                results.append(cells)
        finally:
            if entries is not None:
                entries.close()
        for k, name in enumerate(names):
            column = out.get_column(name)
            values = pl.Series(name, [cells[k] for cells in results], pl.String)
            out.replace_column(out.get_column_index(name), column.scatter(row_path, values))

    def _line_numbers(self, frame: pl.DataFrame, rows: list[int]) -> list[int]:
        """The line on which each of ``rows`` ends in the file, as Python's csv module counts
        (for the row path's messages): the header's lines, then each row's, a line break in a
        quoted cell adding one."""
        inputs = [f"c{i}" for i in range(len(self.table.header))]
        breaks = pl.sum_horizontal(
            pl.col(c).str.count_matches("\n", literal=True).fill_null(0) for c in inputs
        )
        ends = frame.select((breaks + 1).cum_sum()).to_series().gather(rows)
        first = 1 + sum(name.count("\n") for name in self.table.header)
        return [first + end for end in ends.to_list()]


def _units(text: pl.Expr) -> pl.Expr:
    """A plain amount (up to 12 digits and 4 decimals) in ten-thousandths; null otherwise."""
    parts = text.str.split_exact(".", 1)
    whole = parts.struct.field("field_0").cast(pl.Int64, strict=False)
    fraction = parts.struct.field("field_1").fill_null("").str.pad_end(4, "0")
    units = whole * 10_000 + fraction.cast(pl.Int64, strict=False)
    return pl.when(text.str.contains(_AMOUNT)).then(units).otherwise(None)


def _money(cents: pl.Expr) -> pl.Expr:
    return pl.format("{}.{}", cents // 100, (cents % 100).cast(pl.String).str.zfill(2))


def _rate(millionths: pl.Expr) -> pl.Expr:
    """A rate in millionths as format_rate writes it: no trailing zeros, "0" for zero."""
    text = pl.format(
        "{}.{}",
        millionths // _RATE_SCALE,
        (millionths % _RATE_SCALE).cast(pl.String).str.zfill(6),
    )
    return text.str.strip_chars_end("0").str.strip_chars_end(".")


def _dollars(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


__all__ = ["MAX_BYTES", "ColumnarBatch", "price_csv", "pricing_dates"]
