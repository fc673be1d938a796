"""A line of a benefit payment-detail file (待遇支付明细) of 210/310/410/510: the column
specification, the check of one line, and the catalogue of benefit kinds per insurance (policy
file benefit_kinds.toml) the line's kind is checked against. The recorded payment is
domain/benefit_payment.py; reading files is infra/benefit_payment_file.py."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.benefit_payment import BENEFIT_INSURANCES, BenefitLine
from domain.collection import (
    ColumnSpec,
    FieldChecker,
    LineError,
    LineErrors,
    header_key,
    map_columns,
    parse_date,
    positive_amount_fen,
    voucher_text,
)
from domain.errors import ValidationFailed
from domain.identity import check_id_number
from domain.money import fen_to_yuan_text
from domain.periods import parse_period
from domain.policy import PENSION, PolicyTables

BENEFIT_LINES_MAX = 200_000  # a month of a region's medical settlements fits; a year may not
KIND_CODE = re.compile(r"[a-z][a-z0-9_]{1,63}", re.ASCII)

BENEFIT_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("paid_on", "支付日期", "Paid on",
               "the day the benefit was paid out: YYYY-MM-DD or YYYYMMDD"),
    ColumnSpec("insurance", "险种代码", "Insurance code",
               "AAE140 code of the paying insurance: 210, 310, 410 or 510"),
    ColumnSpec("kind", "待遇类别", "Benefit kind",
               "a benefit kind of the insurance (code or Chinese name), e.g. 失业保险金"),
    ColumnSpec("id_number", "身份证号", "ID number",
               "the recipient's 18-character resident ID number, registered in this region"),
    ColumnSpec("period", "所属期", "Period",
               "the month the benefit is for: YYYY-MM or YYYYMM"),
    ColumnSpec("amount", "金额", "Amount", "yuan, at most 2 decimals, more than zero"),
    ColumnSpec("voucher", "凭证号", "Voucher number",
               "the paying system's voucher number; unique per insurance"),
)

_HEADER_ALIASES: dict[str, str] = {
    header_key(name): c.key
    for c in BENEFIT_COLUMNS for name in (c.key, c.header_zh, c.header_en)
}
# The collection files' header for the ID number is accepted too.
_HEADER_ALIASES[header_key("公民身份号码")] = "id_number"
_PERIOD = re.compile(r"(\d{4})-?(\d{2})", re.ASCII)


# -- the catalogue of benefit kinds -----------------------------------------------------------

@dataclass(frozen=True, slots=True)
class BenefitKind:
    code: str  # e.g. unemployment_benefit
    insurance: str
    name_zh: str  # e.g. 失业保险金
    source: str  # the legal basis


@dataclass(frozen=True)
class BenefitKinds:
    """The benefit kinds per insurance (benefit_kinds.toml), validated on load."""

    kinds: Mapping[str, BenefitKind]  # code → kind, in file order

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> BenefitKinds:
        entries = doc.get("kind")
        if not isinstance(entries, list) or not entries:
            raise ValueError("benefit_kinds.toml: expected [[kind]] entries")
        kinds: dict[str, BenefitKind] = {}
        names: set[tuple[str, str]] = set()
        for i, entry in enumerate(entries, start=1):
            where = f"benefit_kinds.toml kind[{i}]"
            if not isinstance(entry, dict):
                raise ValueError(f"{where}: expected a table")
            values = {key: entry.get(key) for key in ("code", "insurance", "name_zh", "source")}
            for key, value in values.items():
                if not isinstance(value, str) or not value.strip():
                    raise ValueError(f"{where} {key}: expected a text, got {value!r}")
            code, insurance = str(values["code"]), str(values["insurance"])
            if KIND_CODE.fullmatch(code) is None:
                raise ValueError(f"{where} code: {code!r} must be lower-case letters, digits "
                                 "and _")
            if insurance not in BENEFIT_INSURANCES:
                raise ValueError(f"{where} insurance: {insurance!r} is not one of "
                                 f"{', '.join(BENEFIT_INSURANCES)} (the pension has its own "
                                 "payment runs)")
            if code in kinds:
                raise ValueError(f"{where} code: {code!r} is given twice")
            name_zh = str(values["name_zh"]).strip()
            if (insurance, name_zh) in names:
                raise ValueError(f"{where} name_zh: {name_zh!r} is given twice for {insurance}")
            names.add((insurance, name_zh))
            kinds[code] = BenefitKind(code, insurance, name_zh, str(values["source"]))
        missing = [i for i in BENEFIT_INSURANCES if all(k.insurance != i for k in kinds.values())]
        if missing:
            raise ValueError(f"benefit_kinds.toml: no kind for insurance {', '.join(missing)}")
        return cls(kinds)

    def of(self, insurance: str) -> list[BenefitKind]:
        return [k for k in self.kinds.values() if k.insurance == insurance]

    def find(self, text: str) -> BenefitKind | None:
        """The kind a file names by its code or its Chinese name."""
        found = self.kinds.get(text.strip().casefold())
        if found is not None:
            return found
        return next((k for k in self.kinds.values() if k.name_zh == text.strip()), None)


# -- one line of a payment-detail file ----------------------------------------------------------

def line_raw(line: BenefitLine, kinds: BenefitKinds) -> dict[str, str]:
    """A valid line as a file would write it (for an errors file)."""
    kind = kinds.kinds.get(line.kind)
    return {"paid_on": line.paid_on, "insurance": line.insurance,
            "kind": kind.name_zh if kind else line.kind, "id_number": line.id_number,
            "period": line.period, "amount": fen_to_yuan_text(line.amount_fen),
            "voucher": line.voucher}


BenefitItem = BenefitLine | LineErrors


def map_benefit_header(cells: Sequence[str]) -> dict[str, int]:
    """Column key → position, from a header in Chinese, English or the keys, in any order;
    unknown columns are ignored, a missing or doubled column is refused."""
    return map_columns(cells, BENEFIT_COLUMNS, _HEADER_ALIASES, "benefit payment specification")


def parse_benefit_line(
    line_no: int,
    raw: Mapping[str, str],
    policy: PolicyTables,
    kinds: BenefitKinds,
    today: date,
) -> BenefitLine | list[LineError]:
    """Check every field of one row and return the line, or all its faults. `today`: a payment
    cannot be dated later. Duplicate vouchers and unregistered persons are the reader's and the
    import's business (they see the whole file and the store)."""
    check = FieldChecker(line_no, raw, BENEFIT_COLUMNS)
    paid_on = check("paid_on", lambda text, key: _paid_on(text, key, today))
    insurance = check("insurance", lambda text, key: _insurance(policy, text, key))
    kind = check("kind", lambda text, key: _kind(kinds, insurance, text, key))
    id_number = check("id_number", check_id_number)
    period = check("period", _period)
    amount_fen = check("amount", _amount_fen)
    voucher = check("voucher", voucher_text)
    if period is not None and paid_on is not None and period > paid_on[:7]:
        check.errors.append(LineError(
            line_no, "period", "period_after_paid_on",
            f"period: {period} is after the month it was paid ({paid_on}); a benefit is paid "
            "for a month that has begun: check the period or the date", raw))
    if check.errors:
        return check.errors
    assert paid_on is not None and insurance is not None and kind is not None
    assert id_number is not None and period is not None and amount_fen is not None
    assert voucher is not None
    return BenefitLine(line_no, paid_on, insurance, kind, id_number, period, amount_fen,
                       voucher)


