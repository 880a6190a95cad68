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
import hashlib
import os
import pickle
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .errors import ScheduleError, file_problem
from .hts import ProvisionIndex
from .money import format_percent

if TYPE_CHECKING:  # the validated shapes, for type checking (the runtime twins below share them)
    from . import schedule as model

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
            plist = self.lists[list_name]
            rows = plist.__dict__.get("_compact")
            if rows is None:
                rows = tuple((e.code, e.heading, e.listed_from) for e in plist.provisions)
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
        # Pickled (the schedule cache) as plain tuples, which load several times faster than
        # thousands of objects; the entries are made again the first time they are asked for.
        def __reduce__(self) -> tuple[Any, ...]:
            compact = tuple((e.code, e.heading, e.listed_from) for e in self.provisions)
            return (_compact_list, (self.title, self.source, compact))

        def __getattr__(self, name: str) -> Any:
            if name == "provisions" and "_compact" in self.__dict__:
                entries = []
                for code, heading, listed_from in self.__dict__["_compact"]:
                    entry = object.__new__(ProvisionEntry)
                    entry.__dict__.update(code=code, heading=heading, listed_from=listed_from)
                    entries.append(entry)
                self.__dict__["provisions"] = provisions = tuple(entries)
                return provisions
            raise AttributeError(name)

    def _compact_list(title: str, source: str, compact: tuple[Any, ...]) -> ProvisionList:
        plist = object.__new__(ProvisionList)
        plist.__dict__.update(title=title, source=source, _compact=compact)
        return plist

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
    "CATEGORIES", "MODES", "SCHEDULE_ENV", "Displacement", "Exclusion", "Fee", "FeeBounds", "Fees",
    "EntryTypeRule", "Gap", "Hold", "InTransit", "Informal", "InformalEntry", "Interest",
    "MFNRate", "Measure", "OverpaymentRate", "ProvisionEntry", "ProvisionList", "RatePeriod",
    "RefundHeading", "Refunds",
    "Scenario", "Schedule", "Scope", "SpecificRate", "USContentRule", "default_schedule_path",
    "load_schedule", "parse_schedule", "twin",
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


def load_schedule(path: str | os.PathLike[str] | None = None) -> Schedule:
    """Load and validate a schedule file (the packaged tariffs.yaml when no path is given)."""
    schedule_path = Path(path) if path is not None else default_schedule_path()
    try:
        text = schedule_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScheduleError(file_problem(schedule_path, exc, "a YAML schedule")) from None
    cache = _cache_file(text)
    cached = _read_cache(cache)
    if cached is not None:
        return cached
    from .schedule import parse_schedule  # validation: pydantic, only when the cache misses

    schedule = parse_schedule(text, str(schedule_path))
    _write_cache(cache, schedule)
    return schedule


def parse_schedule(text: str, source: str = "tariffs.yaml") -> Schedule:
    """Validate schedule text (see :func:`tariffcalc.schedule.parse_schedule`)."""
    from .schedule import parse_schedule as parse

    return parse(text, source)


# The validated schedule is kept in a cache keyed by the file's content (and the code that
# shapes it), so that `tariffcalc quote` starts without re-validating the YAML.
CACHE_ENV = "TARIFFCALC_CACHE"


def _cache_file(text: str) -> Path | None:
    setting = os.environ.get(CACHE_ENV)
    if setting == "off":
        return None
    base = (
        Path(setting)
        if setting
        else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tariffcalc"
    )
    digest = hashlib.sha256()
    for part in (text, __version__, sys.version):
        digest.update(part.encode("utf-8", "surrogatepass"))
    # The code of the models and of these objects: a cache written by another shape of them is
    # never read back.
    here = Path(__file__)
    for module in (here, here.with_name("schedule.py"), here.with_name("hts.py")):
        with contextlib.suppress(OSError):
            digest.update(module.read_bytes())
    return base / f"schedule-{digest.hexdigest()[:32]}.pickle"


def _read_cache(cache: Path | None) -> Schedule | None:
    if cache is None:
        return None
    try:
        with cache.open("rb") as stream:
            schedule = pickle.load(stream)
    except Exception:  # a missing, stale or damaged cache is simply rebuilt
        return None
    return schedule if isinstance(schedule, ScheduleRules) else None  # type: ignore[return-value]


def _write_cache(cache: Path | None, schedule: Schedule) -> None:
    if cache is None:
        return
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        import tempfile  # only when the cache is written: a quote that reads it starts faster

        fd, temp = tempfile.mkstemp(dir=cache.parent, prefix=".schedule-", suffix=".part")
    except OSError:
        return  # no cache (read-only home, full disk): every run validates the YAML
    try:
        with os.fdopen(fd, "wb") as stream:
            pickle.dump(schedule, stream, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temp, cache)
    except Exception:
        with contextlib.suppress(OSError):
            os.unlink(temp)
