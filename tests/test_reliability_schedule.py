"""Reliability of the schedule (issue 15): each attack's smallest reproduction, now a clean result.

The cache that ran code, a YAML alias bomb, a schedule too large to hold, provisions that YAML
reads as numbers, stacking rules that displace each other, and errors that took several lines.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import stat
import subprocess
import sys
import threading
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tariffcalc import (
    ScheduleError,
    Shipment,
    load_schedule,
    loading,
    parse_schedule,
    price_shipment,
    rules,
    schedule_yaml,
)
from tariffcalc.cli import ExitCode, app
from tariffcalc.rules import MAX_SCHEDULE_BYTES
from tariffcalc.schedule_yaml import MAX_REPEATED_NODES, _line_map, _StrictLoader

HERE = Path(__file__).parent
SCHEDULE_FILE = HERE.parent / "tariffs.yaml"
MINIMAL = (HERE / "valid_minimal.yaml").read_text(encoding="utf-8")
# A quote whose duty changes when the reciprocal rate does: MFN 2.4% + reciprocal 10%.
MOTORCYCLE = Shipment(Decimal("20000"), hts="87115000")
ON = date(2025, 5, 3)
runner = CliRunner()


def duty(schedule: rules.Schedule) -> Decimal:
    return price_shipment(schedule, MOTORCYCLE, ON).total_duty


@pytest.fixture(scope="module")
def true_duty() -> Decimal:
    """The duty as the YAML itself says (validated, never cached)."""
    return duty(parse_schedule(SCHEDULE_FILE.read_text(encoding="utf-8"), "tariffs.yaml"))


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache folder of this test's own, private to the user (as the loader makes it)."""
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("TARIFFCALC_CACHE", str(folder))
    return folder


def cache_path() -> Path:
    """The exact file the loader reads for the packaged schedule."""
    path = loading._cache_file(SCHEDULE_FILE.read_text(encoding="utf-8"))
    assert path is not None
    return path


def tampered_cache(path: Path, change) -> bytes:
    """The real cache of the packaged schedule, well formed, with ``change`` made to its data."""
    load_schedule(SCHEDULE_FILE)
    document = json.loads(path.read_bytes())
    change(document["schedule"])
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def every_rate_zero(node) -> None:
    """Every rate of every period 0 (what a tampered cache did: no duty at all)."""
    if isinstance(node, dict):
        if node.get("$r") == "RatePeriod" and node.get("rate") is not None:
            node.update(rate={"$d": "0"}, on_hold=None)
        for value in node.values():
            every_rate_zero(value)
    elif isinstance(node, list):
        for value in node:
            every_rate_zero(value)


def plant(path: Path, data: bytes, mode: int = 0o600) -> None:
    path.write_bytes(data)
    path.chmod(mode)


# ----------------------------------------------------------------------------- 1. the cache


