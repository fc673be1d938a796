"""Trace of every fen (资金追溯): for an account and a span of ledger days, every event that
touched it, read back from the event log itself (not from a read model), with its debit and
credit on the account, the running balance, and who and what stands behind it: the acting
user, the case with its business item, signers and materials, the import batch and its file.
And for a person: every event of every aggregate of theirs, across insurances.

How an account's events are found without reading the whole log:
- one person's account (`personal:<person>:<insurance>`): the positions in
  `person_account_entries` (one index lookup), then those events by position;
- any other account (funds, clearing, suspense, payout): the position range of the span's days
  in `account_days`, then the money events in that range, keeping those with a line on it.
The opening balance is the sum of the account's entries recorded before the first day (from the
same read models); the trace's closing balance is checked against the read model's total at the
last day (`ties`): a difference means the log and the read models disagree — run `shebao
verify` and rebuild the read models.

Days are ledger days in China Standard Time, of the time an event was recorded (as the daily
trial balance and the finance reconciliation count them); each entry also carries its
effective period."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.utils import get_topic

from domain.contribution import ContributionMonth
from domain.errors import NotFound, ValidationFailed
from domain.interest_year import InterestYear
from domain.journal import is_credit_normal
from domain.pension import Entitlement
from domain.scheme_link import SchemeLink
from domain.suspense import SuspenseItem
from infra.projection_runner import event_classes
from infra.store import LoggedEvent, Store
from infra.views_db import ViewsDb
from projections.account_days import TABLE as ACCOUNT_DAYS
from projections.fund_movements import ledger_day
from projections.funds import JOURNAL_EVENT_TYPES

ENRICH_BATCH_EVENTS = 500  # events whose cases and batches are looked up in one query each
SOURCE_IMPORT_PREFIX = "tax:"  # `source` of postings made by a collection import: tax:<batch>
FIRST_DAY = "0001-01-01"
LAST_DAY = "9999-12-31"


@dataclass
class TraceEntry:
    """One event's effect on the traced account (or, in a person's history, the event)."""

    position: int
    recorded_at: str  # ISO 8601, UTC
    day: str  # ledger day, CST
    event: str  # e.g. "ContributionMonth.Posted"
    aggregate_id: str
    version: int
    person_id: str | None
    period: str | None  # the month, year or day the event takes effect for
    debit_fen: int
    credit_fen: int
    balance_fen: int | None  # running balance of the traced account after this event
    source: str | None  # how the event came in: api:<user>, tax:<batch>, case:<id>, backpay:<id>…
    actor: str | None  # the user who acted (the event's meta), or the import's uploader
    command: str | None
    reason: str | None
    case_id: str | None = None
    case_item: str | None = None  # business item code and name of the case
    signers: list[str] = field(default_factory=list)  # "user (role, step) at time"
    materials: list[str] = field(default_factory=list)  # "code sha256"
    import_file: str | None = None  # "file name sha256" of the collection file
    amounts: dict[str, int] = field(default_factory=dict)  # person history: fen per account

    def row(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "amounts"}


CSV_COLUMNS = ("position", "recorded_at", "day", "event", "aggregate_id", "version",
               "person_id", "period", "debit_fen", "credit_fen", "balance_fen", "source",
               "actor", "command", "reason", "case_id", "case_item", "signers", "materials",
               "import_file")


@dataclass
class AccountTrace:
    """The trace of one account over [date_from, date_to]. `entries` is a one-pass iterator;
    `closing_balance_fen` and `ties` are known once it is exhausted."""

    account: str
    date_from: str
    date_to: str
    credit_normal: bool
    opening_balance_fen: int
    expected_closing_fen: int  # from the read models
    entries: Iterator[TraceEntry]
    closing_balance_fen: int | None = None
    debit_fen: int = 0
    credit_fen: int = 0
    count: int = 0

    @property
    def ties(self) -> bool | None:
        if self.closing_balance_fen is None:
            return None
        return self.closing_balance_fen == self.expected_closing_fen

    def summary(self) -> dict[str, Any]:
        return {"account": self.account, "date_from": self.date_from, "date_to": self.date_to,
                "opening_balance_fen": self.opening_balance_fen,
                "debit_fen": self.debit_fen, "credit_fen": self.credit_fen,
                "closing_balance_fen": self.closing_balance_fen,
                "expected_closing_fen": self.expected_closing_fen, "ties": self.ties,
                "entries": self.count}


def check_account(account: str) -> str:
    """A chart-of-accounts code (domain/journal.py), e.g. fund:110, personal:<uuid>:110."""
    text = account.strip()
    parts = text.split(":")
    ok = (
        (parts[0] == "personal" and len(parts) == 3 and _is_uuid(parts[1]) and parts[2].isdigit())
        or (parts[0] == "fund" and len(parts) == 2 and parts[1].isdigit())
        or (parts[0] in ("clearing", "finance", "bank", "region") and len(parts) == 2
            and bool(parts[1]))
        or text == "suspense"
    )
    if not ok:
        raise ValidationFailed(
            "account_invalid", f"unknown account {account!r}: use fund:<insurance>, "
            "personal:<person id>:<insurance>, clearing:tax, suspense, finance:special, "
            "bank:payout or region:<code>", field="account")
    if parts[0] == "personal":
        return f"personal:{UUID(parts[1])}:{parts[2]}"
    return text


def check_span(date_from: str | None, date_to: str | None) -> tuple[str, str]:
    first = _day(date_from, "from") if date_from else FIRST_DAY
    last = _day(date_to, "to") if date_to else LAST_DAY
    if first > last:
        raise ValidationFailed("span_invalid", f"from {first} is after to {last}", field="from")
    return first, last


def _day(text: str, field_name: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise ValidationFailed("date_invalid", f"{field_name} must be a date YYYY-MM-DD, got "
                               f"{text!r}", field=field_name) from None


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True


class Tracer:
    def __init__(self, store: Store, views: ViewsDb) -> None:
        self.store = store
        self.views = views
        classes = event_classes()
        self.topics = [get_topic(classes[t]) for t in JOURNAL_EVENT_TYPES]

    # -- an account ------------------------------------------------------------------------

    def account(self, account: str, date_from: str | None = None,
                date_to: str | None = None) -> AccountTrace:
        account = check_account(account)
        first_day, last_day = check_span(date_from, date_to)
        credit_normal = is_credit_normal(account)
        if account.startswith("personal:"):
            _, person_id, insurance = account.split(":")
            rows = self.views.query(
                "SELECT position, amount_fen, recorded_at FROM person_account_entries"
                " WHERE person_id = ? AND insurance = ? ORDER BY position",
                (person_id, insurance))
            opening = closing = 0
            positions: list[int] = []
            for position, amount_fen, recorded_at in rows:
                day = ledger_day(recorded_at)
                if day < first_day:
                    opening += int(amount_fen)
                if day <= last_day:
                    closing += int(amount_fen)
                if first_day <= day <= last_day:
                    positions.append(int(position))
            events: Iterator[LoggedEvent] = iter(self.store.events_at(positions))
        else:
            sign = 1 if credit_normal else -1
            [(before, through, low, high)] = self.views.query(
                "SELECT COALESCE(SUM(CASE WHEN day < ? THEN credit_fen - debit_fen END), 0),"
                " COALESCE(SUM(CASE WHEN day <= ? THEN credit_fen - debit_fen END), 0),"
                " MIN(CASE WHEN day >= ? AND day <= ? THEN first_position END),"
                " MAX(CASE WHEN day >= ? AND day <= ? THEN last_position END)"
                f" FROM {ACCOUNT_DAYS} WHERE account = ?",
                (first_day, last_day, first_day, last_day, first_day, last_day, account))
            opening, closing = sign * int(before), sign * int(through)
            events = (self.store.events_between(int(low), int(high), self.topics)
                      if low is not None else iter(()))
        trace = AccountTrace(account, first_day, last_day, credit_normal, opening, closing,
                             iter(()))
        trace.entries = self._entries(trace, events, first_day, last_day)
        return trace

    def _entries(self, trace: AccountTrace, events: Iterator[LoggedEvent], first_day: str,
                 last_day: str) -> Iterator[TraceEntry]:
        balance = trace.opening_balance_fen
        account = trace.account
        batch: list[TraceEntry] = []
        for e in events:
            debit = credit = 0
            touched = False
            for line_account, line_debit, line_credit in e.state.get("journal") or ():
                if line_account == account:
                    debit += int(line_debit)
                    credit += int(line_credit)
                    touched = True
            if not touched:
                continue
            day = ledger_day(e.recorded_at)
            if not first_day <= day <= last_day:
                continue
            balance += (credit - debit) if trace.credit_normal else (debit - credit)
            trace.debit_fen += debit
            trace.credit_fen += credit
            trace.count += 1
            batch.append(_entry(e, day, debit, credit, balance))
            if len(batch) >= ENRICH_BATCH_EVENTS:
                yield from self._enriched(batch)
                batch = []
        yield from self._enriched(batch)
        trace.closing_balance_fen = balance

    # -- a person --------------------------------------------------------------------------

    def person_history(self, person_id: str) -> list[TraceEntry]:
        """Every event of the person's aggregates (registration, months, interest years,
        back-payments, cases, suspense items assigned to them, benefits and their payments,
        scheme link, transfers between regions), in log order, with the fen each put on each
        account of theirs, on the pooled funds and on another region's account (a transfer's
        other side)."""
        region = self.store.settings.region_code
        ids: list[UUID] = [UUID(person_id), Entitlement.create_id(region, person_id),
                           SchemeLink.create_id(region, person_id)]
        periods = {str(p) for (p,) in self.views.query(
            "SELECT DISTINCT period FROM contribution_history WHERE person_id = ?",
            (person_id,))}
        periods |= {str(p) for (p,) in self.views.query(
            "SELECT period FROM backpay_months WHERE person_id = ?", (person_id,))}
        ids += [ContributionMonth.create_id(person_id, p) for p in sorted(periods)]
        years = {int(p[:4]) for p in periods}
        if years:
            # A year's interest exists from the first contribution year on (a year may carry
            # no amount and still have its event).
            ids += [InterestYear.create_id(person_id, y)
                    for y in range(min(years), date.today().year + 1)]
        ids += [UUID(b) for (b,) in self.views.query(
            "SELECT backpay_id FROM backpayments WHERE person_id = ?", (person_id,))]
        ids += [UUID(c) for (c,) in self.views.query(
            "SELECT case_id FROM cases WHERE person_id = ?", (person_id,))]
        ids += [SuspenseItem.create_id(region, str(s)) for (s,) in self.views.query(
            "SELECT serial_no FROM suspense_items WHERE assigned_person_id = ?", (person_id,))]
        ids += [UUID(str(p)) for (p,) in self.views.query(
            "SELECT payment_id FROM pension_payments WHERE person_id = ?", (person_id,))]
        ids += [UUID(str(t)) for (t,) in self.views.query(
            "SELECT transfer_id FROM pension_transfers WHERE person_id = ?", (person_id,))]
        events = self.store.events_of(ids)
        if not events:
            raise NotFound("person_unknown", f"no events of person {person_id}")
        entries: list[TraceEntry] = []
        mine = f"personal:{person_id}:"
        for e in events:
            amounts: dict[str, int] = {}
            for account, debit, credit in e.state.get("journal") or ():
                if account.startswith((mine, "fund:", "region:")):
                    amounts[account] = amounts.get(account, 0) + int(credit) - int(debit)
            entry = _entry(e, ledger_day(e.recorded_at), 0, 0, None)
            entry.amounts = amounts
            entries.append(entry)
        return list(self._enriched(entries))

    # -- who and what stands behind an event -------------------------------------------------

    def _enriched(self, entries: Sequence[TraceEntry]) -> Iterator[TraceEntry]:
        case_ids = sorted({e.case_id for e in entries if e.case_id})
        batches = sorted({e.source[len(SOURCE_IMPORT_PREFIX):] for e in entries
                          if e.source and e.source.startswith(SOURCE_IMPORT_PREFIX)})
        cases: dict[str, str] = {}
        signers: dict[str, list[str]] = {}
        materials: dict[str, list[str]] = {}
        files: dict[str, tuple[str, str]] = {}
        if case_ids:
            marks = ",".join("?" * len(case_ids))
            for case_id, code, name_zh in self.views.query(
                    f"SELECT case_id, code, name_zh FROM cases WHERE case_id IN ({marks})",
                    case_ids):
                cases[case_id] = f"{code} {name_zh}"
            for case_id, actor, detail, recorded_at in self.views.query(
                    "SELECT case_id, actor, detail, recorded_at FROM case_timeline"
                    f" WHERE case_id IN ({marks}) AND event = 'Signed' ORDER BY position",
                    case_ids):
                d = orjson.loads(detail)
                signers.setdefault(case_id, []).append(
                    f"{actor} ({d.get('role', '')}, {d.get('step', '')}) at {recorded_at}")
            for case_id, code, sha256 in self.views.query(
                    "SELECT case_id, material_code, sha256 FROM case_materials"
                    f" WHERE case_id IN ({marks}) ORDER BY position", case_ids):
                materials.setdefault(case_id, []).append(f"{code} {sha256}")
        if batches:
            marks = ",".join("?" * len(batches))
            for batch_id, file_name, sha256, started_by in self.views.query(
                    "SELECT batch_id, file_name, sha256, started_by FROM import_batches"
                    f" WHERE batch_id IN ({marks})", batches):
                files[batch_id] = (f"{file_name} {sha256}", started_by)
        for entry in entries:
            if entry.case_id:
                entry.case_item = cases.get(entry.case_id)
                entry.signers = signers.get(entry.case_id, [])
                entry.materials = materials.get(entry.case_id, [])
            if entry.source and entry.source.startswith(SOURCE_IMPORT_PREFIX):
                found = files.get(entry.source[len(SOURCE_IMPORT_PREFIX):])
                if found:
                    entry.import_file = found[0]
                    entry.actor = entry.actor or found[1]
            yield entry


def _entry(e: LoggedEvent, day: str, debit: int, credit: int,
           balance: int | None) -> TraceEntry:
    s = e.state
    meta = s.get("meta") or {}
    period = s.get("period") or (str(s["year"]) if "year" in s else None) or s.get("linked_on")
    person_id = s.get("person_id")
    if person_id is None and e.type_name.startswith("Person."):
        person_id = str(UUID(hex=e.originator_id))
    case_id = meta.get("case_id")
    if case_id is None and e.type_name.startswith("Case."):
        case_id = str(UUID(hex=e.originator_id))
    return TraceEntry(
        position=e.position, recorded_at=e.recorded_at, day=day, event=e.type_name,
        aggregate_id=str(UUID(hex=e.originator_id)), version=e.version,
        person_id=str(person_id) if person_id else None,
        period=str(period) if period else None, debit_fen=debit, credit_fen=credit,
        balance_fen=balance, source=s.get("source"), actor=meta.get("actor"),
        command=meta.get("command"), reason=s.get("reason"), case_id=case_id)


def _csv_row(entry: TraceEntry) -> list[Any]:
    row = entry.row()
    return ["; ".join(row[c]) if isinstance(row[c], list) else row[c] for c in CSV_COLUMNS]


def csv_lines(trace: AccountTrace) -> Iterator[str]:
    """CSV text of a trace, a few hundred rows per chunk (UTF-8 with BOM, for Excel)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    writer.writerow(["", "", trace.date_from, "opening balance 期初余额", "", "", "", "", "", "",
                     trace.opening_balance_fen])
    yield "\ufeff" + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    for n, entry in enumerate(trace.entries, 1):
        writer.writerow(_csv_row(entry))
        if n % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    writer.writerow(["", "", trace.date_to, "closing balance 期末余额", "", "", "", "",
                     trace.debit_fen, trace.credit_fen, trace.closing_balance_fen,
                     f"ties with read models: {trace.ties}"])
    yield buffer.getvalue()
