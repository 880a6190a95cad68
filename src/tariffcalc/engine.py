"""The pricing engine: a pure function of (schedule, shipment, entry date, scenario) -> Quote.

Every rule it applies is read from the schedule: scopes, exclusions, stacking, holds, content
bases and the inclusive-of-MFN rule. Each duty line is rounded to the cent once, in round_cent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from . import htsdata
from .errors import InputError, ScheduleError, UnknownRateError
from .fees import harbor_maintenance_fee, merchandise_processing_fee
from .hts import format_hts
from .money import LARGEST_AMOUNT, ZERO, ZERO_MONEY, format_percent, round_cent, times
from .notices import Notice, code_of, code_part
from .ordinary_duty import MFNSource, goods_line, mfn_source, ordinary_duty
from .quotes import EFFECTIVE_RATE_PLACES, MFN_MEASURE, DutyLine, ExcludedMeasure, Quote
from .rules import (
    Gap,
    Measure,
    ProvisionEntry,
    RatePeriod,
    Scenario,
    Schedule,
)
from .scope import (
    classify,
    entry_date,
    exclusion_on,
    in_transit,
    measures_reaching,
    not_in_force_on,
)
from .shipment import DECLARATION_FIELDS, Shipment


@dataclass(slots=True)
class _Charge:
    """A measure that reaches the goods on the date, before stacking decides its basis."""

    measure: Measure
    period: RatePeriod
    entry: ProvisionEntry | None
    covered: Decimal = ZERO  # value another measure already charges (content displacement)
    notes: list[str] = field(default_factory=list)


def schedule_start(schedule: Schedule) -> date | None:
    """The first day of the schedule's law: the earliest day any of its measures starts. The
    schedule models no measure before it (the Section 232 duties of 2018 on steel and
    aluminum, for one, are not in it), so a duty it gives for an earlier date is not known to
    be the law's. (Worked out once for a schedule: a batch asks on every key.)"""
    known = schedule.__dict__
    if "_start" not in known:
        known["_start"] = min((measure.first_day for measure in schedule.measures), default=None)
    start: date | None = known["_start"]
    return start


def before_schedule_warning(schedule: Schedule, on: date) -> str | None:
    """What to tell a user of a date before the schedule's first day (see schedule_start)."""
    first = schedule_start(schedule)
    if first is None or on >= first:
        return None
    return Notice("BEFORE_SCHEDULE", (
        f"entry date {on} is before {first}, the first date of this schedule's law: measures "
        "in force before then are not modelled, so the duty shown is the MFN duty alone and "
        "may be too low"
    ))  # fmt: skip


def check_goods_number(hts: str | None) -> None:
    """Refuse a chapter 98 or 99 number as the goods' classification. Chapter 99 headings are
    the additional duties themselves (9903.01.25 is the reciprocal duty), which the engine
    adds to the goods' own line: priced as goods they were charged as 'general' goods with an
    unknown MFN rate. Chapter 98 provisions (US goods returned, goods assembled abroad, ...)
    turn on facts the engine does not model (the value of US components, a prior export)."""
    if hts is None or hts[:2] not in htsdata.SPECIAL_CHAPTERS:
        return
    if hts[:2] == "99":
        raise InputError(
            f"hts: {format_hts(hts)} is a chapter 99 heading (an additional duty), not the "
            "goods' classification; give the goods' HTS number"
        )
    raise InputError(
        f"hts: {format_hts(hts)} is a chapter 98 provision (a special classification such as "
        "US goods returned or goods assembled abroad), which tariffcalc does not price; give "
        "the goods' HTS number"
    )


