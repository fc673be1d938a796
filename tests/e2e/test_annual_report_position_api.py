"""The annual report as known at an earlier position over HTTP, on SQLite and PostgreSQL:
`?position=P` gives the report the API gave at P after later postings (JSON, HTML, XLSX), and
refuses a position the log has not reached."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.app import create_app
from infra.bulk_posting import BulkPoster, PostingRequest
from infra.settings import Settings
from tests.e2e.test_api import auth, head, ok, problem
from tests.e2e.test_import_api import container_of
from tests.helpers import seed_region


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, follow=False)) as c:
        yield c


def test_the_report_at_a_position_is_the_report_given_then(client: TestClient) -> None:
    c = container_of(client)
    region = seed_region(c, persons=3, year=2024)
    poster = BulkPoster(c.store, c.policy, "test")
    poster.post([PostingRequest(n, region.employer_code, f"2024-{m:02d}")
                 for n in region.id_numbers[:2] for m in range(1, 13)])
    director = auth(client, "director1", "director")
    position = head(client)
    then = ok(client.get("/v1/reports/annual/2024", headers=director,
                         params={"min_position": position}))
    assert then["position"] == position

    poster.post([PostingRequest(region.id_numbers[2], region.employer_code, "2024-03")])
    later = head(client)
    now = ok(client.get("/v1/reports/annual/2024", headers=director,
                        params={"min_position": later}))
    assert now["participation"][0]["contributing"] == 3 and now["position"] == later
    again = ok(client.get("/v1/reports/annual/2024", headers=director,
                          params={"position": position}))
    assert again == then
    html = client.get("/v1/reports/annual/2024.html", headers=director,
                      params={"position": position})
    assert html.status_code == 200 and then["content_sha256"] in html.text
    xlsx = client.get("/v1/reports/annual/2024.xlsx", headers=director,
                      params={"position": position})
    about = {r[0]: r[1] for r in load_workbook(io.BytesIO(xlsx.content))["说明"].iter_rows(
        values_only=True) if r and r[0]}
    assert about["日志位置"] == position

    problem(client.get("/v1/reports/annual/2024", headers=director,
                       params={"position": later + 10}), 422, "position_not_reached", "position")
    assert client.get("/v1/reports/annual/2024", headers=director,
                      params={"position": 0}).status_code == 422
