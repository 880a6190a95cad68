"""The schedule's 2025 steel and aluminum lists and the HTS never disagree: every line the
exports of 2025 Revision 5 (2025-03-12) footnote to U.S. note 16 (steel) or note 19 (aluminum)
is on the schedule's article or derivative lists from 2025-03-12, and every provision listed
from that date is footnoted (the 2025-08-18 inclusions, which the exports do not footnote, come
from the fact base's steel-aluminum-derivatives.csv)."""

from __future__ import annotations

from datetime import date

import pytest

from tariffcalc import htsdata

REVISION_5 = date(2025, 3, 14)  # 2025 Revision 5 applies from 2025-03-14 (revisions.csv)
LISTS = {
    "note 16 to subchapter III": ("steel-articles", "steel-derivatives", "steel-derivatives-other"),
    "note 19 to subchapter III": (
        "aluminum-articles", "aluminum-derivatives", "aluminum-derivatives-other"),
}


def _digits(code: str) -> str:
    digits = code.replace(".", "")
    # A 10-digit row ending in 00 that is the tariff line itself is listed at 8 digits.
    if len(digits) == 10 and digits.endswith("00") and htsdata.line(digits[:8], REVISION_5):
        line = htsdata.line(digits[:8], REVISION_5)
        if line is not None and line.rate_code == digits:
            return digits[:8]
    return digits


@pytest.mark.parametrize("note", sorted(LISTS))
def test_every_footnoted_line_is_listed_from_2025_03_12(schedule, note):
    footnoted = {_digits(code) for code in htsdata.footnote_lines(note, REVISION_5)}
    assert len(footnoted) > 100
    names = LISTS[note]
    missing = []
    for code in sorted(footnoted):
        entries = [schedule.find_in_list(name, code) for name in names]
        entries += [entry for name in names
                    for entry in (schedule.find_in_list(name, c)
                                  for c in schedule.longer_in_list(name, code))]
        if not any(e is not None and e.listed_from is None for e in entries):
            missing.append(code)
    assert missing == []
    # ... and the derivative lists name nothing else from 2025-03-12.
    for name in names[1:]:
        extra = [
            entry.code for entry in schedule.lists[name].provisions
            if entry.listed_from is None and entry.code not in footnoted
        ]
        assert extra == [], name
