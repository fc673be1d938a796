"""Reads the tax bureau's collection detail files (税务征收 实收明细) as CSV or XLSX, line by line,
and writes the rejects file a clerk corrects and imports again. The column specification and the
check of one line are in `domain/collection.py`; the README section "Tax collection files" is the
description for the people who produce the files.

Memory is bounded by the longest line, not by the file: rows are streamed, and the only state kept
across lines is the serial numbers seen so far (for `serial_duplicate`), a dict of serial number →
first line: about 140 bytes a line, ~210 MB for 1.5 M lines, capped by `COLLECTION_LINES_MAX`.
An XLSX workbook also holds its shared-strings table in memory (openpyxl), which grows with the
distinct texts of the sheet: send large months as CSV."""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
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
from domain.errors import ValidationFailed
from domain.policy import PolicyTables

SNIFF_BYTES = 64 * 1024  # encoding and format are decided on the file's first 64 KiB
HASH_CHUNK_BYTES = 1024 * 1024
LINE_BYTES_MAX = 64 * 1024  # a longer physical line is not a collection row
COLLECTION_LINES_MAX = 2_000_000  # data lines per file; bounds the duplicate check (~280 MB)

# Columns whose values are identifiers: an XLSX number there has lost digits, leading zeros or the
# check character X, so it is refused instead of being turned back into text.
TEXT_ONLY_KEYS = frozenset({"serial_no", "credit_code", "id_number", "tax_batch"})

REJECT_EXTRA_HEADERS = ("错误行号", "错误字段", "错误代码", "错误说明")
_REJECT_JOIN = " | "  # not a newline: a multi-line cell would shift the file's line numbers
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what Excel would run as a formula
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?", re.ASCII)

_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"  # OLE2: Excel 97-2003
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

CollectionItem = CollectionLine | LineErrors


class CollectionFileError(ValidationFailed):
    """The file as a whole cannot be read: nothing of it may be imported."""

    def __init__(self, path: Path | str, message: str, code: str = "collection_file_invalid"):
        self.path = Path(path)
        super().__init__(code, f"{self.path.name}: {message}")


def read_collection_file(
    path: Path | str, policy: PolicyTables, encoding: str | None = None
) -> Iterator[CollectionItem]:
    """Yield one item per data line, in file order: a `CollectionLine`, or `LineErrors` with every
    fault of the line. Blank lines are skipped; an empty or header-only file yields nothing.

    File-level faults raise `CollectionFileError` when iteration reaches them (a bad header at the
    start, undecodable bytes at their line): the caller must then discard what it already got.
    `encoding` overrides the detection (strict UTF-8, else GB18030; UTF-16 by its BOM)."""
    path = Path(path)
    head, complete = _head(path)
    if not head:
        return
    if head.startswith(_XLSX_MAGIC):
        yield from _items(path, _xlsx_rows(path), policy, check_width=False)
        return
    if head.startswith(_XLS_MAGIC):
        raise CollectionFileError(
            path, "is an Excel 97-2003 (.xls) workbook, which is not read; "
            "save it as .xlsx or as CSV UTF-8", code="collection_file_format")
    codec = encoding or detect_encoding(head, complete)
    try:
        codec = codecs.lookup(codec).name
    except LookupError:
        raise CollectionFileError(
            path, f"unknown encoding {codec!r}; use utf-8 or gb18030",
            code="collection_file_encoding") from None
    if b"\x00" in head and not codec.startswith(("utf-16", "utf-32")):
        raise CollectionFileError(
            path, "is neither a CSV text file nor an XLSX workbook (it contains NUL bytes)",
            code="collection_file_format")
    yield from _items(path, _csv_rows(path, codec), policy, check_width=True)


def detect_encoding(head: bytes, complete: bool) -> str:
    """The codec for a CSV file starting with `head` (`complete`: the whole file). Valid UTF-8 is
    UTF-8 (a BOM is dropped); anything else is taken for GB18030, the superset of GBK and GB2312
    that Chinese Excel and the tax systems write."""
    if head.startswith(_UTF16_BOMS):
        return "utf-16"
    try:
        # final=False tolerates a character cut at the end of the 64 KiB sample.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig"


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
    rows = 0
    with Path(out_path).open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([c.header_zh for c in COLUMNS] + list(REJECT_EXTRA_HEADERS))
        for group in _grouped(errors):
            writer.writerow(
                [_neutral(group.raw.get(c.key, "")) for c in COLUMNS]
                + [
                    str(group.line_no),
                    _REJECT_JOIN.join(e.field for e in group.errors),
                    _REJECT_JOIN.join(e.code for e in group.errors),
                    _REJECT_JOIN.join(e.message for e in group.errors),
                ]
            )
            rows += 1
    return rows


# -- lines to items ------------------------------------------------------------------------------


