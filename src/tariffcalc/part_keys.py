"""What the cells of a part of a batch file mean: each row's keys (goods and declarations,
dated period, transport mode, currency), with what the engine says of each distinct key
resolved once (:class:`~tariffcalc.resolution.Resolver`) and each row's amounts as whole
ten-thousandths, for the arithmetic (:mod:`~tariffcalc.arithmetic`)."""

from __future__ import annotations

import bisect
import re
from datetime import date

import polars as pl

from .batch import probe_shipment
from .errors import TariffError
from .fees import hmf_rate
from .reader import ASCII_SPACE
from .resolution import GOODS_FIELDS, Request, Resolver, Terms, millionths
from .rules import Schedule
from .shipment import MODE_WORDS, parse_date
from .tables import InputTable

_INT64_MAX = 2**63 - 1
_SEP = "\x00"  # joins cells into one key (a row holding a NUL has no key: see read)
_AMOUNT = r"^[0-9]{1,12}(\.[0-9]{1,4})?$"
# Cells outside ASCII read here as the engine reads them (a whole cell, no spaces around
# it): transport words, dates in Japanese, Japan as the origin.
_JAPANESE_CELLS = {
    "mode": "^(?:" + "|".join(w for w in MODE_WORDS if not w.isascii()) + ")$",
    "date": r"^\d{4}年\d{1,2}月\d{1,2}日$",
    "origin": "^(?:日本|日本国)$",
}
# Declarations whose rows the engine prices alone.
_ROW_PATH_FIELDS = ("steel_content", "aluminum_content", "copper_content", "us_content",
                    "quantity")  # fmt: skip


