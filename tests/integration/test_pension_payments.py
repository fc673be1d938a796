"""Monthly pension payment runs on SQLite and PostgreSQL: every entitlement due is paid once
(a second run pays nobody), every payment balances and the fund's expenditure is the sum of the
payments, the account part drains the personal account and then continues from the pooled fund,
a recorded death stops the months after it (and a death recorded after a paid month raises the
risk monitor's alert), and the read model rebuilt from zero equals the one kept up."""

from __future__ import annotations

import io
from datetime import date

import pypdf
import pytest

from domain.errors import ValidationFailed
from domain.interest import compute_year_interest
from domain.journal import BANK_PAYOUT
from domain.pension import DIVISOR_BY_AGE
from domain.pension_payment import PaymentSplit, PensionPayment
from infra.bootstrap import Container
from infra.bulk_posting import BulkPoster, PostingRequest
from infra.certification_service import certify
from infra.interest_service import credit_interest
from infra.ledger_service import stamp
from infra.pension_payments import PaymentRun, pay_pensions
from infra.pension_service import award_pension
from infra.statement_pdf import render_pdf
from infra.statement_queries import StatementQueries
from tests.helpers import cli, journal_sums, make_id_number, read_model_rows, seed_region

TODAY = date(2026, 11, 23)
RETIRED_ON = "2023-12-31"  # first payment 2024-01
BIRTH = date(1963, 6, 1)  # 60 at retirement: 计发月数 139
WAGE_FEN = 1_000_000
MONTHLY_CREDIT_FEN = 80_000  # 8% of the base
MONTHS_2023 = [f"2023-{m:02d}" for m in range(1, 13)]


def retirees(c: Container, count: int, first_seq: int = 100) -> list[str]:
    """Persons born 1963 with the twelve months of 2023 posted, retired at the end of 2023 with
    180 deemed months: each has 960,000 fen in the account and an account part of
    960,000 / 139 = 6,906 fen a month."""
    code = seed_region(c, persons=0).employer_code
    numbers = []
    for seq in range(first_seq, first_seq + count):
        number = make_id_number(seq, birth=BIRTH)
        c.ledger.register_person(number, f"退休{seq}", registered_on="2015-01-01")
        c.ledger.start_employment(number, code, "2023-01-01")
        c.ledger.declare_base(number, 2023, WAGE_FEN)
        numbers.append(number)
    posted = BulkPoster(c.store, c.policy, "test").post(
        [PostingRequest(n, code, p) for n in numbers for p in MONTHS_2023])
    assert posted.summary()["posted"] == count * 12
    for number in numbers:
        c.ledger.end_employment(number, code, RETIRED_ON)
        award_pension(c, number, RETIRED_ON, deemed_months=180)
    return numbers


def pay(c: Container, period: str) -> PaymentRun:
    return pay_pensions(c, period, today=TODAY)


def award_of(c: Container, number: str) -> dict[str, int]:
    person_id = str(c.ledger.person(number).id)
    c.runner.catch_up()
    [row] = c.views.query("SELECT basic_fen, transitional_fen, account_fen, monthly_fen FROM"
                          " pension_entitlements WHERE person_id = ?", (person_id,))
    return dict(zip(("basic_fen", "transitional_fen", "account_fen", "monthly_fen"),
                    (int(v) for v in row), strict=True))


def test_a_run_pays_each_due_entitlement_once_and_a_second_run_pays_nobody(
        container: Container) -> None:
    numbers = retirees(container, 3)
    award = award_of(container, numbers[0])
    assert award["account_fen"] == round(12 * MONTHLY_CREDIT_FEN / DIVISOR_BY_AGE[60])
    assert pay(container, "2023-12").paid == 0  # before the first payment month: nobody due

    first = pay(container, "2024-01")
    assert (first.paid, first.already_paid, first.skipped_deceased) == (3, 0, 0)
    assert first.amount_fen == 3 * award["monthly_fen"]
    assert first.account_from_personal_fen == 3 * award["account_fen"]
    assert first.account_from_pool_fen == 0
    head = container.store.max_position()
    assert first.position == head

    again = pay(container, "2024-01")
    assert (again.paid, again.already_paid, again.amount_fen) == (0, 3, 0)
    assert container.store.max_position() == head  # nothing written

    container.runner.catch_up()
    rows = container.views.query("SELECT person_id, period, total_fen FROM pension_payments")
    assert sorted((str(p), int(t)) for _, p, t in rows) == [("2024-01", award["monthly_fen"])] * 3
    # the account part left the personal account
    person_id = str(container.ledger.person(numbers[0]).id)
    balance = container.queries.account_balance(person_id)
    assert balance["by_kind_fen"]["pension_payment"] == -award["account_fen"]
    assert balance["balance_fen"] == 12 * MONTHLY_CREDIT_FEN - award["account_fen"]
    # the person's history (资金追溯) lists the payment with what it took from the account
    [paid] = [e for e in container.tracer.person_history(person_id)
              if e.event == "PensionPayment.Paid"]
    assert paid.amounts[f"personal:{person_id}:110"] == -award["account_fen"]


