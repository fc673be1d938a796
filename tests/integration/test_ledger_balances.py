"""Double entry on the stored log: every event that moves money balances, and the fund read model
equals the sums of the journals it was built from (a trial balance whose debits = credits)."""

from __future__ import annotations

from infra.bootstrap import Container
from infra.bulk_posting import BulkPoster, PostingRequest
from infra.interest_service import credit_interest
from tests.helpers import all_events, journal_sums, seed_region


def post_a_mix(container: Container) -> None:
    """Bulk and single postings over two years, a reversal, a corrected re-posting, interest."""
    region = seed_region(container, persons=3, year=2022, years=(2023,))
    poster = BulkPoster(container.store, container.policy, "test")
    poster.post([PostingRequest(n, region.employer_code, f"2022-{m:02d}")
                 for n in region.id_numbers for m in range(1, 13)])
    ledger = container.ledger
    for m in range(1, 4):
        ledger.post_contribution(region.id_numbers[0], region.employer_code, f"2023-{m:02d}")
    ledger.reverse_contribution(region.id_numbers[0], "2023-02", "wrong base")
    ledger.post_contribution(region.id_numbers[0], region.employer_code, "2023-02",
                             base_fen=900_000)
    credit_interest(container.store, container.policy, container.runner, container.queries, 2022)


def test_every_stored_event_with_a_journal_balances(container: Container) -> None:
    post_a_mix(container)
    with_journal = [e for e in all_events(container) if hasattr(e, "journal")]
    kinds = {type(e).__qualname__ for e in with_journal}
    assert kinds == {"ContributionMonth.Posted", "ContributionMonth.Reversed",
                     "ContributionMonth.Reposted", "InterestYear.Credited"}
    for event in with_journal:
        debits = sum(line[1] for line in event.journal)
        credits = sum(line[2] for line in event.journal)
        assert debits == credits > 0, event
        assert all(type(line[1]) is int and type(line[2]) is int for line in event.journal)


def test_fund_balances_equal_the_sums_of_their_journal_lines(container: Container) -> None:
    post_a_mix(container)
    container.runner.catch_up()
    read_model = {row["account"]: (row["debit_fen"], row["credit_fen"])
                  for row in container.queries.fund_balances()}
    assert read_model == journal_sums(container)


def test_the_trial_balance_debits_equal_its_credits(container: Container) -> None:
    post_a_mix(container)
    container.runner.catch_up()
    rows = container.queries.fund_balances()
    assert sum(r["debit_fen"] for r in rows) == sum(r["credit_fen"] for r in rows) > 0
    by_account = {r["account"]: r for r in rows}
    # Everything collected through the tax clearing account sits in funds and accounts.
    clearing = by_account["clearing:tax"]["balance_fen"]
    credit_normal = sum(r["balance_fen"] for r in rows if r["normal_side"] == "credit")
    assert clearing == credit_normal
