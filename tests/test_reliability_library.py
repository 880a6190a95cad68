"""Reliability round 2 (issue 15): the library takes what the command line takes and refuses the
rest with a TariffError; chapter 98/99 numbers are not goods; dates outside the schedule's law
are said to be; money is exact at the limits of its digits."""

from __future__ import annotations

import gzip
import json
import re
import tomllib
from datetime import date, datetime
from decimal import Decimal as D
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from typer.testing import CliRunner

from tariffcalc import InputError, Shipment, TariffError, hts_export, htsdata, price_shipment
from tariffcalc.cli import ExitCode, app
from tariffcalc.fees import EntryShares
from tariffcalc.money import round_cent, times
from tariffcalc.timeline import timeline_span

runner = CliRunner()
REPO = Path(__file__).resolve().parents[1]
IN_FORCE = date(2025, 6, 1)


# --------------------------------------------------------------------------------------------
# 1. The library takes what the command line takes


def test_a_dotted_hts_number_is_the_same_goods_as_its_digits(schedule):
    # 8708.30.50 (brakes) on 2025-06-01: MFN 2.5% + autos parts 25% of 10,000 = 250 + 2,500.
    # Dotted, it used to be read as "8708..3.0..50" and priced as general goods at 1,250.
    dotted = price_shipment(schedule, Shipment(D(10000), hts="8708.30.50"), IN_FORCE)
    digits = price_shipment(schedule, Shipment(D(10000), hts="87083050"), IN_FORCE)
    assert (dotted.hts, dotted.category, dotted.total_duty) == ("8708.30.50", "auto-parts",
                                                                D("2750.00"))
    assert dotted == digits
    assert Shipment(D(1), hts="8708.30.50").hts == "87083050"
    with pytest.raises(InputError, match="^hts: .*8- or 10-digit"):
        Shipment(D(1), hts="8708.3")
    with pytest.raises(InputError, match="^hts: expected text"):
        Shipment(D(1), hts=87083050)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [10000, "10000", "10000.00", "１００００", D("1E+4")])
def test_a_value_as_int_or_text_is_the_decimal(schedule, value):
    shipment = Shipment(value, hts="87083050")  # type: ignore[arg-type]
    assert type(shipment.value) is D and shipment.value == 10000
    assert price_shipment(schedule, shipment, IN_FORCE).total_duty == D("2750.00")


# Every Decimal field, each way a library caller can get it wrong. Each must be an InputError
# whose message starts with the field's name, never an AttributeError or TypeError.
_FIELDS = {
    "value": dict(),
    "fx_rate": dict(currency="JPY", value=D(1000000)),
    "mfn_rate": dict(),
    "metal_content": dict(),
    "steel_content": dict(),
    "aluminum_content": dict(),
    "copper_content": dict(),
    "us_content": dict(),
    "quantity": dict(),
}
_BAD = {
    "float": (0.5, "float"),
    "text": ("abc", "expected"),
    "signed text": ("-1", "expected"),
    "negative": (D("-1"), "negative|fraction from 0 to 1"),
    "nan": (D("NaN"), "finite"),
    "infinity": (D("Infinity"), "finite"),
    "16 digits": (D("1E+20"), "15 digits|fraction from 0 to 1"),
    "50 decimals": (D("1E-50"), "decimals"),
    # Over Python's int-to-str limit: even repr() of it raises ValueError.
    "5,000-digit int": (10**5000, "15 digits"),
    "bool": (True, "expected"),
    "list": ([1], "expected"),
}


@pytest.mark.parametrize("field", sorted(_FIELDS))
@pytest.mark.parametrize("bad, words", _BAD.values(), ids=_BAD)
def test_every_decimal_field_refuses_what_is_not_a_number(field, bad, words):
    given = {"value": D(1000000), "hts": "87083050", **_FIELDS[field], field: bad}
    with pytest.raises(InputError) as raised:
        Shipment(**given)
    message = str(raised.value)
    assert message.startswith(f"{field}: ") and re.search(words, message), message
    assert "\n" not in message and len(message) < 300