class PartKeys:
    """A part's cells read into keys (:meth:`read`): a frame of each row's key columns and
    ``term``, its index into ``terms`` (None: the engine prices the row alone)."""

    def __init__(
        self, schedule: Schedule, table: InputTable, frame: pl.DataFrame, resolver: Resolver,
        default_date: date,
    ) -> None:  # fmt: skip
        self.schedule, self.table, self.frame = schedule, table, frame
        self.resolver, self.default_date = resolver, default_date
        self.fields = table.fields
        self.defaults = dict(table.cells.defaults)
        self.terms: list[Terms] = []
        self.width = 0  # the most additional duty lines of any terms
        self.dated_days: set[int] = set()

    def cell(self, name: str) -> pl.Expr:
        """A field's cells, "" where empty or absent; an empty cell takes the profile's
        default for the field, if it has one (as :func:`~tariffcalc.shipment.
        shipment_from_fields` does)."""
        cells = (
            pl.col(f"c{self.fields[name]}").fill_null("")
            if name in self.fields
            else pl.lit("", pl.String)
        )
        default = self.defaults.get(name)
        if default is None:
            return cells
        return (
            pl.when(cells.str.strip_chars(ASCII_SPACE) == "").then(pl.lit(default)).otherwise(cells)
        )

    def read(self) -> pl.DataFrame:
        thousands = self.table.cells.thousands

        def stripped(name: str) -> pl.Expr:
            return self.cell(name).str.strip_chars(ASCII_SPACE)

        # Cells read as ASCII (NFKC, which the engine applies, changes no ASCII text), or
        # as Japanese files write a mode, a date or the origin, which the engine's own
        # functions resolve once per distinct cell here.
        def readable(name: str, column: str) -> pl.Expr:
            cells = pl.col(column)
            ascii_only = (cells.str.len_bytes() == cells.str.len_chars()).fill_null(True)
            japanese = _JAPANESE_CELLS.get(name)
            if japanese is None:
                return ascii_only
            return ascii_only | cells.str.contains(japanese).fill_null(False)

        as_read = pl.col("raw").is_null() if "raw" in self.frame.columns else pl.lit(True)
        plain = pl.all_horizontal(
            as_read,
            *(readable(name, f"c{i}") for name, i in self.fields.items() if name != "id"),
            *(stripped(name) == "" for name in _ROW_PATH_FIELDS),
        )
        keys = self.frame.select(
            plain.alias("plain"),
            _units(_ungrouped(stripped("value"), thousands)).alias("value_units"),
            _units(_ungrouped(stripped("metal_content"), thousands)).alias("content_units"),
            (stripped("metal_content") != "").alias("metal"),
            (stripped("mode") != "").alias("mode_given"),
            self.cell("date").alias("date_cell"),
            self.cell("mode").alias("mode_cell"),
            pl.concat_str(self.cell("currency"), self.cell("fx_rate"), separator=_SEP).alias(
                "pair"
            ),
            # (a row whose cells are not held as read has none: it may hold a NUL)
            pl.when(as_read)
            .then(pl.concat_str(*(self.cell(name) for name in GOODS_FIELDS), separator=_SEP))
            .alias("goods"),
        )
        if "entry" in self.fields:
            entries = strip_cells(self.frame.get_column(f"c{self.fields['entry']}").fill_null(""))
            keys = keys.with_columns(entries.alias("entry"))
        else:
            keys = keys.with_columns(pl.lit("", pl.String).alias("entry"))
        keys = keys.with_columns(*self._dates(keys), *self._modes(keys), *self._exchange(keys))
        # The cells as text are resolved: they are left out, before the arithmetic.
        return self._terms(keys).drop("goods", "pair", "date_cell", "mode_cell", "key")

    # --- what the engine resolves once per distinct cell or key

    def _dates(self, keys: pl.DataFrame) -> list[pl.Expr]:
        bounds = self.resolver.pricing_dates()
        label = self.table.header[self.fields["date"]].strip() if "date" in self.fields else "date"
        days: dict[str, int | None] = {}
        for text in keys.get_column("date_cell").unique().to_list():
            try:
                on = (
                    parse_date(text, label, self.table.cells.date_format)
                    if text
                    else self.default_date
                )
            except TariffError:
                days[text] = None
                continue
            days[text] = on.toordinal()
        # Each period between two pricing dates is resolved once, on the first day seen in it;
        # a period whose quotes name their date is resolved date by date.
        periods: dict[int, int] = {}
        when: dict[str, int | None] = {}
        self.dated_days.clear()
        for text, day in sorted(days.items(), key=lambda item: item[1] or 0):
            if day is None:
                when[text] = None
                continue
            first = periods.setdefault(bisect.bisect_right(bounds, day), day)
            if self.resolver.dated(date.fromordinal(first)):
                self.dated_days.add(day)
                when[text] = day
            else:
                when[text] = first
        column = pl.col("date_cell")
        return [
            column.replace_strict(days, return_dtype=pl.Int64).alias("day"),
            column.replace_strict(when, return_dtype=pl.Int64).alias("when"),
        ]

    def _modes(self, keys: pl.DataFrame) -> list[pl.Expr]:
        fee = self.schedule.fees
        known: dict[str, bool] = {}
        rates: dict[str, int | None] = {}
        for text in keys.get_column("mode_cell").unique().to_list():
            try:
                mode = probe_shipment({"mode": text}).mode
            except TariffError:
                known[text], rates[text] = False, None
                continue
            rate = None if fee is None else hmf_rate(fee.hmf, mode)
            rates[text] = None if rate is None else millionths(rate)
            known[text] = rate is None or rates[text] is not None
        column = pl.col("mode_cell")
        return [
            column.replace_strict(known, return_dtype=pl.Boolean).alias("mode_ok"),
            column.replace_strict(rates, return_dtype=pl.Int64).alias("hmf_rate"),
        ]

    def _exchange(self, keys: pl.DataFrame) -> list[pl.Expr]:
        numerators: dict[str, int | None] = {}
        places: dict[str, int | None] = {}
        for pair in keys.get_column("pair").unique().to_list():
            currency, _, fx_text = pair.partition(_SEP)
            try:
                cells = {"currency": currency, "fx_rate": fx_text}
                read = probe_shipment(cells, None, self.table.cells)
            except TariffError:
                numerators[pair] = places[pair] = None
                continue
            # US dollars per unit, or (--fx-per-usd) units per US dollar, as given.
            fx_rate = read.fx_rate if read.fx_per_usd is None else read.fx_per_usd
            if fx_rate is None:
                numerators[pair], places[pair] = 1, 0
                continue
            exponent = fx_rate.as_tuple().exponent
            assert isinstance(exponent, int)
            shift = max(0, -exponent)
            numerator = int(fx_rate.scaleb(shift))
            if numerator > _INT64_MAX:
                numerators[pair] = places[pair] = None  # the engine prices such rows
            else:
                places[pair], numerators[pair] = shift, numerator
        column = pl.col("pair")
        return [
            column.replace_strict(numerators, return_dtype=pl.Int64).alias("fx_num"),
            column.replace_strict(places, return_dtype=pl.Int64).alias("fx_places"),
        ]

    def _terms(self, keys: pl.DataFrame) -> pl.DataFrame:
        """Resolve each distinct (goods, metal declared, mode given, period) and add each
        row's index into ``self.terms`` (column ``term``)."""
        goods_texts = keys.get_column("goods").drop_nulls().unique().to_list()
        goods_ids = {text: i for i, text in enumerate(goods_texts)}
        # One integer per key: goods, the two declarations, then the day (an ordinal < 2**22).
        key = (
            pl.col("goods").replace_strict(goods_ids, default=None, return_dtype=pl.Int64) * 4
            + pl.col("metal").cast(pl.Int64) * 2
            + pl.col("mode_given").cast(pl.Int64)
        ) * 2**22 + pl.col("when")
        keys = keys.with_columns(key.alias("key"))
        distinct = keys.get_column("key").drop_nulls().unique().to_list()
        self.terms = []
        requests: dict[int, Request] = {}
        for number in distinct:
            declared, when = divmod(number, 2**22)
            goods_id, flags = divmod(declared, 4)
            goods = tuple(zip(GOODS_FIELDS, goods_texts[goods_id].split(_SEP), strict=True))
            requests[number] = (
                goods, bool(flags & 2), bool(flags & 1), date.fromordinal(when),
                when in self.dated_days,
            )  # fmt: skip
        self.resolver.resolve_all(list(requests.values()))
        index: dict[int, int | None] = {}
        for number, request in requests.items():
            terms = self.resolver.terms(request)
            if terms is None:
                index[number] = None
            else:
                index[number] = len(self.terms)
                self.terms.append(terms)
        self.width = max((len(t.lines) for t in self.terms), default=0)
        term = pl.col("key").replace_strict(index, default=None, return_dtype=pl.Int64)
        return keys.with_columns(term.alias("term"))


