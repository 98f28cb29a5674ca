"""The console's dead-letter pages over HTTP: a record a projection could not apply is listed
(and pushed live), inspected, replayed from a form and gone from the list, applied once;
another is discarded with a reason; forms from elsewhere, without a reason or for nothing are
refused with a page that says why. Every replay and discard carries the operator's name."""

from __future__ import annotations

import re
from typing import Any

import httpx
import orjson
import pytest

from services.suite import Suite
from tests.api.conftest import TokenFor
from tests.api.test_console import bearer, browser_like, signed_in
from tests.api.test_dead_letters import SITE_REGISTERED, Hiccup, letters, register_site
from tests.support import settled, wait_until

FORM = {"content-type": "application/x-www-form-urlencoded"}


async def dead_letter_of(
    client: httpx.AsyncClient, operator: dict[str, str], site_id: str
) -> dict[str, Any]:
    """The dead letter of `site_id`'s registration, once listed."""

    async def listed() -> list[dict[str, Any]]:
        found = await letters(client, operator, context="scheduling")
        return [x for x in found if x["type"] == SITE_REGISTERED and x["stream"].endswith(site_id)]

    [letter] = await wait_until(listed, message=f"{site_id}'s dead letter")
    return letter


def rows(html: str) -> list[str]:
    return re.findall(r'data-dead-letter="([^"]+)"', html)


async def test_a_dead_letter_is_listed_inspected_replayed_from_a_form_and_gone(
    suite: Suite,
    client: httpx.AsyncClient,
    operator: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hiccup = Hiccup(suite, monkeypatch)
    await register_site(client, "north")
    letter = await dead_letter_of(client, operator, "north")

    async with browser_like(suite) as browser:
        assert (await signed_in(browser, bearer(operator))).status_code == 303
        listing = await browser.get("/console/dead-letters")
        assert listing.status_code == 200, listing.text
        assert rows(listing.text) == [letter["id"]]
        assert "directory write refused: disk quota" in listing.text
        assert 'action="/console/dead-letters/replay"' in listing.text  # replay all, per context

        stream = await browser.get("/console/stream/dead-letters", params={"max_events": 1})
        assert stream.status_code == 200
        event, data = stream.text.strip().split("\n")
        assert event == "event: dead-letters"
        assert rows(orjson.loads(data.removeprefix("data: "))["dead-letters"]) == [letter["id"]]

        page = await browser.get(f"/console/dead-letters/{letter['id']}")
        assert page.status_code == 200, page.text
        assert SITE_REGISTERED in page.text
        assert f'action="/console/dead-letters/{letter["id"]}/replay"' in page.text
        assert f'action="/console/dead-letters/{letter["id"]}/discard"' in page.text

        # A form posted from another site's page replays nothing.
        forged = await browser.post(
            f"/console/dead-letters/{letter['id']}/replay",
            headers={"origin": "https://evil.example"},
        )
        assert forged.status_code == 403
        shown = await client.get(f"/ops/dead-letters/{letter['id']}", headers=operator)
        assert shown.json()["state"] == "dead"

        hiccup.healed = True
        replayed = await browser.post(f"/console/dead-letters/{letter['id']}/replay")
        assert replayed.status_code == 303
        assert replayed.headers["location"] == f"/console/dead-letters?settled={letter['id']}"
        await settled(suite)
        after = await browser.get(replayed.headers["location"])
        assert rows(after.text) == []
        assert f"Dead letter {letter['id']} settled." in after.text

    shown = (await client.get(f"/ops/dead-letters/{letter['id']}", headers=operator)).json()
    assert shown["state"] == "replayed"
    assert [h["operator"] for h in shown["history"]] == ["ops"]
    sites = (await client.get("/scheduling/sites")).json()
    assert [s["site_id"] for s in sites] == ["north"]


async def test_a_dead_letter_is_discarded_with_a_reason_and_bad_forms_are_refused(
    suite: Suite,
    client: httpx.AsyncClient,
    operator: dict[str, str],
    token_for: TokenFor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    Hiccup(suite, monkeypatch)
    await register_site(client, "south")
    letter = await dead_letter_of(client, operator, "south")
    discard = f"/console/dead-letters/{letter['id']}/discard"

    async with browser_like(suite) as browser:
        # Without a cookie: sent to sign in, nothing discarded.
        unsigned = await browser.post(discard, content="reason=x", headers=FORM)
        assert unsigned.status_code == 303
        assert unsigned.headers["location"] == "/console/sign-in"

        await signed_in(browser, bearer(operator))
        for body, status in (("", 422), ("reason=+", 422), (f"reason={'x' * 501}", 422)):
            refused = await browser.post(discard, content=body, headers=FORM)
            assert refused.status_code == status, refused.text
            assert "Give a reason of 1 to 500 characters" in refused.text
        nothing = await browser.post(
            "/console/dead-letters/scheduling.0.999999/discard", content="reason=x", headers=FORM
        )
        assert nothing.status_code == 404
        assert "No dead letter scheduling.0.999999" in nothing.text
        nowhere = await browser.post(
            "/console/dead-letters/replay", content="context=nowhere", headers=FORM
        )
        assert nowhere.status_code == 422

        done = await browser.post(discard, content="reason=test+site+refused", headers=FORM)
        assert done.status_code == 303
        again = await browser.post(discard, content="reason=again", headers=FORM)
        assert again.status_code == 409
        assert "discarded already" in again.text
        page = await browser.get(f"/console/dead-letters/{letter['id']}")
        assert "Replay</button>" not in page.text  # a discarded letter is never replayed
        assert "test site refused" in page.text

    shown = (await client.get(f"/ops/dead-letters/{letter['id']}", headers=operator)).json()
    assert shown["state"] == "discarded"
    assert shown["history"][0]["reason"] == "test site refused"
    assert shown["history"][0]["operator"] == "ops"

    # A tenant's admin is refused at sign-in, so holds no cookie: its forms go to sign in.
    async with browser_like(suite) as tenant:
        assert (await signed_in(tenant, bearer(token_for("admin")))).status_code == 403
        refused = await tenant.post(
            "/console/dead-letters/replay", content="context=scheduling", headers=FORM
        )
        assert refused.status_code == 303
        assert refused.headers["location"] == "/console/sign-in"
