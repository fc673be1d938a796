"""Import of the finance special account's statement (财政专户对账单). The statement is the
finance bureau's record: it is recorded as it is (one `FinanceStatement.Imported` event with
every valid line) and never posted to the ledger; the finance reconciliation compares it with
the ledger's fund movements.

Every line is imported or rejected (written to a rejects file to correct and import again).
A line whose voucher (per booking month and insurance) an earlier statement already brought is
rejected as `voucher_already_imported`, so that overlapping statements (a month, then the
quarter) are never counted twice. The same file again (same sha256) changes nothing."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domain.collection import LineError, LineErrors
from domain.finance_statement import DIRECTION_ZH, DIRECTIONS, FinanceStatement, StatementLine
from domain.money import fen_to_yuan_text
from infra.bootstrap import Container
from infra.collection_file import CollectionFileError, sha256_of
from infra.finance_statement_file import read_statement_file, write_statement_rejects_csv
from projections.finance_statements import LINES, STATEMENTS

REJECTED_LINES_MAX = 50_000  # more and the file is refused whole: not a statement
VOUCHER_QUERY_CHUNK = 500


@dataclass
class StatementSummary:
    file_name: str
    sha256: str
    statement_id: str
    already_imported: bool = False
    lines: int = 0
    imported: int = 0
    rejected: int = 0
    amounts_fen: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DIRECTIONS, 0))
    by_insurance: dict[str, dict[str, int]] = field(default_factory=dict)  # ins → dir → fen
    rejected_codes: dict[str, int] = field(default_factory=dict)
    first_date: str | None = None
    last_date: str | None = None
    rejects_file: str | None = None
    position: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def import_statement(c: Container, path: Path, encoding: str | None = None,
                     rejects_path: Path | None = None, imported_by: str = "cli",
                     sha256: str | None = None) -> StatementSummary:
    region = c.settings.region_code
    # The API hashed the upload while saving it; the CLI has the file only.
    digest = sha256 or sha256_of(path)
    statement_id = FinanceStatement.create_id(region, digest)
    summary = StatementSummary(path.name, digest, str(statement_id))
    if c.store.existing([statement_id]):
        c.runner.catch_up()
        return _recorded_summary(c, summary)

    lines: list[StatementLine] = []
    rejected: list[LineErrors] = []
    for item in read_statement_file(path, c.policy, encoding):
        summary.lines += 1
        if isinstance(item, LineErrors):
            rejected.append(item)
            if len(rejected) > REJECTED_LINES_MAX:
                raise CollectionFileError(
                    path, f"more than {REJECTED_LINES_MAX:,} invalid lines (the first at line "
                    f"{rejected[0].line_no}: {', '.join(rejected[0].codes)}); is it a statement "
                    "of the special account? Nothing was imported",
                    code="statement_mostly_invalid")
        else:
            lines.append(item)
    c.runner.catch_up()  # earlier statements' vouchers
    known = _known_vouchers(c, lines)
    fresh: list[StatementLine] = []
    for line in lines:
        if line.unique_key in known:
            raw = {"booking_date": line.booking_date, "insurance": line.insurance,
                   "direction": DIRECTION_ZH[line.direction],
                   "amount": fen_to_yuan_text(line.amount_fen),
                   "voucher": line.voucher, "memo": line.memo}
            rejected.append(LineErrors(line.line_no, raw, (LineError(
                line.line_no, "voucher", "voucher_already_imported",
                f"voucher: {line.voucher!r} of insurance {line.insurance} in {line.month} came "
                f"with statement {known[line.unique_key]} already; drop the line", raw),)))
        else:
            fresh.append(line)
    rejected.sort(key=lambda r: r.line_no)
    rejects_sha256 = None
    if rejected:
        rejects = rejects_path or Path(tempfile.gettempdir()) / f"{path.stem}.rejects.csv"
        write_statement_rejects_csv(rejected, rejects)
        summary.rejects_file = str(rejects)
        rejects_sha256 = sha256_of(rejects)
    statement = FinanceStatement.record(
        region_code=region, file_name=path.name, sha256=digest,
        size_bytes=path.stat().st_size, imported_by=imported_by, lines=fresh,
        rejected_count=len(rejected), rejects_sha256=rejects_sha256)
    recordings = c.store.app.save(statement)
    summary.position = recordings[-1].notification.id
    summary.imported, summary.rejected = len(fresh), len(rejected)
    for line in fresh:
        summary.amounts_fen[line.direction] += line.amount_fen
        per = summary.by_insurance.setdefault(line.insurance, dict.fromkeys(DIRECTIONS, 0))
        per[line.direction] += line.amount_fen
    for group in rejected:
        for code in group.codes:
            summary.rejected_codes[code] = summary.rejected_codes.get(code, 0) + 1
    dates = [line.booking_date for line in fresh]
    summary.first_date, summary.last_date = min(dates, default=None), max(dates, default=None)
    return summary


def _known_vouchers(c: Container, lines: list[StatementLine]
                    ) -> dict[tuple[str, str, str], str]:
    """(month, voucher, insurance) of these lines that earlier statements brought → the file
    name of that statement."""
    wanted = {line.unique_key for line in lines}
    vouchers = sorted({line.voucher for line in lines})
    found: dict[tuple[str, str, str], str] = {}
    for i in range(0, len(vouchers), VOUCHER_QUERY_CHUNK):
        part = vouchers[i:i + VOUCHER_QUERY_CHUNK]
        rows = c.views.query(
            f"SELECT l.month, l.voucher, l.insurance, s.file_name FROM {LINES} l"
            f" JOIN {STATEMENTS} s ON s.statement_id = l.statement_id"
            f" WHERE l.voucher IN ({','.join('?' * len(part))})", part)
        for month, voucher, insurance, file_name in rows:
            key = (str(month), str(voucher), str(insurance))
            if key in wanted:
                found[key] = str(file_name)
    return found


def _recorded_summary(c: Container, summary: StatementSummary) -> StatementSummary:
    """The summary of a statement imported before, from the read model."""
    summary.already_imported = True
    summary.position = c.store.max_position()
    rows = c.views.query(
        f"SELECT line_count, rejected_count, first_date, last_date FROM {STATEMENTS}"
        " WHERE statement_id = ?", (summary.statement_id,))
    if rows:
        imported, rejected, first, last = rows[0]
        summary.imported, summary.rejected = int(imported), int(rejected)
        summary.lines = summary.imported + summary.rejected
        summary.first_date, summary.last_date = first, last
    for insurance, direction, fen in c.views.query(
            f"SELECT insurance, direction, SUM(amount_fen) FROM {LINES} WHERE statement_id = ?"
            " GROUP BY insurance, direction ORDER BY insurance", (summary.statement_id,)):
        summary.amounts_fen[direction] += int(fen)
        per = summary.by_insurance.setdefault(insurance, dict.fromkeys(DIRECTIONS, 0))
        per[direction] += int(fen)
    return summary
