"""The schedule at run time: the validated rules as plain objects, and how a schedule is loaded.

``schedule.py`` validates a schedule file into frozen pydantic models; the result is turned into
the plain objects of this module (same class names, same fields, the same methods, which live
here once as the *Rules mixins that both share). A validated schedule is kept in a cache keyed by
the file's content, so that `tariffcalc quote` loads it without importing pydantic at all (the
largest part of its start-up time otherwise).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import stat
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .errors import ScheduleError, file_problem
from .hts import ProvisionIndex
from .money import format_percent

if TYPE_CHECKING:  # the validated shapes, for type checking (the runtime twins below share them)
    from . import schedule as model

# SHA-256 from CPython's own module where there is one: hashlib loads OpenSSL, about 2 ms of
# a quote's start (3.11: _sha256; 3.12 and later: _sha2).
try:
    from _sha256 import sha256  # type: ignore[import-not-found,unused-ignore]
except ImportError:
    try:
        from _sha2 import sha256  # type: ignore[import-not-found,no-redef,unused-ignore]
    except ImportError:
        from hashlib import sha256  # type: ignore[assignment,no-redef,unused-ignore]


# The methods below are typed with the pydantic model they serve as ``self`` (mypy accepts a
# self type that is not a supertype of the mixin only with "type: ignore[misc]").

SCHEDULE_ENV = "TARIFFCALC_SCHEDULE"
# In the order a good is classified: the first whose measures' lists cover it (engine.classify).
CATEGORIES: tuple[str, ...] = (
    "autos", "auto-parts", "trucks", "steel", "aluminum", "copper", "wood", "semiconductors",
    "pharmaceuticals", "drones", "general",
)  # fmt: skip
MODES: tuple[str, ...] = ("ocean", "air", "land")


# ----------------------------------------------------------------------------- the rules' methods


class DatedRules:
    def covers(self: model._Dated, on: date) -> bool:  # type: ignore[misc]
        return (self.start is None or self.start <= on) and (self.end is None or on <= self.end)


class RatePeriodRules:
    def covers(self: model.RatePeriod, on: date) -> bool:  # type: ignore[misc]
        return self.start <= on and (self.end is None or on <= self.end)


class RatePeriodCopy:
    def replaced(self, **changes: Any) -> Any:
        """The same period with some fields changed (an in-transit window's earlier rate)."""
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy.__dict__.update(changes)
        return copy


class MeasureRules:
    def period_on(self: model.Measure, on: date) -> model.RatePeriod | None:  # type: ignore[misc]
        for period in self.rates:
            if period.covers(on):
                return period
        return None

    @property
    def first_day(self: model.Measure) -> date:  # type: ignore[misc]
        return self.rates[0].start

    @property
    def last_day(self: model.Measure) -> date | None:  # type: ignore[misc]
        return self.rates[-1].end


class MFNRateRules:
    @property
    def label(self: model.MFNRate) -> str:  # type: ignore[misc]
        return self.text or format_percent(self.rate)


class ScenarioRules:
    def lifts_hold(self: model.Scenario, measure_id: str) -> bool:  # type: ignore[misc]
        return self.lift_holds == "all" or measure_id in self.lift_holds


class GapRules(DatedRules):
    @property
    def is_general(self: model.Gap) -> bool:  # type: ignore[misc]
        """A limit of the whole schedule (listed by `rates`), not tied to some quotes."""
        return not (self.categories or self.provisions or self.measures or self.start or self.end)

    def concerns_goods(self: model.Gap, on: date, hts: str | None, category: str) -> bool:  # type: ignore[misc]
        """Whether the gap may concern these goods on this date (before knowing which measures
        are charged on them)."""
        if self.is_general or not self.covers(on):
            return False
        if self.categories and category not in self.categories:
            return False
        return not self.provisions or bool(hts and any(hts.startswith(p) for p in self.provisions))

    def concerns_charges(self: model.Gap, charged: set[str]) -> bool:  # type: ignore[misc]
        return not self.measures or bool(charged.intersection(self.measures))


class FeeRules:
    def bounds_on(self: model.Fee, on: date) -> model.FeeBounds | None:  # type: ignore[misc]
        return next((b for b in self.bounds if b.covers(on)), None)


class ScheduleRules:
    def index(self: model.Schedule) -> None:  # type: ignore[misc]
        """Build the look-up tables of the measures and MFN rates; a list's table is built the
        first time a quote asks it (many quotes never reach the longest lists)."""
        self._measures_by_id = {m.id: m for m in self.measures}
        self._list_index = {}
        self._mfn_index = ProvisionIndex((rate.provision, rate) for rate in self.mfn)

    def measure(self: model.Schedule, measure_id: str) -> model.Measure:  # type: ignore[misc]
        return self._measures_by_id[measure_id]

    def _index_of(self: model.Schedule, list_name: str) -> ProvisionIndex[tuple[Any, ...]]:  # type: ignore[misc]
        index = self._list_index.get(list_name)
        if index is None:
            rows = _rows_of(self.lists[list_name])
            index = self._list_index[list_name] = ProvisionIndex((row[0], row) for row in rows)
        return index

    def find_in_list(self: model.Schedule, list_name: str, hts: str) -> model.ProvisionEntry | None:  # type: ignore[misc]
        """The most specific provision of a list that covers this HTS number, if any."""
        row = self._index_of(list_name).lookup(hts)
        return None if row is None else _entry_of(row)

    def longer_in_list(self: model.Schedule, list_name: str, hts: str) -> list[str]:  # type: ignore[misc]
        """Provisions of a list that are more specific than this HTS number (its statistical
        lines), when no provision of the list covers the number itself."""
        index = self._index_of(list_name)
        if index.lookup(hts) is not None:
            return []
        return index.extending(hts)  # type: ignore[no-any-return]

    def mfn_rate(self: model.Schedule, hts: str) -> model.MFNRate | None:  # type: ignore[misc]
        """The MFN rate of the most specific provision the schedule knows for this HTS number."""
        return self._mfn_index.lookup(hts)

    def review_warning(self: model.Schedule, on: date) -> str | None:  # type: ignore[misc]
        """What to tell a user of rates on a date later than the schedule has been reviewed for."""
        if on <= self.reviewed_through:
            return None
        return (
            f"entry date {on} is after {self.reviewed_through}, the last date this schedule "
            "has been reviewed for: rates in force after that date are not known to it"
        )

    def scenario(self: model.Schedule, name: str | None) -> model.Scenario | None:  # type: ignore[misc]
        if name is None:
            return None
        if name not in self.scenarios:
            known = ", ".join(sorted(self.scenarios)) or "none"
            raise ScheduleError(f"unknown scenario {name!r}; this schedule has: {known}")
        return self.scenarios[name]


# ----------------------------------------------------------------------------- the runtime twins


class Rule:
    """A validated piece of a schedule: the fields of the pydantic model of the same name in
    ``schedule.py``, as attributes. Not to be built by hand: :func:`load_schedule` makes them."""

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_"):  # the look-up tables are built once loaded, the rules never
            raise AttributeError(f"{type(self).__name__} is frozen: {name} cannot be changed")
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: {name} cannot be deleted")

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({fields})"


if TYPE_CHECKING:
    from .schedule import (
        Displacement,
        EntryTypeRule,
        Exclusion,
        Fee,
        FeeBounds,
        Fees,
        Gap,
        Hold,
        Informal,
        InformalEntry,
        Interest,
        InTransit,
        Measure,
        MFNRate,
        OverpaymentRate,
        ProvisionEntry,
        ProvisionList,
        RatePeriod,
        RefundHeading,
        Refunds,
        Scenario,
        Schedule,
        Scope,
        SpecificRate,
        USContentRule,
    )
else:

    class ProvisionEntry(Rule): ...

    class ProvisionList(Rule):
        # A list read from the schedule cache keeps its entries as columns of codes, headings
        # and listing dates (thousands of objects, or even of rows, would take longer to make
        # than the rest of the schedule); the entries are made the first time they are asked for.
        def __getattr__(self, name: str) -> Any:
            if name == "provisions" and "_columns" in self.__dict__:
                entries = []
                for code, heading, listed_from in _rows_of(self):
                    entry = object.__new__(ProvisionEntry)
                    entry.__dict__.update(code=code, heading=heading, listed_from=listed_from)
                    entries.append(entry)
                self.__dict__["provisions"] = provisions = tuple(entries)
                return provisions
            raise AttributeError(name)

    class Hold(Rule): ...

    class RatePeriod(Rule, RatePeriodRules, RatePeriodCopy): ...

    class Scope(Rule): ...

    class Exclusion(Rule, DatedRules): ...

    class USContentRule(Rule): ...

    class InTransit(Rule): ...

    class Measure(Rule, MeasureRules): ...

    class Displacement(Rule, DatedRules): ...

    class SpecificRate(Rule): ...

    class MFNRate(Rule, MFNRateRules): ...

    class Scenario(Rule, ScenarioRules): ...

    class Gap(Rule, GapRules): ...

    class FeeBounds(Rule, DatedRules): ...

    class InformalEntry(Rule, DatedRules): ...

    class Informal(Rule): ...

    class Fee(Rule, FeeRules): ...

    class Fees(Rule): ...

    class RefundHeading(Rule): ...

    class EntryTypeRule(Rule, DatedRules): ...

    class OverpaymentRate(Rule, DatedRules): ...

    class Interest(Rule): ...

    class Refunds(Rule): ...

    class Schedule(Rule, ScheduleRules): ...


def _rows_of(plist: ProvisionList) -> tuple[tuple[str, str | None, date | None], ...]:
    """A list's entries as (code, heading, listed_from) rows."""
    known = plist.__dict__
    rows = known.get("_rows")
    if rows is None:
        columns = known.get("_columns")
        if columns is not None:
            rows = known["_rows"] = tuple(zip(*columns, strict=True))
        else:
            rows = tuple((e.code, e.heading, e.listed_from) for e in plist.provisions)
    return rows  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=4096)
