"""Identifiers with check characters: the resident ID number (公民身份号码, GB 11643, ISO 7064
MOD 11-2) and the unified social credit code (统一社会信用代码, GB 32100-2015, MOD 31)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.errors import ValidationFailed

ID_NUMBER_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_NUMBER_CHECK_CHARS = "10X98765432"  # index = weighted sum mod 11

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, Z, S, V
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def id_number_check_char(first17: str) -> str:
    total = 0
    for c, w in zip(first17, ID_NUMBER_WEIGHTS, strict=True):
        total += (ord(c) - 48) * w
    return ID_NUMBER_CHECK_CHARS[total % 11]


@dataclass(frozen=True)
class ResidentId:
    """A validated 18-character resident ID number with what it encodes."""

    number: str
    birth_date: date
    sex: str  # "M" or "F": the 17th digit, odd for men

    @property
    def area_code(self) -> str:
        return self.number[:6]


def check_id_number(text: str, field: str = "id_number") -> str:
    """The normalised ID number if it is valid (check character and birth date), else raise.
    The lean form of `parse_id_number` for the bulk path: no object is built when valid."""
    if (len(text) == 18 and text.isascii() and text[:17].isdigit()
            and text[17] == id_number_check_char(text[:17]) and _birth_date_ok(text)):
        return text
    return parse_id_number(text, field).number  # raises with the precise reason


_DAYS_IN_MONTH = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _birth_date_ok(number: str) -> bool:
    year, month, day = int(number[6:10]), int(number[10:12]), int(number[12:14])
    if not 1 <= month <= 12 or not 1 <= day <= _DAYS_IN_MONTH[month] or year < 1:
        return False
    return month != 2 or day < 29 or (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0))


def parse_id_number(text: str, field: str = "id_number") -> ResidentId:
    number = text.strip().upper()
    # isascii: str.isdigit() is also true for fullwidth and other non-ASCII digits.
    if len(number) != 18 or not number.isascii() or not number[:17].isdigit() or not (
        number[17].isdigit() or number[17] == "X"
    ):
        raise ValidationFailed(
            "id_number_malformed",
            f"{field}: {text!r} is not an 18-character resident ID number "
            "(17 digits and a check character 0-9 or X)",
            field=field,
        )
    expected = id_number_check_char(number[:17])
    if number[17] != expected:
        raise ValidationFailed(
            "id_number_check_digit",
            f"{field}: check character of {mask_id_number(number)} should be {expected}; "
            "re-read the number from the ID card",
            field=field,
        )
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationFailed(
            "id_number_birth_date",
            f"{field}: {mask_id_number(number)} has no valid birth date in positions 7-14",
            field=field,
        ) from None
    return ResidentId(number=number, birth_date=birth, sex="M" if int(number[16]) % 2 else "F")


def mask_id_number(number: str) -> str:
    """440781199001011234 → 440781********1234, for logs and roles that need no full number."""
    return number[:6] + "*" * max(len(number) - 10, 0) + number[-4:] if len(number) > 10 else "***"


# Two-character surnames (复姓) that are kept whole when a name is masked: 欧阳娜娜 → 欧阳**.
COMPOUND_SURNAMES = frozenset((
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文",
    "司徒", "司空", "夏侯", "轩辕", "令狐", "钟离", "澹台", "闻人", "赫连", "独孤", "南宫",
    "西门", "百里", "呼延", "端木", "万俟", "单于", "申屠", "太史", "公羊", "濮阳", "淳于",
    "拓跋", "东郭", "闾丘", "左丘", "第五", "梁丘", "宗政", "完颜",
))
NAME_SEPARATORS = "·• "  # 阿依古丽·买买提: the dot between names stays visible


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧阳**, 阿依古丽·买买提 → 阿***·***: the surname (the first character,
    or a compound surname when the name is longer than it) stays, every other character but a
    separator becomes *. A one-character name is masked whole."""
    name = name.strip()
    if len(name) <= 1:
        return "*" * len(name)
    kept = 2 if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else 1
    return name[:kept] + "".join(c if c in NAME_SEPARATORS else "*" for c in name[kept:])


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def parse_credit_code(text: str, field: str = "credit_code") -> str:
    code = text.strip().upper()
    if len(code) != 18 or any(c not in USCC_CHARSET for c in code):
        raise ValidationFailed(
            "credit_code_malformed",
            f"{field}: {text!r} is not an 18-character unified social credit code "
            f"(characters from {USCC_CHARSET})",
            field=field,
        )
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise ValidationFailed(
            "credit_code_check_char",
            f"{field}: check character of {code} should be {expected}; "
            "re-read the code from the business licence",
            field=field,
        )
    return code
