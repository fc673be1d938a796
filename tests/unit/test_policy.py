"""Policy tables: the shipped data files load, lookups take the month they apply to, and a bad
policy document stops start-up with a ValueError that names the file."""

from __future__ import annotations

import copy
import tomllib
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest

from domain.errors import ValidationFailed
from domain.periods import Period
from domain.policy import (
    MATERNITY,
    MEDICAL,
    PENSION,
    UNEMPLOYMENT,
    WORK_INJURY,
    PolicyTables,
)
from infra.policy_loader import POLICY_FILES, default_policy

Documents = dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def policy() -> PolicyTables:
    return default_policy()


def shipped_documents() -> Documents:
    return {
        name: tomllib.loads(resources.files("domain").joinpath(
            f"policy_data/{name}.toml").read_text(encoding="utf-8"))
        for name in POLICY_FILES
    }


def test_the_shipped_policy_files_load_with_every_insurance(policy: PolicyTables) -> None:
    assert set(policy.insurances) == {PENSION, UNEMPLOYMENT, MEDICAL, WORK_INJURY, MATERNITY,
                                      "170"}  # residents' pension: accounts moved in only
    assert policy.insurances[WORK_INJURY].employer_only
    assert not policy.insurances[PENSION].employer_only
    assert all(r.source for rows in policy.rates.values() for r in rows)


def test_the_pension_employer_rate_falls_from_20_to_16_percent_in_may_2019(
        policy: PolicyTables) -> None:
    april = policy.rate(PENSION, Period(2019, 4))
    may = policy.rate(PENSION, Period(2019, 5))
    assert april.employer_rate == Decimal("0.20")
    assert may.employer_rate == Decimal("0.16")
    assert april.individual_rate == may.individual_rate == Decimal("0.08")
    assert may.personal_account_rate == Decimal("0.08")  # all of the 8% to the account


def test_the_unemployment_rate_totals_one_percent_from_may_2019(policy: PolicyTables) -> None:
    rate = policy.rate(UNEMPLOYMENT, Period(2024, 1))
    assert rate.employer_rate + rate.individual_rate == Decimal("0.01")
    assert rate.individual_rate <= rate.employer_rate


def test_maternity_has_no_individual_part(policy: PolicyTables) -> None:
    assert policy.rate(MATERNITY, Period(2024, 1)).individual_rate == 0


@pytest.mark.parametrize(("risk_class", "rate"), [
    (1, "0.002"), (2, "0.004"), (3, "0.007"), (4, "0.009"),
    (5, "0.011"), (6, "0.013"), (7, "0.016"), (8, "0.019"),
])
def test_work_injury_class_rates_run_from_0_2_to_1_9_percent(
        policy: PolicyTables, risk_class: int, rate: str) -> None:
    assert policy.work_injury_rate(risk_class, Period(2024, 1)).rate == Decimal(rate)


def test_a_work_injury_rate_before_the_2015_reform_is_missing(policy: PolicyTables) -> None:
    with pytest.raises(ValidationFailed) as info:
        policy.work_injury_rate(3, Period(2015, 9))
    assert info.value.code == "policy_work_injury_rate_missing"


def test_a_rate_before_the_first_effective_date_is_missing(policy: PolicyTables) -> None:
    with pytest.raises(ValidationFailed) as info:
        policy.rate(PENSION, Period(2005, 12))
    assert info.value.code == "policy_rate_missing"


def test_clamp_base_keeps_the_declared_wage_within_floor_and_cap(policy: PolicyTables) -> None:
    bounds = policy.bounds(2023)
    assert (bounds.floor_fen, bounds.cap_fen) == (432_000, 2_160_000)
    assert policy.clamp_base(2023, 1) == bounds.floor_fen
    assert policy.clamp_base(2023, bounds.floor_fen - 1) == bounds.floor_fen
    assert policy.clamp_base(2023, 1_000_000) == 1_000_000
    assert policy.clamp_base(2023, bounds.cap_fen + 1) == bounds.cap_fen
    assert policy.clamp_base(2023, 10**12) == bounds.cap_fen


def test_a_year_without_bounds_is_refused(policy: PolicyTables) -> None:
    with pytest.raises(ValidationFailed) as info:
        policy.clamp_base(1990, 1_000_000)
    assert info.value.code == "policy_base_bounds_missing"


def test_an_unknown_insurance_is_refused_with_the_known_codes(policy: PolicyTables) -> None:
    with pytest.raises(ValidationFailed) as info:
        policy.rate("999", Period(2024, 1))
    assert info.value.code == "insurance_unknown"
    assert "110" in info.value.message
    with pytest.raises(ValidationFailed) as info:
        policy.insurance("120", "insurances")
    assert (info.value.code, info.value.field) == ("insurance_unknown", "insurances")


