"""The year's targets (上级下达任务) the annual report measures completion against: input data,
not policy — a TOML document of `[[target]]` entries, each a year, an indicator, an insurance,
optionally an employer type, the target value and its source (the notice it comes from).

    [[target]]
    year = 2024
    indicator = "participants"        # see INDICATORS
    insurance = "110"                 # AAE140 code
    employer_type = "enterprise"      # optional: enterprise | public_institution
    persons = 9500                    # participants, contributors
    # amount_fen = 4_200_000_000      # income, income_for_periods (万元 × 1,000,000)
    source = "DEMO: invented for the demo region"

A bad document is refused as a whole with the file, the entry and the key at fault."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from domain.errors import ValidationFailed
from domain.registration import EMPLOYER_TYPES

PERSONS = "persons"
AMOUNT_FEN = "amount_fen"


@dataclass(frozen=True)
class Indicator:
    code: str
    name_zh: str
    value_key: str  # PERSONS or AMOUNT_FEN


INDICATORS: dict[str, Indicator] = {i.code: i for i in (
    Indicator("participants", "参保人数", PERSONS),
    Indicator("contributors", "缴费人数", PERSONS),
    Indicator("income", "基金收入（本年入账）", AMOUNT_FEN),
    Indicator("income_for_periods", "本年所属期缴费收入", AMOUNT_FEN),
)}
KNOWN_KEYS = frozenset({"year", "indicator", "insurance", "employer_type", PERSONS, AMOUNT_FEN,
                        "source"})
YEAR_MIN, YEAR_MAX = 1990, 2100
TARGETS_MAX = 1000  # entries in one document


@dataclass(frozen=True)
class Target:
    year: int
    indicator: str
    insurance: str
    employer_type: str | None  # None: every employer type
    value: int  # persons, or fen
    source: str

    @property
    def key(self) -> tuple[str, str, str | None]:
        return (self.indicator, self.insurance, self.employer_type)


def _refuse(where: str, message: str) -> ValidationFailed:
    return ValidationFailed("targets_invalid", f"{where}: {message}", field="targets")


def parse_targets(document: Mapping[str, Any], file_label: str,
                  insurances: Collection[str]) -> list[Target]:
    """Every entry of the document, validated; `insurances` are the codes that may be named.
    Two entries for the same year, indicator, insurance and employer type are refused."""
    entries = document.get("target", [])
    unknown_top = sorted(set(document) - {"target"})
    if unknown_top:
        raise _refuse(file_label, f"unknown top-level key(s) {', '.join(unknown_top)}; write "
                                  "each target as a [[target]] entry")
    if not isinstance(entries, list):
        raise _refuse(file_label, "expected an array of [[target]] entries")
    if len(entries) > TARGETS_MAX:
        raise _refuse(file_label, f"{len(entries)} entries; at most {TARGETS_MAX}")
    targets: list[Target] = []
    seen: set[tuple[int, str, str, str | None]] = set()
    for index, entry in enumerate(entries):
        target = _target(entry, f"{file_label} target[{index}]", insurances)
        key = (target.year, *target.key)
        if key in seen:
            raise _refuse(f"{file_label} target[{index}]", "the same year, indicator, "
                          "insurance and employer type are given twice; keep one entry")
        seen.add(key)
        targets.append(target)
    return targets


def _target(entry: Any, where: str, insurances: Collection[str]) -> Target:
    if not isinstance(entry, dict):
        raise _refuse(where, f"expected a table of keys, got {entry!r}")
    unknown = sorted(set(entry) - KNOWN_KEYS)
    if unknown:
        raise _refuse(where, f"unknown key(s) {', '.join(f'`{k}`' for k in unknown)}; known: "
                             f"{', '.join(sorted(KNOWN_KEYS))}")
    year = _whole(entry, "year", where)
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise _refuse(where, f"`year` {year} is outside {YEAR_MIN}-{YEAR_MAX}")
    code = _text(entry, "indicator", where)
    indicator = INDICATORS.get(code)
    if indicator is None:
        raise _refuse(where, f"`indicator` {code!r} is unknown; one of "
                             f"{', '.join(INDICATORS)}")
    insurance = _text(entry, "insurance", where)
    if insurance not in insurances:
        raise _refuse(where, f"`insurance` {insurance!r} is not an insurance the ledger posts; "
                             f"one of {', '.join(insurances)}")
    employer_type = entry.get("employer_type")
    if employer_type is not None and employer_type not in EMPLOYER_TYPES:
        raise _refuse(where, f"`employer_type` {employer_type!r} is unknown; one of "
                             f"{', '.join(EMPLOYER_TYPES)}, or leave it out for all employers")
    other = AMOUNT_FEN if indicator.value_key == PERSONS else PERSONS
    if other in entry:
        raise _refuse(where, f"indicator {code} is measured in `{indicator.value_key}`, not "
                             f"`{other}`")
    value = _whole(entry, indicator.value_key, where)
    if value <= 0:
        raise _refuse(where, f"`{indicator.value_key}` must be more than 0, got {value}")
    return Target(year, code, insurance, employer_type, value, _text(entry, "source", where))


def _whole(entry: Mapping[str, Any], key: str, where: str) -> int:
    if key not in entry:
        raise _refuse(where, f"`{key}` is missing")
    value = entry[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise _refuse(where, f"`{key}` must be a whole number (unquoted), got {value!r}")
    return value


def _text(entry: Mapping[str, Any], key: str, where: str) -> str:
    if key not in entry:
        raise _refuse(where, f"`{key}` is missing")
    value = entry[key]
    if not isinstance(value, str) or not value.strip():
        raise _refuse(where, f"`{key}` must be non-empty text, got {value!r}")
    return value.strip()
