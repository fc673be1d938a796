"""The personal rights statement (社会保险个人权益记录单, 人社部令第14号; DOMAIN.md §10) of one
person for one year, built from plain rows of the read models as they were known at one log
position P — only rows with position ≤ P count — so that the same (person, year, P) always gives
the same statement, and anyone can have it verified later by rebuilding it
(domain/verification_code.py).

What it holds: registration (with the date of death, when one is recorded) and employers; per
insurance (AAE140) each month of the year with its base and amounts (employer / individual /
paid / arrears), the year's totals and the cumulative contribution months; the basic pension's
months actual, moved in and out by transfers, deemed (视同缴费) and in total; the pension
personal account (opening balance, credits, back-pay, reversals, transfers, interest and its
rate, the account part of the pensions paid, closing balance); benefits awarded and received
(享受待遇情况: the year's months paid and their parts, and the year's pension adjustment); the
benefits of the other insurances received in the year (失业、医疗、工伤、生育待遇, as the paying
systems' payment details recorded them); the transfers of the pension relationship between
pooling regions (转移接续) completed in the year. Every figure keeps the log positions of the
events behind it (`Trace`) and the ledger days they were recorded on, which is what a trace of
the account (GET /v1/trace) is asked for.

Money is integer fen; the canonical form is JSON with sorted keys (`canonical_json`), and its
sha256 is the content hash.

Formats: a statement carries its `format_version`, and so does its verification code. Format 2
added the date of death (status `deceased`, no arrears after the month of death) and the
pension months (`pension_months`), and the benefits received (`benefits_received`, with the
account's `pension_paid`). Format 3 added the months moved by transfers between pooling
regions (`pension_months`: `transferred_in_months`, `transferred_out_months`,
`counted_months`, and `total_months` counting them), the year's transfers (`transfers`) and
the year's pension adjustment (`benefits_received[*].adjustment`). Format 4 added the
benefits of the other insurances received in the year (`other_benefits`). Formats 1 to 3 are
still built for codes issued in them — without what later formats added, exactly as they were — so
that every statement ever issued keeps verifying (docs/decisions/0010)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

import orjson

from domain.assessment import EMPLOYEE_INSURANCES, rate_schedule
from domain.errors import NotFound, ValidationFailed
from domain.periods import Period
from domain.policy import PENSION, PolicyTables
from domain.transfer import IN, OUT, expand_segments, months_after_transfers

FORMAT_VERSION = 4  # what is issued now
FORMAT_VERSIONS = (1, 2, 3, 4)  # what can still be built (for verification): see the module's doc
Paths = tuple[tuple[str, ...], ...]
# Absent from format 1 ("*": in every item of a list).
FORMAT_2_FIELDS: Paths = (("registration", "died_on"), ("pension_months",),
                          ("benefits_received",), ("accounts", "*", "pension_paid"))
# Absent from formats 1 and 2.
FORMAT_3_FIELDS: Paths = (("pension_months", "transferred_in_months"),
                          ("pension_months", "transferred_in_trace"),
                          ("pension_months", "transferred_out_months"),
                          ("pension_months", "transferred_out_trace"),
                          ("pension_months", "counted_months"), ("transfers",),
                          ("benefits_received", "*", "adjustment"))
# Absent from formats 1 to 3.
FORMAT_4_FIELDS: Paths = (("other_benefits",),)
# The fields each format added: a statement of an older format is written without them.
FIELDS_ADDED_IN = {2: FORMAT_2_FIELDS, 3: FORMAT_3_FIELDS, 4: FORMAT_4_FIELDS}
MONTHS_PER_YEAR = 12

# Status of the person (参保状态, AAC008/AAC031) at the end of the year or at P, if earlier.
CONTRIBUTING, SUSPENDED, RETIRED = "contributing", "suspended", "retired"
DECEASED = "deceased"  # a death on or before that day is recorded (format 2)
# Status of one insurance in one month.
PAID, ARREARS = "paid", "arrears"


# Trace and MonthLine are made about a hundred times per statement: not frozen, whose
# __init__ costs five times more (300,000 statements a year); nothing changes them once built.
@dataclass(slots=True)
class Trace:
    """The events behind a figure: their log positions, and the first and last ledger day
    (China Standard Time) they were recorded on."""

    positions: tuple[int, ...] = ()
    first_day: str | None = None
    last_day: str | None = None


EMPTY_TRACE = Trace()


# -- input rows (plain values from the read models) -------------------------------------------

@dataclass(frozen=True, slots=True)
class Fact:
    """A row of `person_facts` or `employer_facts` (projections/person_facts.py)."""

    kind: str
    data: Mapping[str, Any]
    position: int
    day: str
    source_id: str = ""  # the aggregate the event belongs to (hex)


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """A row of `contribution_history`: one posting, supplement or reversal of a month."""

    period: str
    kind: str  # "posted" or "reversed"
    employer_code: str
    lines: Sequence[Sequence[Any]]  # [insurance, base, employer, individual, account] fen
    position: int
    day: str


@dataclass(frozen=True, slots=True)
class AccountRow:
    """A row of `person_account_entries`."""

    insurance: str
    effective_date: str
    period: str
    kind: str
    amount_fen: int
    position: int
    day: str


@dataclass(frozen=True, slots=True)
class BenefitPaymentRow:
    """A row of `benefit_payments` (projections/benefit_payments.py): one benefit of 210, 310,
    410 or 510 paid by another system, as its payment details recorded it."""

    insurance: str
    kind: str  # a code of the benefit kinds' catalogue (benefit_kinds.toml)
    period: str  # the month it is for
    amount_fen: int
    position: int
    day: str


@dataclass(frozen=True)
class StatementInputs:
    region_code: str
    year: int
    position: int  # P: the statement is the ledger as known at this log position
    as_of: str  # the recorded time of the event at P (ISO 8601)
    as_of_day: str  # its ledger day (China Standard Time), YYYY-MM-DD
    person_id: str
    facts: Sequence[Fact]
    employers: Mapping[str, Sequence[Fact]]  # by credit code
    history: Sequence[HistoryRow]  # the person's months up to the end of the year
    accounts: Sequence[AccountRow]  # the person's account entries up to the end of the year
    # the person's benefit payments of 210/310/410/510 for months up to the end of the year
    benefit_payments: Sequence[BenefitPaymentRow] = ()


# -- the statement --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Registration:
    person_id: str
    id_number: str
    name: str
    sex: str  # "M" or "F"
    birth_date: str
    registered_on: str
    status: str  # CONTRIBUTING, SUSPENDED, RETIRED or DECEASED
    retired_on: str | None
    first_paid_period: str | None  # the first month paid for any insurance (首次缴费)
    # The recorded date of death, known at P whatever the year (Person.DeathRecorded); None:
    # none recorded, or a format-1 statement.
    died_on: str | None
    trace: Trace


@dataclass(frozen=True, slots=True)
class Employment:
    employer_code: str
    employer_name: str
    start_date: str
    end_date: str | None
    trace: Trace


@dataclass(slots=True)
class MonthLine:
    """One insurance in one month: paid (posted, net of reversals) or in arrears (assessed and
    due but not paid). `employer_fen` and `individual_fen` are what was paid, or for arrears
    what is due."""

    period: str
    status: str
    employer_code: str
    base_fen: int
    employer_fen: int
    individual_fen: int
    paid_fen: int
    arrears_fen: int
    account_fen: int  # credited to the personal account
    backpay: bool  # paid through a back-payment (补缴)
    trace: Trace


@dataclass(frozen=True, slots=True)
class InsuranceRecord:
    insurance: str
    name_zh: str
    months: tuple[MonthLine, ...]
    paid_months: int
    employer_fen: int
    individual_fen: int
    paid_fen: int
    arrears_months: int
    arrears_fen: int
    cumulative_months: int  # months paid up to the end of the year (累计缴费月数)
    first_period: str | None
    trace: Trace


@dataclass(frozen=True, slots=True)
class PensionMonths:
    """累计缴费月数 of the basic pension (110) up to the end of the year:

    - `actual_months` (实际缴费): the months paid here (the pension record's
      `cumulative_months`), those later moved to another region by a transfer out included;
    - `transferred_in_months` (转入缴费月数, format 3): months paid in other pooling regions and
      moved here by transfers in posted on or before the end of the year;
    - `transferred_out_months` (转出缴费月数, format 3): months moved to other regions by
      transfers out remitted on or before the end of the year (they count there now);
    - `counted_months` (本统筹区累计缴费月数, format 3): the months that count here — actual +
      moved in − moved out; exactly what a pension award counts (domain/transfer.py
      `months_after_transfers`), also when a month moved out was reversed here later;
    - `deemed_months` (视同缴费月数, DOMAIN.md §4: service before contributions began, counted
      for the pension; they never move with a transfer);
    - `total_months` (合计): counted + deemed in format 3 (actual + deemed in format 2, which
      knew no transfers).

    The ledger records deemed months only when it awards the pension (Entitlement.Awarded's
    inputs): before an award known at P they are not recorded (未核定) — `deemed_months` and
    `total_months` are None then, never 0. The format-3 fields are None in format 2."""

    actual_months: int
    deemed_months: int | None
    total_months: int | None
    trace: Trace  # the award that recognised the deemed months
    transferred_in_months: int | None = None
    transferred_in_trace: Trace | None = None  # the transfers in posted
    transferred_out_months: int | None = None
    transferred_out_trace: Trace | None = None  # the transfers out remitted
    counted_months: int | None = None


@dataclass(frozen=True, slots=True)
class TransferLine:
    """转移接续 (format 3): one transfer of the pension relationship between pooling regions
    completed in the statement's year — posted here (in) or remitted (out) — as both regions
    file it (the transfer number), with the months and the money it moved."""

    direction: str  # IN (转入) or OUT (转出)
    transfer_no: str  # the acceptance letter's number (联系函编号)
    other_region_code: str  # the region it came from or went to
    other_region_name: str
    day: str  # posted on (in) or remitted on (out)
    contribution_months: int
    account_fen: int  # the personal account's part
    pooled_fen: int  # the pooled fund's part (12% of the bases from 1998 on)
    trace: Trace


@dataclass(frozen=True, slots=True)
class Figure:
    fen: int
    trace: Trace


@dataclass(frozen=True, slots=True)
class PersonalAccount:
    """closing = opening + contributions + backpay + reversals + transfer_in + transfer_out
    + interest + pension_paid + other (reversals, transfers out and pensions paid are
    negative)."""

    insurance: str
    name_zh: str
    opening: Figure  # balance at the end of the previous year, as known at P
    contributions: Figure  # credits of the year's months (individual contributions)
    backpay: Figure  # credits of the year's months paid through a back-payment
    reversals: Figure  # reversed (红冲) credits
    transfer_in: Figure
    transfer_out: Figure
    interest: Figure  # the year's interest, recomputations included
    # The account part of the pensions paid for the year's months (个人账户养老金), as far as
    # the account bore it (format 2)
    pension_paid: Figure
    other: Figure  # entries of kinds this statement does not know (none today)
    closing: Figure
    interest_rate: str | None  # the rate the year's interest was computed with (记账利率)
    prior_interest_fen: int | None  # on the opening balance
    current_interest_fen: int | None  # on the year's credits (月积数法)


@dataclass(frozen=True, slots=True)
class Benefit:
    kind: str
    retirement_date: str
    monthly_fen: int
    first_period: str | None
    trace: Trace


@dataclass(frozen=True, slots=True)
class BenefitAdjustment:
    """养老金调整 of the statement's year (format 3): the monthly increase from
    `effective_period` (January: the adjustment is retroactive), and the arrears (补发) paid
    with it for the months of the year already paid before it."""

    year: int
    effective_period: str
    monthly_increase_fen: int
    arrears_months: int
    arrears_fen: int
    trace: Trace


@dataclass(frozen=True, slots=True)
class BenefitReceived:
    """享受待遇情况: one benefit's payments for the months of the statement's year (by the month
    paid for, whenever paid, as known at P), in parts; and since its first payment. The account
    part (个人账户养老金) is drawn from the personal account while it lasts, then paid by the
    pooled fund (国发〔2005〕38号): `account_fen` = from the account + from the pool."""

    kind: str
    months_paid: int
    first_period: str | None  # the year's first and last month paid
    last_period: str | None
    total_fen: int
    basic_fen: int
    transitional_fen: int
    account_fen: int
    account_from_personal_fen: int
    account_from_pool_fen: int
    cumulative_months: int  # months paid up to the end of the year
    cumulative_fen: int
    trace: Trace  # the year's payments
    # The year's adjustment of this benefit, known at P (format 3; None: none, or format 2).
    # Its arrears are not in `total_fen` (paid apart, not for a month).
    adjustment: BenefitAdjustment | None = None


@dataclass(frozen=True, slots=True)
class OtherBenefitReceived:
    """享受待遇情况 of an insurance other than the pension (format 4): one benefit kind's
    payments for the months of the statement's year (by the month paid for, whenever paid, as
    known at P) — 失业保险金, 工伤 or 生育 benefits, medical settlements — as the paying system's
    payment details recorded them (BenefitPayment.Paid). `payments` may exceed `months`: a
    medical settlement or a lump sum is a payment of its own."""

    insurance: str  # 210, 310, 410 or 510
    kind: str  # the benefit kind's code (benefit_kinds.toml); its Chinese name is a label
    payments: int
    months: int  # distinct months paid for
    first_period: str
    last_period: str
    total_fen: int
    trace: Trace


@dataclass(frozen=True, slots=True)
class Statement:
    format_version: int
    region_code: str
    year: int
    position: int
    as_of: str
    registration: Registration
    employments: tuple[Employment, ...]
    insurances: tuple[InsuranceRecord, ...]
    pension_months: PensionMonths | None  # None in format 1 only
    accounts: tuple[PersonalAccount, ...]
    benefits: tuple[Benefit, ...]
    benefits_received: tuple[BenefitReceived, ...] | None  # None in format 1 only
    transfers: tuple[TransferLine, ...] | None = None  # None before format 3
    other_benefits: tuple[OtherBenefitReceived, ...] | None = None  # None before format 4

    def insurance(self, code: str) -> InsuranceRecord | None:
        return next((r for r in self.insurances if r.insurance == code), None)

    def account(self, code: str = PENSION) -> PersonalAccount | None:
        return next((a for a in self.accounts if a.insurance == code), None)


def canonical_json(statement: Statement) -> bytes:
    """The statement as JSON: keys sorted, no whitespace, integers and strings only — what
    anyone can recompute the content hash from. (orjson writes a dataclass's fields in their
    declared order whatever the options, hence the round trip through plain values.) A
    statement of an older format is written without the fields later formats added."""
    plain = orjson.loads(orjson.dumps(statement))
    # Newest first: a later format's field may sit inside an earlier one's (format 3's
    # `pension_months.counted_months` inside format 2's `pension_months`).
    for added_in, paths in sorted(FIELDS_ADDED_IN.items(), reverse=True):
        if statement.format_version < added_in:
            for path in paths:
                _drop(plain, path)
    return orjson.dumps(plain, option=orjson.OPT_SORT_KEYS)


def _drop(node: Any, path: Sequence[str]) -> None:
    """Remove the field at `path` from plain JSON values ("*": from every item of a list). A
    null on the way is a part the statement's format has not at all (format 1's
    `pension_months`): nothing to remove in it."""
    if node is None:
        return
    head, *rest = path
    if head == "*":
        for item in node:
            _drop(item, rest)
    elif rest:
        _drop(node[head], rest)
    else:
        del node[head]


def content_hash(statement: Statement) -> str:
    return hashlib.sha256(canonical_json(statement)).hexdigest()


# -- building -------------------------------------------------------------------------------

def trace_of(pairs: Iterable[tuple[int, str]]) -> Trace:
    """A trace from (position, ledger day) pairs."""
    if type(pairs) is list and len(pairs) == 1:  # most months: one posting
        position, day = pairs[0]
        return Trace((position,), day, day)
    found = dict(pairs)
    if not found:
        return EMPTY_TRACE
    days = found.values()
    return Trace(tuple(sorted(found)), min(days), max(days))


@dataclass
class _Net:
    """One insurance of one month, summed over its postings and reversals."""

    count: int = 0  # postings minus reversals
    base_fen: int = 0
    employer_fen: int = 0
    individual_fen: int = 0
    account_fen: int = 0
    employer_code: str = ""
    posted_position: int = 0  # of the last posting
    events: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class _Spell:
    employer_code: str
    start_date: str
    end_date: str | None
    events: list[tuple[int, str]]


def build_statement(inputs: StatementInputs, policy: PolicyTables,
                    format_version: int = FORMAT_VERSION) -> Statement:
    """The statement as known at `inputs.position`, in `format_version` (an older one only to
    verify a code issued in it). Raises NotFound when the person was not registered by then."""
    assert format_version in FORMAT_VERSIONS, format_version
    at = inputs.position
    year = inputs.year
    facts = sorted((f for f in inputs.facts if f.position <= at), key=lambda f: f.position)
    history = sorted((r for r in inputs.history if r.position <= at
                      and r.period <= f"{year}-12"), key=lambda r: r.position)
    year_end = f"{year}-12-31"
    entries = [r for r in inputs.accounts if r.position <= at and r.effective_date <= year_end]
    # (period, position) of the postings a back-payment's collection made
    backpaid = {(str(f.data["period"]), f.position) for f in facts if f.kind == "backpaid_month"}

    # Format 1 knew no deaths: its statements are rebuilt as they were issued.
    death = recorded_death(facts) if format_version >= 2 else None

    nets, earlier = _month_nets(history, f"{year}-01")
    spells = _spells(facts)
    insurances = _insurances(inputs, policy, nets, earlier, spells, facts, backpaid, death)
    first_paid = min((r.first_period for r in insurances if r.first_period), default=None)
    return Statement(
        format_version=format_version,
        region_code=inputs.region_code,
        year=year,
        position=at,
        as_of=inputs.as_of,
        registration=_registration(inputs, facts, spells, first_paid, death),
        employments=tuple(_employment(s, inputs.employers, at) for s in spells
                          if s.start_date <= year_end
                          and (s.end_date is None or s.end_date >= f"{year}-01-01")),
        insurances=tuple(insurances),
        pension_months=(_pension_months(insurances, facts, nets, earlier, year_end,
                                        format_version) if format_version >= 2 else None),
        accounts=_accounts(inputs, policy, entries, facts, backpaid),
        benefits=_benefits(facts),
        benefits_received=(_benefits_received(facts, year, format_version)
                           if format_version >= 2 else None),
        transfers=_transfers(facts, year) if format_version >= 3 else None,
        other_benefits=(_other_benefits(inputs.benefit_payments, at, year)
                        if format_version >= 4 else None),
    )


def recorded_death(facts: Iterable[Fact]) -> Fact | None:
    """The recorded death among a person's facts (a death is recorded once: Person)."""
    return next((f for f in facts if f.kind == "death_recorded"), None)


