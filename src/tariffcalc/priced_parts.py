"""A part of a batch file, priced: its input cells, each row's numbers, the results of the rows
the engine priced alone, and how its result cells are written (CSV as Python's csv module
writes it, Parquet and JSON with every cell as text)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

import polars as pl

from .batch import STATUS_OK, BatchSummary, CategoryTotals
from .outputs import FORMULA_MARKS, RESULT_FIELDS, neutralize_formula

# A cell that starts as a formula would (neutralize_formula says which are left alone).
_RISKY = "^[" + "".join(f"\\x{ord(mark):02x}" for mark in sorted(FORMULA_MARKS)) + "]"


@dataclass
class ColumnarBatch:
    """A priced part of a file, ready to write: its input cells, the numbers of each row, the
    results of the rows the engine priced alone, and the expressions of the result cells."""

    inputs: pl.DataFrame
    numbers: pl.DataFrame  # with row_index
    row_results: pl.DataFrame  # row_index and <result>_row_path cells
    cells: list[pl.Expr]

    def cells_names(self) -> list[str]:
        return [cell.meta.output_name() for cell in self.cells]

    def parts(self, rows: int) -> Iterator[pl.DataFrame]:
        """The output, a slice of rows at a time (its result cells exist only while written)."""
        for start in range(0, self.inputs.height, rows):
            numbers = self.numbers.slice(start, rows).lazy()
            results = numbers.join(
                self.row_results.lazy(), on="row_index", how="left", maintain_order="left"
            ).select(self.cells)
            yield pl.concat(
                [self.inputs.slice(start, rows), results.collect(engine="in-memory")],
                how="horizontal",
            )

    def write_csv_rows(self, stream: IO[Any], rows: int) -> None:
        """The rows as Python's CSV writer writes them (formula cells neutralised,
        minimal quoting, empty cells empty, "\n" line ends), ``rows`` at a time."""
        buffer = getattr(stream, "buffer", None)
        if buffer is not None:
            stream.flush()
        # The input cells are looked at once, the result cells a part at a time (money and
        # rates never start a formula and are never empty strings).
        inputs = _rewrites(self.inputs, self.inputs.columns)
        results = [name for name in self.cells_names() if name not in _NUMERIC_RESULTS]
        for part in self.parts(rows):
            rewrites = [*inputs, *_rewrites(part, results)]
            part = part.with_columns(rewrite for rewrite in rewrites if rewrite is not None)
            if buffer is not None:
                part.write_csv(buffer, include_header=False, line_terminator="\n", null_value="")
            else:
                stream.write(part.write_csv(None, include_header=False, line_terminator="\n"))
        if buffer is not None:
            buffer.flush()

    def text_parts(self, rows: int) -> Iterator[pl.DataFrame]:
        """The rows as Parquet and JSON have them: every column text,
        the input cells as read ("" when empty), results null where they have no value."""
        for part in self.parts(rows):
            yield part.select(
                *(pl.col(name).fill_null("") for name in self.inputs.columns),
                *(pl.col(name).cast(pl.String) for name in self.cells_names()),
            )

    def parquet_tables(self, schema: Any, rows: int) -> Iterator[Any]:
        import pyarrow as pa

        for text in self.text_parts(rows):
            columns = [column.cast(pa.string()) for column in text.to_arrow().columns]
            yield pa.Table.from_arrays(columns, schema=schema)

    def json_lines(self, keys: list[str], rows: int) -> Iterator[bytes]:
        """The rows as JSON Lines, as ``json.dumps`` writes each row (compact
        separators, not ASCII-escaped), UTF-8, ``rows`` at a time."""
        for text in self.text_parts(rows):
            out = io.BytesIO()
            text.rename(dict(zip(text.columns, keys, strict=True))).write_ndjson(out)
            yield out.getvalue()


_NUMERIC_RESULTS = frozenset(
    f"r{i}" for i, name in enumerate(RESULT_FIELDS) if name not in ("category", "error", "warnings")
)


def _rewrites(frame: pl.DataFrame, names: list[str]) -> list[pl.Expr | None]:
    """The columns ``names`` as the CSV writer must write them: "" as an empty cell (not a
    quoted empty string), a cell a spreadsheet would run as a formula prefixed with '; None
    for a column written as it is. The text columns are looked at in one pass."""
    schema = frame.schema  # once: each look at it walks every column (10,000 columns: minutes)
    text = [name for name in names if schema[name] == pl.String]
    looked = frame.select(
        *(pl.col(name).str.contains(_RISKY).any().alias(f"risky {name}") for name in text),
        *((pl.col(name) == "").any().alias(f"empty {name}") for name in text),
    ).row(0, named=True)
    rewrites = []
    for name in names:
        cells = frame.get_column(name)
        if name in text:
            risky = looked[f"risky {name}"]
            starts = cells.filter(cells.str.contains(_RISKY)).unique().to_list() if risky else []
            rewrites.append(_rewrite(pl.col(name), starts, bool(looked[f"empty {name}"])))
        else:  # categorical: few distinct values (the engine's categories, warnings)
            distinct = cells.unique().drop_nulls().to_list()
            rewrites.append(_rewrite(pl.col(name).cast(pl.String), distinct, "" in distinct))
    return rewrites


def _rewrite(column: pl.Expr, cells: list[str], empty: bool) -> pl.Expr | None:
    """``column`` with those of its ``cells`` that would run as a formula neutralised and, if
    it has ``empty`` strings, these as null; None when nothing changes."""
    name = column.meta.output_name()
    changed = {cell: neutralize_formula(cell) for cell in cells}
    changed = {cell: safe for cell, safe in changed.items() if safe != cell}
    if not changed and not empty:
        return None
    if changed:
        column = column.replace(changed)
    if empty:
        column = pl.when(column == "").then(None).otherwise(column)
    return column.alias(name)


MONEY = pl.Decimal(38, 2)


def as_money(cents: pl.Expr) -> pl.Expr:
    """Cents as a Decimal of 2 places, which polars writes as format_money does: "1234.50"."""
    return cents.cast(pl.Decimal(38, 0)) * pl.lit(_CENT, MONEY)


def rate_text(millionths: pl.Expr) -> pl.Expr:
    """A rate in millionths as format_rate writes it: no trailing zeros, "0" for zero."""
    text = (millionths.cast(pl.Decimal(38, 0)) * pl.lit(_MILLIONTH, pl.Decimal(38, 6))).cast(
        pl.String
    )
    return text.str.strip_chars_end("0").str.strip_chars_end(".")


_CENT = Decimal("0.01")
_MILLIONTH = Decimal("0.000001")


def dollars(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def result_names() -> list[str]:
    """The result columns' names in a priced part (r0, r1, ...: an input may hold any name)."""
    return [f"r{i}" for i in range(len(RESULT_FIELDS))]


