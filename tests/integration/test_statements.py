"""Personal rights statements on SQLite and PostgreSQL: a person with contributions, a reversal,
interest and a back-payment recorded later; the statement's figures tie to the read models;
"as known at P" before and after the back-payment (the earlier code still verifies with the
earlier content); verification of valid, mistyped and tampered codes; the PDF; and the yearly
batch writing one PDF per person with a manifest."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pypdf
import pytest

from domain.errors import ValidationFailed
from domain.policy import PENSION
from domain.statement import ARREARS, PAID
from domain.verification_code import VerificationCode, parse_code
from infra.backpay_service import assess_backpay, collect_backpay
from infra.bootstrap import Container
from infra.bulk_posting import BulkPoster, PostingRequest
from infra.interest_service import credit_interest
from infra.statement_batch import MANIFEST_COLUMNS, write_statements
from infra.statement_pdf import render_pdf
from infra.statement_queries import StatementQueries
from tests.helpers import seed_region

WAGE_FEN = 900_000  # a 9,000.00 base: 720.00 a month to the pension account (8%)
CREDIT_FEN = 72_000
BACK_PERIODS = ("2022-03", "2022-04", "2022-05")


def queries(container: Container) -> StatementQueries:
    return StatementQueries(container.views, container.store, container.policy,
                            container.settings.region_code)


def a_contribution_history(container: Container) -> tuple[str, str, str]:
    """Two persons employed from 2022-01. The first paid 2022 but March-May, and 2023 with
    June reversed (红冲) and posted again; the second paid both years. Interest credited for
    2022 and 2023."""
    region = seed_region(container, persons=2, year=2022, wage_fen=WAGE_FEN, years=(2023,))
    first, second = region.id_numbers
    code = region.employer_code
    periods = [f"{y}-{m:02d}" for y in (2022, 2023) for m in range(1, 13)]
    requests = [PostingRequest(first, code, p) for p in periods if p not in BACK_PERIODS]
    requests += [PostingRequest(second, code, p) for p in periods]
    assert BulkPoster(container.store, container.policy, "test").post(
        requests).summary()["posted"] == len(requests)
    container.ledger.reverse_contribution(first, "2023-06", "wrong employer code reported")
    container.ledger.post_contribution(first, code, "2023-06")
    for year in (2022, 2023):
        credit_interest(container.store, container.policy, container.runner, container.queries,
                        year)
    return first, code, region.person_ids[0]


def test_figures_reversal_interest_and_a_later_back_payment(container: Container) -> None:
    number, code, person = a_contribution_history(container)
    before_position = container.runner.catch_up()
    q = queries(container)
    before = q.issue(person, 2022, before_position)
    pension = before.statement.insurance(PENSION)
    assert pension is not None
    assert [m.period for m in pension.months if m.status == ARREARS] == list(BACK_PERIODS)
    assert (pension.paid_months, pension.arrears_months) == (9, 3)
    account = before.statement.account()
    assert account is not None
    assert account.contributions.fen == 9 * CREDIT_FEN and account.backpay.fen == 0
    assert account.closing.fen == container.queries.account_balance(
        person, as_of="2022-12-31")["balance_fen"]

    assessed = assess_backpay(container, number, code, BACK_PERIODS[0], BACK_PERIODS[-1],
                              pay_by="2024-04-30", reason="payroll records found",
                              assessed_by="reviewer1").result
    collect_backpay(container, assessed["backpay_id"], "2024-04-20", "SW-BP-1",
                    assessed["total_fen"], "reconciler1")
    after_position = container.runner.catch_up()
    after = q.issue(person, 2022, after_position)
    pension = after.statement.insurance(PENSION)
    account = after.statement.account()
    assert pension is not None and account is not None
    assert (pension.paid_months, pension.arrears_months) == (12, 0)
    assert [m.period for m in pension.months if m.backpay] == list(BACK_PERIODS)
    assert account.backpay.fen == 3 * CREDIT_FEN
    assert account.contributions.fen == 9 * CREDIT_FEN
    # the 2022 interest was recomputed with the back-paid credits: its rate and the events
    # behind it (the first computation and the recomputation)
    assert account.interest_rate is not None and len(account.interest.trace.positions) == 2
    assert account.interest.fen > before.statement.account().interest.fen  # type: ignore[union-attr]
    assert account.closing.fen == container.queries.account_balance(
        person, as_of="2022-12-31")["balance_fen"]
    assert after.content_hash != before.content_hash
    assert after.verification_code != before.verification_code

    # The statement of 2022 as known before the back-payment is still that statement...
    again = q.issue(person, 2022, before_position)
    assert again.canonical == before.canonical
    # ...and both codes verify, each with its own content.
    for issued in (before, after):
        result = q.verify(issued.verification_code, after_position)
        assert result.valid and result.issued is not None
        assert result.issued.content_hash == issued.content_hash
        assert result.position == issued.statement.position

    # 2023: the opening balance is 2022's closing as known now; June reversed and re-posted
    year_2023 = q.issue(person, 2023, after_position).statement
    account_2023 = year_2023.account()
    pension_2023 = year_2023.insurance(PENSION)
    assert account_2023 is not None and pension_2023 is not None
    assert account_2023.opening.fen == account.closing.fen
    assert account_2023.reversals.fen == -CREDIT_FEN
    assert account_2023.contributions.fen == 13 * CREDIT_FEN
    june = pension_2023.months[5]
    assert (june.period, june.status, june.individual_fen) == ("2023-06", PAID, CREDIT_FEN)
    assert len(june.trace.positions) == 3  # posted, reversed, posted again
    assert pension_2023.cumulative_months == 24
    assert account_2023.closing.fen == container.queries.account_balance(
        person, as_of="2023-12-31")["balance_fen"]


def test_verification_refuses_mistyped_tampered_and_future_codes(container: Container) -> None:
    _number, _code, person = a_contribution_history(container)
    position = container.runner.catch_up()
    q = queries(container)
    issued = q.issue(person, 2023, position)
    code = parse_code(issued.verification_code)

    typo = issued.verification_code.replace("-", "")
    typo = typo[:5] + ("1" if typo[5] != "1" else "2") + typo[6:]
    with pytest.raises(ValidationFailed) as mistyped:
        q.verify(typo, position)
    assert mistyped.value.code == "verification_code_check_char"

    for tampered, reason in (
            (VerificationCode(code.year, code.position, code.person_key, code.hash_prefix ^ 1),
             "no_matching_statement"),
            (VerificationCode(2022, code.position, code.person_key, code.hash_prefix),
             "no_matching_statement"),
            (VerificationCode(code.year, code.position - 1, code.person_key, code.hash_prefix),
             "no_matching_statement"),
            (VerificationCode(code.year, position + 1, code.person_key, code.hash_prefix),
             "position_not_reached")):
        result = q.verify(tampered.text(), position)
        assert (result.valid, result.reason) == (False, reason)
        assert result.issued is None


def test_the_pdf_of_a_statement(container: Container) -> None:
    _number, _code, person = a_contribution_history(container)
    issued = queries(container).issue(person, 2023, container.runner.catch_up())
    pdf = render_pdf(issued.statement, issued.content_hash, issued.verification_code,
                     issued.verify_url("https://shebao.example.cn"))
    assert pdf.startswith(b"%PDF") and b"/STSong-Light" in pdf
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "社会保险个人权益记录单" in text and "（2023年度）" in text
    assert f"校验码：{issued.verification_code}" in text and issued.content_hash in text


def test_the_yearly_batch_writes_one_pdf_per_person_and_a_manifest(
        container: Container, tmp_path: Path) -> None:
    a_contribution_history(container)
    container.staff.add_user("mailer", ["teller"])
    out = tmp_path / "statements"
    seen: list[tuple[int, int]] = []
    batch = write_statements(container.settings, 2023, out, workers=2,
                             public_url="https://shebao.example.cn",
                             progress=lambda done, total: seen.append((done, total)),
                             operator="mailer")
    assert batch.persons == 2 and seen[-1] == (2, 2)
    with batch.manifest.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == MANIFEST_COLUMNS
    assert [r["person_id"] for r in rows] == sorted(r["person_id"] for r in rows)
    assert len(rows) == 2 and len(list(out.rglob("*.pdf"))) == 2
    q = queries(container)
    for row in rows:
        assert "*" in row["name_masked"] and "********" in row["id_number_masked"]
        pdf = (out / row["file"]).read_bytes()
        assert pdf.startswith(b"%PDF")
        text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
        assert f"校验码：{row['verification_code']}" in text and row["content_hash"] in text
        result = q.verify(row["verification_code"], container.runner.catch_up())
        assert result.valid and result.issued is not None
        assert result.issued.content_hash == row["content_hash"]
        assert result.position == result.issued.statement.position
    # one process writes the same files, in the same layout, as two
    # (as known at the same position: the first batch's access record came after it)
    one_process = write_statements(container.settings, 2023, tmp_path / "one", workers=1,
                                   public_url="https://shebao.example.cn", operator="mailer",
                                   position=batch.position)
    assert one_process.position == batch.position
    assert one_process.manifest.read_bytes() == batch.manifest.read_bytes()
    for row in rows:
        assert (tmp_path / "one" / row["file"]).read_bytes() == (out / row["file"]).read_bytes()