def died_before_year(inputs: StatementInputs) -> bool:
    """Whether a death before the statement's year is recorded at P: the yearly mailing sends
    no statement for a year after the year of death (the year of death itself is sent, marked
    deceased)."""
    death = recorded_death(f for f in inputs.facts if f.position <= inputs.position)
    return death is not None and str(death.data["date_of_death"]) < f"{inputs.year}-01-01"


def _registration(inputs: StatementInputs, facts: Sequence[Fact], spells: Sequence[_Spell],
                  first_paid: str | None, death: Fact | None) -> Registration:
    registered = next((f for f in facts if f.kind == "registered"), None)
    if registered is None:
        raise NotFound("person_not_found",
                       f"person {inputs.person_id} was not registered at log position "
                       f"{inputs.position}", field="id_number")
    name = str(registered.data["name"])
    events = [(registered.position, registered.day)]
    retired_on: str | None = None
    for f in facts:
        if f.kind == "name_changed":
            name = str(f.data["name"])
            events.append((f.position, f.day))
        elif f.kind == "retired":
            retired_on = str(f.data["retired_on"])
            events.append((f.position, f.day))
    died_on = str(death.data["date_of_death"]) if death is not None else None
    if death is not None:
        events.append((death.position, death.day))
    # The status at the end of the year, or at P when that comes first.
    on = min(f"{inputs.year}-12-31", inputs.as_of_day)
    if died_on is not None and died_on <= on:
        status = DECEASED
    elif retired_on is not None and retired_on <= on:
        status = RETIRED
    elif any(s.start_date <= on and (s.end_date is None or s.end_date >= on) for s in spells):
        status = CONTRIBUTING
    else:
        status = SUSPENDED
    d = registered.data
    return Registration(
        person_id=inputs.person_id, id_number=str(d["id_number"]), name=name, sex=str(d["sex"]),
        birth_date=str(d["birth_date"]), registered_on=str(d["registered_on"]), status=status,
        retired_on=retired_on, first_paid_period=first_paid, died_on=died_on,
        trace=trace_of(events))


