"""Pension transfers between pooling regions (跨统筹区转移接续) end to end, on SQLite and
PostgreSQL: a transfer out moves the months, the account balance and the 12% pooled part in one
balanced event and leaves nothing behind; a transfer in is accepted (the old region's funds due
in 15 working days) and posted through level-1 cases with DOMAIN.md §5.3's worked example;
the refusals (still employed, in transit, overlapping months, a wrong pooled part, a repeat);
the months a pension award counts; the statement and the annual report; and the read models
rebuilt from zero equal the ones kept up."""

from __future__ import annotations

import io
from datetime import date

import pytest

from domain.errors import DomainError
from domain.transfer import expand_segments
from infra.bootstrap import Container
from infra.bulk_posting import BulkPoster, PostingRequest
from infra.case_service import Actor, CaseService
from infra.pension_service import pension_months
from infra.statement_queries import StatementQueries
from infra.transfer_service import accept_transfer_in, post_transfer_in, transfer_out, transfers
from tests.helpers import journal_sums, read_model_rows, seed_region

TELLER = Actor("teller1", ["teller"])
SIGNERS = (Actor("reviewer1", ["reviewer"]), Actor("deputy1", ["deputy_director"]),
           Actor("director1", ["director"]))
PNG = b"\x89PNG\r\n\x1a\n" + b"scan of a document" * 10
MONTHS_2024 = [f"2024-{m:02d}" for m in range(1, 13)]
OTHER = "330106"  # 杭州市西湖区
OTHER_NAME = "杭州市西湖区社会保险事业管理中心"
# DOMAIN.md §5.3: 175 months, account 139,330.50 + pooled 145,800.00 = 285,130.50 yuan
EXAMPLE_MONTHS = [["2010-01", "2014-12", 500_000], ["2015-01", "2019-12", 700_000],
                  ["2020-01", "2024-07", 900_000]]
EXAMPLE_ACCOUNT_FEN = 13_933_050
EXAMPLE_POOLED_FEN = 14_580_000


def refused(code: str, call: object, *args: object, **kwargs: object) -> None:
    with pytest.raises(DomainError) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    assert info.value.code == code, info.value.message


def post_months(c: Container, employer: str, numbers: tuple[str, ...], periods: list[str]
                ) -> None:
    done = BulkPoster(c.store, c.policy, "test").post(
        [PostingRequest(n, employer, p) for n in numbers for p in periods])
    assert done.summary()["posted"] == len(numbers) * len(periods)


def run_case(cases: CaseService, code: str, payload: dict[str, object],
             materials: tuple[str, ...], day: date) -> dict[str, object]:
    opened = cases.open(code, {code: payload}, TELLER, opened_on=day).result
    case_id = str(opened["case_id"])
    for material in materials:
        cases.attach(case_id, material, io.BytesIO(PNG), f"{material}.png", TELLER)
    result: dict[str, object] = {}
    for signer in SIGNERS:
        result = cases.sign(case_id, signer, signed_on=day).result
    assert result["status"] == "completed", result
    return result


@pytest.fixture
def cases(container: Container) -> CaseService:
    service = CaseService(container)
    service.change_authorisation("teller1", ["transfer_in", "transfer_in_posting",
                                             "transfer_out"], [], "admin", "test")
    return service


