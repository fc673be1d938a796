"""Resident ID numbers (GB 11643, ISO 7064 MOD 11-2) and unified social credit codes
(GB 32100-2015, MOD 31): what is accepted, what is refused and why."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ValidationFailed
from domain.identity import (
    ID_NUMBER_CHECK_CHARS,
    USCC_CHARSET,
    check_id_number,
    id_number_check_char,
    mask_id_number,
    parse_credit_code,
    parse_id_number,
    uscc_check_char,
)
from tests.helpers import make_credit_code, make_id_number, with_wrong_check_char

ASCII_DIGITS = "0123456789"
digits17 = st.text(alphabet=ASCII_DIGITS, min_size=17, max_size=17)
uscc17 = st.text(alphabet=USCC_CHARSET, min_size=17, max_size=17)


def refused(code: str, call: Callable[..., object], *args: object) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        call(*args)
    assert info.value.code == code, info.value.message
    return info.value


# -- ID numbers ---------------------------------------------------------------------------------


def test_a_generated_id_number_parses_with_its_birth_date_and_sex() -> None:
    number = make_id_number(1, birth=date(1985, 7, 31))
    parsed = parse_id_number(number)
    assert parsed.number == number
    assert parsed.birth_date == date(1985, 7, 31)
    assert parsed.area_code == "440781"
    assert parsed.sex == "M"  # sequence 001: the 17th digit is odd
    assert parse_id_number(make_id_number(2)).sex == "F"


def test_a_published_sample_id_number_is_valid() -> None:
    # The GB 11643 example number; its check character is X.
    assert id_number_check_char("11010519491231002") == "X"
    assert parse_id_number("11010519491231002X").birth_date == date(1949, 12, 31)


def test_a_lowercase_x_check_char_is_accepted_and_normalised() -> None:
    assert parse_id_number("11010519491231002x").number == "11010519491231002X"
    assert parse_id_number("  11010519491231002X ").number == "11010519491231002X"
    assert check_id_number("11010519491231002x") == "11010519491231002X"


def test_a_wrong_check_digit_is_refused_naming_the_field() -> None:
    error = refused("id_number_check_digit", parse_id_number,
                    with_wrong_check_char(make_id_number(7)), "applicant_id")
    assert error.field == "applicant_id"
    assert make_id_number(7)[8:14] not in error.message  # the message masks the number


def test_an_impossible_birth_date_is_refused() -> None:
    first17 = "44078119900230001"  # 30 February 1990
    refused("id_number_birth_date", parse_id_number, first17 + id_number_check_char(first17))
    refused("id_number_birth_date", check_id_number, first17 + id_number_check_char(first17))


def test_29_february_is_a_birth_date_only_in_leap_years() -> None:
    assert parse_id_number(make_id_number(3, birth=date(2000, 2, 29))).birth_date.day == 29
    first17 = "44078119000229003"  # 1900 is not a leap year
    refused("id_number_birth_date", check_id_number, first17 + id_number_check_char(first17))


@pytest.mark.parametrize("text", [
    "",
    "44078119900101001",  # 17 characters
    "4407811990010100123",  # 19 characters
    "44078119900101001A",  # check character neither a digit nor X
    "4407811990010X0012",  # X in the body
    "44078119900101 0012",
])
def test_a_malformed_id_number_is_refused(text: str) -> None:
    refused("id_number_malformed", parse_id_number, text)
    refused("id_number_malformed", check_id_number, text)


def test_the_lean_check_gives_the_same_precise_reason_as_the_parser() -> None:
    refused("id_number_check_digit", check_id_number, with_wrong_check_char(make_id_number(9)))


def test_an_id_number_with_non_ascii_digits_is_refused() -> None:
    fullwidth = "４４０７８１１９９００１０１００１"
    number = fullwidth + id_number_check_char(fullwidth)
    refused("id_number_malformed", parse_id_number, number)


def test_a_masked_id_number_keeps_only_area_and_last_four() -> None:
    assert mask_id_number("440781199001011234") == "440781********1234"
    assert mask_id_number("short") == "***"


@given(digits17)
def test_any_17_digits_with_their_computed_check_char_parse(first17: str) -> None:
    number = first17 + id_number_check_char(first17)
    if _birth_ok(first17):
        assert parse_id_number(number).number == number
        assert check_id_number(number) == number
    else:
        refused("id_number_birth_date", parse_id_number, number)


@given(digits17, st.integers(0, 16), st.integers(1, 9))
def test_changing_any_single_digit_breaks_the_check_char(first17: str, position: int,
                                                         shift: int) -> None:
    changed_digit = str((int(first17[position]) + shift) % 10)
    changed = first17[:position] + changed_digit + first17[position + 1:]
    assert id_number_check_char(changed) != id_number_check_char(first17)


@given(digits17, st.sampled_from(ID_NUMBER_CHECK_CHARS))
def test_only_the_computed_check_char_is_accepted(first17: str, check: str) -> None:
    if check == id_number_check_char(first17) or not _birth_ok(first17):
        return
    refused("id_number_check_digit", parse_id_number, first17 + check)


def _birth_ok(first17: str) -> bool:
    try:
        date(int(first17[6:10]), int(first17[10:12]), int(first17[12:14]))
    except ValueError:
        return False
    return True


# -- unified social credit codes --------------------------------------------------------------


def test_a_generated_credit_code_parses() -> None:
    code = make_credit_code(1)
    assert code.startswith("91440781MA0000001")
    assert parse_credit_code(code) == code
    assert parse_credit_code(" " + code.lower() + " ") == code


def test_a_published_sample_credit_code_is_valid() -> None:
    # A code printed on a public business licence sample (check character 3).
    assert uscc_check_char("91350100M000100Y4") == "3"
    assert parse_credit_code("91350100M000100Y43") == "91350100M000100Y43"


def test_a_credit_code_with_a_wrong_check_char_is_refused() -> None:
    code = make_credit_code(42)
    wrong = code[:17] + next(c for c in USCC_CHARSET if c != code[17])
    error = refused("credit_code_check_char", parse_credit_code, wrong, "employer_code")
    assert error.field == "employer_code"


@pytest.mark.parametrize("text", [
    "",
    "91440781MA000000",  # 16 characters
    "91440781MA0000001KK",  # 19 characters
    "91440781MA000000IK",  # I is not in the charset
    "91440781MA000000OK",  # nor O
    "91440781MA000000-K",
])
def test_a_malformed_credit_code_is_refused(text: str) -> None:
    refused("credit_code_malformed", parse_credit_code, text)


@given(uscc17)
def test_any_17_code_chars_with_their_computed_check_char_parse(first17: str) -> None:
    code = first17 + uscc_check_char(first17)
    assert parse_credit_code(code) == code


@given(uscc17, st.integers(0, 16), st.integers(1, 30))
def test_changing_any_single_credit_code_char_breaks_the_check_char(
        first17: str, position: int, shift: int) -> None:
    changed_char = USCC_CHARSET[(USCC_CHARSET.index(first17[position]) + shift) % 31]
    changed = first17[:position] + changed_char + first17[position + 1:]
    assert uscc_check_char(changed) != uscc_check_char(first17)
