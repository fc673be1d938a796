"""Monthly pension payment runs (养老金发放): pay every entitlement due in a month once.

A run for period P (YYYY-MM) catches the read models up, then reads in one query every
entitlement whose first payment month is P or earlier and that has no payment for P yet, with
the person's recorded death and pension-account balance (read model `pension_payments`, with
`person_account_entries`). Each one alive in P (not paid for a month after the month of death)
gets a `PensionPayment.Paid` (domain/pension_payment.py) recording the parts, the balance read
and the log position it was read at; the yearly adjustments in effect for P (read model
`pension_adjustments`, effective month ≤ P) are added to the award, paid by the pooled fund.
A month in a suspension for want of a certification (待遇资格认证, domain/certification.py)
is not paid; once a certification resumed payment, the run pays the suspended months not paid
yet (back pay), each as its own month's payment (with the adjustments in effect for it).

The bulk path, as for contributions (infra/bulk_posting.py): the events are written in batches
of BATCH_SIZE_MAX, each one existence query and one insert (COPY on PostgreSQL) under the
library's table lock, without making an aggregate per payment — the stored state is what
`PensionPayment.pay` would store (a test compares the bytes). A whole run measured 2.4× faster
than the library's batched save of the same aggregates alone on PostgreSQL, 1.3× on SQLite
(README "Pension payments"). A month is never paid twice: the existence query skips what is on
record, and a payment written meanwhile by another run makes the insert fail on the primary
key, after which the batch is asked again.

Run one period at a time: two runs of different months at once would both read the same
balance, and the personal account could be drawn below zero."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from eventsourcing.persistence import IntegrityError, StoredEvent

from domain.certification import back_pay_periods, is_suspended, suspensions
from domain.errors import Conflict, ValidationFailed
from domain.pension_payment import (
    DECEASED,
    DUE,
    PaymentSplit,
    PensionPayment,
    paid_fields,
    payment_status,
    split_payment,
)
from domain.periods import parse_period
from domain.policy import PENSION
from infra.bootstrap import Container
from infra.certification_service import certification_rule, certified_days
from infra.store import Store
from projections.certifications import CERTIFICATIONS
from projections.pension_adjustments import ADJUSTMENTS
from projections.pension_payments import DEATHS, ENTITLEMENTS, PAYMENTS

BATCH_SIZE_MAX = 5000  # payments per insert, as the contributions' bulk path
APPEND_RETRIES_MAX = 3
BACK_PAY_CHUNK = 500  # entitlements whose payments one back-pay query reads
PAYMENTS_PAGE_MAX = 1000  # a person's payments per read (83 years of months)
RUN_COMMAND = "pay_pensions"
PAID_TOPIC = Store.topic(PensionPayment.Paid)
PAYMENT_TOPIC = Store.topic(PensionPayment)

Progress = Callable[[int, int], None]  # (entitlements handled, entitlements to handle)


@dataclass
class PaymentRun:
    """What a run did. `paid` and the amounts count this run's payments only; `already_paid`
    the entitlements paid for the month before it; `skipped_deceased` those not paid because
    the month is after the month of a recorded death."""

    period: str
    paid: int = 0
    already_paid: int = 0
    skipped_deceased: int = 0
    # Not paid: the month is in a suspension for want of a certification (待遇资格认证).
    skipped_suspended: int = 0
    # Suspended months paid back after a certification resumed payment (not in `paid`).
    back_paid: int = 0
    back_pay_fen: int = 0
    amount_fen: int = 0
    basic_fen: int = 0
    transitional_fen: int = 0
    account_fen: int = 0
    account_from_personal_fen: int = 0
    account_from_pool_fen: int = 0
    account_exhausted: int = 0  # payments whose account part the pooled fund bore, wholly or partly
    adjustment_fen: int = 0  # the yearly adjustments in effect (养老金调整), pooled fund
    inputs_position: int = 0
    position: int = 0

    def add(self, split: PaymentSplit) -> None:
        self.paid += 1
        self.amount_fen += split.total_fen
        self.basic_fen += split.basic_fen
        self.transitional_fen += split.transitional_fen
        self.account_fen += split.account_fen
        self.account_from_personal_fen += split.account_from_personal_fen
        self.account_from_pool_fen += split.account_from_pool_fen
        self.account_exhausted += split.account_from_pool_fen > 0
        self.adjustment_fen += split.adjustment_fen

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class _Due:
    """An entitlement to pay for the run's month."""

    payment: StoredEvent  # its Paid event, encoded (the timestamp of its batch)
    split: PaymentSplit


