"""Pension transfer amounts and information tables (domain/transfer.py), with DOMAIN.md §5.3's
worked example: 175 months at 5,000 / 7,000 / 9,000 yuan → pooled part 145,800.00."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ValidationFailed
from domain.transfer import (
    IN,
    OUT,
    check_amounts,
    check_other_region,
    check_transfer_no,
    expand_segments,
    in_journal,
    month_segments,
    months_after_transfers,
    out_journal,
    pooled_part_fen,
    transfer_in_number,
)

EXAMPLE = [["2010-01", "2014-12", 500_000], ["2015-01", "2019-12", 700_000],
           ["2020-01", "2024-07", 900_000]]


def test_the_worked_example_of_domain_md() -> None:
    months = expand_segments(EXAMPLE)
    assert len(months) == 175
    assert pooled_part_fen(months) == 14_580_000  # 12% × 1,215,000.00 yuan
    assert month_segments(months) == EXAMPLE
    # account 139,330.50 + pooled 145,800.00 = 285,130.50 yuan
    check_amounts(13_933_050, 14_580_000, months)


def test_months_before_1998_move_no_pooled_part() -> None:
    months = expand_segments([["1997-11", "1998-02", 100_000]])
    assert pooled_part_fen(months) == 24_000  # 12% of two months (1998-01, 1998-02)


def test_a_pooled_part_that_is_not_12_percent_is_returned_to_the_sender() -> None:
    with pytest.raises(ValidationFailed) as info:
        check_amounts(13_933_050, 14_580_001, expand_segments(EXAMPLE))
    assert info.value.code == "transfer_pooled_part_mismatch"
    with pytest.raises(ValidationFailed) as info:
        check_amounts(-1, 14_580_000, expand_segments(EXAMPLE))
    assert info.value.code == "transfer_amount_invalid"


@pytest.mark.parametrize(("rows", "code"), [
    ([], "transfer_months_missing"),
    ("2020-01", "transfer_months_missing"),
    ([["2020-01", "2020-02"]], "transfer_months_malformed"),
    ([["2020-03", "2020-02", 1]], "transfer_months_reversed"),
    ([["2020-01", "2020-02", 0]], "transfer_base_invalid"),
    ([["2020-01", "2020-02", "5000"]], "transfer_base_invalid"),
    ([["2020-01", "2020-03", 1], ["2020-03", "2020-04", 1]], "transfer_month_twice"),
    ([["2020-13", "2020-12", 1]], "period_out_of_range"),
])
def test_an_information_table_that_does_not_add_up_is_refused(rows: object, code: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        expand_segments(rows)
    assert info.value.code == code


def test_region_codes_and_transfer_numbers_are_checked() -> None:
    assert check_other_region(" 330106 ", "440781", "to_region_code") == "330106"
    for bad, code in (("44078", "region_code_malformed"), ("440781", "transfer_within_region")):
        with pytest.raises(ValidationFailed) as info:
            check_other_region(bad, "440781", "to_region_code")
        assert info.value.code == code
    with pytest.raises(ValidationFailed):
        check_transfer_no("a b")
    number = transfer_in_number("440781", "p1", "2025-03-03")
    assert number == transfer_in_number("440781", "p1", "2025-03-03") == check_transfer_no(
        number) and number.startswith("ZR44078120250303")


def test_journals_balance_and_mirror_each_other() -> None:
    out = out_journal("p1", "330106", 960_000, 1_440_000)
    into = in_journal("p1", "330106", 960_000, 1_440_000)
    assert out == [["personal:p1:110", 960_000, 0], ["fund:110", 1_440_000, 0],
                   ["region:330106", 0, 2_400_000]]
    assert [[a, c, d] for a, d, c in into] == [out[2], out[0], out[1]]


def test_months_that_count_after_transfers_out_and_back_in() -> None:
    local = {"2020-01": 1, "2020-02": 1}
    moved_out = {"2020-01": 1, "2020-02": 1}
    moved_in = {"2019-12": 5, "2020-01": 1, "2020-02": 1}
    assert months_after_transfers(local, [(OUT, "2020-03-01", moved_out)]) == {}
    assert months_after_transfers(local, [(OUT, "2020-03-01", moved_out),
                                          (IN, "2021-05-01", moved_in)]) == moved_in


@given(st.dictionaries(st.integers(1992 * 12, 2030 * 12).map(
    lambda i: f"{i // 12:04d}-{i % 12 + 1:02d}"), st.integers(1, 10_000_000), max_size=60))
def test_segments_are_a_lossless_compression_of_months(months: dict[str, int]) -> None:
    if not months:
        return
    segments = month_segments(months)
    assert expand_segments(segments) == months
    # runs are maximal: two neighbouring rows never continue each other at one base
    for (_, last, base), (first, _, next_base) in pairwise(segments):
        assert not (base == next_base and len(expand_segments([[last, first, 1]])) == 2)


@given(st.lists(st.tuples(st.sampled_from((IN, OUT)), st.integers(0, 10**9),
                          st.integers(0, 10**9)), max_size=20))
def test_money_is_conserved_across_any_transfers(moves: list[tuple[str, int, int]]) -> None:
    """Whatever moves in and out, debits equal credits and the other region's account holds
    exactly the net flow (debit = received from it, credit = sent to it)."""
    debit = credit = region_net = 0
    for direction, account_fen, pooled_fen in moves:
        make = in_journal if direction == IN else out_journal
        for account, d, c in make("p1", "330106", account_fen, pooled_fen):
            debit += d  # type: ignore[operator]
            credit += c  # type: ignore[operator]
            if account == "region:330106":
                region_net += d - c  # type: ignore[operator]
    assert debit == credit
    assert region_net == sum((a + p) * (1 if d == IN else -1) for d, a, p in moves)
