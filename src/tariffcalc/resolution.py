"""What the engine says about each distinct key of a batch's rows (goods, declarations, dated
period), asked once per key on probe values: the output category and warnings, the MFN rate,
and each additional duty line's rates and basis. The batch's arithmetic is done on these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .engine import MFN_MEASURE, PricingPlan, Quote, plan_key, plan_pricing, price_with_plan
from .errors import TariffError
from .notices import warnings_cell
from .rules import MODES, Rule, Schedule
from .shipment import DECLARATION_FIELDS, shipment_from_fields

RATE_SCALE = 10**6  # rates as whole millionths
# Probe values (USD): (customs value, metal content).
_PROBES = ((10000, None),)
_CONTENT_PROBES = ((10000, 1000), (20000, 1000), (10000, 3000), (30000, 7000))
# Cells whose meaning the engine resolves once per distinct value.
GOODS_FIELDS = ("hts", "category", "mfn_rate", "auto_part", "not_auto_part", "annex_ii",
                "civil_aircraft",
                "origin", "loaded_on", *DECLARATION_FIELDS)  # fmt: skip


def pricing_dates(schedule: Schedule) -> list[int]:
    """Every day (as an ordinal) on which the schedule's pricing might change: each date the
    schedule holds anywhere, and the day after it (a rule "to" a date ends the day after).

    Deliberately blind to what the dates mean, so that no dated rule can be missed."""
    days: set[int] = set()

    def walk(node: object) -> None:
        if isinstance(node, date):
            days.add(node.toordinal())
            days.add(node.toordinal() + 1)
        elif isinstance(node, Rule):
            for value in vars(node).values():
                walk(value)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list | tuple | set | frozenset):
            for value in node:
                walk(value)

    walk(schedule)
    return sorted(days)


@dataclass(frozen=True, slots=True)
class Terms:
    """What the engine says about one distinct key: the output category and warnings, the MFN
    rate, and each additional line as (rate, rate on hold, collected under IEEPA, coefficient
    of the customs value, coefficient of the metal content in its basis); rates in millionths."""

    category: str
    warnings: str | None
    mfn: int | None
    lines: tuple[tuple[int, int, bool, int, int], ...]


def millionths(rate: Decimal) -> int | None:
    scaled = rate * RATE_SCALE
    return int(scaled) if scaled == scaled.to_integral_value() else None


class Resolver:
    """Asks the engine, once per distinct key, what the columnar path needs."""

    def __init__(self, schedule: Schedule, scenario: str | None, warning_style: str) -> None:
        self.schedule, self.scenario, self.warning_style = schedule, scenario, warning_style
        # A warnings cell as written, and the warnings it stands for (for the summary).
        self.notices_of: dict[str | None, tuple[str, ...]] = {None: ()}
        self.plans: dict[tuple[object, ...], PricingPlan] = {}
        # What the parts of a file ask again: by key, and whether a day's quotes name it.
        self.known: dict[tuple[object, ...], Terms | None] = {}
        self.dated_days: dict[date, bool] = {}
        self._pricing_dates: list[int] | None = None

    def pricing_dates(self) -> list[int]:
        if self._pricing_dates is None:
            self._pricing_dates = pricing_dates(self.schedule)
        return self._pricing_dates

    def quote(self, fields: dict[str, str | None], on: date) -> Quote:
        shipment = shipment_from_fields(fields, {})
        key = (plan_key(shipment), on)
        plan = self.plans.get(key)
        if plan is None:
            plan = self.plans[key] = plan_pricing(self.schedule, shipment, on, self.scenario)
        if plan.mfn is not None and plan.mfn.specific:
            raise NotLinear
        return price_with_plan(self.schedule, plan, shipment)

    def dated(self, on: date) -> bool:
        """Whether quotes of this date carry warnings that name the date itself (the review
        warning, fees not known for the date): then rows are resolved date by date."""
        if on not in self.dated_days:
            self.dated_days[on] = self._dated(on)
        return self.dated_days[on]

    def _dated(self, on: date) -> bool:
        probe: dict[str, str | None] = {
            "category": "general", "value": "10000", "mfn_rate": "1%", "mode": MODES[0]
        }  # fmt: skip
        try:
            quote = self.quote(probe, on)
        except (TariffError, NotLinear):
            return True
        return any(on.isoformat() in warning for warning in quote.warnings)

    def terms(
        self, goods: dict[str, str | None], metal: bool, mode_given: bool, on: date, dated: bool
    ) -> Terms | None:
        key = (tuple(goods.items()), metal, mode_given, on, dated)
        if key not in self.known:
            self.known[key] = self._terms(goods, metal, mode_given, on, dated)
        return self.known[key]

    def _terms(
        self, goods: dict[str, str | None], metal: bool, mode_given: bool, on: date, dated: bool
    ) -> Terms | None:
        fields: dict[str, str | None] = {**goods, "mode": MODES[0] if mode_given else None}
        probes = _CONTENT_PROBES if metal else _PROBES
        quotes = []
        for value, content in probes:
            fields["value"] = str(value)
            fields["metal_content"] = None if content is None else str(content)
            try:
                quotes.append(self.quote(fields, on))
            except (TariffError, NotLinear):
                return None
        first = quotes[0]

        def shape(quote: Quote) -> object:
            lines = tuple((ln.measure, ln.rate, ln.on_hold_rate, ln.program) for ln in quote.lines)
            return quote.category, quote.warnings, lines

        if any(shape(quote) != shape(first) for quote in quotes[1:]):
            return None
        if not dated and any(on.isoformat() in warning for warning in first.warnings):
            return None
        mfn = None
        lines = []
        for i, line in enumerate(first.lines):
            bases = [quote.lines[i].basis for quote in quotes]
            if metal:
                of_value, of_content = (bases[1] - bases[0]) / 10000, (bases[2] - bases[0]) / 2000
            else:
                of_value, of_content = Decimal(1), Decimal(0)
            if of_value not in (-1, 0, 1) or of_content not in (-1, 0, 1):
                return None
            for basis, (value, content) in zip(bases, probes, strict=True):
                if basis != of_value * value + of_content * (content or 0):
                    return None
            rate, held = millionths(line.rate), millionths(line.on_hold_rate)
            if rate is None or held is None:
                return None
            if line.measure == MFN_MEASURE:
                if of_value != 1 or of_content != 0:
                    return None
                mfn = rate
            else:
                lines.append((rate, held, line.program == "ieepa", int(of_value), int(of_content)))
        cell = warnings_cell(first.warnings, self.warning_style)
        self.notices_of.setdefault(cell, first.warnings)
        return Terms(first.category, cell, mfn, tuple(lines))


class NotLinear(Exception):
    """The goods' duty is not a fixed rate of their value (a specific MFN rate)."""
