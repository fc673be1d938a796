"""All projections of the ledger, by name."""

from __future__ import annotations

from projections.access_log import AccessLog
from projections.account_days import AccountDays
from projections.accounts import PersonalAccounts
from projections.alerts import Alerts
from projections.backpayments import BackPayments
from projections.base import Projection
from projections.benefit_payments import BenefitPayments
from projections.cases import Cases
from projections.certifications import PensionCertifications
from projections.digests import Digests
from projections.employments import Employments
from projections.finance_statements import FinanceStatements
from projections.fund_income import FundIncome
from projections.fund_movements import FundMovements
from projections.funds import FundBalances
from projections.history import ContributionHistory
from projections.import_lines import ImportLines
from projections.interest_years import InterestYears
from projections.participation_years import ParticipationYears
from projections.pension_adjustments import PensionAdjustments
from projections.pension_payments import PensionPayments
from projections.person_bases import PersonBases
from projections.person_facts import PersonFacts
from projections.suspense_items import SuspenseItems
from projections.transfers import PensionTransfers


def all_projections() -> list[Projection]:
    return [PersonalAccounts(), ContributionHistory(), FundBalances(), PersonBases(),
            ImportLines(), SuspenseItems(), Employments(),
            FinanceStatements(), FundMovements(), InterestYears(),
            BackPayments(), Cases(), Digests(), AccountDays(), AccessLog(),
            PersonFacts(), Alerts(), ParticipationYears(), FundIncome(), PensionPayments(),
            PensionCertifications(),
            PensionAdjustments(), PensionTransfers(), BenefitPayments()]
