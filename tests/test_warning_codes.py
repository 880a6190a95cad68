"""Warnings as codes in a batch's rows (issue 16): each row names its warnings by code, the
summary gives each code's text once, `--warnings text` writes the texts as before."""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from tariffcalc import Shipment, price_shipment
from tariffcalc.batch import BatchSummary, price_rows
from tariffcalc.cli import app
from tariffcalc.notices import code_of
from tariffcalc.tables import open_input

runner = CliRunner()
ROWS = [
    # (hts, value, date, mode): toys after the review date (AFTER_REVIEW, confidence of the
    # Section 301 duty, no mode: HMF_MODE_MISSING), a laptop (dual-use auto part), bolts
    # (no steel content declared), a car (vehicle age not modelled), by ocean.
    ("9503.00.00", "1000", "2026-12-01", ""),
    ("8471.30.01.00", "1000", "2026-09-01", "air"),
    ("7318.15.80", "1000", "2025-07-15", "ocean"),
    ("8703.23.01.90", "30000", "2025-06-15", "ocean"),
]


def write(path: Path) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["hts", "value", "date", "mode"])
        writer.writerows(ROWS)
    return path


def test_rows_carry_the_engines_codes_and_the_summary_their_text(schedule, tmp_path):
    source = write(tmp_path / "in.csv")
    summary = BatchSummary()
    with open_input(source) as table:
        cells = [results[-1] for _, _, results in price_rows(
            schedule, table, summary, default_date=date(2026, 1, 1))]  # fmt: skip
    expected_counts: dict[str, int] = {}
    for (hts, value, on, mode), cell in zip(ROWS, cells, strict=True):
        quote = price_shipment(schedule, Shipment(value, hts=hts, mode=mode or None), on)
        codes = list(dict.fromkeys(code_of(w) for w in quote.warnings))
        assert cell == " ".join(codes)
        assert all(re.fullmatch(r"[A-Z0-9_]+", code) for code in codes)
        for code in codes:
            expected_counts[code] = expected_counts.get(code, 0) + 1
    assert {code: rows for code, (rows, _) in summary.notices.items()} == expected_counts
    assert {"AFTER_REVIEW", "HMF_MODE_MISSING", "DECLARE_NOT_AUTO_PART",
            "CONTENT_MISSING_STEEL", "GAP_VEHICLE_AGE"} <= set(expected_counts)
    assert summary.notices["HMF_MODE_MISSING"][1].startswith(
        "Harbor Maintenance Fee not included: the transport mode is not given")


def test_both_ways_and_the_text_style(schedule, tmp_path):
    source = write(tmp_path / "in.csv")
    codes, text = tmp_path / "codes.csv", tmp_path / "text.csv"
    assert runner.invoke(app, ["batch", str(source), "-o", str(codes)]).exit_code == 0
    assert runner.invoke(app, ["batch", str(source), "-o", str(text), "--warnings",
                               "text"]).exit_code == 0  # fmt: skip
    with codes.open() as a, text.open() as b:
        for coded, worded, (hts, value, on, mode) in zip(csv.DictReader(a), csv.DictReader(b),
                                                          ROWS, strict=True):  # fmt: skip
            quote = price_shipment(schedule, Shipment(value, hts=hts, mode=mode or None), on)
            assert worded["warnings"] == " | ".join(quote.warnings)
            assert coded["total_duty"] == worded["total_duty"]
    bad = runner.invoke(app, ["batch", str(source), "--warnings", "loud"])
    assert bad.exit_code == 3 and "--warnings: expected one of codes, text" in bad.stderr


def test_the_readme_explains_every_fixed_code():
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    for code in ("BEFORE_SCHEDULE", "AFTER_REVIEW", "MFN_UNKNOWN", "MFN_CONFIDENCE",
                 "LOADED_ON_MISSING", "STATISTICAL_LINES_LISTED", "MPF_UNKNOWN",
                 "HMF_MODE_MISSING", "ROW_CUT_OFF", "DECLARE_", "CONFIDENCE_", "GAP_",
                 "CONTENT_MISSING_"):  # fmt: skip
        assert f"`{code}" in readme, code
