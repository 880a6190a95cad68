"""The duty history of one good: every entry date on which what it pays changed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from .engine import Quote, check_goods_number, entry_date, price_shipment, schedule_start
from .errors import InputError, TariffError
from .money import format_percent
from .rules import Schedule
from .shipment import Shipment

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class TimelineStep:
    start: date
    end: date  # inclusive
    quote: Quote | None  # None when the duty could not be priced on these dates
    problem: str | None = None

    @property
    def measures(self) -> str:
        """The lines behind the duty, e.g. "mfn 2.5% + autos-232 12.5% (9903.94.41)"."""
        if self.quote is None:
            return ""
        parts = []
        for line in self.quote.lines:
            text = f"{line.measure} {format_percent(line.rate)}"
            if line.measure != "mfn":
                held = f", {format_percent(line.on_hold_rate)} on hold" if line.on_hold_rate else ""
                text += f" ({line.heading}{held})"
            parts.append(text)
        return " + ".join(parts)

    @property
    def total_rate(self) -> Decimal | None:
        return None if self.quote is None else self.quote.effective_rate


def change_dates(schedule: Schedule) -> set[date]:
    """Every date on which some duty rule of the schedule starts or stops applying."""
    dates: set[date] = set()

    def add(start: date | None, end: date | None) -> None:
        if start is not None:
            dates.add(start)
        if end is not None and end < date.max:  # a rule to 9999-12-31 never stops applying
            dates.add(end + ONE_DAY)

    for measure in schedule.measures:
        for period in measure.rates:
            add(period.start, period.end)
        for exclusion in measure.exclusions:
            add(exclusion.start, exclusion.end)
    for rule in schedule.stacking:
        add(rule.start, rule.end)
    for plist in schedule.lists.values():
        for entry in plist.provisions:
            add(entry.listed_from, None)
    return dates


def _signature(step_quote: Quote | None, problem: str | None) -> object:
    if step_quote is None:
        return ("problem", problem)
    return (
        tuple((line.measure, line.heading, line.rate, line.basis) for line in step_quote.lines),
        step_quote.total_duty,
        step_quote.on_hold_duty,
    )


@dataclass(frozen=True, slots=True)
class TimelineSpan:
    start: date
    end: date
    warnings: tuple[str, ...]  # why the span is not the one asked for, or not all known


def timeline_span(
    schedule: Schedule,
    start: date | str | None = None,
    end: date | str | None = None,
    labels: tuple[str, str] = ("start", "end"),
) -> TimelineSpan:
    """The dates a timeline can state as the schedule's law: from ``start`` (default: the
    first day of the schedule's law) to ``end`` (default: the last day it was reviewed for).

    Before its first day the schedule models no measure, so a timeline would show the MFN duty
    alone as if it were the law (for steel in 2018-2025 it was not: Section 232 applied): a
    ``start`` before it is moved to it with a warning, and an ``end`` before it is refused. An
    ``end`` after the reviewed-through date is kept, with a warning. ``labels`` name the two
    dates in messages (the command line's --from and --to)."""
    first, reviewed = schedule_start(schedule), schedule.reviewed_through
    start_label, end_label = labels
    on_from = entry_date(start, start_label) if start is not None else first or reviewed
    on_to = entry_date(end, end_label) if end is not None else reviewed
    warnings: list[str] = []
    if first is not None and on_to < first:
        raise InputError(
            f"{end_label}: {on_to} is before {first}, the first date of the schedule's law; "
            "measures in force before then are not modelled"
        )
    if first is not None and on_from < first:
        warnings.append(
            f"{start_label} {on_from} is before {first}, the first date of the schedule's law: "
            f"measures in force before then are not modelled, so the timeline starts on {first}"
        )
        on_from = first
    if on_to < on_from:
        raise InputError(f"{end_label}: {on_to} is before {start_label} {on_from}")
    if on_to > reviewed:
        warnings.append(
            f"{end_label} {on_to} is after {reviewed}, the last date the schedule has been "
            "reviewed for: rates in force after that date are not known to it"
        )
    return TimelineSpan(on_from, on_to, tuple(warnings))


def duty_timeline(
    schedule: Schedule,
    shipment: Shipment,
    start: date | str,
    end: date | str,
    scenario: str | None = None,
) -> list[TimelineStep]:
    """The periods from ``start`` to ``end`` over which the goods' duty stayed the same.

    The dates are taken as given: see :func:`timeline_span` for the span the schedule can
    speak for (a quote of a date before it carries a warning saying so)."""
    start, end = entry_date(start, "start"), entry_date(end, "end")
    if end < start:
        raise InputError(f"--to: {end} is before --from {start}")
    check_goods_number(shipment.hts)  # refused on every date: once, not as each step's problem
    candidates = sorted(d for d in change_dates(schedule) if start < d <= end)
    steps: list[TimelineStep] = []
    previous: object = None
    for day in [start, *candidates]:
        quote: Quote | None
        problem: str | None = None
        try:
            quote = price_shipment(schedule, shipment, day, scenario)
        except TariffError as exc:
            quote, problem = None, str(exc)
        signature = _signature(quote, problem)
        if steps and signature == previous:
            continue
        if steps:
            last = steps[-1]
            steps[-1] = TimelineStep(last.start, day - ONE_DAY, last.quote, last.problem)
        steps.append(TimelineStep(day, end, quote, problem))
        previous = signature
    return steps


def step_chart(steps: list[TimelineStep], width: int = 60, height: int = 8) -> Iterator[str]:
    """A text step chart of the total duty rate over time (one column per stretch of days)."""
    if not steps:
        return
    first, last = steps[0].start, steps[-1].end
    days = (last - first).days + 1
    top = max((s.total_rate or Decimal(0) for s in steps), default=Decimal(0))
    if top <= 0:
        top = Decimal(1)
    columns: list[Decimal | None] = []
    for column in range(width):
        day = first + timedelta(days=column * days // width)
        step = next(s for s in steps if s.start <= day <= s.end)
        columns.append(step.total_rate)
    for level in range(height, 0, -1):
        threshold = top * level / height
        label = format_percent(threshold.quantize(Decimal("0.001")))
        half_step = top / (2 * height)
        cells = "".join(
            ("?" if level == 1 else " ")
            if rate is None
            else ("█" if rate >= threshold - half_step else " ")
            for rate in columns
        )
        yield f"{label:>7} │{cells}"
    yield f"{'':>7} └{'─' * width}"
    yield f"{'':>9}{first.isoformat()}{last.isoformat():>{width - 10}}"
