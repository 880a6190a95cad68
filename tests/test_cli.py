"""The command-line contract: options, JSON keys, exit codes, stdout/stderr separation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tariffcalc.cli import ExitCode, app

runner = CliRunner()
WORKED = ["quote", "--hts", "8711.50.00", "--value", "20000", "--date", "2025-05-03"]
QUOTE_KEYS = {
    "entry_date", "hts", "category", "customs_value", "lines", "excluded", "base_duty",
    "additional_duty", "total_duty", "on_hold_duty", "effective_rate", "warnings",
}
LINE_KEYS = {"measure", "title", "heading", "authority", "rate", "basis", "amount"}


def run(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env=env)


def test_quote_json_contract():
    result = run(*WORKED, "--mfn-rate", "2.4%", "--format", "json")
    assert result.exit_code == ExitCode.OK, result.output
    data = json.loads(result.stdout)
    assert QUOTE_KEYS <= set(data)
    assert all(LINE_KEYS <= set(line) for line in data["lines"])
    assert all({"measure", "reason"} <= set(item) for item in data["excluded"])
    assert data["entry_date"] == "2025-05-03"
    assert data["hts"] == "8711.50.00"
    assert data["category"] == "general"
    assert data["customs_value"] == "20000.00"
    assert [(line["measure"], line["heading"], line["rate"], line["basis"], line["amount"]) for line in data["lines"]] == [
        ("mfn", "8711.50.00", "0.024", "20000.00", "480.00"),
        ("reciprocal", "9903.01.25", "0.1", "20000.00", "2000.00"),
    ]
    assert data["base_duty"] == "480.00"
    assert data["additional_duty"] == "2000.00"
    assert data["total_duty"] == "2480.00"
    assert data["on_hold_duty"] == "2800.00"
    assert data["effective_rate"] == "0.124"


def test_quote_hold_lifted_scenario():
    result = run(*WORKED, "--scenario", "hold-lifted", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["total_duty"] == "5280.00"
    assert data["on_hold_duty"] == "0.00"
    assert data["lines"][1]["heading"] == "9903.01.53"


@pytest.mark.parametrize(
    "hts", ["8703.24.01", "87032401", "8703240150", " 8703.24.01.50 ", "8703.24.0150"])
def test_quote_accepts_hts_forms(hts):
    result = run("quote", "--hts", hts, "--value", "60000", "--date", "2025-04-09",
                 "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total_duty"] == "16500.00"


def test_quote_table_shows_lines_exclusions_and_totals():
    result = run("quote", "--hts", "8703.24.01", "--value", "60000", "--date", "2025-04-09")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for text in ("autos-232", "9903.94.01", "15,000.00", "reciprocal", "excluded",
                 "16,500.00", "27.5%", "On hold"):
        assert text in out
    assert "vehicle age" in result.stderr  # warnings go to stderr, not into the data


def test_quote_in_yen():
    result = run("quote", "--hts", "8711.50.00", "--value", "3000000", "--currency", "jpy",
                 "--fx-rate", "0.0067", "--date", "2025-05-03", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["customs_value"] == "20100.00"
    assert data["total_duty"] == "2492.40"


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["quote", "--hts", "8703.2401x", "--value", "1"], ExitCode.BAD_INPUT, "--hts"),
        (["quote", "--hts", "870324010", "--value", "1"], ExitCode.BAD_INPUT, "9 digits"),
        (["quote", "--hts", "87032401", "--value", "-5"], ExitCode.BAD_INPUT, "--value"),
        (["quote", "--hts", "87032401", "--value", "0"], ExitCode.BAD_INPUT, "greater than 0"),
        (["quote", "--hts", "87032401", "--value", "1,000"], ExitCode.BAD_INPUT, "--value"),
        (["quote", "--hts", "87032401"], ExitCode.BAD_INPUT, "--value"),
        (["quote", "--value", "1"], ExitCode.BAD_INPUT, "--hts"),
        (["quote", "--hts", "87032401", "--category", "autos", "--value", "1"],
         ExitCode.BAD_INPUT, "not both"),
        (["quote", "--category", "boats", "--value", "1"], ExitCode.BAD_INPUT, "--category"),
        (["quote", "--hts", "87032401", "--value", "1", "--date", "2025-02-30"],
         ExitCode.BAD_INPUT, "--date"),
        (["quote", "--hts", "87032401", "--value", "1", "--currency", "JPY"],
         ExitCode.BAD_INPUT, "--fx-rate"),
        (["quote", "--hts", "87032401", "--value", "1", "--mfn-rate", "150%"],
         ExitCode.BAD_INPUT, "--mfn-rate"),
        (["quote", "--hts", "87032401", "--value", "1", "--format", "xml"],
         ExitCode.BAD_INPUT, "--format"),
        (["quote", "--hts", "87032401", "--value", "1", "--scenario", "nope"],
         ExitCode.BAD_SCHEDULE, "unknown scenario"),
        (["quote", "--hts", "87032401", "--value", "1", "--schedule", "/nonexistent.yaml"],
         ExitCode.BAD_SCHEDULE, "not found"),
        (["quote", "--bogus"], ExitCode.USAGE, "No such option"),
    ],
)
def test_bad_input_exit_codes_and_one_line_errors(args, code, words):
    result = run(*args)
    assert result.exit_code == code, result.output
    assert words in result.stderr
    assert "Traceback" not in result.output
    if code != ExitCode.USAGE:
        assert result.stderr.startswith("tariffcalc: error:")
        assert len(result.stderr.strip().splitlines()) == 1
        assert result.stdout == ""


def test_debug_shows_the_exception():
    result = run("--debug", "quote", "--hts", "bad", "--value", "1")
    assert result.exit_code != 0
    assert result.exception is not None and "HTS" in str(result.exception)


def test_unknown_rate_exit_code(tmp_path: Path):
    # A schedule whose only measure is "15% inclusive of MFN" cannot price goods of unknown MFN.
    schedule = tmp_path / "inclusive.yaml"
    schedule.write_text(
        "title: t\ncountry: Japan\nreviewed_through: 2025-12-31\nlists: {}\n"
        "measures:\n  - id: reciprocal\n    title: r\n    category: general\n"
        "    program: ieepa\n    authority: a\n    heading: '9903.02.73'\n"
        "    scope: {all_goods: true, categories: [general]}\n"
        "    rates:\n      - {from: 2025-08-07, rate: 15%, inclusive_of_mfn: true,"
        " heading_if_mfn_at_or_above: '9903.02.72'}\n",
        encoding="utf-8",
    )
    args = ["quote", "--category", "general", "--value", "1000", "--date", "2025-09-01",
            "--schedule", str(schedule), "--format", "json"]
    result = run(*args)
    assert result.exit_code == ExitCode.UNKNOWN_RATE, result.output
    assert "--mfn-rate" in result.stderr
    ok = run(*args, "--mfn-rate", "2.4%")
    assert ok.exit_code == 0, ok.output
    line = json.loads(ok.stdout)["lines"][1]
    assert (line["heading"], line["rate"], line["amount"]) == ("9903.02.73", "0.126", "126.00")
    high = json.loads(run(*args, "--mfn-rate", "20%").stdout)["lines"][1]
    assert (high["heading"], high["rate"], high["amount"]) == ("9903.02.72", "0", "0.00")


def test_schedule_from_environment(tmp_path: Path):
    result = run(*WORKED, env={"TARIFFCALC_SCHEDULE": str(tmp_path / "missing.yaml")})
    assert result.exit_code == ExitCode.BAD_SCHEDULE
    assert "missing.yaml" in result.stderr


def test_rates_on_the_brief_date():
    result = run("rates", "--date", "2025-05-03", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {row["measure"]: row for row in json.loads(result.stdout)}
    assert set(rows["reciprocal"]) >= {"measure", "title", "category", "rate", "in_force",
                                       "status", "from", "to", "heading", "authority"}
    assert (rows["reciprocal"]["rate"], rows["reciprocal"]["in_force"],
            rows["reciprocal"]["status"]) == ("0.24", "0.1", "partly on hold")
    for measure in ("autos-232", "auto-parts-232", "steel-232", "aluminum-232"):
        assert (rows[measure]["rate"], rows[measure]["in_force"], rows[measure]["status"]) == (
            "0.25", "0.25", "in force")


def test_rates_status_before_and_after():
    early = {r["measure"]: r for r in json.loads(
        run("rates", "--date", "2025-04-04", "--format", "json").stdout)}
    assert early["reciprocal"]["status"] == "not yet in force"
    assert early["reciprocal"]["in_force"] == "0"
    assert early["auto-parts-232"]["status"] == "not yet in force"
    assert early["autos-232"]["status"] == "in force"
    lifted = {r["measure"]: r for r in json.loads(
        run("rates", "--date", "2025-05-03", "--scenario", "hold-lifted",
            "--format", "json").stdout)}
    assert (lifted["reciprocal"]["in_force"], lifted["reciprocal"]["status"]) == ("0.24", "in force")


def test_rates_csv_and_table():
    result = run("rates", "--date", "2025-05-03", "--format", "csv")
    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[0]
    assert header == "measure,title,category,rate,in_force,status,basis,from,to,heading,authority"
    table = run("rates", "--date", "2025-05-03")
    assert "partly on hold" in table.stdout and "Not modelled" in table.stdout


def test_validate(tmp_path: Path):
    result = run("validate")
    assert result.exit_code == 0, result.output
    assert "ok:" in result.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: [unclosed\n", encoding="utf-8")
    result = run("validate", str(bad))
    assert result.exit_code == ExitCode.BAD_SCHEDULE
    assert "bad.yaml:" in result.stderr


def test_installed_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "tariffcalc", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    for command in ("quote", "batch", "rates", "validate"):
        assert command in result.stdout
    script = Path(sys.executable).with_name("tariffcalc")
    if script.exists():
        assert subprocess.run([str(script), "--help"], capture_output=True).returncode == 0


def test_readme_library_snippet_runs_without_the_cli():
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use as a library", 1)[1].split("\n## ", 1)[0]
    # Every python block of the section, in order (the later ones go on from the first).
    snippet = "".join(block.split("```")[0] for block in section.split("```python")[1:])
    check = snippet + (
        "\nimport sys\nassert 'tariffcalc.cli' not in sys.modules, 'the library imported the CLI'"
        "\nassert (str(quote.total_duty), str(quote.on_hold_duty)) == ('2480.00', '2800.00')\n"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    printed = result.stdout.splitlines()
    assert printed[0] == "2480.00 2800.00"
    # The library takes what the command line takes, and refuses a float (not exact money).
    assert printed[1].startswith("value: got the float 20000.0; a float is not exact money")


def test_not_in_force_in_json_and_table():
    data = json.loads(run(*WORKED, "--format", "json").stdout)
    kinds = {item["measure"]: item["kind"] for item in data["not_in_force"]}
    assert kinds == {"section-122": "not-yet-in-force", "forced-labor-301": "not-yet-in-force",
                     "steel-derivatives-other-232": "not-yet-listed"}
    assert {item["kind"] for item in data["excluded"]} <= {"exclusion", "stacking", "scenario"}
    table = run(*WORKED).stdout
    # A surcharge on every good that starts next year says nothing about this entry; a list the
    # goods join later does.
    assert "steel-derivatives-other-232" in table and "section-122" not in table


def test_quote_loads_only_what_it_needs():
    """`tariffcalc quote` in a shell loop: only the quote command, no polars, no pydantic."""
    check = (
        "import sys\n"
        "sys.argv = ['tariffcalc', 'quote', '--hts', '8711.50.00', '--value', '20000',\n"
        "            '--date', '2025-05-03', '--mode', 'ocean']\n"
        "from tariffcalc.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
        "loaded = [m for m in ('polars', 'tariffcalc.columnar', 'tariffcalc.batch',\n"
        "                      'tariffcalc.tables', 'tariffcalc.outputs', 'tariffcalc.entries',\n"
        "                      'tariffcalc.refunds', 'tariffcalc.excel', 'tariffcalc.audit',\n"
        "                      'tariffcalc.cli.batch', 'tariffcalc.cli.timeline',\n"
        "                      # typer's conversion of option values and schedule validation\n"
        "                      # (a run after the first: the schedule comes from its cache)\n"
        "                      'pydantic.type_adapter', 'pydantic.main') if m in sys.modules]\n"
        "from tariffcalc.cli._values import hand_over_values_as_given\n"
        "if not hand_over_values_as_given():  # another typer: it converts values with pydantic\n"
        "    loaded = [m for m in loaded if not m.startswith('pydantic')]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", "import tariffcalc; tariffcalc.load_schedule()"],
                   check=True)
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Landed cost" in result.stdout


def test_option_values_are_handed_over_as_typer_would_convert_them(tmp_path):
    """Options skip typer's pydantic conversion (start-up time) and get the very same values."""
    import typer.main

    from tariffcalc.cli._values import hand_over_values_as_given

    if not hand_over_values_as_given():
        pytest.skip("this typer converts option values its own way (no hook to hand them over)")
    from typer._coercion import build_runtime_param
    group = typer.main.get_command(app)
    a_file = tmp_path / "shipments.csv"
    a_file.write_text("hts,value\n", encoding="utf-8")
    samples: dict[object, list[object]] = {
        str: ["8711.50.00", "", " 2.4% ", "ｊｐｙ", "-", "--x"],
        bool: [True, False],
        Path: [str(a_file), str(tmp_path), str(tmp_path / "missing.csv"), "out.parquet"],
        list[str]: [("hts=HTS Code",), ["value=Customs Value", "date=Entry Date"], ()],
    }
    commands, checked = [group], set()
    for command in commands:
        commands.extend(getattr(command, "commands", {}).values())
        ctx = command.make_context(command.name, [], resilient_parsing=True)
        for param in [*command.params, command.get_help_option(ctx)]:
            kind = param.type_descriptor.annotation
            for value in [None, *samples[kind]]:
                ours = param.get_runtime_param().coerce(value, param=param, ctx=ctx)
                typers = build_runtime_param(param.type_descriptor).coerce(
                    value, param=param, ctx=ctx)
                assert (type(ours), ours) == (type(typers), typers), (command.name, param.name)
            checked.add((command.name, param.name))
    assert {("quote", "hts"), ("batch", "input_file"), ("batch", "column"),
            ("import", "source")} <= checked
