"""Suspense clearing over HTTP, on SQLite and PostgreSQL: list held items (ID numbers masked),
assign them to a person and period (posted at once), refund one, a second decision refused, an
Idempotency-Key replay, roles, and a bad period as a problem."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from domain.identity import mask_id_number
from infra.settings import Settings
from tests.e2e.test_api import auth, ok, problem
from tests.e2e.test_import_api import UPLOAD, collection_file, container_of
from tests.helpers import SEED_WAGE_FEN, make_id_number

UNKNOWN = make_id_number(900)  # the person whose month collection_file holds in suspense


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, follow=False)) as c:
        yield c


def held(client: TestClient, tmp_path: Path, reconciler: dict[str, str]) -> list[dict]:  # type: ignore[type-arg]
    content = collection_file(client, tmp_path, rejected=0)
    done = ok(client.post(UPLOAD, headers=reconciler,
                          files={"file": ("sw.csv", content, "text/csv")}), 201)
    page = ok(client.get("/v1/suspense", headers=reconciler,
                         params={"status": "held", "batch": done["batch_id"],
                                 "min_position": done["position"]}))
    items: list[dict] = page["items"]  # type: ignore[type-arg]
    return items


def test_a_reconciler_clears_suspense_by_assignment_and_refund(client: TestClient,
                                                              tmp_path: Path) -> None:
    reconciler = auth(client, "reconciler1", "reconciler")
    items = held(client, tmp_path, reconciler)
    assert len(items) == 5
    assert all("*" in i["id_number"] and i["status"] == "held" for i in items)
    ledger = container_of(client).ledger
    ledger.register_person(UNKNOWN, "新参保", registered_on="2015-01-01")
    ledger.declare_base(UNKNOWN, 2023, SEED_WAGE_FEN)

    *to_assign, to_refund = items
    position = 0
    for item in to_assign:
        done = ok(client.post(f"/v1/suspense/{item['serial_no']}/assignment",
                              headers=reconciler, json={
                                  "id_number": UNKNOWN, "period": "2023-01",
                                  "reason": "person registered late"}), 201)
        assert done["result"]["status"] == "assigned"
        assert done["result"]["decided_by"] == "reconciler1"
        position = done["position"]
    refund = ok(client.post(f"/v1/suspense/{to_refund['serial_no']}/refund",
                            headers={**reconciler, "Idempotency-Key": "refund-1"},
                            json={"reason": "错收", "reference": "TF-1"}), 201)
    assert refund["replayed"] is False
    replay = ok(client.post(f"/v1/suspense/{to_refund['serial_no']}/refund",
                            headers={**reconciler, "Idempotency-Key": "refund-1"},
                            json={"reason": "错收", "reference": "TF-1"}), 201)
    assert replay["replayed"] is True and replay["result"] == refund["result"]
    problem(client.post(f"/v1/suspense/{to_refund['serial_no']}/assignment",
                        headers=reconciler, json={"id_number": UNKNOWN, "period": "2023-01",
                                                  "reason": "after all"}),
            409, "suspense_already_decided", "serial_no")

    detail = ok(client.get(f"/v1/suspense/{to_assign[0]['serial_no']}", headers=reconciler,
                           params={"min_position": refund["position"]}))
    # A reconciler sees ID numbers masked (domain/policy_data/access.toml); a director in clear.
    assert detail["id_number"] == detail["assigned_id_number"] == mask_id_number(UNKNOWN)
    assert detail["status"] == "assigned" and detail["decided_position"] <= position
    assert ok(client.get("/v1/suspense", headers=reconciler,
                         params={"status": "held"}))["items"] == []
    funds = ok(client.get("/v1/funds", headers=reconciler))
    accounts = {a["account"]: a for a in funds["accounts"]}
    assert accounts["suspense"]["balance_fen"] == 0
    assert accounts["bank:payout"]["credit_fen"] == to_refund["amount_fen"]
    history = ok(client.get(f"/v1/persons/{UNKNOWN}/contributions", headers=reconciler))
    assert [h["kind"] for h in history["items"]] == ["posted"] * 4


def test_roles_and_bad_input(client: TestClient, tmp_path: Path) -> None:
    reconciler = auth(client, "reconciler1", "reconciler")
    teller = auth(client, "teller1", "teller")
    auditor = auth(client, "auditor1", "auditor")
    item = held(client, tmp_path, reconciler)[0]
    url = f"/v1/suspense/{item['serial_no']}"
    body = {"id_number": UNKNOWN, "period": "2023-01", "reason": "r"}
    problem(client.get("/v1/suspense", headers=teller), 403, "role_forbidden")
    problem(client.post(url + "/assignment", headers=teller, json=body), 403, "role_forbidden")
    problem(client.post(url + "/refund", headers=auditor,
                        json={"reason": "r", "reference": "T"}), 403, "role_forbidden")
    assert ok(client.get(url, headers=auditor))["serial_no"] == item["serial_no"]
    problem(client.post(url + "/assignment", headers=reconciler,
                        json={**body, "period": "2023-13"}), 422, "period_out_of_range",
            "period")
    problem(client.post(url + "/assignment", headers=reconciler, json=body), 404,
            "person_not_registered", "id_number")
    problem(client.get("/v1/suspense/NO-SUCH", headers=reconciler), 404, "suspense_not_found",
            "serial_no")
    problem(client.get("/v1/suspense", headers=reconciler, params={"status": "lost"}), 422,
            "request_invalid", "status")
