"""Batch pricing: every row out in order, bad rows marked, results equal to `quote`."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tariffcalc import columnar, price_shipment, shipment_from_fields
from tariffcalc.cli import ExitCode, app
from tariffcalc.money import format_money
from tariffcalc.outputs import neutralize_formula

runner = CliRunner()

MIXED = """id,hts,category,value,date,currency,fx_rate,mfn_rate,metal_content,us_content,auto_part,annex_ii,note
1,8711.50.00,,20000,2025-05-03,,,,,,,,"a note, with a comma"
2,,autos,60000,2025-04-09,,,2.5%,,,,,
3,8703.24.01,,abc,2025-05-03,,,,,,,,bad value
4,7604.29.10,,1500000,2025-05-03,JPY,0.0067,,,,,,
5,12345,,100,2025-05-03,,,,,,,,bad hts
6,8482.10.10,,5000,,,,9%,,,false,,not an auto part; date from --date
7,8471.30.01,,1000,2025-02-30,,,,,,,,bad date
8,8302.10.60,,10000,2025-05-03,,,2%,3000,,,,"multi
line note"
9,8711.50.00,,20000,2025-05-03,,,,,5000,,,
10,8711.50.00,,20000,2025-05-03,,,,,,,yes,
11,8711.50.00,,20000,2025-05-03,EUR,,,,,,,no fx rate
12,8708.40.11,,10000,2025-05-02,,,,,,,,
"""
RESULTS = ["category", "base_duty", "additional_duty", "total_duty", "on_hold_duty",
           "effective_rate", "status", "error"]


def write(tmp_path: Path, text: str, name: str = "in.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_mixed_file_every_row_out_in_order(tmp_path: Path, schedule):
    source = write(tmp_path, MIXED)
    result = runner.invoke(app, ["batch", str(source), "--date", "2025-05-03"])
    assert result.exit_code == ExitCode.ROWS_FAILED, result.output
    rows = read_csv(result.stdout)
    assert [row["id"] for row in rows] == [str(n) for n in range(1, 13)]
    header = result.stdout.splitlines()[0].split(",")
    inputs = MIXED.splitlines()[0].split(",")
    assert header[: len(inputs)] == inputs  # every input column as it was, first
    # A "category" input column keeps its cells; the result goes to result_category.
    assert header[len(inputs): len(inputs) + 8] == [
        "result_category", *RESULTS[1:]]
    assert rows[0]["note"] == "a note, with a comma"
    assert rows[7]["note"] == "multi\nline note"

    failed = {row["id"]: row["error"] for row in rows if row["status"] == "error"}
    assert set(failed) == {"3", "5", "7", "11"}
    assert failed["3"].startswith("value:")
    assert failed["5"].startswith("hts:")
    assert failed["7"].startswith("date:")
    assert failed["11"].startswith("fx_rate:")
    assert all(row["total_duty"] == "" for row in rows if row["status"] == "error")

    # Every priced row equals what `quote` (the engine) says for it alone.
    for row in rows:
        if row["status"] != "ok":
            continue
        fields = {key: row[key] for key in ("hts", "category", "value", "currency", "fx_rate",
                                            "mfn_rate", "metal_content", "us_content",
                                            "auto_part", "annex_ii")}
        shipment = shipment_from_fields(fields, {})
        on = date.fromisoformat(row["date"] or "2025-05-03")
        quote = price_shipment(schedule, shipment, on)
        assert row["result_category"] == quote.category
        assert row["total_duty"] == format_money(quote.total_duty)
        assert row["additional_duty"] == format_money(quote.additional_duty)
        assert row["on_hold_duty"] == format_money(quote.on_hold_duty)

    totals = {row["id"]: row["total_duty"] for row in rows}
    assert totals["1"] == "2480.00"
    assert totals["2"] == "16500.00"
    assert totals["4"] == "3015.00"  # 10,050 USD: 502.50 MFN + 2,512.50 aluminum 232
    assert totals["6"] == "950.00"  # not an auto part: MFN 9% + reciprocal 10%
    assert totals["8"] == "950.00"
    assert totals["9"] == "1980.00"
    assert totals["10"] == "480.00"
    assert totals["12"] == "250.00"  # a listed part before 2025-05-03: MFN only (9903.01.33)
    # The summary goes to stderr when the data goes to stdout, with the first errors.
    assert "12 rows: 8 priced, 4 failed" in result.stderr
    assert "row 3 (line 4)" in result.stderr


def test_all_rows_priced_exit_zero_and_json(tmp_path: Path):
    source = write(tmp_path, "hts,value,date\n8711.50.00,20000,2025-05-03\n"
                             "8703.24.01,60000,2025-04-09\n")
    out = tmp_path / "out.json"
    result = runner.invoke(app, ["batch", str(source), "-o", str(out)])
    assert result.exit_code == ExitCode.OK, result.output
    records = json.loads(out.read_text(encoding="utf-8"))
    assert [r["total_duty"] for r in records] == ["2480.00", "16500.00"]
    assert records[0]["category"] == "general" and records[0]["error"] is None
    assert "2 rows: 2 priced, 0 failed" in result.stdout  # summary on stdout with -o


def test_header_only_and_blank_lines(tmp_path: Path):
    result = runner.invoke(app, ["batch", str(write(tmp_path, "hts,value\n"))])
    assert result.exit_code == ExitCode.OK, result.output
    assert result.stdout.splitlines()[0].startswith("hts,value,category,")
    assert len(result.stdout.splitlines()) == 1
    blank = write(tmp_path, "hts,value,date\n\n8711.50.00,20000,2025-05-03\n\n", "blank.csv")
    result = runner.invoke(app, ["batch", str(blank)])
    assert result.exit_code == ExitCode.OK, result.output
    assert len(read_csv(result.stdout)) == 1


def test_bom_and_cp932(tmp_path: Path):
    text = "hts,value,date,品名\n8711.50.00,20000,2025-05-03,オートバイ\n"
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    result = runner.invoke(app, ["batch", str(bom)])
    assert result.exit_code == 0, result.output
    assert read_csv(result.stdout)[0]["品名"] == "オートバイ"
    sjis = write(tmp_path, text, "sjis.csv", "cp932")
    result = runner.invoke(app, ["batch", str(sjis)])
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "--encoding" in result.stderr
    result = runner.invoke(app, ["batch", str(sjis), "--encoding", "cp932"])
    assert result.exit_code == 0, result.output
    assert read_csv(result.stdout)[0]["品名"] == "オートバイ"


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "empty"),
        ("id,value\n1,100\n", "missing column hts"),
        ("id,hts\n1,8711.50.00\n", "missing column value"),
        ("hts,value,HTS\n1,2,3\n", "both mean hts"),
    ],
)
def test_unusable_files(tmp_path: Path, text: str, words: str):
    result = runner.invoke(app, ["batch", str(write(tmp_path, text))])
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    assert words in result.stderr
    assert result.stdout == ""


def test_missing_file_and_directory(tmp_path: Path):
    result = runner.invoke(app, ["batch", str(tmp_path / "nope.csv")])
    assert result.exit_code == ExitCode.BAD_INPUT and "not found" in result.stderr
    result = runner.invoke(app, ["batch", str(tmp_path)])
    assert result.exit_code == ExitCode.BAD_INPUT and "directory" in result.stderr


def test_row_with_too_many_cells_keeps_them_in_the_error(tmp_path: Path):
    source = write(tmp_path, "hts,value\n8711.50.00,100,surplus\n8711.50.00,100\n")
    result = runner.invoke(app, ["batch", str(source), "--date", "2025-05-03"])
    assert result.exit_code == ExitCode.ROWS_FAILED
    rows = read_csv(result.stdout)
    assert rows[0]["status"] == "error" and "'surplus'" in rows[0]["error"]
    assert rows[1]["status"] == "ok"


def test_refuses_to_overwrite_input(tmp_path: Path):
    source = write(tmp_path, "hts,value\n8711.50.00,100\n")
    before = source.read_bytes()
    result = runner.invoke(app, ["batch", str(source), "-o", str(source)])
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "over the input" in result.stderr
    assert source.read_bytes() == before


def test_failure_leaves_existing_output_untouched(tmp_path: Path):
    out = tmp_path / "out.csv"
    out.write_text("precious\n", encoding="utf-8")
    # A stray quote on the second data line makes the file unusable midway.
    source = tmp_path / "in.csv"
    source.write_bytes(b'hts,value\n8711.50.00,100\n8711.50.00,"10"0\n8711.50.00,100\n')
    result = runner.invoke(app, ["batch", str(source), "-o", str(out), "--date", "2025-05-03"])
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    assert "line 3: malformed CSV" in result.stderr
    assert out.read_text(encoding="utf-8") == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]


def test_interrupt_leaves_no_partial_file(tmp_path: Path, monkeypatch):
    """Interrupted after its first part is written (a blank line: read by Python's csv
    module), the output file is not left behind."""
    out = tmp_path / "out.jsonl"
    source = write(tmp_path, "hts,value\n8711.50.00,100\n\n8711.50.00,200\n")
    monkeypatch.setattr(columnar, "CHUNK_BYTES", 10)  # a part per row
    parts = []
    real_lines = columnar.ColumnarBatch.json_lines

    def interrupted(self, keys, rows):
        parts.append(rows)
        if len(parts) == 2:
            raise KeyboardInterrupt  # Ctrl-C in the middle of the file
        yield from real_lines(self, keys, rows)

    monkeypatch.setattr(columnar.ColumnarBatch, "json_lines", interrupted)
    result = runner.invoke(app, ["batch", str(source), "-o", str(out), "--date", "2025-05-03"])
    assert result.exit_code == ExitCode.INTERRUPTED
    assert len(parts) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_interrupt_once_written_leaves_no_partial_file(tmp_path: Path, monkeypatch):
    out = tmp_path / "out.csv"
    source = write(tmp_path, "hts,value\n8711.50.00,100\n8711.50.00,200\n")
    real_write = columnar.ColumnarFile.write_csv

    def interrupted(self, stream):
        real_write(self, stream)  # everything written, not yet renamed into place
        raise KeyboardInterrupt

    monkeypatch.setattr(columnar.ColumnarFile, "write_csv", interrupted)
    result = runner.invoke(app, ["batch", str(source), "-o", str(out), "--date", "2025-05-03"])
    assert result.exit_code == ExitCode.INTERRUPTED
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_undecodable_bytes_fail_only_their_row(tmp_path: Path):
    source = tmp_path / "in.csv"
    source.write_bytes(b"hts,value,note\n8711.50.00,100,ok\n8711.50.00,100,\xff\xfe\n"
                       b"8711.50.00,100,fine\n")
    result = runner.invoke(app, ["batch", str(source), "--date", "2025-05-03"])
    assert result.exit_code == ExitCode.ROWS_FAILED, result.output
    rows = read_csv(result.stdout)
    assert [row["status"] for row in rows] == ["ok", "error", "ok"]
    assert rows[1]["error"].startswith("note: cannot be decoded")
    assert rows[1]["note"] == "\ufffd\ufffd"


def test_formula_cells_are_neutralised(tmp_path: Path):
    source = write(tmp_path, 'hts,value,note\n8711.50.00,100,=HYPERLINK("x")\n'
                             "8711.50.00,100,-5\n8711.50.00,100,+cmd\n8711.50.00,100,@SUM\n")
    result = runner.invoke(app, ["batch", str(source), "--date", "2025-05-03"])
    notes = [row["note"] for row in read_csv(result.stdout)]
    assert notes == ["'=HYPERLINK(\"x\")", "-5", "'+cmd", "'@SUM"]


@pytest.mark.parametrize(
    "cell, safe",
    [("=1+1", "'=1+1"), ("@A1", "'@A1"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("+1.5", "+1.5"),
     ("-2", "-2"), ("-x", "'-x"), ("+", "'+"), ("plain", "plain"), ("", "")],
)
def test_neutralize_formula(cell: str, safe: str):
    assert neutralize_formula(cell) == safe


def test_summary_totals_by_category(tmp_path: Path):
    source = write(tmp_path, "hts,value\n8711.50.00,20000\n8711.50.00,10000\n8703.24.01,60000\n")
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["batch", str(source), "-o", str(out), "--date", "2025-05-03"])
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): line for line in result.stdout.splitlines()
             if line.startswith("│")}
    assert "30,000.00" in lines["general"] and "3,000.00" in lines["general"]  # 10% of 30,000
    assert "4,200.00" in lines["general"]  # 14% on hold
    assert "16,500.00" not in lines["autos"] and "15,000.00" in lines["autos"]
    assert Decimal("0") < Decimal(1)


@pytest.mark.parametrize("suffix", ["", ".csv"])
def test_carriage_returns_in_cells_are_quoted(tmp_path: Path, suffix: str):
    """A lone carriage return inside a quoted cell (or header) stays inside its cell in the
    output: readers would otherwise end the row there."""
    source = write(tmp_path, 'hts,value,"no\rte"\n8711.50.00,20000,"a\rb"\n"\r",1,x\n')
    args = ["batch", str(source), "--date", "2025-05-03"]
    out = tmp_path / f"out{suffix}"
    if suffix:
        args += ["-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == ExitCode.ROWS_FAILED, result.output
    text = out.read_bytes().decode("utf-8") if suffix else result.stdout
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 3 and rows[0][2] == "no\rte"
    assert rows[1][2] == "a\rb" and rows[1][rows[0].index("total_duty")] == "2480.00"
    assert rows[2][0] == "'\r" and rows[2][rows[0].index("status")] == "error"
    assert "\r\n" not in text and text.endswith("\n")


def test_a_progress_bar_of_a_file_read_by_rows(tmp_path: Path):
    """A file read by Python's csv module (a blank line) shows the bar of the file on a
    terminal too; nothing when piped; the output is the same."""
    rows = [f"{n},8711.50.00,{100 + n},2025-05-03\n" for n in range(3000)]
    source = write(tmp_path, "id,hts,value,date\n" + "".join(rows[:5]) + "\n" + "".join(rows[5:]))
    outputs = []
    for terminal in ("1", "0"):
        out = tmp_path / f"out-{terminal}.csv"
        result = runner.invoke(app, ["batch", str(source), "-o", str(out)],
                               env={"TTY_COMPATIBLE": terminal})
        assert result.exit_code == ExitCode.OK, result.output
        assert ("pricing in.csv" in result.stderr) == (terminal == "1")
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_input_from_stdin(tmp_path: Path):
    """`-` reads the CSV from standard input; messages call it <stdin>; nothing is left behind."""
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["batch", "-", "-o", str(out), "--date", "2025-05-03"],
                           input=MIXED)
    assert result.exit_code == ExitCode.ROWS_FAILED, result.output
    from_file = runner.invoke(app, ["batch", str(write(tmp_path, MIXED)), "--date",
                                    "2025-05-03"])
    assert out.read_text(encoding="utf-8") == from_file.stdout
    assert "error: <stdin>: row 3 (line 4): value:" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]
