"""Every chapter 99 heading the schedule charges, against the rate text of the official HTS.

The schedule (tariffs.yaml) reports each duty under a chapter 99 heading; the official USITC
exports (packaged as ``tariffcalc.htsdata``) print that heading's rate in its ``general``
column. This walk takes every heading the schedule charges -- each rate period's heading (or
its measure's), ``heading_if_mfn_at_or_above``, the ``on_hold`` heading, the headings of list
entries -- the headings it reports with no additional duty (exclusions, stacking rules, U.S.
content) and those of goods in transit, on each period's first day, last day (when it has one)
and a middle day, within 2025-01-01..2026-10-07, and checks the schedule's rate against the
text of the revision in force on that day:

- "The duty provided in the applicable subheading + 25%" (or "+ a duty of 25%"): 25% added to
  MFN, on the full value (not inclusive of MFN);
- "... + a duty of 50% upon the value of the copper content": 50% added, on the copper content
  (basis "copper-content");
- a plain "15%": 15% inclusive of MFN (the HTS's form for a total rate);
- "No change" or "The duty provided in the applicable subheading": nothing added (0).

A heading missing from the revision in force on a date must appear in a later revision in force
within the same period (the rate is then checked there, and the case is skipped with a reason
naming both revisions). Headings of law later than the last export (2026 Revision 10) are in
one allow-list, NOT_IN_EXPORTS, with the fact-base section that gives their rate; every other
heading must be found.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from tariffcalc import htsdata
from tariffcalc.loading import parse_schedule

REPO = Path(__file__).resolve().parents[1]
SCHEDULE_FILE = REPO / "tariffs.yaml"

# The dates the walk looks at: from the first export (2025 Basic) through the last date the fact
# base establishes (reference §2: "after 2026-10-07: not established").
FIRST_DAY = date(2025, 1, 1)
LAST_DAY = date(2026, 10, 7)

# The 2026 metals headings (reference §9, §9.1): the walk must reach these.
MUST_CHECK = ("9903.82.02", "9903.82.09", "9903.82.10")

ZERO = Decimal(0)


class FactBaseRate(NamedTuple):
    section: str  # of shared/reference/us-japan-duties.md
    # The rate in the export's wording; for a placeholder heading that several measures share,
    # the rate of each measure (by id).
    text: str | dict[str, str]


# Headings not in the exports we have. The packaged data ends with 2026 Revision 10
# (2026-06-08); Revisions 11-21 (to 2026-10-07) could not be obtained (hts/README.md), so law
# published after it has no rate text to compare with. Each heading here is checked against the
# rate the fact base gives instead (in the export's wording), and test_allow_list_is_not_in_any
# _export makes sure none of them is in fact in the data (then it must leave this list).
NOT_IN_EXPORTS: dict[str, FactBaseRate] = {
    # Section 301 forced-labour duty from 2026-07-24 (HTS 2026 Revision 13): 12.5% in total
    # including MFN under 9903.05.49, 0 under 9903.05.48 when MFN >= 12.5%; the exemptions of
    # note 52 (9903.05.85-.92) add nothing.
    "9903.05.48": FactBaseRate("§11", "The duty provided in the applicable subheading"),
    "9903.05.49": FactBaseRate("§11", "12.5%"),
    **{
        f"9903.05.{n}": FactBaseRate("§11", "The duty provided in the applicable subheading")
        for n in range(85, 93)
    },
    # Patented pharmaceuticals from 2026-07-31 (Proclamation 11020): Japan 15% inclusive of
    # MFN (9903.04.62); generics and biosimilars (9903.04.67), companies outside Annex III until
    # 2026-09-28 (9903.04.61), specialty products of listed jurisdictions (9903.04.66) and
    # clinical-trial / R&D goods (9903.04.70) from 2026-09-29: 0.
    "9903.04.62": FactBaseRate("§10.6", "15%"),
    **{
        f"9903.04.{n}": FactBaseRate("§10.6", "The duty provided in the applicable subheading")
        for n in (61, 66, 67, 70)
    },
    # Unmanned aircraft systems from 2026-09-03 (Proclamation 11055): Japan 15% inclusive of
    # MFN with allied critical components (9903.08.24). The general +100% (8806.24/.29/.94/.99)
    # and +25% (8806.21-.23/.91-.93) have no heading number in the fact base: the schedule
    # writes the placeholder "9903.08.xx" for both, so its rate is given per measure.
    "9903.08.24": FactBaseRate("§10.7", "15%"),
    "9903.08.xx": FactBaseRate(
        "§10.7",
        {
            "drones-232": "The duty provided in the applicable subheading + 100%",
            "drones-25-232": "The duty provided in the applicable subheading + 25%",
        },
    ),
}

# Known disagreements between the schedule and the export, as (measure id, heading, first day
# of the period) -> reason; each makes its cases xfail(strict=True) until the schedule is fixed.
KNOWN_DISAGREEMENTS: dict[tuple[str, str, date], str] = {}

# Derivatives whose rate column reads a plain "+ 50%" but whose duty applies to the metal
# content only: from 2025-06-04 every derivative pays on the metal content (Proclamation 10947,
# 90 FR 24199; U.S. note 2(v)(vii), (ix) to subchapter III: reference §2 row 2025-06-04, §3.3),
# including the chapter 73 and 76 derivatives of 9903.81.89/.90 and 9903.85.04/.07, whose
# heading text never said "upon the value of the ... content" (only 9903.81.91 and 9903.85.08
# did). heading -> (basis, first day, last day: the end of the 2025 metals headings).
CONTENT_BASIS_BY_NOTE: dict[str, tuple[str, date, date]] = {
    "9903.81.89": ("steel-content", date(2025, 6, 4), date(2026, 4, 5)),
    "9903.81.90": ("steel-content", date(2025, 6, 4), date(2026, 4, 5)),
    "9903.85.04": ("aluminum-content", date(2025, 6, 4), date(2026, 4, 5)),
    "9903.85.07": ("aluminum-content", date(2025, 6, 4), date(2026, 4, 5)),
}


# --------------------------------------------------------------------------------------------
# What the schedule charges under a heading, and what a rate text says


class Charge(NamedTuple):
    rate: Decimal  # a fraction; 0: nothing added
    inclusive: bool  # inclusive of MFN (the additional duty is max(0, rate - MFN))
    basis: str  # "value", "steel-content", ...

    def describe(self) -> str:
        if self.rate == ZERO:
            return "nothing added (0)"
        percent = f"{(self.rate * 100).normalize():f}%"
        on = "the full value" if self.basis == "value" else self.basis.replace("-", " ")
        if self.inclusive:
            return f"{percent} inclusive of MFN, on {on}"
        return f"+{percent} on {on}"


_PERCENT = r"(\d+(?:\.\d+)?)%"
_SUBHEADING = "The duty provided in the applicable subheading"
_ADDITIVE = (
    rf"{_SUBHEADING} \+\s*(?:a duty of )?{_PERCENT}"
    r"(?: upon the value of the (steel|aluminum|copper) content)?"
)


def read_rate_text(text: str) -> Charge | None:
    """The duty a chapter 99 rate text adds; None for a form this test does not know."""
    cleaned = " ".join(text.split()).removesuffix(".").strip()
    if cleaned in {"No change", _SUBHEADING}:
        return Charge(ZERO, False, "value")
    if match := re.fullmatch(_ADDITIVE, cleaned):
        basis = f"{match.group(2)}-content" if match.group(2) else "value"
        return Charge(Decimal(match.group(1)) / 100, False, basis)
    if match := re.fullmatch(_PERCENT, cleaned):
        return Charge(Decimal(match.group(1)) / 100, True, "value")
    return None


def agrees(expected: Charge, charged: Charge) -> bool:
    """Nothing added agrees with any way of charging 0 (e.g. 0 under heading_if_mfn_...)."""
    if expected.rate == ZERO:
        return charged.rate == ZERO
    return expected == charged


# --------------------------------------------------------------------------------------------
# The walk


class Check(NamedTuple):
    who: str  # measure id (or stacking rule)
    period: str  # "2025-08-07..2026-02-23"
    period_start: date
    last: date  # the period's last day within the walk
    day: date
    heading: str
    role: str  # under which field the schedule reports the heading
    charged: Charge  # what the schedule charges under it

    @property
    def name(self) -> str:
        return f"{self.who}|{self.period_start}|{self.heading}|{self.role}|{self.day}"


Window = tuple[date | None, date | None]  # (from, to), both inclusive; None: open


def _days(window: Window) -> tuple[date, date, list[date]] | None:
    """(first, last, days to check) of a window clipped to the walk, or None if outside."""
    start, end = window
    first = max(start or FIRST_DAY, FIRST_DAY)
    last = min(end or LAST_DAY, LAST_DAY)
    if last < first:
        return None
    days = {first, first + (last - first) // 2}
    if end is not None and end <= LAST_DAY:
        days.add(end)  # the period's own last day
    else:
        days.add(last)  # open-ended (or beyond the walk): its last day in the walk
    return first, last, sorted(days)


def _overlap(a: Window, b: Window) -> Window:
    start = max((d for d in (a[0], b[0]) if d is not None), default=None)
    end = min((d for d in (a[1], b[1]) if d is not None), default=None)
    return start, end


def walk(schedule: Any) -> list[Check]:
    checks: dict[str, Check] = {}

    def add(who: str, period: Any, window: Window, heading: str, role: str, charged: Charge) -> None:
        found = _days(window)
        if found is None:
            return
        first, last, days = found
        label = f"{period.start}..{period.end or ''}"
        for day in days:
            check = Check(who, label, period.start, last, day, heading, role, charged)
            checks.setdefault(check.name, check)

    charging: set[str] = set()
    for measure in schedule.measures:
        entry_headings = [
            (name, entry)
            for name in measure.scope.lists
            for entry in schedule.lists[name].provisions
            if entry.heading is not None
        ]
        for period in measure.rates:
            if period.rate is None:
                continue  # not_established: nothing is charged, so nothing to compare
            window = (period.start, period.end)
            full = Charge(period.rate, period.inclusive_of_mfn, period.basis)
            heading = period.heading or measure.heading
            if period.on_hold is None:
                add(measure.id, period, window, heading, "rate", full)
            else:
                # The full rate is the period heading's; the collected rate (rate - portion)
                # is reported under the on-hold heading.
                add(measure.id, period, window, heading, "rate before the hold", full)
                collected = full._replace(rate=period.rate - period.on_hold.portion)
                add(measure.id, period, window, period.on_hold.heading, "on_hold", collected)
                charging.add(period.on_hold.heading)
            charging.add(heading)
            if period.heading_if_mfn_at_or_above:
                # MFN at or above the inclusive rate: the schedule adds nothing there.
                nothing = full._replace(rate=ZERO)
                add(measure.id, period, window, period.heading_if_mfn_at_or_above,
                    "heading_if_mfn_at_or_above", nothing)
                charging.add(period.heading_if_mfn_at_or_above)
            seen: set[tuple[str, date | None]] = set()
            for list_name, entry in entry_headings:
                if (entry.heading, entry.listed_from) in seen:
                    continue
                seen.add((entry.heading, entry.listed_from))
                entry_window = _overlap(window, (entry.listed_from, None))
                add(measure.id, period, entry_window, entry.heading, f"entry of {list_name}", full)
                charging.add(entry.heading)

    # Headings the schedule reports with nothing added: an exclusion, a stacking rule that
    # takes a measure off, the U.S. content left uncharged, goods in transit. An exclusion that hands the goods to
    # another measure's heading (US metal -> 9903.82.06/.07, allied drones -> 9903.08.24) is
    # checked above with that measure.
    nothing = Charge(ZERO, False, "value")
    by_id = {measure.id: measure for measure in schedule.measures}
    for measure in schedule.measures:
        rated = [period for period in measure.rates if period.rate is not None]
        for period in rated:
            window = (period.start, period.end)
            for exclusion in measure.exclusions:
                if exclusion.heading is None or exclusion.heading in charging:
                    continue
                add(measure.id, period, _overlap(window, (exclusion.start, exclusion.end)),
                    exclusion.heading, "exclusion", nothing)
            if measure.us_content is not None:
                add(measure.id, period, window, measure.us_content.heading, "us_content", nothing)
        # Goods in transit keep the earlier treatment under their own heading: nothing (no
        # rate), or an earlier rate added to MFN (9903.01.25's 10% for the reciprocal duty).
        for transit in measure.in_transit:
            kept = Charge(transit.rate, False, "value") if transit.rate is not None else nothing
            add(measure.id, transit, (transit.start, transit.end), transit.heading,
                "in_transit", kept)
    # A stacking rule's heading is reported while the rule, a displacing measure and the
    # displaced one are all in force.
    for number, rule in enumerate(schedule.stacking):
        if rule.heading is None or rule.heading in charging:
            continue
        for displaced in rule.displaces:
            for period in by_id[displaced].rates:
                if period.rate is None:
                    continue
                for displacing in rule.measures:
                    for other in by_id[displacing].rates:
                        if other.rate is None:
                            continue
                        window = _overlap((period.start, period.end), (rule.start, rule.end))
                        window = _overlap(window, (other.start, other.end))
                        add(f"stacking[{number}] over {displaced}", period, window,
                            rule.heading, "stacking", nothing)
    return sorted(checks.values(), key=lambda c: (c.heading, c.day, c.who, c.role))


def _params() -> list[Any]:
    params = []
    # Read at collection, without the schedule cache (the tests' cache folder is set by a
    # fixture, later): one case per check, so that a disagreement can be marked alone.
    schedule = parse_schedule(SCHEDULE_FILE.read_text(encoding="utf-8"), str(SCHEDULE_FILE))
    for check in walk(schedule):
        marks = []
        reason = KNOWN_DISAGREEMENTS.get((check.who, check.heading, check.period_start))
        if reason is not None:
            marks.append(pytest.mark.xfail(strict=True, reason=reason))
        params.append(pytest.param(check, id=check.name, marks=marks))
    return params


CHECKS = _params()


@pytest.fixture(autouse=True)
def packaged_data_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The packaged exports only: no $TARIFFCALC_HTS_DATA and no folder added by load_extra."""
    monkeypatch.delenv(htsdata.HTS_DATA_ENV, raising=False)
    monkeypatch.setattr(htsdata, "_extra_folders", [])


