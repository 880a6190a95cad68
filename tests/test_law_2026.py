"""Independent, hand-checked quotes for the metals law of 2025-2026 (steel, aluminum, copper
Section 232; Section 122; the U.S. note 16 regime from 2026-04-06 and its 2026-06-08 amendment).

Every expected amount below was computed by hand from the law, not copied from the engine:
  - REF = /work/shared/reference/us-japan-duties.md (the fact base; its worked examples rule);
  - CH99 Lnnnnn = line of /work/shared/reference/hts-chapter99-2026-rev6.txt (2026 Revision 6):
    note 16(a) L15649, (c) L15665-15669 (full value; 15%-by-weight rule outside ch. 72/73/74/76),
    lists (i) L15672, (ii) L15678, (iii) L15686, (iv) L15707, (v) L15745, (vi) L15775,
    (vii) L15810, (viii) L15907, (ix) L15911, (x) L15918; (e) US metal L15936-15952;
    (f) 15% inclusive L15954-15959; headings 9903.82.02 L41289 (+50%), .03 L41302 (no change),
    .06 L41317 (+10%), .07 L41340 (10%), .08 L41350 (no change), .09 L41357 (+25%),
    .10 L41362 (15%), .11 L41369 (no change); Section 122 note 2(aa)(v)(1) L15263-15266;
  - MFN = `general` of the 8-digit row in the USITC export /work/shared/reference/hts/
    (hts_2026_rev_6.json.gz for 2026 entries, hts_2025_rev_5/_rev_17 for 2025; the README there
    says column 1 rates did not change over 2025 Rev 32 - 2026 Rev 10). Always passed explicitly.
  - 2025 derivative lists: the note 16/19 footnotes of the 2025 exports (REF §3.3) and
    /work/shared/reference/steel-aluminum-derivatives.csv (the 2025-08-18 inclusions).

Case shape as tests/quote_cases.py: (name, shipment, entry date, scenario, lines as (measure,
heading, rate, amount), total, on hold, excluded). Lines come in the schedule's order (MFN, the
reciprocal duty, Section 122, then the Section 232 measures). Unlike check_quote, `excluded`
here is a dict {measure: chapter 99 heading or None} of the exclusions the law requires; the
quote may list more (measures that reach the goods but lose on stacking are a design choice).
Rounding: each line half-up to the cent (all amounts below are exact).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from quote_cases import check_lines

from tariffcalc import Shipment, price_shipment

# ---- goods (MFN = `general` of the export row named) ----
STEEL_SHEET = "72085100"  # list (iii) "7208" (CH99 L15688); MFN Free (2026 rev 6, 7208.51.00)
BOLTS = "73181580"  # list (iv) (CH99 L15729, column 3); 2025: note 16 footnote from 2025 rev 5
BOLTS_MFN = D("0.085")  # 7318.15.80 general "8.5%" (2025 rev 5 and 2026 rev 6)
KITCHENWARE = "73239300"  # list (vii) (CH99 L15825); 2025: note 16 footnote (2025 rev 32)
KITCHENWARE_MFN = D("0.02")  # 7323.93.00 general "2%" (2026 rev 6)
ALU_8 = "76169951"  # 7616.99.51, general "2.5%" (2025 rev 5, 2026 rev 6); split at 10 digits:
ALU_CASTING = "7616995160"  # (i) L15675 / 2025 aluminum article (9903.85.02; REF §3.3)
ALU_LADDER = "7616995130"  # (vi) L15780 (25%)
ALU_OTHER = "7616995190"  # (ii) L15684 (50%) / 2025 ch. 76 derivative (9903.85.07)
ALU_MFN = D("0.025")
FURNITURE = "94032000"  # MFN Free; 2025 notes 16 and 19 (2025 rev 5 footnote); on no 2026 list
VISES = "82057000"  # list (vii) only (CH99 L15831); ch. 82; 2025-08-18 9903.81.91 (csv line 306)
VISES_MFN = D("0.05")  # 8205.70.00 general "5%" (2026 rev 6)
MACHINING_CENTRE = "84571000"  # list (x) only (CH99 L15925); 2025-08-18 9903.81.91 (csv l. 434)
MACHINING_MFN = D("0.042")  # 8457.10.00 general "4.2%" (2026 rev 6); no (ix)/(x) line has
#                             an MFN of 10% or more, so those cases declare one
COPPER_WIRE = "74081160"  # list (v) (CH99 L15751, column 1 of (v)); 2025 copper list
COPPER_MFN = D("0.03")  # 7408.11.60.00 general "3%" (2025 rev 17, 2026 rev 6)
CONDUCTOR = "85444290"  # lists (vi) L15798 AND (viii) L15909; MFN 2.6% (2026 rev 6)
HINGE = "83021060"  # lists (vi) L15781 AND (vii) L15841; MFN 3.5% (2026 rev 6)
STRANDED = "76141010"  # lists (ii) L15681 AND (iv) L15739; MFN 4.9% (7614.10.10.00, 2026 rev 6)
BUMPER = "87081030"  # lists (vi) L15800 and (vii) L15899; auto-parts list line 105; MFN 2.5%;
#                     also on the note 38(i) medium/heavy-vehicle parts list (L36370-36440)
CAR = "87032401"  # REF §3.1; MFN 2.5% (2026 rev 6)
FORKLIFT = "84271040"  # list (vii) L15852 (Rev 6); (xi) from 2026-06-08 (REF §9.1, M); MFN Free

S122_OUT = {"section-122": "9903.03.06"}  # note 2(aa)(v)(1), CH99 L15263-15266


CASES = [
    # ======== steel article (iii): 2025 regime to 2026-04-05, 9903.82.02 from 2026-04-06 ========
    # 50% of 100,000 = 50,000 under 9903.81.87 (REF §2, 2025-06-04); no Section 122 (REF §2:
    # not on 232 goods).
    ("steel sheet 2026-04-05", dict(hts=STEEL_SHEET, value=D(100000), mfn_rate=D(0)),
     "2026-04-05", None,
     [("mfn", "7208.51.00", "0", "0.00"), ("steel-232", "9903.81.87", "0.5", "50000.00")],
     "50000.00", "0.00", S122_OUT),
    # REF §9 worked example: 50% of the full value, 9903.82.02 (L41289), no Section 122.
    ("steel sheet 2026-04-06", dict(hts=STEEL_SHEET, value=D(100000), mfn_rate=D(0)),
     "2026-04-06", None,
     [("mfn", "7208.51.00", "0", "0.00"), ("steel-232", "9903.82.02", "0.5", "50000.00")],
     "50000.00", "0.00", S122_OUT),
    # US metal relief (16(e), L15945: 9903.82.06 covers (ii), (iv), (vi), (vii) only) does not
    # reach an article of steel of list (iii): still 50% of 100,000.
    ("steel sheet with US metal: no relief for list (iii)",
     dict(hts=STEEL_SHEET, value=D(100000), mfn_rate=D(0), us_metal=True), "2026-05-01", None,
     [("mfn", "7208.51.00", "0", "0.00"), ("steel-232", "9903.82.02", "0.5", "50000.00")],
     "50000.00", "0.00", S122_OUT),

    # ======== bolts 7318.15.80: chapter 73 steel derivative (9903.81.90), then list (iv) ========
    # Not a steel article of the 2018 scope; a derivative from 2025-03-12 only (REF §3.3); the
    # reciprocal duty starts 2025-04-05 (REF §1). So MFN alone: 8.5% x 10,000 = 850.
    ("bolts 2025-03-11", dict(hts=BOLTS, value=D(10000), mfn_rate=BOLTS_MFN), "2025-03-11",
     None, [("mfn", "7318.15.80", "0.085", "850.00")], "850.00", "0.00", {}),
    # 2025-03-12: ch. 73 derivative, 25% of the full value (9903.81.90, 2025 rev 5 "+ 25%"):
    # 2,500; total 850 + 2,500 = 3,350.
    ("bolts 2025-03-12", dict(hts=BOLTS, value=D(10000), mfn_rate=BOLTS_MFN), "2025-03-12",
     None,
     [("mfn", "7318.15.80", "0.085", "850.00"),
      ("steel-derivatives-232", "9903.81.90", "0.25", "2500.00")],
     "3350.00", "0.00", {}),
    # 2025-06-03: still full value at 25% (the content rule starts 2025-06-04, REF §2), so the
    # declared 6,000 of steel does not matter: 2,500; the whole good is a 232 good, so no
    # reciprocal duty (9903.01.33, REF §3.4).
    ("bolts 2025-06-03 (content ignored)",
     dict(hts=BOLTS, value=D(10000), mfn_rate=BOLTS_MFN, steel_content=D(6000)), "2025-06-03",
     None,
     [("mfn", "7318.15.80", "0.085", "850.00"),
      ("steel-derivatives-232", "9903.81.90", "0.25", "2500.00")],
     "3350.00", "0.00", {"reciprocal": None}),
    # 2025-06-04: 50% of the steel content 6,000 = 3,000; reciprocal 10% of the other 4,000 =
    # 400 (country rate suspended: 14% x 4,000 = 560 on hold, REF §1); 850 + 400 + 3,000.
    ("bolts 2025-06-04 with steel content",
     dict(hts=BOLTS, value=D(10000), mfn_rate=BOLTS_MFN, steel_content=D(6000)), "2025-06-04",
     None,
     [("mfn", "7318.15.80", "0.085", "850.00"),
      ("reciprocal", "9903.01.25", "0.1", "400.00"),
      ("steel-derivatives-232", "9903.81.90", "0.5", "3000.00")],
     "4250.00", "560.00", {}),
    ("bolts 2025-07-15 with steel content",
     dict(hts=BOLTS, value=D(10000), mfn_rate=BOLTS_MFN, steel_content=D(6000)), "2025-07-15",
     None,
     [("mfn", "7318.15.80", "0.085", "850.00"),
      ("reciprocal", "9903.01.25", "0.1", "400.00"),
      ("steel-derivatives-232", "9903.81.90", "0.5", "3000.00")],
     "4250.00", "560.00", {}),
    # 2025-09-01: reciprocal 15% inclusive (REF §2): 15% - 8.5% = 6.5% of 4,000 = 260 (9903.02.73).
    ("bolts 2025-09-01 with steel content",
     dict(hts=BOLTS, value=D(10000), mfn_rate=BOLTS_MFN, steel_content=D(6000)), "2025-09-01",
     None,
     [("mfn", "7318.15.80", "0.085", "850.00"),
      ("reciprocal", "9903.02.73", "0.065", "260.00"),
      ("steel-derivatives-232", "9903.81.90", "0.5", "3000.00")],
     "4110.00", "0.00", {}),
    # 2026-04-05 (last day of 9903.81.90): 50% of 6,000 = 3,000; Section 122 10% on the non-232
    # part 4,000 = 400 (REF §2); 850 + 400 + 3,000.
    ("bolts 2026-04-05 with steel content",
     dict(hts=BOLTS, value=D(10000), mfn_rate=BOLTS_MFN, steel_content=D(6000)), "2026-04-05",
     None,
     [("mfn", "7318.15.80", "0.085", "850.00"),
      ("section-122", "9903.03.01", "0.1", "400.00"),
      ("steel-derivatives-232", "9903.81.90", "0.5", "3000.00")],
     "4250.00", "0.00", {}),
    # 2026-04-06: list (iv), 50% of the FULL value (16(c), L15665) = 5,000 whatever the steel
    # content; REF §9 worked example 850 + 5,000. No Section 122 (whole article, L15265).
    ("bolts 2026-04-06 with steel content",
     dict(hts=BOLTS, value=D(10000), mfn_rate=BOLTS_MFN, steel_content=D(6000)), "2026-04-06",
     None,
     [("mfn", "7318.15.80", "0.085", "850.00"),
      ("steel-derivatives-2026-232", "9903.82.02", "0.5", "5000.00")],
     "5850.00", "0.00", S122_OUT),
    ("bolts 2026-04-06 without content",
     dict(hts=BOLTS, value=D(10000), mfn_rate=BOLTS_MFN), "2026-04-06", None,
     [("mfn", "7318.15.80", "0.085", "850.00"),
      ("steel-derivatives-2026-232", "9903.82.02", "0.5", "5000.00")],
     "5850.00", "0.00", S122_OUT),
    # US steel in a list (iv) derivative: 9903.82.06, + 10% (L41317, 16(e) L15945): 1,000.
    ("bolts of US steel 2026-05-01",
     dict(hts=BOLTS, value=D(10000), mfn_rate=BOLTS_MFN, us_metal=True), "2026-05-01", None,
     [("mfn", "7318.15.80", "0.085", "850.00"),
      ("us-metal-2026-232", "9903.82.06", "0.1", "1000.00")],
     "1850.00", "0.00", S122_OUT),

    # ======== stainless kitchenware 7323.93.00: list (vii), chapter 73 ========
    # 2026-04-05: 2025 ch. 73 derivative on the steel content: 50% x 6,000 = 3,000; Section 122
    # 10% x 4,000 = 400; MFN 2% x 10,000 = 200. Total 3,600.
    ("kitchenware 2026-04-05 with steel content",
     dict(hts=KITCHENWARE, value=D(10000), mfn_rate=KITCHENWARE_MFN, steel_content=D(6000)),
     "2026-04-05", None,
     [("mfn", "7323.93.00", "0.02", "200.00"),
      ("section-122", "9903.03.01", "0.1", "400.00"),
      ("steel-derivatives-232", "9903.81.90", "0.5", "3000.00")],
     "3600.00", "0.00", {}),
    # REF §9 worked example: 200 + 2,500 (25% of the full value, 9903.82.09 L41357).
    ("kitchenware 2026-04-06",
     dict(hts=KITCHENWARE, value=D(10000), mfn_rate=KITCHENWARE_MFN), "2026-04-06", None,
     [("mfn", "7323.93.00", "0.02", "200.00"),
      ("steel-derivatives-25-2026-232", "9903.82.09", "0.25", "2500.00")],
     "2700.00", "0.00", S122_OUT),
    ("kitchenware 2026-05-01 (REF §9)",
     dict(hts=KITCHENWARE, value=D(10000), mfn_rate=KITCHENWARE_MFN), "2026-05-01", None,
     [("mfn", "7323.93.00", "0.02", "200.00"),
      ("steel-derivatives-25-2026-232", "9903.82.09", "0.25", "2500.00")],
     "2700.00", "0.00", S122_OUT),
    # The 15%-by-weight rule is only for goods outside chapters 72, 73, 74, 76 (L15666): a
    # declared "under 15%" changes nothing for a chapter 73 good.
    ("kitchenware: weight rule does not reach chapter 73",
     dict(hts=KITCHENWARE, value=D(10000), mfn_rate=KITCHENWARE_MFN,
          metal_weight_under_15=True), "2026-05-01", None,
     [("mfn", "7323.93.00", "0.02", "200.00"),
      ("steel-derivatives-25-2026-232", "9903.82.09", "0.25", "2500.00")],
     "2700.00", "0.00", S122_OUT),

    # ======== 7616.99.51 at 10 digits ========
    # 2025: castings .60 are aluminum articles (9903.85.02, REF §3.3): 50% of the FULL value
    # (content not used for articles) = 5,000; no reciprocal duty on a whole 232 article.
    ("casting 7616.99.51.60 2025-07-15",
     dict(hts=ALU_CASTING, value=D(10000), mfn_rate=ALU_MFN, aluminum_content=D(4000)),
     "2025-07-15", None,
     [("mfn", "7616.99.51.60", "0.025", "250.00"),
      ("aluminum-232", "9903.85.02", "0.5", "5000.00")],
     "5250.00", "0.00", {"reciprocal": None}),
    # Other suffix .90: ch. 76 derivative (9903.85.07) on the content: 50% x 4,000 = 2,000;
    # reciprocal 10% x 6,000 = 600, 840 on hold (same as test_history's ALU_DOOR reasoning).
    ("other 7616.99.51.90 2025-07-15",
     dict(hts=ALU_OTHER, value=D(10000), mfn_rate=ALU_MFN, aluminum_content=D(4000)),
     "2025-07-15", None,
     [("mfn", "7616.99.51.90", "0.025", "250.00"),
      ("reciprocal", "9903.01.25", "0.1", "600.00"),
      ("aluminum-derivatives-232", "9903.85.07", "0.5", "2000.00")],
     "2850.00", "840.00", {}),
    # 2026: .60 is on list (i) (L15675): 50% of 10,000 = 5,000 (9903.82.02).
    ("casting 7616.99.51.60 2026-04-06",
     dict(hts=ALU_CASTING, value=D(10000), mfn_rate=ALU_MFN), "2026-04-06", None,
     [("mfn", "7616.99.51.60", "0.025", "250.00"),
      ("aluminum-232", "9903.82.02", "0.5", "5000.00")],
     "5250.00", "0.00", S122_OUT),
    # .90 is on list (ii) (L15684): 50% (9903.82.02) = 5,000.
    ("other 7616.99.51.90 2026-04-06",
     dict(hts=ALU_OTHER, value=D(10000), mfn_rate=ALU_MFN), "2026-04-06", None,
     [("mfn", "7616.99.51.90", "0.025", "250.00"),
      ("aluminum-derivatives-2026-232", "9903.82.02", "0.5", "5000.00")],
     "5250.00", "0.00", S122_OUT),
    # .30 (ladders) is on list (vi) (L15780): 25% (9903.82.09) = 2,500; chapter 76, so no weight
    # rule.
    ("ladder 7616.99.51.30 2026-04-06",
     dict(hts=ALU_LADDER, value=D(10000), mfn_rate=ALU_MFN), "2026-04-06", None,
     [("mfn", "7616.99.51.30", "0.025", "250.00"),
      ("aluminum-derivatives-25-2026-232", "9903.82.09", "0.25", "2500.00")],
     "2750.00", "0.00", S122_OUT),

    # ======== metal furniture 9403.20.00 ========
    # 2025-03-11: not yet a derivative (REF §3.3: listed from 2025-03-12); MFN Free: nothing.
    ("furniture 2025-03-11",
     dict(hts=FURNITURE, value=D(10000), mfn_rate=D(0), steel_content=D(3000),
          aluminum_content=D(1000)), "2025-03-11", None,
     [("mfn", "9403.20.00", "0", "0.00")], "0.00", "0.00", {}),
    # 2025-03-12: on both derivative lists outside ch. 73/76, each on its own metal content
    # (REF §3.3: 9903.81.91 / 9903.85.08 "25% upon the value of the ... content", 2025 rev 5):
    # 25% x 3,000 = 750; 25% x 1,000 = 250. No reciprocal duty before 2025-04-05.
    ("furniture 2025-03-12",
     dict(hts=FURNITURE, value=D(10000), mfn_rate=D(0), steel_content=D(3000),
          aluminum_content=D(1000)), "2025-03-12", None,
     [("mfn", "9403.20.00", "0", "0.00"),
      ("steel-derivatives-other-232", "9903.81.91", "0.25", "750.00"),
      ("aluminum-derivatives-other-232", "9903.85.08", "0.25", "250.00")],
     "1000.00", "0.00", {}),
    # 2026-04-06: 9403.20.00 is on none of lists (i)-(x) (only 9403.99.9020 is, on (vii) L15904);
    # REF §9 "a provision on no list pays no metals duty". So Section 122 10% on all: 1,000.
    ("furniture 2026-04-06 (on no list)",
     dict(hts=FURNITURE, value=D(10000), mfn_rate=D(0), steel_content=D(3000),
          aluminum_content=D(1000)), "2026-04-06", None,
     [("mfn", "9403.20.00", "0", "0.00"), ("section-122", "9903.03.01", "0.1", "1000.00")],
     "1000.00", "0.00", {}),

    # ======== vises 8205.70.00: list (vii), outside chapters 72/73/74/76 ========
    # 2026-04-05: 2025-08-18 steel derivative (9903.81.91) on the content: 50% x 3,000 = 1,500;
    # Section 122 10% x 7,000 = 700; MFN 5% x 10,000 = 500. Total 2,700.
    ("vises 2026-04-05 with steel content",
     dict(hts=VISES, value=D(10000), mfn_rate=VISES_MFN, steel_content=D(3000)), "2026-04-05",
     None,
     [("mfn", "8205.70.00", "0.05", "500.00"),
      ("section-122", "9903.03.01", "0.1", "700.00"),
      ("steel-derivatives-other-232", "9903.81.91", "0.5", "1500.00")],
     "2700.00", "0.00", {}),
    # 2026-04-06, steel >= 15% of the weight: 25% of 10,000 (9903.82.09) = 2,500; no S122.
    ("vises 2026-04-06, metal 15% or more of weight",
     dict(hts=VISES, value=D(10000), mfn_rate=VISES_MFN, metal_weight_under_15=False),
     "2026-04-06", None,
     [("mfn", "8205.70.00", "0.05", "500.00"),
      ("steel-derivatives-25-2026-232", "9903.82.09", "0.25", "2500.00")],
     "3000.00", "0.00", S122_OUT),
    # Under 15% of the weight: 9903.82.03, no change (L41302); not a 9903.82.02/.04-.19 good, so
    # Section 122 applies on the full value (REF §9): 10% x 10,000 = 1,000. 500 + 1,000.
    ("vises, metal under 15% of weight",
     dict(hts=VISES, value=D(10000), mfn_rate=VISES_MFN, metal_weight_under_15=True),
     "2026-05-01", None,
     [("mfn", "8205.70.00", "0.05", "500.00"), ("section-122", "9903.03.01", "0.1", "1000.00")],
     "1500.00", "0.00", {"steel-derivatives-25-2026-232": "9903.82.03"}),
    # No aluminum, steel or copper: 9903.82.01, no change (REF §9, 2026 Rev 7, M); Section 122.
    ("vises with no metal",
     dict(hts=VISES, value=D(10000), mfn_rate=VISES_MFN, no_metal=True), "2026-05-01", None,
     [("mfn", "8205.70.00", "0.05", "500.00"), ("section-122", "9903.03.01", "0.1", "1000.00")],
     "1500.00", "0.00", {"steel-derivatives-25-2026-232": "9903.82.01"}),
    # US steel, weight >= 15%: 9903.82.06 + 10% (L41317; 16(e) L15945 names (vii)) = 1,000;
    # .06 is within .04-.19, so no Section 122.
    ("vises of US steel",
     dict(hts=VISES, value=D(10000), mfn_rate=VISES_MFN, metal_weight_under_15=False,
          us_metal=True), "2026-05-01", None,
     [("mfn", "8205.70.00", "0.05", "500.00"),
      ("us-metal-2026-232", "9903.82.06", "0.1", "1000.00")],
     "1500.00", "0.00", S122_OUT),

    # ======== machining centre 8457.10.00: list (x), 15% inclusive of MFN ========
    # 2026-04-05: 2025-08-18 derivative on content: 50% x 40,000 = 20,000; S122 10% x 60,000 =
    # 6,000; MFN 4.2% x 100,000 = 4,200. Total 30,200.
    ("machining centre 2026-04-05 with steel content",
     dict(hts=MACHINING_CENTRE, value=D(100000), mfn_rate=MACHINING_MFN,
          steel_content=D(40000)), "2026-04-05", None,
     [("mfn", "8457.10.00", "0.042", "4200.00"),
      ("section-122", "9903.03.01", "0.1", "6000.00"),
      ("steel-derivatives-other-232", "9903.81.91", "0.5", "20000.00")],
     "30200.00", "0.00", {}),
    # 16(f) L15954-15958: MFN 4.2% < 15%: 9903.82.10 adds 15% - 4.2% = 10.8% -> 10,800; total
    # 15,000 (15% of the value). No S122.
    ("machining centre 2026-04-06, MFN under 15%",
     dict(hts=MACHINING_CENTRE, value=D(100000), mfn_rate=MACHINING_MFN,
          metal_weight_under_15=False), "2026-04-06", None,
     [("mfn", "8457.10.00", "0.042", "4200.00"),
      ("steel-derivatives-15-2026-232", "9903.82.10", "0.108", "10800.00")],
     "15000.00", "0.00", S122_OUT),
    # MFN declared 16% (no list (ix)/(x) line has one): 9903.82.11, no additional duty.
    ("list (x) with MFN above 15%",
     dict(hts=MACHINING_CENTRE, value=D(100000), mfn_rate=D("0.16"),
          metal_weight_under_15=False), "2026-05-01", None,
     [("mfn", "8457.10.00", "0.16", "16000.00"),
      ("steel-derivatives-15-2026-232", "9903.82.11", "0", "0.00")],
     "16000.00", "0.00", S122_OUT),
    # MFN exactly 15%: "15 percent or higher, heading 9903.82.11 applies" (L15958).
    ("list (x) with MFN of exactly 15%",
     dict(hts=MACHINING_CENTRE, value=D(100000), mfn_rate=D("0.15"),
          metal_weight_under_15=False), "2026-05-01", None,
     [("mfn", "8457.10.00", "0.15", "15000.00"),
      ("steel-derivatives-15-2026-232", "9903.82.11", "0", "0.00")],
     "15000.00", "0.00", S122_OUT),
    # US steel: 16(e) L15948-15951: MFN 4.2% < 10%: 9903.82.07 makes the total 10%: 5.8% = 5,800.
    ("list (x) of US steel, MFN under 10%",
     dict(hts=MACHINING_CENTRE, value=D(100000), mfn_rate=MACHINING_MFN,
          metal_weight_under_15=False, us_metal=True), "2026-05-01", None,
     [("mfn", "8457.10.00", "0.042", "4200.00"),
      ("us-metal-15-2026-232", "9903.82.07", "0.058", "5800.00")],
     "10000.00", "0.00", S122_OUT),
    # US steel, MFN declared 12% >= 10%: 9903.82.08, no additional duty (L15951-15952).
    ("list (x) of US steel, MFN 10% or more",
     dict(hts=MACHINING_CENTRE, value=D(100000), mfn_rate=D("0.12"),
          metal_weight_under_15=False, us_metal=True), "2026-05-01", None,
     [("mfn", "8457.10.00", "0.12", "12000.00"),
      ("us-metal-15-2026-232", "9903.82.08", "0", "0.00")],
     "12000.00", "0.00", S122_OUT),
    # Under 15% of the weight: 9903.82.03 (L15667 names .02 and .04-.17, which include .10);
    # Section 122 on the full value: 10,000. 4,200 + 10,000.
    ("list (x), metal under 15% of weight",
     dict(hts=MACHINING_CENTRE, value=D(100000), mfn_rate=MACHINING_MFN,
          metal_weight_under_15=True), "2026-05-01", None,
     [("mfn", "8457.10.00", "0.042", "4200.00"),
      ("section-122", "9903.03.01", "0.1", "10000.00")],
     "14200.00", "0.00", {"steel-derivatives-15-2026-232": "9903.82.03"}),

    # ======== copper wire 7408.11.60 ========
    # 2025-07-31: copper 232 not yet in force (2025-08-01, REF §2). Declared an Annex II good
    # (REF §3.4: Annex II is the user's declaration; the full list is not at hand): MFN only.
    ("copper wire 2025-07-31, Annex II",
     dict(hts=COPPER_WIRE, value=D(10000), mfn_rate=COPPER_MFN, annex_ii=True), "2025-07-31",
     None, [("mfn", "7408.11.60", "0.03", "300.00")], "300.00", "0.00", {"reciprocal": None}),
    # Not declared Annex II: reciprocal 10% of 10,000 = 1,000, 14% = 1,400 on hold (REF §1).
    ("copper wire 2025-07-31",
     dict(hts=COPPER_WIRE, value=D(10000), mfn_rate=COPPER_MFN), "2025-07-31", None,
     [("mfn", "7408.11.60", "0.03", "300.00"), ("reciprocal", "9903.01.25", "0.1", "1000.00")],
     "1300.00", "1400.00", {}),
    # 2025-08-01: 50% of the copper content 8,000 = 4,000 (9903.78.01, 2025 rev 17 "upon the
    # value of the copper content"); reciprocal 10% on the other 2,000 = 200, 280 on hold.
    ("copper wire 2025-08-01 with copper content",
     dict(hts=COPPER_WIRE, value=D(10000), mfn_rate=COPPER_MFN, copper_content=D(8000)),
     "2025-08-01", None,
     [("mfn", "7408.11.60", "0.03", "300.00"),
      ("reciprocal", "9903.01.25", "0.1", "200.00"),
      ("copper-232", "9903.78.01", "0.5", "4000.00")],
     "4500.00", "280.00", {}),
    # 2025-09-01: reciprocal 15% - 3% = 12% of 2,000 = 240 (9903.02.73).
    ("copper wire 2025-09-01 with copper content",
     dict(hts=COPPER_WIRE, value=D(10000), mfn_rate=COPPER_MFN, copper_content=D(8000)),
     "2025-09-01", None,
     [("mfn", "7408.11.60", "0.03", "300.00"),
      ("reciprocal", "9903.02.73", "0.12", "240.00"),
      ("copper-232", "9903.78.01", "0.5", "4000.00")],
     "4540.00", "0.00", {}),
    # 2026-04-05: Section 122 10% on the non-copper 2,000 = 200; copper 4,000.
    ("copper wire 2026-04-05 with copper content",
     dict(hts=COPPER_WIRE, value=D(10000), mfn_rate=COPPER_MFN, copper_content=D(8000)),
     "2026-04-05", None,
     [("mfn", "7408.11.60", "0.03", "300.00"),
      ("section-122", "9903.03.01", "0.1", "200.00"),
      ("copper-232", "9903.78.01", "0.5", "4000.00")],
     "4500.00", "0.00", {}),
    # 2026-04-06: list (v), 50% of the full value under 9903.82.02 = 5,000 (REF §9 "Copper").
    ("copper wire 2026-04-06",
     dict(hts=COPPER_WIRE, value=D(10000), mfn_rate=COPPER_MFN, copper_content=D(8000)),
     "2026-04-06", None,
     [("mfn", "7408.11.60", "0.03", "300.00"), ("copper-232", "9903.82.02", "0.5", "5000.00")],
     "5300.00", "0.00", S122_OUT),

    # ======== autos displace metals ========
    # Car: 15% inclusive (9903.94.41): 12.5% x 60,000 = 7,500 + MFN 1,500 = 9,000 (REF §8);
    # no S122 (note 2(aa)(v)(2), L15268).
    ("car 2026-04-06", dict(hts=CAR, value=D(60000), mfn_rate=D("0.025")), "2026-04-06", None,
     [("mfn", "8703.24.01", "0.025", "1500.00"), ("autos-232", "9903.94.41", "0.125", "7500.00")],
     "9000.00", "0.00", {"section-122": "9903.03.06"}),
    # Bumper 8708.10.30: a listed auto part (auto-parts-hts.txt l. 105) AND on lists (vi)/(vii)
    # AND on the note 38(i) list; declared not a medium/heavy-vehicle part (38(l), L36441-36442:
    # 9903.74.11). Note 33(l) (CH99 L35664-35668): parts under 9903.94.42/.43 are not subject to
    # 9903.82.02/.04-.19. So 15% inclusive: 12.5% x 10,000 = 1,250 + MFN 250.
    ("bumper 2026-04-06: the auto part duty displaces metals",
     dict(hts=BUMPER, value=D(10000), mfn_rate=D("0.025"), metal_weight_under_15=False,
          not_heavy_vehicle=True),
     "2026-04-06", None,
     [("mfn", "8708.10.30", "0.025", "250.00"),
      ("auto-parts-232", "9903.94.43", "0.125", "1250.00")],
     "1500.00", "0.00", {"section-122": "9903.03.06"}),

    # ======== forklift 8427.10.40: (vii) to 2026-06-07, (xi) Japan 15% from 2026-06-08 ========
    # 25% of 50,000 = 12,500 (9903.82.09); no S122.
    ("forklift 2026-06-07",
     dict(hts=FORKLIFT, value=D(50000), mfn_rate=D(0), metal_weight_under_15=False),
     "2026-06-07", None,
     [("mfn", "8427.10.40", "0", "0.00"),
      ("steel-derivatives-25-2026-232", "9903.82.09", "0.25", "12500.00")],
     "12500.00", "0.00", S122_OUT),
    # REF §9.1 (M): 9903.82.22, 15% inclusive of MFN: 15% - 0 = 15% of 50,000 = 7,500. A (xi)
    # good is a derivative steel article covered by 9903.03.06 (rev 10 text), so no S122.
    ("forklift 2026-06-08",
     dict(hts=FORKLIFT, value=D(50000), mfn_rate=D(0), metal_weight_under_15=False),
     "2026-06-08", None,
     [("mfn", "8427.10.40", "0", "0.00"),
      ("mobile-equipment-2026-232", "9903.82.22", "0.15", "7500.00")],
     "7500.00", "0.00", S122_OUT),
    # Inclusive: with an MFN declared at 4% the heading adds 11% = 5,500; total still 7,500.
    ("forklift 2026-06-08, MFN declared 4%",
     dict(hts=FORKLIFT, value=D(50000), mfn_rate=D("0.04"), metal_weight_under_15=False),
     "2026-06-08", None,
     [("mfn", "8427.10.40", "0.04", "2000.00"),
      ("mobile-equipment-2026-232", "9903.82.22", "0.11", "5500.00")],
     "7500.00", "0.00", S122_OUT),
]  # fmt: skip


def _run(schedule, shipment: dict, on: str, scenario: str | None = None):
    return price_shipment(schedule, Shipment(**shipment), date.fromisoformat(on), scenario)


def check(schedule, case) -> None:
    _name, shipment, on, scenario, lines, total, on_hold, excluded = case
    check_lines(schedule, shipment, on, scenario, lines, total, on_hold, excluded)


def _params():
    for case in CASES:
        yield pytest.param(case, id=case[0])


@pytest.mark.parametrize("case", list(_params()))
def test_law_quotes(schedule, case):
    check(schedule, case)


# ---------------- cases whose measure id the law does not fix, and warnings ----------------

def _metal_lines(quote):
    return [ln for ln in quote.lines if ln.program == "section-232"]


def test_one_heading_for_goods_on_two_lists(schedule):
    # 16(a) L15650-15652: the headings are mutually exclusive, one at most per article.
    # Conductor 8544.42.90 on (vi) and (viii): 9903.82.09 once, 25% x 10,000 = 2,500;
    # MFN 2.6% = 260 (2026 rev 6); no S122. Aggregate weight >= 15% declared.
    quote = _run(schedule, dict(hts=CONDUCTOR, value=D(10000), mfn_rate=D("0.026"),
                                metal_weight_under_15=False), "2026-04-06")
    lines = _metal_lines(quote)
    assert [(ln.heading, ln.rate, ln.amount) for ln in lines] == [
        ("9903.82.09", D("0.25"), D("2500.00"))]
    assert quote.total_duty == D("2760.00")
    assert not any(ln.measure == "section-122" for ln in quote.lines)
    # Hinge 8302.10.60 on (vi) and (vii): 25% once = 2,500; MFN 3.5% = 350.
    quote = _run(schedule, dict(hts=HINGE, value=D(10000), mfn_rate=D("0.035"),
                                metal_weight_under_15=False), "2026-05-01")
    assert [(ln.heading, ln.amount) for ln in _metal_lines(quote)] == [("9903.82.09", D("2500.00"))]
    assert quote.total_duty == D("2850.00")
    # Stranded wire 7614.10.10 on (ii) and (iv), chapter 76: 50% once = 5,000; MFN 4.9% = 490.
    quote = _run(schedule, dict(hts=STRANDED, value=D(10000), mfn_rate=D("0.049")),
                 "2026-04-06")
    assert [(ln.heading, ln.amount) for ln in _metal_lines(quote)] == [("9903.82.02", D("5000.00"))]
    assert quote.total_duty == D("5490.00")


def test_section_122_on_goods_under_9903_82_01_and_03_only(schedule):
    # Note 2(aa)(v)(1) L15263-15266 spares 9903.82.02 and .04-.19 goods only.
    for flags in (dict(no_metal=True), dict(metal_weight_under_15=True)):
        quote = _run(schedule, dict(hts=VISES, value=D(10000), mfn_rate=VISES_MFN, **flags),
                     "2026-05-01")
        assert [(ln.heading, ln.amount) for ln in quote.lines if ln.measure == "section-122"] == [
            ("9903.03.01", D("1000.00"))]
        assert _metal_lines(quote) == []
    # After 2026-07-23 (REF §2) the under-15% good pays no Section 122 but the Section 301
    # forced-labour duty, which 9903.82.03 goods do pay (REF §11): 12.5% - 5% = 7.5% = 750.
    quote = _run(schedule, dict(hts=VISES, value=D(10000), mfn_rate=VISES_MFN,
                                metal_weight_under_15=True), "2026-07-24")
    assert [(ln.measure, ln.heading, ln.amount) for ln in quote.lines] == [
        ("mfn", "8205.70.00", D("500.00")), ("forced-labor-301", "9903.05.49", D("750.00"))]
    assert quote.total_duty == D("1250.00")


def test_casting_at_8_digits_in_2025_never_pays_two_aluminum_duties(schedule):
    # 2025-05-01: article (9903.85.02) and ch. 76 derivative (9903.85.07) were both 25% of the
    # full value (derivatives on content only from 2025-06-04), so the 8-digit line pays one
    # aluminum duty of 2,500 whatever its suffix, + MFN 250; no reciprocal (whole 232 good).
    quote = _run(schedule, dict(hts=ALU_8, value=D(10000), mfn_rate=ALU_MFN), "2025-05-01")
    lines = _metal_lines(quote)
    assert len(lines) == 1 and lines[0].heading in ("9903.85.02", "9903.85.07")
    assert (lines[0].rate, lines[0].amount) == (D("0.25"), D("2500.00"))
    assert quote.total_duty == D("2750.00")
    # 2025-07-15 without a declared content: article 50% of 10,000, or derivative 50% of the
    # full value (content not declared, REF §3.3): 5,000 either way, one line, no reciprocal.
    quote = _run(schedule, dict(hts=ALU_8, value=D(10000), mfn_rate=ALU_MFN), "2025-07-15")
    lines = _metal_lines(quote)
    assert len(lines) == 1 and lines[0].amount == D("5000.00")
    assert quote.total_duty == D("5250.00")
    # With 4,000 of aluminum declared the suffix decides: article 5,000 (total 5,250) or
    # derivative 2,000 + reciprocal 600 (total 2,850). Never both (REF §3.3).
    quote = _run(schedule, dict(hts=ALU_8, value=D(10000), mfn_rate=ALU_MFN,
                                aluminum_content=D(4000)), "2025-07-15")
    lines = _metal_lines(quote)
    assert len(lines) == 1
    assert quote.total_duty in (D("5250.00"), D("2850.00"))


def test_8_digit_7616_99_51_in_2026(schedule):
    # 2026: .5160/.5170 on (i) and .5120/.5150/.5175/.5190 on (ii) pay 50% (9903.82.02);
    # .5130/.5140 on (vi) pay 25% (9903.82.09). At 8 digits the rate is not determined: one
    # duty at most (16(a)), the higher 50% = 5,000 until the 10-digit line is given, and a
    # warning that names the 25% lines so the user can give it.
    quote = _run(schedule, dict(hts=ALU_8, value=D(10000), mfn_rate=ALU_MFN), "2026-04-06")
    flat = [w.replace(".", "") for w in quote.warnings]
    assert any("7616995130" in w and "7616995140" in w for w in flat), quote.warnings


def test_8_digit_7616_99_51_in_2026_is_priced(schedule):
    quote = _run(schedule, dict(hts=ALU_8, value=D(10000), mfn_rate=ALU_MFN), "2026-04-06")
    assert not any(ln.measure == "section-122" for ln in quote.lines)
    lines = _metal_lines(quote)
    assert [(ln.heading, ln.rate, ln.amount) for ln in lines] == [
        ("9903.82.02", D("0.5"), D("5000.00"))]
    assert quote.total_duty == D("5250.00")


def test_undeclared_weight_warns_naming_the_option(schedule):
    # A list (vii) good outside chapters 72-76 with nothing declared: the law charges only at
    # 15% or more of the weight (L15666-15668); the user must be told which option decides.
    quote = _run(schedule, dict(hts=VISES, value=D(10000), mfn_rate=VISES_MFN), "2026-05-01")
    assert any("--metal-weight-under-15" in w for w in quote.warnings), quote.warnings
    assert quote.total_duty in (D("3000.00"), D("1500.00"))
    # Declared either way: no such warning.
    for flag in (True, False):
        declared = _run(schedule, dict(hts=VISES, value=D(10000), mfn_rate=VISES_MFN,
                                       metal_weight_under_15=flag), "2026-05-01")
        assert not any("--metal-weight-under-15" in w for w in declared.warnings)
    # A chapter 73 good is outside the rule: no warning.
    kitchen = _run(schedule, dict(hts=KITCHENWARE, value=D(10000), mfn_rate=KITCHENWARE_MFN),
                   "2026-05-01")
    assert not any("--metal-weight-under-15" in w for w in kitchen.warnings)


def test_undeclared_content_in_2025_and_not_in_2026(schedule):
    # 2025-07-15, no steel content declared: the full value is charged (REF §3.3): 50% x
    # 10,000 = 5,000 + MFN 850; nothing left for the reciprocal duty; a warning names the option.
    quote = _run(schedule, dict(hts=BOLTS, value=D(10000), mfn_rate=BOLTS_MFN), "2025-07-15")
    assert quote.total_duty == D("5850.00")
    assert quote.on_hold_duty == D("0.00")
    assert any("--steel-content" in w or "--metal-content" in w for w in quote.warnings)
    # 2026-04-06: full value by law (16(c)); asking for the content would mislead.
    quote = _run(schedule, dict(hts=BOLTS, value=D(10000), mfn_rate=BOLTS_MFN), "2026-04-06")
    assert not any("--steel-content" in w or "--metal-content" in w for w in quote.warnings)


def test_bumper_not_an_auto_part_pays_metals(schedule):
    # Declared not a part of a passenger vehicle (note 33(h)(ii): 9903.94.06, 0%) nor of a
    # medium/heavy vehicle (note 38(l), L36441-36442: 9903.74.11): the metals lists (vi)/(vii)
    # apply, one heading: 25% x 10,000 = 2,500 + MFN 250; no S122.
    quote = _run(schedule, dict(hts=BUMPER, value=D(10000), mfn_rate=D("0.025"),
                                not_auto_part=True, not_heavy_vehicle=True,
                                metal_weight_under_15=False), "2026-04-06")
    assert [(ln.heading, ln.amount) for ln in _metal_lines(quote)] == [("9903.82.09", D("2500.00"))]
    assert quote.total_duty == D("2750.00")
    assert not any(ln.measure == "section-122" for ln in quote.lines)
    # Whatever vehicle it is a part of, a part under 9903.94.42/.43 (33(l)) or 9903.74.08
    # (38(h), L36351-36356) is not subject to 9903.82.02/.04-.19: no metals line.
    for flags in (dict(), dict(not_heavy_vehicle=True), dict(not_auto_part=True)):
        quote = _run(schedule, dict(hts=BUMPER, value=D(10000), mfn_rate=D("0.025"),
                                    metal_weight_under_15=False, **flags), "2026-04-06")
        assert not any(ln.heading.startswith("9903.82.") for ln in quote.lines), flags
