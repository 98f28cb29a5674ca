"""The operations console in real Chromium (Debian's, through chromedriver and Selenium; run
infra/browser.sh install first): sign in, the overview shows every service and projection, a
booking made through the API moves a figure on the open page without a reload, sign out.
Screenshots go to var/test-artefacts/console/.

Selenium blocks: each of its calls runs on a worker thread, so that the event loop keeps
serving the suite (a uvicorn in this loop) to the browser meanwhile."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service as DriverService
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from services.suite import Suite
from tests.api.conftest import TokenFor, booking, register
from tests.api.test_dead_letters import Hiccup, register_site
from tests.api.test_rebuilds import DIRECTORY, SITES
from tests.api.test_rebuilds import slow_directory as slow_directory  # the fixture
from tests.integration.servers import free_port
from tests.support import wait_until

ARTEFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artefacts" / "console"
WAIT = 15.0  # seconds a page has to show what it should (it updates every second)

T = TypeVar("T")

pytestmark = pytest.mark.parametrize("settings", ["embedded"], indirect=True)


@pytest.fixture(scope="session")
def chromium() -> Iterator[webdriver.Chrome]:
    """One headless Chromium for the session's browser tests."""
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    missing = "not on PATH: run infra/browser.sh install"
    assert binary, f"chromium {missing}"
    assert driver, f"chromedriver {missing}"
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in (
        "--headless=new",
        "--no-sandbox",  # tests may run as root (CI containers)
        "--disable-dev-shm-usage",
        "--window-size=1280,1400",
        "--disable-gpu",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(options=options, service=DriverService(driver))
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture
async def served(suite: Suite) -> AsyncIterator[str]:
    """The suite's app on a loopback port, in this test's event loop."""
    port = free_port()
    config = uvicorn.Config(
        suite.app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,  # no log_level: it would set uvicorn.error's level for the process
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        assert not task.done(), "the test server did not start"
        return bool(server.started)

    await wait_until(started, timeout=30, message="the test server to start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


class Page:
    """The browser, driven from async code: every Selenium call on a worker thread."""

    def __init__(self, browser: webdriver.Chrome, base: str) -> None:
        self.browser = browser
        self.base = base

    async def run(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(call, *args)

    async def open(self, path: str) -> None:
        await self.run(self.browser.get, self.base + path)

    def read(self, css: str) -> str:
        """The text of the element `css` selects, read in one step: the live parts of a page
        are replaced every second, and an element found a moment ago may be gone."""
        script = "const e = document.querySelector(arguments[0]); return e && e.textContent;"
        return str(self.browser.execute_script(script, css))

    async def text(self, css: str) -> str:
        return await self.run(self.read, css)

    async def count(self, css: str) -> int:
        return len(await self.run(self.browser.find_elements, By.CSS_SELECTOR, css))

    async def until(self, condition: Callable[[], bool | str], message: str) -> None:
        """Wait for `condition`; on a timeout, keep the page's screenshot and say where it was."""

        def wait() -> None:
            WebDriverWait(
                self.browser, WAIT, 0.1, ignored_exceptions=[StaleElementReferenceException]
            ).until(lambda _: condition(), message)

        try:
            await self.run(wait)
        except TimeoutException:
            await self.screenshot("timed-out")
            source = await self.run(lambda: self.browser.page_source)
            pytest.fail(f"{message}: not shown at {await self.path()}:\n{source[:3000]}")

    async def path(self) -> str:
        url = str(await self.run(lambda: self.browser.current_url))
        return url.removeprefix(self.base)

    async def screenshot(self, name: str) -> None:
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        assert await self.run(self.browser.save_screenshot, str(ARTEFACTS / f"{name}.png"))

    async def sign_in(self, token: str) -> None:
        await self.open("/console")
        await self.until(lambda: self.browser.current_url.endswith("/sign-in"), "sign-in page")

        def submit() -> None:
            self.browser.find_element(By.ID, "token").send_keys(token)
            self.browser.find_element(By.CSS_SELECTOR, "form.sign-in button").click()

        await self.run(submit)

    def live(self) -> bool:
        return self.read("#live-state").startswith("Live")

    async def console_errors(self) -> list[str]:
        entries = await self.run(self.browser.get_log, "browser")
        return [str(e["message"]) for e in entries if e["level"] == "SEVERE"]


@pytest.fixture
async def page(chromium: webdriver.Chrome, served: str) -> AsyncIterator[Page]:
    browser = Page(chromium, served)
    await browser.run(chromium.delete_all_cookies)
    await browser.console_errors()  # reading the browser's log empties it: an earlier test's
    try:
        yield browser
    finally:
        # Leave the page first: its stream closes, and the server stops without waiting on it.
        await browser.open("/console/sign-in")
        await browser.run(chromium.delete_all_cookies)


async def test_the_overview_follows_a_booking_live_in_chromium(
    page: Page,
    suite: Suite,
    client: httpx.AsyncClient,
    clinic: dict[str, str],
    operator: dict[str, str],
) -> None:
    await page.open("/console")
    await page.until(lambda: page.browser.current_url.endswith("/sign-in"), "sign-in page")
    await page.screenshot("sign-in")
    await page.sign_in(operator["authorization"].removeprefix("Bearer "))
    await page.until(lambda: page.browser.current_url.endswith("/console"), "the overview")
    await page.until(page.live, "the overview's stream")
    assert await page.count("tr[data-service]") == 6  # every service, finance and engagement too
    assert await page.count('tr[data-projection="scheduling.appointments"]') == 1
    assert await page.count("tr[data-consumer]") > 0
    assert await page.text('[data-figure="scheduling.appointments.generation"]') == "1"
    await page.screenshot("overview")

    # A marker on the window: gone if the page were reloaded.
    await page.run(page.browser.execute_script, "window.notReloaded = true;")
    figure = '[data-figure="scheduling.appended"]'
    before = int(await page.text(figure))
    await register(client, "pat-1")
    booked = await client.post("/scheduling/appointments", json=booking(clinic))
    assert booked.status_code == 201, booked.text

    def moved() -> bool:
        return int(page.read(figure)) > before

    await page.until(moved, "the booking's events counted on the open page")
    assert await page.run(page.browser.execute_script, "return window.notReloaded === true;")
    await page.screenshot("overview-after-booking")

    await page.run(lambda: page.browser.find_element(By.LINK_TEXT, "Projections").click())
    await page.until(lambda: page.browser.current_url.endswith("/projections"), "projections")
    assert await page.count("tr[data-projection]") >= 30
    await page.until(page.live, "the projections page's stream")
    await page.screenshot("projections")
    # No script or style was refused by the Content-Security-Policy, nothing failed.
    assert await page.console_errors() == []

    await page.run(lambda: page.browser.find_element(By.CSS_SELECTOR, ".sign-out button").click())
    await page.until(lambda: page.browser.current_url.endswith("/sign-in"), "signed out")
    # Every stream the pages opened ended when they were left.
    counters = suite.metrics.counters

    def streams(what: str) -> int:
        return int(counters.get(f"medoffice_console_streams_{what}_total", {}).get((), 0))

    async def ended() -> bool:
        return streams("closed") == streams("opened")

    assert streams("opened") >= 2
    await wait_until(ended, message="every console stream to end")
    await page.open("/console")
    assert await page.path() == "/console/sign-in"


async def test_a_tenant_token_gets_the_refusal_page_in_chromium(
    page: Page, token_for: TokenFor
) -> None:
    await page.sign_in(token_for("admin")["authorization"].removeprefix("Bearer "))
    await page.until(lambda: "platform operators" in page.browser.page_source, "the refusal page")
    assert await page.text("h1") == "Not for this token"
    await page.screenshot("tenant-token-refused")
    await page.open("/console")
    assert await page.path() == "/console/sign-in"


async def test_a_dead_letter_appears_is_replayed_and_disappears_in_chromium(
    page: Page,
    suite: Suite,
    client: httpx.AsyncClient,
    operator: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await page.sign_in(operator["authorization"].removeprefix("Bearer "))
    await page.until(lambda: page.browser.current_url.endswith("/console"), "the overview")
    await page.run(lambda: page.browser.find_element(By.LINK_TEXT, "Dead letters").click())
    await page.until(page.live, "the dead-letter page's stream")
    assert await page.text("[data-dead-letters]") == "No dead letters: every record applied."

    # The directory projection refuses a site: its record turns up on the open page.
    hiccup = Hiccup(suite, monkeypatch)
    await register_site(client, "north")
    row = "tr[data-dead-letter]"

    def listed() -> bool:
        return "directory write refused" in page.read(row + " td:nth-of-type(4)")

    await page.until(listed, "the dead letter on the open page")
    await page.screenshot("dead-letter-listed")

    hiccup.healed = True
    await page.run(lambda: page.browser.find_element(By.CSS_SELECTOR, row + " a").click())
    await page.until(lambda: "Replay</button>" in page.browser.page_source, "its page")
    await page.screenshot("dead-letter-shown")
    await page.run(lambda: page.browser.find_element(By.CSS_SELECTOR, "form.replay button").click())
    await page.until(lambda: "settled." in page.read(".notice"), "back on the list, settled")
    await page.until(
        lambda: page.read("[data-dead-letters]").startswith("No dead letters"), "the empty list"
    )
    await page.screenshot("dead-letter-replayed")
    assert await page.console_errors() == []

    async def applied() -> bool:
        sites = (await client.get("/scheduling/sites")).json()
        return [s["site_id"] for s in sites] == ["north"]

    await wait_until(applied, message="the replayed site in the directory")


async def test_a_rebuild_progress_bar_advances_to_the_switch_in_chromium(
    page: Page, operator: dict[str, str], slow_directory: None
) -> None:
    await page.sign_in(operator["authorization"].removeprefix("Bearer "))
    await page.until(lambda: page.browser.current_url.endswith("/console"), "the overview")
    await page.run(lambda: page.browser.find_element(By.LINK_TEXT, "Rebuilds").click())
    await page.until(lambda: page.browser.current_url.endswith("/rebuilds"), "the rebuilds page")

    def start() -> None:
        choice = page.browser.find_element(By.CSS_SELECTOR, f'option[value="{DIRECTORY}"]')
        choice.click()
        page.browser.find_element(By.CSS_SELECTOR, "form.start-rebuild button").click()

    await page.run(start)
    await page.until(lambda: "/console/rebuilds/" in page.browser.current_url, "its page")
    await page.until(page.live, "the rebuild's stream")

    def bar() -> tuple[str, int, int]:
        script = (
            "const p = document.querySelector('#rebuild progress');"
            "const s = document.querySelector('#rebuild [data-status]');"
            "return [s && s.dataset.status, p && p.value, p && p.max];"
        )
        status, value, most = page.browser.execute_script(script)
        return str(status), int(value or 0), int(most or 0)

    def part_way() -> bool:
        status, value, most = bar()
        return status == "running" and 0 < value < most

    await page.until(part_way, "the progress bar part of the way")
    await page.screenshot("rebuild-running")
    await page.until(lambda: bar() == ("switched", SITES, SITES), "the bar full at the switch")
    await page.screenshot("rebuild-switched")
    assert await page.console_errors() == []