def _paid_on(text: str, key: str, today: date) -> str:
    day = parse_date(text, key)
    if day > today.isoformat():
        raise ValidationFailed(
            "paid_on_in_future",
            f"{key}: {day} is after today ({today.isoformat()}); only payments made can be "
            "recorded", field=key)
    return day


def _insurance(policy: PolicyTables, text: str, key: str) -> str:
    code = policy.insurance(text, key).code
    if code not in BENEFIT_INSURANCES:
        why = ("the pension is paid by this system's payment runs (shebao pensions pay)"
               if code == PENSION else "its benefits are not paid from the employee funds")
        raise ValidationFailed(
            "insurance_not_paid_here",
            f"{key}: {code} is not an insurance whose payment details are imported here "
            f"({', '.join(BENEFIT_INSURANCES)}): {why}", field=key)
    return code


def _kind(kinds: BenefitKinds, insurance: str | None, text: str, key: str) -> str:
    found = kinds.find(text)
    if found is None:
        listed = "; ".join(f"{i}: " + ", ".join(f"{k.name_zh} ({k.code})" for k in kinds.of(i))
                           for i in ([insurance] if insurance else BENEFIT_INSURANCES))
        raise ValidationFailed(
            "kind_unknown", f"{key}: {text!r} is not a known benefit kind; known: {listed}",
            field=key)
    if insurance is not None and found.insurance != insurance:
        listed = ", ".join(f"{k.name_zh} ({k.code})" for k in kinds.of(insurance))
        raise ValidationFailed(
            "kind_not_of_insurance",
            f"{key}: {found.name_zh} ({found.code}) is a benefit of insurance "
            f"{found.insurance}, not of {insurance}; the kinds of {insurance} are: {listed}",
            field=key)
    return found.code


def _period(text: str, key: str) -> str:
    match = _PERIOD.fullmatch(text)
    if match is None:
        raise ValidationFailed(
            "period_malformed",
            f"{key}: {text!r} is not a month written YYYY-MM or YYYYMM (e.g. 2024-01)",
            field=key)
    return str(parse_period(f"{match.group(1)}-{match.group(2)}", key))


def _amount_fen(text: str, key: str) -> int:
    return positive_amount_fen(text, key, "a recovered overpayment is not a payment line")