def test_a_payment_already_on_record_is_not_paid_again_even_if_the_read_model_lags(
        container: Container) -> None:
    retirees(container, 1)
    pay(container, "2024-01")
    [(entitlement,)] = container.views.query("SELECT entitlement_id FROM pension_entitlements")
    payment_id = PensionPayment.create_id(str(entitlement), "2024-01")
    assert container.store.existing([payment_id]) == {payment_id}
    # A run whose read model does not show the payment (as if not projected yet) still finds
    # it in the store before saving.
    with container.views.transaction() as cur:
        cur.execute("DELETE FROM pension_payments")
    head = container.store.max_position()
    run = pay_pensions(container, "2024-01", today=TODAY)
    assert (run.paid, run.already_paid) == (0, 1)
    assert container.store.max_position() == head


def test_every_payment_balances_and_the_fund_expenditure_is_the_sum_of_payments(
        container: Container) -> None:
    retirees(container, 2)
    container.runner.catch_up()
    before = {row["account"]: row for row in container.queries.fund_balances()}
    runs = [pay(container, p) for p in ("2024-01", "2024-02", "2024-03")]
    container.runner.catch_up()
    paid_fen = sum(r.amount_fen for r in runs)
    pooled_fen = sum(r.basic_fen + r.transitional_fen + r.account_from_pool_fen for r in runs)
    drawn_fen = sum(r.account_from_personal_fen for r in runs)
    assert paid_fen == pooled_fen + drawn_fen > 0

    sums = journal_sums(container)
    assert sum(d for d, _ in sums.values()) == sum(c for _, c in sums.values())
    after = {row["account"]: row for row in container.queries.fund_balances()}
    assert after[BANK_PAYOUT]["credit_fen"] - before.get(BANK_PAYOUT, {"credit_fen": 0})[
        "credit_fen"] == paid_fen
    assert after["fund:110"]["debit_fen"] - before["fund:110"]["debit_fen"] == pooled_fen
    assert after["personal:*:110"]["debit_fen"] - before["personal:*:110"][
        "debit_fen"] == drawn_fen
    assert sums[BANK_PAYOUT] == (0, paid_fen)

    [(benefit_fen,)] = container.views.query(
        "SELECT SUM(amount_fen) FROM fund_movements WHERE kind = 'benefit' AND insurance = ?",
        ("110",))
    assert int(benefit_fen) == paid_fen
    [(projected_fen, payments)] = container.views.query(
        "SELECT SUM(total_fen), COUNT(*) FROM pension_payments")
    assert (int(projected_fen), int(payments)) == (paid_fen, 6)
    account_days = container.views.query(
        "SELECT SUM(credit_fen) FROM account_days WHERE account = ?", (BANK_PAYOUT,))
    assert int(account_days[0][0]) == paid_fen


def test_when_the_account_is_used_up_the_pooled_fund_pays_the_account_part(
        container: Container) -> None:
    [number] = retirees(container, 1)
    award = award_of(container, number)
    # Eleven of the twelve months are found wrong after the award and reversed: 80,000 fen
    # are left, enough for 11 months of the 6,906 fen account part and part of the 12th.
    for period in MONTHS_2023[:11]:
        container.ledger.reverse_contribution(number, period, "非本人缴费")
    months = [f"2024-{m:02d}" for m in range(1, 13)] + ["2025-01"]
    # Certified within the year (待遇资格认证), else 2025-01 would be suspended.
    certify(container, number, "data_match", "civil_affairs", "2024-12-01",
            today=date(2024, 12, 1))
    runs = [pay(container, p) for p in months]
    part = award["account_fen"]
    assert [r.account_from_personal_fen for r in runs[:11]] == [part] * 11
    assert runs[11].account_from_personal_fen == MONTHLY_CREDIT_FEN - 11 * part
    assert runs[11].account_from_pool_fen == part - runs[11].account_from_personal_fen
    assert (runs[12].account_from_personal_fen, runs[12].account_from_pool_fen) == (0, part)
    assert [r.account_exhausted for r in runs] == [0] * 11 + [1, 1]
    assert {r.amount_fen for r in runs} == {award["monthly_fen"]}  # paid for life, unchanged
    container.runner.catch_up()
    person_id = str(container.ledger.person(number).id)
    assert container.queries.account_balance(person_id)["balance_fen"] == 0


