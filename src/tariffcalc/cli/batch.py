"""`tariffcalc batch`: price a CSV of shipments."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ..audit import audit_stamp
from ..batch import BatchSummary, CategoryTotals
from ..config import Profile, load_profile
from ..errors import InputError, OutputError
from ..excel import is_workbook, sheet_as_csv, write_results_workbook
from ..notices import WARNING_STYLES
from ..outputs import FORMAT_BY_EXTENSION, OUTPUT_FORMATS, atomic_output
from ..rules import Schedule
from ..shipment import PLAIN_CELLS, CellFormat
from ..tables import InputTable, open_input
from ._app import (
    EntryDate,
    ExitCode,
    ScenarioName,
    SchedulePath,
    amount_text,
    app,
    choice,
    column_overrides,
    entry_date_or_today,
    err_console,
    guarded,
    out_console,
    percent_text,
    schedule_for,
)


@app.command()
@guarded
def batch(
    input_file: Annotated[
        Path, typer.Argument(metavar="INPUT.csv", help="CSV of shipments (- for stdin).")
    ],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write here (atomically) instead of stdout."),
    ] = None,
    output_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="csv, json, jsonl or parquet (default: from -o's extension, else csv).",
        ),
    ] = None,
    entry_date: EntryDate = None,
    scenario: ScenarioName = None,
    schedule_path: SchedulePath = None,
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help="Text encoding of the input, e.g. cp932 (default UTF-8)."),
    ] = None,
    column: Annotated[
        list[str] | None,
        typer.Option(
            "--column",
            metavar="FIELD=HEADER",
            help="Read FIELD (hts, value, date, ...) from the column named HEADER. Repeatable.",
        ),
    ] = None,
    sheet: Annotated[
        str | None, typer.Option("--sheet", help="Workbook input: the sheet (default: first).")
    ] = None,
    thousands: Annotated[
        str | None,
        typer.Option(
            "--thousands",
            help="Amounts group thousands with this mark (, . ' or space): 4,500,000. Never "
            "guessed.",
        ),
    ] = None,
    date_format: Annotated[
        str | None,
        typer.Option(
            "--date-format",
            help="Dates in this strptime format, e.g. %d.%m.%Y (YYYY-MM-DD, YYYY/MM/DD and "
            "YYYY年M月D日 are always read).",
        ),
    ] = None,
    delimiter: Annotated[
        str | None,
        typer.Option(
            "--delimiter", help="Field separator (default: found from the header: , ; tab |)."
        ),
    ] = None,
    fx_per_usd: Annotated[
        bool | None,
        typer.Option(
            "--fx-per-usd",
            help="fx_rate cells are units of the currency per US dollar (150 yen), not US "
            "dollars per unit.",
            show_default=False,
        ),
    ] = None,
    bom: Annotated[
        bool | None,
        typer.Option(
            "--bom/--no-bom",
            help="Begin a CSV output with a UTF-8 byte order mark, so that Excel reads "
            "Japanese text (default: when the input had one, was cp932/Shift_JIS or a "
            "workbook).",
            show_default=False,
        ),
    ] = None,
    profile_name: Annotated[
        str | None,
        typer.Option("--profile", help="Settings of a profile of the config file (see --config)."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Config file of profiles (default: the platform's)."),
    ] = None,
    warnings: Annotated[
        str,
        typer.Option(
            "--warnings",
            help="Rows carry their warnings as codes (the text once, in the summary) or as text.",
        ),
    ] = "codes",
) -> None:
    """Price a file of shipments (CSV or a workbook): every row written, in order, bad ones
    marked."""
    profile = load_profile(profile_name, config) if profile_name is not None else None
    settings = _Settings.of(profile, locals())
    if output_format is None:
        suffix = output.suffix.lower() if output is not None else ""
        if suffix in _SPREADSHEETS and suffix != ".xlsx":
            raise InputError(
                f"-o {output}: workbooks are written as .xlsx; write a .xlsx, .csv, .json, "
                ".jsonl or .parquet, or say --format"
            )
        output_format = "xlsx" if suffix == ".xlsx" else FORMAT_BY_EXTENSION.get(suffix, "csv")
    fmt = choice(output_format, (*OUTPUT_FORMATS, "xlsx"), "--format")
    if fmt in ("parquet", "xlsx") and output is None:
        raise InputError(f"--format {fmt}: the output is binary; give an output file with -o")
    columns = {**(profile.columns if profile else {}), **column_overrides(column or [])}
    on = entry_date_or_today(entry_date)
    from_stdin = str(input_file) == "-"
    if not from_stdin and output is not None and output.resolve() == input_file.resolve():
        raise InputError(f"{output}: refusing to write the output over the input file")
    schedule = schedule_for(schedule_path)
    schedule.scenario(scenario)
    err = err_console()
    with contextlib.ExitStack() as status:
        name = str(input_file)
        if from_stdin:  # read once into a file of its own: the batch reads a file in parts
            input_file, name = status.enter_context(_stream_copy(None)), "<stdin>"
        elif _not_a_file(input_file):  # a FIFO or <(...): the same
            input_file = status.enter_context(_stream_copy(input_file))
        workbook_input = is_workbook(input_file)
        if workbook_input:  # the sheet as CSV, priced by the same pipeline
            folder = Path(status.enter_context(tempfile.TemporaryDirectory(prefix="tariffcalc-")))
            sheet_csv = folder / "sheet.csv"
            name = sheet_as_csv(input_file, settings.sheet, sheet_csv)
            input_file = sheet_csv
        elif settings.sheet is not None:
            raise InputError(f"--sheet {settings.sheet}: {name} is not a workbook")
        encoding = "utf-8-sig" if workbook_input else settings.encoding or "utf-8-sig"
        workbook_output = output if fmt == "xlsx" else None
        if workbook_output is not None:  # priced to CSV first, then made a workbook
            folder = Path(status.enter_context(tempfile.TemporaryDirectory(prefix="tariffcalc-")))
            output, fmt = folder / "results.csv", "csv"
        bom = settings.bom
        if bom is None:
            bom = workbook_input or _japanese_text(encoding) or _starts_with_bom(input_file)
        job = _Job(
            schedule, input_file, output, fmt, on, scenario, encoding, columns, name,
            settings.cells, settings.delimiter, bom and fmt == "csv" and workbook_output is None,
            choice(warnings, WARNING_STYLES, "--warnings"),
        )  # fmt: skip
        # A progress bar on a terminal, unless the rows themselves go to that terminal.
        bar = err if err.is_terminal and (output is not None or not sys.stdout.isatty()) else None
        with contextlib.ExitStack() as shown:
            progress = None
            if bar is not None:  # moved a part at a time
                progress = shown.enter_context(_file_progress(bar, input_file, name))
            summary = _price(job, progress)
        stamp = audit_stamp(schedule)
        if workbook_output is not None and output is not None:
            write_results_workbook(output, workbook_output, _summary_rows(summary), stamp.items())
            output = workbook_output
    report = err if output is None else out_console()
    _render_summary(report, summary)
    report.print(
        f"tariffcalc {stamp['tariffcalc']}; schedule reviewed through "
        f"{stamp['schedule_reviewed_through']} (sha256 {stamp['schedule_sha256'][:12]}); HTS: "
        f"{stamp['hts_revision']}",
        markup=False,
        soft_wrap=True,
    )
    for message in summary.first_errors:
        err.print(f"error: {message}", markup=False, soft_wrap=True)
    if summary.failed:
        raise typer.Exit(ExitCode.ROWS_FAILED)


# Output names that promise a workbook: CSV text under them would only puzzle the reader.
_SPREADSHEETS = frozenset((".xlsx", ".xlsm", ".xls", ".ods"))


@dataclass(frozen=True)
class _Job:
    """One run of `tariffcalc batch`: what to price, on what terms, where the output goes."""

    schedule: Schedule
    input_file: Path
    output: Path | None
    fmt: str
    on: date  # rows without a date of their own
    scenario: str | None
    encoding: str
    columns: dict[str, str]  # --column overrides
    name: str  # what messages call the input ("<stdin>" for -)
    cells: CellFormat = PLAIN_CELLS  # how amounts, dates and rates are written
    delimiter: str | None = None  # None: found from the header line
    bom: bool = False  # begin the CSV output with a UTF-8 byte order mark
    warnings: str = "codes"  # rows carry their warnings' codes (the texts in the summary)

    def open(self) -> contextlib.AbstractContextManager[InputTable]:
        return open_input(
            self.input_file, self.encoding, self.columns, self.name, cells=self.cells,
            delimiter=self.delimiter,
        )  # fmt: skip


@dataclass(frozen=True)
class _Settings:
    """The options that say how the input is written, each from the command line, else the
    profile, else the default."""

    encoding: str | None
    sheet: str | None
    delimiter: str | None
    bom: bool | None
    cells: CellFormat

    @classmethod
    def of(cls, profile: Profile | None, options: dict[str, Any]) -> _Settings:
        def pick(name: str) -> Any:
            given = options.get(name)
            return given if given is not None else getattr(profile, name, None)

        delimiter = pick("delimiter")
        if delimiter is not None and delimiter.lower() in ("tab", "\\t"):
            delimiter = "\t"
        defaults = tuple(sorted(profile.defaults.items())) if profile else ()
        cells = CellFormat(
            thousands=pick("thousands"), date_format=pick("date_format"),
            fx_per_usd=bool(pick("fx_per_usd")), defaults=defaults,
        ).checked()  # fmt: skip
        return cls(pick("encoding"), pick("sheet"), delimiter, pick("bom"), cells)


def _japanese_text(encoding: str) -> bool:
    """An input in a Japanese legacy encoding: its users open CSV in Japanese Excel."""
    import codecs

    return codecs.lookup(encoding).name in ("cp932", "shift_jis", "euc_jp", "iso2022_jp")


def _starts_with_bom(path: Path) -> bool:
    try:
        with path.open("rb") as stream:
            return stream.read(3) == b"\xef\xbb\xbf"
    except OSError:
        return False


def _summary_rows(summary: BatchSummary) -> list[list[Any]]:
    """The batch summary as rows for a workbook's summary sheet."""
    rows: list[list[Any]] = [
        ["category", "rows", "customs value", "base duty", "additional", "on hold", "IEEPA",
         "fees"]
    ]  # fmt: skip
    totals = {**summary.by_category, "total": summary.total()}
    for category, total in totals.items():
        rows.append([
            category, total.rows, total.customs_value, total.base_duty, total.additional_duty,
            total.on_hold_duty, total.ieepa_duty, total.total_fees,
        ])  # fmt: skip
    rows.append(["rows priced", summary.priced])
    rows.append(["rows failed", summary.failed])
    if summary.notices:
        rows.append([])
        rows.append(["warning code", "rows", "what it says"])
        rows.extend([code, count, text] for code, (count, text) in summary.notices.items())
    return rows


