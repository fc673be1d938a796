"""`shebao serve --workers 2` as a real server: two uvicorn worker processes answer, the serving
process follows the events. A worker never catches up itself (api.app.worker_app), so a read
that waits for a command's position is answered only because the serving process follows."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from infra.bootstrap import Container
from infra.settings import Settings
from tests.e2e.test_api import (
    ACCESS_REASON,
    WAGE_FEN,
    YEAR,
    credit_code,
    id_number,
    pension_account_fen,
    posting,
)

SERVER_START_SECONDS_MAX = 90
WORKERS = 2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(child) for child in text)
    return found


@pytest.fixture
def server(settings: Settings) -> Iterator[tuple[str, str, subprocess.Popen[bytes]]]:
    with Container.open(settings) as c:
        _user, token = c.staff.add_user("teller1", ["teller"])
    port = _free_port()
    env = {**os.environ, "SHEBAO_DATA_DIR": str(settings.data_dir),
           "SHEBAO_REGION": settings.region_code}
    env.pop("SHEBAO_PG_DSN", None)
    if settings.pg_dsn:
        env["SHEBAO_PG_DSN"] = settings.pg_dsn
    process = subprocess.Popen(
        [sys.executable, "-c", "from api.cli import main; main()", "serve", "--port", str(port),
         "--workers", str(WORKERS)], env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS_MAX
        while True:
            assert process.poll() is None, "shebao serve --workers exited"
            try:
                if httpx.get(base_url + "/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "shebao serve --workers did not start"
            time.sleep(0.3)
        yield base_url, token, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_worker_processes_answer_and_the_serving_process_follows(
        server: tuple[str, str, subprocess.Popen[bytes]]) -> None:
    base_url, token, process = server
    assert len(_children(process.pid)) >= WORKERS
    teller = {"Authorization": f"Bearer {token}", **ACCESS_REASON}
    person, employer = id_number(), credit_code()
    with httpx.Client(base_url=base_url, headers=teller, timeout=30) as http:
        for path, body in (
                ("/v1/employers", {"credit_code": employer, "name": "示例制造有限公司",
                                   "employer_type": "enterprise", "risk_class": 2,
                                   "registered_on": "2020-01-01"}),
                ("/v1/persons", {"id_number": person, "name": "张三",
                                 "registered_on": "2020-01-01"}),
                (f"/v1/persons/{person}/employments", {"employer_code": employer,
                                                       "start_date": f"{YEAR}-01-01"})):
            assert http.post(path, json=body).status_code == 201, path
        assert http.post(f"/v1/persons/{person}/bases", json={
            "year": YEAR, "declared_wage_fen": WAGE_FEN}).status_code == 200
        posted = http.post("/v1/contributions", json=posting(person, employer))
        assert posted.status_code == 201, posted.text
        position = posted.json()["position"]
        credit_fen = pension_account_fen(posted.json())
    # New connections: the kernel hands them to either worker.
    for _ in range(2 * WORKERS):
        with httpx.Client(base_url=base_url, headers=teller, timeout=30) as http:
            account = http.get(f"/v1/persons/{person}/account",
                               params={"min_position": position, "wait_seconds": 20})
            assert account.status_code == 200, account.text
            assert account.json()["balance_fen"] == credit_fen
            assert account.json()["position"] >= position
