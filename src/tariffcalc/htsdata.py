"""The Harmonized Tariff Schedule as published, revision by revision, from packaged data.

A shipment's duty depends on the HTS revision in force on its entry date: lines appear, vanish
and are renumbered between revisions, and chapter 99 headings change every few weeks. The
official USITC exports of 42 revisions are folded (by ``tools/build_hts_data.py``) into one
small gzip'd JSON file per chapter under ``data/hts/``: for each HTS number, one entry per run of
consecutive revisions in which its row is identical. A lookup reads only its chapter's file.

Only the standard library (and tariffcalc.errors) is imported here, and files are read on
first use: ``quote`` starts in milliseconds. A user's later revision (``tariffcalc hts import``)
lives in a folder of the same format, named by ``$TARIFFCALC_HTS_DATA`` or given to
:func:`load_extra`; its revisions come after the packaged ones. The writing half of the format
is :mod:`~tariffcalc.hts_export` (the build script and the importer share it).

Rates follow the schedule's convention: ``ad_valorem`` is a fraction (2.5% -> 0.025) and a
specific part is US dollars per unit (4.4¢/kg -> 0.044 per kg).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from .errors import ScheduleError

HTS_DATA_ENV = "TARIFFCALC_HTS_DATA"
PACKAGED_FOLDER = Path(__file__).resolve().parent / "data" / "hts"
FOLDER_FORMAT = "tariffcalc-hts/1"
CHAPTER_FORMAT = "tariffcalc-hts-chapter/1"
REVISIONS_FILE = "revisions.json"
# Chapters 98 and 99 hold special classification provisions and temporary legislation (the
# Section 232, IEEPA and Section 122 headings), not goods' tariff lines.
SPECIAL_CHAPTERS = frozenset({"98", "99"})

# A run of one HTS number: [first_revision, last_revision, indent, units, general,
# description, footnotes], revisions counted from 0 within the folder that holds it.
FIRST, LAST, INDENT, _UNITS, _GENERAL, _DESCRIPTION, _FOOTNOTES = range(7)


class HTSDataError(ScheduleError):
    """The packaged or user HTS data, or an export, cannot be read (damaged, another format):
    a ScheduleError, so that the command line reports it as it does a bad schedule."""


class Footnote(NamedTuple):
    """A footnote of a row: the columns it is attached to ("general", "other", "stat"...) and
    its text, e.g. (("general",), "See 9903.88.01.")."""

    columns: tuple[str, ...]
    text: str


class SpecificPart(NamedTuple):
    """A specific part of a rate: US dollars per unit ("4.4¢/kg" -> (0.044, "kg"))."""

    amount: Decimal
    unit: str


class ParsedRate(NamedTuple):
    ad_valorem: Decimal  # a fraction: 2.5% -> 0.025
    specific: tuple[SpecificPart, ...]


class Revision(NamedTuple):
    """One edition or revision of the HTS, and the day from which it applies to entries.
    (Records here are NamedTuples, not dataclasses: a dataclass costs ~0.5 ms at import.)"""

    name: str  # "2025_rev_32", "2026_basic"
    source_file: str  # the USITC export it was read from
    sha256: str  # of that file
    published: date | None
    effective: date  # policy_effective, else published
    position: int  # among all revisions in use, from 0 (packaged first)


class HTSLine(NamedTuple):
    """An HTS number as it reads in one revision.

    ``general`` is the column 1 general rate of the row that carries the line's rate: the
    8-digit row where it has one, else the line's single 10-digit row that does (usually
    ``.00``). A 10-digit line takes the rate of its 8-digit line. When ``general`` is not a
    plain rate ("See 9903.90.08", "The duty provided in the applicable subheading + 25%",
    "2.5% on the value of the lead content") ``rate_understood`` is False and ``ad_valorem`` is
    None: such a rate is never guessed.
    """

    code: str  # digits, as asked (4, 6, 8 or 10)
    description: str  # the full description: the ancestors' descriptions joined with ": "
    units: tuple[str, ...]
    general: str  # without HTML markup, whitespace collapsed; "" where no rate applies
    footnotes: tuple[Footnote, ...]  # the row's own, then those of the row carrying the rate
    revision: str
    rate_code: str | None  # the row the rate was read from (digits); None if there is none
    indent: int
    rate_understood: bool
    ad_valorem: Decimal | None  # a fraction; None when the rate is not understood
    specific: tuple[SpecificPart, ...] = ()

    @property
    def dotted(self) -> str:
        return format_code(self.code)


# --------------------------------------------------------------------------------------------
# Rates


# Patterns are compiled on first use (re's own cache), not at import.
_TAG = r"<(/?)([A-Za-z]+)[^<>]*>"
_BREAK_TAGS = frozenset({"br", "newline", "nl", "p"})
_FOOTNOTE_MARK = r"\s+\d+/$"  # "2.5% 1/" -> "2.5%"
_NUMBER = r"(\d+(?:\.\d+)?)"
_UNIT = r"(each|/\s*[A-Za-z0-9][A-Za-z0-9 .,]*)"  # a "/" inside ("line/ gross") is not a unit
_AD_VALOREM = rf"{_NUMBER}%"
_CENTS = rf"{_NUMBER}¢\s*{_UNIT}"
_DOLLARS = rf"\${_NUMBER}\s*{_UNIT}"


def plain_text(text: object) -> str:
    """The text of an export's cell without its HTML markup (``m<sup>2</sup>`` -> ``m2``,
    ``<il>12.7 mm</il>`` -> ``12.7 mm``), whitespace collapsed: what a reader of the printed
    schedule sees."""
    if not text:
        return ""
    raw = str(text)
    if "<" in raw:
        raw = re.sub(_TAG, lambda m: " " if m.group(2).lower() in _BREAK_TAGS else "", raw)
    return " ".join(raw.split())


def parse_rate(text: str) -> ParsedRate | None:
    """Parse a plain column 1 rate: "Free", "2.5%", "4.4¢/kg", "$1.50/doz.", "0.9¢ each",
    "2.5% + 4.4¢/kg", "15¢ each + 2.3% + 0.8¢/jewel". Anything else (a reference to another
    heading or note, a rate on a part of the goods, a sliding rate) returns None: it is not
    guessed. Ad valorem rates above 100% exist (tobacco: 350%) and are kept."""
    cleaned = plain_text(text)
    if cleaned.endswith("/"):  # "2.5% 1/": a footnote mark
        cleaned = re.sub(_FOOTNOTE_MARK, "", cleaned)
    if not cleaned:
        return None
    if cleaned.lower() == "free":
        return ParsedRate(Decimal(0), ())
    number = cleaned[:-1]
    if cleaned.endswith("%") and number.replace(".", "", 1).isdigit() and number.isascii():
        return ParsedRate(Decimal(number) / 100, ())  # the usual "2.5%", without a regex
    ad_valorem: Decimal | None = None
    specific: list[SpecificPart] = []
    for part in (p.strip() for p in cleaned.split("+")):
        if match := re.fullmatch(_AD_VALOREM, part, re.ASCII):
            if ad_valorem is not None:
                return None  # two ad valorem parts: each applies to a part of the goods
            ad_valorem = Decimal(match.group(1)) / 100
        elif match := re.fullmatch(_CENTS, part, re.ASCII):
            specific.append(SpecificPart(Decimal(match.group(1)) / 100, _unit(match.group(2))))
        elif match := re.fullmatch(_DOLLARS, part, re.ASCII):
            specific.append(SpecificPart(Decimal(match.group(1)), _unit(match.group(2))))
        else:
            return None
    return ParsedRate(ad_valorem if ad_valorem is not None else Decimal(0), tuple(specific))


def _unit(text: str) -> str:
    """ "/ kg" -> "kg", "/doz." -> "doz", "each" -> "each", "/pf. liter" -> "pf. liter"."""
    return text.lstrip("/").strip().rstrip(".").strip()


# --------------------------------------------------------------------------------------------
# Codes


def format_code(digits: str) -> str:
    """8703230100 -> 8703.23.01.00; 870323 -> 8703.23; 8708 -> 8708."""
    return ".".join([digits[:4]] + [digits[i : i + 2] for i in range(4, len(digits), 2)])


def _digits(code: str) -> str:
    digits = code.replace(".", "").strip()
    if not digits.isascii() or not digits.isdigit() or len(digits) not in (4, 6, 8, 10):
        raise ValueError(f"expected an HTS number of 4, 6, 8 or 10 digits, got {code!r}")
    return digits


# --------------------------------------------------------------------------------------------
# Revisions in use: the packaged ones, then those of the user's folders


class _Catalog:
    """The revisions in use and, for each, the folder holding it and its index there."""

    __slots__ = ("revisions", "where")

    def __init__(self) -> None:
        self.revisions: list[Revision] = []
        self.where: list[tuple[Path, int]] = []


_extra_folders: list[Path] = []
_catalog_cache: dict[tuple[object, ...], _Catalog] = {}


def load_extra(path: str | os.PathLike[str]) -> list[Revision]:
    """Use the revisions of a user folder (written by ``tariffcalc hts import`` or by
    ``tools/build_hts_data.py --out DIR --append``) after the packaged ones. Returns the
    revisions it added; a revision already in use (same export file) is not added twice."""
    folder = Path(path).resolve()
    before = {revision.sha256 for revision in revisions()}
    if folder not in _extra_folders:
        _read_revisions_file(folder)  # fail here, not at the next lookup
        _extra_folders.append(folder)
    return [revision for revision in revisions() if revision.sha256 not in before]


def revisions() -> list[Revision]:
    """Every revision in use, in order: the packaged ones, then the user's."""
    return list(_catalog().revisions)


