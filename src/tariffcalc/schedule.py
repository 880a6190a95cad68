"""The dated tariff schedule: strict YAML loading into frozen pydantic models.

The schedule is law as data (the openfisca idea): each measure carries its legal authority, its
Chapter 99 heading and a timeline of dated rates; scopes are lists of HTS provisions; stacking and
exclusions are declared, not coded per measure. Nothing here knows about the command line.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import VERSION as pydantic_version
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from . import __version__
from .errors import ScheduleError, file_problem
from .hts import ProvisionIndex, normalize_provision

SCHEDULE_ENV = "TARIFFCALC_SCHEDULE"

Category = Literal["autos", "auto-parts", "steel", "aluminum", "general"]
CATEGORIES: tuple[str, ...] = ("autos", "auto-parts", "steel", "aluminum", "general")
# What a rate is charged on: the whole customs value, or the declared value of one metal's content.
Basis = Literal["value", "steel-content", "aluminum-content"]
# Shipment declarations that an exclusion can turn on.
Flag = Literal["annex_ii", "not_auto_part", "civil_aircraft"]
Program = Literal["ieepa", "section-232", "section-122"]


def _schedule_rate(value: Any) -> Any:
    """Rates are written "25%" or as a decimal fraction (0.25, read exactly as written)."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%"):
            try:
                return Decimal(text[:-1].strip()) / 100
            except ArithmeticError:
                raise ValueError(f"expected a rate such as 25% or 0.25, got {value!r}") from None
    if isinstance(value, float):  # never produced by our loader, but keep 0.1 exactly 0.1
        return Decimal(repr(value))
    return value


def _provision(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"expected an HTS provision such as 8708.40.11, got {value!r}")
    return normalize_provision(value)


def _provision_entry(value: Any) -> Any:
    # A provision can be written alone ("8708.40.11") or with its own heading / listing date.
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return {"code": value}
    return value


Rate = Annotated[Decimal, BeforeValidator(_schedule_rate), Field(ge=0, le=1)]
Money = Annotated[Decimal, Field(ge=0)]
Provision = Annotated[str, BeforeValidator(_provision)]
Heading = Annotated[str, Field(pattern=r"^99\d\d\.\d\d\.\d\d$")]
Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=60)]
Text = Annotated[str, Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


class _Dated(_Model):
    """Something in force from ``from`` through ``to`` (both inclusive; no ``to`` = open-ended)."""

    start: date | None = Field(default=None, alias="from")
    end: date | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> _Dated:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"'to' ({self.end}) is before 'from' ({self.start})")
        return self

    def covers(self, on: date) -> bool:
        return (self.start is None or self.start <= on) and (self.end is None or on <= self.end)


class ProvisionEntry(_Model):
    code: Provision
    heading: Heading | None = None
    listed_from: date | None = Field(default=None, alias="from")


class ProvisionList(_Model):
    title: Text
    source: Text
    provisions: tuple[Annotated[ProvisionEntry, BeforeValidator(_provision_entry)], ...] = Field(
        min_length=1
    )

    @model_validator(mode="after")
    def _unique(self) -> ProvisionList:
        seen: set[str] = set()
        for entry in self.provisions:
            if entry.code in seen:
                raise ValueError(f"provision {entry.code} is listed twice")
            seen.add(entry.code)
        return self


class Hold(_Model):
    """Part of a rate suspended (on hold): not collected unless a scenario lifts the hold."""

    portion: Rate
    heading: Heading  # the heading reported while the portion is held
    authority: Text


