"""The verification code (校验码) printed on a personal rights statement: short enough to type,
and enough for anyone to have the bureau confirm the statement without storing it.

It packs 100 bits — the statement's format version (2 bits: formats 1, 2 and 3 as themselves,
format 4 as 0; domain/statement.py), year − 1970 (7),
the log position the statement was issued at (36), the person's key (27,
projections/person_facts.py `person_key`) and the first 28 bits of the statement's content
hash — into 20 characters of Crockford's base32 (no I, L, O, U),
followed by one check character (Luhn mod 32: it catches every single mistyped character and
every swap of two neighbours but 0↔Z), written in three groups of seven: `ABCDEFG-HJKMNPQ-RSTVWXY`.

Verifying rebuilds the statement as known at that position for each person with that key and
compares its content hash with the code's prefix (infra/statement_queries.py): the code proves
nothing by itself, the ledger does."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import ValidationFailed
from domain.statement import FORMAT_VERSION, FORMAT_VERSIONS

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
# Crockford's decoding of look-alikes: what a reader types for 1 and 0.
_LOOK_ALIKES = {"I": "1", "L": "1", "O": "0"}
VERSION_BITS = 2
# The format in the code's 2 bits: 1-3 as themselves; 0, unused by the first three, names format
# 4. A format 5 needs a new layout (e.g. a longer code) — every code printed so far must still
# parse as it did.
VERSION_OF_FORMAT = {1: 1, 2: 2, 3: 3, 4: 0}
FORMAT_OF_VERSION = {bits: format_version for format_version, bits in VERSION_OF_FORMAT.items()}
assert set(VERSION_OF_FORMAT) == set(FORMAT_VERSIONS), "a format the code cannot name"
YEAR_BASE = 1970
YEAR_BITS = 7
POSITION_BITS = 36
PERSON_KEY_BITS = 27
HASH_PREFIX_BITS = 28
PAYLOAD_BITS = VERSION_BITS + YEAR_BITS + POSITION_BITS + PERSON_KEY_BITS + HASH_PREFIX_BITS
PAYLOAD_CHARS = PAYLOAD_BITS // 5
CODE_CHARS = PAYLOAD_CHARS + 1  # and the check character
GROUP_CHARS = 7
TYPED_LENGTH_MAX = 64  # separators and spaces included
assert PAYLOAD_BITS == PAYLOAD_CHARS * 5 and CODE_CHARS % GROUP_CHARS == 0

YEAR_MIN, YEAR_MAX = YEAR_BASE, YEAR_BASE + (1 << YEAR_BITS) - 1
POSITION_MAX = (1 << POSITION_BITS) - 1


@dataclass(frozen=True)
class VerificationCode:
    year: int
    position: int
    person_key: int
    hash_prefix: int  # the first HASH_PREFIX_BITS bits of the content hash
    format_version: int = FORMAT_VERSION  # of the statement: verifying rebuilds that format

    def text(self) -> str:
        assert YEAR_MIN <= self.year <= YEAR_MAX, self.year
        assert 0 <= self.position <= POSITION_MAX, self.position
        assert 0 <= self.person_key < 1 << PERSON_KEY_BITS, self.person_key
        assert 0 <= self.hash_prefix < 1 << HASH_PREFIX_BITS, self.hash_prefix
        value = VERSION_OF_FORMAT[self.format_version]
        assert 0 <= value < 1 << VERSION_BITS, self.format_version
        for part, bits in ((self.year - YEAR_BASE, YEAR_BITS), (self.position, POSITION_BITS),
                           (self.person_key, PERSON_KEY_BITS),
                           (self.hash_prefix, HASH_PREFIX_BITS)):
            value = value << bits | part
        chars = [ALPHABET[(value >> shift) & 31]
                 for shift in range(PAYLOAD_BITS - 5, -1, -5)]
        chars.append(check_char("".join(chars)))
        return "-".join("".join(chars[i:i + GROUP_CHARS])
                        for i in range(0, CODE_CHARS, GROUP_CHARS))

    def matches(self, content_hash_hex: str) -> bool:
        return hash_prefix(content_hash_hex) == self.hash_prefix


def hash_prefix(content_hash_hex: str) -> int:
    return int(content_hash_hex[:HASH_PREFIX_BITS // 4], 16)


def issue_code(year: int, position: int, person_key: int, content_hash_hex: str,
               format_version: int = FORMAT_VERSION) -> str:
    return VerificationCode(year, position, person_key, hash_prefix(content_hash_hex),
                            format_version).text()


def check_char(payload: str) -> str:
    """Luhn mod 32 over the payload's characters: the character that makes the sum a multiple
    of 32."""
    total, factor = 0, 2
    for c in reversed(payload):
        addend = factor * _VALUE[c]
        total += addend // 32 + addend % 32
        factor = 3 - factor
    return ALPHABET[(32 - total % 32) % 32]


def parse_code(text: str, field: str = "code") -> VerificationCode:
    """A typed code back into its parts; hyphens, spaces and case do not matter, I and L read as
    1 and O as 0. A code that cannot be one is refused saying why."""
    if len(text) > TYPED_LENGTH_MAX:
        raise ValidationFailed("verification_code_malformed",
                               f"{field}: at most {TYPED_LENGTH_MAX} characters", field=field)
    chars = "".join(_LOOK_ALIKES.get(c, c) for c in text.upper() if c not in "- ")
    wrong = sorted({c for c in chars if c not in _VALUE})
    if wrong or len(chars) != CODE_CHARS:
        raise ValidationFailed(
            "verification_code_malformed",
            f"{field}: a verification code is {CODE_CHARS} characters of "
            f"{ALPHABET} (as printed: three groups of {GROUP_CHARS}); got {len(chars)}"
            + (f" with {''.join(wrong)!r}" if wrong else ""), field=field)
    if check_char(chars[:-1]) != chars[-1]:
        raise ValidationFailed(
            "verification_code_check_char",
            f"{field}: the check character does not match: a character is mistyped; "
            "compare the code with the statement again", field=field)
    value = 0
    for c in chars[:-1]:
        value = value << 5 | _VALUE[c]
    hash_bits = value & ((1 << HASH_PREFIX_BITS) - 1)
    value >>= HASH_PREFIX_BITS
    key = value & ((1 << PERSON_KEY_BITS) - 1)
    value >>= PERSON_KEY_BITS
    position = value & POSITION_MAX
    value >>= POSITION_BITS
    year = (value & ((1 << YEAR_BITS) - 1)) + YEAR_BASE
    version = FORMAT_OF_VERSION[value >> YEAR_BITS]
    if version not in FORMAT_VERSIONS:
        raise ValidationFailed(
            "verification_code_version",
            f"{field}: format {version} is not known to this server (it knows "
            f"{', '.join(map(str, FORMAT_VERSIONS))})", field=field)
    return VerificationCode(year, position, key, hash_bits, version)
