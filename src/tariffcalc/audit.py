"""The audit stamp: which tariffcalc, which schedule (its review date and checksum) and which
HTS revision a result was computed with, so that a figure can be traced and reproduced."""

from __future__ import annotations

from datetime import date

from . import __version__
from .rules import Schedule


def audit_stamp(schedule: Schedule, on: date | None = None) -> dict[str, str]:
    """The stamp of a result: tariffcalc's version, the schedule file, the sha256 of the text
    it was loaded from (as :func:`~tariffcalc.loading.load_schedule` read it) and its review
    date, and the HTS revision in force on ``on`` (or the latest one known, for a file of
    entries of many dates: each row takes the revision of its own date)."""
    from . import htsdata

    source = getattr(schedule, "_source", None) or "not loaded from a file"
    checksum = getattr(schedule, "_text_sha256", None) or "unknown (not loaded from a file)"
    if on is not None:
        revision = htsdata.revision_on(on)
        hts = f"{revision.name} (in force on {on}, from {revision.effective})"
    else:
        revision = htsdata.revisions()[-1]
        hts = f"each row's revision by its date; latest known {revision.name}"
    return {
        "tariffcalc": __version__,
        "schedule": source,
        "schedule_sha256": checksum,
        "schedule_reviewed_through": schedule.reviewed_through.isoformat(),
        "hts_revision": hts,
    }
