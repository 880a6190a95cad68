"""Loading a schedule: the YAML file read (bounded in size), validated by the pydantic models of
:mod:`~tariffcalc.schedule` and compiled into the plain objects of :mod:`~tariffcalc.rules`,
which are kept in a cache so that a quote starts without validating the YAML again.

The import graph runs one way: :mod:`~tariffcalc.rules` (plain objects and their methods) <-
:mod:`~tariffcalc.schedule` (the validated models, which share those methods) <- this module,
which imports the models only when the cache misses (pydantic is slow to import)."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from . import __version__, rules
from .errors import ScheduleError, file_problem
from .rules import (
    MAX_SCHEDULE_BYTES,
    ProvisionList,
    Rule,
    Schedule,
    ScheduleRules,
    default_schedule_path,
    rows_of,
)

# SHA-256 from CPython's own module where there is one: hashlib loads OpenSSL, about 2 ms of
# a quote's start (3.11: _sha256; 3.12 and later: _sha2).
try:
    from _sha256 import sha256  # type: ignore[import-not-found,unused-ignore]
except ImportError:
    try:
        from _sha2 import sha256  # type: ignore[import-not-found,no-redef,unused-ignore]
    except ImportError:
        from hashlib import sha256  # type: ignore[assignment,no-redef,unused-ignore]

__all__ = ["CACHE_ENV", "cache_problem", "load_schedule", "parse_schedule"]


def _too_large(path: Path, size: int | None) -> str:
    told = f"{size:,} bytes" if size is not None else f"more than {MAX_SCHEDULE_BYTES:,} bytes"
    return f"{path}: {told}; expected a YAML schedule of at most 20 MiB"


def _read_schedule_text(path: Path) -> str:
    """The text of a schedule file, refused (ScheduleError) past :data:`MAX_SCHEDULE_BYTES`."""
    try:
        info = path.stat()
        if stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode):
            if stat.S_ISREG(info.st_mode) and info.st_size > MAX_SCHEDULE_BYTES:
                raise ScheduleError(_too_large(path, info.st_size))
            text = path.read_text(encoding="utf-8")
        else:  # a pipe (`tariffcalc validate <(...)`) has no size to check beforehand
            with path.open("rb") as stream:
                data = stream.read(MAX_SCHEDULE_BYTES + 1)
            if len(data) > MAX_SCHEDULE_BYTES:
                raise ScheduleError(_too_large(path, None))
            text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScheduleError(file_problem(path, exc, "a YAML schedule")) from None
    if len(text) > MAX_SCHEDULE_BYTES:  # it grew after it was measured
        raise ScheduleError(_too_large(path, None))
    return text


def load_schedule(path: str | os.PathLike[str] | None = None, *, cached: bool = True) -> Schedule:
    """Load and validate a schedule file (the packaged tariffs.yaml when no path is given).

    A schedule validated before is read from the cache (see :data:`CACHE_ENV`); ``cached=False``
    validates the file all the same, and puts the result in the cache.
    """
    schedule_path = Path(path) if path is not None else default_schedule_path()
    text = _read_schedule_text(schedule_path)
    text_sha256 = sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    cache = _cache_file(text, text_sha256)
    schedule = _read_cache(cache, text_sha256) if cached else None
    if schedule is None:
        from .schedule_yaml import parse_schedule  # pydantic: only when the cache misses

        schedule = parse_schedule(text, str(schedule_path))
        _write_cache(cache, schedule, text_sha256)
    # Where it came from, for the audit stamp of what is priced with it (not in the cache).
    schedule._source = str(schedule_path)
    schedule._text_sha256 = text_sha256
    return schedule


def parse_schedule(text: str, source: str = "tariffs.yaml") -> Schedule:
    """Validate schedule text (see :func:`tariffcalc.schedule_yaml.parse_schedule`)."""
    from .schedule_yaml import parse_schedule as parse

    return parse(text, source)


# ----------------------------------------------------------------------------- the cache

# The validated schedule is kept in a cache keyed by the file's content (and the code that
# shapes it), so that `tariffcalc quote` starts without re-validating the YAML. The cache is
# plain JSON rebuilt into the objects of rules.py (never pickle: loading a pickle runs whatever code
# it names, so whoever could write the cache folder would run code as the next user), and it
# is read only from a folder and a file that no other user can write, as ssh and pip require.
CACHE_ENV = "TARIFFCALC_CACHE"
_CACHE_FORMAT = "tariffcalc-schedule-cache/1"
# A cache file is larger than its schedule (field names are written out), but not by this much.
_MAX_CACHE_BYTES = 4 * MAX_SCHEDULE_BYTES
_RULE_CLASSES: dict[str, type[Rule]] = {
    name: value
    for name, value in vars(rules).items()
    if isinstance(value, type) and issubclass(value, Rule) and value is not Rule
}


def _cache_dir() -> Path | None:
    setting = os.environ.get(CACHE_ENV)
    if setting == "off":
        return None
    if setting:
        return Path(setting)
    if not sys.platform.startswith("linux"):  # the platform's cache folder, as platformdirs says
        import platformdirs

        return Path(platformdirs.user_cache_dir("tariffcalc", appauthor=False))
    # On Linux the same folder platformdirs gives, worked out here: importing it would cost a
    # quote a tenth of its start.
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "tariffcalc"
    try:
        return Path.home() / ".cache" / "tariffcalc"
    except (RuntimeError, KeyError):  # no home (a service account): no cache
        return None


def _cache_file(text: str, text_sha256: str | None = None) -> Path | None:
    """Where the cache of this schedule text is (None when the cache is off)."""
    base = _cache_dir()
    if base is None:
        return None
    if text_sha256 is None:
        text_sha256 = sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    digest = sha256()
    for part in (text_sha256, __version__, sys.version):
        digest.update(part.encode("utf-8"))
    # The code of the models and of these objects: a cache written by another shape of them is
    # never read back.
    here = Path(__file__)
    for module in (here, here.with_name("schedule.py"), here.with_name("hts.py")):
        with contextlib.suppress(OSError):
            digest.update(module.read_bytes())
    return base / f"schedule-{digest.hexdigest()[:32]}.json"


def _private(info: os.stat_result) -> bool:
    """Owned by this user and writable by no other (where the system has owners at all)."""
    geteuid = getattr(os, "geteuid", None)
    if geteuid is None:  # Windows: no owner or mode bits to check here
        return True
    return info.st_uid == geteuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def cache_problem() -> str | None:
    """Why the schedule cache folder cannot be used (every load then validates the YAML), or
    None when it can, is not made yet, or is turned off."""
    base = _cache_dir()
    if base is None:
        return None
    try:
        info = os.stat(base)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"{base}: {exc.strerror}"
    if not stat.S_ISDIR(info.st_mode):
        return f"{base} is not a folder"
    if not _private(info):
        return (
            f"{base} is not owned by this user or can be written by others "
            "(chmod go-w it, or set TARIFFCALC_CACHE to a folder of your own)"
        )
    return None


def _read_cache(cache: Path | None, text_sha256: str) -> Schedule | None:
    if cache is None or cache_problem() is not None:
        return None
    # O_NONBLOCK: a FIFO planted at the cache's place must not hang the command; O_NOFOLLOW: nor
    # may a link lead elsewhere. What was opened is checked, not the name (which may change).
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(cache, flags | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None  # not there yet (or not readable): validated and written again
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or not _private(info):
            return None
        if info.st_size > _MAX_CACHE_BYTES:
            return None
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return _schedule_from_cache(b"".join(chunks), text_sha256)
    except Exception:  # a stale, damaged or foreign cache is simply rebuilt
        return None
    finally:
        os.close(fd)


def _cache_header(text_sha256: str) -> bytes:
    return f'{{"format":"{_CACHE_FORMAT}","yaml_sha256":"{text_sha256}",'.encode("ascii")


def _schedule_from_cache(data: bytes, text_sha256: str) -> Schedule | None:
    if not data.startswith(_cache_header(text_sha256)):  # the cache of another schedule text
        return None
    document = json.loads(data, object_hook=_revive)
    if (
        type(document) is not dict
        or document.get("format") != _CACHE_FORMAT
        or document.get("yaml_sha256") != text_sha256
    ):
        return None
    schedule = document.get("schedule")
    return schedule if isinstance(schedule, ScheduleRules) else None  # type: ignore[return-value]


class _Columns(tuple):  # type: ignore[type-arg]
    """The codes, headings and listing dates of a list's entries, as read from the cache."""


