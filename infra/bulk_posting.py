"""The bulk path for contributions: many person-months posted in bounded batches, each batch
one query to learn what exists and one insert statement (COPY on PostgreSQL) to write.

Per line, the outcome is exactly one of: posted, duplicate (the same month with the same amounts
was posted before: nothing written), or rejected (with code, field and reason: nothing written).
A rejected line never stops the valid ones, and a valid line is never half-posted: each line is
one event. Months that exist already (reversed, or posted differently) take the single path.

The events written here are byte-for-byte what `ContributionMonth(...)` would store (a test
checks it), so aggregates, projections and upcasting read them like any other."""

from __future__ import annotations

import contextlib
import gc
import itertools
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent

from domain import ids
from domain.assessment import (
    EMPLOYEE_INSURANCES,
    Collected,
    RateSchedule,
    amount_difference,
    month_lines,
    month_total_fen,
    posting_journal,
    rate_schedule,
)
from domain.contribution import ContributionMonth
from domain.errors import Conflict, DomainError, ValidationFailed
from domain.identity import check_id_number, parse_credit_code
from domain.money import require_fen
from domain.periods import parse_period
from domain.policy import PolicyTables
from domain.registration import Employer, Person
from infra.store import Store

BATCH_SIZE_MAX = 5000  # measured: 5,000 beats 2,000 by ~15% on SQLite (fewer fsyncs)
APPEND_RETRIES_MAX = 3
KNOWN_PERSONS_MAX = 1_000_000  # about 100 MB at most; a region has fewer insured persons
SCHEDULE_CACHE_MAX = 10_000  # distinct (period, class, float, insurances) kept
POSTED_TOPIC = Store.topic(ContributionMonth.Posted)
MONTH_TOPIC = Store.topic(ContributionMonth)


class PostingRequest(NamedTuple):
    """One person-month to post. `base_fen` is the assessed base (default: the declared one);
    `collected` the amounts the tax bureau collected, if they are what is posted (then
    `insurances` must name the same insurances in the same order); `serials` the source lines."""

    id_number: str
    employer_code: str
    period: str
    base_fen: int | None = None
    insurances: tuple[str, ...] | None = None
    collected: Collected | None = None
    serials: tuple[str, ...] = ()


@dataclass(slots=True)
class PreparedPosting:
    person_id: str
    employer_code: str
    period: str
    lines: list[list[Any]]
    journal: list[list[Any]]
    assessed: list[list[Any]] | None = None

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
class _Prepared:
    """A batch made ready to append: its new events, and what is known of every line."""

    batch: list[PostingRequest]
    offset: int
    outcomes: dict[int, LineOutcome] = field(default_factory=dict)
    events: list[StoredEvent] = field(default_factory=list)
    totals: list[tuple[int, int]] = field(default_factory=list)  # (line index, total fen)
    existing: list[tuple[int, PostingRequest]] = field(default_factory=list)


@dataclass
class BulkResult:
    """Counts per status, and the outcome of every line, or with `keep_posted=False` only of
    the lines that were not posted (so that memory does not grow with a large file)."""

    keep_posted: bool = True
    outcomes: list[LineOutcome] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: {"posted": 0, "duplicate": 0, "rejected": 0})
    position: int = 0

    def add(self, outcomes: list[LineOutcome], posted_unlisted: int = 0) -> None:
        """Count and keep `outcomes`; `posted_unlisted` lines were posted without an outcome
        object being made for them (keep_posted=False)."""
        counts = self.counts
        for o in outcomes:
            counts[o.status] += 1
        counts["posted"] += posted_unlisted
        if self.keep_posted:
            self.outcomes.extend(outcomes)
        else:
            self.outcomes.extend(o for o in outcomes if o.status != "posted")

    def count(self, status: str) -> int:
        return self.counts[status]

    def summary(self) -> dict[str, int]:
        return dict(self.counts)


def prepare_posting(policy: PolicyTables, request: PostingRequest, person: Person,
                    employer: Employer, hold_differences: bool = False) -> PreparedPosting:
    """Validate and assess one request against the person's and employer's current state.
    With `hold_differences`, collected amounts that differ from the assessment are refused."""
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
    schedule = rate_schedule(policy, period, employer.risk_class_on(str(period)), insurances,
                             Decimal(employer.work_injury_float))
    lines, assessed = month_lines(schedule, base_fen, request.collected)
    if assessed is not None and hold_differences:
        raise amount_difference(lines, assessed)
    person_id = str(person.id)
    return PreparedPosting(person_id, employer.credit_code, str(period), lines,
                           posting_journal(person_id, lines), assessed)


