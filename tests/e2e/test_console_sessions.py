"""The console's sessions live in the read-model database and are shared by every worker
process: two apps on the same store stand for two uvicorn workers. A sign-in, a chosen reason,
a message for the next page, the idle time and a sign-out made through one are seen by the
other; the table holds only the SHA-256 of a session id; several processes may create the table
at once."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.console.sessions import (
    IDLE_SECONDS_MAX,
    LAST_SEEN_WRITE_INTERVAL_SECONDS,
    TABLE,
    SessionStore,
)
from infra.bootstrap import Container
from infra.settings import Settings
from infra.views_db import ViewsDb
from tests.e2e.test_console import access_entries, csrf_of, seeded, token_of

STORES_STARTING_AT_ONCE = 4
UNKNOWN_CASE_ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def two_workers(settings: Settings) -> Iterator[tuple[TestClient, TestClient]]:
    """Two apps on one store, each with its own container (connections, caches): as two
    worker processes of `shebao serve`."""
    with TestClient(create_app(settings, follow=False)) as first, \
            TestClient(create_app(settings, follow=False)) as second:
        yield first, second


def browser_on(worker: TestClient, cookies: dict[str, str]) -> TestClient:
    """A browser whose next requests reach `worker`, holding the cookies it got elsewhere."""
    browser = TestClient(worker.app)
    browser.cookies.update(cookies)
    return browser


def test_a_session_started_on_one_worker_is_valid_on_another_until_signed_out_there(
        two_workers: tuple[TestClient, TestClient]) -> None:
    first, second = two_workers
    region = seeded(first)
    number = region.id_numbers[0]
    signed_in = first.post("/console/login",
                           data={"token": token_of(first, "reviewer1", "reviewer")},
                           follow_redirects=False)
    assert signed_in.status_code == 303
    cookies = dict(signed_in.cookies)
    on_second = browser_on(second, cookies)
    on_first = browser_on(first, cookies)

    home = on_second.get("/console/", follow_redirects=False)
    assert home.status_code == 200 and "reviewer1" in home.text
    csrf = csrf_of(home.text)
    assert csrf == csrf_of(on_first.get("/console/").text)  # one session, one CSRF token

    # The reason chosen on the first worker covers reads on the second.
    chosen = on_first.post("/console/persons/search", data={
        "csrf_token": csrf, "id_number": number, "reason": "counter_service"},
        follow_redirects=False)
    assert chosen.status_code == 303
    profile = on_second.get(f"/console/persons/{number}")
    assert profile.status_code == 200 and "请选择查询事由" not in profile.text
    [read] = access_entries(second, username="reviewer1")
    assert read["reason_code"] == "counter_service"

    # A message left by a form on the first worker shows once, on the second.
    refused = on_first.post(f"/console/cases/{UNKNOWN_CASE_ID}/sign",
                            data={"csrf_token": csrf}, follow_redirects=False)
    assert refused.status_code == 303
    assert "未找到该办件" in on_second.get("/console/").text
    assert "未找到该办件" not in on_first.get("/console/").text

    out = on_second.post("/console/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    after = on_first.get("/console/", follow_redirects=False)
    assert after.status_code == 303 and after.headers["location"].startswith("/console/login")


def test_idle_time_counts_from_the_last_request_on_any_worker(settings: Settings) -> None:
    now = [1_700_000_000.0]
    with Container.open(settings) as one, Container.open(settings) as other:
        first = SessionStore(one.views, clock=lambda: now[0])
        second = SessionStore(other.views, clock=lambda: now[0])
        session = first.start("teller1")
        half_idle = IDLE_SECONDS_MAX * 2 // 3
        assert half_idle > LAST_SEEN_WRITE_INTERVAL_SECONDS
        now[0] += half_idle
        assert second.get(session.session_id) is not None  # seen on the second worker
        now[0] += half_idle  # longer than the idle limit after the sign-in
        assert first.get(session.session_id) is not None  # but not since the last request
        now[0] += IDLE_SECONDS_MAX + 1
        assert second.get(session.session_id) is None
        assert first.get(session.session_id) is None and len(first) == 0  # the row dropped


def test_the_table_holds_the_sha256_of_a_session_id_never_the_id(settings: Settings) -> None:
    with Container.open(settings) as container:
        store = SessionStore(container.views)
        session = store.start("teller1")
        [row] = container.views.query(f"SELECT * FROM {TABLE}")
        assert hashlib.sha256(session.session_id.encode()).hexdigest() in row
        assert not any(session.session_id in str(value) for value in row)
        assert store.get(session.session_id + "x") is None
        assert store.get("x" * 1000) is None


def test_workers_starting_at_once_all_open_the_session_store(settings: Settings) -> None:
    """Each thread has its own connections, as a worker process has: on PostgreSQL, CREATE
    TABLE IF NOT EXISTS at the same moment in two transactions fails without the lock."""
    Container.open(settings).close()  # the region's schema, as the app's container makes it
    gate = threading.Barrier(STORES_STARTING_AT_ONCE)
    errors: list[BaseException] = []
    views = [ViewsDb(settings) for _ in range(STORES_STARTING_AT_ONCE)]

    def open_store(db: ViewsDb) -> None:
        try:
            gate.wait()
            SessionStore(db).start("teller1")
        except BaseException as e:  # reported below, in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=open_store, args=(db,)) for db in views]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert len(SessionStore(views[0])) == STORES_STARTING_AT_ONCE
    finally:
        for db in views:
            db.close()
