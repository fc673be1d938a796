"""Yearly interest crediting for every personal pension account (记账利率, 月积数法).

The inputs come from the personal-accounts read model, caught up to the log head first; each
InterestYear event records those inputs and the position they were read at. Crediting a year is
idempotent: a person whose year is credited already is skipped."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from domain.errors import Conflict
from domain.interest import compute_year_interest
from domain.interest_year import InterestYear
from domain.policy import PolicyTables
from infra.projection_runner import ProjectionRunner
from infra.queries import Queries
from infra.store import Store

SAVE_BATCH_AGGREGATES = 1000


@dataclass
class InterestRun:
    year: int
    rate: str
    credited: int = 0
    skipped: int = 0
    moved_away: int = 0  # accounts transferred out or linked in the year: no interest here
    interest_fen: int = 0
    position: int = 0


def credit_interest(store: Store, policy: PolicyTables, runner: ProjectionRunner,
                    queries: Queries, year: int,
                    progress: Callable[[int], None] | None = None) -> InterestRun:
    rate = policy.interest_rate(year).rate
    inputs_position = runner.catch_up()
    # The opening balance of `year` includes the interest of year-1: crediting out of order
    # would record a short opening balance for good (the year is then skipped as done).
    missing = queries.accounts_without_interest(year - 1)
    if missing:
        raise Conflict(
            "interest_previous_year_missing",
            f"{missing} pension accounts have a balance at the end of {year - 1} but no "
            f"interest for {year - 1}; credit {year - 1} first (shebao interest credit "
            f"{year - 1})",
            field="year",
        )
    run = InterestRun(year, str(rate), position=inputs_position)
    pending: list[tuple[str, InterestYear]] = []

    def flush() -> None:
        if not pending:
            return
        existing = store.versions(a.id for _, a in pending)
        fresh = [a for _, a in pending if a.id not in existing]
        run.skipped += len(pending) - len(fresh)
        if fresh:
            recordings = store.app.save(*fresh)
            run.position = max(run.position, max(r.notification.id for r in recordings))
            run.credited += len(fresh)
            run.interest_fen += sum(a.interest_fen for a in fresh)
        if progress:
            progress(len(pending))
        pending.clear()

    with queries.interest_inputs(year) as rows:
        for row in rows:
            person_id, opening = str(row[0]), int(row[1])
            credits = tuple(int(v) for v in row[2:14])
            if opening == 0 and not any(credits):
                continue
            if int(row[14]) and opening + sum(credits) == 0:
                # The account moved away in the year (transfer out, link): the year's interest
                # is credited where it went (DOMAIN.md §5.1, 劳办发〔1997〕116号), none here.
                run.moved_away += 1
                continue
            result = compute_year_interest(year, rate, opening, credits)
            pending.append((person_id, InterestYear.credit(person_id, result, inputs_position)))
            if len(pending) >= SAVE_BATCH_AGGREGATES:
                flush()
    flush()
    return run