class _Payload:
    """Unpickled, this creates the marker file: code run by whoever loads the pickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_pickle_planted_at_the_cache_path_is_never_run(cache_dir, tmp_path, true_duty):
    marker = tmp_path / "ran"
    payload = pickle.dumps(_Payload(marker))
    path = cache_path()
    plant(path, payload)

    assert duty(load_schedule(SCHEDULE_FILE)) == true_duty
    assert not marker.exists(), "the planted pickle was run"
    # The loader put a plain-data cache in its place, which is read back.
    assert json.loads(path.read_bytes())["format"] == loading._CACHE_FORMAT
    assert duty(load_schedule(SCHEDULE_FILE)) == true_duty
    # The payload is live: the old loader (pickle.load) would have run it.
    pickle.loads(payload).close()
    assert marker.exists()


def test_the_cache_is_plain_json_of_the_yaml_and_private(cache_dir):
    text = SCHEDULE_FILE.read_text(encoding="utf-8")
    load_schedule(SCHEDULE_FILE)
    path = cache_path()
    assert path.parent == cache_dir and path.suffix == ".json"
    document = json.loads(path.read_bytes())
    assert document["yaml_sha256"] == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_folder_the_loader_makes_is_private(tmp_path, monkeypatch):
    folder = tmp_path / "new" / "cache"
    monkeypatch.setenv("TARIFFCALC_CACHE", str(folder))
    old = os.umask(0o002)  # a umask that leaves new folders group-writable
    try:
        load_schedule(SCHEDULE_FILE)
    finally:
        os.umask(old)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert len(list(folder.glob("schedule-*.json"))) == 1


def _norm(value):
    """A schedule as plain comparable data (classes, fields, types and values)."""
    if isinstance(value, rules.Rule):
        fields = {k: _norm(v) for k, v in vars(value).items() if not k.startswith("_")}
        if isinstance(value, rules.ProvisionList):
            fields["provisions"] = _norm(value.provisions)
        return type(value).__name__, fields
    if isinstance(value, tuple):
        return tuple(_norm(item) for item in value)
    if isinstance(value, dict):
        return {key: _norm(item) for key, item in value.items()}
    return type(value).__name__, value


def test_the_cached_schedule_is_the_validated_one(cache_dir):
    validated = load_schedule(SCHEDULE_FILE)  # validates, writes the cache
    cached = load_schedule(SCHEDULE_FILE)
    assert "provisions" not in vars(cached.lists["auto-parts"])  # from the cache: rows
    assert _norm(cached) == _norm(validated)
    for name in ("auto-parts", "autos", "steel-articles"):
        for entry in validated.lists[name].provisions:
            found = cached.find_in_list(name, entry.code)
            assert (found.code, found.heading, found.listed_from) == (
                entry.code, entry.heading, entry.listed_from,
            )  # fmt: skip
    assert cached.longer_in_list("auto-parts", "8707") == validated.longer_in_list(
        "auto-parts", "8707"
    )


def test_a_private_tampered_cache_is_what_the_loader_reads(cache_dir, true_duty):
    """The premise of the tests below: a well-formed cache that no other user can write is
    believed (a user may only harm themselves), so a tampered one changes the duty."""
    path = cache_path()
    plant(path, tampered_cache(path, every_rate_zero))
    assert duty(load_schedule(SCHEDULE_FILE)) < true_duty


def _folder_writable_by_others(path: Path) -> None:
    path.parent.chmod(0o777)


def _folder_writable_by_group(path: Path) -> None:
    path.parent.chmod(0o770)


def _file_writable_by_others(path: Path) -> None:
    path.chmod(0o606)


def _file_writable_by_group(path: Path) -> None:
    path.chmod(0o620)


def _file_is_a_link(path: Path) -> None:
    target = path.with_name("elsewhere.json")
    path.rename(target)
    path.symlink_to(target)


def _file_of_another_user(path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root can give a file to another user")
    os.chown(path, 65534, 65534)


def _folder_of_another_user(path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root can give a folder to another user")
    os.chown(path.parent, 65534, 65534)


@pytest.mark.parametrize(
    "expose",
    [
        _folder_writable_by_others, _folder_writable_by_group, _file_writable_by_others,
        _file_writable_by_group, _file_is_a_link, _file_of_another_user, _folder_of_another_user,
    ],
)  # fmt: skip
def test_a_tampered_cache_others_could_write_is_not_believed(cache_dir, true_duty, expose):
    path = cache_path()
    plant(path, tampered_cache(path, every_rate_zero))
    expose(path)
    assert duty(load_schedule(SCHEDULE_FILE)) == true_duty
    assert duty(load_schedule(SCHEDULE_FILE)) == true_duty


def test_a_folder_others_can_write_is_neither_read_nor_written(cache_dir, true_duty, capsys):
    cache_dir.chmod(0o777)
    assert duty(load_schedule(SCHEDULE_FILE)) == true_duty
    assert list(cache_dir.iterdir()) == []  # nothing written where others could change it
    assert capsys.readouterr() == ("", "")  # the library says nothing...
    result = runner.invoke(app, ["validate", str(SCHEDULE_FILE)])
    assert result.exit_code == 0, result.output
    assert "ok:" in result.stdout
    assert "schedule cache is not used" in result.stderr  # ...validate does, on stderr
    assert str(cache_dir) in result.stderr and "\n" not in result.stderr.strip()


def test_the_cache_of_another_yaml_text_is_not_believed(cache_dir, true_duty):
    """A cache whose recorded YAML digest is not this file's (a key collision, a copied file)."""
    path = cache_path()
    data = tampered_cache(path, every_rate_zero)
    real = hashlib.sha256(SCHEDULE_FILE.read_bytes()).hexdigest()
    plant(path, data.replace(real.encode(), hashlib.sha256(b"other").hexdigest().encode()))
    assert duty(load_schedule(SCHEDULE_FILE)) == true_duty


