"""The annual report's fund expenditure: pension payments on both bases (paid on a ledger day of
the year, and paid for the year's months), in parts, with the persons paid; the other
insurances' expenditure is not recorded — None, never 0 — and named among what is not."""

from __future__ import annotations

from domain.annual_report import PERIOD, RECEIVED, ExpenditureRow, build_annual_report
from tests.unit.test_annual_report_builder import inputs

PAYMENTS = (
    # paid in January 2024 for December 2023 and January 2024; in March for February
    ExpenditureRow(RECEIVED, "2024-01", "110", 600_000, 500_000, 40_000, 50_000, 10_000, 2),
    ExpenditureRow(RECEIVED, "2024-03", "110", 300_000, 250_000, 20_000, 0, 30_000, 1),
    ExpenditureRow(PERIOD, "2024-01", "110", 300_000, 250_000, 20_000, 25_000, 5_000, 1),
    ExpenditureRow(PERIOD, "2024-02", "110", 300_000, 250_000, 20_000, 0, 30_000, 1),
)


def test_pension_expenditure_on_both_bases_in_parts_with_its_recipients() -> None:
    report = build_annual_report(inputs(expenditure=PAYMENTS, benefit_recipients={"110": 1}))
    pension, *others = report["funds"]["insurances"]
    assert pension["expenditure_fen"] == 900_000  # paid in 2024, whichever month it was for
    assert pension["expenditure_for_periods_fen"] == 600_000  # for 2024's months
    assert pension["expenditure_parts"] == {
        "basic_fen": 750_000, "transitional_fen": 60_000, "account_from_personal_fen": 50_000,
        "account_from_pool_fen": 40_000, "adjustment_fen": 0}
    assert pension["benefit_recipients"] == 1
    for other in others:
        assert (other["expenditure_fen"], other["expenditure_for_periods_fen"],
                other["expenditure_parts"], other["benefit_recipients"]) == (None,) * 4
    monthly = report["funds"]["monthly"]
    assert [m["expenditure_fen"]["110"] for m in monthly[:3]] == [600_000, 0, 300_000]
    assert [m["expenditure_for_periods_fen"]["110"] for m in monthly[:3]] == [
        300_000, 300_000, 0]
    not_recorded = {n["key"]: n for n in report["not_recorded"]}
    assert "失业" in not_recorded["expenditure"]["name_zh"]
    assert "养老" not in not_recorded["expenditure"]["name_zh"]
