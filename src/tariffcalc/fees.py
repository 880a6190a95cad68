"""Fees of an entry: the Merchandise Processing Fee (bounded per entry) and the Harbor
Maintenance Fee (ocean cargo only). Rates and bounds come from the schedule (reference §6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .money import ZERO, ZERO_MONEY, format_money, format_percent, round_cent, share_of, times
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
    computed = round_cent(times(entered_value, rate))
    return computed, min(max(computed, minimum), maximum)


def mpf_amount(fee: Fee, entered_value: Decimal, on: date) -> Decimal | None:
    """The MPF of a whole entry: rate x entered value, held between the bounds of the fiscal
    year of the entry date (the bounds apply to the entry, not to each line); None when the
    bounds of that date are not known."""
    parts = _mpf(fee, entered_value, on)
    return None if parts is None else parts[1]


def entry_mpf(
    fee: Fee, entered_value: Decimal, on: date, lines: int, chapter_99: bool
) -> Decimal | None:
    """The MPF of an entry of ``lines`` lines: the flat fee of an informal entry where a
    one-line entry may be one (``chapter_99``: its article is subject to a chapter 99 duty),
    else :func:`mpf_amount`. An entry of several lines is taken as formal: whether each of
    its articles over the threshold pays a chapter 99 duty is not known when its MPF is."""
    if lines == 1:
        flat = informal_mpf(fee, entered_value, on, chapter_99)
        if flat is not None:
            return flat
    return mpf_amount(fee, entered_value, on)


def informal_terms(fee: Fee, on: date) -> tuple[Decimal, Decimal, Decimal | None] | None:
    """(largest value, threshold for articles under chapter 99 duties, flat fee or None when
    not known on the date) of informal entries, or None when the fee has no informal rule."""
    rule = fee.informal
    if rule is None:
        return None
    flat = next((f for f in rule.flat if f.covers(on)), None)
    return (
        rule.max_value,
        rule.formal_if_chapter_99_over,
        None if flat is None else round_cent(flat.flat),
    )


def hmf_amount(fee: Fee, value: Decimal, mode: str | None) -> Decimal | None:
    """The HMF of a line: charged on the transport modes the fee names (ocean); None when the
    mode is not given."""
    rate = hmf_rate(fee, mode)
    return None if rate is None else round_cent(times(value, rate))


def hmf_rate(fee: Fee, mode: str | None) -> Decimal | None:
    """The HMF rate on cargo of a transport mode: the fee's rate on the modes it names, 0 on
    the others; None when the mode is not given."""
    if mode is None:
        return None
    if fee.modes and mode not in fee.modes:
        return ZERO
    return fee.rate


def informal_mpf(fee: Fee, entered_value: Decimal, on: date, chapter_99: bool) -> Decimal | None:
    """The flat MPF of an entry that may be made informally (at most the fee's ``max_value``,
    and no article over ``formal_if_chapter_99_over`` subject to a chapter 99 duty:
    19 CFR 143.21); None when the entry is formal, or when the flat fee of its date is not
    established (the formal MPF is then charged, and the fee's note says so)."""
    terms = informal_terms(fee, on)
    if terms is None or entered_value > terms[0]:
        return None
    if chapter_99 and entered_value > terms[1]:
        return None
    return terms[2]


def formal_entry_note(fee: Fee, entered_value: Decimal, chapter_99: bool) -> str | None:
    """Why an entry small enough to be informal must be formal, if it must."""
    rule = fee.informal
    if rule is None or entered_value > rule.max_value or not chapter_99:
        return None
    if entered_value <= rule.formal_if_chapter_99_over:
        return None
    return (
        f"a formal entry: an article over {format_money(rule.formal_if_chapter_99_over)} "
        f"subject to a chapter 99 duty cannot be entered informally ({rule.authority})"
    )


def merchandise_processing_fee(
    fee: Fee, entered_value: Decimal, on: date, chapter_99: bool = True
) -> FeeAmount:
    """The MPF of an entry with a note that says how it was reached: the flat fee of an
    informal entry where the entry may be one, else :func:`mpf_amount`. ``chapter_99`` says
    whether an article of the entry is subject to a chapter 99 duty."""
    flat = informal_mpf(fee, entered_value, on, chapter_99)
    if flat is not None:
        assert fee.informal is not None
        rule = next(f for f in fee.informal.flat if f.covers(on))
        sure = "" if rule.confidence == "H" else f", confidence {rule.confidence}"
        return FeeAmount(flat, f"informal entry, flat fee ({fee.informal.authority}{sure})")
    parts = _mpf(fee, entered_value, on)
    if parts is None:
        return FeeAmount(None, f"{fee.title}: the bounds for entries of {on} are not established")
    computed, amount = parts
    note = f"{format_percent(fee.rate)} of {format_money(entered_value)}"
    if amount > computed:
        note += f" = {format_money(computed)}, raised to the entry minimum"
    elif amount < computed:
        note += f" = {format_money(computed)}, lowered to the entry maximum"
    formal = formal_entry_note(fee, entered_value, chapter_99)
    if formal:
        note += f" ({formal})"
    elif fee.informal is not None and entered_value <= fee.informal.max_value:
        note += (
            " (an informal entry may be possible, but its flat fee for entries of this date is "
            "not established: the formal MPF is shown)"
        )
    bounds = fee.bounds_on(on)
    if bounds is not None and bounds.confidence != "H":
        note += f"; bounds of {bounds.source or 'this fiscal year'}: confidence {bounds.confidence}"
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
            share = share_of(self.total, value, self.entry_value)
        self.handed_out += share
        return share
