"""Personal rights statements (个人权益记录单) from the read models, as known at a log position:
the rows of one or many persons in a few indexed queries (each filtered by position ≤ P), the
pure builder of domain/statement.py, the content hash and the verification code; and the
verification of a code, which rebuilds the statement at the code's position.

A statement is issued at the position the read models have reached. The read models behind it
are append-only (person_facts, employer_facts, contribution_history, person_account_entries),
so rows with position ≤ P are exactly what was known at P, today and after any rebuild. The
rates that price arrears come from the policy tables: correcting a past rate there changes the
arrears of statements issued before (and their verification); the interest rate comes from the
InterestYear events."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson

from domain import ids
from domain.errors import NotFound, ValidationFailed
from domain.identity import check_id_number, mask_id_number, mask_name
from domain.policy import PolicyTables
from domain.statement import (
    AccountRow,
    BenefitPaymentRow,
    Fact,
    HistoryRow,
    Statement,
    StatementInputs,
    build_statement,
    canonical_json,
    died_before_year,
)
from domain.verification_code import YEAR_MAX, YEAR_MIN, VerificationCode, issue_code, parse_code
from infra.store import Store
from infra.views_db import ViewsDb
from projections.benefit_payments import TABLE as BENEFIT_PAYMENTS
from projections.fund_movements import ledger_day
from projections.person_facts import person_key

PERSONS_PER_QUERY_MAX = 500  # persons whose rows one query reads (bound parameters, memory)
AS_OF_CACHED_MAX = 1000
VERIFY_PATH = "/v1/statements/verify/"


@dataclass(frozen=True)
class IssuedStatement:
    statement: Statement
    canonical: bytes  # canonical JSON: what the content hash is of
    content_hash: str  # sha256, hex
    verification_code: str

    def verify_url(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}{VERIFY_PATH}{self.verification_code}"


@dataclass(frozen=True)
class Verification:
    code: str
    valid: bool
    reason: str  # why not valid; "" when valid
    year: int | None = None
    position: int | None = None
    issued: IssuedStatement | None = None


class _Days:
    """Ledger days (CST) of recorded times; recorded times of one hour share their day."""

    def __init__(self) -> None:
        self._by_hour: dict[str, str] = {}

    def __call__(self, recorded_at: str) -> str:
        hour = recorded_at[:13] + recorded_at[-6:]
        day = self._by_hour.get(hour)
        if day is None:
            day = self._by_hour[hour] = ledger_day(recorded_at)
        return day


class StatementQueries:
    def __init__(self, views: ViewsDb, store: Store | None, policy: PolicyTables,
                 region_code: str) -> None:
        """`store`: the event log, for the recorded time of a position (`as_of`); a batch
        worker that was given it has none."""
        self.views = views
        self.store = store
        self.policy = policy
        self.region_code = region_code
        self._days = _Days()
        # position → (recorded time, ledger day): an event's time never changes; concurrent
        # requests ask for the same head position.
        self._as_of: dict[int, tuple[str, str]] = {}

    # -- positions --------------------------------------------------------------------------

    def as_of(self, position: int) -> tuple[str, str] | None:
        """The recorded time and ledger day of the event at `position`, or None when the log
        has no event there."""
        known = self._as_of.get(position)
        if known is not None:
            return known
        assert self.store is not None, "as_of needs the event store"
        found = self.store.events_at([position]) if position > 0 else []
        if not found:
            return None
        if len(self._as_of) >= AS_OF_CACHED_MAX:
            self._as_of.clear()
        known = self._as_of[position] = found[0].recorded_at, self._days(found[0].recorded_at)
        return known

    # -- issuing ----------------------------------------------------------------------------

    def person_id_of(self, id_number: str) -> str:
        number = check_id_number(id_number.strip().upper())
        return str(ids.person_id(self.region_code, number))

    def issue(self, person_id: str, year: int, position: int) -> IssuedStatement:
        """The statement of one person and year as known at `position` (≤ the read models'
        position). NotFound when the person was not registered then."""
        check_year(year)
        as_of = self.as_of(position)
        if as_of is None:
            raise NotFound("position_not_found", f"the log has no event at position {position}",
                           field="position")
        inputs = self.inputs([person_id], year, position, *as_of)
        return issued(build_statement(inputs[person_id], self.policy))

    def issue_many(self, person_ids: Sequence[str], year: int, position: int, as_of: str,
                   as_of_day: str) -> Iterator[tuple[str, IssuedStatement | None]]:
        """Statements of many persons for the yearly mailing, their rows read together: per
        person, the statement, or None for a person whose death before the year is recorded
        (no statement is mailed for a year after the year of death)."""
        for start in range(0, len(person_ids), PERSONS_PER_QUERY_MAX):
            part = person_ids[start:start + PERSONS_PER_QUERY_MAX]
            inputs = self.inputs(part, year, position, as_of, as_of_day)
            for person_id in part:
                found = inputs[person_id]
                yield person_id, (None if died_before_year(found)
                                  else issued(build_statement(found, self.policy)))

    def persons(self, position: int, after: str = "", before: str | None = None,
                limit: int = PERSONS_PER_QUERY_MAX) -> list[str]:
        """Person ids registered by `position`, in id order, after `after` (and before
        `before`): a page of the yearly mailing."""
        sql = "SELECT person_id FROM person_keys WHERE position <= ? AND person_id > ?"
        params: list[Any] = [position, after]
        if before is not None:
            sql += " AND person_id < ?"
            params.append(before)
        sql += " ORDER BY person_id LIMIT ?"
        params.append(limit)
        return [str(row[0]) for row in self.views.query(sql, params)]

    def count_persons(self, position: int, after: str = "", before: str | None = None) -> int:
        sql = "SELECT COUNT(*) FROM person_keys WHERE position <= ? AND person_id > ?"
        params: list[Any] = [position, after]
        if before is not None:
            sql += " AND person_id < ?"
            params.append(before)
        return int(self.views.query(sql, params)[0][0])

    def inputs(self, person_ids: Sequence[str], year: int, position: int, as_of: str,
               as_of_day: str) -> dict[str, StatementInputs]:
        assert len(person_ids) <= PERSONS_PER_QUERY_MAX
        marks = ",".join("?" * len(person_ids))
        days = self._days
        facts: dict[str, list[Fact]] = {p: [] for p in person_ids}
        history: dict[str, list[HistoryRow]] = {p: [] for p in person_ids}
        accounts: dict[str, list[AccountRow]] = {p: [] for p in person_ids}
        benefits: dict[str, list[BenefitPaymentRow]] = {p: [] for p in person_ids}
        # One round trip for the four tables: (table, person, four texts, position, amount,
        # recorded time), each table's columns in its own order; benefit payments of the
        # year's months only (the statement shows no other), with their ledger day. Their
        # person ids are also bounded by the first and the last: for a page of 500 persons
        # (the yearly mailing's, consecutive ids) PostgreSQL estimated the IN list alone at
        # 16 times the rows and read the whole table (31 ms) instead of its index (0.9 ms).
        for table, person_id, a, b, c, d, pos, amount, recorded_at in self.views.query(
                "SELECT 'f', person_id, kind, data, source_id, NULL, position,"
                " CAST(NULL AS BIGINT), recorded_at"
                f" FROM person_facts WHERE person_id IN ({marks}) AND position <= ?"
                " UNION ALL SELECT 'h', person_id, period, kind, employer_code, lines, position,"
                " CAST(NULL AS BIGINT), recorded_at FROM contribution_history"
                f" WHERE person_id IN ({marks}) AND period <= ? AND position <= ?"
                " UNION ALL SELECT 'a', person_id, insurance, effective_date, period, kind,"
                " position, amount_fen, recorded_at FROM person_account_entries"
                f" WHERE person_id IN ({marks}) AND effective_date <= ? AND position <= ?"
                " UNION ALL SELECT 'b', person_id, insurance, kind, period, day, position,"
                f" amount_fen, recorded_at FROM {BENEFIT_PAYMENTS}"
                f" WHERE person_id IN ({marks}) AND person_id >= ? AND person_id <= ?"
                " AND period >= ? AND period <= ? AND position <= ?",
                (*person_ids, position, *person_ids, f"{year}-12", position,
                 *person_ids, f"{year}-12-31", position,
                 *person_ids, min(person_ids), max(person_ids), f"{year}-01", f"{year}-12",
                 position)):
            if table == "h":
                history[person_id].append(HistoryRow(a, b, c, orjson.loads(d), int(pos),
                                                     days(recorded_at)))
            elif table == "a":
                accounts[person_id].append(AccountRow(a, b, c, d, int(amount), int(pos),
                                                      days(recorded_at)))
            elif table == "b":
                benefits[person_id].append(BenefitPaymentRow(a, b, c, int(amount), int(pos), d))
            else:
                facts[person_id].append(Fact(a, orjson.loads(b), int(pos), days(recorded_at),
                                             c))
        employers = self._employers(
            {str(f.data["employer_code"]) for rows in facts.values() for f in rows
             if f.kind == "employment_started"}, position)
        return {
            person_id: StatementInputs(
                region_code=self.region_code, year=year, position=position, as_of=as_of,
                as_of_day=as_of_day, person_id=person_id, facts=facts[person_id],
                employers=employers, history=history[person_id], accounts=accounts[person_id],
                benefit_payments=benefits[person_id])
            for person_id in person_ids
        }

    def _employers(self, codes: Iterable[str], position: int) -> dict[str, list[Fact]]:
        by_id = {str(ids.employer_id(self.region_code, code)): code for code in codes}
        found: dict[str, list[Fact]] = {code: [] for code in by_id.values()}
        wanted = list(by_id)
        for start in range(0, len(wanted), PERSONS_PER_QUERY_MAX):
            part = wanted[start:start + PERSONS_PER_QUERY_MAX]
            for employer_id, kind, data, pos, recorded_at in self.views.query(
                    "SELECT employer_id, kind, data, position, recorded_at FROM employer_facts"
                    f" WHERE employer_id IN ({','.join('?' * len(part))}) AND position <= ?",
                    (*part, position)):
                found[by_id[employer_id]].append(
                    Fact(kind, orjson.loads(data), int(pos), self._days(recorded_at)))
        return found

    # -- verifying --------------------------------------------------------------------------

    def verify(self, text: str, reached: int) -> Verification:
        """Rebuild the statement a code names and compare content hashes. `reached`: the read
        models' position (a code from beyond it cannot have been issued here). A malformed code
        raises ValidationFailed; a well-formed one that matches nothing is not valid."""
        code = parse_code(text)
        normalised = code.text()
        if code.position > reached:
            return Verification(normalised, False, "position_not_reached", code.year,
                                code.position)
        as_of = self.as_of(code.position)
        if as_of is None:
            return Verification(normalised, False, "position_not_found", code.year,
                                code.position)
        for person_id in self._candidates(code):
            inputs = self.inputs([person_id], code.year, code.position, *as_of)
            found = issued(build_statement(inputs[person_id], self.policy,
                                           code.format_version))
            if code.matches(found.content_hash):
                return Verification(normalised, True, "", code.year, code.position, found)
        return Verification(normalised, False, "no_matching_statement", code.year,
                            code.position)

    def _candidates(self, code: VerificationCode) -> list[str]:
        return [str(row[0]) for row in self.views.query(
            "SELECT person_id FROM person_keys WHERE person_key = ? AND position <= ?"
            " ORDER BY person_id", (code.person_key, code.position))]


def issued(statement: Statement) -> IssuedStatement:
    canonical = canonical_json(statement)
    digest = hashlib.sha256(canonical).hexdigest()
    code = issue_code(statement.year, statement.position,
                      person_key(statement.registration.person_id), digest,
                      statement.format_version)
    return IssuedStatement(statement, canonical, digest, code)


def check_year(year: int, field: str = "year") -> int:
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise ValidationFailed("statement_year_out_of_range",
                               f"{field}: {year} is not a year from {YEAR_MIN} to {YEAR_MAX}",
                               field=field)
    return year


def masked(statement: Statement) -> Statement:
    """The statement with the person's ID number and name masked and the birth date left out,
    for readers who do not see personal data in clear. Its content hash and code stay those of
    the statement as issued."""
    registration = statement.registration
    return replace(statement, registration=replace(
        registration, id_number=mask_id_number(registration.id_number),
        name=mask_name(registration.name), birth_date=""))