def chunks(items: Iterable[PostingRequest], size: int) -> Iterator[list[PostingRequest]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


class BulkPoster:
    """Posts person-months in batches. Employer and person state is cached by (id, version):
    a batch learns every version in its one existence query, so the cache is never stale."""

    def __init__(self, store: Store, policy: PolicyTables, source: str,
                 hold_differences: bool = False) -> None:
        self.store = store
        self.policy = policy
        self.source = source
        self.region = store.settings.region_code
        self.builder = LineBuilder(policy, self.region, source, store.encode_state,
                                   hold_differences)
        self._employers: dict[UUID, tuple[int, Employer]] = {}
        self._persons: dict[UUID, tuple[int, Person]] = {}
        self._known_persons: set[bytes] = set()  # ids (16 bytes) of persons known to exist

    def post(self, requests: Iterable[PostingRequest],
             progress: Callable[[int], None] | None = None,
             batch_size: int = BATCH_SIZE_MAX, keep_posted: bool = True,
             worker: bool | None = None) -> BulkResult:
        """Post in batches. When the input is more than one batch, a forked worker process
        builds batch k+1 (validate, assess, journal, encode: the CPU work) while this process
        checks existence and appends batch k: the two cores work at once. `worker=False`
        forces one process, `True` forces the worker (tests)."""
        result = BulkResult(keep_posted)
        size = min(batch_size, BATCH_SIZE_MAX)
        batches = chunks(requests, size)
        first = next(batches, None)
        if first is None:
            return result
        use_worker = worker if worker is not None else (
            len(first) == size and self._worker_possible())
        if use_worker:
            self._post_with_worker(first, batches, result, progress, keep_posted)
        else:
            offset = 0
            for batch in itertools.chain([first], batches):
                self._collect(result, self._post_batch(batch, offset, False, keep_posted),
                              len(batch), progress)
                offset += len(batch)
        # A bulk load leaves the events table without statistics (infra/store.py): commands
        # after it would load each aggregate a thousand times slower.
        self.store.refresh_statistics()
        return result

    def _worker_possible(self) -> bool:
        # The worker encodes states itself: only for plain payloads (no cipher, no compressor),
        # and only where fork exists (a forked child starts at once with everything loaded).
        return ("fork" in multiprocessing.get_all_start_methods()
                and not self.store.encrypts_or_compresses)

    def _post_with_worker(self, first: list[PostingRequest],
                          batches: Iterator[list[PostingRequest]], result: BulkResult,
                          progress: Callable[[int], None] | None, keep_posted: bool) -> None:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_init_worker,
                                 initargs=(self.builder,)) as pool:
            offset = 0
            pending: tuple[list[PostingRequest], int, dict[str, Employer], Future[_Built]] | None
            pending = None
            for batch in itertools.chain([first], batches):
                employers, persons = self._lookups(batch)
                timestamp = self.store.timestamp_state(self.store.now())
                built = pool.submit(_build_in_worker, batch, offset, employers, persons,
                                    timestamp)
                if pending is not None:
                    self._collect(result, self._append_built(*pending, keep_posted),
                                  len(pending[0]), progress)
                pending = (batch, offset, employers, built)
                offset += len(batch)
            if pending is not None:
                self._collect(result, self._append_built(*pending, keep_posted),
                              len(pending[0]), progress)

    def _append_built(self, batch: list[PostingRequest], offset: int,
                      employers: dict[str, Employer], built: Future[_Built], keep_posted: bool
                      ) -> tuple[list[LineOutcome], int, int]:
        prepared = self._filter(batch, offset, employers, built.result(), check_months=False)
        try:
            position = self.store.append(prepared.events) if prepared.events else 0
        except IntegrityError:
            # A month exists already (a replay, a re-posting, or a concurrent writer): redo this
            # batch in this process, checking every month.
            return self._post_batch(batch, offset, True, keep_posted)
        return self._finish(prepared, position, keep_posted)

    @staticmethod
    def _collect(result: BulkResult, done: tuple[list[LineOutcome], int, int], lines: int,
                 progress: Callable[[int], None] | None) -> None:
        outcomes, position, unlisted = done
        result.add(outcomes, unlisted)
        result.position = max(result.position, position)
        if progress:
            progress(lines)

    # -- one batch ---------------------------------------------------------------------------

    def _post_batch(self, batch: list[PostingRequest], offset: int, check_months: bool = True,
                    keep_posted: bool = True) -> tuple[list[LineOutcome], int, int]:
        """One batch in this process: build, filter, append, finish. On a primary-key conflict
        (a month on record, or a concurrent writer) it is redone with every month checked."""
        for _attempt in range(APPEND_RETRIES_MAX):
            employers, persons = self._lookups(batch)
            timestamp = self.store.timestamp_state(self.store.now())
            built = self.builder.build(batch, offset, employers, persons, timestamp)
            prepared = self._filter(batch, offset, employers, built, check_months)
            try:
                position = self.store.append(prepared.events) if prepared.events else 0
            except IntegrityError:
                check_months = True
                continue
            return self._finish(prepared, position, keep_posted)
        raise Conflict("concurrent_update", "the batch kept conflicting with another writer;"
                       " send it again")

    def _lookups(self, batch: list[PostingRequest]
                 ) -> tuple[dict[str, Employer], dict[UUID, Person]]:
        """The batch's registered employers (by credit code; one version query, cached by
        version) and, for lines without a base, the persons whose declared base is needed."""
        codes: dict[str, UUID] = {}
        for r in batch:
            code = self.builder.credit_code(r.employer_code)
            if code is not None:
                codes[code] = ids.employer_id(self.region, code)
        needs_base: dict[UUID, None] = {}
        for r in batch:
            if r.base_fen is None:
                with contextlib.suppress(DomainError):  # the builder reports a bad number
                    needs_base[ids.person_id(self.region, check_id_number(r.id_number))] = None
        versions = self.store.versions([*codes.values(), *needs_base])
        employers = {code: self._employer(u, versions[u]) for code, u in codes.items()
                     if u in versions}
        persons = {u: self._person(u, versions[u]) for u in needs_base if u in versions}
        return employers, persons

    def _filter(self, batch: list[PostingRequest], offset: int, employers: dict[str, Employer],
                built: _Built, check_months: bool) -> _Prepared:
        """Apply what only the store knows, in the order of the checks: is the person
        registered, is the employer, then the builder's verdict; then does the month exist."""
        prepared = _Prepared(batch, offset)
        outcomes = prepared.outcomes
        # A registered person exists for good (events are never deleted): persons seen once
        # are remembered (bounded), and only new ones are looked up.
        known = self._known_persons
        persons = {line.person for line in built.lines}
        ask = [UUID(bytes=b) for b in persons if b not in known]
        months = {line.month: UUID(bytes=line.month) for line in built.lines}
        if check_months:
            ask.extend(months.values())
        exists = {u.bytes for u in self.store.existing(ask)}
        found_persons = exists & persons
        if len(known) + len(found_persons) > KNOWN_PERSONS_MAX:
            known.clear()
        known |= found_persons
        exists |= persons & known
        for i, outcome in built.decided.items():
            outcomes[i] = outcome  # parse errors first; overridden below for parsed lines
        fresh: set[int] = set()
        for line in built.lines:
            i = line.index
            request = batch[i - offset]
            if line.person not in exists:
                outcomes[i] = LineOutcome(i, "rejected", "person_not_registered", "id_number",
                                          "no insured person with this ID number; register "
                                          "first")
            elif line.employer_code not in employers:
                outcomes[i] = LineOutcome(i, "rejected", "employer_not_registered",
                                          "employer_code", "no employer with this credit code;"
                                          " register first")
            elif line.twin_of is not None and line.twin_of not in fresh:
                # Its twin goes the single way (or was refused): so does this line.
                outcomes.pop(i, None)
                prepared.existing.append((i, request))
            elif i in built.decided:
                continue
            elif check_months and line.month in exists:
                prepared.existing.append((i, request))
            else:
                state, total = built.encoded[i]
                prepared.events.append(StoredEvent(months[line.month], 1, POSTED_TOPIC, state))
                prepared.totals.append((i, total))
                fresh.add(i)
        return prepared

    def _finish(self, prepared: _Prepared, position: int, keep_posted: bool = True
                ) -> tuple[list[LineOutcome], int, int]:
        """Outcomes in line order, the position reached, and how many lines were posted
        without an outcome object (when the caller does not keep posted lines)."""
        outcomes = prepared.outcomes
        unlisted = 0
        if keep_posted:
            for i, total in prepared.totals:
                outcomes[i] = LineOutcome(i, "posted", total_fen=total)
        else:
            unlisted = len(prepared.totals)
        # Months already on record go one by one through the single path (rare: re-posting
        # after a reversal, or a replayed file).
        if prepared.existing:
            from infra.ledger_service import LedgerService

            service = LedgerService(self.store, self.policy)
            for i, r in prepared.existing:
                try:
                    before = self.store.max_position()
                    done = service.post_contribution(
                        r.id_number, r.employer_code, r.period, r.base_fen, r.insurances,
                        source=self.source, collected=r.collected, serials=r.serials,
                        hold_differences=self.builder.hold_differences)
                    status = "posted" if done.position > before else "duplicate"
                    outcomes[i] = LineOutcome(i, status, total_fen=done.result["total_fen"])
                    position = max(position, done.position)
                except DomainError as e:
                    outcomes[i] = _rejected(i, e)
        return [outcomes[i] for i in sorted(outcomes)], position, unlisted

    def _employer(self, employer_uuid: UUID, version: int) -> Employer:
        cached = self._employers.get(employer_uuid)
        if cached is None or cached[0] != version:
            employer: Employer = self.store.app.repository.get(employer_uuid)
            cached = (version, employer)
            self._employers[employer_uuid] = cached
        return cached[1]

    def _person(self, person_uuid: UUID, version: int) -> Person:
        cached = self._persons.get(person_uuid)
        if cached is None or cached[0] != version:
            person: Person = self.store.app.repository.get(person_uuid)
            cached = (version, person)
            self._persons[person_uuid] = cached
        return cached[1]


