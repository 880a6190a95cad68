"""Input tables: a CSV file (or a workbook's sheet made one) opened with its header mapped
to fields, its separator and encoding found or given, and its rows read one by one; whatever
makes the whole file unusable is said up front, in one line naming the file."""

from __future__ import annotations

import codecs
import contextlib
import csv
import functools
import io
import os
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .errors import InputError, file_problem, quoted
from .shipment import (
    DECLARATION_FIELDS,
    PLAIN_CELLS,
    CellFormat,
)

# Bytes that the input encoding cannot decode are kept as lone surrogates, so that only the row
# holding them fails; they are written out as U+FFFD.
UNDECODED = re.compile("[\udc80-\udcff]")


# Header names that real exports use for the fields, compared after normalising width, case,
# spaces and punctuation ("HTS Code", "hts-code" and "hts_code" are one name; so are "ＨＳコード"
# and "HSコード"): tariffcalc's own, ACE's (ES-003 and the entry summary reports), SAP's (field
# labels and technical names of billing documents), Oracle's (order and invoice lines), and the
# Japanese headers of exporters' ERP and Excel files. The README lists them.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "line", "line_id", "line_no", "line_number", "item", "行番号", "明細番号"),
    "entry": ("entry", "entry_no", "entry_number", "entry_id", "entry_summary_number",
              "申告番号", "輸入申告番号", "エントリー番号"),
    "hts": ("hts", "hts_code", "hts_no", "hts_number", "htsno", "htsus", "htsus_code",
            "tariff_number", "hts_number_full", "commodity_code", "import_code_number", "stawn",
            "harmonized_tariff_code", "harmonized_tariff_schedule_code", "品目番号", "hsコード",
            "hs_コード", "htsコード", "hts番号", "hs番号", "関税番号", "税番", "統計品目番号",
            "輸入統計品目番号"),
    "category": ("category", "カテゴリ", "カテゴリー"),
    "value": ("value", "customs_value", "entered_value", "line_tariff_goods_value_amount",
              "net_value", "net_value_in_document_currency", "netwr", "extended_amount",
              "line_amount", "金額", "価格", "課税価格", "申告価格", "申告価額", "取引価格",
              "インボイス金額", "評価額", "fob価格"),
    "date": ("date", "entry_date", "日付", "輸入日", "申告日", "輸入申告日", "通関日"),
    "currency": ("currency", "currency_code", "document_currency", "waerk", "waers",
                 "invoice_currency_code", "通貨", "通貨コード"),
    "fx_rate": ("fx_rate", "fx", "exchange_rate", "conversion_rate", "為替レート", "換算レート",
                "為替"),
    "mfn_rate": ("mfn_rate", "mfn", "general_rate", "column_1_rate", "mfn税率", "基本税率",
                 "一般税率"),
    "metal_content": ("metal_content", "metal_value", "金属含有額"),
    "steel_content": ("steel_content", "鉄鋼含有額"),
    "aluminum_content": ("aluminum_content", "aluminium_content", "アルミ含有額",
                         "アルミニウム含有額"),
    "copper_content": ("copper_content", "銅含有額"),
    "us_content": ("us_content", "u_s_content", "米国含有額"),
    "auto_part": ("auto_part",),
    "not_auto_part": ("not_auto_part",),
    "annex_ii": ("annex_ii",),
    "civil_aircraft": ("civil_aircraft",),
    "mode": ("mode", "transport_mode", "mode_of_transport", "mode_of_transportation_code",
             "輸送", "輸送手段", "輸送方法", "輸送モード", "輸送区分"),
    "quantity": ("quantity", "qty", "billed_quantity", "fkimg", "shipped_quantity", "数量"),
    "loaded_on": ("loaded_on", "loading_date", "date_loaded", "on_board_date", "date_of_loading",
                  "bl_date", "bill_of_lading_date", "export_date", "date_of_export",
                  "actual_ship_date", "船積日", "船積み日", "積込日", "出港日", "b_l日付"),
    "origin": ("origin", "country_of_origin", "country_of_origin_code", "coo", "origin_country",
               "origin_country_code", "herkl", "原産国", "原産地", "原産国コード"),
    **{name: (name,) for name in DECLARATION_FIELDS},
}  # fmt: skip


@dataclass(frozen=True)
class ColumnLayout:
    """The fields a kind of file holds, the header names each may go by, and those it needs
    (each a tuple of alternatives: ("hts", "category") needs one of the two)."""

    what: str  # what the file is, for messages: "a CSV file of shipments"
    aliases: Mapping[str, tuple[str, ...]]
    required: tuple[tuple[str, ...], ...]

    def field_named(self, header_name: str) -> str | None:
        return self._by_alias.get(normalize_header(header_name))

    @property
    def _by_alias(self) -> dict[str, str]:
        table = self.__dict__.get("_table")
        if table is None:
            table = {alias: name for name, aliases in self.aliases.items() for alias in aliases}
            object.__setattr__(self, "_table", table)
        return table


