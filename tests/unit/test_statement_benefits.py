"""The statement's benefits received (享受待遇情况): the year's months of pension paid with their
parts, the months since the first payment, and the personal account drawn by the account part —
the account still ties (closing = opening + the figures between), and the document shows it."""

from __future__ import annotations

from domain.policy import PENSION
from domain.statement import AccountRow, Fact, build_statement
from infra.statement_labels import benefit_received_lines
from tests.unit.test_statement import DAY, POLICY, a_paid_year, inputs

MONTHLY_FEN, BASIC_FEN, ACCOUNT_FEN = 300_000, 250_000, 50_000


def paid(period: str, position: int, from_pool_fen: int = 0) -> Fact:
    return Fact("pension_paid", {
        "kind": "basic_pension", "period": period, "basic_fen": BASIC_FEN,
        "transitional_fen": 0, "account_fen": ACCOUNT_FEN,
        "account_from_personal_fen": ACCOUNT_FEN - from_pool_fen,
        "account_from_pool_fen": from_pool_fen, "total_fen": MONTHLY_FEN}, position, DAY,
        "b" * 32)


def drawn(period: str, amount_fen: int, position: int) -> AccountRow:
    return AccountRow(PENSION, f"{period}-28", period, "pension_payment", -amount_fen, position,
                      DAY)


def retired_and_paid() -> tuple[list[Fact], list[AccountRow]]:
    """Retired at the end of November 2022, paid for December 2022 (the year before) and for
    2023-01 to 2023-03, the March account part only partly from the account."""
    facts, _history, accounts = a_paid_year()
    facts = [f for f in facts if f.kind != "interest_year"]
    accounts = [a for a in accounts if a.kind != "interest"]
    facts += [Fact("entitlement_awarded", {"kind": "basic_pension", "retirement_date":
                                           "2022-11-30", "monthly_fen": MONTHLY_FEN},
                   960, DAY, "a" * 32),
              paid("2022-12", 970), paid("2023-01", 971), paid("2023-02", 972),
              paid("2023-03", 973, from_pool_fen=20_000)]
    accounts += [drawn("2022-12", ACCOUNT_FEN, 970), drawn("2023-01", ACCOUNT_FEN, 971),
                 drawn("2023-02", ACCOUNT_FEN, 972), drawn("2023-03", ACCOUNT_FEN - 20_000, 973)]
    return facts, accounts


def test_the_years_months_paid_their_parts_and_the_account_drawn() -> None:
    facts, accounts = retired_and_paid()
    _, history, _ = a_paid_year()
    statement = build_statement(inputs(facts, history, accounts), POLICY)
    assert statement.benefits_received is not None
    (received,) = statement.benefits_received
    assert (received.kind, received.months_paid, received.first_period,
            received.last_period) == ("basic_pension", 3, "2023-01", "2023-03")
    assert received.total_fen == 3 * MONTHLY_FEN
    assert (received.basic_fen, received.transitional_fen, received.account_fen) == (
        3 * BASIC_FEN, 0, 3 * ACCOUNT_FEN)
    assert (received.account_from_personal_fen, received.account_from_pool_fen) == (
        3 * ACCOUNT_FEN - 20_000, 20_000)
    assert (received.cumulative_months, received.cumulative_fen) == (4, 4 * MONTHLY_FEN)
    assert received.trace.positions == (971, 972, 973)

    account = statement.account(PENSION)
    assert account is not None
    assert account.pension_paid.fen == -(3 * ACCOUNT_FEN - 20_000)
    assert account.opening.fen == 10_000_000 - ACCOUNT_FEN  # December 2022 drawn before
    assert account.closing.fen == (account.opening.fen + account.contributions.fen
                                   + account.pension_paid.fen)
    assert account.other.fen == 0

    first, parts, drawn_by = benefit_received_lines(received, account.closing.fen)
    assert "本年发放 3 个月（2023-01 至 2023-03），合计 9000.00 元" in first
    assert "累计发放 4 个月 12000.00 元" in first
    assert "基础养老金 7500.00 元" in parts and "个人账户养老金 1500.00 元" in parts
    assert "个人账户支付 1300.00 元、统筹基金支付 200.00 元" in drawn_by
    assert f"个人账户余额 {account.closing.fen // 100}.{account.closing.fen % 100:02d}" in drawn_by


def test_payments_known_later_or_for_later_years_are_not_in_the_year() -> None:
    facts, accounts = retired_and_paid()
    _, history, _ = a_paid_year()
    later = [*facts, paid("2024-01", 980)]
    statement = build_statement(inputs(later, history, accounts, position=971), POLICY)
    assert statement.benefits_received is not None
    (received,) = statement.benefits_received
    assert (received.months_paid, received.cumulative_months) == (1, 2)  # 2023-01; 2022-12
    # nobody paid: nothing received
    plain = build_statement(inputs(*a_paid_year()), POLICY)
    assert plain.benefits_received == ()
    assert plain.account(PENSION).pension_paid.fen == 0  # type: ignore[union-attr]


def test_format_1_has_neither_field() -> None:
    facts, accounts = retired_and_paid()
    _, history, _ = a_paid_year()
    one = build_statement(inputs(facts, history, accounts, position=960), POLICY, 1)
    assert one.benefits_received is None
