"""The batch's one pipeline gives the output of the engine pricing each row alone (the oracle,
tests/engine_rows.py) byte for byte: on generated files, on files made to trip it, and on random
files in every encoding, line end, order and cell format."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import sys
import threading
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from engine_rows import price_file

from tariffcalc import TariffError
from tariffcalc.batch import BatchSummary
from tariffcalc.columnar import CHUNK_BYTES, Declined, price_csv, pricing_dates
from tariffcalc.reader import read_parts
from tariffcalc.shipment import PLAIN_CELLS, CellFormat
from tariffcalc.tables import open_input

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
import generate  # noqa: E402

ON = date(2025, 5, 3)


def engine_output(schedule, path: Path, on: date = ON, scenario: str | None = None,
             encoding: str = "utf-8-sig", cells: CellFormat = PLAIN_CELLS):  # fmt: skip
    """The output and summary of the engine pricing each row alone (the oracle)."""
    out = io.StringIO()
    summary = price_file(
        schedule, path, out, default_date=on, scenario=scenario, encoding=encoding, cells=cells
    )
    return out.getvalue().encode("utf-8"), summary


def columnar(schedule, path: Path, on: date = ON, scenario: str | None = None, rows=250_000,
             chunk_bytes=CHUNK_BYTES, encoding: str = "utf-8-sig",
             cells: CellFormat = PLAIN_CELLS):  # fmt: skip
    with open_input(path, encoding, cells=cells) as table:
        priced = price_csv(
            schedule, table, default_date=on, scenario=scenario, chunk_bytes=chunk_bytes
        )
    buffer = io.BytesIO()
    stream = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
    priced.write_csv(stream, rows=rows)
    stream.flush()
    return buffer.getvalue(), priced.summary


def same_summary(got: BatchSummary, expected: BatchSummary) -> None:
    assert (got.rows, got.failed) == (expected.rows, expected.failed)
    assert got.first_errors == expected.first_errors
    assert {k: vars(v) for k, v in got.by_category.items()} == {
        k: vars(v) for k, v in expected.by_category.items()
    }


def assert_priced_as_the_engine(schedule, path: Path, on: date = ON, scenario: str | None = None,
                            chunk_bytes=CHUNK_BYTES, encoding: str = "utf-8-sig",
                            cells: CellFormat = PLAIN_CELLS):  # fmt: skip
    try:
        expected_bytes, expected_summary = engine_output(schedule, path, on, scenario, encoding, cells)
    except TariffError as exc:  # the whole file is refused (malformed CSV): so must the pipeline
        with pytest.raises(TariffError) as refused:
            columnar(schedule, path, on, scenario, chunk_bytes=chunk_bytes, encoding=encoding,
                     cells=cells)  # fmt: skip
        assert str(refused.value) == str(exc)
        return None
    got = columnar(schedule, path, on, scenario, chunk_bytes=chunk_bytes, encoding=encoding,
                   cells=cells)  # fmt: skip
    assert got[0] == expected_bytes
    same_summary(got[1], expected_summary)
    return got


def rewrite(source: Path, target: Path, change) -> Path:
    rows = list(csv.reader(source.open(encoding="utf-8", newline="")))
    rows = change(rows)
    with target.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream, lineterminator="\n").writerows(rows)
    return target


@pytest.mark.parametrize("seed", [1, 2])
def test_generated_file_byte_for_byte(tmp_path: Path, schedule, seed: int):
    source = tmp_path / "generated.csv"
    generate.write(4000, source, seed=seed)
    got = assert_priced_as_the_engine(schedule, source)
    assert got[1].rows == 4000


@pytest.mark.parametrize("chunk_bytes", [700, 5_000, 14_000])
def test_a_file_priced_a_part_at_a_time(tmp_path: Path, schedule, chunk_bytes: int):
    """Parts end at row ends (notes with line breaks in quotes among them), an entry is never
    split between parts, and rows and lines are numbered across parts."""
    source = tmp_path / "generated.csv"
    generate.write(2500, source, seed=9)
    assert source.stat().st_size > 10 * chunk_bytes
    got = assert_priced_as_the_engine(schedule, source, chunk_bytes=chunk_bytes)
    assert got is not None


class _Pipe(io.StringIO):
    """An output that cannot be rewound."""

    def seekable(self) -> bool:
        return False


def test_entries_spread_over_parts_are_priced_in_two_passes(tmp_path: Path, schedule):
    """A shuffled file: an entry turns up again in a later part, what was written is taken
    back and the file priced in two passes (the entries' totals, then the rows); to an output
    that cannot be rewound, in two passes from the start. Both as the engine prices the rows."""
    source = tmp_path / "generated.csv"
    generate.write(600, source, seed=10)

    def shuffled(rows):
        body = rows[1:]
        random.Random(11).shuffle(body)
        return [rows[0], *body]

    target = rewrite(source, tmp_path / "shuffled.csv", shuffled)
    got = assert_priced_as_the_engine(schedule, target, chunk_bytes=2_000)
    with open_input(target) as table:
        priced = price_csv(schedule, table, default_date=ON, chunk_bytes=2_000)
    piped = _Pipe()
    priced.write_csv(piped)
    assert priced.spread is not None
    assert piped.getvalue().encode("utf-8") == got[0]
    same_summary(priced.summary, got[1])
    for fmt in ("json", "jsonl"):
        expected = io.StringIO()
        price_file(schedule, target, expected, fmt=fmt, default_date=ON)
        with open_input(target) as table:
            priced = price_csv(schedule, table, default_date=ON, chunk_bytes=2_000)
        written = io.StringIO()
        priced.write_json(written, lines=fmt == "jsonl")
        assert written.getvalue() == expected.getvalue()
    # Parquet: the writer's footer of the first try is taken back with the rest.
    import pyarrow.parquet as pq

    with open_input(target) as table:
        priced = price_csv(schedule, table, default_date=ON, chunk_bytes=2_000)
    got_file, expected_file = tmp_path / "got.parquet", tmp_path / "expected.parquet"
    with got_file.open("wb") as stream:
        priced.write_parquet(stream)
    assert priced.spread is not None
    with expected_file.open("wb") as stream:
        price_file(schedule, target, stream, fmt="parquet", default_date=ON)
    assert pq.read_table(got_file).to_pylist() == pq.read_table(expected_file).to_pylist()


@pytest.mark.parametrize("chunk_bytes", [3_000, 20_000])
def test_a_file_in_date_order_with_entries_interleaved(tmp_path: Path, schedule,
                                                       chunk_bytes: int):  # fmt: skip
    """Rows in date order (then by mode): the rows of an entry are not next to each other but
    within their date, so each part leaves the entries of its last date to the next part and
    the file is priced as columns; in entry order per date, the last entry alone goes on."""
    source = tmp_path / "generated.csv"
    generate.write(3000, source, seed=12)
    header = next(csv.reader(source.open(encoding="utf-8", newline="")))
    day, mode, entry = header.index("date"), header.index("mode"), header.index("entry")
    by_date = rewrite(source, tmp_path / "by-date.csv",
                      lambda rows: [rows[0], *sorted(rows[1:], key=lambda r: (r[day], r[mode]))])
    entries = [row[entry] for row in csv.reader(by_date.open(encoding="utf-8", newline=""))][1:]
    runs = sum(1 for a, b in zip(entries, entries[1:], strict=False) if a != b) + 1
    assert runs > len(set(entries)) + 100  # entries really are interleaved
    assert assert_priced_as_the_engine(schedule, by_date, chunk_bytes=chunk_bytes) is not None

    # A row whose date cannot be read takes no part in its entry (it fails alone), so the
    # entry may have it in another part.
    def misdated(rows):
        body, changed, seen = [list(row) for row in rows[1:]], 0, set()
        for number, row in enumerate(body[:-1]):
            if row[entry] and row[entry] == body[number + 1][entry] and row[entry] not in seen:
                body[number + 1][day] = "2025-02-30"
                seen.add(row[entry])
                changed += 1
        assert changed > 20
        return [rows[0], *sorted(body, key=lambda r: (r[day], r[mode]))]

    misdated_file = rewrite(source, tmp_path / "misdated.csv", misdated)
    got = assert_priced_as_the_engine(schedule, misdated_file, chunk_bytes=chunk_bytes)
    assert got is not None and got[1].failed > 20


def test_the_command_prices_files_in_any_order_alike(
    tmp_path: Path, schedule, monkeypatch
):
    from typer.testing import CliRunner

    from tariffcalc import columnar as columnar_module
    from tariffcalc.cli import app

    source = tmp_path / "generated.csv"
    generate.write(600, source, seed=10)
    target = rewrite(
        source, tmp_path / "shuffled.csv",
        lambda rows: [rows[0], *sorted(rows[1:], key=lambda row: row[-3])],  # by mode
    )  # fmt: skip
    monkeypatch.setattr(columnar_module, "CHUNK_BYTES", 2_000)
    expected, _ = engine_output(schedule, target)
    for name in ("generated", "shuffled"):
        out = tmp_path / f"{name}-out.csv"
        path = source if name == "generated" else target
        result = CliRunner().invoke(app, ["batch", str(path), "-o", str(out), "--date", "2025-05-03"])
        assert result.exit_code in (0, 6), result.output
        assert out.read_bytes() == (expected if name == "shuffled" else engine_output(schedule, path)[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "generated-out.csv", "generated.csv", "shuffled-out.csv", "shuffled.csv"
    ]


def test_output_to_stdout_in_parts_and_after_a_decline(tmp_path: Path, schedule, monkeypatch):
    """To stdout, a file of many parts goes out whole once priced (spooled): the same bytes as
    with -o; when a later part finds an entry again, only the two passes' output goes out."""
    from typer.testing import CliRunner

    from tariffcalc import columnar as columnar_module
    from tariffcalc.cli import app

    source = tmp_path / "generated.csv"
    generate.write(600, source, seed=10)
    shuffled = rewrite(source, tmp_path / "shuffled.csv",
                       lambda rows: [rows[0], *sorted(rows[1:], key=lambda row: row[-3])])
    monkeypatch.setattr(columnar_module, "CHUNK_BYTES", 2_000)
    declined: list[bool] = []  # per file: whether a later part found an entry again
    monkeypatch.setattr(columnar_module._EntriesWritten, "add",
                        _noting(declined, columnar_module._EntriesWritten.add))
    for path in (source, shuffled):
        result = CliRunner().invoke(app, ["batch", str(path), "--date", "2025-05-03"])
        assert result.exit_code in (0, 6), result.output
        assert result.stdout_bytes == engine_output(schedule, path)[0]
    assert declined == [False, True]


def test_the_entries_written_are_found_again_in_any_later_part():
    """Each part's entries are looked up among every earlier part's (kept as a few sorted
    runs, merged as a binary counter carries): an entry of any earlier part sends the file to
    two passes; entries new to the file never do, nor rows without an entry."""
    from tariffcalc.columnar import _EntriesWritten

    written = _EntriesWritten()
    for part in range(37):
        written.add(pl.Series([f"E{part}-{n}" for n in range(50)] + ["", ""]))
        assert len(written.runs) <= part.bit_length() + 1
    assert sum(run.len() for run in written.runs) == 37 * 50
    for part in (0, 5, 31, 36):
        with pytest.raises(Declined):
            written.add(pl.Series(["new-1", f"E{part}-49", "new-2"]))
    written.add(pl.Series(["", "new-3", "new-3"]))  # its own rows: once


def _noting(declined: list[bool], add):
    """``_EntriesWritten.add`` noting, per file (its first part), whether a part declined."""

    def noted(written, keys):
        if not written.runs:
            declined.append(False)
        try:
            return add(written, keys)
        except Declined:
            declined[-1] = True
            raise

    return noted


def test_written_a_slice_at_a_time(tmp_path: Path, schedule):
    """The output is made and written in slices of rows; the slices join seamlessly."""
    source = tmp_path / "generated.csv"
    generate.write(1000, source, seed=6)
    whole = columnar(schedule, source)
    assert whole is not None
    for rows in (1, 97, 999, 1000):
        assert columnar(schedule, source, rows=rows)[0] == whole[0]


def test_the_progress_never_goes_back_when_a_file_is_priced_again(tmp_path: Path, schedule):
    """A file rewound for two passes goes on from where its progress stood (it went back to
    0 before), part by part, to the file's size."""
    source = tmp_path / "generated.csv"
    generate.write(1200, source, seed=10)

    def half_shuffled(rows):
        # The first half in order, then the second half shuffled: an entry turns up again in
        # a later part only once the first half has been priced and written.
        half = len(rows) // 2
        tail = rows[half:]
        random.Random(3).shuffle(tail)
        return rows[:half] + tail

    target = rewrite(source, tmp_path / "half_shuffled.csv", half_shuffled)
    told: list[int] = []
    with open_input(target) as table:
        priced = price_csv(schedule, table, default_date=ON, chunk_bytes=4_000,
                           progress=told.append)  # fmt: skip
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
    priced.write_csv(stream)
    assert priced.spread is not None  # rewound: two passes
    size = target.stat().st_size
    assert told == sorted(told) and told[-1] == size
    assert told[0] < size // 4  # the first try's parts, then both passes'


def test_parts_written_behind_in_order_and_a_write_error_ends_the_pricing(
    tmp_path: Path, schedule, monkeypatch
):
    """Each part is written (in a thread of its own) while the next is priced: the parts go
    out in the file's order, one at a time, and an error writing one ends the batch with that
    error, with no later part written and at most the one after it priced."""
    from tariffcalc.columnar import ColumnarFile
    from tariffcalc.priced_parts import ColumnarBatch

    source = tmp_path / "generated.csv"
    generate.write(600, source, seed=8)
    with open_input(source) as table:
        priced = price_csv(schedule, table, default_date=ON, chunk_bytes=2_000)
    parts = list(priced.batches())
    assert len(parts) > 5
    first_rows = [int(part.inputs.item(0, 0)) for part in parts]
    assert first_rows == sorted(first_rows)  # the ids of the generated file count up

    written: list[int] = []
    threads: set[str] = set()
    write_part = ColumnarBatch.write_csv_rows

    def failing(batch: ColumnarBatch, stream, rows: int) -> None:
        written.append(int(batch.inputs.item(0, 0)))
        threads.add(threading.current_thread().name)
        if len(written) == 3:
            raise OSError(28, "No space left on device")
        write_part(batch, stream, rows)

    priced_parts = []
    batches = ColumnarFile.batches

    def counted(file):
        for batch in batches(file):
            priced_parts.append(batch)
            yield batch

    monkeypatch.setattr(ColumnarBatch, "write_csv_rows", failing)
    monkeypatch.setattr(ColumnarFile, "batches", counted)
    with open_input(source) as table:
        priced = price_csv(schedule, table, default_date=ON, chunk_bytes=2_000)
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
    with pytest.raises(OSError, match="No space left"):
        priced.write_csv(stream)
    assert written == first_rows[:3]
    assert len(priced_parts) <= 4
    assert len(threads) == 1 and threading.current_thread().name not in threads


def test_parts_read_ahead_in_order_errors_in_place_and_closed_when_left():
    """The next part is read in a thread of its own while one is priced: the parts come in
    the file's order, a part's error (a malformed row) is raised where that part would have
    come, and a batch that stops early (a rewind, an error) leaves the file closed."""
    from tariffcalc.errors import InputError
    from tariffcalc.reader import read_ahead

    readers: set[str] = set()
    closed: list[bool] = []

    def parts(bad: int | None = None):
        try:
            for n in range(5):
                readers.add(threading.current_thread().name)
                if n == bad:
                    raise InputError(f"part {n}: malformed")
                yield n
        finally:
            closed.append(True)

    assert list(read_ahead(parts())) == [0, 1, 2, 3, 4]
    assert readers and threading.current_thread().name not in readers
    got = []
    with pytest.raises(InputError, match="part 3: malformed"):
        for n in read_ahead(parts(bad=3)):
            got.append(n)
    assert got == [0, 1, 2]
    closed.clear()
    ahead = read_ahead(parts())
    assert next(ahead) == 0
    ahead.close()  # the consumer stops (Declined, an interrupt)
    assert closed == [True]


def test_scenario_and_rows_dated_by_default(tmp_path: Path, schedule):
    """A scenario, and rows without a date priced on a date after the review date (their
    warnings name the date: resolved date by date)."""
    source = tmp_path / "generated.csv"
    generate.write(1500, source, seed=3)
    assert assert_priced_as_the_engine(schedule, source, scenario="hold-lifted") is not None

    def undated(rows):
        return [[cell if i != rows[0].index("date") or n == 0 else "" for i, cell in
                 enumerate(row)] for n, row in enumerate(rows)]  # fmt: skip

    target = rewrite(source, tmp_path / "undated.csv", undated)
    for on in (date(2025, 12, 1), date(2026, 11, 24)):
        assert assert_priced_as_the_engine(schedule, target, on=on) is not None


def test_entries_out_of_order_and_files_without_entries(tmp_path: Path, schedule):
    source = tmp_path / "generated.csv"
    generate.write(2000, source, seed=4)

    def shuffled(rows):
        body = rows[1:]
        random.Random(5).shuffle(body)  # the rows of an entry are no longer together
        return [rows[0], *body]

    def without_entry(rows):
        at = rows[0].index("entry")
        return [row[:at] + row[at + 1 :] for row in rows]

    for name, change in (("shuffled", shuffled), ("no-entry", without_entry)):
        target = rewrite(source, tmp_path / f"{name}.csv", change)
        assert assert_priced_as_the_engine(schedule, target) is not None


HEADER = "id,entry,hts,value,date,currency,fx_rate,mfn_rate,metal_content,mode,note\n"
GOOD = "1,E1,8703.23.01,20000,2025-05-03,,,,,ocean,\n"
ODD_FILES = {
    "crlf": (HEADER + GOOD).replace("\n", "\r\n"),
    "lone-cr": HEADER + GOOD + "2,E2,8703.23.01,100,2025-05-03,,,,,ocean,a\rb\n",
    "cr-in-header": HEADER.replace("note", '"no\rte"') + GOOD,  # written quoted
    "blank-line": HEADER + GOOD + "\n" + GOOD,
    "empty-cells-row": HEADER + GOOD + ",,,,,,,,,,\n",
    "stray-quote": HEADER + GOOD + '2,E2,8703.23.01,100,2025-05-03,,,,,ocean,"a"b\n',
    "quote-inside": HEADER + GOOD + '2,E2,8703.23.01,100,2025-05-03,,,,,ocean,a"b\n',
    "quoted-newline": HEADER
    + GOOD
    + '2,E2,8703.23.01,100,2025-05-03,,,,,ocean,"a\nb"\n'
    + "3,E3,870324010,100,2025-05-03,,,,,ocean,\n",
    "quoted-empty": HEADER + '1,E1,8703.23.01,20000,2025-05-03,"",,,,ocean,""\n',
    "long-row": HEADER + GOOD + "2,E2,8703.23.01,100,2025-05-03,,,,,ocean,,extra\n",
    "short-row": HEADER + GOOD + "2,E2,8703.23.01,100\n",
    "bom": "\ufeff" + HEADER + GOOD,
    "nul": HEADER + GOOD + "2,E2,8703.23.01,100,2025-05-03,,,,,ocean,a\x00b\n",
    "formulas": HEADER
    + '=1+1,@x,8703.23.01,100,2025-05-03,,,,,ocean,"+1"\n'
    + "-x,E2,8703.23.01,100,2025-05-03,,,,,ocean,-1.5\n"
    + "3,E3,8703.23.01,100,2025-05-03,,,,,ocean,\tTAB\n",
    "full-width": HEADER + "1,E1,8703.23.01,２００００,2025-05-03,,,,,ocean,\n",
    "japanese-note": HEADER + "1,E1,8703.23.01,20000,2025-05-03,,,,,ocean,取扱注意\n",
    "spaces": HEADER + "1, E1 , 8703.23.01 , 20000 , 2025-05-03 ,,,, , ocean ,\n",
    "many-decimals": HEADER
    + "1,E1,8703.23.01,100.12345,2025-05-03,,,,,ocean,\n"
    + "2,E1,8703.23.01,100.125,2025-05-03,,,,,ocean,\n",
    "tiny-and-huge": HEADER
    + "1,E1,8703.23.01,0.004,2025-05-03,,,,,ocean,\n"
    + "2,E2,8703.23.01,999999999999,2025-05-03,,,,,ocean,\n"
    + "3,E3,8703.23.01,0.01,2025-05-03,,,,,ocean,\n",
    "metal-content": HEADER
    + "1,E1,8711.50.00,1000,2025-09-01,,,,250,ocean,\n"
    + "2,E1,8711.50.00,1000,2025-09-01,,,,1000,ocean,\n"
    + "3,E2,8711.50.00,1000,2025-09-01,,,,0,ocean,\n"
    + "4,E3,8711.50.00,149254,2025-09-01,JPY,0.0067,,37313,,\n"
    + "5,E4,7610.10.00,1000,2025-09-01,,,5.7%,400,air,\n",
    "entry-with-bad-row": HEADER
    + "1,E1,8703.23.01,1000,2025-05-03,,,,,ocean,\n"
    + "2,E1,8703.2401x,1000,2025-05-03,,,,,ocean,\n"
    + "3,E1,8703.23.01,2000,2025-05-03,,,,,ocean,\n"
    + "4,E2,8703.23.01,1000,2025-05-03,,,,,ocean,\n"
    + "5,E2,8703.23.01,1000,2025-06-03,,,,,ocean,\n"
    + "6,E3,8703.23.01,1000,2025-05-03,,,,,ocean,\n",
    "currencies": HEADER
    + "1,E1,8703.23.01,1000000,2025-05-03,JPY,0.0067,,,ocean,\n"
    + "2,E2,8703.23.01,1000000,2025-05-03,jpy,0.00671234,,,ocean,\n"
    + "3,E3,8703.23.01,1000,2025-05-03,USD,1,,,ocean,\n"
    + "4,E4,8703.23.01,1000,2025-05-03,EUR,,,,ocean,\n"
    + "5,E5,8703.23.01,1000,2025-05-03,USD,abc,,,ocean,\n",
    "unknown-mfn-and-modes": HEADER
    + "1,,9999.99.99,1000,2025-05-03,,,,,,\n"
    + "2,,8542.31.00,1000,2025-05-03,,,,,sea,\n"
    + "3,,8542.31.00,1000,2025-05-03,,,,,AIR,\n"
    + "4,,8542.31.00,1000,2025-05-03,,,,,,\n",
    "after-metals-established": HEADER + "1,,7208.51.00,1000,2026-05-01,,,,,ocean,\n" + GOOD,
    # The entry scan strips an ideographic space from the entry: row 2 is in entry E1 too.
    "entry-unicode-space": HEADER
    + "1,E1,8703.23.01,1000,2025-05-03,,,,,ocean,\n"
    + "2,E1\u3000,8703.23.01,2000,2025-05-03,,,,,ocean,\n"
    + "3,E1,8703.23.01,3000,2025-05-03,,,,,ocean,\n",
    "control-characters": HEADER
    + "1,E1,8703\x1f23.01,1000,2025-05-03,,,,,ocean,\n"
    + "2,E2\x1c,8703.23.01,1000\t,2025-05-03,,,,,ocean\x0b,\n",
}


# Files Python's csv module reads (from their first part polars might read otherwise); a stray
# quote is a malformed file, refused whole with its line, as when the file is opened.
BY_ROWS = {"lone-cr", "blank-line", "empty-cells-row", "quote-inside", "long-row", "nul"}


@pytest.mark.parametrize("name", sorted(ODD_FILES))
@pytest.mark.parametrize("chunk_bytes", [150, CHUNK_BYTES])
def test_odd_files_priced_as_the_engine_prices_each_row(tmp_path: Path, schedule, name: str,
                                                        chunk_bytes: int):  # fmt: skip
    source = tmp_path / f"{name}.csv"
    source.write_bytes(ODD_FILES[name].encode("utf-8"))
    got = assert_priced_as_the_engine(schedule, source, chunk_bytes=chunk_bytes)
    assert (got is None) == (name == "stray-quote")


def test_a_carriage_return_in_the_header_is_written_quoted(tmp_path: Path, schedule):
    source = tmp_path / "cr-in-header.csv"
    source.write_bytes(ODD_FILES["cr-in-header"].encode("utf-8"))
    got = columnar(schedule, source)
    assert got is not None
    rows = list(csv.reader(io.StringIO(got[0].decode("utf-8"), newline="")))
    assert len(rows) == 2 and rows[0][10] == "no\rte"


def test_undecodable_bytes_and_other_encodings(tmp_path: Path, schedule):
    """Bytes that are not of the file's encoding fail their row only, naming the column (read
    by Python's csv module from the part that holds them); UTF-16, whose line feed byte may be
    half a character, is read by Python's csv module whole."""
    source = tmp_path / "latin.csv"
    source.write_bytes((HEADER + GOOD).encode() + b"2,E2,8703.23.01,100,2025-05-03,,,,,,\xff\n")
    got = assert_priced_as_the_engine(schedule, source)
    assert got[1].failed == 1 and "note: cannot be decoded" in got[1].first_errors[0]
    japanese = tmp_path / "cp932.csv"  # a byte that is not cp932 in its second part
    japanese.write_bytes((HEADER + GOOD * 40).encode("cp932") + b"3,E3,8703.23.01,1,,,,,,,\x85@\n")
    got = assert_priced_as_the_engine(schedule, japanese, encoding="cp932", chunk_bytes=400)
    assert got[1].rows == 41 and got[1].failed == 1
    wide = tmp_path / "utf16.csv"
    wide.write_bytes((HEADER + GOOD * 30).encode("utf-16"))
    got = assert_priced_as_the_engine(schedule, wide, encoding="utf-16", chunk_bytes=200)
    assert got[1].rows == 30 and got[1].failed == 0


@pytest.mark.parametrize("encoding", ["cp932", "euc-jp", "shift_jis"])
@pytest.mark.parametrize("chunk_bytes", [900, CHUNK_BYTES])
def test_japanese_encodings_priced_as_columns(tmp_path: Path, schedule, encoding: str,
                                              chunk_bytes: int):  # fmt: skip
    """Files from Japanese exporters' systems (notes, and headers, in Japanese; a goods cell
    in Japanese: the engine prices that row alone) read as the engine reads them, a part at a
    time."""
    generated = tmp_path / "generated.csv"
    generate.write(1200, generated, seed=5)
    source = tmp_path / f"{encoding}.csv"
    text = generated.read_text(encoding="utf-8").replace("note", "備考（メモ）", 1)
    lines = text.split("\n")
    lines[50] = lines[50].replace(",general,", ",鉄鋼,", 1)
    source.write_bytes("\n".join(lines).encode(encoding))
    assert "備考".encode(encoding) in source.read_bytes()
    got = assert_priced_as_the_engine(schedule, source, encoding=encoding, chunk_bytes=chunk_bytes)
    assert got is not None, "a plain file in a Japanese encoding is priced as columns"


def test_rates_per_dollar_priced_as_columns_to_the_cent(tmp_path: Path, schedule, monkeypatch):
    """Rates given per dollar (--fx-per-usd: 150 yen) are priced as columns, by the engine's
    exact quotient: half cents (4,501.5 yen at 300 is 15.005 USD: 15.01; 13.5 yen at 2.7 is
    5.00 USD; 1 yen at 200 is 0.005: 0.01), rates of up to 10 decimals, metal contents,
    entries, USD rows, a rate per dollar a yen cannot have (refused), agree with the engine
    pricing each row alone, to the byte; and only the bad rows go to the engine."""
    import random

    from tariffcalc.alone import RowsAlone

    rows = ["id,entry,hts,value,date,currency,fx_rate,metal_content,mode",
            "1,E1,9503.00.00,4501.5,2025-05-03,JPY,300,,ocean",
            "2,E1,7326.90.86,13.5,2025-05-03,JPY,2.7,4.5,air",
            "3,E2,9503.00.00,1,2025-05-03,JPY,200,,",
            "4,E2,8703.23.01,10000,2025-05-03,USD,,,land",
            "5,,9503.00.00,1000,2025-05-03,JPY,0.0067,,"]  # fmt: skip
    draw = random.Random(11)
    hts = ["9503.00.00", "7326.90.86", "8708.40.11", "8703.23.01", "7606.12.30", "7208.51.00",
           "8471.30.01", "4013.10.00"]
    for n in range(6, 1200):
        rate = f"{draw.randint(100, 160)}.{draw.randint(0, 10**draw.randint(0, 10) - 1)}"
        whole = draw.randint(2, 10**9)
        value = f"{whole}.{draw.randint(0, 9999):04d}"
        content = "" if draw.random() < 0.7 else f"{draw.randint(1, min(1000, whole - 1))}"
        rows.append(f"{n},F{n // 3},{draw.choice(hts)},{value},2025-0{4 + n // 3 % 6}-15,"
                    f"JPY,{rate},{content},{draw.choice(['ocean', 'air', ''])}")
    source = tmp_path / "per_dollar.csv"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    alone: list[int] = []
    price = RowsAlone.price

    def counted(self, names, rows):
        alone.extend(rows)
        return price(self, names, rows)

    monkeypatch.setattr(RowsAlone, "price", counted)
    got = assert_priced_as_the_engine(schedule, source, cells=CellFormat(fx_per_usd=True),
                                      chunk_bytes=20_000)  # fmt: skip
    assert got is not None and got[1].failed == 1  # 0.0067 yen to the dollar
    assert "'0.0067' yen per US dollar cannot be right" in got[1].first_errors[0]
    with io.StringIO(got[0].decode("utf-8")) as text:
        out = {row["id"]: row for row in csv.DictReader(text)}
    assert [out[n]["status"] for n in "12345"] == ["ok", "ok", "ok", "ok", "error"]
    cv = {n: float(out[n]["landed_cost"]) - float(out[n]["total_duty"])
          - float(out[n]["total_fees"]) for n in "123"}  # fmt: skip
    assert [round(cv[n], 2) for n in "123"] == [15.01, 5.00, 0.01]
    # The engine priced alone only the refused row (it has no entry), not the 1,200 rows
    # with a rate per dollar it used to price one by one.
    assert len(alone) == 1


def test_pricing_dates_hold_every_date_of_the_schedule_and_the_day_after(schedule):
    days = set(pricing_dates(schedule))
    for measure in schedule.measures:
        for period in measure.rates:
            assert period.start.toordinal() in days
            if period.end is not None:
                assert period.end.toordinal() + 1 in days
    assert schedule.reviewed_through.toordinal() + 1 in days


# --- property: any file of plausible and implausible rows, both paths agree byte for byte

_HTS = ["8703.23.01", "8708.40.11", "8483.40.90", "8711.50.00", "7208.51.00", "7610.10.00",
        "8542.31.00", "9503.00.00", "4013.10.00", "8704.21.01", "870324010", "1234.56.78", ""]
_DATES = ["2025-03-01", "2025-04-05", "2025-04-09", "2025-05-03", "2025-06-04", "2025-08-07",
          "2025-08-18", "2025-09-16", "2025-10-01", "2026-02-24", "2026-04-06", "2026-09-01",
          "", "2025-02-30", " 2025-05-03"]
_VALUES = ["1000", "0.01", "0.004", "123456.7891", "99.995", "1e3", "-5", "", "1,000",
           "999999999999", "１０００", "250.5"]


def _row_cells(draw) -> list[str]:
    from hypothesis import strategies as st

    pick = lambda options: draw(st.sampled_from(options))  # noqa: E731
    hts = pick(_HTS)
    category = "" if hts else pick(["autos", "auto-parts", "general", "steel", ""])
    currency, fx = pick([("", ""), ("JPY", "0.0067"), ("jpy", "0.00671234"), ("EUR", ""),
                         ("USD", "1"), ("USD", "abc")])  # fmt: skip
    return [
        str(draw(st.integers(0, 999))),
        pick(["E1", "E2", "E3", " E1", "E1\u3000", ""]),
        hts,
        category,
        pick(_VALUES),
        pick(_DATES),
        currency,
        fx,
        pick(["", "2.5%", "0%", "25%", "0.1234567", "150%"]),
        pick(["", "100", "999", "0", "5000", "abc"]),
        pick(["", "", "10"]),  # us_content
        pick(["", "ocean", "air", "LAND", "sea"]),
        pick(["", "=1+1", "-x", "a,b", "line 1\nline 2", "取扱注意", '"quoted"']),
    ]


# How a file may be written: its encoding, line ends, blank lines; and how its cells are read.
_FORMS = ["utf-8", "utf-8-sig", "cp932", "utf-16"]
_LINE_ENDS = ["\n", "\r\n", "\r"]
_CELL_FORMATS = [
    PLAIN_CELLS,
    CellFormat(fx_per_usd=True),
    CellFormat(defaults=(("currency", "JPY"), ("fx_rate", "0.0067"), ("mode", "ocean"))),
    CellFormat(thousands=","),
]


def test_random_files_priced_as_the_engine_prices_each_row(tmp_path_factory, schedule):
    """Files of random rows, good and bad, in entries or not (in the order drawn, shuffled, or
    by entry), on dates on both sides of every change, in any encoding, line end, with blank
    lines, cells read by any option: the batch agrees with the engine pricing each row alone,
    to the byte. (COLUMNAR_EXAMPLES=600 for a longer search.)"""
    from hypothesis import assume, given, settings
    from hypothesis import strategies as st

    header = ["id", "entry", "hts", "category", "value", "date", "currency", "fx_rate",
              "mfn_rate", "metal_content", "us_content", "mode", "note"]  # fmt: skip

    @settings(max_examples=int(os.environ.get("COLUMNAR_EXAMPLES", "60")), deadline=None)
    @given(st.data(), st.integers(1, 30), st.sampled_from([ON, date(2026, 11, 24)]),
           st.sampled_from([CHUNK_BYTES, 400, 2_000]), st.sampled_from(_FORMS),
           st.sampled_from(_LINE_ENDS), st.booleans(), st.sampled_from(["drawn", "shuffled",
           "by entry"]), st.sampled_from(_CELL_FORMATS))  # fmt: skip
    def check(data, count, on, chunk_bytes, encoding, line_end, blank, order, cells):
        rows = [_row_cells(data.draw) for _ in range(count)]
        if order == "shuffled":
            random.Random(count).shuffle(rows)
        elif order == "by entry":
            rows.sort(key=lambda row: row[1])
        text = io.StringIO()
        csv.writer(text, lineterminator=line_end).writerows([header, *rows])
        lines = text.getvalue()
        if blank:  # a blank line after the header
            lines = lines.replace(line_end, line_end * 2, 1)
        try:
            data_bytes = lines.encode(encoding)
        except UnicodeEncodeError:
            assume(False)
        path = tmp_path_factory.mktemp("random") / "rows.csv"
        path.write_bytes(data_bytes)
        assert_priced_as_the_engine(schedule, path, on=on, chunk_bytes=chunk_bytes,
                                encoding=encoding, cells=cells)  # fmt: skip

    check()


def test_parquet_as_the_engine_rows_write_it(tmp_path: Path, schedule):
    pq = pytest.importorskip("pyarrow.parquet")
    from tariffcalc.outputs import atomic_output

    source = tmp_path / "generated.csv"
    generate.write(1500, source, seed=8)
    row_file, columnar_file = tmp_path / "rows.parquet", tmp_path / "columns.parquet"
    with atomic_output(row_file, binary=True) as stream:
        price_file(schedule, source, stream, fmt="parquet", default_date=ON)
    with open_input(source) as table:
        priced = price_csv(schedule, table, default_date=ON)
    assert priced is not None
    with atomic_output(columnar_file, binary=True) as stream:
        priced.write_parquet(stream, rows=400)
    expected, got = pq.read_table(row_file), pq.read_table(columnar_file)
    assert got.schema.names == expected.schema.names
    assert got.to_pylist() == expected.to_pylist()


def test_a_file_without_line_feeds_is_not_read_whole_into_memory(tmp_path: Path, schedule):
    """Old Mac line ends ("\\r" alone): no part ends at a line feed, so Python's csv module
    reads the file, a part at a time, instead of its bytes being read whole."""
    source = tmp_path / "cr.csv"
    source.write_bytes((HEADER + GOOD * 50).replace("\n", "\r").encode())
    with open_input(source) as table:
        parts = list(read_parts(table, 100))
    assert len(parts) > 10 and all(part.frame.height <= 4 for part in parts)
    lines = pl.concat([part.frame.get_column("line") for part in parts]).to_list()
    assert lines == list(range(2, 52))  # the header is line 1
    got = assert_priced_as_the_engine(schedule, source, chunk_bytes=100)
    assert got[1].rows == 50


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_json_as_the_engine_rows_write_it(tmp_path: Path, schedule, fmt: str):
    """JSON and JSON Lines byte for byte, written a slice at a time; a header that names a
    column twice keeps both cells (the second key gets a suffix, as in Parquet)."""
    generated = tmp_path / "generated.csv"
    generate.write(1500, generated, seed=4)
    source = rewrite(generated, tmp_path / "twice.csv",
                     lambda rows: [row + [cell] for row, cell in zip(
                         rows, ["note", *(f"b{i}" for i in range(len(rows) - 1))], strict=True)])
    expected = io.StringIO()
    price_file(schedule, source, expected, fmt=fmt, default_date=ON)
    with open_input(source) as table:
        priced = price_csv(schedule, table, default_date=ON)
    assert priced is not None
    buffer = io.BytesIO()
    stream = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
    priced.write_json(stream, lines=fmt == "jsonl", rows=400)
    got = buffer.getvalue().decode("utf-8")
    assert got == expected.getvalue()
    records = json.loads(got) if fmt == "json" else [json.loads(line) for line in got.splitlines()]
    notes = [row["note"] for row in csv.DictReader(generated.open(encoding="utf-8", newline=""))]
    assert [r["note"] for r in records] == notes
    assert [r["note_2"] for r in records] == [f"b{i}" for i in range(1500)]


@pytest.mark.parametrize(("fmt", "empty"), [("json", "[]\n"), ("jsonl", "")])
def test_json_of_no_rows(tmp_path: Path, schedule, fmt: str, empty: str):
    """A file of a header alone: an empty JSON array, or no lines."""
    source = tmp_path / "empty.csv"
    source.write_text("hts,value\n", encoding="utf-8")
    with open_input(source) as table:
        priced = price_csv(schedule, table, default_date=ON)
    got = io.StringIO()
    priced.write_json(got, lines=fmt == "jsonl")
    assert got.getvalue() == empty and priced.summary.rows == 0


def test_a_progress_bar_on_a_terminal_only(tmp_path: Path, schedule, monkeypatch):
    """On a terminal the file's progress shows part by part (the bar is gone when done);
    piped, nothing but the summary; the output is the same."""
    from typer.testing import CliRunner

    from tariffcalc import columnar as columnar_module
    from tariffcalc.cli import app

    source = tmp_path / "generated.csv"
    generate.write(1500, source, seed=6)
    monkeypatch.setattr(columnar_module, "CHUNK_BYTES", 8_000)
    parts = []
    real_price_csv = columnar_module.price_csv

    def counted(*args, progress=None, **kwargs):
        def told(done):
            parts.append(done)
            progress(done)

        return real_price_csv(*args, progress=told if progress else None, **kwargs)

    monkeypatch.setattr(columnar_module, "price_csv", counted)
    outputs = []
    for terminal in ("1", "0"):
        out = tmp_path / f"out-{terminal}.csv"
        result = CliRunner().invoke(app, ["batch", str(source), "-o", str(out), "--date",
                                          "2025-05-03"], env={"TTY_COMPATIBLE": terminal})
        assert result.exit_code in (0, 6), result.output
        assert ("pricing generated.csv" in result.stderr) == (terminal == "1")
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert len(parts) > 5 and parts == sorted(parts) and parts[-1] == source.stat().st_size


@pytest.mark.parametrize(("separator", "thousands", "date_format"), [
    (";", None, None),
    ("\t", ",", None),
    ("|", ".", "%d.%m.%Y"),
    (",", ",", "%m/%d/%Y"),
])  # fmt: skip
def test_separators_grouped_amounts_and_date_formats_both_ways(
    tmp_path: Path, schedule, separator, thousands, date_format
):
    # The generated file rewritten as an ERP would: another separator, values grouped by
    # thousands ("." grouping with a decimal comma), dates in a format of its own. The
    # pipeline reads them as the engine does, byte for byte.
    from datetime import datetime

    from tariffcalc.shipment import CellFormat

    plain = tmp_path / "plain.csv"
    generate.write(3000, plain, seed=21)
    with plain.open(newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    date_at = header.index("date")
    amounts = [header.index(name) for name in ("value", "fx_rate", "metal_content", "quantity")
               if name in header]  # fmt: skip
    mark = "," if thousands == "." else "."
    for cells in body:
        for at in amounts if thousands else ():
            whole, point, cents = cells[at].partition(".")
            if not whole.isdigit():
                continue  # a bad amount stays bad
            if len(whole) > 3:
                whole = f"{int(whole):,}".replace(",", thousands)
            cells[at] = whole + (mark + cents if point else "")
        if date_format and cells[date_at][:4].isdigit() and len(cells[date_at]) == 10:
            try:
                on = datetime.strptime(cells[date_at], "%Y-%m-%d")
            except ValueError:
                continue  # a bad date stays bad
            cells[date_at] = on.strftime(date_format)
    source = tmp_path / "erp.csv"
    with source.open("w", newline="") as handle:
        csv.writer(handle, delimiter=separator).writerows([header, *body])
    cells = CellFormat(thousands=thousands, date_format=date_format)
    with open_input(source, cells=cells) as table:
        assert table.delimiter == separator
        priced = price_csv(schedule, table, default_date=ON)
    assert priced is not None
    buffer = io.BytesIO()
    stream = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
    priced.write_csv(stream)
    stream.flush()
    expected = io.StringIO()
    summary = price_file(schedule, source, expected, default_date=ON, cells=cells)
    assert buffer.getvalue() == expected.getvalue().encode("utf-8")
    same_summary(priced.summary, summary)
    assert summary.priced > 2000  # most rows price: the rewriting kept them readable


def test_japanese_cells_both_ways(tmp_path: Path, schedule):
    # Modes as Japanese files write them (海上, 航空, 陸上, with a stray one that is not a
    # mode), dates as 2025年5月12日, Japan as 日本: the pipeline reads them in its columns
    # and gives the engine's output.
    plain = tmp_path / "plain.csv"
    generate.write(3000, plain, seed=33)
    with plain.open(newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = [*rows[0], "origin"], rows[1:]
    mode_at, date_at = header.index("mode"), header.index("date")
    words = {"ocean": "海上", "air": "航空", "land": "陸上"}
    for number, cells in enumerate(body):
        cells[mode_at] = words.get(cells[mode_at], cells[mode_at])
        if number == 7:
            cells[mode_at] = "宇宙"  # no mode: that row's error, the engine's
        if number % 3 == 0 and cells[date_at][:4].isdigit() and len(cells[date_at]) == 10:
            year, month, day = cells[date_at].split("-")
            cells[date_at] = f"{year}年{int(month)}月{int(day)}日"
        cells.append("日本" if number % 2 else "JP")
    source = tmp_path / "japanese.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *body])
    got = assert_priced_as_the_engine(schedule, source)
    assert got is not None, "the columnar path must take Japanese modes, dates and origin"


# Entry E1 spread over the parts of a small part size: its MPF is shared over all its rows,
# the last row taking the remainder; E2 has a row the engine refuses (all its rows are then
# the engine's, with E2's MPF shared as the entry scan counts it); E3's rows have two dates.
SPREAD = HEADER + "".join(
    f"{n},{entry},{hts},{value},{day},,,,,ocean,\n"
    for n, (entry, hts, value, day) in enumerate([
        ("E1", "8703.23.01", "120000", "2025-05-03"),
        ("E2", "8703.23.01", "90000", "2025-05-03"),
        ("E3", "8703.23.01", "5000", "2025-05-03"),
        *[("", "8711.50.00", "1000", "2025-05-03")] * 6,
        ("E1", "8708.30.50", "333333.33", "2025-05-03"),
        ("E2", "8703.2401x", "1000", "2025-05-03"),
        *[("", "8711.50.00", "1000", "2025-05-03")] * 6,
        ("E3", "8703.23.01", "7000", "2025-06-03"),
        ("E2", "8703.23.01", "250000", "2025-05-03"),
        ("E1", "8703.23.01", "777.77", "2025-05-03"),
    ], start=1)
)  # fmt: skip


@pytest.mark.parametrize("chunk_bytes", [200, 600, CHUNK_BYTES])
def test_spread_entries_with_refused_rows_and_two_dates(tmp_path: Path, schedule,
                                                        chunk_bytes: int):  # fmt: skip
    source = tmp_path / "spread.csv"
    source.write_text(SPREAD, encoding="utf-8")
    got = assert_priced_as_the_engine(schedule, source, chunk_bytes=chunk_bytes)
    rows = list(csv.DictReader(io.StringIO(got[0].decode("utf-8"), newline="")))
    e1 = [row for row in rows if row["entry"] == "E1"]
    # By hand: E1 is 454,111.10 USD, so its MPF is FY2025's maximum (tariffs.yaml, fees.mpf:
    # 2024-10-01..2025-09-30, maximum 634.62), shared by value: 634.62 x 120,000 / 454,111.10
    # = 167.697 -> 167.70; x 333,333.33 / 454,111.10 = 465.830 -> 465.83; the last row the
    # rest, 634.62 - 167.70 - 465.83 = 1.09.
    assert [row["mpf"] for row in e1] == ["167.70", "465.83", "1.09"]
    assert got[1].failed == 2  # E2's refused row, E3's row of another date


def test_keys_resolved_in_worker_processes_price_alike(tmp_path: Path, schedule, monkeypatch):
    """Many distinct keys are resolved by forked worker processes ($TARIFFCALC_WORKERS): the
    output and summary are those of one process (and of the engine row by row)."""
    from tariffcalc import resolution

    source = tmp_path / "generated.csv"
    generate.write(3000, source, seed=21)
    monkeypatch.setenv("TARIFFCALC_WORKERS", "1")
    alone = columnar(schedule, source)
    monkeypatch.setenv("TARIFFCALC_WORKERS", "3")
    monkeypatch.setattr(resolution, "_KEYS_PER_WORKER", 5)
    here: list[int] = []  # keys resolved in this process (a worker's count stays in it)
    kept: list[int] = []
    real_terms, real_keep = resolution.Resolver._terms, resolution.Resolver._keep

    def terms(self, request):
        here.append(1)
        return real_terms(self, request)

    def keep(self, request, found):
        kept.append(1)
        real_keep(self, request, found)

    monkeypatch.setattr(resolution.Resolver, "_terms", terms)
    monkeypatch.setattr(resolution.Resolver, "_keep", keep)
    got = assert_priced_as_the_engine(schedule, source)
    assert len(kept) > 100 and len(here) < len(kept) // 10  # resolved by the workers
    assert got[0] == alone[0]
    same_summary(got[1], alone[1])
