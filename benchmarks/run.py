"""Benchmarks: `tariffcalc batch` against the floor of reading the file with polars, the plain
per-row engine loop, and `tariffcalc quote` against the bare import of its dependencies.

    python benchmarks/run.py [--rows N] [--data DIR] [--quote-runs K]

Every timing runs in a fresh process; peak memory is that process's maximum RSS. Needs polars
for the reading floor (pip install polars); without it that line is skipped.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import generate  # noqa: E402

ENTRY_DATE = "2025-05-03"  # rows carry their own dates; this is only the default


# Child processes cache their bytecode as an installed tool does (an environment that sets
# PYTHONDONTWRITEBYTECODE would have an editable checkout compile its sources on every start).
ENVIRONMENT = {name: value for name, value in os.environ.items()
               if name != "PYTHONDONTWRITEBYTECODE"}


def run(command: list[str]) -> tuple[float, int]:
    """Wall time (s) and peak RSS (MB) of a command in a fresh process."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors,
                                   env=ENVIRONMENT)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode not in (0, 6):  # 6: some rows failed (the generator adds bad rows)
            errors.seek(0)
            raise SystemExit(f"{' '.join(command)} failed: {errors.read().decode()[-2000:]}")
    return elapsed, usage.ru_maxrss // 1024  # ru_maxrss is in KB on Linux


def python() -> str:
    return sys.executable


def tariffcalc() -> list[str]:
    script = shutil.which("tariffcalc", path=str(Path(sys.executable).parent))
    return [script] if script else [python(), "-m", "tariffcalc"]


POLARS_READ = "import sys, polars; polars.read_csv(sys.argv[1], infer_schema=False)"
# The least any tool writing the batch's output takes: read the input, write the output (read
# beforehand, off the clock) as polars writes CSV; no pricing at all. Prints its seconds.
POLARS_READ_WRITE = """
import sys, time, polars
output = polars.read_csv(sys.argv[2], infer_schema=False)
start = time.perf_counter()
polars.read_csv(sys.argv[1], infer_schema=False)
output.write_csv(sys.argv[3])
print(time.perf_counter() - start)
"""
ENGINE_LOOP = """
import csv, sys
from datetime import date
from tariffcalc import load_schedule, price_shipment, shipment_from_fields, TariffError
schedule = load_schedule()
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    reader = csv.DictReader(f)
    for row in reader:
        try:
            shipment = shipment_from_fields(row, {})
            on = date.fromisoformat(row["date"]) if row.get("date") else date(2025, 5, 3)
            price_shipment(schedule, shipment, on)
        except (TariffError, ValueError):
            pass
"""


# What typer alone costs to run a command: import, build the command, parse two options.
TYPER_COMMAND = """
from typing import Annotated, Optional
import typer
app = typer.Typer()
@app.command()
def quote(hts: Annotated[Optional[str], typer.Option()] = None,
          value: Annotated[Optional[str], typer.Option()] = None) -> None:
    print(hts, value)
@app.command()
def rates() -> None:
    pass
app()
"""


def polars_read_write(source: Path, output: Path, copy: Path, runs: int) -> float:
    """Best of ``runs``: start Python and polars, read ``source``, write ``output`` again."""
    start_up, _ = min(run([python(), "-c", "import polars"]) for _ in range(runs))
    best = start_up + min(
        float(subprocess.run([python(), "-c", POLARS_READ_WRITE, str(source), str(output),
                              str(copy)], capture_output=True, text=True, check=True,
                             env=ENVIRONMENT).stdout)
        for _ in range(runs)
    )
    size = output.stat().st_size / 1e6
    label = f"read + write the output ({size:.0f} MB)"
    print(f"  {label:<34} {best:8.2f} s   (polars, no pricing)")
    return best


def shuffled(source: Path, target: Path) -> Path:
    """The rows of ``source`` in a fixed random order (made once, with polars)."""
    if not target.exists():
        import polars

        print(f"shuffling {source.name} into {target} ...", flush=True)
        rows = polars.read_csv(source, infer_schema=False)
        rows.sample(fraction=1.0, shuffle=True, seed=7).write_csv(target)
    return target


def scaling(source: Path, threads: list[int], runs: int) -> None:
    """The batch with each number of threads (polars' and the key resolvers'), and its speed
    against the first."""
    print(f"scaling ({os.cpu_count()} cores):")
    first = None
    with tempfile.TemporaryDirectory() as work:
        command = [*tariffcalc(), "batch", str(source), "-o", str(Path(work) / "out.csv"),
                   "--date", ENTRY_DATE]
        for count in threads:
            limited = {"POLARS_MAX_THREADS": str(count), "TARIFFCALC_WORKERS": str(count)}
            ENVIRONMENT.update(limited)
            try:
                elapsed, rss = min(run(command) for _ in range(runs))
            finally:
                for name in limited:
                    ENVIRONMENT.pop(name)
            first = first or elapsed
            print(f"  {count:3d} threads {elapsed:8.2f} s   peak RSS {rss:6d} MB   "
                  f"{first / elapsed:5.2f} x", flush=True)


