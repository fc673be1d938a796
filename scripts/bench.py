"""Benchmark of the contribution write path and the projections (not a test).

For each backend (SQLite file, PostgreSQL database made for the run) it prints, side by side:
- bulk path: N person-months through BulkPoster (the path imports and the demo use), events/s;
- naive path: one ContributionMonth aggregate saved per call (the library's default), events/s;
- raw insert: the same encoded payloads inserted into a table of the events table's shape
  (COPY on PostgreSQL, executemany on SQLite): the storage limit, rows/s;
- the ratios; and the projections' catch-up rate (rebuild from zero), events/s;
- peak resident memory, which should not grow with N (requests are streamed in batches).

    scripts/bench [--n 100000] [--naive-n 3000] [--backends sqlite,postgres] [--pg-dsn DSN]
                  [--statements PERSONS]   # also the personal rights statements (batch, API)
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from bench_db import scratch_database  # scripts/ is on sys.path: run as scripts/bench.py

from domain.contribution import ContributionMonth
from domain.periods import Period
from domain.registration import Employer, Person
from infra.bootstrap import Container
from infra.bulk_posting import BATCH_SIZE_MAX, BulkPoster, PostingRequest, chunks
from infra.demo import make_credit_code, make_id_number, periods
from infra.settings import Settings

MONTHS_PER_PERSON = 12
EMPLOYERS = 200


def peak_rss_mib() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest child (the bulk worker)."""
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


class Region:
    """Registered persons and employers to post against (set-up, not timed)."""

    def __init__(self, c: Container, persons: int, seed: int = 7,
                 base_year: int | None = None) -> None:
        import random

        rng = random.Random(seed)
        used: set[str] = set()
        self.employers = [make_credit_code(rng, used) for _ in range(EMPLOYERS)]
        self.persons = [make_id_number(rng, used) for _ in range(persons)]
        region = c.settings.region_code
        batch: list[object] = [
            Employer(region_code=region, credit_code=code, name=f"基准测试单位{i}",
                     employer_type="enterprise", risk_class=1 + i % 8, industry="",
                     registered_on="2015-01-01")
            for i, code in enumerate(self.employers)
        ]
        c.store.app.save(*batch)
        for start in range(0, len(self.persons), 1000):
            batch_persons = []
            for i, n in enumerate(self.persons[start:start + 1000], start):
                person = Person(region_code=region, id_number=n, name="测试", sex="M",
                                birth_date=f"{n[6:10]}-{n[10:12]}-{n[12:14]}",
                                registered_on="2022-01-01")
                if base_year is not None:
                    person.declare_base(c.policy, base_year, self.base_fen(i))
                batch_persons.append(person)
            c.store.app.save(*batch_persons)

    @staticmethod
    def base_fen(i: int) -> int:
        return 500_000 + (i * 7919) % 1_500_000

    @staticmethod
    def risk_class(i: int) -> int:
        return 1 + (i % EMPLOYERS) % 8

    def requests(self, n: int, first: Period) -> Iterator[PostingRequest]:
        months = periods(first, MONTHS_PER_PERSON)
        count = 0
        for month in months:
            period = str(month)
            for i, number in enumerate(self.persons):
                if count >= n:
                    return
                yield PostingRequest(number, self.employers[i % EMPLOYERS], period,
                                     self.base_fen(i))
                count += 1