def test_validate_never_trusts_the_cache_and_repairs_it(cache_dir, true_duty):
    path = cache_path()

    def zero_and_date(schedule) -> None:
        every_rate_zero(schedule)
        schedule["reviewed_through"] = {"$t": "1999-01-01"}

    plant(path, tampered_cache(path, zero_and_date))
    assert load_schedule(SCHEDULE_FILE).reviewed_through == date(1999, 1, 1)  # believed...
    result = runner.invoke(app, ["validate", str(SCHEDULE_FILE)])
    assert result.exit_code == 0, result.output
    assert "1999-01-01" not in result.stdout and "reviewed through 2026" in result.stdout
    assert result.stderr == ""
    # ...until validate, which wrote the cache again from the YAML.
    assert duty(load_schedule(SCHEDULE_FILE)) == true_duty


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # cut short
        lambda data: data.replace(b'"$r":"Measure"', b'"$r":"Path"', 1),  # not a rule's class
        lambda data: data.replace(b'"$r":"Schedule"', b'"$r":"Scope"', 1),  # not a schedule
        lambda data: data.replace(b'"$d":"', b'"$d":"x', 1),  # not a number
        lambda data: b"",
    ],
)
def test_a_damaged_cache_is_rebuilt(cache_dir, true_duty, damage):
    path = cache_path()
    load_schedule(SCHEDULE_FILE)
    plant(path, damage(path.read_bytes()))
    assert duty(load_schedule(SCHEDULE_FILE)) == true_duty
    assert json.loads(path.read_bytes())["format"] == loading._CACHE_FORMAT  # written again


def test_a_fifo_at_the_cache_path_does_not_hang(cache_dir):
    path = cache_path()
    os.mkfifo(path, 0o600)
    check = "import sys\nfrom tariffcalc import load_schedule\nprint(len(load_schedule(sys.argv[1]).measures))"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", check, str(SCHEDULE_FILE)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 0
    assert time.monotonic() - started < 60
    assert stat.S_ISREG(path.lstat().st_mode)  # replaced by a real cache file


# ----------------------------------------------------------------------------- 2. alias bombs

# "Billion laughs": 9 ** 9 copies of "lol" in 342 bytes; it never finished and used 2.2 GB.
LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""
# The same with merge keys: each mapping merges the one before twice.
MERGES = "m0: &m0 {x: 1}\n" + "".join(
    f"m{n}: &m{n} {{<<: [*m{n - 1}, *m{n - 1}], k{n}: 1}}\n" for n in range(1, 40)
)
# One long text repeated: few nodes, gigabytes of text.
LONG_TEXT = "t: &t " + "x" * 100_000 + "\nu: [" + ",".join(["*t"] * 5_000) + "]\n"


@pytest.mark.parametrize(
    "text, line",
    [(LAUGHS, 8), (MERGES, 39), (LONG_TEXT, 1), (MINIMAL + "x: &x [1, *x]\n", 33)],
    ids=["billion-laughs", "merge-keys", "long-text", "self-holding"],
)
def test_an_alias_bomb_is_refused_at_once(text: str, line: int):
    started = time.perf_counter()
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(text, "bomb.yaml")
    assert time.perf_counter() - started < 1.0
    message = str(caught.value)
    assert message.startswith(f"bomb.yaml:{line}: ") and "alias" in message, message
    assert "\n" not in message