class _Line(NamedTuple):
    """A line whose ID number, credit code and period could be read. Ids travel as 16 bytes:
    the result crosses a process boundary, and pickled UUID objects cost 5× more."""

    index: int
    person: bytes
    employer_code: str
    month: bytes
    twin_of: int | None  # an earlier line of the batch for the same month


class _Built(NamedTuple):
    lines: list[_Line]
    decided: dict[int, LineOutcome]  # refused by the builder, or a twin's duplicate
    encoded: dict[int, tuple[bytes, int]]  # line index → (stored state, total fen)


class LineBuilder:
    """The CPU part of the bulk path, with no access to the store: reads, validates and
    assesses lines, builds their balanced journal and encodes their event state. It runs in
    this process or in the forked worker; both give the same result by construction."""

    def __init__(self, policy: PolicyTables, region: str, source: str,
                 encode: Callable[[dict[str, Any]], bytes], hold_differences: bool = False
                 ) -> None:
        self.policy = policy
        # Matching rule "hold": a month collected with other amounts than assessed is refused
        # (amount_differs) instead of posted, so that the import puts it in suspense.
        self.hold_differences = hold_differences
        self.region = region
        self.source = source
        self._encode = encode  # the store's: transcoder, then compressor and cipher if any
        self._codes: dict[str, str | None] = {}
        self._periods: dict[str, str] = {}
        self._schedules: dict[tuple[Any, ...], RateSchedule] = {}

    def credit_code(self, text: str) -> str | None:
        if text not in self._codes:
            try:
                self._codes[text] = parse_credit_code(text, "employer_code")
            except DomainError:
                self._codes[text] = None
        return self._codes[text]

    def build(self, batch: list[PostingRequest], offset: int, employers: dict[str, Employer],
              persons: dict[UUID, Person], timestamp: dict[str, str]) -> _Built:
        # A batch allocates thousands of small lists that live until it is written; the cyclic
        # GC would scan them over and over (measured: the journal step 5× slower). Nothing
        # here makes reference cycles, so pause it meanwhile.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._build(batch, offset, employers, persons, timestamp)
        finally:
            if gc_was_enabled:
                gc.enable()

    def _build(self, batch: list[PostingRequest], offset: int, employers: dict[str, Employer],
               persons: dict[UUID, Person], timestamp: dict[str, str]) -> _Built:
        built = _Built([], {}, {})
        decided, encoded = built.decided, built.encoded
        periods = self._periods
        seen_months: dict[UUID, tuple[int, list[list[Any]], str]] = {}
        encode = self._encode
        for i, r in enumerate(batch, offset):
            try:
                number = check_id_number(r.id_number)
                code = self.credit_code(r.employer_code)
                if code is None:
                    parse_credit_code(r.employer_code, "employer_code")  # raises the reason
                    raise AssertionError("unreachable")
                period = periods.get(r.period)
                if period is None:
                    period = periods[r.period] = str(parse_period(r.period))
            except DomainError as e:
                decided[i] = _rejected(i, e)
                continue
            person_uuid = ids.person_id(self.region, number)
            month_uuid = ids.contribution_month_id(person_uuid, period)
            employer = employers.get(code)
            twin = seen_months.get(month_uuid)
            built.lines.append(_Line(i, person_uuid.bytes, code, month_uuid.bytes,
                                     None if twin is None else twin[0]))
            if employer is None:
                continue  # refused by the caller: employer_not_registered
            try:
                lines, assessed = self._assess(r, period, employer, persons.get(person_uuid))
            except DomainError as e:
                decided[i] = _rejected(i, e)
                continue
            if twin is not None:  # the same month twice in one batch
                if twin[1] == lines and twin[2] == employer.credit_code:
                    decided[i] = LineOutcome(i, "duplicate", total_fen=month_total_fen(lines))
                else:
                    decided[i] = LineOutcome(
                        i, "rejected", "month_twice_in_batch", "period",
                        f"{period} appears earlier in this batch with other amounts")
                continue
            seen_months[month_uuid] = (i, lines, employer.credit_code)
            person_key = str(person_uuid)
            journal = posting_journal(person_key, lines)  # asserts that it balances
            state = {
                "timestamp": timestamp,
                "originator_topic": MONTH_TOPIC,
                "person_id": person_key,
                "employer_code": employer.credit_code,
                "period": period,
                "lines": lines,
                "journal": journal,
                "source": self.source,
                "serials": list(r.serials) if r.serials else None,
                "assessed": assessed,
            }
            encoded[i] = (encode(state), journal[0][1])  # the clearing debit: all collected
        return built

    def _assess(self, r: PostingRequest, period: str, employer: Employer, person: Person | None
                ) -> tuple[list[list[Any]], list[list[Any]] | None]:
        base_fen = r.base_fen
        if base_fen is None:
            base_fen = person.base_for(int(period[:4])) if person is not None else None
            if base_fen is None:
                raise ValidationFailed("base_not_declared",
                                       f"no contribution base declared for {period[:4]}",
                                       field="base_fen")
        else:
            require_fen(base_fen, "base_fen")
        risk_class = employer.risk_class_on(period)
        key = (period, risk_class, employer.work_injury_float, r.insurances)
        schedule = self._schedules.get(key)
        if schedule is None:
            schedule = rate_schedule(self.policy, parse_period(period), risk_class,
                                     r.insurances or EMPLOYEE_INSURANCES,
                                     Decimal(employer.work_injury_float))
            if len(self._schedules) >= SCHEDULE_CACHE_MAX:
                self._schedules.clear()
            self._schedules[key] = schedule
        lines, assessed = month_lines(schedule, base_fen, r.collected)
        if assessed is not None and self.hold_differences:
            raise amount_difference(lines, assessed)
        return lines, assessed


_worker_builder: LineBuilder | None = None


def _init_worker(builder: LineBuilder) -> None:
    global _worker_builder
    _worker_builder = builder


def _build_in_worker(batch: list[PostingRequest], offset: int, employers: dict[str, Employer],
                     persons: dict[UUID, Person], timestamp: dict[str, str]) -> _Built:
    assert _worker_builder is not None
    return _worker_builder.build(batch, offset, employers, persons, timestamp)


def _rejected(index: int, e: DomainError) -> LineOutcome:
    return LineOutcome(index, "rejected", e.code, e.field or "", e.message)
