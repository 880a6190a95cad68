"""`tariffcalc refunds`: IEEPA refunds from an ACE entry report to CAPE declarations."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..ace_report import open_refund_source
from ..errors import InputError
from ..excel import is_workbook, sheet_as_csv
from ..money import ZERO_MONEY
from ..refunds import (
    NOW,
    STATUSES,
    RefundSummary,
    RefundTerms,
    Tally,
    assess,
    entries_csv,
    refund_rules,
    summarize,
    write_outputs,
)
from ._app import (
    EntryDate,
    ExitCode,
    SchedulePath,
    amount_text,
    app,
    choice,
    column_overrides,
    entry_date_or_today,
    err_console,
    guarded,
    out_console,
    schedule_for,
)

_STATUS_TEXT = {
    "cape-now": "CAPE now",
    "cape-later": "CAPE later",
    "protest": "protest instead",
    "not-eligible": "not refundable",
    "not-established": "not established",
    "error": "bad entry or row",
}


@app.command()
@guarded
def refunds(
    report_file: Annotated[
        Path,
        typer.Argument(
            metavar="REPORT",
            help="ACE ES-003 entry summary line tariff report, CSV or .xlsx (or a batch file "
            "with entry numbers, for an estimate).",
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Folder for the CAPE declaration file(s) and refunds.csv (default: the "
            "per-entry CSV to stdout, no declaration).",
        ),
    ] = None,
    filing_date: Annotated[
        str | None,
        typer.Option("--filing-date", help="Date the CAPE declaration is filed (default: today)."),
    ] = None,
    interest_to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="Interest runs to this date (default: the filing date + CBP's usual 45 days).",
        ),
    ] = None,
    corporate: Annotated[
        bool | None,
        typer.Option(
            "--corporate/--non-corporate",
            help="The importer's overpayment rate (a corporation's is a point lower).",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="Per-entry file: csv or json.")
    ] = "csv",
    entry_date: EntryDate = None,
    sheet: Annotated[
        str | None, typer.Option("--sheet", help="Workbook report: the sheet (default: first).")
    ] = None,
    schedule_path: SchedulePath = None,
    encoding: Annotated[
        str, typer.Option("--encoding", help="Text encoding of the report, e.g. cp932.")
    ] = "utf-8-sig",
    column: Annotated[
        list[str] | None,
        typer.Option(
            "--column",
            metavar="FIELD=HEADER",
            help="Read FIELD (entry_number, duty, liquidation_date, ...) from the column "
            "named HEADER. Repeatable.",
        ),
    ] = None,
) -> None:
    """IEEPA duty to claim back: each entry's deposit, the duty the schedule computes, CAPE
    eligibility on the filing date, an interest estimate, and the CAPE declaration file(s)."""
    fmt = choice(output_format, ("csv", "json"), "--format")
    filing = entry_date_or_today(filing_date, "--filing-date")
    end = entry_date_or_today(interest_to, "--to") if interest_to is not None else None
    if output is not None and not output.is_dir():
        raise InputError(f"-o {output}: expected an existing folder")
    schedule = schedule_for(schedule_path)
    rules = refund_rules(schedule)
    with tempfile.TemporaryDirectory(prefix="tariffcalc-") as folder:
        name = str(report_file)
        if is_workbook(report_file):  # ACE exports .xlsx too: its sheet read as CSV
            sheet_csv = Path(folder) / "report.csv"
            name, report_file, encoding = (
                sheet_as_csv(report_file, sheet, sheet_csv),
                sheet_csv,
                "utf-8",
            )
        report = open_refund_source(
            schedule,
            report_file,
            default_date=entry_date_or_today(entry_date),
            encoding=encoding,
            columns=column_overrides(column or []),
            name=name,
        )
    terms = RefundTerms(filing, end, corporate if corporate is not None else True)
    assessed = assess(schedule, report, terms)
    summary = summarize(assessed, report, rules.max_entries)
    err = err_console()
    if output is None:
        sys.stdout.write(entries_csv(assessed))
        shown = err
    else:
        written = write_outputs(assessed, output, rules.max_entries, fmt)
        shown = out_console()
        for path in written:
            shown.print(f"wrote {path}", markup=False, soft_wrap=True)
    _render(shown, summary, report.source, report.estimate, written=output is not None)
    end_text = terms.interest_end(rules)
    shown.print(
        f"Interest: an estimate to {end_text}, compounded daily at the IRS overpayment rates "
        f"for {'corporations' if terms.corporate else 'non-corporate importers'}"
        + ("" if corporate is not None else " (say --non-corporate if the importer is not one)")
        + "; CAPE's own method is not published.",
        markup=False,
        soft_wrap=True,
    )
    if summary.deposited == 0 and not report.estimate:
        err.print(
            f"{report.source}: no IEEPA chapter 99 line in the report: nothing to claim back",
            markup=False,
            soft_wrap=True,
        )
    for problem in summary.stray_rows[:5]:
        err.print(f"error: {report.source}: {problem}", markup=False, soft_wrap=True)
    if summary.tally("error").entries or summary.stray_rows:
        raise typer.Exit(ExitCode.ROWS_FAILED)


def _render(
    console: Console, summary: RefundSummary, source: str, estimate: bool, written: bool
) -> None:
    what = "estimated IEEPA duty" if estimate else "IEEPA deposited"
    table = Table(
        title=f"{source}: {summary.entries:,} entries, {what} {amount_text(summary.deposited)}",
        title_justify="left",
    )
    for column in ("status", "entries", what, "interest (est.)"):
        table.add_column(column, justify="left" if column == "status" else "right")

    def row(name: str, tally: Tally) -> None:
        table.add_row(
            name, f"{tally.entries:,}", amount_text(tally.deposited), amount_text(tally.interest)
        )

    for status in STATUSES:
        if status in summary.by_status:
            row(_STATUS_TEXT[status], summary.by_status[status])
    console.print(table)

    months = Table(title="By month of entry summary", title_justify="left")
    for column in ("month", "entries", what, "CAPE now", "interest now (est.)"):
        months.add_column(column, justify="left" if column == "month" else "right")
    for month in sorted(summary.by_month):
        tallies = summary.by_month[month]
        now = tallies.get(NOW, Tally())
        months.add_row(
            month,
            f"{sum(t.entries for t in tallies.values()):,}",
            amount_text(sum((t.deposited for t in tallies.values()), ZERO_MONEY)),
            amount_text(now.deposited),
            amount_text(now.interest),
        )
    console.print(months)

    reasons = Table(title="By reason", title_justify="left")
    for column in ("reason", "entries", what):
        reasons.add_column(column, justify="left" if column == "reason" else "right")
    ranked = sorted(summary.by_reason.items(), key=lambda item: -item[1].entries)
    for reason, tally in ranked[:12]:
        reasons.add_row(reason, f"{tally.entries:,}", amount_text(tally.deposited))
    if len(ranked) > 12:
        reasons.add_row(f"... {len(ranked) - 12} more (see the per-entry file)", "", "")
    console.print(reasons)
    files = f"{summary.declarations} CAPE declaration file(s)"
    notes = [files if written else f"{files} with -o DIR"]
    if summary.warned:
        notes.append(f"{summary.warned:,} entries with a warning (column warnings)")
    if summary.differing:
        notes.append(
            f"{summary.differing:,} entries whose deposit differs from the schedule's duty "
            "(column likely_cause)"
        )
    console.print("; ".join(notes) + ".", markup=False, soft_wrap=True)
