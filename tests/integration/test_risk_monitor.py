"""The risk monitor end to end, on SQLite and PostgreSQL: real commands trip each of the six
rules and the alert is raised exactly once — also after a restart, a re-evaluation of the whole
log and a rebuild of the read models; auditors acknowledge and close alerts, and wrong decisions
are refused; a rebuilt `alerts` read model equals the incremental one."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from domain.alert import Alert
from domain.errors import DomainError
from infra import risk_monitor
from infra.alert_service import (
    acknowledge_alert,
    alert_view,
    close_alert,
    get_alert,
    list_alerts,
    settle,
)
from infra.backpay_service import assess_backpay, collect_backpay
from infra.bootstrap import Container
from infra.bulk_posting import BulkPoster, PostingRequest
from infra.case_service import Actor, CaseService
from infra.pension_service import award_pension
from infra.settings import Settings
from tests.helpers import cli, make_id_number, read_model_rows, seed_region

PNG = b"\x89PNG\r\n\x1a\n" + b"scan of a document" * 10
CASE_DAY = date(2025, 3, 3)  # a Monday


def refused(code: str, call: Any, *args: Any, **kwargs: Any) -> None:
    with pytest.raises(DomainError) as info:
        call(*args, **kwargs)
    assert info.value.code == code, info.value.message


def alerts_by_rule(c: Container) -> Counter[str]:
    settle(c)
    return Counter(a["rule_code"] for a in list_alerts(c, limit=1000))


def alert_events(c: Container) -> int:
    rows = c.store.raw_notifications(0, 10**6, c.store.max_position(),
                                     [c.store.topic(Alert.Raised)])
    return len(rows)


def test_a_back_payment_over_three_years_is_flagged(container: Container) -> None:
    region = seed_region(container, persons=2, year=2023)
    long, short = region.id_numbers
    assess_backpay(container, short, region.employer_code, "2020-01", "2022-12", "2024-06-30",
                   "payroll 2020-2022", "clerk", base_fen=800_000)  # 36 months: within
    assessed = assess_backpay(container, long, region.employer_code, "2019-12", "2022-12",
                              "2024-06-30", "payroll 2019-2022", "clerk", base_fen=800_000)
    assert alerts_by_rule(container) == {"backpay_span": 1}
    [alert] = list_alerts(container)
    assert alert["person_id"] == region.person_ids[0] and alert["actors"] == ["clerk"]
    assert alert["details"]["months_spanned"] == 37
    assert [e[3] for e in alert["events"]] == ["BackPayment.Assessed"]
    assert alert["events"][0][1] == assessed.result["backpay_id"]


def test_a_second_reversal_of_a_month_is_flagged_once_per_reversal(container: Container) -> None:
    region = seed_region(container, persons=1, year=2023)
    number, code = region.id_numbers[0], region.employer_code
    ledger = container.ledger
    ledger.post_contribution(number, code, "2023-02")
    ledger.reverse_contribution(number, "2023-02", "wrong base", source="api:reviewer1")
    assert alerts_by_rule(container) == {}
    ledger.post_contribution(number, code, "2023-02", 900_000)
    ledger.reverse_contribution(number, "2023-02", "wrong again", source="api:reviewer1")
    ledger.reverse_contribution(number, "2023-02", "wrong again", source="api:reviewer1")  # no-op
    assert alerts_by_rule(container) == {"repeat_reversal": 1}
    ledger.post_contribution(number, code, "2023-02", 950_000)
    ledger.reverse_contribution(number, "2023-02", "third time", source="api:reviewer2")
    assert alerts_by_rule(container) == {"repeat_reversal": 2}
    third = list_alerts(container)[-1]
    assert third["actors"] == ["reviewer2"] and third["details"]["reversals"] == 3
    assert [e[3] for e in third["events"]] == ["ContributionMonth.Reversed"] * 3


def test_a_base_change_over_the_percentage_is_flagged(container: Container) -> None:
    region = seed_region(container, persons=2, year=2023, wage_fen=1_000_000)
    steady, jumping = region.id_numbers
    container.ledger.declare_base(steady, 2024, 1_300_000)  # +30%: not over
    container.ledger.declare_base(jumping, 2024, 1_300_100)  # +30.01%
    container.ledger.declare_base(jumping, 2025, 1_300_100)  # the same again: no change
    assert alerts_by_rule(container) == {"base_change": 1}
    [alert] = list_alerts(container, rule_code="base_change")
    assert alert["person_id"] == region.person_ids[1]
    assert (alert["details"]["previous_base_fen"], alert["details"]["base_fen"]) == (
        1_000_000, 1_300_100)
    assert [e[3] for e in alert["events"]] == ["Person.BaseDeclared"] * 2


def test_postings_after_a_recorded_death_are_flagged_in_either_order(
        container: Container) -> None:
    region = seed_region(container, persons=2, year=2023)
    number, code = region.id_numbers[0], region.employer_code
    ledger = container.ledger
    for period in ("2023-02", "2023-03", "2023-04", "2023-05"):
        ledger.post_contribution(number, code, period)
    ledger.reverse_contribution(number, "2023-05", "typo")  # corrected before the death is known
    settle(container)
    died = ledger.record_death(number, "2023-03-10", "死亡医学证明")
    ledger.record_death(number, "2023-03-10", "死亡医学证明")  # the same again: nothing new
    refused("death_already_recorded", ledger.record_death, number, "2023-03-11", "火化信息")
    assert alerts_by_rule(container) == {"after_death": 1}
    [first] = list_alerts(container)
    assert first["details"]["periods"] == ["2023-04"]  # March is the month of death: due
    assert [e[3] for e in first["events"]] == ["ContributionMonth.Posted", "Person.DeathRecorded"]
    assert first["events"][-1][0] == died.position

    ledger.post_contribution(region.id_numbers[1], code, "2023-06")  # alive: nothing
    ledger.post_contribution(number, code, "2023-06", source="api:teller1")
    assert alerts_by_rule(container) == {"after_death": 2}
    second = list_alerts(container)[-1]
    assert second["details"]["periods"] == ["2023-06"] and second["actors"] == ["teller1"]


def test_a_back_payment_after_death_raises_one_alert_for_its_months(
        container: Container) -> None:
    region = seed_region(container, persons=1, year=2023)
    number, code = region.id_numbers[0], region.employer_code
    container.ledger.record_death(number, "2023-06-20", "户籍注销")
    assessed = assess_backpay(container, number, code, "2023-05", "2023-09", "2023-12-31",
                              "payroll found", "clerk").result
    collect_backpay(container, assessed["backpay_id"], "2023-12-01", "BP-1",
                    assessed["total_fen"], "tax")
    assert alerts_by_rule(container) == {"after_death": 1}
    [alert] = list_alerts(container)
    assert alert["details"]["periods"] == ["2023-07", "2023-08", "2023-09"]
    assert [e[3] for e in alert["events"]] == ["Person.DeathRecorded"] + [
        "ContributionMonth.Posted"] * 3


def test_a_pension_paid_after_death_is_flagged_in_either_order(container: Container) -> None:
    ledger = container.ledger
    late, early = make_id_number(61, birth=date(1963, 2, 1)), make_id_number(
        62, birth=date(1963, 2, 1))
    for number in (late, early):
        ledger.register_person(number, "退休人", registered_on="2015-01-01")
    # Awarded first, the death recorded after: the first payment (2023-07) is after it.
    award_pension(container, late, "2023-06-30", deemed_months=180)
    ledger.record_death(late, "2023-06-15", "死亡医学证明")
    # The death on record first, then the award.
    ledger.record_death(early, "2023-05-15", "死亡医学证明")
    award_pension(container, early, "2023-06-30", deemed_months=180)
    assert alerts_by_rule(container) == {"after_death": 2}
    for alert in list_alerts(container):
        assert alert["details"]["kinds"] == ["pension"]
        assert alert["details"]["periods"] == ["2023-07"]
        assert "Entitlement.FirstPaymentScheduled" in [e[3] for e in alert["events"]]


def test_a_staff_members_reversals_over_the_daily_count_are_flagged_once_a_day(
        container: Container) -> None:
    limit = container.risk_monitor.rules["teller_reversals"].reversals_per_day
    region = seed_region(container, persons=1, year=2023, years=(2022, 2024))
    number, code = region.id_numbers[0], region.employer_code
    periods = [f"{y}-{m:02d}" for y in (2022, 2023) for m in range(1, 13)][:limit + 3]
    BulkPoster(container.store, container.policy, "test").post(
        [PostingRequest(number, code, p) for p in periods])
    ledger = container.ledger
    with ledger.acting("bob"):
        ledger.reverse_contribution(number, periods[-1], "bob's one")
    with ledger.acting("alice"):
        for period in periods[:limit]:
            ledger.reverse_contribution(number, period, "wrong batch")
    assert alerts_by_rule(container) == {}
    with ledger.acting("alice"):
        ledger.reverse_contribution(number, periods[limit], "one more")
        ledger.reverse_contribution(number, periods[limit + 1], "and another")
    assert alerts_by_rule(container) == {"teller_reversals": 1}
    [alert] = list_alerts(container)
    assert alert["actors"] == ["alice"] and alert["details"]["reversals"] == limit + 1
    assert len(alert["events"]) == limit + 1


def test_sign_offs_by_one_post_family_are_flagged(container: Container) -> None:
    cases = CaseService(container)
    teller = Actor("teller1", ["teller"])
    cases.change_authorisation("teller1", ["employer_registration"], [], "admin", "request 1")
    for username, roles in (("reviewer1", ["reviewer"]), ("deputy1", ["deputy_director"]),
                            ("deputy2", ["deputy_director", "reviewer"]),
                            ("director1", ["director"])):
        container.staff.add_user(username, roles)

    def run_case(seq: int, deputy: str) -> str:
        from tests.helpers import make_credit_code

        opened = cases.open("employer_registration", {"employer_registration": {
            "credit_code": make_credit_code(seq), "name": "示例机械有限公司",
            "employer_type": "enterprise", "risk_class": 2}}, teller, opened_on=CASE_DAY).result
        for material in ("business_licence", "legal_rep_id"):
            cases.attach(opened["case_id"], material, io.BytesIO(PNG), "scan.png", teller)
        principal = container.staff.principal
        for username in ("reviewer1", deputy, "director1"):
            signer = principal(username)
            cases.sign(opened["case_id"], Actor(signer.username, list(signer.roles)),
                       signed_on=CASE_DAY)
        return str(opened["case_id"])

    run_case(81, "deputy1")  # reviewer, deputy director, director: independent
    assert alerts_by_rule(container) == {}
    flagged = run_case(82, "deputy2")  # the deputy also holds a reviewer's post
    assert alerts_by_rule(container) == {"same_post_family": 1}
    [alert] = list_alerts(container)
    assert alert["details"]["case_id"] == flagged
    assert alert["details"]["post_family"] == "operations"
    assert alert["actors"] == ["reviewer1", "deputy2"]
    assert [e[3] for e in alert["events"]] == ["Case.Signed", "Case.Signed"]


def trip_every_rule(c: Container) -> None:
    """One finding of each rule, through the commands."""
    region = seed_region(c, persons=3, year=2023, years=(2022,))
    a, b, d = region.id_numbers
    code = region.employer_code
    ledger = c.ledger
    assess_backpay(c, a, code, "2019-01", "2022-12", "2024-06-30", "payroll", "clerk",
                   base_fen=800_000)
    ledger.post_contribution(b, code, "2023-02")
    ledger.reverse_contribution(b, "2023-02", "one")
    ledger.post_contribution(b, code, "2023-02", 900_000)
    ledger.reverse_contribution(b, "2023-02", "two")
    ledger.declare_base(b, 2024, 2_000_000)
    ledger.post_contribution(d, code, "2023-08")
    ledger.record_death(d, "2023-04-02", "户籍注销")
    periods = [f"2022-{m:02d}" for m in range(1, 13)]
    BulkPoster(c.store, c.policy, "test").post([PostingRequest(b, code, p) for p in periods])
    with ledger.acting("alice"):
        for p in periods[:c.risk_monitor.rules["teller_reversals"].reversals_per_day + 1]:
            ledger.reverse_contribution(b, p, "batch error")


def test_each_alert_is_raised_once_across_restarts_rescans_and_rebuilds(
        settings: Settings) -> None:
    with Container.open(settings) as c:
        trip_every_rule(c)
        expected = {"backpay_span": 1, "repeat_reversal": 1, "base_change": 1,
                    "after_death": 1, "teller_reversals": 1}
        assert alerts_by_rule(c) == expected
        raised = alert_events(c)
        assert raised == 5
        rows = read_model_rows(c)["alerts"]
    with Container.open(settings) as c:  # a restart: the monitor goes on from its position
        assert alerts_by_rule(c) == expected
        c.risk_monitor.reset()  # evaluate the whole log again
        assert alerts_by_rule(c) == expected and alert_events(c) == raised
        c.runner.rebuild()
        settle(c)
        assert read_model_rows(c)["alerts"] == rows and alert_events(c) == raised


def test_two_monitors_on_one_store_raise_each_alert_once(settings: Settings,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(risk_monitor, "PAGE_EVENTS", 3)  # many pages: the other one overtakes
    with Container.open(settings) as c, Container.open(settings) as other:
        trip_every_rule(c)
        c.runner.catch_up()
        c.risk_monitor.reset()
        overtaken = []

        def meanwhile(position: int, head: int) -> None:
            if not overtaken:  # after this monitor's first page, the other runs to the head
                overtaken.append(other.risk_monitor.catch_up())

        c.risk_monitor.catch_up(progress=meanwhile)
        assert overtaken and c.risk_monitor.position() == other.risk_monitor.position()
        assert alert_events(c) == 5


def test_auditors_acknowledge_and_close_alerts(container: Container) -> None:
    region = seed_region(container, persons=1, year=2023)
    number, code = region.id_numbers[0], region.employer_code
    ledger = container.ledger
    ledger.post_contribution(number, code, "2023-03")
    with ledger.acting("rita"):
        ledger.reverse_contribution(number, "2023-03", "one")
        ledger.post_contribution(number, code, "2023-03", 900_000)
        ledger.reverse_contribution(number, "2023-03", "two")
    settle(container)
    [row] = list_alerts(container, status="raised")
    alert_id = row["alert_id"]

    refused("alert_about_actor", acknowledge_alert, container, alert_id, "rita", "mine")
    refused("note_too_long", acknowledge_alert, container, alert_id, "ann", "x" * 501)
    done = acknowledge_alert(container, alert_id, "ann", "checking the payroll")
    assert done.result["status"] == "acknowledged" and done.position > 0
    again = acknowledge_alert(container, alert_id, "ann", "checking the payroll")
    assert again.position == container.store.max_position()  # a repeat writes nothing
    refused("alert_already_acknowledged", acknowledge_alert, container, alert_id, "ben", "me")
    refused("resolution_missing", close_alert, container, alert_id, "ann", "  ")
    refused("alert_about_actor", close_alert, container, alert_id, "rita", "fine")
    close_alert(container, alert_id, "ann", "base corrected twice on evidence; no issue")
    refused("alert_already_closed", close_alert, container, alert_id, "ben", "other")
    refused("alert_closed", acknowledge_alert, container, alert_id, "ben", "late")
    refused("alert_not_found", get_alert, container, "00000000-0000-0000-0000-000000000000")
    refused("alert_id_malformed", get_alert, container, "no-such-id")

    settle(container)
    [closed] = list_alerts(container, status="closed")
    assert (closed["acknowledged_by"], closed["closed_by"]) == ("ann", "ann")
    assert closed["resolution"] == "base corrected twice on evidence; no issue"
    view = alert_view(container, get_alert(container, alert_id))
    assert [e["found"] for e in view["linked_events"]] == [True, True]
    assert view["linked_events"][1]["state"]["meta"]["actor"] == "rita"
    decisions = [e for e in container.store.notifications(0, 1000)
                 if e.topic.endswith(("Alert.Acknowledged", "Alert.Closed"))]
    assert len(decisions) == 2


def test_a_rebuilt_alerts_read_model_equals_the_incremental_one(settings: Settings) -> None:
    with Container.open(settings) as c:
        trip_every_rule(c)
        for _ in range(2):
            c.runner.catch_up(page_size=2)
        first = list_alerts(c)[0]["alert_id"]
        acknowledge_alert(c, first, "ann", "looking")
        close_alert(c, first, "ann", "done")
        settle(c)
        incremental = read_model_rows(c)
        c.runner.rebuild(["alerts"])
        assert read_model_rows(c) == incremental


def test_the_command_line_records_a_death_and_handles_its_alert(container: Container) -> None:
    region = seed_region(container, persons=1, year=2023)
    number, code = region.id_numbers[0], region.employer_code
    container.ledger.post_contribution(number, code, "2023-05")
    for username, role in (("teller9", "teller"), ("auditor9", "auditor")):
        container.staff.add_user(username, [role])
    run = cli(container.settings)

    assert "role_forbidden" in run("persons", "death", number, "--date", "2023-03-01",
                                   "--evidence", "户籍注销", "--as", "auditor9", code=1)
    assert "recorded" in run("persons", "death", number, "--date", "2023-03-01", "--evidence",
                             "户籍注销", "--as", "teller9")
    listed = run("alerts", "list", "--rule", "after_death")
    [alert_id] = [line.split("│")[1].strip() for line in listed.splitlines()
                  if "after_death" in line]
    shown = run("alerts", "show", alert_id)
    assert "Person.DeathRecorded" in shown and "teller9" in shown
    assert "acknowledged" in run("alerts", "ack", alert_id, "--as", "auditor9", "--note", "查")
    assert "role_forbidden" in run("alerts", "close", alert_id, "--as", "teller9",
                                   "--resolution", "x", code=1)
    assert "closed" in run("alerts", "close", alert_id, "--as", "auditor9", "--resolution",
                           "单位误报，已红冲退费")
    assert "alert_already_closed" in run("alerts", "close", alert_id, "--as", "auditor9",
                                         "--resolution", "again", code=1)
    assert "same_post_family" in run("alerts", "rules")
    assert "0 new alert(s)" in run("alerts", "rescan")


def test_a_changed_state_schema_rebuilds_the_state_without_raising_the_past(
        settings: Settings) -> None:
    from dataclasses import replace

    from domain.risk import BASE_CHANGE, RiskRules
    from infra.risk_monitor import MONITOR_TABLE, RiskMonitor

    with Container.open(settings) as c:
        region = seed_region(c, persons=1, year=2023, wage_fen=1_000_000)
        number = region.id_numbers[0]
        c.ledger.declare_base(number, 2024, 1_200_000)  # +20%: within the shipped 30%
        assert alerts_by_rule(c) == {}
        head = c.store.max_position()
        with c.views.transaction() as cur:  # as if the state tables were of an older version
            cur.execute(f"UPDATE {MONITOR_TABLE} SET version = 0")
    with Container.open(settings) as c:
        rules = c.risk_monitor.rules
        stricter = RiskRules({**rules.rules, BASE_CHANGE: replace(rules[BASE_CHANGE],
                                                                  percent=10)})
        monitor = RiskMonitor(c.store, c.views, stricter)
        assert monitor.position() == 0
        assert monitor.catch_up() == head and alert_events(c) == 0  # the past: evaluated
        c.ledger.declare_base(number, 2025, 1_400_000)  # +16.7%: over the stricter 10%
        monitor.catch_up()
        assert alert_events(c) == 1


@pytest.mark.parametrize("encrypted", [False, True])
def test_bulk_postings_after_death_are_found_in_a_plain_or_encrypted_log(
        settings: Settings, encrypted: bool) -> None:
    from dataclasses import replace

    from tests.integration.test_encryption_at_rest import KEY

    with Container.open(replace(settings, cipher_key=KEY if encrypted else None)) as c:
        region = seed_region(c, persons=2, year=2023)
        dead, alive = region.id_numbers
        c.ledger.record_death(dead, "2023-01-31", "户籍注销")
        settle(c)
        BulkPoster(c.store, c.policy, "tax:B1").post(
            [PostingRequest(n, region.employer_code, p) for n in (dead, alive)
             for p in ("2023-01", "2023-02")])
        assert alerts_by_rule(c) == {"after_death": 1}
        [alert] = list_alerts(c)
        assert alert["person_id"] == region.person_ids[0]
        assert alert["details"]["periods"] == ["2023-02"] and alert["actors"] == ["tax:B1"]


def test_one_catch_up_returns_with_the_alerts_it_raised_projected(container: Container) -> None:
    region = seed_region(container, persons=1, year=2023)
    number, code = region.id_numbers[0], region.employer_code
    ledger = container.ledger
    for reason in ("one", "two"):
        ledger.post_contribution(number, code, "2023-04", 900_000 if reason == "two" else None)
        ledger.reverse_contribution(number, "2023-04", reason)
    head = container.runner.catch_up()
    assert head == container.store.max_position() == container.runner.position()
    assert container.risk_monitor.position() == head  # past its own alert, which it skips
    assert [a["rule_code"] for a in list_alerts(container)] == ["repeat_reversal"]


def test_another_insurances_benefit_paid_after_death_is_flagged_in_either_order(
        container: Container, tmp_path: Path) -> None:
    """Benefit payments of 210-510 come from other systems' files (infra/benefit_payment_import):
    one for a month after a recorded death is flagged, whether the death or the payment was
    recorded first."""
    from infra.benefit_payment_import import import_benefit_payments

    ledger = container.ledger
    first_dead, paid_first = make_id_number(71), make_id_number(72)
    for number in (first_dead, paid_first):
        ledger.register_person(number, "待遇人", registered_on="2015-01-01")
    ledger.record_death(first_dead, "2024-02-10", "死亡医学证明")
    path = tmp_path / "benefits.csv"
    path.write_text("支付日期,险种代码,待遇类别,身份证号,所属期,金额,凭证号\n"
                    f"2024-03-10,210,失业保险金,{first_dead},2024-03,1850.00,SY-1\n"
                    f"2024-03-10,210,失业保险金,{paid_first},2024-02,1850.00,SY-2\n"
                    f"2024-04-10,210,失业保险金,{paid_first},2024-03,1850.00,SY-3\n",
                    encoding="utf-8")
    import_benefit_payments(container, path, today=date(2025, 1, 31))
    ledger.record_death(paid_first, "2024-02-20", "户籍注销")  # after the payments
    assert alerts_by_rule(container) == {"after_death": 2}
    for alert in list_alerts(container):
        assert alert["details"]["kinds"] == ["benefit"]
        assert alert["details"]["periods"] == ["2024-03"]  # 2024-02 is the month of death
        assert "BenefitPayment.Paid" in [e[3] for e in alert["events"]]
