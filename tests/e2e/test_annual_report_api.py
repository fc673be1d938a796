"""The annual report over HTTP, on SQLite and PostgreSQL: JSON, HTML with inline SVG charts and
XLSX for the roles that may read it, refused to the others, with the position it is as known
at; a transfer to another pooling region in all of them (and the console's page), from the
position it was made at; a bad targets file is a problem naming the entry."""

from __future__ import annotations

import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.app import create_app
from infra.annual_report_queries import annual_report
from infra.annual_targets_loader import TARGETS_FILE_VARIABLE
from infra.bulk_posting import BulkPoster, PostingRequest
from infra.settings import Settings
from infra.transfer_service import transfer_out
from tests.e2e.test_api import auth, head, ok, problem
from tests.e2e.test_console import signed_in
from tests.e2e.test_import_api import container_of
from tests.helpers import seed_region

HANGZHOU, HANGZHOU_AGENCY = "330106", "杭州市西湖区社会保险事业管理中心"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, follow=False)) as c:
        yield c


def test_the_annual_report_as_json_html_and_xlsx(client: TestClient) -> None:
    c = container_of(client)
    region = seed_region(c, persons=3, year=2024)
    BulkPoster(c.store, c.policy, "test").post(
        [PostingRequest(n, region.employer_code, f"2024-{m:02d}")
         for n in region.id_numbers[:2] for m in range(1, 13)])
    director = auth(client, "director1", "director")
    readers = [auth(client, f"{role}1", role) for role in ("deputy_director", "auditor")]
    others = [auth(client, f"{role}9", role) for role in ("teller", "reviewer", "reconciler")]
    position = head(client)  # users are events too: every one is made before this

    for headers in others:
        problem(client.get("/v1/reports/annual/2024", headers=headers), 403, "role_forbidden")
    problem(client.get("/v1/reports/annual/2024"), 401, "token_missing")

    report = ok(client.get("/v1/reports/annual/2024", headers=director,
                           params={"min_position": position}))
    assert report["position"] == position
    pension = report["participation"][0]
    assert (pension["insurance"], pension["participants"], pension["contributing"],
            pension["retired"]) == ("110", 2, 2, 0)  # the third person never posted
    assert report["funds"]["insurances"][0]["expenditure_fen"] == 0  # nobody retired
    assert report["funds"]["insurances"][1]["expenditure_fen"] is None  # not recorded
    assert report["targets"]["file"].endswith("annual_targets.toml")  # the shipped DEMO file
    assert len(report["content_sha256"]) == 64
    for headers in readers:  # nothing was recorded in between: the same report
        assert ok(client.get("/v1/reports/annual/2024", headers=headers)) == report

    html = client.get("/v1/reports/annual/2024.html", headers=director)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert html.text.count("<svg") == 6 and report["content_sha256"] in html.text
    assert "参加企业职工基本养老保险2人" in html.text

    xlsx = client.get("/v1/reports/annual/2024.xlsx", headers=director)
    assert xlsx.status_code == 200
    assert "annual-report-2024.xlsx" in xlsx.headers["content-disposition"]
    book = load_workbook(io.BytesIO(xlsx.content))
    rows = {(r[0], r[2]): r for r in book["参保情况"].iter_rows(min_row=2, values_only=True)}
    assert rows[("110", "合计")][3] == 2

    problem(client.get("/v1/reports/annual/1800", headers=director), 422, "request_invalid",
            "year")


