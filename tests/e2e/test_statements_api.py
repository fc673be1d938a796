"""Personal rights statements over HTTP, on SQLite and PostgreSQL: the JSON (whose content hash
is the sha256 of the statement as sent), the HTML with its trace links, the PDF; readers only,
with a reason, masked for roles that do not see personal data; and the public verification."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.statement_schemas import StatementView, VerificationView
from domain.verification_code import VerificationCode, parse_code
from infra.bulk_posting import BulkPoster, PostingRequest
from infra.settings import Settings
from tests.e2e.test_api import auth, ok, problem
from tests.e2e.test_import_api import container_of
from tests.helpers import SeededRegion, seed_region


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, follow=False)) as c:
        yield c


def a_paid_year(client: TestClient) -> tuple[SeededRegion, int]:
    container = container_of(client)
    region = seed_region(container, persons=1, year=2023)
    BulkPoster(container.store, container.policy, "test").post(
        [PostingRequest(region.id_numbers[0], region.employer_code, f"2023-{m:02d}")
         for m in range(1, 13)])
    return region, container.store.max_position()


def test_the_statement_as_json_html_and_pdf(client: TestClient) -> None:
    region, position = a_paid_year(client)
    teller = auth(client, "teller1", "teller")
    url = f"/v1/persons/{region.id_numbers[0]}/statements/2023"

    response = client.get(url, headers=teller, params={"min_position": position})
    body = ok(response)
    StatementView.model_validate(body)
    sent = response.content[len(b'{"statement":'):response.content.index(b',"content_hash"')]
    assert hashlib.sha256(sent).hexdigest() == body["content_hash"]
    statement = body["statement"]
    assert statement["position"] >= position and statement["year"] == 2023
    assert statement["registration"]["id_number"] == region.id_numbers[0]
    pension = statement["insurances"][0]
    assert (pension["insurance"], pension["paid_months"]) == ("110", 12)
    assert body["verify_url"].endswith(f"/v1/statements/verify/{body['verification_code']}")
    assert body["masked"] is False

    page = client.get(url + ".html", headers=teller)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "社会保险个人权益记录单" in page.text and body["verification_code"] in page.text
    assert f"/v1/trace?account=personal%3A{region.person_ids[0]}%3A110" in page.text

    pdf = client.get(url + ".pdf", headers=teller)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and b"/STSong-Light" in pdf.content
    assert pdf.headers["X-Verification-Code"] == body["verification_code"]


def test_who_may_read_a_statement(client: TestClient) -> None:
    region, position = a_paid_year(client)
    url = f"/v1/persons/{region.id_numbers[0]}/statements/2023"
    insured = auth(client, "insured1", "insured")
    for suffix in ("", ".pdf", ".html"):  # all three authenticate in one dependency
        problem(client.get(url + suffix), 401, "token_missing")
        problem(client.get(url + suffix, headers={"Authorization": "Bearer nonsense"}), 401,
                "token_invalid")
        problem(client.get(url + suffix, headers=insured), 403, "role_forbidden")
    auditor = auth(client, "auditor1", "auditor")
    problem(client.get(url, headers={"Authorization": auditor["Authorization"]}), 400,
            "access_reason_missing", "X-Access-Reason")
    # an auditor does not see personal data in clear: masked, with the code as issued
    body = ok(client.get(url, headers=auditor, params={"min_position": position}))
    registration = body["statement"]["registration"]
    assert registration["id_number"].startswith("440781****") and "*" in registration["name"]
    assert registration["birth_date"] == "" and body["masked"] is True
    verified = ok(client.get(f"/v1/statements/verify/{body['verification_code']}"))
    assert verified["valid"] and verified["content_hash"] == body["content_hash"]
    page = client.get(url + ".html", headers=auditor)
    assert region.id_numbers[0] not in page.text
    problem(client.get(f"/v1/persons/{region.id_numbers[0][:-1]}0/statements/2023",
                       headers=auditor), 422, "id_number_check_digit", "id_number")
    problem(client.get(url.replace("2023", "1900"), headers=auditor), 422, "request_invalid",
            "year")


def test_anyone_verifies_a_code_without_a_token(client: TestClient) -> None:
    region, position = a_paid_year(client)
    teller = auth(client, "teller1", "teller")
    body = ok(client.get(f"/v1/persons/{region.id_numbers[0]}/statements/2023", headers=teller,
                         params={"min_position": position}))
    code = body["verification_code"]

    verified = ok(client.get(f"/v1/statements/verify/{code.lower()}"))
    VerificationView.model_validate(verified)
    assert verified["valid"] and verified["reason"] is None
    assert (verified["year"], verified["position"]) == (2023, body["statement"]["position"])
    assert verified["content_hash"] == body["content_hash"]
    assert verified["id_number_masked"] == region.id_numbers[0][:6] + "********" + \
        region.id_numbers[0][-4:]
    assert verified["name_masked"].startswith("测") and "*" in verified["name_masked"]
    assert verified["insurances"][0]["paid_months"] == 12
    assert verified["account_closing_fen"] == 12 * 80_000

    problem(client.get(f"/v1/statements/verify/{code[:-1]}{'0' if code[-1] != '0' else '1'}"),
            422, "verification_code_check_char", "code")
    problem(client.get("/v1/statements/verify/NOT-A-CODE"), 422, "verification_code_malformed",
            "code")
    other_year = ok(client.get(f"/v1/statements/verify/{retyped(code, year=2022)}"))
    assert (other_year["valid"], other_year["reason"]) == (False, "no_matching_statement")
    assert other_year["content_hash"] is None and other_year["name_masked"] is None


def retyped(code: str, year: int) -> str:
    """The same code for another year (a forger's edit), with a valid check character."""
    parts = parse_code(code)
    return VerificationCode(year, parts.position, parts.person_key, parts.hash_prefix).text()
