"""A shipment to be priced, and the strict parsing of its fields from text (options, CSV cells)."""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from .errors import InputError, quoted
from .hts import normalize_hts
from .money import (
    FX_PLACES,
    ONE,
    ZERO,
    amount_of,
    in_usd,
    parse_amount,
    parse_positive_amount,
    parse_rate,
    plain_text,
    rate_of,
)
from .rules import CATEGORIES, MODES

_CURRENCY = re.compile(r"^[A-Z]{3}$", re.ASCII)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
# 2025/06/15 and 2025年6月15日, as Japanese spreadsheets write dates.
_JAPANESE_DATE = re.compile(r"^(\d{4})(?:/|年)(\d{1,2})(?:/|月)(\d{1,2})日?$", re.ASCII)
CONTENT_FIELDS = (
    "metal_content", "steel_content", "aluminum_content", "copper_content", "us_content",
)  # fmt: skip
FLAG_FIELDS = ("civil_aircraft",)


class Declaration(NamedTuple):
    """A fact about the goods that the HTS number does not carry and the law turns on: a
    shipment field (true, false, or None when the shipment says nothing), the batch column
    that gives it, and the quote options that declare it true (and false). (A NamedTuple: a
    dataclass costs a quote's start more.)"""

    field: str
    option: str  # declares it true
    negative: str | None  # declares it false
    help: str


# Declarations that the schedule's scopes and exclusions name (schedule.Flag). Where the
# shipment says nothing, the schedule's default applies and its warning names the option.
DECLARATIONS: tuple[Declaration, ...] = (
    Declaration("no_metal", "--no-metal", None,
                "A listed article with no aluminum, steel or copper at all (9903.82.01)."),
    Declaration("metal_weight_under_15", "--metal-weight-under-15", "--metal-weight-15-or-more",
                "The listed metal is under 15% of the article's weight (9903.82.03; goods "
                "outside chapters 72/73/74/76)."),
    Declaration("us_metal", "--us-metal", None,
                "The metal was melted and poured / smelted and cast in the US (9903.82.06-.08)."),
    Declaration("advanced_chips", "--advanced-chips", "--not-advanced-chips",
                "Advanced chips meeting the U.S. note 39(b) performance bands (9903.79.01)."),
    Declaration("chip_end_use_exempt", "--chip-end-use-exempt", None,
                "Semiconductors for an exempt end use of note 39 (9903.79.02-.09)."),
    Declaration("generic_pharma", "--generic-pharma", "--patented-pharma",
                "A generic or biosimilar pharmaceutical (9903.04.67), or a patented one."),
    Declaration("non_annex_iii_company", "--non-annex-iii-company", "--annex-iii-company",
                "Made by a company outside Annex III of the pharmaceuticals proclamation "
                "(9903.04.61, until 2026-09-28), or by one in it."),
    Declaration("allied_components", "--allied-components", None,
                "Drone whose critical components are certified US or allied (9903.08.24)."),
    Declaration("certified_auto_part", "--certified-auto-part", None,
                "An auto part certified for US production or repair (9903.94.54/.55)."),
    Declaration("not_heavy_vehicle", "--not-heavy-vehicle", "--heavy-vehicle",
                "Not a medium- or heavy-duty vehicle nor a part of one (9903.74.05/.11), or one."),
    Declaration("not_wooden", "--not-wooden", None,
                "Goods of the cabinet and vanity lines that are not wooden cabinets, vanities or "
                "their parts (9903.76.04)."),
)  # fmt: skip
DECLARATION_FIELDS = tuple(d.field for d in DECLARATIONS)
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0", ""}


