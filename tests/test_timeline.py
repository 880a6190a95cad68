"""`tariffcalc timeline`: the dates on which a good's duty changed."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal as D

from typer.testing import CliRunner

from tariffcalc import Shipment
from tariffcalc.cli import app
from tariffcalc.timeline import duty_timeline

runner = CliRunner()


def test_car_timeline_steps(schedule):
    steps = duty_timeline(schedule, Shipment(D(60000), hts="87032401"), date(2025, 1, 1),
                          date(2025, 12, 31))
    assert [(s.start.isoformat(), s.end.isoformat(), f"{s.quote.total_duty}") for s in steps] == [
        ("2025-01-01", "2025-04-02", "1500.00"),
        ("2025-04-03", "2025-09-15", "16500.00"),
        ("2025-09-16", "2025-12-31", "9000.00"),
    ]
    assert steps[2].measures == "mfn 2.5% + autos-232 12.5% (9903.94.41)"


def test_motorcycle_timeline_json_and_problems():
    result = runner.invoke(app, ["timeline", "--hts", "8711.50.00", "--value", "20000",
                                 "--metal-content", "5000", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    by_start = {row["from"]: row for row in rows}
    assert by_start["2025-04-09"]["total_duty"] == "5280.00"
    assert by_start["2025-04-10"]["on_hold_duty"] == "2800.00"
    assert "14% on hold" in by_start["2025-04-10"]["measures"]
    assert by_start["2025-08-07"]["total_rate"] == "0.15"
    assert by_start["2025-08-18"]["total_duty"] == "4870.00"
    assert by_start["2026-02-24"]["measures"].startswith("mfn 2.4% + section-122 10%")
    # From 2026-04-06 the motorcycle is on no list of U.S. note 16(c): MFN + Section 122 on
    # the full value (480 + 2,000).
    assert by_start["2026-04-06"]["total_duty"] == "2480.00"
    assert rows[-1]["to"] == "2026-10-07"


def test_timeline_csv_and_chart():
    result = runner.invoke(app, ["timeline", "--category", "autos", "--mfn-rate", "2.5%",
                                 "--from", "2025-04-01", "--to", "2025-10-01", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["from"] for r in rows] == ["2025-04-01", "2025-04-03", "2025-09-16"]
    table = runner.invoke(app, ["timeline", "--category", "autos", "--mfn-rate", "2.5%",
                                "--from", "2025-04-01", "--to", "2025-10-01"])
    assert "█" in table.stdout and "27.5%" in table.stdout
    bad = runner.invoke(app, ["timeline", "--hts", "87032401", "--from", "2025-05-01",
                              "--to", "2025-04-01"])
    assert bad.exit_code == 3 and "--to" in bad.stderr
