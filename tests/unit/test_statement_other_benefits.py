"""The statement's format 4 (domain/statement.py): the benefits of the other insurances received
in the year (失业、医疗、工伤、生育待遇, `other_benefits`) from the paying systems' payment
details; formats 1 to 3 built byte for byte as before whatever payments are known; format 4's
verification code; and the PDF, which flows onto a continuation page (续页) when a year holds
more than one page has room for."""

from __future__ import annotations

from dataclasses import replace

import orjson
from hypothesis import given
from hypothesis import strategies as st

from api.statement_html import render_html
from api.statement_schemas import StatementContentView
from domain.statement import (
    FORMAT_VERSION,
    BenefitPaymentRow,
    build_statement,
    canonical_json,
    content_hash,
)
from domain.verification_code import ALPHABET, issue_code, parse_code
from infra.statement_labels import other_benefit_text
from tests.unit.test_statement import DAY, POLICY, a_paid_year, inputs
from tests.unit.test_statement_benefits import retired_and_paid
from tests.unit.test_statement_transfers import (
    PENSIONER_FORMAT_1_HASH,
    PENSIONER_FORMAT_2_HASH,
    URL,
    _fields,
    a_mover,
    adjusted,
    moved_in,
    moved_out,
    pages_and_gaps,
    pdf_text_and_gap,
)

# Content hashes of the pensioner of tests/unit/test_statement_benefits.py in format 3, without
# and with a transfer in and out and an adjustment, as the builder wrote them before format 4
# existed (computed with that code, commit ce5dde5).
PENSIONER_FORMAT_3_HASH = "31149846f6c8573b578076d0cdc0794a23c684592081d412b765ab27b2c588fb"
MOVED_PENSIONER_FORMAT_3_HASH = "7a91087a929b61b3b21a602c13c958530a08682ffd9f893aeb7761a19f5ff1be"
CODE = "BA00000-0X2ATE2-6A4WAYH"


def benefit(insurance: str, kind: str, period: str, amount_fen: int, position: int
            ) -> BenefitPaymentRow:
    return BenefitPaymentRow(insurance, kind, period, amount_fen, position, DAY)


def unemployed_in_2023() -> list[BenefitPaymentRow]:
    """失业保险金 for April to June 2023 and a medical subsidy for May; a work-injury medical
    bill paid in two settlements for one month; a benefit for December 2022 (the year before)
    and one for January 2024 (the year after)."""
    return [
        benefit("210", "unemployment_benefit", "2022-12", 185_000, 1001),
        benefit("210", "unemployment_benefit", "2023-04", 185_000, 1002),
        benefit("210", "unemployment_benefit", "2023-05", 185_000, 1003),
        benefit("210", "unemployment_benefit", "2023-06", 185_000, 1004),
        benefit("210", "unemployment_medical_subsidy", "2023-05", 12_050, 1005),
        benefit("410", "injury_medical", "2023-08", 100_000, 1006),
        benefit("410", "injury_medical", "2023-08", 45_678, 1007),
        benefit("210", "unemployment_benefit", "2024-01", 185_000, 1008),
    ]


def test_the_years_benefits_of_the_other_insurances_per_kind_with_their_trace() -> None:
    facts, history, accounts = a_paid_year()
    found = replace(inputs(facts, history, accounts), benefit_payments=unemployed_in_2023())
    statement = build_statement(found, POLICY)
    assert statement.format_version == FORMAT_VERSION == 4
    assert statement.other_benefits is not None
    summary = [(o.insurance, o.kind, o.payments, o.months, o.first_period, o.last_period,
                o.total_fen, o.trace.positions) for o in statement.other_benefits]
    assert summary == [
        ("210", "unemployment_benefit", 3, 3, "2023-04", "2023-06", 555_000,
         (1002, 1003, 1004)),
        ("210", "unemployment_medical_subsidy", 1, 1, "2023-05", "2023-05", 12_050, (1005,)),
        ("410", "injury_medical", 2, 1, "2023-08", "2023-08", 145_678, (1006, 1007)),
    ]
    texts = [other_benefit_text(o) for o in statement.other_benefits]
    assert texts[0] == "失业保险·失业保险金：本年发放 3 个月（2023-04 至 2023-06），合计 5550.00 元"
    assert texts[2].startswith("工伤保险·") and "本年发放 2 笔、1 个月（2023-08）" in texts[2]
    # as known before the June payment was recorded: April and May only
    earlier = build_statement(replace(found, position=1003), POLICY)
    assert earlier.other_benefits is not None
    assert [(o.kind, o.payments) for o in earlier.other_benefits] == [
        ("unemployment_benefit", 2)]
    # none at all: an empty list, not null (format 4 knows there were none)
    none = build_statement(inputs(facts, history, accounts), POLICY)
    assert none.other_benefits == ()
    assert orjson.loads(canonical_json(none))["other_benefits"] == []


def test_formats_1_to_3_are_built_as_before_whatever_benefit_payments_are_known() -> None:
    facts, accounts = retired_and_paid()
    _, history, _ = a_paid_year()
    moves = [*moved_in(980), adjusted(2023, 981, ["2023-01"]),
             moved_out(982, [["2023-01", "2023-12", 1_000_000]])]
    for payments in ((), tuple(unemployed_in_2023())):
        plain = replace(inputs(facts, history, accounts), benefit_payments=payments)
        assert content_hash(build_statement(plain, POLICY, 1)) == PENSIONER_FORMAT_1_HASH
        assert content_hash(build_statement(plain, POLICY, 2)) == PENSIONER_FORMAT_2_HASH
        assert content_hash(build_statement(plain, POLICY, 3)) == PENSIONER_FORMAT_3_HASH
        moved = replace(inputs([*facts, *moves], history, accounts), benefit_payments=payments)
        assert content_hash(build_statement(moved, POLICY, 3)) == MOVED_PENSIONER_FORMAT_3_HASH
        three = orjson.loads(canonical_json(build_statement(moved, POLICY, 3)))
        assert "other_benefits" not in three
        # format 4 is format 3 and the other benefits
        four = orjson.loads(canonical_json(build_statement(moved, POLICY, 4)))
        assert len(four.pop("other_benefits")) == (3 if payments else 0)
        assert {**four, "format_version": 3} == three