SHIPMENT_LAYOUT = ColumnLayout("a CSV file of shipments", COLUMN_ALIASES,
                               (("hts", "category"), ("value",)))


def normalize_header(name: str) -> str:
    """A header name as the aliases are written: width folded (NFKC), case folded, each run
    of spaces and punctuation one "_"."""
    return re.sub(r"[\W_]+", "_", unicodedata.normalize("NFKC", name).casefold()).strip("_")


def map_columns(
    header: list[str],
    overrides: dict[str, str],
    source: str,
    layout: ColumnLayout = SHIPMENT_LAYOUT,
) -> dict[str, int]:
    """Which column holds which field: ``overrides`` (field -> header name, from --column),
    then the known names and aliases. Errors name the file and what was expected."""
    fields: dict[str, int] = {}
    for field_name, column in overrides.items():
        if field_name not in layout.aliases:
            raise InputError(
                f"--column: unknown field {field_name!r}; fields: {', '.join(layout.aliases)}"
            )
        matches = [i for i, name in enumerate(header) if name.strip() == column.strip()] or [
            i for i, name in enumerate(header) if _folded(name) == _folded(column)
        ]  # the exact name first, then regardless of case and width
        if not matches:
            raise InputError(
                f"--column {field_name}={column}: {source} has no column {column!r}"
                + _near(column, header)
            )
        fields[field_name] = matches[0]
    taken = set(fields.values())
    for position, name in enumerate(header):
        known = layout.field_named(name)
        if known is None or known in overrides or position in taken:
            continue
        if known in fields:
            first = header[fields[known]]
            raise InputError(
                f"{source}: header: columns {first!r} and {name!r} both mean {known}; "
                f"say which with --column {known}=NAME"
            )
        fields[known] = position
    missing = [
        f"{needed[0]} (or {', '.join(needed[1:])})" if len(needed) > 1 else needed[0]
        for needed in layout.required
        if not any(name in fields for name in needed)
    ]
    if missing:
        near = "".join(
            _near(needed[0], [n for i, n in enumerate(header) if i not in fields.values()],
                  layout.aliases[needed[0]])
            for needed in layout.required
            if not any(name in fields for name in needed)
        )
        raise InputError(
            f"{source}: header: missing column {' and '.join(missing)}; "
            f"found {quoted(', '.join(header) or 'no columns', 200)}{near} "
            "(map one with --column FIELD=NAME)"
        )
    return fields


