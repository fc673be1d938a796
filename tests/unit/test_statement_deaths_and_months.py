"""The statement's format 2 (domain/statement.py): a recorded death (status 已故, the date, no
arrears after the month of death, not mailed for a later year), the basic pension's months
actual, deemed (视同缴费, as a pension award recognised them) and in total — and format 1, still
built for codes issued in it, exactly as before format 2 existed."""

from __future__ import annotations

import orjson

from domain.policy import PENSION
from domain.statement import (
    ARREARS,
    CONTRIBUTING,
    DECEASED,
    FORMAT_VERSION,
    Fact,
    StatementInputs,
    build_statement,
    canonical_json,
    content_hash,
    died_before_year,
)
from tests.unit.test_statement import POLICY, a_paid_year, fact, inputs

# The content hash of the statement below in format 1 as the builder wrote it before format 2
# existed (computed with that code): format 1 must stay byte for byte what was issued.
FORMAT_1_GOLDEN_HASH = "bd9d80a93a08eb77aaa2451526606ec503470735beb4a7e8c47af9a69141d98a"


def unpaid_autumn(*extra_facts: Fact) -> StatementInputs:
    """A paid January–September 2023 (employment open, base declared), October and November
    due and unpaid by 2023-12-20."""
    facts, history, accounts = a_paid_year()
    return inputs([*facts, *extra_facts], history[:9], accounts[:10], as_of_day="2023-12-20")


def test_a_death_in_the_year_marks_the_statement_and_ends_the_arrears() -> None:
    death = fact("death_recorded", 950, date_of_death="2023-10-03")
    statement = build_statement(unpaid_autumn(death), POLICY)
    registration = statement.registration
    assert (registration.status, registration.died_on) == (DECEASED, "2023-10-03")
    assert 950 in registration.trace.positions
    pension = statement.insurance(PENSION)
    assert pension is not None
    # October, the month of death, is still due; November is after it: nothing is due
    assert [m.period for m in pension.months if m.status == ARREARS] == ["2023-10"]
    # alive the whole year: both months in arrears
    alive = build_statement(unpaid_autumn(), POLICY)
    assert alive.registration.status == CONTRIBUTING and alive.registration.died_on is None
    alive_pension = alive.insurance(PENSION)
    assert alive_pension is not None and alive_pension.arrears_months == 2


def test_a_death_is_shown_on_earlier_years_but_the_status_is_of_that_year() -> None:
    facts, history, accounts = a_paid_year()
    death = fact("death_recorded", 950, date_of_death="2024-02-10")
    statement = build_statement(inputs([*facts, death], history, accounts), POLICY)
    assert (statement.registration.status, statement.registration.died_on) == (
        CONTRIBUTING, "2024-02-10")


def test_a_death_recorded_after_the_position_is_not_known_there() -> None:
    death = fact("death_recorded", 20_000, date_of_death="2023-10-03")
    statement = build_statement(unpaid_autumn(death), POLICY)
    assert statement.registration.died_on is None
    assert statement.registration.status == CONTRIBUTING


def test_the_mailing_skips_years_after_the_year_of_death_only() -> None:
    facts, history, accounts = a_paid_year()
    for died_on, skipped in (("2022-12-31", True), ("2023-01-01", False),
                             ("2023-12-31", False), (None, False)):
        extra = [fact("death_recorded", 950, date_of_death=died_on)] if died_on else []
        assert died_before_year(inputs([*facts, *extra], history, accounts)) is skipped, died_on
    # known at the position only
    late = fact("death_recorded", 950, date_of_death="2022-06-01")
    assert not died_before_year(inputs([*facts, late], history, accounts, position=900))


def test_pension_months_actual_deemed_and_total() -> None:
    facts, history, accounts = a_paid_year()
    without = build_statement(inputs(facts, history, accounts), POLICY).pension_months
    assert without is not None
    # no pension award: deemed months are not recorded anywhere — not 0, and no total
    assert (without.actual_months, without.deemed_months, without.total_months) == (12, None,
                                                                                      None)
    assert without.trace.positions == ()
    award = fact("deemed_months", 960, deemed_months=120)
    months = build_statement(inputs([*facts, award], history, accounts), POLICY).pension_months
    assert months is not None
    assert (months.actual_months, months.deemed_months, months.total_months) == (12, 120, 132)
    assert months.trace.positions == (960,)
    # the insurance's own cumulative months stay the actual ones
    pension = build_statement(inputs([*facts, award], history, accounts), POLICY).insurance(
        PENSION)
    assert pension is not None and pension.cumulative_months == 12


def test_format_1_is_built_as_before_for_codes_issued_in_it() -> None:
    extra = (fact("death_recorded", 950, date_of_death="2023-11-03"),
             fact("deemed_months", 960, deemed_months=120))
    old = build_statement(unpaid_autumn(*extra), POLICY, 1)
    assert content_hash(old) == FORMAT_1_GOLDEN_HASH
    plain = orjson.loads(canonical_json(old))
    assert plain["format_version"] == 1
    assert "died_on" not in plain["registration"] and "pension_months" not in plain
    assert plain["registration"]["status"] == CONTRIBUTING  # format 1 knew no deaths

    new = build_statement(unpaid_autumn(*extra), POLICY, 2)
    assert new.format_version == 2 and FORMAT_VERSION > 2  # format 3: test_statement_transfers
    assert content_hash(new) != content_hash(old)
    # without a death or an award, format 2 is format 1 plus its two fields
    facts, history, accounts = a_paid_year()
    one = orjson.loads(canonical_json(build_statement(inputs(facts, history, accounts), POLICY,
                                                      1)))
    two = orjson.loads(canonical_json(build_statement(inputs(facts, history, accounts),
                                                      POLICY, 2)))
    assert two.pop("pension_months") == {"actual_months": 12, "deemed_months": None,
                                         "total_months": None,
                                         "trace": {"positions": [], "first_day": None,
                                                   "last_day": None}}
    assert two["registration"].pop("died_on") is None
    # and the benefits received (pension payments), none here
    assert two.pop("benefits_received") == []
    assert [a.pop("pension_paid")["fen"] for a in two["accounts"]] == [0]
    assert {**two, "format_version": 1} == one