def _revive(obj: dict[str, Any]) -> Any:
    """One JSON object of the cache as what it stands for. Only data is ever made: the rules'
    classes (by name, from :mod:`~tariffcalc.rules`), Decimal, date, and plain dicts and tuples."""
    if "$r" in obj:
        # A class of rules.py: for mypy its name is the pydantic model's, which is no Rule.
        cls: type[Any] = _RULE_CLASSES[obj.pop("$r")]
        for name, value in obj.items():
            if type(value) is list:
                obj[name] = tuple(value)
        if cls is ProvisionList:
            columns = obj.pop("provisions")
            if type(columns) is not _Columns:
                raise ValueError("a list without its entries")
            obj["_columns"] = columns
        rule = object.__new__(cls)
        rule.__dict__.update(obj)
        if cls is Schedule:
            rule.index()
        return rule
    if "$d" in obj:
        return Decimal(obj["$d"])
    if "$t" in obj:
        return date.fromisoformat(obj["$t"])
    if "$p" in obj:
        # A list's entries as three columns: the codes in one string, and the few headings and
        # listing dates by position. Checked here; made into rows when the list is first used.
        codes_text, headings, listed = obj["$p"]
        codes = codes_text.split(",")
        heading_of: list[str | None] = [None] * len(codes)
        for position, heading in headings:
            if type(heading) is not str:
                raise ValueError("a heading that is not text")
            heading_of[position] = heading
        listed_from: list[date | None] = [None] * len(codes)
        for position, day in listed:
            listed_from[position] = date.fromisoformat(day)
        return _Columns((codes, heading_of, listed_from))
    return obj


