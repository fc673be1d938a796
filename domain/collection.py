"""One line of the tax bureau's monthly collection detail (税务征收 实收明细): one row per person ×
insurance × month (DOMAIN.md §11.2). This module is the column specification and the check of one
line; reading files is `infra/collection_file.py`, matching and posting come later (decision 0005).

Every field of a line is checked and every fault reported together, so that a clerk fixes a line
once. A line is either a `CollectionLine` or a list of `LineError`s, never both."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import NamedTuple, TypeVar

from domain.errors import ValidationFailed
from domain.identity import check_id_number, parse_credit_code
from domain.money import yuan_text_to_fen
from domain.periods import parse_period
from domain.policy import PolicyTables

T = TypeVar("T")


class ColumnSpec(NamedTuple):
    key: str  # the stable English key: LineError.field, the `raw` dict's key
    header_zh: str  # as the tax bureau writes it
    header_en: str
    description: str


COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("serial_no", "税务流水号", "Tax serial number",
               "the tax bureau's number of this row; unique within a file"),
    ColumnSpec("credit_code", "统一社会信用代码", "Unified social credit code",
               "the employer's 18-character code (GB 32100) with a valid check character"),
    ColumnSpec("id_number", "公民身份号码", "Citizen ID number",
               "the person's 18-character resident ID number (GB 11643), check character 0-9/X"),
    ColumnSpec("insurance", "险种代码", "Insurance code",
               "AAE140 scheme code known to the policy tables, e.g. 110"),
    ColumnSpec("period", "费款所属期", "Contribution period",
               "the month the money belongs to (AAE002): YYYY-MM or YYYYMM"),
    ColumnSpec("base", "缴费基数", "Contribution base",
               "yuan, at most 2 decimals, not negative"),
    ColumnSpec("employer_amount", "单位缴费金额", "Employer amount",
               "yuan, at most 2 decimals, not negative"),
    ColumnSpec("individual_amount", "个人缴费金额", "Individual amount",
               "yuan (AAE020), at most 2 decimals, not negative"),
    ColumnSpec("collected_on", "入库日期", "Collected on",
               "date the money reached the treasury: YYYY-MM-DD or YYYYMMDD"),
    ColumnSpec("tax_batch", "税务批次号", "Tax batch number",
               "the tax bureau's batch (remittance) number"),
)
COLUMN_KEYS: tuple[str, ...] = tuple(c.key for c in COLUMNS)

# Identifiers are kept per line and in the reader's duplicate check: bound them.
IDENTIFIER_LENGTH_MAX = 64
EMPLOYERS_CACHED_MAX = 4096  # a month's file repeats few credit codes over many lines
AMOUNT_FEN_MAX = 10**12  # 10 billion yuan on one line is a typo, not a contribution

# Letters (any script), digits and - _ . / only: no spaces, quotes or formula characters.
_IDENTIFIER = re.compile(r"[\w./-]+")
_PERIOD = re.compile(r"(\d{4})-?(\d{2})", re.ASCII)
_AMOUNT = re.compile(r"-?\d+(?:\.\d+)?", re.ASCII)
# ISO, compact, or the slashed form Excel writes on Chinese systems; a time part is dropped
# (exports from the tax system often carry " 00:00:00").
_DATE = re.compile(
    r"(?:(\d{4})-(\d{2})-(\d{2})|(\d{4})(\d{2})(\d{2})|(\d{4})/(\d{1,2})/(\d{1,2}))"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?",
    re.ASCII,
)


@dataclass(frozen=True, slots=True)
class CollectionLine:
    """A valid collected row, normalised: codes upper-case, period YYYY-MM, money in fen."""

    line_no: int  # physical line (CSV) or row (XLSX) in the file; the header is line 1
    serial_no: str
    credit_code: str
    id_number: str
    insurance: str
    period: str
    base_fen: int
    employer_fen: int
    individual_fen: int
    collected_on: str  # ISO date
    tax_batch: str

    @property
    def total_fen(self) -> int:
        return self.employer_fen + self.individual_fen


@dataclass(frozen=True, slots=True)
class LineError:
    line_no: int
    field: str  # a key of COLUMNS, or "line" for a fault of the whole row
    code: str
    message: str
    # The row as it came (column key → text), so that a rejects file can be written.
    raw: Mapping[str, str] = dataclasses.field(
        default_factory=dict, hash=False, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class LineErrors:
    """Everything wrong with one line: the reader yields one item per data line."""

    line_no: int
    raw: Mapping[str, str] = dataclasses.field(hash=False, compare=False, repr=False)
    errors: tuple[LineError, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(e.code for e in self.errors)


def header_key(text: str) -> str:
    """The form in which headers are compared: no BOM, no outer whitespace, case-folded."""
    return text.replace("\ufeff", "").strip().casefold()


_HEADER_ALIASES: dict[str, str] = {
    header_key(name): c.key for c in COLUMNS for name in (c.key, c.header_zh, c.header_en)
}


def map_header(cells: Sequence[str]) -> dict[str, int]:
    """Column key → position in the row, from a header row in either language (or the keys).
    Column order is free and unknown columns are ignored; a missing or doubled column is refused."""
    return map_columns(cells, COLUMNS, _HEADER_ALIASES, "specification")


def map_columns(cells: Sequence[str], columns: Sequence[ColumnSpec], aliases: Mapping[str, str],
                specification: str, optional: frozenset[str] = frozenset()) -> dict[str, int]:
    """Column key → position, for any of the bureau's file specifications (`columns`, with
    `aliases` from `header_key` of every accepted header to the key); a column not `optional`
    that is missing, or a column given twice, is refused naming it."""
    positions: dict[str, int] = {}
    names = {c.key: c for c in columns}
    for index, cell in enumerate(cells):
        key = aliases.get(header_key(cell))
        if key is None:
            continue
        if key in positions:
            raise ValidationFailed(
                "column_duplicate",
                f"columns {positions[key] + 1} and {index + 1} both give {key} "
                f"({names[key].header_zh}); keep one of them",
                field=key,
            )
        positions[key] = index
    missing = [c for c in columns if c.key not in positions and c.key not in optional]
    if missing:
        listed = ", ".join(f"{c.header_zh} ({c.header_en} / {c.key})" for c in missing)
        raise ValidationFailed(
            "columns_missing",
            f"the header row lacks the column(s) {listed}; the first row must name every column "
            f"of the {specification}",
            field=missing[0].key,
        )
    return positions


class FieldChecker:
    """Checks the fields of one row, collecting every fault so that a clerk fixes a line once.
    `field_errors` are faults the reader already found in a cell (key → (code, message)); such a
    field is reported as given and not checked again."""

    def __init__(self, line_no: int, raw: Mapping[str, str], columns: Sequence[ColumnSpec],
                 field_errors: Mapping[str, tuple[str, str]] | None = None) -> None:
        self.line_no = line_no
        self.raw = raw
        self.columns = {c.key: c for c in columns}
        self.field_errors = field_errors or {}
        self.errors: list[LineError] = []

    def __call__(self, key: str, convert: Callable[[str, str], T]) -> T | None:
        line_no, raw = self.line_no, self.raw
        if key in self.field_errors:
            code, message = self.field_errors[key]
            self.errors.append(LineError(line_no, key, code, message, raw))
            return None
        text = raw.get(key, "").strip()
        if not text:
            spec = self.columns[key]
            self.errors.append(LineError(
                line_no, key, "value_missing",
                f"{key}: {spec.header_zh} is empty; fill in {spec.description}", raw))
            return None
        try:
            return convert(text, key)
        except ValidationFailed as e:
            self.errors.append(LineError(line_no, key, e.code, e.message, raw))
            return None


def parse_line(
    line_no: int,
    raw: Mapping[str, str],
    policy: PolicyTables,
    field_errors: Mapping[str, tuple[str, str]] | None = None,
) -> CollectionLine | list[LineError]:
    """Check every field of one row (column key → text) and return the line, or all its faults.

    `field_errors` are faults the reader already found in a cell (key → (code, message)), such as
    an XLSX number where text is needed; such a field is reported as given and not checked again.
    Duplicate serial numbers are the reader's business: it sees the whole file."""
    check = FieldChecker(line_no, raw, COLUMNS, field_errors)
    serial_no = check("serial_no", _identifier)
    credit_code = check("credit_code", _credit_code)
    id_number = check("id_number", check_id_number)
    insurance = check("insurance", lambda text, key: policy.insurance(text, key).code)
    period = check("period", _period)
    base_fen = check("base", _amount_fen)
    employer_fen = check("employer_amount", _amount_fen)
    individual_fen = check("individual_amount", _amount_fen)
    collected_on = check("collected_on", parse_date)
    tax_batch = check("tax_batch", _identifier)
    if check.errors:
        return check.errors
    # No error means every check returned a value; mypy cannot follow that, hence the asserts.
    assert serial_no is not None and credit_code is not None and id_number is not None
    assert insurance is not None and period is not None and collected_on is not None
    assert base_fen is not None and employer_fen is not None and individual_fen is not None
    assert tax_batch is not None
    return CollectionLine(
        line_no=line_no, serial_no=serial_no, credit_code=credit_code, id_number=id_number,
        insurance=insurance, period=period, base_fen=base_fen, employer_fen=employer_fen,
        individual_fen=individual_fen, collected_on=collected_on, tax_batch=tax_batch,
    )