@pytest.mark.parametrize("field", sorted(_FIELDS))
def test_every_decimal_field_takes_text_and_int(field):
    given = {"value": D(1000000), "hts": "87083050", **_FIELDS[field]}
    as_text = Shipment(**{**given, field: "1"})
    as_int = Shipment(**{**given, field: 1})
    as_decimal = Shipment(**{**given, field: D(1)})
    assert as_text == as_int == as_decimal
    assert type(getattr(as_text, field)) is D


def test_a_float_is_refused_with_the_reason():
    with pytest.raises(InputError, match=r"^value: got the float 0\.1; a float is not exact "
                                         r"money .*give a Decimal or text"):
        Shipment(0.1, hts="87083050")  # type: ignore[arg-type]


def test_rates_read_as_the_command_line_reads_them():
    assert Shipment(D(1), hts="87083050", mfn_rate="2.5%").mfn_rate == D("0.025")
    assert Shipment(D(1), hts="87083050", mfn_rate="Free").mfn_rate == 0
    assert Shipment(D(1), hts="87083050", mfn_rate=D("0.025")).mfn_rate == D("0.025")
    with pytest.raises(InputError, match="^mfn_rate: a rate must be a fraction from 0 to 1"):
        Shipment(D(1), hts="87083050", mfn_rate=D("2.5"))  # 250%, not 2.5%
    with pytest.raises(InputError, match="^mfn_rate: .*at most 100%"):
        Shipment(D(1), hts="87083050", mfn_rate="250%")


def test_the_other_fields_are_checked_too():
    shipment = Shipment("1000", hts="87083050", currency="jpy", fx_rate="0.0067", mode=" Ocean ",
                        loaded_on="2025-04-01")  # fmt: skip
    assert (shipment.currency, shipment.mode, shipment.loaded_on) == ("JPY", "ocean",
                                                                      date(2025, 4, 1))
    assert Shipment(D(1), category=" Autos ").category == "autos"
    for given, words in [
        (dict(loaded_on="2025-13-01"), "^loaded_on: expected a date"),
        (dict(loaded_on=datetime(2025, 4, 1)), "^loaded_on: expected a date"),
        (dict(not_auto_part="no"), "^not_auto_part: expected True, False or None"),
        (dict(generic_pharma=1), "^generic_pharma: expected True, False or None"),
        (dict(civil_aircraft=None), "^civil_aircraft: expected True or False"),
        (dict(currency="yen!", fx_rate=D(1)), "^currency: expected a 3-letter"),
        (dict(currency=None), "^currency: expected a 3-letter"),
        (dict(mode="sea freight"), "^mode: expected one of"),
    ]:
        with pytest.raises(InputError, match=words):
            Shipment(D(1000), hts="87083050", **given)


def test_the_entry_date_is_a_date_or_iso_text(schedule):
    shipment = Shipment(D(10000), hts="87083050")
    assert price_shipment(schedule, shipment, "2025-06-01") == price_shipment(
        schedule, shipment, IN_FORCE)
    for bad in ["2025-13-01", "01/06/2025", datetime(2025, 6, 1), 20250601, None]:
        with pytest.raises(InputError, match="^entry date: expected a date"):
            price_shipment(schedule, shipment, bad)  # type: ignore[arg-type]


# The README's example of this (dotted or plain numbers, Decimal/int/text amounts, text dates,
# a float refused) runs in tests/test_cli.py::test_readme_library_snippet_runs_without_the_cli.


# --------------------------------------------------------------------------------------------
# 2. A chapter 98 or 99 number is not the goods' classification


@pytest.mark.parametrize("hts, words", [
    ("9903.01.25", "9903.01.25 is a chapter 99 heading (an additional duty), not the goods' "
                   "classification; give the goods' HTS number"),
    ("9903.94.01", "chapter 99 heading"),
    ("9802.00.80", "9802.00.80 is a chapter 98 provision"),
    ("9801.00.10", "chapter 98 provision"),
])  # fmt: skip
def test_a_chapter_98_or_99_number_is_refused(schedule, hts, words):
    with pytest.raises(InputError) as raised:
        price_shipment(schedule, Shipment(D(1000), hts=hts), IN_FORCE)
    assert str(raised.value) == f"hts: {words}" or words in str(raised.value)
    result = runner.invoke(app, ["quote", "--hts", hts, "--value", "1000", "--date", "2025-06-01"])
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    assert words in result.stderr and not result.stdout


