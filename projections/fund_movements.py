"""Money that moved through the fund's special account as the ledger sees it, per insurance and
day: what the finance reconciliation (infra/finance_reconciliation.py) compares with the finance
bureau's statement of the special account (财政专户对账单, DOMAIN.md §11.4 item 3).

The rule (the README repeats it). Receipts (收入), by kind:
- `contribution`: a posting into a person-month (`ContributionMonth.Posted`, `Reposted`,
  `Supplemented`): per insurance, its credits minus debits on the pooled fund `fund:<ins>` and
  on the personal accounts `personal:<pid>:<ins>` — what was collected for that insurance;
  The late fee and interest paid with a back-payment (`BackPayment.Collected`, clearing →
  `fund:<ins>`) are receipts of this kind too, under the insurance whose fund they go to; lines
  of the back-payment that an import had held in suspense (its `from_suspense`) count
  negative in `suspense`, as they are posted with its months;
- `reversal`: a 红冲 (`ContributionMonth.Reversed`): the same, hence negative (红字). A reversal
  undoes a receipt on the receipt side; it is not a payment. A month reversed and not posted
  again shows as a difference: money in the special account that is on nobody's books;
- `transfer_in`: the funds of a pension transfer from another region, posted
  (`PensionTransferIn.Posted`): its whole amount under 110 (account and pooled parts);
- `suspense`: collected money held in suspense (`SuspenseItem.Held`) reached the special
  account too: its amount under the insurance of its tax line. Money assigned out of suspense
  into a month (a posting whose journal debits `suspense`) is a `contribution` and the same
  amount negative in `suspense` (no cash moved); a reversal of such lines gives it back.
Payments (支出), by kind:
- `refund`: a suspense item refunded through the tax bureau (`SuspenseItem.Refunded`);
- `benefit`: a monthly pension paid (`PensionPayment.Paid`): its whole amount under 110, the
  part drawn from the personal account included (it leaves the fund's books as well); and the
  arrears (补发) paid with a pension adjustment (`PensionAdjustment.Adjusted`, `arrears_fen`);
  and a benefit of 210/310/410/510 that another system paid and a payment-detail file brought
  (`BenefitPayment.Paid`): its amount under its insurance;
- `transfer_out`: the funds of a pension transfer remitted to another region
  (`PensionTransferOut.Remitted`): its whole amount under 110.
Not cash, not here: interest (`InterestYear.Credited` moves money between the pooled fund and
the personal accounts inside the books).

A posting journal lists its debit (`clearing:tax`, or `suspense` for assigned money) before the
credits it pays for (`domain.assessment.posting_journal`); a month's journal is the
concatenation of its postings, and a reversal swaps every line keeping the order. So each fund
or personal line's origin is the clearing or suspense line before it.

The day is the day the event was recorded, in China Standard Time (UTC+8, the finance bureau's
calendar), not the day the money reached the special account, which the events do not carry: a
collection file posted some days after its money arrived differs by day, rarely by month."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from domain.policy import PENSION
from projections.base import EventRecord, Projection, ViewCursor, add_sums

TABLE = "fund_movements"
SUSPENSE_INSURANCES = "fund_movement_suspense"  # suspense item → insurance, for refunds

CONTRIBUTION = "contribution"
REVERSAL = "reversal"
SUSPENSE = "suspense"
REFUND = "refund"
BENEFIT = "benefit"
TRANSFER_IN = "transfer_in"
TRANSFER_OUT = "transfer_out"
RECEIPT_KINDS = (CONTRIBUTION, REVERSAL, SUSPENSE, TRANSFER_IN)
PAYMENT_KINDS = (REFUND, BENEFIT, TRANSFER_OUT)

MONTH_EVENTS = ("ContributionMonth.Posted", "ContributionMonth.Reposted",
                "ContributionMonth.Supplemented", "ContributionMonth.Reversed",
                "BackPayment.Collected")
REVERSED = "ContributionMonth.Reversed"
HELD = "SuspenseItem.Held"
REFUNDED = "SuspenseItem.Refunded"
PENSION_PAID = "PensionPayment.Paid"
PENSION_ARREARS = "PensionAdjustment.Adjusted"  # its arrears (补发): a benefit paid too
BENEFIT_PAID = "BenefitPayment.Paid"  # 失业、医疗、工伤、生育待遇 paid by other systems
TRANSFER_POSTED = "PensionTransferIn.Posted"
TRANSFER_REMITTED = "PensionTransferOut.Remitted"
CLEARING_ACCOUNT = "clearing:tax"
SUSPENSE_ACCOUNT = "suspense"
UNKNOWN_INSURANCE = ""

LEDGER_TIMEZONE = timezone(timedelta(hours=8), "CST")  # China Standard Time, no DST


def ledger_day(recorded_at: str) -> str:
    """The ISO date, in China Standard Time, of an event's recorded time (ISO 8601 with an
    offset, as the store writes it)."""
    return datetime.fromisoformat(recorded_at).astimezone(LEDGER_TIMEZONE).date().isoformat()


def _insurance_of(account: str) -> str | None:
    """The insurance of a fund or personal account; None for any other account."""
    if account.startswith("fund:"):
        return account[5:]
    if account.startswith("personal:"):
        return account.rsplit(":", 1)[1]
    return None


def month_movements(record: EventRecord) -> list[tuple[str, str, int]]:
    """(insurance, kind, signed fen) of a ContributionMonth event (or a back-payment's
    collected late fee and interest)."""
    kind = REVERSAL if record.type_name == REVERSED else CONTRIBUTION
    journal: list[list[Any]] = record.state.get("journal") or []
    per: dict[tuple[str, str], int] = {}
    origin = CLEARING_ACCOUNT
    for account, debit, credit in journal:
        if account in (CLEARING_ACCOUNT, SUSPENSE_ACCOUNT):
            origin = account
            continue
        insurance = _insurance_of(account)
        if insurance is None:
            continue
        fen = int(credit) - int(debit)
        per[(insurance, kind)] = per.get((insurance, kind), 0) + fen
        if origin == SUSPENSE_ACCOUNT:  # moved out of (or back into) suspense: no cash
            per[(insurance, SUSPENSE)] = per.get((insurance, SUSPENSE), 0) - fen
    return [(insurance, k, fen) for (insurance, k), fen in per.items()]


def _suspense_fen(journal: list[list[Any]]) -> int:
    """Credits minus debits on the suspense account."""
    return sum(int(c) - int(d) for account, d, c in journal if account == SUSPENSE_ACCOUNT)


class FundMovements(Projection):
    name = "fund_movements"
    # 2: only month events count as contributions (v1 took a SchemeLink.Linked journal, which
    # moves money between personal accounts, for a receipt of 110 negative and 170 positive)
    version = 2
    tables = (TABLE, SUSPENSE_INSURANCES)
    event_types = (*MONTH_EVENTS, HELD, REFUNDED, PENSION_PAID, PENSION_ARREARS,
                   TRANSFER_POSTED, TRANSFER_REMITTED, BENEFIT_PAID)

    def create_statements(self, dialect: str) -> list[str]:
        big = "BIGINT" if dialect == "postgres" else "INTEGER"
        return [
            f"CREATE TABLE IF NOT EXISTS {TABLE} (day TEXT NOT NULL, insurance TEXT NOT NULL,"
            f" kind TEXT NOT NULL, amount_fen {big} NOT NULL, entries {big} NOT NULL,"
            f" last_position {big} NOT NULL, PRIMARY KEY (day, insurance, kind))",
            f"CREATE TABLE IF NOT EXISTS {SUSPENSE_INSURANCES} (suspense_id TEXT PRIMARY KEY,"
            " insurance TEXT NOT NULL)",
        ]

    def apply(self, cur: ViewCursor, page: Sequence[EventRecord]) -> None:
        # Summed in memory first: one upsert per (day, insurance, kind) per page.
        sums: dict[tuple[str, str, str], list[int]] = {}
        held: dict[str, str] = {}  # suspense id → insurance, of this page

        def add(day: str, insurance: str, kind: str, fen: int, position: int) -> None:
            row = sums.get((day, insurance, kind))
            if row is None:
                row = sums[(day, insurance, kind)] = [0, 0, 0]
            row[0] += fen
            row[1] += 1
            row[2] = position

        for record in page:
            day = ledger_day(record.recorded_at)
            e = record.state
            if record.type_name == HELD:
                insurance = str((e.get("line") or {}).get("insurance") or UNKNOWN_INSURANCE)
                held[str(UUID(hex=record.originator_id))] = insurance
                add(day, insurance, SUSPENSE, _suspense_fen(e["journal"]), record.position)
            elif record.type_name == REFUNDED:
                suspense_id = str(UUID(hex=record.originator_id))
                insurance = held.get(suspense_id) or self._insurance_held(cur, suspense_id)
                add(day, insurance, REFUND, -_suspense_fen(e["journal"]), record.position)
            elif record.type_name == PENSION_PAID:
                add(day, PENSION, BENEFIT, int(e["total_fen"]), record.position)
            elif record.type_name == BENEFIT_PAID:
                add(day, str(e["insurance"]), BENEFIT, int(e["amount_fen"]), record.position)
            elif record.type_name == TRANSFER_POSTED:
                add(day, PENSION, TRANSFER_IN, int(e["total_fen"]), record.position)
            elif record.type_name == TRANSFER_REMITTED:
                add(day, PENSION, TRANSFER_OUT, int(e["total_fen"]), record.position)
            elif record.type_name == PENSION_ARREARS:
                if e["arrears_fen"]:
                    add(day, PENSION, BENEFIT, int(e["arrears_fen"]), record.position)
            elif record.type_name in MONTH_EVENTS:  # a page holds other events too
                for insurance, kind, fen in month_movements(record):
                    add(day, insurance, kind, fen, record.position)
                for _serial, insurance, fen in e.get("from_suspense") or ():
                    add(day, str(insurance), SUSPENSE, -int(fen), record.position)
        if held:
            cur.copy_rows(SUSPENSE_INSURANCES, ("suspense_id", "insurance"),
                          sorted(held.items()))
        add_sums(cur, TABLE, ("day", "insurance", "kind"), ("amount_fen", "entries"),
                 ("last_position",), sums)

    @staticmethod
    def _insurance_held(cur: ViewCursor, suspense_id: str) -> str:
        cur.execute(f"SELECT insurance FROM {SUSPENSE_INSURANCES} WHERE suspense_id = ?",
                    (suspense_id,))
        rows = cur.fetchall()
        return str(rows[0][0]) if rows else UNKNOWN_INSURANCE

