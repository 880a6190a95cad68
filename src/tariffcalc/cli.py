"""The command line: parse options, call the library, render, map errors to exit codes.

This is the only module that prints or exits.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from enum import IntEnum
from pathlib import Path
from typing import IO, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from .batch import (
    OUTPUT_FORMATS,
    BatchSummary,
    CategoryTotals,
    Entry,
    InputTable,
    atomic_output,
    open_input,
    parse_date,
    price_table,
    scan_entries,
)
from .engine import Quote, price_shipment
from .errors import InputError, ScheduleError, TariffError, UnknownRateError
from .hts import format_hts
from .hts_import import (
    MFN_TABLE_ENV,
    default_table_path,
    load_table,
    read_usitc_file,
    save_table,
)
from .money import format_percent
from .rates import RATE_COLUMNS, rate_table
from .report import money_or_none, quote_to_dict, rate_or_none
from .schedule import SCHEDULE_ENV, Schedule, default_schedule_path, load_schedule
from .shipment import Shipment, shipment_from_fields
from .timeline import change_dates, duty_timeline, step_chart


class ExitCode(IntEnum):
    """Exit codes of every command (documented in the README)."""

    OK = 0
    INTERNAL_ERROR = 1  # a bug: please report it with --debug output
    USAGE = 2  # unknown option, missing argument (reported by the option parser)
    BAD_INPUT = 3  # a shipment, an option value or an input file cannot be used
    BAD_SCHEDULE = 4  # the schedule file cannot be used
    UNKNOWN_RATE = 5  # the law needs a rate (e.g. MFN) that is neither known nor given
    ROWS_FAILED = 6  # batch: some rows could not be priced (every row is still written)
    INTERRUPTED = 130  # Ctrl-C


_EXIT_FOR_ERROR: dict[type[TariffError], ExitCode] = {
    ScheduleError: ExitCode.BAD_SCHEDULE,
    UnknownRateError: ExitCode.UNKNOWN_RATE,
    InputError: ExitCode.BAD_INPUT,
}

app = typer.Typer(
    name="tariffcalc",
    help="US duties on goods of Japan: MFN, IEEPA reciprocal and Section 232, by entry date.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_state = {"debug": False}
F = TypeVar("F", bound=Callable[..., Any])


# Tables written to a file or a pipe get room enough not to be cut.
_PIPED_WIDTH = 160


def _console(stderr: bool) -> Console:
    console = Console(stderr=stderr, highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(stderr=stderr, highlight=False, width=_PIPED_WIDTH)
    return console


def _err() -> Console:
    return _console(stderr=True)


def _out() -> Console:
    return _console(stderr=False)


def _percent(rate: Decimal | None) -> str:
    """A rate for people, to a hundredth of a percent: 24.43%."""
    return "?" if rate is None else format_percent(rate.quantize(Decimal("0.0001")))


def guarded(command: F) -> F:
    """Turn the library's errors into one line on stderr and a named exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except typer.Exit:
            raise
        except TariffError as exc:
            if _state["debug"]:
                raise
            code = next(
                (c for kind, c in _EXIT_FOR_ERROR.items() if isinstance(exc, kind)),
                ExitCode.BAD_INPUT,
            )
            _err().print(f"tariffcalc: error: {exc}", markup=False, soft_wrap=True)
            raise typer.Exit(code) from None
        except KeyboardInterrupt:
            _err().print("tariffcalc: interrupted", markup=False)
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        except Exception as exc:
            if _state["debug"]:
                raise
            _err().print(
                f"tariffcalc: internal error: {type(exc).__name__}: {exc} "
                "(run again with --debug for the traceback, and please report it)",
                markup=False,
                soft_wrap=True,
            )
            raise typer.Exit(ExitCode.INTERNAL_ERROR) from None

    return wrapper  # type: ignore[return-value]


@app.callback()
def _main_options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback of an error.")
    ] = False,
) -> None:
    _state["debug"] = debug


