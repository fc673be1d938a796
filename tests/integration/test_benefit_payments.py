"""Benefit payments of 210/310/410/510 imported from payment-detail files, on SQLite and
PostgreSQL: an import shows in the read model, the fund balances, the fund movements (kind
`benefit` under each insurance) and the annual report (paid in the year by the payment's own
date, for the year's months, persons paid); a faulty line refuses the whole file and nothing is
written; the same file again, or lines of it in another file, change nothing; a voucher on
record with other details is a conflict; a rebuild equals the incremental read models."""

from __future__ import annotations

import csv
import random
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import Conflict
from domain.registration import Person
from domain.verification_code import parse_code
from infra.annual_report_queries import annual_report
from infra.benefit_payment_import import BenefitFileRefused, import_benefit_payments
from infra.bootstrap import Container
from infra.collection_file import CollectionFileError
from infra.statement_queries import StatementQueries
from tests.helpers import journal_sums, make_id_number, read_model_rows, seed_region

TODAY = date(2025, 3, 31)
HEADER = ["支付日期", "险种代码", "待遇类别", "身份证号", "所属期", "金额", "凭证号"]


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def year_rows(numbers: tuple[str, ...]) -> list[list[str]]:
    """Unemployment benefit of person 0 for December 2023 (paid in January 2024) and January to
    March 2024; maternity allowance of person 1 for December 2024, paid in January 2025; a
    work-injury medical bill of person 2."""
    a, b, c = numbers
    return [
        ["2024-01-10", "210", "失业保险金", a, "2023-12", "1850.00", "SY-2401-001"],
        ["2024-01-10", "210", "失业保险金", a, "2024-01", "1850.00", "SY-2401-002"],
        ["2024-02-10", "210", "unemployment_benefit", a, "2024-02", "1850.00", "SY-2402-001"],
        ["20240310", "210", "医疗补助金", a, "202403", "120.50", "SY-2403-001"],
        ["2025-01-08", "510", "生育津贴", b, "2024-12", "9000.00", "SYJ-0001"],
        ["2024-06-30", "410", "工伤医疗费", c, "2024-06", "3456.78", "GS-0001"],
    ]


def test_an_import_shows_in_the_read_models_and_the_annual_report(
        container: Container, tmp_path: Path) -> None:
    region = seed_region(container, persons=3)
    path = write(tmp_path / "benefits.csv", year_rows(region.id_numbers))
    summary = import_benefit_payments(container, path, today=TODAY)
    assert (summary.lines, summary.paid, summary.already_paid) == (6, 6, 0)
    assert summary.amount_fen == 3 * 185_000 + 12_050 + 900_000 + 345_678
    assert summary.by_insurance == {"210": {"payments": 4, "amount_fen": 567_050},
                                    "510": {"payments": 1, "amount_fen": 900_000},
                                    "410": {"payments": 1, "amount_fen": 345_678}}
    assert (summary.first_paid_on, summary.last_paid_on) == ("2024-01-10", "2025-01-08")
    container.runner.catch_up()

    rows = container.views.query(
        "SELECT person_id, insurance, kind, period, paid_on, amount_fen, line_no"
        " FROM benefit_payments ORDER BY line_no")
    assert [tuple(r) for r in rows][3] == (region.person_ids[0], "210",
                                           "unemployment_medical_subsidy", "2024-03",
                                           "2024-03-10", 12_050, 5)
    balances = {a: (int(d), int(c)) for a, d, c in container.views.query(
        "SELECT account, debit_fen, credit_fen FROM fund_balances")}
    assert balances["fund:210"][0] == 567_050 and balances["fund:510"][0] == 900_000
    assert balances["bank:payout"] == (0, summary.amount_fen)
    assert journal_sums(container)["bank:payout"] == (0, summary.amount_fen)
    movements = {str(i): int(fen) for i, fen in container.views.query(
        "SELECT insurance, SUM(amount_fen) FROM fund_movements WHERE kind = 'benefit'"
        " GROUP BY insurance")}
    assert movements == {"210": 567_050, "410": 345_678, "510": 900_000}

    report = annual_report(container, 2024)
    funds = {f["insurance"]: f for f in report["funds"]["insurances"]}
    # by paid_on, the payment's own date, not the day the file was imported (today)
    assert funds["210"]["expenditure_fen"] == 567_050
    assert funds["210"]["expenditure_for_periods_fen"] == 567_050 - 185_000  # not Dec 2023
    assert funds["210"]["benefit_recipients"] == 1
    assert funds["510"]["expenditure_fen"] == 0  # paid in 2025
    assert funds["510"]["expenditure_for_periods_fen"] == 900_000
    assert funds["410"]["expenditure_fen"] == 345_678
    assert funds["310"]["expenditure_fen"] is None  # nothing of 2024 recorded
    assert [m["expenditure_fen"]["210"] for m in report["funds"]["monthly"][:4]] == [
        370_000, 185_000, 12_050, 0]
    named = {n["key"]: n["name_zh"] for n in report["not_recorded"]}
    assert named["expenditure"] == "医疗保险基金支出"
    assert report["funds"]["ties_fund_movements"]  # the income check ignores payments
    next_year = {f["insurance"]: f for f in annual_report(container, 2025)["funds"]["insurances"]}
    assert next_year["510"]["expenditure_fen"] == 900_000
    assert next_year["510"]["benefit_recipients"] == 0  # paid in 2025 for a month of 2024