def fresh(label: str, runs: int, command: list[str]) -> tuple[float, int]:
    """Best of ``runs`` runs (the machine's noise only ever adds time)."""
    results = [run(command) for _ in range(runs)]
    best = min(results)
    print(f"  {label:<34} {best[0]:8.2f} s   peak RSS {best[1]:6d} MB", flush=True)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--runs", type=int, default=1, help="runs of each batch timing")
    parser.add_argument("--quote-runs", type=int, default=15)
    parser.add_argument("--skip-loop", action="store_true", help="skip the per-row engine loop")
    parser.add_argument("--threads", default="",
                        help="e.g. 1,2,4,8,16: the batch again with only that many threads "
                             "(POLARS_MAX_THREADS) and key resolvers (TARIFFCALC_WORKERS)")
    parser.add_argument("--shuffled", action="store_true",
                        help="the same rows shuffled: entries spread over the file (two passes)")
    args = parser.parse_args(argv)

    args.data.mkdir(parents=True, exist_ok=True)
    source = args.data / f"shipments-{args.rows}.csv"
    if not source.exists():
        print(f"generating {args.rows:,} rows into {source} ...", flush=True)
        generate.write(args.rows, source)
    if args.shuffled:
        source = shuffled(source, args.data / f"shipments-{args.rows}-shuffled.csv")
    size = source.stat().st_size / 1e6
    order = ", shuffled" if args.shuffled else ""
    print(f"batch of {args.rows:,} rows ({size:.0f} MB{order}):")
    read_write = None
    with tempfile.TemporaryDirectory() as work:
        output = Path(work) / "out.csv"
        batch_time, batch_rss = fresh("tariffcalc batch (read, price, write)", args.runs,
                                      [*tariffcalc(), "batch", str(source), "-o", str(output),
                                       "--date", ENTRY_DATE])
        try:
            import polars  # noqa: F401

            floor_time, _ = fresh("polars.read_csv (the floor)", args.runs,
                                  [python(), "-c", POLARS_READ, str(source)])
            read_write = polars_read_write(source, output, Path(work) / "copy.csv", args.runs)
        except ImportError:
            floor_time = None
            print("  polars.read_csv: polars is not installed (pip install polars)")
    if not args.skip_loop:
        fresh("per-row engine loop (price_shipment)", 1, [python(), "-c", ENGINE_LOOP,
                                                           str(source)])
    print(f"  rows per second (batch)            {args.rows / batch_time:10,.0f}")
    if floor_time:
        print(f"  batch / floor                      {batch_time / floor_time:10.1f} x"
              "   (target: at most 2.5 x)")
    if read_write:
        print(f"  batch / (read + write, no pricing) {batch_time / read_write:10.1f} x")
    print(f"  batch peak RSS                     {batch_rss:10,d} MB   (target: at most 1,024 MB)")
    if args.threads:
        scaling(source, [int(n) for n in args.threads.split(",")], args.runs)

    print(f"quote start-up ({args.quote_runs} runs each, median):")
    quote = [*tariffcalc(), "quote", "--hts", "8711.50.00", "--value", "20000", "--date",
             ENTRY_DATE, "--mode", "ocean", "--format", "json"]
    floor = [python(), "-c", "import typer, pydantic, yaml, rich"]
    bare_typer = [python(), "-c", TYPER_COMMAND, "quote", "--hts", "8711.50.00"]
    run(quote)  # the first run may write caches; time the ones a user sees every day
    quote_times = [run(quote)[0] for _ in range(args.quote_runs)]
    floor_times = [run(floor)[0] for _ in range(args.quote_runs)]
    typer_times = [run(bare_typer)[0] for _ in range(args.quote_runs)]
    quote_median, floor_median = statistics.median(quote_times), statistics.median(floor_times)
    print(f"  tariffcalc quote                   {quote_median * 1000:8.0f} ms")
    print(f"  import typer, pydantic, yaml, rich {floor_median * 1000:8.0f} ms")
    print(f"  a bare two-option typer command    {statistics.median(typer_times) * 1000:8.0f} ms"
          "   (typer converts option values with pydantic)")
    print(f"  quote / floor                      {quote_median / floor_median:10.2f} x"
          "   (target: at most 1.3 x)")
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
