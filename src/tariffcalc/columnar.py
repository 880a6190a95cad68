"""The batch's columnar path: a CSV priced as columns (polars), a part of the file at a time,
for speed on big files in bounded memory.

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
- A row that is not plain (a cell read outside ASCII, a declaration other than the metal
  content, an amount with more than 4 decimals, a line of more than 1,000,000,000 USD, a row the
  engine refuses...) goes through the row path (:func:`~tariffcalc.batch.price_rows`), with the
  whole entry it belongs to, so that an entry's MPF is shared in one place. A bad row that
  its entry's scan does not count either (an unreadable value or date) takes no part in the
  entry and leaves the other rows to the columnar path, as the row path would.
- The parts end at row ends, and an entry is never split between parts: the entries of a
  part's last entry date (from their first row), or its last entry, go with the next part, so
  files in entry order and in date order are priced a part at a time.
- A file that Python's csv module might read differently (a lone carriage return, a blank line,
  a NUL byte, a cell with a stray quote, bytes that are not of its encoding, a ragged row...),
  in an encoding whose parts cannot be cut at row ends by bytes (UTF-16, say: see
  ``_TRANSCODED``), or whose entries are spread over two parts, is left to the row path
  entirely: :func:`price_csv` returns None, or the writing raises :class:`Declined` for a later
  part.

The tests price generated files both ways and compare the outputs byte for byte.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from typing import IO, Any

import polars as pl

from .batch import (
    FIRST_ERRORS,
    STATUS_ERROR,
    STATUS_OK,
    BatchSummary,
    CategoryTotals,
    price_rows,
    probe_shipment,
)
from .entries import EntryBook, entry_line, scan_entries
from .entry_fees import EntryTotals, cents_of, entry_shares, mpf_of, spread_shares
from .errors import TariffError
from .fees import hmf_rate, informal_terms, mpf_terms
from .outputs import (
    RESULT_FIELDS,
    csv_writer,
    neutralize_formula,
    parquet_schema,
    result_columns,
    unique_names,
)
from .priced_parts import MONEY, ColumnarBatch, as_money, dollars, rate_text
from .reader import ASCII_SPACE, CHUNK_BYTES, cells_as_read, line_breaks, read_parts
from .resolution import GOODS_FIELDS, RATE_SCALE, Resolver, Terms, millionths, pricing_dates
from .rules import Schedule
from .shipment import MODE_WORDS, parse_date
from .tables import InputTable

_WRITE_ROWS = 250_000  # rows of output made and written at a time (a part has about 500,000)
_JSON_ROWS = 50_000  # the same for JSON (each row's text is about 2.6 times as long)
_MAX_LINE_CENTS = 10**11  # 1,000,000,000 USD: every product below stays within 64 bits
_INT64_MAX = 2**63 - 1
_SEP = "\x00"  # joins cells into one key: a file with a NUL byte is left to the row path
_AMOUNT = r"^[0-9]{1,12}(\.[0-9]{1,4})?$"
# Cells outside ASCII that the columnar path reads as the row path does (a whole cell, no
# spaces around it): transport words, dates in Japanese, Japan as the origin.
_JAPANESE_CELLS = {
    "mode": "^(?:" + "|".join(w for w in MODE_WORDS if not w.isascii()) + ")$",
    "date": r"^\d{4}年\d{1,2}月\d{1,2}日$",
    "origin": "^(?:日本|日本国)$",
}
# Declarations the columnar path leaves to the row path.
_ROW_PATH_FIELDS = ("steel_content", "aluminum_content", "copper_content", "us_content",
                    "quantity")  # fmt: skip


class Declined(Exception):
    """A part of the file is for the row path after all (found while writing a later part)."""


class ColumnarFile:
    """A file priced as columns, a part at a time as it is written (memory holds one part).

    An entry's rows are usually in one part (parts are cut so that files in entry order or
    in date order keep them together). When an entry turns up again in a later part, what
    was written is taken back (the output is rewound) and the file is priced again in two
    passes: the first gathers every entry's totals, the second shares each entry's MPF
    among its rows wherever they are (:mod:`~tariffcalc.entry_fees`). An output that cannot
    be rewound (a pipe) is priced in two passes from the start if the file has entries."""

    def __init__(
        self,
        schedule: Schedule,
        scenario: str | None,
        table: InputTable,
        default_date: date,
        chunk_bytes: int = CHUNK_BYTES,
        progress: Callable[[int], None] | None = None,
        warning_style: str = "codes",
    ) -> None:
        """``table``: the file opened by :func:`~tariffcalc.tables.open_input`;
        ``chunk_bytes``: about how much of it is priced at a time; ``progress`` is told the
        bytes of the file priced and written so far, after each part; ``warning_style`` how
        rows carry their warnings (codes or text)."""
        self.schedule, self.scenario, self.table = schedule, scenario, table
        self.chunk_bytes, self.progress, self.warning_style = chunk_bytes, progress, warning_style
        self.default_date, self.header = default_date, table.header + result_columns(table.header)
        self.summary = BatchSummary(warning_style=warning_style)
        self.resolver = Resolver(schedule, scenario, warning_style)
        self._unreadable_days: dict[str, bool] = {}
        # Entries spread over the file: their totals (None: entries kept within parts), the
        # entries the engine prices, and the MPF handed out so far to entries still open.
        self.spread: EntryTotals | None = None
        self.book: EntryBook | None = None
        self.handed = pl.DataFrame(schema={"entry": pl.String, "handed": pl.Int64})

    def batches(self) -> Iterator[ColumnarBatch]:
        """The priced parts, each once (memory holds one part at a time); :class:`Declined`
        when an entry is spread over parts (see :meth:`spread_entries`)."""
        if self.spread is not None:
            yield from self._priced_in_two_passes()
        else:
            yield from self._priced()

    def spread_entries(self) -> None:
        """Price the file again from the start, in two passes (entries spread over parts)."""
        self.summary = BatchSummary(warning_style=self.warning_style)
        self.spread, self.book = EntryTotals(), None
        self.handed = self.handed.clear()

    def write_csv(self, stream: IO[Any], rows: int = _WRITE_ROWS) -> None:
        def write() -> None:
            csv_writer(stream).writerow([neutralize_formula(name) for name in self.header])
            batches = self.batches()
            while (batch := next(batches, None)) is not None:
                batch.write_csv_rows(stream, rows)
                del batch  # before the next part is priced: one part in memory at a time

        self._rewound_if_spread(stream, write)

    def write_parquet(self, stream: IO[bytes], rows: int = 100_000) -> None:
        """Row groups of ``rows`` rows (arrow copies each)."""
        import pyarrow.parquet as pq

        schema = parquet_schema(self.header)

        def write() -> None:
            with pq.ParquetWriter(stream, schema) as writer:
                batches = self.batches()
                while (batch := next(batches, None)) is not None:
                    for table in batch.parquet_tables(schema, rows):
                        writer.write_table(table)
                    del batch, table  # before the next part is priced

        self._rewound_if_spread(stream, write)

    def write_json(self, stream: IO[str], lines: bool, rows: int = _JSON_ROWS) -> None:
        """JSON Lines, or (``lines`` False) a JSON array of one row a line, as the row path."""
        buffer = getattr(stream, "buffer", None)
        keys = unique_names(self.header)

        def put(data: bytes) -> None:
            if buffer is not None:
                buffer.write(data)
            else:
                stream.write(data.decode("utf-8"))

        def write() -> None:
            written = False
            if not lines:
                put(b"[")
            batches = self.batches()
            while (batch := next(batches, None)) is not None:
                for data in batch.json_lines(keys, rows):
                    if not lines and data:
                        # A row's JSON holds no line break: each one ends a row.
                        data = (b",\n" if written else b"\n") + data[:-1].replace(b"\n", b",\n")
                        written = True
                    put(data)
                    del data
                del batch  # before the next part is priced
            if not lines:
                put(b"\n]\n" if written else b"]\n")
            if buffer is not None:
                buffer.flush()

        self._rewound_if_spread(stream, write)

    def _rewound_if_spread(self, stream: IO[Any], write: Callable[[], None]) -> None:
        """``write`` the output; if an entry turns out to be spread over parts, rewind
        ``stream`` to where it was and write it again from two passes."""
        stream.flush()
        target = getattr(stream, "buffer", stream)
        try:
            start = target.tell() if target.seekable() else None
        except (OSError, ValueError):
            start = None
        if start is None and "entry" in self.table.fields and self.spread is None:
            self.spread_entries()  # nothing written can be taken back: two passes now
        try:
            write()
        except Declined:
            if start is None:
                raise
            stream.flush()
            target.seek(start)
            target.truncate()
            self.spread_entries()
            write()

    def _priced_in_two_passes(self) -> Iterator[ColumnarBatch]:
        spread = self.spread
        assert spread is not None
        size = max(1, self.table.path.stat().st_size) if self.table.path else 1
        first_row = 0
        for part in read_parts(self.table, self.chunk_bytes):
            _Pricing(self, part.frame, first_row, 0, part.last).run()
            first_row += part.frame.height
            if self.progress is not None:
                self.progress(part.done // 2)
        spread.close()
        self.book = spread.book()
        yield from self._priced(lambda done: (size + done) // 2)

    def _entry_keys(self, frame: pl.DataFrame, entry: str, days: pl.Series | None) -> pl.Series:
        """Each row's entry as the entry scan reads it, "" for none; also "" for a row whose
        date cannot be read (ASCII, not a date): the scan leaves it out and it fails, so it
        takes no part in its entry, wherever it is in the file."""
        keys = strip_cells(frame.get_column(entry).fill_null(""))
        if days is None:
            return keys
        unreadable = [text for text in days.unique().to_list() if self._unreadable_day(text)]
        if not unreadable:
            return keys
        return pl.select(
            pl.when(days.is_in(unreadable)).then(pl.lit("")).otherwise(keys).alias("key")
        ).to_series()

    def _unreadable_day(self, text: str) -> bool:
        if text not in self._unreadable_days:
            try:
                unreadable = (
                    bool(text)
                    and text.isascii()
                    and not parse_date(text, "date", self.table.cells.date_format)
                )
            except TariffError:
                unreadable = True
            self._unreadable_days[text] = unreadable
        return self._unreadable_days[text]

    def _priced(self, done: Callable[[int], int] = int) -> Iterator[ColumnarBatch]:
        """The parts priced in one pass (``done``: the progress of a part's bytes)."""
        header, fields = self.table.header, self.table.fields
        entry = f"c{fields['entry']}" if "entry" in fields and self.spread is None else None
        day = f"c{fields['date']}" if "date" in fields else None
        first_row, first_line = 0, 1 + sum(name.count("\n") for name in header)
        seen = pl.DataFrame({"h": pl.Series([], dtype=pl.UInt64)})  # the entries written
        carry: pl.DataFrame | None = None  # rows of entries that may go on in the next part
        for part in read_parts(self.table, self.chunk_bytes):
            frame = part.frame
            if carry is not None:
                frame, carry = pl.concat([carry, frame], how="diagonal"), None
            if entry is not None and not (part.last and seen.height == 0):
                # The date cells as the entry scan reads them (None: no date column).
                days = None
                if day is not None:
                    days = frame.get_column(day).fill_null("").str.strip_chars(ASCII_SPACE)
                keys = self._entry_keys(frame, entry, days)
                if not part.last:
                    cut = _open_entries_start(keys, days)
                    frame, carry, keys = frame.slice(0, cut), frame.slice(cut), keys.slice(0, cut)
                seen = _entries_once(keys, seen)
                del keys, days
            if frame.height:
                batch = _Pricing(self, frame, first_row, first_line, part.last).run()
                assert batch is not None
                yield batch
                del batch
                first_row += frame.height
                if len(self.summary.first_errors) < FIRST_ERRORS:  # lines only for messages
                    first_line += frame.height + line_breaks(frame.select(_inputs(frame)))
            del frame
            if self.progress is not None:
                self.progress(done(part.done))


def _open_entries_start(keys: pl.Series, days: pl.Series | None) -> int:
    """Where the rows that go with the next part start (the part's height: none), so that no
    entry that may go on in the next part is priced in this one. Those are the entries of the
    last row's entry date (an entry's rows share one date: in a file in date order every other
    entry is complete) with every row from the first row of any of them: a tail of the part.
    When that is more than half the part (most rows of one date, or no date column), only the
    last entry's own rows go on, as a file in entry order needs. ``keys``: each row's entry
    (see :meth:`ColumnarFile._entry_keys`); ``days``: its date cell, stripped. An entry that
    still goes on in a later part sends the file to the row path (:func:`_entries_once`)."""
    height = keys.len()
    cut = height if not height or not keys[-1] else _last_run(keys)
    if days is None or not height:
        return cut
    tail = _last_run(days)
    for _ in range(8):  # grow the tail to the first row of its entries (a few rounds at most)
        if tail < height // 2:
            return cut  # too much to carry: the last entry alone
        entries = keys.slice(tail).unique()
        begins = keys.is_in(entries.filter(entries != "").implode()).arg_true()
        if not begins.len() or begins[0] >= tail:
            return min(cut, tail)
        tail = int(begins[0])
    return cut


def _last_run(cells: pl.Series) -> int:
    """Where the last run of cells equal to the last one starts."""
    others = (cells != cells[-1]).arg_true()
    return int(others[-1]) + 1 if others.len() else 0


def _entries_once(keys: pl.Series, seen: pl.DataFrame) -> pl.DataFrame:
    """The entries seen so far (as 64-bit hashes in a sorted column ``h``), with those of this
    part's ``keys``; Declined when an entry of this part was in an earlier part. Two entries
    that share a hash count as one: the file then goes to the row path, which is only slower.
    A sorted merge and a binary search per part keep this linear in the file (membership of
    all the entries so far, hashed anew for each part, was quadratic: 21 of 67 s for 10
    million rows)."""
    hashes = keys.filter(keys != "").hash(seed=0).unique().sort()
    if seen.height and hashes.len():
        known = seen.get_column("h")
        at = known.search_sorted(hashes).clip(0, known.len() - 1)
        if (known.gather(at) == hashes).any():
            raise Declined
    return seen.merge_sorted(hashes.to_frame("h"), key="h")


def price_csv(
    schedule: Schedule,
    table: InputTable,
    *,
    default_date: date,
    scenario: str | None = None,
    chunk_bytes: int | None = None,
    progress: Callable[[int], None] | None = None,
    warning_style: str = "codes",
) -> ColumnarFile:
    """Price a CSV file as columns. ``table`` is the file opened by
    :func:`~tariffcalc.tables.open_input` (its header, column mapping and cell format; its
    rows are not read). The first part of the file is priced here; the others as they are
    written (which may raise :class:`Declined`). ``progress`` is told the bytes of the file
    done so far, after each part."""
    return ColumnarFile(
        schedule, scenario, table, default_date, chunk_bytes or CHUNK_BYTES, progress,
        warning_style,
    )  # fmt: skip


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


def _inputs(frame: pl.DataFrame) -> list[str]:
    """The columns of a part that hold the file's cells."""
    return [name for name in frame.columns if name.startswith("c")]


class _Pricing:
    """One part of a file priced as columns: distinct cells and keys resolved in Python (by
    the engine), the per-row arithmetic in polars queries. ``first_row`` rows and
    ``first_line`` lines of the file come before it; ``last``: the file ends with it."""

    def __init__(
        self, file: ColumnarFile, frame: pl.DataFrame, first_row: int, first_line: int,
        last: bool,
    ) -> None:  # fmt: skip
        self.file = file
        self.schedule, self.scenario, self.table = file.schedule, file.scenario, file.table
        self.default_date, self.resolver, self.summary = (
            file.default_date, file.resolver, file.summary
        )  # fmt: skip
        self.frame, self.first_row, self.first_line = frame, first_row, first_line
        self.last = last
        self.fields = self.table.fields
        self.defaults = dict(self.table.cells.defaults)

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

    def run(self) -> ColumnarBatch | None:
        thousands = self.table.cells.thousands

        def stripped(name: str) -> pl.Expr:
            return self.cell(name).str.strip_chars(ASCII_SPACE)

        # Cells read as ASCII (NFKC, which the row path applies, changes no ASCII text), or
        # as Japanese files write a mode, a date or the origin, which the engine's own
        # functions resolve once per distinct cell here as on the row path.
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
        # The cells as text are resolved: free them before the arithmetic.
        keys = self._terms(keys).drop("goods", "pair", "date_cell", "mode_cell", "key")
        numbers = self._amounts(keys)
        del keys
        if self.last and self.table.cut_off:
            # The file's last row has no line end: the engine prices it, with a warning.
            last = pl.int_range(pl.len()) == pl.len() - 1
            numbers = numbers.with_columns(pl.col("ok") & ~last)
        bad = numbers.select(pl.arg_where(~pl.col("ok"))).to_series().to_list()
        if "entry" in self.fields:
            inert, tainted, scanned = self._classify(bad)
            spread = self.file.spread
            if spread is None:
                numbers = entry_shares(numbers, inert, tainted)
            elif spread.totals is None:  # the first pass: the entries' totals only
                spread.add(numbers, self.first_row, inert, tainted, scanned)
                return None
            else:
                numbers, self.file.handed = spread_shares(
                    numbers, self.first_row, spread.totals, self.file.handed
                )
        alone = numbers.select(pl.arg_where(~pl.col("ok"))).to_series().to_list()
        return self._assemble(numbers, alone)

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
        self.dated_days: set[int] = set()
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
                fx_rate = probe_shipment(cells, None, self.table.cells).fx_rate
            except TariffError:
                numerators[pair] = places[pair] = None
                continue
            if fx_rate is None:
                numerators[pair], places[pair] = 1, 0
                continue
            exponent = fx_rate.as_tuple().exponent
            assert isinstance(exponent, int)
            shift = max(0, -exponent)
            numerator = int(fx_rate.scaleb(shift))
            if self.table.cells.fx_per_usd or numerator > _INT64_MAX:
                # A rate per dollar (--fx-per-usd) makes a value in dollars of 28 digits that
                # no whole number of cents' fractions holds: the engine prices such rows.
                numerators[pair] = places[pair] = None
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
        self.terms: list[Terms] = []
        index: dict[int, int | None] = {}
        for number in distinct:
            declared, when = divmod(number, 2**22)
            goods_id, flags = divmod(declared, 4)
            goods = dict(zip(GOODS_FIELDS, goods_texts[goods_id].split(_SEP), strict=True))
            on = date.fromordinal(when)
            terms = self.resolver.terms(
                goods, bool(flags & 2), bool(flags & 1), on, when in self.dated_days
            )
            if terms is None:
                index[number] = None
            else:
                index[number] = len(self.terms)
                self.terms.append(terms)
        self.width = max((len(t.lines) for t in self.terms), default=0)
        term = pl.col("key").replace_strict(index, default=None, return_dtype=pl.Int64)
        return keys.with_columns(term.alias("term"))

    def _term(self, values: list[Any], dtype: Any) -> pl.Expr:
        """Each row's value from its terms (null where it has none)."""
        return pl.lit(pl.Series(values, dtype=dtype)).gather(pl.col("term"))

    # --- the arithmetic, in whole cents

    def _amounts(self, keys: pl.DataFrame) -> pl.DataFrame:
        fee = self.schedule.fees
        terms = self.terms
        mpf: dict[int, tuple[int | None, ...]] = {}
        for when in keys.get_column("when").drop_nulls().unique().to_list():
            on = date.fromordinal(when)
            found = None if fee is None else mpf_terms(fee.mpf, on)
            rate = None if found is None else millionths(found[0])
            # Informal entries (fees.informal_mpf): largest value, chapter 99 threshold, flat.
            informal = None if fee is None else informal_terms(fee.mpf, on)
            small = (None, None, None) if informal is None else (
                int(informal[0] * 100), int(informal[1] * 100),
                None if informal[2] is None else int(informal[2] * 100),
            )  # fmt: skip
            if found is None or rate is None:
                mpf[when] = (None, None, None, *small)
            else:
                mpf[when] = (rate, int(found[1] * 100), int(found[2] * 100), *small)

        def by_when(k: int) -> pl.Expr:
            values = {when: parts[k] for when, parts in mpf.items()}
            return pl.col("when").replace_strict(values, default=None, return_dtype=pl.Int64)

        def to_cents(units: str) -> pl.Expr:
            scale = pl.lit(10, pl.Int64).pow(pl.col("fx_places") + 2)
            return (pl.col(units) * pl.col("fx_num") + scale // 2) // scale

        # Each stage keeps only what the next needs: a million rows of a column is 8 MB.
        query = keys.lazy().select(
            "plain", "term", "mode_ok", "value_units", "fx_num", "content_units", "metal", "day",
            "entry", "hmf_rate",
            to_cents("value_units").alias("cv"),
            pl.when(pl.col("metal")).then(to_cents("content_units")).otherwise(0).alias("content"),
            by_when(0).alias("mpf_rate"),
            by_when(1).alias("mpf_low"),
            by_when(2).alias("mpf_high"),
            by_when(3).alias("informal_max"),
            by_when(4).alias("informal_over"),
            by_when(5).alias("informal_flat"),
            self._term([int(bool(t.lines)) for t in terms], pl.Int64).alias("chapter_99"),
            self._term([t.category for t in terms], pl.Categorical).alias("category"),
            self._term([t.warnings for t in terms], pl.Categorical).alias("warnings"),
            self._term([t.mfn for t in terms], pl.Int64).alias("mfn"),
        )  # fmt: skip

        def line(j: int, k: int) -> pl.Expr:
            """Part k (rate, held, ieepa, of_value, of_content) of each row's line j."""
            return self._term([t.lines[j][k] if j < len(t.lines) else 0 for t in terms], pl.Int64)

        fits = pl.lit(_INT64_MAX) // pl.col("fx_num")
        ok = (
            pl.col("plain")
            & pl.col("term").is_not_null()
            & pl.col("mode_ok")
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
        cv, content = pl.col("cv"), pl.col("content")
        additional, on_hold, ieepa = pl.lit(0, pl.Int64), pl.lit(0, pl.Int64), pl.lit(0, pl.Int64)
        for j in range(self.width):
            basis = line(j, 3) * cv + line(j, 4) * content
            amount = cents_of(basis, line(j, 0))
            additional = additional + amount
            on_hold = on_hold + cents_of(basis, line(j, 1))
            ieepa = ieepa + amount * line(j, 2)
        query = query.select(
            ok.fill_null(False).alias("ok"),
            "cv",
            "day",
            "entry",
            "category",
            "warnings",
            "mpf_rate",
            "mpf_low",
            "mpf_high",
            "informal_max",
            "informal_over",
            "informal_flat",
            "chapter_99",
            cents_of(cv, pl.col("mfn")).alias("base_duty"),
            additional.alias("additional_duty"),
            on_hold.alias("on_hold_duty"),
            ieepa.alias("ieepa_duty"),
            cents_of(cv, pl.col("hmf_rate")).alias("hmf"),
        ).with_columns(  # fmt: skip
            (pl.col("base_duty") + pl.col("additional_duty")).alias("total_duty")
        )
        # The effective rate: total / value to 6 places, half-even (Decimal's quantize).
        scaled = pl.col("total_duty") * RATE_SCALE
        quotient, remainder = scaled // cv, scaled % cv
        up = (2 * remainder > cv) | ((2 * remainder == cv) & (quotient % 2 == 1))

        return query.with_columns(
            (quotient + up.cast(pl.Int64)).alias("effective_rate"), mpf_of(cv).alias("mpf")
        ).collect(engine="in-memory")

    # --- entries: one MPF per entry, shared among its rows

    def _classify(self, bad: list[int]) -> tuple[list[int], list[str], dict[int, int]]:
        """Of the rows the columnar path cannot price, those that name an entry: (the inert
        ones, the entries the others taint, the value in cents the entry scan counts for each
        of the others). A row is inert when the entry scan does not count
        it (its value, exchange rate or date cannot be read) and it fails: it then takes no part
        in its entry, as on the row path. An entry holding any other such row goes to the row
        path whole, so that its MPF is shared in one place."""
        # The entry as the row path reads it (Python's strip, which knows more spaces).
        position = self.fields["entry"]
        tainted: set[str] = set()
        scanned: dict[int, int] = {}
        uncounted, rows = [], []  # (row, entry), cells of the rows the entry scan leaves out
        for row, row_cells in zip(bad, cells_as_read(self.frame, bad), strict=True):
            key = (row_cells[position] if position < len(row_cells) else "").strip()
            if not key:
                continue
            line = entry_line(self.fields, row_cells, self.default_date, self.table.cells)
            if line is not None:
                tainted.add(key)  # counted in its entry: the entry is the engine's
                scanned[row] = int(line[2] * 100)
            else:
                uncounted.append((row, key))
                rows.append(row_cells)
        table = self.table
        alone = _subset(table, ((n + 1, 0, r) for n, r in enumerate(rows)), self.fields)
        status = RESULT_FIELDS.index("status")
        priced = price_rows(
            self.schedule, alone, BatchSummary(), default_date=self.default_date,
            scenario=self.scenario, plans=self.resolver.plans,
        )  # fmt: skip
        inert = []
        for (row, key), (_, _, results) in zip(uncounted, priced, strict=True):
            if results[status] == STATUS_ERROR:
                inert.append(row)
            else:
                tainted.add(key)
        return inert, sorted(tainted), scanned

    # --- the output

    def _assemble(self, numbers: pl.DataFrame, row_path: list[int]) -> ColumnarBatch:
        money = ("base_duty", "additional_duty", "total_duty", "on_hold_duty", "ieepa_duty",
                 "mpf", "hmf")  # fmt: skip
        ok = pl.col("ok")
        fees = pl.col("mpf") + pl.col("hmf").fill_null(0)
        landed = pl.col("cv") + pl.col("total_duty") + fees
        results = {
            "category": pl.col("category"),
            **{name: as_money(pl.col(name)) for name in money},
            "effective_rate": rate_text(pl.col("effective_rate")),
            "status": pl.lit(STATUS_OK),
            "error": pl.lit(None, pl.String),
            "total_fees": as_money(fees),
            "landed_cost": as_money(landed),
            "warnings": pl.col("warnings"),
        }
        names = [f"r{i}" for i in range(len(RESULT_FIELDS))]
        self._summary(numbers.lazy().filter(ok))
        # The row path's results, joined in by row number.
        row_results = self._price_row_path(names, row_path)
        # Money stays Decimal (the CSV writer prints it as format_money does: "1234.50");
        # the engine's categories and warnings stay categorical: both save memory and time.
        cast: dict[str, Any] = {"category": pl.Categorical, "warnings": pl.Categorical}
        cast.update(dict.fromkeys((*money, "total_fees", "landed_cost"), MONEY))
        cells = [
            pl.when(ok)
            .then(results[field])
            .otherwise(pl.col(f"{name}_row_path").cast(cast.get(field, pl.String)))
            .alias(name)
            for field, name in zip(RESULT_FIELDS, names, strict=True)
        ]
        numbers = numbers.with_row_index("row_index")
        return ColumnarBatch(self.frame.select(_inputs(self.frame)), numbers, row_results, cells)

    def _summary(self, priced: pl.LazyFrame) -> None:
        """Count the rows priced here into the file's summary."""
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
        for row in totals.collect().iter_rows(named=True):
            self.summary.rows += row["rows"]
            part = CategoryTotals(
                rows=row["rows"],
                customs_value=dollars(row["cv"]),
                base_duty=dollars(row["base_duty"]),
                base_unknown_rows=row["base_unknown"],
                additional_duty=dollars(row["additional_duty"]),
                on_hold_duty=dollars(row["on_hold_duty"]),
                ieepa_duty=dollars(row["ieepa_duty"]),
                total_fees=dollars(row["fees"]),
                fees_unknown_rows=row["fees_unknown"],
            )
            self.summary.by_category.setdefault(row["category"], CategoryTotals()).merge(part)
        warned = priced.group_by("warnings").agg(pl.len().alias("rows")).collect()
        for cell, rows in warned.iter_rows():
            self.summary.note(self.resolver.notices_of[cell], rows)

    def _price_row_path(self, names: list[str], row_path: list[int]) -> pl.DataFrame:
        """Price the rows the columnar path leaves alone with the row path, in file order:
        their row numbers (from 0) and result columns (``<name>_row_path``)."""
        picked = cells_as_read(self.frame, row_path)
        table = self.table

        def rows(lines: Iterator[int]) -> Iterator[tuple[int, int, list[str]]]:
            for index, line, cells in zip(row_path, lines, picked, strict=True):
                yield self.first_row + index + 1, line, cells

        entries = None
        if self.file.book is not None:  # entries spread over the file: their first pass's
            entries = self.file.book
        elif "entry" in self.fields:
            unread = iter([0] * len(row_path))  # the scan quotes no line
            scan = _subset(table, rows(unread), self.fields)
            entries = scan_entries(scan, self.default_date)
        lines = self._line_numbers(row_path)
        subset = _subset(table, rows(lines), self.fields)
        if self.last and table.cut_off and row_path and row_path[-1] == self.frame.height - 1:
            subset = replace(subset, cut_off=True)  # its last row is the file's
        results: list[list[str | None]] = []
        try:
            for _number, _inputs, cells in price_rows(
                self.schedule, subset, self.summary, default_date=self.default_date,
                scenario=self.scenario, entries=entries, plans=self.resolver.plans,
            ):  # fmt: skip
                results.append(cells)
        finally:
            if entries is not None and entries is not self.file.book:
                entries.close()
        columns = {"row_index": pl.Series(row_path, dtype=pl.UInt32)}
        for k, name in enumerate(names):
            columns[f"{name}_row_path"] = pl.Series(
                [cells[k] for cells in results], dtype=pl.String
            )
        return pl.DataFrame(columns)

    def _line_numbers(self, rows: list[int]) -> Iterator[int]:
        """The line on which each of ``rows`` ends in the file, as Python's csv module counts:
        the header's lines, then each row's, a line break in a quoted cell adding one. Lines
        appear only in the summary's first errors, so once it has them all, 0 is given."""
        read = self.frame.get_column("line") if "line" in self.frame.columns else None
        inputs = self.frame.select(_inputs(self.frame))
        counted = self.first_line
        done = 0  # rows counted so far
        for row in rows:
            if len(self.summary.first_errors) >= FIRST_ERRORS:
                yield 0
                continue
            if read is not None and read[row] is not None:  # read by Python's csv module
                yield read[row]
                continue
            span = inputs.slice(done, row + 1 - done)
            counted += span.height + line_breaks(span)
            done = row + 1
            yield counted


def _subset(
    table: InputTable, rows: Iterator[tuple[int, int, list[str]]], fields: dict[str, int]
) -> InputTable:
    """Some rows of ``table``, read as it reads its own (its cell format, its file)."""
    return replace(table, rows=rows, fields=fields, cut_off=False)


def _ungrouped(text: pl.Expr, separator: str | None) -> pl.Expr:
    """Amounts grouped by thousands (--thousands) as plain ones, as
    :func:`~tariffcalc.shipment.parse_amount_cell` reads them: a cell grouped as it must be
    loses its separators (and "." grouping makes "," the decimal point); any other cell is left
    as it is, for the row path to refuse if it must."""
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
    """A plain amount (up to 12 digits and 4 decimals) in ten-thousandths; null otherwise."""
    point = text.str.find(".", literal=True)
    places = pl.when(point.is_null()).then(0).otherwise(text.str.len_bytes() - point - 1)
    digits = text.str.replace(".", "", literal=True).cast(pl.Int64, strict=False)
    units = digits * pl.lit(10, pl.Int64).pow(4 - places.cast(pl.Int64))
    return pl.when(text.str.contains(_AMOUNT)).then(units).otherwise(None)


__all__ = ["CHUNK_BYTES", "ColumnarFile", "Declined", "price_csv", "pricing_dates"]
