"""Late fee (滞纳金) on contributions paid after they fell due (社会保险法 art.86, DOMAIN.md §6):
arrears × daily rate × days late, rounded once to the fen, at most the arrears. The employer
bears all of it: the employee never pays a fee on what the employer failed to withhold, so the
fee is a separate employer line and goes to the pooled fund."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.errors import ValidationFailed
from domain.money import require_fen, round_fen
from domain.policy import PolicyTables


@dataclass(frozen=True)
class LateFee:
    arrears_fen: int
    due_date: date  # the first day the money was late from
    paid_on: date
    days_late: int
    daily_rate: Decimal
    fee_fen: int
    capped: bool  # the fee reached the arrears and was cut to them


def late_fee(policy: PolicyTables, arrears_fen: int, due_date: date, paid_on: date) -> LateFee:
    require_fen(arrears_fen, "arrears_fen")
    if paid_on < due_date:
        raise ValidationFailed(
            "paid_before_due", f"paid_on {paid_on} is before the due date {due_date}",
            field="paid_on",
        )
    rate = policy.late_fee_rate(due_date).daily_rate
    days = (paid_on - due_date).days
    uncapped = round_fen(Decimal(arrears_fen) * rate * days)
    fee = min(uncapped, arrears_fen)
    return LateFee(arrears_fen, due_date, paid_on, days, rate, fee, capped=uncapped > arrears_fen)
