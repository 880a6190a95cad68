"""Batch at scale: generated files, every output field equal to pricing each row alone;
output formats, header aliases and column mapping."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date
from pathlib import Path

import pytest
from engine_rows import price_table
from typer.testing import CliRunner

from tariffcalc import TariffError, price_shipment, shipment_from_fields
from tariffcalc.cli import ExitCode, app
from tariffcalc.entries import scan_entries
from tariffcalc.money import format_money
from tariffcalc.report import money_or_none, rate_or_none
from tariffcalc.tables import open_input

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
import generate  # noqa: E402

runner = CliRunner()
FIELDS = ("hts", "category", "value", "currency", "fx_rate", "mfn_rate", "metal_content", "mode")


def test_generated_rows_equal_pricing_each_row_alone(tmp_path: Path, schedule):
    """The batch (plans resolved once per key, arithmetic per row) against price_shipment."""
    source = tmp_path / "generated.csv"
    generate.write(3000, source, seed=7)
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["batch", str(source), "-o", str(out)])
    assert result.exit_code in (ExitCode.OK, ExitCode.ROWS_FAILED), result.output
    inputs = list(csv.DictReader(source.open(encoding="utf-8", newline="")))
    outputs = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert [row["id"] for row in outputs] == [row["id"] for row in inputs]
    entries: dict[str, int] = {}
    for row in inputs:
        entries[row["entry"]] = entries.get(row["entry"], 0) + 1
    checked = 0
    for given, got in zip(inputs, outputs, strict=True):
        try:
            shipment = shipment_from_fields({k: given[k] for k in FIELDS}, {})
            quote = price_shipment(schedule, shipment, date.fromisoformat(given["date"]))
        except (TariffError, ValueError):
            assert got["status"] == "error"
            continue
        assert got["status"] == "ok", got["error"]
        assert got["result_category"] == quote.category
        assert got["base_duty"] == (money_or_none(quote.base_duty) or "")
        assert got["additional_duty"] == format_money(quote.additional_duty)
        assert got["total_duty"] == (money_or_none(quote.total_duty) or "")
        assert got["on_hold_duty"] == format_money(quote.on_hold_duty)
        assert got["effective_rate"] == (rate_or_none(quote.effective_rate) or "")
        assert got["ieepa_duty"] == format_money(quote.ieepa_duty)
        assert got["hmf"] == (money_or_none(quote.hmf) or "")
        if entries[given["entry"]] == 1:  # an entry of several rows shares its MPF instead
            assert got["mpf"] == (money_or_none(quote.mpf) or "")
            assert got["landed_cost"] == (money_or_none(quote.landed_cost) or "")
        checked += 1
    assert checked > 2900


@pytest.mark.parametrize("suffix", [".jsonl", ".ndjson"])
def test_json_lines_output(tmp_path: Path, suffix: str):
    source = tmp_path / "in.csv"
    source.write_text("hts,value,date\n8711.50.00,20000,2025-05-03\n8711.50.00,x,2025-05-03\n",
                      encoding="utf-8")
    out = tmp_path / f"out{suffix}"
    result = runner.invoke(app, ["batch", str(source), "-o", str(out)])
    assert result.exit_code == ExitCode.ROWS_FAILED, result.output
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["status"] for r in records] == ["ok", "error"]
    assert records[0]["total_duty"] == "2480.00"


@pytest.mark.parametrize("suffix", [".json", ".jsonl", ".parquet"])
def test_repeated_column_names_keep_every_cell(tmp_path: Path, suffix: str):
    """JSON keys and Parquet columns are unique: a name the input repeats gets a suffix that no
    other column has (here the input already has a note_2)."""
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    source = tmp_path / "in.csv"
    source.write_text("hts,value,note,note,note_2\n8711.50.00,20000,a,b,c\n", encoding="utf-8")
    out = tmp_path / f"out{suffix}"
    result = runner.invoke(app, ["batch", str(source), "-o", str(out), "--date", "2025-05-03"])
    assert result.exit_code == ExitCode.OK, result.output
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        records = pq.read_table(out).to_pylist()
    else:
        text = out.read_text(encoding="utf-8")
        records = json.loads(text) if suffix == ".json" else [json.loads(text)]
    notes = {key: value for key, value in records[0].items() if key.startswith("note")}
    assert notes == {"note": "a", "note_2": "b", "note_2_2": "c"}
    assert records[0]["total_duty"] == "2480.00"


def test_parquet_output(tmp_path: Path):
    pq = pytest.importorskip("pyarrow.parquet")
    source = tmp_path / "in.csv"
    source.write_text("hts,value,date,note\n8711.50.00,20000,2025-05-03,=1+1\n"
                      "8703.24.01,60000,2025-04-09,\n", encoding="utf-8")
    out = tmp_path / "out.parquet"
    result = runner.invoke(app, ["batch", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    table = pq.read_table(out).to_pylist()
    assert [r["total_duty"] for r in table] == ["2480.00", "16500.00"]
    assert table[0]["note"] == "=1+1"  # not a spreadsheet: kept exactly
    to_stdout = runner.invoke(app, ["batch", str(source), "--format", "parquet"])
    assert to_stdout.exit_code == ExitCode.BAD_INPUT and "-o" in to_stdout.stderr


def test_header_aliases_and_column_mapping(tmp_path: Path):
    source = tmp_path / "export.csv"
    source.write_text("Line,HTS Code,Customs Value,Entry Date,Tariff No.\n"
                      "1,8711.50.00,20000,2025-05-03,8703.24.01\n", encoding="utf-8")
    result = runner.invoke(app, ["batch", str(source)])
    assert result.exit_code == 0, result.output
    row = list(csv.DictReader(io.StringIO(result.stdout)))[0]
    assert row["total_duty"] == "2480.00" and row["HTS Code"] == "8711.50.00"
    mapped = runner.invoke(app, ["batch", str(source), "--column", "hts=Tariff No."])
    assert mapped.exit_code == 0, mapped.output
    # The car: 20,000 x (2.5% MFN + 25% autos 232) = 5,500.
    assert list(csv.DictReader(io.StringIO(mapped.stdout)))[0]["total_duty"] == "5500.00"


@pytest.mark.parametrize(
    "args, words",
    [
        (["--column", "hts"], "expected FIELD=HEADER"),
        (["--column", "colour=HTS Code"], "unknown field 'colour'"),
        (["--column", "hts=Nope"], "has no column 'Nope'"),
    ],
)
def test_bad_column_mapping(tmp_path: Path, args, words):
    source = tmp_path / "export.csv"
    source.write_text("HTS Code,Customs Value\n8711.50.00,1\n", encoding="utf-8")
    result = runner.invoke(app, ["batch", str(source), *args])
    assert result.exit_code == ExitCode.BAD_INPUT
    assert words in result.stderr


def test_a_leading_zero_lost_in_a_spreadsheet_is_flagged(tmp_path: Path):
    source = tmp_path / "in.csv"
    source.write_text("hts,value,date\n402996800,1000,2025-09-01\n", encoding="utf-8")
    result = runner.invoke(app, ["batch", str(source)])
    row = list(csv.DictReader(io.StringIO(result.stdout)))[0]
    assert row["status"] == "error" and "leading zero" in row["error"]


def test_entries_spilled_to_disk_price_the_same(tmp_path: Path, schedule):
    """Past a number of entries the first pass keeps them in a temporary SQLite file, so that
    memory does not grow with the file; the results are the same."""
    source = tmp_path / "generated.csv"
    generate.write(3000, source, seed=3)
    outputs = []
    for limit in (1_000_000, 50):
        with open_input(source) as table:
            entries = scan_entries(table, date(2025, 5, 3), limit=limit)
        assert (entries.database is not None) == (limit == 50)
        with open_input(source) as table:
            out = io.StringIO()
            summary = price_table(schedule, table, out, default_date=date(2025, 5, 3),
                                  entries=entries)
        outputs.append(out.getvalue())
        entries.close()
    assert outputs[0] == outputs[1]
    # An entry is released once its rows have had their shares; only an entry with a row that
    # failed (and so took no share) can stay.
    assert len(entries.open) <= summary.failed
