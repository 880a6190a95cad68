"""Japanese exporters' files and Excel (issue 14): a file shaped like an ERP export (cp932,
Japanese headers, amounts grouped by thousands, dates 2025/06/15 and 2026年1月15日, yen per
dollar, 海上 / 航空) prices every good row with the right options or a profile; the same data
as a workbook gives the same numbers; a workbook output holds numbers as numbers.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from tariffcalc import __version__
from tariffcalc.cli import app

runner = CliRunner()

HEADER = ["行番号", "品目番号", "品名", "金額", "通貨", "為替レート", "日付", "輸送", "原産国"]
# Hand-checked rows (MFN from the HTS export of the date; reference §2, §3, §6):
# 1. A car, ¥4,500,000 at 150 yen to the dollar = $30,000.00, entered 2025-06-15: MFN 2.5% =
#    750.00, Section 232 autos 25% = 7,500.00 (before the 15% inclusive of 2025-09-16);
#    MPF 0.3464% x 30,000 = 103.92; HMF (ocean) 0.125% = 37.50.
# 2. Toys 9503.00.00, ¥120,000 / 150 = $800.00, entered 2026-01-15: 15% inclusive of a free
#    MFN = 120.00 (IEEPA); air: no HMF; MPF 0.3464% x 800 = 2.77, raised to the FY2026
#    minimum 33.58.
# 3. A gearbox 8708.40.11.50, ¥1,500,000 / 150 = $10,000.00, entered 2025-10-01: auto part,
#    15% inclusive of the 2.5% MFN: MFN 250.00 + 1,250.00; MPF 34.64; HMF 12.50.
ROWS = [
    ["1", "8703.23.0190", "乗用車", "4,500,000", "JPY", "150", "2025/06/15", "海上", "日本"],
    ["2", "9503.00.00", "玩具", "120,000", "JPY", "150", "2026年1月15日", "航空", "日本"],
    ["3", "8708.40.11.50", "変速機", "1,500,000", "JPY", "150", "2025/10/01", "海上", "JP"],
]
EXPECTED = {  # row id: (total_duty, ieepa_duty, mpf, hmf, landed_cost)
    "1": ("8250.00", "0.00", "103.92", "37.50", "38391.42"),  # 30,000 + 8,250 + 141.42
    "2": ("120.00", "120.00", "33.58", "0.00", "953.58"),  # 800 + 120 + 33.58
    "3": ("1500.00", "0.00", "34.64", "12.50", "11547.14"),  # 10,000 + 1,500 + 47.14
}
OPTIONS = ["--encoding", "cp932", "--thousands", ",", "--fx-per-usd"]


def export_file(tmp_path: Path, name: str = "erp.csv", delimiter: str = ",") -> Path:
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(ROWS)
    path = tmp_path / name
    path.write_bytes(text.getvalue().encode("cp932"))
    return path


def results(path: Path, encoding: str = "utf-8-sig") -> dict[str, dict[str, str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return {row["行番号"]: row for row in csv.DictReader(handle)}


def check(rows: dict[str, dict[str, str]]) -> None:
    for key, (total, ieepa, mpf, hmf, landed) in EXPECTED.items():
        row = rows[key]
        assert row["status"] == "ok", row
        assert (row["total_duty"], row["ieepa_duty"], row["mpf"], row["hmf"],
                row["landed_cost"]) == (total, ieepa, mpf, hmf, landed), key  # fmt: skip


def test_the_export_prices_with_options(tmp_path):
    source, out = export_file(tmp_path), tmp_path / "out.csv"
    result = runner.invoke(app, ["batch", str(source), *OPTIONS, "-o", str(out)])
    assert result.exit_code == 0, result.output
    check(results(out))
    # A cp932 input: the CSV output begins with a BOM, so Japanese Excel reads it.
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    again = runner.invoke(app, ["batch", str(source), *OPTIONS, "--no-bom", "-o", str(out)])
    assert again.exit_code == 0 and not out.read_bytes().startswith(b"\xef\xbb\xbf")
    assert f"tariffcalc {__version__}; schedule reviewed through" in result.output


def test_the_export_prices_with_a_profile(tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text(
        '[profiles.erp]\nencoding = "cp932"\nthousands = ","\nfx_per_usd = true\n'
        'columns = { hts = "品目番号" }\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("TARIFFCALC_CONFIG", str(config))
    source, out = export_file(tmp_path), tmp_path / "out.csv"
    result = runner.invoke(app, ["batch", str(source), "--profile", "erp", "-o", str(out)])
    assert result.exit_code == 0, result.output
    check(results(out))
    unknown = runner.invoke(app, ["batch", str(source), "--profile", "nope"])
    assert unknown.exit_code == 3 and "no profile 'nope' (profiles: erp)" in unknown.stderr


def test_a_profile_fills_in_currency_and_rate(tmp_path):
    # The file has no currency or rate columns: the profile's apply to every row.
    source = tmp_path / "bare.csv"
    source.write_text("行番号,品目番号,金額,日付,輸送\n2,9503.00.00,120000,2026-01-15,air\n",
                      encoding="utf-8")  # fmt: skip
    config = tmp_path / "config.toml"
    config.write_text('[profiles.yen]\ncurrency = "JPY"\nfx_rate = 150\nfx_per_usd = true\n')
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["batch", str(source), "--config", str(config), "--profile",
                                 "yen", "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert results(out)["2"]["total_duty"] == "120.00"  # 120,000 / 150 = 800 x 15%


def test_the_same_data_as_a_workbook(tmp_path):
    import xlsxwriter

    book_path = tmp_path / "erp.xlsx"
    book = xlsxwriter.Workbook(str(book_path))
    sheet = book.add_worksheet("出荷")
    sheet.write_row(0, 0, HEADER)
    for number, row in enumerate(ROWS, start=1):
        for column, cell in enumerate(row):
            if HEADER[column] in ("金額", "為替レート", "行番号"):  # numbers, as Excel keeps them
                sheet.write_number(number, column, float(cell.replace(",", "")))
            else:
                sheet.write_string(number, column, cell)
    book.close()
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["batch", str(book_path), "--fx-per-usd", "-o", str(out)])
    assert result.exit_code == 0, result.output
    check(results(out))
    missing = runner.invoke(app, ["batch", str(book_path), "--sheet", "Sheet9"])
    assert missing.exit_code == 3 and "sheets: 出荷" in missing.stderr


def test_workbook_output_types_numbers(tmp_path):
    source, out = export_file(tmp_path), tmp_path / "out.xlsx"
    result = runner.invoke(app, ["batch", str(source), *OPTIONS, "-o", str(out)])
    assert result.exit_code == 0, result.output
    frame = pl.read_excel(out, sheet_name="results")
    assert frame.schema["total_duty"].is_numeric() and frame.schema["品目番号"] == pl.String
    by_id = {str(row["行番号"]): row for row in frame.iter_rows(named=True)}
    assert by_id["1"]["total_duty"] == 8250.0 and by_id["2"]["effective_rate"] == 0.15
    assert by_id["1"]["品目番号"] == "8703.23.0190"  # a code stays text
    summary = pl.read_excel(out, sheet_name="summary", has_header=False)
    labels = summary.get_column(summary.columns[0]).to_list()
    assert "total" in labels and "schedule_sha256" in labels and "tariffcalc" in labels
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_a_yen_rate_per_dollar_is_refused_with_its_inverse(tmp_path):
    source, out = export_file(tmp_path), tmp_path / "out.csv"
    result = runner.invoke(app, ["batch", str(source), "--encoding", "cp932", "--thousands",
                                 ",", "-o", str(out)])  # fmt: skip
    assert result.exit_code == 6
    error = results(out)["1"]["error"]
    assert "'150' US dollars per yen cannot be right" in error
    assert "give 0.006666667 (1/150) or say --fx-per-usd" in error
    quote = runner.invoke(app, ["quote", "--hts", "9503.00.00", "--value", "120000",
                                "--currency", "JPY", "--fx-rate", "150", "--date",
                                "2026-01-15", "--fx-per-usd", "--format", "json"])  # fmt: skip
    assert quote.exit_code == 0, quote.output
    data = json.loads(quote.stdout)
    assert data["total_duty"] == "120.00"
    assert data["stamp"]["tariffcalc"] == __version__
    assert data["stamp"]["schedule_reviewed_through"] == "2026-10-07"
    # The revisions file (revisions.json): 2026 Revision 1 applies from 2026-01-15.
    assert data["stamp"]["hts_revision"] == "2026_rev_1 (in force on 2026-01-15, from 2026-01-15)"


def test_a_rate_per_dollar_divides_exactly_to_the_cent(tmp_path):
    """Hand-checked: 4,501.5 yen at 300 yen to the dollar is 4501.5 / 300 = 15.005 USD
    exactly, which rounds half up to 15.01 (multiplying by 1/300 taken to 28 digits,
    0.00333...3, gave 15.00499...95 and 15.00). The entry's value, which the MPF of a batch's
    entry is figured on, is the same 15.01; and 4,500 yen (15.00 exactly) stays 15.00."""
    import dataclasses
    from decimal import Decimal

    from tariffcalc import Shipment, load_schedule, price_shipment
    from tariffcalc.errors import InputError
    from tariffcalc.money import in_usd

    quote = runner.invoke(app, ["quote", "--hts", "9503.00.00", "--value", "4501.5",
                                "--currency", "JPY", "--fx-rate", "300", "--fx-per-usd",
                                "--date", "2025-05-03", "--format", "json"])  # fmt: skip
    assert quote.exit_code == 0, quote.output
    data = json.loads(quote.stdout)
    assert (data["customs_value"], data["fx_per_usd"]) == ("15.01", "300")
    shown = runner.invoke(app, ["quote", "--hts", "9503.00.00", "--value", "4501.5",
                                "--currency", "JPY", "--fx-rate", "300", "--fx-per-usd",
                                "--date", "2025-05-03"])  # fmt: skip
    assert "USD 15.01 (JPY 4,501.5 at 300 JPY per USD)" in shown.stdout

    schedule = load_schedule()
    given = Shipment(hts="9503.00.00", value=Decimal("4501.5"), currency="JPY",
                     fx_per_usd=Decimal("300"))  # fmt: skip
    assert price_shipment(schedule, given, date(2025, 5, 3)).customs_value == Decimal("15.01")
    assert given.fx_rate == Decimal(1) / Decimal(300)  # its inverse, for display and checks
    copy = dataclasses.replace(given, value=Decimal("4500"))  # keeps its rate per dollar
    assert price_shipment(schedule, copy, date(2025, 5, 3)).customs_value == Decimal("15.00")
    with pytest.raises(InputError, match="not both"):
        Shipment(hts="9503.00.00", value=Decimal("1"), currency="JPY",
                 fx_rate=Decimal("0.0067"), fx_per_usd=Decimal("150"))  # fmt: skip
    assert len(in_usd(Decimal("1"), Decimal("3"), per_usd=True).as_tuple().digits) == 100

    source, out = tmp_path / "yen.csv", tmp_path / "out.csv"
    source.write_text("行番号,entry,hts,value,date,currency,fx_rate\n"
                      "1,E1,9503.00.00,4501.5,2025-05-03,JPY,300\n"
                      "2,E2,9503.00.00,4500,2025-05-03,JPY,300\n", encoding="utf-8")  # fmt: skip
    result = runner.invoke(app, ["batch", str(source), "--fx-per-usd", "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = results(out)
    # 9503.00.00 is MFN Free; the reciprocal 10% (9903.01.25) of 15.01 is 1.501 -> 1.50; the
    # MPF of FY2025 (0.3464%, at least 32.71) is 32.71 on either; landed = value + duty + MPF:
    # 15.01 + 1.50 + 32.71 = 49.22 (and 15.00 + 1.50 + 32.71 = 49.21 for 4,500 yen).
    assert rows["1"]["additional_duty"] == "1.50" and rows["1"]["mpf"] == "32.71"
    assert rows["1"]["effective_rate"] == "0.099933"  # 1.50 / 15.01
    assert rows["1"]["landed_cost"] == "49.22" and rows["2"]["landed_cost"] == "49.21"


def test_grouped_amounts_are_never_guessed(tmp_path):
    source, out = export_file(tmp_path), tmp_path / "out.csv"
    result = runner.invoke(app, ["batch", str(source), "--encoding", "cp932",
                                 "--fx-per-usd", "-o", str(out)])  # fmt: skip
    assert result.exit_code == 6
    assert "if ',' separates thousands, say --thousands ," in results(out)["1"]["error"]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_the_separator_is_found(tmp_path, delimiter):
    source, out = export_file(tmp_path, delimiter=delimiter), tmp_path / "out.csv"
    result = runner.invoke(app, ["batch", str(source), *OPTIONS, "-o", str(out)])
    assert result.exit_code == 0, result.output
    check(results(out))


def test_an_undecodable_file_names_its_encoding(tmp_path):
    result = runner.invoke(app, ["batch", str(export_file(tmp_path))])
    assert result.exit_code == 3
    assert "it looks like cp932: use --encoding cp932" in result.stderr


def test_headers_and_column_names(tmp_path):
    source = tmp_path / "x.csv"
    source.write_text("ＨＳコード,Amount USD\n9503.00.00,100\n", encoding="utf-8")
    missing = runner.invoke(app, ["batch", str(source)])
    assert missing.exit_code == 3 and "missing column value" in missing.stderr
    mapped = runner.invoke(app, ["batch", str(source), "--column", "value=amount usd",
                                 "--date", "2025-06-02"])  # fmt: skip
    assert mapped.exit_code == 0, mapped.output  # full-width ＨＳコード is hts; case ignored
    near = tmp_path / "near.csv"
    near.write_text("HTS Cod,value\n9503.00.00,100\n", encoding="utf-8")
    result = runner.invoke(app, ["batch", str(near)])
    assert result.exit_code == 3 and "did you mean 'HTS Cod'?" in result.stderr


def test_transport_words_and_ace_codes(tmp_path):
    source = tmp_path / "modes.csv"
    source.write_text(
        "id,hts,value,date,mode\n1,9503.00.00,10000,2026-01-15,11\n"
        "2,9503.00.00,10000,2026-01-15,40\n3,9503.00.00,10000,2026-01-15,船便\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["batch", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as handle:
        hmf = [row["hmf"] for row in csv.DictReader(handle)]
    assert hmf == ["12.50", "0.00", "12.50"]  # 0.125% x 10,000 on ocean cargo (11, 船便)


def test_output_mode_follows_the_umask_and_the_replaced_file(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("hts,value,date\n9503.00.00,100,2026-01-15\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    old = os.umask(0o022)
    try:
        assert runner.invoke(app, ["batch", str(source), "-o", str(out)]).exit_code == 0
        assert stat.S_IMODE(out.stat().st_mode) == 0o644
        out.chmod(0o664)
        assert runner.invoke(app, ["batch", str(source), "-o", str(out)]).exit_code == 0
        assert stat.S_IMODE(out.stat().st_mode) == 0o664
    finally:
        os.umask(old)
    link = tmp_path / "link.csv"
    link.symlink_to(out)
    assert runner.invoke(app, ["batch", str(source), "-o", str(link)]).exit_code == 0
    assert link.is_symlink() and "total_duty" in out.read_text()


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"tariffcalc {__version__}"


def test_a_missing_excel_extra_is_named(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "fastexcel", None)  # as if not installed
    book = tmp_path / "x.xlsx"
    book.write_bytes(b"PK")
    result = runner.invoke(app, ["batch", str(book)])
    assert result.exit_code == 3
    assert "needs the excel extra: pip install 'tariffcalc[excel]'" in result.stderr
    # And a damaged workbook (the extra installed) is one line naming it.
    monkeypatch.delitem(sys.modules, "fastexcel")
    damaged = runner.invoke(app, ["batch", str(book)])
    assert damaged.exit_code == 3 and "x.xlsx: cannot be read as a workbook" in damaged.stderr