def test_the_payments_are_on_the_persons_statement_as_known_at_its_position(
        container: Container, tmp_path: Path) -> None:
    """Format 4 of the personal rights statement: the year's benefits of the other insurances
    (by the month paid for); a statement issued before a later file still verifies."""
    region = seed_region(container, persons=3)
    rows = year_rows(region.id_numbers)
    import_benefit_payments(container, write(tmp_path / "first.csv", rows[:2]), today=TODAY)
    container.runner.catch_up()
    queries = StatementQueries(container.views, container.store, container.policy,
                               container.settings.region_code)
    person = region.person_ids[0]
    before = queries.issue(person, 2024, container.runner.position())
    assert before.statement.other_benefits is not None
    assert [(o.kind, o.payments, o.total_fen) for o in before.statement.other_benefits] == [
        ("unemployment_benefit", 1, 185_000)]  # 2024-01; December 2023 is the year before
    import_benefit_payments(container, write(tmp_path / "rest.csv", rows[2:]), today=TODAY)
    container.runner.catch_up()
    after = queries.issue(person, 2024, container.runner.position())
    assert after.statement.other_benefits is not None
    assert [(o.insurance, o.kind, o.payments, o.months, o.first_period, o.last_period,
             o.total_fen) for o in after.statement.other_benefits] == [
        ("210", "unemployment_benefit", 2, 2, "2024-01", "2024-02", 370_000),
        ("210", "unemployment_medical_subsidy", 1, 1, "2024-03", "2024-03", 12_050)]
    assert all(o.trace.positions and o.trace.first_day for o in after.statement.other_benefits)
    maternity = queries.issue(region.person_ids[1], 2024, container.runner.position())
    assert maternity.statement.other_benefits is not None
    assert [o.total_fen for o in maternity.statement.other_benefits] == [900_000]
    for issued in (before, after):
        code = parse_code(issued.verification_code)
        assert code.format_version == 4
        verified = queries.verify(issued.verification_code, container.runner.position())
        assert verified.valid and verified.issued is not None
        assert verified.issued.content_hash == issued.content_hash


def test_a_faulty_line_refuses_the_whole_file_and_nothing_is_written(
        container: Container, tmp_path: Path) -> None:
    region = seed_region(container, persons=3)
    head = container.store.max_position()
    rows = year_rows(region.id_numbers)
    rows[1][5] = "-1850"  # line 3
    rows.append(["2024-05-10", "210", "失业保险金", make_id_number(900), "2024-05", "1850",
                 "SY-2405-001"])  # line 8: nobody registered
    errors = tmp_path / "errors.csv"
    with pytest.raises(BenefitFileRefused) as refused:
        import_benefit_payments(container, write(tmp_path / "b.csv", rows), errors_path=errors,
                                today=TODAY)
    assert refused.value.code == "benefit_file_refused"
    assert "2 of 7 lines" in refused.value.message and "line 3: amount: " in refused.value.message
    assert [(g.line_no, g.codes) for g in refused.value.errors] == [
        (3, ("amount_negative",)), (8, ("person_not_registered",))]
    assert container.store.max_position() == head
    container.runner.catch_up()
    assert container.views.query("SELECT COUNT(*) FROM benefit_payments") == [(0,)]
    with errors.open(encoding="utf-8-sig") as f:
        written = list(csv.reader(f))
    assert written[0][:7] == HEADER and [r[7] for r in written[1:]] == ["3", "8"]
    assert written[2][10].startswith("id_number: no insured person 440781")
    # corrected and without the stranger, the same lines import
    rows[1][5] = "1850.00"
    done = import_benefit_payments(container, write(tmp_path / "b2.csv", rows[:-1]),
                                   today=TODAY)
    assert done.paid == 6


def test_the_same_lines_again_change_nothing_and_a_changed_voucher_is_a_conflict(
        container: Container, tmp_path: Path) -> None:
    region = seed_region(container, persons=3)
    rows = year_rows(region.id_numbers)
    first = import_benefit_payments(container, write(tmp_path / "jan.csv", rows[:2]),
                                    today=TODAY)
    assert first.paid == 2
    again = import_benefit_payments(container, write(tmp_path / "jan.csv", rows[:2]),
                                    today=TODAY)
    assert (again.paid, again.already_paid, again.already_imported) == (0, 2, True)
    assert again.position == container.store.max_position() == first.position
    # the quarter's file brings January again and the rest
    quarter = import_benefit_payments(container, write(tmp_path / "q1.csv", rows),
                                      today=TODAY)
    assert (quarter.paid, quarter.already_paid, quarter.already_imported) == (4, 2, False)
    head = container.store.max_position()
    changed = [[*rows[0][:5], "1900.00", rows[0][6]]]
    with pytest.raises(BenefitFileRefused) as refused:
        import_benefit_payments(container, write(tmp_path / "x.csv", changed), today=TODAY)
    assert refused.value.errors[0].codes == ("voucher_conflict",)
    assert container.store.max_position() == head


