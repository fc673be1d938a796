"""Finance special-account reconciliation (财政专户对账): a statement that matches the imported
collections reconciles to ok; a missing voucher or a different amount shows as a difference with
its sign (statement − ledger); the same file twice changes nothing; GBK and XLSX statements are
read; bad lines are rejected with codes; month and day granularity; rebuilt read models equal
the incremental ones."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

from domain.errors import ValidationFailed
from infra.bootstrap import Container
from infra.collection_file import CollectionFileError
from infra.collection_import import import_collections
from infra.finance_reconciliation import ROW_HEADERS, reconcile, write_csv, write_xlsx
from infra.finance_statement_file import read_statement_file
from infra.finance_statement_import import import_statement
from infra.interest_service import credit_interest
from tests.helpers import make_id_number, seed_region
from tests.integration.test_collection_import import month_rows, total_fen, write_file, yuan

HEADERS_ZH = ["记账日期", "险种代码", "收支方向", "金额", "凭证号", "摘要"]
HEADERS_EN = ["Booking date", "Insurance code", "Direction", "Amount", "Voucher number", "Memo"]


def write_statement(path: Path, rows: list[list[str]], headers: list[str] = HEADERS_ZH,
                    encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def import_month(container: Container, tmp_path: Path) -> dict[str, int]:
    """Two persons' January posted and an unknown person's January held in suspense; the fen
    collected per insurance (what the tax bureau remitted to the special account)."""
    region = seed_region(container, persons=2)
    code = region.employer_code
    rows = (month_rows(container, region.id_numbers[0], code, "2023-01", "P1")
            + month_rows(container, region.id_numbers[1], code, "2023-01", "P2")
            + month_rows(container, make_id_number(900), code, "2023-01", "H1"))
    summary = import_collections(container, write_file(tmp_path / "sw202301.csv", rows),
                                 rejects_path=tmp_path / "rejects.csv")
    assert summary.counts["posted"] == 10 and summary.counts["suspense"] == 5
    container.runner.catch_up()
    per: dict[str, int] = {}
    for r in rows:
        per[r["insurance"]] = per.get(r["insurance"], 0) + total_fen([r])
    return per


def ledger_day(container: Container) -> str:
    days = {d for (d,) in container.views.query("SELECT DISTINCT day FROM fund_movements")}
    assert len(days) == 1, days
    return days.pop()


def matching_rows(day: str, per: dict[str, int]) -> list[list[str]]:
    return [[day, ins, "收入", yuan(fen), f"记-{i:04d}", "税务划解"]
            for i, (ins, fen) in enumerate(sorted(per.items()), start=1)]


def test_a_statement_matching_the_imported_collections_reconciles_ok(
        container: Container, tmp_path: Path) -> None:
    per = import_month(container, tmp_path)
    day = ledger_day(container)
    summary = import_statement(container, write_statement(
        tmp_path / "cz.csv", matching_rows(day, per)))
    assert (summary.imported, summary.rejected, summary.already_imported) == (5, 0, False)
    container.runner.catch_up()

    report = reconcile(container.views)
    assert report["status"] == "ok" and report["differences"] == 0
    assert [(r["period"], r["insurance"]) for r in report["rows"]] == [
        (day[:7], ins) for ins in sorted(per)]
    assert report["totals"]["statement_receipts_fen"] == sum(per.values())
    assert report["totals"]["ledger_receipts_fen"] == sum(per.values())
    assert report["totals"]["ledger_suspense_fen"] > 0  # the held money reached the account
    by_statement = reconcile(container.views, statement_id=summary.sha256)
    assert by_statement["status"] == "ok"
    assert by_statement["from"] == day[:8] + "01"


def test_a_missing_voucher_and_a_different_amount_are_differences_with_their_sign(
        container: Container, tmp_path: Path) -> None:
    per = import_month(container, tmp_path)
    day = ledger_day(container)
    rows = [r for r in matching_rows(day, per) if r[1] != "110"]  # 110's voucher missing
    rows = [[*r[:3], yuan(per["310"] + 100), *r[4:]] if r[1] == "310" else r for r in rows]
    rows.append([day, "210", "支出", "50.00", "付-0001", "划入支出户"])
    import_statement(container, write_statement(tmp_path / "cz.csv", rows))
    container.runner.catch_up()

    report = reconcile(container.views)
    by_ins = {r["insurance"]: r for r in report["rows"]}
    assert report["status"] == "difference" and report["differences"] == 3
    assert by_ins["110"]["receipts_difference_fen"] == -per["110"]  # ledger has more
    assert by_ins["310"]["receipts_difference_fen"] == 100  # the statement has more
    assert by_ins["210"]["payments_difference_fen"] == 5000
    assert by_ins["210"]["receipts_difference_fen"] == 0
    assert {by_ins[i]["status"] for i in ("410", "510")} == {"ok"}


def test_a_reversal_reduces_the_ledger_receipts_and_interest_is_not_a_movement(
        container: Container, tmp_path: Path) -> None:
    per = import_month(container, tmp_path)
    region_number = make_id_number(1)
    container.ledger.reverse_contribution(region_number, "2023-01", "wrong base")
    credit_interest(container.store, container.policy, container.runner, container.queries,
                    2023)
    container.runner.catch_up()
    report = reconcile(container.views)
    totals = report["totals"]
    assert totals["ledger_reversal_fen"] < 0
    assert totals["ledger_receipts_fen"] == sum(per.values()) + totals["ledger_reversal_fen"]


def test_the_same_statement_twice_changes_nothing(container: Container, tmp_path: Path) -> None:
    per = import_month(container, tmp_path)
    path = write_statement(tmp_path / "cz.csv", matching_rows(ledger_day(container), per))
    first = import_statement(container, path)
    head = container.store.max_position()
    again = import_statement(container, path)
    assert again.already_imported and container.store.max_position() == head
    assert (again.statement_id, again.imported, again.amounts_fen) == (
        first.statement_id, first.imported, first.amounts_fen)


def test_a_voucher_of_an_earlier_statement_is_rejected(container: Container, tmp_path: Path
                                                       ) -> None:
    per = import_month(container, tmp_path)
    rows = matching_rows(ledger_day(container), per)
    import_statement(container, write_statement(tmp_path / "month.csv", rows[:2]))
    quarter = import_statement(container, write_statement(tmp_path / "quarter.csv", rows),
                               rejects_path=tmp_path / "q.rejects.csv")
    assert (quarter.imported, quarter.rejected) == (3, 2)
    assert quarter.rejected_codes == {"voucher_already_imported": 2}
    container.runner.catch_up()
    assert reconcile(container.views)["status"] == "ok"  # nothing counted twice


def test_a_gbk_statement_with_english_headers_in_another_order_is_read(
        container: Container, tmp_path: Path) -> None:
    rows = [["记-1", "2023-01-15", "收入", "110", "100.00", "税款划解"],
            ["记-2", "20230116", "支出", "310", "5", "拨付支出户"]]
    headers = [HEADERS_EN[4], HEADERS_EN[0], HEADERS_EN[2], HEADERS_EN[1], HEADERS_EN[3],
               HEADERS_EN[5]]
    path = write_statement(tmp_path / "gbk.csv", rows, headers, encoding="gbk")
    items = list(read_statement_file(path, container.policy))
    assert [(i.booking_date, i.insurance, i.direction, i.amount_fen, i.voucher, i.memo)
            for i in items] == [  # type: ignore[union-attr]
        ("2023-01-15", "110", "receipt", 10000, "记-1", "税款划解"),
        ("2023-01-16", "310", "payment", 500, "记-2", "拨付支出户")]


def test_an_xlsx_statement_is_read_with_date_and_number_cells(
        container: Container, tmp_path: Path) -> None:
    import datetime

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADERS_ZH[:5])
    sheet.append([datetime.date(2023, 1, 15), "110", "收入", 1234.56, "记-1"])
    sheet.append([datetime.datetime(2023, 1, 16), 210, "支出", 7, 42])
    book.save(tmp_path / "cz.xlsx")
    items = list(read_statement_file(tmp_path / "cz.xlsx", container.policy))
    assert [(i.booking_date, i.insurance, i.amount_fen, i.voucher, i.memo)
            for i in items] == [  # type: ignore[union-attr]
        ("2023-01-15", "110", 123456, "记-1", ""), ("2023-01-16", "210", 700, "42", "")]


def test_bad_lines_are_rejected_with_codes_and_the_rejects_file_reads_back(
        container: Container, tmp_path: Path) -> None:
    good = ["2023-01-15", "110", "收入", "100.00", "记-1", ""]
    rows = [
        good,
        ["2023-02-30", "110", "收入", "1.00", "记-2", ""],  # date_malformed
        ["2023-01-15", "999", "收入", "1.00", "记-3", ""],  # insurance_unknown
        ["2023-01-15", "110", "转入", "1.00", "记-4", ""],  # direction_unknown
        ["2023-01-15", "110", "收入", "1.005", "记-5", ""],  # amount_not_integer_fen
        ["2023-01-15", "110", "收入", "-1.00", "记-6", ""],  # amount_negative
        ["2023-01-15", "110", "收入", "0", "记-7", ""],  # amount_zero
        ["2023-01-15", "110", "收入", "1.00", "", ""],  # value_missing
        ["2023-01-20", "110", "收入", "2.00", "记-1", ""],  # voucher_duplicate (same month)
        ["2023-02-20", "110", "收入", "2.00", "记-1", ""],  # another month: fine
        ["2023-01-15", "110", "收入", "1,000.00", "记-8", ""],  # amount_not_a_number
    ]
    summary = import_statement(container, write_statement(tmp_path / "bad.csv", rows),
                               rejects_path=tmp_path / "bad.rejects.csv")
    assert (summary.imported, summary.rejected) == (2, 9)
    assert summary.rejected_codes == {
        "date_malformed": 1, "insurance_unknown": 1, "direction_unknown": 1,
        "amount_not_integer_fen": 1, "amount_negative": 1, "amount_zero": 1,
        "value_missing": 1, "voucher_duplicate": 1, "amount_not_a_number": 1}
    with (tmp_path / "bad.rejects.csv").open(encoding="utf-8-sig", newline="") as f:
        written = list(csv.reader(f))
    assert written[0][:6] == HEADERS_ZH and written[0][6] == "错误行号"
    assert [row[6] for row in written[1:]] == [str(n) for n in range(3, 11)] + ["12"]
    # The rejects file is a statement again: its lines are checked anew.
    again = list(read_statement_file(tmp_path / "bad.rejects.csv", container.policy))
    assert len(again) == 9


def test_a_file_without_a_required_column_is_refused_whole(container: Container,
                                                          tmp_path: Path) -> None:
    path = write_statement(tmp_path / "cz.csv", [["2023-01-15", "110", "收入", "1.00"]],
                           headers=HEADERS_ZH[:4])
    with pytest.raises(CollectionFileError) as caught:
        import_statement(container, path)
    assert caught.value.code == "columns_missing" and caught.value.field is None
    assert "凭证号" in caught.value.message
    assert container.store.max_position() == 0


def test_month_and_day_granularity(container: Container, tmp_path: Path) -> None:
    per = import_month(container, tmp_path)
    day = ledger_day(container)
    other = day[:8] + ("02" if day[8:] == "01" else "01")  # another day of the same month
    rows = matching_rows(day, per)
    moved = [other, *rows[0][1:]]  # the first insurance booked on another day
    import_statement(container, write_statement(tmp_path / "cz.csv", [moved, *rows[1:]]))
    container.runner.catch_up()

    assert reconcile(container.views)["status"] == "ok"
    daily = reconcile(container.views, granularity="day")
    first_ins = rows[0][1]
    differing = {(r["period"], r["insurance"]): r["receipts_difference_fen"]
                 for r in daily["rows"] if r["status"] == "difference"}
    assert differing == {(day, first_ins): -per[first_ins], (other, first_ins): per[first_ins]}
    with pytest.raises(ValidationFailed):
        reconcile(container.views, granularity="week")
    assert reconcile(container.views, start="2000-01", end="2000-12")["rows"] == []


def test_the_report_files_hold_every_row(container: Container, tmp_path: Path) -> None:
    per = import_month(container, tmp_path)
    import_statement(container, write_statement(
        tmp_path / "cz.csv", matching_rows(ledger_day(container), per)))
    container.runner.catch_up()
    report = reconcile(container.views)
    assert write_csv(report, tmp_path / "r.csv") == 5
    with (tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == list(ROW_HEADERS.values()) and len(rows) == 7 and rows[-1][0] == "合计"
    assert write_xlsx(report, tmp_path / "r.xlsx") == 5
    book = openpyxl.load_workbook(tmp_path / "r.xlsx", read_only=True)
    assert book.sheetnames == ["汇总", "明细"]
    assert len(list(book["明细"].iter_rows(values_only=True))) == 6
    book.close()


def test_rebuilt_finance_read_models_equal_the_incremental_ones(
        container: Container, tmp_path: Path) -> None:
    per = import_month(container, tmp_path)
    import_statement(container, write_statement(
        tmp_path / "cz.csv", matching_rows(ledger_day(container), per)))
    container.ledger.reverse_contribution(make_id_number(1), "2023-01", "wrong base")
    container.runner.catch_up()
    tables = ("finance_statements", "finance_statement_lines", "fund_movements",
              "fund_movement_suspense")

    def rows() -> dict[str, list[tuple[object, ...]]]:
        return {t: sorted(tuple(r) for r in container.views.query(f"SELECT * FROM {t}"))
                for t in tables}

    before = rows()
    assert all(before.values())
    before_report = reconcile(container.views)
    container.runner.rebuild(["finance_statements", "fund_movements"])
    assert rows() == before
    assert reconcile(container.views) == before_report


def test_assigning_suspense_moves_no_cash_and_a_refund_is_a_payment(
        container: Container, tmp_path: Path) -> None:
    from infra.suspense_service import assign_suspense, refund_suspense

    per = import_month(container, tmp_path)
    before = reconcile(container.views)["totals"]
    # The unknown person registers: their 110 line is assigned; their 210 line refunded.
    container.ledger.register_person(make_id_number(900), "测试900", registered_on="2015-01-01")
    assign_suspense(container, "H1-110", make_id_number(900), "2023-01", "found", "clerk")
    refund_suspense(container, "H1-210", "collected in error", "TF-1", "clerk")
    container.runner.catch_up()
    after = reconcile(container.views)
    totals = after["totals"]
    assert totals["ledger_receipts_fen"] == before["ledger_receipts_fen"] == sum(per.values())
    assert totals["ledger_suspense_fen"] == before["ledger_suspense_fen"] - per["110"] // 3
    assert totals["ledger_payments_fen"] == per["210"] // 3
    by_ins = {r["insurance"]: r for r in after["rows"]}
    assert by_ins["210"]["ledger_payments_fen"] == per["210"] // 3