def _spells(facts: Sequence[Fact]) -> list[_Spell]:
    spells: list[_Spell] = []
    for f in facts:
        if f.kind == "employment_started":
            spells.append(_Spell(str(f.data["employer_code"]), str(f.data["start_date"]), None,
                                 [(f.position, f.day)]))
        elif f.kind == "employment_ended":
            for spell in reversed(spells):
                if spell.employer_code == f.data["employer_code"] and spell.end_date is None:
                    spell.end_date = str(f.data["end_date"])
                    spell.events.append((f.position, f.day))
                    break
    return spells


@dataclass(frozen=True)
class _EmployerAt:
    name: str
    risk_classes: tuple[tuple[str, int], ...]  # (effective from, class), oldest first
    events: tuple[tuple[int, str], ...]

    def risk_class_on(self, period: str) -> int:
        """As Employer.risk_class_on: the class in force on the first day of the month."""
        day = f"{period}-01"
        found = self.risk_classes[0][1]
        for effective_from, risk_class in self.risk_classes:
            if effective_from <= day:
                found = risk_class
        return found


def _employer_at(facts: Sequence[Fact] | None, at: int) -> _EmployerAt | None:
    name: str | None = None
    classes: list[tuple[str, int]] = []
    events: list[tuple[int, str]] = []
    for f in sorted(facts or (), key=lambda f: f.position):
        if f.position > at:
            break
        if f.kind == "registered":
            name = str(f.data["name"])
            classes = [("0001-01-01", int(f.data["risk_class"]))]
        elif f.kind == "risk_class_changed":
            classes.append((str(f.data["effective_from"]), int(f.data["risk_class"])))
        events.append((f.position, f.day))
    if name is None:
        return None
    return _EmployerAt(name, tuple(classes), tuple(events))


