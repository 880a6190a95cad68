"""Bad input, tried systematically: every bad CSV cell fails its own row (naming the column),
every bad option exits with a named code and one line, and random input never crashes."""

from __future__ import annotations

import copy
import csv
import functools
import io
import string
from datetime import date
from pathlib import Path

import pytest
import yaml
from engine_rows import price_table
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tariffcalc import TariffError, parse_schedule
from tariffcalc.cli import ExitCode, app
from tariffcalc.schedule_yaml import _StrictLoader, schedule_from_data
from tariffcalc.tables import InputTable

runner = CliRunner()
GOOD = {"hts": "8711.50.00", "value": "20000", "date": "2025-05-03"}

# (column, bad cell[, column the error names]): each makes its row fail with a message that
# starts with the column name.
BAD_CELLS = [
    ("value", "abc"), ("value", "-5"), ("value", "0"), ("value", "0.00"), ("value", "NaN"),
    ("value", "nan"), ("value", "inf"), ("value", "-inf"), ("value", "Infinity"),
    ("value", "1e400"), ("value", "1E5"), ("value", "1,000"), ("value", "1 000"),
    ("value", "1.000,50"), ("value", "$100"), ("value", "0x10"), ("value", "9" * 400),
    ("value", ""), ("value", "1.2.3"), ("value", "١٢٣"),
    # Less than half a cent: the customs value would round to 0.00 (was an internal error).
    ("value", "0.004"), ("value", "0.0000000001"),
    ("date", "2025-02-30"), ("date", "2025-13-01"), ("date", "2025/13/03"),
    ("date", "03/05/2025"), ("date", "20250503"), ("date", "2025-5-3"), ("date", "yesterday"),
    ("hts", "8703.23"), ("hts", "8703.23.01.001"), ("hts", "87O3.23.01"), ("hts", "HTS8703"),
    ("hts", "870323011"), ("hts", "8703-23-01"), ("hts", "87032301" * 3), ("hts", ""),
    ("currency", "jp"), ("currency", "12$"),
    # A currency other than USD without its exchange rate: the row says which column is missing.
    ("currency", "YEN", "fx_rate"), ("currency", "EUR", "fx_rate"),
    ("fx_rate", "0"), ("fx_rate", "-1"), ("fx_rate", "abc"),
    ("mfn_rate", "150%"), ("mfn_rate", "-2%"), ("mfn_rate", "abc"), ("mfn_rate", "2"),
    ("metal_content", "30000"), ("metal_content", "abc"), ("us_content", "-1"),
    ("us_content", "25000"), ("auto_part", "maybe"), ("annex_ii", "2"),
    ("civil_aircraft", "perhaps"), ("mode", "rocket"), ("quantity", "0"), ("quantity", "lots"),
]
COLUMNS = ["id", "hts", "value", "date", "currency", "fx_rate", "mfn_rate", "metal_content",
           "us_content", "auto_part", "annex_ii", "civil_aircraft", "mode", "quantity"]


def _csv(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def test_every_bad_cell_fails_its_row_only(tmp_path: Path):
    rows = []
    for number, (column, cell, *_) in enumerate(BAD_CELLS):
        rows.append({**GOOD, "id": f"good-{number}"})
        bad = {**GOOD, "id": f"bad-{number}", column: cell}
        if column == "fx_rate":
            bad["currency"] = "JPY"
        rows.append(bad)
    source = tmp_path / "bad.csv"
    source.write_text(_csv(rows), encoding="utf-8")
    result = runner.invoke(app, ["batch", str(source)])
    assert result.exit_code == ExitCode.ROWS_FAILED, result.output
    assert "Traceback" not in result.output
    out = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["id"] for row in out] == [row["id"] for row in rows]  # nothing lost or moved
    for row, (column, cell, *named) in zip(out[1::2], BAD_CELLS, strict=True):
        assert row["status"] == "error", (column, cell)
        assert row["error"].startswith(f"{named[0] if named else column}:"), row["error"]
        assert len(row["error"]) < 400  # a 400-digit value is not echoed whole
    assert all(row["status"] == "ok" for row in out[0::2])


def test_full_width_digits_are_read_as_digits(tmp_path: Path):
    source = tmp_path / "fw.csv"
    source.write_text("hts,value,date\n８７１１．５０．００,２００００,２０２５-０５-０３\n",
                      encoding="utf-8")
    result = runner.invoke(app, ["batch", str(source)])
    assert result.exit_code == 0, result.output
    assert list(csv.DictReader(io.StringIO(result.stdout)))[0]["total_duty"] == "2480.00"