@dataclass(frozen=True, slots=True)
class PricingPlan:
    """Everything about a shipment's duty that does not depend on its amounts (value, contents,
    quantity, currency, transport mode): which measures reach it on the date, at what rates,
    what is excluded and why. Shipments with the same :func:`plan_key` share one plan, so a batch
    resolves the law once per distinct key and only does the arithmetic per row."""

    entry_date: date
    scenario_name: str | None
    scenario: Scenario | None
    hts: str | None
    hts_label: str | None
    category: str
    mfn: MFNSource | None
    mfn_problem: str
    charges: tuple[tuple[Measure, RatePeriod, ProvisionEntry | None], ...]
    excluded: tuple[ExcludedMeasure, ...]
    not_in_force: tuple[ExcludedMeasure, ...]
    warnings: tuple[str, ...]
    gaps: tuple[Gap, ...]  # gaps that concern these goods on this date, if their measures apply
    # (measure, warning) for declarations the shipment did not make that would take the goods
    # out of a measure: said when the measure is charged.
    undeclared: tuple[tuple[str, str], ...] = ()
    # (measure, statistical lines) for measures that reach only some 10-digit lines of an
    # 8-digit HTS number: the goods are charged as one of them, the higher duty.
    partial: tuple[tuple[str, str], ...] = ()


def plan_key(shipment: Shipment) -> tuple[object, ...]:
    """The fields of a shipment that its pricing plan depends on (with the date and scenario)."""
    return (
        shipment.hts,
        shipment.category,
        shipment.mfn_rate,
        shipment.not_auto_part,
        shipment.annex_ii,
        shipment.civil_aircraft,
        shipment.loaded_on,
        *(getattr(shipment, name) for name in DECLARATION_FIELDS),
    )


def plan_pricing(
    schedule: Schedule, shipment: Shipment, on: date, scenario: str | None = None
) -> PricingPlan:
    """Resolve the law for the goods on the entry date: measures, rates, exclusions."""
    on = entry_date(on)
    active_scenario = schedule.scenario(scenario)
    review = schedule.review_warning(on)
    warnings = [w for w in (before_schedule_warning(schedule, on),
                            Notice("AFTER_REVIEW", review) if review else None) if w]
    excluded: list[ExcludedMeasure] = []
    not_in_force: list[ExcludedMeasure] = []
    hts_label = format_hts(shipment.hts) if shipment.hts is not None else None
    line = goods_line(shipment, on)
    mfn, mfn_problem = mfn_source(schedule, shipment, hts_label, warnings, line)

    charges: list[tuple[Measure, RatePeriod, ProvisionEntry | None]] = []
    undeclared: list[tuple[str, str]] = []
    partial: list[tuple[str, str]] = []
    for measure, entry, longer in measures_reaching(schedule, shipment):
        if longer:
            partial.append((measure.id, longer))
        required = measure.scope.requires
        if required is not None and getattr(shipment, required) is not True:
            undeclared_here = getattr(shipment, required) is None
            charge = undeclared_here and measure.scope.when_undeclared == "charge"
            if undeclared_here and measure.scope.undeclared and measure.period_on(on) is not None:
                code = f"DECLARE_{code_part(required)}"
                if charge:
                    undeclared.append((measure.id, Notice(code, measure.scope.undeclared)))
                else:
                    warnings.append(Notice(code, f"{measure.id}: {measure.scope.undeclared}"))
            if not charge:
                continue
        if active_scenario is not None and measure.id in active_scenario.remove:
            excluded.append(
                ExcludedMeasure(
                    measure.id, measure.title, f"removed by scenario {scenario!r}", kind="scenario"
                )
            )
            continue
        period = measure.period_on(on)
        if period is None:
            not_in_force.append(not_in_force_on(measure, on))
            continue
        if entry is not None and entry.listed_from is not None and on < entry.listed_from:
            not_in_force.append(
                ExcludedMeasure(
                    measure.id,
                    measure.title,
                    f"{format_hts(entry.code)} is listed only for entries from {entry.listed_from}",
                    kind="not-yet-listed",
                )
            )
            continue
        if measure.in_transit:
            period, loaded_before = in_transit(measure, period, shipment, on, undeclared)
            if loaded_before is not None:
                excluded.append(loaded_before)
                continue
        exclusion = exclusion_on(schedule, measure, shipment, on, undeclared)
        if exclusion is not None:
            reason, heading = exclusion
            excluded.append(ExcludedMeasure(measure.id, measure.title, reason, heading))
            continue
        charges.append((measure, period, entry))

    category = classify(schedule, shipment, on)
    return PricingPlan(
        entry_date=on,
        scenario_name=scenario,
        scenario=active_scenario,
        hts=shipment.hts,
        hts_label=hts_label,
        category=category,
        mfn=mfn,
        mfn_problem=mfn_problem,
        charges=tuple(charges),
        excluded=tuple(excluded),
        not_in_force=tuple(not_in_force),
        warnings=tuple(warnings),
        gaps=tuple(g for g in schedule.gaps if g.concerns_goods(on, shipment.hts, category)),
        undeclared=tuple(undeclared),
        partial=tuple(partial),
    )