def strip_cells(cells: pl.Series) -> pl.Series:
    """Cells without the spaces around them, as Python's str.strip() has them (which knows
    more spaces than ASCII's: those of cells outside ASCII are stripped one distinct cell at a
    time)."""
    keys = cells.str.strip_chars(ASCII_SPACE)
    wide = cells.filter(cells.str.len_bytes() != cells.str.len_chars()).unique().to_list()
    if not wide:
        return keys
    changed = {cell: cell.strip() for cell in wide}
    return pl.select(
        pl.when(cells.is_in(wide)).then(cells.replace(changed)).otherwise(keys).alias(cells.name)
    ).to_series()


def _ungrouped(text: pl.Expr, separator: str | None) -> pl.Expr:
    """Amounts grouped by thousands (--thousands) as plain ones, as
    :func:`~tariffcalc.shipment.parse_amount_cell` reads them: a cell grouped as it must be
    loses its separators (and "." grouping makes "," the decimal point); any other cell is left
    as it is, for the engine to refuse if it must."""
    if separator is None:
        return text
    decimal_mark = "," if separator == "." else "."
    sep, mark = re.escape(separator), re.escape(decimal_mark)
    grouped = text.str.contains(rf"^\d{{1,3}}(?:{sep}\d{{3}})+(?:{mark}\d+)?$")
    plain = (
        pl.when(grouped)
        .then(text.str.replace_all(separator, "", literal=True))
        .when(~text.str.contains(separator, literal=True))
        .then(text)
        .otherwise(None)
    )
    if decimal_mark == ",":
        return plain.str.replace(",", ".", literal=True)
    return plain


def _units(text: pl.Expr) -> pl.Expr:
    """A plain amount (up to 12 digits and 4 decimals) in ten-thousandths; null otherwise
    (the decimal's own integer: half the time of counting its places by hand)."""
    units = text.cast(pl.Decimal(18, 4), strict=False).to_physical().cast(pl.Int64)
    return pl.when(text.str.contains(_AMOUNT)).then(units).otherwise(None)