def test_format_4_codes_use_the_version_bits_formats_1_to_3_left_free() -> None:
    digest = "ab" * 32
    for format_version in (1, 2, 3, 4):
        code = issue_code(2023, 123_456, 99, digest, format_version)
        parsed = parse_code(code)
        assert (parsed.format_version, parsed.year, parsed.position, parsed.person_key) == (
            format_version, 2023, 123_456, 99)
        assert parsed.matches(digest)
        # the first 2 of the code's 100 bits: formats 1-3 as they were always written, 4 as 0
        assert ALPHABET.index(code[0]) >> 3 == {1: 1, 2: 2, 3: 3, 4: 0}[format_version]


def test_the_json_schema_declares_every_field_of_format_4() -> None:
    facts, history, accounts = a_paid_year()
    found = replace(inputs(facts, history, accounts), benefit_payments=unemployed_in_2023())
    plain = orjson.loads(canonical_json(build_statement(found, POLICY)))
    assert plain["other_benefits"]
    assert _fields(StatementContentView, plain, "statement") == []
    StatementContentView.model_validate(plain)


def test_the_html_and_the_pdf_show_the_other_benefits_in_section_five() -> None:
    facts, history, accounts = a_paid_year()
    statement = build_statement(replace(inputs(facts, history, accounts),
                                        benefit_payments=unemployed_in_2023()), POLICY)
    page = render_html(statement, content_hash(statement), CODE, URL)
    assert "失业保险·失业保险金：本年发放 3 个月（2023-04 至 2023-06），合计 5550.00 元" in page
    text, gap = pdf_text_and_gap(statement)
    assert "五、待遇领取情况" in text and "无养老保险待遇核定记录。" in text
    assert "失业保险·失业保险金：本年发放 3 个月（2023-04 至 2023-06），合计 5550.00 元" in text
    assert "医疗补助金" in text and "工伤保险·" in text
    assert gap >= 10, gap


def test_a_year_too_full_for_one_page_flows_onto_a_continuation_page_with_the_footer() -> None:
    assert len(pages_and_gaps(a_mover())) == 1  # a mover with the year's transfers, as before
    # seven benefit kinds of the year (two more than the page lists) and the mover's transfers
    kinds = (("210", "unemployment_benefit"), ("210", "unemployment_medical_subsidy"),
             ("210", "training_subsidy"), ("310", "medical_settlement"),
             ("410", "injury_medical"), ("510", "maternity_allowance"),
             ("510", "maternity_medical"))
    many = [benefit(insurance, kind, "2023-03", 5_000, 1200 + i)
            for i, (insurance, kind) in enumerate(kinds)]
    facts, history, accounts = a_paid_year()
    statement = build_statement(replace(inputs(
        [*facts, *moved_in(941), moved_out(950, [["2023-01", "2023-12", 1_000_000]]),
         *moved_in(961, "2023-12-28", [["2023-01", "2023-12", 1_000_000]])],
        history, accounts), benefit_payments=many), POLICY)
    (first, first_gap), (second, second_gap) = pages_and_gaps(statement)
    assert "第 1 页 共 2 页" in first and "第 2 页 共 2 页" in second
    assert "续页" in second and statement.registration.id_number in second
    for text in (first, second):  # the footer on every page
        assert f"校验码：{CODE}" in text
    # no part split: 五 and 六 whole on one page or the other, every line once
    whole = first + second
    assert whole.count("五、待遇领取情况") == 1 and whole.count("六、转移接续") == 1
    assert "另有 2 项失业、医疗、工伤、生育保险待遇，详见电子记录单" in whole
    five = first if "五、待遇领取情况" in first else second  # the section with its last line
    assert "另有 2 项失业、医疗、工伤、生育保险待遇" in five
    assert first_gap >= 10 and second_gap >= 10, (first_gap, second_gap)


KINDS = (("210", "unemployment_benefit"), ("310", "medical_settlement"),
         ("410", "injury_allowance"), ("510", "maternity_allowance"))


@given(st.lists(st.tuples(st.sampled_from(KINDS), st.integers(2022, 2024),
                          st.integers(1, 12), st.integers(1, 10_000_000)), max_size=40),
       st.integers(1000, 1040))
def test_the_other_benefits_hold_every_fen_paid_for_the_year_as_known_at_p(
        payments: list[tuple[tuple[str, str], int, int, int]], at: int) -> None:
    rows = [benefit(insurance, kind, f"{year}-{month:02d}", amount_fen, 1000 + i)
            for i, ((insurance, kind), year, month, amount_fen) in enumerate(payments)]
    facts, history, accounts = a_paid_year()
    found = replace(inputs(facts, history, accounts, position=at), benefit_payments=rows)
    others = build_statement(found, POLICY).other_benefits
    assert others is not None
    counted = [r for r in rows if r.position <= at and r.period.startswith("2023-")]
    assert sum(o.total_fen for o in others) == sum(r.amount_fen for r in counted)
    assert sorted(p for o in others for p in o.trace.positions) == [r.position for r in counted]
    assert all(1 <= o.months <= o.payments and o.months <= 12 for o in others)
    assert len({(o.insurance, o.kind) for o in others}) == len(others)
