"""Statement format 3 on SQLite and PostgreSQL: a person with a transfer in posted — the
format-3 statement counts the months moved in as a pension award counts them, lists the
transfer, and its code verifies; the format-2 and format-3 codes issued before the posting
still verify with their earlier content, and so does a format-2 code issued after it (format 2
knows no transfers); a transfer out takes the months away; a pensioner's statement shows the
year's adjustment; the facts rebuilt from zero give the same statements."""

from __future__ import annotations

from domain.policy import PENSION
from domain.statement import FORMAT_VERSION, build_statement
from domain.verification_code import parse_code
from infra.bootstrap import Container
from infra.pension_service import pension_months
from infra.statement_queries import IssuedStatement, StatementQueries, issued
from infra.transfer_service import accept_transfer_in, post_transfer_in, transfer_out, transfers
from tests.helpers import seed_region
from tests.integration.test_pension_adjustment import adjust
from tests.integration.test_pension_payments import pay, retirees
from tests.integration.test_transfers import (
    EXAMPLE_ACCOUNT_FEN,
    EXAMPLE_MONTHS,
    EXAMPLE_POOLED_FEN,
    MONTHS_2024,
    OTHER,
    OTHER_NAME,
    post_months,
)


def queries(c: Container) -> StatementQueries:
    return StatementQueries(c.views, c.store, c.policy, c.settings.region_code)


def in_format(q: StatementQueries, person_id: str, year: int, position: int,
              format_version: int) -> IssuedStatement:
    as_of = q.as_of(position)
    assert as_of is not None
    return issued(build_statement(q.inputs([person_id], year, position, *as_of)[person_id],
                                  q.policy, format_version))


def assert_verifies(q: StatementQueries, found: IssuedStatement, reached: int) -> None:
    verified = q.verify(found.verification_code, reached)
    assert verified.valid, verified.reason
    assert verified.issued is not None and verified.issued.content_hash == found.content_hash
    assert verified.issued.statement.format_version == found.statement.format_version


def test_a_transfer_in_counts_its_months_and_earlier_codes_still_verify(
        container: Container) -> None:
    c = container
    region = seed_region(c, persons=1, year=2025)
    number, person_id = region.id_numbers[0], region.person_ids[0]
    post_months(c, region.employer_code, region.id_numbers, ["2025-01", "2025-02"])
    accept_transfer_in(c, number, OTHER, OTHER_NAME, "2025-03-03", "2025-03-10")
    q = queries(c)
    before = c.runner.catch_up()
    old_two, old_three = (in_format(q, person_id, 2025, before, v) for v in (2, 3))
    assert old_three.statement.pension_months is not None
    assert (old_three.statement.pension_months.transferred_in_months,
            old_three.statement.pension_months.counted_months) == (0, 2)
    assert old_three.statement.transfers == ()  # accepted only: nothing moved yet

    [waiting] = transfers(c, person_id=person_id)
    post_transfer_in(c, number, waiting["transfer_no"], "2025-04-02", EXAMPLE_MONTHS,
                     EXAMPLE_ACCOUNT_FEN, EXAMPLE_POOLED_FEN, "ZJ-2025-0402-17",
                     posted_on="2025-04-08")
    position = c.runner.catch_up()
    now = q.issue(person_id, 2025, position)
    statement = now.statement
    assert (parse_code(now.verification_code).format_version == statement.format_version
            == FORMAT_VERSION)
    months = statement.pension_months
    assert months is not None
    assert (months.actual_months, months.transferred_in_months, months.transferred_out_months,
            months.counted_months, months.deemed_months) == (2, 175, 0, 177, None)
    # what a pension award would count
    assert months.counted_months == len(pension_months(c, person_id))
    assert months.transferred_in_trace is not None
    (posted_at,) = months.transferred_in_trace.positions
    assert statement.transfers is not None
    (line,) = statement.transfers
    assert (line.direction, line.transfer_no, line.other_region_code, line.other_region_name,
            line.day, line.contribution_months, line.account_fen, line.pooled_fen) == (
        "in", waiting["transfer_no"], OTHER, OTHER_NAME, "2025-04-08", 175,
        EXAMPLE_ACCOUNT_FEN, EXAMPLE_POOLED_FEN)
    assert posted_at in line.trace.positions and len(line.trace.positions) == 2
    account = statement.account(PENSION)
    assert account is not None and account.transfer_in.fen == EXAMPLE_ACCOUNT_FEN

    assert_verifies(q, now, position)
    for earlier in (old_two, old_three):  # issued before the posting: their content then
        assert_verifies(q, earlier, position)
    # a format-2 code issued after the posting: format 2 counts the months paid here only
    new_two = in_format(q, person_id, 2025, position, 2)
    assert new_two.statement.pension_months is not None
    assert new_two.statement.pension_months.actual_months == 2
    assert new_two.statement.transfers is None
    assert b"transfer_no" not in new_two.canonical and b"counted_months" not in new_two.canonical
    assert new_two.content_hash != old_two.content_hash  # the account's transfer_in differs
    assert_verifies(q, new_two, position)

    # the facts rebuilt from zero: the same statements
    c.runner.rebuild()
    assert q.issue(person_id, 2025, position).content_hash == now.content_hash
    assert_verifies(q, old_two, position)


