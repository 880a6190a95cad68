"""`tariffcalc rates`: the rate of every measure on a date."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from ..rates import RATE_COLUMNS, rate_table
from ._app import (
    EntryDate,
    ScenarioName,
    SchedulePath,
    app,
    choice,
    entry_date_or_today,
    err_console,
    guarded,
    out_console,
    percent_text,
    schedule_for,
)


@app.command()
@guarded
def rates(
    entry_date: EntryDate = None,
    scenario: ScenarioName = None,
    schedule_path: SchedulePath = None,
    output_format: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
) -> None:
    """Print the rate of every measure on a date: in force, on hold, not yet, ended."""
    fmt = choice(output_format, ("table", "json", "csv"), "--format")
    on = entry_date_or_today(entry_date)
    schedule = schedule_for(schedule_path)
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
        shown = [column for column in RATE_COLUMNS if column != "title"]
        for column in shown:
            wraps = column in ("basis", "authority")
            table.add_column(column, no_wrap=not wraps, min_width=12 if wraps else None)
        for row, text in zip(table_rows, rows, strict=True):
            # Rates for people (25%, 2.5%); the other cells as in the CSV.
            text.update(rate=percent_text(row.rate), in_force=percent_text(row.in_force))
            table.add_row(*(text[column] for column in shown))
        out = out_console()
        out.print(table)
        out.print(f"Reviewed through {schedule.reviewed_through}. Not modelled:", markup=False)
        for gap in schedule.gaps:
            out.print(f"  - {gap.topic}: {gap.note}", markup=False, soft_wrap=True)
    review = schedule.review_warning(on)
    if review:
        err_console().print(f"warning: {review}", markup=False, soft_wrap=True)