def test_hts_show_still_describes_a_chapter_99_heading():
    result = runner.invoke(app, ["hts", "show", "9903.01.25", "--date", "2025-06-01",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    assert "applicable subheading + 10%" in json.loads(result.stdout)["general"]


# --------------------------------------------------------------------------------------------
# 3. Dates before the schedule's law (the library's part; the timeline below)


def test_a_date_before_the_schedule_says_its_law_is_not_modelled(schedule):
    # A steel article of 2019 paid the Section 232 duty of 2018, which the schedule does not
    # model (its law starts 2025-03-12): the MFN duty alone is shown, and said to be so.
    quote = price_shipment(schedule, Shipment(D(10000), hts="73269086"), date(2019, 6, 1))
    assert [line.measure for line in quote.lines] == ["mfn"]
    assert any(w.startswith("entry date 2019-06-01 is before 2025-03-12, the first date of "
                            "this schedule's law: measures in force before then are not "
                            "modelled") for w in quote.warnings), quote.warnings
    within = price_shipment(schedule, Shipment(D(10000), hts="73269086"), date(2025, 3, 12))
    assert not any("is before" in w for w in within.warnings)


def test_timeline_starts_at_the_schedule_law_with_a_warning():
    # 7326.90.86 (a steel article) from 2018: the schedule's law starts 2025-03-12 (the steel
    # derivatives of the 2025 proclamation); before it the timeline printed "mfn 2.9%" as the
    # duty of 2018-2025, when Section 232 applied. Now it starts on 2025-03-12 and says why.
    result = runner.invoke(app, ["timeline", "--hts", "7326.90.86", "--from", "2018-01-01",
                                 "--to", "2025-04-01", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["from"], r["to"]) for r in rows] == [("2025-03-12", "2025-04-01")]
    # 10,000 x (2.9% MFN + 25% Section 232) = 290 + 2,500.
    assert rows[0]["total_duty"] == "2790.00"
    assert ("warning: --from 2018-01-01 is before 2025-03-12, the first date of the schedule's "
            "law: measures in force before then are not modelled, so the timeline starts on "
            "2025-03-12") in result.stderr
    default = runner.invoke(app, ["timeline", "--hts", "7326.90.86", "--format", "json"])
    assert json.loads(default.stdout)[0]["from"] == "2025-03-12" and not default.stderr
    before = runner.invoke(app, ["timeline", "--hts", "7326.90.86", "--from", "2018-01-01",
                                 "--to", "2019-01-01"])
    assert before.exit_code == ExitCode.BAD_INPUT and not before.stdout
    assert "--to: 2019-01-01 is before 2025-03-12" in before.stderr


def test_timeline_after_the_reviewed_date_says_so(schedule):
    span = timeline_span(schedule, "2025-04-01", date(2027, 1, 1))
    assert (span.start, span.end) == (date(2025, 4, 1), date(2027, 1, 1))
    assert span.warnings == (f"end 2027-01-01 is after {schedule.reviewed_through}, the last "
                             "date the schedule has been reviewed for: rates in force after "
                             "that date are not known to it",)


def test_timeline_refuses_a_chapter_99_heading_once():
    result = runner.invoke(app, ["timeline", "--hts", "9903.01.25"])
    assert result.exit_code == ExitCode.BAD_INPUT and "chapter 99 heading" in result.stderr


def test_timeline_reaches_the_ends_of_the_calendar(tmp_path):
    # A rule from 0001-01-01 to 9999-12-31 (the smallest and largest dates): the day after its
    # end overflowed the date type, as did the day before the first rule.
    text = (REPO / "tests" / "valid_minimal.yaml").read_text(encoding="utf-8")
    text = text.replace("reviewed_through: 2025-06-03", "reviewed_through: 9999-12-31")
    text = text.replace("{from: 2025-04-05, to: 2025-04-08, rate: 10%}",
                        "{from: 0001-01-01, to: 2025-04-08, rate: 10%}")
    text = text.replace("{from: 2025-04-03, rate: 25%}",
                        "{from: 2025-04-03, to: 9999-12-31, rate: 25%}")
    path = tmp_path / "ends.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["timeline", "--hts", "8703.23.01", "--schedule", str(path),
                                 "--format", "csv"])
    assert result.exit_code == 0, result.output
    # 10,000 x (2.5% MFN + 10% reciprocal), then x (2.5% + 25% autos, displacing reciprocal).
    assert [line.split(",")[:4] for line in result.stdout.splitlines()[1:]] == [
        ["0001-01-01", "2025-04-02", "0.125", "1250.00"],
        ["2025-04-03", "9999-12-31", "0.275", "2750.00"],
    ]
    table = runner.invoke(app, ["timeline", "--hts", "8703.23.01", "--schedule", str(path)])
    assert table.exit_code == 0 and "9999-12-31" in table.stdout, table.output