def test_a_death_stops_the_months_after_it_and_a_later_recorded_death_raises_an_alert(
        container: Container) -> None:
    alive, died_early, died_later = retirees(container, 3)
    container.ledger.record_death(died_early, "2024-01-20", "死亡医学证明")
    january = pay(container, "2024-01")  # the month of death is paid
    assert (january.paid, january.skipped_deceased) == (3, 0)
    february = pay(container, "2024-02")
    assert (february.paid, february.skipped_deceased) == (2, 1)
    # Paid for February and March, then a death on 10 February is recorded: the March
    # payment was made after the month of death.
    pay(container, "2024-03")
    container.ledger.record_death(died_later, "2024-02-10", "户籍注销")
    april = pay(container, "2024-04")
    assert (april.paid, april.skipped_deceased) == (1, 2)
    container.runner.catch_up()
    alerts = container.views.query("SELECT rule_code, details FROM alerts")
    assert len(alerts) == 1 and alerts[0][0] == "after_death"
    assert '"2024-03"' in str(alerts[0][1]) and '"pension"' in str(alerts[0][1])
    paid = {(str(p), str(m)) for p, m in container.views.query(
        "SELECT person_id, period FROM pension_payments")}
    early_id = str(container.ledger.person(died_early).id)
    assert {m for p, m in paid if p == early_id} == {"2024-01"}
    assert alive


def test_a_month_not_begun_or_malformed_is_refused_and_changes_nothing(
        container: Container) -> None:
    retirees(container, 1)
    head = container.store.max_position()
    for period, code in (("2026-12", "payment_period_in_future"),
                         ("2024-13", "period_out_of_range"), ("202401", "period_malformed")):
        with pytest.raises(ValidationFailed) as refused:
            pay_pensions(container, period, today=TODAY)
        assert refused.value.code == code and refused.value.field == "period"
    assert container.store.max_position() == head


def test_a_rebuild_of_the_read_models_equals_the_incremental_ones(
        container: Container) -> None:
    numbers = retirees(container, 2)
    container.ledger.record_death(numbers[1], "2024-01-05", "死亡医学证明")
    for period in ("2024-01", "2024-02"):
        pay(container, period)
    container.runner.catch_up()
    kept = read_model_rows(container)
    assert kept["pension_payments"] and kept["pension_deaths"]
    container.runner.rebuild()
    assert read_model_rows(container) == kept


def test_the_bulk_path_stores_what_the_aggregate_would_store(container: Container) -> None:
    [number] = retirees(container, 1)
    run = pay_pensions(container, "2024-01", today=TODAY, actor="admin1")
    assert run.paid == 1
    [(entitlement, person_id)] = container.views.query(
        "SELECT entitlement_id, person_id FROM pension_entitlements")
    payment_id = PensionPayment.create_id(str(entitlement), "2024-01")
    [stored] = container.store.recorder.select_events(payment_id)
    written = container.store.decode_state(stored.state)

    from_store: PensionPayment = container.store.app.repository.get(payment_id)
    assert (from_store.person_id, from_store.period, from_store.total_fen) == (
        str(person_id), "2024-01", run.amount_fen)
    made = PensionPayment.pay(str(person_id), str(entitlement), "basic_pension", "2024-01",
                              split_payment_of(written), written["account_balance_fen"],
                              written["inputs_position"])
    stamp([made], {"actor": "admin1", "case_id": None, "command": "pay_pensions"})
    [event] = made.collect_events()
    library = container.store.decode_state(
        container.store.app.mapper.to_stored_event(event).state)
    assert list(written) == list(library)
    assert {**written, "timestamp": None} == {**library, "timestamp": None}
    assert stored.topic == container.store.app.mapper.to_stored_event(event).topic
    assert number


def split_payment_of(state: dict[str, int]) -> PaymentSplit:
    return PaymentSplit(state["basic_fen"], state["transitional_fen"], state["account_fen"],
                        state["account_from_personal_fen"], state["account_from_pool_fen"])


