"""Benefit-eligibility certification (待遇资格认证) on SQLite and PostgreSQL: a pensioner not
certified within a year of the retirement (or of the last certification) is not paid from the
month after the deadline's month; a later certification resumes payment from the month after
it, and that run pays the suspended months back — over a suspension and resumption the total
paid equals the months due. Certifying a day twice records it once; bad input changes
nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from domain.errors import Conflict, DomainError, ValidationFailed
from infra.bootstrap import Container
from infra.certification_service import certification_rule, certify, overdue
from infra.pension_payments import PaymentRun
from tests.helpers import cli, make_id_number, read_model_rows
from tests.integration.test_pension_payments import award_of, pay, retirees


def months_paid(c: Container, number: str) -> dict[str, int]:
    c.runner.catch_up()
    person_id = str(c.ledger.person(number).id)
    rows = c.views.query("SELECT period, total_fen FROM pension_payments WHERE person_id = ?",
                         (person_id,))
    assert len(rows) == len({r[0] for r in rows})  # no month twice
    return {str(p): int(t) for p, t in rows}


def test_a_suspension_and_resumption_pays_every_month_due_once(container: Container) -> None:
    late, in_time = retirees(container, 2)  # retired 2023-12-31: deadline 2024-12-30
    monthly = award_of(container, late)["monthly_fen"]
    certify(container, in_time, "data_match", "civil_affairs", "2024-11-03",
            today=date(2024, 11, 3))
    runs: dict[str, PaymentRun] = {}
    for period in ("2024-12", "2025-01", "2025-02", "2025-03"):
        runs[period] = pay(container, period)
    assert [(r.paid, r.skipped_suspended) for r in runs.values()] == [(2, 0)] + [(1, 1)] * 3
    done = certify(container, late, "self_service", None, "2025-04-10",
                   today=date(2025, 4, 10))
    assert done.result["source"] == "face_recognition"
    runs["2025-04"] = pay(container, "2025-04")  # the certification's month: still suspended
    assert (runs["2025-04"].skipped_suspended, runs["2025-04"].back_paid) == (1, 0)
    runs["2025-05"] = pay(container, "2025-05")  # resumed, with 2025-01..04 paid back
    assert (runs["2025-05"].paid, runs["2025-05"].back_paid,
            runs["2025-05"].back_pay_fen) == (2, 4, 4 * monthly)
    again = pay(container, "2025-05")
    assert (again.paid, again.back_paid, again.already_paid) == (0, 0, 2)
    paid = months_paid(container, late)
    assert sorted(paid) == ["2024-12", "2025-01", "2025-02", "2025-03", "2025-04", "2025-05"]
    assert sum(paid.values()) == 6 * monthly
    # What the runs say they paid is what is on record.
    [(on_record,)] = container.views.query("SELECT SUM(total_fen) FROM pension_payments")
    assert sum(r.amount_fen + r.back_pay_fen for r in runs.values()) == int(on_record)
    # The in-time pensioner's next deadline is 2025-11-03: suspended from 2025-12 (the late
    # one's is 2026-04-10).
    assert pay(container, "2025-11").skipped_suspended == 0
    assert pay(container, "2025-12").skipped_suspended == 1


def test_without_back_pay_the_suspended_months_are_lost(
        container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("infra.pension_payments.certification_rule",
                        lambda: replace(certification_rule(), back_pay=False))
    [number] = retirees(container, 1)
    pay(container, "2025-01")
    certify(container, number, "data_match", "hospital", "2025-02-20", today=date(2025, 3, 1))
    assert pay(container, "2025-02").skipped_suspended == 1
    run = pay(container, "2025-03")
    assert (run.paid, run.back_paid) == (1, 0)
    assert sorted(months_paid(container, number)) == ["2025-03"]


def test_a_day_certified_twice_is_recorded_once(container: Container) -> None:
    [number] = retirees(container, 1)
    first = certify(container, number, "data_match", "transport", "2024-06-01",
                    today=date(2024, 6, 1), idempotency_key="cert-1")
    before = container.store.max_position()
    second = certify(container, number, "self_service", None, "2024-06-01",
                     today=date(2024, 6, 2))
    assert second.result["already_recorded"] and second.result["method"] == "data_match"
    assert second.result["certification_id"] == first.result["certification_id"]
    replay = certify(container, number, "data_match", "transport", "2024-06-01",
                     today=date(2024, 6, 1), idempotency_key="cert-1")
    assert replay.replayed and container.store.max_position() == before
    container.runner.catch_up()
    assert len(container.views.query("SELECT * FROM pension_certifications")) == 1


@pytest.mark.parametrize(("args", "code", "field"), [
    (("fingerprint", None, "2024-06-01"), "certification_method_unknown", "method"),
    (("data_match", None, "2024-06-01"), "certification_source_unknown", "source"),
    (("data_match", "face_recognition", "2024-06-01"), "certification_source_unknown",
     "source"),
    (("data_match", "hospital", "2024-13-01"), "date_malformed", "certified_on"),
    (("data_match", "hospital", "2026-01-01"), "certified_on_in_future", "certified_on"),
    (("data_match", "hospital", "2023-06-01"), "certified_before_retirement",
     "certified_on"),
])
def test_bad_input_is_refused_and_changes_nothing(
        container: Container, args: tuple[str, str | None, str], code: str,
        field: str) -> None:
    [number] = retirees(container, 1)
    before = container.store.max_position()
    with pytest.raises(ValidationFailed) as refused:
        certify(container, number, *args, today=date(2025, 1, 1))
    assert (refused.value.code, refused.value.field) == (code, field)
    assert container.store.max_position() == before


def test_only_living_pensioners_are_certified(container: Container) -> None:
    worker = make_id_number(900)
    [dead] = retirees(container, 1)
    container.ledger.register_person(worker, "在职九百", registered_on="2020-01-01")
    container.ledger.record_death(dead, "2024-03-05", "死亡医学证明")
    refused: list[DomainError] = []
    for number in (worker, dead):
        with pytest.raises(Conflict) as caught:
            certify(container, number, "data_match", "hospital", "2024-06-01",
                    today=date(2025, 1, 1))
        refused.append(caught.value)
    assert [e.code for e in refused] == ["pension_not_awarded", "person_deceased"]


def test_the_overdue_list_and_a_rebuild(container: Container) -> None:
    late, in_time, dead = retirees(container, 3)
    certify(container, in_time, "data_match", "public_security", "2024-10-01",
            today=date(2024, 10, 1))
    container.ledger.record_death(dead, "2024-08-05", "死亡医学证明")
    items, total = overdue(container, as_of=date(2025, 2, 1))
    person_id = str(container.ledger.person(late).id)
    assert total == 1 and [(i.person_id, i.last_certified_on, i.deadline, i.suspended_from)
                           for i in items] == [(person_id, None, "2024-12-30", "2025-01")]
    assert overdue(container, as_of=date(2024, 12, 30)) == ([], 0)  # due that day, not late
    items, total = overdue(container, as_of=date(2025, 10, 2))
    assert total == 2 and items[1].last_certified_on == "2024-10-01"
    kept = read_model_rows(container)
    container.runner.rebuild()
    assert read_model_rows(container) == kept


def test_the_command_line_certifies_and_lists_the_overdue(container: Container) -> None:
    late, in_time = retirees(container, 2)
    container.staff.add_user("teller9", ["teller"])
    container.staff.add_user("auditor9", ["auditor"])
    run = cli(container.settings)

    certify_args = ("pensions", "certify", in_time, "--method", "data_match", "--source",
                    "hospital", "--on", "2024-12-01")
    assert "role_forbidden" in run(*certify_args, "--as", "auditor9", code=1)
    assert "certification_source_unknown" in run(
        "pensions", "certify", in_time, "--method", "data_match", "--on", "2024-12-01",
        "--as", "teller9", code=1)
    done = run(*certify_args, "--as", "teller9")
    assert "certified on 2024-12-01 by data_match (hospital); position" in done
    assert "already recorded" in run(*certify_args, "--as", "teller9")
    status = run("pensions", "certification-status", "--as-of", "2025-02-01")
    late_id = str(container.ledger.person(late).id)
    assert "1 pensioners overdue on 2025-02-01" in status
    assert (f"{late_id} retired 2023-12-31, last certified never, due by 2024-12-30, "
            "suspended from 2025-01") in status
    paid = run("pensions", "pay", "2025-01")
    assert "paid 1 persons" in paid and "skipped suspended 1" in paid
    [(meta,)] = [(e.state.get("meta"),) for e in container.store.events_between(
        1, container.store.max_position(), ["domain.certification:Certification.Recorded"])]
    assert meta == {"actor": "teller9", "case_id": None, "command": "certify_pensioner"}


def test_the_annual_report_counts_the_years_certifications(container: Container) -> None:
    import io

    import openpyxl

    from infra.annual_report_html import render_html
    from infra.annual_report_queries import annual_report
    from infra.annual_report_xlsx import write_xlsx

    late, in_time, _never = retirees(container, 3)  # first deadline 2024-12-30
    certify(container, in_time, "data_match", "transport", "2024-11-03",
            today=date(2024, 11, 3))
    certify(container, late, "self_service", None, "2025-04-10", today=date(2025, 4, 10))
    container.runner.catch_up()
    report = annual_report(container, 2025)
    assert report["certification"] == {
        "certifications": 1, "persons_certified": 1,
        "by_method": {"data_match": 0, "self_service": 1},
        "overdue_at_year_end": 2, "suspended_at_year_end": 2, "resumed": 1}
    assert "certification" not in {n["key"] for n in report["not_recorded"]}
    assert annual_report(container, 2024)["certification"]["by_method"] == {
        "data_match": 1, "self_service": 0}
    html = render_html(report)
    assert ("待遇资格认证1人次（数据比对0人次，自助认证1人次），认证1人；年末逾期未认证2人，"
            "其中暂停发放2人；认证后恢复发放1人次。") in html
    target = io.BytesIO()
    write_xlsx(report, target)
    sheet = openpyxl.load_workbook(io.BytesIO(target.getvalue()))["待遇转移补缴"]
    rows = {r[0]: r[1] for r in sheet.iter_rows(values_only=True)}
    assert (rows["待遇资格认证(人次)"], rows["  其中自助认证"], rows["年末逾期未认证"],
            rows["  其中暂停发放"], rows["认证后恢复发放(人次)"]) == (1, 1, 2, 2, 1)


def test_back_pay_includes_the_adjustment_in_effect_for_each_month(
        container: Container) -> None:
    from tests.integration.test_pension_adjustment import adjust

    [number] = retirees(container, 1)  # not certified: 2025-01 on suspended
    award = award_of(container, number)["monthly_fen"]
    assert pay(container, "2025-01").skipped_suspended == 1
    adjust(container, 2025)  # from 2025-01: no month of 2025 paid yet, so no arrears
    certify(container, number, "data_match", "civil_affairs", "2025-02-10",
            today=date(2025, 2, 10))
    run = pay(container, "2025-03")
    paid = months_paid(container, number)
    assert sorted(paid) == ["2025-01", "2025-02", "2025-03"] and run.back_paid == 2
    assert paid["2025-01"] == paid["2025-02"] == paid["2025-03"] > award
    assert run.back_pay_fen == 2 * paid["2025-03"]
