"""Independent, hand-checked quotes around the end of Section 122 and the Section 301
forced-labour duty (2026-07-24), the fiscal-year fee change (2026-10-01), informal entries,
the in-transit windows, Annex II dates, listed auto parts before their own duty, the review date,
batch = quote, and a new user's dateless quote.

Every expected amount below was computed by hand from the law, not copied from the engine:
  - REF = /work/shared/reference/us-japan-duties.md (the fact base; its worked examples rule):
    §1 (reciprocal 10% from 2025-04-05, Japan 24% on 2025-04-09, 14 points on hold
    2025-04-10..2025-08-06), §2 (timeline: 15% inclusive from 2025-08-07, IEEPA ends with
    entries of 2026-02-23, Section 122 10% 2026-02-24..2026-07-23, Section 301 from 2026-07-24),
    §3.4 (Annex II 9903.01.32 and its 2025-11-13 agricultural additions: "flavored green tea
    0902.10.10 (MFN 6.4%) pays 15% inclusive on 2025-11-01 and MFN only on 2025-12-01";
    electronics 8471 9903.01.32; listed auto parts outside the reciprocal duty from 2025-04-05,
    9903.01.33), §6 (MPF 0.3464%, FY2025 32.71/634.62, FY2026 33.58/651.50, FY2027 34.58/670.86;
    informal flat MPF 2.69 FY2026, 2.77 FY2027; HMF 0.125% ocean only), §11 (Section 301: 12.5%
    inclusive of MFN, 9903.05.49, 9903.05.48 adds 0 when MFN >= 12.5%; not on listed 232 goods,
    9903.05.90; worked: toys 9503.00.00 $10,000 MFN Free 2026-07-23 -> 1,000, 2026-07-24 ->
    1,250; camera 9006.59.40 MFN 4% 2026-09-01 -> 400 + 850), §12 (in-transit windows), §13
    (informal entries: at most $2,500; formal if an article over $250 is subject to a chapter 99
    duty), §15 (nothing known after 2026-10-07).
  - MFN = `general` of the 8-digit row (or the 10-digit ".00" row where there is no 8-digit
    one) in the USITC exports /work/shared/reference/hts/, read by hand in hts_2025_rev_7,
    hts_2025_rev_29, hts_2025_rev_32, hts_2026_rev_4 and hts_2026_rev_10 (identical in all):
      9503.00.00 "Free"; 9006.59.40 "4%"; 6109.10.00 "16.5%" (cotton T-shirts: an MFN >= 12.5%);
      8703.24.01 "2.5%"; 7208.51.00 "Free"; 8708.40.11 "2.5%"; 0902.10.10 "6.4%";
      8471.30.01.00 "Free".
    The shipments below give no mfn_rate: the engine reads it from its packaged exports.

Rounding: each amount half-up to the cent. Money: customs value in USD.
Landed cost = customs value + total duty + MPF + HMF.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from quote_cases import check_lines
from typer.testing import CliRunner

from tariffcalc import Shipment, price_shipment
from tariffcalc.cli import app

runner = CliRunner()

# ---- goods (MFN as read in the exports, see the module docstring) ----
TOYS = "95030000"  # 9503.00.00, MFN Free
CAMERA = "90065940"  # 9006.59.40, MFN 4%
TSHIRT = "61091000"  # 6109.10.00, MFN 16.5% (>= 12.5%)
CAR = "87032401"  # 8703.24.01, MFN 2.5%; autos list REF §3.1
STEEL_SHEET = "72085100"  # 7208.51.00, MFN Free; steel article (list (iii)), 9903.82.02 REF §9
GEARBOX = "87084011"  # 8708.40.11, MFN 2.5%; on the auto-parts list (auto-parts-hts.txt: 8708)
GREEN_TEA = "09021010"  # 0902.10.10, MFN 6.4%; Annex II from 2025-11-13 (REF §3.4)
LAPTOP = "84713001"  # 8471.30.01, MFN Free; electronics 9903.01.32; 8471 dual-use on parts list

V = D(10000)


def _run(schedule, shipment: dict, on: str, scenario: str | None = None):
    return price_shipment(schedule, Shipment(**shipment), date.fromisoformat(on), scenario)


# =====================================================================================
# Duty lines. Shape as tests/test_law_2026.py: (name, shipment, entry date, lines as (measure,
# heading, rate, amount), total, on hold, {excluded measure: heading or None}); the quote may
# exclude more than listed. Lines in the schedule's order (MFN, reciprocal, Section 122,
# Section 301, Section 232).
# =====================================================================================
MFN_TOYS = ("mfn", "9503.00.00", "0", "0.00")
MFN_CAMERA = ("mfn", "9006.59.40", "0.04", "400.00")  # 4% x 10,000
MFN_TEA = ("mfn", "0902.10.10", "0.064", "640.00")  # 6.4% x 10,000
MFN_GEARBOX = ("mfn", "8708.40.11", "0.025", "250.00")  # 2.5% x 10,000
S122_TOYS = ("section-122", "9903.03.01", "0.1", "1000.00")  # REF §2: 10% x 10,000
S301_TOYS = ("forced-labor-301", "9903.05.49", "0.125", "1250.00")  # REF §11: 12.5% - 0
OCEAN = dict(mode="ocean")

CASES = [
    # ======== Section 122 -> Section 301 (REF §2, §11) ========
    # REF §11 worked: toys 2026-07-23 -> 1,000 (Section 122 10%, 9903.03.01).
    ("toys 2026-07-23 (Section 122)", dict(hts=TOYS, value=V), "2026-07-23",
     [MFN_TOYS, S122_TOYS], "1000.00", "0.00", {}),
    # REF §11 worked: 2026-07-24 -> 1,250 (12.5% inclusive, MFN Free: 12.5%, 9903.05.49).
    ("toys 2026-07-24 (Section 301)", dict(hts=TOYS, value=V), "2026-07-24",
     [MFN_TOYS, S301_TOYS], "1250.00", "0.00", {}),
    # Camera MFN 4%: 400 + Section 122 10% = 1,000 -> 1,400.
    ("camera 2026-07-23", dict(hts=CAMERA, value=V), "2026-07-23",
     [MFN_CAMERA, ("section-122", "9903.03.01", "0.1", "1000.00")], "1400.00", "0.00", {}),
    # 12.5% - 4% = 8.5% x 10,000 = 850 (REF §11 worked, camera 2026-09-01 -> 400 + 850).
    ("camera 2026-07-24", dict(hts=CAMERA, value=V), "2026-07-24",
     [MFN_CAMERA, ("forced-labor-301", "9903.05.49", "0.085", "850.00")], "1250.00", "0.00", {}),
    ("camera 2026-09-01 (REF §11 worked)", dict(hts=CAMERA, value=V), "2026-09-01",
     [MFN_CAMERA, ("forced-labor-301", "9903.05.49", "0.085", "850.00")], "1250.00", "0.00", {}),
    # T-shirt MFN 16.5%: 1,650; Section 122 stacks on MFN (REF §2): + 1,000 = 2,650.
    ("T-shirt 2026-07-23", dict(hts=TSHIRT, value=V), "2026-07-23",
     [("mfn", "6109.10.00", "0.165", "1650.00"), ("section-122", "9903.03.01", "0.1", "1000.00")],
     "2650.00", "0.00", {}),
    # MFN 16.5% >= 12.5%: 9903.05.48 adds 0 (REF §11). Total = MFN 1,650.
    ("T-shirt 2026-07-24 (MFN >= 12.5%: 9903.05.48)", dict(hts=TSHIRT, value=V), "2026-07-24",
     [("mfn", "6109.10.00", "0.165", "1650.00"), ("forced-labor-301", "9903.05.48", "0", "0.00")],
     "1650.00", "0.00", {}),
    # Car, $60,000: autos 15% inclusive, 12.5% under 9903.94.41 (REF §2 2025-09-16, §8): 7,500 +
    # MFN 1,500 = 9,000. Not subject to the 301 duty: listed 232 goods, 9903.05.90 (REF §11).
    ("car 2026-09-01: no Section 301", dict(hts=CAR, value=D(60000)), "2026-09-01",
     [("mfn", "8703.24.01", "0.025", "1500.00"), ("autos-232", "9903.94.41", "0.125", "7500.00")],
     "9000.00", "0.00", {"forced-labor-301": "9903.05.90"}),
    # Steel sheet, $100,000: 50% of the full value under 9903.82.02 (REF §9 worked) = 50,000;
    # no 301 (9903.05.90, REF §11).
    ("steel sheet 2026-09-01: no Section 301", dict(hts=STEEL_SHEET, value=D(100000)),
     "2026-09-01",
     [("mfn", "7208.51.00", "0", "0.00"), ("steel-232", "9903.82.02", "0.5", "50000.00")],
     "50000.00", "0.00", {"forced-labor-301": "9903.05.90"}),

    # ======== in-transit windows (REF §12) ========
    # --- reciprocal from 2025-04-05: loaded before 2025-04-05, entered before 2025-05-27 ->
    # no reciprocal duty (9903.01.28). Toys, MFN Free.
    ("toys 2025-04-05 loaded 2025-04-04 (in transit)",
     dict(hts=TOYS, value=V, loaded_on=date(2025, 4, 4), **OCEAN), "2025-04-05",
     [MFN_TOYS], "0.00", "0.00", {"reciprocal": "9903.01.28"}),
    ("toys 2025-05-26 loaded 2025-04-04 (in transit, last day)",
     dict(hts=TOYS, value=V, loaded_on=date(2025, 4, 4), **OCEAN), "2025-05-26",
     [MFN_TOYS], "0.00", "0.00", {"reciprocal": "9903.01.28"}),
    # Window closed on 2025-05-27: 10% (9903.01.25) = 1,000 with 14% = 1,400 on hold (REF §1).
    ("toys 2025-05-27 loaded 2025-04-04 (window closed)",
     dict(hts=TOYS, value=V, loaded_on=date(2025, 4, 4), **OCEAN), "2025-05-27",
     [MFN_TOYS, ("reciprocal", "9903.01.25", "0.1", "1000.00")], "1000.00", "1400.00", {}),
    # Loaded on the change date itself: not "before" -> the baseline 10% of 2025-04-05..04-08
    # (REF §1); the 24% country rate starts 2025-04-09, so nothing is on hold yet.
    ("toys 2025-04-05 loaded 2025-04-05 (not before)",
     dict(hts=TOYS, value=V, loaded_on=date(2025, 4, 5), **OCEAN), "2025-04-05",
     [MFN_TOYS, ("reciprocal", "9903.01.25", "0.1", "1000.00")], "1000.00", "0.00", {}),
    # --- Japan 15% inclusive from 2025-08-07: loaded before 2025-08-07, entered before
    # 2025-10-05 -> keep the 10% (9903.01.25). Camera MFN 4%: 400 + 1,000 = 1,400 instead of
    # 400 + (15% - 4% = 11%) 1,100 = 1,500. The country rate's suspension ended 2025-08-06: the
    # 24% no longer exists, nothing is on hold.
    ("camera 2025-08-07 loaded 2025-08-06 (keeps 10%)",
     dict(hts=CAMERA, value=V, loaded_on=date(2025, 8, 6), **OCEAN), "2025-08-07",
     [MFN_CAMERA, ("reciprocal", "9903.01.25", "0.1", "1000.00")], "1400.00", "0.00", {}),
    ("camera 2025-10-04 loaded 2025-08-06 (keeps 10%, last day)",
     dict(hts=CAMERA, value=V, loaded_on=date(2025, 8, 6), **OCEAN), "2025-10-04",
     [MFN_CAMERA, ("reciprocal", "9903.01.25", "0.1", "1000.00")], "1400.00", "0.00", {}),
    ("camera 2025-10-05 loaded 2025-08-06 (window closed)",
     dict(hts=CAMERA, value=V, loaded_on=date(2025, 8, 6), **OCEAN), "2025-10-05",
     [MFN_CAMERA, ("reciprocal", "9903.02.73", "0.11", "1100.00")], "1500.00", "0.00", {}),
    ("camera 2025-08-07 loaded 2025-08-07 (not before)",
     dict(hts=CAMERA, value=V, loaded_on=date(2025, 8, 7), **OCEAN), "2025-08-07",
     [MFN_CAMERA, ("reciprocal", "9903.02.73", "0.11", "1100.00")], "1500.00", "0.00", {}),
    # --- Section 122 from 2026-02-24: loaded before 2026-02-24, entered before 2026-02-28 ->
    # no surcharge (9903.03.02); IEEPA ended with entries of 2026-02-23 (REF §2). MFN 400 only.
    ("camera 2026-02-24 loaded 2026-02-23 (no Section 122)",
     dict(hts=CAMERA, value=V, loaded_on=date(2026, 2, 23), **OCEAN), "2026-02-24",
     [MFN_CAMERA], "400.00", "0.00", {"section-122": "9903.03.02"}),
    ("camera 2026-02-27 loaded 2026-02-23 (no Section 122, last day)",
     dict(hts=CAMERA, value=V, loaded_on=date(2026, 2, 23), **OCEAN), "2026-02-27",
     [MFN_CAMERA], "400.00", "0.00", {"section-122": "9903.03.02"}),
    ("camera 2026-02-28 loaded 2026-02-23 (window closed)",
     dict(hts=CAMERA, value=V, loaded_on=date(2026, 2, 23), **OCEAN), "2026-02-28",
     [MFN_CAMERA, ("section-122", "9903.03.01", "0.1", "1000.00")], "1400.00", "0.00", {}),
    ("camera 2026-02-24 loaded 2026-02-24 (not before)",
     dict(hts=CAMERA, value=V, loaded_on=date(2026, 2, 24), **OCEAN), "2026-02-24",
     [MFN_CAMERA, ("section-122", "9903.03.01", "0.1", "1000.00")], "1400.00", "0.00", {}),
    # --- Section 301 from 2026-07-24: loaded before 2026-07-24, entered before 2026-07-28 ->
    # no 301 duty (9903.05.85, M) and Section 122 had ended (REF §12). Toys: nothing.
    ("toys 2026-07-24 loaded 2026-07-23 (no Section 301)",
     dict(hts=TOYS, value=V, loaded_on=date(2026, 7, 23), **OCEAN), "2026-07-24",
     [MFN_TOYS], "0.00", "0.00", {"forced-labor-301": "9903.05.85"}),
    ("toys 2026-07-27 loaded 2026-07-23 (no Section 301, last day)",
     dict(hts=TOYS, value=V, loaded_on=date(2026, 7, 23), **OCEAN), "2026-07-27",
     [MFN_TOYS], "0.00", "0.00", {"forced-labor-301": "9903.05.85"}),
    ("toys 2026-07-28 loaded 2026-07-23 (window closed)",
     dict(hts=TOYS, value=V, loaded_on=date(2026, 7, 23), **OCEAN), "2026-07-28",
     [MFN_TOYS, S301_TOYS], "1250.00", "0.00", {}),
    ("toys 2026-07-24 loaded 2026-07-24 (not before)",
     dict(hts=TOYS, value=V, loaded_on=date(2026, 7, 24), **OCEAN), "2026-07-24",
     [MFN_TOYS, S301_TOYS], "1250.00", "0.00", {}),
    # The day before a window a loading date changes nothing: toys on 2026-07-23 loaded
    # 2026-07-20 pay the Section 122 10% (its own window closed 2026-02-27).
    ("toys 2026-07-23 loaded 2026-07-20 (Section 122 window long closed)",
     dict(hts=TOYS, value=V, loaded_on=date(2026, 7, 20), **OCEAN), "2026-07-23",
     [MFN_TOYS, S122_TOYS], "1000.00", "0.00", {}),

    # ======== Annex II (REF §3.4) ========
    # 2025-11-01 undeclared: 15% inclusive, 15% - 6.4% = 8.6% x 10,000 = 860 (9903.02.73);
    # total 1,500 (REF: "pays 15% inclusive on 2025-11-01").
    ("green tea 2025-11-01 undeclared", dict(hts=GREEN_TEA, value=V), "2025-11-01",
     [MFN_TEA, ("reciprocal", "9903.02.73", "0.086", "860.00")], "1500.00", "0.00", {}),
    ("green tea 2025-11-01 declared Annex II", dict(hts=GREEN_TEA, value=V, annex_ii=True),
     "2025-11-01", [MFN_TEA], "640.00", "0.00", {"reciprocal": "9903.01.32"}),
    ("green tea 2025-11-12 undeclared", dict(hts=GREEN_TEA, value=V), "2025-11-12",
     [MFN_TEA, ("reciprocal", "9903.02.73", "0.086", "860.00")], "1500.00", "0.00", {}),
    # From 2025-11-13 the agricultural additions (HTS 2025 Rev 29): MFN only, 9903.01.32.
    ("green tea 2025-11-13 (Annex II)", dict(hts=GREEN_TEA, value=V), "2025-11-13",
     [MFN_TEA], "640.00", "0.00", {"reciprocal": "9903.01.32"}),
    ("green tea 2025-12-01 (REF: MFN only)", dict(hts=GREEN_TEA, value=V), "2025-12-01",
     [MFN_TEA], "640.00", "0.00", {"reciprocal": "9903.01.32"}),

    # ======== listed auto part before its own duty (REF §1, §3.4) ========
    # 2025-04-04: no reciprocal yet (from 2025-04-05), no parts duty yet (from 2025-05-03).
    ("gearbox 2025-04-04", dict(hts=GEARBOX, value=V), "2025-04-04",
     [MFN_GEARBOX], "250.00", "0.00", {}),
    # 2025-04-05 .. 2025-05-02: outside the reciprocal duty (9903.01.33, CBP autos FAQ).
    ("gearbox 2025-04-05", dict(hts=GEARBOX, value=V), "2025-04-05",
     [MFN_GEARBOX], "250.00", "0.00", {"reciprocal": "9903.01.33"}),
    ("gearbox 2025-05-02", dict(hts=GEARBOX, value=V), "2025-05-02",
     [MFN_GEARBOX], "250.00", "0.00", {"reciprocal": "9903.01.33"}),
    # 2025-05-03: auto parts 232 25% (9903.94.05) = 2,500; reciprocal excluded (232 goods).
    ("gearbox 2025-05-03", dict(hts=GEARBOX, value=V), "2025-05-03",
     [MFN_GEARBOX, ("auto-parts-232", "9903.94.05", "0.25", "2500.00")], "2750.00", "0.00",
     {"reciprocal": None}),

    # ======== after the review date (REF §2, §15) ========
    # 2026-10-08: the last known law (301 12.5% inclusive): 1,250, with a warning (below).
    ("toys 2026-10-08 (after review)", dict(hts=TOYS, value=V), "2026-10-08",
     [MFN_TOYS, S301_TOYS], "1250.00", "0.00", {}),
]  # fmt: skip


@pytest.mark.parametrize("case", [pytest.param(c, id=c[0]) for c in CASES])
def test_quote_lines(schedule, case):
    _name, shipment, on, lines, total, on_hold, excluded = case
    check_lines(schedule, shipment, on, None, lines, total, on_hold, excluded)


# =====================================================================================
# Fees and landed cost (REF §6, §13). (name, shipment, date, total duty, MPF, HMF, landed).
# MPF = 0.3464% x value, held in the fiscal year's bounds; informal flat fee where the entry
# may be informal; HMF = 0.125% x value on ocean cargo, 0 otherwise. Every row has a mode.
# =====================================================================================
FEES = [
    # --- MPF bounds at the fiscal-year change (toys: 301 12.5% on both dates) ---
    # $5,000 ocean: duty 625.00; MPF 17.32 (0.003464 x 5,000) < minimum; HMF 6.25.
    # FY2026 min 33.58: 5,000 + 625 + 33.58 + 6.25 = 5,664.83.
    ("min FY2026 2026-09-30", dict(hts=TOYS, value=D(5000), mode="ocean"), "2026-09-30",
     "625.00", "33.58", "6.25", "5664.83"),
    # FY2027 min 34.58: 5,665.83.
    ("min FY2027 2026-10-01", dict(hts=TOYS, value=D(5000), mode="ocean"), "2026-10-01",
     "625.00", "34.58", "6.25", "5665.83"),
    # $250,000 ocean: duty 31,250; MPF 866.00 > maximum; HMF 312.50.
    # FY2026 max 651.50: 250,000 + 31,250 + 651.50 + 312.50 = 282,214.00.
    ("max FY2026 2026-09-30", dict(hts=TOYS, value=D(250000), mode="ocean"), "2026-09-30",
     "31250.00", "651.50", "312.50", "282214.00"),
    # FY2027 max 670.86: 282,233.36.
    ("max FY2027 2026-10-01", dict(hts=TOYS, value=D(250000), mode="ocean"), "2026-10-01",
     "31250.00", "670.86", "312.50", "282233.36"),
    # Between the bounds: 0.3464% x 100,000 = 346.40 both years; air and land pay no HMF.
    # 100,000 + 12,500 + 346.40 = 112,846.40.
    ("mid FY2026 land", dict(hts=TOYS, value=D(100000), mode="land"), "2026-09-30",
     "12500.00", "346.40", "0.00", "112846.40"),
    ("mid FY2027 air", dict(hts=TOYS, value=D(100000), mode="air"), "2026-10-01",
     "12500.00", "346.40", "0.00", "112846.40"),
    # $10,000 ocean: MPF 34.64 (inside both years' bounds), HMF 12.50.
    ("toys 2026-07-23 ocean", dict(hts=TOYS, value=V, mode="ocean"), "2026-07-23",
     "1000.00", "34.64", "12.50", "11047.14"),
    ("toys 2026-07-24 ocean", dict(hts=TOYS, value=V, mode="ocean"), "2026-07-24",
     "1250.00", "34.64", "12.50", "11297.14"),
    ("camera 2026-09-01 ocean", dict(hts=CAMERA, value=V, mode="ocean"), "2026-09-01",
     "1250.00", "34.64", "12.50", "11297.14"),
    # T-shirt by air: 1,650 + 34.64 = 11,684.64.
    ("T-shirt 2026-07-24 air", dict(hts=TSHIRT, value=V, mode="air"), "2026-07-24",
     "1650.00", "34.64", "0.00", "11684.64"),
    # Car $60,000 ocean: 9,000; MPF 207.84; HMF 75.00; 69,282.84.
    ("car 2026-09-01 ocean", dict(hts=CAR, value=D(60000), mode="ocean"), "2026-09-01",
     "9000.00", "207.84", "75.00", "69282.84"),
    # Steel $100,000 ocean: 50,000; MPF 346.40; HMF 125.00; 150,471.40.
    ("steel 2026-09-01 ocean", dict(hts=STEEL_SHEET, value=D(100000), mode="ocean"),
     "2026-09-01", "50000.00", "346.40", "125.00", "150471.40"),

    # --- informal entries (REF §13): at most $2,500, no chapter 99 duty ---
    # Green tea on 2025-12-01 pays MFN only (Annex II, REF §3.4): no chapter 99 duty.
    # $2,500.00 air: duty 6.4% = 160.00; informal flat FY2026 2.69; landed 2,662.69.
    ("green tea $2,500.00 informal", dict(hts=GREEN_TEA, value=D("2500.00"), mode="air"),
     "2025-12-01", "160.00", "2.69", "0.00", "2662.69"),
    # $2,500.01: formal; 6.4% x 2,500.01 = 160.00064 -> 160.00; MPF 8.66 -> min 33.58;
    # 2,500.01 + 160.00 + 33.58 = 2,693.59.
    ("green tea $2,500.01 formal", dict(hts=GREEN_TEA, value=D("2500.01"), mode="air"),
     "2025-12-01", "160.00", "33.58", "0.00", "2693.59"),
    # Laptop 8471.30.01 declared not an auto part (note 33(h)(ii)), 2025-10-15: MFN Free,
    # electronics outside the reciprocal duty (9903.01.32): duty 0. $2,500.00 -> 2.69;
    # $2,500.01 -> 33.58.
    ("laptop $2,500.00 informal",
     dict(hts=LAPTOP, value=D("2500.00"), mode="air", not_auto_part=True), "2025-10-15",
     "0.00", "2.69", "0.00", "2502.69"),
    ("laptop $2,500.01 formal",
     dict(hts=LAPTOP, value=D("2500.01"), mode="air", not_auto_part=True), "2025-10-15",
     "0.00", "33.58", "0.00", "2533.59"),
    # Toys paying the 301 duty: $200 (not over $250) informal; $300 formal (REF §13).
    # $200 on 2026-10-01: duty 25.00; flat FY2027 2.77; 227.77.
    ("toys $200 2026-10-01 informal", dict(hts=TOYS, value=D(200), mode="air"), "2026-10-01",
     "25.00", "2.77", "0.00", "227.77"),
    # $200 on 2026-09-30: flat FY2026 2.69; 227.69.
    ("toys $200 2026-09-30 informal", dict(hts=TOYS, value=D(200), mode="air"), "2026-09-30",
     "25.00", "2.69", "0.00", "227.69"),
    # $300 on 2026-10-01: duty 37.50; MPF 1.04 -> min 34.58; 372.08.
    ("toys $300 2026-10-01 formal", dict(hts=TOYS, value=D(300), mode="air"), "2026-10-01",
     "37.50", "34.58", "0.00", "372.08"),
    # The $250 threshold itself: "over $250" -> $250.00 informal (31.25 + 2.77 = 284.02);
    # $250.01 formal (12.5% x 250.01 = 31.25125 -> 31.25; MPF 34.58; 250.01+31.25+34.58 = 315.84).
    ("toys $250.00 2026-10-01 informal", dict(hts=TOYS, value=D("250.00"), mode="air"),
     "2026-10-01", "31.25", "2.77", "0.00", "284.02"),
    ("toys $250.01 2026-10-01 formal", dict(hts=TOYS, value=D("250.01"), mode="air"),
     "2026-10-01", "31.25", "34.58", "0.00", "315.84"),

    # --- the in-transit, Annex II and auto-part cases of CASES, ocean, $10,000 ---
    # MPF 34.64 in every fiscal year (FY2025 bounds 32.71/634.62 too); HMF 12.50;
    # landed = 10,000 + duty + 47.14.
    ("in transit 2025-04-05",
     dict(hts=TOYS, value=V, mode="ocean", loaded_on=date(2025, 4, 4)), "2025-04-05",
     "0.00", "34.64", "12.50", "10047.14"),
    ("in transit 2025-05-26",
     dict(hts=TOYS, value=V, mode="ocean", loaded_on=date(2025, 4, 4)), "2025-05-26",
     "0.00", "34.64", "12.50", "10047.14"),
    ("loaded 2025-04-05 entered 2025-04-05",
     dict(hts=TOYS, value=V, mode="ocean", loaded_on=date(2025, 4, 5)), "2025-04-05",
     "1000.00", "34.64", "12.50", "11047.14"),
    ("keeps 10% 2025-08-07",
     dict(hts=CAMERA, value=V, mode="ocean", loaded_on=date(2025, 8, 6)), "2025-08-07",
     "1400.00", "34.64", "12.50", "11447.14"),
    ("keeps 10% 2025-10-04",
     dict(hts=CAMERA, value=V, mode="ocean", loaded_on=date(2025, 8, 6)), "2025-10-04",
     "1400.00", "34.64", "12.50", "11447.14"),
    ("window closed 2025-10-05",
     dict(hts=CAMERA, value=V, mode="ocean", loaded_on=date(2025, 8, 6)), "2025-10-05",
     "1500.00", "34.64", "12.50", "11547.14"),
    ("no Section 122 2026-02-24",
     dict(hts=CAMERA, value=V, mode="ocean", loaded_on=date(2026, 2, 23)), "2026-02-24",
     "400.00", "34.64", "12.50", "10447.14"),
    ("no Section 122 2026-02-27",
     dict(hts=CAMERA, value=V, mode="ocean", loaded_on=date(2026, 2, 23)), "2026-02-27",
     "400.00", "34.64", "12.50", "10447.14"),
    ("Section 122 2026-02-28",
     dict(hts=CAMERA, value=V, mode="ocean", loaded_on=date(2026, 2, 23)), "2026-02-28",
     "1400.00", "34.64", "12.50", "11447.14"),
    ("no Section 301 2026-07-24",
     dict(hts=TOYS, value=V, mode="ocean", loaded_on=date(2026, 7, 23)), "2026-07-24",
     "0.00", "34.64", "12.50", "10047.14"),
    ("no Section 301 2026-07-27",
     dict(hts=TOYS, value=V, mode="ocean", loaded_on=date(2026, 7, 23)), "2026-07-27",
     "0.00", "34.64", "12.50", "10047.14"),
    ("Section 301 2026-07-28",
     dict(hts=TOYS, value=V, mode="ocean", loaded_on=date(2026, 7, 23)), "2026-07-28",
     "1250.00", "34.64", "12.50", "11297.14"),
    ("green tea 2025-11-12 ocean", dict(hts=GREEN_TEA, value=V, mode="ocean"), "2025-11-12",
     "1500.00", "34.64", "12.50", "11547.14"),
    ("green tea 2025-11-13 ocean", dict(hts=GREEN_TEA, value=V, mode="ocean"), "2025-11-13",
     "640.00", "34.64", "12.50", "10687.14"),
    ("green tea 2025-11-01 Annex II ocean",
     dict(hts=GREEN_TEA, value=V, mode="ocean", annex_ii=True), "2025-11-01",
     "640.00", "34.64", "12.50", "10687.14"),
    ("gearbox 2025-04-04 ocean", dict(hts=GEARBOX, value=V, mode="ocean"), "2025-04-04",
     "250.00", "34.64", "12.50", "10297.14"),
    ("gearbox 2025-04-05 ocean", dict(hts=GEARBOX, value=V, mode="ocean"), "2025-04-05",
     "250.00", "34.64", "12.50", "10297.14"),
    ("gearbox 2025-05-02 ocean", dict(hts=GEARBOX, value=V, mode="ocean"), "2025-05-02",
     "250.00", "34.64", "12.50", "10297.14"),
    ("gearbox 2025-05-03 ocean", dict(hts=GEARBOX, value=V, mode="ocean"), "2025-05-03",
     "2750.00", "34.64", "12.50", "12797.14"),
    ("toys 2026-10-08 ocean", dict(hts=TOYS, value=V, mode="ocean"), "2026-10-08",
     "1250.00", "34.64", "12.50", "11297.14"),
]  # fmt: skip


@pytest.mark.parametrize("case", [pytest.param(c, id=c[0]) for c in FEES])
def test_fees_and_landed_cost(schedule, case):
    _name, shipment, on, duty, mpf, hmf, landed = case
    quote = _run(schedule, shipment, on)
    assert f"{quote.total_duty}" == duty
    assert f"{quote.mpf}" == mpf
    assert f"{quote.hmf}" == hmf
    assert f"{quote.total_fees}" == f"{D(mpf) + D(hmf)}"
    assert f"{quote.landed_cost}" == landed


def test_hmf_is_ocean_only(schedule):
    # REF §6: 0.125% of the value of ocean cargo (12.50 on 10,000); none for air or land.
    for mode, hmf in (("ocean", "12.50"), ("air", "0.00"), ("land", "0.00")):
        quote = _run(schedule, dict(hts=TOYS, value=V, mode=mode), "2026-10-01")
        assert f"{quote.hmf}" == hmf, mode


def test_fy2025_informal_flat_fee_is_not_invented(schedule):
    # REF §6 gives the flat informal MPF only from FY2026 (2.69) and FY2027 (2.77). A $200
    # toy entry on 2025-09-30 (FY2025) could be informal, but its flat fee is not in the fact
    # base: the FY2026 2.69 must not be applied; if a figure is shown it is the formal
    # minimum of FY2025 (32.71), and a fee note says the flat fee is not established.
    quote = _run(schedule, dict(hts=TOYS, value=D(200), mode="air"), "2025-09-30")
    assert quote.mpf != D("2.69")
    assert quote.mpf in (None, D("32.71"))
    assert any("not established" in note for note in quote.fee_notes), quote.fee_notes


# =====================================================================================
# Warnings
# =====================================================================================
WINDOW_DAYS = [
    # (goods, first entry day, last entry day, first day after) of each REF §12 window
    (TOYS, "2025-04-05", "2025-05-26", "2025-05-27"),
    (CAMERA, "2025-08-07", "2025-10-04", "2025-10-05"),
    (CAMERA, "2026-02-24", "2026-02-27", "2026-02-28"),
    (TOYS, "2026-07-24", "2026-07-27", "2026-07-28"),
]


@pytest.mark.parametrize("goods,first,last,after", WINDOW_DAYS, ids=[w[1] for w in WINDOW_DAYS])
def test_in_transit_without_loading_date_warns(schedule, goods, first, last, after):
    # Without a loading date the goods get ordinary treatment (REF §12: "a shipment needs its
    # loading date to use them"), with a warning that names --loaded-on; outside the window no
    # such warning.
    for on in (first, last):
        quote = _run(schedule, dict(hts=goods, value=V, mode="ocean"), on)
        assert any("--loaded-on" in w for w in quote.warnings), (on, quote.warnings)
    quote = _run(schedule, dict(hts=goods, value=V, mode="ocean"), after)
    assert not any("--loaded-on" in w for w in quote.warnings), (after, quote.warnings)


def test_in_transit_without_loading_date_is_ordinary(schedule):
    # Ordinary treatment, computed as in CASES: toys 2025-04-05 10% = 1,000; camera 2025-08-07
    # 400 + 1,100 = 1,500; camera 2026-02-24 400 + 1,000 = 1,400; toys 2026-07-24 1,250.
    for goods, on, total in ((TOYS, "2025-04-05", "1000.00"), (CAMERA, "2025-08-07", "1500.00"),
                             (CAMERA, "2026-02-24", "1400.00"), (TOYS, "2026-07-24", "1250.00")):
        quote = _run(schedule, dict(hts=goods, value=V, mode="ocean"), on)
        assert f"{quote.total_duty}" == total, on


def test_annex_ii_warning_before_2025_11_13_only(schedule):
    # 2025-11-12: charged, and the user is told --annex-ii decides (REF §3.4: the earlier
    # lists are not at hand). 2025-11-13: on the list, excluded; nothing to declare.
    before = _run(schedule, dict(hts=GREEN_TEA, value=V), "2025-11-12")
    assert any("--annex-ii" in w for w in before.warnings), before.warnings
    on = _run(schedule, dict(hts=GREEN_TEA, value=V), "2025-11-13")
    assert not any("--annex-ii" in w for w in on.warnings), on.warnings
    declared = _run(schedule, dict(hts=GREEN_TEA, value=V, annex_ii=True), "2025-11-01")
    assert not any("--annex-ii" in w for w in declared.warnings), declared.warnings


def test_review_date_warning(schedule):
    # REF §2/§15: a quote for an entry after 2026-10-07 must say the schedule does not know
    # the rates of that date; 2026-10-07 itself is within the review.
    after = _run(schedule, dict(hts=TOYS, value=V), "2026-10-08")
    assert any("2026-10-07" in w for w in after.warnings), after.warnings
    last = _run(schedule, dict(hts=TOYS, value=V), "2026-10-07")
    assert not any("2026-10-07" in w for w in last.warnings), last.warnings
    assert f"{last.total_duty}" == "1250.00"


# =====================================================================================
# Batch = quote (and = the hand figures)
# =====================================================================================
def _csv_row(index: int, shipment: dict, on: str) -> dict[str, str]:
    not_auto = shipment.get("not_auto_part")
    return {
        "id": str(index),
        "hts": shipment["hts"],
        "value": f"{shipment['value']}",
        "date": on,
        "mode": shipment.get("mode") or "",
        "loaded_on": shipment["loaded_on"].isoformat() if shipment.get("loaded_on") else "",
        "annex_ii": "true" if shipment.get("annex_ii") else "",
        # README: the batch column is auto_part (true/false); not an auto part -> false.
        "auto_part": "false" if not_auto else "",
    }


def test_batch_equals_quote(schedule, tmp_path: Path):
    fields = ["id", "hts", "value", "date", "mode", "loaded_on", "annex_ii", "auto_part"]
    source = tmp_path / "in.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for index, (_name, shipment, on, *_rest) in enumerate(FEES, 1):
            writer.writerow(_csv_row(index, shipment, on))
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["batch", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["id"] for row in rows] == [str(i) for i in range(1, len(FEES) + 1)]
    mismatches = []
    for row, (name, shipment, on, duty, mpf, hmf, landed) in zip(rows, FEES, strict=True):
        quote = _run(schedule, shipment, on)
        got = (row["total_duty"], row["mpf"], row["hmf"], row["landed_cost"])
        from_quote = tuple(f"{x}" for x in (quote.total_duty, quote.mpf, quote.hmf,
                                             quote.landed_cost))
        if got != from_quote or got != (duty, mpf, hmf, landed):
            mismatches.append((name, got, from_quote, (duty, mpf, hmf, landed)))
    assert mismatches == []


# =====================================================================================
# A new user's dateless quote through the CLI
# =====================================================================================
def test_new_user_quote_without_date():
    today = date.today()
    if today <= date(2026, 10, 7) or today > date(2027, 9, 30):
        pytest.skip("figures below are for an entry date in FY2027 after the review date")
    result = runner.invoke(app, ["quote", "--hts", "9503.00.00", "--value", "10000",
                                 "--mode", "ocean", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["entry_date"] == today.isoformat()
    # The last known law (REF §11): MFN Free + 301 12.5% inclusive = 1,250 (9903.05.49).
    assert [(ln["measure"], ln["heading"], ln["amount"]) for ln in data["lines"]] == [
        ("mfn", "9503.00.00", "0.00"), ("forced-labor-301", "9903.05.49", "1250.00")]
    assert data["total_duty"] == "1250.00"
    # FY2027 (REF §6): 0.3464% x 10,000 = 34.64, inside 34.58..670.86; HMF 0.125% = 12.50.
    assert data["fees"] == {"mpf": "34.64", "hmf": "12.50"}
    assert data["total_fees"] == "47.14"
    # 10,000 + 1,250 + 47.14.
    assert data["landed_cost"] == "11297.14"
    for key in ("total_duty", "total_fees", "landed_cost"):
        assert data[key] not in (None, "unknown")
    # Warnings that apply: the review date (2026-10-07), the Section 301 action's M confidence
    # (and its pending challenge), the note 52 product lists not at hand. Nothing else: no
    # in-transit window (ended 2026-07-27), no Annex II, no auto part.
    warnings = data["warnings"]

    def kind(w: str) -> str | None:
        if "2026-10-07" in w:
            return "review date"
        if "note 52" in w or "52(b)" in w:
            return "note 52 lists"
        if ("301" in w or "forced" in w.lower()) and re.search(r"\bM\b", w):
            return "301 confidence M"
        return None

    assert sorted(kind(w) or w for w in warnings) == [
        "301 confidence M", "note 52 lists", "review date"], warnings
    assert not any("--loaded-on" in w or "--annex-ii" in w for w in warnings), warnings
    assert "2026-10-07" in result.stderr  # warnings also go to stderr, not into the data


def test_batch_not_auto_part_column(schedule, tmp_path: Path):
    # Laptop 8471.30.01, $2,500.00 by air, 2025-10-15, not an auto part: MFN Free, electronics
    # outside the reciprocal duty (9903.01.32), no autos duty (note 33(h)(ii), 9903.94.06):
    # duty 0.00; informal flat MPF 2.69 (REF §6, §13); landed 2,502.69. The column is read
    # or refused, never ignored.
    source = tmp_path / "in.csv"
    source.write_text("id,hts,value,date,mode,not_auto_part\n"
                      "1,8471.30.01,2500.00,2025-10-15,air,true\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["batch", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(newline="", encoding="utf-8") as handle:
        row = next(csv.DictReader(handle))
    quote = _run(schedule, dict(hts=LAPTOP, value=D("2500.00"), mode="air", not_auto_part=True),
                 "2025-10-15")
    assert (row["total_duty"], row["mpf"], row["landed_cost"]) == ("0.00", "2.69", "2502.69")
    assert (row["total_duty"], row["mpf"], row["landed_cost"]) == (
        f"{quote.total_duty}", f"{quote.mpf}", f"{quote.landed_cost}")
