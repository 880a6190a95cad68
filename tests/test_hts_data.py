"""The packaged HTS data (tariffcalc.htsdata) against the official USITC exports it was built from.

Tests marked ``needs_exports`` read the exports in ../shared/reference/hts (or
$TARIFFCALC_HTS_EXPORTS) and skip where they are absent; the others use the packaged data alone.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import re
import time
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from tariffcalc import hts_export, htsdata
from tariffcalc.htsdata import (
    Footnote,
    HTSLine,
    SpecificPart,
    footnote_lines,
    line,
    nearest,
    parse_rate,
    revision_on,
    revisions,
    tariff_lines,
)

REPO = Path(__file__).resolve().parents[1]
EXPORTS = Path(
    os.environ.get("TARIFFCALC_HTS_EXPORTS") or REPO.parent / "shared" / "reference" / "hts"
)
needs_exports = pytest.mark.skipif(
    not (EXPORTS / "revisions.csv").is_file(),
    reason=f"the official USITC HTS exports are not at {EXPORTS} "
    "(set TARIFFCALC_HTS_EXPORTS to their folder to run these checks)",
)

IN_2025 = date(2025, 12, 10)  # 2025 Revision 32
IN_2026 = date(2026, 6, 10)  # 2026 Revision 10
LINES_OUTSIDE_98_99 = 11414  # the README's count, true in every revision but 2025 Basic


@pytest.fixture(autouse=True)
def packaged_data_only(monkeypatch):
    """No user folder: $TARIFFCALC_HTS_DATA unset and no folder added by load_extra."""
    monkeypatch.delenv(htsdata.HTS_DATA_ENV, raising=False)
    monkeypatch.setattr(htsdata, "_extra_folders", [])


# --------------------------------------------------------------------------------------------
# Revisions


def test_revisions_are_the_42_shipped_in_order():
    found = revisions()
    assert len(found) == 42
    assert [r.position for r in found] == list(range(42))
    assert found[0].name == "2025_basic" and found[-1].name == "2026_rev_10"
    assert {"2026_rev_5", "2026_rev_9"}.isdisjoint(r.name for r in found)  # not shipped
    assert all(len(r.sha256) == 64 and r.source_file.endswith(".json.gz") for r in found)


def test_revision_on_takes_the_last_one_in_force():
    assert revision_on(date(2024, 6, 1)).name == "2025_basic"  # before the data: the first
    assert revision_on(date(2025, 4, 4)).name == "2025_rev_6"
    assert revision_on(date(2025, 4, 5)).name == "2025_rev_7"  # its effective day
    assert revision_on(date(2025, 12, 31)).name == "2025_rev_32"
    assert revision_on(date(2026, 1, 1)).name == "2026_basic"
    assert revision_on(date(2030, 1, 1)).name == "2026_rev_10"


def test_a_revision_with_retroactive_effect_supersedes_the_one_before():
    """2026 Rev 7 (published 04-29, effective 04-06) corrects Rev 6 (effective 04-23): from
    04-06 on, Rev 7 applies, so Rev 6 answers no day at all."""
    assert revision_on(date(2026, 4, 5)).name == "2026_rev_4"
    assert revision_on(date(2026, 4, 6)).name == "2026_rev_7"
    assert revision_on(date(2026, 4, 25)).name == "2026_rev_7"
    assert revision_on(date(2026, 5, 22)).name == "2026_rev_8"


def test_a_revision_can_be_asked_for_by_name():
    rev_6 = next(r for r in revisions() if r.name == "2026_rev_6")
    found = line("8703.23.01", rev_6)
    assert found is not None and found.revision == "2026_rev_6"


# --------------------------------------------------------------------------------------------
# Lines


SPOT_CHECKS = {  # the README's, checked by USITC's own exports
    "8703.23.01": "2.5%",
    "8704.21.01": "25%",
    "8708.99.81": "2.5%",
    "8471.30.01": "Free",
    "8481.80.10": "4%",
    "7208.51.00": "Free",
    "7604.29.10": "5%",
    "8711.50.00": "2.4%",
    "4013.10.00": "3.7%",
}


@pytest.mark.parametrize("day", [date(2025, 5, 3), IN_2025, date(2026, 1, 2), IN_2026])
@pytest.mark.parametrize("code, general", SPOT_CHECKS.items())
def test_spot_checks(code, general, day):
    found = line(code, day)
    assert found is not None
    assert found.general == general
    assert found.rate_understood
    expected = Decimal(0) if general == "Free" else Decimal(general.rstrip("%")) / 100
    assert found.ad_valorem == expected and found.specific == ()


def test_a_line_without_statistical_suffixes_takes_its_rate_from_the_00_row():
    found = line("87042101", IN_2026)
    assert found is not None
    assert (found.rate_code, found.general, found.units) == ("8704210100", "25%", ("No.",))
    assert found.description.endswith("G.V.W. not exceeding 5 metric tons")


def test_full_description_joins_the_ancestors():
    found = line("8703.23.01", IN_2026)
    assert found is not None
    assert found.description == (
        "Motor cars and other motor vehicles principally designed for the transport of persons "
        "(other than those of heading 8702), including station wagons and racing cars: "
        "Other vehicles, with only spark-ignition internal combustion piston engines: "
        "Of a cylinder capacity exceeding 1,500 cc but not exceeding 3,000 cc"
    )
    assert Footnote(("general",), "See 9903.88.01.") in found.footnotes


def test_specific_rate_of_wine():
    found = line("2204.21.50", IN_2026)
    assert found is not None
    assert found.general == "6.3¢/liter"
    assert found.ad_valorem == 0
    assert found.specific == (SpecificPart(Decimal("0.063"), "liter"),)


def test_headings_and_chapter_99():
    heading = line("8703", IN_2026)
    assert heading is not None and heading.indent == 0 and heading.general == ""
    assert not heading.rate_understood and heading.ad_valorem is None
    japan = line("9903.02.73", IN_2025)  # the Japan deal heading (Rev 23)
    assert japan is not None and japan.general == "15%" and japan.ad_valorem == Decimal("0.15")
    reciprocal = line("9903.01.25", IN_2025)
    assert reciprocal is not None
    assert reciprocal.general == "The duty provided in the applicable subheading + 10%"
    assert not reciprocal.rate_understood and reciprocal.ad_valorem is None


@pytest.mark.parametrize("day", [IN_2025, IN_2026])
def test_count_of_tariff_lines(day):
    lines = tariff_lines(day)
    outside = [c for c in lines if c[:2] not in htsdata.SPECIAL_CHAPTERS]
    assert len(outside) == LINES_OUTSIDE_98_99
    assert len(set(lines)) == len(lines) and all(len(c) == 8 for c in lines)


def test_2025_basic_lacks_one_line_added_by_rev_1():
    """4420.19.00 (wood: other) appears in 2025 Revision 1: the README's 11,414 lines hold from
    then on."""
    outside = [c for c in tariff_lines(date(2025, 1, 15)) if c[:2] not in ("98", "99")]
    assert len(outside) == LINES_OUTSIDE_98_99 - 1
    assert line("44201900", date(2025, 1, 15)) is None
    assert line("44201900", date(2025, 2, 4)).general == "3.2%"


@pytest.mark.parametrize("code", ["9999.99.99", "8703.23.99", "0100.00.00", "7700.10.10"])
@pytest.mark.parametrize("day", [IN_2025, IN_2026])
def test_unknown_code_is_none_and_nearest_names_real_lines(code, day):
    assert line(code, day) is None
    suggestions = nearest(code, day)
    assert len(suggestions) == 3
    assert all(re.fullmatch(r"\d{4}\.\d{2}\.\d{2}", s) for s in suggestions)
    assert all(line(s, day) is not None for s in suggestions)


def test_nearest_prefers_the_same_subheading_then_heading():
    assert nearest("8703.23.99", IN_2026) == ["8703.23.01", "8703.24.01", "8703.22.01"]
    assert nearest("8703.23.99", IN_2026, n=1) == ["8703.23.01"]
    assert all(s.startswith("8708.99.") for s in nearest("8708.99.99", IN_2026))


def test_statistical_suffixes():
    assert line("8703.23.01.90", IN_2026).description.endswith(": Used")
    assert line("8703.23.01.90", IN_2026).general == "2.5%"  # its 8-digit line's rate
    assert line("8703.23.01.90", IN_2026).rate_code == "87032301"
    assert line("8703.23.01.55", IN_2026) is None  # made up
    assert line("8703.23.01.00", IN_2026) is None  # the line has suffixes: .00 is not one
    assert line("8704.21.01.00", IN_2026) is not None
    assert line("9903.01.25.00", IN_2025) is not None  # no suffixes at all
    assert nearest("8703.23.01.55", IN_2026) == ["8703.23.01.60", "8703.23.01.40", "8703.23.01.70"]


def test_a_sole_statistical_row_other_than_00_carries_the_rate():
    """0305.59.00 has no 8-digit row and one 10-digit row, numbered .01, which carries Free."""
    found = line("03055900", IN_2026)
    assert found is not None and found.general == "Free" and found.rate_code == "0305590001"
    assert line("0305.59.00.01", IN_2026).general == "Free"
    assert line("0305.59.00.00", IN_2026) is None


def test_statistical_renumbering_of_2026_rev_2_resolves_by_date():
    """2026 Revision 2 split 0709.51.01.00 (mushrooms) into .10 (certified organic) and .50."""
    before, after = date(2026, 1, 20), date(2026, 2, 15)
    assert line("0709.51.01.00", before) is not None
    assert line("0709.51.01.00", after) is None
    for successor in ("0709.51.01.10", "0709.51.01.50"):
        assert line(successor, before) is None
        assert line(successor, after).general == "8.8¢/kg + 20%"
    assert nearest("0709.51.01.00", after) == ["0709.51.01.10", "0709.51.01.50"]
    assert line("07095101", before).rate_code == "0709510100"
    assert line("07095101", after).rate_code == "07095101"


def test_2026_basic_renumbered_no_tariff_line_outside_chapter_99():
    """The README says the 2026 Basic edition renumbered lines; the exports show it dropped 451
    chapter 99 numbers (subchapters XII and XIII, FTA quotas) and kept every other 8-digit line
    and every statistical suffix."""
    last_2025, basic_2026 = date(2025, 12, 31), date(2026, 1, 1)
    assert tariff_lines(last_2025, ["87", "29", "61"]) == tariff_lines(
        basic_2026, ["87", "29", "61"]
    )
    dropped = line("9912.02.05", last_2025)
    assert dropped is not None and dropped.description.startswith("Goods of Morocco")
    assert line("9912.02.05", basic_2026) is None


def test_2025_rev_16_merged_a_line_into_its_01_row():
    assert line("70133710", date(2025, 6, 30)).rate_code == "70133710"
    assert line("70133710", date(2025, 7, 1)).rate_code == "7013371001"
    assert line("70133710", date(2025, 7, 1)).general == "28.5%"


def test_footnote_lines():
    found = footnote_lines("9903.88.15", IN_2026, column="general")
    assert "0101.21.00" in found and "8703.23.01" not in found
    assert "8703.23.01" in footnote_lines("see  9903.88.01", IN_2026)  # case, whitespace
    assert footnote_lines("no footnote says this", IN_2026) == []


def test_bad_code_is_a_value_error():
    for bad in ("87032", "8703230", "abcd1234", "870323011"):
        with pytest.raises(ValueError):
            line(bad, IN_2026)


# --------------------------------------------------------------------------------------------
# Rates


@pytest.mark.parametrize(
    "text, ad_valorem, specific",
    [
        ("Free", "0", ()),
        ("2.5%", "0.025", ()),
        ("350%", "3.5", ()),
        ("4.4¢/kg", "0", (("0.044", "kg"),)),
        ("$1.50/doz.", "0", (("1.50", "doz"),)),
        ("0.9¢ each", "0", (("0.009", "each"),)),
        ("2.5% + 4.4¢/kg", "0.025", (("0.044", "kg"),)),
        ("14.5¢/m<sup>2 </sup>+ 0.4%", "0.004", (("0.145", "m2"),)),
        ("15¢ each + 2.3% + 0.8¢/jewel", "0.023", (("0.15", "each"), ("0.008", "jewel"))),
        ("2.5% <u></u>", "0.025", ()),
        ("$1.13/m<sup>3</sup>", "0", (("1.13", "m3"),)),
    ],
)
def test_parse_rate(text, ad_valorem, specific):
    parsed = parse_rate(text)
    assert parsed is not None
    assert parsed.ad_valorem == Decimal(ad_valorem)
    assert parsed.specific == tuple(SpecificPart(Decimal(a), u) for a, u in specific)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "See 9903.90.08",
        "The duty provided in the applicable subheading + 25%",
        "2.5% on the value of the lead content",
        "3.9% on the movement + 5.3% on the battery",
        "0.18¢/line/ gross + 2.5%",
        "1.4606¢/kg less 0.020668¢/kg for each degree under 100 degrees",
        "The rate applicable to the natural juice in heading 2009",
    ],
)
def test_rates_that_are_not_plain_are_not_guessed(text):
    assert parse_rate(text) is None


def test_rates_not_understood_outside_chapters_98_99_are_few_and_known():
    """Watches (91), sets, ensembles, sugar's sliding rates: 153 numbers over all revisions."""
    odd = [
        found
        for code in tariff_lines(IN_2026)
        if code[:2] not in ("98", "99") and not (found := line(code, IN_2026)).rate_understood
    ]
    assert 100 < len(odd) < 200
    assert {f.code[:2] for f in odd} >= {"91", "17", "61"}


