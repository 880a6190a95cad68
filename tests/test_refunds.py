"""IEEPA refunds (issue 13): ES-003 reports made for the tests, read into entries with their
deposits, the schedule's IEEPA duty, CAPE eligibility on a filing date and the interest.

Facts from the reference, §14 (CAPE rules, windows, entry types, interest, check digit) and §2
(the IEEPA rates and headings). Every expected value below is worked out in its comment.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tariffcalc.ace_report import entry_check_digit, normalize_entry_number, open_refund_source
from tariffcalc.cli import app
from tariffcalc.refunds import RefundTerms, assess, overpayment_interest

runner = CliRunner()

HEADER = [
    "Entry Summary Number", "Entry Summary Line Number", "Entry Type Code", "Importer Number",
    "Entry Date", "Entry Summary Date", "Country of Origin Code", "Tariff Ordinal Number",
    "HTS Number - Full", "Line Tariff Goods Value Amount", "Line Tariff Duty Amount",
    "Liquidation Date", "Reconciliation Indicator", "Protest Number",
]  # fmt: skip
IOR = "12-3456789AB"


def row(entry, line, kind, entered, summary, ordinal, hts, value, duty, liquidated="",
        recon="", protest="", origin="JP"):  # fmt: skip
    return [entry, line, kind, IOR, entered, summary, origin, ordinal, hts, value, duty,
            liquidated, recon, protest]  # fmt: skip


# Entry numbers: check digits worked by hand with §14's method. ABC = 1, 2, 3; the 2nd, 4th...
# 10th characters doubled (less 9 above 9): ABC000000N sums 1 + 4 + 3 + 2N (less 9) = 8 + ...
#   N=1: 10 -> 0; N=2: 12 -> 8; N=3: 14 -> 6; N=4: 16 -> 4; N=5: 8+1 = 9 -> 1; N=6: 8+3 -> 9;
#   N=7: 8+5 -> 7; N=8: 8+7 -> 5; N=9: 8+9 -> 3; ABC0000010: 8+1 -> 1; ...11: 8+1+2 -> 9;
#   ...12: 8+1+4 -> 7.
TOYS = "9503000090"  # MFN free (HTS 2025): the IEEPA duty is the whole rate
CAMERA = "9006594060"  # MFN 4% (9006.59.40, HTS 2025)
CAR = "8703230190"  # Section 232 autos: no reciprocal duty (note 33; 9903.01.33)

REPORT = [
    # 1. Toys entered 2025-06-02: the 10% baseline (9903.01.25; Japan's 24% has 14 points on
    #    hold): 10% x 10,000 = 1,000.00 deposited and computed. No liquidation: CAPE now.
    row("ABC-0000001-0", "1", "01", "06/02/2025", "06/12/2025", "1", TOYS, "10,000.00", "0.00"),
    # 2. Two lines entered 2025-08-20. Line 1, a camera filed under 9903.02.30 (+15% on top
    #    of MFN as first published): 15% x 10,000 = 1,500.00; the corrected rate is 15%
    #    inclusive of the 4% MFN: 11% x 10,000 = 1,100.00. Line 2, toys under 9903.02.73:
    #    15% - 0 = 15% x 2,000 = 300.00, as filed. Deposited 1,800.00, computed 1,400.00.
    row("ABC-0000002-8", "1", "01", "08/20/2025", "08/30/2025", "1", CAMERA, "10000", "400.00"),
    row("ABC-0000002-8", "1", "01", "08/20/2025", "08/30/2025", "2", "9903023000", "10000",
        "1500.00"),
    row("ABC-0000002-8", "2", "01", "08/20/2025", "08/30/2025", "1", TOYS, "2000", "0"),
    row("ABC-0000002-8", "2", "01", "08/20/2025", "08/30/2025", "2", "9903.02.73", "2000",
        "300.00"),
    # 3. Liquidated 2026-03-02: 60 days before filing on 2026-05-01 (29 to 03-31, 30 to
    #    04-30, 1): within CAPE's 80 days, which end 2026-05-21.
    row("ABC-0000003-6", "1", "01", "06/02/2025", "06/12/2025", "1", TOYS, "5000", "0",
        liquidated="03/02/2026"),
    row("ABC-0000003-6", "1", "01", "06/02/2025", "06/12/2025", "2", "9903012500", "5000",
        "500.00", liquidated="03/02/2026"),
    # 4. Liquidated 2026-01-21: 100 days before filing (31 + 28 + 31 to 04-21, + 10): past
    #    the 80 days; protest within 180 days, by 2026-07-20 (01-21 + 181 days is 07-21).
    row("ABC-0000004-4", "1", "01", "06/02/2025", "06/12/2025", "1", "9903012500", "5000",
        "500.00", liquidated="01/21/2026"),
    # 5. Liquidated 2025-10-13: 200 days before filing; the protest window closed on
    #    2026-04-11 (10-13 + 182 days is 04-13).
    row("ABC-0000005-1", "1", "01", "06/02/2025", "06/12/2025", "1", "9903012500", "5000",
        "500.00", liquidated="10/13/2025"),
    # 6. Entry type 08: not accepted.
    row("ABC-0000006-9", "1", "08", "06/02/2025", "06/12/2025", "1", "9903012500", "5000",
        "500.00"),
    # 7. A protest on file: not accepted.
    row("ABC-0000007-7", "1", "01", "06/02/2025", "06/12/2025", "1", "9903012500", "5000",
        "500.00", protest="2704-26-100123"),
    # 8. Check digit 4 where the number's is 5 (ABC0000008: 8 + 7 = 15 -> 5).
    row("ABC-0000008-4", "1", "01", "06/02/2025", "06/12/2025", "1", "9903012500", "5000",
        "500.00"),
    # 9. A car under Section 232 only (9903.94.01, 25% x 30,000): no IEEPA number on it.
    row("ABC-0000009-3", "1", "01", "06/02/2025", "06/12/2025", "1", CAR, "30000", "750.00"),
    row("ABC-0000009-3", "1", "01", "06/02/2025", "06/12/2025", "2", "9903940100", "30000",
        "7500.00"),
    # 10. Flagged for reconciliation: CAPE takes it from 2026-06-29.
    row("ABC-0000010-1", "1", "01", "06/02/2025", "06/12/2025", "1", "9903012500", "5000",
        "500.00", recon="Y"),
    # 11. A duty amount that is not a number (line 17 of the file): the entry is kept out.
    row("ABC-0000011-9", "1", "01", "06/02/2025", "06/12/2025", "1", "9903012500", "5000",
        "12,34.5"),
    # 12. A warehouse entry (type 21): accepted until 2026-07-06.
    row("ABC-0000012-7", "1", "21", "06/02/2025", "06/12/2025", "1", "9903012500", "5000",
        "500.00"),
    # Entry 1's IEEPA line comes last: rows are gathered by entry number, not by position.
    row("ABC-0000001-0", "1", "01", "06/02/2025", "06/12/2025", "2", "9903012500", "10,000.00",
        "1,000.00"),
]


def write_report(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def assessed(schedule, path: Path, filing: str, **terms):
    report = open_refund_source(schedule, path, default_date=date(2025, 6, 2))
    return {
        r.record.number: r
        for r in assess(schedule, report, RefundTerms(date.fromisoformat(filing), **terms))
    }


@pytest.fixture
def report(tmp_path) -> Path:
    return write_report(tmp_path / "es003.csv", REPORT)


def test_check_digit_hand_worked():
    # Reference §14: ABC-1234567 -> 6; 999-9999999 -> 0. J1K0000001: J=1, 1 doubled = 2,
    # K=2, 1 (10th) doubled = 2: sum 7 -> 3.
    assert entry_check_digit("ABC1234567") == 6
    assert entry_check_digit("9999999999") == 0
    assert entry_check_digit("J1K0000001") == 3
    assert normalize_entry_number(" abc-1234567-6 ") == ("ABC12345676", None)
    number, problem = normalize_entry_number("ABC-1234567-5")
    assert "check digit 5 does not match" in problem and "has check digit 6" in problem
    assert "11 characters" in normalize_entry_number("ABC-123456-6")[1]


def test_deposits_recomputed_and_causes(schedule, report):
    got = assessed(schedule, report, "2026-05-01")
    first = got["ABC-0000001-0"]
    assert (first.ieepa_deposited, first.ieepa_computed, first.difference) == (
        D("1000.00"), D("1000.00"), D("0.00"))  # fmt: skip
    assert first.ieepa_headings == ["9903.01.25"]
    second = got["ABC-0000002-8"]
    assert (second.ieepa_deposited, second.ieepa_computed, second.difference) == (
        D("1800.00"), D("1400.00"), D("400.00"))  # fmt: skip
    assert second.ieepa_headings == ["9903.02.30", "9903.02.73"]
    [cause] = second.causes  # line 2 agrees
    assert cause.startswith("line 1: filed under 9903.02.30") and "2025-09-16" in cause
    car = got["ABC-0000009-3"]
    assert car.ieepa_deposited == 0 and car.ieepa_computed == 0  # 232 autos: no IEEPA


def test_eligibility_on_the_filing_date(schedule, report):
    got = assessed(schedule, report, "2026-05-01")
    status = {number: (r.status, r.reason) for number, r in got.items()}
    assert status["ABC-0000001-0"] == ("cape-now", "unliquidated")
    assert status["ABC-0000003-6"] == (
        "cape-now", "liquidated 2026-03-02, 60 days before filing (within 80; file by 2026-05-21)")
    assert status["ABC-0000004-4"][0] == "protest"
    assert "100 days before filing" in status["ABC-0000004-4"][1]
    assert "protest by 2026-07-20" in status["ABC-0000004-4"][1]
    assert status["ABC-0000005-1"][0] == "not-established"
    assert "closed on 2026-04-11" in status["ABC-0000005-1"][1]
    assert status["ABC-0000006-9"] == (
        "not-eligible", "entry type 08 (duty deferral) is not accepted by CAPE")
    assert status["ABC-0000007-7"][0] == "not-eligible"
    assert "protest 2704-26-100123" in status["ABC-0000007-7"][1]
    assert status["ABC-0000008-4"][0] == "error"
    assert "has check digit 5" in status["ABC-0000008-4"][1]
    assert status["ABC-0000009-3"] == (
        "not-eligible", "no IEEPA chapter 99 number on the entry (CAPE rejects it)")
    assert status["ABC-0000010-1"] == (
        "cape-later",
        "flagged for reconciliation: CAPE takes it from 2026-06-29 if no type 09 entry has been "
        "filed")
    assert status["ABC-0000011-9"][0] == "error"
    assert "line 17: Line Tariff Duty Amount" in status["ABC-0000011-9"][1]
    assert status["ABC-0000012-7"][0] == "cape-now"
    # From 2026-07-07 warehouse entries are refused; from 2026-06-29 a reconciliation-flagged
    # entry is taken, with a warning; before 2026-04-20 nothing is (CAPE is not open).
    later = assessed(schedule, report, "2026-08-01")
    assert later["ABC-0000012-7"].status == "not-eligible"
    assert later["ABC-0000010-1"].status == "cape-now"
    assert any("type 09" in w for w in later["ABC-0000010-1"].warnings)
    early = assessed(schedule, report, "2026-04-01")
    assert early["ABC-0000001-0"].status == "cape-later"


def test_interest_two_quarters_with_a_rate_change(schedule):
    # 1,000.00 deposited 2026-02-15, to 2026-05-15: 45 days of Q1 (02-15..03-31) at the
    # corporate 6%, 44 days of Q2 (04-01..05-14) at 5% (reference §14), daily compounding:
    # 1000 x ((1 + .06/365)^45 x (1 + .05/365)^44 - 1) = 13.5141... (bc, scale 40) -> 13.51.
    # Non-corporate 7% / 6%: 1000 x ((1 + .07/365)^45 x (1 + .06/365)^44 - 1) = 15.9880... -> 15.99.
    interest = schedule.refunds.interest
    start, end = date(2026, 2, 15), date(2026, 5, 15)
    notes: list[str] = []
    assert overpayment_interest(D("1000.00"), start, end, interest, True, notes) == D("13.51")
    assert overpayment_interest(D("1000.00"), start, end, interest, False) == D("15.99")
    assert any("confidence M" in note for note in notes)  # the Q2 2026 rate is M
    assert overpayment_interest(D("1000.00"), end, start, interest, True) == 0
    # Past the last known quarter (2026 Q4) the last rate is used, and said to be.
    notes = []
    overpayment_interest(D("1000.00"), date(2026, 12, 1), date(2027, 1, 15), interest, True, notes)
    assert any("no overpayment rate known for 2027 Q1" in note for note in notes)


def test_cli_writes_the_declaration_and_the_entries(schedule, tmp_path):
    # Toys entered 2026-02-05, 15% inclusive of a free MFN (9903.02.73): 1,500.00 paid on
    # 2026-02-15; interest to 2026-05-15 as above: 1.5 x 13.5141 = 20.2712 -> 20.27.
    header = [*HEADER, "Payment Date"]
    rows = [
        [*row("ABC-0000001-0", "1", "01", "02/05/2026", "02/10/2026", "1", TOYS, "10000", "0"),
         "02/15/2026"],
        [*row("ABC-0000001-0", "1", "01", "02/05/2026", "02/10/2026", "2", "9903027300",
              "10000", "1500.00"), "02/15/2026"],
        [*row("ABC-0000002-8", "1", "08", "02/05/2026", "02/10/2026", "1", "9903027300",
              "10000", "1500.00"), "02/15/2026"],
    ]  # fmt: skip
    source = write_report(tmp_path / "es003.csv", rows, header)
    out = tmp_path / "out"
    out.mkdir()
    (out / "cape-declaration-03.csv").write_text("stale")  # from an earlier, bigger run
    result = runner.invoke(app, ["refunds", str(source), "-o", str(out), "--filing-date",
                                 "2026-05-01", "--to", "2026-05-15"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (out / "cape-declaration.csv").read_bytes() == b"Entry Number\r\nABC00000010\r\n"
    assert not (out / "cape-declaration-03.csv").exists()
    assert sorted(p.name for p in out.iterdir()) == ["cape-declaration.csv", "refunds.csv"]
    with (out / "refunds.csv").open(newline="") as handle:
        entries = list(csv.DictReader(handle))
    assert [e["status"] for e in entries] == ["cape-now", "not-eligible"]
    first = entries[0]
    assert (first["ieepa_deposited"], first["ieepa_computed"], first["interest_estimate"],
            first["refund_with_interest"], first["deposit_date"], first["declaration"]) == (
        "1500.00", "1500.00", "20.27", "1520.27", "2026-02-15", "cape-declaration.csv")  # fmt: skip
    assert "1 CAPE declaration file(s)" in result.output
    json_run = runner.invoke(app, ["refunds", str(source), "-o", str(out), "--format", "json",
                                   "--filing-date", "2026-05-01", "--to", "2026-05-15",
                                   "--non-corporate"])  # fmt: skip
    assert json_run.exit_code == 0, json_run.output
    data = json.loads((out / "refunds.json").read_text())
    assert data[0]["interest_estimate"] == "23.98"  # 1.5 x 15.98805 = 23.982


def test_cli_bad_rows_exit_rows_failed_and_stay_out(report, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    result = runner.invoke(app, ["refunds", str(report), "-o", str(out), "--filing-date",
                                 "2026-05-01"])  # fmt: skip
    assert result.exit_code == 6, result.output
    declared = (out / "cape-declaration.csv").read_text().split()
    # Entries 1, 2, 3 and 12 are taken now; 8 (check digit) and 11 (bad row) are not.
    assert declared == ["Entry", "Number", "ABC00000010", "ABC00000028", "ABC00000036",
                        "ABC00000127"]  # fmt: skip


def test_cli_one_line_errors(tmp_path):
    missing = write_report(tmp_path / "bad.csv", [["x"]], ["Entry Summary Number", "Foo"])
    result = runner.invoke(app, ["refunds", str(missing)])
    assert result.exit_code == 3
    assert "no entry number column" in result.output or "missing column" in result.output
    assert "Traceback" not in result.output
    nothing = runner.invoke(app, ["refunds", str(tmp_path / "none.csv")])
    assert nothing.exit_code == 3 and "Traceback" not in nothing.output
    not_a_folder = runner.invoke(app, ["refunds", str(missing), "-o", str(tmp_path / "x")])
    assert not_a_folder.exit_code == 3 and "existing folder" in not_a_folder.output


def test_batch_file_with_entry_numbers_is_an_estimate(schedule, tmp_path):
    # Two rows of toys entered 2025-06-02 in one entry: 10% x (1,000 + 2,000) = 300.00.
    source = tmp_path / "shipments.csv"
    source.write_text(
        "entry,hts,value,date\n"
        "ABC-0000001-0,9503.00.00,1000,2025-06-02\n"
        "ABC-0000001-0,9503.00.00,2000,2025-06-02\n"
        "ABC-0000002-8,9503.00.00,oops,2025-06-02\n"
    )
    got = assessed(schedule, source, "2026-05-01")
    estimate = got["ABC-0000001-0"]
    assert estimate.ieepa_deposited == D("300.00") and estimate.status == "cape-now"
    assert any("taken as unliquidated" in w for w in estimate.warnings)
    bad = got["ABC-0000002-8"]
    assert bad.status == "error" and "row 3" in bad.reason


def test_declarations_split_at_9999_entries(schedule, tmp_path):
    # 10,050 entries of one 9903.01.25 line each: 9,999 in the first declaration, 51 in the
    # second, each number once.
    rows = []
    for i in range(1, 10_051):
        base = f"ABC{i:07d}"
        number = f"{base}{entry_check_digit(base)}"
        rows.append(row(number, "1", "01", "06/02/2025", "06/12/2025", "1", "9903012500",
                        "100", "10.00"))  # fmt: skip
    rows.append(rows[0])  # a repeated row of the first entry: one entry, one number
    source = write_report(tmp_path / "big.csv", rows)
    out = tmp_path / "out"
    out.mkdir()
    result = runner.invoke(app, ["refunds", str(source), "-o", str(out), "--filing-date",
                                 "2026-05-01"])  # fmt: skip
    assert result.exit_code == 0, result.output
    first = (out / "cape-declaration-01.csv").read_text().splitlines()
    second = (out / "cape-declaration-02.csv").read_text().splitlines()
    assert first[0] == second[0] == "Entry Number"
    assert (len(first) - 1, len(second) - 1) == (9999, 51)
    assert len(set(first[1:] + second[1:])) == 10_050


def test_a_workbook_report_reads_as_its_csv(schedule, report, tmp_path):
    import polars as pl

    book = tmp_path / "es003.xlsx"
    pl.read_csv(report, infer_schema_length=0).write_excel(book, worksheet="ES-003")
    from_csv = runner.invoke(app, ["refunds", str(report), "--filing-date", "2026-05-01"])
    from_book = runner.invoke(app, ["refunds", str(book), "--filing-date", "2026-05-01"])
    assert from_book.exit_code == from_csv.exit_code == 6  # entries 8 and 11
    assert from_book.stdout == from_csv.stdout  # the per-entry CSV, entry by entry


def test_the_last_dates_there_are(schedule, report):
    # A filing date of 9999-12-31: the 45 days after it and a liquidation's windows would
    # pass the last date there is; they stop there instead of failing.
    got = assessed(schedule, report, "9999-12-31")
    first = got["ABC-0000001-0"]
    assert first.status == "cape-now" and first.interest is None
    assert "no interest estimate over more than 20 years" in first.warnings
    assert got["ABC-0000003-6"].status == "not-established"
