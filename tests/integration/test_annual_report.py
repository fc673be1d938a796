"""The annual report (年度报告) on a small region, on SQLite and PostgreSQL: participants per
insurance and employer type and the year's income against hand counts, after postings, a
reversal, a back-payment, a retirement with its pension award, a link to the residents' scheme,
a death and a case; the same report after `projections rebuild`; the HTML's charts and the
XLSX's figures; targets from a file."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from domain.assessment import assess_month
from domain.errors import ValidationFailed
from domain.periods import Period
from infra.annual_report_html import render_html
from infra.annual_report_queries import annual_report
from infra.annual_report_xlsx import write_xlsx
from infra.backpay_service import assess_backpay, collect_backpay
from infra.bootstrap import Container
from infra.bulk_posting import BulkPoster, PostingRequest
from infra.case_service import Actor, CaseService
from infra.pension_payments import pay_pensions
from infra.pension_service import award_pension, link_to_residents_scheme
from projections.fund_movements import ledger_day
from tests.helpers import make_credit_code, make_id_number, seed_region

YEAR = 2024
WAGE_FEN = 1_000_000
ENTERPRISE_RISK, PUBLIC_RISK = 3, 1
INSURANCES = ("110", "210", "310", "410", "510")
TELLER = Actor("teller1", ["teller"])
PNG = b"\x89PNG\r\n\x1a\n" + b"scan" * 10
PAID_ON = date(2026, 11, 23)  # pensions for 2024-07..12 paid late: on no ledger day of 2024


def months(first: str, last: str) -> list[str]:
    found, period = [], Period(int(first[:4]), int(first[5:]))
    while str(period) <= last:
        found.append(str(period))
        period = period.next()
    return found


def employ(c: Container, seq: int, employer_code: str, birth: date = date(1990, 1, 1)) -> str:
    number = make_id_number(seq, birth=birth)
    c.ledger.register_person(number, f"测试{seq}", registered_on="2015-01-01")
    c.ledger.start_employment(number, employer_code, "2023-01-01")
    for year in (2023, 2024):
        c.ledger.declare_base(number, year, WAGE_FEN)
    return number


def period_income(periods: list[str], risk_class: int, policy: Any) -> dict[str, int]:
    """Employer + individual amounts per insurance of these months (the assessment of
    posting), summed by hand."""
    total = dict.fromkeys(INSURANCES, 0)
    for p in periods:
        for insurance, _base, employer, individual, _account in assess_month(
                policy, Period(int(p[:4]), int(p[5:])), WAGE_FEN, risk_class):
            total[insurance] += employer + individual
    return total


def add(*parts: dict[str, int]) -> dict[str, int]:
    return {i: sum(p[i] for p in parts) for i in INSURANCES}


def build_region(c: Container) -> dict[str, Any]:
    """Ten persons whose 2024 status is known by construction (comments), a case, and the
    2024 months posted per employer type (for the income)."""
    region = seed_region(c, persons=4, year=2023, years=(2024,))  # enterprise, risk class 3
    p1, p2, p3, p4 = region.id_numbers
    enterprise = region.employer_code
    public = make_credit_code(2)
    c.ledger.register_employer(public, "示例第一中学", "public_institution", PUBLIC_RISK,
                               industry="教育", registered_on="2015-01-01")
    p5, p6 = employ(c, 5, public), employ(c, 6, public)
    p7 = employ(c, 7, enterprise, birth=date(1964, 3, 1))  # retires at 60 in 2024
    p8 = employ(c, 9, enterprise, birth=date(1963, 5, 1))  # linked to the residents' scheme
    p9 = employ(c, 11, enterprise)  # dies in 2024
    plan = {p1: months("2023-01", "2024-12"),  # contributing
            p2: months("2023-01", "2023-06"),  # interrupted
            p3: months("2024-03", "2024-05"),  # contributing, new in 2024
            p4: ["2023-12", "2024-01"],  # 2024-01 reversed below: interrupted
            p5: months("2024-01", "2024-12"),  # public, contributing, new
            p6: months("2023-01", "2023-12"),  # public, contributing by back-payment
            p7: months("2023-01", "2024-05"),  # retired
            p8: months("2023-01", "2023-12"),  # linked: out of the pension, else interrupted
            p9: months("2023-01", "2023-03")}  # died: out
    employers = {p5: public, p6: public}
    posted = BulkPoster(c.store, c.policy, "test").post(
        [PostingRequest(n, employers.get(n, enterprise), p) for n, ps in plan.items()
         for p in ps])
    assert posted.summary()["posted"] == sum(len(ps) for ps in plan.values())
    c.ledger.reverse_contribution(p4, "2024-01", "基数申报有误")
    assessed = assess_backpay(c, p6, public, "2024-01", "2024-02", pay_by="2024-04-30",
                              reason="payroll 2024-01..02 found", assessed_by="reviewer1").result
    collect_backpay(c, assessed["backpay_id"], "2024-04-20", "SW-BP-1", assessed["total_fen"],
                    "tax")
    c.ledger.end_employment(p7, enterprise, "2024-06-30")
    award_pension(c, p7, "2024-06-30", deemed_months=180)
    pension_runs = [pay_pensions(c, p, today=PAID_ON) for p in months("2024-07", "2024-12")]
    c.ledger.end_employment(p8, enterprise, "2023-12-31")
    linked = link_to_residents_scheme(c, p8, "2024-09-01").result
    c.ledger.record_death(p9, "2024-08-01", "死亡医学证明")

    cases = CaseService(c)
    cases.change_authorisation("teller1", ["person_registration"], [], "admin", "grant")
    number = make_id_number(13)  # registered at the counter, never posted: no participant
    case_id = cases.open("person_registration", {"person_registration": {
        "id_number": number, "name": "柜台登记", "registered_on": "2024-03-04"}}, TELLER,
        opened_on=date(2024, 3, 4)).result["case_id"]
    cases.attach(case_id, "resident_id", io.BytesIO(PNG), "id.png", TELLER)
    cases.complete(case_id, TELLER, completed_on=date(2024, 3, 4))
    c.runner.catch_up()
    return {
        "enterprise_2024": period_income(
            plan[p1][12:] + plan[p3] + plan[p7][12:], ENTERPRISE_RISK, c.policy),
        "public_2024": period_income(plan[p5] + ["2024-01", "2024-02"], PUBLIC_RISK, c.policy),
        "all_months": add(
            period_income(plan[p1] + plan[p2] + plan[p3] + ["2023-12"] + plan[p7] + plan[p8]
                          + plan[p9], ENTERPRISE_RISK, c.policy),
            period_income(plan[p5] + plan[p6] + ["2024-01", "2024-02"], PUBLIC_RISK,
                          c.policy)),
        # the back-payment's late fee per insurance, and its interest to the pension fund
        "backpay_extra_fen": add(*(dict(dict.fromkeys(INSURANCES, 0), **dict(m["late_fees"]))
                                   for m in assessed["months"]),
                                 dict(dict.fromkeys(INSURANCES, 0),
                                      **{"110": assessed["interest_fen"]})),
        "linked_fen": linked["account_balance_fen"],
        "pension_paid_fen": sum(r.amount_fen for r in pension_runs),
        "pension_drawn_fen": sum(r.account_from_personal_fen for r in pension_runs),
        "late": p2,
    }


def participation(report: dict[str, Any], insurance: str) -> dict[str, Any]:
    return next(p for p in report["participation"] if p["insurance"] == insurance)


def counts(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["participants"], row["contributing"], row["interrupted"], row["retired"],
            row["new_contributors"])


def write_targets(path: Path, for_periods_310_fen: int) -> Path:
    path.write_text(f"""