def check_period(period: str, today: date) -> str:
    """A month that has begun: a pension is paid for the current month or an earlier one."""
    text = str(parse_period(period))
    current = f"{today.year:04d}-{today.month:02d}"
    if text > current:
        raise ValidationFailed(
            "payment_period_in_future",
            f"period {text} has not begun (today is {today.isoformat()}); pensions are paid "
            "for the current month or an earlier one", field="period")
    return text


def _candidates_sql(select: str) -> str:
    """Entitlements whose first payment month has come and that have no payment for the month
    yet (parameters: the month, twice), with the person's death if recorded (`d`)."""
    return (f"SELECT {select} FROM {ENTITLEMENTS} e"
            f" LEFT JOIN {DEATHS} d ON d.person_id = e.person_id"
            " WHERE e.first_period IS NOT NULL AND e.first_period <= ?"
            f" AND NOT EXISTS (SELECT 1 FROM {PAYMENTS} p WHERE p.entitlement_id ="
            " e.entitlement_id AND p.period = ?)")


def pay_pensions(c: Container, period: str, *, today: date | None = None,
                 actor: str | None = None, progress: Progress | None = None) -> PaymentRun:
    """Pay every entitlement due in `period` that is not paid for it yet. `actor`: the staff
    user the events name (`meta`, as the ledger service's commands record it)."""
    text = check_period(period, today or date.today())
    store = c.store
    inputs_position = c.runner.catch_up()
    run = PaymentRun(text, inputs_position=inputs_position, position=inputs_position)
    run.already_paid = int(c.views.query(
        f"SELECT COUNT(*) FROM {PAYMENTS} WHERE period = ?", (text,))[0][0])
    meta = {"actor": actor, "case_id": None, "command": RUN_COMMAND} if actor else None
    total = int(c.views.query(_candidates_sql("COUNT(*)"), (text, text))[0][0])
    handled = 0
    if progress:
        progress(0, total)
    batch: list[tuple[str, str, str, PaymentSplit, int]] = []
    rule = certification_rule()
    certified = certified_days(c)
    drawn: dict[str, int] = {}  # person → account part this run drew for the month

    def flush() -> None:
        nonlocal handled
        if not batch:
            return
        timestamp = store.timestamp_state(store.now())
        due = [_Due(_stored(store, timestamp, meta, text, inputs_position, *row), row[3])
               for row in batch]
        fresh, position = _append_unpaid(
            store, due, f"another payment run for {text} kept writing the same payments")
        run.position = max(run.position, position)
        for d in fresh:
            run.add(d.split)
        run.already_paid += len(due) - len(fresh)
        handled += len(batch)
        if progress:
            progress(handled, total)
        batch.clear()

    sql = _candidates_sql(
        "e.entitlement_id, e.person_id, e.kind, e.first_period, e.retirement_date,"
        " e.basic_fen, e.transitional_fen, e.account_fen, d.date_of_death, (SELECT"
        " COALESCE(SUM(a.amount_fen), 0) FROM person_account_entries a"
        " WHERE a.person_id = e.person_id AND a.insurance = ?), (SELECT"
        f" COALESCE(SUM(x.delta_fen), 0) FROM {ADJUSTMENTS} x WHERE x.entitlement_id ="
        " e.entitlement_id AND x.effective_period <= ?)") + " ORDER BY e.entitlement_id"
    with c.views.stream(sql, (PENSION, text, text, text)) as rows:
        for (entitlement_id, person_id, kind, first_period, retired_on, basic, transitional,
             account, died_on, balance, adjustment) in rows:
            status = payment_status(text, str(first_period),
                                    None if died_on is None else str(died_on))
            if status == DECEASED:
                run.skipped_deceased += 1
                handled += 1
                continue
            assert status == DUE, status  # the query asks for first_period <= period
            days = certified.get(str(person_id), ())
            if is_suspended(text, suspensions(date.fromisoformat(str(retired_on)), days,
                                              rule.period_days)):
                run.skipped_suspended += 1
                handled += 1
                continue
            split = split_payment(int(basic), int(transitional), int(account), int(balance),
                                  int(adjustment))
            if days:  # may be paid back months in this run too: they draw on what is left
                drawn[str(person_id)] = split.account_from_personal_fen
            batch.append((str(person_id), str(entitlement_id), str(kind), split, int(balance)))
            if len(batch) >= BATCH_SIZE_MAX:
                flush()
    flush()
    if rule.back_pay and certified:
        _pay_back(c, run, meta, certified, drawn, rule.period_days)
    c.store.refresh_statistics()  # a run appends in bulk too (infra/store.py)
    if progress:
        progress(handled, total)
    return run