# --------------------------------------------------------------------------------------------
# The tests


def _compare(check: Check, text: str, source: str) -> None:
    where = (
        f"{check.who}, period {check.period}, entry date {check.day}, heading {check.heading} "
        f"({check.role})"
    )
    expected = read_rate_text(text)
    assert expected is not None, f"{where}: {source} has a rate text this test cannot read: {text!r}"
    note = CONTENT_BASIS_BY_NOTE.get(check.heading)
    if note is not None and expected.basis == "value" and note[1] <= check.day <= note[2]:
        expected = expected._replace(basis=note[0])
    assert agrees(expected, check.charged), (
        f"{where}: {source} reads {text!r} ({expected.describe()}), "
        f"the schedule charges {check.charged.describe()}"
    )


@pytest.mark.parametrize("check", CHECKS)
def test_heading_rate_matches_the_export(check: Check) -> None:
    if check.heading in NOT_IN_EXPORTS:
        fact = NOT_IN_EXPORTS[check.heading]
        text = fact.text if isinstance(fact.text, str) else fact.text.get(check.who)
        assert text is not None, (
            f"{check.who}, period {check.period}: placeholder heading {check.heading} has no "
            f"rate for this measure in NOT_IN_EXPORTS (reference {fact.section})"
        )
        _compare(check, text, f"the fact base ({fact.section}; not in any export)")
        return
    assert "x" not in check.heading, (
        f"{check.who}: placeholder heading {check.heading} is not in NOT_IN_EXPORTS"
    )
    digits = check.heading.replace(".", "")
    revision = htsdata.revision_on(check.day)
    found = htsdata.line(digits, check.day)
    if found is not None:
        _compare(check, found.general, f"HTS {revision.name}")
        return
    # Not (yet) in the revision in force on this day: a later revision in force within the
    # period must have it; its text is checked there.
    for effective in sorted({r.effective for r in htsdata.revisions()}):
        if not check.day < effective <= check.last:
            continue
        later = htsdata.revision_on(effective)
        if later.position > revision.position and (
            found := htsdata.line(digits, later)
        ) is not None:
            _compare(check, found.general, f"HTS {later.name} (in force from {effective})")
            pytest.skip(
                f"{check.heading} is not in HTS {revision.name}, in force on {check.day}; "
                f"first in HTS {later.name}, in force from {effective} (checked there)"
            )
    pytest.fail(
        f"{check.who}, period {check.period}, entry date {check.day}: heading {check.heading} "
        f"({check.role}) is in neither HTS {revision.name}, in force that day, nor any later "
        f"revision in force through {check.last}, and it is not in NOT_IN_EXPORTS"
    )