def _entry_of(row: tuple[Any, ...]) -> ProvisionEntry:
    """The list entry of a (code, heading, listed_from) row of a list's look-up table."""
    entry = object.__new__(ProvisionEntry)
    entry.__dict__.update(code=row[0], heading=row[1], listed_from=row[2])
    return entry


def twin(node: Any) -> Any:
    """A validated model (and everything in it) as the plain objects of this module."""
    fields = getattr(node, "__pydantic_fields__", None)
    if fields is not None:
        plain = object.__new__(globals()[type(node).__name__])
        plain.__dict__.update({name: twin(getattr(node, name)) for name in fields})
        if isinstance(plain, ScheduleRules):
            plain.index()  # type: ignore[misc]
        return plain
    if isinstance(node, tuple):
        return tuple(twin(item) for item in node)
    if isinstance(node, dict):
        return {key: twin(value) for key, value in node.items()}
    return node


__all__ = [
    "CACHE_ENV", "CATEGORIES", "MAX_SCHEDULE_BYTES", "MODES", "SCHEDULE_ENV", "Displacement",
    "Exclusion", "Fee", "FeeBounds", "Fees",
    "EntryTypeRule", "Gap", "Hold", "InTransit", "Informal", "InformalEntry", "Interest",
    "MFNRate", "Measure", "OverpaymentRate", "ProvisionEntry", "ProvisionList", "RatePeriod",
    "RefundHeading", "Refunds",
    "Scenario", "Schedule", "Scope", "SpecificRate", "USContentRule", "cache_problem",
    "default_schedule_path", "load_schedule", "parse_schedule", "twin",
]  # fmt: skip


