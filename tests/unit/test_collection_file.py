"""Reading the tax bureau's collection files (CSV in UTF-8, GBK or UTF-16; XLSX): one item per data
line with its physical line number, file-level faults as CollectionFileError, and a rejects file
that reads back in."""

from __future__ import annotations

import codecs
import csv
import hashlib
import tempfile
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from domain.collection import COLUMN_KEYS, COLUMNS, CollectionLine, LineError, LineErrors
from infra.collection_file import (
    CollectionFileError,
    CollectionItem,
    read_collection_file,
    sha256_of,
    write_rejects_csv,
)
from infra.policy_loader import default_policy
from infra.tabular_file import SNIFF_BYTES, detect_encoding
from tests.helpers import make_credit_code, make_id_number, with_wrong_check_char

POLICY = default_policy()
ZH = [c.header_zh for c in COLUMNS]
EN = [c.header_en for c in COLUMNS]


def row(seq: int = 1, **changes: str) -> list[str]:
    values = {
        "serial_no": f"S{seq:08d}",
        "credit_code": make_credit_code(1),
        "id_number": make_id_number(seq % 1000),
        "insurance": "110",
        "period": "2024-01",
        "base": "10000.00",
        "employer_amount": "1600.00",
        "individual_amount": "800.00",
        "collected_on": "2024-01-15",
        "tax_batch": "B202401",
    }
    values.update(changes)
    return [values[k] for k in COLUMN_KEYS]


def write_csv(
    path: Path,
    rows: Sequence[Sequence[str]],
    header: Sequence[str] = ZH,
    encoding: str = "utf-8",
    delimiter: str = ",",
    newline: str = "\r\n",
) -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f, delimiter=delimiter, lineterminator=newline)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read(path: Path, encoding: str | None = None) -> list[CollectionItem]:
    return list(read_collection_file(path, POLICY, encoding))


def codes(item: CollectionItem) -> list[str]:
    return [] if isinstance(item, CollectionLine) else list(item.codes)


def test_a_utf8_csv_yields_one_line_per_row_numbered_from_line_2(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [row(1), row(2), row(3)])
    items = read(path)
    assert all(isinstance(i, CollectionLine) for i in items)
    assert [i.line_no for i in items] == [2, 3, 4]
    assert sum(i.total_fen for i in items if isinstance(i, CollectionLine)) == 3 * 240_000


def test_a_gbk_file_with_chinese_headers_and_extra_columns_is_detected(tmp_path: Path) -> None:
    header = ["姓名", *ZH, "备注"]
    rows = [["张三", *row(1), "补缴"], ["李四", *row(2), "正常"]]
    path = write_csv(tmp_path / "gbk.csv", rows, header, encoding="gbk")
    assert detect_encoding(path.read_bytes(), complete=True) == "gb18030"
    items = read(path)
    assert [type(i) for i in items] == [CollectionLine, CollectionLine]


def test_a_utf8_file_with_bom_and_english_headers_in_another_order(tmp_path: Path) -> None:
    order = list(reversed(range(len(COLUMNS))))
    header = [EN[i].lower() for i in order]
    rows = [[row(1)[i] for i in order]]
    path = write_csv(tmp_path / "bom.csv", rows, header, encoding="utf-8-sig")
    assert path.read_bytes().startswith(codecs.BOM_UTF8)
    (line,) = read(path)
    assert isinstance(line, CollectionLine)
    assert line.serial_no == "S00000001"


@pytest.mark.parametrize("delimiter", ["\t", ";"])
def test_tab_or_semicolon_separated_files_are_read(tmp_path: Path, delimiter: str) -> None:
    path = write_csv(tmp_path / "t.csv", [row(1), row(2)], delimiter=delimiter, newline="\n")
    assert [type(i) for i in read(path)] == [CollectionLine, CollectionLine]


def test_excel_unicode_text_utf16_tab_separated_is_read(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "u.txt", [row(1)], encoding="utf-16", delimiter="\t")
    (line,) = read(path)
    assert isinstance(line, CollectionLine)