def test_a_transfer_out_moves_months_account_and_pooled_part_and_leaves_nothing(
        container: Container) -> None:
    region = seed_region(container, persons=2, year=2024)
    post_months(container, region.employer_code, region.id_numbers, MONTHS_2024)
    leaving, staying = region.id_numbers
    person_id = region.person_ids[0]
    refused("person_still_employed", transfer_out, container, leaving, "ZR330106A0001", OTHER,
            OTHER_NAME, "2024-12-02", "2024-12-16")
    refused("transfer_within_region", transfer_out, container, leaving, "ZR330106A0001",
            container.settings.region_code, OTHER_NAME, "2024-12-02", "2024-12-16")
    container.ledger.end_employment(leaving, region.employer_code, "2024-12-31")

    done = transfer_out(container, leaving, "ZR330106A0001", OTHER, OTHER_NAME,
                        "2024-12-02", "2024-12-16").result
    # 12 months at 10,000.00: account 8% = 9,600.00; pooled 12% = 14,400.00
    assert (done["contribution_months"], done["account_fen"], done["pooled_fen"],
            done["total_fen"]) == (12, 960_000, 1_440_000, 2_400_000)
    container.runner.catch_up()
    assert container.queries.account_balance(person_id)["balance_fen"] == 0
    assert pension_months(container, person_id) == {}
    sums = journal_sums(container)
    assert sums[f"region:{OTHER}"] == (0, 2_400_000)
    assert sum(d for d, _ in sums.values()) == sum(c for _, c in sums.values())
    [(fen,)] = container.views.query(
        "SELECT SUM(amount_fen) FROM fund_movements WHERE kind = 'transfer_out'")
    assert int(fen) == 2_400_000
    [row] = transfers(container, person_id=person_id)
    assert (row["direction"], row["status"], row["months"]) == (
        "out", "remitted", [["2024-01", "2024-12", 1_000_000]])

    refused("transfer_already_remitted", transfer_out, container, leaving, "ZR330106A0001",
            OTHER, OTHER_NAME, "2024-12-02", "2024-12-16")
    refused("nothing_to_transfer", transfer_out, container, leaving, "ZR330106A0002", OTHER,
            OTHER_NAME, "2024-12-20", "2024-12-20")

    # The annual report: the transfer out, and the person no longer in the pension here.
    from infra.annual_report_queries import annual_report

    report = annual_report(container, 2024)
    cross = report["transfers"]["cross_region"]
    assert cross["transfers_out"] == {"count": 1, "persons": 1, "months": 12,
                                      "account_fen": 960_000, "pooled_fen": 1_440_000,
                                      "total_fen": 2_400_000}
    assert cross["net_fen"] == -2_400_000
    assert cross["by_region"] == [{"region_code": OTHER, "name_zh": OTHER_NAME, "in_count": 0,
                                   "in_fen": 0, "out_count": 1, "out_fen": 2_400_000}]
    pension = next(p for p in report["participation"] if p["insurance"] == "110")
    medical = next(p for p in report["participation"] if p["insurance"] == "310")
    assert (pension["participants"], medical["participants"]) == (1, 2)
    assert staying  # the other person keeps everything
    before = read_model_rows(container)
    container.runner.rebuild()
    assert read_model_rows(container) == before


