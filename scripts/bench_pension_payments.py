"""Speed of a monthly pension payment run (养老金发放, infra/pension_payments.py) on SQLite and
PostgreSQL (not a test).

Sets up N retirees (registered persons with one month posted, so that their accounts hold
money, and an awarded entitlement whose first payment is 2024-01), catches the read models up,
then times: the run for 2024-01 (payments/s, peak memory of the process), the read models'
catch-up of its events, the same run again (pays nobody), the run for 2024-02, and for
comparison the library's batched save of the same payments made as aggregates (2024-03).

    .venv/bin/python scripts/bench_pension_payments.py [--retirees 50000]
        [--backends sqlite,postgres] [--pg-dsn DSN]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_db import scratch_database  # noqa: E402  (scripts/ is on sys.path)

from domain.pension import BASIC_PENSION, Entitlement  # noqa: E402
from domain.pension_payment import PensionPayment, split_payment  # noqa: E402
from domain.registration import Employer, Person  # noqa: E402
from infra.bootstrap import Container  # noqa: E402
from infra.bulk_posting import BulkPoster, PostingRequest  # noqa: E402
from infra.demo import make_credit_code, make_id_number  # noqa: E402
from infra.pension_payments import pay_pensions  # noqa: E402
from infra.settings import Settings  # noqa: E402

REGION = "440781"
SAVE_BATCH = 1000
LIBRARY_SAVE_BATCH = 1000  # as interest crediting saves its aggregates
WAGE_FEN = 800_000
TODAY = date(2024, 12, 31)


def setup(c: Container, retirees: int) -> None:
    import random

    rng = random.Random(7)
    app = c.store.app
    code = make_credit_code(rng, set())
    app.save(Employer(region_code=REGION, credit_code=code, name="台山市示例食品有限公司",
                      employer_type="enterprise", risk_class=3, industry="食品制造业",
                      registered_on="2015-01-01"))
    numbers: list[str] = []
    used: set[str] = set()
    batch: list[Any] = []
    for _ in range(retirees):
        number = make_id_number(rng, used)
        person = Person(region_code=REGION, id_number=number, name="测试退休",
                        sex="M" if int(number[16]) % 2 else "F",
                        birth_date=f"{number[6:10]}-{number[10:12]}-{number[12:14]}",
                        registered_on="2015-01-01")
        person.start_employment(code, "2023-01-01")
        person.declare_base(c.policy, 2023, WAGE_FEN)
        batch.append(person)
        numbers.append(number)
        if len(batch) >= SAVE_BATCH:
            app.save(*batch)
            batch.clear()
    app.save(*batch)
    batch.clear()
    BulkPoster(c.store, c.policy, "bench").post(
        (PostingRequest(n, code, "2023-12") for n in numbers), keep_posted=False)
    account_fen = round(WAGE_FEN * 8 / 100 / 139)
    for number in numbers:
        person_id = str(Person.create_id(REGION, number))
        entitlement = Entitlement(
            region_code=REGION, person_id=person_id, kind=BASIC_PENSION,
            retirement_date="2023-12-31", monthly_fen=300_000 + account_fen,
            components={"basic_fen": 250_000, "account_fen": account_fen,
                        "transitional_fen": 50_000},
            inputs={"pension_base_fen": 800_000, "average_index": "1.0000",
                    "contribution_months": 1, "deemed_months": 180,
                    "account_balance_fen": WAGE_FEN * 8 // 100, "age_years": 60,
                    "divisor": 139, "transitional_coefficient": "0.012",
                    "inputs_position": 0})
        entitlement.schedule_first_payment("2024-01")
        batch.append(entitlement)
        if len(batch) >= SAVE_BATCH:
            app.save(*batch)
            batch.clear()
    app.save(*batch)


def timed(label: str, work: Any) -> Any:
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    print(f"  {label:<34} {seconds:8.2f} s", flush=True)
    return result, seconds


def run_backend(settings: Settings, retirees: int) -> dict[str, float]:
    with Container.open(settings) as c:
        timed("setup (persons, months, awards)", lambda: setup(c, retirees))
        timed("catch-up of the setup", c.runner.catch_up)
        first, seconds = timed("run 2024-01", lambda: pay_pensions(c, "2024-01", today=TODAY))
        assert first.paid == retirees, first
        rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        head_before = c.store.max_position()
        _, catch_up_seconds = timed("catch-up of the payments", c.runner.catch_up)
        again, again_seconds = timed("run 2024-01 again", lambda: pay_pensions(
            c, "2024-01", today=TODAY))
        assert again.paid == 0 and c.store.max_position() >= head_before
        second, second_seconds = timed("run 2024-02", lambda: pay_pensions(
            c, "2024-02", today=TODAY))
        assert second.paid == retirees
        _, library_seconds = timed("library save of 2024-03", lambda: library_save(c))
        return {"run_per_s": retirees / seconds, "catch_up_per_s": retirees / catch_up_seconds,
                "again_seconds": again_seconds, "second_per_s": retirees / second_seconds,
                "library_per_s": retirees / library_seconds, "peak_rss_mib": rss_mib}


def library_save(c: Container) -> None:
    """For comparison: the same payments (2024-03, the account part from the pooled fund) made
    as aggregates and saved through the library, LIBRARY_SAVE_BATCH per call — the path the
    run does not take."""
    batch: list[Any] = []
    for entitlement_id, person_id, basic, transitional, account in c.views.query(
            "SELECT entitlement_id, person_id, basic_fen, transitional_fen, account_fen"
            " FROM pension_entitlements"):
        split = split_payment(int(basic), int(transitional), int(account), 0)
        batch.append(PensionPayment.pay(str(person_id), str(entitlement_id), BASIC_PENSION,
                                        "2024-03", split, 0, 0))
        if len(batch) >= LIBRARY_SAVE_BATCH:
            c.store.app.save(*batch)
            batch.clear()
    c.store.app.save(*batch)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--retirees", type=int, default=50_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--pg-dsn", default=os.environ.get("SHEBAO_BENCH_PG_DSN")
                        or os.environ.get("SHEBAO_TEST_PG_DSN"))
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    for backend in args.backends.split(","):
        print(f"{backend}, {args.retirees:,} retirees", flush=True)
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                results[backend] = run_backend(
                    Settings(region_code=REGION, data_dir=Path(tmp)), args.retirees)
        else:
            if not args.pg_dsn:
                print("  skipped: no --pg-dsn")
                continue
            with scratch_database(args.pg_dsn) as dsn:
                results[backend] = run_backend(
                    Settings(region_code=REGION, data_dir=Path(tempfile.gettempdir()),
                             pg_dsn=dsn), args.retirees)
    for backend, r in results.items():
        print(f"{backend}: run {r['run_per_s']:,.0f} payments/s, second month "
              f"{r['second_per_s']:,.0f}/s, catch-up {r['catch_up_per_s']:,.0f} events/s, "
              f"repeat run {r['again_seconds']:.2f} s, peak RSS {r['peak_rss_mib']:.0f} MiB; "
              f"library save of the same payments {r['library_per_s']:,.0f}/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
