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
