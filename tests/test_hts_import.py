"""`tariffcalc hts import`: the USITC HTS export read into the MFN table quotes use."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tariffcalc.cli import ExitCode, app
from tariffcalc.hts_import import parse_general_rate

runner = CliRunner()
SAMPLE = Path(__file__).parent / "data" / "usitc_hts_sample.json"


@pytest.mark.parametrize(
    "text, ad_valorem, specific",
    [
        ("Free", "0", []),
        ("2.5%", "0.025", []),
        ("25% 1/", "0.25", []),
        ("2.5% <u></u>", "0.025", []),
        ("4.4¢/kg", "0", [("0.044", "kg")]),
        ("$1.50/doz.", "0", [("1.50", "doz")]),
        ("2% + 10¢/kg", "0.02", [("0.10", "kg")]),
        ("10¢/kg + 2%", "0.02", [("0.10", "kg")]),
    ],
)
def test_parse_general_rate(text, ad_valorem, specific):
    parsed = parse_general_rate(text)
    assert parsed is not None
    assert parsed.ad_valorem == D(ad_valorem)
    assert [(part.amount, part.unit) for part in parsed.specific] == [
        (D(a), u) for a, u in specific]


@pytest.mark.parametrize("text", ["", "See 9903.90.08", "The duty provided in the applicable "
                                  "subheading + 25%", "2% + 3%", "150%", "5¢ each on the bottle"])
def test_rates_not_understood_are_refused(text):
    assert parse_general_rate(text) is None


def _import(tmp_path: Path) -> Path:
    table = tmp_path / "mfn.json"
    result = runner.invoke(app, ["hts", "import", str(SAMPLE), "-o", str(table)])
    assert result.exit_code == 0, result.output
    assert "6 MFN rates from 9 HTS lines (3 with a specific part); 1 rates not understood" in (
        result.stdout)
    assert "9903.88.01" in result.stderr
    return table


def quote(table: Path, *args: str) -> dict:
    result = runner.invoke(app, ["quote", *args, "--format", "json"],
                           env={"TARIFFCALC_MFN_TABLE": str(table)})
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_imported_rates_are_used(tmp_path: Path):
    table = _import(tmp_path)
    # A statistical line without a rate of its own takes its 8-digit line's rate.
    data = quote(table, "--hts", "8703.23.01.90", "--value", "10000", "--date", "2025-03-01")
    assert data["lines"][0]["rate"] == "0.025" and data["base_duty"] == "250.00"
    assert "USITC HTS export usitc_hts_sample.json" in data["lines"][0]["why"]


def test_specific_rate_needs_the_quantity(tmp_path: Path):
    table = _import(tmp_path)
    args = ["--hts", "9999.10.00", "--value", "1000", "--date", "2025-05-03"]
    unknown = quote(table, *args)
    assert unknown["base_duty"] is None
    assert any("4.4¢/kg, which needs the quantity in kg" in w for w in unknown["warnings"])
    known = quote(table, *args, "--quantity", "500")
    # 500 kg x 4.4¢ = 22.00, an ad valorem equivalent of 2.2%.
    assert known["base_duty"] == "22.00" and known["lines"][0]["rate"] == "0.022"


def test_compound_rate_and_inclusive_of_mfn_use_the_equivalent(tmp_path: Path):
    table = _import(tmp_path)
    # 2% of 1,000 + 100 kg x 10¢ = 30.00 (3%); the reciprocal duty brings it to 15%: 12% = 120.
    data = quote(table, "--hts", "9999.20.00", "--value", "1000", "--quantity", "100",
                 "--date", "2025-09-01")
    assert data["base_duty"] == "30.00"
    assert (data["lines"][1]["measure"], data["lines"][1]["rate"]) == ("reciprocal", "0.12")
    assert data["total_duty"] == "150.00"
    refused = runner.invoke(app, ["quote", "--hts", "9999.20.00", "--value", "1000", "--date",
                                  "2025-09-01"], env={"TARIFFCALC_MFN_TABLE": str(table)})
    assert refused.exit_code == ExitCode.UNKNOWN_RATE
    assert "--quantity" in refused.stderr


@pytest.mark.parametrize(
    "content, words",
    [("not json", "not valid JSON"), ('{"htsno": "1"}', "expected a JSON array"),
     ('[{"htsno": "87AB"}]', "is not an HTS number"), ("[1]", "expected an object")],
)
def test_bad_exports(tmp_path: Path, content: str, words: str):
    source = tmp_path / "bad.json"
    source.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["hts", "import", str(source), "-o", str(tmp_path / "t.json")])
    assert result.exit_code == ExitCode.BAD_INPUT
    assert words in result.stderr
    assert not (tmp_path / "t.json").exists()


def test_broken_table_is_a_schedule_error(tmp_path: Path):
    table = tmp_path / "mfn.json"
    table.write_text("{}", encoding="utf-8")
    result = runner.invoke(app, ["quote", "--hts", "8703.23.01", "--value", "1"],
                           env={"TARIFFCALC_MFN_TABLE": str(table)})
    assert result.exit_code == ExitCode.BAD_SCHEDULE
    assert "hts import" in result.stderr