def test_the_limit_is_on_repeated_nodes_not_on_aliases():
    # [1] is two nodes: written once and repeated 50,000 times, it repeats 100,000 nodes (the
    # most allowed); the schedule is then refused for what it says, not for its aliases.
    uses = MAX_REPEATED_NODES // 2
    at_limit = "anchor: &a [1]\n" + MINIMAL.replace(
        "title: t\n", f"title: [{','.join(['*a'] * uses)}]\n"
    )
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(at_limit, "many.yaml")
    assert "alias" not in str(caught.value) and "title" in str(caught.value)
    over = at_limit.replace("title: [", "title: [*a,")
    with pytest.raises(ScheduleError, match="many.yaml:1: its aliases .* repeat 100,002 nodes"):
        parse_schedule(over, "many.yaml")


def test_the_error_location_walk_visits_each_node_once():
    loader = _StrictLoader(LAUGHS)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    started = time.perf_counter()
    lines = _line_map(node)  # 9 ** 9 paths when walked as a tree
    assert time.perf_counter() - started < 1.0
    assert len(lines) < 200
    assert lines[("i", 0)] == 8  # a repetition of h: the line where h is written


def test_an_error_inside_a_repeated_node_points_at_a_line():
    text = MINIMAL.replace(
        "      - {from: 2025-04-09, rate: 24%}", "      - &late {from: 2025-04-09, rate: lots}"
    ).replace("      - {from: 2025-04-03, rate: 25%}", "      - *late")
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(text, "alias.yaml")
    assert str(caught.value).startswith("alias.yaml:19: measures[0].rates[1].rate"), caught.value


def test_the_packaged_schedule_keeps_its_anchors_and_merge_keys():
    text = SCHEDULE_FILE.read_text(encoding="utf-8")
    assert "<<: *" in text and "&metals-50" in text
    assert parse_schedule(text, "tariffs.yaml").measure("steel-232").rates


# ----------------------------------------------------------------------------- 2. file size


def test_a_schedule_past_the_size_limit_is_refused_unread(tmp_path: Path):
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as stream:  # sparse: no disk or time spent
        stream.truncate(MAX_SCHEDULE_BYTES + 1)
    started = time.perf_counter()
    with pytest.raises(ScheduleError) as caught:
        load_schedule(huge)
    assert time.perf_counter() - started < 1.0
    assert str(caught.value) == (
        f"{huge}: {MAX_SCHEDULE_BYTES + 1:,} bytes; expected a YAML schedule of at most 20 MiB"
    )
    result = runner.invoke(app, ["validate", str(huge)])
    assert result.exit_code == ExitCode.BAD_SCHEDULE
    assert "at most 20 MiB" in result.stderr


def test_a_schedule_through_a_pipe_is_read_no_further_than_the_limit(tmp_path: Path):
    pipe = tmp_path / "schedule.fifo"
    os.mkfifo(pipe)

    def write() -> None:
        try:
            with pipe.open("wb") as stream:
                stream.write(b"#" * (MAX_SCHEDULE_BYTES + 100))
        except BrokenPipeError:
            pass  # the loader stopped reading, as it should

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    with pytest.raises(ScheduleError, match=r"more than 20,971,520 bytes; .* at most 20 MiB"):
        load_schedule(pipe)
    writer.join(timeout=30)


def test_the_packaged_schedule_is_far_under_the_limit():
    assert SCHEDULE_FILE.stat().st_size * 50 < MAX_SCHEDULE_BYTES