def test_a_payment_written_after_a_recorded_death_raises_an_alert(container: Container) -> None:
    [number] = retirees(container, 1)
    container.ledger.record_death(number, "2024-01-10", "死亡医学证明")
    container.runner.catch_up()
    [(entitlement, person_id)] = container.views.query(
        "SELECT entitlement_id, person_id FROM pension_entitlements")
    # As a run would that had not seen the death (the runs themselves skip such months).
    late = PensionPayment.pay(str(person_id), str(entitlement), "basic_pension", "2024-02",
                              PaymentSplit(100, 0, 0, 0, 0), 0, 0)
    container.store.app.save(late)
    container.runner.catch_up()
    [(rule, details, events)] = container.views.query(
        "SELECT rule_code, details, events FROM alerts")
    assert rule == "after_death" and '"2024-02"' in str(details)
    assert "PensionPayment.Paid" in str(events)


def test_the_statement_shows_the_benefits_received_and_the_account_they_drew(
        container: Container) -> None:
    [number] = retirees(container, 1)
    award = award_of(container, number)
    for period in ("2024-01", "2024-02", "2024-03"):
        pay(container, period)
    position = container.runner.catch_up()
    person_id = str(container.ledger.person(number).id)
    issued = StatementQueries(container.views, container.store, container.policy,
                              container.settings.region_code).issue(person_id, 2024, position)
    statement = issued.statement
    assert statement.benefits_received is not None
    (received,) = statement.benefits_received
    assert (received.months_paid, received.first_period, received.last_period) == (
        3, "2024-01", "2024-03")
    assert received.total_fen == 3 * award["monthly_fen"]
    assert received.account_from_personal_fen == 3 * award["account_fen"]
    account = statement.account("110")
    assert account is not None
    assert account.pension_paid.fen == -3 * award["account_fen"]
    assert account.closing.fen == 12 * MONTHLY_CREDIT_FEN - 3 * award["account_fen"]
    pdf = render_pdf(statement, issued.content_hash, issued.verification_code,
                     issued.verify_url("https://shebao.example.cn"))
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "基本养老金本年发放 3 个月（2024-01 至 2024-03）" in text
    assert "本年个人账户养老金支付" in text


def test_the_command_line_pays_a_month_with_its_summary(container: Container) -> None:
    numbers = retirees(container, 2)
    container.ledger.record_death(numbers[1], "2024-01-05", "死亡医学证明")
    container.staff.add_user("admin9", ["admin"])
    container.staff.add_user("teller9", ["teller"])
    run = cli(container.settings)

    assert "role_forbidden" in run("pensions", "pay", "2024-02", "--as", "teller9", code=1)
    assert "payment_period_in_future" in run("pensions", "pay", "2099-01", code=1)
    paid = run("pensions", "pay", "2024-02", "--as", "admin9")
    assert "2024-02: paid 1 persons" in paid and "skipped deceased 1" in paid
    assert "paid 0 persons" in run("pensions", "pay", "2024-02")
    [(meta,)] = [(e.state.get("meta"),) for e in container.store.events_between(
        1, container.store.max_position(), ["domain.pension_payment:PensionPayment.Paid"])]
    assert meta == {"actor": "admin9", "case_id": None, "command": "pay_pensions"}


def test_the_years_interest_counts_the_account_part_drawn_as_a_negative_credit(
        container: Container) -> None:
    [number] = retirees(container, 1)
    award = award_of(container, number)
    for period in ("2024-01", "2024-02"):
        pay(container, period)
    for year in (2023, 2024):
        credit_interest(container.store, container.policy, container.runner, container.queries,
                        year)
    container.runner.catch_up()
    person_id = str(container.ledger.person(number).id)
    rate_2023, rate_2024 = (container.policy.interest_rate(y).rate for y in (2023, 2024))
    year_2023 = compute_year_interest(2023, rate_2023, 0, (MONTHLY_CREDIT_FEN,) * 12)
    drawn = (-award["account_fen"], -award["account_fen"], *(0,) * 10)
    year_2024 = compute_year_interest(2024, rate_2024, year_2023.closing_fen, drawn)
    assert year_2024.current_interest_fen < 0  # the drawn months earn nothing after
    balance = container.queries.account_balance(person_id, as_of="2024-12-31")
    assert balance["balance_fen"] == year_2024.closing_fen