def _items(
    path: Path,
    rows: Iterator[tuple[int, Sequence[object]]],
    policy: PolicyTables,
    *,
    check_width: bool,
) -> Iterator[CollectionItem]:
    positions: dict[str, int] | None = None
    width = 0
    first_line_of_serial: dict[str, int] = {}
    lines = 0
    for line_no, cells in rows:
        if _blank(cells):
            continue
        if positions is None:
            try:
                positions = map_header(["" if c is None else str(c) for c in cells])
            except ValidationFailed as e:
                raise CollectionFileError(path, f"line {line_no}: {e.message}", code=e.code) from e
            width = len(cells)
            continue
        lines += 1
        if lines > COLLECTION_LINES_MAX:
            raise CollectionFileError(
                path, f"has more than {COLLECTION_LINES_MAX:,} data lines; split it by month or "
                "insurance", code="collection_file_too_long")
        raw: dict[str, str] = {}
        faults: dict[str, tuple[str, str]] = {}
        for key, position in positions.items():
            value = cells[position] if position < len(cells) else None
            raw[key], fault = _cell_text(key, value)
            if fault is not None:
                faults[key] = fault
        if check_width and (
            len(cells) < width or any(str(c).strip() for c in cells[width:])
        ):
            yield LineErrors(line_no, raw, (LineError(
                line_no, "line", "column_count",
                f"line has {len(cells)} columns where the header has {width}: the line is cut "
                "short, or a value holds an unquoted separator; put values with commas in quotes",
                raw),))
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


def _blank(cells: Sequence[object]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


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


# -- CSV -----------------------------------------------------------------------------------------


def _head(path: Path) -> tuple[bytes, bool]:
    try:
        with path.open("rb") as f:
            head = f.read(SNIFF_BYTES)
            return head, len(head) < SNIFF_BYTES or not f.read(1)
    except OSError as e:
        raise CollectionFileError(path, f"cannot be read: {e.strerror or e}",
                                  code="collection_file_unreadable") from e


def _csv_rows(path: Path, codec: str) -> Iterator[tuple[int, Sequence[object]]]:
    lines = _decoded_lines(path, codec)
    # The separator is that of the first non-blank line (the header): a comma, else a tab or a
    # semicolon (Excel's "Unicode text", European CSV). Leading blank lines keep their numbers.
    leading: list[str] = []
    for line in lines:
        leading.append(line)
        if line.strip():
            break
    header = leading[-1] if leading else ""
    delimiter = next((d for d in (",", "\t", ";") if d in header), ",")
    reader = csv.reader(_chain(leading, lines), delimiter=delimiter)
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise CollectionFileError(path, f"line {start}: {e}; check the quotes on that line",
                                      code="collection_file_format") from e
        yield start, row


def _chain(first: list[str], rest: Iterator[str]) -> Iterator[str]:
    yield from first
    yield from rest


def _decoded_lines(path: Path, codec: str) -> Iterator[str]:
    """The file's physical lines, decoded one by one so that a bad byte is reported at its line.
    Byte-wise splitting on LF is safe for UTF-8 and GB18030 (no LF byte inside a character);
    UTF-16/32 go through a text stream instead."""
    if codec.startswith(("utf-16", "utf-32")):
        with path.open(encoding=codec, newline="") as text:
            line_no = 0
            try:
                for line in text:
                    line_no += 1
                    yield line
            except UnicodeDecodeError as e:
                raise CollectionFileError(
                    path, f"near line {line_no + 1}: bytes that are not valid {codec} ({e.reason})",
                    code="collection_file_encoding") from e
        return
    with path.open("rb") as f:
        line_no = 0
        while chunk := f.readline(LINE_BYTES_MAX + 1):
            line_no += 1
            if len(chunk) > LINE_BYTES_MAX:
                raise CollectionFileError(
                    path, f"line {line_no} is longer than {LINE_BYTES_MAX // 1024} KiB; "
                    "this is not a collection file", code="collection_file_format")
            try:
                yield chunk.decode(codec)
            except UnicodeDecodeError as e:
                bad = chunk[e.start:e.end].hex(" ")
                raise CollectionFileError(
                    path, f"line {line_no}, byte {e.start + 1}: bytes {bad} are not valid {codec}; "
                    "save the file as UTF-8, or give its encoding (e.g. --encoding gb18030)",
                    code="collection_file_encoding") from e


# -- XLSX ----------------------------------------------------------------------------------------


def _xlsx_rows(path: Path) -> Iterator[tuple[int, Sequence[object]]]:
    """The first sheet's rows with their row numbers. Read-only mode streams the sheet's XML;
    data_only gives the values Excel last computed for formulas."""
    from openpyxl import load_workbook  # imported here: only XLSX imports pay for it

    with path.open("rb") as f:  # a file object: openpyxl would refuse a name not ending .xlsx
        try:
            workbook = load_workbook(f, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
            raise CollectionFileError(
                path, f"is not a readable XLSX workbook ({e}); save it again from Excel as .xlsx",
                code="collection_file_format") from e
        try:
            if not workbook.worksheets:
                return
            sheet = workbook.worksheets[0]
            # The dimension some generators write is wrong; without it every row is read.
            sheet.reset_dimensions()
            yield from enumerate(sheet.iter_rows(values_only=True), start=1)
        finally:
            workbook.close()


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


def _neutral(value: str) -> str:
    """A value Excel would run as a formula gets a leading apostrophe (CSV injection). Such a
    value is never valid, so the line stays rejected when read back; plain numbers are kept."""
    if value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value
