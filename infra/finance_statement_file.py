"""Reads the finance special account's statement (财政专户对账单) as CSV or XLSX, line by line, and
writes its rejects file. The column specification and the check of one line are in
`domain/finance_statement.py`; the README section "Finance special-account reconciliation" is
the description for the people who produce the files.

The bytes-to-rows reading is `infra/tabular_file.py`, shared with the collection files so that
both behave alike: encoding detection (UTF-8, else GB18030; UTF-16 by its BOM; `encoding`
overrides), separator from the header line, physical line numbers, XLSX's first sheet with
Excel's row numbers, .xls refused, a bad byte refusing the file at its line."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from domain.collection import LineErrors
from domain.finance_statement import (
    STATEMENT_COLUMNS,
    STATEMENT_LINES_MAX,
    StatementItem,
    StatementLine,
    map_statement_header,
    parse_statement_line,
)
from domain.policy import PolicyTables
from infra.collection_file import CollectionFileError
from infra.tabular_file import Table, open_table, parsed_lines, write_line_errors_csv


def read_statement_file(path: Path | str, policy: PolicyTables, encoding: str | None = None
                        ) -> Iterator[StatementItem]:
    """Yield one item per data line, in file order: a `StatementLine`, or `LineErrors` with
    every fault of the line. File-level faults raise `CollectionFileError` (codes
    `collection_file_*`, `columns_missing`, `column_duplicate`, `statement_too_long`): the
    caller must then discard what it already got."""
    path = Path(path)
    table = open_table(path, encoding, error=CollectionFileError)
    yield from _items(path, table, policy)


def _items(path: Path, table: Table, policy: PolicyTables) -> Iterator[StatementItem]:
    def duplicate(line: StatementLine, first: int) -> str:
        return (f"voucher: {line.voucher!r} of insurance {line.insurance} in {line.month} is "
                f"already on line {first}; each voucher line comes once")

    yield from parsed_lines(
        path, table, map_statement_header, lines_max=STATEMENT_LINES_MAX,
        too_long=("statement_too_long", "split the statement by year or month"),
        error=CollectionFileError, parse=lambda n, raw: parse_statement_line(n, raw, policy),
        line_type=StatementLine, duplicate=duplicate)


def write_statement_rejects_csv(errors: Iterable[LineErrors], out_path: Path | str) -> int:
    """One row per rejected line: the raw values under the statement's Chinese headers, then the
    original line number, fields, codes and messages; UTF-8 with BOM (Excel opens it). The file
    reads back as a statement (the error columns are ignored). Returns the rows written."""
    return write_line_errors_csv(errors, STATEMENT_COLUMNS, out_path)
