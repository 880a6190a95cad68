"""Output files: the result columns, the writers of CSV, JSON, JSON Lines and Parquet (one row
at a time), cells made safe for spreadsheets, and files written whole or not at all."""

from __future__ import annotations

import contextlib
import csv
import os
import stat
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from .errors import InputError, OutputError
from .tables import normalize_header

RESULT_FIELDS = (
    "category", "base_duty", "additional_duty", "total_duty", "on_hold_duty",
    "effective_rate", "status", "error", "ieepa_duty", "mpf", "hmf", "total_fees",
    "landed_cost", "warnings",
)  # fmt: skip
OUTPUT_FORMATS = ("csv", "json", "jsonl", "parquet")
# Output file extensions and the format each one means.
FORMAT_BY_EXTENSION = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
                       ".parquet": "parquet", ".pq": "parquet"}  # fmt: skip
# A cell that a spreadsheet would run as a formula (OWASP "CSV injection").
FORMULA_MARKS = frozenset("=@\t\r+-")
_FORMULA_START = ("=", "@", "\t", "\r")


def result_columns(header: list[str]) -> list[str]:
    """Names of the result columns: a result that would clash with an input column of the
    same name (a ``category`` input, say) is written as ``result_<name>`` so nothing is lost."""
    taken = {normalize_header(name) for name in header}
    return [f"result_{name}" if name in taken else name for name in RESULT_FIELDS]


def neutralize_formula(cell: str) -> str:
    """Make a cell safe for spreadsheets: one that would start a formula is prefixed with '.

    Numbers (including negative ones) are left as they are.
    """
    if not cell or cell[0] not in FORMULA_MARKS:
        return cell
    if cell.startswith(_FORMULA_START):
        return "'" + cell
    if cell[0] in "+-":
        try:
            Decimal(cell)
        except ArithmeticError:
            return "'" + cell
    return cell


class _LineFeedRows:
    """A text stream for a CSV writer whose rows end in "\r\n", written with "\n" instead.
    With "\n" as its line end, Python's CSV writer leaves a cell holding a lone carriage return
    unquoted, and readers take that for the end of the row; with "\r\n" it quotes the cell."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, row: str) -> int:
        # The writer hands over each row whole, its line end last.
        return self.stream.write(row[:-2] + "\n" if row.endswith("\r\n") else row)


def csv_writer(stream: IO[str]) -> Any:
    """A CSV writer of rows ending in "\n", quoting cells as readers need (any line break)."""
    return csv.writer(_LineFeedRows(stream), lineterminator="\r\n")


def parquet_schema(columns: list[str]) -> Any:
    """The Parquet schema of an output: every column text, names made unique."""
    try:
        import pyarrow as pa
    except ImportError:
        raise InputError(
            "--format parquet: needs pyarrow (pip install 'tariffcalc[parquet]')"
        ) from None

    return pa.schema([(name, pa.string()) for name in unique_names(columns)])


def unique_names(columns: list[str]) -> list[str]:
    """Column names made unique for formats that need it (a CSV may repeat a name): a name
    seen before gets the first suffix _2, _3... that no column has taken."""
    taken: set[str] = set()
    names = []
    for name in columns:
        unique, count = name, 1
        while unique in taken:
            count += 1
            unique = f"{name}_{count}"
        taken.add(unique)
        names.append(unique)
    return names


_TEXT: dict[str, Any] = {"encoding": "utf-8", "newline": ""}


def _new_file_mode() -> int:
    """The mode a new file gets under the process's umask (read without changing it, where
    the platform can)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_output(path: Path, binary: bool = False) -> Iterator[IO[Any]]:
    """A file written beside ``path`` and renamed over it only once complete.

    An error or Ctrl-C before the end leaves any existing file untouched and no partial file.
    The file gets the mode of the file it replaces, else the one the umask gives a new file
    (not mkstemp's 0600). A link is followed (the file it names is replaced, not the link);
    a device or a FIFO (/dev/null, /dev/stdout, a pipe) is written through, as it is no file
    to replace.
    """
    path = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        existing = path.stat()
    except OSError:
        existing = None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        if stat.S_ISDIR(existing.st_mode):
            raise InputError(f"{path}: is a folder; give a file name for the output")
        try:
            with path.open("wb" if binary else "w", **({} if binary else _TEXT)) as through:
                yield through
        except OSError as exc:
            raise OutputError(f"{path}: cannot write the output: {exc.strerror or exc}") from None
        return
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=directory)
        os.fchmod(fd, stat.S_IMODE(existing.st_mode) if existing else _new_file_mode())
    except (FileNotFoundError, NotADirectoryError):
        raise InputError(f"{path}: the output folder does not exist") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied writing the output") from None
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the output: {exc.strerror or exc}") from None
    try:
        stream: IO[Any]
        if binary:
            stream = os.fdopen(fd, "wb")
        else:
            stream = os.fdopen(fd, "w", encoding="utf-8", newline="")
        with stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError):
            raise OutputError(f"{path}: cannot write the output: {exc.strerror or exc}") from None
        raise
