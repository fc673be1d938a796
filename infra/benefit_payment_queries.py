"""Reads of the imported benefit payments (read model `benefit_payments`): one person's, a page
at a time, with their totals. The annual report reads the same table on its own
(infra/annual_report_queries.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.benefit_payment_file import benefit_kinds
from infra.bootstrap import Container
from projections.benefit_payments import TABLE

PAYMENTS_PAGE_MAX = 1000

_COLUMNS = ("insurance", "kind", "period", "paid_on", "amount_fen", "voucher", "day",
            "position")
_INTEGERS = frozenset({"amount_fen", "position"})


@dataclass(frozen=True)
class PersonBenefitPayments:
    items: list[dict[str, Any]]  # this page, by the month paid for
    payments: int  # all pages
    total_fen: int  # all pages


def person_benefit_payments(c: Container, person_id: str, limit: int = PAYMENTS_PAGE_MAX,
                            offset: int = 0) -> PersonBenefitPayments:
    """A page of the person's benefit payments, by the month paid for, then the day paid; each
    with its kind's Chinese name."""
    names = {code: kind.name_zh for code, kind in benefit_kinds().kinds.items()}
    rows = c.views.query(
        f"SELECT {', '.join(_COLUMNS)} FROM {TABLE} WHERE person_id = ?"
        " ORDER BY period, paid_on, position LIMIT ? OFFSET ?",
        (person_id, min(limit, PAYMENTS_PAGE_MAX), offset))
    [(payments, total)] = c.views.query(
        f"SELECT COUNT(*), COALESCE(SUM(amount_fen), 0) FROM {TABLE} WHERE person_id = ?",
        (person_id,))
    items = []
    for row in rows:
        item = {name: int(value) if name in _INTEGERS else str(value)
                for name, value in zip(_COLUMNS, row, strict=True)}
        item["kind_name_zh"] = names.get(item["kind"], item["kind"])
        items.append(item)
    return PersonBenefitPayments(items, int(payments), int(total))
