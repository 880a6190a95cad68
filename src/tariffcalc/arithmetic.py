"""The batch's arithmetic on a part of a file, vectorised in polars: each row's customs value in
whole cents, its duty lines at the rates the engine resolved for its key, rounded half up to
the cent as the engine rounds (half-even for the effective rate, as Decimal does), and its
fees (the MPF of a row alone, or of its entry: :mod:`~tariffcalc.entry_fees`)."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from .entry_fees import cents_of, mpf_of
from .fees import informal_terms, mpf_terms
from .resolution import RATE_SCALE, Terms, millionths
from .rules import Schedule

_MAX_LINE_CENTS = 10**11  # 1,000,000,000 USD: every product below stays within 64 bits
_INT64_MAX = 2**63 - 1


def amounts(
    keys: pl.DataFrame, terms: list[Terms], width: int, schedule: Schedule, per_usd: bool = False,
    values_only: bool = False,
) -> pl.DataFrame:  # fmt: skip
    """Each row's numbers in whole cents (rates in millionths) from its keys and terms
    (:class:`~tariffcalc.part_keys.PartKeys`): the customs value in dollars, each duty, the
    effective rate, the fees; ``ok`` where the row is priced here (else the engine prices it
    alone). ``per_usd``: the exchange rates are units of the currency per US dollar.
    ``values_only``: only ``ok``, the customs value, the day and the entry (all the first of
    two passes gathers: 10M shuffled rows 61 s -> 55 s, 1.10 -> 1.03 GB)."""
    fee = schedule.fees
    mpf: dict[int, tuple[int | None, ...]] = {}
    for when in keys.get_column("when").drop_nulls().unique().to_list():
        on = date.fromordinal(when)
        found = None if fee is None else mpf_terms(fee.mpf, on)
        rate = None if found is None else millionths(found[0])
        # Informal entries (fees.informal_mpf): largest value, chapter 99 threshold, flat.
        informal = None if fee is None else informal_terms(fee.mpf, on)
        small = (None, None, None) if informal is None else (
            int(informal[0] * 100), int(informal[1] * 100),
            None if informal[2] is None else int(informal[2] * 100),
        )  # fmt: skip
        if found is None or rate is None:
            mpf[when] = (None, None, None, *small)
        else:
            mpf[when] = (rate, int(found[1] * 100), int(found[2] * 100), *small)

    def by_when(k: int) -> pl.Expr:
        values = {when: parts[k] for when, parts in mpf.items()}
        return pl.col("when").replace_strict(values, default=None, return_dtype=pl.Int64)

    def to_cents(units: str) -> pl.Expr:
        """Ten-thousandths of the currency in US cents, rounded half up as round_cent
        rounds the engine's exact product (or quotient)."""
        if not per_usd:  # units x (fx_num / 10^fx_places) / 100
            scale = pl.lit(10, pl.Int64).pow(pl.col("fx_places") + 2)
            return (pl.col(units) * pl.col("fx_num") + scale // 2) // scale
        # units x 10^fx_places / (fx_num x 100), the engine's exact quotient (money.in_usd),
        # in 128 bits: at most 10^16 x 10^10 x 2 before the division.
        wide = [pl.col(name).cast(pl.Int128) for name in (units, "fx_num", "fx_places")]
        amount, rate, places = wide
        scaled = amount * pl.lit(10, pl.Int128).pow(places) * pl.lit(2, pl.Int128)
        divisor = rate * pl.lit(100, pl.Int128)
        quotient = (scaled + divisor) // (divisor * pl.lit(2, pl.Int128))
        return quotient.cast(pl.Int64, strict=False)  # null past 64 bits: the engine refuses

    # Each stage keeps only what the next needs: a million rows of a column is 8 MB.
    query = keys.lazy().select(
        "plain", "term", "mode_ok", "value_units", "fx_num", "content_units", "metal", "day",
        "entry", "hmf_rate",
        to_cents("value_units").alias("cv"),
        pl.when(pl.col("metal")).then(to_cents("content_units")).otherwise(0).alias("content"),
        by_when(0).alias("mpf_rate"),
        by_when(1).alias("mpf_low"),
        by_when(2).alias("mpf_high"),
        by_when(3).alias("informal_max"),
        by_when(4).alias("informal_over"),
        by_when(5).alias("informal_flat"),
        _term([int(bool(t.lines)) for t in terms], pl.Int64).alias("chapter_99"),
        _term([t.category for t in terms], pl.Categorical).alias("category"),
        _term([t.warnings for t in terms], pl.Categorical).alias("warnings"),
        _term([t.mfn for t in terms], pl.Int64).alias("mfn"),
    )  # fmt: skip

    def line(j: int, k: int) -> pl.Expr:
        """Part k (rate, held, ieepa, of_value, of_content) of each row's line j."""
        return _term([t.lines[j][k] if j < len(t.lines) else 0 for t in terms], pl.Int64)

    def fits(units: str) -> pl.Expr:
        """Whether ten-thousandths times the rate stay within 64 bits (a rate per dollar is
        taken in 128 bits: every amount does)."""
        if per_usd:
            return pl.lit(True)
        return pl.col(units) <= pl.lit(_INT64_MAX) // pl.col("fx_num")

    ok = (
        pl.col("plain")
        & pl.col("term").is_not_null()
        & pl.col("mode_ok")
        & pl.col("value_units").is_not_null()
        & pl.col("fx_num").is_not_null()
        & fits("value_units")
        & (pl.col("cv") > 0)
        & (pl.col("cv") <= _MAX_LINE_CENTS)
        & (
            ~pl.col("metal")
            | (
                pl.col("content_units").is_not_null()
                & fits("content_units")
                & (pl.col("content") > 0)
                & (pl.col("content") < pl.col("cv"))
            )
        )
    )
    if values_only:
        return query.select(ok.fill_null(False).alias("ok"), "cv", "day", "entry").collect(
            engine="in-memory"
        )
    cv, content = pl.col("cv"), pl.col("content")
    additional, on_hold, ieepa = pl.lit(0, pl.Int64), pl.lit(0, pl.Int64), pl.lit(0, pl.Int64)
    for j in range(width):
        basis = line(j, 3) * cv + line(j, 4) * content
        amount = cents_of(basis, line(j, 0))
        additional = additional + amount
        on_hold = on_hold + cents_of(basis, line(j, 1))
        ieepa = ieepa + amount * line(j, 2)
    query = query.select(
        ok.fill_null(False).alias("ok"),
        "cv",
        "day",
        "entry",
        "category",
        "warnings",
        "mpf_rate",
        "mpf_low",
        "mpf_high",
        "informal_max",
        "informal_over",
        "informal_flat",
        "chapter_99",
        cents_of(cv, pl.col("mfn")).alias("base_duty"),
        additional.alias("additional_duty"),
        on_hold.alias("on_hold_duty"),
        ieepa.alias("ieepa_duty"),
        cents_of(cv, pl.col("hmf_rate")).alias("hmf"),
    ).with_columns(  # fmt: skip
        (pl.col("base_duty") + pl.col("additional_duty")).alias("total_duty")
    )
    # The effective rate: total / value to 6 places, half-even (Decimal's quantize).
    scaled = pl.col("total_duty") * RATE_SCALE
    quotient, remainder = scaled // cv, scaled % cv
    up = (2 * remainder > cv) | ((2 * remainder == cv) & (quotient % 2 == 1))

    return query.with_columns(
        (quotient + up.cast(pl.Int64)).alias("effective_rate"), mpf_of(cv).alias("mpf")
    ).collect(engine="in-memory")


def _term(values: list[Any], dtype: Any) -> pl.Expr:
    """Each row's value from its terms (null where it has none)."""
    return pl.lit(pl.Series(values, dtype=dtype)).gather(pl.col("term"))
