"""Which measures reach a shipment's goods on an entry date: the category of the goods, the
list entry that covers them (from the date it was listed), the declarations that take them
out, the exclusions in force, goods loaded before a measure began (in transit), and measures
that reach the goods but are not in force on the date."""

from __future__ import annotations

from datetime import date

from .errors import InputError
from .hts import format_hts
from .notices import Notice, code_part
from .quotes import ExcludedMeasure
from .rules import CATEGORIES, Measure, ProvisionEntry, RatePeriod, Schedule
from .shipment import Shipment, parse_date


def entry_date(on: object, what: str = "entry date") -> date:
    """The entry date as the engine takes it: a ``datetime.date`` or ISO text ("2025-05-03");
    InputError for anything else (a datetime too: its time and zone are no part of an entry
    date, and comparing it with the schedule's dates raises TypeError)."""
    if type(on) is date:
        return on
    if isinstance(on, str):
        return parse_date(on, what)
    kind = "a datetime (give its .date())" if isinstance(on, date) else type(on).__name__
    raise InputError(f"{what}: expected a date (datetime.date) or text like 2025-05-03, got "
                     f"{kind}")


def classify(schedule: Schedule, shipment: Shipment, on: date) -> str:
    """The category of the goods on an entry date: the first category (in CATEGORIES order)
    whose measures in force on the date cover the HTS number (a provision counts from the date
    it was listed,
    a measure that needs a declaration counts only when it is made, and a declaration such as
    "not an auto part" takes the goods out), else general."""
    if shipment.category is not None:
        return shipment.category
    assert shipment.hts is not None
    on = entry_date(on)
    for category in CATEGORIES:
        for measure in schedule.measures:
            if measure.category != category or measure.scope.all_goods:
                continue
            if excluded_by_flag(measure, shipment):
                continue
            required = measure.scope.requires
            if required is not None:
                declared = getattr(shipment, required)
                charged_without = declared is None and measure.scope.when_undeclared == "charge"
                if declared is not True and not charged_without:
                    continue
            if measure.period_on(on) is None:
                continue  # not a measure of that date (a later action, an ended one)
            for name in measure.scope.lists:
                entry = schedule.find_in_list(name, shipment.hts)
                if entry is not None and (entry.listed_from is None or entry.listed_from <= on):
                    return category
    return "general"


def excluded_by_flag(measure: Measure, shipment: Shipment) -> bool:
    return any(
        exclusion.flag is not None and not exclusion.lists and getattr(shipment, exclusion.flag)
        for exclusion in measure.exclusions
    )


def scope_entry(
    schedule: Schedule, measure: Measure, shipment: Shipment
) -> tuple[bool, ProvisionEntry | None]:
    """Whether the measure's scope reaches the goods, and the most specific provision that did
    (before any declaration the scope requires)."""
    if shipment.hts is None:
        return (measure.scope.all_goods or shipment.category in measure.scope.categories), None
    for name in measure.scope.lists:
        entry = schedule.find_in_list(name, shipment.hts)
        if entry is not None:
            return True, entry
    return measure.scope.all_goods, None


def measures_reaching(
    schedule: Schedule, shipment: Shipment
) -> list[tuple[Measure, ProvisionEntry | None, str]]:
    """The measures whose scope reaches the goods (whatever the date), each with the most
    specific list entry that did and, for an 8-digit number reached only through statistical
    lines the lists name, those lines (else ""): the goods are then charged as one of them
    (the higher duty) until the 10-digit number says otherwise. Worked out once per goods for
    a schedule (a batch asks for the same goods on many dates)."""
    cache: dict[tuple[str | None, str | None], list[tuple[Measure, ProvisionEntry | None, str]]]
    cache = schedule.__dict__.setdefault("_reaching", {})
    key = (shipment.hts, shipment.category)
    found = cache.get(key)
    if found is None:
        found = []
        for measure in schedule.measures:
            in_scope, entry = scope_entry(schedule, measure, shipment)
            lines = ""
            if not in_scope and shipment.hts is not None and len(shipment.hts) == 8:
                longer = longer_listings(schedule, measure, shipment.hts)
                if longer:
                    in_scope, entry = True, longer[0][1]
                    lines = ", ".join(format_hts(code) for code, _ in longer)
            if in_scope:
                found.append((measure, entry, lines))
        if len(cache) > 100_000:
            cache.clear()
        cache[key] = found
    return found


