"""Writing a folder of HTS data (:mod:`~tariffcalc.htsdata`'s format) from the official USITC
exports: reading an export (JSON or CSV), checking it whole before anything is written, and
folding its rows into the chapters' runs of revisions. Used by the build script
(``tools/build_hts_data.py``) and ``tariffcalc hts import``, so that they cannot drift apart."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from .errors import quoted
from .htsdata import (
    CHAPTER_FORMAT,
    FIRST,
    FOLDER_FORMAT,
    INDENT,
    LAST,
    REVISIONS_FILE,
    SPECIAL_CHAPTERS,
    HTSDataError,
    _Chapter,
    _read_revisions_file,
    _why,
    forget_read,
    format_code,
    plain_text,
)


class ExportError(HTSDataError):
    """A USITC export given to be imported cannot be used (the user's file, not the data):
    `hts import` reports it as bad input. Raised before anything is written."""


class ExportFile(NamedTuple):
    """An official USITC JSON export (``.json`` or ``.json.gz``) and when it applies."""

    path: Path
    name: str  # "2026_rev_11"
    effective: date
    published: date | None = None


def revision_name(path: Path) -> str:
    """hts_2026_rev_11.json.gz -> 2026_rev_11; other names: the file's stem."""
    stem = path.name.removesuffix(".gz").removesuffix(".json")
    return stem.removeprefix("hts_")


# The columns of the USITC CSV export and the JSON keys they carry.
_CSV_COLUMNS = {
    "hts number": "htsno", "indent": "indent", "description": "description",
    "unit of quantity": "units", "general rate of duty": "general",
    "special rate of duty": "special", "column 2 rate of duty": "other",
    "footnotes": "footnotes",
}  # fmt: skip


def read_export(path: Path) -> list[dict[str, Any]]:
    """The objects of a USITC export: the JSON (gzip'd or not) or the CSV that the USITC
    publishes for each revision; ExportError if it is neither, or if an object gives a key
    twice with different values (JSON keeps the last one silently: a second "general" would
    have replaced the rate without a word)."""
    import gzip
    import json

    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        text = raw.decode("utf-8-sig")
        if not text.lstrip().startswith("["):
            return _csv_records(text, path)
        data = json.loads(text, object_pairs_hook=_one_value_per_key)
    except RecursionError:
        # json recurses once per level: a file nested a few thousand levels deep is no export.
        raise ExportError(
            f"{path}: nested too deeply to be a USITC HTS export (expected a JSON array of "
            "flat HTS objects)"
        ) from None
    except (OSError, ValueError, EOFError) as exc:
        raise ExportError(f"{path}: cannot read the USITC HTS export ({exc})") from None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ExportError(f"{path}: expected a JSON array of HTS objects (the USITC export)")
    return data


def _one_value_per_key(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found and found[key] != value:
            raise ValueError(
                f"an object gives {key!r} twice, as {quoted(found[key], 30)} and "
                f"{quoted(value, 30)}"
            )
        found[key] = value
    return found


def _csv_records(text: str, path: Path) -> list[dict[str, Any]]:
    """The rows of the USITC CSV export as the JSON export's objects (units and footnotes,
    written as lists or plain text in the CSV, become lists)."""
    import csv
    import io
    import json

    reader = csv.DictReader(io.StringIO(text))
    names = {name: _CSV_COLUMNS.get(name.strip().lower()) for name in reader.fieldnames or ()}
    if "htsno" not in names.values() or "general" not in names.values():
        raise ExportError(
            f"{path}: not a USITC HTS export (expected a JSON array, or a CSV with the columns "
            "'HTS Number' and 'General Rate of Duty')"
        )
    header = [name.strip().lower() for name in reader.fieldnames or ()]
    twice = sorted({name for name in header if header.count(name) > 1 and _CSV_COLUMNS.get(name)})
    if twice:
        # csv.DictReader keeps the last of two columns of one name: which rate would be read
        # is not for the reader to choose.
        raise ExportError(f"{path}: the column {twice[0]!r} appears twice in the header")
    records: list[dict[str, Any]] = []
    for row in reader:
        record: dict[str, Any] = {key: row.get(name) or "" for name, key in names.items() if key}
        for key in ("units", "footnotes"):
            cell = str(record.get(key) or "").strip()
            try:
                value = json.loads(cell) if cell.startswith("[") else None
            except (ValueError, RecursionError):  # not a JSON list: the cell's text
                value = None
            if key == "units":
                record[key] = value if isinstance(value, list) else [cell] if cell else []
            else:
                notes = value if isinstance(value, list) else [cell] if cell else []
                record[key] = [
                    note if isinstance(note, dict) else {"columns": ["general"], "value": note}
                    for note in notes
                ]
        records.append(record)
    return records


def export_rows(records: Iterable[dict[str, Any]]) -> Iterator[tuple[str, list[Any]]]:
    """(digits, [indent, units, general, full description, footnotes]) of every numbered row.

    The full description walks back by indent: each row's ancestors are the nearest earlier
    rows of smaller indent, numbered or not ("Horses:", "Other:"), up to the heading."""
    ancestors: list[tuple[int, str]] = []
    for record in records:
        indent = int(str(record.get("indent") or "0").strip() or "0")
        text = plain_text(record.get("description")).removesuffix(":").strip()
        while ancestors and ancestors[-1][0] >= indent:
            ancestors.pop()
        ancestors.append((indent, text))
        digits = str(record.get("htsno") or "").replace(".", "").strip()
        if not digits:
            continue
        units = [u for u in (plain_text(unit) for unit in record.get("units") or ()) if u]
        footnotes = [
            [[str(c) for c in note.get("columns") or ()], plain_text(note.get("value"))]
            for note in record.get("footnotes") or ()
            if isinstance(note, dict) and plain_text(note.get("value"))
        ]
        description = ": ".join(t for _, t in ancestors if t)
        yield digits, [indent, units, plain_text(record.get("general")), description, footnotes]


class ExportCheck(NamedTuple):
    """An export's numbered rows as they will be written, and what was said about them."""

    rows: list[tuple[str, list[Any]]]  # (digits, payload) as export_rows, each number once
    tariff_lines: int  # 8- and 10-digit rows outside chapters 98 and 99 that carry a rate
    warnings: list[str]


_SCALAR = (str, int, float, type(None))


def check_export(records: Sequence[dict[str, Any]], name: str) -> ExportCheck:
    """Check an export's objects before anything is written, and return its rows.

    ExportError, one line, when a field the rows are read from holds what no USITC export
    does (a list or object for a text, an indent that is not a small number), when an HTS
    number appears twice with different rows, or when a tariff line carries two different
    column 1 rates (its 8-digit row and a 10-digit row, or two 10-digit rows: none of the 42
    packaged revisions has one, and which one applies would be a guess). A number that
    appears twice with the very same row is kept once, with a warning."""
    for number, record in enumerate(records, 1):
        problem = _record_problem(record)
        if problem:
            raise ExportError(f"{name}: object {number:,} of the export: {problem}")
    warnings: list[str] = []
    kept: dict[str, list[Any]] = {}
    conflicts: list[str] = []
    for digits, payload in export_rows(records):
        if not digits.isascii() or not digits.isdigit() or len(digits) not in (4, 6, 8, 10):
            warnings.append(f"{name}: skipped an HTS number that is not one: {digits!r}")
            continue
        earlier = kept.get(digits)
        if earlier is None:
            kept[digits] = payload
        elif earlier == payload:
            warnings.append(
                f"{name}: {format_code(digits)} appears twice (the same row); kept once"
            )
        else:
            rates = (
                f": general {earlier[2]!r} and {payload[2]!r}"
                if earlier[2] != payload[2]
                else ", with different descriptions or units"
            )
            conflicts.append(f"{format_code(digits)} appears twice{rates}")
    rated: dict[str, list[tuple[str, str]]] = {}
    for digits, payload in kept.items():
        if len(digits) >= 8 and payload[2]:
            rated.setdefault(digits[:8], []).append((digits, payload[2]))
    for line8, rows in sorted(rated.items()):
        if len({general for _, general in rows}) > 1:
            shown = " and ".join(f"{general!r} ({format_code(code)})" for code, general in rows)
            conflicts.append(f"{format_code(line8)} has two column 1 rates, {shown}")
    if conflicts:
        more = f" (and {len(conflicts) - 3:,} more)" if len(conflicts) > 3 else ""
        raise ExportError(
            f"{name}: {'; '.join(conflicts[:3])}{more}; an export gives each HTS number once "
            "and each tariff line one rate: nothing was imported"
        )
    lines = sum(
        1
        for digits, payload in kept.items()
        if len(digits) in (8, 10) and digits[:2] not in SPECIAL_CHAPTERS and payload[2]
    )
    return ExportCheck(list(kept.items()), lines, warnings)


def _record_problem(record: dict[str, Any]) -> str | None:
    """What is wrong with the shape of one export object, if anything (only the fields read)."""
    for key in ("htsno", "description", "general"):
        if not isinstance(record.get(key), _SCALAR):
            return f"{key} is a {type(record[key]).__name__}, expected text"
    if not _small_indent(record.get("indent")):
        indent = record["indent"]
        shown = quoted(indent, 30) if isinstance(indent, str) else f"a {type(indent).__name__}"
        return f"indent is {shown}, expected a small whole number such as '2'"
    units = record.get("units")
    if units is not None and (
        not isinstance(units, list) or not all(isinstance(u, _SCALAR) for u in units)
    ):
        return "units is not a list of texts"
    notes = record.get("footnotes")
    if notes is not None and not isinstance(notes, list):
        return "footnotes is not a list"
    for note in notes or ():
        if not isinstance(note, dict):
            continue  # not a footnote object: skipped, as before
        columns = note.get("columns")
        if not isinstance(note.get("value"), _SCALAR) or (
            columns is not None
            and (not isinstance(columns, list) or not all(isinstance(c, _SCALAR) for c in columns))
        ):
            return "a footnote is not a text with a list of columns"
    return None


def _small_indent(indent: object) -> bool:
    """An indent as export_rows reads it: none, or a whole number of at most 3 digits (one of
    5,000 digits cannot even be read: Python's int-from-str limit)."""
    if indent is None:
        return True
    if isinstance(indent, bool):
        return False
    if isinstance(indent, int):
        return 0 <= indent < 1000
    if isinstance(indent, str):
        text = indent.strip()
        return not text or (len(text) <= 3 and text.isdigit())
    return False


class FolderSummary(NamedTuple):
    folder: Path
    added: list[str]  # revision names
    skipped: list[str]  # exports already in the folder (same sha256)
    warnings: list[str]
    counts: dict[str, int]


def write_folder(
    folder: Path,
    exports: Sequence[ExportFile],
    *,
    append: bool = False,
    built_by: str = "tariffcalc",
) -> FolderSummary:
    """Fold ``exports`` (in order) into ``folder``: after its revisions if ``append``, else in
    place of them. Each chapter file is replaced whole (written beside, then renamed)."""
    import gzip
    import hashlib
    import json

    folder.mkdir(parents=True, exist_ok=True)
    entries: list[dict[str, Any]] = []
    chapters: dict[str, dict[str, list[list[Any]]]] = {}
    if append and (folder / REVISIONS_FILE).is_file():
        _read_revisions_file.cache_clear()
        entries = list(_read_revisions_file(folder)["revisions"])
        for path in sorted(folder.glob("ch*.json.gz")):
            try:
                data = json.loads(gzip.decompress(path.read_bytes()))
                chapters[data["chapter"]] = _listed_runs(data["lines"], len(entries))
            except (OSError, ValueError, EOFError, KeyError, TypeError, RecursionError) as exc:
                raise HTSDataError(f"{path}: cannot read this HTS chapter ({_why(exc)})") from None
    summary = FolderSummary(folder, [], [], [], {})
    known = {entry["sha256"] for entry in entries}
    for export in exports:
        checksum = hashlib.sha256(export.path.read_bytes()).hexdigest()
        if checksum in known:
            summary.skipped.append(export.name)
            continue
        if any(entry["name"] == export.name for entry in entries):
            raise HTSDataError(f"{export.path}: a revision named {export.name} is already there")
        index = len(entries)
        # Every export is checked before any file is written (check_export raises).
        check = check_export(read_export(export.path), export.name)
        summary.warnings.extend(check.warnings)
        rows = _fold(chapters, check.rows, index)
        lines = _rated_lines(chapters, index)
        entries.append(
            {
                "name": export.name,
                "file": export.path.name,
                "sha256": checksum,
                "published": export.published.isoformat() if export.published else None,
                "effective": export.effective.isoformat(),
                "rows": rows,
                "tariff_lines": lines,
            }
        )
        known.add(checksum)
        summary.added.append(export.name)
    for number, lines_of in sorted(chapters.items()):
        payload = {
            "format": CHAPTER_FORMAT,
            "chapter": number,
            "lines": dict(sorted(lines_of.items())),
        }
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        _replace(folder / f"ch{number}.json.gz", gzip.compress(text.encode(), 9, mtime=0))
    for stale in folder.glob("ch*.json.gz"):
        if stale.name.removeprefix("ch").removesuffix(".json.gz") not in chapters:
            stale.unlink()
    summary.counts.update(
        revisions=len(entries),
        chapters=len(chapters),
        codes=sum(len(lines_of) for lines_of in chapters.values()),
        runs=sum(len(runs) for lines_of in chapters.values() for runs in lines_of.values()),
    )
    manifest = {
        "format": FOLDER_FORMAT,
        "built_by": built_by,
        "counts": summary.counts,
        "revisions": entries,
    }
    text = json.dumps(manifest, ensure_ascii=False, indent=1) + "\n"
    _replace(folder / REVISIONS_FILE, text.encode())
    forget_read()
    return summary


def _fold(
    chapters: dict[str, dict[str, list[list[Any]]]],
    rows: list[tuple[str, list[Any]]],
    index: int,
) -> int:
    """Add one revision's rows (checked: see check_export): a row identical to the one of the
    previous revision extends that run; any difference starts a new run. Returns the number of
    numbered rows."""
    for digits, payload in rows:
        runs = chapters.setdefault(digits[:2], {}).setdefault(digits, [])
        if runs and runs[-1][LAST] == index - 1 and runs[-1][INDENT:] == payload:
            runs[-1][LAST] = index
        else:
            runs.append([index, index, *payload])
    return len(rows)


def _listed_runs(lines: dict[str, list[list[Any]]], count: int) -> dict[str, list[list[Any]]]:
    """A folder's runs cut to the ``count`` revisions its manifest lists. A write stopped
    between the chapter files and the manifest (written last) leaves runs of a revision the
    manifest does not list; read back, the next import would add its own after them, and a
    lookup would find the stale one first."""
    kept: dict[str, list[list[Any]]] = {}
    for code, runs in lines.items():
        listed = [run for run in runs if run[FIRST] < count]
        for run in listed:
            run[LAST] = min(run[LAST], count - 1)
        if listed:
            kept[code] = listed
    return kept


def _rated_lines(chapters: dict[str, dict[str, list[list[Any]]]], index: int) -> int:
    """8-digit lines outside chapters 98 and 99 that carry a rate in revision ``index``."""
    count = 0
    for number, lines_of in chapters.items():
        if number in SPECIAL_CHAPTERS:
            continue
        chapter = _Chapter(lines_of)
        count += sum(1 for c in chapter.lines if chapter.rate_row(c, index) is not None)
    return count


def _replace(path: Path, content: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(content)
    os.replace(partial, path)
