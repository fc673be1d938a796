"""The reconciliation report (对账报告) of one imported collection file: the batch and its summary
as the importer counted it, the same totals counted again from the ledger's events (read model
`import_lines`), totals per employer, and every line that reached the ledger with a link to its
event (log position, month id or suspense item id). ID numbers are masked.

Items are streamed from the read-model database for the CSV and XLSX files, so a batch of 1.5 M
lines is written with flat memory; the JSON form (API) carries one page of them."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson

from domain.errors import NotFound
from domain.identity import mask_id_number
from domain.money import fen_to_yuan_text
from infra.queries import Queries
from infra.views_db import ViewsDb
from projections.import_lines import BATCHES, LINES

OUTCOMES = ("posted", "duplicate", "suspense", "rejected")
LEDGER_OUTCOMES = ("posted", "suspense")  # the outcomes that leave an event
ITEMS_LIMIT_DEFAULT = 100
ITEMS_LIMIT_MAX = 1000
BATCHES_LIMIT_MAX = 1000
XLSX_ITEM_ROWS_PER_SHEET_MAX = 1_048_575  # Excel's row limit, less the header row
FEN_PER_YUAN = Decimal(100)

# Item fields: English key (JSON) → Chinese header (CSV, XLSX).
ITEM_HEADERS: dict[str, str] = {
    "serial_no": "税务流水号",
    "line_no": "原文件行号",
    "outcome": "结果",
    "reason_code": "原因代码",
    "reason": "原因说明",
    "employer_code": "统一社会信用代码",
    "insurance": "险种代码",
    "period": "费款所属期",
    "person_id": "人员ID",
    "id_number": "公民身份号码(脱敏)",
    "amount_fen": "金额(分)",
    "amount_yuan": "金额(元)",
    "month_id": "缴费月ID",
    "suspense_id": "暂收ID",
    "position": "事件位置",
    "recorded_at": "记录时间",
}
AMOUNT_YUAN_INDEX = list(ITEM_HEADERS).index("amount_yuan")
OUTCOME_ZH = {"posted": "已入账", "duplicate": "重复", "suspense": "暂收挂账", "rejected": "拒收"}

_ITEM_SQL = (
    "SELECT serial_no, line_no, outcome, reason_code, reason, employer_code, insurance, period,"
    f" person_id, id_number, amount_fen, month_id, suspense_id, position, recorded_at FROM {LINES}"
    " WHERE batch_id = ? ORDER BY position, serial_no")
_BATCH_COLUMNS = ("batch_id", "kind", "file_name", "sha256", "size_bytes", "started_by",
                  "started_position", "started_at", "summary", "rejects_sha256",
                  "completed_position", "completed_at")
_FORMULA_START = ("=", "+", "-", "@")


def _views(source: Queries | ViewsDb) -> ViewsDb:
    return source.views if isinstance(source, Queries) else source


# -- batches ----------------------------------------------------------------------------------

def _batch(row: tuple[Any, ...]) -> dict[str, Any]:
    batch = dict(zip(_BATCH_COLUMNS, row, strict=True))
    summary = batch.pop("summary")
    batch["completed"] = summary is not None
    batch["summary"] = orjson.loads(summary) if summary is not None else None
    for key in ("size_bytes", "started_position", "completed_position"):
        if batch[key] is not None:
            batch[key] = int(batch[key])
    return batch


def find_batch(source: Queries | ViewsDb, key: str) -> dict[str, Any]:
    """The batch by its id (a UUID) or by the sha256 of its file; NotFound otherwise."""
    views = _views(source)
    text = key.strip().lower()
    try:
        text = str(UUID(text))
        where = "batch_id = ?"
    except ValueError:
        where = "sha256 = ?"
    rows = views.query(f"SELECT {', '.join(_BATCH_COLUMNS)} FROM {BATCHES} WHERE {where}",
                       (text,))
    if not rows:
        raise NotFound("import_not_found",
                       f"no imported file with batch id or sha256 {key!r}; see GET /v1/imports "
                       "(or wait for the read models with min_position)", field="batch_id")
    return _batch(rows[0])


def list_batches(source: Queries | ViewsDb, limit: int = 100, offset: int = 0
                 ) -> list[dict[str, Any]]:
    """Batches, the latest first."""
    views = _views(source)
    rows = views.query(
        f"SELECT {', '.join(_BATCH_COLUMNS)} FROM {BATCHES} ORDER BY started_position DESC"
        " LIMIT ? OFFSET ?", (min(limit, BATCHES_LIMIT_MAX), offset))
    return [_batch(row) for row in rows]


# -- the report -------------------------------------------------------------------------------

def _item(row: tuple[Any, ...]) -> dict[str, Any]:
    (serial_no, line_no, outcome, reason_code, reason, employer_code, insurance, period,
     person_id, id_number, amount_fen, month_id, suspense_id, position, recorded_at) = row
    return {
        "serial_no": serial_no, "line_no": None if line_no is None else int(line_no),
        "outcome": outcome, "reason_code": reason_code, "reason": reason,
        "employer_code": employer_code, "insurance": insurance, "period": period,
        "person_id": person_id,
        "id_number": mask_id_number(id_number) if id_number else None,
        "amount_fen": int(amount_fen), "month_id": month_id, "suspense_id": suspense_id,
        "position": int(position), "recorded_at": recorded_at,
    }


def iter_items(source: Queries | ViewsDb, batch_id: str) -> Iterator[dict[str, Any]]:
    """Every item of the batch, streamed from the database (memory stays flat)."""
    with _views(source).stream(_ITEM_SQL, (batch_id,)) as rows:
        for row in rows:
            yield _item(row)


def ledger_totals(views: ViewsDb, batch_id: str) -> dict[str, Any]:
    """Lines and fen per outcome (and per insurance) counted from the ledger's events."""
    counts = dict.fromkeys(LEDGER_OUTCOMES, 0)
    amounts = dict.fromkeys(LEDGER_OUTCOMES, 0)
    by_insurance: dict[str, dict[str, int]] = {}
    reasons: dict[str, int] = {}
    for outcome, insurance, reason_code, n, fen in views.query(
            f"SELECT outcome, insurance, reason_code, COUNT(*), COALESCE(SUM(amount_fen), 0)"
            f" FROM {LINES} WHERE batch_id = ? GROUP BY outcome, insurance, reason_code",
            (batch_id,)):
        counts[outcome] = counts.get(outcome, 0) + int(n)
        amounts[outcome] = amounts.get(outcome, 0) + int(fen)
        per = by_insurance.setdefault(insurance or "", dict.fromkeys(LEDGER_OUTCOMES, 0))
        per[outcome] = per.get(outcome, 0) + int(fen)
        if reason_code is not None:
            reasons[reason_code] = reasons.get(reason_code, 0) + int(n)
    return {"counts": counts, "amounts_fen": amounts, "by_insurance": by_insurance,
            "suspense_reasons": reasons}


