"""The ordinary customs duty (HTSUS column 1 general) of a shipment: the MFN rate declared with
it, else the schedule's own, else the one published in the HTS revision in force on the entry
date (:mod:`~tariffcalc.htsdata`), and its duty line (ad valorem, and specific parts on the
declared quantity)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from . import htsdata
from .errors import InputError
from .hts import format_hts
from .money import format_percent, plus, round_cent, times
from .notices import Notice
from .quotes import EFFECTIVE_RATE_PLACES, MFN_MEASURE, DutyLine
from .rules import Schedule, SpecificRate
from .shipment import Shipment


@dataclass(frozen=True, slots=True)
class MFNSource:
    """Where the MFN rate comes from: the ad valorem part, any specific parts, how to say it."""

    ad_valorem: Decimal
    specific: tuple[SpecificRate | htsdata.SpecificPart, ...]  # the schedule's, or the HTS's
    label: str
    source: str


def mfn_source(
    schedule: Schedule,
    shipment: Shipment,
    goods: str | None,
    warnings: list[str],
    line: htsdata.HTSLine | None,
) -> tuple[MFNSource | None, str]:
    """The MFN rate: the shipment's own, else the schedule's own table (a schedule may carry
    one), else the HTS revision in force on the entry date; or None and why it is unknown."""
    if shipment.mfn_rate is not None:
        rate = shipment.mfn_rate
        return MFNSource(rate, (), format_percent(rate), "declared with the shipment"), ""
    known = schedule.mfn_rate(shipment.hts) if shipment.hts is not None else None
    if known is not None:
        if known.confidence != "H":
            warnings.append(Notice("MFN_CONFIDENCE", (
                f"the MFN rate {known.label} for {format_hts(known.provision)} rests on a "
                f"secondary source (confidence {known.confidence}); confirm it or give the "
                "shipment's own MFN rate"
            )))  # fmt: skip
        source = f"{format_hts(known.provision)}, {known.goods}; source: {known.source}"
        return MFNSource(known.rate, known.specific, known.label, source), ""
    if line is None:
        what = goods or f"category {shipment.category}"
        return None, (
            f"the MFN rate of {what} is not known without an HTS number (give it with "
            "--mfn-rate / column mfn_rate)"
        )
    where = f"HTS {line.revision.replace('_', ' ')} (USITC export)"
    if line.ad_valorem is None:
        published = line.general or "no rate"
        return None, (
            f"the MFN rate of {goods} is published as {published!r} in {where}, which is not a "
            "plain rate (give it with --mfn-rate / column mfn_rate)"
        )
    description = line.description if len(line.description) <= 80 else (
        "..." + line.description[-77:]
    )
    source = f"{goods}, {description}; source: {where}"
    return MFNSource(line.ad_valorem, line.specific, line.general, source), ""


def goods_line(shipment: Shipment, on: date) -> htsdata.HTSLine | None:
    """The shipment's HTS number as a line of the revision in force on the entry date; an
    InputError naming the nearest real lines if it is not one."""
    if shipment.hts is None:
        return None
    found = htsdata.line(shipment.hts, on)
    if found is not None and (len(shipment.hts) == 10 or found.rate_code is not None):
        return found
    revision = htsdata.revision_on(on).name.replace("_", " ")
    goods_chapter = shipment.hts[:2] not in htsdata.SPECIAL_CHAPTERS
    candidates = [
        code
        for code in htsdata.nearest(shipment.hts, on, 6)
        if not goods_chapter or code[:2] not in htsdata.SPECIAL_CHAPTERS
    ]
    near = ", ".join(candidates[:3]) or "none found"
    what = "statistical suffix" if len(shipment.hts) == 10 and htsdata.line(
        shipment.hts[:8], on) is not None else "tariff line"
    raise InputError(
        f"hts: {format_hts(shipment.hts)} is not a {what} of the HTS in force on {on} "
        f"({revision}); nearest: {near}"
    )


def ordinary_duty(
    mfn: MFNSource | None,
    problem: str,
    shipment: Shipment,
    customs_value: Decimal,
    goods: str | None,
) -> tuple[DutyLine | None, str]:
    """The MFN line of the shipment, or None and why it is unknown."""
    if mfn is None:
        return None, problem
    duty = times(customs_value, mfn.ad_valorem)
    source = mfn.source
    if mfn.specific:
        if shipment.quantity is None:
            units = " and ".join(part.unit for part in mfn.specific)
            return None, (
                f"the MFN rate of {goods} is {mfn.label}, which needs the quantity in {units} "
                "(--quantity / column quantity) or the shipment's own --mfn-rate"
            )
        duty = plus(duty, *(times(shipment.quantity, part.amount) for part in mfn.specific))
        source += f"; {shipment.quantity} {mfn.specific[0].unit}"
    amount = round_cent(duty)
    rate = mfn.ad_valorem
    if mfn.specific:
        rate = (amount / customs_value).quantize(EFFECTIVE_RATE_PLACES)
    return DutyLine(
        measure=MFN_MEASURE,
        title="Ordinary customs duty (column 1 general)",
        heading=goods or "-",
        authority="HTSUS column 1 general rate",
        rate=rate,
        basis=customs_value,
        amount=amount,
        why=f"MFN {mfn.label}: {source}",
        program=MFN_MEASURE,
    ), ""
