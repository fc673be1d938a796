"""Yearly interest on the personal pension account by the monthly-积数 method (月积数法,
劳办发〔1997〕116号; DOMAIN.md §3.3):

    closing = opening × (1 + r) + C + M × r / 12,   M = Σ_{n=1..12} credit(n) × (12 − n + 1)

Each interest component is rounded to fen once (half up). The 1.083/2 "annual method" is an
approximation of the same and is not used; the ×1.083 variant of [S4] is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.errors import ValidationFailed
from domain.journal import JournalLine, assert_balanced, personal_account, pooled_fund
from domain.money import round_fen
from domain.policy import PENSION

MONTHS_PER_YEAR = 12


@dataclass(frozen=True)
class YearInterest:
    year: int
    rate: Decimal
    opening_fen: int
    credits_by_month_fen: tuple[int, ...]  # 12 amounts, January first
    prior_interest_fen: int  # interest on the opening balance
    current_interest_fen: int  # interest on this year's credits (积数 × r / 12)
    closing_fen: int

    @property
    def credited_fen(self) -> int:
        return sum(self.credits_by_month_fen)

    @property
    def interest_fen(self) -> int:
        return self.prior_interest_fen + self.current_interest_fen


def compute_year_interest(
    year: int, rate: Decimal, opening_fen: int, credits_by_month_fen: tuple[int, ...]
) -> YearInterest:
    if len(credits_by_month_fen) != MONTHS_PER_YEAR:
        raise ValidationFailed(
            "interest_months", "credits_by_month_fen must have 12 entries", field="credits"
        )
    accumulation = sum(
        credit * (MONTHS_PER_YEAR - n + 1) for n, credit in enumerate(credits_by_month_fen, 1)
    )
    prior = round_fen(Decimal(opening_fen) * rate)
    current = round_fen(Decimal(accumulation) * rate / MONTHS_PER_YEAR)
    closing = opening_fen + prior + sum(credits_by_month_fen) + current
    return YearInterest(year, rate, opening_fen, credits_by_month_fen, prior, current, closing)


def interest_journal(person_id: str, interest_fen: int) -> list[JournalLine]:
    """Notional interest is borne by the pension pooled fund and credited to the account."""
    journal: list[JournalLine] = [
        [pooled_fund(PENSION), interest_fen, 0],
        [personal_account(person_id, PENSION), 0, interest_fen],
    ]
    assert_balanced(journal)
    return journal


def delta_journal(person_id: str, delta_fen: int) -> list[JournalLine]:
    """A recomputed year's difference: more interest as `interest_journal`, less the reverse."""
    if delta_fen >= 0:
        return interest_journal(person_id, delta_fen)
    journal: list[JournalLine] = [
        [personal_account(person_id, PENSION), -delta_fen, 0],
        [pooled_fund(PENSION), 0, -delta_fen],
    ]
    assert_balanced(journal)
    return journal
