"""Debits and credits per account and ledger day (China Standard Time), with the first and last
log position of the day's entries: the daily trial balance, the opening balance of a trace
(the sum of the days before it), and the position range a trace of a fund, clearing or suspense
account has to read (infra/trace.py). Personal accounts are summed per insurance into
`personal:*:<insurance>` as in `fund_balances`; one person's account is traced through
`person_account_entries` instead."""

from __future__ import annotations

from collections.abc import Sequence

from projections.base import EventRecord, Projection, ViewCursor, add_sums
from projections.fund_movements import ledger_day
from projections.funds import JOURNAL_EVENT_TYPES, bucket

TABLE = "account_days"


class AccountDays(Projection):
    name = "account_days"
    version = 1
    tables = (TABLE,)
    event_types = JOURNAL_EVENT_TYPES

    def create_statements(self, dialect: str) -> list[str]:
        big = "BIGINT" if dialect == "postgres" else "INTEGER"
        return [
            f"CREATE TABLE IF NOT EXISTS {TABLE} (account TEXT NOT NULL, day TEXT NOT NULL,"
            f" debit_fen {big} NOT NULL, credit_fen {big} NOT NULL, entries {big} NOT NULL,"
            f" first_position {big} NOT NULL, last_position {big} NOT NULL,"
            " PRIMARY KEY (account, day))"
        ]

    def apply(self, cur: ViewCursor, page: Sequence[EventRecord]) -> None:
        # Summed in memory: one upsert per (account, day) per page.
        sums: dict[tuple[str, str], list[int]] = {}
        days: dict[str, str] = {}  # recorded hour and offset → CST day (offsets are whole hours)
        for record in page:
            journal = record.state.get("journal")
            if journal is None:  # the page holds other projections' events too
                continue
            hour = record.recorded_at[:13] + record.recorded_at[-6:]
            day = days.get(hour)
            if day is None:
                day = days[hour] = ledger_day(record.recorded_at)
            for account, debit, credit in journal:
                key = (bucket(account) if account[0] == "p" else account, day)
                row = sums.get(key)
                if row is None:
                    sums[key] = [debit, credit, 1, record.position, record.position]
                else:
                    row[0] += debit
                    row[1] += credit
                    row[2] += 1
                    row[4] = record.position
        add_sums(cur, TABLE, ("account", "day"), ("debit_fen", "credit_fen", "entries"),
                 ("last_position",), sums, kept=("first_position",))