@dataclass(frozen=True, slots=True)
class Shipment:
    """One line of an entry: the goods (HTS number or category), their value and declarations.

    Amounts are in ``currency``; ``fx_rate`` is US dollars per unit of that currency (CBP's
    certified rate) and is needed for anything but USD. A rate given as units of the currency
    per US dollar (150 yen) is ``fx_per_usd`` instead: amounts are then divided by it, exactly
    to the cent, and ``fx_rate`` is its inverse (to 28 digits, for display and checks).

    A library caller gives what the command line takes, and gets it checked the same way: the
    HTS number with or without dots ("8708.30.50"), amounts and rates as ``Decimal``, ``int``
    or text ("1234.56"; a rate also "2.5%"), ``loaded_on`` as a date or "2025-05-03". A
    ``float`` is refused (it is not exact money: give ``Decimal("0.1")`` or "0.1"). Anything
    else raises InputError naming the field; the attributes then hold the normalized values
    (digits of the HTS number, Decimals, a date).
    """

    value: Decimal
    hts: str | None = None  # digits only, 8 or 10 of them
    category: str | None = None
    currency: str = "USD"
    fx_rate: Decimal | None = None
    mfn_rate: Decimal | None = None
    metal_content: Decimal | None = None  # value of the steel/aluminum content
    us_content: Decimal | None = None  # value of the US-originating content
    not_auto_part: bool | None = None  # U.S. note 33(h)(ii); None: not declared either way
    annex_ii: bool | None = None  # declared an Annex II good (EO 14257 §3); None: not said
    civil_aircraft: bool = False  # an article of civil aircraft (EO 14345 §3; 9903.96.02)
    # For goods on both the steel and the aluminum derivative lists, each metal's own content.
    steel_content: Decimal | None = None
    aluminum_content: Decimal | None = None
    mode: str | None = None  # transport: ocean, air or land (the HMF is charged on ocean cargo)
    quantity: Decimal | None = None  # in the HTS unit, for a specific or compound MFN rate
    copper_content: Decimal | None = None  # value of the copper content (copper 232, 2025-26)
    # The date the goods were loaded on the vessel that brought them (in-transit rules).
    loaded_on: date | None = None
    # Declarations (see DECLARATIONS): None when the shipment says nothing.
    no_metal: bool | None = None
    metal_weight_under_15: bool | None = None
    us_metal: bool | None = None
    advanced_chips: bool | None = None
    chip_end_use_exempt: bool | None = None
    generic_pharma: bool | None = None
    non_annex_iii_company: bool | None = None
    allied_components: bool | None = None
    certified_auto_part: bool | None = None
    not_heavy_vehicle: bool | None = None
    not_wooden: bool | None = None
    fx_per_usd: Decimal | None = None  # units of the currency per US dollar, as given

    def __post_init__(self) -> None:
        self._normalize()
        if (self.hts is None) == (self.category is None):
            raise InputError("a shipment needs either an HTS code or a category (exactly one)")
        if self.category is not None and self.category not in CATEGORIES:
            raise InputError(
                f"category: expected one of {', '.join(CATEGORIES)}, got {self.category!r}"
            )
        if self.currency == "USD":
            if self.fx_rate is not None and self.fx_rate != ONE:
                raise InputError(f"fx_rate: a USD value takes no exchange rate, got {self.fx_rate}")
        elif self.fx_rate is None:
            raise InputError(
                f"fx_rate: a value in {self.currency} needs the exchange rate in USD per "
                f"{self.currency} (e.g. --fx-rate 0.0067 for JPY)"
            )
        elif self.fx_rate <= ZERO:
            raise InputError(f"fx_rate: must be greater than 0, got {self.fx_rate}")
        elif self.currency == "JPY" and self.fx_rate > ONE and self.fx_per_usd is not None:
            raise InputError(
                f"fx_rate: {quoted(f'{self.fx_per_usd:f}')} yen per US dollar cannot be right "
                f"(--fx-per-usd: the rate is yen per US dollar, such as 150); if it is US "
                f"dollars per yen, leave out --fx-per-usd"
            )
        elif self.currency == "JPY" and self.fx_rate > ONE:
            # A yen is worth far less than a dollar: a rate above 1 is yen per dollar (as
            # Japanese users quote it), which taken as dollars per yen would multiply the
            # value some 20,000 times.
            inverse = f"{(ONE / self.fx_rate).quantize(Decimal('1e-9')).normalize():f}"
            raise InputError(
                f"fx_rate: {quoted(str(self.fx_rate))} US dollars per yen cannot be right (the "
                f"rate is US dollars per unit of the currency); if it is yen per dollar, give "
                f"{inverse} (1/{self.fx_rate}) or say --fx-per-usd"
            )
        if self.mode is not None and self.mode not in MODES:
            raise InputError(f"mode: expected one of {', '.join(MODES)}, got {self.mode!r}")
        for name in CONTENT_FIELDS:
            content = getattr(self, name)
            if content is not None and content > self.value:
                raise InputError(f"{name}: {content} is more than the customs value {self.value}")
        if (
            self.metal_content is not None
            and self.us_content is not None
            and self.metal_content + self.us_content > self.value
        ):
            raise InputError(
                f"metal_content + us_content: together they exceed the customs value {self.value}"
            )

    def _normalize(self) -> None:
        """Every field as the engine reads it (see the class docstring), or InputError. The
        engine compares and multiplies these: a str value or a text date got as far as a
        TypeError there, a dotted HTS number was read as another number, an int value failed
        on ``quantize``. (Frozen: fields are set with object.__setattr__.)"""
        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        def shown(value: object) -> str:  # repr() of an int of 5,000 digits raises
            return quoted(value) if isinstance(value, str | bool) else type(value).__name__

        hts = self.hts
        # Already digits (shipment_from_fields normalized it): nothing to do.
        if hts is not None and not (type(hts) is str and hts.isdigit() and len(hts) in (8, 10)
                                    and hts.isascii()):
            if not isinstance(hts, str):
                raise InputError(f"hts: expected text such as '8703.23.01', got "
                                 f"{type(hts).__name__}")
            put("hts", normalize_hts(hts, "hts"))
        for name in ("category", "mode"):
            text = getattr(self, name)
            if text is not None:
                if not isinstance(text, str):
                    raise InputError(f"{name}: expected text, got {type(text).__name__}")
                put(name, text.strip().lower())
        if not isinstance(self.currency, str):
            raise InputError(f"currency: expected a 3-letter ISO code such as 'JPY', got "
                             f"{type(self.currency).__name__}")
        if self.currency != "USD":
            put("currency", parse_currency(self.currency))
        put("value", amount_of(self.value, "value", positive=True))
        if self.fx_per_usd is not None:
            put("fx_per_usd", amount_of(self.fx_per_usd, "fx_rate", positive=True))
            inverse = ONE / self.fx_per_usd  # 150 yen to the dollar: 1/150 dollar a yen
            # (a copy of a shipment, dataclasses.replace, comes with the inverse it was given)
            if self.fx_rate is not None and self.fx_rate != inverse:
                raise InputError("fx_rate: give the rate one way, fx_rate (US dollars per unit) "
                                 "or fx_per_usd (units per US dollar), not both")
            put("fx_rate", inverse)
        if self.fx_rate is not None:
            put("fx_rate", amount_of(self.fx_rate, "fx_rate", positive=True, places=FX_PLACES))
        if self.mfn_rate is not None:
            put("mfn_rate", rate_of(self.mfn_rate, "mfn_rate"))
        for name in CONTENT_FIELDS:
            if getattr(self, name) is not None:
                put(name, amount_of(getattr(self, name), name))
        if self.quantity is not None:
            put("quantity", amount_of(self.quantity, "quantity", positive=True))
        loaded = self.loaded_on
        if isinstance(loaded, str):
            put("loaded_on", parse_date(loaded, "loaded_on"))
        elif loaded is not None and type(loaded) is not date:  # a datetime is no date here
            raise InputError(f"loaded_on: expected a date (datetime.date) or text like "
                             f"2025-05-03, got {type(loaded).__name__}")
        if type(self.civil_aircraft) is not bool:
            raise InputError(f"civil_aircraft: expected True or False, got "
                             f"{shown(self.civil_aircraft)}")
        for name in ("not_auto_part", "annex_ii", *DECLARATION_FIELDS):
            flag = getattr(self, name)
            if flag is not None and type(flag) is not bool:
                # "no" is a true value in Python: a declaration is a bool or nothing.
                raise InputError(f"{name}: expected True, False or None, got {shown(flag)}")

    def content_of(self, metal: str) -> Decimal | None:
        """The declared value of one metal's content (steel, aluminum), if declared."""
        value: Decimal | None = getattr(self, f"{metal}_content", None)
        return value

    def to_usd(self, amount: Decimal) -> Decimal:
        """An amount of this shipment's currency in US dollars (unrounded, exact)."""
        if self.fx_per_usd is not None:
            return in_usd(amount, self.fx_per_usd, per_usd=True)
        return amount if self.fx_rate is None else in_usd(amount, self.fx_rate)


