"""Hand-checked quotes for every category on both sides of every start date of reference §1.

Each case: the shipment, the entry date, the duty lines expected as
(measure, heading, rate, amount), the total, what is on hold, and the measures excluded
(exclusions and stacking; measures not yet in force are reported apart, see below).
Amounts were worked out by hand from reference §1, §3, §5 and §8; the reasoning is in the comment.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from quote_cases import check_quote, hand_checked

from tariffcalc import Schedule, Shipment, price_shipment
from tariffcalc.errors import InputError, ScheduleError

MOTORCYCLE = "87115000"  # 8711.50.00, MFN 2.4%; a steel derivative only from 2025-08-18
CAR = "87032401"  # 8703.24.01, MFN 2.5%
LIGHT_TRUCK = "87042101"  # 8704.21.01, MFN 25%
GEARBOX = "87084011"  # 8708.40.11, listed part, MFN 2.5%
STEEL_PLATE = "72085100"  # 7208.51.00, steel article, MFN Free (M)
ALU_PROFILE = "76042910"  # 7604.29.10, aluminum article, MFN 5%

CASES = [
    # --- general goods: the reciprocal duty's dates (2025-04-05, 04-09, 04-10)
    # Before 2025-04-05 only MFN: 20,000 x 2.4% = 480.
    ("general before baseline", dict(hts=MOTORCYCLE, value=D(20000)), "2025-04-04", None,
     [("mfn", "8711.50.00", "0.024", "480.00")], "480.00", "0.00", []),
    # Baseline 10% from 2025-04-05 under 9903.01.25: 2,000; nothing on hold yet.
    ("general on baseline day", dict(hts=MOTORCYCLE, value=D(20000)), "2025-04-05", None,
     [("mfn", "8711.50.00", "0.024", "480.00"), ("reciprocal", "9903.01.25", "0.1", "2000.00")],
     "2480.00", "0.00", []),
    ("general day before country rate", dict(hts=MOTORCYCLE, value=D(20000)), "2025-04-08", None,
     [("mfn", "8711.50.00", "0.024", "480.00"), ("reciprocal", "9903.01.25", "0.1", "2000.00")],
     "2480.00", "0.00", []),
    # Japan's 24% (9903.01.53) collected in full on 2025-04-09 only: 4,800.
    ("general on 2025-04-09", dict(hts=MOTORCYCLE, value=D(20000)), "2025-04-09", None,
     [("mfn", "8711.50.00", "0.024", "480.00"), ("reciprocal", "9903.01.53", "0.24", "4800.00")],
     "5280.00", "0.00", []),
    # From 2025-04-10 14 of the 24 points are on hold: 10% collected (2,000), 2,800 on hold.
    ("general on suspension day", dict(hts=MOTORCYCLE, value=D(20000)), "2025-04-10", None,
     [("mfn", "8711.50.00", "0.024", "480.00"), ("reciprocal", "9903.01.25", "0.1", "2000.00")],
     "2480.00", "2800.00", []),
    # Reference §8, first example.
    ("general on 2025-05-03", dict(hts=MOTORCYCLE, value=D(20000), mfn_rate=D("0.024")),
     "2025-05-03", None,
     [("mfn", "8711.50.00", "0.024", "480.00"), ("reciprocal", "9903.01.25", "0.1", "2000.00")],
     "2480.00", "2800.00", []),
    # Reference §8, second example: the hold lifted, 24% under 9903.01.53.
    ("general, hold lifted", dict(hts=MOTORCYCLE, value=D(20000)), "2025-05-03", "hold-lifted",
     [("mfn", "8711.50.00", "0.024", "480.00"), ("reciprocal", "9903.01.53", "0.24", "4800.00")],
     "5280.00", "0.00", []),
    # Yen: 3,000,000 x 0.0067 = 20,100.00 USD; MFN 482.40, reciprocal 2,010.00, hold 2,814.00.
    ("general in yen", dict(hts=MOTORCYCLE, value=D(3000000), currency="JPY", fx_rate=D("0.0067")),
     "2025-05-03", None,
     [("mfn", "8711.50.00", "0.024", "482.40"), ("reciprocal", "9903.01.25", "0.1", "2010.00")],
     "2492.40", "2814.00", []),
    # US content 5,000 of 20,000 (25% >= 20%): reciprocal on 15,000 only: 1,500; hold 2,100.
    ("general with US content", dict(hts=MOTORCYCLE, value=D(20000), us_content=D(5000)),
     "2025-05-03", None,
     [("mfn", "8711.50.00", "0.024", "480.00"), ("reciprocal", "9903.01.25", "0.1", "1500.00")],
     "1980.00", "2100.00", []),
    # US content 3,000 (15% < 20%): the full value is charged.
    ("general with little US content", dict(hts=MOTORCYCLE, value=D(20000), us_content=D(3000)),
     "2025-05-03", None,
     [("mfn", "8711.50.00", "0.024", "480.00"), ("reciprocal", "9903.01.25", "0.1", "2000.00")],
     "2480.00", "2800.00", []),
    # Declared Annex II: no reciprocal duty (9903.01.32).
    ("general, Annex II", dict(hts=MOTORCYCLE, value=D(20000), annex_ii=True), "2025-05-03", None,
     [("mfn", "8711.50.00", "0.024", "480.00")], "480.00", "0.00", ["reciprocal"]),
    # Electronics (8542) are exempt from the reciprocal duty; ICs are Free.
    ("electronics", dict(hts="8542310015", value=D(1000)), "2025-05-03", None,
     [("mfn", "8542.31.00.15", "0", "0.00")], "0.00", "0.00", ["reciprocal"]),
    # Half-up rounding: 10.25 x 10% = 1.025 -> 1.03 (banker's rounding would say 1.02).
    ("rounding half up", dict(category="general", value=D("10.25"), mfn_rate=D(0)), "2025-04-05",
     None, [("mfn", "-", "0", "0.00"), ("reciprocal", "9903.01.25", "0.1", "1.03")], "1.03",
     "0.00", []),

    # --- automobiles: autos 232 from 2025-04-03
    ("car before autos 232", dict(hts=CAR, value=D(60000)), "2025-04-02", None,
     [("mfn", "8703.24.01", "0.025", "1500.00")], "1500.00", "0.00", []),
    # 25% under 9903.94.01: 15,000; reciprocal not in force yet.
    ("car on autos 232 day", dict(hts=CAR, value=D(60000)), "2025-04-03", None,
     [("mfn", "8703.24.01", "0.025", "1500.00"), ("autos-232", "9903.94.01", "0.25", "15000.00")],
     "16500.00", "0.00", []),
    # Reference §8: on 2025-04-09 the car pays 232 and no reciprocal duty (displaced).
    ("car on 2025-04-09", dict(hts=CAR, value=D(60000)), "2025-04-09", None,
     [("mfn", "8703.24.01", "0.025", "1500.00"), ("autos-232", "9903.94.01", "0.25", "15000.00")],
     "16500.00", "0.00", ["reciprocal"]),
    # Light truck, MFN 25%: 40,000 -> MFN 10,000 + 232 10,000; nothing on hold.
    ("light truck", dict(hts=LIGHT_TRUCK, value=D(40000)), "2025-05-03", "hold-lifted",
     [("mfn", "8704.21.01", "0.25", "10000.00"), ("autos-232", "9903.94.01", "0.25", "10000.00")],
     "20000.00", "0.00", ["reciprocal"]),
    ("autos by category", dict(category="autos", value=D(30000), mfn_rate=D("0.025")),
     "2025-05-03", None,
     [("mfn", "-", "0.025", "750.00"), ("autos-232", "9903.94.01", "0.25", "7500.00")],
     "8250.00", "0.00", ["reciprocal"]),

    # --- automobile parts: 232 from 2025-05-03
    # The day before, a listed gearbox pays MFN only: listed parts were excluded from the
    # reciprocal duty from 2025-04-05 (9903.01.33; EO 14257 §3(b)(iii), CBP autos FAQ).
    ("part before parts 232", dict(hts=GEARBOX, value=D(10000)), "2025-05-02", None,
     [("mfn", "8708.40.11", "0.025", "250.00")], "250.00", "0.00", ["reciprocal"]),
    # Declared not a part of a passenger vehicle or light truck, it pays 10% (1,000), 1,400 held.
    ("not a part before parts 232", dict(hts=GEARBOX, value=D(10000), not_auto_part=True),
     "2025-05-02", None,
     [("mfn", "8708.40.11", "0.025", "250.00"), ("reciprocal", "9903.01.25", "0.1", "1000.00")],
     "1250.00", "1400.00", []),
    # From 2025-05-03: 25% under 9903.94.05 (2,500), reciprocal displaced, nothing on hold.
    ("part on parts 232 day", dict(hts=GEARBOX, value=D(10000)), "2025-05-03", None,
     [("mfn", "8708.40.11", "0.025", "250.00"),
      ("auto-parts-232", "9903.94.05", "0.25", "2500.00")],
     "2750.00", "0.00", ["reciprocal"]),
    # Ball bearings (8482.10.10, a listed provision) with a declared MFN of 9%, 5,000:
    # as an auto part MFN 450 + 25% 1,250; not an auto part (33(h)(ii)): MFN 450 + 10% 500.
    ("bearing as auto part", dict(hts="84821010", value=D(5000), mfn_rate=D("0.09")),
     "2025-05-03", None,
     [("mfn", "8482.10.10", "0.09", "450.00"), ("auto-parts-232", "9903.94.05", "0.25", "1250.00")],
     "1700.00", "0.00", ["reciprocal"]),
    ("bearing not an auto part",
     dict(hts="84821010", value=D(5000), mfn_rate=D("0.09"), not_auto_part=True),
     "2025-05-03", None,
     [("mfn", "8482.10.10", "0.09", "450.00"), ("reciprocal", "9903.01.25", "0.1", "500.00")],
     "950.00", "700.00", ["auto-parts-232"]),

    # --- steel: 232 from 2025-03-12
    ("steel before 232", dict(hts=STEEL_PLATE, value=D(100000)), "2025-03-11", None,
     [("mfn", "7208.51.00", "0", "0.00")], "0.00", "0.00", []),
    ("steel on 232 day", dict(hts=STEEL_PLATE, value=D(100000)), "2025-03-12", None,
     [("mfn", "7208.51.00", "0", "0.00"), ("steel-232", "9903.81.87", "0.25", "25000.00")],
     "25000.00", "0.00", []),
    # Once the reciprocal duty exists, steel articles are excluded from it (9903.01.33).
    ("steel on 2025-05-03", dict(hts=STEEL_PLATE, value=D(100000)), "2025-05-03", None,
     [("mfn", "7208.51.00", "0", "0.00"), ("steel-232", "9903.81.87", "0.25", "25000.00")],
     "25000.00", "0.00", ["reciprocal"]),

    # --- aluminum: 232 from 2025-03-12
    ("aluminum before 232", dict(hts=ALU_PROFILE, value=D(10000)), "2025-03-11", None,
     [("mfn", "7604.29.10", "0.05", "500.00")], "500.00", "0.00", []),
    # Reference §8: 500 + 25% under 9903.85.02 (2,500) = 3,000.
    ("aluminum on 2025-05-03", dict(hts=ALU_PROFILE, value=D(10000)), "2025-05-03", None,
     [("mfn", "7604.29.10", "0.05", "500.00"), ("aluminum-232", "9903.85.02", "0.25", "2500.00")],
     "3000.00", "0.00", ["reciprocal"]),
    # A chapter 76 derivative (7610.10.00, 9903.85.07) paid on its full value before 2025-06-04.
    ("aluminum derivative, chapter 76", dict(hts="76101000", value=D(10000), mfn_rate=D("0.057")),
     "2025-05-03", None,
     [("mfn", "7610.10.00", "0.057", "570.00"),
      ("aluminum-derivatives-232", "9903.85.07", "0.25", "2500.00")],
     "3070.00", "0.00", ["reciprocal"]),
    # A derivative outside chapter 76 (8302.10.60, 9903.85.08) pays on its aluminum content:
    # 25% of 3,000 = 750; before 2025-06-04 the reciprocal duty is displaced for the whole good.
    ("aluminum derivative, content",
     dict(hts="83021060", value=D(10000), mfn_rate=D("0.02"), metal_content=D(3000)),
     "2025-05-03", None,
     [("mfn", "8302.10.60", "0.02", "200.00"),
      ("aluminum-derivatives-other-232", "9903.85.08", "0.25", "750.00")],
     "950.00", "0.00", ["reciprocal"]),
]


def _run(schedule: Schedule, shipment: dict, on: str, scenario: str | None):
    return price_shipment(schedule, Shipment(**shipment), date.fromisoformat(on), scenario)


@hand_checked(CASES)
def test_hand_checked_quotes(schedule, case):
    check_quote(schedule, case)


def test_excluded_measures_say_why(schedule):
    quote = _run(schedule, dict(hts=CAR, value=D(60000)), "2025-04-09", None)
    (reciprocal,) = quote.excluded
    assert "Section 232" in reciprocal.reason and "EO 14289" in reciprocal.reason
    assert reciprocal.heading == "9903.01.33"
    steel = _run(schedule, dict(hts=STEEL_PLATE, value=D(1)), "2025-05-03", None)
    assert steel.excluded[0].heading == "9903.01.33"
    electronics = _run(schedule, dict(hts="84713001", value=D(1)), "2025-05-03", None)
    reasons = {item.measure: item for item in electronics.excluded}
    assert reasons["reciprocal"].heading == "9903.01.32"
    bearing = _run(schedule, dict(hts="84821010", value=D(1), not_auto_part=True), "2025-05-03",
                   None)
    assert "33(h)(ii)" in bearing.excluded[0].reason
    assert bearing.excluded[0].heading == "9903.94.06"


def test_exposure_and_effective_rate(schedule):
    quote = _run(schedule, dict(hts=MOTORCYCLE, value=D(20000)), "2025-05-03", None)
    assert quote.base_duty == D("480.00")
    assert quote.additional_duty == D("2000.00")
    assert quote.ieepa_duty == D("2000.00")
    assert quote.effective_rate == D("0.124")


def test_category_of_goods(schedule):
    def category(hts: str, **flags) -> str:
        return _run(schedule, dict(hts=hts, value=D(1), **flags), "2025-05-03", None).category

    assert category(CAR) == "autos"
    assert category(GEARBOX) == "auto-parts"
    # Not an auto part, a ball bearing is general goods in May 2025 (the note 38(i) parts list,
    # where 8482.10.10 is too, starts on 2025-11-01).
    assert category("84821010", not_auto_part=True) == "general"
    assert category(STEEL_PLATE) == "steel"
    assert category(ALU_PROFILE) == "aluminum"
    assert category(MOTORCYCLE) == "general"


def test_unknown_mfn_is_unknown_not_zero(schedule):
    # Raw cane sugar 1701.12.05: the HTS export's rate is a sliding scale by polarization
    # ("3.6606¢/kg less 0.020668¢/kg for each degree under 100 degrees..."), not a plain
    # rate: never guessed, so the base duty is unknown and the warning says why.
    quote = _run(schedule, dict(hts="17011205", value=D(1000)), "2025-05-03", None)
    assert quote.base_duty is None and quote.total_duty is None and quote.effective_rate is None
    assert quote.additional_duty == D("100.00")
    assert any("1701.12.05 is published as '3.6606¢/kg less" in w for w in quote.warnings)


def test_mfn_rate_comes_from_the_revision_in_force(schedule):
    # 7208.51.00 is Free in every export; the line's why names the revision it came from
    # (2025 Revision 11 is in force on 2025-05-03, revisions.csv).
    quote = _run(schedule, dict(hts=STEEL_PLATE, value=D(1000)), "2025-05-03", None)
    assert quote.lines[0].why.startswith("MFN Free: 7208.51.00, ")
    assert "source: HTS 2025 rev 11 (USITC export)" in quote.lines[0].why
    assert not any("MFN" in w for w in quote.warnings)
    # A declared rate wins over the export's.
    declared = _run(schedule, dict(hts=STEEL_PLATE, value=D(1000), mfn_rate=D("0.01")),
                    "2025-05-03", None)
    assert declared.lines[0].amount == D("10.00")


def test_content_not_declared_charges_full_value_and_says_so(schedule):
    quote = _run(schedule, dict(hts="83021060", value=D(10000), mfn_rate=D(0)), "2025-05-03", None)
    assert quote.lines[1].basis == D("10000.00")
    assert any("no aluminum content value declared" in w for w in quote.warnings)


def test_not_in_force_is_reported_apart(schedule):
    quote = _run(schedule, dict(hts=CAR, value=D(60000)), "2025-04-02", None)
    reasons = {item.measure: item.reason for item in quote.not_in_force}
    assert reasons["autos-232"] == "not yet in force: applies to entries from 2025-04-03"
    assert "reciprocal" in reasons and not quote.excluded
    later = _run(schedule, dict(hts=MOTORCYCLE, value=D(1)), "2025-05-03", None)
    reasons = {item.measure: item.reason for item in later.not_in_force}
    assert reasons["steel-derivatives-other-232"] == (
        "8711.50.00 is listed only for entries from 2025-08-18")


def test_date_after_review_warns(schedule):
    late = date.fromordinal(schedule.reviewed_through.toordinal() + 1)
    goods = Shipment(D(100), category="general", mfn_rate=D("0.03"))
    quote = price_shipment(schedule, goods, late)
    assert any("after" in w and "reviewed" in w for w in quote.warnings)
    ok = price_shipment(schedule, goods, schedule.reviewed_through)
    assert not any("reviewed" in w for w in ok.warnings)


def test_unknown_scenario(schedule):
    with pytest.raises(ScheduleError, match="unknown scenario 'nope'.*hold-lifted"):
        _run(schedule, dict(hts=CAR, value=D(1)), "2025-05-03", "nope")


@pytest.mark.parametrize(
    "fields, message",
    [
        (dict(value=D(1)), "either an HTS code or a category"),
        (dict(hts=CAR, category="autos", value=D(1)), "either an HTS code or a category"),
        (dict(hts=CAR, value=D(0)), "greater than 0"),
        (dict(hts=CAR, value=D(1), currency="JPY"), "needs the exchange rate"),
        (dict(hts=CAR, value=D(10), metal_content=D(11)), "more than the customs value"),
        (dict(category="boats", value=D(1)), "expected one of autos"),
    ],
)
def test_bad_shipments(fields, message):
    with pytest.raises(InputError, match=message):
        Shipment(**fields)
