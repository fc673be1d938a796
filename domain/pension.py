"""Basic pension at retirement (企业职工基本养老金, 国发〔2005〕38号; DOMAIN.md §4.3):

    basic        = (P + P × Ī) / 2 × N × 1%
    account      = account balance at retirement / 计发月数(age)
    transitional = P × max(Ī, 1) × deemed years × coefficient        (中人 only)

P: 计发基数, the average monthly wage of the retirement year's base bounds; Ī: the person's
average contribution-wage index, the mean of base ÷ A over the contribution months (A: that
year's average wage), so a month counts by its own year; N: contribution years, actual months
plus deemed (视同缴费) months, over 12. Each component is rounded to the fen once.

Also the entitlement (待遇) aggregate that records an award with every input, and the month its
first payment is scheduled for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import Conflict, ValidationFailed
from domain.ids import fast_uuid5, region_namespace
from domain.money import round_fen

# 计发月数 by age at retirement (国发〔2005〕38号 附件; DOMAIN.md §4.3, anchors confirmed by S6).
DIVISOR_BY_AGE = {
    40: 233, 41: 230, 42: 226, 43: 223, 44: 220, 45: 216, 46: 212, 47: 208, 48: 204, 49: 199,
    50: 195, 51: 190, 52: 185, 53: 180, 54: 175, 55: 170, 56: 164, 57: 158, 58: 152, 59: 145,
    60: 139, 61: 132, 62: 125, 63: 117, 64: 109, 65: 101, 66: 93, 67: 84, 68: 75, 69: 65, 70: 56,
}
MINIMUM_CONTRIBUTION_MONTHS = 15 * 12  # 社会保险法 art.16; rises from 2030 (DOMAIN.md §4.1)
INDEX_FLOOR, INDEX_CAP = Decimal("0.6"), Decimal("3")


@dataclass(frozen=True)
class PensionAward:
    pension_base_fen: int  # P
    average_index: Decimal  # Ī
    contribution_months: int  # actual
    deemed_months: int
    account_balance_fen: int
    age_years: int
    divisor: int
    transitional_coefficient: Decimal
    basic_fen: int
    account_fen: int
    transitional_fen: int

    @property
    def monthly_fen(self) -> int:
        return self.basic_fen + self.account_fen + self.transitional_fen


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def average_index(months: Sequence[tuple[int, int]]) -> Decimal:
    """Ī from (base fen, that year's average wage fen) per contribution month, each month's
    index clamped to [0.6, 3] as the base bounds clamp the base; 4 decimals, half up."""
    if not months:
        return Decimal(0)
    total = sum((min(max(Decimal(base) / Decimal(wage), INDEX_FLOOR), INDEX_CAP)
                 for base, wage in months), Decimal(0))
    return (total / len(months)).quantize(Decimal("0.0001"))


def compute_pension(pension_base_fen: int, index: Decimal, contribution_months: int,
                    deemed_months: int, account_balance_fen: int, age_years: int,
                    transitional_coefficient: Decimal) -> PensionAward:
    months = contribution_months + deemed_months
    if months < MINIMUM_CONTRIBUTION_MONTHS:
        raise ValidationFailed(
            "contribution_years_short",
            f"{months} contribution months (actual {contribution_months}, deemed "
            f"{deemed_months}); a monthly pension needs {MINIMUM_CONTRIBUTION_MONTHS}: extend "
            "contributions or pay the rest in one sum (DOMAIN.md §4.1)", field="id_number")
    divisor = DIVISOR_BY_AGE.get(age_years)
    if divisor is None:
        raise ValidationFailed("retirement_age_outside_table",
                               f"age {age_years} at retirement is outside the 计发月数 table "
                               "(40-70)", field="retirement_date")
    p = Decimal(pension_base_fen)
    basic = round_fen((p + p * index) / 2 * months / 12 / 100)
    account = round_fen(Decimal(account_balance_fen) / divisor)
    transitional = round_fen(p * max(index, Decimal(1)) * deemed_months / 12
                             * transitional_coefficient) if deemed_months else 0
    return PensionAward(pension_base_fen, index, contribution_months, deemed_months,
                        account_balance_fen, age_years, divisor, transitional_coefficient,
                        basic, account, transitional)


def first_payment_period(retirement_date: date) -> str:
    """A pension is paid from the month after the one the person retires in."""
    year, month = retirement_date.year, retirement_date.month + 1
    if month > 12:
        year, month = year + 1, 1
    return f"{year:04d}-{month:02d}"


BASIC_PENSION = "basic_pension"


class Entitlement(Aggregate):
    """A benefit award (待遇) of one person; keyed by person and benefit kind."""

    @staticmethod
    def create_id(region_code: str, person_id: str, kind: str = BASIC_PENSION) -> UUID:
        return fast_uuid5(region_namespace(region_code), f"entitlement/{person_id}/{kind}")

    @event("Awarded")
    def __init__(self, region_code: str, person_id: str, kind: str, retirement_date: str,
                 monthly_fen: int, components: dict[str, int], inputs: dict[str, Any]) -> None:
        self.person_id = person_id
        self.kind = kind
        self.retirement_date = retirement_date
        self.monthly_fen = monthly_fen
        self.first_period: str | None = None

    def schedule_first_payment(self, period: str) -> None:
        if self.first_period is not None:
            raise Conflict("first_payment_scheduled", f"the first payment is scheduled for "
                           f"{self.first_period} already", field="period")
        self._scheduled(period=period, monthly_fen=self.monthly_fen)

    @event("FirstPaymentScheduled")
    def _scheduled(self, period: str, monthly_fen: int) -> None:
        self.first_period = period
