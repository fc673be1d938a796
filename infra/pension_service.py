"""Retirement and the basic-pension award (退休审批及基本养老金核定): from the contribution record
(read models, caught up first) and the policy tables, compute the pension (domain/pension.py),
mark the person retired, record the entitlement with every input, and schedule its first
payment — one command, normally the effect of a level-1 case (or of the 退休一件事 bundle after
the employment ends). The monthly payment run pays it (infra/pension_payments.py)."""

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
from domain.scheme_link import RESIDENTS_PENSION, SchemeLink, check_link, link_journal
from domain.transfer import months_after_transfers
from infra.bootstrap import Container
from infra.ledger_service import CommandResult, Decision, parse_day


def pension_months(c: Container, person_id: str) -> dict[str, int]:
    """Period → pension base of each month that counts here: as posted (reversals undone),
    less the months transferred out, plus those transferred in (domain/transfer.py)."""
    from infra.transfer_service import transfer_moves

    months: dict[str, int] = {}
    for period, kind, lines in c.views.query(
            "SELECT period, kind, lines FROM contribution_history WHERE person_id = ?"
            " ORDER BY position", (person_id,)):
        pension = [line for line in orjson.loads(lines) if line[0] == PENSION]
        if kind == "reversed":
            months.pop(period, None)
        elif pension:
            months[period] = int(pension[0][1])
    return months_after_transfers(months, transfer_moves(c, person_id))


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


def link_to_residents_scheme(c: Container, id_number: str, linked_on: str,
                             idempotency_key: str | None = None) -> CommandResult:
    """职工转居民 (城乡衔接): move the employee pension account to the residents' scheme."""
    day = date.fromisoformat(parse_day(linked_on, "linked_on"))
    payload = {"id_number": id_number, "linked_on": day.isoformat()}

    def decide() -> Decision:
        person = c.ledger.person(id_number)
        person_id = str(person.id)
        link_id = SchemeLink.create_id(c.settings.region_code, person_id)
        if c.ledger._get(link_id) is not None:
            raise Conflict("already_linked", "this person moved to the residents' scheme "
                           "already", field="id_number")
        if person.current_employer is not None or person.retired_on is not None:
            raise Conflict("person_still_employed" if person.current_employer else
                           "person_already_retired",
                           "end the employment first (停保), or in the same bundle"
                           if person.current_employer else
                           f"retired on {person.retired_on}: a pension is drawn already",
                           field="id_number")
        c.runner.catch_up()
        months = [p for p in pension_months(c, person_id) if p <= day.isoformat()]
        check_link(len(months), age_on(date.fromisoformat(person.birth_date), day), person.sex)
        balance = int(c.queries.account_balance(person_id, as_of=day.isoformat())["balance_fen"])
        link = SchemeLink(region_code=c.settings.region_code, person_id=person_id,
                          linked_on=day.isoformat(), from_insurance=PENSION,
                          to_insurance=RESIDENTS_PENSION, account_balance_fen=balance,
                          contribution_months=len(months),
                          journal=link_journal(person_id, balance))
        return Decision([link], {"person_id": person_id, "link_id": str(link_id),
                                 "account_balance_fen": balance,
                                 "contribution_months": len(months)})

    return c.ledger.execute("link_to_residents_scheme", payload, decide, idempotency_key)
