"""Cost of the access log (查询留痕): what recording a staff member's read of a person's record
adds, on SQLite and PostgreSQL (not a test).

- record: `AccessLog.record` alone, one thread, ms per recorded read (one event, one insert);
- record ×T threads: T threads recording at once (group commit shares their transactions),
  records/s and latency percentiles;
- HTTP: the API served by uvicorn in a child process, C client threads each reading persons'
  accounts (GET /v1/persons/{id}/account, `X-Access-Reason` set) with keep-alive, requests/s and
  latency percentiles — once as served, once with recording switched off in the child (a
  baseline that exists only here), so the difference is what the access log costs a read.

    .venv/bin/python scripts/bench_access_log.py [--backends sqlite,postgres] [--pg-dsn DSN]
        [--persons 200] [--clients 50] [--requests 3000] [--records 2000] [--threads 50]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_db import scratch_database  # noqa: E402  (scripts/ is on sys.path)

from infra.access_log import AccessRequest, PersonRef  # noqa: E402
from infra.bootstrap import Container  # noqa: E402
from infra.demo import load_demo, plan_region  # noqa: E402
from infra.settings import Settings  # noqa: E402

RESOURCE = "GET /v1/persons/{id_number}/account"
SERVER_START_SECONDS_MAX = 60
PERCENTILES = (50, 90, 99)

# The child process: serve the API; with --no-record, reads are not recorded (baseline only).
SERVER = """
import sys, uvicorn
from api.app import create_app
from infra.settings import Settings
if sys.argv[1] == "no-record":
    import api.access
    api.access.PersonRead.record = lambda self, *persons, target="": None
uvicorn.run(create_app(Settings.from_env()), host="127.0.0.1", port=int(sys.argv[2]),
            log_level="warning")
"""


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    return {f"p{p}": ordered[min(len(ordered) - 1, len(ordered) * p // 100)]
            for p in PERCENTILES}


def seed(settings: Settings, persons: int) -> tuple[list[str], str]:
    """The demo region (24 months of contributions, interest) and a teller's token."""
    with Container.open(settings) as c:
        load_demo(c, persons)
        c.runner.catch_up()
        _user, token = c.staff.add_user("bench-teller", ["teller"])
    return [str(p["id_number"]) for p in plan_region(persons).people], token


