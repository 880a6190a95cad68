"""IEEPA refunds through CBP's CAPE: the entries of an importer's ACE entry report (read by
:mod:`tariffcalc.ace_report`), each with the IEEPA duty deposited, the IEEPA duty the schedule
computes for its lines, whether CAPE takes it on a filing date (and the rule that decides), and
an estimate of the interest on the refund.

The rules (which chapter 99 numbers carry IEEPA duty, the entry types CAPE rejects, its windows,
the quarterly overpayment rates) are the ``refunds`` section of the schedule (reference §14).
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, localcontext
from pathlib import Path
from typing import IO, Any

from .ace_report import (
    EntryRecord,
    ReadReport,
    TariffRow,
    chapter99_heading,
)
from .engine import PricingPlan, plan_key, plan_pricing, price_with_plan
from .errors import InputError, ScheduleError, TariffError, quoted
from .money import ZERO_MONEY, format_money, round_cent
from .outputs import atomic_output, neutralize_formula
from .rules import Interest, Refunds, Schedule
from .shipment import Shipment, check_origin

# What an entry's refund comes to on the filing date.
NOW = "cape-now"  # in the CAPE declaration
LATER = "cape-later"  # CAPE takes it from a later date
PROTEST = "protest"  # not CAPE: a protest is the way, while its window is open
NOT_ELIGIBLE = "not-eligible"
NOT_ESTABLISHED = "not-established"  # finally liquidated: later CAPE phases not established
ERROR = "error"  # a bad entry number or a bad row: kept out of the declaration
STATUSES = (NOW, LATER, PROTEST, NOT_ELIGIBLE, NOT_ESTABLISHED, ERROR)
_SUSPENDED = ("suspend", "extend", "review")


# ----------------------------------------------------------------------------- what it comes to


@dataclass
class EntryRefund:
    """One entry: its deposit, the schedule's IEEPA duty, CAPE on the filing date, interest."""

    entry_number: str  # 11 characters (as written, when it is not a valid number)
    record: EntryRecord
    ieepa_deposited: Decimal
    ieepa_headings: list[str]  # the IEEPA chapter 99 numbers filed
    ieepa_computed: Decimal | None  # None: not every line could be recomputed
    not_computed: list[str]  # "line 2: ..." why a line was not recomputed
    causes: list[str]  # the likely reasons the deposit differs from the schedule's duty
    status: str
    reason: str
    warnings: list[str]
    deposit_date: date | None
    interest: Decimal | None
    interest_to: date | None
    declaration: str | None = None  # the CAPE declaration file it is written in

    @property
    def difference(self) -> Decimal | None:
        if self.ieepa_computed is None:
            return None
        return self.ieepa_deposited - self.ieepa_computed

    @property
    def month(self) -> str:
        on = self.record.summary_date or self.record.entry_date
        return on.strftime("%Y-%m") if on is not None else "?"


@dataclass(frozen=True)
class RefundTerms:
    """The user's side of the claim: when the declaration is filed, to when interest runs,
    and whether the importer is a corporation (the overpayment rate is a point lower)."""

    filing_date: date
    interest_to: date | None = None  # default: filing date + CBP's usual processing time
    corporate: bool = True

    def interest_end(self, rules: Refunds) -> date:
        return self.interest_to or _days_after(self.filing_date, rules.processing_days)


_LONGEST = 20 * 365  # days of interest estimated at most (the rates are known for two years)


