"""Batch pricing of a CSV of shipments: every row out, in order, bad rows marked, never a
half-written output file."""

from __future__ import annotations

import codecs
import contextlib
import csv
import functools
import io
import json
import os
import re
import stat
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from .engine import (
    EFFECTIVE_RATE_PLACES,
    MFN_MEASURE,
    PricingPlan,
    Quote,
    plan_key,
    plan_pricing,
    price_with_plan,
)
from .errors import InputError, OutputError, TariffError, file_problem, quoted
from .fees import EntryShares, entry_mpf, hmf_amount
from .money import LARGEST_AMOUNT, ZERO, ZERO_MONEY, format_money, round_cent, times
from .notices import Notice, code_of, warnings_cell
from .report import money_or_none, rate_or_none
from .rules import Fee, Schedule
from .shipment import (
    DECLARATION_FIELDS,
    PLAIN_CELLS,
    CellFormat,
    Shipment,
    parse_amount_cell,
    parse_date,
    shipment_from_fields,
)

RESULT_FIELDS = (
    "category", "base_duty", "additional_duty", "total_duty", "on_hold_duty",
    "effective_rate", "status", "error", "ieepa_duty", "mpf", "hmf", "total_fees",
    "landed_cost", "warnings",
)  # fmt: skip
STATUS_OK = "ok"
FIRST_ERRORS = 5  # errors a summary quotes with their row and line
STATUS_ERROR = "error"
OUTPUT_FORMATS = ("csv", "json", "jsonl", "parquet")
# Output file extensions and the format each one means.
FORMAT_BY_EXTENSION = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
                       ".parquet": "parquet", ".pq": "parquet"}  # fmt: skip
