"""Customs entries in a priced part: one MPF per entry (bounded on the entry's value, informal
for a small one-line entry), shared among its rows in proportion to their values, the last row
taking the remainder, as :class:`~tariffcalc.fees.EntryShares` does on the engine's path.

An entry's rows are usually in one part of the file (:func:`entry_shares`); for a file whose
entries are spread over its parts, a first pass gathers each entry's totals
(:class:`EntryTotals`) and the second shares them part by part (:meth:`EntryTotals.shares`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl

from .entries import Entry, EntryBook
from .resolution import RATE_SCALE

HALF_RATE = RATE_SCALE // 2
MAX_ENTRY_CENTS = 10**12
# An entry's facts in the first of two passes (see EntryTotals).
_ENTRY_FACTS = pl.Schema({
    "entry": pl.String, "day": pl.Int64, "first": pl.Int64, "last": pl.Int64,
    "value": pl.Int64, "lines": pl.UInt32, "tainted": pl.Boolean, "failing": pl.Boolean,
    "other_days": pl.Boolean,
})  # fmt: skip


def _not_inert(height: int, inert: list[int]) -> pl.Series:
    """False at the ``inert`` rows of a part (they take no part in their entries), else True."""
    return pl.repeat(True, height, eager=True).scatter(inert, False)


def cents_of(base: pl.Expr, rate: pl.Expr) -> pl.Expr:
    """An amount in cents times a rate in millionths, rounded half up to the cent."""
    return (base * rate + HALF_RATE) // RATE_SCALE


def mpf_of(value: pl.Expr, lines: pl.Expr | None = None) -> pl.Expr:
    """The MPF of an entry of this value (fees.entry_mpf): an entry of one line
    small enough, with no article over the threshold under a chapter 99 duty, pays
    the flat informal fee."""
    formal = cents_of(value, pl.col("mpf_rate")).clip(pl.col("mpf_low"), pl.col("mpf_high"))
    small = pl.col("informal_flat").is_not_null() & (value <= pl.col("informal_max"))
    informal = small & ~((value > pl.col("informal_over")) & (pl.col("chapter_99") == 1))
    if lines is not None:
        informal = informal & (lines == 1)
    flat = pl.col("informal_flat")
    return pl.when(informal.fill_null(False)).then(flat).otherwise(formal)


def entry_shares(
    numbers: pl.DataFrame, inert: list[int], tainted: list[str], scanned: dict[int, int],
    failing: list[int],
) -> pl.DataFrame:  # fmt: skip
    """Each entry's MPF shared among its rows as :class:`~tariffcalc.fees.EntryShares`
    does: in proportion to value, the last row taking the remainder (none does in an entry
    with a ``failing`` row, counted at its ``scanned`` value but taking no share). An entry
    is priced here only if all its rows are (inert and failing rows aside) and they share
    one date; otherwise the engine prices all its rows (``tainted``; see
    :meth:`~tariffcalc.alone.RowsAlone.classify`)."""
    entry = numbers.get_column("entry")
    not_inert = _not_inert(numbers.height, inert)
    fails = pl.repeat(False, numbers.height, eager=True).scatter(failing, True)
    counted = numbers.get_column("cv").scatter(failing, [scanned[row] for row in failing])
    query = numbers.lazy().with_columns(
        ((pl.col("entry") != "") & not_inert).alias("member"),
        pl.col("entry").is_in(tainted).alias("tainted"),
        pl.int_range(pl.len()).alias("row"),
        fails.alias("failing"),
        counted.alias("counted"),
    )
    # Entries are usually contiguous runs of rows: then each entry's sums come from
    # running sums at its first and last rows, without grouping.
    starts = (entry != entry.shift(1)).fill_null(True)
    run = starts.cum_sum()
    if run.max() == entry.filter(starts).n_unique():
        query = _run_shares(query.with_columns(run.alias("entry_group")))
    else:
        query = _grouped_shares(query)
    in_entry = pl.col("entry") != ""
    entry_ok = (
        ~pl.col("tainted")
        & (pl.col("entry_dates") == 0)
        & (pl.col("entry_value") <= MAX_ENTRY_CENTS)
    ).fill_null(False)
    return (
        query.with_columns(
            pl.when(pl.col("member"))
            .then(pl.col("entry_mpf"))
            .otherwise(pl.col("mpf"))
            .alias("mpf"),
            (pl.col("ok") & (~in_entry | entry_ok)).alias("ok"),
        )
        .select(numbers.columns)
        .collect(engine="in-memory")
    )


def _shares(value: pl.Expr, last: pl.Expr, before_last: pl.Expr) -> pl.Expr:
    """A member row's share of its entry's MPF (``before_last``: the shares of the
    entry's other rows, for the last one)."""
    entry_mpf = mpf_of(value, pl.col("entry_lines"))
    share = (2 * entry_mpf * pl.col("cv") + value) // (2 * value)
    return pl.when(last).then(entry_mpf - before_last).otherwise(share)


def _run_shares(query: pl.LazyFrame) -> pl.LazyFrame:
    row, run, day = pl.col("row"), pl.col("entry_group"), pl.col("day")
    first = pl.when(run != run.shift(1).fill_null(-1)).then(row).forward_fill()
    last = pl.when(run != run.shift(-1).fill_null(-1)).then(row).backward_fill()
    query = query.with_columns(first.alias("first"), last.alias("last"))
    first, last = pl.col("first"), pl.col("last")

    def over_entry(column: pl.Expr) -> pl.Expr:
        """The sum of a column over the row's entry."""
        running = column.cum_sum()
        return running.gather(last) - running.gather(first) + column.gather(first)

    member = pl.col("member").cast(pl.Int64)
    members_so_far = member.cum_sum()
    position = members_so_far - members_so_far.gather(first) + member.gather(first) - 1
    # A date change from the previous member of the same entry.
    previous_day = pl.when(pl.col("member")).then(day).forward_fill().shift(1)
    previous_run = pl.when(pl.col("member")).then(run).forward_fill().shift(1)
    changed = pl.col("member") & (previous_run == run) & (previous_day != day)
    query = query.with_columns(
        over_entry((pl.col("counted") * member).fill_null(0)).alias("entry_value"),
        over_entry(member).alias("entry_lines"),
        position.alias("position"),
        over_entry(changed.fill_null(False).cast(pl.Int64)).alias("entry_dates"),
        over_entry(pl.col("failing").cast(pl.Int64)).alias("entry_failing"),
    )
    value = pl.col("entry_value")
    is_last = (
        pl.col("member")
        & (pl.col("position") == pl.col("entry_lines") - 1)
        & (pl.col("entry_failing") == 0)
    )
    entry_mpf = mpf_of(value, pl.col("entry_lines"))
    share = (2 * entry_mpf * pl.col("cv") + value) // (2 * value)
    query = query.with_columns(
        is_last.alias("is_last"),
        pl.when(pl.col("member") & ~is_last).then(share).otherwise(0).fill_null(0).alias("share"),
    )
    return query.with_columns(
        _shares(value, pl.col("is_last"), over_entry(pl.col("share"))).alias("entry_mpf")
    )


def _grouped_shares(query: pl.LazyFrame) -> pl.LazyFrame:
    """:func:`_run_shares` for entries whose rows are spread over the file."""
    by, day = "entry", pl.col("day")
    members = query.filter(pl.col("member")).with_columns(
        pl.col("counted").sum().over(by).alias("entry_value"),
        pl.len().over(by).alias("entry_lines"),
        pl.int_range(pl.len()).over(by).alias("position"),
        (day.max().over(by) != day.min().over(by)).cast(pl.Int64).alias("entry_dates"),
        pl.col("failing").any().over(by).alias("entry_failing"),
    )
    value = pl.col("entry_value")
    is_last = (pl.col("position") == pl.col("entry_lines") - 1) & ~pl.col("entry_failing")
    entry_mpf = mpf_of(value, pl.col("entry_lines"))
    share = (2 * entry_mpf * pl.col("cv") + value) // (2 * value)
    members = members.with_columns(
        is_last.alias("is_last"), pl.when(is_last).then(0).otherwise(share).alias("share")
    )
    before_last = pl.col("share").sum().over(by)
    members = members.with_columns(
        _shares(value, pl.col("is_last"), before_last).alias("entry_mpf")
    ).select("row", "entry_value", "entry_dates", "entry_mpf")
    return query.join(members, on="row", how="left", maintain_order="left")


class EntryTotals:
    """Each entry's rows over the whole file, gathered part by part in a first pass, one row an
    entry (memory follows the entries, not the file): the first date its rows are counted on,
    and the value, count and last row of the rows of that date (failing: one of them is a row
    the engine refuses); whether any row of it is for the engine alone (``tainted``), or rows
    of it are dated otherwise (``other_days``). Rows are numbered from 0 in the file.

    The entries are kept in buckets by their hash, each folded on its own, so that folding a
    part in looks up and copies one bucket at a time, not every entry at once. In the second
    pass, the MPF handed out so far to each entry is a column of numbers beside the totals,
    not a table of the open entries rebuilt with each part (10M shuffled rows, 4.6M entries:
    44-52 s, from 51-55 s)."""

    def __init__(self) -> None:
        self._buckets = [pl.DataFrame(schema=_ENTRY_FACTS) for _ in range(_BUCKETS)]
        self.totals: pl.DataFrame | None = None
        # In the second pass: the MPF handed out so far to each entry (by its row in totals).
        self._handed = pl.Series("handed", [], dtype=pl.Int64)

    def add(self, numbers: pl.DataFrame, first_row: int, inert: list[int], tainted: list[str],
            scanned: dict[int, int], failing: list[int]) -> None:  # fmt: skip
        """A part's member rows (``scanned``: the value in cents the entry scan counts for
        rows the engine prices alone; ``failing``: those of them it refuses, see
        :func:`entry_shares`), folded into the entries' rows."""
        not_inert = _not_inert(numbers.height, inert)
        rows = list(scanned)
        refused = set(failing)
        counted = pl.DataFrame(
            {"row": pl.Series(rows, dtype=pl.Int64),
             "counted": pl.Series([scanned[r] for r in rows], dtype=pl.Int64),
             "failing": pl.Series([r in refused for r in rows], dtype=pl.Boolean)}
        )  # fmt: skip
        facts = (
            numbers.lazy()
            .select("entry", "day", "cv", pl.int_range(pl.len(), dtype=pl.Int64).alias("row"))
            .filter((pl.col("entry") != "") & not_inert)
            .join(counted.lazy(), on="row", how="left")
            .group_by("entry", "day")
            .agg(
                (pl.col("row").min() + first_row).alias("first"),
                (pl.col("row").max() + first_row).alias("last"),
                pl.coalesce("counted", "cv").sum().alias("value"),
                pl.len().alias("lines"),
                pl.col("entry").is_in(tainted).any().alias("tainted"),
                pl.col("failing").fill_null(False).any().alias("failing"),
                pl.lit(False).alias("other_days"),
            )
            .collect()
        )
        bucket = (pl.col("entry").hash(seed=0) % _BUCKETS).alias("bucket")
        for (number,), part in facts.with_columns(bucket).partition_by(
            "bucket", as_dict=True, include_key=False
        ).items():  # fmt: skip
            self._buckets[number] = _folded(self._buckets[number], part)

    def close(self) -> None:
        """Every part added: each entry's totals (``entry_ok``: priced as columns)."""
        entries = pl.concat(self._buckets)
        self._buckets = [pl.DataFrame(schema=_ENTRY_FACTS) for _ in range(_BUCKETS)]
        # The first row counted sets the entry's date; rows of other dates are not counted.
        self.totals = entries.select(
            pl.int_range(pl.len(), dtype=pl.UInt32).alias("at"),
            "entry",
            pl.col("day").alias("entry_day"),
            pl.col("value").alias("entry_value"),
            pl.col("lines").alias("entry_lines"),
            # An entry with a row the engine refuses has no last row: no remainder.
            pl.when(pl.col("failing")).then(-1).otherwise(pl.col("last")).alias("last"),
            (
                ~pl.col("tainted") & ~pl.col("other_days") & (pl.col("value") <= MAX_ENTRY_CENTS)
            ).alias("entry_ok"),
        )
        self._handed = pl.zeros(entries.height, pl.Int64, eager=True).alias("handed")

    def book(self) -> EntryBook:
        """The entries the engine prices (each row alone, with its share of the entry's
        MPF), as the entry scan would have them."""
        assert self.totals is not None
        book = EntryBook()
        for key, day, cents, lines in (
            self.totals.filter(~pl.col("entry_ok"))
            .select("entry", "entry_day", "entry_value", "entry_lines")
            .iter_rows()
        ):
            book.memory[key] = Entry(date.fromordinal(day), Decimal(cents).scaleb(-2), lines)
        return book

    def shares(self, numbers: pl.DataFrame, first_row: int, inert: list[int]) -> pl.DataFrame:
        """A part's rows with their shares of their entries' MPF, from the entries' totals
        over the file and the shares handed out in earlier parts. ``inert`` rows take no part
        in their entries (see :func:`entry_shares`)."""
        assert self.totals is not None
        not_inert = _not_inert(numbers.height, inert)
        # Only this part's entries of the file's (a hash table of millions of entries per
        # part would take more memory than the part), with what they have had so far.
        here = numbers.get_column("entry").unique().implode()
        totals = self.totals.filter(pl.col("entry").is_in(here))
        totals = totals.with_columns(self._handed.gather(totals.get_column("at")))
        query = (
            numbers.lazy()
            .with_columns(
                (pl.int_range(pl.len(), dtype=pl.Int64) + first_row).alias("row"),
                not_inert.alias("not_inert"),
            )
            .join(totals.lazy(), on="entry", how="left", maintain_order="left")
        )
        value, lines = pl.col("entry_value"), pl.col("entry_lines")
        member = (
            (pl.col("entry") != "") & pl.col("entry_ok").fill_null(False) & pl.col("not_inert")
        )
        is_last = member & (pl.col("row") == pl.col("last"))
        entry_mpf = mpf_of(value, lines)
        share = pl.when(member & ~is_last).then(
            (2 * entry_mpf * pl.col("cv") + value) // (2 * value)
        )
        query = query.with_columns(share.alias("share"), is_last.alias("is_last"))
        before_last = pl.col("handed") + pl.col("share").fill_null(0).sum().over("entry")
        query = query.with_columns(
            pl.when(pl.col("is_last"))
            .then(entry_mpf - before_last)
            .when(member)
            .then(pl.col("share"))
            .otherwise(pl.col("mpf"))
            .alias("mpf"),
            (
                pl.col("ok") & ((pl.col("entry") == "") | pl.col("entry_ok").fill_null(False))
            ).alias("ok"),
        )
        priced = query.collect(engine="in-memory")
        handed = (
            priced.lazy()
            .filter(member)
            .group_by("at")
            .agg((pl.col("share").fill_null(0).sum() + pl.col("handed").first()).alias("handed"))
            .collect()
        )
        self._handed = self._handed.scatter(handed.get_column("at"), handed.get_column("handed"))
        return priced.select(numbers.columns)


_BUCKETS = 8  # of the entries, by hash, in the first of two passes


def _folded(entries: pl.DataFrame, facts: pl.DataFrame) -> pl.DataFrame:
    """``entries`` (one row an entry) with a part's ``facts`` (one row an entry and day)
    folded in."""
    here = facts.get_column("entry").unique().implode()
    known = entries.filter(pl.col("entry").is_in(here))
    # An entry's row so far is its first date's group: the part's groups of that date add
    # to it, a group of another date only flags the entry, and an entry new in this part
    # takes its first group (by its first row) as its row.
    by_day = (
        pl.concat([known, facts.select(_ENTRY_FACTS.keys()).cast(_ENTRY_FACTS)])
        .group_by("entry", "day")
        .agg(
            pl.col("first").min(), pl.col("last").max(), pl.col("value").sum(),
            pl.col("lines").sum(), pl.col("tainted").any(), pl.col("failing").any(),
            pl.col("other_days").any(),
        )
    )  # fmt: skip
    merged = (
        by_day.sort("first")
        .group_by("entry", maintain_order=True)
        .agg(
            pl.col("day").first(), pl.col("first").first(), pl.col("last").first(),
            pl.col("value").first(), pl.col("lines").first(), pl.col("tainted").any(),
            pl.col("failing").first(),
            (pl.col("other_days").any() | (pl.len() > 1)).alias("other_days"),
        )
    )  # fmt: skip
    rest = entries.filter(~pl.col("entry").is_in(here))
    return pl.concat([rest, merged.select(_ENTRY_FACTS.keys())])
