"""The rows of a part of a batch file that the engine prices alone, one by one (their errors
are its messages): a row whose cells are not plain, a row the columns cannot price, and every
row of an entry that holds such a row, so that the entry's MPF is shared in one place."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import polars as pl

from .batch import FIRST_ERRORS, STATUS_ERROR, BatchSummary, price_rows
from .engine import PricingPlan
from .entries import EntryBook, entry_line, scan_entries
from .outputs import RESULT_FIELDS
from .reader import cells_as_read, input_columns, line_breaks
from .rules import Schedule
from .tables import InputTable


class RowsAlone:
    """The engine's rows of one part: ``first_row`` rows and ``first_line`` lines of the file
    come before it; ``last``: the file ends with it; ``book``: the entries of a file whose
    entries are spread over its parts (None: the part's own entries are complete)."""

    def __init__(
        self, schedule: Schedule, scenario: str | None, table: InputTable, default_date: date,
        plans: dict[tuple[object, ...], PricingPlan], summary: BatchSummary,
        frame: pl.DataFrame, first_row: int, first_line: int, last: bool,
        book: EntryBook | None,
    ) -> None:  # fmt: skip
        self.schedule, self.scenario, self.table = schedule, scenario, table
        self.default_date, self.plans, self.summary = default_date, plans, summary
        self.frame, self.first_row, self.first_line = frame, first_row, first_line
        self.last, self.book = last, book
        self.fields = table.fields

    def classify(self, bad: list[int]) -> tuple[list[int], list[str], dict[int, int], list[int]]:
        """Of the rows the columns cannot price, those that name an entry: (the inert ones, the
        entries the others taint, the value in cents the entry scan counts for each row it
        counts, the failing ones). Each is priced alone by the engine here to know which:

        - inert: the entry scan does not count it (its value, exchange rate or date cannot be
          read) and it fails: it takes no part in its entry, as in the engine's entry scan;
        - failing: the scan counts it (its value is in the entry's) but the engine refuses it:
          it takes no share of the entry's MPF, so no row of the entry takes the remainder
          (each takes its share in proportion to its value, as EntryShares hands them out);
        - any other row taints its entry: the engine prices all the entry's rows, one by one,
          so that its MPF is shared in one place."""
        # The entry as the entry scan reads it (Python's strip, which knows more spaces).
        position = self.fields["entry"]
        tainted: set[str] = set()
        scanned: dict[int, int] = {}
        in_entries, rows = [], []  # (row, entry), cells of the bad rows in an entry
        for row, row_cells in zip(bad, cells_as_read(self.frame, bad), strict=True):
            key = (row_cells[position] if position < len(row_cells) else "").strip()
            if not key:
                continue
            line = entry_line(self.fields, row_cells, self.default_date, self.table.cells)
            if line is not None:
                scanned[row] = int(line[2] * 100)
            in_entries.append((row, key))
            rows.append(row_cells)
        table = self.table
        alone = _subset(table, ((n + 1, 0, r) for n, r in enumerate(rows)), self.fields)
        status = RESULT_FIELDS.index("status")
        priced = price_rows(
            self.schedule, alone, BatchSummary(), default_date=self.default_date,
            scenario=self.scenario, plans=self.plans,
        )  # fmt: skip
        inert, failing = [], []
        for (row, key), (_, _, results) in zip(in_entries, priced, strict=True):
            if results[status] != STATUS_ERROR:
                tainted.add(key)
            elif row in scanned:
                failing.append(row)
            else:
                inert.append(row)
        return inert, sorted(tainted), scanned, failing

    def price(self, names: list[str], row_path: list[int]) -> pl.DataFrame:
        """Price these rows (``row_path``, from 0 in the part) with the engine, one by one in
        file order: their row numbers and result columns (``<name>_row_path``), counted into
        the file's summary."""
        picked = cells_as_read(self.frame, row_path)
        table = self.table

        def rows(lines: Iterator[int]) -> Iterator[tuple[int, int, list[str]]]:
            for index, line, cells in zip(row_path, lines, picked, strict=True):
                yield self.first_row + index + 1, line, cells

        entries = None
        if self.book is not None:  # entries spread over the file: their first pass's
            entries = self.book
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
                scenario=self.scenario, entries=entries, plans=self.plans,
            ):  # fmt: skip
                results.append(cells)
        finally:
            if entries is not None and entries is not self.book:
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
        inputs = self.frame.select(input_columns(self.frame))
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
