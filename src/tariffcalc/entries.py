"""Customs entries in a batch: the rows that share an ``entry`` value, their total value and
date (a first pass over the file), so that the MPF is bounded and shared per entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from .errors import TariffError
from .fees import EntryShares
from .money import LARGEST_AMOUNT, ZERO, in_usd, round_cent
from .shipment import (
    PLAIN_CELLS,
    CellFormat,
    parse_amount_cell,
    parse_date,
)
from .tables import InputTable


@dataclass(slots=True)
class Entry:
    """Rows that share an ``entry`` value: one customs entry, one date, one MPF."""

    entry_date: date
    value: Decimal = ZERO  # USD, the sum of its rows' customs values
    rows: int = 0
    shares: EntryShares | None = None


class EntryBook:
    """Each entry's date, value and rows, from the first pass over a file.

    Kept in memory up to ``limit`` entries, then in a temporary SQLite file beside nothing the
    user sees (removed on close), so that memory does not grow with the file: a year of lines
    can hold millions of entries. In the second pass the entries being priced are held in memory
    until their last row has had its share of the entry's MPF.
    """

    def __init__(self, limit: int = 200_000) -> None:
        self.limit = limit
        self.memory: dict[str, Entry] = {}
        self.database: Any = None
        self.pending: list[tuple[str, int, int]] = []
        self.open: dict[str, Entry] = {}

    def add(self, key: str, on: date, customs_value: Decimal) -> None:
        if self.database is None:
            entry = self.memory.setdefault(key, Entry(on))
            if on == entry.entry_date:
                entry.value += customs_value
                entry.rows += 1
            if len(self.memory) > self.limit:
                self._spill()
            return
        self.pending.append((key, on.toordinal(), int(customs_value * 100)))
        if len(self.pending) >= 10_000:
            self._flush()

    def _spill(self) -> None:
        import sqlite3
        import tempfile as temp

        self.folder = temp.TemporaryDirectory(prefix="tariffcalc-entries-")
        self.database = sqlite3.connect(Path(self.folder.name) / "entries.sqlite")
        self.database.execute("PRAGMA journal_mode=OFF")
        self.database.execute("PRAGMA synchronous=OFF")
        self.database.execute(
            "CREATE TABLE entry (key TEXT PRIMARY KEY, day INTEGER, cents INTEGER, rows INTEGER)"
        )
        self.database.executemany(
            "INSERT INTO entry VALUES (?, ?, ?, ?)",
            (
                (k, e.entry_date.toordinal(), int(e.value * 100), e.rows)
                for k, e in self.memory.items()
            ),
        )
        self.memory.clear()

    def _flush(self) -> None:
        # The first row of an entry sets its date; rows of another date are not counted.
        self.database.executemany(
            "INSERT INTO entry VALUES (?, ?, ?, 1) ON CONFLICT(key) DO UPDATE SET "
            "cents = cents + excluded.cents, rows = rows + 1 WHERE day = excluded.day",
            self.pending,
        )
        self.pending = []

    def get(self, key: str | None) -> Entry | None:
        if key is None:
            return None
        if self.database is None:
            return self.memory.get(key)
        entry = self.open.get(key)
        if entry is None:
            if self.pending:
                self._flush()
            found = self.database.execute(
                "SELECT day, cents, rows FROM entry WHERE key = ?", (key,)
            ).fetchone()
            if found is None:
                return None
            day, cents, rows = found
            entry = Entry(date.fromordinal(day), Decimal(cents).scaleb(-2), rows)
            self.open[key] = entry
        return entry

    def handed_out(self, key: str, entry: Entry) -> None:
        """An entry whose every row has had its share is not needed any more."""
        if self.database is not None and (entry.shares is None or entry.shares.left <= 0):
            self.open.pop(key, None)

    def close(self) -> None:
        if self.database is not None:
            self.database.close()
            self.folder.cleanup()
            self.database = None


def scan_entries(table: InputTable, default_date: date, limit: int = 200_000) -> EntryBook:
    """First pass over a file with an ``entry`` column: each entry's value, rows and date, so
    that the MPF bounds apply to the entry as a whole. Rows that cannot be read are left out
    (they fail again, with their message, when priced)."""
    entries = EntryBook(limit)
    if "entry" not in table.fields:
        return entries
    for _number, _line, cells in table.rows:
        line = entry_line(table.fields, cells, default_date, table.cells)
        if line is not None:
            entries.add(*line)
    return entries


def entry_line(
    fields: dict[str, int],
    cells: list[str],
    default_date: date,
    formats: CellFormat = PLAIN_CELLS,
) -> tuple[str, date, Decimal] | None:
    """What a row adds to its entry: (entry, date, customs value in USD), or None when the
    row names no entry or its value, exchange rate or date cannot be read (then the row is
    not counted in any entry). A row that fails for another reason is still counted."""

    defaults = dict(formats.defaults)

    def cell(name: str) -> str:
        position = fields.get(name)
        text = cells[position].strip() if position is not None and position < len(cells) else ""
        return text or defaults.get(name, "")

    key = cell("entry")
    if not key:
        return None
    try:
        value = parse_amount_cell(cell("value"), "value", formats, positive=True)
        currency = cell("currency").upper() or "USD"
        if currency != "USD":
            fx_rate = parse_amount_cell(cell("fx_rate"), "fx_rate", formats, positive=True)
            value = in_usd(value, fx_rate, formats.fx_per_usd)
        date_text = cell("date")
        on = parse_date(date_text, "date", formats.date_format) if date_text else default_date
    except TariffError:
        return None
    if value > LARGEST_AMOUNT:
        return None  # the row fails (the engine refuses such a customs value): not counted
    return key, on, round_cent(value)