def test_a_ten_megabyte_cell(tmp_path: Path):
    source = tmp_path / "big.csv"
    source.write_text("hts,value,date,note\n8711.50.00,20000,2025-05-03," + "x" * 10_000_000
                      + "\n8711.50.00," + "9" * 10_000_000 + ",2025-05-03,\n", encoding="utf-8")
    result = runner.invoke(app, ["batch", str(source)])
    assert result.exit_code == ExitCode.ROWS_FAILED
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[0]["status"] == "ok" and len(rows[0]["note"]) == 10_000_000
    assert rows[1]["status"] == "error" and "characters)" in rows[1]["error"]


BAD_OPTIONS = [
    ["quote", "--hts", "8711.50.00", "--value", "NaN"],
    ["quote", "--hts", "8711.50.00", "--value", "inf"],
    ["quote", "--hts", "8711.50.00", "--value", "1e400"],
    ["quote", "--hts", "8711.50.00", "--value", "1,000"],
    ["quote", "--hts", "8711.50.00", "--value", "-1"],
    ["quote", "--hts", "ABCD.EF.GH", "--value", "1"],
    ["quote", "--hts", "8711.50.00", "--value", "1", "--date", "2025-02-30"],
    ["quote", "--hts", "8711.50.00", "--value", "1", "--currency", "XX"],
    ["quote", "--hts", "8711.50.00", "--value", "1", "--currency", "JPY", "--fx-rate", "0"],
    ["quote", "--hts", "8711.50.00", "--value", "1", "--metal-content", "2"],
    ["quote", "--hts", "8711.50.00", "--value", "1", "--quantity", "-3"],
    ["quote", "--hts", "8711.50.00", "--value", "1", "--mode", "rocket"],
    ["batch", "/nonexistent/file.csv"],
    ["batch", "--date", "someday", "/nonexistent/file.csv"],
    ["rates", "--date", "2025-13-01"],
    ["rates", "--format", "xml"],
    ["timeline", "--hts", "8711.50.00", "--from", "nope"],
    ["hts", "import", "/nonexistent/hts.json", "--effective", "2026-10-01"],
]


