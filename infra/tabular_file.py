"""Reads the tabular files the bureau imports (the tax bureau's collection details, the finance
special account's statements, …) row by row: CSV in UTF-8, GBK/GB18030 or UTF-16, and XLSX
workbooks. What the columns mean is the caller's business; this module only turns bytes into
numbered rows, the same way for every kind of file.

- The format and the encoding are decided on the file's first `SNIFF_BYTES`: an XLSX workbook by
  its ZIP signature, an Excel 97-2003 (.xls) workbook is refused, anything else is CSV in strict
  UTF-8 (BOM dropped), else GB18030; UTF-16 by its BOM. The caller may give the encoding.
- CSV: the separator is that of the header line (a comma, else a tab or a semicolon); rows carry
  the physical line number of their first line, so that messages match what an editor shows; a
  bad byte refuses the file at its line.
- XLSX: the first sheet, with Excel's row numbers; cells keep their types (dates, numbers).

Memory is bounded by the longest line, `LINE_BYTES_MAX`, not by the file: rows are streamed. An
XLSX workbook also holds its shared-strings table in memory (openpyxl), which grows with the
distinct texts of the sheet.

File-level faults raise `TabularFileError` (or the subclass the caller names). Their codes are
`collection_file_*` whatever the kind of file: the collection files were read this way first,
and the codes are stable ones that clients already see."""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple, Protocol, TypeVar

from domain.collection import ColumnSpec, LineError, LineErrors
from domain.errors import ValidationFailed

SNIFF_BYTES = 64 * 1024  # encoding and format are decided on the file's first 64 KiB
LINE_BYTES_MAX = 64 * 1024  # a longer physical line is not a row of any file we import

XLSX_MAGIC = b"PK\x03\x04"  # ZIP: Office Open XML
XLS_MAGIC = b"\xd0\xcf\x11\xe0"  # OLE2: Excel 97-2003
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what Excel would run as a formula
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?", re.ASCII)

Row = tuple[int, Sequence[object]]
"""A row's line number (CSV: the physical line it starts on; XLSX: Excel's row number) and its
cells: `str` for CSV; for XLSX whatever the cell holds (`None`, text, number, date)."""


class TabularFileError(ValidationFailed):
    """The file as a whole cannot be read: nothing of it may be imported."""

    def __init__(self, path: Path | str, message: str, code: str):
        self.path = Path(path)
        super().__init__(code, f"{self.path.name}: {message}")


class Table(NamedTuple):
    """A file's rows, and its format where the caller must tell them apart."""

    rows: Iterator[Row]
    # A CSV row is as wide as its separators make it, so a width other than the header's means a
    # cut line or an unquoted separator; an XLSX row's width says nothing of the sort.
    is_csv: bool


def open_table(
    path: Path | str,
    encoding: str | None = None,
    *,
    error: type[TabularFileError] = TabularFileError,
) -> Table:
    """The file's rows in order, blank ones included (`is_blank_row`) so that numbering is kept;
    an empty file has none. `encoding` overrides the detection (see `detect_encoding`).

    File-level faults raise `error`, here for those seen in the file's head, else when iteration
    reaches them (an undecodable byte at its line): the caller must then discard what it already
    got. `error` lets each kind of file keep its own exception class."""
    path = Path(path)
    head, complete = _read_head(path, error)
    if not head:
        return Table(iter(()), is_csv=True)
    if head.startswith(XLSX_MAGIC):
        return Table(_xlsx_rows(path, error), is_csv=False)
    if head.startswith(XLS_MAGIC):
        raise error(
            path, "is an Excel 97-2003 (.xls) workbook, which is not read; "
            "save it as .xlsx or as CSV UTF-8", code="collection_file_format")
    codec = encoding or detect_encoding(head, complete)
    try:
        codec = codecs.lookup(codec).name
    except LookupError:
        raise error(
            path, f"unknown encoding {codec!r}; use utf-8 or gb18030",
            code="collection_file_encoding") from None
    if b"\x00" in head and not codec.startswith(("utf-16", "utf-32")):
        raise error(
            path, "is neither a CSV text file nor an XLSX workbook (it contains NUL bytes)",
            code="collection_file_format")
    return Table(_csv_rows(path, codec, error), is_csv=True)