def test_the_encoding_can_be_given_and_a_bad_byte_is_reported_at_its_line(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "gbk.csv", [row(1), row(2)], ["姓名", *ZH], encoding="gbk")
    with pytest.raises(CollectionFileError) as info:
        read(path, encoding="utf-8")
    assert info.value.code == "collection_file_encoding"
    assert "line 1" in info.value.message and "gb18030" in info.value.message
    path.write_bytes(path.read_bytes() + b"S9,\xff\xff\r\n")
    with pytest.raises(CollectionFileError) as info:
        read(path)
    assert "line 4" in info.value.message


def test_detection_tolerates_a_character_cut_at_the_end_of_the_sample() -> None:
    sample = ("中" * SNIFF_BYTES).encode()[: SNIFF_BYTES - 2]  # 2 of 3 bytes of the last
    assert detect_encoding(sample, complete=False) == "utf-8-sig"
    assert detect_encoding(sample, complete=True) == "gb18030"
    assert detect_encoding("中文".encode("gbk"), complete=True) == "gb18030"


def test_an_empty_file_a_header_only_file_and_blank_lines_yield_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert read(empty) == []
    assert read(write_csv(tmp_path / "header.csv", [])) == []
    blank = tmp_path / "blank.csv"
    blank.write_text("\r\n" + ",".join(ZH) + "\r\n\r\n,,,,,,,,,,\r\n", encoding="utf-8")
    assert read(blank) == []


def test_blank_lines_are_skipped_but_keep_the_numbering(tmp_path: Path) -> None:
    path = tmp_path / "gaps.csv"
    path.write_text("\n" + ",".join(ZH) + "\n\n" + ",".join(row(1)) + "\n", encoding="utf-8")
    (line,) = read(path)
    assert line.line_no == 4


def test_a_truncated_last_line_is_a_column_count_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "cut.csv", [row(1)])
    path.write_bytes(path.read_bytes() + ",".join(row(2)[:4]).encode())
    first, last = read(path)
    assert isinstance(first, CollectionLine)
    assert isinstance(last, LineErrors)
    assert (last.line_no, last.codes) == (3, ("column_count",))
    assert last.raw["serial_no"] == "S00000002" and last.raw["tax_batch"] == ""


def test_extra_values_are_a_column_count_error_but_trailing_empty_cells_are_not(
    tmp_path: Path,
) -> None:
    path = write_csv(tmp_path / "x.csv", [[*row(1), "", ""], [*row(2), "1,600.00"]])
    ok, shifted = read(path)
    assert isinstance(ok, CollectionLine)
    assert codes(shifted) == ["column_count"]


def test_a_quoted_value_spanning_lines_keeps_physical_line_numbers(tmp_path: Path) -> None:
    header = [*ZH, "备注"]
    path = write_csv(tmp_path / "q.csv", [[*row(1), "two\nlines"], [*row(2), ""]], header)
    assert [i.line_no for i in read(path)] == [2, 4]


def test_a_missing_column_is_a_file_error_naming_it(tmp_path: Path) -> None:
    header = [h for h in ZH if h != "入库日期"]
    path = write_csv(tmp_path / "m.csv", [row(1)[:-2] + row(1)[-1:]], header)
    with pytest.raises(CollectionFileError) as info:
        read(path)
    assert info.value.code == "columns_missing"
    assert "入库日期" in info.value.message and "collected_on" in info.value.message
    assert info.value.path == path and "m.csv" in info.value.message


def test_files_that_are_not_csv_or_xlsx_are_refused(tmp_path: Path) -> None:
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    binary = tmp_path / "scan.pdf"
    binary.write_bytes(b"%PDF-1.4\x00\x01\x02")
    fake_zip = tmp_path / "fake.xlsx"
    fake_zip.write_bytes(b"PK\x03\x04not really a zip")
    for path, text in ((xls, ".xls"), (binary, "NUL"), (fake_zip, "XLSX")):
        with pytest.raises(CollectionFileError) as info:
            read(path)
        assert text in info.value.message
    with pytest.raises(CollectionFileError):
        read(tmp_path / "absent.csv")


