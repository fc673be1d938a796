"""转移接续 in the web console, on SQLite and PostgreSQL, without a browser: the person profile's
transfer table (direction, number, other region, status, dates, months and the money in yuan),
the queue page with its 逾期未到账 filter for the roles that read the case queues (masked for
those that see personal data masked), and the other region's account named in the person's
trace and on the fund balances."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from infra.settings import Settings
from tests.e2e.test_console import container_of, csrf_of, menu_of, signed_in
from tests.e2e.test_transfers_api import (
    BEIJING,
    BEIJING_NAME,
    OUT_NO,
    TransferScene,
    transfer_scene,
)
from tests.integration.test_transfers import OTHER, OTHER_NAME


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, follow=False)) as c:
        yield c


def scene_of(client: TestClient) -> TransferScene:
    container = container_of(client)
    scene = transfer_scene(container)
    container.runner.catch_up()
    return scene


def transfer_rows(page: str, table_id: str) -> list[list[str]]:
    """The table's body rows as the text of their cells (tags dropped)."""
    table = re.search(rf'<table id="{table_id}">.*?</table>', page, re.S)
    assert table, f"no table {table_id}"
    body = re.search(r"<tbody>(.*?)</tbody>", table.group(0), re.S)
    assert body
    return [[" ".join(re.sub(r"<[^>]+>", " ", cell).split())
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)]


def test_the_profile_shows_the_persons_transfers(client: TestClient) -> None:
    scene = scene_of(client)
    teller = signed_in(client, "teller1", "teller")
    csrf = csrf_of(teller.get("/console/persons").text)
    teller.post("/console/persons/search", data={
        "csrf_token": csrf, "id_number": scene.posted, "reason": "counter_service"})

    page = teller.get(f"/console/persons/{scene.posted}").text
    assert "<h2>转移接续</h2>" in page
    assert transfer_rows(page, "person-transfers") == [[
        "转入", scene.posted_no, f"{BEIJING} {BEIJING_NAME}", "已记账", "2025-03-11",
        "2025-04-01", "2025-04-08", "175", "139,330.50", "145,800.00", "285,130.50"]]

    [waiting] = transfer_rows(teller.get(f"/console/persons/{scene.waiting}").text,
                              "person-transfers")
    assert waiting == ["转入", scene.waiting_no, f"{OTHER} {OTHER_NAME}", "已受理待到账 逾期未到账",
                       "2025-03-10", "2025-03-31", "—", "—", "—", "—", "—"]
    [left] = transfer_rows(teller.get(f"/console/persons/{scene.left}").text,
                           "person-transfers")
    assert left[:8] == ["转出", OUT_NO, f"{OTHER} {OTHER_NAME}", "已转出", "2024-12-02", "—",
                        "2024-12-16", "12"]
    assert left[10] == "24,000.00"


def test_the_queue_page_filters_overdue_transfers_for_case_readers(client: TestClient) -> None:
    scene = scene_of(client)
    teller = signed_in(client, "teller1", "teller")
    home = teller.get("/console/").text
    assert "转移接续" in menu_of(home)
    everything = teller.get("/console/transfers").text
    assert [r[1] for r in transfer_rows(everything, "transfer-queue")] == [
        scene.posted_no, scene.waiting_no, OUT_NO]
    assert f'href="/console/persons/{scene.waiting}"' in everything  # to the profile
    overdue = teller.get("/console/transfers?view=overdue").text
    assert '<a href="/console/transfers?view=overdue" aria-current="page">逾期未到账</a>' in overdue
    [row] = transfer_rows(overdue, "transfer-queue")
    assert row[1] == scene.waiting_no and "逾期未到账" in row[4]
    assert [r[1] for r in transfer_rows(teller.get("/console/transfers?view=remitted").text,
                                        "transfer-queue")] == [OUT_NO]
    unknown = teller.get("/console/transfers?view=lost")
    assert unknown.status_code == 422 and "view" in unknown.text

    auditor = signed_in(client, "auditor1", "auditor")
    masked = auditor.get("/console/transfers").text
    assert scene.waiting not in masked and scene.waiting[:6] + "********" in masked
    assert "/console/persons/" not in masked  # no link with a masked number

    reconciler = signed_in(client, "reconciler1", "reconciler")
    assert "转移接续" not in menu_of(reconciler.get("/console/").text)
    refused = reconciler.get("/console/transfers")
    assert refused.status_code == 403 and "无权访问" in refused.text


def test_the_other_regions_account_is_named_in_the_trace_and_the_fund_balances(
        client: TestClient) -> None:
    scene = scene_of(client)
    auditor = signed_in(client, "auditor1", "auditor")
    gate = auditor.get(f"/console/persons/{scene.left}/trace")
    auditor.post("/console/reason", data={"csrf_token": csrf_of(gate.text), "reason": "audit"})
    trace = auditor.get(f"/console/persons/{scene.left}/trace").text
    assert "转出基金划转" in trace and "养老保险关系转出" in trace
    assert f"其他统筹地区 {OTHER}" in trace
    funds = auditor.get("/console/funds").text
    assert f"其他统筹地区 {OTHER}" in funds and f"其他统筹地区 {BEIJING}" in funds
    account = auditor.get(f"/console/trace?account=region:{OTHER}").text
    assert f"其他统筹地区 {OTHER}" in account and "转出基金划转" in account
