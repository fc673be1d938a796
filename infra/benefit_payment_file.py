"""Reads a benefit payment-detail file (待遇支付明细: 失业、医疗、工伤、生育) as CSV or XLSX, line
by line, and writes the errors file of a refused one. The column specification and the check of
one line are in `domain/benefit_payment_line.py`; the catalogue of benefit kinds is the policy file
benefit_kinds.toml, read here.

The bytes-to-rows reading is `infra/tabular_file.py`, shared with the collection files and the
finance statements so that all behave alike: encoding detection (UTF-8, else GB18030; UTF-16 by
its BOM; `encoding` overrides), separator from the header line, physical line numbers, XLSX's
first sheet with Excel's row numbers, .xls refused, a bad byte refusing the file at its line."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from datetime import date
from functools import lru_cache
from pathlib import Path

from domain.benefit_payment import BenefitLine
from domain.benefit_payment_line import (
    BENEFIT_COLUMNS,
    BENEFIT_LINES_MAX,
    BenefitItem,
    BenefitKinds,
    map_benefit_header,
    parse_benefit_line,
)
from domain.collection import LineErrors
from domain.policy import PolicyTables
from infra.collection_file import CollectionFileError
from infra.policy_loader import read_data_file
from infra.tabular_file import open_table, parsed_lines, write_line_errors_csv


def load_benefit_kinds(directory: Path | None = None) -> BenefitKinds:
    """The catalogue from `<directory>/benefit_kinds.toml` if there is one, else the shipped
    file; a bad entry names the file, the entry and the key."""
    if directory is not None and not (directory / "benefit_kinds.toml").exists():
        directory = None
    return BenefitKinds.from_document(read_data_file("policy_data", "benefit_kinds", directory))


@lru_cache(maxsize=1)
def benefit_kinds() -> BenefitKinds:
    configured = os.environ.get("SHEBAO_POLICY_DIR")
    return load_benefit_kinds(Path(configured) if configured else None)


def read_benefit_file(path: Path | str, policy: PolicyTables, kinds: BenefitKinds,
                      today: date, encoding: str | None = None) -> Iterator[BenefitItem]:
    """Yield one item per data line, in file order: a `BenefitLine`, or `LineErrors` with every
    fault of the line (a voucher given twice for an insurance: `voucher_duplicate` on the later
    line). File-level faults raise `CollectionFileError` (codes `collection_file_*`,
    `columns_missing`, `column_duplicate`, `benefit_file_too_long`): the caller must then
    discard what it already got."""
    path = Path(path)
    table = open_table(path, encoding, error=CollectionFileError)

    def duplicate(line: BenefitLine, first: int) -> str:
        return (f"voucher: {line.voucher!r} of insurance {line.insurance} is already on line "
                f"{first}; a voucher is paid once")

    yield from parsed_lines(
        path, table, map_benefit_header, lines_max=BENEFIT_LINES_MAX,
        too_long=("benefit_file_too_long", "split the file by month"),
        error=CollectionFileError,
        parse=lambda n, raw: parse_benefit_line(n, raw, policy, kinds, today),
        line_type=BenefitLine, duplicate=duplicate)


def write_benefit_errors_csv(errors: Iterable[LineErrors], out_path: Path | str) -> int:
    """One row per faulty line: the raw values under the file's Chinese headers, then the line
    number, fields, codes and messages; UTF-8 with BOM (Excel opens it). Corrected, the rows
    read back as a payment-detail file (the error columns are ignored). Returns the rows."""
    return write_line_errors_csv(errors, BENEFIT_COLUMNS, out_path)
