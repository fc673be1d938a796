"""The web console (经办管理台) over HTTP, on SQLite and PostgreSQL, without a browser (the browser
tests in tests/browser drive the same pages in Chromium): signing in and out with a token, the
session cookie's flags, menus from the permissions table, 403 pages, the reason for reading a
person's record and its entry in the access log, masking, statements, case sign-off and
rejection through CSRF-checked forms, funds, reconciliation and alerts."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.console.sessions import IDLE_SECONDS_MAX, ConsoleSession, SessionStore
from api.console.web import MENU
from api.deps import permits
from infra.alert_service import settle
from infra.bootstrap import Container
from infra.case_service import Actor, CaseService
from infra.settings import Settings
from tests.e2e.test_api import auth, credit_code
from tests.e2e.test_import_api import collection_file
from tests.helpers import SEED_YEAR, SeededRegion, seed_region

PNG = b"\x89PNG\r\n\x1a\n" + b"licence scan" * 50


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, follow=False)) as c:
        yield c


def container_of(client: TestClient) -> Container:
    container: Container = client.app.state.container  # type: ignore[attr-defined]
    return container


def token_of(client: TestClient, username: str, *roles: str) -> str:
    _user, token = container_of(client).staff.add_user(username, list(roles))
    return token


def signed_in(client: TestClient, username: str, *roles: str) -> TestClient:
    """A browser of its own (cookie jar) on the same app, signed in as a new user."""
    browser = TestClient(client.app)
    response = browser.post("/console/login", data={"token": token_of(client, username, *roles)},
                            follow_redirects=False)
    assert response.status_code == 303, response.text
    return browser


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def menu_of(page: str) -> list[str]:
    nav = re.search(r'<nav class="menu".*?</nav>', page, re.S)
    return re.findall(r"<a href=\"[^\"]+\"[^>]*>([^<]+)</a>", nav.group(0)) if nav else []


def seeded(client: TestClient) -> SeededRegion:
    container = container_of(client)
    region = seed_region(container, 2)
    for month in (1, 2, 3):
        container.ledger.post_contribution(region.id_numbers[0], region.employer_code,
                                           f"{SEED_YEAR}-{month:02d}")
    container.runner.catch_up()
    return region


def access_entries(client: TestClient, username: str | None = None) -> list[dict[str, object]]:
    container = container_of(client)
    container.runner.catch_up()
    return container.access_log.entries(username=username)


def test_a_token_signs_in_to_a_session_cookie_and_signing_out_ends_it(client: TestClient
                                                                       ) -> None:
    token = token_of(client, "teller1", "teller")
    first = client.get("/console/", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/console/login?next=/console/"
    assert client.get("/", follow_redirects=False).headers["location"] == "/console/"

    wrong = client.post("/console/login", data={"token": token[:-1] + "x"})
    assert wrong.status_code == 401 and "令牌无效" in wrong.text
    assert "shebao_console" not in wrong.headers.get("set-cookie", "")

    right = client.post("/console/login", data={"token": token, "next": "/console/cases"},
                        follow_redirects=False)
    assert right.status_code == 303 and right.headers["location"] == "/console/cases"
    cookie = right.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert token not in cookie  # a random session id, never the token
    elsewhere = client.post("/console/login", data={"token": token,
                                                    "next": "//evil.example/x"},
                            follow_redirects=False)
    assert elsewhere.headers["location"] == "/console/"  # no open redirect

    home = client.get("/console/")
    assert home.status_code == 200 and 'lang="zh-CN"' in home.text
    assert home.headers["content-security-policy"].startswith("default-src 'self'")
    assert home.headers["cache-control"] == "no-store"
    assert menu_of(home.text) == ["首页", "参保人查询", "基金收支", "办件", "转移接续"]

    stale = client.post("/console/logout", data={"csrf_token": "forged"})
    assert stale.status_code == 403 and "表单已失效" in stale.text
    assert client.get("/console/").status_code == 200  # still signed in
    out = client.post("/console/logout", data={"csrf_token": csrf_of(home.text)},
                      follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/console/login"
    client.cookies.clear()
    assert client.get("/console/", follow_redirects=False).status_code == 303


def test_menus_come_from_the_permissions_table_and_other_pages_are_403(client: TestClient
                                                                       ) -> None:
    for role in ("teller", "reviewer", "director", "auditor", "reconciler", "insured", "admin"):
        page = signed_in(client, f"{role}1", role).get("/console/").text
        expected = [e.label for e in MENU if not e.actions
                    or any(permits(a, (role,)) for a in e.actions)]
        assert menu_of(page) == expected, role
    teller = signed_in(client, "teller2", "teller")
    refused = teller.get("/console/alerts")
    assert refused.status_code == 403
    assert "无权访问" in refused.text and "稽核" in refused.text
    assert teller.get("/console/no-such-page").status_code == 404


def test_a_person_is_read_with_the_chosen_reason_and_the_read_is_logged(client: TestClient
                                                                        ) -> None:
    region = seeded(client)
    number = region.id_numbers[0]
    teller = signed_in(client, "teller1", "teller")
    form = teller.get("/console/persons").text
    assert '<label for="reason">查询事由</label>' in form
    csrf = csrf_of(form)

    no_reason = teller.post("/console/persons/search", data={
        "csrf_token": csrf, "id_number": number, "reason": ""})
    assert no_reason.status_code == 422 and "查询事由" in no_reason.text
    bad_number = teller.post("/console/persons/search", data={
        "csrf_token": csrf, "id_number": number[:-1] + "0", "reason": "counter_service"})
    assert bad_number.status_code == 422 and "校验位" in bad_number.text
    no_note = teller.post("/console/persons/search", data={
        "csrf_token": csrf, "id_number": number, "reason": "complaint"})
    assert no_note.status_code == 422 and "备注" in no_note.text
    assert access_entries(client) == []  # nothing was read

    found = teller.post("/console/persons/search", data={
        "csrf_token": csrf, "id_number": number, "reason": "counter_service"},
        follow_redirects=False)
    assert found.headers["location"] == f"/console/persons/{number}"
    profile = teller.get(found.headers["location"])
    assert profile.status_code == 200
    assert "测试1" in profile.text and number in profile.text and "1990-01-01" in profile.text
    balance = container_of(client).queries.account_balance(region.person_ids[0])["balance_fen"]
    assert balance > 0
    assert f'id="account-balance">{balance // 100:,}.{balance % 100:02d}<' in profile.text
    [entry] = access_entries(client)
    assert entry["username"] == "teller1" and entry["reason_code"] == "counter_service"
    assert entry["resource"] == "GET /console/persons/{id_number}"
    assert entry["person_id"] == region.person_ids[0]

    # The reason stays for the session: the next page is read and logged under it too.
    assert teller.get(f"/console/persons/{region.id_numbers[1]}").status_code == 200
    assert len(access_entries(client, username="teller1")) == 2

    unknown = teller.get("/console/persons/110101199001011237")
    assert unknown.status_code == 404 and "未查到该参保人" in unknown.text

    teller.post("/console/persons/search", data={
        "csrf_token": csrf, "id_number": number, "reason": "complaint",
        "note": "投诉编号 TS-2025-001"})
    latest = access_entries(client)[0]
    assert latest["reason_code"] == "complaint" and latest["note"] == "投诉编号 TS-2025-001"


def test_a_masking_role_sees_the_person_masked_and_a_page_without_a_reason_asks_for_one(
        client: TestClient) -> None:
    region = seeded(client)
    number = region.id_numbers[0]
    auditor = signed_in(client, "auditor1", "auditor")
    gate = auditor.get(f"/console/persons/{number}")
    assert gate.status_code == 200 and "请选择查询事由" in gate.text
    assert number not in gate.text.replace(f'value="/console/persons/{number}"', "")
    assert access_entries(client) == []
    chosen = auditor.post("/console/reason", data={
        "csrf_token": csrf_of(gate.text), "reason": "audit",
        "next": f"/console/persons/{number}"}, follow_redirects=False)
    assert chosen.headers["location"] == f"/console/persons/{number}"
    profile = auditor.get(f"/console/persons/{number}").text
    assert "测*" in profile and "440781********" in profile
    assert "测试1" not in profile and "1990-01-01" not in profile
    [entry] = access_entries(client)
    assert entry["reason_code"] == "audit" and entry["username"] == "auditor1"


def test_statements_download_as_pdf_and_link_to_the_console_traces(client: TestClient) -> None:
    region = seeded(client)
    number = region.id_numbers[0]
    director = signed_in(client, "director1", "director")
    director.post("/console/persons/search", data={
        "csrf_token": csrf_of(director.get("/console/persons").text), "id_number": number,
        "reason": "statement_request"})
    pdf = director.get(f"/console/persons/{number}/statements/{SEED_YEAR}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"].startswith("attachment")
    page = director.get(f"/console/persons/{number}/statements/{SEED_YEAR}.html").text
    assert "/console/trace?account=personal" in page and "/v1/trace" not in page
    link = re.search(r'href="(/console/trace\?account=personal[^"]+)"', page)
    assert link
    trace = director.get(link.group(1).replace("&amp;", "&"))
    assert trace.status_code == 200 and "相符" in trace.text
    history = director.get(f"/console/persons/{number}/trace")
    assert history.status_code == 200 and "缴费入账" in history.text
    reads = access_entries(client, username="director1")
    assert {e["resource"] for e in reads} == {
        "GET /console/persons/{id_number}",  # the search lands on the profile
        "GET /console/persons/{id_number}/statements/{year}.pdf",
        "GET /console/persons/{id_number}/statements/{year}.html",
        "GET /console/trace",
        "GET /console/persons/{id_number}/trace"}
    assert {e["reason_code"] for e in reads} == {"statement_request"}


def _level_1_case(client: TestClient) -> str:
    """An employer registration (risk level 1: reviewer, deputy director, director sign)
    accepted by teller1 with its materials."""
    container = container_of(client)
    service = CaseService(container)
    service.change_authorisation("teller1", ["employer_registration"], [], "admin1", "演示授权")
    teller = Actor("teller1", ["teller"])
    code = credit_code(61)
    case_id = str(service.open("employer_registration", {"employer_registration": {
        "credit_code": code, "name": "示例机械有限公司", "employer_type": "enterprise",
        "risk_class": 2}}, teller, "示例机械有限公司").result["case_id"])
    for material in ("business_licence", "legal_rep_id"):
        service.attach(case_id, material, io.BytesIO(PNG), "营业执照.png", teller)
    container.runner.catch_up()
    return case_id


def test_a_case_is_signed_and_rejected_through_csrf_checked_forms(client: TestClient) -> None:
    case_id = _level_1_case(client)
    reviewer = signed_in(client, "reviewer1", "reviewer")
    queue = reviewer.get("/console/cases").text
    assert case_id in queue and "示例机械有限公司" in queue
    page = reviewer.get(f"/console/cases/{case_id}").text
    assert "签批通过" in page and '<label for="reject-reason">退回原因</label>' in page

    forged = reviewer.post(f"/console/cases/{case_id}/sign", data={"csrf_token": "x"})
    assert forged.status_code == 403
    assert CaseService(container_of(client)).case(case_id).signatures == []

    signed = reviewer.post(f"/console/cases/{case_id}/sign", data={
        "csrf_token": csrf_of(page), "comment": "材料齐全"})
    assert signed.status_code == 200 and "已签批，已转下一环节" in signed.text
    assert "reviewer1 已签批" in signed.text and "签批通过" not in signed.text
    again = reviewer.post(f"/console/cases/{case_id}/sign", data={"csrf_token": csrf_of(page)})
    assert "您已签批过该办件" in again.text
    assert case_id not in reviewer.get("/console/cases").text  # left their queue

    deputy = signed_in(client, "deputy1", "deputy_director")
    page = deputy.get(f"/console/cases/{case_id}").text
    empty = deputy.post(f"/console/cases/{case_id}/reject", data={
        "csrf_token": csrf_of(page), "reason": " "})
    assert "请填写退回原因" in empty.text or "reason_missing" in empty.text
    rejected = deputy.post(f"/console/cases/{case_id}/reject", data={
        "csrf_token": csrf_of(page), "reason": "营业执照已过期"})
    assert "已退回该办件" in rejected.text
    assert re.search(r'id="case-status">已退回', rejected.text)
    assert CaseService(container_of(client)).case(case_id).status == "rejected"
    teller = signed_in(client, "teller9", "teller")
    assert teller.post(f"/console/cases/{case_id}/sign", data={
        "csrf_token": csrf_of(teller.get("/console/").text)}).status_code == 403


def test_funds_show_the_read_models_balances_and_the_trial_balance(client: TestClient) -> None:
    seeded(client)
    page = signed_in(client, "auditor1", "auditor").get("/console/funds").text
    for row in container_of(client).queries.fund_balances():
        assert row["account"] in page
    assert "借贷平衡" in page and "/console/trace?account=fund%3A110" in page


def test_reconciliation_lists_imports_and_their_report(client: TestClient, tmp_path: Path
                                                       ) -> None:
    reconciler = auth(client, "reconciler1", "reconciler")
    content = collection_file(client, tmp_path)
    uploaded = client.post("/v1/imports/collections", headers=reconciler,
                           files={"file": ("sw202302.csv", content, "text/csv")})
    assert uploaded.status_code == 201, uploaded.text
    container_of(client).runner.catch_up()
    browser = signed_in(client, "reconciler2", "reconciler")
    page = browser.get("/console/reconciliation").text
    assert "sw202302.csv" in page and "财政专户对账" in page and "暂收款" in page
    batch_id = uploaded.json()["batch_id"]
    report = browser.get(f"/console/reconciliation/imports/{batch_id}").text
    assert "相符" in report and "暂收挂账" in report and "440781********" in report


def test_an_auditor_acknowledges_and_closes_an_alert(client: TestClient) -> None:
    region = seeded(client)
    container = container_of(client)
    container.ledger.record_death(region.id_numbers[0], f"{SEED_YEAR}-02-10", "死亡医学证明")
    settle(container)
    auditor = signed_in(client, "auditor1", "auditor")
    page = auditor.get("/console/alerts?status=raised").text
    alert_id = re.search(r'action="/console/alerts/([0-9a-f-]+)/acknowledge"', page)
    assert alert_id, page
    acknowledged = auditor.post(f"/console/alerts/{alert_id.group(1)}/acknowledge", data={
        "csrf_token": csrf_of(page), "note": "核查中"})
    assert "已认领该预警" in acknowledged.text and "auditor1：核查中" in acknowledged.text
    closed = auditor.post(f"/console/alerts/{alert_id.group(1)}/close", data={
        "csrf_token": csrf_of(page), "resolution": "已核实，死亡前缴费"})
    assert "已办结该预警" in closed.text


def test_the_annual_report_shows_its_figures_and_charts_to_the_roles_that_read_it(
        client: TestClient) -> None:
    seeded(client)
    director = signed_in(client, "director1", "director")
    page = director.get(f"/console/report?year={SEED_YEAR}")
    assert page.status_code == 200 and f"{SEED_YEAR} 年度报告" in page.text
    assert page.text.count("<svg") >= 3 and 'class="bar"' in page.text
    workbook = director.get(f"/console/report/{SEED_YEAR}.xlsx")
    assert workbook.content[:2] == b"PK"  # a zip: the XLSX container
    assert director.get(f"/console/report/{SEED_YEAR}.html").text.startswith("<!DOCTYPE html>")
    assert signed_in(client, "teller1", "teller").get("/console/report").status_code == 403


def test_sessions_expire_when_idle_and_the_oldest_give_way(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    with Container.open(settings) as container:
        store = SessionStore(container.views, clock=lambda: now[0])
        first = store.start("teller1")
        assert same_session(store.get(first.session_id), first)
        now[0] += IDLE_SECONDS_MAX + 1
        assert store.get(first.session_id) is None
        monkeypatch.setattr("api.console.sessions.SESSIONS_MAX", 2)
        started = []
        for name in ("a1", "b1", "c1"):
            now[0] += 1  # a second apart: which is oldest is clear
            started.append(store.start(name))
        a, b, c = started
        assert store.get(a.session_id) is None and same_session(store.get(c.session_id), c)
        assert len(store) == 2 and same_session(store.get(b.session_id), b)


def same_session(found: ConsoleSession | None, started: ConsoleSession) -> bool:
    """The session read back from the store is the one started (a new object each read)."""
    return (found is not None and found.session_id == started.session_id
            and found.username == started.username and found.csrf_token == started.csrf_token)


def test_a_pensioners_profile_shows_the_latest_payments(client: TestClient) -> None:
    from tests.integration.test_pension_payments import award_of, pay, retirees

    container = container_of(client)
    [number] = retirees(container, 1)
    monthly_fen = award_of(container, number)["monthly_fen"]
    teller = signed_in(client, "teller1", "teller")
    csrf = csrf_of(teller.get("/console/persons").text)
    teller.post("/console/persons/search", data={
        "csrf_token": csrf, "id_number": number, "reason": "counter_service"})
    assert "养老金发放" not in teller.get(f"/console/persons/{number}").text  # none yet

    for period in ("2024-01", "2024-02"):
        pay(container, period)
    container.runner.catch_up()
    page = teller.get(f"/console/persons/{number}").text
    assert "<h2>养老金发放</h2>" in page
    total_fen = 2 * monthly_fen
    assert f"共发放 2 个月，合计 {total_fen // 100:,}.{total_fen % 100:02d} 元" in page
    rows = re.findall(r"<tr><td>(2024-0[12])</td>", page)
    assert rows == ["2024-01", "2024-02"]


def test_the_profile_shows_the_other_insurances_benefit_payments(client: TestClient,
                                                                  tmp_path: Path) -> None:
    from infra.benefit_payment_import import import_benefit_payments
    from tests.integration.test_benefit_payments import TODAY, write, year_rows

    container = container_of(client)
    region = seed_region(container, persons=3)
    number = region.id_numbers[0]
    teller = signed_in(client, "teller1", "teller")
    csrf = csrf_of(teller.get("/console/persons").text)
    teller.post("/console/persons/search", data={
        "csrf_token": csrf, "id_number": number, "reason": "counter_service"})
    assert "其他保险待遇支付" not in teller.get(f"/console/persons/{number}").text  # none yet

    import_benefit_payments(container, write(tmp_path / "benefits.csv",
                                             year_rows(region.id_numbers)), today=TODAY)
    container.runner.catch_up()
    page = teller.get(f"/console/persons/{number}").text
    assert "<h2>其他保险待遇支付</h2>" in page
    assert "失业、医疗、工伤、生育保险待遇共 4 笔，合计 5,670.50 元" in page
    table = re.search(r'<table id="person-benefits">.*?</table>', page, re.S)
    assert table is not None
    rows = re.findall(r"<tr><td>(\d{4}-\d{2})</td><td>([^<]+)</td><td>([^<]+)</td>"
                      r'<td class="num">([^<]+)</td>', table.group(0))
    assert rows[0] == ("2023-12", "失业保险", "失业保险金", "1,850.00")
    assert rows[-1] == ("2024-03", "失业保险", "医疗补助金", "120.50")
