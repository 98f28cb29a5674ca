"""The operations console over HTTP: signing in with an operator token kept in a strict cookie,
who is refused and how, its pages and the stream that keeps them live, and /ops/services."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson

from services.suite import Suite
from shared.operations.console.session import COOKIE
from tests.api.conftest import TokenFor, booking, register

SERVICES = ["billing", "compliance", "engagement", "finance", "scheduling", "staffing"]


@contextlib.asynccontextmanager
async def browser_like(
    suite: Suite, base_url: str = "http://medoffice"
) -> AsyncIterator[httpx.AsyncClient]:
    """A client without a bearer header that keeps cookies, as a browser would."""
    transport = httpx.ASGITransport(app=suite.app)
    async with httpx.AsyncClient(transport=transport, base_url=base_url, timeout=60) as client:
        yield client


def bearer(headers: dict[str, str]) -> str:
    return headers["authorization"].removeprefix("Bearer ")


async def signed_in(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(
        "/console/sign-in",
        content=f"token={token}",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )


def cookie_attributes(response: httpx.Response) -> dict[str, str]:
    [header] = [h for h in response.headers.get_list("set-cookie") if h.startswith(COOKIE)]
    attributes = {}
    for part in header.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        attributes[name.lower()] = value
    return attributes


def overview_events(body: str) -> list[dict[str, Any]]:
    events = []
    for block in body.strip().split("\n\n"):
        lines = block.split("\n")
        assert lines[0] == "event: overview", block
        data: dict[str, Any] = orjson.loads(lines[1].removeprefix("data: "))
        events.append(data)
    return events


async def test_an_operator_signs_in_to_a_strict_http_only_cookie_and_out(
    suite: Suite, operator: dict[str, str]
) -> None:
    async with browser_like(suite) as browser:
        before = await browser.get("/console")
        assert before.status_code == 303
        assert before.headers["location"] == "/console/sign-in"
        form = await browser.get("/console/sign-in")
        assert form.status_code == 200
        assert 'name="token"' in form.text

        answer = await signed_in(browser, bearer(operator))
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/console"
        attributes = cookie_attributes(answer)
        assert "httponly" in attributes
        assert attributes["samesite"].lower() == "strict"
        assert attributes["path"] == "/console"
        assert 3500 <= int(attributes["max-age"]) <= 3600  # the operator token's hour
        assert "secure" not in attributes  # plain http here; see the https test

        page = await browser.get("/console")
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        for service in SERVICES:
            assert f'data-service="{service}"' in page.text
        assert 'data-projection="scheduling.appointments"' in page.text
        assert 'data-consumer="' in page.text
        projections = await browser.get("/console/projections")
        assert projections.status_code == 200
        assert 'data-figure="billing.claims.generation">1<' in projections.text

        out = await browser.post("/console/sign-out")
        assert out.status_code == 303
        assert out.headers["location"] == "/console/sign-in"
        assert cookie_attributes(out)["max-age"] == "0"
        assert (await browser.get("/console")).status_code == 303


async def test_every_console_page_carries_a_strict_content_security_policy(
    suite: Suite, operator: dict[str, str]
) -> None:
    async with browser_like(suite) as browser:
        await signed_in(browser, bearer(operator))
        for path in ("/console", "/console/projections", "/console/sign-in"):
            headers = (await browser.get(path)).headers
            policy = headers["content-security-policy"]
            assert "script-src 'self'" in policy
            assert "'unsafe-inline'" not in policy
            assert "frame-ancestors 'none'" in policy
            assert headers["x-frame-options"] == "DENY"
            assert headers["x-content-type-options"] == "nosniff"
        script = await browser.get("/console/static/console.js")
        assert script.status_code == 200
        assert script.headers["content-type"].startswith("text/javascript")
        assert (await browser.get("/console/static/secrets.txt")).status_code == 404


async def test_over_https_the_cookie_is_secure(suite: Suite, operator: dict[str, str]) -> None:
    async with browser_like(suite, "https://medoffice") as browser:
        answer = await signed_in(browser, bearer(operator))
        assert "secure" in cookie_attributes(answer)


async def test_tenant_tokens_bad_tokens_and_other_sites_are_refused(
    suite: Suite, operator: dict[str, str], token_for: TokenFor
) -> None:
    async with browser_like(suite) as browser:
        tenant_admin = await signed_in(browser, bearer(token_for("admin")))
        assert tenant_admin.status_code == 403
        assert "platform operators" in tenant_admin.text
        assert tenant_admin.headers.get("set-cookie") is None

        bad = await signed_in(browser, "not-a-token")
        assert bad.status_code == 401
        assert "not valid" in bad.text
        assert (await signed_in(browser, "")).status_code == 422

        # Another site's page posting a valid operator token (login CSRF) is refused.
        forged = await browser.post(
            "/console/sign-in",
            content=f"token={bearer(operator)}",
            headers={
                "content-type": "application/x-www-form-urlencoded",
                "origin": "https://evil.example",
            },
        )
        assert forged.status_code == 403
        assert forged.headers.get("set-cookie") is None

        # The console reads its cookie only: a bearer header is no session.
        assert (await browser.get("/console", headers=operator)).status_code == 303
        stream = await browser.get("/console/stream/overview", headers=operator)
        assert stream.status_code == 401

        # A tenant's token in the cookie (set by hand) gets the refusal page, stream included.
        tenant_cookie = {"cookie": f"{COOKIE}={bearer(token_for('admin'))}"}
        page = await browser.get("/console", headers=tenant_cookie)
        assert page.status_code == 403
        assert "platform operators" in page.text
        stream = await browser.get("/console/stream/overview", headers=tenant_cookie)
        assert stream.status_code == 403

        # An expired or forged token in the cookie: sign in again, and the cookie goes.
        again = await browser.get("/console/projections", headers={"cookie": f"{COOKIE}=forged"})
        assert again.status_code == 303
        assert cookie_attributes(again)["max-age"] == "0"


async def test_the_overview_stream_pushes_the_figures_a_booking_moves(
    suite: Suite,
    client: httpx.AsyncClient,
    clinic: dict[str, str],
    operator: dict[str, str],
) -> None:
    async with browser_like(suite) as browser:
        await signed_in(browser, bearer(operator))

        async def appended() -> int:
            stream = await browser.get("/console/stream/overview", params={"max_events": 1})
            assert stream.status_code == 200, stream.text
            assert stream.headers["content-type"].startswith("text/event-stream")
            [event] = overview_events(stream.text)
            assert set(event) == {"services", "projections", "consumers"}
            found = re.search(r'data-figure="scheduling.appended">(\d+)<', event["services"])
            assert found is not None, event["services"]
            return int(found.group(1))

        two = await browser.get("/console/stream/overview", params={"max_events": 2})
        assert len(overview_events(two.text)) == 2

        assert (await browser.get("/console/stream/overview?max_events=0")).status_code == 422
        before = await appended()
        await register(client, "pat-1")
        booked = await client.post("/scheduling/appointments", json=booking(clinic))
        assert booked.status_code == 201, booked.text
        assert await appended() > before
        counters = suite.metrics.counters
        opened = counters["medoffice_console_streams_opened_total"][()]
        assert opened == 3  # the 422 opened none
        assert counters["medoffice_console_streams_closed_total"][()] == opened


async def test_ops_services_reports_readiness_and_the_outbox_backlog(
    client: httpx.AsyncClient, operator: dict[str, str], token_for: TokenFor
) -> None:
    answer = await client.get("/ops/services", headers=operator)
    assert answer.status_code == 200, answer.text
    reports = {r["name"]: r for r in answer.json()}
    assert sorted(reports) == SERVICES
    scheduling = reports["scheduling"]
    assert scheduling["ready"] is True
    assert scheduling["checks"]["scheduling.event_store"] == "ok"
    assert scheduling["checks"]["scheduling.workers"] == "ok"
    assert isinstance(scheduling["unpublished_commits"], int)
    assert scheduling["unpublished_at_least"] is False
    assert isinstance(scheduling["events_appended"], int)
    refused = await client.get("/ops/services", headers=token_for("admin"))
    assert refused.status_code == 403
