"""`tariffcalc timeline`: the dates on which a good's duty changed."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from ..hts import format_hts
from ..report import money_or_none, rate_or_none
from ..shipment import parse_date
from ..timeline import duty_timeline, step_chart, timeline_span
from ._app import (
    AdvancedChipsOption,
    AlliedComponentsOption,
    AluminumContentOption,
    AnnexIiiOption,
    AnnexIiOption,
    CategoryOption,
    CertifiedAutoPartOption,
    ChipEndUseOption,
    CivilAircraftOption,
    CopperContentOption,
    GenericPharmaOption,
    HtsOption,
    LoadedOnOption,
    MetalContentOption,
    MetalWeightOption,
    MfnRateOption,
    NoMetalOption,
    NotAutoPartOption,
    NotHeavyVehicleOption,
    NotWoodenOption,
    OriginOption,
    QuantityOption,
    ScenarioName,
    SchedulePath,
    SteelContentOption,
    UsContentOption,
    UsMetalOption,
    amount_text,
    app,
    choice,
    declared,
    err_console,
    goods_from_options,
    guarded,
    out_console,
    percent_text,
    schedule_for,
)


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
        typer.Option(
            "--from",
            help="First entry date (default, and earliest: the first date of the schedule's law).",
        ),
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
    not_auto_part: NotAutoPartOption = None,
    annex_ii: AnnexIiOption = False,
    civil_aircraft: CivilAircraftOption = False,
    copper_content: CopperContentOption = None,
    origin: OriginOption = None,
    loaded_on: LoadedOnOption = None,
    no_metal: NoMetalOption = None,
    metal_weight_under_15: MetalWeightOption = None,
    us_metal: UsMetalOption = None,
    advanced_chips: AdvancedChipsOption = None,
    chip_end_use_exempt: ChipEndUseOption = None,
    generic_pharma: GenericPharmaOption = None,
    non_annex_iii_company: AnnexIiiOption = None,
    not_heavy_vehicle: NotHeavyVehicleOption = None,
    not_wooden: NotWoodenOption = None,
    allied_components: AlliedComponentsOption = None,
    certified_auto_part: CertifiedAutoPartOption = None,
    quantity: QuantityOption = None,
    scenario: ScenarioName = None,
    schedule_path: SchedulePath = None,
    output_format: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
) -> None:
    """Every entry date on which the duty on a good changed, with the measures behind it."""
    declarations = declared(locals())
    fmt = choice(output_format, ("table", "json", "csv"), "--format")
    shipment = goods_from_options(
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
        copper_content,
        declarations,
        origin,
        loaded_on,
    )
    schedule = schedule_for(schedule_path)
    span = timeline_span(
        schedule,
        parse_date(start, "--from") if start else None,
        parse_date(end, "--to") if end else None,
        labels=("--from", "--to"),
    )
    steps = duty_timeline(schedule, shipment, span.start, span.end, scenario)
    for warning in span.warnings:
        err_console().print(f"warning: {warning}", markup=False, soft_wrap=True)
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
            percent_text(step.total_rate),
            amount_text(step.quote.total_duty) if step.quote else "-",
            step.measures or (step.problem or ""),
        )
    out = out_console()
    out.print(table)
    out.print()
    for line in step_chart(steps):
        out.print(line, markup=False, highlight=False)