def revision_on(day: date) -> Revision:
    """The revision that applies to an entry on ``day``: the last one (in order of
    publication) whose effective date is on or before it. A day before the first revision gets
    the first: the data does not reach back further."""
    found = _catalog().revisions
    for revision in reversed(found):
        if revision.effective <= day:
            return revision
    return found[0]


def user_folder() -> Path:
    """Where ``tariffcalc hts import`` adds revisions: $TARIFFCALC_HTS_DATA, else hts/ in the
    user's data folder ($XDG_DATA_HOME/tariffcalc, ~/.local/share/tariffcalc)."""
    override = os.environ.get(HTS_DATA_ENV, "").strip()
    if override:
        return Path(override)
    return user_data_folder() / "hts"


def user_data_folder() -> Path:
    """tariffcalc's folder in the platform's user data folder, as platformdirs names it
    (~/.local/share/tariffcalc or $XDG_DATA_HOME/tariffcalc on Linux, ~/Library/Application
    Support/tariffcalc on macOS, %LOCALAPPDATA%\\tariffcalc on Windows). On Linux it is worked
    out here: importing platformdirs would cost a quote more than a tenth of its start."""
    if sys.platform.startswith("linux"):
        base = os.environ.get("XDG_DATA_HOME", "").strip() or str(Path.home() / ".local" / "share")
        return Path(base) / "tariffcalc"
    import platformdirs

    return Path(platformdirs.user_data_dir("tariffcalc", appauthor=False))