def _employment(spell: _Spell, employers: Mapping[str, Sequence[Fact]], at: int) -> Employment:
    employer = _employer_at(employers.get(spell.employer_code), at)
    return Employment(
        employer_code=spell.employer_code,
        employer_name=employer.name if employer else "",
        start_date=spell.start_date, end_date=spell.end_date,
        trace=trace_of(spell.events + list(employer.events[:1] if employer else ())))


def _month_nets(history: Sequence[HistoryRow], first_month: str
                ) -> tuple[dict[tuple[str, str], _Net], dict[tuple[str, str], int]]:
    """Per (month, insurance): the year's months summed, and for the months before the year
    only postings minus reversals (all the cumulative months need)."""
    nets: dict[tuple[str, str], _Net] = {}
    earlier: dict[tuple[str, str], int] = {}
    for row in history:
        sign = 1 if row.kind == "posted" else -1
        if row.period < first_month:
            for line in row.lines:
                key = (row.period, line[0])
                earlier[key] = earlier.get(key, 0) + sign
            continue
        for insurance, base, employer, individual, account in row.lines:
            net = nets.get((row.period, insurance))
            if net is None:
                net = nets[(row.period, insurance)] = _Net()
            net.count += sign
            net.employer_fen += sign * int(employer)
            net.individual_fen += sign * int(individual)
            net.account_fen += sign * int(account)
            if sign > 0:
                net.base_fen = int(base)
                net.employer_code = row.employer_code
                net.posted_position = row.position
            net.events.append((row.position, row.day))
    return nets, earlier