SchedulePath = Annotated[
    Path | None,
    typer.Option(
        "--schedule",
        help=f"Schedule file to use instead of the packaged tariffs.yaml (or set ${SCHEDULE_ENV}).",
        show_default=False,
    ),
]
ScenarioName = Annotated[
    str | None,
    typer.Option("--scenario", help="Named scenario of the schedule, e.g. hold-lifted."),
]
EntryDate = Annotated[
    str | None,
    typer.Option("--date", help="Entry date YYYY-MM-DD (default: today).", show_default=False),
]


# Options that describe the goods, shared by quote and timeline.
HtsOption = Annotated[
    str | None, typer.Option("--hts", help="HTS number: 8703.23.01, 87032301 or 8703230100.")
]
CategoryOption = Annotated[
    str | None,
    typer.Option(
        "--category", help="Instead of --hts: autos, auto-parts, steel, aluminum, general."
    ),
]
ValueOption = Annotated[
    str | None, typer.Option("--value", help="Customs value, in --currency (default USD).")
]
CurrencyOption = Annotated[str | None, typer.Option("--currency", help="ISO code, e.g. JPY.")]
FxRateOption = Annotated[
    str | None, typer.Option("--fx-rate", help="US dollars per unit of --currency.")
]
MfnRateOption = Annotated[
    str | None,
    typer.Option("--mfn-rate", help="The goods' MFN rate, 2.5% or 0.025 (overrides the table)."),
]
MetalContentOption = Annotated[
    str | None,
    typer.Option("--metal-content", help="Value of the steel/aluminum content (derivatives)."),
]
SteelContentOption = Annotated[
    str | None,
    typer.Option("--steel-content", help="Value of the steel content (on both metal lists)."),
]
AluminumContentOption = Annotated[
    str | None,
    typer.Option("--aluminum-content", help="Value of the aluminum content (both lists)."),
]
UsContentOption = Annotated[
    str | None, typer.Option("--us-content", help="Value of the US-originating content.")
]
NotAutoPartOption = Annotated[
    bool,
    typer.Option(
        "--not-auto-part", help="Not a part of a passenger vehicle or light truck (33(h)(ii))."
    ),
]
AnnexIiOption = Annotated[
    bool, typer.Option("--annex-ii", help="An Annex II good, exempt from the reciprocal duty.")
]
CivilAircraftOption = Annotated[
    bool,
    typer.Option("--civil-aircraft", help="An article of civil aircraft (9903.96.02)."),
]
QuantityOption = Annotated[
    str | None,
    typer.Option("--quantity", help="Quantity in the HTS unit (for a specific MFN rate)."),
]
ModeOption = Annotated[
    str | None,
    typer.Option("--mode", help="Transport: ocean, air or land (HMF on ocean cargo)."),
]


def _goods(
    hts: str | None,
    category: str | None,
    value: str | None,
    currency: str | None,
    fx_rate: str | None,
    mfn_rate: str | None,
    metal_content: str | None,
    steel_content: str | None,
    aluminum_content: str | None,
    us_content: str | None,
    not_auto_part: bool,
    annex_ii: bool,
    civil_aircraft: bool,
    mode: str | None,
    quantity: str | None = None,
) -> Shipment:
    """The shipment the goods options describe; errors name the option."""
    fields = {
        "hts": hts,
        "category": category,
        "value": value,
        "currency": currency,
        "fx_rate": fx_rate,
        "mfn_rate": mfn_rate,
        "metal_content": metal_content,
        "steel_content": steel_content,
        "aluminum_content": aluminum_content,
        "us_content": us_content,
        "not_auto_part": "true" if not_auto_part else None,
        "annex_ii": "true" if annex_ii else None,
        "civil_aircraft": "true" if civil_aircraft else None,
        "mode": mode,
        "quantity": quantity,
    }
    names = {key: "--" + key.replace("_", "-") for key in fields}
    shipment = shipment_from_fields(fields, names)
    return shipment


