"""A line of a benefit payment-detail file (待遇支付明细) is checked field by field, every fault
with its code; the catalogue of benefit kinds is validated on load; a payment's journal debits
the insurance's pooled fund and credits the bank payout account, balanced, for any amount."""

from __future__ import annotations

import copy
import csv
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.benefit_payment import (
    BENEFIT_INSURANCES,
    BenefitLine,
    BenefitPayment,
    payment_journal,
)
from domain.benefit_payment_line import BenefitKinds, parse_benefit_line
from domain.collection import AMOUNT_FEN_MAX, LineErrors
from domain.journal import assert_balanced
from infra.benefit_payment_file import load_benefit_kinds, read_benefit_file
from infra.collection_file import CollectionFileError
from infra.policy_loader import default_policy, read_data_file
from tests.helpers import make_id_number, with_wrong_check_char

TODAY = date(2024, 12, 31)
KINDS = load_benefit_kinds()
POLICY = default_policy()
PERSON = make_id_number(1)
GOOD = {"paid_on": "2024-03-05", "insurance": "210", "kind": "失业保险金",
        "id_number": PERSON, "period": "2024-03", "amount": "1850.00", "voucher": "SY-0001"}


def parse(**changes: str) -> BenefitLine | list[str]:
    result = parse_benefit_line(7, {**GOOD, **changes}, POLICY, KINDS, TODAY)
    if isinstance(result, BenefitLine):
        return result
    return [e.code for e in result]


def test_a_valid_line_is_normalised() -> None:
    line = parse(paid_on="20240305", period="202403", kind="unemployment_benefit")
    assert line == BenefitLine(7, "2024-03-05", "210", "unemployment_benefit", PERSON,
                               "2024-03", 185_000, "SY-0001")
    assert parse() == line  # the Chinese name is the same kind


@pytest.mark.parametrize(("changes", "code"), [
    ({"paid_on": ""}, "value_missing"),
    ({"paid_on": "2024-02-30"}, "date_malformed"),
    ({"paid_on": "2025-01-01", "period": "2025-01"}, "paid_on_in_future"),
    ({"insurance": "999"}, "insurance_unknown"),
    ({"insurance": "110"}, "insurance_not_paid_here"),
    ({"insurance": "170"}, "insurance_not_paid_here"),
    ({"kind": "养老金"}, "kind_unknown"),
    ({"kind": "生育津贴"}, "kind_not_of_insurance"),
    ({"id_number": with_wrong_check_char(PERSON)}, "id_number_check_digit"),
    ({"id_number": "12345"}, "id_number_malformed"),
    ({"period": "March"}, "period_malformed"),
    ({"period": "2024-13"}, "period_out_of_range"),
    ({"period": "2024-04"}, "period_after_paid_on"),
    ({"amount": "1,850.00"}, "amount_not_a_number"),
    ({"amount": "-1850"}, "amount_negative"),
    ({"amount": "0.00"}, "amount_zero"),
    ({"amount": "1850.001"}, "amount_not_integer_fen"),
    ({"amount": str(AMOUNT_FEN_MAX)}, "amount_too_large"),
    ({"voucher": "V" * 65}, "value_too_long"),
    ({"voucher": "SY 0001"}, "value_malformed"),
])
def test_each_fault_of_a_line_has_its_code(changes: dict[str, str], code: str) -> None:
    assert parse(**changes) == [code]


def test_every_fault_of_a_line_is_reported_at_once() -> None:
    faults = parse_benefit_line(3, {**GOOD, "kind": "", "amount": "x", "voucher": ""},
                                POLICY, KINDS, TODAY)
    assert isinstance(faults, list)
    assert [(e.field, e.code) for e in faults] == [
        ("kind", "value_missing"), ("amount", "amount_not_a_number"),
        ("voucher", "value_missing")]
    assert all(e.line_no == 3 for e in faults)
    assert "失业保险金" in parse_benefit_line(3, {**GOOD, "kind": "x"}, POLICY, KINDS,
                                                TODAY)[0].message  # type: ignore[index]


def write(path: Path, rows: list[list[str]], header: list[str] | None = None) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header or ["支付日期", "险种代码", "待遇类别", "身份证号", "所属期",
                                   "金额", "凭证号"])
        writer.writerows(rows)
    return path


