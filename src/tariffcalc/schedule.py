"""The dated tariff schedule: strict YAML validated by frozen pydantic models.

The schedule is law as data (the openfisca idea): each measure carries its legal authority, its
Chapter 99 heading and a timeline of dated rates; scopes are lists of HTS provisions; stacking and
exclusions are declared, not coded per measure. Nothing here knows about the command line.

A validated schedule is handed out as the plain objects of ``rules.py`` (same names, fields and
methods, no pydantic); :func:`~tariffcalc.loading.load_schedule` keeps them in a cache.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from .errors import quoted
from .hts import ProvisionIndex, normalize_provision
from .rules import (
    CATEGORIES,
    MAX_SCHEDULE_BYTES,
    MODES,
    SCHEDULE_ENV,
    DatedRules,
    FeeRules,
    GapRules,
    MeasureRules,
    MFNRateRules,
    RatePeriodRules,
    ScenarioRules,
    ScheduleRules,
    default_schedule_path,
)
from .schedule_checks import did_you_mean, stacking_cycle

__all__ = [
    "CATEGORIES", "MAX_SCHEDULE_BYTES", "MODES",
    "SCHEDULE_ENV",
    "default_schedule_path",
]  # fmt: skip

Category = Literal[
    "autos", "auto-parts", "trucks", "steel", "aluminum", "copper", "wood", "semiconductors",
    "pharmaceuticals", "drones", "general",
]  # fmt: skip
# What a rate is charged on: the whole customs value, or the declared value of one metal's content.
Basis = Literal["value", "steel-content", "aluminum-content", "copper-content"]
# Shipment declarations that a scope or an exclusion can turn on (see shipment.DECLARATIONS).
Flag = Literal[
    "annex_ii", "not_auto_part", "civil_aircraft", "no_metal", "metal_weight_under_15",
    "us_metal", "advanced_chips", "chip_end_use_exempt", "generic_pharma",
    "non_annex_iii_company", "allied_components", "certified_auto_part", "not_heavy_vehicle",
    "not_wooden",
]  # fmt: skip
Program = Literal["ieepa", "section-232", "section-122", "section-301"]


def _schedule_rate(value: Any) -> Any:
    """Rates are written "25%" or as a decimal fraction (0.25, read exactly as written)."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%"):
            try:
                return Decimal(text[:-1].strip()) / 100
            except ArithmeticError:
                raise ValueError(
                    f"expected a rate such as 25% or 0.25, got {quoted(value)}"
                ) from None
    if isinstance(value, float):  # never produced by our loader, but keep 0.1 exactly 0.1
        return Decimal(repr(value))
    return value


def _number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _unquoted(value: Any, example: str) -> ValueError:
    # YAML reads digits without quotes as a number: 0401100000 as the octal 67403776, 8703.10
    # as 8703.1. What was written cannot be known from the number, so it must be quoted.
    return ValueError(
        f"written without quotes, YAML reads it as the number {value}: "
        f'write it in quotes, such as "{example}"'
    )


def _provision(value: Any) -> str:
    if _number(value):
        raise _unquoted(value, "0401.10.00")
    if not isinstance(value, str):
        raise ValueError(f"expected an HTS provision such as 8708.40.11, got {quoted(value)}")
    return normalize_provision(value)


def _two_digits(value: Any) -> Any:
    if _number(value):
        raise _unquoted(value, "07")
    return value


def _provision_entry(value: Any) -> Any:
    # A provision can be written alone ("8708.40.11") or with its own heading / listing date.
    if isinstance(value, str) or _number(value):
        return {"code": value}
    return value


