"""`tariffcalc hts`: the HTS itself. `import` adds a newer USITC export as a revision; `show`
prints a line as the revision in force reads it and what the schedule does with it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .. import hts_export, htsdata
from ..errors import InputError
from ..hts import normalize_hts
from ..report import hts_line_report
from ..shipment import parse_date
from ._app import (
    EntryDate,
    SchedulePath,
    app,
    choice,
    entry_date_or_today,
    err_console,
    guarded,
    out_console,
    schedule_for,
)

hts_app = typer.Typer(help="The HTS itself: add a newer USITC export; show a line.")
app.add_typer(hts_app, name="hts")
# A complete HTS revision holds about 11,400 tariff lines outside chapters 98 and 99: a file with
# far fewer is a partial export, which would make every other line vanish from that date on.
_FEWEST_TARIFF_LINES = 10_000


@hts_app.command("import")
@guarded
def hts_import(
    source: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="USITC HTS export: JSON (.json, .json.gz) or CSV."),
    ],
    effective: Annotated[
        str,
        typer.Option("--effective", help="First entry date the revision applies to, YYYY-MM-DD."),
    ],
    name: Annotated[
        str | None,
        typer.Option("--name", help="Revision name (default: from the file, e.g. 2026_rev_21)."),
    ] = None,
    folder: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help=f"Folder of imported revisions (default: ${htsdata.HTS_DATA_ENV} or the user "
            "data folder).",
        ),
    ] = None,
) -> None:
    """Add a USITC HTS export as a revision that applies from --effective: every command then
    takes MFN rates, valid lines and chapter 99 texts from it for entries from that date."""
    on = parse_date(effective, "--effective")
    if not source.is_file():
        raise InputError(f"{source}: no such file (expected the USITC HTS export)")
    revision = name or hts_export.revision_name(source)
    try:  # every check before anything is written
        check = hts_export.check_export(hts_export.read_export(source), revision)
    except hts_export.ExportError as exc:  # the user's file, not the tool's data
        raise InputError(str(exc)) from None
    lines = check.tariff_lines
    if lines < _FEWEST_TARIFF_LINES:
        raise InputError(
            f"{source}: holds {lines} tariff lines with a rate; a complete HTS revision holds "
            "about 11,400. A partial export would make the other lines vanish from "
            f"{on}: import the complete USITC export"
        )
    target = folder or htsdata.user_folder()
    summary = hts_export.write_folder(
        target,
        [hts_export.ExportFile(source, revision, on)],
        append=True,
        built_by="tariffcalc hts import",
    )
    out = out_console()
    if summary.skipped:
        out.print(f"{target}: {source.name} is already imported; nothing changed", markup=False,
                  soft_wrap=True)
        return
    out.print(
        f"{target}: added revision {revision}, applying to entries from {on} "
        f"({lines} tariff lines)",
        markup=False,
        soft_wrap=True,
    )
    if folder is not None and folder.resolve() != htsdata.user_folder().resolve():
        out.print(f"set {htsdata.HTS_DATA_ENV}={target} for the commands to use it", markup=False,
                  soft_wrap=True)
    for warning in summary.warnings[:10]:
        err_console().print(f"warning: {warning}", markup=False, soft_wrap=True)


@hts_app.command("show")
@guarded
def hts_show(
    code: Annotated[str, typer.Argument(metavar="CODE", help="HTS number, e.g. 8703.23.01.")],
    entry_date: EntryDate = None,
    schedule_path: SchedulePath = None,
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Print an HTS line as the revision in force reads it (description, unit, MFN) and the
    lists and measures that reach it on the date."""
    fmt = choice(output_format, ("table", "json"), "--format")
    on = entry_date_or_today(entry_date)
    report = hts_line_report(schedule_for(schedule_path), normalize_hts(code, "CODE"), on)
    if fmt == "json":
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return
    out = out_console()

    def say(text: str) -> None:
        out.print(text, markup=False, soft_wrap=True)

    say(f"{report['hts']} on {report['entry_date']} (HTS {report['revision']}, USITC export)")
    say(f"  {report['description']}")
    units = ", ".join(report["units"]) or "-"
    say(f"  unit: {units}; MFN (column 1 general): {report['general'] or 'none'}")
    if report["category"] is not None:
        say(f"  category: {report['category']}")
    for item in report["lists"]:
        since = f", from {item['from']}" if item["from"] else ""
        say(f"  on list {item['list']} as {item['provision']}{since}: {item['title']}")
    for item in report["measures"]:
        rate = item["rate"] or "not established"
        kind = " inclusive of MFN" if item["inclusive_of_mfn"] else ""
        charged = {True: "charged", False: "reaches it, not charged", None: "reaches it"}
        say(f"  {item['measure']} ({item['heading']}): {rate}{kind} on the {item['basis']}: "
            f"{charged[item['charged']]}")
    for item in report["excluded"]:
        say(f"  excluded from {item['measure']}: {item['reason']}")
    for item in report["not_in_force"]:
        say(f"  not in force: {item['measure']} ({item['reason']})")
    for warning in report["warnings"]:
        err_console().print(f"warning: {warning}", markup=False, soft_wrap=True)
