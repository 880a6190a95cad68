"""Money and rates as Decimal, parsed strictly and rounded in one place."""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

from .errors import InputError, quoted

CENT = Decimal("0.01")
ZERO = Decimal("0")
ZERO_MONEY = Decimal("0.00")
ONE = Decimal("1")

# A plain decimal number: digits with an optional fraction. No exponent, no sign, no
# thousands separators: "1,000" in a customs file is ambiguous (1000 or 1.000), so it is refused.
# At most 15 whole digits and 10 decimals, so that every product stays exact in Decimal.
_NUMBER = re.compile(r"^\d{1,15}(\.\d{1,10})?$|^\.\d{1,10}$", re.ASCII)


def round_cent(amount: Decimal) -> Decimal:
    """Round an amount of money to the cent, half up: the only place duty is rounded."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def plain_text(text: str) -> str:
    """Full-width digits and signs (common in Japanese spreadsheets) as ASCII, trimmed."""
    return unicodedata.normalize("NFKC", text).strip()


def parse_amount(text: str, what: str) -> Decimal:
    """Parse a non-negative money amount such as ``20000`` or ``1234.56``."""
    cleaned = plain_text(text)
    if not _NUMBER.match(cleaned):
        raise InputError(
            f"{what}: expected a plain number such as 1234.56 (no sign, exponent or thousands "
            f"separator; at most 15 digits before the point), got {quoted(text)}"
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
