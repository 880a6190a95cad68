"""Money and rates as Decimal, parsed strictly and rounded in one place."""

from __future__ import annotations

import re
import unicodedata
from decimal import (
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)

from .errors import InputError, quoted

CENT = Decimal("0.01")
ZERO = Decimal("0")
ZERO_MONEY = Decimal("0.00")
ONE = Decimal("1")
# The most a customs value (USD) may be: 15 digits before the point, as every amount given.
LARGEST_AMOUNT = Decimal("999999999999999.99")
AMOUNT_PLACES = 10  # decimals of an amount: 1234.5678901234 has too many
RATE_PLACES = 12  # decimals of a rate: 2.1234567891% is 0.021234567891
# An exchange rate is a ratio, not money: 150 yen to the dollar is 1/150 = 0.0066...67, 28
# significant digits; 40 decimals hold that for any currency of up to 10^12 units a dollar.
FX_PLACES = 40

# Python's default context keeps 28 significant digits: a value at the 15-digit limit with its
# cents (17 digits) times a rate of 12 decimals has 29, and the product rounded to 28 digits
# can land on the other side of a half cent (999999999999999.99 x 0.500000000005 gave
# ...5000.00 instead of ...4999.99). Products and sums of money are therefore taken in this
# context: the numbers given have at most 15 digits before the point and 10 after (a rate is
# at most 1 with 12 decimals, an exchange rate has up to 40), so even a product of an amount,
# an exchange rate and a rate has at most 30 + 62 digits, and a sum of such products one
# more: within 100, exact. Its traps are those of the default context; it is passed
# explicitly, never installed, so that a program using tariffcalc keeps its own.
_EXACT = Context(
    prec=100, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow]
)

# A plain decimal number: digits with an optional fraction. No exponent, no sign, no
# thousands separators: "1,000" in a customs file is ambiguous (1000 or 1.000), so it is refused.
# At most 15 whole digits and 10 decimals, so that every product stays exact in Decimal.
_NUMBER = re.compile(r"^\d{1,15}(\.\d{1,10})?$|^\.\d{1,10}$", re.ASCII)


def in_usd(amount: Decimal, rate: Decimal, per_usd: bool = False) -> Decimal:
    """An amount of another currency in US dollars, unrounded, for round_cent: times the rate
    in US dollars per unit, exactly (see ``times``), or divided by a rate per US dollar (150
    yen: ``per_usd``) to 100 significant digits, exact whenever the quotient ends (a half cent
    always does) and otherwise far from any half cent. (Multiplying by 1/150 to 28 digits did
    not: 4501.5 yen at 300 to the dollar is 15.005 USD, which came to 15.00, not 15.01.) The
    engine and the entry scan both convert here."""
    return _EXACT.divide(amount, rate) if per_usd else times(amount, rate)


