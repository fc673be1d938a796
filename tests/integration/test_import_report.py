"""The reconciliation report of an imported collection file: every line that reached the ledger
appears once, linked to its event; per-employer totals add up to the summary; the CSV and XLSX
files hold every line; a rebuilt read model gives the same report."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import openpyxl

from domain.contribution import ContributionMonth
from domain.suspense import SuspenseItem
from infra.bootstrap import Container
from infra.collection_import import ImportSummary, import_collections
from infra.reconciliation_report import (
    ITEM_HEADERS,
    batch_report,
    list_batches,
    write_csv,
    write_xlsx,
)
from tests.helpers import make_credit_code, make_id_number, seed_region
from tests.integration.test_collection_import import month_rows, total_fen, write_file


def import_mixed_file(container: Container, tmp_path: Path
                      ) -> tuple[ImportSummary, dict[str, list[dict[str, str]]]]:
    """A file with posted lines, suspense lines of two kinds of employer, and a rejected line."""
    region = seed_region(container, persons=3)
    a, b, c = region.id_numbers
    code, stranger = region.employer_code, make_credit_code(77)
    groups = {
        "posted": (month_rows(container, a, code, "2023-01", "P1")
                   + month_rows(container, b, code, "2023-01", "P2", short_fen=10_000)),
        "suspense": (month_rows(container, make_id_number(900), code, "2023-01", "H1")
                     + month_rows(container, c, code, "2022-06", "H2")
                     + month_rows(container, a, stranger, "2023-02", "H3")),
    }
    bad = [{**groups["posted"][0], "serial_no": "R1-110", "period": "2023-13"}]
    path = write_file(tmp_path / "sw202302.csv", groups["posted"] + groups["suspense"] + bad)
    summary = import_collections(container, path, rejects_path=tmp_path / "rejects.csv")
    container.runner.catch_up()
    return summary, groups


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    return {**report, "items": list(report["items"])}


def test_every_posted_and_suspense_line_appears_once_linked_to_its_event(
        container: Container, tmp_path: Path) -> None:
    summary, groups = import_mixed_file(container, tmp_path)
    assert summary.counts == {"posted": 10, "duplicate": 0, "suspense": 15, "rejected": 1}

    report = comparable(batch_report(container.queries, summary.batch_id, items_limit=None))
    items = report["items"]
    by_serial = {item["serial_no"]: item for item in items}
    assert len(by_serial) == len(items) == report["items_total"] == 25
    for outcome, rows in groups.items():
        assert {s for s, i in by_serial.items() if i["outcome"] == outcome} == {
            r["serial_no"] for r in rows}

    region = container.settings.region_code
    for item in items:
        notification = container.store.notifications(item["position"] - 1, 1)[0]
        assert notification.id == item["position"]
        if item["outcome"] == "posted":
            assert notification.topic.endswith("ContributionMonth.Posted")
            assert item["month_id"] == str(ContributionMonth.create_id(item["person_id"],
                                                                       item["period"]))
            assert item["suspense_id"] is None
        else:
            assert notification.topic.endswith("SuspenseItem.Held")
            assert item["suspense_id"] == str(SuspenseItem.create_id(region, item["serial_no"]))
            assert item["line_no"] is not None and item["reason_code"]
            assert "*" in item["id_number"]  # masked
        assert notification.originator_id.hex == (
            item["month_id"] or item["suspense_id"]).replace("-", "")

    assert report["summary"]["counts"] == summary.counts
    assert report["differences"] == []
    assert report["ledger"]["amounts_fen"] == {"posted": total_fen(groups["posted"]),
                                               "suspense": total_fen(groups["suspense"])}
    assert report["ledger"]["suspense_reasons"] == summary.suspense_reasons


def test_per_employer_totals_add_up_to_the_summary(container: Container, tmp_path: Path
                                                   ) -> None:
    summary, _groups = import_mixed_file(container, tmp_path)
    report = batch_report(container.views, summary.batch_id)
    employers = report["by_employer"]
    assert {e["employer_code"] for e in employers} == {make_credit_code(1), make_credit_code(77)}
    for outcome in ("posted", "suspense"):
        assert sum(e["amounts_fen"][outcome] for e in employers) == summary.amounts_fen[outcome]
        assert sum(e["counts"][outcome] for e in employers) == summary.counts[outcome]
    by_insurance = report["ledger"]["by_insurance"]
    for insurance, per in summary.by_insurance.items():
        assert by_insurance[insurance]["posted"] == per["posted"]
        assert by_insurance[insurance]["suspense"] == per["suspense"]


def test_the_report_is_found_by_sha256_and_paged(container: Container, tmp_path: Path) -> None:
    summary, _groups = import_mixed_file(container, tmp_path)
    by_sha = batch_report(container.views, summary.sha256, items_limit=10, items_offset=20)
    assert by_sha["batch"]["batch_id"] == summary.batch_id
    assert len(by_sha["items"]) == 5
    assert [b["batch_id"] for b in list_batches(container.views)] == [summary.batch_id]
    assert list_batches(container.views)[0]["summary"]["counts"] == summary.counts


def test_csv_and_xlsx_files_hold_every_line(container: Container, tmp_path: Path) -> None:
    summary, _groups = import_mixed_file(container, tmp_path)

    csv_path = tmp_path / "report.csv"
    assert write_csv(batch_report(container.views, summary.batch_id, items_limit=None),
                     csv_path) == 25
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbf")
    with csv_path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == list(ITEM_HEADERS.values())
    assert len(rows) == 26
    serial = rows[0].index("税务流水号")
    assert len({row[serial] for row in rows[1:]}) == 25

    xlsx_path = tmp_path / "report.xlsx"
    assert write_xlsx(batch_report(container.views, summary.batch_id, items_limit=None),
                      xlsx_path) == 25
    book = openpyxl.load_workbook(xlsx_path, read_only=True)
    assert book.sheetnames == ["汇总", "明细"]
    items = list(book["明细"].iter_rows(values_only=True))
    assert len(items) == 26 and list(items[0]) == list(ITEM_HEADERS.values())
    summary_cells = [cell for row in book["汇总"].iter_rows(values_only=True) for cell in row]
    assert summary.sha256 in summary_cells and "暂收挂账" in summary_cells
    book.close()


def test_a_rebuilt_read_model_gives_the_same_report(container: Container, tmp_path: Path
                                                    ) -> None:
    summary, _groups = import_mixed_file(container, tmp_path)
    before = comparable(batch_report(container.views, summary.batch_id, items_limit=None))
    container.runner.rebuild()
    after = comparable(batch_report(container.views, summary.batch_id, items_limit=None))
    assert after == before
