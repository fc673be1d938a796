"""The finance special account's statement (财政专户对账单): the finance bureau's record of what
reached and what left the fund's special account, one row per voucher line, per insurance
(DOMAIN.md §11.3-11.4). It is the finance bureau's book, not ours: it is never posted to the
ledger, only compared with the ledger's fund movements (infra/finance_reconciliation.py).

This module is the column specification, the check of one line, and the `FinanceStatement`
aggregate: one imported file, keyed by the sha256 of its bytes (importing the same file again
is recognised and changes nothing). Reading files is `infra/finance_statement_file.py`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.collection import (
    ColumnSpec,
    FieldChecker,
    LineError,
    LineErrors,
    header_key,
    map_columns,
    parse_date,
    positive_amount_fen,
    voucher_text,
)
from domain.errors import ValidationFailed
from domain.ids import region_namespace
from domain.policy import PolicyTables

T = TypeVar("T")

RECEIPT = "receipt"  # 收入: money into the special account
PAYMENT = "payment"  # 支出: money out of it (to the expenditure account, refunds, …)
DIRECTIONS = (RECEIPT, PAYMENT)
DIRECTION_ZH = {RECEIPT: "收入", PAYMENT: "支出"}

STATEMENT_LINES_MAX = 200_000  # a year of a region's statement is a few thousand lines
MEMO_LENGTH_MAX = 200

STATEMENT_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("booking_date", "记账日期", "Booking date",
               "the day the finance bureau booked the line: YYYY-MM-DD or YYYYMMDD"),
    ColumnSpec("insurance", "险种代码", "Insurance code",
               "AAE140 scheme code known to the policy tables, e.g. 110"),
    ColumnSpec("direction", "收支方向", "Direction",
               "收入 (receipt) or 支出 (payment)"),
    ColumnSpec("amount", "金额", "Amount",
               "yuan, at most 2 decimals, more than zero"),
    ColumnSpec("voucher", "凭证号", "Voucher number",
               "the finance bureau's voucher number; unique per booking month and insurance"),
    ColumnSpec("memo", "摘要", "Memo", "optional text"),
)
STATEMENT_KEYS: tuple[str, ...] = tuple(c.key for c in STATEMENT_COLUMNS)
OPTIONAL_KEYS = frozenset({"memo"})

_HEADER_ALIASES: dict[str, str] = {
    header_key(name): c.key
    for c in STATEMENT_COLUMNS for name in (c.key, c.header_zh, c.header_en)
}
_DIRECTION_ALIASES: dict[str, str] = {
    **dict.fromkeys(("收入", "收", "收款", "receipt", "receipts", "income", "in"), RECEIPT),
    **dict.fromkeys(("支出", "支", "付款", "payment", "payments", "expense", "out"), PAYMENT),
}


@dataclass(frozen=True, slots=True)
class StatementLine:
    line_no: int  # physical line (CSV) or row (XLSX); the header is line 1
    booking_date: str  # ISO date
    insurance: str
    direction: str  # RECEIPT or PAYMENT
    amount_fen: int  # > 0
    voucher: str
    memo: str

    @property
    def month(self) -> str:
        return self.booking_date[:7]

    @property
    def unique_key(self) -> tuple[str, str, str]:
        """Voucher numbers restart every month in most finance systems, and one voucher may
        book several insurances: a line is one voucher of one insurance in one month."""
        return (self.month, self.voucher, self.insurance)

    def as_event_line(self) -> list[Any]:
        return [self.booking_date, self.insurance, self.direction, self.amount_fen,
                self.voucher, self.memo, self.line_no]


def map_statement_header(cells: Sequence[str]) -> dict[str, int]:
    """Column key → position, from a header in Chinese, English or the keys, in any order;
    unknown columns are ignored, a missing (required) or doubled column is refused."""
    return map_columns(cells, STATEMENT_COLUMNS, _HEADER_ALIASES, "statement specification",
                       frozenset(OPTIONAL_KEYS))


def parse_statement_line(
    line_no: int,
    raw: Mapping[str, str],
    policy: PolicyTables,
    field_errors: Mapping[str, tuple[str, str]] | None = None,
) -> StatementLine | list[LineError]:
    """Check every field of one row and return the line, or all its faults. Duplicate vouchers
    are the reader's business (it sees the whole file)."""
    check = FieldChecker(line_no, raw, STATEMENT_COLUMNS, field_errors)
    booking_date = check("booking_date", parse_date)
    insurance = check("insurance", lambda text, key: policy.insurance(text, key).code)
    direction = check("direction", _direction)
    amount_fen = check("amount", _amount_fen)
    voucher = check("voucher", voucher_text)
    memo = raw.get("memo", "").strip()
    if len(memo) > MEMO_LENGTH_MAX:
        check.errors.append(LineError(
            line_no, "memo", "value_too_long",
            f"memo: {len(memo)} characters; at most {MEMO_LENGTH_MAX}", raw))
    if check.errors:
        return check.errors
    assert booking_date is not None and insurance is not None and direction is not None
    assert amount_fen is not None and voucher is not None
    return StatementLine(line_no, booking_date, insurance, direction, amount_fen, voucher, memo)


def _direction(text: str, key: str) -> str:
    found = _DIRECTION_ALIASES.get(text.casefold())
    if found is None:
        raise ValidationFailed(
            "direction_unknown",
            f"{key}: {text!r} is neither 收入 (receipt) nor 支出 (payment)", field=key)
    return found


def _amount_fen(text: str, key: str) -> int:
    return positive_amount_fen(text, key, "a payment is 支出 in 收支方向, not a minus")


StatementItem = StatementLine | LineErrors


class FinanceStatement(Aggregate):
    """One imported statement file. Its one event carries every valid line (a statement is a
    few thousand lines a year; at most STATEMENT_LINES_MAX), so that the comparison can be
    rebuilt from the log alone."""

    @staticmethod
    def create_id(region_code: str, sha256: str) -> UUID:
        from domain.ids import fast_uuid5

        return fast_uuid5(region_namespace(region_code), f"finance-statement/{sha256}")

    @classmethod
    def record(cls, region_code: str, file_name: str, sha256: str, size_bytes: int,
               imported_by: str, lines: Sequence[StatementLine], rejected_count: int,
               rejects_sha256: str | None) -> FinanceStatement:
        if len(lines) > STATEMENT_LINES_MAX:
            raise ValidationFailed(
                "statement_too_long",
                f"{file_name}: {len(lines):,} lines; at most {STATEMENT_LINES_MAX:,} per file: "
                "split the statement by year or month", field="file")
        keys = {line.unique_key for line in lines}
        assert len(keys) == len(lines), "duplicate vouchers must be rejected by the reader"
        return cls(region_code=region_code, file_name=file_name, sha256=sha256,
                   size_bytes=size_bytes, imported_by=imported_by,
                   lines=[line.as_event_line() for line in lines],
                   rejected_count=rejected_count, rejects_sha256=rejects_sha256)

    # `lines`: [booking_date, insurance, direction, amount_fen, voucher, memo, line_no], …
    @event("Imported")
    def __init__(self, region_code: str, file_name: str, sha256: str, size_bytes: int,
                 imported_by: str, lines: list[list[Any]], rejected_count: int,
                 rejects_sha256: str | None) -> None:
        self.file_name = file_name
        self.sha256 = sha256
        self.line_count = len(lines)
        self.rejected_count = rejected_count