def test_the_walk_reaches_the_2026_metals_headings() -> None:
    checks = [param.values[0] for param in CHECKS]
    for heading in MUST_CHECK:
        found = [c for c in checks if c.heading == heading]
        assert found, f"no heading {heading} in the walk of the schedule"
        assert any(htsdata.line(heading.replace(".", ""), c.day) for c in found), (
            f"{heading} was never found in the revision in force on the days checked: "
            f"{sorted({c.day for c in found})}"
        )


def test_allow_list_is_not_in_any_export() -> None:
    """A heading of NOT_IN_EXPORTS that some export has must be checked against it instead."""
    for heading, fact in NOT_IN_EXPORTS.items():
        if heading.endswith(".xx"):
            continue  # a placeholder: no export can have it
        present = [
            revision.name
            for revision in htsdata.revisions()
            if htsdata.line(heading.replace(".", ""), revision) is not None
        ]
        assert not present, (
            f"{heading} (reference {fact.section}) is in HTS {present}: remove it from "
            f"NOT_IN_EXPORTS so that the export's rate text is checked"
        )


def test_dates_after_2026_revision_10_read_its_text() -> None:
    """The last export is 2026 Revision 10 (2026-06-08): later dates are checked against it."""
    assert htsdata.revision_on(LAST_DAY).name == "2026_rev_10"
    assert htsdata.revision_on(date(2026, 6, 8)).name == "2026_rev_10"
    assert htsdata.revision_on(date(2026, 6, 7)).name == "2026_rev_8"


