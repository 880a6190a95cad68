"""One error hierarchy for everything a user can get wrong.

The library raises these; only the command line turns them into a message and an exit code.
"""

from __future__ import annotations


class TariffError(Exception):
    """Base of every expected failure: bad schedule, bad shipment, bad file, unknown rate."""


class ScheduleError(TariffError):
    """The schedule file cannot be used (not YAML, wrong shape, inconsistent law)."""


class InputError(TariffError):
    """A shipment, an option or an input file is not what was expected."""


class UnknownRateError(TariffError):
    """A rate the law needs for this shipment is not known to the schedule nor given by the user."""


class OutputError(TariffError):
    """The output cannot be written (disk full, device error...)."""


def quoted(text: object, limit: int = 60) -> str:
    """A value as shown in an error message: quoted, and cut short if it is long."""
    if isinstance(text, int) and not isinstance(text, bool) and text.bit_length() > 3000:
        return f"an integer of about {int(text.bit_length() * 0.30103):,} digits"  # no repr
    shown = repr(text)
    if len(shown) <= limit:
        return shown
    return f"{shown[:limit]}... ({len(str(text)):,} characters)"


def file_problem(path: object, error: OSError | UnicodeDecodeError, expected: str) -> str:
    """One line saying why a file cannot be read, and what was expected there."""
    if isinstance(error, UnicodeDecodeError):
        return f"{path}: not UTF-8 text (byte {error.start}); expected {expected}"
    if isinstance(error, FileNotFoundError):
        return f"{path}: file not found; expected {expected}"
    if isinstance(error, IsADirectoryError):
        return f"{path}: is a directory; expected {expected}"
    if isinstance(error, PermissionError):
        return f"{path}: permission denied reading {expected}"
    return f"{path}: cannot read {expected}: {error.strerror}"
