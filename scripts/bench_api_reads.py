"""Benchmark of the API's person reads over HTTP on loopback (not a test): one person's statement
as JSON and as PDF, and GET /v1/persons/{id}/account, against `shebao serve` on a demo region.

For each kind it prints p50/p99 latency and requests/s for: one client (each request sent as soon
as the last is answered: the per-request cost), `--clients` concurrent clients likewise
(saturation), and `--clients` clients each sending one request every `--interval` seconds (an
offered load of clients / interval per second: the issue's target is p99 under that load).

    .venv/bin/python scripts/bench_api_reads.py --pg-dsn DSN [--persons 10000] [--keep NAME]
        [--clients 50] [--seconds 15] [--kinds json,pdf,account] [--workers N]

`--keep NAME` loads the demo into database NAME once and reuses it on later runs (the data
directory is /tmp/NAME), so that a change can be measured before and after on the same data;
without it a database is made for the run and dropped after. A freshly loaded demo is clustered
(`shebao projections cluster`) before the server starts, as an operator would after a load.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import psycopg
from bench_db import kept_database  # scripts/ is on sys.path

from infra.bootstrap import Container
from infra.demo import load_demo
from infra.settings import Settings

PATHS: dict[str, Callable[[str], str]] = {
    "json": lambda number: f"/v1/persons/{number}/statements/2024",
    "pdf": lambda number: f"/v1/persons/{number}/statements/2024.pdf",
    "account": lambda number: f"/v1/persons/{number}/account",
}
SERVER_START_SECONDS_MAX = 120


def prepare(settings: Settings, persons: int) -> tuple[list[str], str]:
    """Load the demo region when the store is empty; the persons' ID numbers and a token."""
    with Container.open(settings) as c:
        if not c.store.max_position():
            load_demo(c, persons)
            c.runner.catch_up()
            # As an operator would after a load (README "Storage and read models").
            c.runner.cluster()
        c.runner.catch_up()
        numbers = [str(orjson.loads(row[0])["id_number"]) for row in c.views.query(
            "SELECT data FROM person_facts WHERE kind = 'registered'")]
        _user, token = c.staff.add_user("bench", ["teller"])
    return numbers, token


