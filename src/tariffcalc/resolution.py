"""What the engine says about each distinct key of a batch's rows (goods, declarations, dated
period), asked once per key on probe values: the output category and warnings, the MFN rate,
and each additional duty line's rates and basis. The batch's arithmetic is done on these."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
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
    """Asks the engine, once per distinct key, what the batch's arithmetic needs."""

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

    def terms(self, request: Request) -> Terms | None:
        """What the engine says about one key: (goods cells as (field, cell) pairs, metal
        content declared, transport mode given, the day resolved, whether the day's quotes
        name it); None when its rows are for the engine to price alone."""
        if request not in self.known:
            self._keep(request, self._terms(request))
        return self.known[request]

    def resolve_all(self, requests: list[Request]) -> None:
        """Resolve the keys not known yet in worker processes, when there are enough of them
        to be worth the workers (``$TARIFFCALC_WORKERS``: how many; the cores by default):
        each is a fork of this process, so it has the schedule already, and only the keys and
        what the engine says of them cross between processes."""
        todo = [request for request in dict.fromkeys(requests) if request not in self.known]
        workers = min(worker_count(), len(todo) // _KEYS_PER_WORKER)
        if workers < 2 or not sys.platform.startswith("linux"):
            # (forking a process whose threads polars started is safe on Linux, where the
            # workers only run the engine's Python; elsewhere keys are resolved here)
            return  # resolved one by one as they are asked for
        global _working
        _working = self
        try:
            with multiprocessing.get_context("fork").Pool(workers, _quiet_worker) as pool:
                chunk = max(1, len(todo) // (workers * 8))
                for request, found in pool.imap_unordered(_resolved, todo, chunksize=chunk):
                    self._keep(request, found)
        finally:
            _working = None

    def _keep(self, request: Request, found: tuple[Terms, tuple[str, ...]] | None) -> None:
        if found is None:
            self.known[request] = None
            return
        terms, warnings = found
        self.notices_of.setdefault(terms.warnings, warnings)
        self.known[request] = terms

    def _terms(self, request: Request) -> tuple[Terms, tuple[str, ...]] | None:
        """The terms of a key and the warnings its warnings cell stands for."""
        goods, metal, mode_given, on, dated = request
        fields: dict[str, str | None] = {**dict(goods), "mode": MODES[0] if mode_given else None}
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
        return Terms(first.category, cell, mfn, tuple(lines)), first.warnings


# A key to resolve: (goods cells as (field, cell) pairs, metal content declared, transport mode
# given, the day resolved, whether the day's quotes name it).
Request = tuple[tuple[tuple[str, str | None], ...], bool, bool, date, bool]
WORKERS_ENV = "TARIFFCALC_WORKERS"
_KEYS_PER_WORKER = 200  # fewer keys than this a worker: not worth a process
_working: Resolver | None = None  # the resolver a worker process was forked from


def worker_count() -> int:
    """How many processes may resolve keys ($TARIFFCALC_WORKERS, else the cores)."""
    setting = os.environ.get(WORKERS_ENV, "").strip()
    if setting.isdigit() and int(setting) > 0:
        return int(setting)
    return os.cpu_count() or 1


def _quiet_worker() -> None:
    """A worker leaves Ctrl-C and termination to the batch, which ends the workers itself (a
    worker's own KeyboardInterrupt would print its traceback)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def _resolved(request: Request) -> tuple[Request, tuple[Terms, tuple[str, ...]] | None]:
    """In a worker process: a key and what the engine says of it."""
    assert _working is not None
    return request, _working._terms(request)


class NotLinear(Exception):
    """The goods' duty is not a fixed rate of their value (a specific MFN rate)."""