def price_shipment(
    schedule: Schedule,
    shipment: Shipment,
    on: date,
    scenario: str | None = None,
) -> Quote:
    """Price one shipment entered on ``on`` (a date or text like "2025-05-03") under
    ``schedule`` (and a named scenario)."""
    return price_with_plan(schedule, plan_pricing(schedule, shipment, on, scenario), shipment)


def price_with_plan(schedule: Schedule, plan: PricingPlan, shipment: Shipment) -> Quote:
    """The quote of a shipment whose plan (same :func:`plan_key`, date and scenario) is known:
    its amounts, the stacking that depends on them, the duty lines, gaps and fees."""
    on = plan.entry_date
    # Here, not in plan_pricing: `hts show` describes a chapter 99 heading with a plan.
    check_goods_number(plan.hts)
    warnings = list(plan.warnings)
    excluded = list(plan.excluded)
    customs_value = round_cent(shipment.to_usd(shipment.value))
    if not customs_value:
        raise InputError(
            f"value: the customs value {shipment.value} {shipment.currency} is less than half a "
            "cent in USD; expected at least 0.01 USD"
        )
    if customs_value > LARGEST_AMOUNT:
        # As for any amount given: so that every sum of duties stays exact.
        raise InputError(
            f"value: the customs value {shipment.value} {shipment.currency} is "
            f"{customs_value:.3E} USD; expected at most 15 digits before the point"
        )
    hts_label, category = plan.hts_label, plan.category

    # --- the ordinary duty (MFN)
    mfn_line, mfn_problem = ordinary_duty(
        plan.mfn, plan.mfn_problem, shipment, customs_value, hts_label
    )
    # The MFN rate the inclusive-of-MFN rules compare with: an ad valorem rate itself; for a
    # specific or compound rate, its ad valorem equivalent, the MFN duty divided by the customs
    # value (CSMS 66242844).
    mfn_rate: Decimal | None = None
    if mfn_line is not None and plan.mfn is not None:
        mfn_rate = mfn_line.amount / customs_value if plan.mfn.specific else plan.mfn.ad_valorem

    charges = {
        measure.id: _Charge(measure, period, entry) for measure, period, entry in plan.charges
    }

    # --- what each content-based measure is charged on
    content_value = _content_values(charges, shipment, customs_value, hts_label, warnings)

    def charged_value(charge: _Charge) -> Decimal:
        return content_value.get(charge.measure.id, customs_value)

    # --- stacking: a charged measure displaces others, wholly or on the value it covers
    for rule in schedule.stacking:
        if not rule.covers(on):
            continue
        for displacing_id in rule.measures:
            displacing = charges.get(displacing_id)
            if displacing is None:
                continue
            covered = charged_value(displacing)
            for target_id in rule.displaces:
                target = charges.get(target_id)
                if target is None:
                    continue
                if rule.extent == "whole-good" or covered >= customs_value:
                    del charges[target_id]
                    excluded.append(
                        ExcludedMeasure(
                            target_id,
                            target.measure.title,
                            f"{rule.reason} ({rule.authority})",
                            rule.heading,
                            kind="stacking",
                        )
                    )
                else:
                    target.covered += covered
                    target.notes.append(
                        f"not charged on the {covered} of {displacing.measure.id} content"
                        + (f" ({rule.heading})" if rule.heading else "")
                    )

    for charge in charges.values():
        if charge.period.rate is None:
            raise UnknownRateError(
                f"{charge.measure.title} on {on} ({hts_label or category}): not established: "
                f"{charge.period.not_established}"
            )

    # --- the duty lines
    lines: list[DutyLine] = []
    if mfn_line is not None:
        lines.append(mfn_line)
    else:
        warnings.append(Notice("MFN_UNKNOWN", f"{mfn_problem}: the base duty is unknown"))

    for charge in charges.values():
        period = charge.period
        if period.confidence != "H":
            warnings.append(Notice(
                f"CONFIDENCE_{code_part(charge.measure.id)}",
                f"{charge.measure.id}: the law from {period.start} rests on a secondary source "
                f"(confidence {period.confidence})" + (f": {period.note}" if period.note else ""),
            ))  # fmt: skip
        lines.append(
            _duty_line(
                charge,
                charged_value(charge),
                customs_value,
                shipment,
                mfn_rate,
                mfn_problem,
                plan.scenario,
                on,
            )
        )

    charged = {line.measure for line in lines}
    reached = {measure.id for measure, _, _ in plan.charges}
    partial = [(measure_id, codes) for measure_id, codes in plan.partial if measure_id in reached]
    if partial:
        listed = "; ".join(f"{codes} ({measure_id})" for measure_id, codes in partial)
        kept = ", ".join(m for m, _ in partial if m in charged) or "none of them"
        warnings.append(Notice("STATISTICAL_LINES_LISTED", (
            f"{hts_label}: some of its statistical lines are on Section 232 lists: {listed}; "
            f"priced at the higher duty ({kept}); give the 10-digit HTS number to price the "
            "goods as the line they are"
        )))  # fmt: skip
    by_text: dict[str, list[str]] = {}
    for measure_id, text in plan.undeclared:
        if measure_id in charged:
            by_text.setdefault(text, []).append(measure_id)
    for text, measure_ids in by_text.items():
        warnings.append(Notice(code_of(text), f"{', '.join(measure_ids)}: {text}"))
    for gap in plan.gaps:
        if gap.concerns_charges(charged):
            code = f"GAP_{code_part(gap.topic)}"
            warnings.append(Notice(code, f"not modelled ({gap.topic}): {gap.note}"))

    mpf = hmf = None
    fee_notes: list[str] = []
    if schedule.fees is not None:
        chapter_99 = any(line.program != MFN_MEASURE for line in lines)
        mpf_fee = merchandise_processing_fee(schedule.fees.mpf, customs_value, on, chapter_99)
        hmf_fee = harbor_maintenance_fee(schedule.fees.hmf, customs_value, shipment.mode)
        mpf, hmf = mpf_fee.amount, hmf_fee.amount
        fee_notes = [f"MPF: {mpf_fee.note}", f"HMF: {hmf_fee.note}"]
        for code, fee in (("MPF_UNKNOWN", mpf_fee), ("HMF_MODE_MISSING", hmf_fee)):
            if fee.amount is None:
                warnings.append(Notice(code, fee.note))

    additional = sum((line.amount for line in lines if line.program != MFN_MEASURE), ZERO_MONEY)
    base = mfn_line.amount if mfn_line is not None else None
    total = None if base is None else base + additional
    effective = None if total is None else (total / customs_value).quantize(EFFECTIVE_RATE_PLACES)
    return Quote(
        entry_date=on,
        hts=hts_label,
        category=category,
        value=shipment.value,
        currency=shipment.currency,
        fx_rate=shipment.fx_rate,
        fx_per_usd=shipment.fx_per_usd,
        customs_value=customs_value,
        mfn_rate=mfn_rate,
        lines=tuple(lines),
        excluded=tuple(excluded),
        not_in_force=plan.not_in_force,
        base_duty=base,
        additional_duty=additional,
        total_duty=total,
        on_hold_duty=sum((line.on_hold_amount for line in lines), ZERO_MONEY),
        ieepa_duty=sum((line.amount for line in lines if line.program == "ieepa"), ZERO_MONEY),
        effective_rate=effective,
        scenario=plan.scenario_name,
        warnings=tuple(warnings),
        mpf=mpf,
        hmf=hmf,
        fee_notes=tuple(fee_notes),
    )