def _insurances(inputs: StatementInputs, policy: PolicyTables,
                nets: Mapping[tuple[str, str], _Net], earlier: Mapping[tuple[str, str], int],
                spells: Sequence[_Spell], facts: Sequence[Fact],
                backpaid: AbstractSet[tuple[str, int]], death: Fact | None
                ) -> list[InsuranceRecord]:
    lines: dict[str, list[MonthLine]] = {}
    cumulative: dict[str, int] = {}
    first_period: dict[str, str] = {}
    for (period, insurance), count in sorted(earlier.items()):
        if count > 0:
            cumulative[insurance] = cumulative.get(insurance, 0) + 1
            first_period.setdefault(insurance, period)
    # Every event behind an insurance's year: its months, reversed ones too.
    events: dict[str, list[tuple[int, str]]] = {}
    for (period, insurance), net in sorted(nets.items()):
        events.setdefault(insurance, []).extend(net.events)
        if net.count <= 0:
            continue
        cumulative[insurance] = cumulative.get(insurance, 0) + 1
        first_period.setdefault(insurance, period)
        lines.setdefault(insurance, []).append(MonthLine(
            period=period, status=PAID, employer_code=net.employer_code,
            base_fen=net.base_fen, employer_fen=net.employer_fen,
            individual_fen=net.individual_fen,
            paid_fen=net.employer_fen + net.individual_fen, arrears_fen=0,
            account_fen=net.account_fen,
            backpay=(period, net.posted_position) in backpaid,
            trace=trace_of(net.events)))
    for insurance, line, line_events in _arrears(inputs, policy, nets, spells, facts, death):
        lines.setdefault(insurance, []).append(line)
        events.setdefault(insurance, []).extend(line_events)
    records: list[InsuranceRecord] = []
    for insurance in sorted(set(lines) | set(cumulative)):
        months = tuple(sorted(lines.get(insurance, ()), key=lambda m: m.period))
        paid = [m for m in months if m.status == PAID]
        arrears = [m for m in months if m.status == ARREARS]
        records.append(InsuranceRecord(
            insurance=insurance, name_zh=policy.insurance(insurance).name_zh, months=months,
            paid_months=len(paid),
            employer_fen=sum(m.employer_fen for m in paid),
            individual_fen=sum(m.individual_fen for m in paid),
            paid_fen=sum(m.paid_fen for m in paid),
            arrears_months=len(arrears), arrears_fen=sum(m.arrears_fen for m in arrears),
            cumulative_months=cumulative.get(insurance, 0),
            first_period=first_period.get(insurance),
            trace=trace_of(events.get(insurance, ()))))
    return records


