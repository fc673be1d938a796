"""Deterministic synthetic data for tests: valid ID numbers and credit codes made from a sequence
number, and a small seeded region. Everything here is invented; the check characters are real."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from domain.identity import id_number_check_char, uscc_check_char
from infra.bootstrap import Container
from infra.settings import Settings
from projections.funds import bucket

AREA_CODE = "440781"
SEED_YEAR = 2023
SEED_WAGE_FEN = 1_000_000  # 10,000.00 yuan a month: inside every shipped year's bounds
SEED_RISK_CLASS = 3
SEQ_MAX = 999  # the 3-digit sequence code (顺序码) of an ID number


def make_id_number(seq: int, birth: date = date(1990, 1, 1), area: str = AREA_CODE) -> str:
    """A valid 18-character resident ID number: area, birth date, sequence, check character."""
    if not 0 <= seq <= SEQ_MAX:
        raise ValueError(f"seq must be 0..{SEQ_MAX}, got {seq}")
    first17 = f"{area}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_number_check_char(first17)


def make_credit_code(seq: int) -> str:
    """A valid unified social credit code: "91440781MA" + 7 digits + check character."""
    if not 0 <= seq <= 9_999_999:
        raise ValueError(f"seq must be 0..9999999, got {seq}")
    first17 = f"91440781MA{seq:07d}"
    return first17 + uscc_check_char(first17)


def with_wrong_check_char(number: str) -> str:
    """The same number with a check character that cannot be right."""
    return number[:-1] + ("0" if number[-1] != "0" else "1")


@dataclass(frozen=True)
class SeededRegion:
    employer_code: str
    id_numbers: tuple[str, ...]
    person_ids: tuple[str, ...]


def seed_region(
    container: Container,
    persons: int = 3,
    *,
    first_seq: int = 1,
    employer_seq: int = 1,
    year: int = SEED_YEAR,
    wage_fen: int = SEED_WAGE_FEN,
    years: tuple[int, ...] = (),
) -> SeededRegion:
    """One enterprise employer (risk class 3) and `persons` persons employed by it from January
    of the earliest year, each with the year's base declared (and `years`' bases, if given)."""
    ledger = container.ledger
    employer_code = make_credit_code(employer_seq)
    ledger.register_employer(employer_code, "示例食品有限公司", "enterprise", SEED_RISK_CLASS,
                             industry="食品制造业", registered_on="2015-01-01")
    all_years = sorted({year, *years})
    numbers: list[str] = []
    person_ids: list[str] = []
    for seq in range(first_seq, first_seq + persons):
        number = make_id_number(seq)
        done = ledger.register_person(number, f"测试{seq}", registered_on="2015-01-01")
        ledger.start_employment(number, employer_code, f"{all_years[0]}-01-01")
        for y in all_years:
            ledger.declare_base(number, y, wage_fen)
        numbers.append(number)
        person_ids.append(str(done.result["person_id"]))
    return SeededRegion(employer_code, tuple(numbers), tuple(person_ids))


def all_events(container: Container, page_size: int = 1000) -> list[Any]:
    """Every stored event, decoded by the library, oldest first."""
    store = container.store
    events: list[Any] = []
    after = 0
    while True:
        page = store.notifications(after, page_size)
        if not page:
            return events
        events.extend(store.app.mapper.to_domain_event(n) for n in page)
        after = page[-1].id


def journal_sums(container: Container) -> dict[str, tuple[int, int]]:
    """(debit, credit) per account as FundBalances buckets them, summed straight from the
    journals of every stored event: the reference the read model must agree with."""
    sums: dict[str, list[int]] = {}
    for event in all_events(container):
        for account, debit, credit in getattr(event, "journal", None) or ():
            row = sums.setdefault(bucket(account), [0, 0])
            row[0] += debit
            row[1] += credit
    return {account: (d, c) for account, (d, c) in sums.items()}


def read_model_rows(container: Container) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every read model, in a stable order."""
    from projections.registry import all_projections

    views = container.views
    return {
        table: sorted((tuple(row) for row in views.query(f"SELECT * FROM {table}")), key=repr)
        for p in all_projections() for table in p.tables
    }


_fresh_regions = itertools.count(1)


@contextmanager
def fresh_container(settings: Settings) -> Iterator[Container]:
    """A new, empty region beside the test's own (its own SQLite directory, or its own schema in
    the test's PostgreSQL database): for hypothesis examples, which share one `settings`."""
    region_code = f"{990000 + next(_fresh_regions) % 10000:06d}"
    container = Container.open(replace(settings, region_code=region_code))
    try:
        yield container
    finally:
        container.close()


def cli(settings: Settings) -> Callable[..., str]:
    """`run(*args, code=0)`: the `shebao` command line on the test's store (its region, data
    directory and PostgreSQL DSN), asserting the exit code and returning the output."""
    from typer.testing import CliRunner

    from api.cli import app

    options = ["--region", settings.region_code, "--data-dir", str(settings.data_dir)]
    if settings.pg_dsn:
        options += ["--pg-dsn", settings.pg_dsn]
    runner = CliRunner(env={"COLUMNS": "250"})

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, [*options, *args])
        assert result.exit_code == code, result.output
        return result.output

    return run