class CellFormat(NamedTuple):
    """How a file (or the command line) writes its cells where it departs from tariffcalc's
    plain forms: the thousands separator of its amounts (never guessed: "1,000" may be a
    thousand or one), a strptime format for its dates, and exchange rates given as units of
    the currency per US dollar (150 yen to the dollar) instead of US dollars per unit.
    (A NamedTuple: a dataclass would cost a quote's start half a millisecond.)"""

    thousands: str | None = None  # ",", ".", " " or "'"; "." makes "," the decimal mark
    date_format: str | None = None  # e.g. "%d.%m.%Y"
    fx_per_usd: bool = False
    # Text for fields a row leaves empty (a profile's currency, fx_rate, mode...).
    defaults: tuple[tuple[str, str], ...] = ()

    def checked(self) -> CellFormat:
        """This format, or the InputError that says which option is wrong."""
        if self.thousands is not None and self.thousands not in _SEPARATORS:
            raise InputError(
                f"--thousands: expected one of , . ' or a space, got {quoted(self.thousands)}"
            )
        if self.date_format is not None and "%" not in self.date_format:
            raise InputError(
                f"--date-format: expected a format such as %d.%m.%Y, got "
                f"{quoted(self.date_format)}"
            )
        return self


PLAIN_CELLS = CellFormat()
_SEPARATORS = (",", ".", " ", "'")