def test_the_reader_refuses_a_voucher_given_twice_and_a_cut_line(tmp_path: Path) -> None:
    row = list(GOOD.values())
    other = [*row[:6], "SY-0002"]
    path = write(tmp_path / "f.csv", [row, other, row, row[:5]])
    items = list(read_benefit_file(path, POLICY, KINDS, TODAY))
    assert [type(i).__name__ for i in items] == ["BenefitLine", "BenefitLine", "LineErrors",
                                                 "LineErrors"]
    duplicate, cut = items[2], items[3]
    assert isinstance(duplicate, LineErrors) and duplicate.codes == ("voucher_duplicate",)
    assert duplicate.line_no == 4 and "line 2" in duplicate.errors[0].message
    assert isinstance(cut, LineErrors) and cut.codes == ("column_count",)
    # the same voucher under another insurance is another payment
    maternity = ["2024-03-05", "510", "生育津贴", PERSON, "2024-03", "9000", "SY-0001"]
    assert all(isinstance(i, BenefitLine) for i in read_benefit_file(
        write(tmp_path / "g.csv", [row, maternity]), POLICY, KINDS, TODAY))


def test_a_file_without_a_column_is_refused_whole(tmp_path: Path) -> None:
    path = write(tmp_path / "f.csv", [list(GOOD.values())[:6]],
                 header=["支付日期", "险种代码", "待遇类别", "身份证号", "所属期", "金额"])
    with pytest.raises(CollectionFileError) as refused:
        list(read_benefit_file(path, POLICY, KINDS, TODAY))
    assert refused.value.code == "columns_missing" and "凭证号" in refused.value.message


def test_the_english_headers_and_the_collection_files_id_header_are_read(tmp_path: Path) -> None:
    header = ["Voucher number", "Amount", "Period", "公民身份号码", "Benefit kind",
              "Insurance code", "Paid on"]
    row = list(reversed(list(GOOD.values())))
    [line] = read_benefit_file(write(tmp_path / "f.csv", [row], header), POLICY, KINDS, TODAY)
    assert isinstance(line, BenefitLine) and line.amount_fen == 185_000


def test_the_catalogue_has_kinds_for_each_insurance_and_refuses_a_bad_entry() -> None:
    assert {k.insurance for k in KINDS.kinds.values()} == set(BENEFIT_INSURANCES)
    assert KINDS.find("生育津贴") == KINDS.kinds["maternity_allowance"]
    assert all(k.source.strip() for k in KINDS.kinds.values())
    doc = read_data_file("policy_data", "benefit_kinds")
    for mutate, message in (
            (lambda d: d["kind"][0].update(insurance="110"), "the pension has its own"),
            (lambda d: d["kind"][1].update(code=d["kind"][0]["code"]), "given twice"),
            (lambda d: d["kind"][0].pop("source"), "source"),
            (lambda d: d.update(kind=[k for k in d["kind"] if k["insurance"] != "410"]),
             "no kind for insurance 410")):
        bad = copy.deepcopy(doc)
        mutate(bad)
        with pytest.raises(ValueError, match=message):
            BenefitKinds.from_document(bad)


@given(insurance=st.sampled_from(BENEFIT_INSURANCES),
       amount_fen=st.integers(min_value=1, max_value=AMOUNT_FEN_MAX))
def test_the_journal_debits_the_fund_and_credits_the_payout_balanced(
        insurance: str, amount_fen: int) -> None:
    journal = payment_journal(insurance, amount_fen)
    assert_balanced(journal)
    assert journal == [[f"fund:{insurance}", amount_fen, 0], ["bank:payout", 0, amount_fen]]


def test_a_payment_is_keyed_by_region_insurance_and_voucher() -> None:
    line = parse()
    assert isinstance(line, BenefitLine)
    payment = BenefitPayment.record("440781", "p1", line, "ab" * 32, "cli")
    assert payment.id == BenefitPayment.create_id("440781", "210", "SY-0001")
    assert BenefitPayment.create_id("440781", "510", "SY-0001") != payment.id
    assert BenefitPayment.create_id("440782", "210", "SY-0001") != payment.id
    [paid] = payment.collect_events()
    assert paid.journal == [["fund:210", 185_000, 0], ["bank:payout", 0, 185_000]]  # type: ignore[attr-defined]
