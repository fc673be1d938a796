"""Finance special-account reconciliation (财政专户对账, DOMAIN.md §11.4 item 3): the finance
bureau's statement of the special account (read model `finance_statement_lines`) against the
ledger's fund movements (read model `fund_movements`, whose docstring gives the rule), per
period (month, or day) and insurance.

Differences are statement minus ledger: positive, the finance bureau booked more than the ledger
(money in the special account not on our books yet, e.g. a collection file not imported);
negative, the ledger has more than the finance bureau (money posted that has not reached the
special account, or booked there in another period). The finance bureau books the day the
money reaches the special account, the ledger the day it posts: compare per month, and per day
to find the line behind a monthly difference."""

from __future__ import annotations

import calendar
import csv
import re
from pathlib import Path
from typing import Any
from uuid import UUID

from domain.errors import NotFound, ValidationFailed
from infra.views_db import ViewsDb
from projections.finance_statements import LINES, STATEMENTS
from projections.finance_statements import STATEMENT_COLUMNS as _STATEMENT_COLUMNS
from projections.fund_movements import PAYMENT_KINDS, RECEIPT_KINDS
from projections.fund_movements import TABLE as MOVEMENTS

MONTH = "month"
DAY = "day"
GRANULARITIES = (MONTH, DAY)
STATEMENTS_LIMIT_MAX = 1000
OK = "ok"
DIFFERENCE = "difference"

_MONTH_TEXT = re.compile(r"(\d{4})-?(\d{2})", re.ASCII)
_DAY_TEXT = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})", re.ASCII)

# Row fields: English key (JSON) → Chinese header (CSV, XLSX).
ROW_HEADERS: dict[str, str] = {
    "period": "期间",
    "insurance": "险种代码",
    "statement_receipts_fen": "专户收入(分)",
    "statement_payments_fen": "专户支出(分)",
    "statement_lines": "专户笔数",
    "ledger_receipts_fen": "账上收入(分)",
    "ledger_contribution_fen": "其中:入账(分)",
    "ledger_reversal_fen": "其中:红冲(分)",
    "ledger_suspense_fen": "其中:暂收(分)",
    "ledger_transfer_in_fen": "其中:转移收入(分)",
    "ledger_payments_fen": "账上支出(分)",
    "receipts_difference_fen": "收入差额(分)",
    "payments_difference_fen": "支出差额(分)",
    "status": "结果",
}
STATUS_ZH = {OK: "相符", DIFFERENCE: "不符"}
AMOUNT_KEYS = tuple(k for k in ROW_HEADERS if k.endswith("_fen"))