def parse_amount_cell(
    text: str, what: str, cells: CellFormat = PLAIN_CELLS, positive: bool = False
) -> Decimal:
    """An amount as the file writes it: plain, or grouped by ``cells.thousands``."""
    cleaned = plain_text(text)
    separator = cells.thousands
    if separator is not None:
        decimal_mark = "," if separator == "." else "."
        grouped = re.fullmatch(
            rf"\d{{1,3}}(?:{re.escape(separator)}\d{{3}})+(?:{re.escape(decimal_mark)}\d+)?",
            cleaned,
        )
        if grouped:
            cleaned = cleaned.replace(separator, "")
        elif separator in cleaned:
            raise InputError(
                f"{what}: expected digits grouped by three with {separator!r} (--thousands), "
                f"got {quoted(text)}"
            )
        if decimal_mark == ",":
            cleaned = cleaned.replace(",", ".")
    try:
        return parse_positive_amount(cleaned, what) if positive else parse_amount(cleaned, what)
    except InputError as exc:
        if separator is None and re.fullmatch(r"\d{1,3}(?:[,.' ]\d{3})+(?:[.,]\d+)?", cleaned):
            mark = next(c for c in cleaned if not c.isdigit())
            hint = f"; if {mark!r} separates thousands, say --thousands {mark}"
            raise InputError(f"{exc}{hint}") from None
        raise


MODE_WORDS = {
    "ocean": "ocean", "sea": "ocean", "vessel": "ocean", "air": "air", "land": "land",
    "truck": "land", "rail": "land", "road": "land",
    "海上": "ocean", "海運": "ocean", "船便": "ocean", "船舶": "ocean", "船": "ocean",
    "航空": "air", "航空便": "air", "空輸": "air",
    "陸上": "land", "陸送": "land", "陸路": "land", "トラック": "land", "鉄道": "land",
}  # fmt: skip
# ACE / CBP mode of transportation codes (ACE CATAIR, appendix B).
_ACE_MODES = {
    "10": "ocean", "11": "ocean", "12": "ocean", "20": "land", "21": "land", "30": "land",
    "31": "land", "32": "land", "33": "land", "34": "land", "40": "air", "41": "air",
}  # fmt: skip