def _plain(value: Any) -> Any:
    """A schedule's value as JSON data that :func:`_revive` makes again."""
    if isinstance(value, Rule):
        plain: dict[str, Any] = {"$r": type(value).__name__}
        listed = isinstance(value, ProvisionList)
        for name, field in vars(value).items():
            if not name.startswith("_") and not (listed and name == "provisions"):
                plain[name] = _plain(field)
        if listed:
            # A list's entries as compact columns (see _revive): read far faster than objects.
            rows = rows_of(cast(ProvisionList, value))
            codes = [code for code, _, _ in rows]
            if any("," in code for code in codes):
                raise ValueError("a provision with a comma cannot be kept in the cache")
            plain["provisions"] = {
                "$p": [
                    ",".join(codes),
                    [[n, row[1]] for n, row in enumerate(rows) if row[1] is not None],
                    [[n, row[2].isoformat()] for n, row in enumerate(rows) if row[2] is not None],
                ]
            }
        return plain
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, Decimal):
        return {"$d": str(value)}
    if type(value) is date:
        return {"$t": value.isoformat()}
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict) and all(
        isinstance(key, str) and not key.startswith("$") for key in value
    ):
        return {key: _plain(item) for key, item in value.items()}
    raise TypeError(f"the schedule cache cannot hold {type(value).__name__}")


def _write_cache(cache: Path | None, schedule: Schedule, text_sha256: str) -> None:
    if cache is None:
        return
    try:
        # 0o700: a folder others may write is never used (see cache_problem)
        cache.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return  # no cache (read-only home, full disk): every run validates the YAML
    if cache_problem() is not None:
        return
    try:
        body = json.dumps(_plain(schedule), ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        return
    data = _cache_header(text_sha256) + f'"schedule":{body}}}'.encode("utf-8", "surrogatepass")
    try:
        import tempfile  # only when the cache is written: a quote that reads it starts faster

        fd, temp = tempfile.mkstemp(dir=cache.parent, prefix=".schedule-", suffix=".part")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        os.replace(temp, cache)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temp)