def _catalog() -> _Catalog:
    # Keyed by what names the user's folder (worked out only when the key is new: a batch
    # asks for the catalog thousands of times).
    environ = os.environ
    key = (
        environ.get(HTS_DATA_ENV), environ.get("XDG_DATA_HOME"), environ.get("HOME"),
        tuple(_extra_folders),
    )  # fmt: skip
    cached = _catalog_cache.get(key)
    if cached is not None:
        return cached
    env_folder = str(user_folder())
    folders = [PACKAGED_FOLDER]
    if env_folder and (Path(env_folder) / REVISIONS_FILE).is_file():
        folders.append(Path(env_folder).resolve())
    folders += [folder for folder in _extra_folders if folder not in folders]
    catalog = _Catalog()
    seen: set[str] = set()
    for folder in folders:
        for local, entry in enumerate(_read_revisions_file(folder)["revisions"]):
            if entry["sha256"] in seen:
                continue  # the same export, imported again: the earlier copy answers
            seen.add(entry["sha256"])
            catalog.where.append((folder, local))
            catalog.revisions.append(_revision(entry, len(catalog.revisions)))
    if not catalog.revisions:
        raise HTSDataError(f"{PACKAGED_FOLDER}: no HTS revisions (the package data is missing)")
    _catalog_cache.clear()
    _catalog_cache[key] = catalog
    return catalog


def _revision(entry: dict[str, Any], index: int) -> Revision:
    published = entry.get("published")
    return Revision(
        name=entry["name"],
        source_file=entry["file"],
        sha256=entry["sha256"],
        published=date.fromisoformat(published) if published else None,
        effective=date.fromisoformat(entry["effective"]),
        position=index,
    )


@lru_cache(maxsize=8)
def _read_revisions_file(folder: Path) -> dict[str, Any]:
    import json

    path = folder / REVISIONS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FOLDER_FORMAT:
            raise ValueError(f"not {FOLDER_FORMAT}")
        for entry in data["revisions"]:
            date.fromisoformat(entry["effective"])
            if not all(isinstance(entry.get(key), str) for key in ("name", "file", "sha256")):
                raise ValueError("a revision lacks its name, file or sha256")
        return data  # type: ignore[no-any-return]
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
        # One line naming the file, never a traceback: every command reads this file.
        raise HTSDataError(f"{path}: cannot use this HTS data ({_why(exc)})") from None


# --------------------------------------------------------------------------------------------
# Chapters