def longer_listings(
    schedule: Schedule, measure: Measure, hts: str
) -> list[tuple[str, ProvisionEntry]]:
    """Statistical lines (10 digits) under an 8-digit HTS number that the measure's lists name
    although the 8-digit line itself is not on them, with their list entries."""
    found: dict[str, ProvisionEntry] = {}
    for name in measure.scope.lists:
        for code in schedule.longer_in_list(name, hts):
            entry = schedule.find_in_list(name, code)
            if entry is not None:
                found.setdefault(code, entry)
    return sorted(found.items())


def exclusion_on(
    schedule: Schedule,
    measure: Measure,
    shipment: Shipment,
    on: date,
    undeclared: list[tuple[str, str]],
) -> tuple[str, str | None] | None:
    """The first exclusion that takes the goods out of the measure on the date (its reason
    and heading), if any. An exclusion that turns on a declaration the shipment did not make
    leaves the duty charged and, where the schedule says so, a warning naming it."""
    for exclusion in measure.exclusions:
        if not exclusion.covers(on):
            continue
        if exclusion.lists and not (
            shipment.hts is not None
            and any(schedule.find_in_list(name, shipment.hts) for name in exclusion.lists)
        ):
            continue
        if exclusion.except_chapters and (
            shipment.hts is None or shipment.hts[:2] in exclusion.except_chapters
        ):
            continue
        if exclusion.chapters and (
            shipment.hts is None or shipment.hts[:2] not in exclusion.chapters
        ):
            continue
        if exclusion.unless is not None and getattr(shipment, exclusion.unless):
            continue
        if exclusion.flag is not None:
            declared = getattr(shipment, exclusion.flag)
            if declared is None and exclusion.undeclared:
                code = f"DECLARE_{code_part(exclusion.flag)}"
                undeclared.append((measure.id, Notice(code, exclusion.undeclared)))
            if not declared:
                continue
        return exclusion.reason, exclusion.heading
    return None


def in_transit(
    measure: Measure,
    period: RatePeriod,
    shipment: Shipment,
    on: date,
    undeclared: list[tuple[str, str]],
) -> tuple[RatePeriod, ExcludedMeasure | None]:
    """The period that applies to goods in transit when a measure changed (reference §12): an
    earlier rate, or no duty (the ExcludedMeasure); without a loading date, the ordinary
    treatment and a warning naming the option."""
    for window in measure.in_transit:
        if not window.start <= on <= window.end:
            continue
        loaded = shipment.loaded_on
        if loaded is None:
            undeclared.append((measure.id, Notice("LOADED_ON_MISSING", (
                f"goods loaded on the vessel before {window.loaded_before} and entered by "
                f"{window.end} {window.treatment} ({window.heading}); give the loading date "
                "(--loaded-on / column loaded_on) to apply it"
            ))))  # fmt: skip
        elif loaded < window.loaded_before:
            reason = (
                f"in transit: loaded on {loaded}, before {window.loaded_before}, and entered by "
                f"{window.end}: the goods {window.treatment} ({window.authority})"
            )
            if window.rate is None:
                return period, ExcludedMeasure(measure.id, measure.title, reason, window.heading)
            return period.replaced(
                rate=window.rate, heading=window.heading, authority=window.authority,
                inclusive_of_mfn=False, heading_if_mfn_at_or_above=None, on_hold=None,
                confidence=window.confidence, note=reason,
            ), None  # fmt: skip
        break
    return period, None


def not_in_force_on(measure: Measure, on: date) -> ExcludedMeasure:
    if on < measure.first_day:
        kind, reason = (
            "not-yet-in-force",
            f"not yet in force: applies to entries from {measure.first_day}",
        )
    elif measure.last_day is not None and on > measure.last_day:
        kind, reason = "ended", f"ended: applied to entries through {measure.last_day}"
    else:
        kind, reason = "not-in-force", "not in force on this date"
    return ExcludedMeasure(measure.id, measure.title, reason, kind=kind)
