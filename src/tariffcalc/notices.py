"""Warnings with codes: each warning a quote carries is its text (a ``str``, as everywhere)
and a short code that names its kind (``HMF_MODE_MISSING``), so that a batch can write the
code on each row and the text once, in its summary (README: "Warning codes")."""

from __future__ import annotations

import re
from collections.abc import Iterable

WARNING_STYLES = ("codes", "text")


class Notice(str):
    """A warning's text, with its ``code``."""

    code: str

    def __new__(cls, code: str, text: str) -> Notice:
        notice = super().__new__(cls, text)
        notice.code = code
        return notice

    def __reduce__(self) -> tuple[type[Notice], tuple[str, str]]:
        return (Notice, (self.code, str(self)))

    def reworded(self, text: str) -> Notice:
        """The same kind of warning in other words (with the measures it concerns, say)."""
        return Notice(self.code, text)


def code_of(warning: str) -> str:
    return getattr(warning, "code", "NOTE")


def code_part(text: str) -> str:
    """Text as a part of a code: "vehicle age" -> VEHICLE_AGE, "forced-labor-301" ->
    FORCED_LABOR_301."""
    return re.sub(r"[^0-9A-Z]+", "_", text.upper()).strip("_")


def warnings_cell(warnings: Iterable[str], style: str = "codes") -> str | None:
    """A row's warnings as a batch writes them: their codes, once each, space-separated, or
    (style "text") their texts joined by " | "; None when there are none."""
    if style == "text":
        return " | ".join(warnings) or None
    return " ".join(dict.fromkeys(code_of(warning) for warning in warnings)) or None