# ----------------------------------------------------------------------------- loading


def default_schedule_path() -> Path:
    """$TARIFFCALC_SCHEDULE, else the schedule shipped in the package, else the repository's."""
    override = os.environ.get(SCHEDULE_ENV)
    if override:
        return Path(override)
    packaged = Path(__file__).with_name("tariffs.yaml")
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "tariffs.yaml"


# A schedule file past this size is refused before it is read: a 200 MB file took 12 GB to
# validate. The packaged tariffs.yaml is about 150 kB; a schedule carrying the MFN rate of every
# HTS line would be a few MB.
MAX_SCHEDULE_BYTES = 20 * 1024 * 1024


def _too_large(path: Path, size: int | None) -> str:
    told = f"{size:,} bytes" if size is not None else f"more than {MAX_SCHEDULE_BYTES:,} bytes"
    return f"{path}: {told}; expected a YAML schedule of at most 20 MiB"


def _read_schedule_text(path: Path) -> str:
    """The text of a schedule file, refused (ScheduleError) past :data:`MAX_SCHEDULE_BYTES`."""
    try:
        info = path.stat()
        if stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode):
            if stat.S_ISREG(info.st_mode) and info.st_size > MAX_SCHEDULE_BYTES:
                raise ScheduleError(_too_large(path, info.st_size))
            text = path.read_text(encoding="utf-8")
        else:  # a pipe (`tariffcalc validate <(...)`) has no size to check beforehand
            with path.open("rb") as stream:
                data = stream.read(MAX_SCHEDULE_BYTES + 1)
            if len(data) > MAX_SCHEDULE_BYTES:
                raise ScheduleError(_too_large(path, None))
            text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScheduleError(file_problem(path, exc, "a YAML schedule")) from None
    if len(text) > MAX_SCHEDULE_BYTES:  # it grew after it was measured
        raise ScheduleError(_too_large(path, None))
    return text


