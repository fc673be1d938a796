"""Money is int fen; one rounding rule (half up); amounts from users are whole fen or refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ValidationFailed
from domain.money import (
    apply_rate,
    apply_ratio,
    fen_to_yuan_text,
    require_fen,
    round_fen,
    yuan_text_to_fen,
)

rates = st.decimals(min_value=0, max_value=Decimal("0.9999"), places=4)


@pytest.mark.parametrize(("amount", "fen"), [
    ("0.5", 1), ("1.5", 2), ("2.5", 3), ("0.49", 0), ("0.51", 1), ("7", 7),
    ("-0.5", -1), ("-2.5", -3),  # half away from zero, symmetric
])
def test_round_fen_rounds_half_up(amount: str, fen: int) -> None:
    assert round_fen(Decimal(amount)) == fen


def test_apply_rate_rounds_the_product_once() -> None:
    assert apply_rate(1_000_000, Decimal("0.16")) == 160_000
    assert apply_rate(450_001, Decimal("0.005")) == 2_250  # 2250.005 → 2250
    assert apply_rate(450_100, Decimal("0.005")) == 2_251  # 2250.5 → 2251
    assert apply_rate(1, Decimal("0.5")) == 1
    assert apply_rate(0, Decimal("0.2")) == 0


@given(st.integers(-10**12, 10**12), rates)
def test_apply_rate_equals_round_fen_of_the_exact_product(base_fen: int, rate: Decimal) -> None:
    assert apply_rate(base_fen, rate) == round_fen(Decimal(base_fen) * rate)


@given(st.integers(-10**12, 10**12), st.integers(0, 10**6), st.integers(1, 10**6))
def test_apply_ratio_equals_round_fen_of_the_exact_fraction(amount: int, numerator: int,
                                                            denominator: int) -> None:
    exact = Decimal(amount) * numerator / denominator
    assert apply_ratio(amount, numerator, denominator) == round_fen(exact)


def test_require_fen_accepts_whole_fen() -> None:
    assert require_fen(0, "base_fen") == 0
    assert require_fen(123_456, "base_fen") == 123_456
    assert require_fen(-5, "delta_fen", allow_negative=True) == -5


@pytest.mark.parametrize("value", [1.0, 100.5, True, False, "100", None, Decimal(100)])
def test_require_fen_refuses_anything_but_an_int(value: object) -> None:
    with pytest.raises(ValidationFailed) as info:
        require_fen(value, "base_fen")
    assert info.value.code == "amount_not_integer_fen"
    assert info.value.field == "base_fen"


def test_require_fen_refuses_a_negative_amount() -> None:
    with pytest.raises(ValidationFailed) as info:
        require_fen(-1, "base_fen")
    assert (info.value.code, info.value.field) == ("amount_negative", "base_fen")


@pytest.mark.parametrize(("text", "fen"), [
    ("1234.56", 123_456), ("0.01", 1), ("10", 1000), (" 12.3 ", 1230), ("1.230", 123),
])
def test_yuan_text_to_fen_reads_up_to_two_decimals(text: str, fen: int) -> None:
    assert yuan_text_to_fen(text, "amount") == fen


@pytest.mark.parametrize("text", ["1.234", "0.001", "12.345"])
def test_yuan_text_to_fen_refuses_fractions_of_a_fen(text: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        yuan_text_to_fen(text, "amount")
    assert (info.value.code, info.value.field) == ("amount_not_integer_fen", "amount")


@pytest.mark.parametrize("text", ["", "abc", "1,000.00", "¥5"])
def test_yuan_text_to_fen_refuses_text_that_is_no_number(text: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        yuan_text_to_fen(text, "amount")
    assert info.value.code == "amount_not_a_number"


@pytest.mark.parametrize("text", ["Infinity", "-Infinity", "NaN", "sNaN"])
def test_yuan_text_to_fen_refuses_non_finite_numbers(text: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        yuan_text_to_fen(text, "amount")
    assert info.value.code == "amount_not_a_number"


@pytest.mark.parametrize(("fen", "text"), [
    (0, "0.00"), (1, "0.01"), (10, "0.10"), (123_456, "1234.56"), (11_377_644, "113776.44"),
    (-5, "-0.05"), (-123_456, "-1234.56"),
])
def test_fen_to_yuan_text_is_exact(fen: int, text: str) -> None:
    assert fen_to_yuan_text(fen) == text


@given(st.integers(-10**15, 10**15))
def test_yuan_text_round_trips(fen: int) -> None:
    assert yuan_text_to_fen(fen_to_yuan_text(fen), "amount") == fen