def test_japan_reciprocal_heading_as_first_published() -> None:
    """Japan's 15% of 2025-08-07 was first published as 9903.02.30, "+ 15%" on top of MFN
    (2025 Revisions 18 to 22, in force 2025-08-07 to 2025-09-15); 2025 Revision 23 (in force
    from 2025-09-16) replaced it with 9903.02.73 ("15%", inclusive of MFN) and 9903.02.72 (MFN
    >= 15%, nothing added), retroactive to 2025-08-07 (EO 14345; reference §2). The schedule
    follows the corrected law from 2025-08-07, so its 9903.02.72/.73 cases on days before
    2025-09-16 are skipped and checked against Revision 23."""
    day = date(2025, 8, 7)
    while day <= date(2025, 9, 15):
        revision = htsdata.revision_on(day)
        assert revision.name in {f"2025_rev_{n}" for n in range(18, 23)}, (day, revision.name)
        first = htsdata.line("99030230", day)
        assert first is not None and "product of Japan" in first.description, revision.name
        assert read_rate_text(first.general) == Charge(Decimal("0.15"), False, "value"), (
            revision.name,
            first.general,
        )
        assert htsdata.line("99030273", day) is None, revision.name
        assert htsdata.line("99030272", day) is None, revision.name
        day += timedelta(days=1)
    corrected = date(2025, 9, 16)
    assert htsdata.revision_on(corrected).name == "2025_rev_23"
    assert htsdata.line("99030273", corrected).general == "15%"
    assert htsdata.line("99030272", corrected).general == _SUBHEADING
    assert "provision terminated" in htsdata.line("99030230", corrected).description