def parse_mode(text: str, what: str = "mode") -> str:
    """A transport mode: ocean, air or land, as words (English or Japanese) or ACE codes."""
    cleaned = plain_text(text).casefold()
    mode = MODE_WORDS.get(cleaned) or _ACE_MODES.get(cleaned)
    if mode is None:
        raise InputError(
            f"{what}: expected ocean, air or land (or 海上, 航空, 陸上, or an ACE mode code "
            f"such as 11, 40, 30), got {quoted(text)}"
        )
    return mode


def parse_flag(text: str, what: str) -> bool:
    cleaned = text.strip().lower()
    if cleaned in _TRUE:
        return True
    if cleaned in _FALSE:
        return False
    raise InputError(f"{what}: expected true or false, got {quoted(text)}")


def parse_date(text: str, what: str, date_format: str | None = None) -> date:
    """An entry date written YYYY-MM-DD, or as Japanese files write it (2025/06/15,
    2025年6月15日), or in ``date_format`` (strptime) when one is given; a real one
    (2025-02-30 is refused)."""
    cleaned = plain_text(text)
    if date_format is not None:
        with contextlib.suppress(ValueError):
            return datetime.strptime(cleaned, date_format).date()
    try:
        if _DATE.match(cleaned):
            return date.fromisoformat(cleaned)
        japanese = _JAPANESE_DATE.match(cleaned)
        if japanese and ("年" in cleaned) == cleaned.endswith("日") and cleaned.count("/") != 1:
            return date(int(japanese[1]), int(japanese[2]), int(japanese[3]))
        raise ValueError
    except ValueError:
        formats = f"{date_format}, " if date_format else ""
        raise InputError(
            f"{what}: expected a date like {formats}2025-05-03, 2025/05/03 or 2025年5月3日 "
            f"(--date-format for others), got {quoted(text)}"
        ) from None


# How exports write Japan as a country of origin: ISO 3166 alpha-2, alpha-3 and numeric codes,
# the English and Japanese names. Anything else is another country: refused.
_JAPAN = frozenset({"JP", "JPN", "392", "JAPAN", "日本", "日本国", "NIPPON", "NIHON"})


def check_origin(text: str, what: str = "origin") -> None:
    """Goods of Japan only: an origin that says anything else is refused (none means Japan)."""
    cleaned = unicodedata.normalize("NFKC", text).strip().upper()
    words = re.sub(r"[\s.\-_/()]+", " ", cleaned).split()
    if cleaned in _JAPAN or (words and (words[0] in _JAPAN or words[-1] in _JAPAN)):
        return
    raise InputError(
        f"{what}: tariffcalc prices goods of Japan only, got {quoted(text)} (leave it empty, "
        "or write JP, JPN or Japan)"
    )


def parse_currency(text: str, what: str = "currency") -> str:
    cleaned = text.strip().upper()
    if not _CURRENCY.match(cleaned):
        raise InputError(
            f"{what}: expected a 3-letter ISO currency code such as JPY, got {quoted(text)}"
        )
    return cleaned