class DataRow(NamedTuple):
    """A data line of a file with a header: its line number, its cells, the header's column
    positions, and whether its width differs from the header's (decided for CSV only, see
    `Table.is_csv`)."""

    line_no: int
    cells: Sequence[object]
    positions: dict[str, int]
    header_width: int
    width_differs: bool

    def cell(self, key: str) -> object:
        position = self.positions[key]
        return self.cells[position] if position < len(self.cells) else None

    def width_message(self) -> str:
        return (f"line has {len(self.cells)} columns where the header has {self.header_width}: "
                "the line is cut short, or a value holds an unquoted separator; put values with "
                "commas in quotes")


def data_rows(
    path: Path,
    table: Table,
    map_header: Callable[[list[str]], dict[str, int]],
    *,
    lines_max: int,
    too_long: tuple[str, str],
    error: type[TabularFileError] = TabularFileError,
) -> Iterator[DataRow]:
    """The data lines of a file whose first non-blank row is its header: blank rows skipped,
    the header mapped by `map_header` (its ValidationFailed refuses the file at its line),
    more than `lines_max` data lines refused with `too_long` = (code, what to do)."""
    positions: dict[str, int] | None = None
    width = 0
    lines = 0
    for line_no, cells in table.rows:
        if is_blank_row(cells):
            continue
        if positions is None:
            try:
                positions = map_header(["" if c is None else str(c) for c in cells])
            except ValidationFailed as e:
                raise error(path, f"line {line_no}: {e.message}", code=e.code) from e
            width = len(cells)
            continue
        lines += 1
        if lines > lines_max:
            code, advice = too_long
            raise error(path, f"has more than {lines_max:,} data lines; {advice}", code=code)
        differs = table.is_csv and (
            len(cells) < width or any(str(c).strip() for c in cells[width:]))
        yield DataRow(line_no, cells, positions, width, differs)


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