def test_a_schedule_of_too_many_nodes_is_refused_before_they_are_made(monkeypatch):
    """20 MiB of "1," are 10 million nodes (some 6 GB once made): counted on the parser's events,
    refused past the limit. Shown with a limit of 1,000 (the real one takes a second to reach)."""
    monkeypatch.setattr(schedule_yaml, "MAX_SCHEDULE_NODES", 1_000)
    text = MINIMAL.replace("title: t\n", "title: t\nnumbers:\n" + "  - 1\n" * 1_000)
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(text, "dense.yaml")
    assert str(caught.value) == (
        "dense.yaml:998: a schedule may have at most 1,000 YAML nodes (values, lists and "
        "mappings); this one has more"
    )
    fewer = MINIMAL.replace("title: t\n", "title: t\nnumbers:\n" + "  - 1\n" * 900)
    with pytest.raises(ScheduleError, match="numbers: unknown field"):
        parse_schedule(fewer, "dense.yaml")


def test_the_packaged_schedule_is_far_under_the_node_limit():
    text = SCHEDULE_FILE.read_text(encoding="utf-8")
    loader = _StrictLoader(text)
    events = 0
    try:
        while loader.check_event():
            loader.get_event()
            events += 1
    finally:
        loader.dispose()
    assert 5_000 < events and events * 50 < schedule_yaml.MAX_SCHEDULE_NODES


def test_schedule_text_past_the_limit_is_refused():
    with pytest.raises(ScheduleError, match="at most 20 MiB"):
        parse_schedule("#" * (MAX_SCHEDULE_BYTES + 1), "big.yaml")


# ----------------------------------------------------------------------------- 3. numbers


MFN = """\
mfn:
  - {provision: %s, rate: 0, goods: milk, source: HTS, confidence: H}
"""


@pytest.mark.parametrize(
    "text, where, number",
    [
        (MINIMAL.replace('["8703.23.01"]', "[0401100000]"), "lists.cars.provisions[0]", "67403776"),
        (MINIMAL.replace('["8703.23.01"]', "[87032301]"), "lists.cars.provisions[0]", "87032301"),
        (MINIMAL.replace('["8703.23.01"]', "[8703.20]"), "lists.cars.provisions[0]", "8703.20"),
        (MINIMAL.replace('["8703.23.01"]', "[{code: 8703, from: 2025-04-03}]"),
         "lists.cars.provisions[0].code", "8703"),
        (MINIMAL + MFN % "0401100000", "mfn[0].provision", "67403776"),
        (MINIMAL + "gaps:\n  - {topic: t, note: n, provisions: [0401]}\n", "gaps[0].provisions[0]",
         "257"),
        (MINIMAL.replace("scope: {lists: [cars]}", "scope: {lists: [cars]}\n    exclusions:\n"
                         "      - {reason: r, lists: [cars], chapters: [07]}"),
         "measures[1].exclusions[0].chapters[0]", "7"),
    ],
    ids=["octal", "int", "decimal", "entry-code", "mfn", "gap", "chapter"],
)  # fmt: skip
def test_a_provision_written_without_quotes_is_an_error(text: str, where: str, number: str):
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(text, "numbers.yaml")
    message = str(caught.value)
    assert f"{where}" in message and f"the number {number}: write it in quotes" in message
    assert "\n" not in message


def test_the_same_provisions_in_quotes_load():
    text = MINIMAL.replace('["8703.23.01"]', '["0401100000", "8703.20"]') + MFN % '"0401.10.00"'
    schedule = parse_schedule(text, "quoted.yaml")
    assert [e.code for e in schedule.lists["cars"].provisions] == ["0401100000", "870320"]
    assert schedule.mfn_rate("0401100000").provision == "04011000"


# ----------------------------------------------------------------------------- 4. stacking

# A third measure, for circles of more than two.
THIRD = """\
  - id: steel-232
    title: steel
    category: steel
    program: section-232
    authority: a
    heading: "9903.81.87"
    scope: {lists: [cars]}
    rates:
      - {from: 2025-03-12, rate: 25%}
"""


