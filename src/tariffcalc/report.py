"""Plain-data views of results (JSON objects, CSV rows): money as "0.00" strings, rates as
decimal-fraction strings. The command line renders these; other programs can consume them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from .engine import Quote
from .money import format_money, format_rate
from .rules import Schedule


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
        "fx_per_usd": None if quote.fx_per_usd is None else f"{quote.fx_per_usd:f}",
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


def hts_line_report(schedule: Schedule, hts: str, on: date) -> dict[str, Any]:
    """An HTS number as the revision in force on ``on`` reads it (description, unit, MFN) and
    what the schedule does with it that day: the lists it is on, the measures that reach it
    (charged, excluded and why, not in force), the declarations it turns on (warnings)."""
    from . import htsdata
    from .engine import goods_line, plan_pricing, price_with_plan
    from .errors import TariffError
    from .hts import format_hts
    from .shipment import Shipment

    probe = Shipment(Decimal(10000), hts=hts)
    line = goods_line(probe, on)  # an InputError naming the nearest lines if it is none
    assert line is not None  # an HTS number, not a category
    described = {
        "hts": format_hts(hts), "entry_date": on.isoformat(), "revision": line.revision,
        "description": line.description, "units": list(line.units),
        "general": line.general or None, "mfn_rate": rate_or_none(line.ad_valorem),
        "specific": [{"amount": f"{part.amount:f}", "unit": part.unit} for part in line.specific],
    }  # fmt: skip
    if hts[:2] in htsdata.SPECIAL_CHAPTERS:  # a chapter 98/99 line: the line itself only
        return {
            **described, "category": None, "lists": [], "measures": [], "excluded": [],
            "not_in_force": [],
            "warnings": [
                f"{format_hts(hts)} is a chapter {hts[:2]} provision, not a classification of "
                "goods: quote the goods' own HTS number"
            ],
        }  # fmt: skip
    plan = plan_pricing(schedule, probe, on)
    try:  # which of the measures that reach the goods stacking leaves charged
        quote = price_with_plan(schedule, plan, probe)
        charged: set[str] | None = {line.measure for line in quote.lines}
        displaced = [item for item in quote.excluded if item.kind == "stacking"]
    except TariffError:
        charged, displaced = None, []
    lists = []
    for name, plist in schedule.lists.items():
        entry = schedule.find_in_list(name, hts)
        if entry is not None:
            lists.append({"list": name, "title": plist.title, "provision": format_hts(entry.code),
                          "from": entry.listed_from.isoformat() if entry.listed_from else None})
    return {
        **described,
        "category": plan.category,
        "lists": lists,
        "measures": [
            {"measure": measure.id, "title": measure.title,
             "heading": (entry.heading if entry else None) or period.heading or measure.heading,
             "rate": rate_or_none(period.rate), "inclusive_of_mfn": period.inclusive_of_mfn,
             "basis": period.basis,
             "charged": None if charged is None else measure.id in charged}
            for measure, period, entry in plan.charges
        ],
        "excluded": [{"measure": item.measure, "reason": item.reason, "heading": item.heading}
                     for item in [*plan.excluded, *displaced]],
        "not_in_force": [{"measure": item.measure, "reason": item.reason}
                         for item in plan.not_in_force],
        "warnings": [text for _, text in plan.undeclared] + list(plan.warnings),
    }  # fmt: skip