def bench_backend(settings: Settings, n: int, naive_n: int) -> dict[str, float]:
    results: dict[str, float] = {}
    persons = max(1, -(-max(n, naive_n) // MONTHS_PER_PERSON))
    with Container.open(settings) as c:
        region = Region(c, persons)

        # 1. bulk path
        started = time.perf_counter()
        outcome = BulkPoster(c.store, c.policy, "bench").post(
            region.requests(n, Period(2023, 1)), keep_posted=False)
        seconds = time.perf_counter() - started
        assert outcome.count("posted") == n, outcome.summary()
        results["bulk_events_per_s"] = n / seconds

        # 2. naive path: one aggregate per save, same assessment, other months (2024)
        poster = BulkPoster(c.store, c.policy, "bench-naive")
        employers = {code: c.ledger.employer(code) for code in region.employers}
        started = time.perf_counter()
        for r in region.requests(naive_n, Period(2024, 1)):
            employer = employers[r.employer_code]
            person_id = str(Person.create_id(c.settings.region_code, r.id_number))
            lines, _assessed = poster.builder._assess(r, r.period, employer, None)
            from domain.assessment import posting_journal

            c.store.app.save(ContributionMonth(
                person_id=person_id, employer_code=employer.credit_code, period=r.period,
                lines=lines, journal=posting_journal(person_id, lines), source="bench-naive"))
        seconds = time.perf_counter() - started
        results["naive_events_per_s"] = naive_n / seconds

        # 3. raw insert of the same payloads into a table of the same shape
        results["raw_rows_per_s"] = raw_insert_rate(c, region, n)

        # 4. projections: live catch-up over everything written (indexes maintained row by
        # row, as after a big import), then a rebuild from zero (indexes built at the end)
        head = c.store.max_position()
        started = time.perf_counter()
        c.runner.catch_up()
        results["catch_up_events_per_s"] = head / (time.perf_counter() - started)
        started = time.perf_counter()
        c.runner.rebuild()
        results["rebuild_events_per_s"] = head / (time.perf_counter() - started)
        results["events"] = head
    return results


def raw_insert_rate(c: Container, region: Region, n: int) -> float:
    """Encode payloads batch by batch (not timed), insert them (timed)."""
    from eventsourcing.persistence import StoredEvent

    from infra.bulk_posting import MONTH_TOPIC, POSTED_TOPIC

    store = c.store
    poster = BulkPoster(store, c.policy, "bench-raw")
    employers = {code: c.ledger.employer(code) for code in region.employers}
    table = "bench_raw_events"
    if store.is_postgres:
        ddl = (f'CREATE TABLE "{c.settings.pg_schema}".{table} (originator_id uuid NOT NULL,'
               " originator_version bigint NOT NULL, topic text, state bytea,"
               " notification_id bigserial, PRIMARY KEY (originator_id, originator_version))")
    else:
        ddl = (f"CREATE TABLE {table} (originator_id TEXT, originator_version INTEGER,"
               " topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))")
    with store.raw_events_cursor() as cur:
        cur.execute(ddl)
    timestamp = store.timestamp_state(store.now())
    insert_seconds = 0.0
    from domain.assessment import posting_journal

    for batch in chunks(region.requests(n, Period(2023, 1)), BATCH_SIZE_MAX):
        events = []
        for r in batch:
            employer = employers[r.employer_code]
            pid = Person.create_id(c.settings.region_code, r.id_number)
            lines, _assessed = poster.builder._assess(r, r.period, employer, None)
            state = {"timestamp": timestamp, "originator_topic": MONTH_TOPIC,
                     "person_id": str(pid), "employer_code": employer.credit_code,
                     "period": r.period, "lines": lines,
                     "journal": posting_journal(str(pid), lines), "source": "bench-raw"}
            events.append(StoredEvent(uuid.uuid4(), 1, POSTED_TOPIC, store.encode_state(state)))
        started = time.perf_counter()
        with store.raw_events_cursor() as cur:
            if store.is_postgres:
                with cur.copy(f'COPY "{c.settings.pg_schema}".{table} (originator_id,'
                              " originator_version, topic, state) FROM STDIN (FORMAT BINARY)"
                              ) as copy:
                    copy.set_types(["uuid", "int8", "text", "bytea"])
                    for e in events:
                        copy.write_row((e.originator_id, 1, e.topic, e.state))
            else:
                cur.executemany(f"INSERT INTO {table} VALUES (?,?,?,?)",
                                [(e.originator_id.hex, 1, e.topic, e.state) for e in events])
        insert_seconds += time.perf_counter() - started
    return n / insert_seconds


def bench_verify(settings: Settings, n: int) -> dict[str, float]:
    """N events written straight into the event table (COPY, not timed: the write path has its
    own figures), then the hash chain built over them and `verify` run over them, timed."""
    from infra.bulk_posting import POSTED_TOPIC
    from infra.integrity import verify

    with Container.open(settings) as c:
        store = c.store
        # A posting's state of typical size (~700 bytes); the same bytes for every event.
        state = store.encode_state({
            "timestamp": store.timestamp_state(store.now()), "person_id": str(uuid.uuid4()),
            "employer_code": "91440781MA00000010", "period": "2023-01", "source": "bench",
            "lines": [[ins, 800_000, 128_000, 64_000, 64_000] for ins in
                      ("110", "210", "310", "410", "510")],
            "journal": [["clearing:tax", 960_000, 0]] + [[f"fund:{i}", 0, 96_000]
                                                         for i in range(10)],
            "serials": [f"SW{i:012d}" for i in range(5)]})
        written = 0
        report_every = max(n // 10, 1)
        while written < n:
            batch = min(100_000, n - written)
            with store.raw_events_cursor() as cur:
                if store.is_postgres:
                    with cur.copy(f"COPY {store.events_table} (originator_id, originator_version,"
                                  " topic, state) FROM STDIN (FORMAT BINARY)") as copy:
                        copy.set_types(["uuid", "int8", "text", "bytea"])
                        for _ in range(batch):
                            copy.write_row((uuid.uuid4(), 1, POSTED_TOPIC, state))
                else:
                    cur.executemany(f"INSERT INTO {store.events_table} VALUES (?,?,?,?)",
                                    [(uuid.uuid4().hex, 1, POSTED_TOPIC, state)
                                     for _ in range(batch)])
            written += batch
            if written % report_every < batch:
                print(f"  verify bench: {written:,} events written", file=sys.stderr)
        keeper = c.runner.chain
        started = time.perf_counter()
        keeper.catch_up()
        chain_seconds = time.perf_counter() - started
        started = time.perf_counter()
        result = verify(store, keeper)
        verify_seconds = time.perf_counter() - started
        assert result.status == "ok" and result.events == n, result.as_dict()
    return {"events": n, "chain_events_per_s": n / chain_seconds,
            "verify_events_per_s": n / verify_seconds, "verify_seconds": verify_seconds}


def bench_collections(settings: Settings, lines: int) -> dict[str, float]:
    """A month of the tax bureau's collection detail (5 lines a person) through the real
    import: read and validate, stage, match, post, then project. Rates per stage."""
    import csv

    from domain.assessment import assess_month
    from domain.collection import COLUMNS
    from infra.collection_import import import_collections

    persons = max(1, lines // 5)
    period = Period(2023, 3)
    results: dict[str, float] = {}
    with Container.open(settings) as c:
        region = Region(c, persons, base_year=period.year)
        c.runner.catch_up()
        path = settings.data_dir / "collections.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow([col.header_zh for col in COLUMNS])
            for i, number in enumerate(region.persons):
                base = c.policy.clamp_base(period.year, region.base_fen(i))
                for ins, b, employer, individual, _acct in assess_month(
                        c.policy, period, base, region.risk_class(i)):
                    written += 1
                    writer.writerow([f"B{written:012d}", region.employers[i % EMPLOYERS], number,
                                     ins, str(period), f"{b / 100:.2f}", f"{employer / 100:.2f}",
                                     f"{individual / 100:.2f}", "2023-03-15", "SW202303"])
        started = time.perf_counter()
        summary = import_collections(c, path)
        imported = time.perf_counter()
        c.runner.catch_up()
        done = time.perf_counter()
        assert summary.counts["posted"] == written, summary.counts
        results["lines"] = written
        results["read_lines_per_s"] = written / summary.stage_seconds["read"]
        results["post_lines_per_s"] = written / summary.stage_seconds["post"]
        results["project_lines_per_s"] = written / (done - imported)
        results["total_seconds"] = done - started
        results["total_lines_per_s"] = written / (done - started)
    return results


def bench_statements(settings: Settings, persons: int, clients: int = 50,
                     seconds: float = 20.0, paced_interval_seconds: float = 1.0
                     ) -> dict[str, float]:
    """Personal rights statements on the demo region of `persons` persons (24 months, interest):
    the yearly batch (PDFs/s, two processes) and one statement over HTTP: p50/p99 of JSON and of
    PDF with `clients` concurrent clients on loopback for `seconds`, each client sending its
    next request as soon as the last is answered (saturation), then each sending one request
    every `paced_interval_seconds` (an offered load of clients / interval per second)."""

    import orjson

    from infra.demo import load_demo
    from infra.statement_batch import write_statements

    with Container.open(settings) as c:
        started = time.perf_counter()
        load_demo(c, persons)
        load_seconds = time.perf_counter() - started
        c.runner.catch_up()
        numbers = [str(orjson.loads(row[0])["id_number"]) for row in c.views.query(
            "SELECT data FROM person_facts WHERE kind = 'registered'")]
        _user, token = c.staff.add_user("bench", ["teller"])

    cpu = time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN)
    batch = write_statements(settings, 2024, settings.data_dir / "statements", workers=2,
                             operator="bench")
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    batch_cpu = (time.process_time() - cpu[0] + children.ru_utime - cpu[1].ru_utime
                 + children.ru_stime - cpu[1].ru_stime)

    # The HTTP part is the API latency benchmark's (scripts/bench_api_reads.py).
    from bench_api_reads import run, serve

    server, port = serve(settings)
    try:
        headers = {"Authorization": f"Bearer {token}", "X-Access-Reason": "statement_request"}
        results: dict[str, float] = {}
        runs = (("json", "", 0.0), ("pdf", ".pdf", 0.0), ("json_paced", "", paced_interval_seconds),
                ("pdf_paced", ".pdf", paced_interval_seconds))
        for kind, suffix, interval in runs:
            measured = run(port, lambda number, suffix=suffix:
                           f"/v1/persons/{number}/statements/2024{suffix}",
                           numbers, headers, clients, seconds, interval)
            results.update({f"{kind}_{key}": value for key, value in measured.items()})
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"persons": persons, "load_seconds": load_seconds, "batch_seconds": batch.seconds,
            "batch_per_s": batch.per_second, "batch_cpu_ms": 1000 * batch_cpu / persons,
            **results}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="person-months, bulk path")
    parser.add_argument("--naive-n", type=int, default=3_000, help="person-months, naive path")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--collections", type=int, default=0,
                        help="also import a collection file of this many lines (e.g. 1500000)")
    parser.add_argument("--verify", type=int, default=0,
                        help="also chain and verify this many events (e.g. 10000000)")
    parser.add_argument("--statements", type=int, default=0,
                        help="also load a demo region of this many persons and measure its "
                             "personal rights statements: the yearly batch and the API")
    parser.add_argument("--pg-dsn", default=os.environ.get("SHEBAO_BENCH_PG_DSN")
                        or os.environ.get("SHEBAO_TEST_PG_DSN"),
                        help="admin DSN; a database is created for the run and dropped")
    args = parser.parse_args()
    rows: list[tuple[str, dict[str, float]]] = []
    imports: list[tuple[str, dict[str, float]]] = []
    verifies: list[tuple[str, dict[str, float]]] = []
    statements: list[tuple[str, dict[str, float]]] = []
    for backend in args.backends.split(","):
        tmp = Path(tempfile.mkdtemp(prefix="shebao-bench-"))
        try:
            if backend == "postgres":
                if not args.pg_dsn:
                    print("postgres: skipped (give --pg-dsn or SHEBAO_BENCH_PG_DSN)",
                          file=sys.stderr)
                    continue
                with scratch_database(args.pg_dsn) as dsn:
                    settings = Settings(data_dir=tmp, pg_dsn=dsn)
                    rows.append((backend, bench_backend(settings, args.n, args.naive_n)))
                if args.collections:
                    with scratch_database(args.pg_dsn) as dsn:
                        imports.append((backend, bench_collections(
                            Settings(data_dir=tmp / "import", pg_dsn=dsn), args.collections)))
                if args.statements:
                    with scratch_database(args.pg_dsn) as dsn:
                        statements.append((backend, bench_statements(
                            Settings(data_dir=tmp / "statements", pg_dsn=dsn), args.statements)))
                if args.verify:
                    with scratch_database(args.pg_dsn) as dsn:
                        verifies.append((backend, bench_verify(
                            Settings(data_dir=tmp / "verify", pg_dsn=dsn), args.verify)))
            else:
                rows.append((backend, bench_backend(Settings(data_dir=tmp), args.n,
                                                    args.naive_n)))
                if args.collections:
                    imports.append((backend, bench_collections(
                        Settings(data_dir=tmp / "import"), args.collections)))
                if args.verify:
                    verifies.append((backend, bench_verify(Settings(data_dir=tmp / "verify"),
                                                           args.verify)))
                if args.statements:
                    statements.append((backend, bench_statements(
                        Settings(data_dir=tmp / "statements"), args.statements)))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        print(f"{backend}: done", file=sys.stderr)

    print(f"\nN = {args.n:,} person-months (5 insurances each) bulk; {args.naive_n:,} naive\n")
    print(f"{'backend':<10}{'bulk ev/s':>12}{'naive ev/s':>12}{'raw rows/s':>12}"
          f"{'bulk/naive':>12}{'bulk/raw':>10}{'catch-up ev/s':>15}{'rebuild ev/s':>14}")
    for backend, r in rows:
        print(f"{backend:<10}{r['bulk_events_per_s']:>12,.0f}{r['naive_events_per_s']:>12,.0f}"
              f"{r['raw_rows_per_s']:>12,.0f}"
              f"{r['bulk_events_per_s'] / r['naive_events_per_s']:>11.1f}×"
              f"{r['bulk_events_per_s'] / r['raw_rows_per_s']:>9.2f}×"
              f"{r['catch_up_events_per_s']:>15,.0f}{r['rebuild_events_per_s']:>14,.0f}")
    if imports:
        print(f"\ncollection import (lines/s per stage): {'backend':<10}{'lines':>11}"
              f"{'read+stage':>12}{'match+post':>12}{'project':>10}{'end to end':>12}"
              f"{'seconds':>9}")
        for backend, r in imports:
            print(f"{'':37}{backend:<10}{r['lines']:>11,.0f}{r['read_lines_per_s']:>12,.0f}"
                  f"{r['post_lines_per_s']:>12,.0f}{r['project_lines_per_s']:>10,.0f}"
                  f"{r['total_lines_per_s']:>12,.0f}{r['total_seconds']:>9.1f}")
    if verifies:
        print(f"\nhash chain and verify: {'backend':<10}{'events':>12}{'chain ev/s':>12}"
              f"{'verify ev/s':>13}{'seconds':>9}")
        for backend, r in verifies:
            print(f"{'':23}{backend:<10}{r['events']:>12,.0f}{r['chain_events_per_s']:>12,.0f}"
                  f"{r['verify_events_per_s']:>13,.0f}{r['verify_seconds']:>9.1f}")
    if statements:
        print(f"\nstatements batch: {'backend':<10}{'persons':>9}{'PDFs/s':>9}{'CPU ms':>8}"
              f"{'300k min':>10}")
        for backend, r in statements:
            print(f"{'':18}{backend:<10}{r['persons']:>9,.0f}{r['batch_per_s']:>9,.0f}"
                  f"{r['batch_cpu_ms']:>8.2f}{300_000 / r['batch_per_s'] / 60:>10.1f}")
        print(f"statement API (50 clients): {'backend':<10}{'kind':<12}{'req/s':>7}"
              f"{'p50 ms':>8}{'p99 ms':>8}{'errors':>8}")
        for backend, r in statements:
            for kind in ("json", "pdf", "json_paced", "pdf_paced"):
                print(f"{'':28}{backend:<10}{kind:<12}{r[f'{kind}_per_s']:>7.0f}"
                      f"{r[f'{kind}_p50_ms']:>8.1f}{r[f'{kind}_p99_ms']:>8.1f}"
                      f"{r[f'{kind}_errors']:>8.0f}")
    own, worker = peak_rss_mib()
    print(f"\npeak RSS {own:.0f} MiB (bulk worker process: {worker:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