def _pay_back(c: Container, run: PaymentRun, meta: dict[str, Any] | None,
              certified: dict[str, list[date]], drawn: dict[str, int], period_days: int
              ) -> None:
    """Pay the suspended months of every suspension a certification resumed before the
    run's month (DOMAIN.md §8: back pay on resumption) that are not paid yet, each as the
    payment of its own month (so never twice). Only persons with a certification can have
    one; the account part draws on the balance less what this run drew already."""
    store = c.store
    rows = c.views.query(
        "SELECT e.entitlement_id, e.person_id, e.kind, e.first_period, e.retirement_date,"
        " e.basic_fen, e.transitional_fen, e.account_fen, d.date_of_death"
        f" FROM {ENTITLEMENTS} e LEFT JOIN {DEATHS} d ON d.person_id = e.person_id"
        " WHERE e.first_period IS NOT NULL AND e.first_period < ? AND EXISTS (SELECT 1 FROM"
        f" {CERTIFICATIONS} k WHERE k.person_id = e.person_id) ORDER BY e.entitlement_id",
        (run.period,))
    wanted: dict[str, tuple[tuple[Any, ...], list[str]]] = {}  # entitlement → (row, months)
    for row in rows:
        entitlement_id, person_id, _kind, first_period, retired_on, *_parts, died_on = row
        months = [m for m in back_pay_periods(
            suspensions(date.fromisoformat(str(retired_on)), certified.get(str(person_id), ()),
                        period_days), run.period, True)
            if payment_status(m, str(first_period),
                              None if died_on is None else str(died_on)) == DUE]
        if months:
            wanted[str(entitlement_id)] = (row, months)
    ids = list(wanted)
    for first in range(0, len(ids), BACK_PAY_CHUNK):
        chunk = ids[first:first + BACK_PAY_CHUNK]
        paid = {(str(e), str(p)) for e, p in c.views.query(
            f"SELECT entitlement_id, period FROM {PAYMENTS} WHERE entitlement_id IN"
            f" ({', '.join('?' * len(chunk))}) AND period < ?", (*chunk, run.period))}
        timestamp = store.timestamp_state(store.now())
        due: list[_Due] = []
        for entitlement_id in chunk:
            row, months = wanted[entitlement_id]
            months = [m for m in months if (entitlement_id, m) not in paid]
            if months:
                due += _back_pay(c, run, meta, timestamp, row, months, drawn)
        if not due:
            continue
        fresh, position = _append_unpaid(
            store, due, f"another payment run for {run.period} kept writing the same back pay")
        run.position = max(run.position, position)
        run.back_paid += len(fresh)
        run.back_pay_fen += sum(d.split.total_fen for d in fresh)


