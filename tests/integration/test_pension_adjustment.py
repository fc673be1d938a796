"""Yearly pension adjustment runs on SQLite and PostgreSQL: each entitlement retired by the
cut-off is adjusted once (a second run adjusts nobody), a person dead before January is not,
months paid before the run are paid the difference as arrears and months paid after it include
the increase, so each month is paid award + increases in effect once; every event balances;
the read models rebuilt from zero equal the ones kept up."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.errors import ValidationFailed
from domain.journal import BANK_PAYOUT
from domain.pension_adjustment import AdjustmentRule, PensionAdjustment
from infra.bootstrap import Container
from infra.pension_adjustments import adjust_pensions
from projections.fund_movements import ledger_day
from tests.helpers import cli, journal_sums, read_model_rows
from tests.integration.test_pension_payments import TODAY, award_of, pay, retirees


def rules(c: Container) -> dict[tuple[str, int], AdjustmentRule]:
    """The Guangxi 2021 shape for the test region's province, 2024 and 2025."""
    province = c.settings.region_code[:2]
    return {(province, year): AdjustmentRule(province, year, 4400, 180, Decimal("0.012"), 70,
                                             300, 300, "test")
            for year in (2024, 2025)}


def adjust(c: Container, year: int) -> object:
    return adjust_pensions(c, year, today=TODAY, rules=rules(c), actor="admin1")


def paid_by_month(c: Container, person_id: str) -> dict[str, int]:
    c.runner.catch_up()
    return {str(p): int(t) for p, t in c.views.query(
        "SELECT period, total_fen FROM pension_payments WHERE person_id = ?", (person_id,))}


def arrears_of(c: Container, person_id: str) -> int:
    [(fen,)] = c.views.query("SELECT COALESCE(SUM(arrears_fen), 0) FROM pension_adjustments"
                             " WHERE person_id = ?", (person_id,))
    return int(fen)


def test_an_adjustment_pays_arrears_for_paid_months_and_later_months_include_it(
        container: Container) -> None:
    alive, died_december, died_february = retirees(container, 3)
    award = award_of(container, alive)["monthly_fen"]
    # 15 actual + 180 deemed months (16 full years); born 1963: no age tilt.
    delta = 4400 + 16 * 180 + round(Decimal(award) * Decimal("0.012"))
    container.ledger.record_death(died_december, "2023-12-31", "死亡医学证明")
    container.ledger.record_death(died_february, "2024-02-10", "户籍注销")
    for period in ("2024-01", "2024-02", "2024-03"):
        pay(container, period)

    run = adjust(container, 2024)
    assert (run.adjusted, run.already_adjusted, run.skipped_deceased) == (2, 0, 1)
    assert run.monthly_increase_fen == 2 * delta and run.average_increase_fen == delta
    # alive: Jan-Mar paid before the run; died in February: Jan and Feb (March not paid).
    assert (run.arrears_months, run.arrears_fen) == (5, 5 * delta)
    april = pay(container, "2024-04")
    assert (april.paid, april.adjustment_fen) == (1, delta)

    ids = {n: str(container.ledger.person(n).id) for n in (alive, died_february, died_december)}
    months = paid_by_month(container, ids[alive])
    assert months == {"2024-01": award, "2024-02": award, "2024-03": award,
                      "2024-04": award + delta}
    # What the adjusted amounts give, paid in all: payments plus arrears.
    assert sum(months.values()) + arrears_of(container, ids[alive]) == 4 * (award + delta)
    assert sum(paid_by_month(container, ids[died_february]).values()) + arrears_of(
        container, ids[died_february]) == 2 * (award + delta)
    assert arrears_of(container, ids[died_december]) == 0
    assert not container.views.query("SELECT 1 FROM pension_adjustments WHERE person_id = ?",
                                     (ids[died_december],))

    again = adjust(container, 2024)
    assert (again.adjusted, again.already_adjusted, again.arrears_fen) == (0, 2, 0)

    container.runner.catch_up()
    sums = journal_sums(container)
    assert sum(d for d, _ in sums.values()) == sum(c for _, c in sums.values())
    balances = {row["account"]: row for row in container.queries.fund_balances()}
    assert (balances[BANK_PAYOUT]["debit_fen"], balances[BANK_PAYOUT]["credit_fen"]) == \
        sums[BANK_PAYOUT]
    assert (balances["fund:110"]["debit_fen"], balances["fund:110"]["credit_fen"]) == \
        sums["fund:110"]
    [(benefit_fen,)] = container.views.query(
        "SELECT SUM(amount_fen) FROM fund_movements WHERE kind = 'benefit' AND insurance = ?",
        ("110",))
    assert int(benefit_fen) == sums[BANK_PAYOUT][1]


def test_the_next_year_is_of_the_adjusted_pension_and_increases_add_up(
        container: Container) -> None:
    [number] = retirees(container, 1)
    award = award_of(container, number)["monthly_fen"]
    first = adjust(container, 2024)
    second = adjust(container, 2025)
    delta_2024 = first.monthly_increase_fen
    # The percent part of 2025 is of the December-2024 pension: award + the 2024 increase.
    assert second.monthly_increase_fen == 4400 + 16 * 180 + round(
        Decimal(award + delta_2024) * Decimal("0.012"))
    assert (first.arrears_fen, second.arrears_fen) == (0, 0)  # nothing paid before
    person_id = str(container.ledger.person(number).id)
    [(entitlement_id,)] = container.views.query(
        "SELECT entitlement_id FROM pension_entitlements WHERE person_id = ?", (person_id,))
    stored = container.ledger._get(PensionAdjustment.create_id(str(entitlement_id), 2025))
    assert stored is not None and stored.delta_fen == second.monthly_increase_fen
    pay(container, "2024-12")
    assert paid_by_month(container, person_id) == {"2024-12": award + delta_2024}
    container.runner.catch_up()
    [(in_effect,)] = container.views.query(
        "SELECT SUM(delta_fen) FROM pension_adjustments WHERE entitlement_id = ? AND"
        " effective_period <= ?", (str(entitlement_id), "2025-01"))
    assert int(in_effect) == delta_2024 + second.monthly_increase_fen