def _days_after(day: date, days: int) -> date:
    """``day`` + ``days``, or the last day there is (9999-12-31) when that is past it."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max


def refund_rules(schedule: Schedule) -> Refunds:
    if schedule.refunds is None:
        raise ScheduleError("this schedule has no refunds section (CAPE rules and interest)")
    return schedule.refunds


def assess(schedule: Schedule, report: ReadReport, terms: RefundTerms) -> list[EntryRefund]:
    """Every entry of the report, in order, with what its IEEPA refund comes to."""
    rules = refund_rules(schedule)
    end = terms.interest_end(rules)
    plans: dict[tuple[object, ...], PricingPlan] = {}  # the law, once per goods and date
    return [
        _assess_entry(schedule, rules, report, record, terms, end, plans)
        for record in report.entries
    ]


def _assess_entry(
    schedule: Schedule,
    rules: Refunds,
    report: ReadReport,
    record: EntryRecord,
    terms: RefundTerms,
    end: date,
    plans: dict[tuple[object, ...], PricingPlan],
) -> EntryRefund:
    number, number_problem = record.entry_number, record.number_problem
    refundable = {h.heading: h for h in rules.headings if h.refundable}
    marks = {h.heading: h for h in rules.headings if not h.refundable}
    deposited = ZERO_MONEY
    headings: list[str] = []
    computed: Decimal | None = ZERO_MONEY
    not_computed: list[str] = []
    causes: list[str] = []
    warnings: list[str] = []
    if record.estimated_ieepa is not None:
        deposited = record.estimated_ieepa
        computed = None
        if deposited:
            headings = ["(estimated)"]
    else:
        on = record.entry_date or record.summary_date
        for line_number, rows in record.lines.items():
            chapter_99 = [(chapter99_heading(r.hts), r) for r in rows if r.hts.startswith("99")]
            filed = [heading for heading, _ in chapter_99]
            line_deposit = sum(
                (r.duty for heading, r in chapter_99 if heading in refundable), ZERO_MONEY
            )
            deposited += line_deposit
            headings += [h for h in filed if h in refundable and h not in headings]
            result = _recompute_line(
                schedule,
                plans,
                rows,
                on,
                {marks[h].declares for h in filed if h in marks and marks[h].declares},
            )
            if isinstance(result, str):
                not_computed.append(f"line {line_number}: {result}")
                computed = None
                continue
            line_computed, charged, excluded = result
            if computed is not None:
                computed += line_computed
            cause = _cause(
                line_number,
                on,
                line_deposit,
                line_computed,
                [h for h in filed if h in refundable],
                charged,
                excluded,
            )
            if cause:
                causes.append(cause)
    status, reason = _eligibility(rules, record, report, terms, number_problem, deposited, warnings)
    deposit_date = record.payment_date or record.summary_date or record.entry_date
    interest = None
    if deposited > 0 and deposit_date is not None and (end - deposit_date).days > _LONGEST:
        warnings.append(f"no interest estimate over more than {_LONGEST // 365} years")
    elif deposited > 0 and deposit_date is not None:
        interest = overpayment_interest(
            deposited, deposit_date, end, rules.interest, terms.corporate, warnings
        )
    elif deposited > 0:
        warnings.append("no deposit date (Payment Date, Entry Summary Date): no interest estimate")
    return EntryRefund(
        entry_number=number,
        record=record,
        ieepa_deposited=deposited,
        ieepa_headings=headings,
        ieepa_computed=computed,
        not_computed=not_computed,
        causes=causes,
        status=status,
        reason=reason,
        warnings=warnings,
        deposit_date=deposit_date,
        interest=interest,
        interest_to=end if interest is not None else None,
    )


def _recompute_line(
    schedule: Schedule,
    plans: dict[tuple[object, ...], PricingPlan],
    rows: list[TariffRow],
    on: date | None,
    declared: set[str | None],
) -> tuple[Decimal, list[str], list[str]] | str:
    """The IEEPA duty the schedule computes for a report line's goods, the headings it charges
    them under and why it leaves the IEEPA duty out, or why it cannot say."""
    goods = [r for r in rows if not r.hts.startswith("99")]
    if not goods:
        return "no goods line (only chapter 99 numbers)"
    if on is None:
        return "no entry date"
    total = ZERO_MONEY
    charged: list[str] = []
    excluded: list[str] = []
    for row in goods:
        if row.value is None or row.value <= 0:
            return f"{row.hts}: no goods value"
        try:
            if row.origin:
                check_origin(row.origin)
            shipment = Shipment(
                hts=re.sub(r"\D", "", row.hts),
                value=row.value,
                annex_ii=True if "annex_ii" in declared else None,
                civil_aircraft="civil_aircraft" in declared,
            )
            plan_id = (plan_key(shipment), on)
            plan = plans.get(plan_id)
            if plan is None:
                plan = plans[plan_id] = plan_pricing(schedule, shipment, on)
            quote = price_with_plan(schedule, plan, shipment)
        except TariffError as exc:
            return str(exc)
        total += quote.ieepa_duty
        for line in quote.lines:
            if line.program == "ieepa" and line.heading not in charged:
                charged.append(line.heading)
        for item in quote.excluded:
            if schedule.measure(item.measure).program == "ieepa" and item.reason not in excluded:
                excluded.append(item.reason)
    return total, charged, excluded


def _cause(
    line: str,
    on: date | None,
    deposited: Decimal,
    computed: Decimal,
    filed: list[str],
    charged: list[str],
    excluded: list[str],
) -> str | None:
    """Why a line's IEEPA deposit differs from the schedule's duty, as far as the report shows."""
    if deposited == computed:
        return None
    gap = f"{format_money(deposited)} filed, {format_money(computed)} computed"
    if "9903.02.30" in filed:
        return (
            f"line {line}: filed under 9903.02.30 (+15% on top of MFN, as first published) "
            f"before the 2025-09-16 correction; the 15% inclusive of MFN (9903.02.73/.72) "
            f"applies from 2025-08-07 (EO 14345): {gap}"
        )
    if computed == 0:
        why = "; ".join(excluded) if excluded else "no IEEPA duty is in force on this date"
        return f"line {line}: the schedule charges no IEEPA duty on {on} ({why}): {gap}"
    if deposited == 0:
        return (
            f"line {line}: no IEEPA duty filed; the schedule charges {', '.join(charged)} "
            f"(an exemption claimed that the report does not show?): {gap}"
        )
    if set(filed) != set(charged):
        return (
            f"line {line}: filed under {', '.join(filed)}; the schedule charges "
            f"{', '.join(charged)} on {on}: {gap}"
        )
    return f"line {line}: same heading, different amount (value or rate): {gap}"


def _eligibility(
    rules: Refunds,
    record: EntryRecord,
    report: ReadReport,
    terms: RefundTerms,
    number_problem: str | None,
    deposited: Decimal,
    warnings: list[str],
) -> tuple[str, str]:
    """(status, the rule that decides it) of an entry on the filing date (reference §14)."""
    filing = terms.filing_date
    if number_problem:
        return ERROR, number_problem
    if record.problems:
        return ERROR, f"{len(record.problems)} row(s) cannot be read: {record.problems[0]}"
    if deposited <= 0:
        if report.estimate:
            return NOT_ELIGIBLE, "the schedule charges no IEEPA duty on these shipments"
        return NOT_ELIGIBLE, "no IEEPA chapter 99 number on the entry (CAPE rejects it)"
    entry_type = record.entry_type.zfill(2) if record.entry_type else ""
    for rule in rules.entry_types:
        if entry_type in rule.types and rule.covers(filing):
            return NOT_ELIGIBLE, rule.reason
    if record.protest:
        return NOT_ELIGIBLE, (
            f"protest {record.protest} is recorded: CAPE rejects an entry with an open or "
            "suspended protest (the protest itself may recover the duty)"
        )
    if filing < rules.opens:
        return LATER, f"CAPE takes declarations from {rules.opens}"
    if record.reconciliation:
        if filing < rules.reconciliation_from:
            return LATER, (
                f"flagged for reconciliation: CAPE takes it from {rules.reconciliation_from} "
                "if no type 09 entry has been filed"
            )
        warnings.append(
            "flagged for reconciliation: CAPE takes it only if no type 09 entry has been filed"
        )
    if entry_type in rules.adcvd_types:
        warnings.append(
            f"an AD/CVD entry (type {entry_type}): CAPE rejects it if it is pending "
            "liquidation after Commerce's instructions, which the report does not show"
        )
    if not entry_type and not report.estimate:
        warnings.append(
            "no entry type (column Entry Type Code): types 08, 09 and 47 are not accepted"
        )
    return _liquidation(rules, record, report, filing, warnings)


def _liquidation(
    rules: Refunds, record: EntryRecord, report: ReadReport, filing: date, warnings: list[str]
) -> tuple[str, str]:
    liquidated = record.liquidation_date
    status = record.liquidation_status.lower()
    if liquidated is not None and liquidated <= filing:
        days = (filing - liquidated).days
        if days <= rules.liquidated_within_days:
            last = _days_after(liquidated, rules.liquidated_within_days)
            return NOW, (
                f"liquidated {liquidated}, {days} days before filing "
                f"(within {rules.liquidated_within_days}; file by {last})"
            )
        protest_by = _days_after(liquidated, rules.protest_days)
        if days <= rules.protest_days:
            return PROTEST, (
                f"liquidated {liquidated}, {days} days before filing: past CAPE's "
                f"{rules.liquidated_within_days} days; protest by {protest_by} (19 U.S.C. 1514)"
            )
        return NOT_ESTABLISHED, (
            f"liquidated {liquidated}: the protest window closed on {protest_by}; whether later "
            "CAPE phases will take finally liquidated entries is not established"
        )
    if liquidated is not None:
        return NOW, f"unliquidated on the filing date (liquidation set for {liquidated})"
    if any(word in status for word in _SUSPENDED):
        return NOW, f"liquidation {record.liquidation_status.lower()} (CAPE takes it)"
    if status and ("unliq" in status or status in {"open", "pending", "u", "n"}):
        return NOW, "unliquidated"
    if status:
        warnings.append(
            f"liquidation status {quoted(record.liquidation_status)} without a Liquidation "
            f"Date: CAPE takes it only if liquidated within {rules.liquidated_within_days} days "
            "before filing; the Liquidation Date column decides"
        )
        return NOW, "liquidated on a date the report does not give (taken as within the window)"
    if "liquidation_date" not in report.columns and "liquidation_status" not in report.columns:
        warnings.append(
            "taken as unliquidated: the report has no Liquidation Date or "
            "Liquidation Status column, which would decide it"
        )
    return NOW, "unliquidated"


def overpayment_interest(
    principal: Decimal,
    start: date,
    end: date,
    interest: Interest,
    corporate: bool,
    warnings: list[str] | None = None,
) -> Decimal:
    """Interest on ``principal`` deposited on ``start`` to ``end`` (each day from ``start`` up
    to, not including, ``end``), compounded daily at the overpayment rate of the day's quarter
    over the days of its year (26 U.S.C. 6622). A day outside the known quarters takes the
    nearest known rate, and ``warnings`` says so."""
    if end <= start:
        return ZERO_MONEY
    notes = warnings if warnings is not None else []
    quarters = interest.quarters
    factor = Decimal(1)
    day = start
    with localcontext() as ctx:
        ctx.prec = 50
        while day < end:
            quarter = next((q for q in quarters if q.covers(day)), None)
            if quarter is None:
                nearest = quarters[0] if day < quarters[0].start else quarters[-1]
                stop = min(end, nearest.start) if day < nearest.start else end
                if day.year < date.max.year:
                    stop = min(stop, date(day.year + 1, 1, 1))
                _note(
                    notes,
                    f"no overpayment rate known for {day.year} Q{(day.month - 1) // 3 + 1}"
                    f": the nearest known one ({_percent(nearest, corporate)}) is used",
                )
            else:
                nearest = quarter
                stop = min(end, _days_after(quarter.end, 1))
                if quarter.confidence != "H":
                    _note(
                        notes,
                        f"the overpayment rate from {quarter.start} "
                        f"({_percent(quarter, corporate)}) is of confidence {quarter.confidence}"
                        f" ({quarter.source})",
                    )
            rate = nearest.corporate if corporate else nearest.non_corporate
            year_days = 366 if calendar.isleap(day.year) else 365
            factor *= (1 + rate / year_days) ** (stop - day).days
            day = stop
        return round_cent(principal * (factor - 1))


def _percent(quarter: Any, corporate: bool) -> str:
    rate = quarter.corporate if corporate else quarter.non_corporate
    return f"{(rate * 100).normalize():f}%"


def _note(notes: list[str], text: str) -> None:
    if text not in notes:
        notes.append(text)


# ----------------------------------------------------------------------------- writing


ENTRY_COLUMNS = (
    "entry_number", "status", "reason", "declaration", "entry_type", "importer",
    "entry_date", "entry_summary_date", "deposit_date", "liquidation_date", "ieepa_headings",
    "ieepa_deposited", "ieepa_computed", "difference", "likely_cause", "interest_estimate",
    "interest_to", "refund_with_interest", "warnings", "not_computed", "row_problems",
)  # fmt: skip


def entry_cells(refund: EntryRefund) -> dict[str, str]:
    record = refund.record

    def day(on: date | None) -> str:
        return on.isoformat() if on is not None else ""

    def money(amount: Decimal | None) -> str:
        return format_money(amount) if amount is not None else ""

    total = refund.ieepa_deposited + refund.interest if refund.interest is not None else None
    return {
        "entry_number": refund.entry_number if refund.status != ERROR else record.number,
        "status": refund.status,
        "reason": refund.reason,
        "declaration": refund.declaration or "",
        "entry_type": record.entry_type,
        "importer": record.importer,
        "entry_date": day(record.entry_date),
        "entry_summary_date": day(record.summary_date),
        "deposit_date": day(refund.deposit_date),
        "liquidation_date": day(record.liquidation_date),
        "ieepa_headings": " ".join(refund.ieepa_headings),
        "ieepa_deposited": money(refund.ieepa_deposited),
        "ieepa_computed": money(refund.ieepa_computed),
        "difference": money(refund.difference),
        "likely_cause": "; ".join(refund.causes),
        "interest_estimate": money(refund.interest),
        "interest_to": day(refund.interest_to),
        "refund_with_interest": money(total),
        "warnings": "; ".join(refund.warnings),
        "not_computed": "; ".join(refund.not_computed),
        "row_problems": "; ".join(record.problems),
    }


def declarations(refunds: list[EntryRefund], per_file: int) -> list[list[str]]:
    """The entry numbers CAPE takes now, once each, in report order, in files of at most
    ``per_file``; each refund learns the file it is in."""
    numbers: list[str] = []
    seen: set[str] = set()
    for refund in refunds:
        if refund.status == NOW and refund.entry_number not in seen:
            seen.add(refund.entry_number)
            numbers.append(refund.entry_number)
    files = [numbers[i : i + per_file] for i in range(0, len(numbers), per_file)]
    where = {number: index for index, chunk in enumerate(files) for number in chunk}
    for refund in refunds:
        if refund.status == NOW:
            refund.declaration = declaration_name(where[refund.entry_number], len(files))
    return files


def declaration_name(index: int, count: int) -> str:
    return "cape-declaration.csv" if count == 1 else f"cape-declaration-{index + 1:02d}.csv"


def write_outputs(
    refunds: list[EntryRefund], folder: Path, per_file: int, fmt: str = "csv"
) -> list[Path]:
    """The CAPE declaration file(s) and the per-entry file (refunds.csv or .json), written in
    ``folder``: each whole or not at all, the declarations first composed in memory. Stale
    declaration files of an earlier run with more of them are removed."""
    if not folder.is_dir():
        raise InputError(f"-o {folder}: no such folder")
    files = declarations(refunds, per_file)
    written: list[Path] = []
    for index, numbers in enumerate(files):
        path = folder / declaration_name(index, len(files))
        with atomic_output(path) as stream:
            writer = csv.writer(stream, lineterminator="\r\n")
            writer.writerow(["Entry Number"])
            writer.writerows([number] for number in numbers)
        written.append(path)
    keep = {p.name for p in written}
    for stale in folder.glob("cape-declaration*.csv"):
        if stale.name not in keep and re.fullmatch(r"cape-declaration(-\d+)?\.csv", stale.name):
            stale.unlink()
    path = folder / f"refunds.{fmt}"
    with atomic_output(path) as stream:
        write_entries(refunds, stream, fmt)
    written.append(path)
    return written


def write_entries(refunds: list[EntryRefund], stream: IO[str], fmt: str) -> None:
    if fmt == "json":
        json.dump([entry_cells(r) for r in refunds], stream, indent=2, ensure_ascii=False)
        stream.write("\n")
        return
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(ENTRY_COLUMNS)
    for refund in refunds:
        cells = entry_cells(refund)
        writer.writerow([neutralize_formula(cells[name]) for name in ENTRY_COLUMNS])


def entries_csv(refunds: list[EntryRefund]) -> str:
    stream = io.StringIO()
    write_entries(refunds, stream, "csv")
    return stream.getvalue()


# ----------------------------------------------------------------------------- the summary


@dataclass
class Tally:
    entries: int = 0
    deposited: Decimal = ZERO_MONEY
    interest: Decimal = ZERO_MONEY

    def add(self, refund: EntryRefund) -> None:
        self.entries += 1
        self.deposited += refund.ieepa_deposited
        self.interest += refund.interest or ZERO_MONEY


@dataclass
class RefundSummary:
    entries: int = 0
    deposited: Decimal = ZERO_MONEY
    by_status: dict[str, Tally] = field(default_factory=dict)
    by_month: dict[str, dict[str, Tally]] = field(default_factory=dict)
    by_reason: dict[str, Tally] = field(default_factory=dict)
    warned: int = 0  # entries with a warning
    differing: int = 0  # entries whose deposit differs from the schedule's duty
    declarations: int = 0
    stray_rows: list[str] = field(default_factory=list)

    def tally(self, status: str) -> Tally:
        return self.by_status.get(status, Tally())


def summarize(refunds: list[EntryRefund], report: ReadReport, per_file: int) -> RefundSummary:
    summary = RefundSummary(stray_rows=list(report.stray_rows))
    now = 0
    for refund in refunds:
        summary.entries += 1
        summary.deposited += refund.ieepa_deposited
        summary.by_status.setdefault(refund.status, Tally()).add(refund)
        summary.by_month.setdefault(refund.month, {}).setdefault(refund.status, Tally()).add(refund)
        summary.by_reason.setdefault(_reason_kind(refund.reason), Tally()).add(refund)
        summary.warned += bool(refund.warnings)
        difference = refund.difference
        summary.differing += bool(difference)
        now += refund.status == NOW
    summary.declarations = -(-now // per_file)
    return summary


def _reason_kind(reason: str) -> str:
    """A reason without its entry's own dates and numbers, so that entries group by rule."""
    kind = re.sub(r"\d{4}-\d\d-\d\d", "DATE", reason)
    kind = re.sub(r"\b\d+ days before filing\b", "N days before filing", kind)
    kind = re.sub(r"protest \S+ is recorded", "a protest is recorded", kind)
    return re.sub(r"line \d+", "line N", kind)
