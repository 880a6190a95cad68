"""`tariffcalc validate`: check a schedule file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..rules import default_schedule_path, load_schedule
from ._app import (
    app,
    guarded,
    out_console,
)


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
    out_console().print(
        f"{schedule_file}: ok: {len(schedule.measures)} measures, {len(schedule.lists)} lists "
        f"({provisions} provisions), {len(schedule.mfn)} MFN rates, "
        f"{len(schedule.scenarios)} scenarios; reviewed through {schedule.reviewed_through}",
        markup=False,
        soft_wrap=True,
    )