def test_an_xlsx_file_is_read_like_a_csv_file(container: Container, tmp_path: Path) -> None:
    region = seed_region(container, persons=3)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in year_rows(region.id_numbers):
        sheet.append([*row[:5], float(row[5]), row[6]])
    book.save(tmp_path / "b.xlsx")
    summary = import_benefit_payments(container, tmp_path / "b.xlsx", today=TODAY)
    assert summary.paid == 6 and summary.amount_fen == 1_812_728
    with pytest.raises(CollectionFileError) as refused:
        import_benefit_payments(container, write(tmp_path / "c.csv", []),
                                encoding="no-such-codec", today=TODAY)
    assert refused.value.code == "collection_file_encoding"


def test_a_rebuild_of_the_read_models_equals_the_incremental_ones(
        container: Container, tmp_path: Path) -> None:
    region = seed_region(container, persons=3)
    import_benefit_payments(container, write(tmp_path / "b.csv", year_rows(region.id_numbers)),
                            today=TODAY)
    container.runner.catch_up()
    kept = read_model_rows(container)
    assert len(kept["benefit_payments"]) == 6
    container.runner.rebuild()
    assert read_model_rows(container) == kept
    report = annual_report(container, 2024)
    container.runner.rebuild()
    assert annual_report(container, 2024)["content_sha256"] == report["content_sha256"]


def test_a_concurrent_import_of_the_same_voucher_is_a_conflict(
        container: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another import records a voucher between this one's check and its write: this one is
    refused with what to do, and the file imports cleanly again."""
    from domain.benefit_payment import BenefitPayment
    from infra import benefit_payment_import

    region = seed_region(container, persons=3)
    rows = year_rows(region.id_numbers)
    other = import_benefit_payments  # the other import, run from inside this one's check
    checked = benefit_payment_import._unpaid

    def unpaid_then_other(*args, **kwargs):  # type: ignore[no-untyped-def]
        found = checked(*args, **kwargs)
        monkeypatch.setattr(benefit_payment_import, "_unpaid", checked)
        other(container, write(tmp_path / "other.csv", rows[:1]), today=TODAY)
        return found

    monkeypatch.setattr(benefit_payment_import, "_unpaid", unpaid_then_other)
    with pytest.raises(Conflict) as refused:
        import_benefit_payments(container, write(tmp_path / "b.csv", rows), today=TODAY)
    assert refused.value.code == "benefit_import_concurrent"
    assert container.store.existing([BenefitPayment.create_id(
        container.settings.region_code, "210", "SY-2401-001")])
    done = import_benefit_payments(container, write(tmp_path / "b.csv", rows), today=TODAY)
    assert (done.paid, done.already_paid) == (5, 1)


KINDS = (("210", "失业保险金"), ("210", "职业培训补贴"), ("310", "医疗费用结算"),
         ("410", "伤残津贴"), ("510", "生育医疗费"))


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_file_imported_twice_changes_nothing(container: Container, tmp_path: Path,
                                               data: st.DataObject) -> None:
    """Property: whatever the lines, a second import of the file — or of its lines shuffled in
    another file — writes no event and leaves every read model as it was."""
    numbers = tuple(make_id_number(seq) for seq in range(1, 4))
    if not container.store.existing([Person.create_id(container.settings.region_code,
                                                      numbers[0])]):
        seed_region(container, persons=3)  # the first example's
    token = data.draw(st.uuids(version=4)).hex[:8]
    count = data.draw(st.integers(min_value=1, max_value=12))
    rows = []
    for i in range(count):
        insurance, kind = data.draw(st.sampled_from(KINDS))
        month = data.draw(st.integers(min_value=1, max_value=12))
        amount = data.draw(st.integers(min_value=1, max_value=10**9))
        rows.append([f"2024-{month:02d}-28", insurance, kind, data.draw(st.sampled_from(numbers)),
                     f"2024-{month:02d}", f"{amount // 100}.{amount % 100:02d}", f"{token}-{i}"])
    path = write(tmp_path / f"{token}.csv", rows)
    first = import_benefit_payments(container, path, today=TODAY)
    assert first.paid == count
    container.runner.catch_up()
    head, kept = container.store.max_position(), read_model_rows(container)
    again = import_benefit_payments(container, path, today=TODAY)
    shuffled = rows[:]
    random.Random(token).shuffle(shuffled)
    other = import_benefit_payments(container, write(tmp_path / f"{token}-2.csv", shuffled),
                                    today=TODAY)
    assert (again.paid, again.already_imported, other.paid, other.already_imported) == (
        0, True, 0, True)
    container.runner.catch_up()
    assert container.store.max_position() == head
    assert read_model_rows(container) == kept
