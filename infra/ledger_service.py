"""Commands of the ledger: registrations, base declarations, contribution posting (single and
bulk), reversal. Each command checks its rules in the domain, saves the resulting events in one
transaction, and returns its result with the log position it reached.

Idempotency, two ways:
- business keys: aggregates have deterministic ids, so a repeated command finds its own earlier
  result (a no-op returning the original), or a conflict if it differs;
- an `Idempotency-Key`: a CommandReceipt saved in the same transaction as the command's events
  returns the original result on replay.

Who and why: inside `acting(actor, case_id)` every event a command saves carries
`meta = {"actor": …, "case_id": …, "command": …}` in its stored state (the library ignores
attributes its apply methods do not take, so aggregates replay as before). Inside `collecting()`
commands do not save: their aggregates gather in a unit of work (an identity map, so a later
command sees an earlier one's changes) that the caller saves in one transaction — how a case's
completion makes its domain effects atomic with it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain.assessment import Collected
from domain.contribution import ContributionMonth
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.identity import parse_credit_code, parse_id_number
from domain.money import require_fen
from domain.periods import parse_period
from domain.policy import PolicyTables
from domain.receipts import CommandReceipt
from domain.registration import Employer, Person
from domain.suspense import SuspenseItem
from infra.store import Store

CONCURRENCY_RETRIES_MAX = 3


@dataclass(frozen=True)
class CommandResult:
    result: dict[str, Any]
    position: int
    replayed: bool = False


@dataclass
class Decision:
    """What a command decided: aggregates with new events to save, and the result to return."""

    aggregates: list[Aggregate] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)


@dataclass
class UnitOfWork:
    """Aggregates changed by commands run inside `LedgerService.collecting()`, by id, in the
    order first touched, and the commands' results."""

    aggregates: dict[UUID, Aggregate] = field(default_factory=dict)
    results: list[dict[str, Any]] = field(default_factory=list)

    def add(self, *aggregates: Aggregate) -> None:
        for aggregate in aggregates:
            self.aggregates.setdefault(aggregate.id, aggregate)

    def effect_refs(self) -> list[list[Any]]:
        """[aggregate id, version, event type] of every pending event: what a case produced."""
        return [[str(a.id), e.originator_version, type(e).__qualname__]
                for a in self.aggregates.values() for e in a.pending_events]


_acting: ContextVar[dict[str, Any] | None] = ContextVar("shebao_acting", default=None)
_collecting: ContextVar[UnitOfWork | None] = ContextVar("shebao_collecting", default=None)


def stamp(aggregates: Iterable[Aggregate], meta: dict[str, Any]) -> None:
    """Put `meta` into every pending event of `aggregates` that has none yet (stored with the
    event's state): an effect's events keep their own command's meta."""
    for aggregate in aggregates:
        for event in aggregate.pending_events:
            if getattr(event, "meta", None) is None:
                object.__setattr__(event, "meta", meta)


