"""The audit stamp: which tariffcalc, which schedule (its review date and checksum) and which
HTS revision a result was computed with, so that a figure can be traced and reproduced."""

from __future__ import annotations

import hashlib
import os
from datetime import date
from pathlib import Path

from . import __version__
from .rules import Schedule, default_schedule_path


def audit_stamp(
    schedule: Schedule, schedule_path: str | os.PathLike[str] | None, on: date | None = None
) -> dict[str, str]:
    """The stamp of a result: tariffcalc's version, the schedule file, its sha256 and review
    date, and the HTS revision in force on ``on`` (or the latest one known, for a file of
    entries of many dates: each row takes the revision of its own date)."""
    from . import htsdata

    path = Path(schedule_path) if schedule_path is not None else default_schedule_path()
    try:
        checksum = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        checksum = "unknown (the file cannot be read again)"
    if on is not None:
        revision = htsdata.revision_on(on)
        hts = f"{revision.name} (in force on {on}, from {revision.effective})"
    else:
        revision = htsdata.revisions()[-1]
        hts = f"each row's revision by its date; latest known {revision.name}"
    return {
        "tariffcalc": __version__,
        "schedule": str(path),
        "schedule_sha256": checksum,
        "schedule_reviewed_through": schedule.reviewed_through.isoformat(),
        "hts_revision": hts,
    }