def test_bad_years_change_nothing(container: Container) -> None:
    retirees(container, 1)
    head = container.store.max_position()
    for year, code in ((2023, "adjustment_rule_missing"), (2027, "adjustment_year_out_of_range"),
                       (2005, "adjustment_year_out_of_range")):
        with pytest.raises(ValidationFailed) as refused:
            adjust(container, year)
        assert refused.value.code == code and refused.value.field == "year"
    assert container.store.max_position() == head


def test_a_rebuild_of_the_read_models_equals_the_incremental_ones(
        container: Container) -> None:
    retirees(container, 2)
    pay(container, "2024-01")
    adjust(container, 2024)
    pay(container, "2024-02")
    container.runner.catch_up()
    kept = read_model_rows(container)
    assert kept["pension_adjustments"] and kept["pension_adjustment_bases"]
    container.runner.rebuild()
    assert read_model_rows(container) == kept


def test_the_retirement_cutoff(container: Container) -> None:
    retirees(container, 1)
    province = container.settings.region_code[:2]
    rule_2023 = {(province, 2023): AdjustmentRule(province, 2023, 4400, 0, Decimal(0), 70, 0,
                                                  0, "test")}
    run = adjust_pensions(container, 2023, today=date(2026, 1, 1), rules=rule_2023)
    assert (run.adjusted, run.skipped_deceased) == (0, 0)  # retired 2023-12-31 > 2022-12-31


def test_the_command_line_adjusts_a_year_with_its_summary(
        container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    import infra.pension_adjustments
    retirees(container, 2)
    container.staff.add_user("admin9", ["admin"])
    container.staff.add_user("teller9", ["teller"])
    run = cli(container.settings)

    assert "role_forbidden" in run("pensions", "adjust", "2024", "--as", "teller9", code=1)
    assert "adjustment_rule_missing" in run("pensions", "adjust", "2024", code=1)
    monkeypatch.setattr(infra.pension_adjustments, "default_adjustment_rules",
                        lambda: rules(container))
    done = run("pensions", "adjust", "2024", "--as", "admin9")
    assert "adjusted 2 persons" in done and "from 2024-01" in done
    assert "adjusted 0 persons" in run("pensions", "adjust", "2024")
    metas = [e.state.get("meta") for e in container.store.events_between(
        1, container.store.max_position(),
        ["domain.pension_adjustment:PensionAdjustment.Adjusted"])]
    assert metas == [{"actor": "admin9", "case_id": None, "command": "adjust_pensions"}] * 2


def test_the_annual_report_shows_the_years_adjustments_in_json_html_and_xlsx(
        container: Container) -> None:
    import io

    import openpyxl

    from infra.annual_report_html import render_html
    from infra.annual_report_queries import annual_report
    from infra.annual_report_xlsx import write_xlsx

    numbers = retirees(container, 2)
    award = award_of(container, numbers[0])["monthly_fen"]
    for period in ("2024-01", "2024-02"):
        pay(container, period)
    run = adjust(container, 2024)
    pay(container, "2024-03")
    container.runner.catch_up()
    report = annual_report(container, 2024)
    delta = run.average_increase_fen
    assert report["pension_adjustment"] == {
        "persons_adjusted": 2, "monthly_increase_fen": 2 * delta,
        "average_increase_fen": delta, "arrears_months": 4, "arrears_fen": 4 * delta}
    assert "pension_adjustment" not in {n["key"] for n in report["not_recorded"]}
    [pension] = [f for f in report["funds"]["insurances"] if f["insurance"] == "110"]
    # March is paid with the increase; January and February by the arrears, not counted here.
    assert pension["expenditure_for_periods_fen"] == 2 * 3 * award + 2 * delta
    # Paid on today's ledger day: the parts of the year paid in hold the increase.
    paid_in = annual_report(container, int(ledger_day(container.store.events_at(
        [container.store.max_position()])[0].recorded_at)[:4]))
    [paid] = [f for f in paid_in["funds"]["insurances"] if f["insurance"] == "110"]
    assert paid["expenditure_parts"]["adjustment_fen"] == 2 * delta
    assert paid["expenditure_fen"] == sum(paid["expenditure_parts"].values())
    assert annual_report(container, 2025)["pension_adjustment"]["persons_adjusted"] == 0

    html = render_html(report)
    assert "养老金调整：调整2人" in html and "补发4个月" in html
    book = io.BytesIO()
    write_xlsx(report, book)
    sheet = openpyxl.load_workbook(io.BytesIO(book.getvalue()))["待遇转移补缴"]
    rows = {row[0]: row[1:] for row in sheet.iter_rows(values_only=True) if row}
    assert rows["养老金调整(月增加额合计)"][:2] == (2, 2 * delta / 100)
    assert rows["  调整补发(月数)"][:2] == (4, 4 * delta / 100)
