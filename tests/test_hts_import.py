"""`tariffcalc hts import` adds a newer USITC export as a revision; `tariffcalc hts show` prints a
line; specific and compound MFN rates from the packaged exports need the quantity."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tariffcalc import htsdata
from tariffcalc.cli import ExitCode, app

runner = CliRunner()
LAST_PACKAGED = date(2026, 6, 8)  # 2026 Revision 10, the last packaged revision


def _export_of_last_revision(changed: dict[str, str]) -> list[dict[str, object]]:
    """A complete export (every 8-digit tariff line, and chapter 99's headings) in the USITC
    JSON shape, read back from the last packaged revision, with some rates changed: a stand-in
    for the Revision 21 a user brings."""
    records: list[dict[str, object]] = []
    for chapter in [f"{n:02d}" for n in range(1, 98)]:
        for code in htsdata.tariff_lines(LAST_PACKAGED, [chapter]):
            line = htsdata.line(code, LAST_PACKAGED)
            assert line is not None
            records.append({
                "htsno": htsdata.format_code(code), "indent": "0",
                "description": line.description, "units": list(line.units),
                "general": changed.get(code, line.general), "footnotes": [],
            })  # fmt: skip
    return records


def _import(tmp_path: Path, records: list[dict[str, object]], *args: str) -> Path:
    source = tmp_path / "hts_2026_rev_21.json"
    source.write_text(json.dumps(records), encoding="utf-8")
    folder = tmp_path / "hts-data"
    result = runner.invoke(
        app, ["hts", "import", str(source), "--effective", "2026-10-01", "--data", str(folder),
              *args])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "added revision 2026_rev_21, applying to entries from 2026-10-01" in result.stdout
    return folder


def _quote(folder: Path | None, *args: str) -> dict:
    env = {htsdata.HTS_DATA_ENV: str(folder)} if folder else {}
    result = runner.invoke(app, ["quote", *args, "--format", "json"], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_an_imported_revision_applies_from_its_date(tmp_path: Path):
    # The user's Revision 21 raises 8703.23.01 from 2.5% to 3% (a made-up change, to see it).
    folder = _import(tmp_path, _export_of_last_revision({"87032301": "3%"}))
    before = _quote(folder, "--hts", "8703.23.01", "--value", "10000", "--date", "2026-09-30")
    after = _quote(folder, "--hts", "8703.23.01", "--value", "10000", "--date", "2026-10-01")
    assert before["lines"][0]["rate"] == "0.025" and "2026 rev 10" in before["lines"][0]["why"]
    assert after["lines"][0]["rate"] == "0.03" and "2026 rev 21" in after["lines"][0]["why"]
    # Importing the same file again changes nothing.
    again = runner.invoke(app, ["hts", "import", str(tmp_path / "hts_2026_rev_21.json"),
                                "--effective", "2026-10-01", "--data", str(folder)])
    assert again.exit_code == 0 and "already imported" in again.stdout


def test_the_usitc_csv_export_is_read_too(tmp_path: Path):
    records = _export_of_last_revision({"87032301": "3%"})
    source = tmp_path / "htsdata.csv"
    with source.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["HTS Number", "Indent", "Description", "Unit of Quantity",
                         "General Rate of Duty", "Special Rate of Duty", "Column 2 Rate of Duty"])
        for record in records:
            writer.writerow([record["htsno"], record["indent"], record["description"],
                             json.dumps(record["units"]), record["general"], "", ""])
    folder = tmp_path / "hts-data"
    result = runner.invoke(app, ["hts", "import", str(source), "--effective", "2026-10-01",
                                 "--name", "2026_rev_21", "--data", str(folder)])
    assert result.exit_code == 0, result.output
    after = _quote(folder, "--hts", "8703.23.01", "--value", "10000", "--date", "2026-10-01")
    assert after["lines"][0]["rate"] == "0.03"


def test_a_partial_export_is_refused(tmp_path: Path):
    source = tmp_path / "sample.json"
    source.write_text(json.dumps(_export_of_last_revision({})[:500]), encoding="utf-8")
    result = runner.invoke(app, ["hts", "import", str(source), "--effective", "2026-10-01",
                                 "--data", str(tmp_path / "d")])
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "holds 500 tariff lines" in result.stderr and "complete" in result.stderr
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize(
    "content, words",
    [("not json", "not a USITC HTS export"), ('{"htsno": "1"}', "not a USITC HTS export"),
     ("[1]", "expected a JSON array of HTS objects")],
)
def test_bad_exports(tmp_path: Path, content: str, words: str):
    source = tmp_path / "bad.json"
    source.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["hts", "import", str(source), "--effective", "2026-10-01",
                                 "--data", str(tmp_path / "d")])
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    assert words in result.stderr


def test_specific_rate_needs_the_quantity():
    # Wine 2204.21.50: 6.3¢/liter (every export). Without the quantity the base duty is unknown
    # and the warning names the option; 1,000 liters -> 63.00, an equivalent of 6.3% on 1,000.
    args = ["--hts", "2204.21.50", "--value", "1000", "--date", "2025-05-03"]
    unknown = _quote(None, *args)
    assert unknown["base_duty"] is None
    assert any("6.3¢/liter, which needs the quantity in liter" in w for w in unknown["warnings"])
    known = _quote(None, *args, "--quantity", "1000")
    assert known["base_duty"] == "63.00" and known["lines"][0]["rate"] == "0.063"


def test_compound_rate_and_inclusive_of_mfn_use_the_equivalent():
    # 0402.29.50: "$1.104/kg + 14.9%" (2025 exports). 1,000 USD and 10 kg: 14.9% = 149.00 +
    # 11.04 = 160.04, an equivalent of 16.004% >= 15%, so the reciprocal duty adds 0 under
    # 9903.02.72 (reference §4, CSMS 66242844).
    data = _quote(None, "--hts", "0402.29.50", "--value", "1000", "--quantity", "10",
                  "--date", "2025-09-01")
    assert data["base_duty"] == "160.04"
    assert (data["lines"][1]["heading"], data["lines"][1]["amount"]) == ("9903.02.72", "0.00")
    refused = runner.invoke(app, ["quote", "--hts", "0402.29.50", "--value", "1000", "--date",
                                  "2025-09-01"])
    assert refused.exit_code == ExitCode.UNKNOWN_RATE
    assert "--quantity" in refused.stderr


def test_hts_show_names_the_line_its_rate_and_measures():
    result = runner.invoke(app, ["hts", "show", "7208.51.00", "--date", "2026-05-01",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["general"] == "Free" and data["revision"] == "2026_rev_7"
    assert {"list": "steel-articles"}.items() <= data["lists"][0].items()
    charged = [m["measure"] for m in data["measures"] if m["charged"]]
    assert charged == ["steel-232"]
    bad = runner.invoke(app, ["hts", "show", "9999.99.99", "--date", "2026-05-01"])
    assert bad.exit_code == ExitCode.BAD_INPUT and "not a tariff line" in bad.stderr