def parse_day(text: str, field_name: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except (TypeError, ValueError):
        raise ValidationFailed(
            "date_malformed", f"{field_name}: {text!r} is not a date written YYYY-MM-DD",
            field=field_name,
        ) from None


def request_digest(payload: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


class LedgerService:
    def __init__(self, store: Store, policy: PolicyTables) -> None:
        self.store = store
        self.policy = policy
        self.region_code = store.settings.region_code
        self.repository = store.app.repository

    # -- the command pipeline --------------------------------------------------------------

    def execute(
        self,
        command: str,
        payload: dict[str, Any],
        decide: Callable[[], Decision],
        idempotency_key: str | None = None,
    ) -> CommandResult:
        unit = _collecting.get()
        if unit is not None:  # part of a larger transaction (a case's completion)
            decision = decide()
            acting = _acting.get()
            if acting is not None:
                stamp(decision.aggregates, {**acting, "command": command})
            unit.add(*decision.aggregates)
            unit.results.append({"command": command, **decision.result})
            return CommandResult(decision.result, 0)
        digest = request_digest({"command": command, **payload})
        receipt_id = None
        if idempotency_key:
            if not 1 <= len(idempotency_key) <= 200:
                raise ValidationFailed(
                    "idempotency_key_length", "Idempotency-Key must be 1-200 characters",
                    field="Idempotency-Key",
                )
            receipt_id = CommandReceipt.create_id(self.region_code, idempotency_key)
        for _attempt in range(CONCURRENCY_RETRIES_MAX):
            if receipt_id is not None:
                replay = self._replay(receipt_id, digest)
                if replay is not None:
                    return replay
            decision = decide()
            to_save: list[Aggregate] = list(decision.aggregates)
            if receipt_id is not None and idempotency_key:
                to_save.append(CommandReceipt(
                    region_code=self.region_code, idempotency_key=idempotency_key,
                    command=command, request_sha256=digest, result=decision.result,
                ))
            if not to_save:
                return CommandResult(decision.result, self.store.max_position())
            acting = _acting.get()
            if acting is not None:
                stamp(to_save, {**acting, "command": command})
            try:
                recordings = self.store.app.save(*to_save)
            except IntegrityError:
                continue  # someone else wrote first: decide again on fresh state
            position = max(r.notification.id for r in recordings)
            return CommandResult(decision.result, position)
        raise Conflict(
            "concurrent_update",
            f"{command}: the records changed {CONCURRENCY_RETRIES_MAX} times while this command"
            " ran; send it again",
        )

    def _replay(self, receipt_id: UUID, digest: str) -> CommandResult | None:
        try:
            receipt: CommandReceipt = self.repository.get(receipt_id)
        except AggregateNotFoundError:
            return None
        if receipt.request_sha256 != digest:
            raise Conflict(
                "idempotency_key_reused",
                "this Idempotency-Key was used for a different request; use a new key",
                field="Idempotency-Key",
            )
        return CommandResult(receipt.result, self.store.max_position(), replayed=True)

    @staticmethod
    @contextmanager
    def acting(actor: str, case_id: str | None = None) -> Iterator[None]:
        """Commands run inside record `actor` (and the case they are the effect of) on every
        event they save."""
        token = _acting.set({"actor": actor, "case_id": case_id})
        try:
            yield
        finally:
            _acting.reset(token)

    @staticmethod
    @contextmanager
    def collecting() -> Iterator[UnitOfWork]:
        """Commands run inside gather their aggregates in the yielded unit instead of saving."""
        unit = UnitOfWork()
        token = _collecting.set(unit)
        try:
            yield unit
        finally:
            _collecting.reset(token)

    def _get(self, aggregate_id: UUID) -> Any | None:
        unit = _collecting.get()
        if unit is not None and aggregate_id in unit.aggregates:
            return unit.aggregates[aggregate_id]
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None

    # -- loading by business key ------------------------------------------------------------

    def person(self, id_number: str) -> Person:
        number = parse_id_number(id_number).number
        found = self._get(Person.create_id(self.region_code, number))
        if found is None:
            raise NotFound(
                "person_not_registered",
                f"no insured person with ID number {number[:6]}…{number[-4:]} in region "
                f"{self.region_code}; register the person first",
                field="id_number",
            )
        person: Person = found
        return person

    def employer(self, credit_code: str) -> Employer:
        code = parse_credit_code(credit_code, "employer_code")
        found = self._get(Employer.create_id(self.region_code, code))
        if found is None:
            raise NotFound(
                "employer_not_registered",
                f"no employer with credit code {code} in region {self.region_code}; "
                "register the employer first",
                field="employer_code",
            )
        employer: Employer = found
        return employer

    # -- registrations ---------------------------------------------------------------------

    def register_employer(
        self, credit_code: str, name: str, employer_type: str, risk_class: int,
        industry: str = "", registered_on: str | None = None,
        idempotency_key: str | None = None, today: date | None = None,
    ) -> CommandResult:
        code = parse_credit_code(credit_code)
        Employer.check_registration(name, employer_type, risk_class)
        day = parse_day(registered_on, "registered_on") if registered_on else (
            (today or date.today()).isoformat())
        # The digest covers the request as sent: a default date must not make tomorrow's
        # replay of the same request look like a different one.
        payload = {"credit_code": code, "name": name.strip(), "employer_type": employer_type,
                   "risk_class": risk_class, "industry": industry,
                   "registered_on": registered_on}

        def decide() -> Decision:
            existing: Employer | None = self._get(Employer.create_id(self.region_code, code))
            result = {"employer_id": str(Employer.create_id(self.region_code, code)),
                      "credit_code": code}
            if existing is not None:
                if (existing.name, existing.employer_type, existing.risk_class) != (
                        payload["name"], employer_type, risk_class):
                    raise Conflict(
                        "employer_already_registered",
                        f"employer {code} is already registered with other details; "
                        "record a change instead",
                        field="credit_code",
                    )
                return Decision([], result)
            return Decision([Employer(
                region_code=self.region_code, credit_code=code, name=payload["name"],
                employer_type=employer_type, risk_class=risk_class, industry=industry,
                registered_on=day,
            )], result)

        return self.execute("register_employer", payload, decide, idempotency_key)

    def change_person_name(self, id_number: str, name: str,
                           idempotency_key: str | None = None) -> CommandResult:
        payload = {"id_number": id_number, "name": name.strip()}

        def decide() -> Decision:
            person = self.person(id_number)
            result = {"person_id": str(person.id), "name": name.strip()}
            if person.name == name.strip():
                return Decision([], result)  # the same change again
            person.change_name(name)
            return Decision([person], result)

        return self.execute("change_person_name", payload, decide, idempotency_key)

    def record_death(self, id_number: str, date_of_death: str, evidence: str,
                     idempotency_key: str | None = None, today: date | None = None
                     ) -> CommandResult:
        """死亡登记: record a person's death (once; the same date again is a no-op)."""
        day = parse_day(date_of_death, "date_of_death")
        if not isinstance(evidence, str):
            raise ValidationFailed("evidence_missing", "evidence must be text", field="evidence")
        payload = {"id_number": id_number, "date_of_death": day, "evidence": evidence.strip()}
        today_text = (today or date.today()).isoformat()

        def decide() -> Decision:
            person = self.person(id_number)
            changed = person.record_death(day, evidence, today_text)
            result = {"person_id": str(person.id), "date_of_death": day,
                      "evidence": evidence.strip()}
            return Decision([person] if changed else [], result)

        return self.execute("record_death", payload, decide, idempotency_key)

    def change_risk_class(self, credit_code: str, risk_class: int, effective_from: str,
                          idempotency_key: str | None = None) -> CommandResult:
        """单位行业风险类别变更: the work-injury class from `effective_from` (the first day of a
        month: a month is assessed with the class in force on its first day)."""
        code = parse_credit_code(credit_code, "employer_code")
        day = parse_day(effective_from, "effective_from")
        if not day.endswith("-01"):
            raise ValidationFailed("effective_from_not_month_start",
                                   "a risk class changes from the first day of a month",
                                   field="effective_from")
        payload = {"credit_code": code, "risk_class": risk_class, "effective_from": day}

        def decide() -> Decision:
            employer = self.employer(code)
            result = {"credit_code": code, "risk_class": risk_class, "effective_from": day}
            if [day, risk_class] in employer.risk_classes:
                return Decision([], result)  # the same change again
            employer.change_risk_class(risk_class, day)
            return Decision([employer], result)

        return self.execute("change_risk_class", payload, decide, idempotency_key)

    def register_person(
        self, id_number: str, name: str, registered_on: str | None = None,
        idempotency_key: str | None = None, today: date | None = None,
    ) -> CommandResult:
        rid = parse_id_number(id_number)
        if not name.strip():
            raise ValidationFailed("name_missing", "name must not be empty", field="name")
        day = parse_day(registered_on, "registered_on") if registered_on else (
            (today or date.today()).isoformat())
        if day < rid.birth_date.isoformat():
            raise ValidationFailed(
                "registered_before_birth", "registered_on is before the birth date in the ID",
                field="registered_on",
            )
        payload = {"id_number": rid.number, "name": name.strip(),
                   "registered_on": registered_on}
        pid = Person.create_id(self.region_code, rid.number)

        def decide() -> Decision:
            existing: Person | None = self._get(pid)
            result = {"person_id": str(pid)}
            if existing is not None:
                if existing.name != payload["name"]:
                    raise Conflict(
                        "person_already_registered",
                        "this ID number is already registered under another name; "
                        "record a change of personal details instead",
                        field="id_number",
                    )
                return Decision([], result)
            return Decision([Person(
                region_code=self.region_code, id_number=rid.number, name=payload["name"],
                sex=rid.sex, birth_date=rid.birth_date.isoformat(), registered_on=day,
            )], result)

        return self.execute("register_person", payload, decide, idempotency_key)

    def start_employment(self, id_number: str, employer_code: str, start_date: str,
                         idempotency_key: str | None = None) -> CommandResult:
        day = parse_day(start_date, "start_date")
        code = parse_credit_code(employer_code, "employer_code")
        payload = {"id_number": id_number, "employer_code": code, "start_date": day}

        def decide() -> Decision:
            person = self.person(id_number)
            self.employer(code)
            result = {"person_id": str(person.id), "employer_code": code, "start_date": day}
            spells = person.employments
            if spells and spells[-1]["employer_code"] == code and spells[-1]["start_date"] == day:
                return Decision([], result)  # the same start again: nothing to record
            person.start_employment(code, day)
            return Decision([person], result)

        return self.execute("start_employment", payload, decide, idempotency_key)

    def end_employment(self, id_number: str, employer_code: str, end_date: str,
                       idempotency_key: str | None = None) -> CommandResult:
        day = parse_day(end_date, "end_date")
        code = parse_credit_code(employer_code, "employer_code")
        payload = {"id_number": id_number, "employer_code": code, "end_date": day}

        def decide() -> Decision:
            person = self.person(id_number)
            result = {"person_id": str(person.id), "employer_code": code, "end_date": day}
            spells = person.employments
            if spells and spells[-1]["employer_code"] == code and spells[-1]["end_date"] == day:
                return Decision([], result)
            person.end_employment(code, day)
            return Decision([person], result)

        return self.execute("end_employment", payload, decide, idempotency_key)

    def declare_base(self, id_number: str, year: int, declared_wage_fen: int,
                     idempotency_key: str | None = None) -> CommandResult:
        require_fen(declared_wage_fen, "declared_wage_fen")
        if type(year) is not int:
            raise ValidationFailed("year_malformed", "year must be an integer", field="year")
        base_fen = self.policy.clamp_base(year, declared_wage_fen)
        payload = {"id_number": id_number, "year": year, "declared_wage_fen": declared_wage_fen}

        def decide() -> Decision:
            person = self.person(id_number)
            result = {"person_id": str(person.id), "year": year,
                      "declared_wage_fen": declared_wage_fen, "base_fen": base_fen}
            changed = person.declare_base(self.policy, year, declared_wage_fen)
            return Decision([person] if changed else [], result)

        return self.execute("declare_base", payload, decide, idempotency_key)

    # -- contributions (single; the bulk path is in infra/bulk_posting.py) -------------------

    def post_contribution(
        self, id_number: str, employer_code: str, period: str, base_fen: int | None = None,
        insurances: Sequence[str] | None = None, source: str = "api",
        idempotency_key: str | None = None, collected: Collected | None = None,
        serials: Sequence[str] = (), hold_differences: bool = False,
    ) -> CommandResult:
        """Assess and post one person-month, one aggregate per save (the naive path). With
        `collected`, the collected amounts are posted and the assessment kept beside them, or,
        with `hold_differences`, refused when they differ (amount_differs)."""
        from infra.bulk_posting import PostingRequest, prepare_posting

        request = PostingRequest(id_number, employer_code, period, base_fen,
                                 tuple(insurances) if insurances else None, collected,
                                 tuple(serials))
        payload = {"id_number": id_number, "employer_code": employer_code, "period": period,
                   "base_fen": base_fen, "insurances": list(insurances or []), "source": source,
                   "collected": [list(c) for c in collected or ()], "serials": list(serials)}

        def decide() -> Decision:
            person = self.person(id_number)
            employer = self.employer(employer_code)
            prepared = prepare_posting(self.policy, request, person, employer, hold_differences)
            month_id = ContributionMonth.create_id(str(person.id), prepared.period)
            result = {"month_id": str(month_id), "person_id": str(person.id),
                      "period": prepared.period, "lines": prepared.lines,
                      "total_fen": prepared.total_fen}
            existing: ContributionMonth | None = self._get(month_id)
            if existing is None:
                month = ContributionMonth(
                    person_id=str(person.id), employer_code=prepared.employer_code,
                    period=prepared.period, lines=prepared.lines, journal=prepared.journal,
                    source=source, serials=list(serials) or None, assessed=prepared.assessed,
                )
                return Decision([month], {**result, "status": "posted"})
            if existing.same_posting(prepared.employer_code, prepared.lines):
                return Decision([], {**result, "status": "posted"})
            existing.repost(prepared.employer_code, prepared.lines, prepared.journal, source,
                            list(serials) or None, prepared.assessed)
            return Decision([existing], {**result, "status": "posted"})

        return self.execute("post_contribution", payload, decide, idempotency_key)

    def _suspense_items_of(self, month: ContributionMonth) -> list[SuspenseItem]:
        """The suspense items whose money is in this month's posting (assigned to it)."""
        candidates = [SuspenseItem.create_id(self.region_code, s) for s in month.serials]
        # One existence query first: most serials are tax lines that were never held.
        held = self.store.existing(candidates) if candidates else set()
        found = []
        for item_id in candidates:
            item: SuspenseItem | None = self._get(item_id) if item_id in held else None
            if item is not None and item.assigned_to(str(month.id)):
                found.append(item)
        return found

    def reverse_contribution(self, id_number: str, period: str, reason: str,
                             source: str = "api",
                             idempotency_key: str | None = None) -> CommandResult:
        """红冲: reverse a posted month with a new event; the month can then be posted again."""
        p = str(parse_period(period))
        if not reason.strip():
            raise ValidationFailed("reason_missing", "a reversal needs a reason", field="reason")
        payload = {"id_number": id_number, "period": p, "reason": reason, "source": source}

        def decide() -> Decision:
            person = self.person(id_number)
            month_id = ContributionMonth.create_id(str(person.id), p)
            month: ContributionMonth | None = self._get(month_id)
            if month is None:
                raise NotFound("month_not_posted", f"{p} was never posted for this person",
                               field="period")
            if not month.is_reversed_for(reason.strip()):
                month.reverse(reason.strip(), source)
                # Money assigned out of suspense returns there: its items are held again.
                reopened = self._suspense_items_of(month)
                for item in reopened:
                    item.reopen(str(month_id), f"month {p} reversed: {reason.strip()}", source)
            else:  # the same reversal again: nothing to record
                return Decision([], {"month_id": str(month_id), "person_id": str(person.id),
                                     "period": p, "status": "reversed",
                                     "reversals": month.reversals})
            return Decision([month, *reopened], {"month_id": str(month_id),
                                                 "person_id": str(person.id), "period": p,
                                                 "status": "reversed",
                                                 "reversals": month.reversals})

        return self.execute("reverse_contribution", payload, decide, idempotency_key)
