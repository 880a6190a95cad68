"""The one reader of a batch file: its rows as parts of string columns c0, c1, ... in file order,
each part ending at a row end, memory bounded by the part's size.

A file in UTF-8 (or an encoding whose line ends and quotes are always single bytes: see
``TRANSCODED``) is cut into parts of bytes that polars reads; from the first part that polars
might read otherwise than Python's csv module (a lone carriage return, a blank line, a NUL byte,
a stray quote, bytes that are not of its encoding, a ragged row...), and for files in other
encodings (UTF-16, ISO-2022-JP), the rows are read by Python's csv module, as :func:`~tariffcalc.
tables.open_input` reads them, and made into parts the same way. Rows whose cells a column of
text cannot hold as read (undecodable bytes, a NUL, more or fewer cells than the header) carry
their cells as read in a column ``raw``, for the engine to see alone; parts read by Python's
csv module carry each row's line in a column ``line``."""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Generator, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import polars as pl

from .errors import InputError
from .tables import UNDECODED, InputTable, read_problem

# A file is read a part of about this size at a time, so memory does not grow with the file:
# one part is read while one is priced and one written (10M rows of the benchmark: 726 MB at
# the peak with parts of 16 MB; 916 MB with parts of 32 MB, not read ahead, in about the same
# time).
CHUNK_BYTES = 16 * 2**20
Part = TypeVar("Part")
# What Python's str.strip() strips from an ASCII cell.
ASCII_SPACE = " \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"
# Encodings cut into parts as bytes and transcoded a part at a time to UTF-8: in these a line
# feed, a carriage return or a quote byte is always that character (never a byte of a longer
# character), so the parts end at row ends as they do in UTF-8. Shift_JIS (cp932: Japanese
# exporters' files), EUC-JP, Latin-1, Windows-1252, ASCII. (UTF-16 or ISO-2022-JP, say, are
# read by Python's csv module.)
TRANSCODED = frozenset(
    ("cp932", "shift_jis", "shift_jis_2004", "shift_jisx0213", "euc_jp", "euc_jis_2004",
     "euc_jisx0213", "iso8859-1", "cp1252", "ascii")
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class FilePart:
    """Rows of the file, in order: string columns c0, c1, ... (one per header column), and,
    when read by Python's csv module, ``raw`` (the cells as read, as JSON, for a row whose
    cells the columns do not hold as read; else null) and ``line`` (the line the row ends on).
    ``done``: bytes of the file read so far; ``last``: the file's last part."""

    frame: pl.DataFrame
    done: int
    last: bool


class _ByRows(Exception):
    """The bytes from here on are for Python's csv module to read."""


def read_parts(table: InputTable, size: int = CHUNK_BYTES) -> Generator[FilePart, None, None]:
    """The rows of ``table`` (opened by :func:`~tariffcalc.tables.open_input`, which checked
    its header; its own row iterator is not used) as parts of about ``size`` bytes."""
    assert table.path is not None, "the batch reads a file (stdin is held in one first)"
    path, width = table.path, len(table.header)
    codec = codecs.lookup(table.encoding).name
    offset = lines = 0  # bytes and line ends read as bytes so far
    if codec in ("utf-8", "utf-8-sig", *TRANSCODED):
        header: list[str] | None = table.header
        chunks = _chunks(path, size)
        try:
            data = next(chunks, None)
            while data is not None:
                following = next(chunks, None)
                text = data if codec in ("utf-8", "utf-8-sig") else _as_utf8(data, codec)
                frame = _parse(text, width, header, table.delimiter)
                if frame is None:
                    raise _ByRows
                yield FilePart(frame, offset + len(data), following is None)
                offset, lines, header = offset + len(data), lines + data.count(b"\n"), None
                data = following
            return
        except _ByRows:
            chunks.close()
    yield from _csv_parts(table, offset, lines, size)


def read_ahead(parts: Generator[Part, None, None]) -> Generator[Part, None, None]:
    """The same parts, each next one read in a thread of its own while this one is priced
    (polars reads without holding Python's lock: 1M rows 2.9 s -> 2.5 s on 2 cores, one
    part more in memory). A part's error is raised where the part would have been."""
    reader = ThreadPoolExecutor(1, thread_name_prefix="tariffcalc-reader")
    ahead = reader.submit(next, parts, None)
    try:
        while (part := ahead.result()) is not None:
            ahead = reader.submit(next, parts, None)
            yield part
            del part  # the part is the consumer's alone now: freed as soon as it is done
    finally:
        wait([ahead])  # the file is not read after this (a rewind, an error, an interrupt)
        reader.shutdown()
        parts.close()


def _csv_parts(table: InputTable, offset: int, lines: int, size: int) -> Iterator[FilePart]:
    """The rows from byte ``offset`` on (0: the file, its header skipped), read by Python's
    csv module as :func:`~tariffcalc.tables.open_input` reads them; ``lines`` before it."""
    assert table.path is not None
    width, source = len(table.header), table.source
    encoding = table.encoding
    if offset and codecs.lookup(encoding).name == "utf-8-sig":
        encoding = "utf-8"  # no byte order mark in the middle of a file
    with table.path.open("rb") as raw:
        raw.seek(offset)
        handle = io.TextIOWrapper(raw, encoding=encoding, errors="surrogateescape", newline="")
        reader = csv.reader(handle, strict=True, delimiter=table.delimiter)
        rows: list[list[str]] = []
        as_read: list[str | None] = []
        ends: list[int] = []
        held = 0  # characters in ``rows``
        row = _next_row(reader, source, table, lines)
        if not offset:
            row = _next_row(reader, source, table, lines)  # the header, checked when opened
        while row is not None:
            if row:  # a blank line is not a row
                cells, kept = _held(row, width)
                rows.append(cells)
                as_read.append(kept)
                ends.append(lines + reader.line_num)
                held += sum(map(len, cells))
            following = _next_row(reader, source, table, lines)
            if rows and (held >= size or following is None):
                yield FilePart(_frame(rows, as_read, ends, width), raw.tell(), following is None)
                rows, as_read, ends, held = [], [], [], 0
            row = following


def _next_row(
    reader: Iterator[list[str]], source: str, table: InputTable, lines: int
) -> list[str] | None:
    """The next row (None at the end); a row Python's csv module cannot read ends the batch
    with the line it is on, as when the file was opened."""
    try:
        return next(reader, None)
    except csv.Error as exc:
        line = lines + reader.line_num  # type: ignore[attr-defined]
        raise InputError(f"{source}: line {line}: malformed CSV: {exc}") from None
    except UnicodeError as exc:
        line = lines + reader.line_num  # type: ignore[attr-defined]
        problem = read_problem(table.encoding, table.path)
        raise InputError(f"{source}: after line {line}: {problem}: {exc}") from None


def _held(row: list[str], width: int) -> tuple[list[str], str | None]:
    """A row's cells as its columns hold them (undecodable bytes as U+FFFD, a short row padded,
    a long one cut: as the output shows them), and the cells as read (JSON, which keeps
    undecodable bytes) when the columns do not hold them as read."""
    text = "".join(row)
    if len(row) == width and "\x00" not in text and not UNDECODED.search(text):
        return row, None
    cells = [UNDECODED.sub("\ufffd", cell) for cell in row[:width]]
    return cells + [""] * (width - len(cells)), json.dumps(row)


def _frame(
    rows: list[list[str]], as_read: list[str | None], ends: list[int], width: int
) -> pl.DataFrame:
    columns = list(zip(*rows, strict=True))
    return pl.DataFrame(
        {
            **{f"c{i}": pl.Series(columns[i], dtype=pl.String) for i in range(width)},
            "raw": pl.Series(as_read, dtype=pl.String),
            "line": pl.Series(ends, dtype=pl.Int64),
        }
    )


def input_columns(frame: pl.DataFrame) -> list[str]:
    """The columns of a part that hold the file's cells (c0, c1, ...; see :class:`FilePart`)."""
    return [name for name in frame.columns if name.startswith("c")]


def cells_as_read(frame: pl.DataFrame, rows: list[int]) -> list[list[str]]:
    """The cells of some rows of a part as the file has them (see :class:`FilePart`)."""
    picked = frame.select(input_columns(frame)).gather(rows)
    raws = frame.get_column("raw").gather(rows) if "raw" in frame.columns else None
    result = []
    for k, cells in enumerate(picked.iter_rows()):
        kept = None if raws is None else raws[k]
        result.append(json.loads(kept) if kept is not None else [cell or "" for cell in cells])
    return result


def line_breaks(frame: pl.DataFrame) -> int:
    """Line breaks inside the cells of a part (each adds a line to the file)."""
    total = frame.select(
        pl.sum_horizontal(pl.all().str.count_matches("\n", literal=True).fill_null(0)).sum()
    ).item()
    return int(total or 0)


def _parse(
    data: bytes, width: int, header: list[str] | None, separator: str = ","
) -> pl.DataFrame | None:
    """A part of the file (the first with its ``header``) as ``width`` string columns c0, c1,
    ...; None when polars might read it otherwise than Python's csv module."""
    if b"\x00" in data:
        return None
    carriage_returns = b"\r" in data
    names = [f"c{i}" for i in range(width)]
    try:
        frame = pl.read_csv(
            data,
            has_header=False,
            schema=pl.Schema(dict.fromkeys(names, pl.String)),
            separator=separator,
        )
    except pl.exceptions.PolarsError:
        return None  # not UTF-8, a stray quote, a row longer than the header...
    if header is not None:
        if frame.height < 2 or [cell or "" for cell in frame.row(0)] != header:
            return None
        frame = frame.slice(1)
    # A blank line is no row to Python's csv module but a row of nulls to polars (and a row
    # of empty cells is a row to both): such parts are Python's csv module's to read.
    if frame.select(pl.all_horizontal(pl.all().is_null()).any()).item():
        return None
    # Python's csv module ends a line at a lone "\r"; polars does not (a "\r\n" line end is
    # read alike by both; a part with any "\r" left in a cell is Python's csv module's).
    if (
        carriage_returns
        and frame.select(pl.any_horizontal(pl.all().str.contains("\r", literal=True)).any()).item()
    ):
        return None
    return frame


def _chunks(path: Path, size: int) -> Generator[bytes, None, None]:
    """The file in parts of about ``size`` bytes, each ending at the end of a row (a line end
    outside quotes: an even number of quotes before it)."""
    with path.open("rb") as stream:
        pending = b""
        while block := stream.read(size):
            data = pending + block
            cut = _row_end(data)
            if not cut and len(data) > 4 * size:
                raise _ByRows  # no row end in sight (lone "\r" line ends?)
            pending = data[cut:]
            if cut:
                yield data[:cut]
        if pending:
            yield pending


def _as_utf8(data: bytes, codec: str) -> bytes:
    """A part of a file in ``codec`` as UTF-8 (bytes that are not ``codec``: Python's csv
    module reads the part, and the rows that hold them fail, naming their cells)."""
    try:
        return data.decode(codec).encode("utf-8")
    except UnicodeDecodeError:
        raise _ByRows from None


def _row_end(data: bytes) -> int:
    """Just after the last line end of ``data`` that is outside quotes; 0 when there is none."""
    quotes = data.count(b'"')
    end = len(data)
    while (newline := data.rfind(b"\n", 0, end)) >= 0:
        if (quotes - data.count(b'"', newline)) % 2 == 0:
            return newline + 1
        end = newline
    return 0
