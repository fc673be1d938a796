"""The annual report over HTTP, on SQLite and PostgreSQL: JSON, HTML with inline SVG charts and
XLSX for the roles that may read it, refused to the others, with the position it is as known
at; a bad targets file is a problem naming the entry."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.app import create_app
from infra.annual_targets_loader import TARGETS_FILE_VARIABLE
from infra.bulk_posting import BulkPoster, PostingRequest
from infra.settings import Settings
from tests.e2e.test_api import auth, head, ok, problem
from tests.e2e.test_import_api import container_of
from tests.helpers import seed_region


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
