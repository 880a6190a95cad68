"""The batch: a file of shipments priced as columns (polars), a part of the file at a time, for
speed on big files in bounded memory. It is the one way through a file, whatever its encoding,
shape or order (:mod:`~tariffcalc.reader` reads it), and gives the answer of the engine pricing
each row alone, because it asks the engine for the law and does only the arithmetic itself:

- Each distinct combination of goods, declarations and dated period is priced by the engine
  (:func:`~tariffcalc.engine.price_with_plan`) on probe values (:mod:`~tariffcalc.resolution`).
  Its quotes give each duty line's rate and what the line is charged on (the customs value,
  the declared metal content, or the value less that content, checked on several probes);
  rows only multiply and round, in whole cents with the engine's half-up rounding (half-even
  for the effective rate, as Decimal does) (:mod:`~tariffcalc.arithmetic`).
- The schedule's pricing can change only on a date the schedule names, or the day after one:
  rows dated between two such dates share one resolution (rows whose warnings name their own
  date, such as entries after the review date, are resolved date by date).
- A row the engine must see alone (a cell read outside ASCII, a declaration other than the
  metal content, an amount with more than 4 decimals, an exchange rate of more than 18
  digits, a line of more than 1,000,000,000 USD, a row the engine refuses...) is priced by it,
  one by one (:mod:`~tariffcalc.alone`), with the whole entry it belongs to, so that an
  entry's MPF is shared in one place. A bad row that its entry's scan does not count either
  (an unreadable value or date) takes no part in the entry, as the engine's own entry scan
  has it.
- The parts end at row ends, and an entry is kept within a part when it can be: the entries
  of a part's last entry date (from their first row), or its last entry, go with the next
  part, so files in entry order and in date order are priced in one pass. An entry found again
  in a later part sends the file to two passes (:class:`ColumnarFile`, :mod:`~tariffcalc.
  entry_fees`).

The tests price files both ways, this one and the engine's row by row (tests/engine_rows.py),
and compare the outputs byte for byte.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import date
from typing import IO, Any

import polars as pl

from .alone import RowsAlone
from .arithmetic import amounts
from .batch import FIRST_ERRORS, BatchSummary
from .entries import EntryBook
from .entry_fees import EntryTotals, entry_shares
from .errors import TariffError
from .outputs import csv_writer, neutralize_formula, parquet_schema, result_columns, unique_names
from .part_keys import PartKeys, strip_cells
from .priced_parts import ColumnarBatch, assemble, count_priced, result_names
from .reader import (
    ASCII_SPACE,
    CHUNK_BYTES,
    input_columns,
    line_breaks,
    read_ahead,
    read_parts,
)
from .resolution import Resolver, pricing_dates
from .rules import Schedule
from .shipment import parse_date
from .tables import InputTable

_WRITE_ROWS = 250_000  # rows of output made and written at a time (a part has about 500,000)
_JSON_ROWS = 50_000  # the same for JSON (each row's text is about 2.6 times as long)


class Declined(Exception):
    """An entry turned up again in a later part: the file is for two passes (see
    :class:`ColumnarFile`; raised while writing, and handled there)."""


class ColumnarFile:
    """A file priced as columns, a part at a time, each part written while the next is priced
    (memory holds those two parts).

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
        self._shown = self._rewound_at = 0  # the progress told so far; and at a rewind
        self.default_date, self.header = default_date, table.header + result_columns(table.header)
        self.summary = BatchSummary(warning_style=warning_style)
        self.resolver = Resolver(schedule, scenario, warning_style)
        self._unreadable_days: dict[str, bool] = {}  # date cells the entry scan cannot read
        # Entries spread over the file: their totals (None: entries kept within parts) and the
        # entries the engine prices.
        self.spread: EntryTotals | None = None
        self.book: EntryBook | None = None

    def batches(self) -> Generator[ColumnarBatch, None, None]:
        """The priced parts, each once, priced as they are asked for; :class:`Declined`
        when an entry is spread over parts (see :meth:`spread_entries`)."""
        if self.spread is not None:
            yield from self._priced_in_two_passes()
        else:
            yield from self._priced()

    def spread_entries(self) -> None:
        """Price the file again from the start, in two passes (entries spread over parts)."""
        self.summary = BatchSummary(warning_style=self.warning_style)
        self.spread, self.book = EntryTotals(), None
        self._rewound_at = self._shown  # the progress goes on from there, not back

    def write_csv(self, stream: IO[Any], rows: int = _WRITE_ROWS) -> None:
        def write() -> None:
            csv_writer(stream).writerow([neutralize_formula(name) for name in self.header])
            self._each_written(lambda batch: batch.write_csv_rows(stream, rows))

        self._rewound_if_spread(stream, write)

    def write_parquet(self, stream: IO[bytes], rows: int = 100_000) -> None:
        """Row groups of ``rows`` rows (arrow copies each)."""
        import pyarrow.parquet as pq

        schema = parquet_schema(self.header)

        def write() -> None:
            with pq.ParquetWriter(stream, schema) as writer:

                def write_part(batch: ColumnarBatch) -> None:
                    for table in batch.parquet_tables(schema, rows):
                        writer.write_table(table)
                        del table  # arrow's copy of a slice, before the next is made

                self._each_written(write_part)

        self._rewound_if_spread(stream, write)

    def write_json(self, stream: IO[str], lines: bool, rows: int = _JSON_ROWS) -> None:
        """JSON Lines, or (``lines`` False) a JSON array of one row a line."""
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

            def write_part(batch: ColumnarBatch) -> None:
                nonlocal written
                for data in batch.json_lines(keys, rows):
                    if not lines and data:
                        # A row's JSON holds no line break: each one ends a row.
                        data = (b",\n" if written else b"\n") + data[:-1].replace(b"\n", b",\n")
                        written = True
                    put(data)
                    del data

            self._each_written(write_part)
            if not lines:
                put(b"\n]\n" if written else b"]\n")
            if buffer is not None:
                buffer.flush()

        self._rewound_if_spread(stream, write)

    def _each_written(self, write: Callable[[ColumnarBatch], None]) -> None:
        """``write`` each priced part, in a thread of its own while the next part is priced
        (polars and arrow write without holding Python's lock: 1M rows 3.2 s -> 2.9 s on
        2 cores). Memory holds two parts: the one written and the one priced; the parts are
        written in order, one at a time, and an error of either ends the output."""
        with ThreadPoolExecutor(1, thread_name_prefix="tariffcalc-writer") as writer:
            writing: Future[None] | None = None
            batches = self.batches()
            try:
                while (batch := next(batches, None)) is not None:
                    if writing is not None:
                        writing.result()  # the part before, written (or its error raised)
                    writing = writer.submit(write, batch)
                    del batch  # the writer holds the part now, until it is written
                if writing is not None:
                    writing.result()
            finally:
                if writing is not None:
                    wait([writing])  # nothing written after this (a rewind, an error)
                batches.close()  # the file too (here: an interrupt meanwhile is reported)

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

    def _priced_in_two_passes(self) -> Generator[ColumnarBatch, None, None]:
        spread = self.spread
        assert spread is not None
        size = self._size()
        first_row = 0
        # (not read ahead, and closed here: see _priced)
        with contextlib.closing(read_parts(self.table, self.chunk_bytes)) as parts:
            for part in parts:
                _Pricing(self, part.frame, first_row, 0, part.last).run()
                first_row += part.frame.height
                self._tell(part.done // 2, size)
        spread.close()
        self.book = spread.book()
        yield from self._priced(lambda done: (size + done) // 2)

    def _size(self) -> int:
        """The file's bytes, as the progress counts them (1 if it has no path)."""
        return max(1, self.table.path.stat().st_size) if self.table.path else 1

    def _tell(self, done: int, size: int) -> None:
        """Tell the progress ``done`` bytes of ``size``; after a rewind, the rest of the
        bar from where it stood (it never goes back)."""
        if self.progress is not None:
            self._shown = self._rewound_at + (size - self._rewound_at) * done // size
            self.progress(self._shown)

    def _priced(
        self, done: Callable[[int], int] = int
    ) -> Generator[ColumnarBatch, None, None]:
        """The parts priced in one pass (``done``: the progress of a part's bytes)."""
        header, fields = self.table.header, self.table.fields
        entry = f"c{fields['entry']}" if "entry" in fields and self.spread is None else None
        day = f"c{fields['date']}" if "date" in fields else None
        first_row, first_line = 0, 1 + sum(name.count("\n") for name in header)
        written = _EntriesWritten()
        carry: pl.DataFrame | None = None  # rows of entries that may go on in the next part
        parts, size = read_parts(self.table, self.chunk_bytes), self._size()
        # Read ahead, except in two passes, which hold every entry's totals as well (10M
        # shuffled rows, 4.6M entries: 1.14 GB read ahead, 1.02 GB not).
        if self.spread is None:
            parts = read_ahead(parts)
        # Closed here, not by the garbage collector: an interrupt while it closes is then
        # reported as one, not printed as an exception ignored.
        with contextlib.closing(parts):
            for part in parts:
                frame = part.frame
                if carry is not None:
                    frame, carry = pl.concat([carry, frame], how="diagonal"), None
                if entry is not None and not (part.last and not written.runs):
                    # The date cells as the entry scan reads them (None: no date column).
                    days = None
                    if day is not None:
                        days = frame.get_column(day).fill_null("").str.strip_chars(ASCII_SPACE)
                    keys = _entry_keys(frame, entry, days, self._unreadable_days, self.table)
                    if not part.last:
                        cut = _open_entries_start(keys, days)
                        frame, carry = frame.slice(0, cut), frame.slice(cut)
                        keys = keys.slice(0, cut)
                    written.add(keys)
                    del keys, days
                if frame.height:
                    batch = _Pricing(self, frame, first_row, first_line, part.last).run()
                    assert batch is not None
                    yield batch
                    del batch
                    first_row += frame.height
                    if len(self.summary.first_errors) < FIRST_ERRORS:  # lines only for messages
                        breaks = line_breaks(frame.select(input_columns(frame)))
                        first_line += frame.height + breaks
                del frame
                self._tell(done(part.done), size)


def _entry_keys(
    frame: pl.DataFrame, entry: str, days: pl.Series | None, unreadable_days: dict[str, bool],
    table: InputTable,
) -> pl.Series:  # fmt: skip
    """Each row's entry as the entry scan reads it, "" for none; also "" for a row whose date
    cannot be read (ASCII, not a date): the scan leaves it out and it fails, so it takes no
    part in its entry, wherever it is in the file. ``unreadable_days``: the date cells seen so
    far, and whether the scan cannot read them."""
    keys = strip_cells(frame.get_column(entry).fill_null(""))
    if days is None:
        return keys
    cells = days.unique().to_list()
    for text in cells:
        if text not in unreadable_days:
            try:
                unreadable = (
                    bool(text)
                    and text.isascii()
                    and not parse_date(text, "date", table.cells.date_format)
                )
            except TariffError:
                unreadable = True
            unreadable_days[text] = unreadable
    unreadable_cells = [text for text in cells if unreadable_days[text]]
    if not unreadable_cells:
        return keys
    return pl.select(
        pl.when(days.is_in(unreadable_cells)).then(pl.lit("")).otherwise(keys).alias("key")
    ).to_series()


def _open_entries_start(keys: pl.Series, days: pl.Series | None) -> int:
    """Where the rows that go with the next part start (the part's height: none), so that no
    entry that may go on in the next part is priced in this one. Those are the entries of the
    last row's entry date (an entry's rows share one date: in a file in date order every other
    entry is complete) with every row from the first row of any of them: a tail of the part.
    When that is more than half the part (most rows of one date, or no date column), only the
    last entry's own rows go on, as a file in entry order needs. ``keys``: each row's entry
    (see :func:`_entry_keys`); ``days``: its date cell, stripped. An entry that
    still goes on in a later part sends the file to two passes (:class:`_EntriesWritten`)."""
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


class _EntriesWritten:
    """The entries of the parts priced so far, as 64-bit hashes in sorted runs; a run is
    merged with the one before it when that one is no longer, as a binary counter carries,
    so that a part costs about its own size times the log of the number of parts. (One sorted
    column of every entry, merged anew with each part, took 3.6 s of 28 for 10M rows; each
    part's entries looked up among all the entries hashed anew, 21 s of 67.) Two entries that
    share a hash count as one: the file then takes two passes, which is only slower."""

    def __init__(self) -> None:
        self.runs: list[pl.Series] = []

    def add(self, keys: pl.Series) -> None:
        """A part's entries (its rows' ``keys``, "" for none); :class:`Declined` when one of
        them was in an earlier part."""
        hashes = keys.filter(keys != "").hash(seed=0).unique().sort()
        if not hashes.len():
            return
        for run in self.runs:
            at = run.search_sorted(hashes).clip(0, run.len() - 1)
            if (run.gather(at) == hashes).any():
                raise Declined
        self.runs.append(hashes)
        while len(self.runs) > 1 and self.runs[-2].len() <= self.runs[-1].len():
            last, before = self.runs.pop().to_frame("h"), self.runs.pop().to_frame("h")
            self.runs.append(before.merge_sorted(last, key="h").get_column("h"))


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
    """A file of shipments to price: ``table`` is the file opened by
    :func:`~tariffcalc.tables.open_input` (its header, column mapping and cell format; its
    rows are not read). The parts are priced as they are written (``write_csv``,
    ``write_json``, ``write_parquet``; two passes if its entries are spread over its parts);
    ``progress`` is told the bytes of the file done so far, after each part."""
    return ColumnarFile(
        schedule, scenario, table, default_date, chunk_bytes or CHUNK_BYTES, progress,
        warning_style,
    )  # fmt: skip


class _Pricing:
    """One part of a file priced: its cells read into keys, each distinct key resolved by the
    engine (:mod:`~tariffcalc.part_keys`), the arithmetic on all rows in polars
    (:mod:`~tariffcalc.arithmetic`), entries' MPF shared (:mod:`~tariffcalc.entry_fees`), and
    the rows the engine must see alone priced by it (:mod:`~tariffcalc.alone`)."""

    def __init__(
        self, file: ColumnarFile, frame: pl.DataFrame, first_row: int, first_line: int,
        last: bool,
    ) -> None:  # fmt: skip
        self.file, self.frame, self.first_row, self.last = file, frame, first_row, last
        self.alone = RowsAlone(
            file.schedule, file.scenario, file.table, file.default_date, file.resolver.plans,
            file.summary, frame, first_row, first_line, last, file.book,
        )  # fmt: skip

    def run(self) -> ColumnarBatch | None:
        """The part priced (None in the first of two passes: the entries' totals only)."""
        file = self.file
        read = PartKeys(file.schedule, file.table, self.frame, file.resolver, file.default_date)
        keys = read.read()
        first_pass = file.spread is not None and file.spread.totals is None
        numbers = amounts(
            keys, read.terms, read.width, file.schedule, file.table.cells.fx_per_usd, first_pass
        )
        del keys
        if self.last and file.table.cut_off:
            # The file's last row has no line end: the engine prices it, with a warning.
            last = pl.int_range(pl.len()) == pl.len() - 1
            numbers = numbers.with_columns(pl.col("ok") & ~last)
        bad = numbers.select(pl.arg_where(~pl.col("ok"))).to_series().to_list()
        if "entry" in file.table.fields:
            inert, tainted, scanned, failing = self.alone.classify(bad)
            spread = file.spread
            if spread is None:
                numbers = entry_shares(numbers, inert, tainted, scanned, failing)
            elif first_pass:  # the entries' totals only
                spread.add(numbers, self.first_row, inert, tainted, scanned, failing)
                return None
            else:
                numbers = spread.shares(numbers, self.first_row, inert)
        count_priced(file.summary, numbers, file.resolver.notices_of)
        alone = numbers.select(pl.arg_where(~pl.col("ok"))).to_series().to_list()
        row_results = self.alone.price(result_names(), alone)
        inputs = self.frame.select(input_columns(self.frame))
        return assemble(inputs, numbers, row_results)


__all__ = ["CHUNK_BYTES", "ColumnarFile", "Declined", "price_csv", "pricing_dates"]
