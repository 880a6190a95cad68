"""Strict schedule loading: one small bad YAML per failure mode, and the words its error must say."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from tariffcalc import ScheduleError, load_schedule, parse_schedule
from tariffcalc.rules import default_schedule_path

HERE = Path(__file__).parent
BAD = HERE / "bad_schedules"

BAD_SCHEDULES = {
    "not_yaml": ["not_yaml.yaml:", "flow sequence"],
    "duplicate_key": ["duplicate_key.yaml:3", "duplicate key 'country'"],
    "unknown_field": ["unknown_field.yaml:3", "colour", "unknown field"],
    "wrong_type": ["measures[1].rates[0].rate", "'lots'"],
    "negative_rate": ["measures[1].rates[0].rate", "greater than or equal to 0"],
    "rate_over_100": ["measures[1].rates[0].rate", "less than or equal to 1"],
    "to_before_from": ["measures[0].rates[0]", "'to' (2025-04-01) is before 'from' (2025-04-05)"],
    "overlapping_periods": ["measures[0]", "overlap", "2025-04-09"],
    "unknown_measure_in_stacking": ["unknown measure 'reciprocals'"],
    "duplicate_measure_id": ["measure id 'reciprocal' is used twice"],
    "malformed_provision": ["lists.cars.provisions[0]", "HTS provision", "8703.2X"],
    "scenario_unknown_measure": ["scenario 'hold-lifted'", "unknown measure 'nope'"],
    "scenario_remove_unknown": ["scenario 'hold-lifted' remove", "unknown measure 'ghost'"],
    "bad_date": ["bad_date.yaml:3", "reviewed_through", "expected a date like 2025-04-05",
                 "'2025-13-01'"],
    "unknown_list": ["unknown list 'trucks'"],
    "malformed_heading": ["measures[1].heading", "expected a Chapter 99 heading", "'9903.94'"],
    "empty": ["empty.yaml", "the schedule is empty"],
    "not_a_mapping": ["not_a_mapping.yaml", "expected a mapping"],
    "python_object": ["python_object.yaml:1", "could not determine a constructor"],
}


def test_every_bad_schedule_file_is_listed():
    assert {p.stem for p in BAD.glob("*.yaml")} == set(BAD_SCHEDULES)


@pytest.mark.parametrize("name, words", sorted(BAD_SCHEDULES.items()))
def test_bad_schedule_messages(name: str, words: list[str]):
    with pytest.raises(ScheduleError) as caught:
        load_schedule(BAD / f"{name}.yaml")
    message = str(caught.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message


def test_valid_minimal_schedule_loads():
    schedule = load_schedule(HERE / "valid_minimal.yaml")
    assert [m.id for m in schedule.measures] == ["reciprocal", "autos-232"]


def test_file_errors(tmp_path: Path):
    with pytest.raises(ScheduleError, match="is a directory"):
        load_schedule(tmp_path)
    with pytest.raises(ScheduleError, match="not found"):
        load_schedule(tmp_path / "missing.yaml")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ScheduleError, match="not UTF-8"):
        load_schedule(binary)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(tmp_path: Path):
    locked = tmp_path / "locked.yaml"
    locked.write_text("title: t\n", encoding="utf-8")
    locked.chmod(0)
    with pytest.raises(ScheduleError, match="permission denied"):
        load_schedule(locked)


def test_rates_are_exact_decimals():
    text = (HERE / "valid_minimal.yaml").read_text(encoding="utf-8").replace("rate: 10%", "rate: 0.1")
    schedule = parse_schedule(text, "inline.yaml")
    assert schedule.measures[0].rates[0].rate == Decimal("0.1")
    assert schedule.measures[0].rates[1].rate == Decimal("0.24")


def test_models_are_frozen(schedule):
    with pytest.raises(Exception, match="frozen"):
        schedule.measures[0].title = "changed"  # type: ignore[misc]


def test_packaged_schedule(schedule):
    assert default_schedule_path().name == "tariffs.yaml"
    parts = schedule.lists["auto-parts"]
    assert len(parts.provisions) == 130  # the official list of U.S. note 33(g)
    assert len(schedule.lists["autos"].provisions) == 17
    assert schedule.find_in_list("auto-parts", "8708401100").code == "87084011"
    # Most specific provision wins: 8707 and 8707.10.00.20 are both listed.
    assert schedule.find_in_list("auto-parts", "8707100020").code == "8707100020"
    assert schedule.find_in_list("auto-parts", "8707100099").code == "8707"
    # The packaged schedule keeps no MFN table of its own: every line's rate comes from the
    # official HTS export of the revision in force (tariffcalc.htsdata).
    assert schedule.mfn == () and schedule.mfn_rate("8703240150") is None


def test_a_cached_schedule_loads_and_prices_without_pydantic(tmp_path):
    """The validated schedule is cached as plain objects: loading it again and pricing with it
    imports no pydantic (the library's start-up time)."""
    import os
    import subprocess
    import sys

    check = (
        "import sys\n"
        "from datetime import date\n"
        "from decimal import Decimal\n"
        "from tariffcalc import Shipment, load_schedule, price_shipment\n"
        "quote = price_shipment(load_schedule(), Shipment(Decimal('20000'), hts='87115000'),\n"
        "                       date(2025, 5, 3))\n"
        "assert str(quote.total_duty) == '2480.00', quote.total_duty\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('pydantic'))))\n"
    )
    env = {**os.environ, "TARIFFCALC_CACHE": str(tmp_path / "cache")}
    first = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, env=env)
    assert first.returncode == 0, first.stderr
    assert "pydantic" in first.stdout  # the first load validates the YAML
    again = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == ""
    assert len(list((tmp_path / "cache").glob("schedule-*.json"))) == 1


def test_the_loaded_schedule_is_plain_and_frozen(schedule):
    from tariffcalc.rules import Rule

    assert isinstance(schedule, Rule) and isinstance(schedule.measures[0].rates[0], Rule)
    with pytest.raises(AttributeError, match="frozen"):
        del schedule.measures[0].title
