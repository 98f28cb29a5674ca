"""The manager's KPI page in real Chromium (as tests/api/test_console_browser.py drives it):
sign in with a manager's token, the month's KPIs and their 12-month charts drawn by the
server, nothing refused by the page's Content-Security-Policy, sign out; a front desk's token
gets the refusal page. Screenshots go to var/test-artefacts/engagement-kpis/."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from services.suite import Suite
from shared.settings import Settings
from tests.api.conftest import TokenFor
from tests.api.test_console_browser import Page
from tests.api.test_console_browser import chromium as chromium  # the fixtures
from tests.api.test_console_browser import served as served
from tests.api.test_engagement_kpis import (
    MONTH,
    Recorder,
    counted,
    record_the_answers,
    record_the_money,
    record_the_month,
    record_the_staff,
)

ARTEFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artefacts" / "engagement-kpis"
DASHBOARD = "/engagement/dashboard"

pytestmark = pytest.mark.parametrize("settings", ["embedded"], indirect=True)


class KpiPage(Page):
    async def screenshot(self, name: str) -> None:
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        assert await self.run(self.browser.save_screenshot, str(ARTEFACTS / f"{name}.png"))

    async def sign_in(self, token: str) -> None:
        await self.open(DASHBOARD)
        await self.until(lambda: self.browser.current_url.endswith("/sign-in"), "sign-in page")

        def submit() -> None:
            self.browser.find_element(By.ID, "token").send_keys(token)
            self.browser.find_element(By.CSS_SELECTOR, "form.sign-in button").click()

        await self.run(submit)


@pytest.fixture
async def page(chromium: webdriver.Chrome, served: str) -> AsyncIterator[KpiPage]:
    browser = KpiPage(chromium, served)
    await browser.run(chromium.delete_all_cookies)
    await browser.console_errors()  # reading the browser's log empties it
    try:
        yield browser
    finally:
        await browser.run(chromium.delete_all_cookies)


async def test_a_manager_reads_the_months_kpis_and_their_trends_in_chromium(
    page: KpiPage, suite: Suite, settings: Settings, token_for: TokenFor
) -> None:
    record = Recorder(suite, settings)
    await record_the_month(record)
    await record_the_money(record)
    await record_the_staff(record)
    await record_the_answers(record)
    await counted(suite)

    await page.open(f"{DASHBOARD}?month={MONTH}")
    await page.until(lambda: page.browser.current_url.endswith("/sign-in"), "sign-in page")
    await page.screenshot("sign-in")
    await page.sign_in(token_for("manager")["authorization"].removeprefix("Bearer "))
    await page.until(lambda: page.browser.current_url.endswith(DASHBOARD), "the KPI page")
    assert await page.text("h1") == "Office KPIs"

    await page.open(f"{DASHBOARD}?month={MONTH}&site=north")
    await page.until(lambda: "2026-11, site north" in page.read("main h2"), "north's November")
    row = '[data-kpi="{}"] td'
    staff_heading = '[data-kpi="training_compliance"] th'
    assert await page.text(row.format("no_show_rate")) == "25.0 %"
    assert await page.text(row.format("wait_time")) == "12.0 min"
    assert await page.text(row.format("net_collection_rate")) == "97.8 %"
    assert await page.text(row.format("net_promoter_score")) == "33"
    assert await page.text(row.format("days_in_ar")) == "15.9 days"
    assert await page.text(row.format("third_next_available")) == "5.5 days"
    # Training and credentials are north's own, not marked as the tenant's.
    assert await page.text(row.format("training_compliance")) == "75.0 %"
    assert await page.text(staff_heading) == "Training compliance"
    assert await page.count("figure[data-chart] svg") == 12
    # November is the last of the twelve months, and the only one with figures.
    assert await page.count('[data-chart="no_show_rate"] circle') == 1
    assert await page.text('[data-chart="no_show_rate"] circle title') == "25.0"
    await page.screenshot("north-november")

    await page.open(f"{DASHBOARD}?month={MONTH}")
    await page.until(lambda: "all your sites" in page.read("main h2"), "the group's November")
    assert await page.text(row.format("no_show_rate")) == "20.0 %"
    assert await page.text(row.format("training_compliance")) == "57.1 %"
    assert await page.text(staff_heading) == "Training compliance (every site)"
    await page.screenshot("group-november")
    # No style or anything else was refused by the Content-Security-Policy; nothing failed.
    assert await page.console_errors() == []

    await page.run(lambda: page.browser.find_element(By.CSS_SELECTOR, "header button").click())
    await page.until(lambda: page.browser.current_url.endswith("/sign-in"), "signed out")
    await page.open(DASHBOARD)
    assert await page.path() == f"{DASHBOARD}/sign-in"


async def test_a_front_desk_token_gets_the_refusal_page_in_chromium(
    page: KpiPage, token_for: TokenFor
) -> None:
    await page.sign_in(token_for("front_desk")["authorization"].removeprefix("Bearer "))
    await page.until(lambda: "managers, auditors" in page.browser.page_source, "the refusal")
    assert await page.text("h1") == "Not for this token"
    await page.screenshot("front-desk-refused")