[[target]]
year = {YEAR}
indicator = "participants"
insurance = "110"
persons = 7
source = "notice A"

[[target]]
year = {YEAR}
indicator = "contributors"
insurance = "110"
employer_type = "enterprise"
persons = 3
source = "notice A"

[[target]]
year = {YEAR}
indicator = "income_for_periods"
insurance = "310"
amount_fen = {for_periods_310_fen * 2}
source = "notice B"
""", encoding="utf-8")
    return path


def test_the_annual_report_counts_participants_and_income_as_by_hand(
        container: Container, tmp_path: Path) -> None:
    c = container
    expected = build_region(c)
    targets = write_targets(tmp_path / "targets.toml", add(
        expected["enterprise_2024"], expected["public_2024"])["310"])
    report = annual_report(c, YEAR, targets)
    assert report["position"] == c.store.max_position()

    # 110: contributing P1 P3 P5 P6; interrupted P2 P4; retired P7; P8 linked, P9 dead
    assert counts(participation(report, "110")) == (7, 4, 2, 1, 2)
    types = {t["employer_type"]: t for t in participation(report, "110")["by_employer_type"]}
    assert counts(types["enterprise"]) == (5, 2, 2, 1, 1)
    assert counts(types["public_institution"]) == (2, 2, 0, 0, 1)
    assert "unknown" not in types
    for insurance in INSURANCES[1:]:  # P8 interrupted there; the retiree not counted
        assert counts(participation(report, insurance)) == (7, 4, 3, None, 2)

    funds = {f["insurance"]: f for f in report["funds"]["insurances"]}
    for insurance in INSURANCES:
        by_type = {t["employer_type"]: t for t in funds[insurance]["by_employer_type"]}
        assert by_type["enterprise"]["income_for_periods_fen"] == (
            expected["enterprise_2024"][insurance])
        assert by_type["public_institution"]["income_for_periods_fen"] == (
            expected["public_2024"][insurance])
        assert funds[insurance]["income_for_periods_fen"] == (
            expected["enterprise_2024"][insurance] + expected["public_2024"][insurance])
        assert funds[insurance]["income_received_fen"] == 0  # all recorded after 2024
        if insurance != "110":  # only pension payments are recorded: the others not, not 0
            assert funds[insurance]["expenditure_fen"] is None
            assert funds[insurance]["benefit_recipients"] is None
    # The retiree's pension for 2024-07..12: for the year's months; paid on no day of 2024
    pension_funds = funds["110"]
    assert pension_funds["expenditure_for_periods_fen"] == expected["pension_paid_fen"] > 0
    assert (pension_funds["expenditure_fen"], pension_funds["benefit_recipients"]) == (0, 1)
    assert [m["expenditure_for_periods_fen"]["110"] for m in report["funds"]["monthly"]][6:] == (
        [expected["pension_paid_fen"] // 6] * 6)
    assert report["funds"]["monthly"][0]["expenditure_fen"]["310"] is None
    # paid in the year the runs were recorded: there by ledger day, as in fund_movements
    paid_year = annual_report(c, int(ledger_day(c.store.events_at([c.store.max_position()])[
        0].recorded_at)[:4]))
    paid_funds = paid_year["funds"]["insurances"][0]
    assert paid_funds["expenditure_fen"] == expected["pension_paid_fen"]
    assert paid_funds["expenditure_parts"]["account_from_personal_fen"] == (
        expected["pension_drawn_fen"])
    assert paid_funds["expenditure_for_periods_fen"] == 0
    [(benefit_fen,)] = c.views.query(
        "SELECT SUM(amount_fen) FROM fund_movements WHERE kind = 'benefit'")
    assert int(benefit_fen) == expected["pension_paid_fen"]

    retirement = report["retirement"]
    assert (retirement["new_retirees"], retirement["pension_awards"], retirement["deaths"]) == (
        1, 1, 1)
    assert retirement["new_retirees_by_employer_type"][0] == {
        "employer_type": "enterprise", "name_zh": "企业", "persons": 1}
    assert report["transfers"]["scheme_links"] == {"persons": 1,
                                                   "amount_fen": expected["linked_fen"]}
    assert expected["linked_fen"] == 12 * 80_000  # 8% of 10,000.00 for 2023's months
    assert report["backpayments"]["collected"]["count"] == 1  # collected on 2024-04-20
    cases = report["cases"]
    assert (cases["opened"], cases["completed"], cases["instant_completed"]) == (1, 1, 1)

    items = report["targets"]["items"]
    assert [(t["actual"], t["completion_percent"]) for t in items] == [
        (7, "100.00"), (2, "66.67"),
        (funds["310"]["income_for_periods_fen"], "50.00")]


def test_income_received_this_year_is_every_posting_and_ties_the_fund_movements(
        container: Container) -> None:
    """The events are recorded today: the received basis of this ledger year holds them all,
    net of the reversal, with the back-payment's late fee and interest."""
    c = container
    expected = build_region(c)
    today = ledger_day(c.store.events_at([c.store.max_position()])[0].recorded_at)
    report = annual_report(c, int(today[:4]))
    funds = {f["insurance"]: f for f in report["funds"]["insurances"]}
    assert report["funds"]["ties_fund_movements"]  # the link's journal is not income
    assert expected["backpay_extra_fen"]["110"] > 0
    january = period_income(["2024-01"], ENTERPRISE_RISK, c.policy)
    for insurance in INSURANCES:
        assert funds[insurance]["income_received_fen"] == (
            expected["all_months"][insurance] + expected["backpay_extra_fen"][insurance])
        assert funds[insurance]["reversal_received_fen"] == -january[insurance]
    assert sum(funds[i]["income_received_fen"] for i in INSURANCES) == sum(
        t["income_received_fen"] for i in INSURANCES for t in funds[i]["by_employer_type"])
    assert report["backpayments"]["assessed"]["count"] == 1  # assessed (recorded) today


