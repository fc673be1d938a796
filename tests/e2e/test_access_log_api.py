"""Access log (查询留痕) and masking over HTTP, on SQLite and PostgreSQL: every route that
returns one person's record refuses a read without a known reason (and records nothing), records
a read with one before answering (who, when, what, why; masked), an auditor finds the reads in
GET /v1/access-log by ID number and user and sees them masked, and roles that do not need
personal data see it masked in person views and lists while a teller sees it in clear."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from domain import ids
from domain.identity import mask_id_number
from infra.settings import Settings
from tests.e2e.test_api import auth, ok, problem
from tests.e2e.test_cases_api import PNG
from tests.e2e.test_import_api import container_of
from tests.e2e.test_suspense_api import UNKNOWN, held
from tests.helpers import make_credit_code, make_id_number

REASON = "X-Access-Reason"
APPLICANT = make_id_number(71)  # registered through a case, with the name 欧阳娜娜


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, follow=False)) as c:
        yield c


def head(client: TestClient) -> int:
    return int(container_of(client).store.max_position())


def without_reason(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != REASON}


def log_entries(client: TestClient, auditor: dict[str, str], **params: Any
                ) -> list[dict[str, Any]]:
    page = ok(client.get("/v1/access-log", headers=auditor,
                         params={"min_position": head(client), **params}))
    items: list[dict[str, Any]] = page["items"]
    return items


def scene(client: TestClient, tmp_path: Path) -> dict[str, str]:
    """Every kind of person record: a registered person with a posted month (from an import,
    which also holds an unknown person's month in suspense), a back-payment, and a completed
    registration case with a material. Returns the URLs of the reads, by name."""
    reconciler = auth(client, "reconciler0", "reconciler")
    serial = held(client, tmp_path, reconciler)[0]["serial_no"]
    number = make_id_number(1)
    reviewer = auth(client, "reviewer0", "reviewer")
    backpay = ok(client.post("/v1/backpayments", headers=reviewer, json={
        "id_number": number, "employer_code": make_credit_code(1), "from_period": "2023-02",
        "to_period": "2023-03", "pay_by": "2023-05-01", "reason": "payroll"}), 201)["result"]
    admin = auth(client, "admin0", "admin")
    teller = auth(client, "teller0", "teller")
    ok(client.put("/v1/authorisations/teller0", headers=admin, json={
        "grant": ["person_registration"], "reason": "批准"}))
    case = ok(client.post("/v1/cases", headers=teller, json={
        "code": "person_registration", "applicant_name": "欧阳娜娜", "payloads": {
            "person_registration": {"id_number": APPLICANT, "name": "欧阳娜娜"}}}),
        201)["result"]
    attached = ok(client.post(f"/v1/cases/{case['case_id']}/materials", headers=teller,
                              data={"material_code": "resident_id"},
                              files={"file": ("id.png", PNG, "image/png")}), 201)["result"]
    ok(client.post(f"/v1/cases/{case['case_id']}/completion", headers=teller), 201)
    container_of(client).runner.catch_up()
    person_id = ids.person_id(container_of(client).settings.region_code, number)
    return {
        "person": f"/v1/persons/{number}",
        "person_trace": f"/v1/persons/{number}/trace",
        "account_trace": f"/v1/trace?account=personal:{person_id}:110",
        "account_trace_csv": f"/v1/trace.csv?account=personal:{person_id}:110",
        "account": f"/v1/persons/{number}/account",
        "contributions": f"/v1/persons/{number}/contributions",
        "person_cases": f"/v1/persons/{APPLICANT}/cases",
        "backpayment": f"/v1/backpayments/{backpay['backpay_id']}",
        "case": f"/v1/cases/{case['case_id']}",
        "material": f"/v1/cases/{case['case_id']}/materials/{attached['sha256']}",
        "suspense_item": f"/v1/suspense/{serial}",
    }


RESOURCES = {
    "person": "GET /v1/persons/{id_number}",
    "person_trace": "GET /v1/persons/{id_number}/trace",
    "account_trace": "GET /v1/trace",
    "account_trace_csv": "GET /v1/trace.csv",
    "account": "GET /v1/persons/{id_number}/account",
    "contributions": "GET /v1/persons/{id_number}/contributions",
    "person_cases": "GET /v1/persons/{id_number}/cases",
    "backpayment": "GET /v1/backpayments/{backpay_id}",
    "case": "GET /v1/cases/{case_id}",
    "material": "GET /v1/cases/{case_id}/materials/{sha256}",
    "suspense_item": "GET /v1/suspense/{serial_no}",
}


def test_every_person_read_needs_a_known_reason_and_is_recorded_before_it_is_answered(
        client: TestClient, tmp_path: Path) -> None:
    urls = scene(client, tmp_path)
    assert set(urls) == set(RESOURCES)
    director = auth(client, "director1", "director")  # may read every one of these routes
    auditor = auth(client, "auditor1", "auditor")
    for name, url in urls.items():
        before = head(client)
        refused = problem(client.get(url, headers=without_reason(director)), 400,
                          "access_reason_missing", REASON)
        assert REASON in refused["detail"] and "counter_service (柜面业务办理)" in \
            refused["detail"] and "judicial_assistance" in refused["detail"], name
        problem(client.get(url, headers={**director, REASON: "curiosity"}), 400,
                "access_reason_unknown", REASON)
        problem(client.get(url, headers={**director, REASON: "complaint"}), 400,
                "access_note_missing", "X-Access-Note")
        problem(client.get(url, headers={"X-Access-Reason": "audit"}), 401, "token_missing")
        assert head(client) == before, f"{name}: a refused read wrote something"

        response = client.get(url, headers={**director, REASON: "audit",
                                            "X-Request-Id": f"read-{name}"})
        assert response.status_code == 200, (name, response.text)
        assert response.headers["X-Request-Id"] == f"read-{name}"
        recorded = [e for e in log_entries(client, auditor, user="director1")
                    if e["request_id"] == f"read-{name}"]
        # the suspense item was assigned to nobody: one person; every other read: one
        assert [(e["resource"], e["reason_code"], e["roles"]) for e in recorded] == [
            (RESOURCES[name], "audit", ["director"])], name
    by_resource = {e["resource"]: e for e in log_entries(client, auditor, user="director1")}
    assert by_resource[RESOURCES["suspense_item"]]["person_id"] == str(
        ids.person_id(container_of(client).settings.region_code, UNKNOWN))
    assert by_resource[RESOURCES["suspense_item"]]["id_number_masked"] == mask_id_number(UNKNOWN)
    assert by_resource[RESOURCES["case"]]["name_masked"] == "欧阳**"
    assert by_resource[RESOURCES["case"]]["target"] == urls["case"].rsplit("/", 1)[1]
    assert by_resource[RESOURCES["material"]]["target"].endswith(urls["material"][-64:])
    assert by_resource[RESOURCES["person"]]["name_masked"] == "测**"
    assert by_resource[RESOURCES["person_cases"]]["name_masked"] == ""  # the route reads none
    traced = by_resource[RESOURCES["account_trace"]]  # known by its internal id only
    assert traced["person_id"] == by_resource[RESOURCES["person"]]["person_id"]
    assert traced["id_number_masked"] == ""
    # a fund's trace is no person's record: no reason needed, nothing recorded
    before = head(client)
    ok(client.get("/v1/trace", headers=without_reason(director), params={"account": "fund:110"}))
    assert head(client) == before


def test_a_tellers_read_is_logged_masked_and_an_auditor_sees_the_person_masked(
        client: TestClient, tmp_path: Path) -> None:
    urls = scene(client, tmp_path)
    number = make_id_number(1)
    teller = auth(client, "teller1", "teller")
    auditor = auth(client, "auditor1", "auditor")
    note = "窗口3号 投诉 TS-7"

    clear = ok(client.get(urls["person"], headers={
        **teller, REASON: "complaint", "X-Access-Note": quote(note), "X-Request-Id": "req-42"}))
    assert clear["id_number"] == number and clear["name"] == "测试1"
    assert clear["birth_date"] == "1990-01-01"

    [entry] = log_entries(client, auditor, id_number=number, user="teller1")
    assert entry["person_id"] == clear["person_id"]
    assert entry["username"] == "teller1" and entry["roles"] == ["teller"]
    assert entry["id_number_masked"] == mask_id_number(number) and entry["name_masked"] == "测**"
    assert entry["resource"] == RESOURCES["person"] and entry["target"] == ""
    assert (entry["reason_code"], entry["reason_name_zh"]) == ("complaint", "投诉处理")
    assert entry["note"] == note and entry["request_id"] == "req-42"
    assert entry["accessed_at"].endswith("+08:00")
    assert log_entries(client, auditor, person_id=clear["person_id"], user="teller1") == [entry]
    raw = client.get("/v1/access-log", headers=auditor, params={"id_number": number}).text
    assert number not in raw and "测试1" not in raw

    masked = ok(client.get(urls["person"], headers={**auditor, REASON: "audit"}))
    assert masked["id_number"] == mask_id_number(number) and masked["name"] == "测**"
    assert masked["birth_date"] is None  # with the masked number it would give the number back
    assert masked["person_id"] == clear["person_id"] and masked["sex"] == clear["sex"]
    assert [e["username"] for e in log_entries(client, auditor, id_number=number)] == [
        "auditor1", "teller1"]

    # the case archive, a person's cases and the case list: masked for the auditor only
    for headers, shown_number, shown_name in ((teller, APPLICANT, "欧阳娜娜"),
                                              (auditor, mask_id_number(APPLICANT), "欧阳**")):
        archive = ok(client.get(urls["case"], headers=headers))
        assert (archive["applicant_id_number"], archive["applicant_name"]) == (
            shown_number, shown_name)
        opened = archive["timeline"][0]["detail"]
        assert opened["applicant"]["id_number"] == shown_number
        assert opened["items"][0]["payload"] == {"id_number": shown_number, "name": shown_name}
        [listed] = ok(client.get(urls["person_cases"], headers=headers))["items"]
        assert (listed["applicant_id_number"], listed["applicant_name"]) == (
            shown_number, shown_name)
        queue = ok(client.get("/v1/cases", headers=headers, params={"scope": "all"}))["items"]
        assert [(c["applicant_id_number"], c["applicant_name"]) for c in queue] == [
            (shown_number, shown_name)]
    # a back-payment: clear for its reviewer, masked for the reconciler who collects it
    reviewer = auth(client, "reviewer1", "reviewer")
    reconciler = auth(client, "reconciler1", "reconciler")
    assert ok(client.get(urls["backpayment"], headers=reviewer))["id_number"] == number
    assert ok(client.get(urls["backpayment"], headers=reconciler))["id_number"] == \
        mask_id_number(number)


def test_reading_the_access_log_is_for_auditors_and_checked(client: TestClient) -> None:
    teller = auth(client, "teller1", "teller")
    director = auth(client, "director1", "director")
    problem(client.get("/v1/access-log", headers=teller), 403, "role_forbidden")
    assert ok(client.get("/v1/access-log", headers=without_reason(director)))["items"] == []
    problem(client.get("/v1/access-log", headers=director, params={"id_number": "4407811"}),
            422, "id_number_malformed", "id_number")
    problem(client.get("/v1/access-log", headers=director,
                       params={"from": "2024-02-01", "to": "2024-01-01"}),
            422, "date_range_reversed", "from")
    problem(client.get("/v1/access-log", headers=director, params={"limit": 0}), 422,
            "request_invalid", "limit")


def test_a_bad_note_or_request_id_is_refused_and_records_nothing(client: TestClient,
                                                                  tmp_path: Path) -> None:
    urls = scene(client, tmp_path)
    teller = auth(client, "teller1", "teller")
    before = head(client)
    problem(client.get(urls["person"], headers={**teller, "X-Access-Note": "x" * 201}), 400,
            "access_note_too_long", "X-Access-Note")
    problem(client.get(urls["person"], headers={**teller, "X-Access-Note": "%E6%8A"}), 400,
            "access_note_malformed", "X-Access-Note")
    problem(client.get(urls["person"], headers={**teller, "X-Request-Id": "a b"}), 400,
            "request_id_malformed", "X-Request-Id")
    assert head(client) == before
    # 200 Chinese characters percent-encoded fit; raw UTF-8 bytes are read as UTF-8 too
    longest = "投" * 200
    ok(client.get(urls["person"], headers={**teller, "X-Access-Note": quote(longest),
                                           "X-Request-Id": "longest"}))
    ok(client.get(urls["person"], headers={**teller, "X-Access-Note": "窗口 3".encode(),
                                           "X-Request-Id": "raw"}))  # type: ignore[dict-item]
    auditor = auth(client, "auditor1", "auditor")
    notes = {e["request_id"]: e["note"] for e in log_entries(client, auditor, user="teller1")}
    assert notes == {"longest": longest, "raw": "窗口 3"}


def test_a_suspense_item_assigned_to_another_person_records_a_read_of_both(
        client: TestClient, tmp_path: Path) -> None:
    reconciler = auth(client, "reconciler1", "reconciler")
    item = held(client, tmp_path, reconciler)[0]
    other = make_id_number(1)  # registered by the import's region, employed, base declared
    done = ok(client.post(f"/v1/suspense/{item['serial_no']}/assignment", headers=reconciler,
                          json={"id_number": other, "period": "2023-02",
                                "reason": "wrong ID number on the tax line"}), 201)
    director = auth(client, "director1", "director")
    detail = ok(client.get(f"/v1/suspense/{item['serial_no']}", headers={
        **director, "X-Request-Id": "both"}, params={"min_position": done["position"]}))
    assert (detail["id_number"], detail["assigned_id_number"]) == (UNKNOWN, other)  # in clear
    auditor = auth(client, "auditor1", "auditor")
    recorded = [e for e in log_entries(client, auditor) if e["request_id"] == "both"]
    assert sorted(e["id_number_masked"] for e in recorded) == sorted(
        mask_id_number(n) for n in (UNKNOWN, other))
    assert {e["target"] for e in recorded} == {item["serial_no"]}
