"""Fees and landed cost (reference §6): MPF bounds per fiscal year and per entry, HMF by mode."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tariffcalc import Shipment, price_shipment
from tariffcalc.cli import ExitCode, app
from tariffcalc.fees import EntryShares

runner = CliRunner()
TOOL = "84671110"  # MFN 4.5%, on no list


def quote(schedule, value: str, on: str, mode: str | None = None):
    goods = Shipment(D(value), hts=TOOL, mode=mode)
    return price_shipment(schedule, goods, date.fromisoformat(on))


@pytest.mark.parametrize(
    "value, on, mpf",
    [
        # 0.3464% of 1,000 = 3.46, raised to the minimum of the fiscal year.
        ("1000", "2025-09-30", "32.71"),
        ("1000", "2025-10-01", "33.58"),
        # 0.3464% of 500,000 = 1,732.00, lowered to the maximum.
        ("500000", "2025-09-30", "634.62"),
        ("500000", "2025-10-01", "651.50"),
        # In between: 0.3464% of 100,000 = 346.40.
        ("100000", "2025-05-03", "346.40"),
    ],
)
def test_mpf_bounds_each_side_of_the_fiscal_year(schedule, value, on, mpf):
    assert quote(schedule, value, on).mpf == D(mpf)


def test_mpf_of_fiscal_2027_and_after_the_known_years(schedule):
    # FY2027 (from 2026-10-01): 0.3464% of 100,000 = 346.40, within 34.58-670.86 (CBP Dec.
    # 26-14, reference §6: M, said in the fee's note).
    fy2027 = quote(schedule, "100000", "2026-10-01", mode="air")
    assert fy2027.mpf == D("346.40") and "confidence M" in fy2027.fee_notes[0]
    # 1,000,000 -> 3,464.00, lowered to the FY2027 maximum 670.86 (FY2026's was 651.50).
    assert quote(schedule, "1000000", "2026-10-01", mode="air").mpf == D("670.86")
    assert quote(schedule, "1000000", "2026-09-30", mode="air").mpf == D("651.50")
    later = quote(schedule, "100000", "2027-10-01", mode="air")
    assert later.mpf is None and later.total_fees is None and later.landed_cost is None
    assert any("bounds for entries of 2027-10-01 are not established" in w
               for w in later.warnings)


def test_hmf_by_mode_and_landed_cost(schedule):
    ocean = quote(schedule, "100000", "2025-05-03", mode="ocean")
    # MFN 4,500 + reciprocal 10% 10,000; MPF 346.40 + HMF 0.125% 125.00.
    assert (ocean.hmf, ocean.total_fees) == (D("125.00"), D("471.40"))
    assert ocean.landed_cost == D("100000.00") + D("14500.00") + D("471.40")
    air = quote(schedule, "100000", "2025-05-03", mode="air")
    assert (air.hmf, air.total_fees) == (D("0.00"), D("346.40"))
    unknown = quote(schedule, "100000", "2025-05-03")
    assert unknown.hmf is None and unknown.total_fees == D("346.40")
    assert any("Harbor Maintenance Fee not included" in w for w in unknown.warnings)


def test_entry_shares_add_up_exactly():
    shares = EntryShares(D("651.50"), D("300000.00"), 3)
    got = [shares.share(D("100000.00")) for _ in range(3)]
    assert got == [D("217.17"), D("217.17"), D("217.16")]
    assert sum(got) == D("651.50")


def test_quote_json_has_fees_and_landed_cost():
    result = runner.invoke(app, ["quote", "--hts", "8703.24.01", "--value", "60000", "--date",
                                 "2025-10-01", "--mode", "ocean", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["fees"] == {"mpf": "207.84", "hmf": "75.00"}
    assert data["total_fees"] == "282.84"
    assert data["landed_cost"] == "69282.84"  # 60,000 + 9,000 duty + 282.84 fees
    bad = runner.invoke(app, ["quote", "--hts", "8703.24.01", "--value", "1", "--mode", "rocket"])
    assert bad.exit_code == ExitCode.BAD_INPUT and "--mode" in bad.stderr


def test_an_entry_of_several_rows_hits_the_cap_once(tmp_path: Path):
    source = tmp_path / "entries.csv"
    source.write_text(
        "entry,hts,value,date,mode\n"
        "E1,8467.11.10,100000,2025-10-01,ocean\n"
        "E2,8467.11.10,1000,2025-10-01,air\n"
        "E1,8467.11.10,100000,2025-10-01,ocean\n"
        ",8467.11.10,100000,2025-10-01,air\n"
        "E1,8467.11.10,100000,2025-10-01,ocean\n"
        "E1,8467.11.10,100000,2025-11-01,ocean\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["batch", str(source)])
    assert result.exit_code == ExitCode.ROWS_FAILED, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    # E1: 300,000 -> 1,039.20, capped once at 651.50 and shared 217.17/217.17/217.16.
    assert [rows[i]["mpf"] for i in (0, 2, 4)] == ["217.17", "217.17", "217.16"]
    assert [rows[i]["hmf"] for i in (0, 2, 4)] == ["125.00"] * 3
    # E2 alone: the minimum. A row without an entry is its own entry: 346.40.
    assert rows[1]["mpf"] == "33.58"
    assert rows[3]["mpf"] == "346.40"
    # One entry has one entry date.
    assert rows[5]["status"] == "error" and "one entry date" in rows[5]["error"]
    assert rows[0]["landed_cost"] == f"{D('100000') + D('4500.00') + D('10500.00') + D('342.17')}"