def test_the_report_is_the_same_after_a_rebuild_and_moves_with_a_late_posting(
        container: Container) -> None:
    c = container
    expected = build_region(c)
    first = annual_report(c, YEAR)
    c.runner.rebuild()
    assert annual_report(c, YEAR) == first  # same position, same figures, same hash

    # a month of 2024 posted late: the 2024 figures change, and the position says when
    BulkPoster(c.store, c.policy, "late").post([PostingRequest(
        expected["late"], make_credit_code(1), "2024-07")])
    c.runner.catch_up()
    later = annual_report(c, YEAR)
    assert later["position"] > first["position"]
    assert counts(participation(later, "110"))[1:3] == (5, 1)
    assert later["content_sha256"] != first["content_sha256"]


def test_the_html_has_its_charts_and_the_xlsx_its_figures(container: Container,
                                                          tmp_path: Path) -> None:
    c = container
    expected = build_region(c)
    targets = write_targets(tmp_path / "targets.toml", add(
        expected["enterprise_2024"], expected["public_2024"])["310"])
    report = annual_report(c, YEAR, targets)

    html = render_html(report)
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    # participants, income, two monthly income lines, the pension payments, targets
    assert len(svgs) == 6
    bar_counts = [svg.count('class="bar"') for svg in svgs]
    # participants: 5 insurances × (contributing, interrupted) + the pension's retirees
    assert bar_counts == [11, 10, 0, 0, 0, 3]
    assert [svg.count('class="line"') for svg in svgs[2:5]] == [5, 5, 2]
    assert "享受待遇1人" in html
    assert "参加企业职工基本养老保险7人（在职6人，离退休1人）" in html
    assert "企业参保在职4人（申报缴费2人，中断缴费2人），离退休1人" in html
    assert "完成参保人数任务7人的100.00%" in html
    assert "无数据" in html and report["content_sha256"] in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html and "<script" not in html

    path = tmp_path / "report.xlsx"
    write_xlsx(report, path)
    book = load_workbook(path)
    rows = {(r[0], r[2]): r for r in book["参保情况"].iter_rows(min_row=2, values_only=True)}
    assert rows[("110", "合计")][3:8] == (7, 6, 4, 2, 1)
    assert rows[("110", "企业")][3:8] == (5, 4, 2, 2, 1)
    assert rows[("310", "合计")][7] == "无数据"
    funds = {(r[0], r[2]): r for r in book["基金收支"].iter_rows(min_row=2, values_only=True)
             if r[0]}
    for_periods = report["funds"]["insurances"][0]["income_for_periods_fen"]
    assert for_periods > 0
    assert Decimal(str(funds[("110", "合计")][7])) * 100 == for_periods
    assert funds[("110", "合计")][3] == 0  # pension payments recorded: none paid in 2024
    assert funds[("310", "合计")][3] == "无数据"  # not recorded, not 0
    payments = {r[0]: r for r in book["养老金发放"].iter_rows(values_only=True) if r and r[0]}
    assert Decimal(str(payments["本年所属期待遇"][1])) * 100 == report["funds"]["insurances"][
        0]["expenditure_for_periods_fen"]
    assert payments["享受待遇人数"][2] == 1
    targets_rows = list(book["任务完成"].iter_rows(min_row=2, values_only=True))
    assert [Decimal(str(r[7])) for r in targets_rows] == [Decimal("100"), Decimal("66.67"),
                                                         Decimal("50")]
    about = {r[0]: r[1] for r in book["说明"].iter_rows(values_only=True) if r and r[0]}
    assert about["日志位置"] == report["position"]


def test_a_bad_targets_file_is_refused_naming_the_entry(container: Container,
                                                        tmp_path: Path) -> None:
    path = tmp_path / "targets.toml"
    path.write_text('[[target]]\nyear = 2024\nindicator = "participants"\ninsurance = "110"\n'
                    'persons = -3\nsource = "x"\n', encoding="utf-8")
    with pytest.raises(ValidationFailed) as info:
        annual_report(container, YEAR, path)
    assert info.value.code == "targets_invalid"
    assert info.value.message == f"{path} target[0]: `persons` must be more than 0, got -3"
