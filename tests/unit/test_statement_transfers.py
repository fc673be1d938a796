"""The statement's format 3 (domain/statement.py): the months moved by transfers between pooling
regions (转入/转出缴费月数) and the months that count here, the year's transfers (转移接续), the
year's pension adjustment (养老金调整) — and formats 1 and 2 built byte for byte as the builder
wrote them before format 3 existed, whatever facts of transfers and adjustments are known."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from typing import Any

import orjson
import pypdf
from pydantic import BaseModel

from api.statement_html import render_html
from api.statement_schemas import StatementContentView
from domain.policy import PENSION
from domain.statement import (
    FORMAT_VERSION,
    Fact,
    StatementInputs,
    build_statement,
    canonical_json,
    content_hash,
)
from infra.statement_labels import pension_months_lines
from infra.statement_pdf import render_pdf
from tests.unit.test_statement import DAY, POLICY, a_paid_year, credit, fact, inputs, posted
from tests.unit.test_statement_benefits import retired_and_paid

TRANSFER_IN = "c" * 32  # the PensionTransferIn aggregate
TRANSFER_OUT = "d" * 32
OTHER, OTHER_NAME = "330106", "杭州市西湖区社会保险事业管理中心"
# DOMAIN.md §5.3: 175 months, account 139,330.50 + pooled 145,800.00
EXAMPLE_MONTHS = [["2008-01", "2012-12", 500_000], ["2013-01", "2017-12", 700_000],
                  ["2018-01", "2022-07", 900_000]]
ACCOUNT_FEN, POOLED_FEN = 13_933_050, 14_580_000
# Content hashes of the pensioner below (tests/unit/test_statement_benefits.py) in formats 1 and
# 2, as the builder wrote them before format 3 existed (computed with that code).
PENSIONER_FORMAT_1_HASH = "2e411399456b34471260fb0f7c8664b5cc673785ce1211812af3e9c982dfd5e5"
PENSIONER_FORMAT_2_HASH = "1088ad5a891929e63333833515ef7e37d77ebd74a359f8f55ecd1e39fdbef030"
URL = "https://shebao.example.cn/v1/statements/verify/BA00000-0X2ATE2-6A4WAYH"


def moved_in(position: int, posted_on: str = "2023-06-12",
             months: list[list[Any]] | None = None) -> list[Fact]:
    """A transfer in: accepted (the number and the region's name), then posted."""
    listed = months or EXAMPLE_MONTHS
    count = sum(_count(first, last) for first, last, _base in listed)
    return [
        Fact("transfer_in_accepted", {"transfer_no": "ZR44078120230515A1B2C3",
                                      "from_region_code": OTHER, "from_region_name": OTHER_NAME,
                                      "accepted_on": "2023-05-15"}, position - 1, DAY,
             TRANSFER_IN),
        Fact("transfer_in_posted", {"from_region_code": OTHER, "posted_on": posted_on,
                                    "months": listed, "contribution_months": count,
                                    "account_fen": ACCOUNT_FEN, "pooled_fen": POOLED_FEN},
             position, DAY, TRANSFER_IN),
    ]


def moved_out(position: int, months: list[list[Any]], remitted_on: str = "2023-12-20"
              ) -> Fact:
    count = sum(_count(first, last) for first, last, _base in months)
    return Fact("transfer_out_remitted", {
        "transfer_no": "ZR11010120231201X9", "to_region_code": "110101",
        "to_region_name": "北京市东城区社会保险基金管理中心", "remitted_on": remitted_on,
        "months": months, "contribution_months": count, "account_fen": 960_000,
        "pooled_fen": 1_440_000}, position, DAY, TRANSFER_OUT)


def _count(first: str, last: str) -> int:
    return (int(last[:4]) - int(first[:4])) * 12 + int(last[5:]) - int(first[5:]) + 1


def with_transfer_in(*extra: Fact) -> StatementInputs:
    facts, history, accounts = a_paid_year()
    accounts.append(credit("2023-06", ACCOUNT_FEN, 941, kind="transfer",
                           effective="2023-06-12"))
    return inputs([*facts, *moved_in(941), *extra], history, accounts)


def test_a_transfer_in_counts_its_months_here_with_its_trace() -> None:
    statement = build_statement(with_transfer_in(), POLICY)
    assert statement.format_version == FORMAT_VERSION >= 3
    months = statement.pension_months
    assert months is not None
    assert (months.actual_months, months.transferred_in_months, months.transferred_out_months,
            months.counted_months) == (12, 175, 0, 187)
    # no pension award: deemed months not recorded, no total
    assert (months.deemed_months, months.total_months) == (None, None)
    assert months.transferred_in_trace is not None and months.transferred_out_trace is not None
    assert months.transferred_in_trace.positions == (941,)
    assert months.transferred_out_trace.positions == ()
    # the insurance's own months stay those paid here
    pension = statement.insurance(PENSION)
    assert pension is not None and pension.cumulative_months == 12
    assert statement.transfers is not None
    (line,) = statement.transfers
    assert (line.direction, line.transfer_no, line.other_region_code, line.other_region_name,
            line.day, line.contribution_months, line.account_fen, line.pooled_fen) == (
        "in", "ZR44078120230515A1B2C3", OTHER, OTHER_NAME, "2023-06-12", 175, ACCOUNT_FEN,
        POOLED_FEN)
    assert line.trace.positions == (940, 941)
    account = statement.account()
    assert account is not None and account.transfer_in.fen == ACCOUNT_FEN

    award = fact("deemed_months", 960, deemed_months=120)
    awarded = build_statement(with_transfer_in(award), POLICY).pension_months
    assert awarded is not None
    assert (awarded.counted_months, awarded.deemed_months, awarded.total_months) == (
        187, 120, 307)
    assert pension_months_lines(awarded) == (
        "基本养老保险累计缴费月数：实际缴费 12 个月 + 转入缴费月数 175 个月 − 转出缴费月数 0 个月 "
        "= 本统筹区累计 187 个月", "视同缴费 120 个月，合计 307 个月")


def test_a_transfer_counts_from_its_year_and_as_known_at_the_position() -> None:
    late = build_statement(with_transfer_in(), POLICY, 3)
    assert late.pension_months is not None and late.pension_months.counted_months == 187
    # posted in the next year: not in this year's months nor lines
    facts, history, accounts = a_paid_year()
    next_year = build_statement(inputs([*facts, *moved_in(941, "2024-01-05")], history,
                                       accounts), POLICY)
    assert next_year.pension_months is not None
    assert (next_year.pension_months.transferred_in_months,
            next_year.pension_months.counted_months) == (0, 12)
    assert next_year.transfers == ()
    # a year later: counted, but not a transfer of that year
    facts_2024 = [*facts, *moved_in(941)]
    year_after = build_statement(inputs(facts_2024, history, accounts, year=2024), POLICY)
    assert year_after.pension_months is not None
    assert year_after.pension_months.counted_months == 187 and year_after.transfers == ()
    # as known before it was posted (the acceptance alone moves nothing)
    before = build_statement(replace(with_transfer_in(), position=940), POLICY)
    assert before.pension_months is not None
    assert (before.pension_months.transferred_in_months, before.transfers) == (0, ())


def test_a_transfer_out_removes_the_months_here_even_one_reversed_afterwards() -> None:
    facts, history, accounts = a_paid_year()
    history = [posted(f"2022-{m:02d}", 10 + m) for m in range(1, 13)] + history
    out = moved_out(950, [["2022-01", "2023-12", 1_000_000]])
    statement = build_statement(inputs([*facts, out], history, accounts), POLICY)
    months = statement.pension_months
    assert months is not None
    assert (months.actual_months, months.transferred_in_months, months.transferred_out_months,
            months.counted_months) == (24, 0, 24, 0)
    assert months.transferred_out_trace is not None
    assert months.transferred_out_trace.positions == (950,)
    assert statement.transfers is not None
    assert [(t.direction, t.other_region_code, t.contribution_months)
            for t in statement.transfers] == [("out", "110101", 24)]
    # a month moved out and reversed here later is not taken away twice
    reversed_later = [*history, posted("2023-03", 960, kind="reversed")]
    after = build_statement(inputs([*facts, out], reversed_later, accounts), POLICY)
    assert after.pension_months is not None
    assert (after.pension_months.actual_months, after.pension_months.counted_months) == (23, 0)
    # moved out, then back and moved in again: the months in count
    back = moved_in(980, "2023-12-28", [["2022-01", "2023-12", 1_000_000]])
    both = build_statement(inputs([*facts, out, *back], history, accounts), POLICY)
    assert both.pension_months is not None
    assert both.pension_months.counted_months == 24
    assert both.transfers is not None
    assert [t.direction for t in both.transfers] == ["out", "in"]


def adjusted(year: int, position: int, arrears_periods: list[str]) -> Fact:
    return Fact("pension_adjusted", {
        "entitlement_id": "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa", "year": year,
        "effective_period": f"{year}-01", "delta_fen": 12_000,
        "arrears_periods": arrears_periods, "arrears_fen": 12_000 * len(arrears_periods)},
        position, DAY, "f" * 32)


def test_the_years_pension_adjustment_is_in_the_benefits_received() -> None:
    facts, accounts = retired_and_paid()
    _, history, _ = a_paid_year()
    facts += [adjusted(2022, 965, []), adjusted(2023, 974, ["2023-01", "2023-02", "2023-03"])]
    statement = build_statement(inputs(facts, history, accounts), POLICY)
    assert statement.benefits_received is not None
    (received,) = statement.benefits_received
    assert received.adjustment is not None
    adjustment = received.adjustment
    assert (adjustment.year, adjustment.effective_period, adjustment.monthly_increase_fen,
            adjustment.arrears_months, adjustment.arrears_fen) == (2023, "2023-01", 12_000, 3,
                                                                   36_000)
    assert adjustment.trace.positions == (974,)
    # as known before the year's adjustment: none
    before = build_statement(inputs(facts, history, accounts, position=973), POLICY)
    assert before.benefits_received is not None
    assert before.benefits_received[0].adjustment is None


def test_formats_1_and_2_are_built_as_before_whatever_transfers_and_adjustments_are_known(
        ) -> None:
    facts, accounts = retired_and_paid()
    _, history, _ = a_paid_year()
    for extra in ([], [*moved_in(980), adjusted(2023, 981, ["2023-01"]),
                       moved_out(982, [["2023-01", "2023-12", 1_000_000]])]):
        found = inputs([*facts, *extra], history, accounts)
        assert content_hash(build_statement(found, POLICY, 1)) == PENSIONER_FORMAT_1_HASH
        assert content_hash(build_statement(found, POLICY, 2)) == PENSIONER_FORMAT_2_HASH
    plain = orjson.loads(canonical_json(build_statement(found, POLICY, 2)))
    assert "transfers" not in plain and "counted_months" not in plain["pension_months"]
    assert "adjustment" not in plain["benefits_received"][0]
    # format 2 counts the months paid here only, as it always did
    assert plain["pension_months"]["actual_months"] == 12
    three = orjson.loads(canonical_json(build_statement(found, POLICY)))
    assert three["pension_months"]["counted_months"] == 12 + 175 - 12
    assert [t["direction"] for t in three["transfers"]] == ["in", "out"]


def _fields(model: type[BaseModel], value: Any, where: str) -> list[str]:
    """Keys of `value` that the response model does not declare, at any depth."""
    missing = [f"{where}.{key}" for key in value if key not in model.model_fields]
    for key, item in value.items():
        annotation = model.model_fields[key].annotation if key in model.model_fields else None
        nested = [a for a in getattr(annotation, "__args__", (annotation,))
                  if isinstance(a, type) and issubclass(a, BaseModel)]
        nested += [b for a in getattr(annotation, "__args__", ())
                   for b in getattr(a, "__args__", ())
                   if isinstance(b, type) and issubclass(b, BaseModel)]
        if not nested or item is None:
            continue
        for entry in item if isinstance(item, list) else [item]:
            missing += _fields(nested[0], entry, f"{where}.{key}")
    return missing


def test_the_json_schema_declares_every_field_of_format_3() -> None:
    facts, accounts = retired_and_paid()
    _, history, _ = a_paid_year()
    found = inputs([*facts, *moved_in(980), adjusted(2023, 981, ["2023-01"])], history,
                   accounts)
    plain = orjson.loads(canonical_json(build_statement(found, POLICY)))
    assert _fields(StatementContentView, plain, "statement") == []
    StatementContentView.model_validate(plain)


def a_mover(transfers_in_year: int = 3) -> Any:
    """Contributing all 2023 here (accounts rows of DOMAIN.md §3.3), moved in from 330106 in
    June, out to 110101 in December and in again at the end of December; more transfers of
    other numbers to crowd the page when asked."""
    facts, history, accounts = a_paid_year()
    extra = [*moved_in(941), moved_out(950, [["2023-01", "2023-12", 1_000_000]]),
             *moved_in(961, "2023-12-28", [["2023-01", "2023-12", 1_000_000]])]
    for i in range(transfers_in_year - 3):
        extra.append(moved_out(970 + i, [[f"20{10 + i}-01", f"20{10 + i}-01", 500_000]],
                               "2023-12-30"))
    facts = [*facts, fact("deemed_months", 930, deemed_months=120), *extra]
    return build_statement(inputs(facts, history, accounts), POLICY)


def a_pensioner_adjusted() -> Any:
    """Retired before the year, paid January to March, the year's adjustment with arrears for
    them; nothing contributed in the year."""
    facts, accounts = retired_and_paid()
    facts = [*facts, fact("deemed_months", 960, deemed_months=120),
             adjusted(2023, 981, ["2023-01", "2023-02"])]
    return build_statement(inputs(facts, [], accounts), POLICY)


def pdf_text_and_gap(statement: Any) -> tuple[str, float]:
    """The page's text, and how far the body's lowest baseline is above the footer's rule (the
    lowest line drawn, over the verification code and the QR symbol): of a one-page PDF."""
    ((text, gap),) = pages_and_gaps(statement)
    return text, gap


def pages_and_gaps(statement: Any) -> list[tuple[str, float]]:
    """Per page of the statement's PDF, its text and its body's gap above the footer's rule."""
    pdf = render_pdf(statement, content_hash(statement), "BA00000-0X2ATE2-6A4WAYH", URL)
    found = []
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        content = page.get_contents()
        assert content is not None
        data = content.get_data().decode("latin-1")
        rule_y = min(float(m[1])
                     for m in re.finditer(r"[\d.]+ ([\d.]+) m [\d.]+ [\d.]+ l", data))
        body_y = min(float(m[1])
                     for m in re.finditer(r"[\d.]+ 0 0 [\d.]+ [\d.]+ ([\d.]+) Tm", data)
                     if float(m[1]) > rule_y)
        found.append((page.extract_text(), body_y - rule_y))
    return found


def test_the_pdf_shows_the_months_moved_and_the_years_transfers_above_the_footer() -> None:
    statement = a_mover()
    assert statement.pension_months is not None
    assert (statement.pension_months.transferred_in_months,
            statement.pension_months.transferred_out_months,
            statement.pension_months.counted_months) == (187, 12, 187)
    text, gap = pdf_text_and_gap(statement)
    for expected in ("转入缴费月数 187 个月", "转出缴费月数 12 个月", "本统筹区累计 187 个月",
                     "视同缴费 120 个月，合计 307 个月", "六、转移接续（金额单位：元）",
                     # the regions' names (as long as these) leave no room on the A4 line
                     "转移接续：2023-06-12 转入（自330106）175 个月，个人账户 139330.50 元，"
                     "统筹基金 145800.00 元", "转移接续：2023-12-20 转出（至110101）12 个月",
                     "转移接续：2023-12-28 转入"):
        assert expected in text, expected
    assert "另有" not in text
    assert gap >= 10, gap
    crowded, crowded_gap = pdf_text_and_gap(a_mover(transfers_in_year=6))
    assert crowded.count("转移接续：") == 2 and "另有 4 条转移接续记录，详见电子记录单" in crowded
    assert crowded_gap >= 10, crowded_gap


def test_the_pdf_shows_the_years_adjustment_in_the_benefits_received() -> None:
    text, gap = pdf_text_and_gap(a_pensioner_adjusted())
    assert "2023年养老金调整：自 2023-01 起每月增加 120.00 元；补发 2 个月 240.00 元" in text
    assert "六、" not in text  # no transfer, no section
    assert gap >= 10, gap


def test_the_html_links_the_months_moved_and_each_transfer_to_their_traces() -> None:
    statement = a_mover()
    page = render_html(statement, content_hash(statement), "BA00000-0X2ATE2-6A4WAYH", URL)
    assert "转入缴费月数 <a href=\"/v1/persons/440781199001010016/trace\">187</a>" in page
    assert "转出缴费月数 <a href=\"/v1/persons/440781199001010016/trace\">12</a>" in page
    assert "本统筹区累计 187 个月；视同缴费 120 个月，合计 307 个月" in page
    person = statement.registration.person_id
    assert (f'<a href="/v1/trace?account=personal%3A{person}%3A110&amp;from=2024-07-01&amp;'
            f'to=2024-07-01">转移接续：2023-06-12 转入（自330106 {OTHER_NAME}）175 个月') in page
    assert "（编号 ZR44078120230515A1B2C3）" in page
    assert page.count("转移接续：") == 3
    pensioner = a_pensioner_adjusted()
    page = render_html(pensioner, content_hash(pensioner), "X", URL)
    assert "2023年养老金调整：自 2023-01 起每月增加 120.00 元；补发 2 个月 240.00 元" in page
    assert "六、转移接续" not in page