def test_a_transfer_out_takes_the_months_away(container: Container) -> None:
    c = container
    region = seed_region(c, persons=1, year=2024)
    number, person_id = region.id_numbers[0], region.person_ids[0]
    post_months(c, region.employer_code, region.id_numbers, MONTHS_2024)
    c.ledger.end_employment(number, region.employer_code, "2024-12-31")
    transfer_out(c, number, "ZR330106A0001", OTHER, OTHER_NAME, "2024-12-02", "2024-12-16")
    position = c.runner.catch_up()
    q = queries(c)
    statement = q.issue(person_id, 2024, position).statement
    months = statement.pension_months
    assert months is not None
    assert (months.actual_months, months.transferred_in_months, months.transferred_out_months,
            months.counted_months) == (12, 0, 12, 0)
    assert months.counted_months == len(pension_months(c, person_id))
    assert statement.transfers is not None
    assert [(t.direction, t.transfer_no, t.day, t.account_fen, t.pooled_fen)
            for t in statement.transfers] == [
        ("out", "ZR330106A0001", "2024-12-16", 960_000, 1_440_000)]
    account = statement.account(PENSION)
    assert account is not None and (account.transfer_out.fen, account.closing.fen) == (
        -960_000, 0)
    assert_verifies(q, q.issue(person_id, 2024, position), position)


def test_a_pensioners_statement_shows_the_years_adjustment(container: Container) -> None:
    c = container
    (number,) = retirees(c, 1)
    for period in ("2024-01", "2024-02"):
        pay(c, period)
    adjust(c, 2024)
    pay(c, "2024-03")
    position = c.runner.catch_up()
    q = queries(c)
    person_id = q.person_id_of(number)
    [(delta, arrears_months, arrears_fen)] = c.views.query(
        "SELECT delta_fen, arrears_months, arrears_fen FROM pension_adjustments"
        " WHERE person_id = ?", (person_id,))
    found = q.issue(person_id, 2024, position)
    assert found.statement.benefits_received is not None
    (received,) = found.statement.benefits_received
    assert received.adjustment is not None
    assert (received.adjustment.year, received.adjustment.effective_period,
            received.adjustment.monthly_increase_fen, received.adjustment.arrears_months,
            received.adjustment.arrears_fen) == (2024, "2024-01", int(delta), 2,
                                                 int(arrears_fen))
    assert int(arrears_months) == 2 and int(arrears_fen) == 2 * int(delta)
    assert received.months_paid == 3
    assert_verifies(q, found, position)
    # format 2 is written without it, and still verifies
    two = in_format(q, person_id, 2024, position, 2)
    assert b"\"adjustment\"" not in two.canonical and b"monthly_increase_fen" not in two.canonical
    assert_verifies(q, two, position)