def bench_record(settings: Settings, records: int, threads: int) -> dict[str, float]:
    with Container.open(settings) as c:
        log = c.access_log
        request = AccessRequest("bench-teller", ("teller",),
                                log.policy.reasons["counter_service"], "", "bench")
        person = PersonRef(str(uuid.uuid4()), "440781199001011238", "张三")
        for _ in range(50):  # warm up: connections, statements
            log.record(request, RESOURCE, [person])
        started = time.perf_counter()
        for _ in range(records):
            log.record(request, RESOURCE, [person])
        single_ms = (time.perf_counter() - started) / records * 1000
        latencies: list[float] = []
        lock = threading.Lock()

        def worker(n: int) -> None:
            mine = []
            for _ in range(n):
                t0 = time.perf_counter()
                log.record(request, RESOURCE, [person])
                mine.append((time.perf_counter() - t0) * 1000)
            with lock:
                latencies.extend(mine)

        per_thread = max(records // threads, 1)
        workers = [threading.Thread(target=worker, args=(per_thread,)) for _ in range(threads)]
        started = time.perf_counter()
        for t in workers:
            t.start()
        for t in workers:
            t.join()
        seconds = time.perf_counter() - started
        return {"single_ms": single_ms, "threads_per_s": len(latencies) / seconds,
                **{f"threads_{k}": v for k, v in percentiles(latencies).items()}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_http(settings: Settings, numbers: list[str], token: str, clients: int,
               requests: int, record: bool) -> dict[str, float]:
    port = free_port()
    env = {**os.environ, "SHEBAO_REGION": settings.region_code,
           "SHEBAO_DATA_DIR": str(settings.data_dir), "PYTHONPATH": str(ROOT)}
    if settings.pg_dsn:
        env["SHEBAO_PG_DSN"] = settings.pg_dsn
    server = subprocess.Popen([sys.executable, "-c", SERVER, "record" if record else "no-record",
                               str(port)], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}", "X-Access-Reason": "counter_service"}
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS_MAX
        while True:
            try:
                if httpx.get(base + "/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the API server did not start")
            time.sleep(0.2)
        latencies: list[float] = []
        failures: list[str] = []
        lock = threading.Lock()
        per_client = max(requests // clients, 1)

        def client(k: int) -> None:
            rng = random.Random(k)
            mine = []
            with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
                for _ in range(per_client):
                    url = f"/v1/persons/{rng.choice(numbers)}/account"
                    t0 = time.perf_counter()
                    response = http.get(url)
                    mine.append((time.perf_counter() - t0) * 1000)
                    if response.status_code != 200:
                        with lock:
                            failures.append(response.text[:200])
            with lock:
                latencies.extend(mine)

        client(0)  # warm-up: connections, caches; not counted
        latencies.clear()
        workers = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
        started = time.perf_counter()
        for t in workers:
            t.start()
        for t in workers:
            t.join()
        seconds = time.perf_counter() - started
        if failures:
            raise RuntimeError(f"{len(failures)} requests failed, e.g. {failures[0]}")
        return {"requests_per_s": len(latencies) / seconds, **percentiles(latencies)}
    finally:
        server.terminate()
        server.wait(timeout=30)


def run(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    numbers, token = seed(settings, args.persons)
    result: dict[str, Any] = {"record": bench_record(settings, args.records, args.threads)}
    result["http_baseline"] = bench_http(settings, numbers, token, args.clients, args.requests,
                                         record=False)
    result["http_recorded"] = bench_http(settings, numbers, token, args.clients, args.requests,
                                         record=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--pg-dsn", default=os.environ.get("SHEBAO_BENCH_PG_DSN")
                        or os.environ.get("SHEBAO_TEST_PG_DSN"),
                        help="admin DSN; a database is created for the run and dropped")
    parser.add_argument("--persons", type=int, default=200)
    parser.add_argument("--records", type=int, default=2000, help="records, single thread")
    parser.add_argument("--threads", type=int, default=50, help="threads recording at once")
    parser.add_argument("--clients", type=int, default=50, help="concurrent HTTP clients")
    parser.add_argument("--requests", type=int, default=3000, help="HTTP reads in all")
    args = parser.parse_args()
    results: list[tuple[str, dict[str, Any]]] = []
    for backend in args.backends.split(","):
        tmp = Path(tempfile.mkdtemp(prefix="shebao-bench-access-"))
        try:
            if backend == "postgres":
                if not args.pg_dsn:
                    print("postgres: skipped (give --pg-dsn or SHEBAO_BENCH_PG_DSN)",
                          file=sys.stderr)
                    continue
                with scratch_database(args.pg_dsn, "shebao_bench_access") as dsn:
                    results.append((backend, run(Settings(data_dir=tmp, pg_dsn=dsn), args)))
            else:
                results.append((backend, run(Settings(data_dir=tmp), args)))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        print(f"{backend}: done", file=sys.stderr)

    print(f"\nrecord: one thread, then {args.threads} threads at once (ms per record)")
    print(f"{'backend':<10}{'1 thread ms':>12}{'records/s':>11}{'p50':>7}{'p90':>7}{'p99':>7}")
    for backend, r in results:
        rec = r["record"]
        print(f"{backend:<10}{rec['single_ms']:>12.2f}{rec['threads_per_s']:>11,.0f}"
              f"{rec['threads_p50']:>7.1f}{rec['threads_p90']:>7.1f}{rec['threads_p99']:>7.1f}")
    print(f"\nHTTP GET /v1/persons/{{id}}/account, {args.clients} clients, {args.requests:,} "
          "reads (ms)")
    print(f"{'backend':<10}{'recording':<11}{'reads/s':>9}{'p50':>7}{'p90':>7}{'p99':>7}")
    for backend, r in results:
        for label, key in (("off", "http_baseline"), ("on", "http_recorded")):
            h = r[key]
            print(f"{backend:<10}{label:<11}{h['requests_per_s']:>9,.0f}{h['p50']:>7.1f}"
                  f"{h['p90']:>7.1f}{h['p99']:>7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
