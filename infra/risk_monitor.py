"""The risk monitor (经办风险实时监控, the bureau's "electronic eye"): follows the event log like
the hash chain keeper (infra/integrity.py) — the projection runner calls it after each catch-up —
evaluates the risk rules (domain/risk.py, data in domain/risk_data/) on each event, and raises an
`Alert` event (domain/alert.py) for each finding.

- It reads only the event types the rules look at, filtered by topic in SQL. Postings
  (contribution months, pension payments) are read only once a death is on record: before that
  no posting can follow a death, so the bulk paths' millions of months cost it nothing.
- Its state — each month's earlier reversals, reversals per staff member and day, each person's
  last declared base, recorded deaths, staff roles, each case's sign-offs — lives in its own
  tables beside the read models (`risk_*`), written in one transaction with its position.
- Alerts are saved to the event store inside that transaction, before the position moves: after
  a crash in between they are raised again, and their deterministic ids make the store refuse
  the repeat. Two monitors may run at once (the API's and a command line's): the position row is
  locked, and the one that finds it moved goes on from there.
- It never reads Alert events, its own output.
- A monitor started on a store with history evaluates that history first (its position starts
  at 0). A change of its state tables (STATE_VERSION) rebuilds the state from the first event
  without raising again what it had evaluated; `reset()` re-evaluates everything, raising only
  what was never raised (new rules, changed parameters)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from domain.alert import Alert
from domain.backpay import BackPayment
from domain.benefit_payment import BenefitPayment
from domain.case import Case
from domain.contribution import ContributionMonth
from domain.pension import Entitlement
from domain.pension_payment import PensionPayment
from domain.periods import PERIOD_YEAR_MAX, Period, parse_period
from domain.registration import Person
from domain.risk import (
    AFTER_DEATH,
    BACKPAY_SPAN,
    BASE_CHANGE,
    BENEFIT,
    CONTRIBUTION,
    PENSION,
    REPEAT_REVERSAL,
    REVERSALS_PER_DAY_MAX,
    SAME_POST_FAMILY,
    TELLER_REVERSALS,
    Death,
    DeclaredBase,
    EventRef,
    Finding,
    Posting,
    RiskRules,
    SignOff,
    actor_of,
    after_death,
    backpay_span,
    base_change,
    bureau_day,
    repeat_reversal,
    same_post_family,
    teller_reversals,
)
from domain.staff import StaffUser
from infra.ledger_service import stamp
from infra.store import Store
from infra.views_db import ViewsDb

MONITOR_TABLE = "risk_monitor"
MONITOR_NAME = "risk"
STATE_VERSION = 1  # of the state tables below: a change rebuilds them from the first event
MONTH_REVERSALS = "risk_month_reversals"
STAFF_DAYS = "risk_staff_days"
LAST_BASES = "risk_last_bases"
DEATHS = "risk_deaths"
STAFF = "risk_staff"
SIGN_OFFS = "risk_case_sign_offs"
STATE_TABLES = (MONTH_REVERSALS, STAFF_DAYS, LAST_BASES, DEATHS, STAFF, SIGN_OFFS)
PAGE_EVENTS = 5000
KEYS_PER_QUERY = 500
REFS_PER_DAY_KEPT = REVERSALS_PER_DAY_MAX + 1  # enough for the largest count the data allows
MONITOR_ACTOR = "system:risk_monitor"
BACKPAY_SOURCE_PREFIX = "backpay:"  # infra/backpay_service.py: the months a back-payment posts
PERSON_ID_KEY = b'"person_id":"'  # as the orjson transcoder writes a month's state
UUID_TEXT_LENGTH = 36

ASSESSED = "BackPayment.Assessed"
REVERSED = "ContributionMonth.Reversed"
DEATH_RECORDED = "Person.DeathRecorded"
BASE_DECLARED = "Person.BaseDeclared"
SIGNED = "Case.Signed"
STAFF_ADDED = "StaffUser.Added"
PAYMENT_SCHEDULED = "Entitlement.FirstPaymentScheduled"
# What the rules read, always; and the postings, read once a death is on record.
RULE_EVENTS: tuple[type[Aggregate.Event], ...] = (
    BackPayment.Assessed, ContributionMonth.Reversed, Person.DeathRecorded,
    Person.BaseDeclared, Case.Signed, StaffUser.Added)
POSTING_EVENTS: dict[type[Aggregate.Event], str] = {
    ContributionMonth.Posted: CONTRIBUTION,
    ContributionMonth.Reposted: CONTRIBUTION,
    ContributionMonth.Supplemented: CONTRIBUTION,
    Entitlement.FirstPaymentScheduled: PENSION,
    PensionPayment.Paid: PENSION,
    BenefitPayment.Paid: BENEFIT,
}
POSTING_KINDS = {cls.__qualname__: kind for cls, kind in POSTING_EVENTS.items()}

Progress = Callable[[int, int], None]  # (position reached, head)


@dataclass(frozen=True)
class StoredEvent:
    """An event as the monitor reads it: where it is, and its state as plain JSON values."""

    ref: EventRef
    state: dict[str, Any]

    @property
    def type_name(self) -> str:
        return self.ref.type_name

    @property
    def actor(self) -> str | None:
        return actor_of(self.state.get("meta"), self.state.get("source"))


@dataclass
class _PageState:
    """The monitor's state for the keys one page touches, and which keys changed."""

    month_reversals: dict[str, list[EventRef]] = field(default_factory=dict)
    staff_days: dict[tuple[str, str], list[EventRef]] = field(default_factory=dict)
    bases: dict[str, DeclaredBase] = field(default_factory=dict)
    staff: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sign_offs: dict[str, list[SignOff]] = field(default_factory=dict)
    new_deaths: dict[str, Death] = field(default_factory=dict)
    changed: dict[str, set[Any]] = field(default_factory=lambda: {t: set() for t in
                                                                    STATE_TABLES})


