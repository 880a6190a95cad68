"""Every tariff line of the HTS, on a date of 2025 and one of 2026: a quote either prices fully
or names the declaration it needs; never an MFN rate unknown for want of data (11,414 lines a
date, about 2 seconds each)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from tariffcalc import htsdata
from tariffcalc.engine import price_shipment
from tariffcalc.errors import UnknownRateError
from tariffcalc.shipment import Shipment

DATES = (date(2025, 9, 1), date(2026, 9, 1))
# Options a quote may name when the HTS number alone cannot decide its MFN duty.
NAMED = ("--mfn-rate", "--quantity")


def _walk(schedule, on: date, step: int) -> tuple[int, list[str]]:
    lines = [c for c in htsdata.tariff_lines(on) if c[:2] not in htsdata.SPECIAL_CHAPTERS]
    problems = []
    for code in lines[::step]:
        try:
            quote = price_shipment(schedule, Shipment(D(10000), hts=code, quantity=D(100)), on)
        except UnknownRateError as exc:  # an inclusive-of-MFN rule without the MFN rate
            if not any(option in str(exc) for option in NAMED):
                problems.append(f"{code}: {exc}")
            continue
        if quote.base_duty is None:
            said = [w for w in quote.warnings if "MFN rate" in w]
            if not said or not any(option in said[0] for option in NAMED):
                problems.append(f"{code}: base duty unknown: {quote.warnings}")
            elif "not known" in said[0]:
                problems.append(f"{code}: MFN unknown for want of data: {said[0]}")
    return len(lines), problems


@pytest.mark.parametrize("on", DATES, ids=str)
def test_every_line_prices_or_names_the_declaration(schedule, on):
    count, problems = _walk(schedule, on, 1)
    assert count == 11414
    assert problems == []


@pytest.mark.parametrize(
    "origin", ["CN", "China", "KR", "USA", "DE", "中国", "Taiwan", "VN", "MX"])
def test_goods_not_of_japan_are_refused(origin):
    from tariffcalc.errors import InputError
    from tariffcalc.shipment import shipment_from_fields

    with pytest.raises(InputError, match="prices goods of Japan only"):
        shipment_from_fields({"hts": "95030000", "value": "100", "origin": origin}, {})


@pytest.mark.parametrize("origin", ["JP", "jp", "JPN", "Japan", "JAPAN", "日本", "392", "JP - Japan"])
def test_japan_in_the_spellings_exports_use_is_accepted(origin):
    from tariffcalc.shipment import shipment_from_fields

    assert shipment_from_fields({"hts": "95030000", "value": "100", "origin": origin}, {})