_PARQUET_BATCH_ROWS = 50_000
# Bytes that the input encoding cannot decode are kept as lone surrogates, so that only the row
# holding them fails; they are written out as U+FFFD.
_UNDECODED = re.compile("[\udc80-\udcff]")
# A cell that a spreadsheet would run as a formula (OWASP "CSV injection").
_RISKY_FIRST = frozenset("=@\t\r+-")
_FORMULA_START = ("=", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class PricedRow:
    """What the batch writes for a priced row (from a full Quote, or from the fast path)."""

    category: str
    customs_value: Decimal
    base_duty: Decimal | None
    additional_duty: Decimal
    total_duty: Decimal | None
    on_hold_duty: Decimal
    effective_rate: Decimal | None
    ieepa_duty: Decimal
    mpf: Decimal | None
    hmf: Decimal | None
    total_fees: Decimal | None
    landed_cost: Decimal | None
    warnings: tuple[str, ...]  # the quote's (notices.Notice: text and code)

    @classmethod
    def from_quote(cls, quote: Quote) -> PricedRow:
        return cls(
            quote.category,
            quote.customs_value,
            quote.base_duty,
            quote.additional_duty,
            quote.total_duty,
            quote.on_hold_duty,
            quote.effective_rate,
            quote.ieepa_duty,
            quote.mpf,
            quote.hmf,
            quote.total_fees,
            quote.landed_cost,
            quote.warnings,
        )

    def cells(self, warning_style: str = "codes") -> list[str | None]:
        return [
            self.category,
            money_or_none(self.base_duty),
            format_money(self.additional_duty),
            money_or_none(self.total_duty),
            format_money(self.on_hold_duty),
            rate_or_none(self.effective_rate),
            STATUS_OK,
            None,
            format_money(self.ieepa_duty),
            money_or_none(self.mpf),
            money_or_none(self.hmf),
            money_or_none(self.total_fees),
            money_or_none(self.landed_cost),
            warnings_cell(self.warnings, warning_style),
        ]


@dataclass
class CategoryTotals:
    rows: int = 0
    customs_value: Decimal = ZERO
    base_duty: Decimal = ZERO
    base_unknown_rows: int = 0
    additional_duty: Decimal = ZERO
    on_hold_duty: Decimal = ZERO
    ieepa_duty: Decimal = ZERO
    total_fees: Decimal = ZERO
    fees_unknown_rows: int = 0

    def add(self, row: PricedRow) -> None:
        self.rows += 1
        self.customs_value += row.customs_value
        if row.base_duty is None:
            self.base_unknown_rows += 1
        else:
            self.base_duty += row.base_duty
        self.additional_duty += row.additional_duty
        self.on_hold_duty += row.on_hold_duty
        self.ieepa_duty += row.ieepa_duty
        if row.total_fees is None:
            self.fees_unknown_rows += 1
        else:
            self.total_fees += row.total_fees

    def merge(self, other: CategoryTotals) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def effective_rate(self) -> Decimal | None:
        """Total duty over customs value; None while any row's base duty is unknown."""
        if self.base_unknown_rows or not self.customs_value:
            return None
        total = self.base_duty + self.additional_duty
        return (total / self.customs_value).quantize(EFFECTIVE_RATE_PLACES)


@dataclass
class BatchSummary:
    rows: int = 0
    failed: int = 0
    by_category: dict[str, CategoryTotals] = field(default_factory=dict)
    first_errors: list[str] = field(default_factory=list)
    # How rows carry their warnings: "codes" (the text once, here) or "text".
    warning_style: str = "codes"
    notices: dict[str, list[Any]] = field(default_factory=dict)  # code -> [rows, first text]

    def note(self, warnings: Iterable[str], rows: int = 1) -> None:
        """Count ``rows`` rows that carry these warnings (each code once a row)."""
        for warning in {code_of(w): w for w in reversed(list(warnings))}.values():
            self.notices.setdefault(code_of(warning), [0, str(warning)])[0] += rows

    @property
    def priced(self) -> int:
        return self.rows - self.failed

    def total(self) -> CategoryTotals:
        grand = CategoryTotals()
        for totals in self.by_category.values():
            grand.merge(totals)
        return grand


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
    bytes_read: Callable[[], int] | None = None  # how far into the file the rows have read
    cells: CellFormat = PLAIN_CELLS  # how its amounts, dates and exchange rates are written
    delimiter: str = ","
    had_bom: bool = False  # the file began with a UTF-8 byte order mark
    path: Path | None = None  # the file, where it is one
    cut_off: bool = False  # its last line has no line end: perhaps a cut-off copy

    def __post_init__(self) -> None:
        if not self.fields:
            object.__setattr__(self, "fields", map_columns(self.header, {}, self.source))


def result_columns(header: list[str]) -> list[str]:
    """Names of the result columns: a result that would clash with an input column of the
    same name (a ``category`` input, say) is written as ``result_<name>`` so nothing is lost."""
    taken = {normalize_header(name) for name in header}
    return [f"result_{name}" if name in taken else name for name in RESULT_FIELDS]


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
    had_bom = raw.read(3) == codecs.BOM_UTF8
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
            problem = _read_problem(encoding, path)
            raise InputError(f"{source}: line 1: {problem}: {exc}") from None
        if header is None:
            expected = ", ".join(needed[0] for needed in layout.required)
            raise InputError(f"{source}: the file is empty; expected a header row with {expected}")
        if any(_UNDECODED.search(name) or "\x00" in name for name in header):
            raise InputError(f"{source}: line 1: {_read_problem(encoding, path)}")
        fields = map_columns(header, columns or {}, source, layout)

        def rows() -> Iterator[tuple[int, int, list[str]]]:
            number = 0
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    raise InputError(
                        f"{source}: line {reader.line_num}: malformed CSV: {exc}"
                    ) from None
                except UnicodeError as exc:
                    raise InputError(
                        f"{source}: after line {reader.line_num}: "
                        f"{_read_problem(encoding, path)}: {exc}"
                    ) from None
                if not cells:  # a blank line is not a row
                    continue
                number += 1
                yield number, reader.line_num, cells

        yield InputTable(
            source, header, rows(), encoding, fields, raw.tell, cells, delimiter, had_bom, path,
            cut_off,
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
        raise InputError(f"{source}: line 1: {_read_problem(encoding, path)}: {exc}") from None
    finally:
        handle.seek(0)
    unquoted = re.sub(r'"[^"]*"', "", first)
    if "," in unquoted:
        return ","
    counts = {mark: unquoted.count(mark) for mark in (";", "\t", "|")}
    best = max(counts, key=lambda mark: counts[mark])
    return best if counts[best] else ","


def _read_problem(encoding: str, path: Path | None) -> str:
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


def neutralize_formula(cell: str) -> str:
    """Make a cell safe for spreadsheets: one that would start a formula is prefixed with '.

    Numbers (including negative ones) are left as they are.
    """
    if not cell or cell[0] not in _RISKY_FIRST:
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


class _Writer:
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
            if len(self._batch) >= _PARQUET_BATCH_ROWS:
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


def parquet_schema(columns: list[str]) -> Any:
    """The Parquet schema of an output: every column text, names made unique."""
    import pyarrow as pa

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


@dataclass(slots=True)
class Entry:
    """Rows that share an ``entry`` value: one customs entry, one date, one MPF."""

    entry_date: date
    value: Decimal = ZERO  # USD, the sum of its rows' customs values
    rows: int = 0
    shares: EntryShares | None = None


class EntryBook:
    """Each entry's date, value and rows, from the first pass over a file.

    Kept in memory up to ``limit`` entries, then in a temporary SQLite file beside nothing the
    user sees (removed on close), so that memory does not grow with the file: a year of lines
    can hold millions of entries. In the second pass the entries being priced are held in memory
    until their last row has had its share of the entry's MPF.
    """

    def __init__(self, limit: int = 200_000) -> None:
        self.limit = limit
        self.memory: dict[str, Entry] = {}
        self.database: Any = None
        self.pending: list[tuple[str, int, int]] = []
        self.open: dict[str, Entry] = {}

    def add(self, key: str, on: date, customs_value: Decimal) -> None:
        if self.database is None:
            entry = self.memory.setdefault(key, Entry(on))
            if on == entry.entry_date:
                entry.value += customs_value
                entry.rows += 1
            if len(self.memory) > self.limit:
                self._spill()
            return
        self.pending.append((key, on.toordinal(), int(customs_value * 100)))
        if len(self.pending) >= 10_000:
            self._flush()

    def _spill(self) -> None:
        import sqlite3
        import tempfile as temp

        self.folder = temp.TemporaryDirectory(prefix="tariffcalc-entries-")
        self.database = sqlite3.connect(Path(self.folder.name) / "entries.sqlite")
        self.database.execute("PRAGMA journal_mode=OFF")
        self.database.execute("PRAGMA synchronous=OFF")
        self.database.execute(
            "CREATE TABLE entry (key TEXT PRIMARY KEY, day INTEGER, cents INTEGER, rows INTEGER)"
        )
        self.database.executemany(
            "INSERT INTO entry VALUES (?, ?, ?, ?)",
            (
                (k, e.entry_date.toordinal(), int(e.value * 100), e.rows)
                for k, e in self.memory.items()
            ),
        )
        self.memory.clear()

    def _flush(self) -> None:
        # The first row of an entry sets its date; rows of another date are not counted.
        self.database.executemany(
            "INSERT INTO entry VALUES (?, ?, ?, 1) ON CONFLICT(key) DO UPDATE SET "
            "cents = cents + excluded.cents, rows = rows + 1 WHERE day = excluded.day",
            self.pending,
        )
        self.pending = []

    def get(self, key: str | None) -> Entry | None:
        if key is None:
            return None
        if self.database is None:
            return self.memory.get(key)
        entry = self.open.get(key)
        if entry is None:
            if self.pending:
                self._flush()
            found = self.database.execute(
                "SELECT day, cents, rows FROM entry WHERE key = ?", (key,)
            ).fetchone()
            if found is None:
                return None
            day, cents, rows = found
            entry = Entry(date.fromordinal(day), Decimal(cents).scaleb(-2), rows)
            self.open[key] = entry
        return entry

    def handed_out(self, key: str, entry: Entry) -> None:
        """An entry whose every row has had its share is not needed any more."""
        if self.database is not None and (entry.shares is None or entry.shares.left <= 0):
            self.open.pop(key, None)

    def close(self) -> None:
        if self.database is not None:
            self.database.close()
            self.folder.cleanup()
            self.database = None


class _RowReader:
    """Turns the cells of one row into (shipment, entry date, entry key), naming bad columns."""

    def __init__(self, table: InputTable, default_date: date) -> None:
        self.header, self.encoding, self.default_date = table.header, table.encoding, default_date
        self.index = table.fields
        self.names = {key: table.header[i].strip() for key, i in table.fields.items()}
        self.cells = table.cells
        self.path = table.path

    def clean(self, cells: list[str]) -> list[str]:
        """Cells as they will be written: undecodable bytes shown as U+FFFD."""
        if _UNDECODED.search("".join(cells)):
            return [_UNDECODED.sub("\ufffd", c) for c in cells]
        return cells

    def read(self, cells: list[str]) -> tuple[Shipment, date, str | None]:
        if _UNDECODED.search("".join(cells)):
            undecoded = next(i for i, c in enumerate(cells) if _UNDECODED.search(c))
            header = self.header
            column = header[undecoded] if undecoded < len(header) else f"cell {undecoded + 1}"
            raise InputError(f"{column}: {_read_problem(self.encoding, self.path)}")
        if len(cells) > len(self.header):
            extra = ", ".join(repr(c) for c in cells[len(self.header) :])
            raise InputError(
                f"row has {len(cells)} cells but the header has {len(self.header)} columns "
                f"(cells beyond the header: {extra})"
            )
        fields = {key: cells[i] if i < len(cells) else None for key, i in self.index.items()}
        shipment = shipment_from_fields(fields, self.names, self.cells)
        date_text = fields.get("date")
        on = (
            parse_date(date_text, self.names["date"], self.cells.date_format)
            if date_text
            else self.default_date
        )
        entry = (fields.get("entry") or "").strip() or None
        return shipment, on, entry


def scan_entries(table: InputTable, default_date: date, limit: int = 200_000) -> EntryBook:
    """First pass over a file with an ``entry`` column: each entry's value, rows and date, so
    that the MPF bounds apply to the entry as a whole. Rows that cannot be read are left out
    (they fail again, with their message, when priced)."""
    entries = EntryBook(limit)
    if "entry" not in table.fields:
        return entries
    for _number, _line, cells in table.rows:
        line = entry_line(table.fields, cells, default_date, table.cells)
        if line is not None:
            entries.add(*line)
    return entries


def entry_line(
    fields: dict[str, int],
    cells: list[str],
    default_date: date,
    formats: CellFormat = PLAIN_CELLS,
) -> tuple[str, date, Decimal] | None:
    """What a row adds to its entry: (entry, date, customs value in USD), or None when the
    row names no entry or its value, exchange rate or date cannot be read (then the row is
    not counted in any entry). A row that fails for another reason is still counted."""

    defaults = dict(formats.defaults)

    def cell(name: str) -> str:
        position = fields.get(name)
        text = cells[position].strip() if position is not None and position < len(cells) else ""
        return text or defaults.get(name, "")

    key = cell("entry")
    if not key:
        return None
    try:
        value = parse_amount_cell(cell("value"), "value", formats, positive=True)
        currency = cell("currency").upper() or "USD"
        if currency != "USD":
            fx_rate = parse_amount_cell(cell("fx_rate"), "fx_rate", formats, positive=True)
            value = value / fx_rate if formats.fx_per_usd else times(value, fx_rate)
        date_text = cell("date")
        on = parse_date(date_text, "date", formats.date_format) if date_text else default_date
    except TariffError:
        return None
    if value > LARGEST_AMOUNT:
        return None  # the row fails (the engine refuses such a customs value): not counted
    return key, on, round_cent(value)


def price_table(
    schedule: Schedule,
    table: InputTable,
    out: IO[Any],
    *,
    fmt: str = "csv",
    default_date: date,
    scenario: str | None = None,
    entries: EntryBook | None = None,
    progress: Callable[[int], None] | None = None,
    fast: bool = True,
    warning_style: str = "codes",
) -> BatchSummary:
    """Price every row of ``table`` and write one output row per input row, in order.

    ``entries`` (from :func:`scan_entries`) groups rows by their ``entry`` column: the MPF is
    then computed on the entry and shared among its rows in proportion to their values.
    ``fast`` prices the rows whose duty is proportional to their value without building a
    full quote (see :class:`_LinearRows`); the results are the same.
    """
    if fmt not in OUTPUT_FORMATS:
        raise InputError(f"--format: expected one of {', '.join(OUTPUT_FORMATS)}, got {fmt!r}")
    schedule.scenario(scenario)  # an unknown scenario fails before any row is written
    header = table.header
    writer = _Writer(out, fmt, header + result_columns(header))
    summary = BatchSummary(warning_style=warning_style)
    rows = price_rows(
        schedule, table, summary, default_date=default_date, scenario=scenario,
        entries=entries, fast=fast,
    )  # fmt: skip
    for number, inputs, results in rows:
        writer.write(inputs + results)
        if progress is not None:
            progress(number)
    writer.close()
    return summary


def price_rows(
    schedule: Schedule,
    table: InputTable,
    summary: BatchSummary,
    *,
    default_date: date,
    scenario: str | None = None,
    entries: EntryBook | None = None,
    fast: bool = True,
    plans: dict[tuple[object, ...], PricingPlan] | None = None,
) -> Iterator[tuple[int, list[str | None], list[str | None]]]:
    """(row number, input cells, result cells) of every row of ``table``, in order, counted
    into ``summary``. The input cells are as read (a short row padded, undecodable bytes as
    U+FFFD); a row that cannot be priced has status ``error`` and says why. ``plans`` may
    hold plans already resolved for this schedule and scenario."""
    header = table.header
    reader = _RowReader(table, default_date)
    plans = {} if plans is None else plans  # (plan key, date) -> plan; may be shared
    # The linear path reads plain cells only: amounts grouped by thousands, dates in a file's
    # own format or rates per dollar are the engine's path's to read.
    plain = table.cells == PLAIN_CELLS
    linear = _LinearRows(schedule, scenario, reader, entries, plans) if fast and plain else None
    for number, line, raw_cells, last in _marking_last(table.rows):
        summary.rows += 1
        cells = reader.clean(raw_cells)
        priced = linear.price(raw_cells) if linear is not None else None
        error = ""
        if priced is None:
            try:
                shipment, on, key = reader.read(raw_cells)
                # The law is resolved once per distinct goods, date and declarations; each row
                # only does its own arithmetic.
                plan_id = (plan_key(shipment), on)
                plan = plans.get(plan_id)
                if plan is None:
                    plan = plans[plan_id] = plan_pricing(schedule, shipment, on, scenario)
                quote = price_with_plan(schedule, plan, shipment)
                entry = entries.get(key) if entries is not None else None
                if entry is not None and key is not None:
                    quote = _with_entry_fees(schedule, quote, entry, reader.names)
                    entries.handed_out(key, entry)  # type: ignore[union-attr]
                priced = PricedRow.from_quote(quote)
            except TariffError as exc:
                error = str(exc)
                summary.failed += 1
                if len(summary.first_errors) < FIRST_ERRORS:
                    summary.first_errors.append(
                        f"{table.source}: row {number} (line {line}): {error}"
                    )
        warnings: tuple[str, ...] = () if priced is None else priced.warnings
        if last and table.cut_off:
            warnings = (*warnings, CUT_OFF_WARNING)
        summary.note(warnings)
        if priced is None:
            results: list[str | None] = [None] * len(RESULT_FIELDS)
            results[RESULT_FIELDS.index("status")] = STATUS_ERROR
            results[RESULT_FIELDS.index("error")] = error
            results[RESULT_FIELDS.index("warnings")] = warnings_cell(
                warnings, summary.warning_style
            )
        else:
            summary.by_category.setdefault(priced.category, CategoryTotals()).add(priced)
            results = replace(priced, warnings=warnings).cells(summary.warning_style)
        # The input cells as they were (a short row padded, a long row's surplus in the error).
        inputs: list[str | None] = [*cells[: len(header)], *[""] * (len(header) - len(cells))]
        yield number, inputs, results


CUT_OFF_WARNING = Notice("ROW_CUT_OFF", (
    "the file ends in this row, without a line end: if the file was cut off (an interrupted "
    "copy or download), this row may be incomplete"
))  # fmt: skip


def _marking_last(
    rows: Iterator[tuple[int, int, list[str]]],
) -> Iterator[tuple[int, int, list[str], bool]]:
    """The rows, each with whether it is the file's last."""
    previous = next(rows, None)
    for row in rows:
        assert previous is not None
        yield (*previous, False)
        previous = row
    if previous is not None:
        yield (*previous, True)


def _with_entry_fees(
    schedule: Schedule, quote: Quote, entry: Entry, names: dict[str, str]
) -> Quote:
    """The quote with its share of its entry's MPF in place of an MPF of its own."""
    if quote.entry_date != entry.entry_date:
        raise InputError(
            f"{names.get('date', 'date')}: this row's entry is dated {entry.entry_date} on an "
            f"earlier row; the rows of one entry share one entry date"
        )
    if schedule.fees is None:
        return quote
    chapter_99 = any(line.program != MFN_MEASURE for line in quote.lines)
    share = _entry_share(schedule.fees.mpf, entry, quote.customs_value, chapter_99)
    if share is None or entry.shares is None:
        return quote  # unknown for the entry as for the row; the quote already says so
    note = f"MPF: {format_money(share)} of the entry's {format_money(entry.shares.total)}"
    notes = (note, *(n for n in quote.fee_notes if not n.startswith("MPF:")))
    return replace(quote, mpf=share, fee_notes=notes)


class _Linear:
    """The duty of goods whose every line is a fixed rate of the customs value: the rates come
    from the engine (a quote of the same goods, date and declarations); only the arithmetic,
    with the engine's rounding, is done here per row."""

    __slots__ = ("category", "mfn", "lines", "warnings", "on")

    def __init__(self, quote: Quote) -> None:
        self.category = quote.category
        self.on = quote.entry_date
        self.mfn = next((line.rate for line in quote.lines if line.measure == MFN_MEASURE), None)
        # (rate collected, rate on hold, collected under IEEPA) of each additional line
        self.lines = tuple(
            (line.rate, line.on_hold_rate, line.program == "ieepa")
            for line in quote.lines
            if line.measure != MFN_MEASURE
        )
        self.warnings = quote.warnings


# Cells the fast path reads as they are; any other declared field sends the row to the engine.
_LINEAR_FIELDS = ("hts", "category", "date", "mfn_rate", "auto_part", "not_auto_part", "annex_ii",
                  "civil_aircraft", "mode", "origin", "loaded_on",
                  *DECLARATION_FIELDS)  # fmt: skip
_AMOUNT_FIELDS = ("metal_content", "steel_content", "aluminum_content", "copper_content",
                  "us_content", "quantity")  # fmt: skip
_PROBE_VALUE = "1000"


class _LinearRows:
    """The batch's fast path. Most rows declare no content or quantity, so every duty line is
    a fixed rate of the customs value: the law for their goods, date and declarations is
    resolved once (by a quote from the engine) and each row only multiplies and rounds, as the
    engine does. A row that is not of that kind, or that is not perfectly plain, returns None
    and goes through the engine; so do all errors, so that their messages are the engine's."""

    def __init__(
        self,
        schedule: Schedule,
        scenario: str | None,
        reader: _RowReader,
        entries: EntryBook | None,
        plans: dict[tuple[object, ...], PricingPlan],
    ) -> None:
        self.schedule, self.scenario, self.reader = schedule, scenario, reader
        self.entries, self.plans = entries, plans
        fields = reader.index
        self.width = len(reader.header)
        self.value_at = fields["value"]
        self.key_at = tuple(fields.get(name) for name in _LINEAR_FIELDS)
        self.currency_at = (fields.get("currency"), fields.get("fx_rate"))
        # The exchange rate of each (currency, fx_rate) pair of cells, or None when the pair
        # is not valid (the engine's path then says why).
        self.exchange: dict[tuple[str, str], tuple[Decimal | None] | None] = {}
        self.amount_at = tuple(fields[name] for name in _AMOUNT_FIELDS if name in fields)
        self.entry_at = fields.get("entry")
        self.read_at = (self.value_at, *self.key_at, *self.currency_at, self.entry_at)
        self.known: dict[tuple[str, ...], tuple[_Linear, str | None] | None] = {}

    def price(self, cells: list[str]) -> PricedRow | None:
        if len(cells) != self.width:
            return None
        joined = "".join(cells)
        if not joined.isascii():
            # Notes in Japanese are fine; undecodable bytes, or full-width digits in the cells
            # that are read (NFKC turns them into digits), are for the engine's path.
            if _UNDECODED.search(joined) or not all(
                cells[at].isascii() for at in self.read_at if at is not None
            ):
                return None
        for position in self.amount_at:
            if cells[position].strip():
                return None
        value_text = cells[self.value_at].strip()
        if not _PLAIN_AMOUNT.match(value_text):
            return None
        value = Decimal(value_text)
        if not value:
            return None
        key = tuple("" if at is None else cells[at] for at in self.key_at)
        resolved = self.known.get(key, _UNKNOWN)
        if resolved is _UNKNOWN:
            resolved = self.known[key] = self._resolve(key)
        if resolved is None:
            return None
        linear, mode = resolved
        pair = tuple("" if at is None else cells[at] for at in self.currency_at)
        exchange = self.exchange.get(pair, _UNKNOWN)  # type: ignore[arg-type]
        if exchange is _UNKNOWN:
            exchange = self.exchange[pair] = self._exchange(pair)  # type: ignore[index]
        if exchange is None:
            return None
        fx_rate = exchange[0]
        customs_value = round_cent(value if fx_rate is None else times(value, fx_rate))
        if not customs_value or customs_value > LARGEST_AMOUNT:
            return None  # under half a cent, or over 15 digits: the engine's path says so
        entry = entry_key = None
        if self.entry_at is not None and self.entries is not None:
            entry_key = cells[self.entry_at].strip() or None
            entry = self.entries.get(entry_key)
            if entry is not None and entry.entry_date != linear.on:
                return None  # the engine's path says why (one entry, one date)
        priced = self._amounts(linear, customs_value, mode, entry)
        if entry is not None and entry_key is not None and self.entries is not None:
            self.entries.handed_out(entry_key, entry)
        return priced

    def _exchange(self, pair: tuple[str, ...]) -> tuple[Decimal | None] | None:
        cells = {"currency": pair[0], "fx_rate": pair[1]}
        try:
            return (probe_shipment(cells, self.reader.names).fx_rate,)
        except TariffError:
            return None

    def _resolve(self, key: tuple[str, ...]) -> tuple[_Linear, str | None] | None:
        fields: dict[str, str | None] = dict(zip(_LINEAR_FIELDS, key, strict=True))
        fields["value"] = _PROBE_VALUE
        try:
            shipment = shipment_from_fields(fields, self.reader.names)
            date_text = fields.get("date")
            on = parse_date(date_text, "date") if date_text else self.reader.default_date
            plan_id = (plan_key(shipment), on)
            plan = self.plans.get(plan_id)
            if plan is None:
                plan = self.plans[plan_id] = plan_pricing(
                    self.schedule, shipment, on, self.scenario
                )
            quote = price_with_plan(self.schedule, plan, shipment)
        except TariffError:
            return None
        if plan.mfn is not None and plan.mfn.specific:
            return None
        if any(line.basis != quote.customs_value for line in quote.lines):
            return None
        return _Linear(quote), shipment.mode

    def _amounts(
        self, linear: _Linear, customs_value: Decimal, mode: str | None, entry: Entry | None
    ) -> PricedRow:
        additional = on_hold = ieepa = ZERO_MONEY
        for rate, held, is_ieepa in linear.lines:
            amount = round_cent(times(customs_value, rate))
            additional += amount
            if held:
                on_hold += round_cent(times(customs_value, held))
            if is_ieepa:
                ieepa += amount
        base = None if linear.mfn is None else round_cent(times(customs_value, linear.mfn))
        total = None if base is None else base + additional
        effective = None
        if total is not None:
            effective = (total / customs_value).quantize(EFFECTIVE_RATE_PLACES)
        mpf = hmf = None
        fees = self.schedule.fees
        if fees is not None:
            chapter_99 = bool(linear.lines)
            if entry is not None:
                mpf = _entry_share(fees.mpf, entry, customs_value, chapter_99)
            else:
                mpf = entry_mpf(fees.mpf, customs_value, linear.on, 1, chapter_99)
            hmf = hmf_amount(fees.hmf, customs_value, mode)
        total_fees = None if mpf is None else mpf + (hmf or ZERO_MONEY)
        landed = None
        if total is not None and total_fees is not None:
            landed = customs_value + total + total_fees
        return PricedRow(
            linear.category,
            customs_value,
            base,
            additional,
            total,
            on_hold,
            effective,
            ieepa,
            mpf,
            hmf,
            total_fees,
            landed,
            linear.warnings,
        )


_UNKNOWN: Any = object()


def probe_shipment(
    cells: Mapping[str, str | None],
    names: Mapping[str, str] | None = None,
    formats: CellFormat = PLAIN_CELLS,
) -> Shipment:
    """General goods worth 1000 with these cells: what the engine reads them as (an exchange
    rate, a transport mode), or the InputError that says why it cannot."""
    fields = {"category": "general", "value": _PROBE_VALUE, **cells}
    return shipment_from_fields(fields, names or {}, formats)


_PLAIN_AMOUNT = re.compile(r"^\d{1,15}(\.\d{1,10})?$|^\.\d{1,10}$", re.ASCII)


def _entry_share(
    fee: Fee, entry: Entry, customs_value: Decimal, chapter_99: bool
) -> Decimal | None:
    """A row's share of its entry's MPF (None while the entry's MPF is not known); a one-row
    entry may be an informal one (``chapter_99``: its goods pay a chapter 99 duty)."""
    if entry.shares is None:
        mpf = entry_mpf(fee, entry.value, entry.entry_date, entry.rows, chapter_99)
        if mpf is None:
            return None
        entry.shares = EntryShares(mpf, entry.value, entry.rows)
    return entry.shares.share(customs_value)