def load_schedule(path: str | os.PathLike[str] | None = None, *, cached: bool = True) -> Schedule:
    """Load and validate a schedule file (the packaged tariffs.yaml when no path is given).

    A schedule validated before is read from the cache (see :data:`CACHE_ENV`); ``cached=False``
    validates the file all the same, and puts the result in the cache.
    """
    schedule_path = Path(path) if path is not None else default_schedule_path()
    text = _read_schedule_text(schedule_path)
    text_sha256 = sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    cache = _cache_file(text, text_sha256)
    schedule = _read_cache(cache, text_sha256) if cached else None
    if schedule is None:
        from .schedule import parse_schedule  # validation: pydantic, only when the cache misses

        schedule = parse_schedule(text, str(schedule_path))
        _write_cache(cache, schedule, text_sha256)
    # Where it came from, for the audit stamp of what is priced with it (not in the cache).
    schedule._source = str(schedule_path)
    schedule._text_sha256 = text_sha256
    return schedule


def parse_schedule(text: str, source: str = "tariffs.yaml") -> Schedule:
    """Validate schedule text (see :func:`tariffcalc.schedule.parse_schedule`)."""
    from .schedule import parse_schedule as parse

    return parse(text, source)


# ----------------------------------------------------------------------------- the cache

# The validated schedule is kept in a cache keyed by the file's content (and the code that
# shapes it), so that `tariffcalc quote` starts without re-validating the YAML. The cache is
# plain JSON rebuilt into the objects above (never pickle: loading a pickle runs whatever code
# it names, so whoever could write the cache folder would run code as the next user), and it
# is read only from a folder and a file that no other user can write, as ssh and pip require.
CACHE_ENV = "TARIFFCALC_CACHE"
_CACHE_FORMAT = "tariffcalc-schedule-cache/1"
# A cache file is larger than its schedule (field names are written out), but not by this much.
_MAX_CACHE_BYTES = 4 * MAX_SCHEDULE_BYTES
_RULE_CLASSES: dict[str, type[Rule]] = {
    name: value
    for name, value in list(globals().items())
    if isinstance(value, type) and issubclass(value, Rule) and value is not Rule
}


def _cache_dir() -> Path | None:
    setting = os.environ.get(CACHE_ENV)
    if setting == "off":
        return None
    if setting:
        return Path(setting)
    if not sys.platform.startswith("linux"):  # the platform's cache folder, as platformdirs says
        import platformdirs

        return Path(platformdirs.user_cache_dir("tariffcalc", appauthor=False))
    # On Linux the same folder platformdirs gives, worked out here: importing it would cost a
    # quote a tenth of its start.
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "tariffcalc"
    try:
        return Path.home() / ".cache" / "tariffcalc"
    except (RuntimeError, KeyError):  # no home (a service account): no cache
        return None


def _cache_file(text: str, text_sha256: str | None = None) -> Path | None:
    """Where the cache of this schedule text is (None when the cache is off)."""
    base = _cache_dir()
    if base is None:
        return None
    if text_sha256 is None:
        text_sha256 = sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    digest = sha256()
    for part in (text_sha256, __version__, sys.version):
        digest.update(part.encode("utf-8"))
    # The code of the models and of these objects: a cache written by another shape of them is
    # never read back.
    here = Path(__file__)
    for module in (here, here.with_name("schedule.py"), here.with_name("hts.py")):
        with contextlib.suppress(OSError):
            digest.update(module.read_bytes())
    return base / f"schedule-{digest.hexdigest()[:32]}.json"


def _private(info: os.stat_result) -> bool:
    """Owned by this user and writable by no other (where the system has owners at all)."""
    geteuid = getattr(os, "geteuid", None)
    if geteuid is None:  # Windows: no owner or mode bits to check here
        return True
    return info.st_uid == geteuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def cache_problem() -> str | None:
    """Why the schedule cache folder cannot be used (every load then validates the YAML), or
    None when it can, is not made yet, or is turned off."""
    base = _cache_dir()
    if base is None:
        return None
    try:
        info = os.stat(base)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"{base}: {exc.strerror}"
    if not stat.S_ISDIR(info.st_mode):
        return f"{base} is not a folder"
    if not _private(info):
        return (
            f"{base} is not owned by this user or can be written by others "
            "(chmod go-w it, or set TARIFFCALC_CACHE to a folder of your own)"
        )
    return None


