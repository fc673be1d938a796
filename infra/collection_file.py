"""Reads the tax bureau's collection detail files (税务征收 实收明细) as CSV or XLSX, line by line,
and writes the rejects file a clerk corrects and imports again. The column specification and the
check of one line are in `domain/collection.py`; the README section "Tax collection files" is the
description for the people who produce the files.

The bytes-to-rows reading (format, encoding, separator, line numbers) is `infra/tabular_file.py`,
shared with the other import files; this module gives the rows their meaning.

Memory is bounded by the longest line, not by the file: rows are streamed, and the only state kept
across lines is the serial numbers seen so far (for `serial_duplicate`), a dict of serial number →
first line: about 140 bytes a line, ~210 MB for 1.5 M lines, capped by `COLLECTION_LINES_MAX`.
An XLSX workbook also holds its shared-strings table in memory (openpyxl), which grows with the
distinct texts of the sheet: send large months as CSV."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from domain.collection import (
    COLUMNS,
    IDENTIFIER_LENGTH_MAX,
    CollectionLine,
    LineError,
    LineErrors,
    map_header,
    parse_line,
)
from domain.policy import PolicyTables
from infra.tabular_file import (
    Table,
    TabularFileError,
    data_rows,
    open_table,
    write_line_errors_csv,
)

HASH_CHUNK_BYTES = 1024 * 1024
COLLECTION_LINES_MAX = 2_000_000  # data lines per file; bounds the duplicate check (~280 MB)

# Columns whose values are identifiers: an XLSX number there has lost digits, leading zeros or the
# check character X, so it is refused instead of being turned back into text.
TEXT_ONLY_KEYS = frozenset({"serial_no", "credit_code", "id_number", "tax_batch"})


CollectionItem = CollectionLine | LineErrors


class CollectionFileError(TabularFileError):
    """The file as a whole cannot be read: nothing of it may be imported. The finance statement
    reader raises it too, so that both imports refuse a file with the same class."""

    def __init__(self, path: Path | str, message: str, code: str = "collection_file_invalid"):
        super().__init__(path, message, code)


def read_collection_file(
    path: Path | str, policy: PolicyTables, encoding: str | None = None
) -> Iterator[CollectionItem]:
    """Yield one item per data line, in file order: a `CollectionLine`, or `LineErrors` with every
    fault of the line. Blank lines are skipped; an empty or header-only file yields nothing.

    File-level faults raise `CollectionFileError` when iteration reaches them (a bad header at the
    start, undecodable bytes at their line): the caller must then discard what it already got.
    `encoding` overrides the detection (strict UTF-8, else GB18030; UTF-16 by its BOM)."""
    path = Path(path)
    table = open_table(path, encoding, error=CollectionFileError)
    yield from _items(path, table, policy)


def sha256_of(path: Path | str) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        while chunk := f.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def write_rejects_csv(errors: Iterable[LineErrors | LineError], out_path: Path | str) -> int:
    """Write one row per rejected line: the raw values under the specification's Chinese headers,
    then the original line number, fields, codes and messages. UTF-8 with BOM, so that Excel opens
    it; `read_collection_file` reads it back (the error columns are ignored). Consecutive
    `LineError`s of one line become one row. Returns the number of rows written."""
    return write_line_errors_csv(_grouped(errors), COLUMNS, out_path)


# -- lines to items ------------------------------------------------------------------------------


def _items(path: Path, table: Table, policy: PolicyTables) -> Iterator[CollectionItem]:
    first_line_of_serial: dict[str, int] = {}
    for row in data_rows(path, table, map_header, lines_max=COLLECTION_LINES_MAX, too_long=(
            "collection_file_too_long", "split it by month or insurance"),
            error=CollectionFileError):
        line_no = row.line_no
        raw: dict[str, str] = {}
        faults: dict[str, tuple[str, str]] = {}
        for key in row.positions:
            raw[key], fault = _cell_text(key, row.cell(key))
            if fault is not None:
                faults[key] = fault
        if row.width_differs:
            yield LineErrors(line_no, raw, (LineError(
                line_no, "line", "column_count", row.width_message(), raw),))
            continue
        result = parse_line(line_no, raw, policy, faults or None)
        errors = [] if isinstance(result, CollectionLine) else result
        serial = raw["serial_no"].strip()
        if serial and "serial_no" not in faults and len(serial) <= IDENTIFIER_LENGTH_MAX:
            first = first_line_of_serial.setdefault(serial, line_no)
            if first != line_no:
                errors.append(LineError(
                    line_no, "serial_no", "serial_duplicate",
                    f"serial_no: {serial!r} is already on line {first}; each collected row comes "
                    "once: ask the tax bureau which of the two lines is right", raw))
        if errors:
            yield LineErrors(line_no, raw, tuple(errors))
        else:
            assert isinstance(result, CollectionLine)
            yield result


def _cell_text(key: str, value: object) -> tuple[str, tuple[str, str] | None]:
    """A cell as text, and a fault if its type already makes it wrong (XLSX only: CSV cells are
    text). Dates become ISO dates (a period cell on the 1st of a month becomes YYYY-MM); numbers
    become their exact decimal text, never through float formatting."""
    if value is None:
        return "", None
    if isinstance(value, str):
        return value, None
    if isinstance(value, datetime | date):
        day = value.date() if isinstance(value, datetime) else value
        if key == "period" and day.day == 1:
            return f"{day.year:04d}-{day.month:02d}", None
        return day.isoformat(), None
    if isinstance(value, int | float) and not isinstance(value, bool):
        # repr is the shortest text that reads back as the same float: 1234.56, not 1234.5599…
        text = str(value) if isinstance(value, int) else format(Decimal(repr(value)), "f")
        if isinstance(value, float) and value.is_integer():
            text = text.split(".")[0]
        if key in TEXT_ONLY_KEYS:
            return text, ("cell_is_number", (
                f"{key}: the cell holds the number {text}; a number loses leading zeros, digits "
                "after the 15th and the check character X: format the column as text (文本) and "
                "enter the values again from the source"))
        return text, None
    return str(value), None


# -- rejects -------------------------------------------------------------------------------------


def _grouped(items: Iterable[LineErrors | LineError]) -> Iterator[LineErrors]:
    pending: list[LineError] = []
    for item in items:
        if pending and (isinstance(item, LineErrors) or item.line_no != pending[0].line_no):
            yield LineErrors(pending[0].line_no, pending[0].raw, tuple(pending))
            pending = []
        if isinstance(item, LineErrors):
            yield item
        else:
            pending.append(item)
    if pending:
        yield LineErrors(pending[0].line_no, pending[0].raw, tuple(pending))

