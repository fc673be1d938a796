"""One line of the tax bureau's collection detail: what is accepted, how it is normalised, and
that every fault of a line is reported together with a stable code."""

from __future__ import annotations

import pytest

from domain.collection import (
    COLUMN_KEYS,
    COLUMNS,
    CollectionLine,
    LineError,
    map_header,
    parse_line,
)
from domain.errors import ValidationFailed
from domain.identity import id_number_check_char
from infra.policy_loader import default_policy
from tests.helpers import make_credit_code, make_id_number, with_wrong_check_char

POLICY = default_policy()


def valid_raw(**changes: str) -> dict[str, str]:
    raw = {
        "serial_no": "3440781202401000001",
        "credit_code": make_credit_code(1),
        "id_number": make_id_number(1),
        "insurance": "110",
        "period": "2024-01",
        "base": "10000.00",
        "employer_amount": "1600.00",
        "individual_amount": "800",
        "collected_on": "2024-01-15",
        "tax_batch": "B202401-0001",
    }
    raw.update(changes)
    return raw


def errors_of(raw: dict[str, str]) -> list[LineError]:
    result = parse_line(7, raw, POLICY)
    assert isinstance(result, list), result
    return result


def only_error(raw: dict[str, str]) -> LineError:
    errors = errors_of(raw)
    assert len(errors) == 1, errors
    return errors[0]


def test_a_valid_line_is_parsed_into_fen_and_iso_forms() -> None:
    line = parse_line(2, valid_raw(), POLICY)
    assert line == CollectionLine(
        line_no=2, serial_no="3440781202401000001", credit_code=make_credit_code(1),
        id_number=make_id_number(1), insurance="110", period="2024-01", base_fen=1_000_000,
        employer_fen=160_000, individual_fen=80_000, collected_on="2024-01-15",
        tax_batch="B202401-0001",
    )
    assert line.total_fen == 240_000


def test_compact_period_and_date_are_normalised() -> None:
    line = parse_line(2, valid_raw(period="202312", collected_on="20240105"), POLICY)
    assert isinstance(line, CollectionLine)
    assert (line.period, line.collected_on) == ("2023-12", "2024-01-05")


def test_slashed_date_and_a_time_part_are_accepted() -> None:
    for text in ("2024/1/5", "2024-01-05 00:00:00", "20240105"):
        line = parse_line(2, valid_raw(collected_on=text), POLICY)
        assert isinstance(line, CollectionLine), text
        assert line.collected_on == "2024-01-05"


def test_values_are_stripped_and_a_lower_case_x_is_upper_cased() -> None:
    number = next(make_id_number(s) for s in range(1000) if make_id_number(s).endswith("X"))
    line = parse_line(2, valid_raw(id_number=f" {number.lower()} ", insurance=" 110 "), POLICY)
    assert isinstance(line, CollectionLine)
    assert (line.id_number, line.insurance) == (number, "110")


def test_zero_amounts_are_valid() -> None:
    line = parse_line(2, valid_raw(individual_amount="0", employer_amount="0.00"), POLICY)
    assert isinstance(line, CollectionLine)
    assert line.total_fen == 0


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("id_number", with_wrong_check_char(make_id_number(1)), "id_number_check_digit"),
        ("id_number", "44078119900101123", "id_number_malformed"),
        ("credit_code", with_wrong_check_char(make_credit_code(1)), "credit_code_check_char"),
        ("credit_code", "91440781MA00000I1X", "credit_code_malformed"),
        ("insurance", "999", "insurance_unknown"),
        ("period", "2024/01", "period_malformed"),
        ("period", "2024-13", "period_out_of_range"),
        ("period", "1980-01", "period_out_of_range"),
        ("base", "10000.001", "amount_not_integer_fen"),
        ("employer_amount", "-1.00", "amount_negative"),
        ("individual_amount", "1,600.00", "amount_not_a_number"),
        ("individual_amount", "¥800", "amount_not_a_number"),
        ("individual_amount", "1e3", "amount_not_a_number"),
        ("base", "100000000000", "amount_too_large"),
        ("collected_on", "2024-02-30", "date_malformed"),
        ("collected_on", "15/01/2024", "date_malformed"),
        ("serial_no", "", "value_missing"),
        ("tax_batch", "   ", "value_missing"),
        ("base", "", "value_missing"),
        ("serial_no", "9" * 65, "value_too_long"),
        ("tax_batch", "B\x0701", "value_malformed"),
    ],
)
def test_each_fault_has_its_code_and_names_its_field(key: str, value: str, code: str) -> None:
    error = only_error(valid_raw(**{key: value}))
    assert (error.line_no, error.field, error.code) == (7, key, code)
    assert error.message.startswith(key)
    assert error.raw[key] == value


def test_birth_date_of_the_id_number_is_checked() -> None:
    first17 = "44078119900230001"  # 30 February
    error = only_error(valid_raw(id_number=first17 + id_number_check_char(first17)))
    assert error.code == "id_number_birth_date"


def test_a_missing_key_is_value_missing() -> None:
    raw = valid_raw()
    del raw["collected_on"]
    assert only_error(raw).code == "value_missing"


def test_all_faults_of_a_line_are_reported_together_in_column_order() -> None:
    raw = valid_raw(
        id_number=with_wrong_check_char(make_id_number(2)), insurance="120", period="24-01",
        base="", employer_amount="-5", collected_on="2024-1-5", tax_batch="",
    )
    errors = errors_of(raw)
    assert [(e.field, e.code) for e in errors] == [
        ("id_number", "id_number_check_digit"),
        ("insurance", "insurance_unknown"),
        ("period", "period_malformed"),
        ("base", "value_missing"),
        ("employer_amount", "amount_negative"),
        ("collected_on", "date_malformed"),
        ("tax_batch", "value_missing"),
    ]
    assert all(e.raw is raw for e in errors)


def test_faults_found_by_the_reader_replace_the_check_of_that_field() -> None:
    raw = valid_raw(id_number="440781199001011000")
    result = parse_line(3, raw, POLICY, {"id_number": ("cell_is_number", "id_number: number")})
    assert isinstance(result, list)
    assert [(e.field, e.code) for e in result] == [("id_number", "cell_is_number")]


def test_header_is_matched_in_either_language_in_any_order_ignoring_case_bom_and_extras() -> None:
    headers = ["\ufeff姓名"] + [
        (c.header_zh, c.header_en.upper(), f" {c.key} ")[i % 3] for i, c in enumerate(COLUMNS)
    ]
    headers.reverse()
    positions = map_header(headers)
    assert set(positions) == set(COLUMN_KEYS)
    assert positions["serial_no"] == len(headers) - 2


def test_a_missing_column_is_named_in_both_languages() -> None:
    headers = [c.header_zh for c in COLUMNS if c.key not in ("period", "tax_batch")]
    with pytest.raises(ValidationFailed) as info:
        map_header(headers)
    assert info.value.code == "columns_missing"
    for text in ("费款所属期", "Contribution period", "period", "税务批次号", "tax_batch"):
        assert text in info.value.message


def test_a_column_given_twice_is_refused() -> None:
    headers = [c.header_zh for c in COLUMNS] + ["Citizen ID number"]
    with pytest.raises(ValidationFailed) as info:
        map_header(headers)
    assert info.value.code == "column_duplicate"
    assert info.value.field == "id_number"