Rate = Annotated[Decimal, BeforeValidator(_schedule_rate), Field(ge=0, le=1)]
Money = Annotated[Decimal, Field(ge=0)]
Provision = Annotated[str, BeforeValidator(_provision)]
# A chapter 99 heading; "9903.08.xx" where the law's rate is known but not its heading number.
Heading = Annotated[str, Field(pattern=r"^99\d\d\.\d\d\.(\d\d|xx)$")]
Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=60)]
Text = Annotated[str, Field(min_length=1)]
# An HTS chapter ("07") or a CBP entry type ("01"): two digits, written in quotes.
TwoDigits = Annotated[str, BeforeValidator(_two_digits), Field(pattern=r"^\d\d$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


class _Dated(_Model, DatedRules):
    """Something in force from ``from`` through ``to`` (both inclusive; no ``to`` = open-ended)."""

    start: date | None = Field(default=None, alias="from")
    end: date | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> _Dated:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"'to' ({self.end}) is before 'from' ({self.start})")
        return self


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


class RatePeriod(_Model, RatePeriodRules):
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
    # The fact base's confidence in the period (H primary text, M one secondary source, L weak):
    # a quote that charges an M or L period says so.
    confidence: Literal["H", "M", "L"] = "H"

    if TYPE_CHECKING:
        # Only the plain twin of rules.py has it (rules.RatePeriodCopy): the model is never
        # priced with, the twin is (scope.in_transit).
        def replaced(self, **changes: Any) -> RatePeriod: ...

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


class Scope(_Model):
    all_goods: bool = False
    lists: tuple[Identifier, ...] = ()
    # Shipments described by category alone (no HTS number) that this measure reaches.
    categories: tuple[Category, ...] = ()
    # A measure that reaches listed goods only on a declaration the HTS number does not carry
    # (an advanced chip, a certified part): charged only when the shipment declares it; when
    # the shipment says nothing, ``undeclared`` is the warning that names the declaration.
    requires: Flag | None = None
    undeclared: Text | None = None
    # Without the declaration: "skip" (the law's default leaves the goods out: an advanced chip
    # must meet the note 39(b) bands) or "charge" (no default: the higher duty is charged).
    when_undeclared: Literal["skip", "charge"] = "skip"

    @model_validator(mode="after")
    def _not_empty(self) -> Scope:
        if not self.all_goods and not self.lists:
            raise ValueError("a scope needs all_goods: true or at least one list")
        return self


class Exclusion(_Dated):
    """Goods a measure reaches but does not charge: listed goods, or goods with a declaration
    (a flag), or goods of some lists with a declaration (both)."""

    reason: Text
    heading: Heading | None = None
    authority: Text | None = None
    lists: tuple[Identifier, ...] = ()
    flag: Flag | None = None
    # The exclusion does not concern goods of these HTS chapters (e.g. the 15%-by-weight rule
    # of the 2026 metals duties, which does not reach chapters 72, 73, 74 and 76).
    except_chapters: tuple[TwoDigits, ...] = ()
    # The exclusion concerns only goods of these HTS chapters.
    chapters: tuple[TwoDigits, ...] = ()
    # The exclusion does not apply to goods declared so (e.g. a listed auto part declared not
    # to be a part of a passenger vehicle keeps the reciprocal duty).
    unless: Flag | None = None
    # When the shipment does not make the declaration, the duty is charged (the law's default
    # or the higher duty) and this warning names the declaration that would change it.
    undeclared: Text | None = None

    @model_validator(mode="after")
    def _one_trigger(self) -> Exclusion:
        if not self.lists and self.flag is None and not self.chapters:
            raise ValueError("an exclusion names lists, chapters, a flag, or some of them")
        if self.undeclared is not None and self.flag is None:
            raise ValueError("undeclared needs a flag (the declaration it names)")
        return self


class USContentRule(_Model):
    """EO 14257 §3(d): at least this share of US content -> only the non-US content is charged."""

    threshold: Rate
    heading: Heading
    authority: Text


class InTransit(_Model):
    """Goods loaded on the vessel before ``loaded_before`` and entered from ``from`` through
    ``to`` keep the earlier treatment: the measure is not charged (no ``rate``), or is
    charged at ``rate`` (an earlier rate) under ``heading``."""

    start: date = Field(alias="from")
    end: date = Field(alias="to")
    loaded_before: date
    rate: Rate | None = None
    heading: Heading
    authority: Text
    treatment: Text  # what the goods keep, e.g. "keep the 10% reciprocal rate"
    confidence: Literal["H", "M", "L"] = "H"

    @model_validator(mode="after")
    def _window(self) -> InTransit:
        if self.end < self.start:
            raise ValueError(f"'to' ({self.end}) is before 'from' ({self.start})")
        if self.loaded_before > self.start:
            raise ValueError("loaded_before is after the window's first entry date")
        return self


class Measure(_Model, MeasureRules):
    id: Identifier
    title: Text
    category: Category
    program: Program
    authority: Text
    heading: Heading
    scope: Scope
    exclusions: tuple[Exclusion, ...] = ()
    us_content: USContentRule | None = None
    # In-transit windows (reference §12): goods loaded before a change keep the earlier law.
    in_transit: tuple[InTransit, ...] = ()
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


class MFNRate(_Model, MFNRateRules):
    provision: Provision
    rate: Rate  # the ad valorem part (0 for a purely specific rate)
    specific: tuple[SpecificRate, ...] = ()
    text: Text | None = None  # the rate as published, e.g. "2.5% + 4.4¢/kg"
    goods: Text
    source: Text
    confidence: Literal["H", "M", "L"]


class Scenario(_Model, ScenarioRules):
    title: Text
    # Suspended portions that take effect: "all", or the ids of the measures whose holds lift.
    lift_holds: Literal["all"] | tuple[Identifier, ...] = ()
    # Measures treated as never in force (e.g. to see a world without the IEEPA duties).
    remove: tuple[Identifier, ...] = ()


class Gap(_Dated, GapRules):
    """A fact the schedule does not establish; quotes that touch it carry this as a warning."""

    topic: Text
    note: Text
    categories: tuple[Category, ...] = ()
    provisions: tuple[Provision, ...] = ()
    # Warn only when one of these measures is charged on the goods.
    measures: tuple[Identifier, ...] = ()


Mode = Literal["ocean", "air", "land"]


class FeeBounds(_Dated):
    """Minimum and maximum of a fee per entry, for entries from ``from`` through ``to``."""

    minimum: Money
    maximum: Money
    confidence: Literal["H", "M", "L"] = "H"
    source: Text | None = None

    @model_validator(mode="after")
    def _ordered_bounds(self) -> FeeBounds:
        if self.maximum < self.minimum:
            raise ValueError(f"maximum {self.maximum} is below minimum {self.minimum}")
        return self


class InformalEntry(_Dated):
    """A shipment of at most ``max_value`` may be entered informally and pays ``flat`` MPF,
    unless an article over ``formal_if_chapter_99_over`` is subject to a chapter 99 duty
    (19 CFR 143.21(a); reference §13)."""

    flat: Money
    confidence: Literal["H", "M", "L"] = "H"


class Informal(_Model):
    max_value: Money
    formal_if_chapter_99_over: Money
    authority: Text
    flat: tuple[InformalEntry, ...] = Field(min_length=1)


class Fee(_Model, FeeRules):
    title: Text
    authority: Text
    rate: Rate
    # Transport modes the fee applies to (empty: every mode).
    modes: tuple[Mode, ...] = ()
    # Per-entry bounds by date; a fee with bounds is unknown on a date no bounds cover.
    bounds: tuple[FeeBounds, ...] = ()
    informal: Informal | None = None


class Fees(_Model):
    mpf: Fee
    hmf: Fee


class RefundHeading(_Model):
    """A chapter 99 number that carries IEEPA duty (refundable) or only marks an exemption from
    it; ``declares`` names the shipment declaration the exemption stands for."""

    heading: Heading
    what: Text
    refundable: bool = True
    declares: Literal["annex_ii", "civil_aircraft"] | None = None


class EntryTypeRule(_Dated):
    """Entry types CAPE does not accept, on declarations filed from ``from`` through ``to``."""

    types: tuple[TwoDigits, ...] = Field(min_length=1)
    reason: Text


class OverpaymentRate(_Dated):
    """The IRS overpayment rates (a year) of one calendar quarter, as CBP applies them."""

    start: date = Field(alias="from")  # a quarter has both ends
    end: date = Field(alias="to")
    non_corporate: Rate
    corporate: Rate
    confidence: Literal["H", "M", "L"] = "H"
    source: Text


class Interest(_Model):
    authority: Text
    quarters: tuple[OverpaymentRate, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _quarters_follow(self) -> Interest:
        for before, after in zip(self.quarters, self.quarters[1:], strict=False):
            if before.end is None or after.start is None or (after.start - before.end).days != 1:
                raise ValueError(
                    f"interest quarters must follow each other without a gap or overlap: "
                    f"{before.start}..{before.end} then {after.start}..{after.end}"
                )
        return self


class Refunds(_Model):
    """What CBP's CAPE accepts and how the refund's interest runs (reference §14)."""

    authority: Text
    opens: date
    max_entries: int = Field(gt=0)
    liquidated_within_days: int = Field(gt=0)
    protest_days: int = Field(gt=0)
    processing_days: int = Field(ge=0)
    headings: tuple[RefundHeading, ...] = Field(min_length=1)
    entry_types: tuple[EntryTypeRule, ...] = ()
    reconciliation_from: date
    adcvd_types: tuple[TwoDigits, ...] = ()
    interest: Interest


class Schedule(_Model, ScheduleRules):
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
    refunds: Refunds | None = None

    # Built by ScheduleRules.index on the plain schedule this model becomes (rules.twin); the
    # model itself is only validated, never priced with.
    _list_index: dict[str, ProvisionIndex[tuple[str, str | None, date | None]]] = PrivateAttr(
        default_factory=dict
    )  # a list's (code, heading, listed_from) rows (rules.rows_of), by their codes
    _mfn_index: ProvisionIndex[MFNRate] = PrivateAttr()
    _measures_by_id: dict[str, Measure] = PrivateAttr(default_factory=dict)
    # Set by loading.load_schedule: the file and the sha256 of the text it was loaded from.
    _source: str | None = PrivateAttr(default=None)
    _text_sha256: str | None = PrivateAttr(default=None)

    @field_validator("stacking")
    @classmethod
    def _stacking_in_any_order(cls, rules: tuple[Displacement, ...]) -> tuple[Displacement, ...]:
        problem = stacking_cycle(rules)
        if problem is not None:
            raise ValueError(problem)
        return rules

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
                hint = did_you_mean(name, self.lists)
                raise ValueError(f"{where} names unknown list {name!r}{hint}")

        def known_measure(name: str, where: str) -> None:
            if name not in ids:
                raise ValueError(f"{where} names unknown measure {name!r}{did_you_mean(name, ids)}")

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