def shipment_from_fields(
    fields: Mapping[str, str | None],
    names: Mapping[str, str],
    cells: CellFormat = PLAIN_CELLS,
) -> Shipment:
    """Build a shipment from text fields (CSV cells or command-line options).

    ``fields`` is keyed by the canonical field names (hts, category, value, currency, fx_rate,
    mfn_rate, metal_content, steel_content, aluminum_content, us_content, auto_part,
    not_auto_part, annex_ii, civil_aircraft, mode, quantity); ``names`` says how the user wrote
    each one (a column name or an option), so that errors point at it; ``cells`` how amounts,
    dates and exchange rates are written.
    """

    given = {key: raw for key, raw in fields.items() if raw and not raw.isspace()}
    for key, default in cells.defaults:
        given.setdefault(key, default)
    text = given.get

    def label(key: str) -> str:
        return names.get(key, key)

    origin_text = text("origin")
    if origin_text is not None:
        check_origin(origin_text, label("origin"))
    hts_text, category_text = text("hts"), text("category")
    if hts_text is not None and category_text is not None:
        raise InputError(f"{label('hts')} and {label('category')}: give one of them, not both")
    if hts_text is None and category_text is None:
        raise InputError(f"{label('hts')}: an HTS code (or a {label('category')}) is required")
    hts = normalize_hts(hts_text, label("hts")) if hts_text is not None else None
    category = None
    if category_text is not None:
        category = category_text.strip().lower()
        if category not in CATEGORIES:
            raise InputError(
                f"{label('category')}: expected one of {', '.join(CATEGORIES)}, "
                f"got {category_text!r}"
            )

    value_text = text("value")
    if value_text is None:
        raise InputError(f"{label('value')}: a customs value is required")
    value = parse_amount_cell(value_text, label("value"), cells, positive=True)

    currency_text = text("currency")
    currency = parse_currency(currency_text, label("currency")) if currency_text else "USD"
    fx_text = text("fx_rate")
    fx_rate = fx_per_usd = None
    if fx_text:
        fx_rate = parse_amount_cell(fx_text, label("fx_rate"), cells, positive=True)
    if fx_rate is not None and cells.fx_per_usd:
        fx_rate, fx_per_usd = None, fx_rate  # 150 yen to the dollar
    mfn_text = text("mfn_rate")
    mfn_rate = parse_rate(mfn_text, label("mfn_rate")) if mfn_text else None
    contents = {}
    for key in CONTENT_FIELDS:
        content_text = text(key)
        contents[key] = parse_amount_cell(content_text, label(key), cells) if content_text else None

    # The CSV column says auto_part=false; the command-line flag says --not-auto-part.
    not_auto_part: bool | None = None
    auto_part_text = text("auto_part")
    if auto_part_text is not None:
        not_auto_part = not parse_flag(auto_part_text, label("auto_part"))
    not_auto_text = text("not_auto_part")
    if not_auto_text is not None:
        not_auto_part = parse_flag(not_auto_text, label("not_auto_part"))
    flags = {}
    for key in FLAG_FIELDS:
        flag_text = text(key)
        flags[key] = parse_flag(flag_text, label(key)) if flag_text is not None else False
    annex_text = text("annex_ii")
    declared_annex_ii = parse_flag(annex_text, label("annex_ii")) if annex_text else None
    loaded_text = text("loaded_on")
    loaded_on = (
        parse_date(loaded_text, label("loaded_on"), cells.date_format) if loaded_text else None
    )
    declared: dict[str, bool | None] = {}
    for key in DECLARATION_FIELDS:
        flag_text = text(key)
        declared[key] = parse_flag(flag_text, label(key)) if flag_text is not None else None

    quantity_text = text("quantity")
    quantity = (
        parse_amount_cell(quantity_text, label("quantity"), cells, positive=True)
        if quantity_text
        else None
    )
    mode_text = text("mode")
    mode = parse_mode(mode_text, label("mode")) if mode_text else None
    try:
        return Shipment(
            mode=mode,
            quantity=quantity,
            value=value,
            hts=hts,
            category=category,
            currency=currency,
            fx_rate=fx_rate,
            fx_per_usd=fx_per_usd,
            mfn_rate=mfn_rate,
            not_auto_part=not_auto_part,
            metal_content=contents["metal_content"],
            steel_content=contents["steel_content"],
            aluminum_content=contents["aluminum_content"],
            copper_content=contents["copper_content"],
            us_content=contents["us_content"],
            **declared,
            annex_ii=declared_annex_ii,
            loaded_on=loaded_on,
            civil_aircraft=flags["civil_aircraft"],
        )
    except InputError as exc:
        # Name the field the way the user wrote it.
        message = str(exc)
        head, sep, rest = message.partition(": ")
        if sep and head in names:
            raise InputError(f"{names[head]}: {rest}") from None
        raise