# Standard input (or a pipe) is held in a temporary file while it is priced: past this size it
# is refused, so that an endless stream cannot fill the disk ($TARIFFCALC_STDIN_LIMIT, bytes).
STDIN_LIMIT = 4 * 2**30


@contextlib.contextmanager
def _stream_copy(source: Path | None) -> Iterator[Path]:
    """Standard input (``source`` None) or a pipe, FIFO or device copied to a temporary file
    (removed afterwards), as both paths read a file more than once."""
    limit = int(os.environ.get("TARIFFCALC_STDIN_LIMIT") or STDIN_LIMIT)
    name = "standard input" if source is None else str(source)
    if source is None and (sys.stdin is None or sys.stdin.closed):
        raise InputError("-: standard input is closed; give the input file's name")
    with tempfile.TemporaryDirectory(prefix="tariffcalc-") as folder:
        path = Path(folder) / "input.csv"
        try:
            with contextlib.ExitStack() as opened:
                stream = (
                    sys.stdin.buffer if source is None
                    else opened.enter_context(source.open("rb"))
                )  # fmt: skip
                with path.open("wb") as copy:
                    copied = 0
                    while block := stream.read(2**20):
                        copied += len(block)
                        if copied > limit:
                            raise InputError(
                                f"{name}: more than {limit:,} bytes; save it to a file and "
                                "give its name (or raise $TARIFFCALC_STDIN_LIMIT)"
                            )
                        copy.write(block)
        except OSError as exc:
            raise OutputError(
                f"cannot hold {name} in {tempfile.gettempdir()}: {exc.strerror or exc}"
            ) from None
        yield path


