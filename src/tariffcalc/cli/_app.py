"""What every command shares: the app, exit codes, error handling, consoles and options."""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import sys
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from enum import IntEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from ..errors import InputError, OutputError, ScheduleError, TariffError, UnknownRateError
from ..loading import load_schedule
from ..money import format_percent
from ..rules import SCHEDULE_ENV, Schedule
from ..shipment import DECLARATIONS, CellFormat, Shipment, parse_date, shipment_from_fields
from ._values import hand_over_values_as_given

hand_over_values_as_given()


class ExitCode(IntEnum):
    """Exit codes of every command (documented in the README)."""

    OK = 0
    INTERNAL_ERROR = 1  # a bug: please report it with --debug output
    USAGE = 2  # unknown option, missing argument (reported by the option parser)
    BAD_INPUT = 3  # a shipment, an option value or an input file cannot be used
    BAD_SCHEDULE = 4  # the schedule file cannot be used
    UNKNOWN_RATE = 5  # the law needs a rate (e.g. MFN) that is neither known nor given
    ROWS_FAILED = 6  # batch: some rows could not be priced (every row is still written)
    CANNOT_WRITE = 7  # the output cannot be written (disk full, device error...)
    INTERRUPTED = 130  # Ctrl-C (SIGTERM: 143, SIGHUP: 129, i.e. 128 + the signal)
    BROKEN_PIPE = 141  # the reader of the output went away (`... | head`), as for SIGPIPE


_EXIT_FOR_ERROR: dict[type[TariffError], ExitCode] = {
    ScheduleError: ExitCode.BAD_SCHEDULE,
    UnknownRateError: ExitCode.UNKNOWN_RATE,
    OutputError: ExitCode.CANNOT_WRITE,
    InputError: ExitCode.BAD_INPUT,
}

app = typer.Typer(
    name="tariffcalc",
    help="US duties on goods of Japan by entry date (MFN, IEEPA, Sections 232, 122 and 301), "
    "fees, landed cost and IEEPA refunds.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_state = {"debug": False}
# Failures only a write can meet (on stdout, say): the output cannot be written, not a bug.
_WRITE_FAILURES = frozenset((errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EBADF))
F = TypeVar("F", bound=Callable[..., Any])


# Tables written to a file or a pipe get room enough not to be cut.
_PIPED_WIDTH = 160


def _console(stderr: bool) -> Console:
    console = Console(stderr=stderr, highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(stderr=stderr, highlight=False, width=_PIPED_WIDTH)
    return console


def err_console() -> Console:
    return _console(stderr=True)


def out_console() -> Console:
    return _console(stderr=False)


def percent_text(rate: Decimal | None) -> str:
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
            err_console().print(f"tariffcalc: error: {exc}", markup=False, soft_wrap=True)
            raise typer.Exit(code) from None
        except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM/SIGHUP (cli.Terminated)
            err_console().print("tariffcalc: interrupted", markup=False)
            signum = getattr(stop, "signum", None)
            raise typer.Exit(ExitCode.INTERRUPTED if signum is None else 128 + signum) from None
        except BrokenPipeError:
            # The output's reader has all it wanted: stop quietly (and let Python's last
            # flush of stdout at exit go nowhere instead of failing again).
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(ExitCode.BROKEN_PIPE) from None
        except Exception as exc:
            from . import stop_signal

            signum = stop_signal()
            if signum is not None:  # stopped, and a library lost the signal's exception
                err_console().print("tariffcalc: interrupted", markup=False)
                raise typer.Exit(128 + signum) from None
            if _state["debug"]:
                raise
            if isinstance(exc, OSError) and exc.errno in _WRITE_FAILURES:
                message, code = (
                    f"error: cannot write the output: {exc.strerror}",
                    ExitCode.CANNOT_WRITE,
                )
            else:
                message, code = (
                    f"internal error: {type(exc).__name__}: {exc} "
                    "(run again with --debug for the traceback, and please report it)",
                    ExitCode.INTERNAL_ERROR,
                )
            err_console().print(f"tariffcalc: {message}", markup=False, soft_wrap=True)
            raise typer.Exit(code) from None

    return wrapper  # type: ignore[return-value]


def _show_version(given: bool) -> None:
    if given:
        from .. import __version__

        print(f"tariffcalc {__version__}")
        raise typer.Exit()


@app.callback()
def _main_options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback of an error.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Show the version and exit.", is_eager=True, callback=_show_version
        ),
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
    bool | None,
    typer.Option(
        "--not-auto-part/--auto-part",
        help="Not a part of a passenger vehicle or light truck (33(h)(ii)), or one.",
        show_default=False,
    ),
]
AnnexIiOption = Annotated[
    bool, typer.Option("--annex-ii", help="An Annex II good, exempt from the reciprocal duty.")
]
CivilAircraftOption = Annotated[
    bool,
    typer.Option("--civil-aircraft", help="An article of civil aircraft (9903.96.02)."),
]
LoadedOnOption = Annotated[
    str | None,
    typer.Option(
        "--loaded-on",
        help="Date the goods were loaded on the vessel, YYYY-MM-DD (in-transit rules).",
        show_default=False,
    ),
]
OriginOption = Annotated[
    str | None,
    typer.Option("--origin", help="Country of origin (default Japan; any other is refused)."),
]
FxPerUsdOption = Annotated[
    bool,
    typer.Option(
        "--fx-per-usd",
        help="--fx-rate is units of the currency per US dollar (150 yen), not dollars per unit.",
    ),
]
CopperContentOption = Annotated[
    str | None,
    typer.Option("--copper-content", help="Value of the copper content (copper 232, 2025-26)."),
]


