"""Plain-data views of results (JSON objects, CSV rows): money as "0.00" strings, rates as
decimal-fraction strings. The command line renders these; other programs can consume them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .engine import Quote
from .money import format_money, format_rate


def money_or_none(amount: Decimal | None) -> str | None:
    return None if amount is None else format_money(amount)


def rate_or_none(rate: Decimal | None) -> str | None:
    return None if rate is None else format_rate(rate)


def quote_to_dict(quote: Quote) -> dict[str, Any]:
    """The quote as the JSON object of the command-line contract (see README)."""
    return {
        "entry_date": quote.entry_date.isoformat(),
        "hts": quote.hts,
        "category": quote.category,
        "scenario": quote.scenario,
        "value": f"{quote.value:f}",
        "currency": quote.currency,
        "fx_rate": None if quote.fx_rate is None else f"{quote.fx_rate:f}",
        "customs_value": format_money(quote.customs_value),
        "mfn_rate": rate_or_none(quote.mfn_rate),
        "lines": [
            {
                "measure": line.measure,
                "title": line.title,
                "heading": line.heading,
                "authority": line.authority,
                "program": line.program,
                "rate": format_rate(line.rate),
                "basis": format_money(line.basis),
                "amount": format_money(line.amount),
                "on_hold_rate": format_rate(line.on_hold_rate),
                "on_hold_amount": format_money(line.on_hold_amount),
                "why": line.why,
            }
            for line in quote.lines
        ],
        "excluded": [
            {
                "measure": item.measure,
                "title": item.title,
                "reason": item.reason,
                "heading": item.heading,
                "kind": item.kind,
            }
            for item in quote.excluded
        ],
        "not_in_force": [
            {"measure": item.measure, "title": item.title, "reason": item.reason, "kind": item.kind}
            for item in quote.not_in_force
        ],
        "base_duty": money_or_none(quote.base_duty),
        "additional_duty": format_money(quote.additional_duty),
        "total_duty": money_or_none(quote.total_duty),
        "on_hold_duty": format_money(quote.on_hold_duty),
        "ieepa_duty": format_money(quote.ieepa_duty),
        "effective_rate": rate_or_none(quote.effective_rate),
        "fees": {"mpf": money_or_none(quote.mpf), "hmf": money_or_none(quote.hmf)},
        "fee_notes": list(quote.fee_notes),
        "total_fees": money_or_none(quote.total_fees),
        "landed_cost": money_or_none(quote.landed_cost),
        "warnings": list(quote.warnings),
    }
