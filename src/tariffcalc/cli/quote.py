"""`tariffcalc quote`: price one shipment."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from ..engine import Quote, price_shipment
from ..money import format_percent
from ..rules import Schedule
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
    CurrencyOption,
    EntryDate,
    FxPerUsdOption,
    FxRateOption,
    GenericPharmaOption,
    HtsOption,
    LoadedOnOption,
    MetalContentOption,
    MetalWeightOption,
    MfnRateOption,
    ModeOption,
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
    ValueOption,
    amount_text,
    app,
    choice,
    declared,
    entry_date_or_today,
    err_console,
    goods_from_options,
    guarded,
    out_console,
    percent_text,
    schedule_for,
)


@app.command()
@guarded
def quote(
    hts: HtsOption = None,
    category: CategoryOption = None,
    value: ValueOption = None,
    entry_date: EntryDate = None,
    currency: CurrencyOption = None,
    fx_rate: FxRateOption = None,
    fx_per_usd: FxPerUsdOption = False,
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
    mode: ModeOption = None,
    quantity: QuantityOption = None,
    scenario: ScenarioName = None,
    schedule_path: SchedulePath = None,
    output_format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Price one shipment: every duty line, what was excluded and why, totals and exposure."""
    declarations = declared(locals())
    fmt = choice(output_format, ("table", "json"), "--format")
    shipment = goods_from_options(
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
        copper_content,
        declarations,
        origin,
        loaded_on,
        fx_per_usd,
    )
    on = entry_date_or_today(entry_date)
    schedule = schedule_for(schedule_path)
    result = price_shipment(schedule, shipment, on, scenario)
    if fmt == "json":
        from ..audit import audit_stamp
        from ..report import quote_to_dict

        print(
            json.dumps(
                {**quote_to_dict(result), "stamp": audit_stamp(schedule, on)},
                indent=2,
            )
        )
    else:
        _render_quote(result, schedule)
    err = err_console()
    for warning in result.warnings:
        err.print(f"warning: {warning}", markup=False, soft_wrap=True)


def _render_quote(result: Quote, schedule: Schedule) -> None:
    goods = result.hts or f"category {result.category}"
    value = f"USD {result.customs_value:,.2f}"
    if result.currency != "USD":
        rate = (
            f"{result.fx_rate}" if result.fx_per_usd is None
            else f"{result.fx_per_usd} {result.currency} per USD"
        )  # fmt: skip
        value += f" ({result.currency} {result.value:,} at {rate})"
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
            amount_text(line.basis),
            amount_text(line.amount),
            f"{line.why} [{line.authority}]",
        )
    for item in result.excluded:
        heading = item.heading or ""
        table.add_row(
            f"[dim]{item.measure}[/dim]", heading, "-", "", "excluded", f"[dim]{item.reason}[/dim]"
        )
    out = out_console()
    out.print(table)
    # A measure on every good that starts after the entry date says nothing about these goods
    # (the JSON still lists it); one that concerns them (a listed good, an ended duty) does.
    notes = [
        f"{item.measure} ({item.reason})"
        for item in result.not_in_force
        if not (item.kind == "not-yet-in-force" and schedule.measure(item.measure).scope.all_goods)
    ]
    if notes:
        out.print(f"Not in force on this date: {'; '.join(notes)}", markup=False, style="dim")
    rate = percent_text(result.effective_rate)
    out.print(f"Base duty (MFN):        {amount_text(result.base_duty)}")
    out.print(f"Additional (2025-26):   {amount_text(result.additional_duty)}   <- exposure")
    out.print(f"Total duty:             {amount_text(result.total_duty)}   effective rate {rate}")
    out.print(f"On hold (would add):    {amount_text(result.on_hold_duty)}")
    if result.ieepa_duty:
        out.print(f"Collected under IEEPA:  {amount_text(result.ieepa_duty)}   (refundable)")
    fees = f"MPF {amount_text(result.mpf)}, HMF {amount_text(result.hmf)}"
    out.print(f"Fees:                   {amount_text(result.total_fees)}   ({fees})")
    out.print(f"Landed cost:            {amount_text(result.landed_cost)}")