def test_interest_rates_are_those_of_the_domain_table(policy: PolicyTables) -> None:
    assert policy.interest_rate(2022).rate == Decimal("0.0612")
    assert policy.interest_rate(2023).rate == Decimal("0.0397")


def test_a_year_without_an_interest_rate_is_refused(policy: PolicyTables) -> None:
    with pytest.raises(ValidationFailed) as info:
        policy.interest_rate(2015)
    assert info.value.code == "policy_interest_rate_missing"


def test_the_shipped_documents_build_the_same_tables_as_the_loader(policy: PolicyTables) -> None:
    assert PolicyTables.from_documents(shipped_documents()) == policy


def _set(file: str, table: str, index: int, key: str, value: Any) -> Any:
    def mutate(docs: Documents) -> None:
        docs[file][table][index][key] = value
    return mutate


def _drop(file: str, table: str, index: int, key: str) -> Any:
    def mutate(docs: Documents) -> None:
        del docs[file][table][index][key]
    return mutate


BAD_DOCUMENTS = {
    "rate as float": ("rates.toml", _set("rates", "rate", 0, "employer", 0.2)),
    "interest rate as float": ("interest.toml", _set("interest", "rate", 0, "rate", 0.05)),
    "rate of 100%": ("rates.toml", _set("rates", "rate", 0, "employer", "1")),
    "negative rate": ("work_injury.toml", _set("work_injury", "class_rate", 0, "rate", "-0.1")),
    "missing source": ("rates.toml", _drop("rates", "rate", 0, "source")),
    "empty source": ("interest.toml", _set("interest", "rate", 0, "source", "")),
    "missing bounds source": ("base_bounds.toml", _drop("base_bounds", "bounds", 0, "source")),
    "unknown insurance": ("rates.toml", _set("rates", "rate", 0, "insurance", "999")),
    "risk class 9": ("work_injury.toml", _set("work_injury", "class_rate", 0, "risk_class", 9)),
    "floor above cap": ("base_bounds.toml", _set("base_bounds", "bounds", 0, "floor_fen",
                                                 10**9)),
    "account share above individual rate": (
        "rates.toml", _set("rates", "rate", 0, "personal_account", "0.09")),
}


@pytest.mark.parametrize("case", sorted(BAD_DOCUMENTS))
def test_a_bad_policy_document_raises_a_value_error_naming_the_file(case: str) -> None:
    file, mutate = BAD_DOCUMENTS[case]
    docs = copy.deepcopy(shipped_documents())
    mutate(docs)
    with pytest.raises(ValueError, match=file.replace(".", r"\.")):
        PolicyTables.from_documents(docs)


def _append(file: str, table: str, row_from: int, **changes: Any) -> Any:
    def mutate(docs: Documents) -> None:
        docs[file][table].append({**docs[file][table][row_from], **changes})
    return mutate


UNCHECKED_DOCUMENTS = {
    "rate row without employer": ("rates.toml", _drop("rates", "rate", 0, "employer")),
    "insurance without name": ("insurances.toml", _drop("insurances", "insurance", 0, "name_zh")),
    "rate that is no number": ("interest.toml", _set("interest", "rate", 0, "rate", "abc")),
    "effective date as text": ("rates.toml",
                               _set("rates", "rate", 1, "effective_from", "2019-05-01")),
    "fractional fen bound": ("base_bounds.toml",
                             _set("base_bounds", "bounds", 0, "floor_fen", 288000.5)),
    "interest year twice": ("interest.toml", _append("interest", "rate", 7, rate="0.05")),
    "two rates on one date": ("rates.toml", _append("rates", "rate", 1, employer="0.15")),
    "unknown matching rule": ("matching.toml", lambda docs: docs["matching"]["matching"].update(
        amount_difference="ignore")),
    "matching rule without source": ("matching.toml",
                                     lambda docs: docs["matching"]["matching"].pop("source")),
}


@pytest.mark.parametrize("case", sorted(UNCHECKED_DOCUMENTS))
def test_an_incomplete_or_ambiguous_policy_document_is_refused_naming_the_file(
        case: str) -> None:
    file, mutate = UNCHECKED_DOCUMENTS[case]
    docs = copy.deepcopy(shipped_documents())
    mutate(docs)
    with pytest.raises(ValueError, match=file.replace(".", r"\.")):
        PolicyTables.from_documents(docs)
