"""Double-entry journal lines over the chart of accounts (DESIGN.md "The ledger").

A line is `[account, debit_fen, credit_fen]` (a list, as stored in events). Every event that
moves money carries lines whose debits equal their credits; `assert_balanced` enforces it
where events are made, not only in tests.

Chart of accounts (account codes are stable strings, kept in events):
    clearing:tax               税务征收过渡户  tax-bureau collection clearing (debit-normal)
    suspense                   暂收/挂账       unmatched money held for a clerk's decision
    finance:special            财政专户        the fund's special account at the finance bureau
    bank:payout                银行发放户      benefits paid out
    region:<code>              other pooling regions (transfers)
    fund:<insurance>           统筹基金        pooled fund of one insurance (credit-normal)
    personal:<person>:<ins>    个人账户        a person's personal account (credit-normal)
Fund and personal accounts are credit-normal: their balance is credits minus debits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

CLEARING_TAX = "clearing:tax"
SUSPENSE = "suspense"
FINANCE_SPECIAL = "finance:special"
BANK_PAYOUT = "bank:payout"

JournalLine = list[object]  # [account: str, debit_fen: int, credit_fen: int]


class UnbalancedJournal(AssertionError):
    """A programming error: an event was about to be made whose lines do not balance."""


def pooled_fund(insurance: str) -> str:
    return f"fund:{insurance}"


def personal_account(person_id: str, insurance: str) -> str:
    return f"personal:{person_id}:{insurance}"


def is_credit_normal(account: str) -> bool:
    return account.startswith(("fund:", "personal:"))


def assert_balanced(lines: Sequence[Sequence[object]]) -> None:
    debit_fen = credit_fen = 0
    for line in lines:
        account, debit, credit = line
        if not isinstance(account, str) or not account:
            raise UnbalancedJournal(f"journal line without an account: {line!r}")
        if type(debit) is not int or type(credit) is not int or debit < 0 or credit < 0:
            raise UnbalancedJournal(f"journal amounts must be non-negative int fen: {line!r}")
        debit_fen += debit
        credit_fen += credit
    if debit_fen != credit_fen:
        raise UnbalancedJournal(f"debits {debit_fen} != credits {credit_fen} in {lines!r}")


def reversed_lines(lines: Iterable[Sequence[object]]) -> list[JournalLine]:
    """The 红冲 (reversal) of a journal: the same lines with debit and credit swapped."""
    return [[account, credit, debit] for account, debit, credit in lines]
