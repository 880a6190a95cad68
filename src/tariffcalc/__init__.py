"""tariffcalc: US duties on goods of Japan, priced by entry date from a dated schedule.

Use as a library::

    from datetime import date
    from decimal import Decimal
    from tariffcalc import Shipment, load_schedule, price_shipment

    schedule = load_schedule()
    quote = price_shipment(schedule, Shipment(Decimal("20000"), hts="87115000"), date(2025, 5, 3))
    print(quote.total_duty)  # 2480.00
"""

__version__ = "0.1.0"  # before the imports: the schedule cache key uses it

from typing import Any

from .engine import DutyLine, ExcludedMeasure, Quote, classify, price_shipment
from .errors import InputError, OutputError, ScheduleError, TariffError, UnknownRateError
from .loading import load_schedule, parse_schedule
from .rules import Schedule
from .shipment import Shipment, shipment_from_fields

# Loaded when first asked for: `tariffcalc quote` needs neither (start-up time).
_LAZY = {"RateRow": "rates", "rate_table": "rates", "quote_to_dict": "report"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DutyLine",
    "ExcludedMeasure",
    "InputError",
    "OutputError",
    "Quote",
    "RateRow",
    "Schedule",
    "ScheduleError",
    "Shipment",
    "TariffError",
    "UnknownRateError",
    "classify",
    "load_schedule",
    "parse_schedule",
    "price_shipment",
    "quote_to_dict",
    "rate_table",
    "shipment_from_fields",
]
