"""Workbooks in and out, for users who live in Excel: a sheet read as the CSV the batch reads
(so it is priced by the same pipeline), and the batch's results written as a workbook with
money and rates as numbers and the summary on a second sheet.

Needs the ``excel`` extra (fastexcel to read, xlsxwriter to write), imported only when a
workbook is read or written.
"""

from __future__ import annotations

import csv
import importlib
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import ModuleType
from typing import Any

from .errors import InputError, quoted
from .outputs import FORMULA_MARKS, RESULT_FIELDS, atomic_output, result_columns

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
# The result columns that hold money and rates: numbers in a workbook, not text.
MONEY_RESULTS = frozenset(
    ("base_duty", "additional_duty", "total_duty", "on_hold_duty", "ieepa_duty", "mpf", "hmf",
     "total_fees", "landed_cost")
)  # fmt: skip
RATE_RESULTS = frozenset(("effective_rate",))
_MIDNIGHT = r"^(\d{4}-\d{2}-\d{2})[ T]00:00:00(?:\.0+)?$"


def is_workbook(path: Path) -> bool:
    return path.suffix.lower() in WORKBOOK_SUFFIXES


def _needs(module: str, what: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise InputError(
            f"{what} needs the excel extra: pip install 'tariffcalc[excel]' ({module} is "
            "missing)"
        ) from None


def sheet_as_csv(path: Path, sheet: str | None, target: Path) -> str:
    """Write one sheet of the workbook ``path`` (the first, or the one named ``sheet``) to
    ``target`` as UTF-8 CSV, every cell as text (a date cell at midnight as YYYY-MM-DD), and
    return what messages call it ("file.xlsx, sheet 出荷")."""
    fastexcel = _needs("fastexcel", f"reading {path.name}")
    import polars as pl

    try:
        reader = fastexcel.read_excel(str(path))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except Exception as exc:  # fastexcel's own errors: not a workbook, damaged...
        raise InputError(f"{path}: cannot be read as a workbook ({_first_line(exc)})") from None
    names = list(reader.sheet_names)
    if not names:
        raise InputError(f"{path}: the workbook has no sheet")
    if sheet is None:
        chosen = names[0]
    elif sheet in names:
        chosen = sheet
    else:
        raise InputError(
            f"--sheet {sheet}: {path.name} has no such sheet; sheets: {', '.join(names)}"
        )
    try:
        frame = reader.load_sheet(chosen, dtypes="string").to_polars()
    except Exception as exc:
        raise InputError(f"{path}, sheet {chosen}: cannot be read ({_first_line(exc)})") from None
    frame = frame.with_columns(pl.col(name).str.replace(_MIDNIGHT, "$1") for name in frame.columns)
    frame.write_csv(target, null_value="")
    return f"{path}, sheet {chosen}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return quoted(text[0], 200)[1:-1] if text else type(exc).__name__


def write_results_workbook(
    results_csv: Path,
    target: Path,
    summary: Sequence[Sequence[Any]],
    stamp: Iterable[tuple[str, str]],
) -> None:
    """The batch's CSV output ``results_csv`` as a workbook at ``target`` (written whole or not
    at all): sheet "results" with the input columns as text and the money and rate results as
    numbers; sheet "summary" with the ``summary`` rows (a header row first) and the audit
    ``stamp``."""
    xlsxwriter = _needs("xlsxwriter", f"writing {target.name}")
    with results_csv.open(newline="", encoding="utf-8-sig") as handle:
        rows = csv.reader(handle)
        header = next(rows, [])
        results = result_columns(header[: len(header) - len(RESULT_FIELDS)])
        typed = {
            position: name
            for position, name in enumerate(header)
            if position >= len(header) - len(RESULT_FIELDS)
            and RESULT_FIELDS[results.index(name)] in MONEY_RESULTS | RATE_RESULTS
        }
        with atomic_output(target, binary=True) as stream:
            book = xlsxwriter.Workbook(stream, {"constant_memory": True, "in_memory": True})
            bold = book.add_format({"bold": True})
            money = book.add_format({"num_format": "#,##0.00"})
            rate = book.add_format({"num_format": "0.00%"})
            sheet = book.add_worksheet("results")
            sheet.write_row(0, 0, header, bold)
            for number, cells in enumerate(rows, start=1):
                for position, cell in enumerate(cells):
                    name = typed.get(position)
                    amount = _number(cell) if name is not None else None
                    if amount is not None:
                        kind = RESULT_FIELDS[results.index(name)]  # type: ignore[arg-type]
                        sheet.write_number(
                            number, position, amount, rate if kind in RATE_RESULTS else money
                        )
                    else:
                        sheet.write_string(number, position, _unguarded(cell))
            sheet.freeze_panes(1, 0)
            page = book.add_worksheet("summary")
            line = 0
            for line, values in enumerate(summary):
                for column, value in enumerate(values):
                    if isinstance(value, Decimal):
                        page.write_number(line, column, float(value), money)
                    elif isinstance(value, int):
                        page.write_number(line, column, value)
                    else:
                        page.write_string(line, column, str(value), bold if line == 0 else None)
            line += 2
            for offset, (key, value) in enumerate(stamp):
                page.write_string(line + offset, 0, key, bold)
                page.write_string(line + offset, 1, value)
            book.close()


def _number(cell: str) -> float | None:
    """A result cell as the number a spreadsheet holds (money is exact to the cent in a
    double); None for an empty or unknown cell."""
    if not cell or not re.match(r"^-?\d", cell):
        return None
    try:
        return float(Decimal(cell))
    except InvalidOperation:
        return None


def _unguarded(cell: str) -> str:
    """A CSV cell without the ' that guards a would-be formula: a workbook's text cell is
    never run as a formula, and the mark would only show."""
    if len(cell) > 1 and cell[0] == "'" and cell[1] in FORMULA_MARKS:
        return cell[1:]
    return cell
