"""Money is an integer number of fen (分); rates are Decimal. This module holds the one rounding
function of the project: every conversion of a Decimal amount to fen goes through `round_fen`."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from domain.errors import ValidationFailed

FEN_PER_YUAN = 100


def round_fen(amount_fen: Decimal) -> int:
    """Round a Decimal number of fen to a whole fen, half up (DESIGN.md: one rounding rule)."""
    return int(amount_fen.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def apply_rate(base_fen: int, rate: Decimal) -> int:
    """`base_fen × rate`, rounded once to whole fen: `round_fen(Decimal(base_fen) * rate)`."""
    numerator, denominator = rate.as_integer_ratio()
    return apply_ratio(base_fen, numerator, denominator)


def apply_ratio(amount_fen: int, numerator: int, denominator: int) -> int:
    """`amount_fen × numerator / denominator` rounded half up (ties away from zero), in exact
    integer arithmetic. Equal to `round_fen` of the same product (a property test proves it);
    about ten times faster than Decimal on the bulk path, where it runs 15 times per line."""
    if amount_fen < 0:
        return -apply_ratio(-amount_fen, numerator, denominator)
    return (2 * amount_fen * numerator + denominator) // (2 * denominator)


def require_fen(value: object, field: str, *, allow_negative: bool = False) -> int:
    """Accept only a whole number of fen (an int, not a bool, float or string)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(
            "amount_not_integer_fen",
            f"{field} must be a whole number of fen (分), got {value!r}",
            field=field,
        )
    if value < 0 and not allow_negative:
        raise ValidationFailed(
            "amount_negative", f"{field} must not be negative, got {value}", field=field
        )
    return value


def yuan_text_to_fen(text: str, field: str) -> int:
    """Parse a yuan amount such as "1234.56" into fen; more than two decimals is an error."""
    try:
        amount = Decimal(text.strip())
        finite = amount.is_finite()
    except (InvalidOperation, AttributeError):
        finite = False
    if not finite:
        raise ValidationFailed(
            "amount_not_a_number", f"{field}: {text!r} is not an amount in yuan", field=field
        )
    fen = amount * FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise ValidationFailed(
            "amount_not_integer_fen",
            f"{field}: {text!r} has fractions of a fen; give at most two decimals",
            field=field,
        )
    return int(fen)


def fen_to_yuan_text(amount_fen: int) -> str:
    """1234567 → "12345.67" (exact, no float)."""
    sign = "-" if amount_fen < 0 else ""
    whole, part = divmod(abs(amount_fen), FEN_PER_YUAN)
    return f"{sign}{whole}.{part:02d}"