def _content_values(
    charges: dict[str, _Charge],
    shipment: Shipment,
    customs_value: Decimal,
    goods: str | None,
    warnings: list[str],
) -> dict[str, Decimal]:
    """The value (USD) each content-based measure is charged on: the declared content of its
    metal, else the one metal content declared when only one metal is concerned, else the full
    value (with a warning, as CBP charges the full value when no content is declared)."""
    content_charges = [c for c in charges.values() if c.period.basis != "value"]
    metals = {c.period.basis.removesuffix("-content") for c in content_charges}
    values: dict[str, Decimal] = {}
    for charge in content_charges:
        metal = charge.period.basis.removesuffix("-content")
        declared = shipment.content_of(metal)
        if declared is None and shipment.metal_content is not None:
            if len(metals) > 1:
                raise InputError(
                    f"metal_content: {goods} is on both the steel and the aluminum lists; "
                    "declare each metal's content (--steel-content and --aluminum-content)"
                )
            declared = shipment.metal_content
        if declared is None:
            warnings.append(Notice(f"CONTENT_MISSING_{code_part(metal)}", (
                f"{charge.measure.id}: no {metal} content value declared, so the duty is charged "
                f"on the full value (declare it with --{metal}-content or --metal-content)"
            )))  # fmt: skip
            values[charge.measure.id] = customs_value
        else:
            values[charge.measure.id] = round_cent(shipment.to_usd(declared))
    return values


