"""Employee → residents' pension link (城乡养老保险制度衔接, DOMAIN.md §5.2 "Urban-rural scheme
link"; the rules below are 人社部发〔2014〕17号 as recalled, ⚠ verify against the text): a person
who reaches retirement age with fewer than 15 years in the employee scheme may move to the
residents' scheme. The whole employee personal-account balance (储存额) moves to the residents'
account and the employee contribution years count as residents' years; the pooled-fund part
stays. One link per person."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import ValidationFailed
from domain.ids import fast_uuid5, region_namespace
from domain.journal import JournalLine, assert_balanced, personal_account
from domain.pension import MINIMUM_CONTRIBUTION_MONTHS
from domain.policy import PENSION

RESIDENTS_PENSION = "170"  # AAE140 城乡居民养老 (DOMAIN.md §15)
# The lowest statutory retirement ages before the 2025 reform (DOMAIN.md §4.2); the reform's
# cohort tables are not in the data yet, so a link is refused below these only.
MINIMUM_AGE_BY_SEX = {"M": 60, "F": 50}  # by the ID number's sex digit


def link_journal(person_id: str, balance_fen: int) -> list[JournalLine]:
    journal: list[JournalLine] = [
        [personal_account(person_id, PENSION), balance_fen, 0],
        [personal_account(person_id, RESIDENTS_PENSION), 0, balance_fen],
    ]
    assert_balanced(journal)
    return journal


def check_link(contribution_months: int, age_years: int, sex: str) -> None:
    if contribution_months >= MINIMUM_CONTRIBUTION_MONTHS:
        raise ValidationFailed(
            "link_not_needed", f"{contribution_months} employee contribution months reach the "
            f"{MINIMUM_CONTRIBUTION_MONTHS} needed for a pension: award it (退休审批) instead",
            field="id_number")
    minimum = MINIMUM_AGE_BY_SEX.get(sex, 60)
    if age_years < minimum:
        raise ValidationFailed(
            "link_before_retirement_age", f"age {age_years}: the link to the residents' scheme "
            f"is made at retirement age (at least {minimum}); until then keep contributing",
            field="linked_on")


class SchemeLink(Aggregate):
    @staticmethod
    def create_id(region_code: str, person_id: str) -> UUID:
        return fast_uuid5(region_namespace(region_code), f"scheme-link/{person_id}")

    @event("Linked")
    def __init__(self, region_code: str, person_id: str, linked_on: str, from_insurance: str,
                 to_insurance: str, account_balance_fen: int, contribution_months: int,
                 journal: list[list[Any]]) -> None:
        self.person_id = person_id
        self.linked_on = linked_on
        self.account_balance_fen = account_balance_fen
        self.contribution_months = contribution_months