def test_a_transfer_out_shows_in_the_json_html_xlsx_and_console_and_not_before_it(
        client: TestClient) -> None:
    """One of two persons leaves for Hangzhou (跨统筹区转出) in December: 12 months at
    10,000.00 — account 8% 9,600.00 + pooled 12% 14,400.00 = 24,000.00 moved."""
    c = container_of(client)
    region = seed_region(c, persons=2, year=2024)
    BulkPoster(c.store, c.policy, "test").post(
        [PostingRequest(n, region.employer_code, f"2024-{m:02d}")
         for n in region.id_numbers for m in range(1, 13)])
    director = auth(client, "director1", "director")
    console = signed_in(client, "director2", "director")
    before = head(client)
    leaving = region.id_numbers[0]
    c.ledger.end_employment(leaving, region.employer_code, "2024-11-30")
    transfer_out(c, leaving, "ZR330106A0001", HANGZHOU, HANGZHOU_AGENCY, "2024-12-02",
                 "2024-12-16")
    after = head(client)

    report = ok(client.get("/v1/reports/annual/2024", headers=director,
                           params={"min_position": after}))
    cross = report["transfers"]["cross_region"]
    assert cross == {
        "accepted_in": 0, "transfers_in": {"count": 0, "persons": 0, "months": 0,
                                           "account_fen": 0, "pooled_fen": 0, "total_fen": 0},
        "transfers_out": {"count": 1, "persons": 1, "months": 12, "account_fen": 960_000,
                          "pooled_fen": 1_440_000, "total_fen": 2_400_000},
        "net_fen": -2_400_000, "in_transit_at_year_end": 0, "overdue_at_year_end": 0,
        "by_region": [{"region_code": HANGZHOU, "name_zh": HANGZHOU_AGENCY, "in_count": 0,
                       "in_fen": 0, "out_count": 1, "out_fen": 2_400_000}]}
    # the response model passes every figure of the report through, nothing dropped
    assert report == annual_report(c, 2024)
    # as known before the transfer: nothing moved, both persons in the pension
    then = ok(client.get("/v1/reports/annual/2024", headers=director,
                         params={"position": before}))
    assert then["transfers"]["cross_region"]["transfers_out"]["count"] == 0
    assert then["transfers"]["cross_region"]["by_region"] == []
    assert (then["participation"][0]["participants"],
            report["participation"][0]["participants"]) == (2, 1)

    html = client.get("/v1/reports/annual/2024.html", headers=director).text
    assert "跨统筹区转移接续（企业职工基本养老保险）" in html
    assert ("转出1人次（1人，12个月），转出金额24,000.00元（个人账户9,600.00元，"
            "统筹基金14,400.00元）；净转入-24,000.00元") in html
    assert f"<tr><td>{HANGZHOU}</td><td>{HANGZHOU_AGENCY}</td>" in html
    assert "2024年跨统筹区转移接续金额（按地区）" in html
    earlier = client.get("/v1/reports/annual/2024.html", headers=director,
                         params={"position": before}).text
    assert "本年无跨统筹区转入记账或转出划转。" in earlier

    xlsx = client.get("/v1/reports/annual/2024.xlsx", headers=director)
    sheet = load_workbook(io.BytesIO(xlsx.content))["跨统筹区转移"]
    rows = {r[0]: r for r in sheet.iter_rows(values_only=True) if r and r[0]}
    assert rows["转出"][1:4] == (1, 1, 12)
    assert Decimal(str(rows["转出"][6])) == Decimal("24000")
    assert Decimal(str(rows["净转入"][6])) == Decimal("-24000")
    assert rows[HANGZHOU][1] == HANGZHOU_AGENCY

    page = console.get("/console/report?year=2024")
    assert page.status_code == 200 and "跨统筹区转移接续（养老保险）" in page.text
    assert '<td class="num">24,000.00</td>' in page.text
    assert "2024年跨统筹区转移接续金额（按地区）" in page.text


def test_a_bad_targets_file_is_a_problem_naming_the_entry(
        client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "targets.toml"
    path.write_text('[[target]]\nyear = 2024\nindicator = "participants"\ninsurance = "999"\n'
                    'persons = 3\nsource = "x"\n', encoding="utf-8")
    monkeypatch.setenv(TARGETS_FILE_VARIABLE, str(path))
    body = problem(client.get("/v1/reports/annual/2024",
                              headers=auth(client, "auditor1", "auditor")),
                   422, "targets_invalid", "targets")
    assert f"{path} target[0]: `insurance` '999'" in body["detail"]
