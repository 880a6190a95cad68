"""What a quote is: its duty lines (rate, basis, heading, authority), the measures that reach
the goods but are not charged, and the totals, fees and landed cost."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .money import ZERO, ZERO_MONEY

MFN_MEASURE = "mfn"
EFFECTIVE_RATE_PLACES = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class DutyLine:
    measure: str
    title: str
    heading: str
    authority: str
    rate: Decimal  # the rate collected on this line
    basis: Decimal  # the value (USD) the rate is charged on
    amount: Decimal
    why: str
    program: str  # "mfn", "ieepa", "section-232", "section-122"
    on_hold_rate: Decimal = ZERO  # suspended portion of the rate, not collected
    on_hold_amount: Decimal = ZERO_MONEY


@dataclass(frozen=True, slots=True)
class ExcludedMeasure:
    measure: str
    title: str
    reason: str
    heading: str | None = None
    # exclusion, stacking, scenario; or, for measures not in force on the date:
    # not-yet-in-force, ended, not-in-force, not-yet-listed
    kind: str = "exclusion"


@dataclass(frozen=True, slots=True)
class Quote:
    entry_date: date
    hts: str | None  # formatted, e.g. 8703.24.01
    category: str
    value: Decimal  # as declared, in ``currency``
    currency: str
    fx_rate: Decimal | None
    customs_value: Decimal  # USD, to the cent
    mfn_rate: Decimal | None
    lines: tuple[DutyLine, ...]
    excluded: tuple[ExcludedMeasure, ...]  # reach the goods but not charged: exclusions, stacking
    not_in_force: tuple[ExcludedMeasure, ...]  # reach the goods, but not on this entry date
    base_duty: Decimal | None  # None when the MFN rate is unknown
    additional_duty: Decimal
    total_duty: Decimal | None
    on_hold_duty: Decimal
    ieepa_duty: Decimal
    effective_rate: Decimal | None
    scenario: str | None
    warnings: tuple[str, ...] = field(default=())
    # Fees of the entry (the shipment as an entry of its own) and the landed cost.
    mpf: Decimal | None = None
    hmf: Decimal | None = None
    fee_notes: tuple[str, ...] = ()
    fx_per_usd: Decimal | None = None  # the rate as given per US dollar (fx_rate: its inverse)

    @property
    def total_fees(self) -> Decimal | None:
        """MPF + HMF; an HMF not known for want of a transport mode is left out (with a warning)."""
        if self.mpf is None:
            return None
        return self.mpf + (self.hmf or ZERO_MONEY)

    @property
    def landed_cost(self) -> Decimal | None:
        """Customs value + duties + fees; unknown while any of them is."""
        if self.total_duty is None or self.total_fees is None:
            return None
        return self.customs_value + self.total_duty + self.total_fees
