"""Counter business end to end, on SQLite and PostgreSQL: a level-3 case completed by its teller,
a level-1 case through reviewer, deputy director and director, every refusal rule with its code,
a bundle that completes all together or leaves nothing behind, and the effects' events carrying
the case id."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest

from domain.errors import DomainError
from domain.registration import Employer, Person
from infra.bootstrap import Container
from infra.case_effects import EFFECTS, Effect
from infra.case_service import Actor, CaseService
from tests.helpers import all_events, cli, make_credit_code, make_id_number

PNG = b"\x89PNG\r\n\x1a\n" + b"scan of a document" * 10
TELLER = Actor("teller1", ["teller"])
TELLER2 = Actor("teller2", ["teller"])
REVIEWER = Actor("reviewer1", ["reviewer"])
REVIEWER2 = Actor("reviewer2", ["reviewer"])
DEPUTY = Actor("deputy1", ["deputy_director"])
DIRECTOR = Actor("director1", ["director"])
DAY = date(2025, 3, 3)  # a Monday


@pytest.fixture
def cases(container: Container) -> CaseService:
    service = CaseService(container)
    available = [code for code, item in service.catalogue.items.items() if item.available]
    for teller in ("teller1", "teller2"):
        service.change_authorisation(teller, available, [], "admin", "permission request 1")
    return service


def attach(cases: CaseService, case_id: str, code: str, actor: Actor = TELLER,
           content: bytes = PNG) -> None:
    cases.attach(case_id, code, io.BytesIO(content), f"{code}.png", actor)


def refused(code: str, call: object, *args: object, **kwargs: object) -> None:
    with pytest.raises(DomainError) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    assert info.value.code == code, info.value.message


def test_a_level_3_case_is_completed_by_its_teller(container: Container,
                                                  cases: CaseService) -> None:
    number = make_id_number(41)
    opened = cases.open("person_registration", {"person_registration": {
        "id_number": number, "name": "李四", "registered_on": "2025-03-03"}}, TELLER,
        applicant_name="李四", opened_on=DAY).result
    assert (opened["risk_level"], opened["deadline"], opened["next_step"]) == (3, "2025-03-03",
                                                                                None)
    case_id = opened["case_id"]
    refused("materials_missing", cases.complete, case_id, TELLER)
    attach(cases, case_id, "resident_id")
    refused("no_signoff_needed", cases.sign, case_id, REVIEWER)
    refused("only_maker_completes", cases.complete, case_id, TELLER2)

    done = cases.complete(case_id, TELLER, completed_on=DAY).result
    assert done["status"] == "completed"
    person = container.store.app.repository.get(
        Person.create_id(container.settings.region_code, number))
    assert person.name == "李四"
    registered = next(e for e in all_events(container) if e.originator_id == person.id)
    assert registered.meta == {"actor": "teller1", "case_id": case_id,
                               "command": "register_person"}
    refused("case_closed", cases.withdraw, case_id, TELLER, "too late")

    cases.rate(case_id, 5, "很快", TELLER)
    refused("case_already_rated", cases.rate, case_id, 4, "", TELLER)


def test_a_level_1_case_needs_reviewer_deputy_and_director_in_turn(
        container: Container, cases: CaseService) -> None:
    code = make_credit_code(77)
    opened = cases.open("employer_registration", {"employer_registration": {
        "credit_code": code, "name": "示例机械有限公司", "employer_type": "enterprise",
        "risk_class": 2}}, TELLER, opened_on=DAY).result
    case_id = opened["case_id"]
    assert opened["deadline"] == "2025-03-10"  # 5 working days
    assert opened["next_step"] == "review" and opened["next_roles"] == ["reviewer"]

    refused("materials_missing", cases.sign, case_id, REVIEWER)
    attach(cases, case_id, "business_licence")
    attach(cases, case_id, "legal_rep_id")
    attach(cases, case_id, "legal_rep_id")  # the same file again: recorded once
    refused("maker_cannot_sign", cases.sign, case_id, Actor("teller1", ["teller", "reviewer"]))
    refused("role_not_allowed_at_step", cases.sign, case_id, DEPUTY)
    refused("signoff_required", cases.complete, case_id, TELLER)

    assert cases.sign(case_id, REVIEWER, "材料齐全").result["next_step"] == "deputy_approval"
    refused("already_signed", cases.sign, case_id, Actor("reviewer1", ["deputy_director"]))
    refused("role_not_allowed_at_step", cases.sign, case_id, REVIEWER2)
    cases.sign(case_id, DEPUTY)
    assert container.store.existing([Employer.create_id(
        container.settings.region_code, code)]) == set()  # no effect before the last sign-off
    done = cases.sign(case_id, DIRECTOR, "同意", signed_on=DAY).result
    assert done["status"] == "completed"
    assert [s["signer"] for s in done["signatures"]] == ["reviewer1", "deputy1", "director1"]
    employer = container.store.app.repository.get(
        Employer.create_id(container.settings.region_code, code))
    assert employer.name == "示例机械有限公司"

    case = cases.case(case_id)
    completed = [e for e in all_events(container) if e.originator_id == case.id][-1]
    assert completed.effects == [[str(employer.id), 1, "Employer.Registered"]]
    attached = [e for e in all_events(container) if e.originator_id == case.id
                and type(e).__qualname__ == "Case.MaterialAttached"]
    assert len(attached) == 2


def test_refusals_at_the_counter(container: Container, cases: CaseService) -> None:
    number = make_id_number(42)
    payload = {"person_registration": {"id_number": number, "name": "王五"}}
    refused("item_not_authorised", cases.open, "person_registration", payload,
            Actor("teller9", ["teller"]))
    cases.change_authorisation("teller9", ["base_declaration"], [], "admin", "request 2")
    refused("item_not_authorised", cases.open, "person_registration", payload,
            Actor("teller9", ["teller"]))
    refused("item_not_available", cases.open, "benefit_adjustment", {}, TELLER)
    refused("item_unknown", cases.open, "no_such_item", {}, TELLER)
    refused("payload_field_missing", cases.open, "person_registration",
            {"person_registration": {"id_number": number}}, TELLER)
    refused("payload_field_unknown", cases.open, "person_registration",
            {"person_registration": {"id_number": number, "name": "王五", "age": 3}}, TELLER)
    refused("payload_field_type", cases.open, "base_declaration", {"base_declaration": {
        "id_number": number, "year": "2025", "declared_wage_fen": 1}}, TELLER)
    # the effect is tried at opening: an unknown person cannot declare a base
    refused("person_not_registered", cases.open, "base_declaration", {"base_declaration": {
        "id_number": number, "year": 2025, "declared_wage_fen": 800_000}}, TELLER)

    opened = cases.open("person_registration", payload, TELLER).result
    refused("material_unknown", attach, cases, opened["case_id"], "payroll")
    refused("material_type_not_accepted", attach, cases, opened["case_id"], "resident_id",
            TELLER, b"MZ not a scan")
    refused("only_maker_withdraws", cases.withdraw, opened["case_id"], TELLER2, "x")
    refused("reject_not_allowed", cases.reject, opened["case_id"], REVIEWER, "x")
    refused("material_empty", attach, cases, opened["case_id"], "resident_id", TELLER, b"")
    refused("material_too_large", attach, cases, opened["case_id"], "resident_id", TELLER,
            PNG + b"\0" * (20 * 1024 * 1024))
    assert not list(cases.blobs.root.glob(".upload-*"))  # a refused upload leaves no file
    assert cases.withdraw(opened["case_id"], TELLER, "申请人撤回").result["status"] == "withdrawn"
    refused("case_not_completed", cases.rate, opened["case_id"], 3, "", TELLER)
    refused("payload_item_unknown", cases.open, "person_registration",
            {"employment_start": {}}, TELLER)

    # a level-2 case: only a reviewer other than the maker rejects; a score is 1-5
    number2 = make_id_number(47)
    cases.open("person_registration", {"person_registration": {"id_number": number2,
                                                               "name": "孙九"}}, TELLER)
    attach_and_complete = cases.open("person_registration", {"person_registration": {
        "id_number": make_id_number(48), "name": "吴十"}}, TELLER).result["case_id"]
    attach(cases, attach_and_complete, "resident_id")
    cases.complete(attach_and_complete, TELLER)
    refused("score_invalid", cases.rate, attach_and_complete, 6, "", TELLER)
    container.ledger.register_person(number2, "孙九")
    change = cases.open("person_change", {"person_change": {"id_number": number2,
                                                            "name": "孙九九"}}, TELLER).result
    refused("reject_not_allowed", cases.reject, change["case_id"],
            Actor("teller1", ["teller", "reviewer"]), "maker")
    refused("reject_not_allowed", cases.reject, change["case_id"], DIRECTOR, "wrong role")
    assert cases.reject(change["case_id"], REVIEWER, "材料不符").result["status"] == "rejected"
    refused("case_closed", cases.sign, change["case_id"], REVIEWER2)


def test_a_bundle_completes_all_together_or_leaves_nothing(
        container: Container, cases: CaseService, monkeypatch: pytest.MonkeyPatch) -> None:
    employer = make_credit_code(78)
    container.ledger.register_employer(employer, "示例食品有限公司", "enterprise", 3,
                                       registered_on="2015-01-01")
    number = make_id_number(43)
    payloads = {
        "person_registration": {"id_number": number, "name": "赵六"},
        "employment_start": {"id_number": number, "employer_code": employer,
                             "start_date": "2025-03-01"},
        "base_declaration": {"id_number": number, "year": 2025, "declared_wage_fen": 800_000},
    }
    opened = cases.open("new_employee", payloads, TELLER).result
    assert opened["risk_level"] == 3
    attach(cases, opened["case_id"], "resident_id")
    attach(cases, opened["case_id"], "payroll")

    declare = EFFECTS["declare_base"]

    def failing(*args: object) -> object:
        from domain.errors import Conflict
        raise Conflict("base_declared_meanwhile", "declared by someone else meanwhile")

    monkeypatch.setitem(EFFECTS, "declare_base", Effect(declare.required, declare.optional,
                                                        failing, declare.applicant))
    head = container.store.max_position()
    refused("base_declared_meanwhile", cases.complete, opened["case_id"], TELLER)
    assert container.store.max_position() == head  # nothing of the bundle was written
    assert not container.store.existing([Person.create_id(container.settings.region_code,
                                                          number)])
    monkeypatch.setitem(EFFECTS, "declare_base", declare)

    done = cases.complete(opened["case_id"], TELLER).result
    assert done["status"] == "completed"
    person = container.store.app.repository.get(
        Person.create_id(container.settings.region_code, number))
    assert person.base_for(2025) == 800_000 and person.current_employer == employer
    case = cases.case(opened["case_id"])
    completed = [e for e in all_events(container) if e.originator_id == case.id][-1]
    assert [ref[2] for ref in completed.effects] == [
        "Person.Registered", "Person.EmploymentStarted", "Person.BaseDeclared"]
    assert [r["item"] for r in completed.results] == list(payloads)


def test_the_command_line_runs_a_case_and_reports(container: Container, tmp_path: Path) -> None:
    container.staff.add_user("teller5", ["teller"])
    container.staff.add_user("reviewer5", ["reviewer"])
    run = cli(container.settings)

    assert "employer_registration" in run("cases", "catalogue")
    run("cases", "authorise", "teller5", "--grant", "person_registration", "--reason", "批准")
    number = make_id_number(44)
    payloads = json.dumps({"person_registration": {"id_number": number, "name": "周八"}})
    opened = run("cases", "open", "person_registration", "--payloads", payloads, "--as",
                 "teller5")
    case_id = opened.split()[1]
    scan = tmp_path / "id.png"
    scan.write_bytes(PNG)
    run("cases", "attach", case_id, "resident_id", str(scan), "--as", "teller5")
    assert "no_signoff_needed" in run("cases", "sign", case_id, "--as", "reviewer5", code=1)
    assert "completed" in run("cases", "complete", case_id, "--as", "teller5")
    shown = run("cases", "show", case_id)
    assert "Completed" in shown and "Person.Registered" in shown
    assert case_id in run("cases", "queue", "--as", "teller5", "--scope", "mine")
    assert "职工参保登记" in run("cases", "report")


def test_the_retirement_bundle_ends_employment_awards_the_pension_and_schedules_payment(
        container: Container, cases: CaseService) -> None:
    from decimal import Decimal

    from domain.pension import Entitlement, average_index, compute_pension
    from infra.bulk_posting import BulkPoster, PostingRequest
    from tests.helpers import seed_region

    wage = 900_000
    region = seed_region(container, persons=0, year=2020, years=(2021, 2022, 2023, 2024))
    number = make_id_number(45, birth=date(1965, 1, 15))
    container.ledger.register_person(number, "退休人", registered_on="2015-01-01")
    container.ledger.start_employment(number, region.employer_code, "2020-01-01")
    for year in range(2020, 2025):
        container.ledger.declare_base(number, year, wage)
    posted = BulkPoster(container.store, container.policy, "test").post(
        [PostingRequest(number, region.employer_code, f"{y}-{m:02d}")
         for y in range(2020, 2025) for m in range(1, 13)])
    assert posted.summary()["posted"] == 60
    payloads = {
        "employment_end": {"id_number": number, "employer_code": region.employer_code,
                           "end_date": "2025-01-31"},
        "retirement_approval": {"id_number": number, "retirement_date": "2025-01-31",
                                "deemed_months": 120},
    }
    opened = cases.open("retirement", payloads, TELLER, opened_on=DAY).result
    assert opened["risk_level"] == 1 and opened["deadline"] == "2025-03-31"  # 20 working days
    for material in ("resident_id", "personnel_file"):
        attach(cases, opened["case_id"], material)
    for signer in (REVIEWER, DEPUTY, DIRECTOR):
        done = cases.sign(opened["case_id"], signer).result
    assert done["status"] == "completed"

    person = container.store.app.repository.get(
        Person.create_id(container.settings.region_code, number))
    assert person.retired_on == "2025-01-31" and person.current_employer is None
    entitlement: Entitlement = container.store.app.repository.get(
        Entitlement.create_id(container.settings.region_code, str(person.id)))
    bounds = container.policy.bounds
    assert all(bounds(y).floor_fen <= wage <= bounds(y).cap_fen for y in range(2020, 2025))
    expected = compute_pension(
        bounds(2025).average_wage_fen,
        average_index([(wage, bounds(y).average_wage_fen) for y in range(2020, 2025)
                       for _m in range(12)]),
        60, 120, 60 * 72_000, 60, Decimal("0.012"))  # 8% of 9,000.00 a month in the account
    assert entitlement.monthly_fen == expected.monthly_fen
    assert entitlement.first_period == "2025-02"
    case = cases.case(opened["case_id"])
    completed = [e for e in all_events(container) if e.originator_id == case.id][-1]
    assert [ref[2] for ref in completed.effects] == [
        "Person.EmploymentEnded", "Person.Retired", "Entitlement.Awarded",
        "Entitlement.FirstPaymentScheduled"]


def test_the_resident_link_bundle_moves_the_account_and_a_name_change_needs_a_reviewer(
        container: Container, cases: CaseService) -> None:
    from domain.scheme_link import SchemeLink
    from infra.bulk_posting import BulkPoster, PostingRequest
    from tests.helpers import seed_region

    region = seed_region(container, persons=0, year=2023)
    number = make_id_number(46, birth=date(1964, 6, 1))
    container.ledger.register_person(number, "衔接人", registered_on="2015-01-01")
    container.ledger.start_employment(number, region.employer_code, "2023-01-01")
    container.ledger.declare_base(number, 2023, 900_000)
    BulkPoster(container.store, container.policy, "test").post(
        [PostingRequest(number, region.employer_code, f"2023-{m:02d}") for m in range(1, 13)])
    container.runner.catch_up()
    balance = container.queries.account_balance(
        str(Person.create_id(container.settings.region_code, number)))["balance_fen"]
    assert balance == 12 * 72_000

    opened = cases.open("resident_link", {
        "employment_end": {"id_number": number, "employer_code": region.employer_code,
                           "end_date": "2025-01-31"},
        "employee_resident_link": {"id_number": number, "linked_on": "2025-02-03"}},
        TELLER, opened_on=DAY).result
    attach(cases, opened["case_id"], "link_application")
    for signer in (REVIEWER, DEPUTY, DIRECTOR):
        cases.sign(opened["case_id"], signer)
    person_id = str(Person.create_id(container.settings.region_code, number))
    link: SchemeLink = container.store.app.repository.get(
        SchemeLink.create_id(container.settings.region_code, person_id))
    assert (link.account_balance_fen, link.contribution_months) == (balance, 12)
    container.runner.catch_up()
    assert container.queries.account_balance(person_id)["balance_fen"] == 0
    assert container.queries.account_balance(person_id, insurance="170")["balance_fen"] == (
        balance)
    funds = {f["account"]: f for f in container.queries.fund_balances()}
    assert sum(f["debit_fen"] for f in funds.values()) == sum(
        f["credit_fen"] for f in funds.values())

    # 个人基本信息变更 is level 2: a reviewer signs, then the name changes
    changed = cases.open("person_change", {"person_change": {"id_number": number,
                                                             "name": "衔接人甲"}}, TELLER).result
    attach(cases, changed["case_id"], "resident_id")
    attach(cases, changed["case_id"], "change_application")
    refused("signoff_required", cases.complete, changed["case_id"], TELLER)
    assert cases.sign(changed["case_id"], REVIEWER).result["status"] == "completed"
    assert container.ledger.person(number).name == "衔接人甲"
