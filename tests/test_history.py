"""Hand-checked quotes on both sides of every date of reference §2 (the schedule's history).

Same shape as test_engine.CASES: (name, shipment, entry date, scenario, lines as
(measure, heading, rate, amount), total, on hold, excluded measures). Reasoning in the comments.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from quote_cases import check_quote, hand_checked

from tariffcalc import InputError, Shipment, UnknownRateError, price_shipment

MOTORCYCLE = "87115000"  # MFN 2.4%; on the steel derivative list from 2025-08-18
CAR = "87032401"  # MFN 2.5%
LIGHT_TRUCK = "87042101"  # MFN 25%
GEARBOX = "87084011"  # listed part, MFN 2.5%
STEEL_PLATE = "72085100"  # steel article, MFN Free
ALU_PROFILE = "76042910"  # aluminum article, MFN 5%
ALU_DOOR = "76101000"  # chapter 76 derivative (9903.85.07)
HINGE = "83021060"  # aluminum derivative outside ch. 76 (.08); steel derivative from 2025-08-18
TOOL = "84671110"  # pneumatic rotary tool, MFN 4.5%, on no list

# Lines come in the schedule's order: MFN, the reciprocal duty, Section 122, then Section 232.
CASES = [
    # --- 2025-06-04: steel and aluminum 25% -> 50%
    ("steel 25% on 2025-06-03", dict(hts=STEEL_PLATE, value=D(100000)), "2025-06-03", None,
     [("mfn", "7208.51.00", "0", "0.00"), ("steel-232", "9903.81.87", "0.25", "25000.00")],
     "25000.00", "0.00", ["reciprocal"]),
    ("steel 50% on 2025-06-04", dict(hts=STEEL_PLATE, value=D(100000)), "2025-06-04", None,
     [("mfn", "7208.51.00", "0", "0.00"), ("steel-232", "9903.81.87", "0.5", "50000.00")],
     "50000.00", "0.00", ["reciprocal"]),
    ("aluminum 50% on 2025-06-04", dict(hts=ALU_PROFILE, value=D(10000)), "2025-06-04", None,
     [("mfn", "7604.29.10", "0.05", "500.00"), ("aluminum-232", "9903.85.02", "0.5", "5000.00")],
     "5500.00", "0.00", ["reciprocal"]),
    # Chapter 76 derivative, 10,000 with 4,000 of aluminum: the day before, 25% of the full value
    # and no reciprocal duty; from 2025-06-04, 50% of the content (2,000) and the reciprocal 10%
    # on the other 6,000 (600, with 14% = 840 on hold).
    ("ch. 76 derivative on 2025-06-03",
     dict(hts=ALU_DOOR, value=D(10000), mfn_rate=D("0.057"), metal_content=D(4000)),
     "2025-06-03", None,
     [("mfn", "7610.10.00", "0.057", "570.00"),
      ("aluminum-derivatives-232", "9903.85.07", "0.25", "2500.00")],
     "3070.00", "0.00", ["reciprocal"]),
    ("ch. 76 derivative on 2025-06-04",
     dict(hts=ALU_DOOR, value=D(10000), mfn_rate=D("0.057"), metal_content=D(4000)),
     "2025-06-04", None,
     [("mfn", "7610.10.00", "0.057", "570.00"),
      ("reciprocal", "9903.01.25", "0.1", "600.00"),
      ("aluminum-derivatives-232", "9903.85.07", "0.5", "2000.00")],
     "3170.00", "840.00", []),
    # Derivative outside ch. 76, 3,000 of aluminum: 50% of 3,000 = 1,500; reciprocal on 7,000.
    ("other derivative on 2025-06-04",
     dict(hts=HINGE, value=D(10000), mfn_rate=D("0.02"), metal_content=D(3000)),
     "2025-06-04", None,
     [("mfn", "8302.10.60", "0.02", "200.00"),
      ("reciprocal", "9903.01.25", "0.1", "700.00"),
      ("aluminum-derivatives-other-232", "9903.85.08", "0.5", "1500.00")],
     "2400.00", "980.00", []),

    # --- 2025-08-07: reciprocal 15% inclusive of MFN, nothing on hold
    ("reciprocal on 2025-08-06", dict(hts=MOTORCYCLE, value=D(20000)), "2025-08-06", None,
     [("mfn", "8711.50.00", "0.024", "480.00"), ("reciprocal", "9903.01.25", "0.1", "2000.00")],
     "2480.00", "2800.00", []),
    # 15% - 2.4% = 12.6% under 9903.02.73: 2,520; total 3,000 (reference §8).
    ("reciprocal on 2025-08-07", dict(hts=MOTORCYCLE, value=D(20000)), "2025-08-07", None,
     [("mfn", "8711.50.00", "0.024", "480.00"),
      ("reciprocal", "9903.02.73", "0.126", "2520.00")],
     "3000.00", "0.00", []),
    ("hold lifted changes nothing after 2025-08-07", dict(hts=MOTORCYCLE, value=D(20000)),
     "2025-08-17", "hold-lifted",
     [("mfn", "8711.50.00", "0.024", "480.00"),
      ("reciprocal", "9903.02.73", "0.126", "2520.00")],
     "3000.00", "0.00", []),
    # MFN 20% (declared) is above 15%: the reciprocal adds 0% under 9903.02.72.
    ("reciprocal with MFN above 15%", dict(hts=TOOL, value=D(1000), mfn_rate=D("0.2")),
     "2025-08-07", None,
     [("mfn", "8467.11.10", "0.2", "200.00"), ("reciprocal", "9903.02.72", "0", "0.00")],
     "200.00", "0.00", []),

    # --- 2025-08-18: derivative inclusions. The motorcycle becomes a steel derivative: 50% of
    # its steel content (5,000 -> 2,500) and the reciprocal 12.6% on the other 15,000 (1,890).
    ("motorcycle as steel derivative",
     dict(hts=MOTORCYCLE, value=D(20000), metal_content=D(5000)), "2025-08-18", None,
     [("mfn", "8711.50.00", "0.024", "480.00"),
      ("reciprocal", "9903.02.73", "0.126", "1890.00"),
      ("steel-derivatives-other-232", "9903.81.91", "0.5", "2500.00")],
     "4870.00", "0.00", []),
    # Reference §8's 2025-09-01 example (3,000) holds for a motorcycle with no steel content.
    ("reference example of 2025-09-01",
     dict(hts=MOTORCYCLE, value=D(20000), mfn_rate=D("0.024"), metal_content=D(0)),
     "2025-09-01", None,
     [("mfn", "8711.50.00", "0.024", "480.00"),
      ("reciprocal", "9903.02.73", "0.126", "2520.00"),
      ("steel-derivatives-other-232", "9903.81.91", "0.5", "0.00")],
     "3000.00", "0.00", []),
    # On both metal lists from 2025-08-18: each metal on its own content, reciprocal on the rest
    # (10,000 - 1,000 - 3,000 = 6,000 at 15% - 2% = 13% = 780).
    ("hinge on both metal lists",
     dict(hts=HINGE, value=D(10000), mfn_rate=D("0.02"), steel_content=D(1000),
          aluminum_content=D(3000)), "2025-08-18", None,
     [("mfn", "8302.10.60", "0.02", "200.00"),
      ("reciprocal", "9903.02.73", "0.13", "780.00"),
      ("steel-derivatives-other-232", "9903.81.91", "0.5", "500.00"),
      ("aluminum-derivatives-other-232", "9903.85.08", "0.5", "1500.00")],
     "2980.00", "0.00", []),

    # --- 2025-09-16: autos and parts 15% inclusive of MFN (not retroactive)
    ("car on 2025-09-15", dict(hts=CAR, value=D(60000)), "2025-09-15", None,
     [("mfn", "8703.24.01", "0.025", "1500.00"), ("autos-232", "9903.94.01", "0.25", "15000.00")],
     "16500.00", "0.00", ["reciprocal"]),
    # 15% - 2.5% = 12.5% under 9903.94.41: 7,500; total 9,000 (reference §8, 2025-10-01 too).
    ("car on 2025-09-16", dict(hts=CAR, value=D(60000)), "2025-09-16", None,
     [("mfn", "8703.24.01", "0.025", "1500.00"), ("autos-232", "9903.94.41", "0.125", "7500.00")],
     "9000.00", "0.00", ["reciprocal"]),
    ("car on 2025-10-01", dict(hts=CAR, value=D(60000), mfn_rate=D("0.025")), "2025-10-01", None,
     [("mfn", "8703.24.01", "0.025", "1500.00"), ("autos-232", "9903.94.41", "0.125", "7500.00")],
     "9000.00", "0.00", ["reciprocal"]),
    # Light truck: 50% -> 25% (MFN 25% alone; the autos duty adds 0% under 9903.94.40).
    ("light truck on 2025-09-15", dict(hts=LIGHT_TRUCK, value=D(40000)), "2025-09-15", None,
     [("mfn", "8704.21.01", "0.25", "10000.00"), ("autos-232", "9903.94.01", "0.25", "10000.00")],
     "20000.00", "0.00", ["reciprocal"]),
    ("light truck on 2025-09-16", dict(hts=LIGHT_TRUCK, value=D(40000)), "2025-09-16", None,
     [("mfn", "8704.21.01", "0.25", "10000.00"), ("autos-232", "9903.94.40", "0", "0.00")],
     "10000.00", "0.00", ["reciprocal"]),
    ("part on 2025-09-15", dict(hts=GEARBOX, value=D(10000)), "2025-09-15", None,
     [("mfn", "8708.40.11", "0.025", "250.00"),
      ("auto-parts-232", "9903.94.05", "0.25", "2500.00")],
     "2750.00", "0.00", ["reciprocal"]),
    ("part on 2025-09-16", dict(hts=GEARBOX, value=D(10000)), "2025-09-16", None,
     [("mfn", "8708.40.11", "0.025", "250.00"),
      ("auto-parts-232", "9903.94.43", "0.125", "1250.00")],
     "1500.00", "0.00", ["reciprocal"]),
    ("part with MFN of 15% or more", dict(hts=GEARBOX, value=D(10000), mfn_rate=D("0.16")),
     "2025-09-16", None,
     [("mfn", "8708.40.11", "0.16", "1600.00"), ("auto-parts-232", "9903.94.42", "0", "0.00")],
     "1600.00", "0.00", ["reciprocal"]),

    # --- 2025-09-16: civil aircraft of Japan exempt from reciprocal and metals duties
    ("civil aircraft article on 2025-09-15",
     dict(hts=ALU_PROFILE, value=D(10000), civil_aircraft=True), "2025-09-15", None,
     [("mfn", "7604.29.10", "0.05", "500.00"), ("aluminum-232", "9903.85.02", "0.5", "5000.00")],
     "5500.00", "0.00", ["reciprocal"]),
    ("civil aircraft article on 2025-09-16",
     dict(hts=ALU_PROFILE, value=D(10000), civil_aircraft=True), "2025-09-16", None,
     [("mfn", "7604.29.10", "0.05", "500.00")], "500.00", "0.00",
     ["aluminum-232", "reciprocal"]),

    # --- 2026-02-24: IEEPA ends (last entries 2026-02-23); Section 122 10% to 2026-07-23
    # 15% - 4.5% = 10.5% reciprocal: 1,050, all of it IEEPA (refundable).
    ("last IEEPA day", dict(hts=TOOL, value=D(10000)), "2026-02-23", None,
     [("mfn", "8467.11.10", "0.045", "450.00"), ("reciprocal", "9903.02.73", "0.105", "1050.00")],
     "1500.00", "0.00", []),
    # Section 122 stacks on MFN: 10% = 1,000.
    ("first Section 122 day", dict(hts=TOOL, value=D(10000)), "2026-02-24", None,
     [("mfn", "8467.11.10", "0.045", "450.00"), ("section-122", "9903.03.01", "0.1", "1000.00")],
     "1450.00", "0.00", []),
    ("last Section 122 day", dict(hts=TOOL, value=D(10000)), "2026-07-23", None,
     [("mfn", "8467.11.10", "0.045", "450.00"), ("section-122", "9903.03.01", "0.1", "1000.00")],
     "1450.00", "0.00", []),
    # From 2026-07-24 the Section 301 forced-labour duty brings goods of Japan to 12.5% in
    # total (reference §11): 12.5% - 4.5% = 8% of 10,000 = 800 under 9903.05.49.
    ("after Section 122", dict(hts=TOOL, value=D(10000)), "2026-07-24", None,
     [("mfn", "8467.11.10", "0.045", "450.00"),
      ("forced-labor-301", "9903.05.49", "0.08", "800.00")], "1250.00", "0.00", []),
    # Not on 232 goods (9903.03.06) ...
    ("car under Section 122", dict(hts=CAR, value=D(60000)), "2026-03-02", None,
     [("mfn", "8703.24.01", "0.025", "1500.00"), ("autos-232", "9903.94.41", "0.125", "7500.00")],
     "9000.00", "0.00", ["section-122"]),
    # ... only on the non-232 part of partly-232 goods: 10% of 10,000 - 1,000 - 3,000.
    ("hinge under Section 122",
     dict(hts=HINGE, value=D(10000), mfn_rate=D("0.02"), steel_content=D(1000),
          aluminum_content=D(3000)), "2026-03-02", None,
     [("mfn", "8302.10.60", "0.02", "200.00"),
      ("section-122", "9903.03.01", "0.1", "600.00"),
      ("steel-derivatives-other-232", "9903.81.91", "0.5", "500.00"),
      ("aluminum-derivatives-other-232", "9903.85.08", "0.5", "1500.00")],
     "2800.00", "0.00", []),
    # Listed in U.S. note 2(aa)(ii) (9903.03.03): no surcharge.
    ("Section 122 exempt list", dict(hts="8542310015", value=D(1000)), "2026-03-02", None,
     [("mfn", "8542.31.00.15", "0", "0.00")], "0.00", "0.00", ["section-122"]),
    ("metals on 2026-04-05", dict(hts=STEEL_PLATE, value=D(100000)), "2026-04-05", None,
     [("mfn", "7208.51.00", "0", "0.00"), ("steel-232", "9903.81.87", "0.5", "50000.00")],
     "50000.00", "0.00", ["section-122"]),
]


def _run(schedule, shipment: dict, on: str, scenario: str | None = None):
    return price_shipment(schedule, Shipment(**shipment), date.fromisoformat(on), scenario)


@hand_checked(CASES)
def test_history_quotes(schedule, case):
    check_quote(schedule, case)


def test_ieepa_duty_is_the_refundable_part(schedule):
    assert _run(schedule, dict(hts=TOOL, value=D(10000)), "2026-02-23").ieepa_duty == D("1050.00")
    assert _run(schedule, dict(hts=TOOL, value=D(10000)), "2026-02-24").ieepa_duty == D("0.00")
    assert _run(schedule, dict(hts=CAR, value=D(60000)), "2025-10-01").ieepa_duty == D("0.00")


def test_metals_after_the_2026_annexes_are_priced(schedule):
    # Reference §9 worked example: steel sheet, 100,000, MFN Free, 50% of the full value under
    # 9903.82.02 from 2026-04-06 (U.S. note 16(c)(iii)); no Section 122 (note 2(aa)(v)(1)).
    quote = _run(schedule, dict(hts=STEEL_PLATE, value=D(100000), mfn_rate=D(0)), "2026-04-06")
    assert [(ln.measure, ln.heading, ln.amount) for ln in quote.lines] == [
        ("mfn", "7208.51.00", D("0.00")), ("steel-232", "9903.82.02", D("50000.00"))]
    assert {item.measure: item.heading for item in quote.excluded} == {"section-122": "9903.03.06"}
    # A car is not concerned: autos displace the metals duties.
    assert _run(schedule, dict(hts=CAR, value=D(60000)), "2026-04-06").total_duty == D("9000.00")


def test_inclusive_of_mfn_needs_the_mfn_rate(schedule):
    with pytest.raises(UnknownRateError, match="inclusive of MFN.*--mfn-rate"):
        _run(schedule, dict(category="general", value=D(100)), "2025-08-07")
    # Before 2025-08-07 the MFN rate is not needed: the base duty is just unknown.
    quote = _run(schedule, dict(category="general", value=D(100)), "2025-08-06")
    assert quote.base_duty is None and quote.additional_duty == D("10.00")


def test_one_metal_content_cannot_serve_two_metals(schedule):
    with pytest.raises(InputError, match="--steel-content and --aluminum-content"):
        _run(schedule, dict(hts=HINGE, value=D(10000), mfn_rate=D(0), metal_content=D(3000)),
             "2025-08-18")


def test_gaps_warn_where_they_apply(schedule):
    transit = _run(schedule, dict(hts=TOOL, value=D(100)), "2025-08-07")
    assert any("--loaded-on" in w and "keep the 10% reciprocal rate" in w
               for w in transit.warnings)
    # The in-transit rule concerns the reciprocal duty only; a car does not pay it.
    car_transit = _run(schedule, dict(hts=CAR, value=D(100)), "2025-09-01")
    assert not any("--loaded-on" in w for w in car_transit.warnings)
    # Buses pay 10% from 2025-11-01 (9903.74.02, U.S. note 38(c)), and the gap on a vehicle's
    # age concerns them, not cars.
    bus = _run(schedule, dict(hts="8702103100", value=D(100), mfn_rate=D("0.02")), "2025-11-01")
    assert [(ln.measure, ln.heading, ln.amount) for ln in bus.lines][1] == (
        "buses-232", "9903.74.02", D("10.00"))
    assert any("vehicle age" in w and "9903.74.07" in w for w in bus.warnings)
    car = _run(schedule, dict(hts=CAR, value=D(100)), "2025-11-01")
    assert not any("9903.74.07" in w for w in car.warnings)
    # Copper is priced from 2025-08-01 (on the full value when its content is not declared,
    # with a warning naming --copper-content); its 2025 list rests on copies of CBP's list (M).
    copper = _run(schedule, dict(hts="74081160", value=D(100), mfn_rate=D(0)), "2025-08-01")
    assert [ln.measure for ln in copper.lines] == ["mfn", "copper-232"]
    assert any("--copper-content" in w for w in copper.warnings)
    assert any("confidence M" in w for w in copper.warnings)


def test_inclusive_of_mfn_compares_with_the_ad_valorem_rate_itself(schedule):
    # 15% - 5.24% = 9.76% exactly, whatever the rounding of the MFN amount (0.27 on 5.24):
    # 9.76% of 5.24 = 0.511 -> 0.51. (Found by the property "a larger value never lowers duty".)
    quote = _run(schedule, dict(hts=CAR, value=D("5.24"), mfn_rate=D("0.0524")), "2025-09-16")
    assert (quote.lines[1].rate, quote.lines[1].amount) == (D("0.0976"), D("0.51"))
