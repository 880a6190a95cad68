"""The rate table: what each measure of the schedule does on a given entry date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .money import ZERO, format_rate
from .rules import Measure, RatePeriod, Schedule

STATUS_IN_FORCE = "in force"
STATUS_ON_HOLD = "on hold"
STATUS_PARTLY_ON_HOLD = "partly on hold"
STATUS_NOT_YET = "not yet in force"
STATUS_ENDED = "ended"
STATUS_BETWEEN = "not in force"
STATUS_REMOVED = "removed by scenario"
STATUS_NOT_ESTABLISHED = "not established"

RATE_COLUMNS = (
    "measure",
    "title",
    "category",
    "rate",
    "in_force",
    "status",
    "basis",
    "from",
    "to",
    "heading",
    "authority",
)


@dataclass(frozen=True, slots=True)
class RateRow:
    measure: str
    title: str
    category: str
    rate: Decimal | None  # the full rate of the period shown (None: not established)
    in_force: Decimal | None  # the rate collected on the date (0 when not in force or held)
    status: str
    basis: str  # "value", "steel content", ..., with "inclusive of MFN" where so
    start: date | None
    end: date | None
    heading: str
    authority: str

    def as_strings(self) -> dict[str, str]:
        return {
            "measure": self.measure,
            "title": self.title,
            "category": self.category,
            "rate": "" if self.rate is None else format_rate(self.rate),
            "in_force": "" if self.in_force is None else format_rate(self.in_force),
            "status": self.status,
            "basis": self.basis,
            "from": self.start.isoformat() if self.start else "",
            "to": self.end.isoformat() if self.end else "",
            "heading": self.heading,
            "authority": self.authority,
        }


def _basis_label(period: RatePeriod) -> str:
    label = "value" if period.basis == "value" else period.basis.replace("-", " ")
    return f"{label}, inclusive of MFN" if period.inclusive_of_mfn else label


def _row(
    measure: Measure, period: RatePeriod, status: str, in_force: Decimal | None, heading: str
) -> RateRow:
    return RateRow(
        measure=measure.id,
        title=measure.title,
        category=measure.category,
        rate=period.rate,
        in_force=in_force,
        status=status,
        basis=_basis_label(period),
        start=period.start,
        end=period.end,
        heading=heading,
        authority=period.authority or measure.authority,
    )


def rate_table(schedule: Schedule, on: date, scenario: str | None = None) -> list[RateRow]:
    """One row per measure: its rate on ``on`` and whether it is collected, held, or not in force.

    For a measure not in force on the date the row shows the period nearest to it (the first one
    for a measure not yet in force, the last one for an ended measure).
    """
    active = schedule.scenario(scenario)
    rows = []
    for measure in schedule.measures:
        period = measure.period_on(on)
        heading = measure.heading
        if active is not None and measure.id in active.remove:
            nearest = period or measure.rates[0]
            rows.append(_row(measure, nearest, STATUS_REMOVED, ZERO, nearest.heading or heading))
            continue
        if period is None:
            if on < measure.first_day:
                nearest, status = measure.rates[0], STATUS_NOT_YET
            elif measure.last_day is not None and on > measure.last_day:
                nearest, status = measure.rates[-1], STATUS_ENDED
            else:
                nearest = max((p for p in measure.rates if p.start <= on), key=lambda p: p.start)
                status = STATUS_BETWEEN
            rows.append(_row(measure, nearest, status, ZERO, nearest.heading or heading))
            continue
        heading = period.heading or heading
        if period.rate is None:
            rows.append(_row(measure, period, STATUS_NOT_ESTABLISHED, None, heading))
            continue
        collected, status = period.rate, STATUS_IN_FORCE
        lifted = active is not None and active.lifts_hold(measure.id)
        if period.on_hold is not None and not lifted:
            collected = period.rate - period.on_hold.portion
            status = STATUS_ON_HOLD if collected == ZERO else STATUS_PARTLY_ON_HOLD
            heading = period.on_hold.heading
        rows.append(_row(measure, period, status, collected, heading))
    return rows