def employer_totals(views: ViewsDb, batch_id: str) -> list[dict[str, Any]]:
    """Per employer (credit code): lines and fen posted and held in suspense."""
    per: dict[str, dict[str, Any]] = {}
    for code, outcome, n, fen in views.query(
            f"SELECT employer_code, outcome, COUNT(*), COALESCE(SUM(amount_fen), 0) FROM {LINES}"
            " WHERE batch_id = ? GROUP BY employer_code, outcome ORDER BY employer_code",
            (batch_id,)):
        row = per.setdefault(code or "", {
            "employer_code": code or "", "counts": dict.fromkeys(LEDGER_OUTCOMES, 0),
            "amounts_fen": dict.fromkeys(LEDGER_OUTCOMES, 0)})
        row["counts"][outcome] = int(n)
        row["amounts_fen"][outcome] = int(fen)
    return list(per.values())


def differences(summary: dict[str, Any] | None, ledger: dict[str, Any]) -> list[str]:
    """Where the importer's summary and the ledger disagree (posted and suspense), in words.
    Empty for a batch imported in one run; a run that was interrupted and redone counts the
    first run's lines as duplicates, which shows here."""
    if summary is None:
        return ["the import has not completed: no summary"]
    found = []
    for outcome in LEDGER_OUTCOMES:
        for key, unit in (("counts", "lines"), ("amounts_fen", "fen")):
            said = int(summary[key].get(outcome, 0))
            seen = int(ledger[key].get(outcome, 0))
            if said != seen:
                found.append(f"{outcome}: the summary counts {said} {unit}, the ledger {seen}")
    return found


def batch_report(source: Queries | ViewsDb, batch_id: str, *,
                 items_limit: int | None = ITEMS_LIMIT_DEFAULT, items_offset: int = 0
                 ) -> dict[str, Any]:
    """The report of one batch (by id or sha256). `items` is one page (`items_limit` from
    `items_offset`), or with `items_limit=None` a lazy iterator over every item streamed from
    the database — what the file writers take."""
    views = _views(source)
    batch = find_batch(views, batch_id)
    key = batch["batch_id"]
    ledger = ledger_totals(views, key)
    items: Iterable[dict[str, Any]]
    if items_limit is None:
        items = iter_items(views, key)
    else:
        rows = views.query(_ITEM_SQL + " LIMIT ? OFFSET ?",
                           (key, min(items_limit, ITEMS_LIMIT_MAX), items_offset))
        items = [_item(row) for row in rows]
    return {
        "batch": {k: v for k, v in batch.items() if k != "summary"},
        "summary": batch["summary"],
        "ledger": ledger,
        "differences": differences(batch["summary"], ledger),
        "by_employer": employer_totals(views, key),
        "items_total": sum(ledger["counts"].values()),
        "items": items,
    }