def test_a_transfer_in_is_accepted_then_posted_through_level_1_cases(
        container: Container, cases: CaseService) -> None:
    region = seed_region(container, persons=1, year=2025)
    number, person_id = region.id_numbers[0], region.person_ids[0]
    refused("no_contributions_here", accept_transfer_in, container, number, OTHER, OTHER_NAME,
            "2025-03-03", "2025-03-10")
    post_months(container, region.employer_code, region.id_numbers, ["2025-01", "2025-02"])

    accepted = run_case(cases, "transfer_in", {
        "id_number": number, "from_region_code": OTHER, "from_region_name": OTHER_NAME,
        "applied_on": "2025-03-03", "accepted_on": "2025-03-10"},
        ("transfer_request", "transfer_certificate"), date(2025, 3, 10))
    assert accepted["code"] == "transfer_in"
    container.runner.catch_up()
    [effect] = transfers(container, person_id=person_id)
    transfer_no = effect["transfer_no"]
    assert effect["due_on"] == "2025-03-31"  # 15 working days after 2025-03-10
    refused("transfer_in_transit", accept_transfer_in, container, number, "110101",
            "北京市东城区社会保险基金管理中心", "2025-03-04", "2025-03-11")
    container.runner.catch_up()
    [waiting] = transfers(container, overdue_on="2025-04-01")
    assert (waiting["transfer_no"], waiting["status"]) == (transfer_no, "accepted")
    assert transfers(container, overdue_on="2025-03-31") == []

    posting = {"id_number": number, "transfer_no": transfer_no,
               "funds_received_on": "2025-04-02", "months": EXAMPLE_MONTHS,
               "account_fen": EXAMPLE_ACCOUNT_FEN, "pooled_fen": EXAMPLE_POOLED_FEN + 1,
               "remittance_reference": "ZJ-2025-0402-17", "posted_on": "2025-04-08"}
    # checked at the counter: the case is not opened with a table that does not add up
    refused("transfer_pooled_part_mismatch", cases.open, "transfer_in_posting",
            {"transfer_in_posting": posting}, TELLER, opened_on=date(2025, 4, 8))
    overlapping = {**posting, "pooled_fen": 14_580_000 + 108_000,
                   "months": [*EXAMPLE_MONTHS, ["2025-01", "2025-01", 900_000]]}
    refused("transfer_months_overlap", post_transfer_in, container, **{
        k: v for k, v in overlapping.items()})
    run_case(cases, "transfer_in_posting", {**posting, "pooled_fen": EXAMPLE_POOLED_FEN},
             ("transfer_info_table", "remittance_voucher"), date(2025, 4, 8))
    container.runner.catch_up()
    [effect] = transfers(container, person_id=person_id)
    assert (effect["status"], effect["contribution_months"], effect["total_fen"]) == (
        "posted", 175, 28_513_050)
    refused("transfer_already_posted", post_transfer_in, container, **{
        **posting, "pooled_fen": EXAMPLE_POOLED_FEN})

    container.runner.catch_up()
    months = pension_months(container, person_id)
    assert len(months) == 177 and months == {**expand_segments(EXAMPLE_MONTHS),
                                             "2025-01": 1_000_000, "2025-02": 1_000_000}
    balance = container.queries.account_balance(person_id)
    assert balance["by_kind_fen"]["transfer"] == EXAMPLE_ACCOUNT_FEN
    assert journal_sums(container)[f"region:{OTHER}"] == (28_513_050, 0)
    # the person may transfer again once this one is posted
    assert container.ledger.person(number).transfer_in_transit is None

    queries = StatementQueries(container.views, container.store, container.policy,
                               container.settings.region_code)
    statement = queries.issue(person_id, 2025, container.store.max_position()).statement
    pension = next(a for a in statement.accounts if a.insurance == "110")
    assert pension.transfer_in.fen == EXAMPLE_ACCOUNT_FEN and pension.transfer_in.trace

    from infra.annual_report_queries import annual_report

    cross = annual_report(container, 2025)["transfers"]["cross_region"]
    assert cross["accepted_in"] == 1 and cross["in_transit_at_year_end"] == 0
    assert cross["transfers_in"] == {"count": 1, "persons": 1, "months": 175,
                                     "account_fen": EXAMPLE_ACCOUNT_FEN,
                                     "pooled_fen": EXAMPLE_POOLED_FEN, "total_fen": 28_513_050}
    [(fen,)] = container.views.query(
        "SELECT SUM(amount_fen) FROM fund_movements WHERE kind = 'transfer_in'")
    assert int(fen) == 28_513_050


def test_an_account_transferred_out_in_a_year_earns_no_interest_here_for_it(
        container: Container) -> None:
    from infra.interest_service import credit_interest

    region = seed_region(container, persons=2, year=2024)
    post_months(container, region.employer_code, region.id_numbers, MONTHS_2024)
    leaving = region.id_numbers[0]
    container.ledger.end_employment(leaving, region.employer_code, "2024-12-31")
    transfer_out(container, leaving, "ZR330106A0003", OTHER, OTHER_NAME, "2024-12-02",
                 "2024-12-16")
    run = credit_interest(container.store, container.policy, container.runner,
                          container.queries, 2024)
    assert (run.credited, run.moved_away) == (1, 1)
    container.runner.catch_up()
    assert container.queries.account_balance(region.person_ids[0])["balance_fen"] == 0
    # the next year may be credited: the account that left has nothing outstanding
    assert container.queries.accounts_without_interest(2024) == 0