def _read_cache(cache: Path | None, text_sha256: str) -> Schedule | None:
    if cache is None or cache_problem() is not None:
        return None
    # O_NONBLOCK: a FIFO planted at the cache's place must not hang the command; O_NOFOLLOW: nor
    # may a link lead elsewhere. What was opened is checked, not the name (which may change).
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(cache, flags | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None  # not there yet (or not readable): validated and written again
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or not _private(info):
            return None
        if info.st_size > _MAX_CACHE_BYTES:
            return None
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return _schedule_from_cache(b"".join(chunks), text_sha256)
    except Exception:  # a stale, damaged or foreign cache is simply rebuilt
        return None
    finally:
        os.close(fd)


def _cache_header(text_sha256: str) -> bytes:
    return f'{{"format":"{_CACHE_FORMAT}","yaml_sha256":"{text_sha256}",'.encode("ascii")


def _schedule_from_cache(data: bytes, text_sha256: str) -> Schedule | None:
    if not data.startswith(_cache_header(text_sha256)):  # the cache of another schedule text
        return None
    document = json.loads(data, object_hook=_revive)
    if (
        type(document) is not dict
        or document.get("format") != _CACHE_FORMAT
        or document.get("yaml_sha256") != text_sha256
    ):
        return None
    schedule = document.get("schedule")
    return schedule if isinstance(schedule, ScheduleRules) else None  # type: ignore[return-value]


class _Columns(tuple):  # type: ignore[type-arg]
    """The codes, headings and listing dates of a list's entries, as read from the cache."""


def _revive(obj: dict[str, Any]) -> Any:
    """One JSON object of the cache as what it stands for. Only data is ever made: the rules'
    classes (by name, from this module), Decimal, date, and plain dicts and tuples."""
    if "$r" in obj:
        cls = _RULE_CLASSES[obj.pop("$r")]
        for name, value in obj.items():
            if type(value) is list:
                obj[name] = tuple(value)
        if cls is ProvisionList:
            columns = obj.pop("provisions")
            if type(columns) is not _Columns:
                raise ValueError("a list without its entries")
            obj["_columns"] = columns
        rule = object.__new__(cls)
        rule.__dict__.update(obj)
        if cls is Schedule:
            rule.index()
        return rule
    if "$d" in obj:
        return Decimal(obj["$d"])
    if "$t" in obj:
        return date.fromisoformat(obj["$t"])
    if "$p" in obj:
        # A list's entries as three columns: the codes in one string, and the few headings and
        # listing dates by position. Checked here; made into rows when the list is first used.
        codes_text, headings, listed = obj["$p"]
        codes = codes_text.split(",")
        heading_of: list[str | None] = [None] * len(codes)
        for position, heading in headings:
            if type(heading) is not str:
                raise ValueError("a heading that is not text")
            heading_of[position] = heading
        listed_from: list[date | None] = [None] * len(codes)
        for position, day in listed:
            listed_from[position] = date.fromisoformat(day)
        return _Columns((codes, heading_of, listed_from))
    return obj


def _plain(value: Any) -> Any:
    """A schedule's value as JSON data that :func:`_revive` makes again."""
    if isinstance(value, Rule):
        plain: dict[str, Any] = {"$r": type(value).__name__}
        listed = isinstance(value, ProvisionList)
        for name, field in vars(value).items():
            if not name.startswith("_") and not (listed and name == "provisions"):
                plain[name] = _plain(field)
        if listed:
            # A list's entries as compact columns (see _revive): read far faster than objects.
            rows = _rows_of(value)
            codes = [code for code, _, _ in rows]
            if any("," in code for code in codes):
                raise ValueError("a provision with a comma cannot be kept in the cache")
            plain["provisions"] = {
                "$p": [
                    ",".join(codes),
                    [[n, row[1]] for n, row in enumerate(rows) if row[1] is not None],
                    [[n, row[2].isoformat()] for n, row in enumerate(rows) if row[2] is not None],
                ]
            }
        return plain
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, Decimal):
        return {"$d": str(value)}
    if type(value) is date:
        return {"$t": value.isoformat()}
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict) and all(
        isinstance(key, str) and not key.startswith("$") for key in value
    ):
        return {key: _plain(item) for key, item in value.items()}
    raise TypeError(f"the schedule cache cannot hold {type(value).__name__}")


def _write_cache(cache: Path | None, schedule: Schedule, text_sha256: str) -> None:
    if cache is None:
        return
    try:
        # 0o700: a folder others may write is never used (see cache_problem)
        cache.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return  # no cache (read-only home, full disk): every run validates the YAML
    if cache_problem() is not None:
        return
    try:
        body = json.dumps(_plain(schedule), ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        return
    data = _cache_header(text_sha256) + f'"schedule":{body}}}'.encode("utf-8", "surrogatepass")
    try:
        import tempfile  # only when the cache is written: a quote that reads it starts faster

        fd, temp = tempfile.mkstemp(dir=cache.parent, prefix=".schedule-", suffix=".part")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        os.replace(temp, cache)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temp)