def _declaration(name: str) -> Any:
    """The option (or pair of options) of a declaration of shipment.DECLARATIONS."""
    found = next(d for d in DECLARATIONS if d.field == name)
    names = found.option if found.negative is None else f"{found.option}/{found.negative}"
    return Annotated[bool | None, typer.Option(names, help=found.help, show_default=False)]


NoMetalOption = _declaration("no_metal")
MetalWeightOption = _declaration("metal_weight_under_15")
UsMetalOption = _declaration("us_metal")
AdvancedChipsOption = _declaration("advanced_chips")
ChipEndUseOption = _declaration("chip_end_use_exempt")
GenericPharmaOption = _declaration("generic_pharma")
AnnexIiiOption = _declaration("non_annex_iii_company")
NotHeavyVehicleOption = _declaration("not_heavy_vehicle")
NotWoodenOption = _declaration("not_wooden")
AlliedComponentsOption = _declaration("allied_components")
CertifiedAutoPartOption = _declaration("certified_auto_part")

QuantityOption = Annotated[
    str | None,
    typer.Option("--quantity", help="Quantity in the HTS unit (for a specific MFN rate)."),
]
ModeOption = Annotated[
    str | None,
    typer.Option("--mode", help="Transport: ocean, air or land (HMF on ocean cargo)."),
]


def goods_from_options(
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
    not_auto_part: bool | None,
    annex_ii: bool,
    civil_aircraft: bool,
    mode: str | None,
    quantity: str | None = None,
    copper_content: str | None = None,
    declarations: dict[str, bool | None] | None = None,
    origin: str | None = None,
    loaded_on: str | None = None,
    fx_per_usd: bool = False,
) -> Shipment:
    """The shipment the goods options describe; errors name the option. ``declarations``
    holds the options of shipment.DECLARATIONS by field (None: not given)."""
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
        "copper_content": copper_content,
        "origin": origin,
        "loaded_on": loaded_on,
        "not_auto_part": _flag_text(not_auto_part),
        "annex_ii": "true" if annex_ii else None,
        "civil_aircraft": "true" if civil_aircraft else None,
        "mode": mode,
        "quantity": quantity,
    }
    names = {key: "--" + key.replace("_", "-") for key in fields}
    for declaration in DECLARATIONS:
        given = (declarations or {}).get(declaration.field)
        fields[declaration.field] = _flag_text(given)
        names[declaration.field] = (
            declaration.option if given or declaration.negative is None else declaration.negative
        )
    shipment = shipment_from_fields(fields, names, CellFormat(fx_per_usd=fx_per_usd))
    return shipment


def declared(options: dict[str, Any]) -> dict[str, bool | None]:
    """The declaration options of a command (its ``locals()``), by shipment field."""
    return {d.field: options[d.field] for d in DECLARATIONS}


def _flag_text(given: bool | None) -> str | None:
    return None if given is None else ("true" if given else "false")


def entry_date_or_today(text: str | None, option: str = "--date") -> date:
    return date.today() if text is None else parse_date(text, option)


def schedule_for(path: Path | None) -> Schedule:
    """The schedule of --schedule (or $TARIFFCALC_SCHEDULE, or the packaged one)."""
    return load_schedule(path)


def choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        raise InputError(f"{option}: expected one of {', '.join(allowed)}, got {value!r}")
    return value


def amount_text(value: Any) -> str:
    return "unknown" if value is None else f"{value:,.2f}"


def column_overrides(options: list[str]) -> dict[str, str]:
    """--column FIELD=HEADER options as {field: header}."""
    overrides: dict[str, str] = {}
    for option in options:
        field_name, sep, header = option.partition("=")
        if not sep or not field_name.strip() or not header.strip():
            raise InputError(
                f"--column: expected FIELD=HEADER such as hts=Tariff No., got {option!r}"
            )
        overrides[field_name.strip().lower()] = header
    return overrides