def test_a_back_payment_assessed_and_not_collected_blocks_a_transfer_out(
        container: Container) -> None:
    from infra.backpay_service import assess_backpay, cancel_backpay

    region = seed_region(container, persons=1, year=2024)
    number, code = region.id_numbers[0], region.employer_code
    post_months(container, code, region.id_numbers, MONTHS_2024[:11])
    container.ledger.end_employment(number, code, "2024-12-31")
    assessed = assess_backpay(container, number, code, "2024-12", "2024-12", "2025-02-28",
                              "December payroll found", "clerk1").result
    head = container.store.max_position()
    refused("backpay_open", transfer_out, container, number, "ZR330106A0004", OTHER,
            OTHER_NAME, "2025-01-06", "2025-01-20")
    assert container.store.max_position() == head  # nothing written
    cancel_backpay(container, str(assessed["backpay_id"]), "paid in the new region", "clerk1")
    done = transfer_out(container, number, "ZR330106A0004", OTHER, OTHER_NAME, "2025-01-06",
                        "2025-01-20").result
    assert (done["contribution_months"], done["pooled_fen"]) == (11, 1_320_000)


def test_a_transfer_in_refused_by_the_old_region_is_cancelled_and_frees_the_person(
        container: Container, cases: CaseService) -> None:
    from infra.transfer_service import cancel_transfer_in

    cases.change_authorisation("teller1", ["transfer_in_cancellation"], [], "admin", "test")
    region = seed_region(container, persons=1, year=2025)
    number, person_id = region.id_numbers[0], region.person_ids[0]
    post_months(container, region.employer_code, region.id_numbers, ["2025-01"])
    accepted = accept_transfer_in(container, number, OTHER, OTHER_NAME, "2025-03-03",
                                  "2025-03-10").result
    transfer_no = str(accepted["transfer_no"])
    refused("reason_missing", cancel_transfer_in, container, number, transfer_no, " ",
            "2025-04-01")
    refused("cancelled_before_acceptance", cancel_transfer_in, container, number,
            transfer_no, "拒绝函", "2025-03-01")
    # level 2: the teller opens with the refusal letter, a reviewer signs
    opened = cases.open("transfer_in_cancellation", {"transfer_in_cancellation": {
        "id_number": number, "transfer_no": transfer_no, "reason": "转出地不予转移（已重复缴费）",
        "cancelled_on": "2025-04-01"}}, TELLER, opened_on=date(2025, 4, 1)).result
    cases.attach(str(opened["case_id"]), "cancellation_evidence", io.BytesIO(PNG), "x.png",
                 TELLER)
    assert cases.sign(str(opened["case_id"]), SIGNERS[0], signed_on=date(2025, 4, 1)
                      ).result["status"] == "completed"
    assert container.ledger.person(number).transfer_in_transit is None
    refused("transfer_not_cancellable", cancel_transfer_in, container, number, transfer_no,
            "again", "2025-04-02")
    refused("transfer_cancelled", post_transfer_in, container, number, transfer_no,
            "2025-04-02", EXAMPLE_MONTHS, EXAMPLE_ACCOUNT_FEN, EXAMPLE_POOLED_FEN, "x")
    refused("transfer_not_found", post_transfer_in,
            container, number, "ZR0000000000", "2025-04-02", EXAMPLE_MONTHS,
            EXAMPLE_ACCOUNT_FEN, EXAMPLE_POOLED_FEN, "x")
    container.runner.catch_up()
    [row] = transfers(container, person_id=person_id)
    assert (row["status"], row["completed_on"]) == ("cancelled", "2025-04-01")
    from infra.annual_report_queries import annual_report

    cross = annual_report(container, 2025)["transfers"]["cross_region"]
    assert (cross["accepted_in"], cross["transfers_in"]["count"],
            cross["in_transit_at_year_end"]) == (1, 0, 0)
    # the person may apply again, to another region
    again = accept_transfer_in(container, number, "110101", "北京市东城区社会保险基金管理中心",
                               "2025-05-06", "2025-05-06").result
    assert again["transfer_no"] != transfer_no
