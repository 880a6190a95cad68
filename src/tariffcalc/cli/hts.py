"""`tariffcalc hts import`: the USITC HTS export into the local MFN table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..hts_import import (
    MFN_TABLE_ENV,
    default_table_path,
    read_usitc_file,
    save_table,
)
from ._app import (
    app,
    err_console,
    guarded,
    out_console,
)

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
    out = out_console()
    out.print(
        f"{target}: {len(result.rates)} MFN rates from {result.lines} HTS lines "
        f"({specific} with a specific part); {len(result.refused)} rates not understood",
        markup=False,
        soft_wrap=True,
    )
    for refused in result.refused[:10]:
        err_console().print(f"not imported: {refused}", markup=False, soft_wrap=True)
