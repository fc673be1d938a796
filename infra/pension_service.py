"""Retirement and the basic-pension award (退休审批及基本养老金核定): from the contribution record
(read models, caught up first) and the policy tables, compute the pension (domain/pension.py),
mark the person retired, record the entitlement with every input, and schedule its first
payment — one command, normally the effect of a level-1 case (or of the 退休一件事 bundle after
the employment ends). Payment runs themselves are not in this system yet."""

from __future__ import annotations

from datetime import date

import orjson

from domain.errors import Conflict
from domain.pension import (
    BASIC_PENSION,
    Entitlement,
    age_on,
    average_index,
    compute_pension,
    first_payment_period,
)
from domain.policy import PENSION
from infra.bootstrap import Container
from infra.ledger_service import CommandResult, Decision, parse_day


def pension_months(c: Container, person_id: str) -> dict[str, int]:
    """Period → pension base of each month on record as posted (reversals undone)."""
    months: dict[str, int] = {}
    for period, kind, lines in c.views.query(
            "SELECT period, kind, lines FROM contribution_history WHERE person_id = ?"
            " ORDER BY position", (person_id,)):
        pension = [line for line in orjson.loads(lines) if line[0] == PENSION]
        if kind == "reversed":
            months.pop(period, None)
        elif pension:
            months[period] = int(pension[0][1])
    return months


def award_pension(c: Container, id_number: str, retirement_date: str, deemed_months: int = 0,
                  idempotency_key: str | None = None) -> CommandResult:
    day = date.fromisoformat(parse_day(retirement_date, "retirement_date"))
    payload = {"id_number": id_number, "retirement_date": day.isoformat(),
               "deemed_months": deemed_months}

    def decide() -> Decision:
        person = c.ledger.person(id_number)
        person_id = str(person.id)
        entitlement_id = Entitlement.create_id(c.settings.region_code, person_id)
        if c.ledger._get(entitlement_id) is not None:
            raise Conflict("pension_already_awarded", "a basic pension is awarded already; "
                           "change it by a benefit adjustment", field="id_number")
        position = c.runner.catch_up()
        months = {p: b for p, b in pension_months(c, person_id).items() if p <= day.isoformat()}
        index = average_index([(base, c.policy.bounds(int(p[:4])).average_wage_fen)
                               for p, base in months.items()])
        balance = c.queries.account_balance(person_id, as_of=day.isoformat())["balance_fen"]
        award = compute_pension(
            c.policy.bounds(day.year).average_wage_fen, index, len(months), deemed_months,
            int(balance), age_on(date.fromisoformat(person.birth_date), day),
            c.policy.transitional_coefficient)
        person.retire(day.isoformat())
        entitlement = Entitlement(
            region_code=c.settings.region_code, person_id=person_id, kind=BASIC_PENSION,
            retirement_date=day.isoformat(), monthly_fen=award.monthly_fen,
            components={"basic_fen": award.basic_fen, "account_fen": award.account_fen,
                        "transitional_fen": award.transitional_fen},
            inputs={"pension_base_fen": award.pension_base_fen,
                    "average_index": str(award.average_index),
                    "contribution_months": award.contribution_months,
                    "deemed_months": award.deemed_months,
                    "account_balance_fen": award.account_balance_fen,
                    "age_years": award.age_years, "divisor": award.divisor,
                    "transitional_coefficient": str(award.transitional_coefficient),
                    "inputs_position": position})
        entitlement.schedule_first_payment(first_payment_period(day))
        return Decision([person, entitlement], {
            "person_id": person_id, "entitlement_id": str(entitlement_id),
            "monthly_fen": award.monthly_fen, "basic_fen": award.basic_fen,
            "account_fen": award.account_fen, "transitional_fen": award.transitional_fen,
            "average_index": str(award.average_index),
            "contribution_months": award.contribution_months,
            "first_payment_period": entitlement.first_period})

    return c.ledger.execute("award_pension", payload, decide, idempotency_key)