def _folded(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().casefold()


def _near(wanted: str, header: list[str], aliases: tuple[str, ...] = ()) -> str:
    """"; did you mean 'HTS Cd'?" when a header name is close to ``wanted`` or its aliases."""
    import difflib

    names = {normalize_header(name): name for name in header}
    close: list[str] = []
    for target in (normalize_header(wanted), *aliases):
        for match in difflib.get_close_matches(target, list(names), n=3, cutoff=0.75):
            if names[match] not in close:
                close.append(names[match])
    if not close:
        return ""
    return f"; for {wanted}, did you mean {' or '.join(repr(name) for name in close[:3])}?"


@dataclass(frozen=True)
class InputTable:
    """An opened CSV: its header, which column holds which field, and an iterator of
    (row number, line number, cells)."""

    source: str
    header: list[str]
    rows: Iterator[tuple[int, int, list[str]]]
    encoding: str = "utf-8-sig"
    fields: dict[str, int] = field(default_factory=dict)
    cells: CellFormat = PLAIN_CELLS  # how its amounts, dates and exchange rates are written
    delimiter: str = ","
    path: Path | None = None  # the file, where it is one
    cut_off: bool = False  # its last line has no line end: perhaps a cut-off copy

    def __post_init__(self) -> None:
        if not self.fields:
            object.__setattr__(self, "fields", map_columns(self.header, {}, self.source))


@contextlib.contextmanager
def open_input(
    path: Path,
    encoding: str = "utf-8-sig",
    columns: dict[str, str] | None = None,
    name: str | None = None,
    layout: ColumnLayout = SHIPMENT_LAYOUT,
    cells: CellFormat = PLAIN_CELLS,
    delimiter: str | None = None,
) -> Iterator[InputTable]:
    """Open a CSV (of shipments, or of the fields ``layout`` names), checking what makes the
    whole file unusable up front.

    ``columns`` maps fields to header names the aliases do not know (``--column``); ``name``
    is what messages call the file (its path by default); ``cells`` how its amounts, dates and
    rates are written; ``delimiter`` its field separator (None: found from the header line:
    a comma, else the most frequent of ; tab |)."""
    source = name or str(path)
    if delimiter is not None and len(delimiter) != 1:
        raise InputError(f"--delimiter: expected one character, got {quoted(delimiter)}")
    try:
        codec = codecs.lookup(encoding)
        if not getattr(codec, "_is_text_encoding", True):  # rot13, base64: not text
            raise InputError(f"--encoding {encoding}: not a text encoding (e.g. utf-8, cp932)")
        raw = path.open("rb")
    except LookupError:
        raise InputError(f"--encoding: unknown text encoding {encoding!r}") from None
    except OSError as exc:
        raise InputError(file_problem(source, exc, layout.what)) from None
    cut_off = _ends_without_line_end(raw)
    raw.seek(0)
    handle = io.TextIOWrapper(raw, encoding=encoding, errors="surrogateescape", newline="")
    # A cell may be as long as it likes (a 10 MB note is still a note, not a broken file).
    csv.field_size_limit(2**31 - 1)
    with handle:
        if delimiter is None:
            delimiter = _sniff_delimiter(handle, source, encoding, path)
        reader = csv.reader(handle, strict=True, delimiter=delimiter)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise InputError(f"{source}: line 1: malformed CSV: {exc}") from None
        except UnicodeError as exc:  # a codec that fails whole (UTF-16 without its BOM...)
            problem = read_problem(encoding, path)
            raise InputError(f"{source}: line 1: {problem}: {exc}") from None
        if header is None:
            expected = ", ".join(needed[0] for needed in layout.required)
            raise InputError(f"{source}: the file is empty; expected a header row with {expected}")
        if any(UNDECODED.search(name) or "\x00" in name for name in header):
            raise InputError(f"{source}: line 1: {read_problem(encoding, path)}")
        fields = map_columns(header, columns or {}, source, layout)

        def rows() -> Iterator[tuple[int, int, list[str]]]:
            number = 0
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise InputError(
                        f"{source}: line {reader.line_num}: malformed CSV: {exc}"
                    ) from None
                except UnicodeError as exc:
                    raise InputError(
                        f"{source}: after line {reader.line_num}: "
                        f"{read_problem(encoding, path)}: {exc}"
                    ) from None
                if not row:  # a blank line is not a row
                    continue
                number += 1
                yield number, reader.line_num, row

        yield InputTable(
            source, header, rows(), encoding, fields, cells, delimiter, path, cut_off
        )  # fmt: skip


def _ends_without_line_end(raw: IO[bytes]) -> bool:
    """Whether a file's last line lacks its line end (NULs aside: UTF-16 writes "\n\0")."""
    try:
        size = raw.seek(0, os.SEEK_END)
        raw.seek(max(0, size - 4))
        tail = raw.read(4).strip(b"\x00")
    except OSError:
        return False
    return bool(tail) and not tail.endswith((b"\n", b"\r"))


def _sniff_delimiter(handle: IO[str], source: str, encoding: str, path: Path) -> str:
    """The field separator of a file, from its header line: a comma if it has one, else the
    most frequent of semicolon, tab and bar (a one-column file: a comma)."""
    try:
        first = handle.readline(2**20)
    except UnicodeError as exc:
        raise InputError(f"{source}: line 1: {read_problem(encoding, path)}: {exc}") from None
    finally:
        handle.seek(0)
    unquoted = re.sub(r'"[^"]*"', "", first)
    if "," in unquoted:
        return ","
    counts = {mark: unquoted.count(mark) for mark in (";", "\t", "|")}
    best = max(counts, key=lambda mark: counts[mark])
    return best if counts[best] else ","


def read_problem(encoding: str, path: Path | None) -> str:
    guess = _guess_encoding(str(path)) if path is not None else None
    if guess and codecs.lookup(guess).name != codecs.lookup(encoding).name:
        return f"cannot be decoded as {encoding}; it looks like {guess}: use --encoding {guess}"
    return f"cannot be decoded as {encoding} (use --encoding, e.g. --encoding cp932)"


@functools.lru_cache(maxsize=8)
def _guess_encoding(path: str) -> str | None:
    """The encoding a file's start looks like: UTF-16 without its byte order mark (every
    other byte NUL), else what charset-normalizer finds (None when it finds none, or is not
    installed)."""
    try:
        with open(path, "rb") as stream:
            start = stream.read(2**18)
    except OSError:
        return None
    pairs = start[: len(start) // 2 * 2][:512]
    if pairs and pairs[1::2].count(0) > len(pairs) // 4 and 0 not in pairs[0::2]:
        return "utf-16-le"
    if pairs and pairs[0::2].count(0) > len(pairs) // 4 and 0 not in pairs[1::2]:
        return "utf-16-be"
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(start).best()
    except ImportError:
        return None
    if best is None:
        return None
    return {"shift_jis": "cp932", "cp932": "cp932"}.get(best.encoding, best.encoding)