# Pure and repeated on most lines: remembered (a refused code raises and is not remembered).
_credit_code = lru_cache(maxsize=EMPLOYERS_CACHED_MAX)(parse_credit_code)


def _identifier(text: str, key: str) -> str:
    if len(text) > IDENTIFIER_LENGTH_MAX:
        raise ValidationFailed(
            "value_too_long",
            f"{key}: {text[:20]!r}… has {len(text)} characters; at most {IDENTIFIER_LENGTH_MAX}",
            field=key,
        )
    if _IDENTIFIER.fullmatch(text) is None:
        raise ValidationFailed(
            "value_malformed",
            f"{key}: {text!r} may hold only letters, digits and - _ . /; "
            "remove spaces, quotes and other signs",
            field=key,
        )
    return text


def _period(text: str, key: str) -> str:
    match = _PERIOD.fullmatch(text)
    if match is None:
        raise ValidationFailed(
            "period_malformed",
            f"{key}: {text!r} is not a month written YYYY-MM or YYYYMM (e.g. 2024-01)",
            field=key,
        )
    return str(parse_period(f"{match.group(1)}-{match.group(2)}", key))


def _amount_fen(text: str, key: str) -> int:
    if _AMOUNT.fullmatch(text) is None:
        raise ValidationFailed(
            "amount_not_a_number",
            f"{key}: {text!r} is not an amount in yuan such as 1234.56 "
            "(digits and a decimal point; no thousands separators or currency signs)",
            field=key,
        )
    fen = yuan_text_to_fen(text, key)
    if fen < 0:
        raise ValidationFailed(
            "amount_negative",
            f"{key}: {text} is negative; refunds are not collection lines, send them separately",
            field=key,
        )
    if fen > AMOUNT_FEN_MAX:
        raise ValidationFailed(
            "amount_too_large",
            f"{key}: {text} yuan is more than {AMOUNT_FEN_MAX // 100} yuan; check the column",
            field=key,
        )
    return fen


