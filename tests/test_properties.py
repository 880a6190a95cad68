"""Properties of the engine and the batch, over generated shipments (hypothesis)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

from engine_rows import price_table
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tariffcalc import Shipment, TariffError, price_shipment
from tariffcalc.money import format_money
from tariffcalc.tables import InputTable

# Codes that reach every kind of measure: cars, trucks, parts, steel, aluminum, derivatives,
# electronics, and goods outside every list.
CODES = [
    "87032401", "8704210100", "87084011", "84821010", "72085100", "76042910", "76101000",
    "83021060", "8542310015", "84713001", "87115000", "94036080", "04029968", "73181580",
]
FIRST_DAY = date(2025, 3, 1)

settings.register_profile("ci", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.load_profile("ci")

money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000000"), places=2,
                    allow_nan=False, allow_infinity=False)
rates = st.decimals(min_value=Decimal(0), max_value=Decimal("0.5"), places=4)


@st.composite
def shipments(draw):
    value = draw(money)
    by_category = draw(st.booleans()) and draw(st.booleans())
    fraction = st.decimals(min_value=Decimal(0), max_value=Decimal("0.45"), places=2)
    metal = draw(st.none() | fraction)
    us = draw(st.none() | fraction)
    return Shipment(
        value=value,
        hts=None if by_category else draw(st.sampled_from(CODES)),
        category=draw(st.sampled_from(["autos", "auto-parts", "steel", "aluminum", "general"]))
        if by_category else None,
        mfn_rate=draw(st.none() | rates),
        metal_content=None if metal is None else (value * metal).quantize(Decimal("0.01")),
        us_content=None if us is None else (value * us).quantize(Decimal("0.01")),
        not_auto_part=draw(st.booleans()),
        annex_ii=draw(st.booleans()),
    )


def dates(schedule):
    days = (schedule.reviewed_through - FIRST_DAY).days + 60
    return st.integers(0, days).map(lambda n: FIRST_DAY + timedelta(days=n))


def scenarios(schedule):
    return st.sampled_from([None, *sorted(schedule.scenarios)])


def quote_or_none(schedule, shipment, on, scenario):
    try:
        return price_shipment(schedule, shipment, on, scenario)
    except TariffError:
        return None


@given(data=st.data())
def test_duty_is_never_negative_and_adds_up(schedule, data):
    shipment = data.draw(shipments())
    on = data.draw(dates(schedule))
    quote = quote_or_none(schedule, shipment, on, data.draw(scenarios(schedule)))
    assume(quote is not None)
    for line in quote.lines:
        assert line.amount >= 0 and line.basis >= 0 and line.rate >= 0
        assert line.on_hold_amount >= 0
        assert line.amount == line.amount.quantize(Decimal("0.01"))
    assert quote.additional_duty == sum(
        (line.amount for line in quote.lines if line.measure != "mfn"), Decimal(0))
    if quote.total_duty is not None:
        assert quote.total_duty == sum((line.amount for line in quote.lines), Decimal(0))
        assert abs(quote.effective_rate - quote.total_duty / quote.customs_value) <= Decimal(
            "0.0000005")


@given(data=st.data())
def test_a_larger_value_never_lowers_the_duty(schedule, data):
    shipment = data.draw(shipments())
    on = data.draw(dates(schedule))
    scenario = data.draw(scenarios(schedule))
    extra = data.draw(money)
    bigger = Shipment(**{**{f: getattr(shipment, f) for f in Shipment.__slots__},
                         "value": shipment.value + extra})
    small = quote_or_none(schedule, shipment, on, scenario)
    large = quote_or_none(schedule, bigger, on, scenario)
    assume(small is not None and large is not None)
    assert large.additional_duty >= small.additional_duty
    if small.total_duty is not None:
        assert large.total_duty >= small.total_duty


def _csv_for(rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["hts", "category", "value", "date", "mfn_rate", "metal_content",
                     "us_content", "auto_part", "annex_ii"])
    for shipment, on in rows:
        writer.writerow([
            shipment.hts or "", shipment.category or "", f"{shipment.value}", on.isoformat(),
            "" if shipment.mfn_rate is None else f"{shipment.mfn_rate}",
            "" if shipment.metal_content is None else f"{shipment.metal_content}",
            "" if shipment.us_content is None else f"{shipment.us_content}",
            "false" if shipment.not_auto_part else "true",
            "true" if shipment.annex_ii else "false",
        ])
    return buffer.getvalue()


def _run_batch(schedule, text, scenario):
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    table = InputTable("gen.csv", header, ((n, n + 1, row) for n, row in enumerate(reader, 1)))
    out = io.StringIO()
    price_table(schedule, table, out, default_date=date(2025, 5, 3), scenario=scenario)
    return out.getvalue()


@settings(max_examples=25)
@given(data=st.data())
def test_batch_equals_quoting_each_row_and_is_deterministic(schedule, data):
    rows = data.draw(st.lists(st.tuples(shipments(), dates(schedule)), min_size=1, max_size=12))
    scenario = data.draw(scenarios(schedule))
    text = _csv_for(rows)
    first = _run_batch(schedule, text, scenario)
    assert first == _run_batch(schedule, text, scenario)  # byte-identical
    out = list(csv.DictReader(io.StringIO(first)))
    assert len(out) == len(rows)
    for (shipment, on), row in zip(rows, out, strict=True):
        quote = quote_or_none(schedule, shipment, on, scenario)
        if quote is None:
            assert row["status"] == "error"
            continue
        assert row["status"] == "ok", row["error"]
        assert row["additional_duty"] == format_money(quote.additional_duty)
        assert row["on_hold_duty"] == format_money(quote.on_hold_duty)
        expected_total = "" if quote.total_duty is None else format_money(quote.total_duty)
        assert row["total_duty"] == expected_total