def _not_a_file(path: Path) -> bool:
    """A FIFO, a device or a pipe such as <(...): readable once, from the start only."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False  # a missing file: open_input says so
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


@contextlib.contextmanager
def _file_progress(console: Console, path: Path, name: str) -> Iterator[Callable[[int], None]]:
    """A progress bar of the bytes of ``path`` (the input ``name``) done, with the time left
    (transient: gone when the file is), moved a part at a time."""
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        SpinnerColumn(),
        TextColumn("pricing {task.fields[name]}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        refresh_per_second=4,  # drawing holds Python's lock: less often, less lost to it
    ) as bar:
        task = bar.add_task("pricing", total=max(path.stat().st_size, 1), name=Path(name).name)
        yield lambda done: bar.update(task, completed=done)


def _price(job: _Job, progress: Callable[[int], None] | None = None) -> BatchSummary:
    """The file priced and written, whole or not at all; ``progress`` is told the bytes done."""
    from ..columnar import price_csv
    from . import raise_if_stopped

    with job.open() as table:
        priced = price_csv(
            job.schedule, table, default_date=job.on, scenario=job.scenario, progress=progress,
            warning_style=job.warnings,
        )  # fmt: skip

    def write(stream: IO[Any]) -> None:
        if job.bom:
            stream.write("\ufeff")
        if job.fmt == "parquet":
            priced.write_parquet(stream)
        elif job.fmt in ("json", "jsonl"):
            priced.write_json(stream, lines=job.fmt == "jsonl")
        else:
            priced.write_csv(stream)

    if job.output is not None:
        with atomic_output(job.output, binary=job.fmt == "parquet") as stream:
            write(stream)
            raise_if_stopped()
        return priced.summary
    # To stdout (never Parquet): nothing goes out before the last part is priced (a file
    # whose entries are spread over its parts is priced again from the start), so the output
    # is spooled (to disk: memory stays bounded) and copied out whole.
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as spool:
        try:
            write(spool)
        except OSError as exc:
            raise OutputError(
                f"cannot hold the output in {tempfile.gettempdir()} before it goes to "
                f"stdout: {exc.strerror or exc} (write it to a file with -o)"
            ) from None
        raise_if_stopped()
        spool.seek(0)
        sys.stdout.flush()
        shutil.copyfileobj(spool.buffer, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    return priced.summary


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
        base = amount_text(totals.base_duty)
        if totals.base_unknown_rows:
            base += f" (+? on {totals.base_unknown_rows})"
        rate = totals.effective_rate
        fees = amount_text(totals.total_fees)
        if totals.fees_unknown_rows:
            fees += f" (+? on {totals.fees_unknown_rows})"
        table.add_row(
            name,
            f"{totals.rows:,}",
            amount_text(totals.customs_value),
            base,
            amount_text(totals.additional_duty),
            amount_text(totals.on_hold_duty),
            amount_text(totals.ieepa_duty),
            percent_text(rate),
            fees,
        )

    for category in sorted(summary.by_category):
        add(category, summary.by_category[category])
    if len(summary.by_category) > 1:
        add("all", summary.total())
    console.print(table)
    if summary.notices:
        notices = Table(title="Warnings (column warnings: their codes)", title_justify="left")
        for column in ("code", "rows", "what it says (the first row's words)"):
            notices.add_column(column, justify="right" if column == "rows" else "left")
        for code, (rows, text) in sorted(summary.notices.items(), key=lambda item: -item[1][0]):
            notices.add_row(code, f"{rows:,}", text)
        console.print(notices)