class _Chapter:
    """One chapter of one folder: the runs of each HTS number, and which 10-digit numbers
    each 8-digit line has (in some revision)."""

    __slots__ = ("runs", "statistical", "lines")

    def __init__(self, runs: dict[str, list[list[Any]]]) -> None:
        self.runs = runs
        self.statistical: dict[str, list[str]] = {}
        lines: set[str] = set()
        for code in sorted(runs):
            if len(code) == 10:
                self.statistical.setdefault(code[:8], []).append(code)
            if len(code) >= 8:
                lines.add(code[:8])
        self.lines = sorted(lines)

    def row(self, code: str, local: int) -> list[Any] | None:
        for run in self.runs.get(code, ()):
            if run[FIRST] <= local <= run[LAST]:
                return run
        return None

    def suffixes(self, line8: str, local: int) -> list[str]:
        """The line's 10-digit numbers in force in this revision."""
        return [c for c in self.statistical.get(line8, ()) if self.row(c, local) is not None]

    def rate_row(self, line8: str, local: int) -> tuple[str, list[Any]] | None:
        """The row carrying the 8-digit line's rate: the 8-digit row if it has one, else the
        line's 10-digit row that has (``.00``; ``.01`` or ``.10`` for 33 lines). In the 42
        exports no line has two rows carrying a rate."""
        own = self.row(line8, local)
        if own is not None and own[_GENERAL]:
            return line8, own
        for code in self.statistical.get(line8, ()):
            row = self.row(code, local)
            if row is not None and row[_GENERAL]:
                return code, row
        return None


@lru_cache(maxsize=256)
def _chapter(folder: Path, chapter: str) -> _Chapter | None:
    import json
    import zlib  # gzip's own module costs a quote more to import than the decompression

    path = folder / f"ch{chapter}.json.gz"
    try:
        data = json.loads(zlib.decompress(path.read_bytes(), wbits=31))
    except FileNotFoundError:
        return None  # a reserved chapter (77), or one this folder does not hold
    except (OSError, ValueError, EOFError, zlib.error, RecursionError) as exc:
        raise HTSDataError(f"{path}: cannot read this HTS chapter ({_why(exc)})") from None
    if not isinstance(data, dict) or data.get("format") != CHAPTER_FORMAT:
        raise HTSDataError(f"{path}: not {CHAPTER_FORMAT}")
    # The rows were checked when the folder was written (check_export): only the shape is
    # checked here, a pass over one chapter's runs (under a millisecond), so that a file damaged
    # since fails in one line naming it rather than as a TypeError in some lookup.
    lines = data.get("lines")
    if not isinstance(lines, dict) or not all(
        type(runs) is list and all(type(run) is list and len(run) == 7 for run in runs)
        for runs in lines.values()
    ):
        raise HTSDataError(f"{path}: not {CHAPTER_FORMAT} (its lines are not lists of runs)")
    return _Chapter(lines)


def _why(error: BaseException) -> str:
    if isinstance(error, RecursionError):
        return "nested too deeply"
    return str(error) or type(error).__name__


def _where(day: date | Revision) -> tuple[Revision, Path, int]:
    catalog = _catalog()
    revision = day if isinstance(day, Revision) else revision_on(day)
    if (
        revision.position >= len(catalog.revisions)
        or catalog.revisions[revision.position] != revision
    ):
        raise ValueError(f"revision {revision.name} is not in use (data folders changed?)")
    folder, local = catalog.where[revision.position]
    return revision, folder, local


# --------------------------------------------------------------------------------------------
# Lookups


def line(code: str, day: date | Revision) -> HTSLine | None:
    """The HTS number ``code`` (digits, dots allowed: 4, 6, 8 or 10 of them) as it reads in the
    revision in force on ``day`` (or in the revision given), or None if it does not exist there.

    An 8-digit line exists if it has an 8-digit row or a 10-digit row carrying its rate. A
    10-digit number exists if its row does, or if it ends in ``00`` and its 8-digit line has no
    statistical suffixes at all (chapter 99 headings); its rate is its 8-digit line's.
    """
    digits = _digits(code)
    revision, folder, local = _where(day)
    chapter = _chapter(folder, digits[:2])
    if chapter is None:
        return None
    if len(digits) < 8:
        own = chapter.row(digits, local)
        return None if own is None else _make_line(digits, own, None, revision)
    if len(digits) == 8:
        rate = chapter.rate_row(digits, local)
        own = chapter.row(digits, local)
        if own is None:
            if rate is None:
                return None
            own = rate[1]  # a line without statistical suffixes: its 10-digit row speaks
        return _make_line(digits, own, rate, revision)
    own = chapter.row(digits, local)
    line8 = digits[:8]
    if own is None:
        if not digits.endswith("00") or chapter.suffixes(line8, local):
            return None
        own = chapter.row(line8, local)
        if own is None:
            return None
    return _make_line(digits, own, chapter.rate_row(line8, local), revision)


