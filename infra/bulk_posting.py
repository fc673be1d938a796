"""The bulk path for contributions: many person-months posted in bounded batches, each batch
one query to learn what exists and one insert statement (COPY on PostgreSQL) to write.

Per line, the outcome is exactly one of: posted, duplicate (the same month with the same amounts
was posted before: nothing written), or rejected (with code, field and reason: nothing written).
A rejected line never stops the valid ones, and a valid line is never half-posted: each line is
one event. Months that exist already (reversed, or posted differently) take the single path.

The events written here are byte-for-byte what `ContributionMonth(...)` would store (a test
checks it), so aggregates, projections and upcasting read them like any other."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent

from domain import ids
from domain.assessment import (
    EMPLOYEE_INSURANCES,
    RateSchedule,
    assess_month,
    posting_journal,
    rate_schedule,
)
from domain.contribution import ContributionMonth
from domain.errors import Conflict, DomainError, NotFound, ValidationFailed
from domain.identity import check_id_number, parse_credit_code
from domain.money import require_fen
from domain.periods import parse_period
from domain.policy import PolicyTables
from domain.registration import Employer, Person
from infra.store import Store

BATCH_SIZE_MAX = 2000
APPEND_RETRIES_MAX = 3
SCHEDULE_CACHE_MAX = 10_000  # distinct (period, class, float, insurances) kept
POSTED_TOPIC = Store.topic(ContributionMonth.Posted)
MONTH_TOPIC = Store.topic(ContributionMonth)


@dataclass(frozen=True, slots=True)
class PostingRequest:
    id_number: str
    employer_code: str
    period: str
    base_fen: int | None = None
    insurances: tuple[str, ...] | None = None


@dataclass(slots=True)
class PreparedPosting:
    person_id: str
    employer_code: str
    period: str
    lines: list[list[Any]]
    journal: list[list[Any]]

    @property
    def total_fen(self) -> int:
        return sum(line[2] + line[3] for line in self.lines)


class LineOutcome(NamedTuple):
    index: int  # position of the request in the caller's sequence (0-based)
    status: str  # posted | duplicate | rejected
    code: str = ""
    field: str = ""
    message: str = ""
    total_fen: int = 0


@dataclass
class BulkResult:
    outcomes: list[LineOutcome] = field(default_factory=list)
    position: int = 0

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def summary(self) -> dict[str, int]:
        return {s: self.count(s) for s in ("posted", "duplicate", "rejected")}


def prepare_posting(policy: PolicyTables, request: PostingRequest, person: Person,
                    employer: Employer) -> PreparedPosting:
    """Validate and assess one request against the person's and employer's current state."""
    period = parse_period(request.period)
    base_fen = request.base_fen
    if base_fen is None:
        base_fen = person.base_for(period.year)
        if base_fen is None:
            raise ValidationFailed(
                "base_not_declared",
                f"no contribution base declared for {period.year}; declare the base or give "
                "base_fen",
                field="base_fen",
            )
    else:
        require_fen(base_fen, "base_fen")
    insurances = request.insurances or EMPLOYEE_INSURANCES
    lines = assess_month(policy, period, base_fen, employer.risk_class, insurances,
                         Decimal(employer.work_injury_float))
    person_id = str(person.id)
    return PreparedPosting(person_id, employer.credit_code, str(period), lines,
                           posting_journal(person_id, lines))


def chunks(items: Iterable[PostingRequest], size: int) -> Iterator[list[PostingRequest]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


class BulkPoster:
    """Posts person-months in batches. Employer and person state is cached by (id, version):
    a batch learns every version in its one existence query, so the cache is never stale."""

    def __init__(self, store: Store, policy: PolicyTables, source: str) -> None:
        self.store = store
        self.policy = policy
        self.source = source
        self.region = store.settings.region_code
        self._employers: dict[UUID, tuple[int, Employer]] = {}
        self._persons: dict[UUID, tuple[int, Person]] = {}
        self._schedules: dict[tuple[Any, ...], RateSchedule] = {}
        self._codes: dict[str, str] = {}

    def post(self, requests: Iterable[PostingRequest],
             progress: Callable[[int], None] | None = None,
             batch_size: int = BATCH_SIZE_MAX) -> BulkResult:
        result = BulkResult()
        offset = 0
        for batch in chunks(requests, min(batch_size, BATCH_SIZE_MAX)):
            outcomes, position = self._post_batch(batch, offset)
            result.outcomes.extend(outcomes)
            result.position = max(result.position, position)
            offset += len(batch)
            if progress:
                progress(len(batch))
        return result

    # -- one batch ---------------------------------------------------------------------------

    def _post_batch(self, batch: list[PostingRequest], offset: int
                    ) -> tuple[list[LineOutcome], int]:
        # A batch allocates thousands of small lists that live until it is written; the cyclic
        # GC would scan them over and over (measured: the journal step 5× slower). Nothing
        # here makes reference cycles, so pause it for the batch.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            for _attempt in range(APPEND_RETRIES_MAX):
                try:
                    return self._try_batch(batch, offset)
                except IntegrityError:
                    continue  # a concurrent writer posted one of these months: look again
        finally:
            if gc_was_enabled:
                gc.enable()
        raise Conflict("concurrent_update", "the batch kept conflicting with another writer;"
                       " send it again")

    def _try_batch(self, batch: list[PostingRequest], offset: int
                   ) -> tuple[list[LineOutcome], int]:
        outcomes: dict[int, LineOutcome] = {}
        parsed: list[tuple[int, PostingRequest, UUID, UUID, UUID, str]] = []
        for i, r in enumerate(batch, offset):
            try:
                number = check_id_number(r.id_number)
                code = self._codes.get(r.employer_code)
                if code is None:
                    code = parse_credit_code(r.employer_code, "employer_code")
                    self._codes[r.employer_code] = code
                period = str(parse_period(r.period))
            except DomainError as e:
                outcomes[i] = _rejected(i, e)
                continue
            person = ids.person_id(self.region, number)
            parsed.append((i, r, person, ids.employer_id(self.region, code),
                           ids.contribution_month_id(person, period), period))

        # Persons and months: does it exist (a PK lookup each). Employers (few per batch): their
        # version, which keeps the employer cache exact. Persons' versions only when a line
        # needs the declared base from the Person aggregate.
        exists = self.store.existing([u for p in parsed for u in (p[2], p[4])])
        versions = self.store.versions({p[3] for p in parsed})
        needs_person = {p[2] for p in parsed if p[1].base_fen is None}
        if needs_person:
            versions.update(self.store.versions(needs_person))
        timestamp = self.store.timestamp_state(self.store.now())
        new_events: list[StoredEvent] = []
        new_totals: list[tuple[int, int]] = []
        existing: list[tuple[int, PostingRequest]] = []
        seen_months: dict[UUID, tuple[int, list[list[Any]], str]] = {}
        for i, r, person_uuid, employer_uuid, month_uuid, period in parsed:
            try:
                if person_uuid not in exists:
                    raise NotFound("person_not_registered",
                                   "no insured person with this ID number; register first",
                                   field="id_number")
                employer_version = versions.get(employer_uuid)
                if employer_version is None:
                    raise NotFound("employer_not_registered",
                                   "no employer with this credit code; register first",
                                   field="employer_code")
                employer = self._employer(employer_uuid, employer_version)
                lines = self._assess(r, period, employer, person_uuid,
                                     versions.get(person_uuid, 0))
            except DomainError as e:
                outcomes[i] = _rejected(i, e)
                continue
            if month_uuid in exists:
                existing.append((i, r))
                continue
            twin = seen_months.get(month_uuid)
            if twin is not None:  # the same month twice in one batch
                if twin[1] == lines and twin[2] == employer.credit_code:
                    outcomes[i] = LineOutcome(i, "duplicate", total_fen=_total(lines))
                else:
                    outcomes[i] = LineOutcome(
                        i, "rejected", "month_twice_in_batch", "period",
                        f"{period} appears earlier in this batch with other amounts")
                continue
            person_key = str(person_uuid)
            journal = posting_journal(person_key, lines)  # asserts that it balances
            seen_months[month_uuid] = (i, lines, employer.credit_code)
            state = {
                "timestamp": timestamp,
                "originator_topic": MONTH_TOPIC,
                "person_id": person_key,
                "employer_code": employer.credit_code,
                "period": period,
                "lines": lines,
                "journal": journal,
                "source": self.source,
            }
            new_events.append(StoredEvent(month_uuid, 1, POSTED_TOPIC,
                                          self.store.encode_state(state)))
            new_totals.append((i, _total(lines)))

        position = self.store.append(new_events) if new_events else 0
        for i, total in new_totals:
            outcomes[i] = LineOutcome(i, "posted", total_fen=total)
        # Months already on record go one by one through the single path (rare: re-posting
        # after a reversal, or a replayed file).
        if existing:
            from infra.ledger_service import LedgerService

            service = LedgerService(self.store, self.policy)
            for i, r in existing:
                try:
                    before = self.store.max_position()
                    done = service.post_contribution(
                        r.id_number, r.employer_code, r.period, r.base_fen, r.insurances,
                        source=self.source)
                    status = "posted" if done.position > before else "duplicate"
                    outcomes[i] = LineOutcome(i, status, total_fen=done.result["total_fen"])
                    position = max(position, done.position)
                except DomainError as e:
                    outcomes[i] = _rejected(i, e)
        return [outcomes[i] for i in sorted(outcomes)], position

    def _employer(self, employer_uuid: UUID, version: int) -> Employer:
        cached = self._employers.get(employer_uuid)
        if cached is None or cached[0] != version:
            employer: Employer = self.store.app.repository.get(employer_uuid)
            cached = (version, employer)
            self._employers[employer_uuid] = cached
        return cached[1]

    def _assess(self, r: PostingRequest, period: str, employer: Employer,
                person_uuid: UUID, person_version: int) -> list[list[Any]]:
        base_fen = r.base_fen
        if base_fen is None:
            cached = self._persons.get(person_uuid)
            if cached is None or cached[0] != person_version:
                cached = (person_version, self.store.app.repository.get(person_uuid))
                self._persons[person_uuid] = cached
            base_fen = cached[1].base_for(int(period[:4]))
            if base_fen is None:
                raise ValidationFailed("base_not_declared",
                                       f"no contribution base declared for {period[:4]}",
                                       field="base_fen")
        else:
            require_fen(base_fen, "base_fen")
        key = (period, employer.risk_class, employer.work_injury_float, r.insurances)
        schedule = self._schedules.get(key)
        if schedule is None:
            schedule = rate_schedule(self.policy, parse_period(period), employer.risk_class,
                                     r.insurances or EMPLOYEE_INSURANCES,
                                     Decimal(employer.work_injury_float))
            if len(self._schedules) >= SCHEDULE_CACHE_MAX:
                self._schedules.clear()
            self._schedules[key] = schedule
        return schedule.assess(base_fen)


def _total(lines: Sequence[Sequence[Any]]) -> int:
    return sum(int(line[2]) + int(line[3]) for line in lines)


def _rejected(index: int, e: DomainError) -> LineOutcome:
    return LineOutcome(index, "rejected", e.code, e.field or "", e.message)
