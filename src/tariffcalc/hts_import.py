"""Import the official USITC HTS export (JSON) into a local table of MFN rates.

The export, published for each HTS revision, is a JSON array of objects with ``htsno``,
``indent``, ``description``, ``general`` (the column 1 general rate), ``special``, ``other``, ...
A statistical (10-digit) line with no rate of its own takes the rate of its 8-digit line.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputError, ScheduleError, file_problem

if TYPE_CHECKING:  # the validating models (pydantic) are imported when rates are read
    from .schedule import MFNRate, SpecificRate

MFN_TABLE_ENV = "TARIFFCALC_MFN_TABLE"
_TAGS = re.compile(r"<[^>]*>", re.ASCII)
_FOOTNOTE = re.compile(r"\s+\d+/\s*$", re.ASCII)  # "2.5% 1/" -> "2.5%"
_AD_VALOREM = re.compile(r"^(\d+(?:\.\d+)?)%$", re.ASCII)
_CENTS = re.compile(r"^(\d+(?:\.\d+)?)¢/\s*([A-Za-z][A-Za-z .]*?)\.?$", re.ASCII)
_DOLLARS = re.compile(r"^\$(\d+(?:\.\d+)?)/\s*([A-Za-z][A-Za-z .]*?)\.?$", re.ASCII)


@dataclass(frozen=True, slots=True)
class ParsedRate:
    ad_valorem: Decimal
    specific: tuple[SpecificRate, ...]


def parse_general_rate(text: str) -> ParsedRate | None:
    """Parse a column 1 general rate: "Free", "2.5%", "4.4¢/kg", "$1.50/each",
    "2.5% + 4.4¢/kg". Anything else (a reference to another heading, a rate on a part of the
    goods) returns None: it is not guessed."""
    cleaned = _FOOTNOTE.sub("", _TAGS.sub("", text)).strip()
    if not cleaned:
        return None
    if cleaned.lower() == "free":
        return ParsedRate(Decimal(0), ())
    from .schedule import SpecificRate

    ad_valorem = Decimal(0)
    specific: list[SpecificRate] = []
    seen_ad_valorem = False
    for part in (p.strip() for p in cleaned.split("+")):
        if match := _AD_VALOREM.match(part):
            if seen_ad_valorem:
                return None
            ad_valorem, seen_ad_valorem = Decimal(match.group(1)) / 100, True
        elif match := _CENTS.match(part):
            specific.append(
                SpecificRate(amount=Decimal(match.group(1)) / 100, unit=match.group(2).strip())
            )
        elif match := _DOLLARS.match(part):
            specific.append(
                SpecificRate(amount=Decimal(match.group(1)), unit=match.group(2).strip())
            )
        else:
            return None
    if ad_valorem > 1:
        return None
    return ParsedRate(ad_valorem, tuple(specific))


@dataclass(frozen=True)
class ImportResult:
    rates: tuple[MFNRate, ...]
    lines: int  # objects with an HTS number read
    refused: tuple[str, ...]  # "htsno: general" of rates that were not understood


def import_usitc(records: Iterable[Any], source: str) -> ImportResult:
    """MFN rates from the objects of a USITC HTS export."""
    from .schedule import MFNRate

    rates: dict[str, MFNRate] = {}
    refused: list[str] = []
    lines = 0
    for position, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise InputError(f"{source}: item {position}: expected an object with htsno, general")
        number = str(record.get("htsno") or "").strip()
        digits = number.replace(".", "")
        if not digits:
            continue  # section and chapter titles carry no number
        if not digits.isdigit() or len(digits) not in (4, 6, 8, 10):
            raise InputError(f"{source}: item {position}: htsno {number!r} is not an HTS number")
        lines += 1
        general = str(record.get("general") or "").strip()
        if not general:
            continue  # a statistical line takes its 8-digit line's rate (longest prefix wins)
        parsed = parse_general_rate(general)
        if parsed is None:
            refused.append(f"{number}: {general}")
            continue
        description = _TAGS.sub("", str(record.get("description") or "")).strip()
        rates[digits] = MFNRate(
            provision=digits,
            rate=parsed.ad_valorem,
            specific=parsed.specific,
            text=_TAGS.sub("", general).strip(),
            goods=description[:120] or number,
            source=source,
            confidence="H",
        )
    return ImportResult(tuple(rates.values()), lines, tuple(refused))


def read_usitc_file(path: Path) -> ImportResult:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(file_problem(path, exc, "the USITC HTS JSON export")) from None
    if not isinstance(data, list):
        raise InputError(f"{path}: expected a JSON array of HTS lines (the USITC export)")
    return import_usitc(data, f"USITC HTS export {path.name}")


def default_table_path() -> Path:
    """$TARIFFCALC_MFN_TABLE, else mfn-table.json in the user's data folder."""
    override = os.environ.get(MFN_TABLE_ENV)
    if override:
        return Path(override)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tariffcalc" / "mfn-table.json"


def save_table(result: ImportResult, path: Path) -> None:
    from .batch import atomic_output  # writing is rare; keep the quote path light

    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": "tariffcalc-mfn-table/1",
        "rates": [rate.model_dump(mode="json", exclude_none=True) for rate in result.rates],
    }
    with atomic_output(path) as stream:
        json.dump(payload, stream, ensure_ascii=False, separators=(",", ":"))


def load_table(path: Path) -> tuple[MFNRate, ...]:
    """The rates of a table written by ``tariffcalc hts import``, validated, as the plain
    objects of a loaded schedule (:mod:`tariffcalc.rules`)."""
    from .rules import twin
    from .schedule import MFNRate

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != "tariffcalc-mfn-table/1":
            raise ValueError("not a tariffcalc MFN table")
        return tuple(twin(MFNRate.model_validate(item)) for item in data["rates"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ScheduleError(
            f"{path}: cannot use this MFN table ({exc}); import it again with "
            "`tariffcalc hts import FILE`"
        ) from None
