"""The risk rules (domain/risk.py) one by one, their data file and its validation, the Alert
aggregate's decisions, and the death record on a person."""

from __future__ import annotations

import copy
import tomllib
from fractions import Fraction
from importlib import resources
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.alert import ACKNOWLEDGED, CLOSED, Alert
from domain.errors import DomainError
from domain.registration import Person
from domain.risk import (
    AFTER_DEATH,
    BACKPAY_SPAN,
    BASE_CHANGE,
    CONTRIBUTION,
    PENSION,
    REPEAT_REVERSAL,
    RULE_PARAMETERS,
    SAME_POST_FAMILY,
    TELLER_REVERSALS,
    Death,
    DeclaredBase,
    EventRef,
    Posting,
    RiskRules,
    SignOff,
    actor_of,
    after_death,
    backpay_span,
    base_change,
    bureau_day,
    repeat_reversal,
    same_post_family,
    teller_reversals,
)
from domain.staff import ROLES
from infra.risk_loader import load_risk_rules

PERSON = "5f0e6c1e-0000-5000-8000-000000000001"


def shipped_document() -> dict[str, Any]:
    text = resources.files("domain").joinpath("risk_data/risk_rules.toml").read_text("utf-8")
    return tomllib.loads(text)


RULES = RiskRules.from_document(shipped_document(), set(ROLES))


def ref(position: int, type_name: str = "X.Y", originator: str = PERSON,
        version: int = 1) -> EventRef:
    return EventRef(position, originator, version, type_name)


def switched_off(code: str) -> Any:
    from dataclasses import replace

    return replace(RULES[code], enabled=False)


# -- the data file -----------------------------------------------------------------------------

def test_the_shipped_rules_load_with_every_rule_and_its_parameters() -> None:
    assert set(RULES.rules) == set(RULE_PARAMETERS)
    assert load_risk_rules() == RULES
    assert RULES[BACKPAY_SPAN].years == 3
    assert RULES[BASE_CHANGE].percent == 30
    assert RULES[TELLER_REVERSALS].reversals_per_day == 10
    families = {f.code: f.roles for f in RULES[SAME_POST_FAMILY].post_families}
    assert families["operations"] == ("teller", "reviewer")
    assert all(rule.enabled for rule in RULES.rules.values())


def mutated(change: Any) -> dict[str, Any]:
    doc = copy.deepcopy(shipped_document())
    change(doc)
    return doc


def rule_of(doc: dict[str, Any], code: str) -> dict[str, Any]:
    row: dict[str, Any] = next(r for r in doc["rule"] if r["code"] == code)
    return row


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["rule"].pop(0), "rule backpay_span is missing"),
    (lambda d: d["rule"].append(dict(d["rule"][0])), "rule backpay_span is given twice"),
    (lambda d: d["rule"].append({"code": "night_postings"}), "unknown rule code 'night_postings'"),
    (lambda d: rule_of(d, BASE_CHANGE).update(percnet=20), "(base_change): unknown key `percnet`"),
    (lambda d: rule_of(d, BASE_CHANGE).update(percent="30"), "`percent` must be a whole number"),
    (lambda d: rule_of(d, BACKPAY_SPAN).update(years=0), "`years` must be a whole number 1..15"),
    (lambda d: rule_of(d, TELLER_REVERSALS).pop("reversals_per_day"), "`reversals_per_day`"),
    (lambda d: rule_of(d, AFTER_DEATH).update(severity="urgent"), "`severity` must be one of"),
    (lambda d: rule_of(d, AFTER_DEATH).update(enabled="yes"), "`enabled` must be true or false"),
    (lambda d: rule_of(d, AFTER_DEATH).pop("source"), "`source` must be non-empty text"),
    (lambda d: rule_of(d, SAME_POST_FAMILY)["post_family"][0]["roles"].append("janitor"),
     "post_family[0]: unknown role 'janitor'"),
    (lambda d: rule_of(d, SAME_POST_FAMILY)["post_family"][1]["roles"].append("teller"),
     "post_family[1]: role teller is in family operations already"),
    (lambda d: rule_of(d, SAME_POST_FAMILY).pop("post_family"), "[[rule.post_family]]"),
])
def test_a_bad_rules_file_is_refused_naming_the_entry_and_key(change: Any, message: str) -> None:
    with pytest.raises(ValueError) as info:
        RiskRules.from_document(mutated(change), set(ROLES))
    assert message in str(info.value)
    assert str(info.value).startswith("risk_rules.toml")


def test_a_replacement_directory_replaces_the_rules(tmp_path: Any) -> None:
    text = resources.files("domain").joinpath("risk_data/risk_rules.toml").read_text("utf-8")
    (tmp_path / "risk_rules.toml").write_text(text.replace("percent = 30", "percent = 50"),
                                              encoding="utf-8")
    assert load_risk_rules(tmp_path)[BASE_CHANGE].percent == 50


# -- each rule ---------------------------------------------------------------------------------