def parse_date(text: str, key: str) -> str:
    """A calendar date as the bureau's files write it (ISO, compact, or Excel's slashes; a time
    part dropped), as ISO."""
    match = _DATE.fullmatch(text)
    if match is not None:
        parts = [g for g in match.groups() if g is not None]
        try:
            return date(int(parts[0]), int(parts[1]), int(parts[2])).isoformat()
        except ValueError:
            pass
    raise ValidationFailed(
        "date_malformed",
        f"{key}: {text!r} is not a calendar date written YYYY-MM-DD or YYYYMMDD (e.g. 2024-01-15)",
        field=key,
    )


# -- checks shared by the other payment files (finance statements, benefit payment details) --

VOUCHER_LENGTH_MAX = 64
_VOUCHER = re.compile(r"[\w./#-]+")  # letters of any script (记字), digits, - _ . / #
_POSITIVE_AMOUNT = re.compile(r"\d+(?:\.\d+)?", re.ASCII)


def positive_amount_fen(text: str, key: str, no_sign_hint: str) -> int:
    """A positive yuan amount with at most 2 decimals, in fen, at most AMOUNT_FEN_MAX.
    `no_sign_hint` says what the file has instead of a minus (a direction column, …)."""
    if _POSITIVE_AMOUNT.fullmatch(text) is None:
        code = "amount_negative" if text.startswith("-") else "amount_not_a_number"
        raise ValidationFailed(
            code,
            f"{key}: {text!r} is not a positive amount in yuan such as 1234.56 (no signs, "
            f"thousands separators or currency; {no_sign_hint})",
            field=key)
    fen = yuan_text_to_fen(text, key)
    if fen == 0:
        raise ValidationFailed("amount_zero", f"{key}: the amount is zero; drop the line",
                               field=key)
    if fen > AMOUNT_FEN_MAX:
        raise ValidationFailed(
            "amount_too_large",
            f"{key}: {text} yuan is more than {AMOUNT_FEN_MAX // 100} yuan; check the column",
            field=key)
    return fen


def voucher_text(text: str, key: str) -> str:
    """A voucher number: at most VOUCHER_LENGTH_MAX letters, digits and - _ . / #."""
    if len(text) > VOUCHER_LENGTH_MAX:
        raise ValidationFailed(
            "value_too_long",
            f"{key}: {text[:20]!r}… has {len(text)} characters; at most {VOUCHER_LENGTH_MAX}",
            field=key)
    if _VOUCHER.fullmatch(text) is None:
        raise ValidationFailed(
            "value_malformed",
            f"{key}: {text!r} may hold only letters, digits and - _ . / #; remove spaces and "
            "other signs", field=key)
    return text