def assemble(
    inputs: pl.DataFrame, numbers: pl.DataFrame, row_results: pl.DataFrame
) -> ColumnarBatch:
    """A part priced: its ``inputs`` (the file's cells), each row's ``numbers``
    (:func:`~tariffcalc.arithmetic.amounts`) and the results of the rows the engine priced
    alone (``row_results``: ``row_index`` and ``<result>_row_path`` cells)."""
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
    names = result_names()
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
    # Only what the cells are made of is kept while the part waits to be written.
    made_of = {name for cell in cells for name in cell.meta.root_names()}
    numbers = numbers.select(name for name in numbers.columns if name in made_of)
    return ColumnarBatch(inputs, numbers.with_row_index("row_index"), row_results, cells)


def count_priced(
    summary: BatchSummary, numbers: pl.DataFrame, notices_of: dict[str | None, tuple[str, ...]]
) -> None:
    """Count the rows priced as columns (``ok``) into the file's ``summary`` (``notices_of``:
    the warnings each warnings cell stands for)."""
    priced = numbers.lazy().filter(pl.col("ok"))
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
        summary.rows += row["rows"]
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
        summary.by_category.setdefault(row["category"], CategoryTotals()).merge(part)
    warned = priced.group_by("warnings").agg(pl.len().alias("rows")).collect()
    for cell, rows in warned.iter_rows():
        summary.note(notices_of[cell], rows)
