"""The read models see every event they must: each event class that carries a journal is read by
the fund balances (else the trial balance would silently miss money), and each one that moves a
personal account is read by the personal accounts."""

from __future__ import annotations

import inspect

from infra.projection_runner import event_classes, event_topics
from projections.accounts import PersonalAccounts
from projections.funds import FundBalances
from projections.history import ContributionHistory
from projections.registry import all_projections


def journal_event_types() -> set[str]:
    return {name for name, cls in event_classes().items()
            if "journal" in inspect.signature(cls.__init__).parameters}


def test_every_event_type_with_a_journal_is_read_by_the_fund_balances() -> None:
    assert journal_event_types() == set(FundBalances.event_types)


def test_every_event_type_with_a_journal_is_read_by_the_personal_accounts() -> None:
    assert journal_event_types() == set(PersonalAccounts.event_types)


def test_contribution_history_reads_every_contribution_month_event() -> None:
    month_events = {n for n in journal_event_types() if n.startswith("ContributionMonth.")}
    assert month_events == set(ContributionHistory.event_types)


def test_the_projections_read_known_event_classes_only() -> None:
    """Each projected topic resolves to a domain event class (a typo would read nothing)."""
    topics = event_topics(all_projections())
    known = {f"{cls.__module__}:{name}" for name, cls in event_classes().items()}
    assert set(topics) <= known
    assert {t.split(":", 1)[1] for t in topics} >= journal_event_types()
