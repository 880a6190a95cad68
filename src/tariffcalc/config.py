"""Profiles: a user's settings for the files of one source (an ERP export, a broker's sheet),
kept in a TOML file so that they are set up once.

The file is $TARIFFCALC_CONFIG, else config.toml in the platform's configuration folder
(platformdirs: ~/.config/tariffcalc on Linux, ~/Library/Application Support/tariffcalc on macOS,
%APPDATA%\\tariffcalc on Windows), or the one given with --config::

    [profiles.sap-jp]
    encoding = "cp932"
    thousands = ","
    date_format = "%Y/%m/%d"
    currency = "JPY"
    fx_rate = "150"
    fx_per_usd = true
    mode = "ocean"
    bom = true
    columns = { hts = "品目コード", value = "請求金額" }
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError, quoted

CONFIG_ENV = "TARIFFCALC_CONFIG"
# Cells a profile may fill in where a row leaves them empty (or its file has no such column).
DEFAULT_FIELDS = ("currency", "fx_rate", "mode", "origin")
_TEXT_KEYS = ("encoding", "thousands", "date_format", "delimiter", "sheet", *DEFAULT_FIELDS)
_FLAG_KEYS = ("fx_per_usd", "bom")


@dataclass(frozen=True)
class Profile:
    name: str
    source: str  # the config file it is read from
    columns: dict[str, str] = field(default_factory=dict)
    encoding: str | None = None
    thousands: str | None = None
    date_format: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    fx_per_usd: bool | None = None
    bom: bool | None = None
    defaults: dict[str, str] = field(default_factory=dict)  # currency, fx_rate, mode, origin


def config_path() -> Path:
    setting = os.environ.get(CONFIG_ENV, "").strip()
    if setting:
        return Path(setting)
    import platformdirs

    return Path(platformdirs.user_config_dir("tariffcalc", appauthor=False)) / "config.toml"


def load_profile(name: str, path: Path | None = None) -> Profile:
    """The profile ``name`` of the config file (``path``, else :func:`config_path`); errors
    name the file, the profile and the key."""
    import tomllib

    source = path or config_path()
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"--profile {name}: no config file at {source}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{source}: cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: not valid TOML: {exc}") from None
    profiles = data.get("profiles")
    if not isinstance(profiles, dict) or name not in profiles:
        known = ", ".join(sorted(profiles)) if isinstance(profiles, dict) else "none"
        raise InputError(f"{source}: no profile {name!r} (profiles: {known})")
    table = profiles[name]
    where = f"{source}: profiles.{name}"
    if not isinstance(table, dict):
        raise InputError(f"{where}: expected a table of settings")
    values: dict[str, Any] = {}
    defaults: dict[str, str] = {}
    for key, value in table.items():
        if key == "columns":
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            ):
                raise InputError(f"{where}.columns: expected field = \"header\" pairs")
            values["columns"] = {k.strip().lower(): v for k, v in value.items()}
        elif key in _TEXT_KEYS:
            if isinstance(value, int | float) and not isinstance(value, bool):
                value = str(value)  # fx_rate = 150: the number as written
            if not isinstance(value, str):
                raise InputError(f"{where}.{key}: expected text, got {quoted(str(value))}")
            if key in DEFAULT_FIELDS:
                defaults[key] = value
            else:
                values[key] = value
        elif key in _FLAG_KEYS:
            if not isinstance(value, bool):
                raise InputError(f"{where}.{key}: expected true or false")
            values[key] = value
        else:
            known = ", ".join(("columns", *_TEXT_KEYS, *_FLAG_KEYS))
            raise InputError(f"{where}: unknown setting {key!r}; settings: {known}")
    return Profile(name=name, source=str(source), defaults=defaults, **values)
