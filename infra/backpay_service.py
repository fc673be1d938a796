"""Back-payment (补缴) commands: assess a person's unpaid past months, record the tax bureau's
collection of the assessed amount (posting the months, the late fee and the interest, and
recomputing the interest of the years already credited, all in one transaction), or cancel.

The interest inputs are read from the personal-accounts read model, caught up first; the
collection re-reads them and refuses (`backpay_assessment_stale`) when the interest the
back-payment adds is no longer what was assessed (a year was credited meanwhile): the payer is
charged what the account gets, to the fen."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.assessment import EMPLOYEE_INSURANCES, posting_journal, rate_schedule
from domain.backpay import (
    BackPayment,
    BackPayMonth,
    InterestChange,
    RecordedYear,
    backpay_interest_fen,
    backpay_month,
    check_span,
    collection_journal,
    recompute_interest,
    with_credits,
)
from domain.contribution import POSTED, ContributionMonth
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.identity import parse_credit_code, parse_id_number
from domain.interest_year import InterestYear
from domain.money import require_fen
from domain.periods import Period, parse_period
from domain.registration import Employer, Person
from domain.suspense import HELD, SuspenseItem
from infra.bootstrap import Container
from infra.ledger_service import CommandResult, Decision, parse_day

SOURCE_PREFIX = "backpay:"  # `source` of the months a back-payment posts: backpay:<id>
SERIAL_LENGTH_MAX = 64


def _periods(from_period: str, to_period: str) -> list[Period]:
    first = parse_period(from_period, "from_period")
    last = parse_period(to_period, "to_period")
    periods = []
    p = first
    while p.index <= last.index and len(periods) <= 12 * 100:
        periods.append(p)
        p = p.next()
    check_span(periods)
    return periods


def _months(c: Container, person: Person, employer: Employer, periods: list[Period],
            base_fen: int | None, insurances: tuple[str, ...], pay_by: date
            ) -> list[BackPayMonth]:
    months = []
    for period in periods:
        base = base_fen if base_fen is not None else person.base_for(period.year)
        if base is None:
            raise ValidationFailed(
                "base_not_declared",
                f"no contribution base declared for {period.year}; give base_fen (the base "
                "the back-paid months are assessed on) or declare the year's base",
                field="base_fen")
        schedule = rate_schedule(c.policy, period, employer.risk_class_on(str(period)),
                                 insurances, Decimal(employer.work_injury_float))
        months.append(backpay_month(c.policy, schedule, base, pay_by))
    return months


def _unposted(c: Container, person_id: str, periods: list[str]) -> None:
    """Refuses months on record as posted: a back-payment never pays a month twice."""
    for period in periods:
        month: ContributionMonth | None = c.ledger._get(
            ContributionMonth.create_id(person_id, period))
        if month is not None and month.status == POSTED:
            raise Conflict(
                "month_already_posted",
                f"{period} is posted already for this person: it is not owed; leave it out "
                "of the back-payment (or reverse it first if it was posted wrongly)",
                field="from_period")


def _interest(c: Container, person_id: str, months: list[BackPayMonth]
              ) -> tuple[int, list[InterestChange], int]:
    """(interest the back-payment adds, the recomputation with its credits, log position)."""
    position = c.runner.catch_up()
    through_year = c.queries.last_interest_year()
    from_year = min(int(m.period[:4]) for m in months)
    if through_year is None or from_year > through_year:
        return 0, [], position
    opening_fen, credits = c.queries.pension_credits(person_id, from_year)
    recorded = _recorded_years(c, person_id, from_year, through_year)
    baseline = recompute_interest(c.policy, recorded, credits, opening_fen, from_year,
                                  through_year)
    changes = recompute_interest(c.policy, recorded, with_credits(credits, months), opening_fen,
                                 from_year, through_year)
    return backpay_interest_fen(baseline, changes), changes, position


def _recorded_years(c: Container, person_id: str, first: int, last: int
                    ) -> dict[int, RecordedYear]:
    recorded = {}
    for year in range(first, last + 1):
        found: InterestYear | None = c.ledger._get(InterestYear.create_id(person_id, year))
        if found is not None:
            recorded[year] = RecordedYear(year, found.opening_fen,
                                          tuple(found.credits_by_month_fen), found.interest_fen,
                                          found.closing_fen)
    return recorded


def assess_backpay(c: Container, id_number: str, employer_code: str, from_period: str,
                   to_period: str, pay_by: str, reason: str, assessed_by: str,
                   base_fen: int | None = None, insurances: list[str] | None = None,
                   idempotency_key: str | None = None) -> CommandResult:
    """补缴核定: the months from `from_period` to `to_period` at their own rates, on `base_fen`
    (default: the base declared for each year), with late fees up to `pay_by` (the notice's
    payment deadline) and the interest of the years credited already."""
    number = parse_id_number(id_number).number
    code = parse_credit_code(employer_code, "employer_code")
    periods = _periods(from_period, to_period)
    deadline = date.fromisoformat(parse_day(pay_by, "pay_by"))
    if base_fen is not None:
        require_fen(base_fen, "base_fen")
    chosen = tuple(insurances) if insurances else EMPLOYEE_INSURANCES
    for insurance in chosen:
        c.policy.insurance(insurance, "insurances")
    if not reason.strip():
        raise ValidationFailed("reason_missing",
                               "a back-payment needs its reason and evidence (e.g. the payroll "
                               "records it rests on)", field="reason")
    payload = {"id_number": number, "employer_code": code, "periods": [str(p) for p in periods],
               "pay_by": deadline.isoformat(), "base_fen": base_fen, "insurances": list(chosen),
               "reason": reason.strip(), "assessed_by": assessed_by}

    def decide() -> Decision:
        person = c.ledger.person(number)
        employer = c.ledger.employer(code)
        person_id = str(person.id)
        months = _months(c, person, employer, periods, base_fen, chosen, deadline)
        _unposted(c, person_id, [m.period for m in months])
        interest_fen, changes, _position = _interest(c, person_id, months)
        backpay = BackPayment(
            person_id=person_id, id_number=number, employer_code=employer.credit_code,
            months=[_month_record(m) for m in months],
            interest_years=[_change_record(ch) for ch in changes],
            pay_by=deadline.isoformat(),
            principal_fen=sum(m.total_fen for m in months),
            late_fee_fen=sum(m.late_fee_fen for m in months), interest_fen=interest_fen,
            assessed_by=assessed_by, reason=reason.strip())
        return Decision([backpay], backpay_result(backpay))

    return c.ledger.execute("assess_backpay", payload, decide, idempotency_key)


def _month_record(m: BackPayMonth) -> dict[str, Any]:
    return {"period": m.period, "lines": m.lines, "due_date": m.due_date.isoformat(),
            "days_late": m.days_late, "late_fees": m.late_fees, "total_fen": m.total_fen,
            "late_fee_fen": m.late_fee_fen, "pension_account_fen": m.pension_account_fen}


def _change_record(ch: InterestChange) -> dict[str, Any]:
    return {"year": ch.year, "rate": str(ch.result.rate), "interest_fen": ch.result.interest_fen,
            "interest_before_fen": ch.before.interest_fen if ch.before else None,
            "delta_fen": ch.delta_fen}


def backpay_result(b: BackPayment) -> dict[str, Any]:
    return {"backpay_id": str(b.id), "status": b.status, "person_id": b.person_id,
            "id_number": b.id_number, "employer_code": b.employer_code, "pay_by": b.pay_by,
            "periods": b.periods, "months": b.months, "interest_years": b.interest_years,
            "principal_fen": b.principal_fen, "late_fee_fen": b.late_fee_fen,
            "interest_fen": b.interest_fen, "total_fen": b.total_fen,
            "collected_on": b.collected_on, "tax_serial": b.tax_serial}


def get_backpay(c: Container, backpay_id: str) -> BackPayment:
    try:
        key = UUID(backpay_id)
    except ValueError:
        raise ValidationFailed("backpay_id_malformed", f"{backpay_id!r} is not a back-payment id",
                               field="backpay_id") from None
    found: BackPayment | None = c.ledger._get(key)
    if not isinstance(found, BackPayment):
        raise NotFound("backpay_not_found", f"no back-payment {backpay_id} in region "
                       f"{c.settings.region_code}", field="backpay_id")
    return found


def _suspense_items(c: Container, backpay: BackPayment, serials: list[str]
                    ) -> list[SuspenseItem]:
    """Held items whose lines are this back-payment's months (an import held them as
    `backpay_open`): they are part of what was collected."""
    items = []
    for serial in serials:
        item: SuspenseItem | None = c.ledger._get(
            SuspenseItem.create_id(c.settings.region_code, serial))
        if item is None:
            raise NotFound("suspense_not_found", f"no suspense item with serial number {serial}",
                           field="from_suspense")
        if item.status != HELD:
            raise Conflict("suspense_already_decided",
                           f"suspense item {serial} is {item.status} already",
                           field="from_suspense")
        if (item.line.get("id_number") != backpay.id_number
                or item.line.get("period") not in backpay.periods):
            raise Conflict(
                "suspense_not_of_backpay",
                f"suspense item {serial} is for {item.line.get('period')} of another person or "
                f"month; the back-payment covers {backpay.periods[0]}..{backpay.periods[-1]}",
                field="from_suspense")
        items.append(item)
    return items


def collect_backpay(c: Container, backpay_id: str, collected_on: str, tax_serial: str,
                    amount_fen: int, collected_by: str, from_suspense: list[str] | None = None,
                    idempotency_key: str | None = None) -> CommandResult:
    """The tax bureau collected the assessed amount: post the months (as of their periods),
    the late fee and interest, and recompute the interest years, in one transaction.
    `amount_fen` is all that was collected, including the lines an import held in suspense
    for this back-payment (`from_suspense`: their serial numbers), which are assigned to it."""
    serials = sorted({s.strip() for s in from_suspense or [] if s.strip()})
    day = date.fromisoformat(parse_day(collected_on, "collected_on"))
    serial = tax_serial.strip()
    if not serial or len(serial) > SERIAL_LENGTH_MAX:
        raise ValidationFailed("tax_serial_malformed",
                               f"tax_serial must be 1-{SERIAL_LENGTH_MAX} characters",
                               field="tax_serial")
    require_fen(amount_fen, "amount_fen")
    payload = {"backpay_id": backpay_id, "collected_on": day.isoformat(), "tax_serial": serial,
               "amount_fen": amount_fen, "collected_by": collected_by, "from_suspense": serials}

    def decide() -> Decision:
        backpay = get_backpay(c, backpay_id)
        if backpay.status == "collected" and backpay.tax_serial == serial:
            return Decision([], backpay_result(backpay))  # the same collection again
        backpay.check_collection(day, amount_fen)
        items = _suspense_items(c, backpay, serials)
        held_fen = sum(item.amount_fen for item in items)
        if held_fen > amount_fen:
            raise Conflict("backpay_suspense_exceeds", f"the suspense items hold {held_fen} fen,"
                           f" more than the collected {amount_fen}", field="from_suspense")
        months = [BackPayMonth(m["period"], m["lines"], date.fromisoformat(m["due_date"]),
                               m["days_late"], m["late_fees"]) for m in backpay.months]
        _unposted(c, backpay.person_id, backpay.periods)
        interest_fen, changes, position = _interest(c, backpay.person_id, months)
        if interest_fen != backpay.interest_fen:
            raise Conflict(
                "backpay_assessment_stale",
                f"the interest the back-payment adds is now {interest_fen} fen, assessed "
                f"{backpay.interest_fen} fen (interest was credited since the assessment); "
                "cancel it and assess again", field="backpay_id")
        source = f"{SOURCE_PREFIX}{backpay.id}"
        saved: list[Any] = []
        month_ids = []
        for m in months:
            journal = posting_journal(backpay.person_id, m.lines)
            month_id = ContributionMonth.create_id(backpay.person_id, m.period)
            month: ContributionMonth | None = c.ledger._get(month_id)
            if month is None:
                month = ContributionMonth(
                    person_id=backpay.person_id, employer_code=backpay.employer_code,
                    period=m.period, lines=m.lines, journal=journal, source=source,
                    serials=[serial])
            else:  # reversed (红冲) earlier: the back-payment posts it again
                month.repost(backpay.employer_code, m.lines, journal, source, [serial])
            saved.append(month)
            month_ids.append(str(month_id))
        for change in changes:
            year: InterestYear | None = c.ledger._get(
                InterestYear.create_id(backpay.person_id, change.year))
            if year is None:
                saved.append(InterestYear.credit(backpay.person_id, change.result, position))
            else:
                year.recompute(change.result, position, source)
                saved.append(year)
        for item in items:
            period = str(item.line["period"])
            item.assign(person_id=backpay.person_id, id_number=backpay.id_number, period=period,
                        employer_code=backpay.employer_code,
                        month_id=str(ContributionMonth.create_id(backpay.person_id, period)),
                        decided_by=collected_by,
                        reason=f"collected with back-payment {backpay.id}")
        backpay.collect(day.isoformat(), serial, amount_fen, month_ids,
                        collection_journal(months, backpay.interest_fen, held_fen), collected_by,
                        [[item.serial_no, str(item.line["insurance"]), item.amount_fen]
                         for item in items])
        return Decision([backpay, *saved, *items], backpay_result(backpay))

    return c.ledger.execute("collect_backpay", payload, decide, idempotency_key)


def cancel_backpay(c: Container, backpay_id: str, reason: str, cancelled_by: str,
                   idempotency_key: str | None = None) -> CommandResult:
    payload = {"backpay_id": backpay_id, "reason": reason, "cancelled_by": cancelled_by}

    def decide() -> Decision:
        backpay = get_backpay(c, backpay_id)
        if backpay.status == "cancelled":
            return Decision([], backpay_result(backpay))
        backpay.cancel(reason, cancelled_by)
        return Decision([backpay], backpay_result(backpay))

    return c.ledger.execute("cancel_backpay", payload, decide, idempotency_key)
