"""The statement's verification code (domain/verification_code.py): it packs year, position,
person key and content-hash prefix and gives them back; the check character catches every
mistyped character and every swap of neighbours but 0↔Z; what a reader types by mistake for
1 and 0 is read right."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ValidationFailed
from domain.verification_code import (
    ALPHABET,
    CODE_CHARS,
    HASH_PREFIX_BITS,
    PERSON_KEY_BITS,
    POSITION_MAX,
    YEAR_MAX,
    YEAR_MIN,
    VerificationCode,
    hash_prefix,
    issue_code,
    parse_code,
)

codes = st.builds(VerificationCode, st.integers(YEAR_MIN, YEAR_MAX), st.integers(0, POSITION_MAX),
                  st.integers(0, (1 << PERSON_KEY_BITS) - 1),
                  st.integers(0, (1 << HASH_PREFIX_BITS) - 1))


@given(codes)
def test_a_code_reads_back_as_it_was_written(code: VerificationCode) -> None:
    text = code.text()
    assert len(text) == CODE_CHARS + 2 and text.count("-") == 2
    assert parse_code(text) == code
    assert parse_code(text.lower().replace("-", " ")) == code


@given(codes, st.data())
def test_every_single_mistyped_character_is_caught(code: VerificationCode,
                                                   data: st.DataObject) -> None:
    chars = list(code.text().replace("-", ""))
    index = data.draw(st.integers(0, len(chars) - 1))
    chars[index] = data.draw(st.sampled_from([c for c in ALPHABET if c != chars[index]]))
    with pytest.raises(ValidationFailed) as wrong:
        parse_code("".join(chars))
    assert wrong.value.code in ("verification_code_check_char", "verification_code_version")


@given(codes, st.data())
def test_swapped_neighbours_are_caught_but_zero_and_z(code: VerificationCode,
                                                      data: st.DataObject) -> None:
    chars = list(code.text().replace("-", ""))
    index = data.draw(st.integers(0, len(chars) - 2))
    pair = {chars[index], chars[index + 1]}
    chars[index], chars[index + 1] = chars[index + 1], chars[index]
    if len(pair) == 1 or pair == {"0", "Z"}:
        return
    with pytest.raises(ValidationFailed):
        parse_code("".join(chars))


def test_look_alike_letters_are_read_as_digits() -> None:
    code = VerificationCode(2024, 10_110, 0x10101, 0x1010101)
    text = code.text()
    assert "1" in text and "0" in text
    typed = text.replace("1", "l").replace("0", "O")
    assert parse_code(typed) == code


def test_malformed_codes_say_what_is_wrong() -> None:
    good = issue_code(2024, 123_456, 42, "ab" * 32)
    for text, expected in ((good[:-1], "verification_code_malformed"),
                           (good + "0", "verification_code_malformed"),
                           (good.replace(good[3], "U"), "verification_code_malformed"),
                           ("x" * 100, "verification_code_malformed")):
        with pytest.raises(ValidationFailed) as wrong:
            parse_code(text)
        assert (wrong.value.code, wrong.value.field) == (expected, "code")


def test_the_code_keeps_the_first_bits_of_the_content_hash() -> None:
    digest = "0123456789abcdef" * 4
    code = parse_code(issue_code(2023, 7, 5, digest))
    assert code.hash_prefix == hash_prefix(digest) == 0x0123456
    assert code.matches(digest) and not code.matches("f" + digest[1:])
    assert (code.year, code.position, code.person_key) == (2023, 7, 5)
