"""Balances of the ledger's accounts other than one person's: pooled funds per insurance,
clearing, suspense, special account. Personal accounts are summed per insurance into
`personal:*:<insurance>`, so that the whole table is a trial balance: its debits equal its
credits whenever every event balanced. Any event with a `journal` is counted."""

from __future__ import annotations

from collections.abc import Sequence

from projections.base import EventRecord, Projection, ViewCursor, add_sums

TABLE = "fund_balances"

# Every event type that carries a journal (a test checks that none is missing).
JOURNAL_EVENT_TYPES = (
    "ContributionMonth.Posted",
    "ContributionMonth.Reposted",
    "ContributionMonth.Supplemented",
    "ContributionMonth.Reversed",
    "InterestYear.Credited",
    "InterestYear.Recomputed",
    "BackPayment.Collected",
    "SchemeLink.Linked",
    "SuspenseItem.Held",
    "SuspenseItem.Refunded",
    "PensionPayment.Paid",
    "PensionAdjustment.Adjusted",
    "PensionTransferIn.Posted",
    "PensionTransferOut.Remitted",
    "BenefitPayment.Paid",
)


def bucket(account: str) -> str:
    if account.startswith("personal:"):
        return "personal:*:" + account.rsplit(":", 1)[1]
    return account


class FundBalances(Projection):
    name = "fund_balances"
    version = 1
    tables = (TABLE,)
    event_types = JOURNAL_EVENT_TYPES

    def create_statements(self, dialect: str) -> list[str]:
        big = "BIGINT" if dialect == "postgres" else "INTEGER"
        return [
            f"CREATE TABLE IF NOT EXISTS {TABLE} (account TEXT PRIMARY KEY,"
            f" debit_fen {big} NOT NULL, credit_fen {big} NOT NULL, entries {big} NOT NULL,"
            f" last_position {big} NOT NULL)"
        ]

    def apply(self, cur: ViewCursor, page: Sequence[EventRecord]) -> None:
        # Sum the page in memory first: one upsert per account per page, not per line.
        sums: dict[str, list[int]] = {}
        for record in page:
            journal = record.state.get("journal")
            if journal is None:
                continue
            for account, debit, credit in journal:
                key = bucket(account) if account[0] == "p" else account
                row = sums.get(key)
                if row is None:
                    row = sums[key] = [0, 0, 0, 0]
                row[0] += debit
                row[1] += credit
                row[2] += 1
                row[3] = record.position
        add_sums(cur, TABLE, ("account",), ("debit_fen", "credit_fen", "entries"),
                 ("last_position",), {(account,): values for account, values in sums.items()})