def test_2026_revision_6_is_never_in_force() -> None:
    """2026 Revision 7 (published 2026-04-29) applies from 2026-04-06, before Revision 6's
    2026-04-23: on every date Revision 7 (or a later one) is in force, never Revision 6. So
    9903.82.01 (no metal, "No change"), which Revision 7 added retroactively, is found from
    2026-04-06 although Revision 6 lacks it."""
    day = date(2026, 1, 1)
    while day <= LAST_DAY:
        assert htsdata.revision_on(day).name != "2026_rev_6", day
        day += timedelta(days=1)
    assert htsdata.revision_on(date(2026, 4, 6)).name == "2026_rev_7"
    rev_6 = next(r for r in htsdata.revisions() if r.name == "2026_rev_6")
    assert htsdata.line("99038201", rev_6) is None
    assert htsdata.line("99038201", date(2026, 4, 6)).general == "No change"


@pytest.mark.parametrize(
    ("text", "charge"),
    [
        ("The duty provided in the applicable subheading + 25%", ("0.25", False, "value")),
        ("The duty provided in the applicable subheading +25%", ("0.25", False, "value")),
        ("The duty provided in the applicable subheading + 50%.", ("0.5", False, "value")),
        ("The duty provided in the applicable subheading + a duty of 25%", ("0.25", False, "value")),
        (
            "The duty provided in the applicable subheading + a duty of 50% upon the value of "
            "the copper content",
            ("0.5", False, "copper-content"),
        ),
        ("15%", ("0.15", True, "value")),
        ("12.5%", ("0.125", True, "value")),
        ("No change", ("0", False, "value")),
        ("The duty provided in the applicable subheading", ("0", False, "value")),
    ],
)
def test_read_rate_text(text: str, charge: tuple[str, bool, str]) -> None:
    rate, inclusive, basis = charge
    assert read_rate_text(text) == Charge(Decimal(rate), inclusive, basis)


@pytest.mark.parametrize("text", ["See 9903.90.08", "Free", "2.5% + 4.4¢/kg", ""])
def test_read_rate_text_refuses_other_forms(text: str) -> None:
    assert read_rate_text(text) is None
