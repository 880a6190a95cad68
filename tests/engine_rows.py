"""The tests' oracle for a batch: every row of a file priced alone by the engine
(:func:`tariffcalc.batch.price_rows`, each entry's MPF shared by the entry scan's totals) and
written one row at a time with Python's csv and json modules and pyarrow, independently of
the batch's own writing of columns. The batch must give these bytes and this summary."""

from __future__ import annotations

import json
from datetime import date
from typing import IO, Any

from tariffcalc.batch import BatchSummary, price_rows
from tariffcalc.entries import EntryBook, scan_entries
from tariffcalc.errors import InputError
from tariffcalc.outputs import (
    csv_writer,
    neutralize_formula,
    parquet_schema,
    result_columns,
    unique_names,
)
from tariffcalc.rules import Schedule
from tariffcalc.tables import InputTable, open_input


class RowWriter:
    """Writes output rows as CSV, a JSON array, JSON Lines or Parquet, one row at a time
    (Parquet in batches of rows), so that memory does not grow with the file."""

    def __init__(self, stream: IO[Any], fmt: str, columns: list[str]) -> None:
        self.stream, self.fmt, self.columns, self.count = stream, fmt, columns, 0
        self._keys = unique_names(columns)  # JSON: a name the input repeats must not hide a cell
        if fmt == "csv":
            self._csv = csv_writer(stream)
            self._csv.writerow([neutralize_formula(c) for c in columns])
        elif fmt == "json":
            stream.write("[")
        elif fmt == "parquet":
            try:
                import pyarrow as pa
                import pyarrow.parquet as pq
            except ImportError:
                raise InputError(
                    "--format parquet: needs pyarrow (pip install 'tariffcalc[parquet]')"
                ) from None
            self._pa = pa
            self._schema = parquet_schema(columns)
            self._parquet = pq.ParquetWriter(stream, self._schema)
            self._batch: list[list[str | None]] = []

    def write(self, values: list[str | None]) -> None:
        if self.fmt == "csv":
            self._csv.writerow(["" if v is None else neutralize_formula(v) for v in values])
        elif self.fmt == "parquet":
            self._batch.append(values)
            if len(self._batch) >= 50_000:
                self._flush()
        else:
            record = json.dumps(
                dict(zip(self._keys, values, strict=True)),
                ensure_ascii=False,
                separators=(",", ":"),
            )
            if self.fmt == "jsonl":
                self.stream.write(record + "\n")
            else:
                self.stream.write(("\n" if self.count == 0 else ",\n") + record)
        self.count += 1

    def _flush(self) -> None:
        if self._batch:
            arrays = [
                self._pa.array(list(column), self._pa.string())
                for column in zip(*self._batch, strict=True)
            ]
            self._parquet.write_batch(self._pa.record_batch(arrays, schema=self._schema))
            self._batch = []

    def close(self) -> None:
        if self.fmt == "json":
            self.stream.write("\n]\n" if self.count else "]\n")
        elif self.fmt == "parquet":
            self._flush()
            self._parquet.close()




def price_table(
    schedule: Schedule,
    table: InputTable,
    out: IO[Any],
    *,
    fmt: str = "csv",
    default_date: date,
    scenario: str | None = None,
    entries: EntryBook | None = None,
    warning_style: str = "codes",
) -> BatchSummary:
    """Every row of ``table`` priced by the engine alone and written to ``out``, in order
    (``entries``: the entry scan of the same file)."""
    schedule.scenario(scenario)
    header = table.header
    writer = RowWriter(out, fmt, header + result_columns(header))
    summary = BatchSummary(warning_style=warning_style)
    rows = price_rows(
        schedule, table, summary, default_date=default_date, scenario=scenario, entries=entries
    )
    for _number, inputs, results in rows:
        writer.write(inputs + results)
    writer.close()
    return summary


def price_file(schedule: Schedule, path, out: IO[Any], *, fmt: str = "csv",
               default_date: date, scenario: str | None = None, encoding: str = "utf-8-sig",
               **opened: Any) -> BatchSummary:  # fmt: skip
    """The oracle for a whole file: its entries scanned first, then every row priced alone."""
    entries = None
    with open_input(path, encoding, **opened) as table:
        if "entry" in table.fields:
            entries = scan_entries(table, default_date)
    with open_input(path, encoding, **opened) as table:
        return price_table(
            schedule, table, out, fmt=fmt, default_date=default_date, scenario=scenario,
            entries=entries,
        )  # fmt: skip
