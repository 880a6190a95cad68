"""Deterministic generator of realistic shipment CSVs for the benchmarks (and the fast-path test).

A mix of categories and real HTS numbers (cars, light trucks, listed parts, steel and aluminum
articles and derivatives, machinery, electronics), USD and JPY rows, entry dates spread over the
schedule's whole history, rows grouped into entries, and a few bad rows, as exporters' files have.

    python benchmarks/generate.py ROWS OUTPUT.csv [--seed N]
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from datetime import date, timedelta
from pathlib import Path

# (HTS number, MFN rate column or "" when the schedule knows it, metal content share or None)
GOODS = [
    ("8703.23.01", "", None),  # passenger car
    ("8703.24.01.50", "", None),  # a statistical line: new, 5 or 6 cylinders
    ("8703.80.00", "", None),
    ("8704.21.01", "", None),  # light truck, MFN 25%
    ("8708.40.11", "", None),  # gearbox, listed part
    ("8708.80.13", "", None),
    ("8483.40.90", "", "0.6"),  # gears: listed part, steel derivative from 2025-08-18
    ("8482.10.10", "9%", None),  # bearings, listed part
    ("7208.51.00", "", None),  # steel plate
    ("7210.49.00", "0%", None),
    ("7604.29.10", "", None),  # aluminum profiles, MFN 5%
    ("7606.12.30", "", None),
    ("7610.10.00", "5.7%", "0.5"),  # aluminum doors: chapter 76 derivative
    ("8302.42.30", "3.9%", None),
    ("8711.50.00", "", "0.25"),  # motorcycles: steel derivative from 2025-08-18
    ("8467.11.10", "", None),  # pneumatic tools
    ("8402.11.00", "", None),
    ("8423.90.10", "", None),
    ("8542.31.00", "", None),  # integrated circuits: electronics
    ("8471.30.01", "", None),
    ("9503.00.00", "0%", None),  # toys: no list
    ("4013.10.00", "", None),
]
CATEGORIES = [("autos", "2.5%"), ("auto-parts", "2.5%"), ("general", "3%")]
FIRST_DAY = date(2025, 3, 1)
LAST_DAY = date(2026, 4, 5)  # metals are not established after this date; keep rows priceable
BAD_ROWS = [
    {"hts": "8703.2401x", "value": "1000"},
    {"hts": "870324010", "value": "1000"},
    {"hts": "8703.24.01", "value": "1,000"},
    {"hts": "8703.24.01", "value": "-5"},
    {"hts": "8703.24.01", "value": "1000", "date": "2025-02-30"},
    {"hts": "8711.50.00", "value": "1000", "currency": "EUR"},
]
COLUMNS = ["id", "entry", "hts", "category", "value", "date", "currency", "fx_rate", "mfn_rate",
           "metal_content", "mode", "note"]


def rows(count: int, seed: int = 20250503):
    rng = random.Random(seed)
    days = (LAST_DAY - FIRST_DAY).days
    entry, entry_left, entry_date = 0, 0, FIRST_DAY
    for number in range(1, count + 1):
        if entry_left == 0:
            entry += 1
            entry_left = rng.choice((1, 1, 1, 2, 3, 5))
            entry_date = FIRST_DAY + timedelta(days=rng.randrange(days + 1))
        entry_left -= 1
        row = {"id": str(number), "entry": f"E{entry:07d}", "date": entry_date.isoformat(),
               "mode": rng.choice(("ocean", "ocean", "air", "land")), "note": ""}
        if rng.random() < 0.05:
            category, mfn = rng.choice(CATEGORIES)
            row.update(category=category, mfn_rate=mfn)
            metal = None
        else:
            hts, mfn, metal = rng.choice(GOODS)
            row.update(hts=hts, mfn_rate=mfn)
        usd = round(rng.lognormvariate(9, 1.3), 2) + 0.01
        if rng.random() < 0.3:
            yen = round(usd / 0.0067)
            row.update(value=str(yen), currency="JPY", fx_rate="0.0067")
            base = yen
        else:
            row.update(value=f"{usd:.2f}")
            base = usd
        if "hts" in row and metal is not None and rng.random() < 0.7:
            row["metal_content"] = f"{float(base) * float(metal):.2f}"
        if rng.random() < 0.001:
            row = {**row, "category": "", "metal_content": "", "currency": "", "fx_rate": "",
                   **BAD_ROWS[rng.randrange(len(BAD_ROWS))]}
        if rng.random() < 0.01:
            row["note"] = rng.choice(("fragile, handle with care", "line 1\nline 2", "=1+1",
                                      "取扱注意 (handle with care)"))
        yield row


def write(count: int, path: Path, seed: int = 20250503) -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows(count, seed):
            writer.writerow(row)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("output", type=Path)
    parser.add_argument("--seed", type=int, default=20250503)
    args = parser.parse_args(argv)
    write(args.rows, args.output, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
