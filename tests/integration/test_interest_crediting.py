"""Yearly interest crediting over the read models, checked against the domain computation, and
the personal-account balance as of a date."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.errors import DomainError
from domain.interest import compute_year_interest
from domain.interest_year import InterestYear
from infra.bootstrap import Container
from infra.bulk_posting import BulkPoster, PostingRequest
from infra.interest_service import InterestRun, credit_interest
from tests.helpers import seed_region

PERSONS = 3
WAGE_2022_FEN = 900_000
WAGE_2023_FEN = 1_000_000
ACCOUNT_RATE = Decimal("0.08")


def post_years(container: Container, years: tuple[int, ...]) -> list[str]:
    region = seed_region(container, persons=PERSONS, year=2022, wage_fen=WAGE_2022_FEN)
    for number in region.id_numbers:
        container.ledger.declare_base(number, 2023, WAGE_2023_FEN)
    result = BulkPoster(container.store, container.policy, "test").post(
        [PostingRequest(n, region.employer_code, f"{y}-{m:02d}")
         for y in years for m in range(1, 13) for n in region.id_numbers])
    assert result.summary()["posted"] == PERSONS * 12 * len(years)
    return list(region.person_ids)


def credit(container: Container, year: int) -> InterestRun:
    return credit_interest(container.store, container.policy, container.runner,
                           container.queries, year)


def test_two_credited_years_give_the_domain_closing_balance(container: Container) -> None:
    persons = post_years(container, (2022, 2023))
    run_2022 = credit(container, 2022)
    run_2023 = credit(container, 2023)
    assert (run_2022.credited, run_2022.skipped) == (PERSONS, 0)
    assert (run_2023.credited, run_2023.skipped) == (PERSONS, 0)
    assert run_2022.rate == "0.0612" and run_2023.rate == "0.0397"

    year_2022 = compute_year_interest(2022, Decimal("0.0612"), 0, (72_000,) * 12)
    year_2023 = compute_year_interest(2023, Decimal("0.0397"), year_2022.closing_fen,
                                      (80_000,) * 12)
    assert run_2022.interest_fen == PERSONS * year_2022.interest_fen
    assert run_2023.interest_fen == PERSONS * year_2023.interest_fen
    container.runner.catch_up()
    for person in persons:
        at_2022 = container.queries.account_balance(person, as_of="2022-12-31")
        at_2023 = container.queries.account_balance(person, as_of="2023-12-31")
        assert at_2022["balance_fen"] == year_2022.closing_fen
        assert at_2023["balance_fen"] == year_2023.closing_fen
        assert at_2023["by_kind_fen"] == {
            "contribution": 12 * 72_000 + 12 * 80_000,
            "interest": year_2022.interest_fen + year_2023.interest_fen}
        stored: InterestYear = container.store.app.repository.get(
            InterestYear.create_id(person, 2023))
        assert stored.closing_fen == year_2023.closing_fen


def test_crediting_the_same_year_again_credits_nothing(container: Container) -> None:
    post_years(container, (2023,))
    credit(container, 2023)
    head = container.store.max_position()
    again = credit(container, 2023)
    assert (again.credited, again.skipped, again.interest_fen) == (0, PERSONS, 0)
    assert container.store.max_position() == head


def test_an_as_of_balance_counts_only_months_up_to_that_date(container: Container) -> None:
    persons = post_years(container, (2023,))
    container.runner.catch_up()
    queries = container.queries
    monthly = int(WAGE_2023_FEN * ACCOUNT_RATE)
    assert queries.account_balance(persons[0], as_of="2023-06-30")["balance_fen"] == 6 * monthly
    assert queries.account_balance(persons[0], as_of="2023-06-29")["balance_fen"] == 5 * monthly
    assert queries.account_balance(persons[0], as_of="2022-12-31")["balance_fen"] == 0
    assert queries.account_balance(persons[0])["balance_fen"] == 12 * monthly
    entries = queries.account_entries(persons[0], as_of="2023-06-30")
    assert [e["period"] for e in entries] == [f"2023-{m:02d}" for m in range(1, 7)]


def test_crediting_a_year_before_the_previous_one_is_refused(container: Container) -> None:
    post_years(container, (2022, 2023))
    head = container.store.max_position()
    with pytest.raises(DomainError):
        credit(container, 2023)
    assert container.store.max_position() == head