def parse_bound(text: str | None, *, end: bool, field: str) -> str | None:
    """`YYYY-MM` (or YYYYMM) as the first or last day of that month, or a day `YYYY-MM-DD`."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    day = _DAY_TEXT.fullmatch(text)
    if day is not None:
        y, m, d = (int(g) for g in day.groups())
        if 1 <= m <= 12 and 1 <= d <= calendar.monthrange(y, m)[1]:
            return f"{y:04d}-{m:02d}-{d:02d}"
    month = _MONTH_TEXT.fullmatch(text)
    if month is not None:
        y, m = int(month.group(1)), int(month.group(2))
        if 1 <= m <= 12:
            last = calendar.monthrange(y, m)[1] if end else 1
            return f"{y:04d}-{m:02d}-{last:02d}"
    raise ValidationFailed("period_malformed",
                           f"{field}: {text!r} is not a month YYYY-MM or a day YYYY-MM-DD",
                           field=field)


# -- statements -------------------------------------------------------------------------------

def _statement(row: tuple[Any, ...]) -> dict[str, Any]:
    item = dict(zip(_STATEMENT_COLUMNS, row, strict=True))
    for key in ("size_bytes", "line_count", "rejected_count", "receipts_fen", "payments_fen",
                "position"):
        item[key] = int(item[key])
    return item


def list_statements(views: ViewsDb, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """Imported statements, the latest first."""
    rows = views.query(
        f"SELECT {', '.join(_STATEMENT_COLUMNS)} FROM {STATEMENTS} ORDER BY position DESC"
        " LIMIT ? OFFSET ?", (min(limit, STATEMENTS_LIMIT_MAX), offset))
    return [_statement(row) for row in rows]


def find_statement(views: ViewsDb, key: str) -> dict[str, Any]:
    """A statement by its id (UUID) or the sha256 of its file."""
    text = key.strip().lower()
    try:
        text, where = str(UUID(text)), "statement_id = ?"
    except ValueError:
        where = "sha256 = ?"
    rows = views.query(f"SELECT {', '.join(_STATEMENT_COLUMNS)} FROM {STATEMENTS}"
                       f" WHERE {where}", (text,))
    if not rows:
        raise NotFound("statement_not_found",
                       f"no imported statement with id or sha256 {key!r}; see GET "
                       "/v1/finance/statements", field="statement_id")
    return _statement(rows[0])


# -- the report -------------------------------------------------------------------------------

def reconcile(views: ViewsDb, statement_id: str | None = None, start: str | None = None,
              end: str | None = None, granularity: str = MONTH) -> dict[str, Any]:
    """Rows per (period, insurance) with the statement's and the ledger's receipts and payments,
    their differences and a status; totals; the overall status. `start`/`end` are months
    (YYYY-MM) or days; with a statement and no bounds, the statement's months."""
    if granularity not in GRANULARITIES:
        raise ValidationFailed("granularity_unknown",
                               f"granularity {granularity!r}: use month or day",
                               field="granularity")
    first = parse_bound(start, end=False, field="from")
    last = parse_bound(end, end=True, field="to")
    statement = None
    if statement_id is not None:
        statement = find_statement(views, statement_id)
        if first is None and statement["first_date"]:
            first = statement["first_date"][:8] + "01"
        if last is None and statement["last_date"]:
            last = parse_bound(statement["last_date"][:7], end=True, field="to")
    if first is not None and last is not None and first > last:
        raise ValidationFailed("period_range_empty", f"from {first} is after to {last}",
                               field="from")
    width = 7 if granularity == MONTH else 10
    rows: dict[tuple[str, str], dict[str, Any]] = {}

    def row(period: str, insurance: str) -> dict[str, Any]:
        found = rows.get((period, insurance))
        if found is None:
            found = rows[(period, insurance)] = {
                "period": period, "insurance": insurance, "statement_lines": 0,
                **dict.fromkeys(AMOUNT_KEYS, 0)}
        return found

    where, params = _range("booking_date", first, last)
    if statement is not None:
        where += " AND statement_id = ?"
        params.append(statement["statement_id"])
    for period, insurance, direction, fen, n in views.query(
            f"SELECT substr(booking_date, 1, {width}), insurance, direction, SUM(amount_fen),"
            f" COUNT(*) FROM {LINES} WHERE {where} GROUP BY substr(booking_date, 1, {width}),"
            " insurance, direction", params):
        r = row(str(period), str(insurance))
        r[f"statement_{direction}s_fen"] += int(fen)
        r["statement_lines"] += int(n)
    where, params = _range("day", first, last)
    for period, insurance, kind, fen in views.query(
            f"SELECT substr(day, 1, {width}), insurance, kind, SUM(amount_fen) FROM {MOVEMENTS}"
            f" WHERE {where} GROUP BY substr(day, 1, {width}), insurance, kind", params):
        r = row(str(period), str(insurance))
        if kind in RECEIPT_KINDS:
            r[f"ledger_{kind}_fen"] += int(fen)
            r["ledger_receipts_fen"] += int(fen)
        elif kind in PAYMENT_KINDS:
            r["ledger_payments_fen"] += int(fen)
    result_rows = []
    for key in sorted(rows):
        r = rows[key]
        r["receipts_difference_fen"] = r["statement_receipts_fen"] - r["ledger_receipts_fen"]
        r["payments_difference_fen"] = r["statement_payments_fen"] - r["ledger_payments_fen"]
        if not any(r[k] for k in AMOUNT_KEYS) and not r["statement_lines"]:
            continue  # movements that cancel out within the period: nothing to compare
        differs = r["receipts_difference_fen"] or r["payments_difference_fen"]
        r["status"] = DIFFERENCE if differs else OK
        result_rows.append({k: r[k] for k in ROW_HEADERS})
    totals = {k: sum(r[k] for r in result_rows) for k in (*AMOUNT_KEYS, "statement_lines")}
    differences = [r for r in result_rows if r["status"] == DIFFERENCE]
    return {
        "statement": statement,
        "granularity": granularity,
        "from": first,
        "to": last,
        "rows": result_rows,
        "totals": totals,
        "differences": len(differences),
        "status": DIFFERENCE if differences else OK,
    }


def _range(column: str, first: str | None, last: str | None) -> tuple[str, list[Any]]:
    clauses, params = ["1 = 1"], []
    if first is not None:
        clauses.append(f"{column} >= ?")
        params.append(first)
    if last is not None:
        clauses.append(f"{column} <= ?")
        params.append(last)
    return " AND ".join(clauses), params


# -- files ------------------------------------------------------------------------------------

def _cells(r: dict[str, Any]) -> list[Any]:
    cells: list[Any] = []
    for key in ROW_HEADERS:
        value = r[key]
        if key == "status":
            value = STATUS_ZH[value]
        cells.append(value)
    return cells


def summary_rows(report: dict[str, Any]) -> list[list[Any]]:
    statement = report["statement"]
    rows: list[list[Any]] = [
        ["对账", "财政专户对账单 vs 基金账 (财政专户对账)"],
        ["粒度", "月" if report["granularity"] == MONTH else "日"],
        ["起", report["from"] or "全部"], ["止", report["to"] or "全部"],
    ]
    if statement is not None:
        rows += [["对账单", statement["file_name"]], ["SHA-256", statement["sha256"]]]
    rows += [["结果", STATUS_ZH[report["status"]]], ["不符行数", report["differences"]], [],
             ["合计", *(ROW_HEADERS[k] for k in report["totals"])],
             ["", *report["totals"].values()]]
    return rows


def write_csv(report: dict[str, Any], path: Path | str) -> int:
    """The rows under Chinese headers, then a totals row; UTF-8 with BOM. Returns rows."""
    with Path(path).open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(list(ROW_HEADERS.values()))
        for r in report["rows"]:
            writer.writerow(_cells(r))
        totals = report["totals"]
        writer.writerow(["合计", ""] + [totals.get(k, "") for k in list(ROW_HEADERS)[2:-1]]
                        + [STATUS_ZH[report["status"]]])
    return len(report["rows"])


def write_xlsx(report: dict[str, Any], path: Path | str) -> int:
    """Sheets 汇总 (summary, totals) and 明细 (a row per period and insurance). Returns rows."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    summary = book.create_sheet("汇总")
    for line in summary_rows(report):
        summary.append(line)
    sheet = book.create_sheet("明细")
    sheet.append(list(ROW_HEADERS.values()))
    for r in report["rows"]:
        sheet.append(_cells(r))
    book.save(str(path))
    return len(report["rows"])
