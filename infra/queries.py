"""Reads of the read models (plain SQL on the projections' tables)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import orjson

from domain.journal import is_credit_normal
from domain.policy import PENSION
from infra.views_db import ViewsDb
from projections.fund_movements import LEDGER_TIMEZONE

KNOWN_NOW = "9999"  # sorts after every recorded time


def recorded_time(moment: datetime) -> str:
    """A moment as the read models' `recorded_at` text (UTC, microseconds), so that
    `recorded_at <= recorded_time(T)` is "known at T" by plain text comparison. A naive moment
    is China Standard Time (the bureau's clock)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LEDGER_TIMEZONE)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


class Queries:
    def __init__(self, views: ViewsDb) -> None:
        self.views = views

    def account_balance(self, person_id: str, as_of: str | None = None,
                        insurance: str = PENSION, known_at: str | None = None
                        ) -> dict[str, Any]:
        """Personal account balance, now or as of an effective date (YYYY-MM-DD), with what
        was recorded by now or by `known_at` (`recorded_before`): bitemporal."""
        sql = ("SELECT kind, COALESCE(SUM(amount_fen), 0), COUNT(*) FROM person_account_entries"
               " WHERE person_id = ? AND insurance = ?")
        params: list[Any] = [person_id, insurance]
        if as_of:
            sql += " AND effective_date <= ?"
            params.append(as_of)
        if known_at:
            sql += " AND recorded_at <= ?"
            params.append(known_at)
        sql += " GROUP BY kind"
        by_kind = {str(kind): int(total) for kind, total, _n in self.views.query(sql, params)}
        return {
            "person_id": person_id,
            "insurance": insurance,
            "as_of": as_of,
            "known_at": known_at,
            "balance_fen": sum(by_kind.values()),
            "by_kind_fen": by_kind,
        }

    def account_entries(self, person_id: str, insurance: str = PENSION,
                        limit: int = 500, offset: int = 0,
                        as_of: str | None = None, known_at: str | None = None
                        ) -> list[dict[str, Any]]:
        rows = self.views.query(
            "SELECT effective_date, period, kind, amount_fen, position, recorded_at"
            " FROM person_account_entries WHERE person_id = ? AND insurance = ?"
            " AND effective_date <= ? AND recorded_at <= ?"
            " ORDER BY effective_date, position LIMIT ? OFFSET ?",
            (person_id, insurance, as_of or "9999-12-31", known_at or KNOWN_NOW, limit, offset),
        )
        return [
            {"effective_date": d, "period": p, "kind": k, "amount_fen": int(a),
             "position": int(pos), "recorded_at": r}
            for d, p, k, a, pos, r in rows
        ]

    def history(self, person_id: str, limit: int = 500, offset: int = 0,
                known_at: str | None = None) -> list[dict[str, Any]]:
        rows = self.views.query(
            "SELECT period, kind, employer_code, employer_fen, individual_fen, account_fen,"
            " lines, position, recorded_at FROM contribution_history WHERE person_id = ?"
            " AND recorded_at <= ? ORDER BY period, position LIMIT ? OFFSET ?",
            (person_id, known_at or KNOWN_NOW, limit, offset),
        )
        return [
            {"period": p, "kind": k, "employer_code": e, "employer_fen": int(ef),
             "individual_fen": int(i), "account_fen": int(a),
             "lines": [dict(zip(("insurance", "base_fen", "employer_fen", "individual_fen",
                                 "account_fen"), line, strict=True))
                       for line in orjson.loads(lines)],
             "position": int(pos), "recorded_at": r}
            for p, k, e, ef, i, a, lines, pos, r in rows
        ]

    def fund_balances(self) -> list[dict[str, Any]]:
        rows = self.views.query(
            "SELECT account, debit_fen, credit_fen, entries FROM fund_balances ORDER BY account")
        result = []
        for account, debit, credit, entries in rows:
            debit, credit = int(debit), int(credit)
            balance = credit - debit if is_credit_normal(account) else debit - credit
            result.append({"account": account, "debit_fen": debit, "credit_fen": credit,
                           "balance_fen": balance, "entries": int(entries),
                           "normal_side": "credit" if is_credit_normal(account) else "debit"})
        return result

    def accounts_without_interest(self, year: int) -> int:
        """Pension accounts with a balance at the end of `year` but no interest credited for
        `year`: crediting year+1 must wait until these are credited."""
        rows = self.views.query(
            "SELECT COUNT(*) FROM (SELECT person_id, SUM(amount_fen) AS balance_fen,"
            " SUM(CASE WHEN kind = 'interest' AND effective_date = ? THEN 1 ELSE 0 END)"
            " AS credited FROM person_account_entries WHERE insurance = ?"
            " AND effective_date <= ? GROUP BY person_id) per_person"
            " WHERE balance_fen <> 0 AND credited = 0",
            (f"{year}-12-31", PENSION, f"{year}-12-31"),
        )
        return int(rows[0][0])

    def last_interest_year(self) -> int | None:
        """The last year whose interest was credited in the region (projections/interest_years)."""
        rows = self.views.query("SELECT MAX(year) FROM interest_years WHERE accounts > 0")
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    def pension_credits(self, person_id: str, from_year: int
                        ) -> tuple[int, dict[int, tuple[int, ...]]]:
        """One person's pension account: the balance at the end of from_year − 1 (interest
        included), and the contribution credits of each month from `from_year` on, per year
        (by the period they belong to): the inputs of a recomputation of interest."""
        first_day = f"{from_year}-01-01"
        opening = self.views.query(
            "SELECT COALESCE(SUM(amount_fen), 0) FROM person_account_entries"
            " WHERE person_id = ? AND insurance = ? AND effective_date < ?",
            (person_id, PENSION, first_day))
        credits: dict[int, list[int]] = {}
        for period, amount in self.views.query(
                "SELECT period, SUM(amount_fen) FROM person_account_entries"
                " WHERE person_id = ? AND insurance = ? AND kind <> 'interest'"
                " AND effective_date >= ? GROUP BY period", (person_id, PENSION, first_day)):
            year, month = int(period[:4]), int(period[5:7])
            credits.setdefault(year, [0] * 12)[month - 1] += int(amount)
        return int(opening[0][0]), {y: tuple(c) for y, c in credits.items()}

    @contextmanager
    def interest_inputs(self, year: int) -> Iterator[Iterator[tuple[Any, ...]]]:
        """Per person: the pension account balance at the end of year-1, the credits of each
        month of `year` (contributions and reversals by the period they belong to), and how
        many times the account moved away in `year` (a transfer out or the link to the
        residents' scheme)."""
        months = ",".join(
            f" SUM(CASE WHEN kind <> 'interest' AND period = '{year}-{m:02d}'"
            f" THEN amount_fen ELSE 0 END)"
            for m in range(1, 13)
        )
        sql = (
            f"SELECT person_id, SUM(CASE WHEN effective_date < '{year}-01-01'"
            f" THEN amount_fen ELSE 0 END), {months},"
            f" SUM(CASE WHEN kind = 'transfer' AND amount_fen < 0 AND effective_date >="
            f" '{year}-01-01' THEN 1 ELSE 0 END)"
            " FROM person_account_entries WHERE insurance = ? AND effective_date <= ?"
            " GROUP BY person_id ORDER BY person_id"
        )
        with self.views.stream(sql, (PENSION, f"{year}-12-31")) as rows:
            yield rows

    # -- suspense items (projections/suspense_items.py) --------------------------------------

    def suspense_items(self, status: str | None = None, batch_id: str | None = None,
                       limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Suspense items in the order they were held, optionally of one status or batch."""
        from projections.suspense_items import COLUMNS

        sql = f"SELECT {', '.join(COLUMNS)} FROM suspense_items WHERE 1 = 1"
        params: list[Any] = []
        if status:
            sql += " AND status = ?"
            params.append(status)
        if batch_id:
            sql += " AND batch_id = ?"
            params.append(batch_id)
        sql += " ORDER BY held_position, serial_no LIMIT ? OFFSET ?"
        params += [limit, offset]
        return [dict(zip(COLUMNS, row, strict=True)) for row in self.views.query(sql, params)]

    def suspense_item(self, serial_no: str) -> dict[str, Any] | None:
        from projections.suspense_items import COLUMNS

        rows = self.views.query(
            f"SELECT {', '.join(COLUMNS)} FROM suspense_items WHERE serial_no = ?", (serial_no,))
        return dict(zip(COLUMNS, rows[0], strict=True)) if rows else None