def test_a_second_occurrence_of_a_serial_number_names_the_first_line(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", [row(1), row(2), row(3, serial_no="S00000001")])
    items = read(path)
    assert [codes(i) for i in items] == [[], [], ["serial_duplicate"]]
    duplicate = items[2]
    assert isinstance(duplicate, LineErrors)
    assert "line 2" in duplicate.errors[0].message


def test_a_duplicate_is_reported_beside_the_other_faults_of_its_line(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", [row(1), row(2, serial_no="S00000001", insurance="9")])
    assert codes(read(path)[1]) == ["insurance_unknown", "serial_duplicate"]


def test_an_xlsx_file_with_number_and_date_cells(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(ZH)
    good = row(1)
    sheet.append([*good[:4], datetime(2024, 1, 1), 10000, 1600.5, 800.25,
                  datetime(2024, 1, 15), good[-1]])
    sheet.append([*row(2)[:2], int(make_id_number(2)), 110, 202401, "10000", 1600.005, "0",
                  date(2024, 2, 30 - 1), row(2)[-1]])
    sheet.append([])
    sheet.append([*row(3)[:4], "2024-01", "1", "2", "3", "20240131", 20240101])
    path = tmp_path / "c.xlsx"
    workbook.save(path)

    first, second, third = read(path)
    assert first == CollectionLine(
        line_no=2, serial_no=good[0], credit_code=good[1], id_number=good[2], insurance="110",
        period="2024-01", base_fen=1_000_000, employer_fen=160_050, individual_fen=80_025,
        collected_on="2024-01-15", tax_batch=good[-1],
    )
    assert isinstance(second, LineErrors)
    assert [(e.field, e.code) for e in second.errors] == [
        ("id_number", "cell_is_number"),
        ("employer_amount", "amount_not_integer_fen"),
    ]
    assert "format the column as text" in second.errors[0].message
    assert (third.line_no, codes(third)) == (5, ["cell_is_number"])


def test_an_xlsx_file_with_only_a_header_yields_nothing(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(EN)
    path = tmp_path / "h.xlsx"
    workbook.save(path)
    assert read(path) == []


def test_sha256_of_streams_the_file(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    data = bytes(range(256)) * 20_000
    path.write_bytes(data)
    assert sha256_of(path) == hashlib.sha256(data).hexdigest()


# -- rejects -------------------------------------------------------------------------------------

BAD = {
    "id_number": with_wrong_check_char(make_id_number(5)),
    "period": "2024/01",
    "employer_amount": "-3",
    "serial_no": "=HYPERLINK(\"x\")",
}


def test_the_rejects_file_reads_back_with_the_same_faults_and_can_be_fixed(
    tmp_path: Path,
) -> None:
    rows = [row(1), row(2, id_number=BAD["id_number"], period=BAD["period"]), row(3),
            row(4, employer_amount=BAD["employer_amount"]), row(5, serial_no=BAD["serial_no"])]
    items = read(write_csv(tmp_path / "in.csv", rows))
    rejected = [i for i in items if isinstance(i, LineErrors)]
    assert [i.line_no for i in rejected] == [3, 5, 6]

    rejects = tmp_path / "rejects.csv"
    assert write_rejects_csv(rejected, rejects) == 3
    assert rejects.read_bytes().startswith(codecs.BOM_UTF8)
    again = read(rejects)
    assert [codes(i) for i in again] == [codes(i) for i in rejected]
    assert [i.line_no for i in again] == [2, 3, 4]

    with rejects.open(encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    assert table[0] == [*ZH, "错误行号", "错误字段", "错误代码", "错误说明"]
    assert table[1][-4:-1] == [
        "3", "id_number | period", "id_number_check_digit | period_malformed"]
    assert table[3][0] == "'" + BAD["serial_no"]  # Excel must not run it as a formula
    fixed = [[*row(10 + n), *cells[len(COLUMNS):]] for n, cells in enumerate(table[1:])]
    write_csv(rejects, fixed, table[0], encoding="utf-8-sig")
    assert all(isinstance(i, CollectionLine) for i in read(rejects))


def test_loose_errors_of_one_line_become_one_rejects_row(tmp_path: Path) -> None:
    raw = dict(zip(COLUMN_KEYS, row(1), strict=True))
    errors = [LineError(9, "period", "period_malformed", "p", raw),
              LineError(9, "base", "value_missing", "b", raw),
              LineError(12, "line", "column_count", "c", raw)]
    out = tmp_path / "r.csv"
    assert write_rejects_csv(errors, out) == 2


# -- property: every line accounted for ----------------------------------------------------------

CORRUPTIONS: dict[str, list[str]] = {
    "serial_no": ["", "DUPLICATE"],
    "credit_code": [with_wrong_check_char(make_credit_code(3)), "91440781"],
    "id_number": [with_wrong_check_char(make_id_number(4)), "4407811990"],
    "insurance": ["999", ""],
    "period": ["2024/01", "2024-13"],
    "base": ["-1", "1.234", "abc", ""],
    "employer_amount": ["-0.01", "1.001"],
    "individual_amount": ["x", ""],
    "collected_on": ["2024-02-30", "15.01.2024"],
    "tax_batch": [""],
}

generated_row = st.tuples(
    st.integers(0, 999),  # ID sequence
    st.integers(0, 5_000_000),  # base fen
    st.integers(0, 2_000_000),  # employer fen
    st.integers(0, 1_000_000),  # individual fen
    st.booleans(),  # compact period
    st.dictionaries(st.sampled_from(sorted(CORRUPTIONS)), st.integers(0, 3), max_size=3),
)


def yuan(fen: int, whole: bool) -> str:
    return str(fen // 100) if whole and fen % 100 == 0 else f"{fen // 100}.{fen % 100:02d}"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(generated_row, max_size=25),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gbk"]),
    delimiter=st.sampled_from([",", "\t", ";"]),
    newline=st.sampled_from(["\r\n", "\n"]),
    english=st.booleans(),
)
def test_every_data_line_yields_exactly_one_item_and_valid_fen_add_up(
    rows: list[tuple[int, int, int, int, bool, dict[str, int]]],
    encoding: str,
    delimiter: str,
    newline: str,
    english: bool,
) -> None:
    lines: list[list[str]] = []
    expected_faulty: list[set[str]] = []
    valid_total_fen = 0
    seen: set[str] = set()
    for n, (seq, base, employer, individual, compact, faults) in enumerate(rows):
        values = dict(zip(COLUMN_KEYS, row(n), strict=True))
        values.update(
            id_number=make_id_number(seq), base=yuan(base, n % 2 == 0),
            employer_amount=yuan(employer, False), individual_amount=yuan(individual, True),
            period="202401" if compact else "2024-01",
        )
        for key, choice in faults.items():
            options = CORRUPTIONS[key]
            values[key] = options[choice % len(options)]
        if values["serial_no"] == "DUPLICATE":
            values["serial_no"] = lines[0][0] if lines else ""
        faulty = set(faults)
        if values["serial_no"] and values["serial_no"] not in seen:
            seen.add(values["serial_no"])
            faulty.discard("serial_no")
        if not faulty:
            valid_total_fen += employer + individual
        lines.append([values[k] for k in COLUMN_KEYS])
        expected_faulty.append(faulty)

    with tempfile.TemporaryDirectory() as directory:
        path = write_csv(Path(directory) / "p.csv", lines, EN if english else ZH,
                         encoding=encoding, delimiter=delimiter, newline=newline)
        items = read(path)

    assert [i.line_no for i in items] == list(range(2, len(rows) + 2))
    for item, faulty in zip(items, expected_faulty, strict=True):
        if isinstance(item, LineErrors):
            assert {e.field for e in item.errors} == faulty
            assert all(e.line_no == item.line_no for e in item.errors)
        else:
            assert not faulty
    valid = [i for i in items if isinstance(i, CollectionLine)]
    assert sum(i.total_fen for i in valid) == valid_total_fen