class RatePeriod(_Model):
    start: date = Field(alias="from")
    end: date | None = Field(default=None, alias="to")
    # A period whose law is known to have changed but is not encoded says so instead of a rate.
    rate: Rate | None = None
    not_established: Text | None = None
    heading: Heading | None = None
    authority: Text | None = None
    basis: Basis = "value"
    # "15% inclusive of MFN": the additional duty is max(0, rate - MFN).
    inclusive_of_mfn: bool = False
    heading_if_mfn_at_or_above: Heading | None = None
    on_hold: Hold | None = None
    note: Text | None = None

    @model_validator(mode="after")
    def _consistent(self) -> RatePeriod:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"'to' ({self.end}) is before 'from' ({self.start})")
        if (self.rate is None) == (self.not_established is None):
            raise ValueError("a rate period has either a rate or not_established (one of them)")
        if self.rate is None:
            if self.on_hold or self.inclusive_of_mfn:
                raise ValueError("a period without a rate cannot have on_hold or inclusive_of_mfn")
            return self
        if self.on_hold is not None and self.on_hold.portion > self.rate:
            raise ValueError(
                f"on_hold.portion ({self.on_hold.portion}) is larger than the rate ({self.rate})"
            )
        if self.heading_if_mfn_at_or_above is not None and not self.inclusive_of_mfn:
            raise ValueError("heading_if_mfn_at_or_above needs inclusive_of_mfn: true")
        return self

    def covers(self, on: date) -> bool:
        return self.start <= on and (self.end is None or on <= self.end)


class Scope(_Model):
    all_goods: bool = False
    lists: tuple[Identifier, ...] = ()
    # Shipments described by category alone (no HTS number) that this measure reaches.
    categories: tuple[Category, ...] = ()

    @model_validator(mode="after")
    def _not_empty(self) -> Scope:
        if not self.all_goods and not self.lists:
            raise ValueError("a scope needs all_goods: true or at least one list")
        return self


class Exclusion(_Dated):
    reason: Text
    heading: Heading | None = None
    authority: Text | None = None
    lists: tuple[Identifier, ...] = ()
    flag: Flag | None = None

    @model_validator(mode="after")
    def _one_trigger(self) -> Exclusion:
        if bool(self.lists) == (self.flag is not None):
            raise ValueError("an exclusion names either lists or a flag (exactly one of them)")
        return self


class USContentRule(_Model):
    """EO 14257 §3(d): at least this share of US content -> only the non-US content is charged."""

    threshold: Rate
    heading: Heading
    authority: Text


