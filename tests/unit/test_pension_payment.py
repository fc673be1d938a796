"""A month's pension in parts: the account part drawn from the personal account as far as it
goes, then from the pooled fund; the journal balances; a month after the month of death, or
before the first payment month, is not due."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.journal import BANK_PAYOUT
from domain.pension_payment import (
    DECEASED,
    DUE,
    NOT_YET_DUE,
    PensionPayment,
    payment_journal,
    payment_status,
    split_payment,
)

PERSON = "0b7d6d2e-4c1f-5a8e-9f3a-1d2c3b4a5e6f"
ENTITLEMENT = "6f1e2d3c-4b5a-5968-8776-5a4b3c2d1e0f"

# DOMAIN.md §4.4: basic 3,080.00 + account 1,294.96 + transitional 576.00 = 4,950.96 a month
BASIC_FEN, ACCOUNT_FEN, TRANSITIONAL_FEN = 308_000, 129_496, 57_600


def test_an_account_that_covers_the_month_bears_the_whole_account_part() -> None:
    split = split_payment(BASIC_FEN, TRANSITIONAL_FEN, ACCOUNT_FEN, 18_000_000)
    assert split.total_fen == 495_096
    assert (split.account_from_personal_fen, split.account_from_pool_fen) == (ACCOUNT_FEN, 0)
    assert split.pooled_fen == BASIC_FEN + TRANSITIONAL_FEN
    assert payment_journal(PERSON, split) == [
        ["fund:110", BASIC_FEN + TRANSITIONAL_FEN, 0],
        [f"personal:{PERSON}:110", ACCOUNT_FEN, 0],
        [BANK_PAYOUT, 0, 495_096]]


def test_the_last_of_the_account_is_drawn_and_the_pooled_fund_pays_the_rest() -> None:
    split = split_payment(BASIC_FEN, TRANSITIONAL_FEN, ACCOUNT_FEN, 50_000)
    assert (split.account_from_personal_fen, split.account_from_pool_fen) == (50_000, 79_496)
    assert split.total_fen == 495_096  # paid for life: the amount does not change
    assert payment_journal(PERSON, split) == [
        ["fund:110", BASIC_FEN + TRANSITIONAL_FEN + 79_496, 0],
        [f"personal:{PERSON}:110", 50_000, 0],
        [BANK_PAYOUT, 0, 495_096]]


def test_an_exhausted_or_overdrawn_account_bears_nothing() -> None:
    for balance in (0, -10):
        split = split_payment(BASIC_FEN, 0, ACCOUNT_FEN, balance)
        assert (split.account_from_personal_fen, split.account_from_pool_fen) == (
            0, ACCOUNT_FEN)
        assert payment_journal(PERSON, split) == [
            ["fund:110", BASIC_FEN + ACCOUNT_FEN, 0], [BANK_PAYOUT, 0, BASIC_FEN + ACCOUNT_FEN]]


@given(st.integers(0, 10**7), st.integers(0, 10**6), st.integers(0, 10**6),
       st.integers(-10**6, 10**8))
def test_parts_add_up_the_journal_balances_and_the_account_never_goes_below_zero(
        basic: int, transitional: int, account: int, balance: int) -> None:
    split = split_payment(basic, transitional, account, balance)
    assert split.account_from_personal_fen + split.account_from_pool_fen == account
    assert 0 <= split.account_from_personal_fen <= max(balance, 0)
    assert split.pooled_fen + split.account_from_personal_fen == split.total_fen
    journal = payment_journal(PERSON, split)  # asserts that it balances
    assert sum(line[1] for line in journal) == split.total_fen


def test_a_month_is_due_from_the_first_payment_month_to_the_month_of_death() -> None:
    assert payment_status("2024-06", "2024-07", None) == NOT_YET_DUE
    assert payment_status("2024-07", None, None) == NOT_YET_DUE  # no payment scheduled
    assert payment_status("2024-07", "2024-07", None) == DUE
    assert payment_status("2030-01", "2024-07", None) == DUE
    # died on 15 September: September is paid, October is not
    assert payment_status("2024-09", "2024-07", "2024-09-15") == DUE
    assert payment_status("2024-10", "2024-07", "2024-09-15") == DECEASED
    assert payment_status("2024-07", "2024-07", "2024-06-30") == DECEASED


def test_one_payment_per_entitlement_and_month() -> None:
    assert PensionPayment.create_id(ENTITLEMENT, "2024-07") == PensionPayment.create_id(
        ENTITLEMENT, "2024-07")
    assert PensionPayment.create_id(ENTITLEMENT, "2024-07") != PensionPayment.create_id(
        ENTITLEMENT, "2024-08")
    payment = PensionPayment.pay(PERSON, ENTITLEMENT, "basic_pension", "2024-07",
                                 split_payment(BASIC_FEN, 0, ACCOUNT_FEN, 0), 0, 42)
    assert payment.id == PensionPayment.create_id(ENTITLEMENT, "2024-07")
    [paid] = payment.collect_events()
    assert type(paid).__qualname__ == "PensionPayment.Paid"
    assert paid.total_fen == BASIC_FEN + ACCOUNT_FEN
    assert paid.account_from_pool_fen == ACCOUNT_FEN