def months(first: str, count: int) -> list[str]:
    year, month = int(first[:4]), int(first[5:])
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def test_backpay_span_flags_more_than_the_years_first_to_last_month() -> None:
    rule = RULES[BACKPAY_SPAN]
    assert backpay_span(rule, ref(9), PERSON, months("2020-01", 36), "clerk") is None
    found = backpay_span(rule, ref(9), PERSON, months("2019-12", 37), "clerk")
    assert found is not None and found.details["months_spanned"] == 37
    assert found.summary_zh == "补缴核定 2019-12 至 2022-12，跨 37 个月，超过 3 年"
    assert (found.key, found.actors, found.person_id) == (f"{PERSON}/1", ("clerk",), PERSON)
    # The span counts first to last, not how many months are in it.
    sparse = backpay_span(rule, ref(9), PERSON, ["2023-01", "2019-06"], None)
    assert sparse is not None and sparse.details["months_assessed"] == 2
    assert backpay_span(switched_off(BACKPAY_SPAN), ref(9), PERSON, months("2010-01", 60),
                        None) is None


def test_repeat_reversal_flags_a_month_reversed_before() -> None:
    rule = RULES[REPEAT_REVERSAL]
    assert repeat_reversal(rule, ref(5), PERSON, "2023-02", [], "r1") is None
    found = repeat_reversal(rule, ref(9, version=4), PERSON, "2023-02", [ref(5, version=2)],
                            "r1")
    assert found is not None
    assert [e.position for e in found.events] == [5, 9]
    assert found.summary_zh == "2023-02 月份第 2 次红冲（此前已红冲 1 次）"


def test_teller_reversals_flags_the_first_reversal_over_the_daily_count_only() -> None:
    rule = RULES[TELLER_REVERSALS]
    day = [ref(i) for i in range(1, 11)]
    assert teller_reversals(rule, ref(10), "alice", "2025-03-03", day[:9]) is None
    found = teller_reversals(rule, ref(11), "alice", "2025-03-03", day)
    assert found is not None and len(found.events) == 11 and found.actors == ("alice",)
    assert teller_reversals(rule, ref(12), "alice", "2025-03-03", [*day, ref(11)]) is None


def test_base_change_flags_a_change_over_the_percentage_either_way() -> None:
    rule = RULES[BASE_CHANGE]
    previous = DeclaredBase(2023, 1_000_000, ref(1))
    assert base_change(rule, ref(2), PERSON, DeclaredBase(2024, 1_300_000, ref(2)), previous,
                       None) is None
    assert base_change(rule, ref(2), PERSON, DeclaredBase(2024, 1_000_000, ref(2)), None,
                       None) is None
    up = base_change(rule, ref(2), PERSON, DeclaredBase(2024, 1_300_100, ref(2)), previous, None)
    assert up is not None and up.details["change_percent"] == "30.0"
    down = base_change(rule, ref(2), PERSON, DeclaredBase(2024, 690_000, ref(2)), previous, None)
    assert down is not None and "下调 31.0%" in down.summary_zh
    assert [e.position for e in down.events] == [1, 2]


@given(previous_fen=st.integers(1, 10**9), declared_fen=st.integers(0, 10**9),
       percent=st.integers(1, 1000))
def test_base_change_flags_exactly_the_changes_over_the_percentage(
        previous_fen: int, declared_fen: int, percent: int) -> None:
    from dataclasses import replace

    rule = replace(RULES[BASE_CHANGE], percent=percent)
    found = base_change(rule, ref(2), PERSON, DeclaredBase(2024, declared_fen, ref(2)),
                        DeclaredBase(2023, previous_fen, ref(1)), None)
    change = Fraction(abs(declared_fen - previous_fen), previous_fen)
    assert (found is not None) == (change > Fraction(percent, 100))


def test_after_death_flags_postings_for_months_after_the_month_of_death() -> None:
    rule = RULES[AFTER_DEATH]
    death = Death(PERSON, "2023-03-10", ref(20, "Person.DeathRecorded"))
    march = Posting(ref(30, "ContributionMonth.Posted", "m3"), "2023-03", CONTRIBUTION)
    april = Posting(ref(31, "ContributionMonth.Posted", "m4"), "2023-04", CONTRIBUTION, "t1")
    pension = Posting(ref(10, "Entitlement.FirstPaymentScheduled", "e"), "2023-07", PENSION)
    assert after_death(rule, march.ref, death, [march]) is None  # the month of death is due
    found = after_death(rule, april.ref, death, [april])
    assert found is not None and found.key == "m4/1" and found.actors == ("t1",)
    assert found.summary_zh == "所属期 2023-04 的缴费在登记的死亡日期 2023-03-10 之后"
    assert [e.position for e in found.events] == [20, 31]
    earlier = after_death(rule, death.ref, death, [pension, march, april], key=None)
    assert earlier is not None and earlier.key == f"{PERSON}/1"
    assert earlier.details["periods"] == ["2023-04", "2023-07"]
    assert earlier.details["kinds"] == [CONTRIBUTION, PENSION]
    assert earlier.summary_zh.startswith("登记死亡（2023-03-10）时，已有所属期 2023-04 至 2023-07")
    grouped = after_death(rule, april.ref, death, [april], key="backpay:b1")
    assert grouped is not None and grouped.key == "backpay:b1"
    assert after_death(switched_off(AFTER_DEATH), april.ref, death, [april]) is None


