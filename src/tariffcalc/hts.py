"""HTS numbers: a shipment's code and the provisions (4 to 10 digit prefixes) that scopes name."""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable
from typing import Generic, TypeVar

from .errors import InputError, quoted

# A shipment's HTS number: the 8-digit tariff line or the 10-digit statistical reporting number,
# written with the usual dots (8703.23.01, 8703.23.01.90, 8703.23.0190) or as bare digits
# (87032301, 8703230190).
_DOTTED = re.compile(r"^(\d{4})\.(\d{2})\.(\d{2})(?:\.?(\d{2}))?$", re.ASCII)
_DIGITS = re.compile(r"^\d{8}(\d{2})?$", re.ASCII)
# A provision named in a scope or a rate table: 4 to 10 digits, dotted or not.
_PROVISION = re.compile(r"^\d{4}(?:\.?\d{2}){0,3}$", re.ASCII)


def normalize_hts(text: str, what: str = "HTS code") -> str:
    """Return the digits of a shipment's HTS number, or raise InputError saying what is wrong."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    match = _DOTTED.match(cleaned)
    if match:
        return "".join(part for part in match.groups() if part)
    if _DIGITS.match(cleaned):
        return cleaned
    digits = cleaned.replace(".", "")
    if digits.isdigit() and len(digits) == 7:
        raise InputError(
            f"{what}: {quoted(text)} has 7 digits; HTS numbers have 8 or 10 "
            "(a spreadsheet may have dropped a leading zero, e.g. 0902.10.10)"
        )
    if digits.isdigit() and len(digits) == 9:
        raise InputError(
            f"{what}: {quoted(text)} has 9 digits; HTS numbers have 8 or 10 "
            "(a spreadsheet may have dropped a leading zero, e.g. 0402.99.68)"
        )
    raise InputError(
        f"{what}: expected an 8- or 10-digit HTS number such as 8703.23.01, 87032301 "
        f"or 8703230100, got {quoted(text)}"
    )


def normalize_provision(text: str) -> str:
    """Digits of a provision (4 to 10 digits); ValueError if it is not one."""
    cleaned = str(text).strip()
    if not _PROVISION.match(cleaned):
        raise ValueError(
            "expected an HTS provision of 4, 6, 8 or 10 digits such as 8708 or 8708.40.11, "
            f"got {quoted(text)}"
        )
    return cleaned.replace(".", "")


def format_hts(digits: str) -> str:
    """8703230100 -> 8703.23.01.00; 870323 -> 8703.23; 8708 -> 8708."""
    parts = [digits[:4]] + [digits[i : i + 2] for i in range(4, len(digits), 2)]
    return ".".join(parts)


T = TypeVar("T")


class ProvisionIndex(Generic[T]):
    """Finds the most specific provision (longest prefix) that covers an HTS number."""

    def __init__(self, entries: Iterable[tuple[str, T]]) -> None:
        self._by_prefix: dict[str, T] = {}
        for prefix, value in entries:
            self._by_prefix[prefix] = value
        self._lengths = sorted({len(p) for p in self._by_prefix}, reverse=True)
        self._sorted: list[str] | None = None  # sorted on first use (extending)

    def extending(self, code: str) -> list[str]:
        """The provisions longer than ``code`` that start with it."""
        if self._sorted is None:
            self._sorted = sorted(self._by_prefix)
        start = bisect.bisect_right(self._sorted, code)
        found = []
        for prefix in self._sorted[start:]:
            if not prefix.startswith(code):
                break
            found.append(prefix)
        return found

    def lookup(self, code: str) -> T | None:
        for length in self._lengths:
            if length <= len(code):
                hit = self._by_prefix.get(code[:length])
                if hit is not None:
                    return hit
        return None
