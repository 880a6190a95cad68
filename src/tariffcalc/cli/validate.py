"""`tariffcalc validate`: check a schedule file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..loading import cache_problem, load_schedule
from ..rules import default_schedule_path
from ._app import (
    app,
    err_console,
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
    # Always the file itself, never the cache: what is checked is what the file says (and the
    # cache is written again from it).
    schedule = load_schedule(schedule_file, cached=False)
    provisions = sum(len(plist.provisions) for plist in schedule.lists.values())
    out_console().print(
        f"{schedule_file}: ok: {len(schedule.measures)} measures, {len(schedule.lists)} lists "
        f"({provisions} provisions), {len(schedule.mfn)} MFN rates, "
        f"{len(schedule.scenarios)} scenarios; reviewed through {schedule.reviewed_through}",
        markup=False,
        soft_wrap=True,
    )
    problem = cache_problem()
    if problem is not None:  # every command then validates the YAML: slower, never wrong
        err_console().print(
            f"warning: the schedule cache is not used: {problem}", markup=False, soft_wrap=True
        )
