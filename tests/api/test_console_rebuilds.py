"""The console's rebuild pages over HTTP: an operator starts a rebuild from a form and follows
its progress (pushed live) to the switch; another is cancelled from its page; forms from
elsewhere, for unknown projections or ended rebuilds are refused with a page that says why."""

from __future__ import annotations

import re
from typing import Any

import httpx
import orjson

from services.suite import Suite
from tests.api.test_console import bearer, browser_like, signed_in
from tests.api.test_rebuilds import DIRECTORY, SITES, job
from tests.api.test_rebuilds import slow_directory as slow_directory  # the fixture
from tests.support import wait_until

FORM = {"content-type": "application/x-www-form-urlencoded"}


async def ended(client: httpx.AsyncClient, operator: dict[str, str], job_id: str) -> dict[str, Any]:
    async def done() -> dict[str, Any] | None:
        found = await job(client, operator, job_id)
        return found if found["status"] != "running" else None

    finished = await wait_until(done, timeout=60, message="the rebuild to end")
    assert finished is not None
    return finished


async def test_a_rebuild_started_from_a_form_is_followed_to_its_switch(
    suite: Suite,
    client: httpx.AsyncClient,
    operator: dict[str, str],
    slow_directory: None,
) -> None:
    async with browser_like(suite) as browser:
        await signed_in(browser, bearer(operator))
        listing = await browser.get("/console/rebuilds")
        assert listing.status_code == 200, listing.text
        assert f'<option value="{DIRECTORY}">' in listing.text
        assert "No rebuild started yet." in listing.text

        started = await browser.post(
            "/console/rebuilds", content=f"projection={DIRECTORY}", headers=FORM
        )
        assert started.status_code == 303, started.text
        location = started.headers["location"]
        [job_id] = re.findall(r"^/console/rebuilds/([0-9a-f]{32})$", location)
        page = await browser.get(location)
        assert page.status_code == 200, page.text
        assert f"Rebuild of {DIRECTORY}" in page.text
        assert f'action="/console/rebuilds/{job_id}/cancel"' in page.text

        # A second start while it runs is refused with the list saying why.
        twice = await browser.post(
            "/console/rebuilds", content=f"projection={DIRECTORY}", headers=FORM
        )
        assert twice.status_code == 409
        assert "already" in twice.text

        finished = await ended(client, operator, job_id)
        assert finished["status"] == "switched"
        assert finished["started_by"] == "ops"
        stream = await browser.get(f"/console/stream/rebuilds/{job_id}", params={"max_events": 1})
        event, data = stream.text.strip().split("\n")
        assert event == "event: rebuild"
        shown = orjson.loads(data.removeprefix("data: "))["rebuild"]
        assert 'data-status="switched"' in shown
        assert f'value="{SITES}" max="{SITES}"' in shown
        listed = await browser.get("/console/stream/rebuilds", params={"max_events": 1})
        event, data = listed.text.strip().split("\n")
        assert event == "event: rebuilds"
        assert f'data-rebuild="{job_id}"' in orjson.loads(data.removeprefix("data: "))["rebuilds"]

        # It has ended: cancelling it is refused on its page.
        late = await browser.post(f"/console/rebuilds/{job_id}/cancel")
        assert late.status_code == 409
        assert "switched" in late.text


async def test_a_rebuild_is_cancelled_from_its_page_and_bad_forms_are_refused(
    suite: Suite,
    client: httpx.AsyncClient,
    operator: dict[str, str],
    slow_directory: None,
) -> None:
    async with browser_like(suite) as browser:
        await signed_in(browser, bearer(operator))
        unknown = await browser.post("/console/rebuilds", content="projection=nope", headers=FORM)
        assert unknown.status_code == 422
        assert "No projection &#x27;nope&#x27; here." in unknown.text
        forged = await browser.post(
            "/console/rebuilds",
            content=f"projection={DIRECTORY}",
            headers={**FORM, "origin": "https://evil.example"},
        )
        assert forged.status_code == 403
        nothing = "0" * 32
        assert (await browser.get(f"/console/rebuilds/{nothing}")).status_code == 404
        assert (await browser.post(f"/console/rebuilds/{nothing}/cancel")).status_code == 404
        assert (await browser.get("/console/rebuilds/not-a-job")).status_code == 422

        started = await browser.post(
            "/console/rebuilds", content=f"projection={DIRECTORY}", headers=FORM
        )
        job_id = started.headers["location"].rsplit("/", 1)[-1]
        cancelled = await browser.post(f"/console/rebuilds/{job_id}/cancel")
        assert cancelled.status_code == 303
        assert cancelled.headers["location"] == f"/console/rebuilds/{job_id}"

    finished = await ended(client, operator, job_id)
    assert finished["status"] == "cancelled", finished
    assert finished["cancelled_by"] == "ops"
    # Nothing else was started: the forged form and the unknown projection wrote no job.
    recent = (await client.get("/ops/rebuilds", headers=operator)).json()
    assert [r["id"] for r in recent] == [job_id]