# --------------------------------------------------------------------------------------------
# A user's later revision


def _export_of(code_prefix: str, day: date) -> list[dict]:
    """Export objects, as USITC writes them, of the packaged rows under a heading."""
    revision = revision_on(day)
    code_prefix = code_prefix.replace(".", "")
    chapter = htsdata._chapter(htsdata.PACKAGED_FOLDER, code_prefix[:2])
    records = []
    for code in sorted(chapter.runs):
        row = chapter.row(code, revision.position) if code.startswith(code_prefix) else None
        if row is not None:
            records.append(
                {
                    "htsno": htsdata.format_code(code),
                    "indent": str(row[2]),
                    "description": row[5].rsplit(": ", 1)[-1],
                    "units": row[3],
                    "general": row[4],
                    "footnotes": [{"columns": c, "value": t, "type": "endnote"} for c, t in row[6]],
                }
            )
    return records


def test_a_user_folder_appends_revisions(tmp_path, monkeypatch):
    folder = tmp_path / "hts"
    first = tmp_path / "hts_2026_rev_11.json"
    first.write_text(json.dumps(_export_of("8711", IN_2026)), encoding="utf-8")
    summary = hts_export.write_folder(
        folder, [hts_export.ExportFile(first, "2026_rev_11", date(2026, 7, 1))], append=True
    )
    assert summary.added == ["2026_rev_11"] and summary.counts["revisions"] == 1
    second = tmp_path / "hts_2026_rev_12.json.gz"
    second.write_bytes(gzip.compress(json.dumps(_export_of("8711.50", IN_2026)).encode()))
    again = [
        hts_export.ExportFile(first, "2026_rev_11", date(2026, 7, 1)),  # already there: skipped
        hts_export.ExportFile(second, "2026_rev_12", date(2026, 8, 1)),
    ]
    summary = hts_export.write_folder(folder, again, append=True)
    assert summary.skipped == ["2026_rev_11"] and summary.added == ["2026_rev_12"]

    monkeypatch.setenv(htsdata.HTS_DATA_ENV, str(folder))
    assert [r.name for r in revisions()[-3:]] == ["2026_rev_10", "2026_rev_11", "2026_rev_12"]
    assert revision_on(date(2026, 7, 15)).name == "2026_rev_11"
    in_rev_12 = line("8711.50.00", date(2026, 9, 1))
    assert in_rev_12 is not None and in_rev_12.revision == "2026_rev_12"
    assert in_rev_12.general == "2.4%" and in_rev_12.description.endswith(
        line("8711.50.00", IN_2026).description.rsplit(": ", 1)[-1]
    )
    assert line("8711.10.00", date(2026, 7, 15)) is not None
    assert line("8711.10.00", date(2026, 9, 1)) is None  # rev 12 holds 8711.50 alone
    assert line("8703.23.01", date(2026, 9, 1)) is None  # nor chapter 87
    assert line("8703.23.01", IN_2026) is not None  # packaged revisions unchanged

    monkeypatch.delenv(htsdata.HTS_DATA_ENV)
    assert len(revisions()) == 42
    added = htsdata.load_extra(folder)
    assert [r.name for r in added] == ["2026_rev_11", "2026_rev_12"]
    assert htsdata.load_extra(folder) == []


