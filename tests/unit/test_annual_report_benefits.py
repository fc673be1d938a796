"""The annual report's expenditure of the insurances whose benefits other systems pay: figures
for each insurance with a payment of the year on record (paid in the year by its own payment
date, paid for the year's months, persons paid), None for the others, which alone are named
among what is not recorded."""

from __future__ import annotations

from domain.annual_report import PERIOD, RECEIVED, ExpenditureRow, build_annual_report
from tests.unit.test_annual_report_builder import inputs


def benefit(basis: str, month: str, insurance: str, amount_fen: int, payments: int
            ) -> ExpenditureRow:
    return ExpenditureRow(basis, month, insurance, amount_fen, 0, 0, 0, 0, payments)


ROWS = (
    benefit(RECEIVED, "2024-01", "210", 370_000, 2),  # paid in January: Dec 2023 and Jan 2024
    benefit(RECEIVED, "2024-02", "210", 185_000, 1),
    benefit(PERIOD, "2024-01", "210", 185_000, 1),
    benefit(PERIOD, "2024-02", "210", 185_000, 1),
    benefit(PERIOD, "2024-12", "510", 900_000, 1),  # paid in January of the next year
)


def test_each_insurance_with_payments_of_the_year_has_figures_the_others_none() -> None:
    report = build_annual_report(inputs(expenditure=ROWS,
                                        benefit_recipients={"210": 1, "510": 1}))
    funds = {f["insurance"]: f for f in report["funds"]["insurances"]}
    unemployment, maternity = funds["210"], funds["510"]
    assert (unemployment["expenditure_fen"], unemployment["expenditure_for_periods_fen"],
            unemployment["benefit_recipients"]) == (555_000, 370_000, 1)
    assert unemployment["expenditure_parts"] is None  # the parts are the pension's
    # recorded for a month of the year, though paid in the next: 0 paid in it, never None
    assert (maternity["expenditure_fen"], maternity["expenditure_for_periods_fen"],
            maternity["benefit_recipients"]) == (0, 900_000, 1)
    for code in ("310", "410"):
        assert (funds[code]["expenditure_fen"], funds[code]["benefit_recipients"]) == (None,
                                                                                        None)
    assert funds["110"]["expenditure_fen"] == 0  # the ledger pays pensions: always recorded
    monthly = report["funds"]["monthly"]
    assert [m["expenditure_fen"]["210"] for m in monthly[:3]] == [370_000, 185_000, 0]
    assert monthly[11]["expenditure_for_periods_fen"]["510"] == 900_000
    assert monthly[0]["expenditure_fen"]["310"] is None
    named = {n["key"]: n["name_zh"] for n in report["not_recorded"]}
    assert named["expenditure"] == "医疗、工伤保险基金支出"
    assert named["benefit_recipients"] == "医疗、工伤保险享受待遇人数"


def test_with_every_insurance_recorded_nothing_of_the_benefits_is_named_not_recorded() -> None:
    rows = [benefit(RECEIVED, "2024-05", code, 100, 1) for code in ("210", "310", "410", "510")]
    report = build_annual_report(inputs(expenditure=rows))
    keys = {n["key"] for n in report["not_recorded"]}
    assert not keys & {"expenditure", "benefit_recipients"}
    assert "residents_participants" in keys  # the residents' schemes stay not recorded
    assert all(f["expenditure_fen"] is not None for f in report["funds"]["insurances"])

