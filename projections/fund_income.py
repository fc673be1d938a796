"""Fund income (基金收入) per month, insurance and employer type (企业 / 机关事业单位), on two
bases, for the annual report (年度报告):

- `received`: by the month of the ledger day the money was posted (China Standard Time) — the
  cash basis of fund accounting and of the finance reconciliation. Per insurance it is exactly
  what `fund_movements` counts as `contribution` and `reversal` (the same function computes
  it, `month_movements`): postings, their reversals as negatives, and a back-payment's late fee
  and interest (`BackPayment.Collected`). Money held in suspense is not income until it is
  assigned to a month.
- `period`: by the contribution period (费款所属期) of the month posted, employer plus
  individual amounts of its lines, reversals negative; whenever it was posted. A back-payment's
  late fee and interest belong to no period and are not in this basis.

`fund_movements` cannot be split by employer type: it keeps no employer. Here the employer of
each month event is looked up among the registered employers (table `fund_income_employers`,
from `Employer.Registered`), and a back-payment's collection takes the employer of its
assessment (table `fund_income_backpays`). An employer not registered counts as `unknown`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from uuid import UUID

from projections.base import EventRecord, Projection, ViewCursor, add_sums
from projections.fund_movements import CONTRIBUTION, REVERSAL, ledger_day, month_movements

TABLE = "fund_income_months"
EMPLOYERS = "fund_income_employers"
BACKPAYS = "fund_income_backpays"

RECEIVED = "received"
PERIOD = "period"
BASES = (RECEIVED, PERIOD)
UNKNOWN_EMPLOYER_TYPE = "unknown"
KINDS = (CONTRIBUTION, REVERSAL)

MONTH_EVENTS = {
    "ContributionMonth.Posted": 1,
    "ContributionMonth.Reposted": 1,
    "ContributionMonth.Supplemented": 1,
    "ContributionMonth.Reversed": -1,
}
REGISTERED = "Employer.Registered"
ASSESSED = "BackPayment.Assessed"
COLLECTED = "BackPayment.Collected"
CODES_PER_QUERY_MAX = 500  # bound parameters of one lookup


class FundIncome(Projection):
    name = "fund_income"
    version = 1
    tables = (TABLE, EMPLOYERS, BACKPAYS)
    event_types = (*MONTH_EVENTS, REGISTERED, ASSESSED, COLLECTED)

    def create_statements(self, dialect: str) -> list[str]:
        big = "BIGINT" if dialect == "postgres" else "INTEGER"
        return [
            f"CREATE TABLE IF NOT EXISTS {TABLE} (basis TEXT NOT NULL, month TEXT NOT NULL,"
            " insurance TEXT NOT NULL, employer_type TEXT NOT NULL, kind TEXT NOT NULL,"
            f" amount_fen {big} NOT NULL, entries {big} NOT NULL, last_position {big} NOT NULL,"
            " PRIMARY KEY (basis, month, insurance, employer_type, kind))",
            f"CREATE TABLE IF NOT EXISTS {EMPLOYERS} (credit_code TEXT PRIMARY KEY,"
            " employer_type TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {BACKPAYS} (backpay_id TEXT PRIMARY KEY,"
            " employer_code TEXT NOT NULL)",
        ]

    def apply(self, cur: ViewCursor, page: Sequence[EventRecord]) -> None:
        registered: dict[str, str] = {}  # credit code → employer type, of this page
        backpays: dict[str, str] = {}  # back-payment id → employer code, of this page
        for record in page:
            if record.type_name == REGISTERED:
                registered[record.state["credit_code"]] = record.state["employer_type"]
            elif record.type_name == ASSESSED:
                backpays[str(UUID(hex=record.originator_id))] = record.state["employer_code"]
        if registered:
            cur.copy_rows(EMPLOYERS, ("credit_code", "employer_type"), sorted(registered.items()))
        if backpays:
            cur.copy_rows(BACKPAYS, ("backpay_id", "employer_code"), sorted(backpays.items()))
        collected = {str(UUID(hex=r.originator_id)) for r in page if r.type_name == COLLECTED}
        backpays.update(self._lookup(cur, BACKPAYS, "backpay_id", "employer_code",
                                     collected - backpays.keys()))
        codes = {r.state["employer_code"] for r in page if r.type_name in MONTH_EVENTS}
        codes.update(backpays[b] for b in collected if b in backpays)
        types = dict(registered)
        types.update(self._lookup(cur, EMPLOYERS, "credit_code", "employer_type",
                                  codes - types.keys()))

        # Summed in memory: one upsert per (basis, month, insurance, type, kind) per page.
        sums: dict[tuple[str, str, str, str, str], list[int]] = {}
        # Month events first per (day's month, period, type, kind), then per insurance: the
        # lines are added once, not once per basis.
        groups: dict[tuple[str, str, str, str], dict[str, list[int]]] = {}
        days: dict[str, str] = {}  # recorded hour and offset → CST day

        def add(key: tuple[str, str, str, str, str], row: list[int]) -> None:
            found = sums.get(key)
            if found is None:
                sums[key] = list(row)
            else:
                found[0] += row[0]
                found[1] += row[1]
                found[2] = max(found[2], row[2])

        for record in page:
            sign = MONTH_EVENTS.get(record.type_name)
            if sign is None and record.type_name != COLLECTED:
                continue
            e = record.state
            hour = record.recorded_at[:13] + record.recorded_at[-6:]
            day = days.get(hour)
            if day is None:
                day = days[hour] = ledger_day(record.recorded_at)
            position = record.position
            if sign is None:  # a back-payment's late fee and interest: received, no period
                employer_type = types.get(backpays.get(str(UUID(hex=record.originator_id)), ""),
                                          UNKNOWN_EMPLOYER_TYPE)
                for insurance, kind, fen in month_movements(record):
                    if kind in KINDS:  # the rest moves suspense: no income
                        add((RECEIVED, day[:7], insurance, employer_type, kind),
                            [fen, 1, position])
                continue
            # A month's journal credits each insurance's fund and personal accounts with
            # exactly its lines' employer and individual amounts (reversed: debits), so the
            # received basis takes them from the lines too (the report checks the total
            # against fund_movements, which reads the journal).
            key = (day[:7], e["period"], types.get(e["employer_code"], UNKNOWN_EMPLOYER_TYPE),
                   CONTRIBUTION if sign > 0 else REVERSAL)
            group = groups.get(key)
            if group is None:
                group = groups[key] = {}
            for insurance, _base, employer_fen, individual_fen, _account in e["lines"]:
                fen = sign * (employer_fen + individual_fen)
                row = group.get(insurance)
                if row is None:
                    group[insurance] = [fen, 1, position]
                else:
                    row[0] += fen
                    row[1] += 1
                    row[2] = position
        for (received, period, employer_type, kind), group in groups.items():
            for insurance, row in group.items():
                add((RECEIVED, received, insurance, employer_type, kind), row)
                add((PERIOD, period, insurance, employer_type, kind), row)
        add_sums(cur, TABLE, ("basis", "month", "insurance", "employer_type", "kind"),
                 ("amount_fen", "entries"), ("last_position",), sums)

    @staticmethod
    def _lookup(cur: ViewCursor, table: str, key: str, value: str, wanted: Iterable[str]
                ) -> dict[str, str]:
        found: dict[str, str] = {}
        keys = sorted(wanted)
        for start in range(0, len(keys), CODES_PER_QUERY_MAX):
            chunk = keys[start:start + CODES_PER_QUERY_MAX]
            cur.execute(f"SELECT {key}, {value} FROM {table} WHERE {key} IN"
                        f" ({', '.join('?' * len(chunk))})", chunk)
            found.update((str(k), str(v)) for k, v in cur.fetchall())
        return found