def stacking(*rules_text: str) -> str:
    body = MINIMAL.replace("stacking:\n", "").replace(
        "  - {measures: [autos-232], displaces: [reciprocal], reason: r, authority: a}\n", ""
    )
    body = body.replace("scenarios:", THIRD.rstrip("\n") + "\nstacking:\n" + "".join(
        f"  - {{{rule}, reason: r, authority: a}}\n" for rule in rules_text
    ) + "scenarios:")  # fmt: skip
    return body


@pytest.mark.parametrize(
    "rules_text, words",
    [
        (["measures: [autos-232], displaces: [autos-232]"],
         ["stacking: rule 0 has 'autos-232' displace itself"]),
        (["measures: [autos-232, steel-232], displaces: [reciprocal, steel-232]"],
         ["rule 0 has 'steel-232' displace itself"]),
        (["measures: [autos-232], displaces: [reciprocal]",
          "measures: [reciprocal], displaces: [autos-232]"],
         ["rules 0 and 1 displace in a circle", "at every date",
          "autos-232 displaces reciprocal (rule 0)", "reciprocal displaces autos-232 (rule 1)"]),
        (["measures: [autos-232], displaces: [steel-232]",
          "measures: [steel-232], displaces: [reciprocal]",
          "measures: [reciprocal], displaces: [autos-232]"],
         ["rules 0, 1 and 2 displace in a circle", "steel-232 displaces reciprocal (rule 1)"]),
        (["measures: [autos-232], displaces: [reciprocal], to: 2025-06-01",
          "measures: [reciprocal], displaces: [autos-232], from: 2025-06-01"],
         ["rules 0 and 1 displace in a circle, in force together from 2025-06-01"]),
    ],
    ids=["itself", "itself-among-others", "two", "three", "overlapping-one-day"],
)  # fmt: skip
def test_stacking_rules_that_displace_in_a_circle_are_refused(rules_text, words):
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(stacking(*rules_text), "stacking.yaml")
    message = str(caught.value)
    assert message.startswith("stacking.yaml:") and "\n" not in message
    for word in words:
        assert word in message, message


@pytest.mark.parametrize(
    "rules_text",
    [
        ["measures: [autos-232], displaces: [steel-232]",
         "measures: [steel-232], displaces: [reciprocal]"],  # a chain, not a circle
        ["measures: [autos-232], displaces: [reciprocal], to: 2025-05-31",
         "measures: [reciprocal], displaces: [autos-232], from: 2025-06-01"],  # one after another
    ],
    ids=["chain", "successive"],
)  # fmt: skip
def test_stacking_rules_without_a_circle_load(rules_text):
    assert len(parse_schedule(stacking(*rules_text), "stacking.yaml").stacking) == len(rules_text)


# ----------------------------------------------------------------------------- 5. one line


@pytest.mark.parametrize(
    "text, words",
    [
        ("title: a\x00b\n", ["one.yaml: not valid YAML: unacceptable character #x0000"]),
        (MINIMAL + '"colo\\nur": red\n', ["one.yaml:33: 'colo\\nur': unknown field"]),
        ("title: " + "1" * 5000 + "\n", ["one.yaml: a number of more than 4,300 digits"]),
        (MINIMAL.replace("displaces: [reciprocal]", "displaces: [reciprocl]"),
         ["unknown measure 'reciprocl' (did you mean 'reciprocal'?)"]),
        (MINIMAL.replace("scope: {lists: [cars]}", "scope: {lists: [" + "x" * 5000 + "]}"),
         ["measures[1].scope.lists[0]", "characters)"]),
        (MINIMAL.replace("title: t\n", "title: [" + "1," * 3000 + "]\n"),
         ["one.yaml:1: title: Input should be a valid string"]),
    ],
    ids=["control-character", "key-with-line-break", "long-integer", "unknown-measure",
         "long-value", "long-list"],
)  # fmt: skip
def test_schedule_errors_are_one_short_line(text: str, words: list[str]):
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(text, "one.yaml")
    message = str(caught.value)
    assert "\n" not in message and len(message) < 300, message
    for word in words:
        assert word in message, message
