"""Arrears (欠费): a month assessed (employed, base declared) but not posted after its due date
is owed by the employer, with the late fee; posted months, months before the due date, and
persons no longer employed owe nothing."""

from __future__ import annotations

from datetime import date

from domain.assessment import assess_month
from domain.periods import Period
from infra.arrears import arrears
from infra.bootstrap import Container
from tests.helpers import SEED_WAGE_FEN, seed_region


def test_an_unposted_month_is_owed_by_its_employer_with_the_late_fee(
        container: Container) -> None:
    region = seed_region(container, persons=3)  # employed from 2023-01-01, base 10,000.00
    a, _b, c = region.id_numbers  # b stays employed and unposted
    code = region.employer_code
    container.ledger.post_contribution(a, code, "2023-05")
    container.ledger.end_employment(c, code, "2023-03-31")

    report, items = arrears(container, "2023-05", as_of=date(2023, 7, 30))

    assert report.due_date == date(2023, 6, 15)
    assert [i.person_id for i in items] == [region.person_ids[1]]  # b: employed, not posted
    lines = assess_month(container.policy, Period(2023, 5), SEED_WAGE_FEN, 3)
    owed = sum(line[2] + line[3] for line in lines)
    [employer] = report.as_dict()["employers"]
    assert employer["arrears_fen"] == owed
    assert employer["days_late"] == 45
    assert employer["late_fee_fen"] == (2 * owed * 5 * 45 + 10_000) // 20_000  # 0.05 % a day


def test_nothing_is_owed_before_the_due_date_or_once_posted(container: Container) -> None:
    region = seed_region(container, persons=1)
    code = region.employer_code
    early, items = arrears(container, "2023-05", as_of=date(2023, 6, 15))
    assert not early.due and early.as_dict()["arrears_fen"] == 0
    assert len(items) == 1  # assessed, not yet late
    container.ledger.post_contribution(region.id_numbers[0], code, "2023-05")
    late, items = arrears(container, "2023-05", as_of=date(2023, 8, 1))
    assert items == [] and late.as_dict()["employers"] == []


def test_a_reversed_month_is_owed_again(container: Container) -> None:
    region = seed_region(container, persons=1)
    number, code = region.id_numbers[0], region.employer_code
    container.ledger.post_contribution(number, code, "2023-05")
    container.ledger.reverse_contribution(number, "2023-05", "wrong base")
    _report, items = arrears(container, "2023-05", as_of=date(2023, 8, 1))
    assert [i.person_id for i in items] == [region.person_ids[0]]
