"""The annual report's builder (domain/annual_report.py) on hand-made rows with hand-counted
figures: the status of each group at the year's end, the counts per insurance and employer
type, income on both bases and its check, completion rates rounded once, back-payments, cases,
the figures not recorded, and the content hash."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from domain.annual_report import (
    CONTRIBUTING,
    INTERRUPTED,
    RETIRED,
    AnnualReportInputs,
    BackPaymentRow,
    CaseRow,
    IncomeRow,
    MilestoneRow,
    ParticipationGroup,
    TransferRow,
    build_annual_report,
    content_sha256,
    percent_2dp,
    status_at_year_end,
)
from domain.annual_targets import Target

ALL = frozenset({"110", "210", "310", "410", "510"})
NONE: frozenset[str] = frozenset()
INSURANCES = {"110": "企业职工基本养老保险", "210": "失业保险", "310": "职工基本医疗保险",
              "410": "工伤保险", "510": "生育保险"}


def group(employer_type: str, in_year: frozenset[str], before: frozenset[str], persons: int,
          *, retired: bool = False, died: bool = False, linked: bool = False
          ) -> ParticipationGroup:
    return ParticipationGroup(employer_type, in_year, before, retired, died, linked, persons)


GROUPS = (
    group("enterprise", ALL, ALL, 3),  # contributing, not new
    group("enterprise", frozenset({"110", "310"}), NONE, 2),  # new in 110 and 310
    group("public_institution", NONE, ALL, 4),  # interrupted everywhere
    group("public_institution", frozenset({"110"}), ALL, 1, retired=True),  # retired mid-year
    group("enterprise", ALL, ALL, 1, died=True),  # gone
    group("enterprise", NONE, frozenset({"110", "310"}), 1, linked=True),  # pension moved away
    group("unknown", frozenset({"110"}), NONE, 1),  # employer not registered
)


def inputs(**changes: object) -> AnnualReportInputs:
    base = AnnualReportInputs(
        region_code="440781", year=2024, position=1000, as_of="2025-01-02T01:00:00+00:00",
        as_of_day="2025-01-02", insurances=INSURANCES, participation=GROUPS,
        milestones=(
            MilestoneRow("retired", "public_institution", 1, 0),
            MilestoneRow("pension_awarded", "public_institution", 1, 350_000),
            MilestoneRow("pension_awarded", "enterprise", 2, 700_001),
            MilestoneRow("died", "enterprise", 1, 0),
            MilestoneRow("linked_to_residents", "enterprise", 1, 1_234_500),
        ),
        income=(
            IncomeRow("received", "2024-01", "110", "enterprise", "contribution", 100_000),
            IncomeRow("received", "2024-02", "110", "enterprise", "reversal", -30_000),
            IncomeRow("received", "2024-02", "110", "public_institution", "contribution",
                      50_000),
            IncomeRow("period", "2024-01", "110", "enterprise", "contribution", 90_000),
            IncomeRow("period", "2024-12", "310", "public_institution", "contribution", 7_000),
        ),
        fund_movements_fen={"110": 120_000},
        year_end_balances_fen={"110": 5_000_000, "310": 7_000},
        residents_accounts_fen=1_234_500,
        backpayments=(
            BackPaymentRow("p1", "collected", "2023-12-20", "2024-01-10", "2024-01-10", 3,
                           30_000, 1_000, 500, 31_500),
            BackPaymentRow("p1", "collected", "2024-03-01", "2024-03-05", "2024-03-05", 2,
                           20_000, 0, 0, 20_000),
            BackPaymentRow("p2", "cancelled", "2024-05-01", "2024-06-01", None, 1, 10_000, 0, 0,
                           10_000),
            BackPaymentRow("p3", "assessed", "2024-11-01", None, None, 1, 10_000, 0, 0, 10_000),
            BackPaymentRow("p4", "collected", "2024-12-01", "2025-01-01", "2025-01-01", 1, 9, 0,
                           0, 9),
        ),
        cases=(
            CaseRow("a", "事项甲", "completed", "2024-03-01", "2024-03-01", "2024-03-01", 5),
            CaseRow("a", "事项甲", "completed", "2024-03-01", "2024-03-05", "2024-03-08", 4),
            CaseRow("b", "事项乙", "open", "2024-12-01", "2024-12-20", None, None),
            CaseRow("b", "事项乙", "open", "2024-12-30", "2025-01-10", None, None),
            CaseRow("b", "事项乙", "rejected", "2024-06-01", "2024-06-10", None, None),
            CaseRow("c", "事项丙", "completed", "2023-12-31", "2023-12-31", "2023-12-31", 1),
        ),
        targets=(
            Target(2024, "participants", "110", None, 10, "notice 1"),
            Target(2024, "contributors", "110", "enterprise", 3, "notice 1"),
            Target(2024, "income", "110", None, 800_000, "notice 2"),
            Target(2024, "income_for_periods", "310", "public_institution", 21_000, "notice 2"),
            Target(2023, "participants", "110", None, 1, "last year's: not this report's"),
        ),
        targets_file="targets.toml",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def by_insurance(report: dict[str, Any], insurance: str) -> dict[str, Any]:
    return next(r for r in report["participation"] if r["insurance"] == insurance)


def test_the_status_at_the_years_end_follows_death_link_retirement_then_months() -> None:
    assert status_at_year_end(GROUPS[0], "110") == CONTRIBUTING
    assert status_at_year_end(GROUPS[2], "210") == INTERRUPTED
    assert status_at_year_end(GROUPS[3], "110") == RETIRED  # retired wins over the months
    assert status_at_year_end(GROUPS[3], "310") is None  # retirees' medical: not recorded
    assert status_at_year_end(GROUPS[4], "110") is None  # died
    assert status_at_year_end(GROUPS[5], "110") is None  # linked to the residents' scheme
    assert status_at_year_end(GROUPS[5], "310") == INTERRUPTED  # the link moves pension only
    assert status_at_year_end(GROUPS[1], "210") is None  # never posted for 210


def test_participants_per_insurance_and_employer_type_are_the_hand_counts() -> None:
    report = build_annual_report(inputs())
    pension = by_insurance(report, "110")
    # contributing 3 + 2 + 1 (unknown); interrupted 4; retired 1; new 2 + 1
    assert {k: pension[k] for k in ("participants", "in_work", "contributing", "interrupted",
                                    "retired", "new_contributors")} == {
        "participants": 11, "in_work": 10, "contributing": 6, "interrupted": 4, "retired": 1,
        "new_contributors": 3}
    types = {t["employer_type"]: t for t in pension["by_employer_type"]}
    assert list(types) == ["enterprise", "public_institution", "unknown"]
    assert (types["enterprise"]["contributing"], types["enterprise"]["interrupted"],
            types["enterprise"]["retired"]) == (5, 0, 0)
    assert (types["public_institution"]["participants"], types["public_institution"]["retired"]
            ) == (5, 1)
    assert types["unknown"]["participants"] == 1
    medical = by_insurance(report, "310")
    assert (medical["contributing"], medical["interrupted"], medical["retired"],
            medical["participants"]) == (5, 5, None, 10)
    unemployment = by_insurance(report, "210")
    assert (unemployment["contributing"], unemployment["interrupted"],
            unemployment["participants"], unemployment["new_contributors"]) == (3, 4, 7, 0)
    # an unknown employer type is listed only where there is one
    without = build_annual_report(inputs(participation=GROUPS[:-1]))
    assert [t["employer_type"] for t in by_insurance(without, "110")["by_employer_type"]] == [
        "enterprise", "public_institution"]


def test_income_on_both_bases_with_its_check_against_fund_movements() -> None:
    report = build_annual_report(inputs())
    funds = report["funds"]
    pension = funds["insurances"][0]
    assert (pension["income_received_fen"], pension["contribution_received_fen"],
            pension["reversal_received_fen"], pension["income_for_periods_fen"]) == (
        120_000, 150_000, -30_000, 90_000)
    # pension payments are recorded (none in these inputs); the other insurances' are not
    assert (pension["expenditure_fen"], pension["benefit_recipients"]) == (0, 0)
    assert funds["insurances"][1]["expenditure_fen"] is None  # not recorded, not 0
    assert pension["year_end_balance_fen"] == 5_000_000
    assert {t["employer_type"]: t["income_received_fen"]
            for t in pension["by_employer_type"]} == {"enterprise": 70_000,
                                                      "public_institution": 50_000}
    assert funds["ties_fund_movements"] and funds["differences"] == []
    assert funds["monthly"][1] == {
        "month": "2024-02", "received_fen": {"110": 20_000, "210": 0, "310": 0, "410": 0,
                                             "510": 0},
        "for_periods_fen": {"110": 0, "210": 0, "310": 0, "410": 0, "510": 0},
        # benefits paid: pension's recorded (none here), the others' not (None, never 0)
        "expenditure_fen": {"110": 0, "210": None, "310": None, "410": None, "510": None},
        "expenditure_for_periods_fen": {"110": 0, "210": None, "310": None, "410": None,
                                        "510": None}}
    assert funds["monthly"][11]["for_periods_fen"]["310"] == 7_000

    differs = build_annual_report(inputs(fund_movements_fen={"110": 120_001, "210": 5}))
    assert not differs["funds"]["ties_fund_movements"]
    assert differs["funds"]["differences"] == [
        {"insurance": "110", "income_received_fen": 120_000, "fund_movements_fen": 120_001},
        {"insurance": "210", "income_received_fen": 0, "fund_movements_fen": 5}]


def test_completion_rates_are_actual_over_target_rounded_once_half_up() -> None:
    items = build_annual_report(inputs())["targets"]["items"]
    assert [(t["indicator"], t["employer_type"], t["actual"], t["target"],
             t["completion_percent"]) for t in items] == [
        ("participants", None, 11, 10, "110.00"),
        ("contributors", "enterprise", 5, 3, "166.67"),
        ("income", None, 120_000, 800_000, "15.00"),
        ("income_for_periods", "public_institution", 7_000, 21_000, "33.33"),
    ]  # the 2023 target is not this year's
    assert percent_2dp(1, 800) == Decimal("0.13")  # half up, not half even
    assert percent_2dp(323_444, 307_000) == Decimal("105.36")
    assert percent_2dp(0, 5) == Decimal("0.00")


@given(st.integers(min_value=0, max_value=10**15), st.integers(min_value=1, max_value=10**15))
def test_a_completion_rate_is_within_half_a_hundredth_of_the_exact_ratio(
        actual: int, target: int) -> None:
    rate = percent_2dp(actual, target)
    assert rate == rate.quantize(Decimal("0.01"))
    assert abs(rate - Decimal(actual) * 100 / Decimal(target)) <= Decimal("0.005")


def test_retirements_awards_links_and_deaths_of_the_year() -> None:
    report = build_annual_report(inputs())
    retirement = report["retirement"]
    assert retirement["new_retirees"] == 1
    assert retirement["new_retirees_by_employer_type"] == [
        {"employer_type": "enterprise", "name_zh": "企业", "persons": 0},
        {"employer_type": "public_institution", "name_zh": "机关事业单位", "persons": 1}]
    assert (retirement["pension_awards"], retirement["pension_awards_monthly_fen"],
            retirement["average_monthly_pension_fen"], retirement["deaths"]) == (
        3, 1_050_001, 350_000, 1)  # 1,050,001 / 3 = 350,000.33 → 350,000
    assert report["transfers"] == {"scheme_links": {"persons": 1, "amount_fen": 1_234_500},
                                   "residents_accounts_year_end_fen": 1_234_500,
                                   "cross_region": {
                                       "accepted_in": 0, "transfers_in": NOTHING_MOVED,
                                       "transfers_out": NOTHING_MOVED, "net_fen": 0,
                                       "in_transit_at_year_end": 0,
                                       "overdue_at_year_end": 0, "by_region": []}}
    empty = build_annual_report(inputs(milestones=()))["retirement"]
    assert empty["average_monthly_pension_fen"] is None


NOTHING_MOVED = {"count": 0, "persons": 0, "months": 0, "account_fen": 0, "pooled_fen": 0,
                 "total_fen": 0}
HANGZHOU, BEIJING = "330106", "110101"
TRANSFERS = (  # deliberately not in region order
    # in from Hangzhou, accepted and posted in 2024 (DOMAIN.md §5.3's 175 months)
    TransferRow("in", "posted", "p1", HANGZHOU, "杭州市西湖区社会保险事业管理中心",
                "2024-03-10", "2024-03-31", "2024-04-08", 175, 13_933_050, 14_580_000),
    # out to Beijing, the letter received and the funds remitted in 2024
    TransferRow("out", "remitted", "p2", BEIJING, "北京市东城区社会保险基金管理中心",
                "2024-12-02", None, "2024-12-16", 12, 960_000, 1_440_000),
    # in from Beijing, posted in 2024
    TransferRow("in", "posted", "p3", BEIJING, "北京市东城区社会保险基金管理中心",
                "2024-05-06", "2024-05-27", "2024-06-03", 24, 500_000, 600_000),
    # in from Hangzhou, accepted in December, the funds due 2024-12-20 and not there by the
    # year's end: in transit and overdue
    TransferRow("in", "accepted", "p4", HANGZHOU, "杭州市西湖区社会保险事业管理中心",
                "2024-12-01", "2024-12-20", None, 0, 0, 0),
    # in from Beijing, accepted in 2024, posted in 2025: in transit (not yet due), not counted
    TransferRow("in", "posted", "p5", BEIJING, "北京市东城区社会保险基金管理中心",
                "2024-12-20", "2025-01-13", "2025-01-05", 36, 7_000_000, 8_000_000),
    # accepted and posted in 2023: another year's
    TransferRow("in", "posted", "p6", HANGZHOU, "杭州市西湖区社会保险事业管理中心",
                "2023-06-01", "2023-06-21", "2023-06-25", 10, 100_000, 120_000),
)


def test_cross_region_transfers_of_the_year_in_out_in_transit_and_by_region() -> None:
    cross = build_annual_report(inputs(transfers=TRANSFERS))["transfers"]["cross_region"]
    assert cross["accepted_in"] == 4  # p1, p3, p4, p5: accepted in 2024
    assert cross["transfers_in"] == {
        "count": 2, "persons": 2, "months": 175 + 24, "account_fen": 13_933_050 + 500_000,
        "pooled_fen": 14_580_000 + 600_000, "total_fen": 28_513_050 + 1_100_000}
    assert cross["transfers_out"] == {"count": 1, "persons": 1, "months": 12,
                                      "account_fen": 960_000, "pooled_fen": 1_440_000,
                                      "total_fen": 2_400_000}
    assert cross["net_fen"] == 28_513_050 + 1_100_000 - 2_400_000
    # p4 (due 2024-12-20, overdue) and p5 (due 2025-01-13) were waiting on 31 December
    assert (cross["in_transit_at_year_end"], cross["overdue_at_year_end"]) == (2, 1)
    assert cross["by_region"] == [
        {"region_code": BEIJING, "name_zh": "北京市东城区社会保险基金管理中心",
         "in_count": 1, "in_fen": 1_100_000, "out_count": 1, "out_fen": 2_400_000},
        {"region_code": HANGZHOU, "name_zh": "杭州市西湖区社会保险事业管理中心",
         "in_count": 1, "in_fen": 28_513_050, "out_count": 0, "out_fen": 0}]
    # as known on 2024-12-10: p4 waits, not yet past its due day; p5 not yet accepted
    early = build_annual_report(inputs(transfers=TRANSFERS, as_of_day="2024-12-10"))
    assert (early["transfers"]["cross_region"]["in_transit_at_year_end"],
            early["transfers"]["cross_region"]["overdue_at_year_end"]) == (1, 0)
    # the 2025 report counts p5's posting, and p4 is still waiting
    later = build_annual_report(inputs(transfers=TRANSFERS, year=2025,
                                       as_of_day="2026-01-02"))["transfers"]["cross_region"]
    assert (later["accepted_in"], later["transfers_in"]["count"],
            later["transfers_in"]["total_fen"], later["in_transit_at_year_end"],
            later["overdue_at_year_end"]) == (0, 1, 15_000_000, 1, 1)


TRANSFER_ROWS = st.builds(
    TransferRow, direction=st.sampled_from(["in", "out"]), status=st.just("done"),
    person_id=st.sampled_from(["p1", "p2", "p3"]),
    other_region_code=st.sampled_from([HANGZHOU, BEIJING, "440106"]),
    other_region_name=st.just("某地社会保险事业管理中心"),
    opened_on=st.sampled_from(["2023-12-01", "2024-02-01", "2024-11-20"]),
    due_on=st.none(), completed_on=st.sampled_from([None, "2023-12-20", "2024-03-01",
                                                    "2024-12-31", "2025-01-02"]),
    contribution_months=st.integers(0, 600), account_fen=st.integers(0, 10**9),
    pooled_fen=st.integers(0, 10**9))


@given(st.lists(TRANSFER_ROWS, max_size=12))
def test_the_regions_add_up_to_the_transfers_in_and_out(rows: list[TransferRow]) -> None:
    cross = build_annual_report(inputs(transfers=tuple(rows)))["transfers"]["cross_region"]
    regions = cross["by_region"]
    assert [r["region_code"] for r in regions] == sorted({r["region_code"] for r in regions})
    for direction in ("in", "out"):
        moved = cross[f"transfers_{direction}"]
        assert sum(r[f"{direction}_count"] for r in regions) == moved["count"]
        assert sum(r[f"{direction}_fen"] for r in regions) == moved["total_fen"]
        assert moved["total_fen"] == moved["account_fen"] + moved["pooled_fen"]
        assert moved["persons"] <= moved["count"]
    assert cross["net_fen"] == cross["transfers_in"]["total_fen"] - cross["transfers_out"][
        "total_fen"]


def test_backpayments_of_the_year_by_assessment_collection_and_cancellation() -> None:
    b = build_annual_report(inputs())["backpayments"]
    assert b["assessed"] == {"count": 4, "months": 2 + 1 + 1 + 1,
                             "total_fen": 20_000 + 10_000 + 10_000 + 9}
    assert b["collected"] == {"count": 2, "persons": 1, "months": 5, "principal_fen": 50_000,
                              "late_fee_fen": 1_000, "interest_fen": 500, "total_fen": 51_500}
    assert b["cancelled"] == 1
    # at 2024-12-31: the one still assessed, and the one collected in 2025
    assert b["open_at_year_end"] == 2


def test_cases_opened_in_the_year_with_instant_and_overdue_counts() -> None:
    cases = build_annual_report(inputs())["cases"]
    assert {k: cases[k] for k in ("opened", "completed", "rejected", "open",
                                  "instant_completed", "overdue", "ratings")} == {
        "opened": 5, "completed": 2, "rejected": 1, "open": 2, "instant_completed": 1,
        "overdue": 2, "ratings": 2}  # overdue: completed late; open past 2024-12-20
    assert (cases["instant_completion_percent"], cases["average_rating"]) == ("50.00", "4.50")
    assert [i["code"] for i in cases["items"]] == ["a", "b"]
    # seen at a position recorded before the deadline passed, the open case is not overdue
    early = build_annual_report(inputs(as_of_day="2024-12-15"))["cases"]
    assert early["overdue"] == 1


def test_what_the_ledger_does_not_record_is_named_never_zero() -> None:
    report = build_annual_report(inputs())
    keys = {n["key"] for n in report["not_recorded"]}
    assert {"expenditure", "benefit_recipients", "residents_participants"} <= keys
    assert "certification" not in keys  # recorded: report["certification"]
    # recorded: report["transfers"]["cross_region"], 0 when nothing moved
    assert "cross_region_transfers" not in keys


def test_the_content_hash_covers_every_figure_and_is_stable() -> None:
    report = build_annual_report(inputs())
    assert report["content_sha256"] == content_sha256(report)
    assert build_annual_report(inputs()) == report
    other = build_annual_report(inputs(year_end_balances_fen={"110": 5_000_001}))
    assert other["content_sha256"] != report["content_sha256"]