def _arrears(inputs: StatementInputs, policy: PolicyTables,
             nets: Mapping[tuple[str, str], _Net], spells: Sequence[_Spell],
             facts: Sequence[Fact], death: Fact | None
             ) -> Iterable[tuple[str, MonthLine, list[tuple[int, str]]]]:
    """Months of the year the person was employed in, with a base declared for the year, that
    fell due before P and are not paid, per insurance — as the arrears report counts them
    (infra/arrears.py), at the rates then; none after the month of a recorded death (nothing
    is due for them). Each with the events behind it: the employment, the base declaration and
    any reversal of the month."""
    year = inputs.year
    base = None
    for f in facts:
        if f.kind == "base_declared" and int(f.data["year"]) == year:
            base = f
    if base is None:
        return
    base_fen = int(base.data["base_fen"])
    as_of = date.fromisoformat(inputs.as_of_day)
    last_month = str(death.data["date_of_death"])[:7] if death is not None else None
    for month in range(1, MONTHS_PER_YEAR + 1):
        period = Period(year, month)
        text = str(period)
        if as_of <= policy.due_date(period) or (last_month is not None and text > last_month):
            break
        if all((net := nets.get((text, insurance))) is not None and net.count > 0
               for insurance in EMPLOYEE_INSURANCES):
            continue  # every insurance of the month is paid: nothing to assess
        spell = _spell_in(spells, text)
        if spell is None:
            continue
        employer = _employer_at(inputs.employers.get(spell.employer_code), inputs.position)
        if employer is None:
            continue
        try:
            assessed = rate_schedule(policy, period, employer.risk_class_on(text),
                                     EMPLOYEE_INSURANCES).assess(base_fen)
        except ValidationFailed:
            continue  # the policy tables do not cover the month: nothing can be assessed
        for line in assessed:
            insurance, line_base, employer_fen, individual_fen = (
                str(line[0]), _fen(line[1]), _fen(line[2]), _fen(line[3]))
            net = nets.get((text, insurance))
            if net is not None and net.count > 0:
                continue
            events = [*spell.events[:1], (base.position, base.day),
                      *(net.events if net is not None else ())]
            yield insurance, MonthLine(
                period=text, status=ARREARS, employer_code=spell.employer_code,
                base_fen=line_base, employer_fen=employer_fen, individual_fen=individual_fen,
                paid_fen=0, arrears_fen=employer_fen + individual_fen, account_fen=0,
                backpay=False, trace=trace_of(events)), events


def _fen(value: object) -> int:
    assert type(value) is int, value
    return value


def _spell_in(spells: Sequence[_Spell], period: str) -> _Spell | None:
    """The employment the month belongs to: the last one that overlaps it."""
    first_day, last_day = f"{period}-01", f"{period}-31"
    found = None
    for spell in spells:
        if spell.start_date <= last_day and (spell.end_date is None
                                             or spell.end_date >= first_day):
            found = spell
    return found