def test_same_post_family_flags_two_signers_of_one_family() -> None:
    rule = RULES[SAME_POST_FAMILY]
    reviewer = SignOff("r1", ("reviewer",), ref(1, "Case.Signed", "c", 3))
    deputy = SignOff("d1", ("deputy_director",), ref(2, "Case.Signed", "c", 4))
    deputy_reviewer = SignOff("d2", ("deputy_director", "reviewer"), ref(2, "Case.Signed", "c"))
    director = SignOff("x1", ("director",), ref(3, "Case.Signed", "c", 5))
    assert same_post_family(rule, deputy.ref, "c", deputy, [reviewer]) is None
    assert same_post_family(rule, director.ref, "c", director, [reviewer, deputy]) is None
    found = same_post_family(rule, deputy_reviewer.ref, "c", deputy_reviewer, [reviewer])
    assert found is not None and found.actors == ("r1", "d2")
    assert found.details["post_family_zh"] == "业务运行"
    assert found.summary_zh == "办件由同一岗位序列（业务运行）的 r1 与 d2 签批"
    assert same_post_family(rule, reviewer.ref, "c", reviewer, [reviewer]) is None
    auditor = SignOff("a1", ("auditor", "director"), ref(4, "Case.Signed", "c"))
    auditor2 = SignOff("a2", ("auditor", "director"), ref(5, "Case.Signed", "c"))
    assert same_post_family(rule, auditor2.ref, "c", auditor2, [auditor]) is not None


def test_who_did_it_and_on_which_day() -> None:
    assert actor_of({"actor": "alice", "case_id": None}, "api:bob") == "alice"
    assert actor_of(None, "api:bob:batch-3") == "bob"
    assert actor_of({}, "demo") == "demo"
    assert actor_of(None, None) is None
    assert bureau_day("2025-03-03T15:59:59+00:00") == "2025-03-03"
    assert bureau_day("2025-03-03T16:00:00+00:00") == "2025-03-04"  # midnight in Beijing


# -- the alert and the death record -------------------------------------------------------------

def raised(actors: list[str] | None = None) -> Alert:
    return Alert(region_code="440781", rule_code=REPEAT_REVERSAL, key="k", rule_name_zh="n",
                 severity="medium", summary_zh="s", person_id=None, actors=actors or ["rita"],
                 details={}, events=[[1, PERSON, 1, "X.Y"]])


def refused(code: str, call: Any, *args: Any) -> None:
    with pytest.raises(DomainError) as info:
        call(*args)
    assert info.value.code == code


def test_an_alert_is_acknowledged_then_closed_by_someone_it_is_not_about() -> None:
    alert = raised()
    assert alert.id == Alert.create_id("440781", REPEAT_REVERSAL, "k")
    assert alert.id != Alert.create_id("440782", REPEAT_REVERSAL, "k")
    refused("alert_about_actor", alert.acknowledge, "rita", "")
    assert alert.acknowledge("ann", " checking ") is True
    assert (alert.status, alert.acknowledgement_note) == (ACKNOWLEDGED, "checking")
    assert alert.acknowledge("ann", "checking") is False  # a repeat
    refused("alert_already_acknowledged", alert.acknowledge, "ben", "checking")
    refused("resolution_missing", alert.close, "ann", "")
    assert alert.close("ann", "no issue") is True and alert.status == CLOSED
    assert alert.close("ann", "no issue") is False
    refused("alert_already_closed", alert.close, "ann", "another")
    refused("alert_closed", alert.acknowledge, "ben", "")


def test_an_alert_may_be_closed_without_acknowledgement() -> None:
    alert = raised()
    alert.close("ann", "false alarm: the payroll shows the corrections")
    assert alert.status == CLOSED and alert.acknowledged_by is None


def person() -> Person:
    return Person(region_code="440781", id_number="44078119900101123X", name="测试",
                  sex="M", birth_date="1990-01-01", registered_on="2015-01-01")


def test_a_death_is_recorded_once_and_not_before_birth_or_in_the_future() -> None:
    p = person()
    refused("evidence_missing", p.record_death, "2023-03-10", " ", "2025-01-01")
    refused("death_before_birth", p.record_death, "1989-12-31", "证明", "2025-01-01")
    refused("death_in_future", p.record_death, "2025-01-02", "证明", "2025-01-01")
    assert p.record_death("2023-03-10", "死亡医学证明", "2025-01-01") is True
    assert p.died_on == "2023-03-10"
    assert p.record_death("2023-03-10", "死亡医学证明", "2025-01-01") is False
    refused("death_already_recorded", p.record_death, "2023-03-11", "证明", "2025-01-01")
