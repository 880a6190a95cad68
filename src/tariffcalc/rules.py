"""The schedule at run time: the validated rules as plain objects.

``schedule.py`` validates a schedule file into frozen pydantic models; the result is turned into
the plain objects of this module (same class names, same fields, the same methods, which live
here once as the *Rules mixins that both share). This module imports neither pydantic nor
``schedule.py`` (only for type checking): :mod:`~tariffcalc.loading` reads, validates and
caches a schedule, so that `tariffcalc quote` loads it without importing pydantic at all (the
largest part of its start-up time otherwise).
"""

from __future__ import annotations

import functools
import os
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ScheduleError
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
        self._list_index: dict[str, ProvisionIndex[tuple[str, str | None, date | None]]] = {}
        self._mfn_index = ProvisionIndex((rate.provision, rate) for rate in self.mfn)

    def measure(self: model.Schedule, measure_id: str) -> model.Measure:  # type: ignore[misc]
        return self._measures_by_id[measure_id]

    def _index_of(  # type: ignore[misc]
        self: model.Schedule, list_name: str
    ) -> ProvisionIndex[tuple[str, str | None, date | None]]:
        index = self._list_index.get(list_name)
        if index is None:
            rows = rows_of(self.lists[list_name])
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
        return index.extending(hts)

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
                for code, heading, listed_from in rows_of(self):
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


def rows_of(plist: ProvisionList) -> tuple[tuple[str, str | None, date | None], ...]:
    """A list's entries as (code, heading, listed_from) rows."""
    known = plist.__dict__
    rows = known.get("_rows")
    if rows is None:
        columns = known.get("_columns")
        if columns is not None:
            rows = known["_rows"] = tuple(zip(*columns, strict=True))
        else:
            rows = tuple((e.code, e.heading, e.listed_from) for e in plist.provisions)
    return rows


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
    "CATEGORIES", "MAX_SCHEDULE_BYTES", "MODES", "SCHEDULE_ENV", "Displacement",
    "Exclusion", "Fee", "FeeBounds", "Fees",
    "EntryTypeRule", "Gap", "Hold", "InTransit", "Informal", "InformalEntry", "Interest",
    "MFNRate", "Measure", "OverpaymentRate", "ProvisionEntry", "ProvisionList", "RatePeriod",
    "RefundHeading", "Refunds",
    "Scenario", "Schedule", "Scope", "SpecificRate", "USContentRule",
    "default_schedule_path", "twin",
]  # fmt: skip


# ----------------------------------------------------------------------------- where it is


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