class _Overtaken(Exception):
    """Another monitor moved the position while this one evaluated a page."""


def _refs_json(refs: Iterable[EventRef]) -> str:
    return orjson.dumps([r.as_list() for r in refs]).decode()


def _refs(text: str) -> list[EventRef]:
    return [EventRef.from_list(row) for row in orjson.loads(text)]


class RiskMonitor:
    def __init__(self, store: Store, views: ViewsDb, rules: RiskRules) -> None:
        self.store = store
        self.views = views
        self.rules = rules
        self.region = store.settings.region_code
        self._topic_types = {get_topic(cls): cls.__qualname__
                             for cls in (*RULE_EVENTS, *POSTING_EVENTS)}
        self._rule_topics = [get_topic(cls) for cls in RULE_EVENTS]
        self._posting_topics = [get_topic(cls) for cls in POSTING_EVENTS]
        self._death_topic = get_topic(Person.DeathRecorded)
        self._payment_topic = get_topic(Entitlement.FirstPaymentScheduled)
        # Postings whose state names their person: contribution months, pension payments and
        # other insurances' benefit payments.
        self._person_topics = {get_topic(cls) for cls in POSTING_EVENTS
                               if cls is not Entitlement.FirstPaymentScheduled}
        # Deaths on record (small), kept between pages; valid at `_deaths_position`.
        self._deaths: dict[str, Death] = {}
        self._dead_entitlements: dict[str, str] = {}  # entitlement id → person id
        self._deaths_position = -1
        self._lock = threading.Lock()  # one catch-up at a time in this process (the cache)
        self._setup()

    # -- tables and position -------------------------------------------------------------------

    def _setup(self) -> None:
        big = "BIGINT" if self.views.dialect == "postgres" else "INTEGER"
        with self.views.transaction() as cur:
            cur.execute(f"CREATE TABLE IF NOT EXISTS {MONITOR_TABLE} (name TEXT PRIMARY KEY,"
                        f" version INTEGER NOT NULL, position {big} NOT NULL,"
                        f" quiet_until {big} NOT NULL)")
            cur.execute(f"SELECT version, position FROM {MONITOR_TABLE} WHERE name = ?",
                        (MONITOR_NAME,))
            found = cur.fetchone()
            if found is not None and int(found[0]) != STATE_VERSION:
                # Rebuild the state from the first event, raising nothing already evaluated.
                for table in STATE_TABLES:
                    cur.execute(f"DROP TABLE IF EXISTS {table}")
                cur.execute(f"UPDATE {MONITOR_TABLE} SET version = ?, position = 0,"
                            " quiet_until = ? WHERE name = ?",
                            (STATE_VERSION, int(found[1]), MONITOR_NAME))
            for statement in _state_ddl(big):
                cur.execute(statement)
            cur.execute(f"INSERT INTO {MONITOR_TABLE} (name, version, position, quiet_until)"
                        " VALUES (?, ?, 0, 0) ON CONFLICT (name) DO NOTHING",
                        (MONITOR_NAME, STATE_VERSION))

    def position(self) -> int:
        rows = self.views.query(f"SELECT position FROM {MONITOR_TABLE} WHERE name = ?",
                                (MONITOR_NAME,))
        return int(rows[0][0]) if rows else 0

    def reset(self) -> None:
        """Forget the state and evaluate the whole log again with the current rules: alerts
        raised before are not raised again (their ids exist), new findings are."""
        with self._lock, self.views.transaction() as cur:
            for table in STATE_TABLES:
                cur.execute(f"DELETE FROM {table}")
            cur.execute(f"UPDATE {MONITOR_TABLE} SET position = 0, quiet_until = 0"
                        " WHERE name = ?", (MONITOR_NAME,))
            self._deaths_position = -1

    # -- following the log ---------------------------------------------------------------------

    def catch_up(self, progress: Progress | None = None) -> int:
        """Evaluate every event written since the last call; returns the position reached."""
        with self._lock:
            return self._catch_up(progress)

    def _catch_up(self, progress: Progress | None) -> int:
        head = self.store.max_position()
        position = self.position()
        while position < head:
            if self._deaths_position != position:
                self._load_deaths()
                self._deaths_position = position
            postings = bool(self._deaths) and self.rules[AFTER_DEATH].enabled
            topics = self._rule_topics + (self._posting_topics if postings else [])
            rows = self._read(position, head, topics)
            last = int(rows[-1][0]) if len(rows) == PAGE_EVENTS else head
            if not postings and self.rules[AFTER_DEATH].enabled:
                # From the first death on, postings matter: the next page reads them too.
                first_death = next((i for i, row in enumerate(rows)
                                    if row[1] == self._death_topic), None)
                if first_death is not None:
                    rows = rows[:first_death + 1]
                    last = int(rows[-1][0])
            page = self._decode(self._relevant(rows) if postings else rows)
            try:
                new_deaths = self._apply(position, last, page)
            except _Overtaken:
                position = self.position()
                self._deaths_position = -1
                continue
            except BaseException:
                self._deaths_position = -1
                raise
            self._remember(new_deaths)
            position = self._deaths_position = last
            if progress:
                progress(position, head)
        return position

    def _read(self, after: int, head: int, topics: Sequence[str]) -> list[tuple[Any, ...]]:
        """The next page of (position, topic, state, originator id, version) of `topics` after
        `after` up to `head`, oldest first."""
        store = self.store
        marks = ",".join(["%s" if store.is_postgres else "?"] * len(topics))
        column = store.position_column
        sql = (f"SELECT {column}, topic, state, originator_id, originator_version"
               f" FROM {store.events_table} WHERE {column} > {'%s' if store.is_postgres else '?'}"
               f" AND {column} <= {'%s' if store.is_postgres else '?'} AND topic IN ({marks})"
               f" ORDER BY {column} LIMIT {PAGE_EVENTS}")
        return self.store.select_rows(sql, [after, head, *topics])

    def _relevant(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """The rows less the postings to persons with no death on record (nor in this page),
        found without decoding them where the stored state is plain JSON: a month's state
        names its person (`"person_id":"…"`), so does a pension payment; a scheduled first
        payment is its entitlement's."""
        dead = set(self._deaths)
        entitlements = set(self._dead_entitlements)
        for _position, topic, _data, originator, _version in rows:
            if topic == self._death_topic:
                person_id = _uuid_text(originator)
                dead.add(person_id)
                entitlements.add(str(Entitlement.create_id(self.region, person_id)))
        plain = not self.store.encrypts_or_compresses
        kept = []
        for row in rows:
            topic, data = row[1], row[2]
            if topic == self._payment_topic:
                if _uuid_text(row[3]) not in entitlements:
                    continue
            elif topic in self._person_topics and plain:
                found = data.find(PERSON_ID_KEY)
                start = found + len(PERSON_ID_KEY)
                if found >= 0 and bytes(data[start:start + UUID_TEXT_LENGTH]
                                        ).decode(errors="replace") not in dead:
                    continue  # (not found: kept, and decoded)
            kept.append(row)
        return kept

    def _decode(self, rows: Sequence[tuple[Any, ...]]) -> list[StoredEvent]:
        decode = self.store.decode_state
        events = []
        for position, topic, data, originator, version in rows:
            events.append(StoredEvent(
                EventRef(int(position), _uuid_text(originator), int(version),
                         self._topic_types[topic]), decode(data)))
        return events

    def _events_of(self, originator_ids: Sequence[UUID], before: int) -> list[StoredEvent]:
        """Every event of these aggregates (of the types the monitor knows) before a position."""
        store = self.store
        column = store.position_column
        known = list(self._topic_types)
        found: list[tuple[Any, ...]] = []
        for i in range(0, len(originator_ids), KEYS_PER_QUERY):
            part = originator_ids[i:i + KEYS_PER_QUERY]
            if store.is_postgres:
                sql = (f"SELECT {column}, topic, state, originator_id, originator_version"
                       f" FROM {store.events_table} WHERE originator_id = ANY(%s)"
                       f" AND {column} < %s AND topic = ANY(%s)")
                found.extend(self.store.select_rows(sql, [list(part), before, known]))
            else:
                sql = (f"SELECT {column}, topic, state, originator_id, originator_version"
                       f" FROM {store.events_table} WHERE originator_id IN"
                       f" ({','.join('?' * len(part))}) AND {column} < ?"
                       f" AND topic IN ({','.join('?' * len(known))})")
                found.extend(self.store.select_rows(sql, [*(u.hex for u in part), before, *known]))
        return self._decode(sorted(found, key=lambda r: int(r[0])))

    # -- one page ------------------------------------------------------------------------------

    def _apply(self, expected: int, last: int, page: list[StoredEvent]) -> dict[str, Death]:
        with self.views.transaction() as cur:
            lock = " FOR UPDATE" if self.views.dialect == "postgres" else ""
            cur.execute(f"SELECT position, quiet_until FROM {MONITOR_TABLE} WHERE name = ?"
                        + lock, (MONITOR_NAME,))
            row = cur.fetchone()
            assert row is not None
            if int(row[0]) != expected:
                raise _Overtaken()
            quiet_until = int(row[1])
            state = self._load(cur, page)
            findings = self._evaluate(page, state)
            self._save(cur, state)
            self._raise([f for f in findings if f.position > quiet_until])
            cur.execute(f"UPDATE {MONITOR_TABLE} SET position = ? WHERE name = ?",
                        (last, MONITOR_NAME))
        return state.new_deaths

    def _evaluate(self, page: list[StoredEvent], state: _PageState) -> list[Finding]:
        rules = self.rules
        findings: list[Finding] = []
        # Postings of one decision (a back-payment's months) found late: one alert.
        grouped: dict[str, tuple[EventRef, Death, list[Posting]]] = {}
        for e in page:
            kind = e.type_name
            s = e.state
            if kind == STAFF_ADDED:
                state.staff[str(s["username"])] = tuple(str(r) for r in s["roles"])
                state.changed[STAFF].add(str(s["username"]))
            elif kind == SIGNED:
                findings.extend(self._signed(e, state))
            elif kind == ASSESSED:
                found = backpay_span(rules[BACKPAY_SPAN], e.ref, str(s["person_id"]),
                                     [str(m["period"]) for m in s["months"]],
                                     e.actor or str(s.get("assessed_by") or "") or None)
                findings.extend([found] if found else [])
            elif kind == REVERSED:
                findings.extend(self._reversed(e, state))
            elif kind == BASE_DECLARED:
                person_id = e.ref.originator_id
                declared = DeclaredBase(int(s["year"]), int(s["base_fen"]), e.ref)
                found = base_change(rules[BASE_CHANGE], e.ref, person_id, declared,
                                    state.bases.get(person_id), e.actor)
                findings.extend([found] if found else [])
                state.bases[person_id] = declared
                state.changed[LAST_BASES].add(person_id)
            elif kind == DEATH_RECORDED:
                findings.extend(self._death(e, state))
            elif kind in POSTING_KINDS:
                self._posting(e, state, grouped)
        for key, (trigger, death, postings) in grouped.items():
            found = after_death(rules[AFTER_DEATH], trigger, death, postings, key=key)
            findings.extend([found] if found else [])
        return sorted(findings, key=lambda f: f.position)

    def _signed(self, e: StoredEvent, state: _PageState) -> list[Finding]:
        case_id = e.ref.originator_id
        signer, role = str(e.state["signer"]), str(e.state["role"])
        roles = tuple(sorted({*state.staff.get(signer, ()), role}))
        sign_off = SignOff(signer, roles, e.ref)
        earlier = state.sign_offs.setdefault(case_id, [])
        found = same_post_family(self.rules[SAME_POST_FAMILY], e.ref, case_id, sign_off,
                                 earlier)
        earlier.append(sign_off)
        state.changed[SIGN_OFFS].add((case_id, signer))
        return [found] if found else []

    def _reversed(self, e: StoredEvent, state: _PageState) -> list[Finding]:
        month_id = e.ref.originator_id
        person_id, period = str(e.state["person_id"]), str(e.state["period"])
        actor = e.actor
        earlier = state.month_reversals.setdefault(month_id, [])
        found = [repeat_reversal(self.rules[REPEAT_REVERSAL], e.ref, person_id, period,
                                 list(earlier), actor)]
        earlier.append(e.ref)
        state.changed[MONTH_REVERSALS].add(month_id)
        if actor is not None:
            day_key = (actor, bureau_day(e.state["timestamp"]["_data_"]))
            that_day = state.staff_days.setdefault(day_key, [])
            found.append(teller_reversals(self.rules[TELLER_REVERSALS], e.ref, actor,
                                          day_key[1], list(that_day)))
            if len(that_day) < REFS_PER_DAY_KEPT:
                that_day.append(e.ref)
                state.changed[STAFF_DAYS].add(day_key)
        return [f for f in found if f is not None]

    def _death(self, e: StoredEvent, state: _PageState) -> list[Finding]:
        person_id = e.ref.originator_id
        death = Death(person_id, str(e.state["date_of_death"]), e.ref)
        if person_id in self._deaths or person_id in state.new_deaths:
            return []  # recorded once (the aggregate refuses a second)
        state.new_deaths[person_id] = death
        rule = self.rules[AFTER_DEATH]
        if not rule.enabled:
            return []
        found = after_death(rule, e.ref, death, self._postings_before(death))
        return [found] if found else []

    def _postings_before(self, death: Death) -> list[Posting]:
        """The postings standing when the death was recorded for months after the month of
        death: contribution months not reversed since, pension payments, a first payment
        scheduled, and other insurances' benefit payments (from their read model, which the
        projections have brought past the death before the monitor reads)."""
        person = death.person_id
        entitlement = Entitlement.create_id(self.region, person)
        later: list[UUID] = []  # the person's months and payments after the month of death
        period = parse_period(death.period).next()
        last = Period(PERIOD_YEAR_MAX, 12)
        while period <= last:
            later.append(ContributionMonth.create_id(person, str(period)))
            later.append(PensionPayment.create_id(str(entitlement), str(period)))
            period = period.next()
        # Other insurances' payments are keyed by voucher: their read model names them.
        later += [UUID(str(p)) for (p,) in self.views.query(
            "SELECT payment_id FROM benefit_payments WHERE person_id = ? AND period > ?",
            (person, death.period))]
        standing: dict[str, list[Posting]] = {}
        for e in self._events_of([*later, entitlement], death.ref.position):
            postings = standing.setdefault(e.ref.originator_id, [])
            if e.type_name == REVERSED:
                postings.clear()  # the month was reversed: what it held no longer stands
            elif e.type_name in POSTING_KINDS:
                postings.append(Posting(e.ref, str(e.state["period"]),
                                        POSTING_KINDS[e.type_name], e.actor))
        return [p for postings in standing.values() for p in postings]

    def _posting(self, e: StoredEvent, state: _PageState,
                 grouped: dict[str, tuple[EventRef, Death, list[Posting]]]) -> None:
        if e.type_name == PAYMENT_SCHEDULED:
            person_id = self._dead_entitlements.get(e.ref.originator_id) or next(
                (d.person_id for d in state.new_deaths.values()
                 if str(Entitlement.create_id(self.region, d.person_id)) == e.ref.originator_id),
                None)
        else:
            person_id = str(e.state["person_id"])
        if person_id is None:
            return
        death = self._deaths.get(person_id) or state.new_deaths.get(person_id)
        period = str(e.state["period"])
        if death is None or period <= death.period:
            return
        posting = Posting(e.ref, period, POSTING_KINDS[e.type_name], e.actor)
        source = str(e.state.get("source") or "")
        key = source if source.startswith(BACKPAY_SOURCE_PREFIX) else e.ref.key
        if key in grouped:
            grouped[key][2].append(posting)
        else:
            grouped[key] = (e.ref, death, [posting])

    # -- state ---------------------------------------------------------------------------------

    def _load_deaths(self) -> None:
        self._deaths = {}
        self._dead_entitlements = {}
        for person_id, entitlement_id, day, ref in self.views.query(
                f"SELECT person_id, entitlement_id, date_of_death, ref FROM {DEATHS}"):
            self._deaths[str(person_id)] = Death(str(person_id), str(day),
                                                 EventRef.from_list(orjson.loads(ref)))
            self._dead_entitlements[str(entitlement_id)] = str(person_id)

    def _remember(self, deaths: dict[str, Death]) -> None:
        for person_id, death in deaths.items():
            self._deaths[person_id] = death
            self._dead_entitlements[str(Entitlement.create_id(self.region, person_id))] = (
                person_id)

    def _load(self, cur: Any, page: list[StoredEvent]) -> _PageState:
        state = _PageState()
        months = {e.ref.originator_id for e in page if e.type_name == REVERSED}
        for month_id, refs in _select_in(cur, f"SELECT month_id, refs FROM {MONTH_REVERSALS}"
                                         " WHERE month_id IN", months):
            state.month_reversals[str(month_id)] = _refs(refs)
        days: dict[str, set[str]] = {}
        for e in page:
            if e.type_name == REVERSED and e.actor is not None:
                days.setdefault(bureau_day(e.state["timestamp"]["_data_"]), set()).add(e.actor)
        for day, actors in sorted(days.items()):
            for actor, refs in _select_in(cur, f"SELECT actor, refs FROM {STAFF_DAYS}"
                                          " WHERE day = ? AND actor IN", actors, (day,)):
                state.staff_days[(str(actor), day)] = _refs(refs)
        persons = {e.ref.originator_id for e in page if e.type_name == BASE_DECLARED}
        for person_id, year, base_fen, ref in _select_in(
                cur, f"SELECT person_id, year, base_fen, ref FROM {LAST_BASES}"
                     " WHERE person_id IN", persons):
            state.bases[str(person_id)] = DeclaredBase(int(year), int(base_fen),
                                                       EventRef.from_list(orjson.loads(ref)))
        signers = {str(e.state["signer"]) for e in page if e.type_name == SIGNED}
        for username, roles in _select_in(cur, f"SELECT username, roles FROM {STAFF}"
                                          " WHERE username IN", signers):
            state.staff[str(username)] = tuple(orjson.loads(roles))
        cases = {e.ref.originator_id for e in page if e.type_name == SIGNED}
        for case_id, signer, roles, ref in _select_in(
                cur, f"SELECT case_id, signer, roles, ref FROM {SIGN_OFFS} WHERE case_id IN",
                cases):
            state.sign_offs.setdefault(str(case_id), []).append(SignOff(
                str(signer), tuple(orjson.loads(roles)), EventRef.from_list(orjson.loads(ref))))
        for sign_offs in state.sign_offs.values():
            sign_offs.sort(key=lambda s: s.ref.position)
        return state

    def _save(self, cur: Any, state: _PageState) -> None:
        changed = state.changed
        if changed[MONTH_REVERSALS]:
            cur.executemany(
                f"INSERT INTO {MONTH_REVERSALS} (month_id, refs) VALUES (?, ?) ON CONFLICT"
                " (month_id) DO UPDATE SET refs = excluded.refs",
                [(m, _refs_json(state.month_reversals[m])) for m in sorted(
                    changed[MONTH_REVERSALS])])
        if changed[STAFF_DAYS]:
            cur.executemany(
                f"INSERT INTO {STAFF_DAYS} (actor, day, refs) VALUES (?, ?, ?)"
                " ON CONFLICT (actor, day) DO UPDATE SET refs = excluded.refs",
                [(a, d, _refs_json(state.staff_days[(a, d)]))
                 for a, d in sorted(changed[STAFF_DAYS])])
        if changed[LAST_BASES]:
            cur.executemany(
                f"INSERT INTO {LAST_BASES} (person_id, year, base_fen, ref) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (person_id) DO UPDATE SET year = excluded.year,"
                " base_fen = excluded.base_fen, ref = excluded.ref",
                [(p, b.year, b.base_fen, orjson.dumps(b.ref.as_list()).decode())
                 for p in sorted(changed[LAST_BASES]) for b in [state.bases[p]]])
        if state.new_deaths:
            cur.executemany(
                f"INSERT INTO {DEATHS} (person_id, entitlement_id, date_of_death, ref)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (person_id) DO NOTHING",
                [(p, str(Entitlement.create_id(self.region, p)), d.date_of_death,
                  orjson.dumps(d.ref.as_list()).decode()) for p, d in state.new_deaths.items()])
        if changed[STAFF]:
            cur.executemany(
                f"INSERT INTO {STAFF} (username, roles) VALUES (?, ?) ON CONFLICT (username)"
                " DO UPDATE SET roles = excluded.roles",
                [(u, orjson.dumps(list(state.staff[u])).decode())
                 for u in sorted(changed[STAFF])])
        if changed[SIGN_OFFS]:
            rows = []
            for case_id, signer in sorted(changed[SIGN_OFFS]):
                s = next(s for s in state.sign_offs[case_id] if s.signer == signer)
                rows.append((case_id, signer, orjson.dumps(list(s.roles)).decode(),
                             orjson.dumps(s.ref.as_list()).decode()))
            cur.executemany(
                f"INSERT INTO {SIGN_OFFS} (case_id, signer, roles, ref) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (case_id, signer) DO NOTHING", rows)

    # -- raising alerts ------------------------------------------------------------------------

    def _alert(self, f: Finding) -> Alert:
        alert = Alert(region_code=self.region, rule_code=f.rule.code, key=f.key,
                      rule_name_zh=f.rule.name_zh, severity=f.rule.severity,
                      summary_zh=f.summary_zh, person_id=f.person_id, actors=list(f.actors),
                      details=f.details, events=[ref.as_list() for ref in f.events])
        stamp([alert], {"actor": MONITOR_ACTOR, "case_id": None, "command": "raise_alert"})
        return alert

    def _raise(self, findings: list[Finding]) -> None:
        """Save an Alert per finding not raised before (its id exists: raised already)."""
        if not findings:
            return
        raised = self.store.existing(
            Alert.create_id(self.region, f.rule.code, f.key) for f in findings)
        new = {Alert.create_id(self.region, f.rule.code, f.key): f for f in findings}
        fresh = [f for alert_id, f in new.items() if alert_id not in raised]
        if not fresh:
            return
        try:
            self.store.app.save(*(self._alert(f) for f in fresh))
        except IntegrityError:  # another monitor raised some meanwhile: one at a time
            for f in fresh:
                with contextlib.suppress(IntegrityError):  # raised already
                    self.store.app.save(self._alert(f))


def _uuid_text(originator: Any) -> str:
    """An originator id as canonical UUID text: a UUID on PostgreSQL, 32 hex digits on SQLite."""
    return str(originator) if isinstance(originator, UUID) else str(UUID(hex=originator))


def _select_in(cur: Any, sql: str, keys: Iterable[Any], params: Sequence[Any] = ()
               ) -> list[tuple[Any, ...]]:
    """Rows of `sql` ("… WHERE column IN", after `params`) for `keys`, a bounded number of
    keys per query."""
    wanted = sorted(k for k in keys if k is not None)
    rows: list[tuple[Any, ...]] = []
    for i in range(0, len(wanted), KEYS_PER_QUERY):
        part = wanted[i:i + KEYS_PER_QUERY]
        cur.execute(f"{sql} ({','.join('?' * len(part))})", [*params, *part])
        rows.extend(cur.fetchall())
    return rows


def _state_ddl(big: str) -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS {MONTH_REVERSALS} (month_id TEXT PRIMARY KEY,"
        " refs TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {STAFF_DAYS} (actor TEXT NOT NULL, day TEXT NOT NULL,"
        " refs TEXT NOT NULL, PRIMARY KEY (actor, day))",
        f"CREATE TABLE IF NOT EXISTS {LAST_BASES} (person_id TEXT PRIMARY KEY,"
        f" year INTEGER NOT NULL, base_fen {big} NOT NULL, ref TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {DEATHS} (person_id TEXT PRIMARY KEY,"
        " entitlement_id TEXT NOT NULL, date_of_death TEXT NOT NULL, ref TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {STAFF} (username TEXT PRIMARY KEY, roles TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {SIGN_OFFS} (case_id TEXT NOT NULL, signer TEXT NOT NULL,"
        " roles TEXT NOT NULL, ref TEXT NOT NULL, PRIMARY KEY (case_id, signer))",
    ]