def test_a_damaged_user_folder_is_refused(tmp_path):
    (tmp_path / "revisions.json").write_text("{}", encoding="utf-8")
    with pytest.raises(htsdata.HTSDataError, match="cannot use this HTS data"):
        htsdata.load_extra(tmp_path)


# --------------------------------------------------------------------------------------------
# Size and speed


def test_packaged_data_is_small_and_split_by_chapter():
    files = list(htsdata.PACKAGED_FOLDER.iterdir())
    assert sum(f.stat().st_size for f in files) < 4_000_000
    chapters = [f for f in files if f.name.startswith("ch")]
    assert len(chapters) == 98  # 01 to 99, without the reserved chapter 77
    assert max(f.stat().st_size for f in chapters) < 400_000
    manifest = json.loads((htsdata.PACKAGED_FOLDER / "revisions.json").read_text())
    assert manifest["built_by"] == "tools/build_hts_data.py"
    assert manifest["counts"]["revisions"] == 42


def test_a_first_lookup_reads_one_chapter_quickly():
    htsdata._chapter.cache_clear()
    started = time.perf_counter()
    assert line("8711.50.00", IN_2026) is not None
    assert time.perf_counter() - started < 0.5  # ~3 ms here; generous for slow CI
    assert htsdata._chapter.cache_info().currsize == 1


