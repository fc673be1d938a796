"""Three-way reconciliation (三方对账) of one contribution period, per insurance: what the bureau
assessed (应收), what the tax bureau collected for it (实收), and what reached the fund's special
account (入专户) — DOMAIN.md §11.4 items 1-3 side by side.

- assessed: every person employed in the period with a base declared for its year, at the
  employer's rates then (the same assessment as posting and arrears, `infra/arrears.py`);
- collected: the collection lines of the period that reached the ledger — posted into the
  person-months of the period (net of reversals, `contribution_history`), and held in suspense
  with the period on their line (`suspense_items`, still held);
- received: the finance bureau's statement receipts (`finance_statement_lines`) booked in the
  month the period's money is collected (by default the month of its due date, the month after
  the period), beside the ledger's own receipts of that month (`fund_movements`) so that a
  difference can be told apart from a statement not imported.

Assessed − collected is arrears, short or excess payment; collected − received is timing (money
collected in another month, back-payments of other periods in the month's receipts) or a line
missing on one side. The report is computed on demand from the read models, as of their
position."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from domain.periods import parse_period
from infra.arrears import assessed_months
from infra.bootstrap import Container

OK = "ok"
DIFFERENCE = "difference"
AMOUNT_KEYS = ("assessed_fen", "collected_fen", "posted_fen", "suspense_fen", "received_fen",
               "ledger_received_fen", "assessed_minus_collected_fen",
               "collected_minus_received_fen")
HEADERS_ZH = {
    "insurance": "险种", "assessed_fen": "应收(分)", "collected_fen": "实收(分)",
    "posted_fen": "其中:已记账(分)", "suspense_fen": "其中:暂收(分)",
    "received_fen": "财政专户收入(分)", "ledger_received_fen": "账务收入(分)",
    "assessed_minus_collected_fen": "应收-实收(分)",
    "collected_minus_received_fen": "实收-专户(分)", "status": "状态",
}


def three_way(c: Container, period_text: str, received_month: str | None = None
              ) -> dict[str, Any]:
    period = parse_period(period_text)
    p = str(period)
    month = str(parse_period(received_month, "received_month")) if received_month else (
        c.policy.due_date(period).isoformat()[:7])
    position = c.runner.catch_up()
    rows: dict[str, dict[str, Any]] = {}

    def row(insurance: str) -> dict[str, Any]:
        found = rows.get(insurance)
        if found is None:
            found = rows[insurance] = {"insurance": insurance, **dict.fromkeys(AMOUNT_KEYS, 0)}
        return found

    for _person, _employer, _base, lines in assessed_months(c, period):
        _add(row, "assessed_fen", lines, 1)
    for kind, lines_json in c.views.query(
            "SELECT kind, lines FROM contribution_history WHERE period = ?", (p,)):
        _add(row, "posted_fen", orjson.loads(lines_json), 1 if kind == "posted" else -1)
    for insurance, fen in c.views.query(
            "SELECT insurance, SUM(amount_fen) FROM suspense_items WHERE period = ?"
            " AND status = 'held' GROUP BY insurance", (p,)):
        row(str(insurance))["suspense_fen"] += int(fen)
    for insurance, fen in c.views.query(
            "SELECT insurance, SUM(amount_fen) FROM finance_statement_lines WHERE month = ?"
            " AND direction = 'receipt' GROUP BY insurance", (month,)):
        row(str(insurance))["received_fen"] += int(fen)
    for insurance, fen in c.views.query(
            "SELECT insurance, SUM(amount_fen) FROM fund_movements WHERE substr(day, 1, 7) = ?"
            " AND kind IN ('contribution', 'reversal', 'suspense') GROUP BY insurance",
            (month,)):
        if insurance:
            row(str(insurance))["ledger_received_fen"] += int(fen)
    result_rows = []
    for insurance in sorted(rows):
        r = rows[insurance]
        r["collected_fen"] = r["posted_fen"] + r["suspense_fen"]
        r["assessed_minus_collected_fen"] = r["assessed_fen"] - r["collected_fen"]
        r["collected_minus_received_fen"] = r["collected_fen"] - r["received_fen"]
        differs = r["assessed_minus_collected_fen"] or r["collected_minus_received_fen"]
        r["status"] = DIFFERENCE if differs else OK
        result_rows.append(r)
    totals = {k: sum(r[k] for r in result_rows) for k in AMOUNT_KEYS}
    differences = sum(1 for r in result_rows if r["status"] == DIFFERENCE)
    return {"period": p, "received_month": month, "position": position, "rows": result_rows,
            "totals": totals, "differences": differences,
            "status": DIFFERENCE if differences else OK}


def _add(row: Any, key: str, lines: Iterable[list[Any]], sign: int) -> None:
    for line in lines:
        row(str(line[0]))[key] += sign * (int(line[2]) + int(line[3]))


def write_csv(report: dict[str, Any], path: str | Any) -> int:
    """The rows under Chinese headers, then a totals row; UTF-8 with BOM. Returns rows."""
    import csv
    from pathlib import Path

    status_zh = {OK: "一致", DIFFERENCE: "不一致"}
    with Path(path).open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([f"费款所属期 {report['period']}",
                         f"专户收入月份 {report['received_month']}"])
        writer.writerow(list(HEADERS_ZH.values()))
        for r in report["rows"]:
            writer.writerow([r["insurance"], *(r[k] for k in AMOUNT_KEYS),
                             status_zh[r["status"]]])
        writer.writerow(["合计", *(report["totals"][k] for k in AMOUNT_KEYS),
                         status_zh[report["status"]]])
    return len(report["rows"])
