"""Browser tests of the web console: headless Chromium (Debian's `chromium` and
`chromium-driver`, which scripts/test installs when missing) driven by selenium against the real
app served by uvicorn on a free loopback port, over a fresh SQLite store seeded here.

Without Chromium the tests are skipped with the reason, except with CI=true, where that fails
the run. Screenshots of the main pages go to tests/browser/screenshots/ (ignored by git) for a
person to look at; nothing there is compared."""

from __future__ import annotations

import io
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn

from api.app import create_app
from infra.bootstrap import Container
from infra.case_service import Actor, CaseService
from infra.settings import Settings
from tests.browser.helpers import DESKTOP, Site
from tests.helpers import SEED_YEAR, make_credit_code, seed_region

CHROMIUM = os.environ.get("SHEBAO_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("SHEBAO_CHROMEDRIVER", "/usr/bin/chromedriver")
SCREENSHOTS = Path(__file__).parent / "screenshots"
SERVER_START_SECONDS_MAX = 60.0
PNG = b"\x89PNG\r\n\x1a\n" + b"scan" * 100
USERS = {  # username → roles
    "teller1": ["teller"], "reviewer1": ["reviewer"], "deputy1": ["deputy_director"],
    "director1": ["director"], "auditor1": ["auditor"], "admin1": ["admin"],
}


def _browser_missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return (f"{path} not found: install Debian's chromium and chromium-driver "
                    "(scripts/test does so as root), or set SHEBAO_CHROMIUM/SHEBAO_CHROMEDRIVER")
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install -e '.[dev]'"
    return None


@pytest.fixture(scope="session")
def chromium() -> None:
    missing = _browser_missing()
    if missing is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true requires the browser tests: {missing}")
        pytest.skip(missing)


def _seed(settings: Settings) -> tuple[dict[str, str], tuple[str, ...], str]:
    with Container.open(settings) as container:
        region = seed_region(container, 3)
        for month in range(1, 13):
            container.ledger.post_contribution(region.id_numbers[0], region.employer_code,
                                               f"{SEED_YEAR}-{month:02d}")
        tokens = {name: container.staff.add_user(name, roles)[1]
                  for name, roles in USERS.items()}
        service = CaseService(container)
        service.change_authorisation("teller1", ["employer_registration"], [], "admin1",
                                     "浏览器测试授权")
        teller = Actor("teller1", ["teller"])
        case_id = str(service.open("employer_registration", {"employer_registration": {
            "credit_code": make_credit_code(61), "name": "示例机械有限公司",
            "employer_type": "enterprise", "risk_class": 2}}, teller,
            "示例机械有限公司").result["case_id"])
        for material in ("business_licence", "legal_rep_id"):
            service.attach(case_id, material, io.BytesIO(PNG), "扫描件.png", teller)
        service.sign(case_id, Actor("reviewer1", ["reviewer"]), "材料齐全")
        return tokens, region.id_numbers, case_id


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def site(chromium: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    settings = Settings(region_code="440781", data_dir=tmp_path_factory.mktemp("console"))
    tokens, id_numbers, case_id = _seed(settings)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="console-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_SECONDS_MAX
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the console server did not start")
        time.sleep(0.05)
    try:
        yield Site(f"http://127.0.0.1:{port}", tokens, id_numbers, case_id)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="session")
def screenshots() -> Path:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS


@pytest.fixture
def browser(chromium: None, tmp_path: Path) -> Iterator[Callable[[], object]]:
    """A factory of headless Chromium sessions (each its own profile and cookies), quit after
    the test. Downloads go to `tmp_path / "downloads"`."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    drivers: list[webdriver.Chrome] = []
    downloads = tmp_path / "downloads"
    downloads.mkdir()

    def start() -> webdriver.Chrome:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                         "--disable-gpu", f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
                         "--lang=zh-CN", "--disable-extensions", "--no-first-run"):
            options.add_argument(argument)
        options.add_experimental_option("prefs", {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "plugins.always_open_pdf_externally": True,
        })
        driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                               {"behavior": "allow", "downloadPath": str(downloads)})
        driver.implicitly_wait(0)
        drivers.append(driver)
        return driver

    try:
        yield start
    finally:
        for driver in drivers:
            driver.quit()