def _append_unpaid(store: Store, due: list[_Due], conflict: str) -> tuple[list[_Due], int]:
    """Append the payments of `due` not stored yet: (those appended, the position reached, 0
    when none). When another run paid some of them meanwhile the insert fails on their ids:
    ask again which are stored, at most APPEND_RETRIES_MAX times, then `conflict`."""
    for _attempt in range(APPEND_RETRIES_MAX):
        existing = store.existing(d.payment.originator_id for d in due)
        fresh = [d for d in due if d.payment.originator_id not in existing]
        if not fresh:
            return [], 0
        try:
            return fresh, store.append([d.payment for d in fresh])
        except IntegrityError:
            continue
    raise Conflict("concurrent_update", f"{conflict}; run it again")


def _back_pay(c: Container, run: PaymentRun, meta: dict[str, Any] | None,
              timestamp: dict[str, str], row: tuple[Any, ...], months: list[str],
              drawn: dict[str, int]) -> list[_Due]:
    """One entitlement's back pay: each month's payment with the adjustments in effect for it
    (as the month's own run adds them); the account part draws on the balance month by
    month."""
    entitlement_id, person_id, kind, _first, _retired, basic, transitional, account, _died = row
    [(balance,)] = c.views.query(
        "SELECT COALESCE(SUM(amount_fen), 0) FROM person_account_entries WHERE"
        " person_id = ? AND insurance = ?", (str(person_id), PENSION))
    balance = int(balance) - drawn.get(str(person_id), 0)
    adjustments = [(str(p), int(fen)) for p, fen in c.views.query(
        f"SELECT effective_period, delta_fen FROM {ADJUSTMENTS} WHERE entitlement_id = ?",
        (str(entitlement_id),))]
    due: list[_Due] = []
    for month in months:
        split = split_payment(int(basic), int(transitional), int(account), balance,
                              sum(fen for p, fen in adjustments if p <= month))
        due.append(_Due(_stored(c.store, timestamp, meta, month, run.inputs_position,
                                str(person_id), str(entitlement_id), str(kind), split,
                                balance), split))
        balance -= split.account_from_personal_fen
    return due


def _stored(store: Store, timestamp: dict[str, str], meta: dict[str, Any] | None, period: str,
            inputs_position: int, person_id: str, entitlement_id: str, kind: str,
            split: PaymentSplit, balance_fen: int) -> StoredEvent:
    """The `PensionPayment.Paid` event as the library would store it: the state in the order
    of the event's attributes, `meta` last (as `ledger_service.stamp` adds it)."""
    state: dict[str, Any] = {"timestamp": timestamp, "originator_topic": PAYMENT_TOPIC,
                             **paid_fields(person_id, entitlement_id, kind, period, split,
                                           balance_fen, inputs_position)}
    if meta is not None:
        state["meta"] = meta
    return StoredEvent(PensionPayment.create_id(entitlement_id, period), 1, PAID_TOPIC,
                       store.encode_state(state))


@dataclass(frozen=True)
class PersonPayments:
    items: list[dict[str, Any]]  # a page, by the month paid for
    months: int  # all pages
    total_fen: int


def person_payments(c: Container, person_id: str, limit: int = PAYMENTS_PAGE_MAX,
                    offset: int = 0) -> PersonPayments:
    """One person's pension payments (read model `pension_payments`), a page of them."""
    columns = ("period", "kind", "total_fen", "basic_fen", "transitional_fen", "account_fen",
               "account_from_personal_fen", "account_from_pool_fen", "day", "position")
    rows = c.views.query(
        f"SELECT {', '.join(columns)} FROM {PAYMENTS} WHERE person_id = ?"
        " ORDER BY period, position LIMIT ? OFFSET ?",
        (person_id, min(limit, PAYMENTS_PAGE_MAX), offset))
    [(months, total)] = c.views.query(
        f"SELECT COUNT(*), COALESCE(SUM(total_fen), 0) FROM {PAYMENTS} WHERE person_id = ?",
        (person_id,))
    return PersonPayments(
        [{name: (value if name in ("period", "kind", "day") else int(value))
          for name, value in zip(columns, row, strict=True)} for row in rows],
        int(months), int(total))
