"""The shape of the hand-checked quote tables (test_engine, test_history) and their check."""

from __future__ import annotations

from datetime import date

import pytest

from tariffcalc import Quote, Schedule, Shipment, price_shipment

# (name, shipment fields, entry date, scenario, lines as (measure, heading, rate, amount),
#  total duty, on hold, measures excluded by exclusions or stacking)
Case = tuple[str, dict, str, str | None, list[tuple[str, str, str, str]], str, str, list[str]]


def hand_checked(cases: list[Case]):
    return pytest.mark.parametrize("case", cases, ids=[case[0] for case in cases])


def check_quote(schedule: Schedule, case: Case) -> None:
    """Exact lines and totals; the exclusions exactly those named."""
    _name, shipment, on, scenario, lines, total, on_hold, excluded = case
    quote = check_lines(schedule, shipment, on, scenario, lines, total, on_hold)
    assert sorted(item.measure for item in quote.excluded) == sorted(excluded)


def check_lines(schedule: Schedule, shipment: dict, on: str, scenario: str | None,
                lines: list[tuple[str, str, str, str]], total: str, on_hold: str,
                excluded: dict[str, str | None] | None = None) -> Quote:
    """Exact lines and totals; the quote excludes at least the measures named, each under the
    heading given (None: any heading). Returns the quote for further checks."""
    quote = price_shipment(schedule, Shipment(**shipment), date.fromisoformat(on), scenario)
    got = [(line.measure, line.heading, f"{line.rate.normalize():f}", f"{line.amount}")
           for line in quote.lines]
    assert got == lines
    assert f"{quote.total_duty}" == total
    assert f"{quote.on_hold_duty}" == on_hold
    assert quote.total_duty == quote.base_duty + quote.additional_duty
    out = {item.measure: item.heading for item in quote.excluded}
    for measure, heading in (excluded or {}).items():
        assert measure in out, f"{measure} not excluded: {sorted(out)}"
        if heading is not None:
            assert out[measure] == heading
    return quote
