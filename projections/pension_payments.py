"""Pension payments (养老金发放) and what a payment run needs to find who is due:

- `pension_entitlements`: each awarded entitlement (待遇) with its monthly parts and its first
  payment month (`Entitlement.Awarded`, `Entitlement.FirstPaymentScheduled`);
- `pension_deaths`: recorded deaths (`Person.DeathRecorded`): no month after the month of
  death is paid;
- `pension_payments`: one row per payment (`PensionPayment.Paid`): person, month, parts, who
  bore the account part, the ledger day (China Standard Time) and the log position. Rows are
  only ever added, so "paid as known at position P" is `position <= P`.

A payment run (infra/pension_payments.py) reads the first two, the personal account balances
(`person_account_entries`) and this table; the person's payments route and the annual report
read the third."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from projections.base import EventRecord, Projection, ViewCursor
from projections.fund_movements import ledger_day

ENTITLEMENTS = "pension_entitlements"
DEATHS = "pension_deaths"
PAYMENTS = "pension_payments"

AWARDED = "Entitlement.Awarded"
SCHEDULED = "Entitlement.FirstPaymentScheduled"
DEATH_RECORDED = "Person.DeathRecorded"
PAID = "PensionPayment.Paid"

ENTITLEMENT_COLUMNS = ("entitlement_id", "person_id", "kind", "retirement_date", "first_period",
                       "monthly_fen", "basic_fen", "transitional_fen", "account_fen", "position")
DEATH_COLUMNS = ("person_id", "date_of_death", "position")
PAYMENT_COLUMNS = ("payment_id", "entitlement_id", "person_id", "kind", "period", "basic_fen",
                   "transitional_fen", "account_fen", "account_from_personal_fen",
                   "account_from_pool_fen", "total_fen", "day", "position", "recorded_at")


def uuid_text(hex32: str) -> str:
    """An originator id (32 hex digits) as UUID text, as `str(UUID(hex=…))` writes it, without
    making a UUID (a rebuild does this once per payment)."""
    h = hex32.lower()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class PensionPayments(Projection):
    name = "pension_payments"
    version = 1
    tables = (ENTITLEMENTS, DEATHS, PAYMENTS)
    event_types = (AWARDED, SCHEDULED, DEATH_RECORDED, PAID)

    def create_statements(self, dialect: str) -> list[str]:
        big = "BIGINT" if dialect == "postgres" else "INTEGER"
        return [
            f"CREATE TABLE IF NOT EXISTS {ENTITLEMENTS} (entitlement_id TEXT PRIMARY KEY,"
            " person_id TEXT NOT NULL, kind TEXT NOT NULL, retirement_date TEXT NOT NULL,"
            f" first_period TEXT, monthly_fen {big} NOT NULL, basic_fen {big} NOT NULL,"
            f" transitional_fen {big} NOT NULL, account_fen {big} NOT NULL,"
            f" position {big} NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {DEATHS} (person_id TEXT PRIMARY KEY,"
            f" date_of_death TEXT NOT NULL, position {big} NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {PAYMENTS} (payment_id TEXT PRIMARY KEY,"
            " entitlement_id TEXT NOT NULL, person_id TEXT NOT NULL, kind TEXT NOT NULL,"
            f" period TEXT NOT NULL, basic_fen {big} NOT NULL, transitional_fen {big} NOT NULL,"
            f" account_fen {big} NOT NULL, account_from_personal_fen {big} NOT NULL,"
            f" account_from_pool_fen {big} NOT NULL, total_fen {big} NOT NULL,"
            f" day TEXT NOT NULL, position {big} NOT NULL, recorded_at TEXT NOT NULL)",
        ]

    def index_statements(self, dialect: str) -> list[str]:
        return [
            f"CREATE INDEX IF NOT EXISTS {PAYMENTS}_person ON {PAYMENTS} (person_id, period)",
            f"CREATE INDEX IF NOT EXISTS {PAYMENTS}_entitlement ON {PAYMENTS}"
            " (entitlement_id, period)",
            f"CREATE INDEX IF NOT EXISTS {PAYMENTS}_period ON {PAYMENTS} (period)",
            f"CREATE INDEX IF NOT EXISTS {PAYMENTS}_day ON {PAYMENTS} (day)",
        ]

    def apply(self, cur: ViewCursor, page: Sequence[EventRecord]) -> None:
        awarded: dict[str, list[Any]] = {}  # entitlement id → row, of this page
        scheduled: list[tuple[str, str]] = []  # (first period, entitlement id), earlier pages
        deaths: list[tuple[Any, ...]] = []
        payments: list[tuple[Any, ...]] = []
        days: dict[str, str] = {}  # recorded hour and offset → CST day
        for record in page:
            type_name = record.type_name
            if type_name not in self.event_types:
                continue  # the page holds other projections' events too
            e = record.state
            if type_name == PAID:
                hour = record.recorded_at[:13] + record.recorded_at[-6:]
                day = days.get(hour)
                if day is None:
                    day = days[hour] = ledger_day(record.recorded_at)
                payments.append((
                    uuid_text(record.originator_id), e["entitlement_id"], e["person_id"],
                    e["kind"], e["period"], e["basic_fen"], e["transitional_fen"],
                    e["account_fen"], e["account_from_personal_fen"],
                    e["account_from_pool_fen"], e["total_fen"], day, record.position,
                    record.recorded_at))
            elif type_name == AWARDED:
                parts = e["components"]
                awarded[uuid_text(record.originator_id)] = [
                    uuid_text(record.originator_id), e["person_id"], e["kind"],
                    e["retirement_date"], None, e["monthly_fen"], parts["basic_fen"],
                    parts["transitional_fen"], parts["account_fen"], record.position]
            elif type_name == SCHEDULED:
                entitlement_id = uuid_text(record.originator_id)
                row = awarded.get(entitlement_id)
                if row is not None:
                    row[4] = e["period"]
                else:
                    scheduled.append((e["period"], entitlement_id))
            else:
                deaths.append((uuid_text(record.originator_id), e["date_of_death"],
                               record.position))
        if awarded:
            cur.copy_rows(ENTITLEMENTS, ENTITLEMENT_COLUMNS, list(awarded.values()))
        if scheduled:
            cur.executemany(f"UPDATE {ENTITLEMENTS} SET first_period = ? WHERE"
                            " entitlement_id = ?", scheduled)
        if deaths:
            cur.copy_rows(DEATHS, DEATH_COLUMNS, deaths)
        if payments:
            cur.copy_rows(PAYMENTS, PAYMENT_COLUMNS, payments)