# --------------------------------------------------------------------------------------------
# Against the official exports


@cache
def _export(name: str) -> list[dict]:
    with gzip.open(EXPORTS / f"hts_{name}.json.gz", "rt", encoding="utf-8") as stream:
        return json.load(stream)


def _plain(text: object) -> str:
    """The export's text without HTML markup (<br> and <newline> read as a space)."""
    text = re.sub(r"<(?:br|newline|nl|p)\b[^<>]*>", " ", str(text or ""), flags=re.I)
    return " ".join(re.sub(r"</?[A-Za-z][^<>]*>", "", text).split())


def _full_description(records: list[dict], position: int) -> str:
    """Walk back from a row: each earlier row of a smaller indent than the last one taken is an
    ancestor (numbered or not), up to indent 0."""
    parts = [records[position]]
    indent = int(records[position]["indent"])
    for earlier in reversed(records[:position]):
        if indent == 0:
            break
        if int(earlier["indent"]) < indent:
            parts.append(earlier)
            indent = int(earlier["indent"])
    texts = (_plain(r["description"]).removesuffix(":").strip() for r in reversed(parts))
    return ": ".join(t for t in texts if t)


def _footnotes(record: dict) -> tuple[Footnote, ...]:
    return tuple(
        Footnote(tuple(f["columns"]), _plain(f["value"]))
        for f in record.get("footnotes") or ()
        if _plain(f["value"])
    )