# -- files ------------------------------------------------------------------------------------

def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_FORMULA_START) and not text.lstrip("-").isdigit():
        return "'" + text  # Excel would run it as a formula
    return text


def _item_cells(item: dict[str, Any]) -> list[Any]:
    return [fen_to_yuan_text(item["amount_fen"]) if key == "amount_yuan" else item[key]
            for key in ITEM_HEADERS]


def write_csv(report: dict[str, Any], path: Path | str) -> int:
    """The items, one row each, under Chinese headers, UTF-8 with BOM (Excel opens it as
    Chinese text). Returns the number of item rows written."""
    rows = 0
    with Path(path).open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(list(ITEM_HEADERS.values()))
        for item in report["items"]:
            writer.writerow([_csv_text(cell) for cell in _item_cells(item)])
            rows += 1
    return rows


def summary_rows(report: dict[str, Any]) -> list[list[Any]]:
    """The summary sheet (汇总) as rows: the batch, totals per outcome as imported and as in the
    ledger, per insurance, suspense reasons, per employer."""
    batch, summary, ledger = report["batch"], report["summary"] or {}, report["ledger"]
    rows: list[list[Any]] = [
        ["文件名", batch["file_name"]], ["SHA-256", batch["sha256"]],
        ["批次ID", batch["batch_id"]], ["导入人", batch["started_by"]],
        ["开始时间", batch["started_at"]], ["完成时间", batch["completed_at"] or "未完成"],
        ["行数", summary.get("lines", "")], [],
        ["结果", "结果代码", "行数", "金额(分)", "金额(元)", "账上行数", "账上金额(分)"],
    ]
    counts, amounts = summary.get("counts", {}), summary.get("amounts_fen", {})
    for outcome in OUTCOMES:
        fen = int(amounts.get(outcome, 0))
        rows.append([OUTCOME_ZH[outcome], outcome, int(counts.get(outcome, 0)), fen,
                     _yuan(fen), ledger["counts"].get(outcome, ""),
                     ledger["amounts_fen"].get(outcome, "")])
    rows += [[], ["险种代码", *(f"{OUTCOME_ZH[o]}(分)" for o in OUTCOMES)]]
    for insurance, per in sorted(summary.get("by_insurance", {}).items()):
        rows.append([insurance, *(int(per.get(o, 0)) for o in OUTCOMES)])
    if summary.get("suspense_reasons"):
        rows += [[], ["暂收原因", "行数"]]
        rows += [[code, n] for code, n in sorted(summary["suspense_reasons"].items())]
    rows += [[], ["统一社会信用代码", "已入账行数", "已入账金额(分)", "暂收行数", "暂收金额(分)"]]
    for employer in report["by_employer"]:
        rows.append([employer["employer_code"], employer["counts"]["posted"],
                     employer["amounts_fen"]["posted"], employer["counts"]["suspense"],
                     employer["amounts_fen"]["suspense"]])
    if report["differences"]:
        rows += [[], ["差异"], *([d] for d in report["differences"])]
    return rows


def _yuan(fen: int) -> Decimal:
    return Decimal(fen) / FEN_PER_YUAN


def write_xlsx(report: dict[str, Any], path: Path | str) -> int:
    """Sheets 汇总 (summary) and 明细 (items; continued on 明细2, … past Excel's row limit),
    written in openpyxl's write-only mode: rows go to disk as they come. Returns the number of
    item rows written."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    summary = book.create_sheet("汇总")
    for row in summary_rows(report):
        summary.append(row)
    headers = list(ITEM_HEADERS.values())
    sheet = book.create_sheet("明细")
    sheet.append(headers)
    rows = in_sheet = 0
    for item in report["items"]:
        if in_sheet == XLSX_ITEM_ROWS_PER_SHEET_MAX:
            sheet = book.create_sheet(f"明细{rows // XLSX_ITEM_ROWS_PER_SHEET_MAX + 1}")
            sheet.append(headers)
            in_sheet = 0
        cells = _item_cells(item)
        cells[AMOUNT_YUAN_INDEX] = _yuan(item["amount_fen"])  # a number Excel can sum
        sheet.append(cells)
        rows += 1
        in_sheet += 1
    book.save(str(path))
    return rows
