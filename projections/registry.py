"""All projections of the ledger, by name."""

from __future__ import annotations

from projections.accounts import PersonalAccounts
from projections.base import Projection
from projections.funds import FundBalances
from projections.history import ContributionHistory
from projections.import_lines import ImportLines
from projections.person_bases import PersonBases


def all_projections() -> list[Projection]:
    return [PersonalAccounts(), ContributionHistory(), FundBalances(), PersonBases(),
            ImportLines()]