@pytest.mark.parametrize("args", BAD_OPTIONS, ids=lambda a: " ".join(a))
def test_bad_options_exit_bad_input_with_one_line(args):
    result = runner.invoke(app, args)
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    assert result.stderr.startswith("tariffcalc: error: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("options", "words"), [
    # A codec that fails on the whole file (UTF-16 without its BOM) was an internal error.
    (["--encoding", "utf-16"], "line 1: cannot be decoded as utf-16"),
    # Workbooks are written as .xlsx: an .xls or .ods name is refused, nothing written.
    (["-o", "OUT/x.xls"], "workbooks are written as .xlsx"),
])  # fmt: skip
def test_bad_batch_options_on_a_good_file(tmp_path: Path, options: list[str], words: str):
    source = tmp_path / "in.csv"
    source.write_text("hts,value\n8711.50.00,100\n", encoding="utf-8")
    options = [option.replace("OUT", str(tmp_path)) for option in options]
    result = runner.invoke(app, ["batch", str(source), *options])
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    assert result.stderr.startswith("tariffcalc: error: ") and words in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_internal_error_exit_code(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("tariffcalc.cli.quote.price_shipment", broken)
    result = runner.invoke(app, ["quote", "--hts", "8711.50.00", "--value", "1"])
    assert result.exit_code == ExitCode.INTERNAL_ERROR
    assert "internal error: RuntimeError: boom" in result.stderr and "--debug" in result.stderr


def test_an_os_error_that_is_no_write_failure_is_still_an_internal_error(monkeypatch):
    def broken(*args, **kwargs):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr("tariffcalc.cli.quote.price_shipment", broken)
    result = runner.invoke(app, ["quote", "--hts", "8711.50.00", "--value", "1"])
    assert result.exit_code == ExitCode.INTERNAL_ERROR
    assert "internal error: OSError" in result.stderr


def test_a_full_disk_is_a_write_failure_with_no_partial_file(monkeypatch, tmp_path: Path):
    """Disk full while writing -o: one line naming the file, exit CANNOT_WRITE, no file left
    (a blank line: the second file is read by Python's csv module)."""
    import errno

    from tariffcalc import columnar

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(columnar.ColumnarBatch, "write_csv_rows", full)
    for name, text in (("plain.csv", "hts,value\n8711.50.00,100\n"),
                       ("blank.csv", "hts,value\n8711.50.00,100\n\n8711.50.00,1\n")):
        source = tmp_path / name
        source.write_text(text, encoding="utf-8")
        out = tmp_path / f"out-{name}"
        result = runner.invoke(app, ["batch", str(source), "-o", str(out), "--date",
                                     "2025-05-03"])
        assert result.exit_code == ExitCode.CANNOT_WRITE, result.output
        assert result.stderr == f"tariffcalc: error: {out}: cannot write the output: No space " \
                                "left on device\n"
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blank.csv", "plain.csv"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_stdout_on_a_full_device_and_a_closed_pipe(tmp_path: Path):
    """`quote > /dev/full`: a one-line error and CANNOT_WRITE; `batch ... | head -1`: a quiet
    stop with the exit code of a broken pipe, whichever path writes the rows."""
    import subprocess
    import sys

    quote = [sys.executable, "-m", "tariffcalc", "quote", "--hts", "8711.50.00", "--value", "1",
             "--date", "2025-05-03"]
    with open("/dev/full", "w") as full:
        result = subprocess.run(quote, stdout=full, stderr=subprocess.PIPE, text=True)
    assert result.returncode == ExitCode.CANNOT_WRITE
    assert result.stderr == "tariffcalc: error: cannot write the output: No space left on device\n"
    rows = "".join(f"{n},8711.50.00,{100 + n},2025-05-03\n" for n in range(20_000))
    for name, blank in (("columns.csv", ""), ("rows.csv", "\n")):
        source = tmp_path / name
        source.write_text("id,hts,value,date\n" + blank + rows, encoding="utf-8")
        batch = subprocess.Popen([sys.executable, "-m", "tariffcalc", "batch", str(source)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert batch.stdout is not None and batch.stdout.readline().startswith(b"id,hts,")
        batch.stdout.close()  # the reader goes away, as `head -1` does
        stderr = batch.stderr.read() if batch.stderr is not None else b""
        assert batch.wait() == ExitCode.BROKEN_PIPE
        assert stderr == b""


def test_unreadable_schedule(monkeypatch, tmp_path: Path):
    # Root reads any file, so the permission error is simulated where the file is read.
    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    schedule = tmp_path / "locked.yaml"
    schedule.write_text("title: t\n", encoding="utf-8")
    monkeypatch.setattr(Path, "read_text", denied)
    result = runner.invoke(app, ["validate", str(schedule)])
    assert result.exit_code == ExitCode.BAD_SCHEDULE
    assert "permission denied" in result.stderr


def test_deeply_nested_yaml_is_a_schedule_error():
    with pytest.raises(TariffError, match="nested too deeply|nesting depth"):
        parse_schedule("[" * 5000 + "]" * 5000, "deep.yaml")


# ----------------------------------------------------------------------------- fuzzing

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
yaml_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=12) | st.floats(
    allow_nan=True)
yaml_values = st.recursive(
    yaml_scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes_never_crash_the_loader(tmp_path_factory, data: bytes):
    path = tmp_path_factory.mktemp("fuzz") / "s.yaml"
    path.write_bytes(data)
    from tariffcalc import load_schedule

    try:
        load_schedule(path)
    except TariffError:
        pass


@FUZZ
@given(yaml_values)
def test_random_yaml_structures_never_crash_the_loader(value):
    try:
        parse_schedule(yaml.safe_dump(value), "fuzz.yaml")
    except TariffError:
        pass


REAL_SCHEDULE = (Path(__file__).parents[1] / "tariffs.yaml").read_text("utf-8")


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_mutated_real_schedule_never_crashes(data):
    """Replace one part of the real schedule with random data: a result or a TariffError."""
    real = copy.deepcopy(_real_schedule_data())
    node = real
    path = []
    for _ in range(data.draw(st.integers(1, 5))):
        if isinstance(node, dict) and node:
            key = data.draw(st.sampled_from(sorted(node, key=str)))
        elif isinstance(node, list) and node:
            key = data.draw(st.integers(0, len(node) - 1))
        else:
            break
        path.append(key)
        node = node[key]
    if not path:
        return
    parent = real
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = data.draw(yaml_values)
    try:
        schedule_from_data(real, "mutated.yaml")
    except TariffError:
        pass


@functools.cache
def _real_schedule_data():
    loader = _StrictLoader(REAL_SCHEDULE)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


csv_text = st.text(alphabet=string.printable + "¢¥日本\ufeff\u2028", max_size=300)


@FUZZ
@given(csv_text)
def test_random_csv_text_never_crashes_the_batch(schedule, text: str):
    reader = csv.reader(io.StringIO("hts,value,date,currency,mfn_rate\n" + text))
    header = next(reader)
    try:
        rows = [(n, n + 1, cells) for n, cells in enumerate(reader, 1) if cells]
    except csv.Error:
        return  # the file-level reader turns this into a TariffError (see test_batch)
    table = InputTable("fuzz.csv", header, iter(rows))
    out = io.StringIO()
    summary = price_table(schedule, table, out, default_date=date(2025, 5, 3))
    assert summary.rows == len(rows)
    assert len(list(csv.reader(io.StringIO(out.getvalue())))) == len(rows) + 1