# --------------------------------------------------------------------------------------------
# 4. Exact money at the limits of its digits


def test_a_duty_at_the_digit_limits_is_rounded_once(schedule):
    # 999,999,999,999,999.99 x 0.500000000005 = 500,000,000,004,999.99499999999995 exactly:
    # 4,999.99 to the cent, half up. Python's 28 digits rounded the product first to
    # ...4,999.9950000000000 and the cent up to 5,000.00.
    shipment = Shipment(D("999999999999999.99"), hts="87032301", mfn_rate="50.0000000005%")
    quote = price_shipment(schedule, shipment, date(2025, 3, 1))
    assert quote.base_duty == D("500000000004999.99")
    result = runner.invoke(app, ["quote", "--hts", "8703.23.01", "--value", "999999999999999.99",
                                 "--mfn-rate", "50.0000000005%", "--date", "2025-03-01",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["base_duty"] == "500000000004999.99"


def test_an_entry_fee_share_is_exact():
    # A fee of 793,764,298,776,264.37 shared by two lines of equal value: half of it is
    # 396,882,149,388,132.185, .19 half up. total x value has 34 digits: rounded to 28 before
    # the division, the share came out .18.
    value = D("276332364733555.72")
    shares = EntryShares(D("793764298776264.37"), value * 2, 2)
    assert shares.share(value) == D("396882149388132.19")
    assert shares.share(value) == D("396882149388132.18")  # the remainder: they add up


def test_round_cent_of_a_long_amount_does_not_fail():
    # 10^20 to the cent needs 23 digits; x a rate of 12 decimals, 35: more than 28.
    assert round_cent(times(D("100000000000000000000"), D("0.123456789012"))) == D(
        "12345678901200000000.00")


def test_a_customs_value_over_15_digits_is_refused(schedule):
    shipment = Shipment(D("999999999999999"), hts="87032301", currency="EUR",
                        fx_rate=D("999999999999999"))
    with pytest.raises(InputError, match="^value: the customs value .* expected at most 15 "
                                         "digits before the point"):
        price_shipment(schedule, shipment, IN_FORCE)


def test_errors_are_tariff_errors():
    # The one hierarchy: a caller catching TariffError catches all of the above.
    with pytest.raises(TariffError):
        Shipment(10**5000, hts="87083050")


# --------------------------------------------------------------------------------------------
# 5. `hts import`: an export that cannot be used is refused in one line, before anything is
#    written; what was written is read without being checked again


def _rows(*rows: tuple[str, str]) -> str:
    return json.dumps([{"htsno": code, "indent": "2", "description": "d", "units": ["No."],
                        "general": general, "footnotes": []} for code, general in rows])


_DEEP = "[" * 100_000 + "]" * 100_000
_BAD_EXPORTS = {
    "nested array": ("deep.json", _DEEP, "nested too deeply to be a USITC HTS export"),
    "nested field": ("deep.json",
                     '[{"htsno": "8703.23.01", "units": ' + "[" * 5000 + "]" * 5000 + "}]",
                     "nested too deeply"),
    "list for text": ("x.json", '[{"htsno": "8703.23.01", "general": ["2.5%"]}]',
                      "object 1 of the export: general is a list, expected text"),
    "units nested": ("x.json", '[{"htsno": "8703.23.01", "units": [[["kg"]]]}]',
                     "units is not a list of texts"),
    "5,000-digit indent": ("x.json", json.dumps([{"htsno": "8703.23.01", "indent": "1" * 5000}]),
                           "indent is '1111"),
    "key twice": ("x.json", '[{"htsno": "8703.23.01", "general": "2.5%", "general": "7%"}]',
                  "an object gives 'general' twice, as '2.5%' and '7%'"),
    "row twice": ("x.json", _rows(("8703.23.01", "2.5%"), ("8703.23.01", "7%")),
                  "8703.23.01 appears twice: general '2.5%' and '7%'"),
    "two rates": ("x.json", _rows(("8703.23.01", "2.5%"), ("8703.23.01.00", "9%")),
                  "8703.23.01 has two column 1 rates, '2.5%' (8703.23.01) and '9%' "
                  "(8703.23.01.00)"),
    "column twice": ("x.csv", "HTS Number,General Rate of Duty,General Rate of Duty\n"
                              "8703.23.01,2.5%,7%\n",
                     "the column 'general rate of duty' appears twice"),
}  # fmt: skip


@pytest.mark.parametrize("file_name, content, words", _BAD_EXPORTS.values(), ids=_BAD_EXPORTS)
def test_an_unusable_export_is_refused_before_anything_is_written(tmp_path, file_name, content,
                                                                   words):
    source = tmp_path / file_name
    source.write_text(content, encoding="utf-8")
    folder = tmp_path / "hts-data"
    result = runner.invoke(app, ["hts", "import", str(source), "--effective", "2026-10-01",
                                 "--data", str(folder)])
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    assert words in result.stderr and "internal error" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not folder.exists()


def test_the_same_row_twice_is_kept_once():
    check = hts_export.check_export(json.loads(_rows(("8703.23.01", "2.5%"), ("8703.23.01", "2.5%"),
                                                  ("8703.24.01", "2.5%"))), "r")
    assert [code for code, _ in check.rows] == ["87032301", "87032401"]
    assert check.tariff_lines == 2
    assert check.warnings == ["r: 8703.23.01 appears twice (the same row); kept once"]


def _small_folder(tmp_path: Path, general: str) -> Path:
    export = tmp_path / f"hts_{general.rstrip('%')}.json"
    export.write_text(_rows(("8703.23.01", general)), encoding="utf-8")
    folder = tmp_path / "hts-data"
    hts_export.write_folder(folder, [hts_export.ExportFile(export, f"rev_{general.rstrip('%')}",
                                                     date(2026, 10, 1))], append=True)
    return folder


def test_a_damaged_data_folder_fails_every_command_in_one_line(tmp_path):
    folder = _small_folder(tmp_path, "3%")
    (folder / "revisions.json").write_text(_DEEP, encoding="utf-8")
    result = runner.invoke(app, ["quote", "--hts", "8703.23.01", "--value", "100", "--date",
                                 "2025-06-01"], env={htsdata.HTS_DATA_ENV: str(folder)})
    assert result.exit_code == ExitCode.BAD_SCHEDULE, result.output
    assert result.stderr.strip() == (f"tariffcalc: error: {folder / 'revisions.json'}: cannot "
                                     "use this HTS data (nested too deeply)")


def test_an_import_after_an_interrupted_one_reads_its_own_rows(tmp_path, monkeypatch):
    # An import stopped after writing the chapter files but before the manifest leaves runs of
    # a revision the manifest does not list (here: 8703.23.01 at 9% as revision 1); the next
    # import (revision 1 again, at 4%) must not read them back.
    folder = _small_folder(tmp_path, "3%")
    chapter = folder / "ch87.json.gz"
    data = json.loads(gzip.decompress(chapter.read_bytes()))
    run = data["lines"]["87032301"][0]
    data["lines"]["87032301"].append([1, 1, *run[2:4], "9%", *run[5:]])
    chapter.write_bytes(gzip.compress(json.dumps(data).encode()))
    _small_folder(tmp_path, "4%")
    monkeypatch.setenv(htsdata.HTS_DATA_ENV, str(folder))
    line = htsdata.line("87032301", date(2026, 10, 2))
    assert (line.revision, line.general) == ("rev_4", "4%")


def test_a_quote_does_not_check_an_imported_revision_again(tmp_path, monkeypatch):
    # Issue 15 measured a quote at 1.4-4.9 s once a revision was imported (0.35 s without):
    # the import checks the rows once; a quote reads the manifest and its goods' chapter only.
    folder = _small_folder(tmp_path, "3%")
    read: list[tuple[str, str]] = []
    chapter = htsdata._chapter
    monkeypatch.setattr(htsdata, "_chapter",
                        lambda where, number: read.append((where, number)) or chapter(where,
                                                                                      number))
    monkeypatch.setattr(hts_export, "check_export", None)  # calling it would fail
    monkeypatch.setattr(hts_export, "read_export", None)
    result = runner.invoke(app, ["quote", "--hts", "8703.23.01", "--value", "10000", "--date",
                                 "2026-10-02", "--format", "json"],
                           env={htsdata.HTS_DATA_ENV: str(folder)})
    assert result.exit_code == 0, result.output
    # 10,000 x 3%, the imported rate.
    assert json.loads(result.stdout)["base_duty"] == "300.00"
    assert {number for where, number in read if where == folder.resolve()} == {"87"}


# --------------------------------------------------------------------------------------------
# 6. typer is pinned to the versions whose internals cli/_values.py patches


def _typer_pin() -> SpecifierSet:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    [pin] = [Requirement(r) for r in project["dependencies"] if Requirement(r).name == "typer"]
    return pin.specifier


def test_typer_is_a_version_the_option_patch_was_written_for():
    from tariffcalc.cli._values import TYPER_VERSIONS, hand_over_values_as_given

    pin = _typer_pin()
    installed = metadata.version("typer")
    (major, minor), (next_major, next_minor) = TYPER_VERSIONS
    # The pin is the range the patch was written for, and the installed typer is in it: with a
    # newer typer this fails, to have cli/_values.py checked against it before the pin moves.
    assert str(pin) == f"<{next_major}.{next_minor},>={major}.{minor}", pin
    assert installed in pin, f"typer {installed} is not {pin}: check cli/_values.py"
    assert hand_over_values_as_given()


def test_the_option_patch_leaves_another_typer_alone(monkeypatch):
    import typer

    from tariffcalc.cli._values import hand_over_values_as_given

    for version in ("0.30.0", "0.28.3", "1.0.0", "unknown"):
        monkeypatch.setattr(typer, "__version__", version)
        assert hand_over_values_as_given() is False, version


def test_a_yen_rate_above_one_is_refused_by_the_library():
    # 150 yen to the dollar given as US dollars per yen would make ¥4.5M a $675M car.
    from tariffcalc import InputError, Shipment

    with pytest.raises(InputError, match=r"give 0\.006666667"):
        Shipment("4500000", hts="8703.23.01", currency="JPY", fx_rate="150")
    assert Shipment("4500000", hts="8703.23.01", currency="JPY", fx_rate="0.0066667").fx_rate


def test_a_huge_integer_in_a_message_is_not_repr_ed():
    from tariffcalc.errors import quoted

    assert quoted(10**5000) == "an integer of about 5,000 digits"


def test_hts_show_of_a_chapter_99_heading_shows_the_line_only():
    from typer.testing import CliRunner

    from tariffcalc.cli import app

    result = CliRunner().invoke(app, ["hts", "show", "9903.01.25", "--date", "2025-06-01",
                                      "--format", "json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["general"] == "The duty provided in the applicable subheading + 10%"
    assert shown["measures"] == [] and shown["category"] is None
    assert "not a classification of goods" in shown["warnings"][0]
