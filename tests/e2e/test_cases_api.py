"""Counter business over HTTP, on SQLite and PostgreSQL: an administrator authorises a teller,
who accepts an employer registration (risk level 1) and uploads its materials; reviewer, deputy
director and director find it in their queues and sign; the archive view shows the timeline,
signatures, materials and the resulting event; a material downloads hash-checked, and a
tampered file is refused; the report counts it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from infra.settings import Settings
from tests.e2e.test_api import auth, credit_code, id_number, ok, problem
from tests.e2e.test_import_api import container_of

PNG = b"\x89PNG\r\n\x1a\n" + b"licence scan" * 50
PDF = b"%PDF-1.4\n" + b"id card scan" * 50


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, follow=False)) as c:
        yield c


def test_a_level_1_case_from_counter_to_archive(client: TestClient) -> None:
    admin = auth(client, "admin1", "admin")
    teller = auth(client, "teller1", "teller")
    reviewer = auth(client, "reviewer1", "reviewer")
    deputy = auth(client, "deputy1", "deputy_director")
    director = auth(client, "director1", "director")
    auditor = auth(client, "auditor1", "auditor")

    catalogue = ok(client.get("/v1/catalogue", headers=teller))
    item = next(i for i in catalogue["items"] if i["code"] == "employer_registration")
    assert item["risk_level"] == 1 and len(item["steps"]) == 3
    code = credit_code(61)
    body = {"code": "employer_registration", "applicant_name": "示例机械有限公司",
            "payloads": {"employer_registration": {
                "credit_code": code, "name": "示例机械有限公司", "employer_type": "enterprise",
                "risk_class": 2}}}
    problem(client.post("/v1/cases", headers=teller, json=body), 403, "item_not_authorised")
    problem(client.put("/v1/authorisations/teller1", headers=teller, json={
        "grant": ["employer_registration"], "reason": "x"}), 403, "role_forbidden")
    ok(client.put("/v1/authorisations/teller1", headers=admin, json={
        "grant": ["employer_registration", "person_registration"],
        "reason": "权限申请 2025-01 已批准"}))

    case = ok(client.post("/v1/cases", headers=teller, json=body), 201)["result"]
    case_id = case["case_id"]
    assert case["missing_materials"] == ["business_licence", "legal_rep_id"]
    url = f"/v1/cases/{case_id}"
    for material, content, name in (("business_licence", PNG, "营业执照.png"),
                                    ("legal_rep_id", PDF, "身份证.pdf")):
        done = ok(client.post(url + "/materials", headers=teller, data={
            "material_code": material}, files={"file": (name, content, "image/png")}), 201)
    assert done["result"]["missing_materials"] == []
    problem(client.post(url + "/materials", headers=teller, data={"material_code": "other"},
                        files={"file": ("x.png", PNG, "image/png")}), 422, "material_unknown",
            "material_code")

    problem(client.post(url + "/signatures", headers=teller, json={}), 403, "role_forbidden")
    queue = ok(client.get("/v1/cases", headers=reviewer, params={
        "scope": "to_sign", "min_position": done["position"]}))
    assert [c["case_id"] for c in queue["items"]] == [case_id]
    assert ok(client.get("/v1/cases", headers=deputy, params={"scope": "to_sign"}))["items"] == []
    ok(client.post(url + "/signatures", headers=reviewer, json={"comment": "材料齐全"}), 201)
    problem(client.post(url + "/signatures", headers=director, json={}), 403,
            "role_not_allowed_at_step")
    ok(client.post(url + "/signatures", headers=deputy, json={}), 201)
    final = ok(client.post(url + "/signatures", headers=director, json={"comment": "同意"}),
               201)
    assert final["result"]["status"] == "completed"
    ok(client.post(url + "/rating", headers=teller, json={"score": 5}), 201)

    archive = ok(client.get(url, headers=auditor, params={"min_position": final["position"] + 1}))
    assert archive["status"] == "completed" and archive["rating"] == 5
    assert [s["signer"] for s in archive["signatures"]] == ["reviewer1", "deputy1", "director1"]
    assert [t["event"] for t in archive["timeline"]] == [
        "Opened", "MaterialAttached", "MaterialAttached", "Signed", "Signed", "Signed",
        "Completed", "Rated"]
    assert [e["event"] for e in archive["effects"]] == ["Employer.Registered"]
    assert ok(client.get(f"/v1/employers/{code}", headers=auditor))["name"] == "示例机械有限公司"

    sha = archive["materials"][0]["sha256"]
    download = client.get(f"{url}/materials/{sha}", headers=auditor)
    assert download.status_code == 200 and download.content == PNG
    blob = Path(container_of(client).settings.blob_dir) / sha[:2] / sha[2:4] / sha
    blob.write_bytes(PNG + b"tampered")
    problem(client.get(f"{url}/materials/{sha}", headers=auditor), 500, "material_corrupted")

    report = ok(client.get("/v1/cases/report", headers=director))
    row = next(i for i in report["items"] if i["code"] == "employer_registration")
    assert (row["opened"], row["completed"], row["average_rating"]) == (1, 1, 5.0)


def test_a_persons_business_archive(client: TestClient) -> None:
    admin = auth(client, "admin1", "admin")
    teller = auth(client, "teller1", "teller")
    ok(client.put("/v1/authorisations/teller1", headers=admin, json={
        "grant": ["person_registration"], "reason": "批准"}))
    number = id_number(sequence=71)
    case = ok(client.post("/v1/cases", headers=teller, json={
        "code": "person_registration", "payloads": {"person_registration": {
            "id_number": number, "name": "陈七"}}}), 201)["result"]
    ok(client.post(f"/v1/cases/{case['case_id']}/materials", headers=teller,
                   data={"material_code": "resident_id"},
                   files={"file": ("id.png", PNG, "image/png")}), 201)
    done = ok(client.post(f"/v1/cases/{case['case_id']}/completion", headers=teller), 201)
    archive = ok(client.get(f"/v1/persons/{number}/cases", headers=teller,
                            params={"min_position": done["position"]}))
    assert [(c["code"], c["status"]) for c in archive["items"]] == [
        ("person_registration", "completed")]
    mine = ok(client.get("/v1/cases", headers=teller, params={"scope": "mine"}))
    assert mine["items"][0]["due_today"] is False and mine["items"][0]["overdue"] is False
