"""The yearly pension adjustment rule (DOMAIN.md §7): the worked example, the age tilt's edges
and the rule table's checks."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ValidationFailed
from domain.pension_adjustment import (
    AdjustmentRule,
    PensionAdjustment,
    arrears_journal,
    compute_adjustment,
    rule_for,
    rules_from_document,
    years_over,
)
from infra.pension_adjustment_rules import load_adjustment_rules

GUANGXI_2021 = AdjustmentRule("45", 2021, 4400, 180, Decimal("0.012"), 70, 300, 300, "S40")


def test_shipped_table_holds_the_guangxi_2021_example() -> None:
    assert load_adjustment_rules()[("45", 2021)] == AdjustmentRule(
        "45", 2021, 4400, 180, Decimal("0.012"), 70, 300, 300, "S40 Guangxi 2021 (EXAMPLE)")


def test_worked_example_30_years_3000_age_75_gives_152_yuan() -> None:
    # Born 31 Dec 1945: exactly 75 on the cut-off (31 Dec 2020): 5 years over 70.
    a = compute_adjustment(GUANGXI_2021, 25 * 12, 5 * 12, 300_000, date(1945, 12, 31))
    assert (a.full_years, a.age_years, a.years_over_tilt_age) == (30, 75, 5)
    assert a.parts() == {"fixed_fen": 4400, "years_fen": 5400, "percent_fen": 3600,
                         "age_tilt_fen": 1800}
    assert a.delta_fen == 15_200


@pytest.mark.parametrize(("birth", "tilt_fen"), [
    (date(1951, 1, 1), 0),  # 69 years and 364 days on the cut-off: no tilt
    (date(1950, 12, 31), 300),  # 70 exactly on the cut-off: +3 yuan, no year over
    (date(1950, 12, 30), 600),  # 70 and a day: the part year counts whole
    (date(1949, 12, 31), 600),  # 71 exactly: one year over
    (date(1949, 6, 30), 900),  # 71 and a half: two years over
])
def test_age_tilt_edges(birth: date, tilt_fen: int) -> None:
    assert compute_adjustment(GUANGXI_2021, 180, 0, 0, birth).age_tilt_fen == tilt_fen


def test_part_contribution_years_are_dropped_and_percent_rounds_half_up() -> None:
    # 359 months = 29 full years; 1.2% of 1234.56 yuan = 14.81472 yuan → 1481 fen.
    a = compute_adjustment(GUANGXI_2021, 359, 0, 123_456, date(1960, 5, 5))
    assert (a.years_fen, a.percent_fen, a.age_tilt_fen) == (29 * 180, 1481, 0)


@given(st.dates(date(1900, 1, 1), date(2020, 12, 31)).filter(
    lambda d: (d.month, d.day) != (2, 29)))
def test_years_over_counts_a_part_year_whole(birth: date) -> None:
    """The least n ≥ 0 with the (70 + n)-th birthday on or after the cut-off."""
    cutoff = date(2020, 12, 31)
    seventieth = birth.replace(year=birth.year + 70)
    if seventieth > cutoff:
        assert years_over(birth, cutoff, 70) == 0
    else:
        n = next(n for n in range(60) if seventieth.replace(year=seventieth.year + n) >= cutoff)
        assert years_over(birth, cutoff, 70) == n


def test_missing_rule_names_province_and_year() -> None:
    with pytest.raises(ValidationFailed) as e:
        rule_for({("45", 2021): GUANGXI_2021}, "990001", 2025)
    assert e.value.code == "adjustment_rule_missing"
    assert "province 99" in str(e.value) and "45/2021" in str(e.value)


@pytest.mark.parametrize(("change", "message"), [
    ({"province_code": "4"}, "two digits"),
    ({"year": 1990}, "year"),
    ({"fixed_yuan": "-1"}, "fixed_yuan"),
    ({"per_full_year_yuan": "1.801"}, "per_full_year_yuan"),
    ({"percent_of_pension": "1.2"}, "percent_of_pension"),
    ({"tilt_age": "70"}, "tilt_age"),
])
def test_bad_rule_entries_are_named(change: dict[str, object], message: str) -> None:
    entry = {"province_code": "45", "year": 2021, "fixed_yuan": "44",
             "per_full_year_yuan": "1.8", "percent_of_pension": "0.012", "tilt_age": 70,
             "tilt_base_yuan": "3", "tilt_per_year_yuan": "3"}
    with pytest.raises(ValueError, match=message):
        rules_from_document({"rule": [{**entry, **change}]})
    with pytest.raises(ValueError, match="listed twice"):
        rules_from_document({"rule": [entry, entry]})


def test_adjusted_event_records_inputs_and_arrears_from_the_pooled_fund() -> None:
    entitlement_id = "12345678-1234-5678-1234-567812345678"
    a = compute_adjustment(GUANGXI_2021, 360, 0, 300_000, date(1945, 12, 31))
    adjustment = PensionAdjustment.adjust("p1", entitlement_id, GUANGXI_2021, a, 360, 0,
                                          "1945-12-31", ["2021-01", "2021-02"], 7)
    assert adjustment.id == PensionAdjustment.create_id(entitlement_id, 2021)
    assert adjustment.arrears_fen == 2 * 15_200
    [adjusted] = adjustment.collect_events()
    assert adjusted.effective_period == "2021-01"  # type: ignore[attr-defined]
    assert adjusted.inputs["reference_period"] == "2020-12"  # type: ignore[attr-defined]
    assert adjusted.journal == [["fund:110", 30_400, 0], ["bank:payout", 0, 30_400]]  # type: ignore[attr-defined]
    assert arrears_journal(0) == []
