"""The shape of the hand-checked quote tables (test_engine, test_history) and their check."""

from __future__ import annotations

from datetime import date

import pytest

from tariffcalc import Schedule, Shipment, price_shipment

# (name, shipment fields, entry date, scenario, lines as (measure, heading, rate, amount),
#  total duty, on hold, measures excluded by exclusions or stacking)
Case = tuple[str, dict, str, str | None, list[tuple[str, str, str, str]], str, str, list[str]]


def hand_checked(cases: list[Case]):
    return pytest.mark.parametrize("case", cases, ids=[case[0] for case in cases])


def check_quote(schedule: Schedule, case: Case) -> None:
    _name, shipment, on, scenario, lines, total, on_hold, excluded = case
    quote = price_shipment(schedule, Shipment(**shipment), date.fromisoformat(on), scenario)
    got = [(line.measure, line.heading, f"{line.rate.normalize():f}", f"{line.amount}")
           for line in quote.lines]
    assert got == lines
    assert f"{quote.total_duty}" == total
    assert f"{quote.on_hold_duty}" == on_hold
    assert sorted(item.measure for item in quote.excluded) == sorted(excluded)
    assert quote.total_duty == quote.base_duty + quote.additional_duty