def round_cent(amount: Decimal) -> Decimal:
    """Round an amount of money to the cent, half up: the only place duty is rounded.

    ``amount`` must be exact: a product is taken with :func:`times` (and a sum of products
    with :func:`plus`), never with ``*`` in the default context, which rounds to 28 digits
    first."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP, context=_EXACT)


def times(*factors: Decimal) -> Decimal:
    """The exact product of amounts and rates (see ``_EXACT``), to be rounded by round_cent."""
    product = ONE
    for factor in factors:
        product = _EXACT.multiply(product, factor)
    return product


def plus(*terms: Decimal) -> Decimal:
    """The exact sum of amounts or products (see ``_EXACT``)."""
    total = ZERO
    for term in terms:
        total = _EXACT.add(total, term)
    return total


def share_of(total: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    """``total`` x ``part`` / ``whole`` to the cent: the share of an amount in proportion to a
    part of a whole. The product is exact and the quotient kept to 100 digits, which a
    quotient of these amounts cannot need to decide a half cent (one that is exactly a half
    cent has at most 20 digits)."""
    return round_cent(_EXACT.divide(times(total, part), whole))


def amount_of(
    value: object, what: str, *, positive: bool = False, places: int = AMOUNT_PLACES
) -> Decimal:
    """A library caller's amount (``Decimal``, ``int`` or text) checked as the command line
    checks its text: not negative (``positive``: more than 0), finite, at most 15 digits
    before the point and ``places`` (10) after. Text is read by :func:`parse_amount`.

    A ``float`` is refused, not converted: 0.1 is stored as
    0.1000000000000000055511151231257827021181583404541015625, and which decimal number the
    caller meant is a guess that money should not rest on."""
    if isinstance(value, str):
        return parse_positive_amount(value, what) if positive else parse_amount(value, what)
    number = _decimal_of(value, what, "an amount", "1234.56")
    if number < ZERO:
        raise InputError(f"{what}: must not be negative, got {_shown(number)}")
    if positive and number == ZERO:
        raise InputError(f"{what}: must be greater than 0, got {_shown(number)}")
    _check_digits(number, what, places)
    return _plain(number)


def rate_of(value: object, what: str) -> Decimal:
    """A library caller's rate: a ``Decimal`` or ``int`` fraction between 0 and 1 (at most 12
    decimals), or text as :func:`parse_rate` reads it ("2.5%", "0.025", "Free"). A ``float``
    is refused, as in :func:`amount_of`."""
    if isinstance(value, str):
        return parse_rate(value, what)
    number = _decimal_of(value, what, "a rate", "0.025")
    if not ZERO <= number <= ONE:
        raise InputError(f"{what}: a rate must be a fraction from 0 to 1 (0.025 for 2.5%), "
                         f"got {_shown(number)}")
    _check_digits(number, what, RATE_PLACES)
    return _plain(number)


def _decimal_of(value: object, what: str, kind: str, example: str) -> Decimal:
    if isinstance(value, bool):  # an int, but True is no amount
        raise InputError(f"{what}: expected {kind}, got {value!r}")
    if isinstance(value, int):
        # Checked before any conversion: an int of more than 4,300 digits cannot even be
        # turned into text (Python's int-to-str limit).
        if not -(10**15) < value < 10**15:
            raise InputError(f"{what}: expected at most 15 digits before the point, got an int "
                             "with more")
        return Decimal(value)
    if isinstance(value, float):
        raise InputError(
            f"{what}: got the float {value!r}; a float is not exact money (0.1 is stored as "
            f"{Decimal(0.1)}): give a Decimal or text, e.g. Decimal('{example}') or "
            f"'{example}'"
        )
    if not isinstance(value, Decimal):
        raise InputError(
            f"{what}: expected {kind} as a Decimal, an int or text such as '{example}', "
            f"got {type(value).__name__}"
        )
    if not value.is_finite():
        raise InputError(f"{what}: expected a finite number, got {value!r}")
    return value


def _check_digits(number: Decimal, what: str, places: int) -> None:
    if number and number.adjusted() >= 15:
        raise InputError(f"{what}: expected at most 15 digits before the point, got {number:.3E}")
    _, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite
    zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if number and -(exponent + zeros) > places:
        raise InputError(f"{what}: expected at most {places} decimals, got {_shown(number)}")


def _shown(number: Decimal) -> str:
    return quoted(str(number))


def _plain(number: Decimal) -> Decimal:
    """-0 as 0, 1E+3 as 1000: as the command line would have read them."""
    if number.is_zero():
        return abs(number)
    _, _, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    return number.quantize(ONE, context=_EXACT) if exponent > 0 else number


def plain_text(text: str) -> str:
    """Full-width digits and signs (common in Japanese spreadsheets) as ASCII, trimmed."""
    return unicodedata.normalize("NFKC", text).strip()


def parse_amount(text: str, what: str) -> Decimal:
    """Parse a non-negative money amount such as ``20000`` or ``1234.56``."""
    cleaned = plain_text(text)
    if not _NUMBER.match(cleaned):
        raise InputError(
            f"{what}: expected a plain number such as 1234.56 (no sign, exponent or thousands "
            f"separator; at most 15 digits before the point and 10 after), got {quoted(text)}"
        )
    return Decimal(cleaned)


def parse_positive_amount(text: str, what: str) -> Decimal:
    amount = parse_amount(text, what)
    if amount <= ZERO:
        raise InputError(f"{what}: must be greater than 0, got {quoted(text)}")
    return amount


def parse_rate(text: str, what: str) -> Decimal:
    """Parse a rate written as a percentage (``2.5%``), a decimal fraction (``0.025``) or
    ``Free``.

    The result is a fraction between 0 and 1 inclusive.
    """
    cleaned = plain_text(text)
    if cleaned.lower() == "free":  # as the HTS prints a rate of 0
        return Decimal(0)
    percent = cleaned.endswith("%")
    number = cleaned[:-1].strip() if percent else cleaned
    if not _NUMBER.match(number):
        raise InputError(f"{what}: expected a rate such as 2.5% or 0.025, got {quoted(text)}")
    rate = Decimal(number) / 100 if percent else Decimal(number)
    if rate > ONE:
        raise InputError(f"{what}: a rate must be at most 100% (1.0), got {quoted(text)}")
    return rate


def format_money(amount: Decimal) -> str:
    """Two decimals, no separators: the form used in JSON and CSV output."""
    return f"{round_cent(amount):.2f}"


def format_rate(rate: Decimal) -> str:
    """A decimal fraction without trailing zeros: 0.25, 0.125, 0."""
    text = f"{rate:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def format_percent(rate: Decimal) -> str:
    """A rate for people: 25%, 2.5%, 12.6%."""
    return f"{format_rate(rate * 100)}%"