def _pension_months(insurances: Sequence[InsuranceRecord], facts: Sequence[Fact],
                    nets: Mapping[tuple[str, str], _Net],
                    earlier: Mapping[tuple[str, str], int], year_end: str,
                    format_version: int) -> PensionMonths:
    pension = next((r for r in insurances if r.insurance == PENSION), None)
    actual = pension.cumulative_months if pension is not None else 0
    award = next((f for f in facts if f.kind == "deemed_months"), None)
    deemed = int(award.data["deemed_months"]) if award is not None else None
    award_trace = trace_of([(award.position, award.day)]) if award is not None else EMPTY_TRACE
    if format_version < 3:
        return PensionMonths(actual, deemed, None if deemed is None else actual + deemed,
                             award_trace)
    moves = [f for f in facts if f.kind in _TRANSFER_KINDS
             and str(f.data[_TRANSFER_DAY[f.kind]]) <= year_end]
    moved_in = [f for f in moves if f.kind == TRANSFER_IN_POSTED]
    moved_out = [f for f in moves if f.kind == TRANSFER_OUT_REMITTED]
    counted = actual
    if moves:
        # The months that count here, as a pension award counts them: the pension months paid
        # here (net of reversals), then each transfer in the ledger's order (facts are sorted).
        paid_here = {period: 0 for (period, insurance), count in earlier.items()
                     if insurance == PENSION and count > 0}
        paid_here.update({period: 0 for (period, insurance), net in nets.items()
                          if insurance == PENSION and net.count > 0})
        assert len(paid_here) == actual, (len(paid_here), actual)
        counted = len(months_after_transfers(paid_here, (
            (OUT if f.kind == TRANSFER_OUT_REMITTED else IN,
             str(f.data[_TRANSFER_DAY[f.kind]]), expand_segments(f.data["months"]))
            for f in moves)))
    return PensionMonths(
        actual, deemed, None if deemed is None else counted + deemed, award_trace,
        transferred_in_months=sum(int(f.data["contribution_months"]) for f in moved_in),
        transferred_in_trace=trace_of([(f.position, f.day) for f in moved_in]),
        transferred_out_months=sum(int(f.data["contribution_months"]) for f in moved_out),
        transferred_out_trace=trace_of([(f.position, f.day) for f in moved_out]),
        counted_months=counted)


# Fact kinds of transfers between pooling regions (projections/person_facts.py) and the field
# that holds the day each was completed on.
TRANSFER_IN_ACCEPTED = "transfer_in_accepted"
TRANSFER_IN_POSTED = "transfer_in_posted"
TRANSFER_OUT_REMITTED = "transfer_out_remitted"
_TRANSFER_DAY = {TRANSFER_IN_POSTED: "posted_on", TRANSFER_OUT_REMITTED: "remitted_on"}
_TRANSFER_KINDS = frozenset(_TRANSFER_DAY)


def _transfers(facts: Sequence[Fact], year: int) -> tuple[TransferLine, ...]:
    """The transfers completed in the year, in the ledger's order. A transfer in's number and
    the other region's name are on its acceptance (the same aggregate, recorded before)."""
    lines = []
    for f in facts:
        if f.kind not in _TRANSFER_KINDS:
            continue
        day = str(f.data[_TRANSFER_DAY[f.kind]])
        if day[:4] != f"{year:04d}":
            continue
        events = [(f.position, f.day)]
        if f.kind == TRANSFER_IN_POSTED:
            accepted = next((a for a in facts if a.kind == TRANSFER_IN_ACCEPTED
                             and a.source_id == f.source_id), None)
            assert accepted is not None, f"transfer {f.source_id} posted before its acceptance"
            events.append((accepted.position, accepted.day))
            direction, number = IN, str(accepted.data["transfer_no"])
            region = str(f.data["from_region_code"])
            region_name = str(accepted.data["from_region_name"])
        else:
            direction, number = OUT, str(f.data["transfer_no"])
            region, region_name = str(f.data["to_region_code"]), str(f.data["to_region_name"])
        lines.append(TransferLine(
            direction=direction, transfer_no=number, other_region_code=region,
            other_region_name=region_name, day=day,
            contribution_months=int(f.data["contribution_months"]),
            account_fen=int(f.data["account_fen"]), pooled_fen=int(f.data["pooled_fen"]),
            trace=trace_of(events)))
    return tuple(lines)


def _accounts(inputs: StatementInputs, policy: PolicyTables, entries: Sequence[AccountRow],
              facts: Sequence[Fact], backpaid: AbstractSet[tuple[str, int]]
              ) -> tuple[PersonalAccount, ...]:
    year_start = f"{inputs.year}-01-01"
    by_insurance: dict[str, list[AccountRow]] = {PENSION: []}
    for row in entries:
        by_insurance.setdefault(row.insurance, []).append(row)
    interest_fact = None
    for f in facts:
        if f.kind == "interest_year" and int(f.data["year"]) == inputs.year:
            interest_fact = f
    accounts = []
    for insurance, rows in sorted(by_insurance.items()):
        parts: dict[str, list[AccountRow]] = {
            "opening": [], "contributions": [], "backpay": [], "reversals": [],
            "transfer_in": [], "transfer_out": [], "interest": [], "pension_paid": [],
            "other": []}
        for row in rows:
            parts[_part(row, year_start, backpaid)].append(row)
        figures = {name: Figure(sum(r.amount_fen for r in part),
                                trace_of((r.position, r.day) for r in part))
                   for name, part in parts.items()}
        closing = Figure(sum(r.amount_fen for r in rows),
                         trace_of((r.position, r.day) for r in rows))
        assert closing.fen == sum(f.fen for f in figures.values()), (inputs.person_id, insurance)
        rate_fact = interest_fact if insurance == PENSION else None
        accounts.append(PersonalAccount(
            insurance=insurance, name_zh=policy.insurance(insurance).name_zh, **figures,
            closing=closing,
            interest_rate=str(rate_fact.data["rate"]) if rate_fact else None,
            prior_interest_fen=int(rate_fact.data["prior_interest_fen"]) if rate_fact else None,
            current_interest_fen=(int(rate_fact.data["current_interest_fen"]) if rate_fact
                                  else None)))
    return tuple(accounts)


