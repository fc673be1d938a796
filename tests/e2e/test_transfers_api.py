"""Pension transfers between pooling regions (跨统筹区转移接续) over HTTP and the command line, on
SQLite and PostgreSQL: the bureau's queue with its filters and the overdue flag (judged on
today at the bureau), masked for roles that do not see personal data in clear and refused to
roles that do not read the case queues; a person's transfers as a read of their record (a
reason, recorded in the access log); the person's trace showing the transfer events and the
other region's account; `shebao transfers list`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient

import api.routers.transfers
from api.app import create_app
from domain.identity import mask_name
from infra.bootstrap import Container
from infra.settings import Settings
from infra.transfer_service import accept_transfer_in, post_transfer_in, transfer_out
from tests.e2e.test_access_log_api import log_entries, without_reason
from tests.e2e.test_api import auth, head, ok, problem
from tests.e2e.test_import_api import container_of
from tests.helpers import cli, seed_region
from tests.integration.test_transfers import (
    EXAMPLE_ACCOUNT_FEN,
    EXAMPLE_MONTHS,
    EXAMPLE_POOLED_FEN,
    OTHER,
    OTHER_NAME,
    post_months,
)

BEIJING, BEIJING_NAME = "110101", "北京市东城区社会保险基金管理中心"
OUT_NO = "ZR330106A0001"
QUEUE = "/v1/transfers"


@dataclass(frozen=True)
class TransferScene:
    waiting: str  # ID number: a transfer in accepted 2025-03-10, funds due 2025-03-31
    waiting_no: str
    posted: str  # a transfer in posted with DOMAIN.md §5.3's example (175 months)
    posted_no: str
    left: str  # a transfer out remitted 2024-12-16 (12 months of 2024)
    out_total_fen: int
    position: int


def transfer_scene(container: Container) -> TransferScene:
    """Three persons, one transfer each: waiting (in), posted (in), remitted (out)."""
    region = seed_region(container, persons=3, year=2025, years=(2024,))
    waiting, posted, left = region.id_numbers
    post_months(container, region.employer_code, (waiting, posted), ["2025-01", "2025-02"])
    post_months(container, region.employer_code, (left,), [f"2024-{m:02d}" for m in range(1, 13)])
    container.ledger.end_employment(left, region.employer_code, "2024-12-31")
    remitted = transfer_out(container, left, OUT_NO, OTHER, OTHER_NAME, "2024-12-02",
                            "2024-12-16").result
    waiting_no = accept_transfer_in(container, waiting, OTHER, OTHER_NAME, "2025-03-03",
                                    "2025-03-10").result["transfer_no"]
    posted_no = accept_transfer_in(container, posted, BEIJING, BEIJING_NAME, "2025-03-04",
                                   "2025-03-11").result["transfer_no"]
    done = post_transfer_in(container, posted, posted_no, "2025-04-02", EXAMPLE_MONTHS,
                            EXAMPLE_ACCOUNT_FEN, EXAMPLE_POOLED_FEN, "ZJ-2025-0402-17",
                            "2025-04-08")
    return TransferScene(waiting, str(waiting_no), posted, str(posted_no), left,
                         int(remitted["total_fen"]), done.position)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, follow=False)) as c:
        yield c


def queue(client: TestClient, headers: dict[str, str], **params: object) -> list[dict[str, object]]:
    page = ok(client.get(QUEUE, headers=headers, params={"min_position": head(client),
                                                         **params}))
    items: list[dict[str, object]] = page["items"]
    return items


def test_the_queue_filters_by_direction_status_and_overdue_and_masks_by_role(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    scene = transfer_scene(container_of(client))
    teller = auth(client, "teller1", "teller")
    auditor = auth(client, "auditor1", "auditor")
    reconciler = auth(client, "reconciler1", "reconciler")

    everything = queue(client, teller)
    assert [t["transfer_no"] for t in everything] == [scene.posted_no, scene.waiting_no, OUT_NO]
    waiting, posted, remitted = everything[1], everything[0], everything[2]
    assert (waiting["direction"], waiting["status"], waiting["opened_on"], waiting["due_on"],
            waiting["completed_on"], waiting["total_fen"], waiting["months"]) == (
        "in", "accepted", "2025-03-10", "2025-03-31", None, None, None)
    assert waiting["id_number"] == scene.waiting and waiting["name"] == "测试1"
    assert waiting["overdue"] is True  # today is after 2025-03-31
    assert (posted["status"], posted["other_region_code"], posted["other_region_name"],
            posted["contribution_months"], posted["account_fen"], posted["pooled_fen"],
            posted["total_fen"], posted["completed_on"], posted["overdue"]) == (
        "posted", BEIJING, BEIJING_NAME, 175, EXAMPLE_ACCOUNT_FEN, EXAMPLE_POOLED_FEN,
        EXAMPLE_ACCOUNT_FEN + EXAMPLE_POOLED_FEN, "2025-04-08", False)
    assert posted["months"] == EXAMPLE_MONTHS
    assert (remitted["direction"], remitted["status"], remitted["opened_on"],
            remitted["completed_on"], remitted["due_on"], remitted["total_fen"],
            remitted["months"]) == ("out", "remitted", "2024-12-02", "2024-12-16", None,
                                    scene.out_total_fen, [["2024-01", "2024-12", 1_000_000]])

    assert [t["transfer_no"] for t in queue(client, teller, direction="out")] == [OUT_NO]
    assert [t["transfer_no"] for t in queue(client, teller, direction="in")] == [
        scene.posted_no, scene.waiting_no]
    assert [t["transfer_no"] for t in queue(client, teller, status="accepted")] == [
        scene.waiting_no]
    assert [t["transfer_no"] for t in queue(client, teller, overdue="true")] == [
        scene.waiting_no]
    assert [t["transfer_no"] for t in queue(client, teller, limit=1)] == [scene.posted_no]

    # Judged on today at the bureau: before the due day nothing is overdue.
    monkeypatch.setattr(api.routers.transfers, "business_today", lambda: date(2025, 3, 31))
    page = ok(client.get(QUEUE, headers=teller, params={"overdue": "true"}))
    assert (page["today"], page["items"]) == ("2025-03-31", [])
    assert not any(t["overdue"] for t in queue(client, teller))

    masked = queue(client, auditor)
    assert [t["id_number"] for t in masked] == [
        f"{n[:6]}********{n[-4:]}" for n in (scene.posted, scene.waiting, scene.left)]
    assert masked[0]["name"] == mask_name("测试2") and masked[0]["name"] != "测试2"
    assert log_entries(client, auditor) == []  # a queue, not a read of one person's record

    problem(client.get(QUEUE, headers=reconciler), 403, "role_forbidden")
    problem(client.get(QUEUE), 401, "token_missing")
    problem(client.get(QUEUE, headers=teller, params={"direction": "sideways"}), 422,
            "request_invalid", "direction")
    problem(client.get(QUEUE, headers=teller, params={"status": "lost"}), 422,
            "request_invalid", "status")
    problem(client.get(QUEUE, headers=teller, params={"limit": 0}), 422,
            "request_invalid", "limit")


def test_a_persons_transfers_are_a_read_of_their_record(client: TestClient) -> None:
    scene = transfer_scene(container_of(client))
    reconciler = auth(client, "reconciler1", "reconciler")
    auditor = auth(client, "auditor1", "auditor")
    url = f"/v1/persons/{scene.posted}/transfers"

    problem(client.get(url, headers=without_reason(reconciler)), 400, "access_reason_missing",
            "X-Access-Reason")
    page = ok(client.get(url, headers=reconciler, params={"min_position": scene.position}))
    assert page["position"] >= scene.position
    [item] = page["items"]
    assert (item["transfer_no"], item["direction"], item["status"], item["total_fen"],
            item["months"]) == (scene.posted_no, "in", "posted",
                                EXAMPLE_ACCOUNT_FEN + EXAMPLE_POOLED_FEN, EXAMPLE_MONTHS)
    assert "id_number" not in item  # the person is the path's
    [waiting] = ok(client.get(f"/v1/persons/{scene.waiting}/transfers", headers=reconciler,
                              params={"min_position": scene.position}))["items"]
    assert (waiting["status"], waiting["overdue"]) == ("accepted", True)
    gone = ok(client.get(f"/v1/persons/{scene.left}/transfers", headers=reconciler))
    assert [i["direction"] for i in gone["items"]] == ["out"]

    entries = log_entries(client, auditor, user="reconciler1")
    assert [e["resource"] for e in entries] == ["GET /v1/persons/{id_number}/transfers"] * 3
    problem(client.get("/v1/persons/110101199001011237/transfers", headers=reconciler), 404,
            "person_not_registered", "id_number")


def test_the_persons_trace_shows_the_transfer_and_the_other_regions_account(
        client: TestClient) -> None:
    scene = transfer_scene(container_of(client))
    auditor = auth(client, "auditor1", "auditor")
    history = ok(client.get(f"/v1/persons/{scene.left}/trace", headers=auditor,
                            params={"min_position": scene.position}))
    events = [i["event"] for i in history["items"]]
    assert "Person.PensionTransferredOut" in events
    [remitted] = [i for i in history["items"] if i["event"] == "PensionTransferOut.Remitted"]
    assert remitted["amounts"][f"region:{OTHER}"] == scene.out_total_fen
    assert remitted["amounts"]["fund:110"] < 0
    assert sum(remitted["amounts"].values()) == 0  # the whole journal is the person's

    posted = ok(client.get(f"/v1/persons/{scene.posted}/trace", headers=auditor))
    shown = [i["event"] for i in posted["items"]]
    for event in ("Person.TransferInOpened", "PensionTransferIn.Accepted",
                  "PensionTransferIn.Posted", "Person.TransferInClosed"):
        assert event in shown, event
    assert shown.index("PensionTransferIn.Accepted") < shown.index("PensionTransferIn.Posted")


def test_the_command_line_lists_the_queue(settings: Settings) -> None:
    container = Container.open(settings)
    try:
        scene = transfer_scene(container)
    finally:
        container.close()
    run = cli(settings)
    everything = run("transfers", "list")
    for number in (scene.waiting_no, scene.posted_no, OUT_NO):
        assert number in everything
    assert "3 transfers" in everything and scene.waiting not in everything  # masked
    overdue = run("transfers", "list", "--overdue")
    assert scene.waiting_no in overdue and "OVERDUE" in overdue
    assert scene.posted_no not in overdue and "1 transfers" in overdue
    assert "285130.50" in run("transfers", "list", "--status", "posted")
    out = run("transfers", "list", "--direction", "out")
    assert OUT_NO in out and scene.waiting_no not in out
    assert "--direction must be one of in, out" in run("transfers", "list", "--direction",
                                                       "sideways", code=2)