class Measure(_Model):
    id: Identifier
    title: Text
    category: Category
    program: Program
    authority: Text
    heading: Heading
    scope: Scope
    exclusions: tuple[Exclusion, ...] = ()
    us_content: USContentRule | None = None
    rates: tuple[RatePeriod, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _timeline(self) -> Measure:
        for earlier, later in zip(self.rates, self.rates[1:], strict=False):
            if later.start <= earlier.start:
                raise ValueError(
                    f"rates must be in date order: {later.start} comes after {earlier.start}"
                )
            if earlier.end is None or earlier.end >= later.start:
                raise ValueError(
                    f"rate periods overlap: the one from {earlier.start} runs into {later.start}"
                )
        return self

    def period_on(self, on: date) -> RatePeriod | None:
        for period in self.rates:
            if period.covers(on):
                return period
        return None

    @property
    def first_day(self) -> date:
        return self.rates[0].start

    @property
    def last_day(self) -> date | None:
        return self.rates[-1].end


class Displacement(_Dated):
    """When one of ``measures`` is charged, those in ``displaces`` are not (stacking rule).

    extent "whole-good": the displaced measures are not charged at all. extent "covered-value":
    they are not charged on the value the displacing measure covers (its metal content) but
    still are on the rest of the value.
    """

    measures: tuple[Identifier, ...] = Field(min_length=1)
    displaces: tuple[Identifier, ...] = Field(min_length=1)
    extent: Literal["whole-good", "covered-value"] = "whole-good"
    reason: Text
    heading: Heading | None = None
    authority: Text


class SpecificRate(_Model):
    """A specific part of a rate: US dollars per unit of quantity (4.4¢/kg -> 0.044 per kg)."""

    amount: Money
    unit: Text


class MFNRate(_Model):
    provision: Provision
    rate: Rate  # the ad valorem part (0 for a purely specific rate)
    specific: tuple[SpecificRate, ...] = ()
    text: Text | None = None  # the rate as published, e.g. "2.5% + 4.4¢/kg"
    goods: Text
    source: Text
    confidence: Literal["H", "M", "L"]

    @property
    def label(self) -> str:
        return self.text or f"{self.rate * 100:f}".rstrip("0").rstrip(".") + "%"


class Scenario(_Model):
    title: Text
    # Suspended portions that take effect: "all", or the ids of the measures whose holds lift.
    lift_holds: Literal["all"] | tuple[Identifier, ...] = ()
    # Measures treated as never in force (e.g. to see a world without the IEEPA duties).
    remove: tuple[Identifier, ...] = ()

    def lifts_hold(self, measure_id: str) -> bool:
        return self.lift_holds == "all" or measure_id in self.lift_holds


class Gap(_Dated):
    """A fact the schedule does not establish; quotes that touch it carry this as a warning."""

    topic: Text
    note: Text
    categories: tuple[Category, ...] = ()
    provisions: tuple[Provision, ...] = ()
    # Warn only when one of these measures is charged on the goods.
    measures: tuple[Identifier, ...] = ()

    @property
    def is_general(self) -> bool:
        """A limit of the whole schedule (listed by `rates`), not tied to some quotes."""
        return not (self.categories or self.provisions or self.measures or self.start or self.end)

    def concerns_goods(self, on: date, hts: str | None, category: str) -> bool:
        """Whether the gap may concern these goods on this date (before knowing which measures
        are charged on them)."""
        if self.is_general or not self.covers(on):
            return False
        if self.categories and category not in self.categories:
            return False
        return not self.provisions or bool(hts and any(hts.startswith(p) for p in self.provisions))

    def concerns_charges(self, charged: set[str]) -> bool:
        return not self.measures or bool(charged.intersection(self.measures))


Mode = Literal["ocean", "air", "land"]
MODES: tuple[str, ...] = ("ocean", "air", "land")


class FeeBounds(_Dated):
    """Minimum and maximum of a fee per entry, for entries from ``from`` through ``to``."""

    minimum: Money
    maximum: Money

    @model_validator(mode="after")
    def _ordered_bounds(self) -> FeeBounds:
        if self.maximum < self.minimum:
            raise ValueError(f"maximum {self.maximum} is below minimum {self.minimum}")
        return self


class Fee(_Model):
    title: Text
    authority: Text
    rate: Rate
    # Transport modes the fee applies to (empty: every mode).
    modes: tuple[Mode, ...] = ()
    # Per-entry bounds by date; a fee with bounds is unknown on a date no bounds cover.
    bounds: tuple[FeeBounds, ...] = ()

    def bounds_on(self, on: date) -> FeeBounds | None:
        return next((b for b in self.bounds if b.covers(on)), None)


class Fees(_Model):
    mpf: Fee
    hmf: Fee


class Schedule(_Model):
    title: Text
    country: Text
    reviewed_through: date
    lists: dict[Identifier, ProvisionList]
    measures: tuple[Measure, ...] = Field(min_length=1)
    stacking: tuple[Displacement, ...] = ()
    mfn: tuple[MFNRate, ...] = ()
    scenarios: dict[Identifier, Scenario] = Field(default_factory=dict)
    gaps: tuple[Gap, ...] = ()
    fees: Fees | None = None

    _list_index: dict[str, ProvisionIndex[ProvisionEntry]] = PrivateAttr(default_factory=dict)
    _mfn_index: ProvisionIndex[MFNRate] = PrivateAttr()
    _measures_by_id: dict[str, Measure] = PrivateAttr(default_factory=dict)

    @field_validator("mfn")
    @classmethod
    def _mfn_unique(cls, rates: tuple[MFNRate, ...]) -> tuple[MFNRate, ...]:
        seen: set[str] = set()
        for rate in rates:
            if rate.provision in seen:
                raise ValueError(f"MFN rate for provision {rate.provision} is given twice")
            seen.add(rate.provision)
        return rates

    @model_validator(mode="after")
    def _references(self) -> Schedule:
        ids: set[str] = set()
        for measure in self.measures:
            if measure.id in ids:
                raise ValueError(f"measure id {measure.id!r} is used twice")
            ids.add(measure.id)

        def known_list(name: str, where: str) -> None:
            if name not in self.lists:
                raise ValueError(
                    f"{where} names unknown list {name!r}; lists: {sorted(self.lists)}"
                )

        def known_measure(name: str, where: str) -> None:
            if name not in ids:
                raise ValueError(f"{where} names unknown measure {name!r}; measures: {sorted(ids)}")

        for measure in self.measures:
            for name in measure.scope.lists:
                known_list(name, f"measure {measure.id!r} scope")
            for exclusion in measure.exclusions:
                for name in exclusion.lists:
                    known_list(name, f"measure {measure.id!r} exclusion")
        for number, rule in enumerate(self.stacking):
            for name in rule.measures:
                known_measure(name, f"stacking rule {number}")
            for name in rule.displaces:
                known_measure(name, f"stacking rule {number}")
        for gap in self.gaps:
            for name in gap.measures:
                known_measure(name, f"gap {gap.topic!r}")
        for scenario_id, scenario in self.scenarios.items():
            if scenario.lift_holds != "all":
                for name in scenario.lift_holds:
                    known_measure(name, f"scenario {scenario_id!r} lift_holds")
            for name in scenario.remove:
                known_measure(name, f"scenario {scenario_id!r} remove")
        return self

    def model_post_init(self, context: Any, /) -> None:
        self._measures_by_id = {m.id: m for m in self.measures}
        self._list_index = {
            name: ProvisionIndex((entry.code, entry) for entry in plist.provisions)
            for name, plist in self.lists.items()
        }
        self._mfn_index = ProvisionIndex((rate.provision, rate) for rate in self.mfn)

    def measure(self, measure_id: str) -> Measure:
        return self._measures_by_id[measure_id]

    def find_in_list(self, list_name: str, hts: str) -> ProvisionEntry | None:
        """The most specific provision of a list that covers this HTS number, if any."""
        return self._list_index[list_name].lookup(hts)

    def mfn_rate(self, hts: str) -> MFNRate | None:
        """The MFN rate of the most specific provision the schedule knows for this HTS number."""
        return self._mfn_index.lookup(hts)

    def with_mfn(self, rates: tuple[MFNRate, ...]) -> Schedule:
        """This schedule with more MFN rates (e.g. an imported HTS revision); for a provision
        given both here and in ``rates``, ``rates`` wins."""
        given = {rate.provision for rate in rates}
        merged = tuple(r for r in self.mfn if r.provision not in given) + rates
        copy = self.model_copy(update={"mfn": merged})
        copy._mfn_index = ProvisionIndex((rate.provision, rate) for rate in merged)
        return copy

    def review_warning(self, on: date) -> str | None:
        """What to tell a user of rates on a date later than the schedule has been reviewed for."""
        if on <= self.reviewed_through:
            return None
        return (
            f"entry date {on} is after {self.reviewed_through}, the last date this schedule "
            "has been reviewed for: rates in force after that date are not known to it"
        )

    def scenario(self, name: str | None) -> Scenario | None:
        if name is None:
            return None
        if name not in self.scenarios:
            known = ", ".join(sorted(self.scenarios)) or "none"
            raise ScheduleError(f"unknown scenario {name!r}; this schedule has: {known}")
        return self.scenarios[name]


# ----------------------------------------------------------------------------- loading


_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_BaseLoader):  # type: ignore[valid-type, misc]
    """Safe YAML that rejects duplicate keys and keeps decimals and dates as written.

    PyYAML silently keeps the last of two equal keys; a schedule must never lose a rate that way.
    Floats become Decimal from their text (0.1 is exactly one tenth); dates stay text so that the
    models can say what was expected.
    """


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    # Keys merged in with "<<: *anchor" may be overridden; keys written out may not repeat.
    written = sum(1 for key, _ in node.value if key.tag != "tag:yaml.org,2002:merge")
    loader.flatten_mapping(node)
    merged_count = len(node.value) - written
    mapping: dict[Any, Any] = {}
    seen: set[Any] = set()
    for position, (key_node, value_node) in enumerate(node.value):
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, bool)) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, f"unsupported mapping key {key!r}", key_node.start_mark
            )
        if position < merged_count:
            mapping[key] = loader.construct_object(value_node, deep=True)
            continue
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"duplicate key {key!r}",
                key_node.start_mark,
            )
        seen.add(key)
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        return Decimal(text)
    except ArithmeticError:  # .inf, .nan and other YAML floats that are not amounts
        return text


_StrictLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


def _line_map(node: yaml.Node, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], int]]:
    """(path, line) for every node, so that model errors can point at a line of the file."""
    yield path, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                yield from _line_map(value_node, (*path, key_node.value))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _line_map(item, (*path, index))


def _describe_location(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    # pydantic adds the names of union members and validators ("function-before[...]"); the
    # user only needs the path through their own file.
    return tuple(
        part
        for part in loc
        if not (isinstance(part, str) and ("[" in part or part in {"ProvisionEntry", "str"}))
    )


def _explain(error: Any) -> str:
    kind = error["type"]
    got = error.get("input")
    if kind in {"date_from_datetime_parsing", "date_parsing", "date_type"}:
        return f"expected a date like 2025-04-05, got {got!r}"
    if kind == "extra_forbidden":
        return "unknown field (check the spelling against the schedule format in the README)"
    if kind == "missing":
        return "required field is missing"
    if kind == "string_pattern_mismatch":
        pattern = str(error.get("ctx", {}).get("pattern", ""))
        if pattern.startswith("^99"):
            return f"expected a Chapter 99 heading such as 9903.01.25, got {got!r}"
        return f"expected a lowercase id such as autos-232, got {got!r}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind in {"value_error", "assertion_error"} or isinstance(got, (dict, list)):
        return message
    return f"{message}, got {got!r}"


def default_schedule_path() -> Path:
    """$TARIFFCALC_SCHEDULE, else the schedule shipped in the package, else the repository's."""
    override = os.environ.get(SCHEDULE_ENV)
    if override:
        return Path(override)
    packaged = Path(__file__).with_name("tariffs.yaml")
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "tariffs.yaml"


def parse_schedule(text: str, source: str = "tariffs.yaml") -> Schedule:
    """Validate schedule text; every error names the source, the line and what was expected."""
    try:
        loader = _StrictLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = exc.problem or "not valid YAML"
        context = f" ({exc.context})" if exc.context else ""
        raise ScheduleError(f"{where}: {problem}{context}") from None
    except yaml.YAMLError as exc:
        raise ScheduleError(f"{source}: not valid YAML: {exc}") from None
    except RecursionError:
        raise ScheduleError(f"{source}: nested too deeply to be a schedule") from None
    return schedule_from_data(data, source, node)


def schedule_from_data(data: Any, source: str, node: yaml.Node | None = None) -> Schedule:
    """Validate data read from a schedule (``node``, when given, locates errors by line)."""
    if data is None:
        raise ScheduleError(f"{source}: the schedule is empty")
    if not isinstance(data, dict):
        raise ScheduleError(f"{source}: expected a mapping with title, measures, lists, ...")
    try:
        return Schedule.model_validate(data)
    except RecursionError:
        raise ScheduleError(f"{source}: nested too deeply to be a schedule") from None
    except ValidationError as exc:
        lines = dict(_line_map(node)) if node is not None else {}
        messages = []
        for error in exc.errors():
            loc = _clean_loc(tuple(error["loc"]))
            line = next((lines[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in lines), None)
            where = f"{source}:{line}" if line else source
            messages.append(f"{where}: {_describe_location(loc)}: {_explain(error)}")
        more = f" (and {len(messages) - 1} more)" if len(messages) > 1 else ""
        raise ScheduleError(messages[0] + more) from None


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
    schedule = parse_schedule(text, str(schedule_path))
    _write_cache(cache, schedule)
    return schedule


# The validated schedule is kept in a cache keyed by the file's content (and the versions that
# shape the models), so that `tariffcalc quote` starts without re-validating the YAML.
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
    for part in (text, __version__, pydantic_version, sys.version):
        digest.update(part.encode("utf-8", "surrogatepass"))
    # The models' own code: a cache written by another shape of them is never read back.
    for module in (Path(__file__), Path(__file__).with_name("hts.py")):
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
    return schedule if isinstance(schedule, Schedule) else None


def _write_cache(cache: Path | None, schedule: Schedule) -> None:
    if cache is None:
        return
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
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
