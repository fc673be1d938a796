"""Bad input is refused with a stable code and the field at fault, and nothing is written; in a
bulk batch the bad lines are rejected one by one while the good ones are posted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.errors import DomainError
from infra.bootstrap import Container
from infra.bulk_posting import BulkPoster, PostingRequest
from tests.helpers import (
    SeededRegion,
    make_credit_code,
    make_id_number,
    seed_region,
    with_wrong_check_char,
)

Call = Callable[[Container, SeededRegion], Any]

BAD_COMMANDS: dict[str, tuple[Call, str, str]] = {
    "register with a wrong check digit": (
        lambda c, r: c.ledger.register_person(with_wrong_check_char(make_id_number(50)), "赵六"),
        "id_number_check_digit", "id_number"),
    "post with a wrong check digit": (
        lambda c, r: c.ledger.post_contribution(with_wrong_check_char(r.id_numbers[0]),
                                                r.employer_code, "2023-01"),
        "id_number_check_digit", "id_number"),
    "month 13": (
        lambda c, r: c.ledger.post_contribution(r.id_numbers[0], r.employer_code, "2024-13"),
        "period_out_of_range", "period"),
    "slashed period": (
        lambda c, r: c.ledger.post_contribution(r.id_numbers[0], r.employer_code, "2024/01"),
        "period_malformed", "period"),
    "negative base": (
        lambda c, r: c.ledger.post_contribution(r.id_numbers[0], r.employer_code, "2023-01",
                                                base_fen=-1),
        "amount_negative", "base_fen"),
    "fractional base": (
        lambda c, r: c.ledger.post_contribution(r.id_numbers[0], r.employer_code, "2023-01",
                                                base_fen=800_000.5),  # type: ignore[arg-type]
        "amount_not_integer_fen", "base_fen"),
    "float base": (
        lambda c, r: c.ledger.post_contribution(r.id_numbers[0], r.employer_code, "2023-01",
                                                base_fen=800_000.0),  # type: ignore[arg-type]
        "amount_not_integer_fen", "base_fen"),
    "negative declared wage": (
        lambda c, r: c.ledger.declare_base(r.id_numbers[0], 2023, -100),
        "amount_negative", "declared_wage_fen"),
    "base outside the bounds": (
        lambda c, r: c.ledger.post_contribution(r.id_numbers[0], r.employer_code, "2023-01",
                                                base_fen=100),
        "base_out_of_bounds", "base_fen"),
    "unknown insurance": (
        lambda c, r: c.ledger.post_contribution(r.id_numbers[0], r.employer_code, "2023-01",
                                                insurances=["110", "999"]),
        "insurance_unknown", "insurances"),
    "unregistered person": (
        lambda c, r: c.ledger.post_contribution(make_id_number(60), r.employer_code, "2023-01"),
        "person_not_registered", "id_number"),
    "risk class 9": (
        lambda c, r: c.ledger.register_employer(make_credit_code(77), "示例", "enterprise", 9),
        "risk_class_out_of_range", "risk_class"),
    "registered before birth": (
        lambda c, r: c.ledger.register_person(make_id_number(51), "钱七",
                                              registered_on="1980-01-01"),
        "registered_before_birth", "registered_on"),
    "impossible start date": (
        lambda c, r: c.ledger.start_employment(r.id_numbers[0], r.employer_code, "2024-02-30"),
        "date_malformed", "start_date"),
    "second open employment": (
        lambda c, r: c.ledger.start_employment(r.id_numbers[0], r.employer_code, "2024-01-01"),
        "employment_open", "employer_code"),
    "declared base for a year without bounds": (
        lambda c, r: c.ledger.declare_base(r.id_numbers[0], 2040, 800_000),
        "policy_base_bounds_missing", "year"),
    "reversal without a reason": (
        lambda c, r: c.ledger.reverse_contribution(r.id_numbers[0], "2023-01", " "),
        "reason_missing", "reason"),
}


def test_bad_input_is_refused_with_a_clear_error_and_nothing_changes(
        container: Container) -> None:
    # One store for all cases (a fresh PostgreSQL database per case would cost half a second
    # each); every case is checked and all mismatches are reported together.
    region = seed_region(container, persons=1)
    container.ledger.post_contribution(region.id_numbers[0], region.employer_code, "2023-01")
    head = container.store.max_position()
    wrong: list[str] = []
    for case, (call, code, field) in BAD_COMMANDS.items():
        try:
            call(container, region)
        except DomainError as e:
            if (e.code, e.field) != (code, field) or not e.message:
                wrong.append(f"{case}: got {e.code}/{e.field}, want {code}/{field}")
        else:
            wrong.append(f"{case}: accepted")
        if container.store.max_position() != head:
            wrong.append(f"{case}: wrote events")
            head = container.store.max_position()
    assert not wrong, "\n".join(wrong)


BAD_LINES: dict[str, tuple[Callable[[SeededRegion], PostingRequest], str, str]] = {
    "wrong check digit": (
        lambda r: PostingRequest(with_wrong_check_char(r.id_numbers[0]), r.employer_code,
                                 "2023-01"), "id_number_check_digit", "id_number"),
    "month 13": (lambda r: PostingRequest(r.id_numbers[0], r.employer_code, "2024-13"),
                 "period_out_of_range", "period"),
    "slashed period": (lambda r: PostingRequest(r.id_numbers[0], r.employer_code, "2024/01"),
                       "period_malformed", "period"),
    "negative base": (lambda r: PostingRequest(r.id_numbers[0], r.employer_code, "2023-01",
                                               base_fen=-5), "amount_negative", "base_fen"),
    "float base": (lambda r: PostingRequest(r.id_numbers[0], r.employer_code, "2023-01",
                                            base_fen=800_000.0),  # type: ignore[arg-type]
                   "amount_not_integer_fen", "base_fen"),
    "unknown insurance": (lambda r: PostingRequest(r.id_numbers[0], r.employer_code, "2023-01",
                                                   insurances=("999",)),
                          "insurance_unknown", "insurances"),
    "unregistered person": (lambda r: PostingRequest(make_id_number(60), r.employer_code,
                                                     "2023-01"),
                            "person_not_registered", "id_number"),
    "unregistered employer": (lambda r: PostingRequest(r.id_numbers[0], _other_code(r),
                                                       "2023-01"),
                              "employer_not_registered", "employer_code"),
    "no declared base": (lambda r: PostingRequest(r.id_numbers[0], r.employer_code, "2024-01"),
                         "base_not_declared", "base_fen"),
}


def _other_code(region: SeededRegion) -> str:
    return make_credit_code(999)


def test_a_bad_bulk_line_is_rejected_with_its_code_and_nothing_is_written(
        container: Container) -> None:
    region = seed_region(container, persons=1)
    head = container.store.max_position()
    wrong: list[str] = []
    for case, (make, code, field) in BAD_LINES.items():
        result = BulkPoster(container.store, container.policy, "test").post([make(region)])
        [outcome] = result.outcomes
        if (outcome.status, outcome.code, outcome.field) != ("rejected", code, field):
            wrong.append(f"{case}: got {outcome}, want rejected {code}/{field}")
        elif not outcome.message:
            wrong.append(f"{case}: no message")
        if container.store.max_position() != head:
            wrong.append(f"{case}: wrote events")
            head = container.store.max_position()
    assert not wrong, "\n".join(wrong)


def test_a_mixed_batch_posts_the_valid_lines_and_rejects_the_invalid(
        container: Container) -> None:
    region = seed_region(container, persons=3)
    container.ledger.post_contribution(region.id_numbers[0], region.employer_code, "2023-01")
    bad = [make(region) for make, _code, _field in BAD_LINES.values()]
    good = [PostingRequest(n, region.employer_code, f"2023-{m:02d}")
            for n in region.id_numbers for m in (1, 2)]  # the first is a duplicate
    requests = [line for pair in zip(good, bad, strict=False) for line in pair]
    requests += good[len(bad):] + bad[len(good):]
    result = BulkPoster(container.store, container.policy, "test").post(requests, batch_size=4)
    summary = result.summary()
    assert summary == {"posted": len(good) - 1, "duplicate": 1, "rejected": len(bad)}
    assert sum(summary.values()) == len(requests)
    assert [o.index for o in result.outcomes] == list(range(len(requests)))
    for outcome, request in zip(result.outcomes, requests, strict=True):
        assert (outcome.status == "rejected") == (request in bad)
    container.runner.catch_up()
    history = [h for p in region.person_ids for h in container.queries.history(p)]
    assert len(history) == len(good)