def _entry_date(text: str | None, option: str = "--date") -> date:
    return date.today() if text is None else parse_date(text, option)


def _schedule(path: Path | None) -> Schedule:
    """The schedule, with the MFN rates of an imported HTS revision if there is one."""
    schedule = load_schedule(path)
    table = default_table_path()
    if table.is_file():
        schedule = schedule.with_mfn(load_table(table))
    return schedule


def _choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        raise InputError(f"{option}: expected one of {', '.join(allowed)}, got {value!r}")
    return value


# ---------------------------------------------------------------------------------- quote


@app.command()
@guarded
def quote(
    hts: HtsOption = None,
    category: CategoryOption = None,
    value: ValueOption = None,
    entry_date: EntryDate = None,
    currency: CurrencyOption = None,
    fx_rate: FxRateOption = None,
    mfn_rate: MfnRateOption = None,
    metal_content: MetalContentOption = None,
    steel_content: SteelContentOption = None,
    aluminum_content: AluminumContentOption = None,
    us_content: UsContentOption = None,
    not_auto_part: NotAutoPartOption = False,
    annex_ii: AnnexIiOption = False,
    civil_aircraft: CivilAircraftOption = False,
    mode: ModeOption = None,
    quantity: QuantityOption = None,
    scenario: ScenarioName = None,
    schedule_path: SchedulePath = None,
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Price one shipment: every duty line, what was excluded and why, totals and exposure."""
    fmt = _choice(output_format, ("table", "json"), "--format")
    shipment = _goods(
        hts,
        category,
        value,
        currency,
        fx_rate,
        mfn_rate,
        metal_content,
        steel_content,
        aluminum_content,
        us_content,
        not_auto_part,
        annex_ii,
        civil_aircraft,
        mode,
        quantity,
    )
    on = _entry_date(entry_date)
    schedule = _schedule(schedule_path)
    result = price_shipment(schedule, shipment, on, scenario)
    if fmt == "json":
        print(json.dumps(quote_to_dict(result), indent=2))
    else:
        _render_quote(result)
    err = _err()
    for warning in result.warnings:
        err.print(f"warning: {warning}", markup=False, soft_wrap=True)


def _amount(value: Any) -> str:
    return "unknown" if value is None else f"{value:,.2f}"


def _render_quote(result: Quote) -> None:
    goods = result.hts or f"category {result.category}"
    value = f"USD {result.customs_value:,.2f}"
    if result.currency != "USD":
        value += f" ({result.currency} {result.value:,} at {result.fx_rate})"
    scenario = f", scenario {result.scenario}" if result.scenario else ""
    table = Table(
        title=f"{goods} ({result.category}), entered {result.entry_date}{scenario}: {value}",
        title_justify="left",
    )
    table.add_column("Duty", no_wrap=True)
    table.add_column("Heading", no_wrap=True)
    table.add_column("Rate", justify="right")
    table.add_column("On", justify="right")
    table.add_column("Amount", justify="right")
    table.add_column("Why")
    for line in result.lines:
        table.add_row(
            line.measure,
            line.heading,
            format_percent(line.rate),
            _amount(line.basis),
            _amount(line.amount),
            f"{line.why} [{line.authority}]",
        )
    for item in result.excluded:
        heading = item.heading or ""
        table.add_row(
            f"[dim]{item.measure}[/dim]", heading, "-", "", "excluded", f"[dim]{item.reason}[/dim]"
        )
    out = _out()
    out.print(table)
    if result.not_in_force:
        later = "; ".join(f"{item.measure} ({item.reason})" for item in result.not_in_force)
        out.print(f"Not in force on this date: {later}", markup=False, style="dim")
    rate = _percent(result.effective_rate)
    out.print(f"Base duty (MFN):        {_amount(result.base_duty)}")
    out.print(f"Additional (2025 law):  {_amount(result.additional_duty)}   <- exposure")
    out.print(f"Total duty:             {_amount(result.total_duty)}   effective rate {rate}")
    out.print(f"On hold (would add):    {_amount(result.on_hold_duty)}")
    if result.ieepa_duty:
        out.print(f"Collected under IEEPA:  {_amount(result.ieepa_duty)}   (refundable)")
    fees = f"MPF {_amount(result.mpf)}, HMF {_amount(result.hmf)}"
    out.print(f"Fees:                   {_amount(result.total_fees)}   ({fees})")
    out.print(f"Landed cost:            {_amount(result.landed_cost)}")


# ---------------------------------------------------------------------------------- batch


@app.command()
@guarded
def batch(
    input_file: Annotated[Path, typer.Argument(metavar="INPUT.csv", help="CSV of shipments.")],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write here (atomically) instead of stdout."),
    ] = None,
    output_format: Annotated[
        str | None,
        typer.Option("--format", help="csv or json (default: from -o's extension, else csv)."),
    ] = None,
    entry_date: EntryDate = None,
    scenario: ScenarioName = None,
    schedule_path: SchedulePath = None,
    encoding: Annotated[
        str, typer.Option("--encoding", help="Text encoding of the input, e.g. cp932.")
    ] = "utf-8-sig",
) -> None:
    """Price a CSV of shipments row by row; every row is written, bad rows marked."""
    if output_format is None:
        suffix = output.suffix.lower().lstrip(".") if output is not None else ""
        output_format = suffix if suffix in OUTPUT_FORMATS else "csv"
    fmt = _choice(output_format, OUTPUT_FORMATS, "--format")
    on = _entry_date(entry_date)
    if output is not None and output.resolve() == input_file.resolve():
        raise InputError(f"{output}: refusing to write the output over the input file")
    schedule = _schedule(schedule_path)
    schedule.scenario(scenario)
    err = _err()
    entries = None
    with open_input(input_file, encoding) as table:
        if "entry" in (name.lower() for name in table.header):
            entries = scan_entries(table, on)
    with open_input(input_file, encoding) as table:
        progress_console = err if err.is_terminal else None
        if output is None:
            summary = _price_with_progress(
                schedule, table, sys.stdout, fmt, on, scenario, entries, progress_console
            )
        else:
            with atomic_output(output) as stream:
                summary = _price_with_progress(
                    schedule, table, stream, fmt, on, scenario, entries, progress_console
                )
    report = err if output is None else _out()
    _render_summary(report, summary)
    for message in summary.first_errors:
        err.print(f"error: {message}", markup=False, soft_wrap=True)
    if summary.failed:
        raise typer.Exit(ExitCode.ROWS_FAILED)


def _price_with_progress(
    schedule: Schedule,
    table: InputTable,
    stream: IO[str],
    fmt: str,
    on: date,
    scenario: str | None,
    entries: dict[str, Entry] | None,
    console: Console | None,
) -> BatchSummary:
    if console is None:
        return price_table(
            schedule, table, stream, fmt=fmt, default_date=on, scenario=scenario, entries=entries
        )
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.completed:,} rows priced"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("pricing")

        def advance(number: int) -> None:
            if number % 1000 == 0:
                progress.update(task, completed=number)

        return price_table(
            schedule,
            table,
            stream,
            fmt=fmt,
            default_date=on,
            scenario=scenario,
            entries=entries,
            progress=advance,
        )


def _render_summary(console: Console, summary: BatchSummary) -> None:
    table = Table(
        title=f"{summary.rows} rows: {summary.priced} priced, {summary.failed} failed",
        title_justify="left",
    )
    for column in (
        "category",
        "rows",
        "customs value",
        "base duty",
        "additional",
        "on hold",
        "IEEPA",
        "eff. rate",
        "fees",
    ):
        table.add_column(column, justify="left" if column == "category" else "right")

    def add(name: str, totals: CategoryTotals) -> None:
        base = _amount(totals.base_duty)
        if totals.base_unknown_rows:
            base += f" (+? on {totals.base_unknown_rows})"
        rate = totals.effective_rate
        fees = _amount(totals.total_fees)
        if totals.fees_unknown_rows:
            fees += f" (+? on {totals.fees_unknown_rows})"
        table.add_row(
            name,
            f"{totals.rows:,}",
            _amount(totals.customs_value),
            base,
            _amount(totals.additional_duty),
            _amount(totals.on_hold_duty),
            _amount(totals.ieepa_duty),
            _percent(rate),
            fees,
        )

    for category in sorted(summary.by_category):
        add(category, summary.by_category[category])
    if len(summary.by_category) > 1:
        add("all", summary.total())
    console.print(table)


# ---------------------------------------------------------------------------------- rates


@app.command()
@guarded
def rates(
    entry_date: EntryDate = None,
    scenario: ScenarioName = None,
    schedule_path: SchedulePath = None,
    output_format: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
) -> None:
    """Print the rate of every measure on a date: in force, on hold, not yet, ended."""
    fmt = _choice(output_format, ("table", "json", "csv"), "--format")
    on = _entry_date(entry_date)
    schedule = _schedule(schedule_path)
    table_rows = rate_table(schedule, on, scenario)
    rows = [row.as_strings() for row in table_rows]
    if fmt == "json":
        print(json.dumps(rows, indent=2))
    elif fmt == "csv":
        import csv

        writer = csv.DictWriter(sys.stdout, fieldnames=list(RATE_COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        scenario_text = f", scenario {scenario}" if scenario else ""
        table = Table(title=f"{schedule.title}: rates on {on}{scenario_text}", title_justify="left")
        for column in (
            "measure",
            "category",
            "rate",
            "in_force",
            "status",
            "basis",
            "from",
            "to",
            "heading",
        ):
            table.add_column(column, no_wrap=column != "basis")
        table.add_column("authority", overflow="fold")
        for row, text in zip(table_rows, rows, strict=True):
            table.add_row(
                text["measure"],
                text["category"],
                _percent(row.rate),
                _percent(row.in_force),
                *(text[c] for c in ("status", "basis", "from", "to", "heading", "authority")),
            )
        out = _out()
        out.print(table)
        out.print(f"Reviewed through {schedule.reviewed_through}. Not modelled:", markup=False)
        for gap in schedule.gaps:
            out.print(f"  - {gap.topic}: {gap.note}", markup=False, soft_wrap=True)
    if on > schedule.reviewed_through:
        _err().print(
            f"warning: {on} is after {schedule.reviewed_through}, the last date this schedule has "
            "been reviewed for: rates in force after that date are not known to it",
            markup=False,
            soft_wrap=True,
        )


# ---------------------------------------------------------------------------------- timeline


@app.command()
@guarded
def timeline(
    hts: HtsOption = None,
    category: CategoryOption = None,
    value: Annotated[
        str, typer.Option("--value", help="Customs value in USD for the amounts shown.")
    ] = "10000",
    start: Annotated[
        str | None,
        typer.Option("--from", help="First entry date (default: the day before the first rule)."),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--to", help="Last entry date (default: the schedule's reviewed-through)."),
    ] = None,
    mfn_rate: MfnRateOption = None,
    metal_content: MetalContentOption = None,
    steel_content: SteelContentOption = None,
    aluminum_content: AluminumContentOption = None,
    us_content: UsContentOption = None,
    not_auto_part: NotAutoPartOption = False,
    annex_ii: AnnexIiOption = False,
    civil_aircraft: CivilAircraftOption = False,
    quantity: QuantityOption = None,
    scenario: ScenarioName = None,
    schedule_path: SchedulePath = None,
    output_format: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
) -> None:
    """Every entry date on which the duty on a good changed, with the measures behind it."""
    fmt = _choice(output_format, ("table", "json", "csv"), "--format")
    shipment = _goods(
        hts,
        category,
        value,
        None,
        None,
        mfn_rate,
        metal_content,
        steel_content,
        aluminum_content,
        us_content,
        not_auto_part,
        annex_ii,
        civil_aircraft,
        None,
        quantity,
    )
    schedule = _schedule(schedule_path)
    first = min(change_dates(schedule)) - timedelta(days=1)
    on_from = parse_date(start, "--from") if start else first
    on_to = parse_date(end, "--to") if end else schedule.reviewed_through
    steps = duty_timeline(schedule, shipment, on_from, on_to, scenario)
    rows = [
        {
            "from": step.start.isoformat(),
            "to": step.end.isoformat(),
            "total_rate": rate_or_none(step.total_rate),
            "total_duty": money_or_none(step.quote.total_duty) if step.quote else None,
            "additional_duty": money_or_none(step.quote.additional_duty) if step.quote else None,
            "on_hold_duty": money_or_none(step.quote.on_hold_duty) if step.quote else None,
            "measures": step.measures,
            "problem": step.problem,
        }
        for step in steps
    ]
    if fmt == "json":
        print(json.dumps(rows, indent=2))
        return
    if fmt == "csv":
        import csv

        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return
    goods = shipment.hts and format_hts(shipment.hts) or f"category {shipment.category}"
    table = Table(
        title=f"Duty on {goods}, customs value USD {shipment.value:,}", title_justify="left"
    )
    for column in ("from", "to", "total rate", "total duty", "measures"):
        table.add_column(column, justify="right" if column.startswith("total") else "left")
    for step, row in zip(steps, rows, strict=True):
        table.add_row(
            row["from"],
            row["to"],
            _percent(step.total_rate),
            _amount(step.quote.total_duty) if step.quote else "-",
            step.measures or (step.problem or ""),
        )
    out = _out()
    out.print(table)
    out.print()
    for line in step_chart(steps):
        out.print(line, markup=False, highlight=False)


# ---------------------------------------------------------------------------------- hts

hts_app = typer.Typer(help="The HTS itself: import MFN rates from the official USITC export.")
app.add_typer(hts_app, name="hts")


@hts_app.command("import")
@guarded
def hts_import(
    source: Annotated[Path, typer.Argument(metavar="FILE", help="USITC HTS export (JSON).")],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help=f"Table to write (default: ${MFN_TABLE_ENV} or the user data folder).",
        ),
    ] = None,
) -> None:
    """Read the USITC HTS JSON export into the local MFN table that quotes then use."""
    result = read_usitc_file(source)
    target = output or default_table_path()
    save_table(result, target)
    specific = sum(1 for rate in result.rates if rate.specific)
    out = _out()
    out.print(
        f"{target}: {len(result.rates)} MFN rates from {result.lines} HTS lines "
        f"({specific} with a specific part); {len(result.refused)} rates not understood",
        markup=False,
        soft_wrap=True,
    )
    for refused in result.refused[:10]:
        _err().print(f"not imported: {refused}", markup=False, soft_wrap=True)


# ---------------------------------------------------------------------------------- validate


@app.command()
@guarded
def validate(
    path: Annotated[
        Path | None, typer.Argument(help="Schedule file (default: the packaged tariffs.yaml).")
    ] = None,
) -> None:
    """Check a schedule file: strict YAML, known fields, consistent dates and references."""
    schedule_file = path or default_schedule_path()
    schedule = load_schedule(schedule_file)
    provisions = sum(len(plist.provisions) for plist in schedule.lists.values())
    _out().print(
        f"{schedule_file}: ok: {len(schedule.measures)} measures, {len(schedule.lists)} lists "
        f"({provisions} provisions), {len(schedule.mfn)} MFN rates, "
        f"{len(schedule.scenarios)} scenarios; reviewed through {schedule.reviewed_through}",
        markup=False,
        soft_wrap=True,
    )


def main() -> None:
    app()