def _duty_line(
    charge: _Charge,
    charged: Decimal,
    customs_value: Decimal,
    shipment: Shipment,
    mfn_rate: Decimal | None,
    mfn_problem: str,
    scenario: Scenario | None,
    on: date,
) -> DutyLine:
    measure, period = charge.measure, charge.period
    heading = (charge.entry.heading if charge.entry else None) or period.heading or measure.heading
    authority = period.authority or measure.authority
    notes = list(charge.notes)
    basis = charged - charge.covered
    if period.basis != "value":
        notes.insert(0, f"charged on the {period.basis.removesuffix('-content')} content")

    rule = measure.us_content
    if rule is not None and shipment.us_content is not None:
        us_content = round_cent(shipment.to_usd(shipment.us_content))
        if us_content >= times(customs_value, rule.threshold):
            basis -= us_content
            notes.append(f"US content {us_content} not charged ({rule.heading})")
        else:
            share = format_percent(rule.threshold)
            notes.append(f"US content below {share} of the value: full value charged")
    basis = max(basis, ZERO)

    rate = period.rate
    assert rate is not None  # periods without an established rate were refused above
    if period.inclusive_of_mfn:
        if mfn_rate is None:
            raise UnknownRateError(
                f"{measure.id} on {on} is {format_percent(rate)} inclusive of MFN, and "
                f"{mfn_problem}"
            )
        cap = rate
        rate = max(ZERO, cap - mfn_rate)
        if mfn_rate >= cap and period.heading_if_mfn_at_or_above:
            heading = period.heading_if_mfn_at_or_above
        notes.insert(0, f"{format_percent(cap)} inclusive of MFN")

    held = ZERO
    if period.on_hold is not None:
        if scenario is not None and scenario.lifts_hold(measure.id):
            notes.append(f"the hold on {format_percent(period.on_hold.portion)} is lifted")
        else:
            held = period.on_hold.portion
            rate -= held
            heading = period.on_hold.heading
            notes.append(
                f"{format_percent(held)} of {format_percent(rate + held)} on hold "
                f"({period.on_hold.authority})"
            )
    if rate < ZERO:  # pragma: no cover - the schedule model forbids a hold larger than the rate
        raise ScheduleError(f"{measure.id}: the rate on {on} is negative")

    if period.note:
        notes.append(period.note)
    why = "; ".join([*notes, f"in force from {period.start}"])
    return DutyLine(
        measure=measure.id,
        title=measure.title,
        heading=heading,
        authority=authority,
        rate=rate,
        basis=basis,
        amount=round_cent(times(basis, rate)),
        why=why,
        program=measure.program,
        on_hold_rate=held,
        on_hold_amount=round_cent(times(basis, held)),
    )


__all__ = [
    "EFFECTIVE_RATE_PLACES", "MFN_MEASURE", "DutyLine", "ExcludedMeasure", "PricingPlan",
    "Quote", "before_schedule_warning", "check_goods_number", "classify", "entry_date",
    "goods_line", "plan_key", "plan_pricing", "price_shipment", "price_with_plan",
    "schedule_start",
]  # fmt: skip
