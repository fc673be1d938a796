"""The personal rights statement builder (domain/statement.py) on plain rows, with figures
computed by hand from DOMAIN.md: the monthly-积数 example of §3.3 (100,000.00 opening, 800.00 a
month at 3.97% → 113,776.44), the 16% / 8% pension contributions of §1.1 on a 10,000.00 base,
arrears of months employed and due but not paid, reversals, back-pay, transfers, and the
statement "as known at" a log position."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import pytest

from domain.assessment import assess_month
from domain.errors import NotFound
from domain.periods import Period
from domain.policy import PENSION, PolicyTables
from domain.statement import (
    ARREARS,
    CONTRIBUTING,
    PAID,
    RETIRED,
    SUSPENDED,
    AccountRow,
    Fact,
    HistoryRow,
    StatementInputs,
    build_statement,
    canonical_json,
    content_hash,
)
from infra.policy_loader import default_policy

POLICY: PolicyTables = default_policy()
PERSON = "12b4e11e-bda2-5980-9b49-51d143ab3ad9"
EMPLOYER = "91440781MA0000001K"
DAY = "2024-07-01"
BASE_FEN = 1_000_000  # 10,000.00 a month
# One month of a 10,000.00 base (DOMAIN.md §1.1): pension employer 16% = 1,600.00, individual
# 8% = 800.00, all of it to the personal account; the other insurances as the policy assesses
# them (their rates are DEMO values), so that the month is paid in full.
PENSION_LINE = ["110", BASE_FEN, 160_000, 80_000, 80_000]
OTHER_LINES = [line for line in assess_month(POLICY, Period(2023, 1), BASE_FEN, 3)
               if line[0] != PENSION]


def fact(kind: str, position: int, **data: Any) -> Fact:
    return Fact(kind, data, position, DAY, source_id="e" * 32)


def registered(position: int = 1) -> list[Fact]:
    return [
        fact("registered", position, id_number="440781199001010016", name="测试一", sex="M",
             birth_date="1990-01-01", registered_on="2015-01-01"),
        fact("employment_started", position + 1, employer_code=EMPLOYER,
             start_date="2022-01-01"),
        fact("base_declared", position + 2, year=2023, declared_wage_fen=BASE_FEN,
             base_fen=BASE_FEN),
    ]


EMPLOYERS = {EMPLOYER: [Fact("registered", {"credit_code": EMPLOYER, "name": "示例食品有限公司",
                                             "employer_type": "enterprise", "risk_class": 3},
                             0, DAY)]}


def posted(period: str, position: int, lines: list[list[Any]] | None = None,
           kind: str = "posted") -> HistoryRow:
    return HistoryRow(period, kind, EMPLOYER, lines or [PENSION_LINE, *OTHER_LINES], position,
                      DAY)


def credit(period: str, amount_fen: int, position: int, kind: str = "contribution",
           effective: str | None = None) -> AccountRow:
    last = {"02": "28"}.get(period[5:], "30" if period[5:] in ("04", "06", "09", "11") else "31")
    return AccountRow(PENSION, effective or f"{period}-{last}", period, kind, amount_fen,
                      position, DAY)


def inputs(facts: list[Fact], history: list[HistoryRow], accounts: list[AccountRow],
           position: int = 10_000, year: int = 2023, as_of_day: str = "2024-07-01"
           ) -> StatementInputs:
    return StatementInputs(
        region_code="440781", year=year, position=position,
        as_of=f"{as_of_day}T02:00:00+00:00", as_of_day=as_of_day, person_id=PERSON,
        facts=facts, employers=EMPLOYERS, history=history, accounts=accounts)


def a_paid_year() -> tuple[list[Fact], list[HistoryRow], list[AccountRow]]:
    """DOMAIN.md §3.3: balance 100,000.00 at the end of 2022, 800.00 credited each month of
    2023, interest at 3.97%."""
    facts = [*registered(), fact("interest_year", 900, year=2023, rate="0.0397",
                                 opening_fen=10_000_000, prior_interest_fen=397_000,
                                 current_interest_fen=20_644, closing_fen=11_377_644)]
    history = [posted(f"2023-{m:02d}", 100 + m) for m in range(1, 13)]
    accounts = [credit("2022-12", 10_000_000, 50),
                *(credit(f"2023-{m:02d}", 80_000, 100 + m) for m in range(1, 13)),
                credit("2023-12", 417_644, 900, kind="interest", effective="2023-12-31")]
    return facts, history, accounts


def test_the_domain_interest_example_ties_opening_credits_interest_and_closing() -> None:
    statement = build_statement(inputs(*a_paid_year()), POLICY)
    account = statement.account()
    assert account is not None
    assert account.opening.fen == 10_000_000  # 100,000.00
    assert account.contributions.fen == 12 * 80_000  # 9,600.00
    assert account.interest.fen == 397_000 + 20_644  # 3,970.00 + 206.44
    assert account.closing.fen == 11_377_644  # 113,776.44 (DOMAIN.md §3.3)
    assert account.interest_rate == "0.0397"
    assert (account.prior_interest_fen, account.current_interest_fen) == (397_000, 20_644)
    assert account.backpay.fen == account.reversals.fen == account.transfer_out.fen == 0
    assert account.opening.trace.positions == (50,)
    assert account.interest.trace.positions == (900,)
    assert account.closing.trace.positions == (50, *range(101, 113), 900)


def test_pension_months_carry_the_16_and_8_percent_of_the_base() -> None:
    statement = build_statement(inputs(*a_paid_year()), POLICY)
    pension = statement.insurance(PENSION)
    assert pension is not None and pension.name_zh == "企业职工基本养老保险"
    assert [m.period for m in pension.months] == [f"2023-{m:02d}" for m in range(1, 13)]
    assert {m.status for m in pension.months} == {PAID}
    january = pension.months[0]
    assert (january.base_fen, january.employer_fen, january.individual_fen, january.paid_fen,
            january.account_fen) == (1_000_000, 160_000, 80_000, 240_000, 80_000)
    assert january.trace.positions == (101,)
    assert (pension.paid_months, pension.employer_fen, pension.individual_fen,
            pension.paid_fen) == (12, 1_920_000, 960_000, 2_880_000)  # 19,200 + 9,600
    assert pension.arrears_months == pension.arrears_fen == 0
    assert pension.cumulative_months == 12 and pension.first_period == "2023-01"
    assert statement.registration.status == CONTRIBUTING
    assert statement.registration.first_paid_period == "2023-01"
    assert [e.employer_name for e in statement.employments] == ["示例食品有限公司"]


def test_cumulative_months_count_earlier_years_net_of_reversals() -> None:
    facts, history, accounts = a_paid_year()
    earlier = [posted(f"2022-{m:02d}", 10 + m) for m in range(1, 13)]
    earlier.append(posted("2022-06", 30, kind="reversed"))  # 2022-06 reversed, never reposted
    statement = build_statement(inputs(facts, earlier + history, accounts), POLICY)
    pension = statement.insurance(PENSION)
    assert pension is not None
    assert pension.cumulative_months == 11 + 12
    assert pension.first_period == "2022-01"
    assert pension.paid_months == 12  # the year's own months only


def test_a_reversed_and_reposted_month_shows_the_new_amounts_and_every_event() -> None:
    facts, history, accounts = a_paid_year()
    corrected = ["110", 900_000, 144_000, 72_000, 72_000]  # base 9,000.00
    others = [line for line in assess_month(POLICY, Period(2023, 3), 900_000, 3)
              if line[0] != PENSION]
    history += [posted("2023-03", 200, kind="reversed"),
                posted("2023-03", 201, [corrected, *others])]
    accounts += [credit("2023-03", -80_000, 200, kind="reversal"),
                 credit("2023-03", 72_000, 201)]
    statement = build_statement(inputs(facts, history, accounts), POLICY)
    pension = statement.insurance(PENSION)
    assert pension is not None
    march = pension.months[2]
    assert (march.status, march.base_fen, march.employer_fen, march.individual_fen) == (
        PAID, 900_000, 144_000, 72_000)
    assert march.trace.positions == (103, 200, 201)
    assert pension.paid_months == 12 and pension.individual_fen == 11 * 80_000 + 72_000
    account = statement.account()
    assert account is not None
    assert account.reversals.fen == -80_000
    assert account.contributions.fen == 12 * 80_000 + 72_000
    assert account.closing.fen == 11_377_644 - 80_000 + 72_000


def test_months_employed_due_and_unpaid_are_arrears_at_the_rates_then() -> None:
    facts, history, accounts = a_paid_year()
    history = history[:9]  # October to December not paid
    statement = build_statement(inputs(facts, history, accounts[:10], as_of_day="2023-12-20"),
                                POLICY)
    pension = statement.insurance(PENSION)
    assert pension is not None
    # November fell due on 2023-12-15 (due day 15 of the next month): by 2023-12-20 October and
    # November are arrears; December is not due yet.
    arrears = [m for m in pension.months if m.status == ARREARS]
    assert [m.period for m in arrears] == ["2023-10", "2023-11"]
    assert all((m.employer_fen, m.individual_fen, m.arrears_fen, m.paid_fen, m.account_fen)
               == (160_000, 80_000, 240_000, 0, 0) for m in arrears)
    assert (pension.arrears_months, pension.arrears_fen) == (2, 480_000)
    # behind an arrears month: the employment and the year's base declaration
    assert arrears[0].trace.positions == (2, 3)
    # every insurance of the month is in arrears; work injury is the employer's alone
    work_injury = statement.insurance("410")
    assert work_injury is not None
    assert (work_injury.paid_months, work_injury.arrears_months) == (9, 2)
    assert all(m.individual_fen == 0 for m in work_injury.months)


def test_an_insurance_missing_from_a_paid_month_is_in_arrears() -> None:
    facts, history, accounts = a_paid_year()
    history[0] = posted("2023-01", 101, [PENSION_LINE])  # January: pension only
    statement = build_statement(inputs(facts, history, accounts), POLICY)
    assert {r.insurance: r.arrears_months for r in statement.insurances} == {
        "110": 0, "210": 1, "310": 1, "410": 1, "510": 1}


def test_no_arrears_without_a_base_or_an_employment() -> None:
    facts, history, accounts = a_paid_year()
    no_base = [f for f in facts if f.kind != "base_declared"]
    statement = build_statement(inputs(no_base, history[:6], accounts[:7]), POLICY)
    assert all(r.arrears_months == 0 for r in statement.insurances)
    ended = [*facts, fact("employment_ended", 500, employer_code=EMPLOYER,
                          end_date="2023-06-30")]
    statement = build_statement(inputs(ended, history[:6], accounts[:7]), POLICY)
    assert all(r.arrears_months == 0 for r in statement.insurances)
    assert statement.registration.status == SUSPENDED
    assert statement.employments[0].end_date == "2023-06-30"


def test_back_paid_months_are_marked_and_counted_apart() -> None:
    facts, history, accounts = a_paid_year()
    facts.append(fact("backpaid_month", 305, period="2023-02", source="backpay:b1"))
    history = [h for h in history if h.period != "2023-02"] + [posted("2023-02", 305)]
    accounts = [a for a in accounts if a.period != "2023-02" or a.kind != "contribution"]
    accounts.append(credit("2023-02", 80_000, 305))
    statement = build_statement(inputs(facts, history, accounts), POLICY)
    pension = statement.insurance(PENSION)
    account = statement.account()
    assert pension is not None and account is not None
    assert [m.period for m in pension.months if m.backpay] == ["2023-02"]
    assert account.backpay.fen == 80_000 and account.backpay.trace.positions == (305,)
    assert account.contributions.fen == 11 * 80_000
    assert account.closing.fen == 11_377_644


def test_as_known_at_a_position_leaves_out_what_was_recorded_later() -> None:
    facts, history, accounts = a_paid_year()
    history = [h for h in history if h.period != "2023-05"]
    accounts = [a for a in accounts if a.period != "2023-05" or a.kind != "contribution"]
    late = (posted("2023-05", 5000), credit("2023-05", 80_000, 5000))
    rows = inputs(facts, [*history, late[0]], [*accounts, late[1]], position=4999)
    before = build_statement(rows, POLICY)
    after = build_statement(inputs(facts, [*history, late[0]], [*accounts, late[1]],
                                   position=5000), POLICY)
    pension_before, pension_after = before.insurance(PENSION), after.insurance(PENSION)
    assert pension_before is not None and pension_after is not None
    assert [m.status for m in pension_before.months if m.period == "2023-05"] == [ARREARS]
    assert [m.status for m in pension_after.months if m.period == "2023-05"] == [PAID]
    assert content_hash(before) != content_hash(after)
    # the same rows and position give the same statement, byte for byte
    assert canonical_json(build_statement(rows, POLICY)) == canonical_json(before)


def test_a_person_not_registered_at_the_position_has_no_statement() -> None:
    facts, history, accounts = a_paid_year()
    with pytest.raises(NotFound) as missing:
        build_statement(inputs([fact("registered", 20, **facts[0].data)], history, accounts,
                               position=19), POLICY)
    assert missing.value.code == "person_not_found"


def test_a_transfer_to_the_residents_scheme_and_retirement() -> None:
    facts, history, accounts = a_paid_year()
    facts += [fact("employment_ended", 950, employer_code=EMPLOYER, end_date="2023-12-31"),
              fact("retired", 951, retired_on="2023-12-31")]
    accounts += [AccountRow(PENSION, "2023-12-31", "2023-12", "transfer", -11_377_644, 960, DAY),
                 AccountRow("170", "2023-12-31", "2023-12", "transfer", 11_377_644, 960, DAY)]
    statement = build_statement(inputs(facts, history, accounts), POLICY)
    assert statement.registration.status == RETIRED
    assert statement.registration.retired_on == "2023-12-31"
    pension, residents = statement.accounts
    assert (pension.insurance, residents.insurance) == ("110", "170")
    assert pension.transfer_out.fen == -11_377_644 and pension.closing.fen == 0
    assert residents.transfer_in.fen == 11_377_644 and residents.closing.fen == 11_377_644
    assert residents.interest_rate is None


def test_benefits_awarded_with_their_first_payment() -> None:
    facts, history, accounts = a_paid_year()
    facts += [Fact("entitlement_awarded", {"kind": "basic_pension",
                                           "retirement_date": "2023-12-31",
                                           "monthly_fen": 495_096}, 970, DAY, "a" * 32),
              Fact("first_payment_scheduled", {"period": "2024-01", "monthly_fen": 495_096},
                   971, DAY, "a" * 32)]
    statement = build_statement(inputs(facts, history, accounts), POLICY)
    (benefit,) = statement.benefits
    assert (benefit.kind, benefit.monthly_fen, benefit.first_period) == (
        "basic_pension", 495_096, "2024-01")
    assert benefit.trace.positions == (970, 971)


def test_the_canonical_json_has_sorted_keys_and_its_sha256_is_the_content_hash() -> None:
    statement = build_statement(inputs(*a_paid_year()), POLICY)
    canonical = canonical_json(statement)
    assert canonical == orjson.dumps(orjson.loads(canonical), option=orjson.OPT_SORT_KEYS)
    assert list(orjson.loads(canonical)) == sorted(orjson.loads(canonical))
    assert b" " not in canonical.replace("测试一".encode(), b"")
    assert content_hash(statement) == hashlib.sha256(canonical).hexdigest()
