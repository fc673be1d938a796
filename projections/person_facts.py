"""Facts about persons and employers as they were recorded, append-only, each with its log
position: registration, name changes, employment spells, declared bases, retirement, death,
benefit awards (and the deemed months a pension award recognised), the pension payments made
and the yearly pension adjustments, the inputs of each interest year, the months a
back-payment posted, and the transfers of the pension relationship between pooling regions
(accepted and posted in, remitted out: the months and money they moved). What a
personal rights statement (个人权益记录单) needs "as known at position P": a row counts when
its position ≤ P, and no row is ever updated, so a statement rebuilt later from the same P is
the same statement (projections/employments.py and person_bases.py keep only the current state
and cannot answer that).

`person_keys` maps the short person key of a statement's verification code
(domain/verification_code.py) to the persons that have it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import orjson

from domain.pension import BASIC_PENSION
from projections.base import EventRecord, Projection, ViewCursor

FACTS = "person_facts"
KEYS = "person_keys"
EMPLOYERS = "employer_facts"
FACT_COLUMNS = ("person_id", "kind", "data", "source_id", "position", "recorded_at")
KEY_COLUMNS = ("person_key", "person_id", "position")
EMPLOYER_COLUMNS = ("employer_id", "kind", "data", "position", "recorded_at")

# event class qualname → fact kind, for events of the Person aggregate (person = originator)
PERSON_KINDS = {
    "Person.Registered": "registered",
    "Person.NameChanged": "name_changed",
    "Person.EmploymentStarted": "employment_started",
    "Person.EmploymentEnded": "employment_ended",
    "Person.BaseDeclared": "base_declared",
    "Person.Retired": "retired",
    "Person.DeathRecorded": "death_recorded",
}
# events of other aggregates that name their person in the state
OTHER_KINDS = {
    "InterestYear.Credited": "interest_year",
    "InterestYear.Recomputed": "interest_year",
    "Entitlement.Awarded": "entitlement_awarded",
    "PensionPayment.Paid": "pension_paid",
    "PensionAdjustment.Adjusted": "pension_adjusted",
    # A transfer in's number and the other region's name are on its acceptance only.
    "PensionTransferIn.Accepted": "transfer_in_accepted",
    "PensionTransferIn.Posted": "transfer_in_posted",
    "PensionTransferOut.Remitted": "transfer_out_remitted",
}
FIRST_PAYMENT = "Entitlement.FirstPaymentScheduled"  # names its entitlement, not the person
# Months posted by a back-payment's collection (source "backpay:<id>"): the statement shows
# them as back-paid (补缴). Other postings are read and left out.
MONTH_POSTINGS = ("ContributionMonth.Posted", "ContributionMonth.Reposted")
BACKPAY_SOURCE_PREFIX = "backpay:"
EMPLOYER_KINDS = {
    "Employer.Registered": "registered",
    "Employer.RiskClassChanged": "risk_class_changed",
}
# What each fact keeps of its event's state (the rest is in the event, behind its position).
KEPT_FIELDS = {
    "registered": ("id_number", "name", "sex", "birth_date", "registered_on"),
    "name_changed": ("name",),
    "employment_started": ("employer_code", "start_date"),
    "employment_ended": ("employer_code", "end_date"),
    "base_declared": ("year", "declared_wage_fen", "base_fen"),
    "retired": ("retired_on",),
    "death_recorded": ("date_of_death",),  # not the evidence: the statement needs the date
    "deemed_months": ("deemed_months",),
    "interest_year": ("year", "rate", "opening_fen", "prior_interest_fen",
                      "current_interest_fen", "closing_fen"),
    "entitlement_awarded": ("kind", "retirement_date", "monthly_fen"),
    "first_payment_scheduled": ("period", "monthly_fen"),
    "backpaid_month": ("period", "source"),
    "pension_paid": ("kind", "period", "basic_fen", "transitional_fen", "account_fen",
                     "account_from_personal_fen", "account_from_pool_fen", "total_fen"),
    "pension_adjusted": ("entitlement_id", "year", "effective_period", "delta_fen",
                         "arrears_periods", "arrears_fen"),
    "transfer_in_accepted": ("transfer_no", "from_region_code", "from_region_name",
                             "accepted_on"),
    # months: `[from_period, to_period, base_fen]` runs (175 months are 3 rows)
    "transfer_in_posted": ("from_region_code", "posted_on", "months", "contribution_months",
                           "account_fen", "pooled_fen"),
    "transfer_out_remitted": ("transfer_no", "to_region_code", "to_region_name", "remitted_on",
                              "months", "contribution_months", "account_fen", "pooled_fen"),
}
EMPLOYER_KEPT_FIELDS = {
    "registered": ("credit_code", "name", "employer_type", "risk_class"),
    "risk_class_changed": ("risk_class", "effective_from"),
}


def person_key(person_id: str) -> int:
    """The 27-bit key of a person in a verification code: the first bits of the person's id
    (a uuid5, so the bits are a hash). Several persons may share a key; the code's content-hash
    prefix tells them apart."""
    return int(person_id.replace("-", "")[:7], 16) >> 1


def _kept(state: dict[str, Any], fields: Sequence[str]) -> str:
    return orjson.dumps({name: state[name] for name in fields}).decode()


class PersonFacts(Projection):
    name = "person_facts"
    # 3: deaths and the deemed months of pension awards; 4: transfers and pension adjustments
    # (stores written since transfers and adjustments exist hold them: rebuilt to add them)
    version = 4
    tables = (FACTS, KEYS, EMPLOYERS)
    event_types = (*PERSON_KINDS, *OTHER_KINDS, FIRST_PAYMENT, *EMPLOYER_KINDS, *MONTH_POSTINGS)

    def create_statements(self, dialect: str) -> list[str]:
        big = "BIGINT" if dialect == "postgres" else "INTEGER"
        return [
            f"CREATE TABLE IF NOT EXISTS {FACTS} (person_id TEXT NOT NULL, kind TEXT NOT NULL,"
            f" data TEXT NOT NULL, source_id TEXT NOT NULL, position {big} NOT NULL,"
            " recorded_at TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {KEYS} (person_key INTEGER NOT NULL,"
            f" person_id TEXT PRIMARY KEY, position {big} NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {EMPLOYERS} (employer_id TEXT NOT NULL,"
            f" kind TEXT NOT NULL, data TEXT NOT NULL, position {big} NOT NULL,"
            " recorded_at TEXT NOT NULL)",
        ]

    def cluster_indexes(self) -> dict[str, str]:
        return {FACTS: f"{FACTS}_person"}

    def index_statements(self, dialect: str) -> list[str]:
        return [
            f"CREATE INDEX IF NOT EXISTS {FACTS}_person ON {FACTS} (person_id, position)",
            f"CREATE INDEX IF NOT EXISTS {KEYS}_key ON {KEYS} (person_key)",
            f"CREATE INDEX IF NOT EXISTS {EMPLOYERS}_employer ON {EMPLOYERS}"
            " (employer_id, position)",
        ]

    def apply(self, cur: ViewCursor, page: Sequence[EventRecord]) -> None:
        facts: list[tuple[Any, ...]] = []
        keys: list[tuple[Any, ...]] = []
        employers: list[tuple[Any, ...]] = []
        awarded_to: dict[str, str] = {}  # entitlement id (hex) → person, for this page
        for record in page:
            e = record.state
            kind = PERSON_KINDS.get(record.type_name)
            if kind is not None:
                person_id = str(UUID(hex=record.originator_id))
                facts.append((person_id, kind, _kept(e, KEPT_FIELDS[kind]),
                              record.originator_id, record.position, record.recorded_at))
                if kind == "registered":
                    keys.append((person_key(person_id), person_id, record.position))
                continue
            kind = OTHER_KINDS.get(record.type_name)
            if kind is not None:
                person_id = str(e["person_id"])
                facts.append((person_id, kind, _kept(e, KEPT_FIELDS[kind]),
                              record.originator_id, record.position, record.recorded_at))
                if kind == "entitlement_awarded":
                    awarded_to[record.originator_id] = person_id
                    # The deemed months (视同缴费) the award recognised: the only place the
                    # ledger records them; the statement shows them beside the actual months.
                    if e["kind"] == BASIC_PENSION:
                        facts.append((person_id, "deemed_months", orjson.dumps(
                            {"deemed_months": int(e["inputs"]["deemed_months"])}).decode(),
                            record.originator_id, record.position, record.recorded_at))
                continue
            kind = EMPLOYER_KINDS.get(record.type_name)
            if kind is not None:
                employers.append((str(UUID(hex=record.originator_id)), kind,
                                  _kept(e, EMPLOYER_KEPT_FIELDS[kind]), record.position,
                                  record.recorded_at))
                continue
            if record.type_name in MONTH_POSTINGS:
                if e["source"].startswith(BACKPAY_SOURCE_PREFIX):
                    facts.append((str(e["person_id"]), "backpaid_month",
                                  _kept(e, KEPT_FIELDS["backpaid_month"]), record.originator_id,
                                  record.position, record.recorded_at))
                continue
            if record.type_name == FIRST_PAYMENT:
                person_id = awarded_to.get(record.originator_id) or self._awarded_to(
                    cur, record.originator_id)
                facts.append((person_id, "first_payment_scheduled",
                              _kept(e, KEPT_FIELDS["first_payment_scheduled"]),
                              record.originator_id, record.position, record.recorded_at))
        if facts:
            cur.copy_rows(FACTS, FACT_COLUMNS, facts)
        if keys:
            cur.copy_rows(KEYS, KEY_COLUMNS, keys)
        if employers:
            cur.copy_rows(EMPLOYERS, EMPLOYER_COLUMNS, employers)

    @staticmethod
    def _awarded_to(cur: ViewCursor, entitlement_hex: str) -> str:
        """The person of an entitlement awarded in an earlier page (an award comes first: the
        Entitlement aggregate schedules a payment only after it exists)."""
        cur.execute(f"SELECT person_id FROM {FACTS} WHERE source_id = ? AND kind = ?",
                    (entitlement_hex, "entitlement_awarded"))
        rows = cur.fetchall()
        assert rows, f"entitlement {entitlement_hex} scheduled a payment before its award"
        return str(rows[0][0])
