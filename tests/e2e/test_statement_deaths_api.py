"""A deceased person's statement over HTTP and the yearly mailing in the access log, on SQLite
and PostgreSQL: the statement still comes (heirs, courts) with status 已故, the date of death
and the pension months; the mailing's one batch entry is in GET /v1/access-log, by user and
among the entries of every person it read."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routers.access_log import AccessLogPage
from api.statement_schemas import StatementView
from domain.statement import FORMAT_VERSION
from infra.bulk_posting import BulkPoster, PostingRequest
from infra.settings import Settings
from infra.statement_batch import write_statements
from tests.e2e.test_api import auth, ok
from tests.e2e.test_import_api import container_of
from tests.helpers import seed_region


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, follow=False)) as c:
        yield c


def test_a_deceased_persons_statement_and_the_mailing_in_the_access_log(
        client: TestClient, settings: Settings, tmp_path: Path) -> None:
    container = container_of(client)
    region = seed_region(container, persons=2, year=2023)
    deceased, alive = region.id_numbers
    BulkPoster(container.store, container.policy, "test").post(
        [PostingRequest(n, region.employer_code, f"2023-{m:02d}")
         for n in region.id_numbers for m in range(1, 13)])
    container.ledger.record_death(deceased, "2023-12-02", "死亡医学证明")
    teller = auth(client, "teller1", "teller")
    url = f"/v1/persons/{deceased}/statements/2023"
    position = container.runner.catch_up()

    body = ok(client.get(url, headers=teller, params={"min_position": position}))
    StatementView.model_validate(body)
    statement = body["statement"]
    assert statement["format_version"] == FORMAT_VERSION
    assert (statement["registration"]["status"], statement["registration"]["died_on"]) == (
        "deceased", "2023-12-02")
    no_trace = {"positions": [], "first_day": None, "last_day": None}
    assert statement["pension_months"] == {
        "actual_months": 12, "deemed_months": None, "total_months": None, "trace": no_trace,
        "transferred_in_months": 0, "transferred_in_trace": no_trace,
        "transferred_out_months": 0, "transferred_out_trace": no_trace, "counted_months": 12}
    assert statement["transfers"] == []
    pdf = client.get(url + ".pdf", headers=teller)
    text = pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "参保状态：已故" in text and "死亡日期：2023-12-02" in text
    assert "视同缴费月数未核定" in text
    page = client.get(url + ".html", headers=teller).text
    assert "已故" in page and "死亡日期" in page and "实际缴费 12 个月" in page
    assert ok(client.get(f"/v1/statements/verify/{body['verification_code']}"))["valid"]

    auth(client, "mailer", "teller")
    batch = write_statements(settings, 2023, tmp_path / "mailing", operator="mailer")
    assert (batch.persons, batch.persons_read) == (2, 2)
    auditor = auth(client, "auditor1", "auditor")
    assert batch.access_position is not None
    for params in ({"user": "mailer"}, {"id_number": alive}, {"id_number": deceased}):
        page_body = ok(client.get("/v1/access-log", headers=auditor, params={
            "min_position": batch.access_position, **params}))
        AccessLogPage.model_validate(page_body)
        batches = [e for e in page_body["items"] if e["persons_read"] > 1]
        assert [(e["username"], e["reason_code"], e["target"], e["as_known_at"],
                 e["output_sha256"], e["person_id"]) for e in batches] == [
            ("mailer", "statement_mailing", "statements/2023", batch.position,
             batch.manifest_sha256, "")], params
    # the teller's own reads above are single-person entries, as before
    reads = ok(client.get("/v1/access-log", headers=auditor, params={"user": "teller1"}))
    assert reads["items"] and all(e["persons_read"] == 1 and e["as_known_at"] is None
                                  for e in reads["items"])
