"""Fees of an entry: the Merchandise Processing Fee (bounded per entry) and the Harbor
Maintenance Fee (ocean cargo only). Rates and bounds come from the schedule (reference §6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .money import ZERO, ZERO_MONEY, format_money, format_percent, round_cent
from .rules import Fee


@dataclass(frozen=True, slots=True)
class FeeAmount:
    amount: Decimal | None  # None: not known on this date, or the transport mode not given
    note: str


def mpf_terms(fee: Fee, on: date) -> tuple[Decimal, Decimal, Decimal] | None:
    """(rate, entry minimum, entry maximum) of the MPF for entries of ``on`` (the minimum and
    maximum to the cent); None when the bounds of that date are not known."""
    bounds = fee.bounds_on(on)
    if bounds is None:
        return None
    return fee.rate, round_cent(bounds.minimum), round_cent(bounds.maximum)


def _mpf(fee: Fee, entered_value: Decimal, on: date) -> tuple[Decimal, Decimal] | None:
    """(rate x entered value, that held between the bounds of the entry date's fiscal year)."""
    terms = mpf_terms(fee, on)
    if terms is None:
        return None
    rate, minimum, maximum = terms
    computed = round_cent(entered_value * rate)
    return computed, min(max(computed, minimum), maximum)


def mpf_amount(fee: Fee, entered_value: Decimal, on: date) -> Decimal | None:
    """The MPF of a whole entry: rate x entered value, held between the bounds of the fiscal
    year of the entry date (the bounds apply to the entry, not to each line); None when the
    bounds of that date are not known."""
    parts = _mpf(fee, entered_value, on)
    return None if parts is None else parts[1]


def hmf_amount(fee: Fee, value: Decimal, mode: str | None) -> Decimal | None:
    """The HMF of a line: charged on the transport modes the fee names (ocean); None when the
    mode is not given."""
    rate = hmf_rate(fee, mode)
    return None if rate is None else round_cent(value * rate)


def hmf_rate(fee: Fee, mode: str | None) -> Decimal | None:
    """The HMF rate on cargo of a transport mode: the fee's rate on the modes it names, 0 on
    the others; None when the mode is not given."""
    if mode is None:
        return None
    if fee.modes and mode not in fee.modes:
        return ZERO
    return fee.rate


def merchandise_processing_fee(fee: Fee, entered_value: Decimal, on: date) -> FeeAmount:
    """:func:`mpf_amount`, with a note that says how it was reached."""
    parts = _mpf(fee, entered_value, on)
    if parts is None:
        return FeeAmount(None, f"{fee.title}: the bounds for entries of {on} are not established")
    computed, amount = parts
    note = f"{format_percent(fee.rate)} of {format_money(entered_value)}"
    if amount > computed:
        note += f" = {format_money(computed)}, raised to the entry minimum"
    elif amount < computed:
        note += f" = {format_money(computed)}, lowered to the entry maximum"
    return FeeAmount(amount, note)


def harbor_maintenance_fee(fee: Fee, value: Decimal, mode: str | None) -> FeeAmount:
    """:func:`hmf_amount`, with a note."""
    amount = hmf_amount(fee, value, mode)
    if amount is None:
        return FeeAmount(
            None,
            f"{fee.title} not included: the transport mode is not given (--mode / column mode; "
            "it is charged on ocean cargo only)",
        )
    if not amount and fee.modes and mode not in fee.modes:
        return FeeAmount(amount, f"not charged on {mode} cargo")
    return FeeAmount(amount, f"{format_percent(fee.rate)} of {value}")


class EntryShares:
    """Hands out an entry's fee line by line, in proportion to each line's value, to the cent;
    the entry's last line takes the rounding remainder so that the shares add up exactly."""

    def __init__(self, total: Decimal, entry_value: Decimal, lines: int) -> None:
        self.total, self.entry_value, self.left = total, entry_value, lines
        self.handed_out = ZERO_MONEY

    def share(self, value: Decimal) -> Decimal:
        self.left -= 1
        if self.left <= 0 or not self.entry_value:
            share = self.total - self.handed_out if self.left <= 0 else ZERO_MONEY
        else:
            share = round_cent(self.total * value / self.entry_value)
        self.handed_out += share
        return share
