"""Monthly pension payment (养老金发放): one payment of an entitlement's monthly amount for one
month (期别), its three parts (DOMAIN.md §4.3) and where the money comes from.

    basic (基础养老金) + transitional (过渡性养老金)  → expenditure of the pension pooled fund
    account (个人账户养老金)                       → drawn from the person's pension account;
                                                   once the account is used up, the rest is
                                                   paid by the pooled fund (国发〔2005〕38号: the
                                                   pension is paid for life; DOMAIN.md §4.3)

Journal (domain/journal.py): Dr `fund:110` (basic + transitional + the account part the account
no longer covers), Dr `personal:<person>:110` (the account part it covers), Cr `bank:payout`
(银行发放户: the expenditure account, 支出户, that benefits are paid out through) with the whole
amount.

Due: from the entitlement's first payment month on, and not for a month after the month of a
recorded death (DOMAIN.md §9: the pension stops from the month after death). One
`PensionPayment` aggregate per entitlement and month, with a deterministic id, so a month is
never paid twice (a second run finds it). Pure: the balance, the death and the positions are
given by the caller."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.ids import fast_uuid5
from domain.journal import BANK_PAYOUT, JournalLine, assert_balanced, personal_account, pooled_fund
from domain.policy import PENSION

DUE = "due"
NOT_YET_DUE = "not_yet_due"  # before the first payment month
DECEASED = "deceased"  # a month after the month of a recorded death


@dataclass(frozen=True, slots=True)
class PaymentSplit:
    """One month's pension in parts, and who bears the account part."""

    basic_fen: int
    transitional_fen: int
    account_fen: int  # the award's account part, whoever pays it
    account_from_personal_fen: int  # drawn from the personal account
    account_from_pool_fen: int  # paid by the pooled fund: the account is used up
    # The yearly adjustments (养老金调整) in effect for the month, paid by the pooled fund
    # (domain/pension_adjustment.py).
    adjustment_fen: int = 0

    @property
    def total_fen(self) -> int:
        return self.basic_fen + self.transitional_fen + self.account_fen + self.adjustment_fen

    @property
    def pooled_fen(self) -> int:
        """What the pension pooled fund pays this month."""
        return (self.basic_fen + self.transitional_fen + self.account_from_pool_fen
                + self.adjustment_fen)


def split_payment(basic_fen: int, transitional_fen: int, account_fen: int,
                  account_balance_fen: int, adjustment_fen: int = 0) -> PaymentSplit:
    """The month's parts: the account part comes from the personal account as far as its
    balance goes (never below zero), the rest and the adjustments from the pooled fund."""
    for name, value in (("basic_fen", basic_fen), ("transitional_fen", transitional_fen),
                        ("account_fen", account_fen), ("adjustment_fen", adjustment_fen)):
        assert type(value) is int and value >= 0, (name, value)
    drawn = min(account_fen, max(account_balance_fen, 0))
    return PaymentSplit(basic_fen, transitional_fen, account_fen, drawn, account_fen - drawn,
                        adjustment_fen)


def payment_journal(person_id: str, split: PaymentSplit) -> list[JournalLine]:
    journal: list[JournalLine] = []
    if split.pooled_fen:
        journal.append([pooled_fund(PENSION), split.pooled_fen, 0])
    if split.account_from_personal_fen:
        journal.append([personal_account(person_id, PENSION), split.account_from_personal_fen,
                        0])
    journal.append([BANK_PAYOUT, 0, split.total_fen])
    assert_balanced(journal)
    return journal


def month_of(day: str) -> str:
    """YYYY-MM of an ISO date."""
    return day[:7]


def payment_status(period: str, first_period: str | None, date_of_death: str | None) -> str:
    """Whether an entitlement is paid for `period` (YYYY-MM): DUE, NOT_YET_DUE or DECEASED."""
    if first_period is None or period < first_period:
        return NOT_YET_DUE
    if date_of_death is not None and period > month_of(date_of_death):
        return DECEASED
    return DUE


class PensionPayment(Aggregate):
    """The payment of one entitlement for one month; keyed by (entitlement, month)."""

    @staticmethod
    def create_id(entitlement_id: str, period: str) -> UUID:
        return fast_uuid5(UUID(entitlement_id), f"payment/{period}")

    # `account_balance_fen`: the pension account's balance the run read (at `inputs_position`)
    # before this payment: what decided how much of the account part the account could bear.
    # `adjustment_fen`: the yearly adjustments in effect for the month (last, with a default:
    # payments recorded before adjustments existed do not carry it).
    @event("Paid")
    def __init__(self, person_id: str, entitlement_id: str, kind: str, period: str,
                 basic_fen: int, transitional_fen: int, account_fen: int,
                 account_from_personal_fen: int, account_from_pool_fen: int, total_fen: int,
                 account_balance_fen: int, journal: list[list[Any]], inputs_position: int,
                 adjustment_fen: int = 0) -> None:
        self.person_id = person_id
        self.entitlement_id = entitlement_id
        self.period = period
        self.total_fen = total_fen

    @classmethod
    def pay(cls, person_id: str, entitlement_id: str, kind: str, period: str,
            split: PaymentSplit, account_balance_fen: int, inputs_position: int
            ) -> PensionPayment:
        return cls(**paid_fields(person_id, entitlement_id, kind, period, split,
                                 account_balance_fen, inputs_position))


def paid_fields(person_id: str, entitlement_id: str, kind: str, period: str,
                split: PaymentSplit, account_balance_fen: int, inputs_position: int
                ) -> dict[str, Any]:
    """The attributes of `PensionPayment.Paid`, in the order of its parameters: the order of
    the stored state, which the payment run's bulk path writes without making the aggregate
    (infra/pension_payments.py; a test compares the bytes)."""
    return {"person_id": person_id, "entitlement_id": entitlement_id, "kind": kind,
            "period": period, "basic_fen": split.basic_fen,
            "transitional_fen": split.transitional_fen, "account_fen": split.account_fen,
            "account_from_personal_fen": split.account_from_personal_fen,
            "account_from_pool_fen": split.account_from_pool_fen, "total_fen": split.total_fen,
            "account_balance_fen": account_balance_fen,
            "journal": payment_journal(person_id, split), "inputs_position": inputs_position,
            "adjustment_fen": split.adjustment_fen}
