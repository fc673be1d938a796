"""The web console in headless Chromium: signing in (a wrong token refused, the right one lands on
the dashboard with the role's menu), keyboard use and accessibility basics on every page
visited (labels, contrast, skip link, visible focus, no sideways scrolling of the page at
1366×768 and 375×812), person search → profile → the statement PDF downloaded, and a level-1
case signed by two users in two browsers. Screenshots of each main page at both sizes go to
tests/browser/screenshots/."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.helpers import DESKTOP, PAGE_WAIT_SECONDS, PHONE, Site
from tests.helpers import SEED_YEAR

DOWNLOAD_WAIT_SECONDS = 30.0
CONTRAST_MIN = 4.5  # WCAG 2.1 AA for normal text

# Accessibility basics, checked in the page as rendered: the language, a label for every
# form field, and the contrast of every visible text (in a chart: its fill) against the
# background behind it.
ACCESSIBILITY_PROBLEMS_JS = """
const problems = [];
if (document.documentElement.lang !== 'zh-CN') problems.push('html lang is not zh-CN');
for (const el of document.querySelectorAll('input, select, textarea')) {
  if (el.type === 'hidden') continue;
  if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
    problems.push('form field without a label: ' + (el.id || el.name));
}
const rgb = s => { const m = s.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
  const p = m[1].split(',').map(Number);
  return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
const lum = c => { const f = v => { v /= 255;
  return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
const behind = el => { for (let e = el; e; e = e.parentElement) {
  const c = rgb(getComputedStyle(e).backgroundColor); if (c && c.a > 0) return c; }
  return {r: 255, g: 255, b: 255, a: 1}; };
for (const el of document.querySelectorAll('body *')) {
  if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
  const box = el.getBoundingClientRect(), style = getComputedStyle(el);
  if (!box.width || !box.height || style.visibility === 'hidden') continue;
  const a = lum(rgb(el.closest('svg') ? style.fill : style.color)), b = lum(behind(el));
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  if (ratio < arguments[0]) problems.push(
    'contrast ' + ratio.toFixed(2) + ' of ' + el.tagName + ' "'
    + el.textContent.trim().slice(0, 20) + '"');
}
return problems;
"""


def wait(driver: WebDriver) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, PAGE_WAIT_SECONDS)


def at_page(driver: WebDriver, title: str) -> None:
    """Wait until the page whose heading is `title` has loaded (a click's navigation may still
    be under way when the click returns)."""

    def arrived(d: WebDriver) -> bool:
        try:
            return bool(d.find_element(By.TAG_NAME, "h1").text == title)
        except (NoSuchElementException, StaleElementReferenceException):
            return False

    try:
        wait(driver).until(arrived)
    except TimeoutException:
        raise AssertionError(f"expected the page {title!r}, at {driver.current_url}: "
                             f"{driver.find_element(By.TAG_NAME, 'main').text[:300]}") from None


def check_page(driver: WebDriver, screenshots: Path, name: str) -> None:
    """Accessibility basics, then a screenshot at each size; the page itself never scrolls
    sideways (wide tables scroll inside their own region)."""
    problems: list[str] = driver.execute_script(ACCESSIBILITY_PROBLEMS_JS, CONTRAST_MIN)
    assert problems == [], f"{name}: {problems}"
    for width, height in (DESKTOP, PHONE):
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1,
            "mobile": width < DESKTOP[0]})
        page_width = driver.execute_script("return document.documentElement.scrollWidth")
        assert page_width <= width, f"{name} is {page_width} px wide at {width}×{height}"
        driver.save_screenshot(str(screenshots / f"{name}-{width}x{height}.png"))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def sign_in(driver: WebDriver, site: Site, username: str) -> None:
    driver.get(f"{site.base_url}/console/login")
    field = wait(driver).until(ec.element_to_be_clickable((By.ID, "token")))
    field.send_keys(site.tokens[username], Keys.ENTER)  # the keyboard submits the form
    at_page(driver, "首页")


def menu(driver: WebDriver) -> list[str]:
    return [a.text for a in driver.find_elements(By.CSS_SELECTOR, "nav.menu a")]


def test_sign_in_refuses_a_wrong_token_then_shows_the_roles_menu_by_keyboard(
        site: Site, browser: Callable[[], WebDriver], screenshots: Path) -> None:
    driver = browser()
    driver.get(f"{site.base_url}/console/")
    at_page(driver, "经办人员登录")  # sent to sign in first
    check_page(driver, screenshots, "login")
    driver.find_element(By.ID, "token").send_keys("sbk_not-a-token", Keys.ENTER)
    error = wait(driver).until(ec.visibility_of_element_located((By.ID, "login-error")))
    assert "令牌无效" in error.text

    sign_in(driver, site, "reviewer1")
    assert menu(driver) == ["首页", "参保人查询", "基金收支", "对账", "办件", "转移接续"]
    cookie = driver.get_cookie("shebao_console")
    assert cookie is not None and cookie["httpOnly"] is True
    assert site.tokens["reviewer1"] not in str(driver.get_cookies())

    # Keyboard: the first Tab reaches the skip link, with a visible focus ring; Enter on it
    # moves the focus to the page's content.
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    focused = driver.switch_to.active_element
    assert focused.get_attribute("class") == "skip-link" and focused.text == "跳到正文"
    ring = driver.execute_script("const s = getComputedStyle(document.activeElement);"
                                 "return [s.outlineStyle, parseFloat(s.outlineWidth)];")
    assert ring[0] != "none" and ring[1] >= 2
    focused.send_keys(Keys.ENTER)
    assert driver.switch_to.active_element.get_attribute("id") == "main"
    check_page(driver, screenshots, "dashboard")


def test_person_search_leads_to_the_profile_and_the_statement_pdf_downloads(
        site: Site, browser: Callable[[], WebDriver], screenshots: Path,
        tmp_path: Path) -> None:
    driver = browser()
    sign_in(driver, site, "director1")
    driver.find_element(By.LINK_TEXT, "参保人查询").click()
    at_page(driver, "参保人查询")
    check_page(driver, screenshots, "person-search")
    driver.find_element(By.ID, "id_number").send_keys(site.id_numbers[0])
    Select(driver.find_element(By.ID, "reason")).select_by_visible_text("权益单打印")
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    at_page(driver, "参保人信息：测试1")
    balance = driver.find_element(By.ID, "account-balance").text
    assert balance != "0.00" and balance.endswith(".00")
    check_page(driver, screenshots, "person-profile")

    driver.find_element(By.PARTIAL_LINK_TEXT, f"下载 PDF（{SEED_YEAR} 年度）").click()
    pdf = _downloaded(tmp_path / "downloads", f"statement-{SEED_YEAR}.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"

    driver.find_element(By.LINK_TEXT, "全部业务轨迹").click()
    at_page(driver, "业务轨迹：测试1")
    assert "缴费入账" in driver.find_element(By.TAG_NAME, "table").text
    for title, name, shown in (("基金收支", "funds", "借贷平衡"),
                               ("对账", "reconciliation", "暂收款"),
                               ("风险预警", "alerts", "状态")):
        driver.find_element(By.LINK_TEXT, title).click()
        at_page(driver, title)
        assert shown in driver.find_element(By.TAG_NAME, "main").text
        check_page(driver, screenshots, name)


def _downloaded(folder: Path, name: str) -> Path:
    """The file once Chromium has finished writing it (it writes `name.crdownload` first)."""
    path = folder / name
    deadline = time.monotonic() + DOWNLOAD_WAIT_SECONDS
    while not path.exists():
        assert time.monotonic() < deadline, f"{name} did not arrive: {list(folder.iterdir())}"
        time.sleep(0.1)
    return path


def _sign_from_queue(driver: WebDriver, site: Site) -> str:
    driver.find_element(By.LINK_TEXT, "办件").click()
    at_page(driver, "办件")
    queue = driver.find_element(By.ID, "case-queue")
    link = queue.find_element(By.CSS_SELECTOR, f"a[href$='/cases/{site.case_id}']")
    link.click()
    at_page(driver, "办件详情：企业社会保险登记")
    driver.find_element(By.ID, "comment").send_keys("同意")
    driver.find_element(By.ID, "sign-button").click()
    return str(wait(driver).until(ec.visibility_of_element_located(
        (By.CSS_SELECTOR, "p.flash-ok"))).text)


def test_a_level_1_case_is_signed_by_two_users_in_two_browsers(
        site: Site, browser: Callable[[], WebDriver], screenshots: Path) -> None:
    deputy, director = browser(), browser()
    sign_in(deputy, site, "deputy1")
    sign_in(director, site, "director1")
    director.find_element(By.LINK_TEXT, "办件").click()
    at_page(director, "办件")
    assert site.case_id not in director.page_source  # not the director's step yet

    assert _sign_from_queue(deputy, site) == "已签批，已转下一环节。"
    assert deputy.find_element(By.ID, "case-status").text == "在办"
    check_page(deputy, screenshots, "case")

    assert _sign_from_queue(director, site) == "已签批，办件已办结。"
    assert director.find_element(By.ID, "case-status").text.startswith("已办结")
    steps = director.find_element(By.CSS_SELECTOR, "main ol").text
    assert "reviewer1 已签批" in steps and "deputy1 已签批" in steps
    assert "director1 已签批" in steps
    director.find_element(By.LINK_TEXT, "返回办件队列").click()
    at_page(director, "办件")
    assert site.case_id not in director.page_source
    check_page(director, screenshots, "cases")


def test_the_annual_report_page_draws_its_charts(
        site: Site, browser: Callable[[], WebDriver], screenshots: Path) -> None:
    driver = browser()
    sign_in(driver, site, "director1")
    driver.find_element(By.LINK_TEXT, "年度报告").click()
    year = wait(driver).until(ec.element_to_be_clickable((By.ID, "year")))
    year.clear()
    year.send_keys(str(SEED_YEAR), Keys.ENTER)
    at_page(driver, f"{SEED_YEAR} 年度报告")
    charts = driver.find_elements(By.CSS_SELECTOR, "#report-charts svg")
    assert len(charts) >= 3
    assert all(chart.size["width"] > 0 and chart.size["height"] > 0 for chart in charts)
    bars: list[dict[str, float]] = driver.execute_script(
        "return [...document.querySelectorAll('#report-charts svg rect.bar')].map(r => {"
        " const b = r.getBoundingClientRect(); return {width: b.width, height: b.height}; });")
    drawn = [b for b in bars if b["width"] > 0 and b["height"] > 0]
    assert drawn, f"no bar of non-zero size among {len(bars)}"
    participants = driver.find_element(By.CSS_SELECTOR, "main table tbody td.num").text
    assert participants == "1"  # the one seeded person with months posted (conftest._seed)
    check_page(driver, screenshots, "report")