@cache
def _positions(name: str) -> dict[str, int]:
    """HTS number (digits) -> its position in the export ``name``."""
    return {r["htsno"].replace(".", ""): i for i, r in enumerate(_export(name)) if r["htsno"]}


@cache
def _statistical_of(name: str) -> dict[str, list[str]]:
    """8-digit line -> its 10-digit numbers, in order, in the export ``name``."""
    found: dict[str, list[str]] = {}
    for code in sorted(_positions(name)):
        if len(code) == 10:
            found.setdefault(code[:8], []).append(code)
    return found


def _general(name: str, code: str) -> str:
    return _plain(_export(name)[_positions(name)[code]]["general"])


def _expected_rate_row(name: str, line8: str) -> str | None:
    """The 8-digit row if it has a rate, else the first 10-digit row of the line that has."""
    if line8 in _positions(name) and _general(name, line8):
        return line8
    tens = _statistical_of(name).get(line8, ())
    return next((c for c in tens if _general(name, c)), None)


@needs_exports
def test_revisions_match_the_exports_folder():
    with (EXPORTS / "revisions.csv").open(encoding="utf-8") as stream:
        shipped = [r for r in csv.DictReader(stream) if not r["file"].startswith("(")]
    sums = dict(
        reversed(line_.split()) for line_ in (EXPORTS / "SHA256SUMS").read_text().splitlines()
    )
    assert [r.name for r in revisions()] == [r["revision"] for r in shipped]
    for revision, row in zip(revisions(), shipped, strict=True):
        assert revision.source_file == row["file"]
        assert revision.sha256 == sums[row["file"]]
        assert revision.published == date.fromisoformat(row["published"])
        assert revision.effective == date.fromisoformat(row["policy_effective"] or row["published"])