def is_blank_row(cells: Sequence[object]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


class KeyedLine(Protocol):
    """A valid line of a payment file: its voucher is unique under `unique_key`."""

    @property
    def unique_key(self) -> tuple[str, ...]: ...


L = TypeVar("L", bound=KeyedLine)


def parsed_lines(path: Path, table: Table, map_header: Callable[[list[str]], dict[str, int]],
                 *, lines_max: int, too_long: tuple[str, str], error: type[TabularFileError],
                 parse: Callable[[int, dict[str, str]], L | list[LineError]],
                 line_type: type[L], duplicate: Callable[[L, int], str]
                 ) -> Iterator[L | LineErrors]:
    """One item per data line of a payment file (finance statement, benefit payment details),
    in file order: the valid line `parse` made, or `LineErrors` with every fault of the line —
    a line of the wrong width, or a line whose `unique_key` an earlier line had
    (`voucher_duplicate`, its message from `duplicate(line, first_line_no)`)."""
    first_line_of: dict[tuple[str, ...], int] = {}
    for row in data_rows(path, table, map_header, lines_max=lines_max, too_long=too_long,
                         error=error):
        line_no = row.line_no
        raw = {key: cell_text(row.cell(key)) for key in row.positions}
        if row.width_differs:
            yield LineErrors(line_no, raw, (LineError(
                line_no, "line", "column_count", row.width_message(), raw),))
            continue
        result = parse(line_no, raw)
        if isinstance(result, line_type):
            first = first_line_of.setdefault(result.unique_key, line_no)
            if first != line_no:
                yield LineErrors(line_no, raw, (LineError(
                    line_no, "voucher", "voucher_duplicate", duplicate(result, first), raw),))
                continue
            yield result
        else:
            assert isinstance(result, list)
            yield LineErrors(line_no, raw, tuple(result))


def cell_text(value: object) -> str:
    """A cell as text: dates become ISO dates, numbers their exact decimal text (never through
    float formatting: 1234.56, not 1234.5599…)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime | date):
        day = value.date() if isinstance(value, datetime) else value
        return day.isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, int):
            return str(value)
        text = format(Decimal(repr(value)), "f")
        return text.split(".")[0] if value.is_integer() else text
    return str(value)


REJECT_EXTRA_HEADERS = ("错误行号", "错误字段", "错误代码", "错误说明")
_REJECT_JOIN = " | "  # not a newline: a multi-line cell would shift the file's line numbers


def write_line_errors_csv(groups: Iterable[LineErrors], columns: Sequence[ColumnSpec],
                          out_path: Path | str) -> int:
    """One row per faulty line of a file read by column specification: the raw values under
    the columns' Chinese headers, then the line number, fields, codes and messages. UTF-8 with
    BOM, so that Excel opens it; the file reads back as the original kind of file (the error
    columns are ignored). Returns the rows written."""
    rows = 0
    with Path(out_path).open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([c.header_zh for c in columns] + list(REJECT_EXTRA_HEADERS))
        for group in groups:
            writer.writerow(
                [neutralize_formula(group.raw.get(c.key, "")) for c in columns]
                + [str(group.line_no),
                   _REJECT_JOIN.join(e.field for e in group.errors),
                   _REJECT_JOIN.join(e.code for e in group.errors),
                   _REJECT_JOIN.join(e.message for e in group.errors)])
            rows += 1
    return rows


def neutralize_formula(value: str) -> str:
    """A value to write into a CSV file that Excel will open (a rejects file): one that Excel
    would run as a formula gets a leading apostrophe (CSV injection). Such a value is never valid
    in our files, so its line stays rejected when read back; plain numbers are kept."""
    if value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


# -- CSV -----------------------------------------------------------------------------------------


def _read_head(path: Path, error: type[TabularFileError]) -> tuple[bytes, bool]:
    try:
        with path.open("rb") as f:
            head = f.read(SNIFF_BYTES)
            return head, len(head) < SNIFF_BYTES or not f.read(1)
    except OSError as e:
        raise error(path, f"cannot be read: {e.strerror or e}",
                    code="collection_file_unreadable") from e


def _csv_rows(path: Path, codec: str, error: type[TabularFileError]) -> Iterator[Row]:
    lines = _decoded_lines(path, codec, error)
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
            raise error(path, f"line {start}: {e}; check the quotes on that line",
                        code="collection_file_format") from e
        yield start, row


def _chain(first: list[str], rest: Iterator[str]) -> Iterator[str]:
    yield from first
    yield from rest


def _decoded_lines(path: Path, codec: str, error: type[TabularFileError]) -> Iterator[str]:
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
                raise error(
                    path, f"near line {line_no + 1}: bytes that are not valid {codec} ({e.reason})",
                    code="collection_file_encoding") from e
        return
    with path.open("rb") as f:
        line_no = 0
        while chunk := f.readline(LINE_BYTES_MAX + 1):
            line_no += 1
            if len(chunk) > LINE_BYTES_MAX:
                # "collection file" for every kind of file: the message predates the others.
                raise error(
                    path, f"line {line_no} is longer than {LINE_BYTES_MAX // 1024} KiB; "
                    "this is not a collection file", code="collection_file_format")
            try:
                yield chunk.decode(codec)
            except UnicodeDecodeError as e:
                bad = chunk[e.start:e.end].hex(" ")
                raise error(
                    path, f"line {line_no}, byte {e.start + 1}: bytes {bad} are not valid {codec}; "
                    "save the file as UTF-8, or give its encoding (e.g. --encoding gb18030)",
                    code="collection_file_encoding") from e


# -- XLSX ----------------------------------------------------------------------------------------


def _xlsx_rows(path: Path, error: type[TabularFileError]) -> Iterator[Row]:
    """The first sheet's rows with their row numbers. Read-only mode streams the sheet's XML;
    data_only gives the values Excel last computed for formulas."""
    from openpyxl import load_workbook  # imported here: only XLSX imports pay for it

    with path.open("rb") as f:  # a file object: openpyxl would refuse a name not ending .xlsx
        try:
            workbook = load_workbook(f, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
            raise error(
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