def _make_line(
    code: str, own: list[Any], rate: tuple[str, list[Any]] | None, revision: Revision
) -> HTSLine:
    footnotes = [Footnote(tuple(columns), text) for columns, text in own[_FOOTNOTES]]
    general = ""
    if rate is not None:
        general = rate[1][_GENERAL]
        if rate[1] is not own:
            footnotes += [
                note
                for note in (Footnote(tuple(c), t) for c, t in rate[1][_FOOTNOTES])
                if note not in footnotes
            ]
    parsed = parse_rate(general) if general else None
    return HTSLine(
        code=code,
        description=own[_DESCRIPTION],
        units=tuple(own[_UNITS]),
        general=general,
        footnotes=tuple(footnotes),
        revision=revision.name,
        rate_code=None if rate is None else rate[0],
        indent=own[INDENT],
        rate_understood=parsed is not None,
        ad_valorem=None if parsed is None else parsed.ad_valorem,
        specific=() if parsed is None else parsed.specific,
    )


def tariff_lines(day: date | Revision, chapters: Iterable[str] | None = None) -> list[str]:
    """The 8-digit tariff lines (digits) that carry a rate in the revision in force on ``day``,
    in order; all chapters (reading each file) unless ``chapters`` ("87", ...) are named."""
    _, folder, local = _where(day)
    found: list[str] = []
    for number in chapters if chapters is not None else _all_chapters():
        chapter = _chapter(folder, number)
        if chapter is not None:
            found += [c for c in chapter.lines if chapter.rate_row(c, local) is not None]
    return found


def nearest(code: str, day: date | Revision, n: int = 3) -> list[str]:
    """Up to ``n`` real numbers near ``code`` in the revision in force on ``day``, dotted, to
    name in an error: for a 10-digit number of an existing 8-digit line, that line's
    statistical suffixes; otherwise tariff lines of the same subheading (6 digits) first, then
    of the same heading, then of the same chapter, then of the nearest chapters that have any.
    """
    digits = _digits(code)
    _, folder, local = _where(day)
    chapter = _chapter(folder, digits[:2])
    if len(digits) == 10 and chapter is not None:
        suffixes = chapter.suffixes(digits[:8], local)
        if suffixes:
            return [format_code(c) for c in _closest(digits, suffixes)[:n]]
    target = (digits + "0000")[:8]
    wanted = int(digits[:2])
    for distance in range(100):
        candidates: list[str] = []
        for number in sorted({wanted - distance, wanted + distance}):
            if 1 <= number <= 99:
                candidates += tariff_lines(day, [f"{number:02d}"])
        if candidates:
            ranked = sorted(
                candidates,
                key=lambda c: (-_shared_levels(c, target), abs(int(c) - int(target))),
            )
            return [format_code(c) for c in ranked[:n]]
    return []


def _closest(digits: str, candidates: Sequence[str]) -> list[str]:
    return sorted(candidates, key=lambda c: (abs(int(c) - int(digits)), c))


def _shared_levels(candidate: str, target: str) -> int:
    """2: same subheading; 1: same heading; 0: same chapter or none."""
    if candidate[:6] == target[:6]:
        return 2
    return 1 if candidate[:4] == target[:4] else 0


def footnote_lines(pattern: str, day: date | Revision, *, column: str | None = None) -> list[str]:
    """Dotted numbers (any length) whose own footnotes mention ``pattern`` in the revision in
    force on ``day``: e.g. every line referring to "U.S. note 16 to subchapter III" or to
    "9903.88.15". The match ignores case and runs of whitespace; ``column`` ("general",
    "other", "stat"...) keeps only footnotes attached to that column."""
    wanted = " ".join(pattern.split()).lower()
    _, folder, local = _where(day)
    found: list[str] = []
    for number in _all_chapters():
        chapter = _chapter(folder, number)
        if chapter is None:
            continue
        for code in sorted(chapter.runs):
            row = chapter.row(code, local)
            if row is not None and any(
                wanted in text.lower() and (column is None or column in columns)
                for columns, text in row[_FOOTNOTES]
            ):
                found.append(format_code(code))
    return found


def _all_chapters() -> list[str]:
    return [f"{number:02d}" for number in range(1, 100)]


def forget_read() -> None:
    """Forget the revisions and chapters read so far (a folder in use was written)."""
    _read_revisions_file.cache_clear()
    _chapter.cache_clear()
    _catalog_cache.clear()