def serve(settings: Settings, workers: int = 1) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    env = {**os.environ, "SHEBAO_DATA_DIR": str(settings.data_dir),
           "SHEBAO_REGION": settings.region_code}
    if settings.pg_dsn:
        env["SHEBAO_PG_DSN"] = settings.pg_dsn
    server = subprocess.Popen([sys.executable, "-c", "from api.cli import main; main()",
                               "serve", "--port", str(port), "--workers", str(workers)],
                              env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + SERVER_START_SECONDS_MAX
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server, port
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError("the API server did not start") from None
            time.sleep(0.2)


CLOCK_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes (all their threads) so far, from /proc."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS_PER_SECOND


def steal_seconds() -> float:
    """CPU time this virtual machine's host gave to others so far (all CPUs): a phase with much
    of it measured a slower machine."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return int(fields[8]) / CLOCK_TICKS_PER_SECOND if len(fields) > 8 else 0.0


def server_pids(server: subprocess.Popen[bytes]) -> list[int]:
    """The server and its worker processes."""
    children: list[int] = []
    for task in Path(f"/proc/{server.pid}/task").iterdir():
        with contextlib.suppress(OSError):
            children.extend(int(c) for c in (task / "children").read_text().split())
    return [server.pid, *children]


def database_backend_pids(name: str) -> list[int]:
    """PostgreSQL's backends serving database `name` (their process titles name it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
                if title.startswith(b"postgres:") and f" {name} ".encode() in title:
                    found.append(int(entry.name))
    return found


def run(port: int, path_of: Callable[[str], str], numbers: list[str], headers: dict[str, str],
        clients: int, seconds: float, interval: float,
        timeline: list[tuple[float, float]] | None = None) -> dict[str, float]:
    """`clients` threads, each on its own keep-alive connection, for `seconds`; interval 0:
    closed loop, else one request every `interval` seconds per client. `timeline` gets
    (seconds since start, latency) of each request: where the slow ones cluster."""
    latencies: list[float] = []
    started = time.perf_counter()
    errors = [0]
    stop_at = time.monotonic() + seconds

    def client(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        next_at = time.monotonic() + rng.random() * interval
        while time.monotonic() < stop_at:
            if interval:
                time.sleep(max(0.0, next_at - time.monotonic()))
                next_at += interval
            t0 = time.perf_counter()
            conn.request("GET", path_of(rng.choice(numbers)), headers=headers)
            response = conn.getresponse()
            response.read()
            latencies.append(time.perf_counter() - t0)
            if timeline is not None:
                timeline.append((t0 - started, latencies[-1]))
            if response.status != 200:
                errors[0] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return {"p50_ms": 1000 * latencies[len(latencies) // 2],
            "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
            "per_s": len(latencies) / seconds, "errors": errors[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-dsn", default=os.environ.get("SHEBAO_BENCH_PG_DSN")
                        or os.environ.get("SHEBAO_TEST_PG_DSN"))
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--keep", help="database name to load once and reuse")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--kinds", default="json,pdf,account")
    parser.add_argument("--workers", type=int, default=1, help="`shebao serve --workers`")
    parser.add_argument("--timeline", type=Path,
                        help="write each request's start (s) and latency (ms) of every phase "
                             "to this CSV (kind, load, start_s, latency_ms)")
    parser.add_argument("--loads", default="single,saturating,paced",
                        help="which of: single (1 client), saturating (clients without pause), "
                             "paced (clients at one request per interval)")
    args = parser.parse_args()
    if not args.pg_dsn:
        parser.error("give --pg-dsn (an admin DSN; the demo gets a database of its own)")
    name = args.keep or f"shebao_bench_reads_{os.getpid()}"
    dsn, _made = kept_database(args.pg_dsn, name)
    settings = Settings(data_dir=Path("/tmp") / name, pg_dsn=dsn)
    try:
        started = time.perf_counter()
        numbers, token = prepare(settings, args.persons)
        print(f"{len(numbers):,} persons ready in {time.perf_counter() - started:.0f} s",
              file=sys.stderr)
        server, port = serve(settings, args.workers)
        try:
            headers = {"Authorization": f"Bearer {token}",
                       "X-Access-Reason": "statement_request"}
            run(port, PATHS["json"], numbers, headers, 4, 2.0, 0.0)  # warm up
            # CPU per request is what a busy machine disturbs least: the server's processes
            # (workers and follower) and the database's backends, over the phase.
            print(f"{'kind':<9}{'load':<22}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
                  f"{'server CPU ms/req':>19}{'of which follower':>19}{'PG CPU ms/req':>15}"
                  f"{'steal %':>9}")
            timeline_rows: list[str] = []
            for kind in args.kinds.split(","):
                loads = {"single": ("1 client", 1, 0.0),
                         "saturating": (f"{args.clients} clients", args.clients, 0.0),
                         "paced": (f"{args.clients} × 1/{args.interval:g}s", args.clients,
                                   args.interval)}
                for label, clients, interval in (loads[k] for k in args.loads.split(",")):
                    pids = server_pids(server)
                    backends = database_backend_pids(name)
                    # With workers, the serving process (pids[0]) only follows the events.
                    follower = pids[:1] if args.workers > 1 else []
                    cpu_before = (cpu_seconds(pids), cpu_seconds(backends),
                                  cpu_seconds(follower), steal_seconds())
                    timeline: list[tuple[float, float]] = []
                    r = run(port, PATHS[kind], numbers, headers, clients, args.seconds,
                            interval, timeline)
                    timeline_rows.extend(f"{kind},{label},{start:.4f},{1000 * took:.2f}"
                                         for start, took in sorted(timeline))
                    requests = max(1.0, r["per_s"] * args.seconds)
                    server_ms = 1000 * (cpu_seconds(pids) - cpu_before[0]) / requests
                    pg_ms = 1000 * (cpu_seconds(backends) - cpu_before[1]) / requests
                    follower_ms = 1000 * (cpu_seconds(follower) - cpu_before[2]) / requests
                    steal = 100 * (steal_seconds() - cpu_before[3]) / (
                        args.seconds * (os.cpu_count() or 1))
                    print(f"{kind:<9}{label:<22}{r['per_s']:>8.1f}{r['p50_ms']:>9.1f}"
                          f"{r['p99_ms']:>9.1f}{r['errors']:>8.0f}{server_ms:>19.1f}"
                          f"{follower_ms if follower else float('nan'):>19.1f}{pg_ms:>15.1f}"
                          f"{steal:>9.1f}",
                          flush=True)
            if args.timeline:
                args.timeline.write_text("kind,load,start_s,latency_ms\n"
                                         + "\n".join(timeline_rows) + "\n")
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        if not args.keep:
            with psycopg.connect(args.pg_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