def _part(row: AccountRow, year_start: str, backpaid: AbstractSet[tuple[str, int]]) -> str:
    if row.effective_date < year_start:
        return "opening"
    if row.kind == "contribution":
        if (row.period, row.position) in backpaid:
            return "backpay"
        return "contributions"
    if row.kind == "reversal":
        return "reversals"
    if row.kind == "interest":
        return "interest"
    if row.kind == "transfer":
        return "transfer_in" if row.amount_fen > 0 else "transfer_out"
    if row.kind == "pension_payment":
        return "pension_paid"
    return "other"


def _benefits(facts: Sequence[Fact]) -> tuple[Benefit, ...]:
    awards = [f for f in facts if f.kind == "entitlement_awarded"]
    benefits = []
    for award in awards:
        first = next((f for f in facts if f.kind == "first_payment_scheduled"
                      and f.source_id == award.source_id), None)
        events = [(award.position, award.day)] + ([(first.position, first.day)] if first else [])
        benefits.append(Benefit(
            kind=str(award.data["kind"]), retirement_date=str(award.data["retirement_date"]),
            monthly_fen=int(award.data["monthly_fen"]),
            first_period=str(first.data["period"]) if first else None,
            trace=trace_of(events)))
    return tuple(benefits)


def _benefits_received(facts: Sequence[Fact], year: int, format_version: int
                       ) -> tuple[BenefitReceived, ...]:
    """Per benefit kind paid up to the end of the year: the year's months and their parts, and
    the months and amount since the first payment; in format 3 the year's adjustment."""
    year_end = f"{year}-12"
    paid: dict[str, list[Fact]] = {}
    for f in facts:
        if f.kind == "pension_paid" and str(f.data["period"]) <= year_end:
            paid.setdefault(str(f.data["kind"]), []).append(f)
    adjustments = _adjustments(facts, year) if format_version >= 3 else {}
    received = []
    for kind, payments in sorted(paid.items()):
        in_year = [f for f in payments if str(f.data["period"])[:4] == f"{year:04d}"]
        periods = sorted(str(f.data["period"]) for f in in_year)

        def summed(name: str, rows: Sequence[Fact] = in_year) -> int:
            return sum(int(f.data[name]) for f in rows)

        received.append(BenefitReceived(
            kind=kind, months_paid=len(in_year),
            first_period=periods[0] if periods else None,
            last_period=periods[-1] if periods else None,
            total_fen=summed("total_fen"), basic_fen=summed("basic_fen"),
            transitional_fen=summed("transitional_fen"), account_fen=summed("account_fen"),
            account_from_personal_fen=summed("account_from_personal_fen"),
            account_from_pool_fen=summed("account_from_pool_fen"),
            cumulative_months=len(payments), cumulative_fen=summed("total_fen", payments),
            trace=trace_of([(f.position, f.day) for f in in_year]),
            adjustment=adjustments.get(kind)))
    return tuple(received)


def _adjustments(facts: Sequence[Fact], year: int) -> dict[str, BenefitAdjustment]:
    """Per benefit kind, the year's adjustment (养老金调整, one per entitlement and year) of the
    entitlement awarded that kind."""
    kinds = {UUID(f.source_id).hex: str(f.data["kind"]) for f in facts
             if f.kind == "entitlement_awarded"}
    found: dict[str, BenefitAdjustment] = {}
    for f in facts:
        if f.kind != "pension_adjusted" or int(f.data["year"]) != year:
            continue
        kind = kinds[UUID(str(f.data["entitlement_id"])).hex]
        assert kind not in found, (kind, year)  # keyed by (entitlement, year); one per kind
        found[kind] = BenefitAdjustment(
            year=year, effective_period=str(f.data["effective_period"]),
            monthly_increase_fen=int(f.data["delta_fen"]),
            arrears_months=len(f.data["arrears_periods"]),
            arrears_fen=int(f.data["arrears_fen"]), trace=trace_of([(f.position, f.day)]))
    return found


def _other_benefits(rows: Iterable[BenefitPaymentRow], at: int, year: int
                    ) -> tuple[OtherBenefitReceived, ...]:
    """Per insurance and benefit kind, the payments for the year's months known at `at`."""
    prefix = f"{year:04d}-"
    by_kind: dict[tuple[str, str], list[BenefitPaymentRow]] = {}
    for row in rows:
        if row.position <= at and row.period.startswith(prefix):
            by_kind.setdefault((row.insurance, row.kind), []).append(row)
    received = []
    for (insurance, kind), payments in sorted(by_kind.items()):
        periods = sorted({row.period for row in payments})
        received.append(OtherBenefitReceived(
            insurance=insurance, kind=kind, payments=len(payments), months=len(periods),
            first_period=periods[0], last_period=periods[-1],
            total_fen=sum(row.amount_fen for row in payments),
            trace=trace_of([(row.position, row.day) for row in payments])))
    return tuple(received)