@needs_exports
@pytest.mark.parametrize("name", ["2025_basic", "2025_rev_32", "2026_basic", "2026_rev_10"])
def test_a_sample_of_lines_equals_the_export(name):
    """Every 25th tariff line and every 25th statistical number, in all chapters."""
    records, where = _export(name), _positions(name)
    revision = next(r for r in revisions() if r.name == name)
    assert revision_on(revision.effective) == revision
    lines8 = sorted({c[:8] for c in where if len(c) >= 8 if _expected_rate_row(name, c[:8])})
    sample = lines8[::25]
    assert len(sample) > 450 and len({c[:2] for c in sample}) > 90
    for code in sample:
        rate_code = _expected_rate_row(name, code)
        own = records[where.get(code, where[rate_code])]
        found = line(code, revision.effective)
        assert found is not None, code
        assert found.revision == name
        assert found.rate_code == rate_code
        assert found.general == _general(name, rate_code) != ""
        assert found.description == _full_description(records, where.get(code, where[rate_code]))
        assert found.units == tuple(_plain(u) for u in own["units"] if _plain(u))
        assert found.indent == int(own["indent"])
        assert set(_footnotes(own)) <= set(found.footnotes)
    statistical = sorted(c for c in where if len(c) == 10)[::25]
    for code in statistical:
        found = line(code, revision.effective)
        assert found is not None, code
        assert found.description == _full_description(records, where[code])
        assert found.rate_code == _expected_rate_row(name, code[:8])


@needs_exports
def test_8703_23_01_90_is_in_the_exports():
    for name in ("2025_rev_32", "2026_rev_10"):
        assert "8703.23.01.90" in {r["htsno"] for r in _export(name)}
        assert "8703.23.01.55" not in {r["htsno"] for r in _export(name)}


@needs_exports
@pytest.mark.parametrize("code, general", SPOT_CHECKS.items())
def test_spot_checks_are_the_exports_rates(code, general):
    for name in ("2025_rev_32", "2026_rev_10"):
        rate_code = _expected_rate_row(name, code.replace(".", ""))
        assert _general(name, rate_code) == general


@pytest.mark.slow
@needs_exports
def test_every_row_of_every_revision_equals_the_export():
    """Each numbered row of each of the 42 exports, and nothing else (about a minute)."""
    for revision in revisions():
        name = revision.name
        records, where = _export(name), _positions(name)
        for code, position in where.items():
            found = line(code, revision)
            record = records[position]
            assert found is not None, (revision.name, code)
            assert found.description == _full_description(records, position)
            if len(code) >= 8:
                rate_code = _expected_rate_row(name, code[:8])
                assert found.rate_code == rate_code, (name, code)
                if rate_code is not None:
                    assert found.general == _general(name, rate_code)
            else:
                assert found.general == ""
            assert set(_footnotes(record)) <= set(found.footnotes)
        for number in htsdata._all_chapters():
            chapter = htsdata._chapter(htsdata.PACKAGED_FOLDER, number)
            for code in chapter.runs if chapter else ():
                if code not in where and not (len(code) == 8 and _expected_rate_row(name, code)):
                    assert line(code, revision) is None, (revision.name, code)
        for cached in (_export, _positions, _statistical_of):
            cached.cache_clear()  # one revision in memory at a time


@pytest.mark.slow
@needs_exports
def test_the_build_script_reproduces_the_packaged_data(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "hts"
    command = [sys.executable, str(REPO / "tools" / "build_hts_data.py"), "--out", str(out)]
    subprocess.run(
        command,
        check=True,
        capture_output=True,
        env={**os.environ, "TARIFFCALC_HTS_EXPORTS": str(EXPORTS)},
    )
    for packaged in htsdata.PACKAGED_FOLDER.iterdir():
        assert (out / packaged.name).read_bytes() == packaged.read_bytes(), packaged.name


def test_htsline_is_a_plain_record():
    assert HTSLine._fields[:3] == ("code", "description", "units")
