"""Compliance alerts through the HTTP API on both backends: a licence about to expire, a
patient read by a provider of a site where the patient has no visit, and a ledger that no
longer verifies each raise one alert, however often their monitor runs; the compliance
officer acknowledges and resolves it with a note, auditors read it, others may not; filters by
site, monitor and open/closed; bad input is a 4xx problem."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.compliance.application.monitors import MonitorTimer
from services.compliance.domain import monitors as rules
from services.suite import Suite
from shared.settings import Settings
from tests.api.conftest import TokenFor, register
from tests.api.staffing_helpers import record_licence
from tests.api.test_audit_ledger import RawStore
from tests.api.test_bad_input import PROBLEM
from tests.support import wait_until

ALERTS = "/compliance/alerts"


@pytest.fixture
def auditor(token_for: TokenFor) -> dict[str, str]:
    return token_for("auditor")


@pytest.fixture
def officer(token_for: TokenFor) -> dict[str, str]:
    return token_for("compliance", sub="officer-1")


async def fire(suite: Suite, monitor: str) -> int:
    """One round of a timed monitor, as its timer runs it."""
    (timer,) = [
        w
        for w in suite.service("compliance").workers
        if isinstance(w, MonitorTimer) and w.name == f"compliance.monitor.{monitor}"
    ]
    return await timer.fire_due()


async def listed(
    client: httpx.AsyncClient, headers: dict[str, str], count: int, **params: Any
) -> list[dict[str, Any]]:
    """The alerts the filter finds, once there are `count` of them."""

    async def found() -> list[dict[str, Any]] | None:
        response = await client.get(ALERTS, headers=headers, params=params)
        assert response.status_code == 200, response.text
        alerts: list[dict[str, Any]] = response.json()
        return alerts if len(alerts) == count else None

    result = await wait_until(found, message=f"{count} alerts for {params}")
    assert result is not None
    return result


async def now_listed(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    response = await client.get(ALERTS, headers=headers, params=params)
    assert response.status_code == 200, response.text
    alerts: list[dict[str, Any]] = response.json()
    return alerts


async def test_an_expiring_licence_raises_one_alert_the_officer_acknowledges_and_resolves(
    client: httpx.AsyncClient,
    clinic: dict[str, str],
    suite: Suite,
    auditor: dict[str, str],
    officer: dict[str, str],
    token_for: TokenFor,
) -> None:
    await record_licence(client, "dr-a", "lic-soon", expires_on="2026-12-10")

    async def watched() -> int:
        return await fire(suite, "credentials")

    await wait_until(watched, message="the expiring licence found")
    assert await fire(suite, "credentials") == 0  # again: raised already
    (alert,) = await listed(client, auditor, 1, monitor=rules.CREDENTIAL_EXPIRING)
    assert alert["site"] == "north"
    assert alert["status"] == "open"
    assert alert["severity"] == "warning"
    assert alert["details"]["credential_id"] == "lic-soon"
    alert_id = alert["alert_id"]
    assert await listed(client, auditor, 1, site="north", status="open") == [alert]
    assert await now_listed(client, auditor, site="south") == []
    assert await now_listed(client, auditor, status="closed") == []

    # Readers: auditors and officers (tenant-wide), an admin of the site; not a clinician.
    assert (await client.get(f"{ALERTS}/{alert_id}", headers=officer)).status_code == 200
    north_admin = token_for("admin", sites=["north"])
    assert (await client.get(f"{ALERTS}/{alert_id}", headers=north_admin)).status_code == 200
    south_admin = token_for("admin", sites=["south"])
    assert (await client.get(f"{ALERTS}/{alert_id}", headers=south_admin)).status_code == 404
    forbidden = await client.get(ALERTS, headers=south_admin, params={"site": "north"})
    assert forbidden.status_code == 403
    assert (await client.get(ALERTS, headers=token_for("clinician"))).status_code == 403

    # Only the officer (or an admin) manages it; auditors change nothing.
    ack = f"{ALERTS}/{alert_id}/acknowledgement"
    assert (await client.post(ack, headers=auditor, json={})).status_code == 403
    assert (await client.post(ack, headers=south_admin, json={})).status_code == 404
    answer = await client.post(ack, headers=officer, json={"note": "asked dr-a to renew"})
    assert answer.status_code == 201, answer.text
    seen = await client.get(
        f"{ALERTS}/{alert_id}",
        headers=auditor,
        params={"after_version": answer.json()["stream_version"]},
    )
    assert seen.json()["status"] == "acknowledged"
    assert seen.json()["acknowledged_by"] == "officer-1"

    resolution = f"{ALERTS}/{alert_id}/resolution"
    blank = await client.post(resolution, headers=officer, json={"note": "  "})
    assert blank.status_code == 422
    assert blank.headers["content-type"] == PROBLEM
    done = await client.post(resolution, headers=officer, json={"note": "renewed to 2028"})
    assert done.status_code == 201, done.text
    again = await client.post(resolution, headers=officer, json={"note": "twice"})
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    closed = await client.get(
        f"{ALERTS}/{alert_id}",
        headers=auditor,
        params={"after_version": done.json()["stream_version"]},
    )
    assert closed.json()["status"] == "resolved"
    assert closed.json()["resolution"] == "renewed to 2028"
    assert await listed(client, auditor, 1, status="closed") == [closed.json()]
    assert await now_listed(client, auditor, status="open") == []
    assert await fire(suite, "credentials") == 0  # still expiring: resolved stays resolved


async def test_a_provider_reading_a_patient_never_seen_at_their_site_raises_one_alert(
    client: httpx.AsyncClient,
    clinic: dict[str, str],
    suite: Suite,
    auditor: dict[str, str],
    token_for: TokenFor,
) -> None:
    await register(client, "pat-1")
    # A token for every site (as a group-wide login may be): scheduling lets it read any
    # patient; compliance knows dr-a works at north only.
    dr_a = token_for("clinician", sub="dr-a")

    async def no_visit_alerts() -> list[dict[str, Any]] | None:
        # Read (again) until compliance has learnt dr-a's site: each read is one more record
        # of access, and still one alert.
        response = await client.get("/scheduling/patients/pat-1", headers=dr_a)
        if response.status_code == 404:
            return None  # not in scheduling's read model yet
        assert response.status_code == 200, response.text
        found = await client.get(ALERTS, headers=auditor, params={"monitor": "phi_read_no_visit"})
        alerts: list[dict[str, Any]] = found.json()
        return alerts or None

    alerts = await wait_until(no_visit_alerts, message="the no-visit alert")
    assert alerts is not None
    (alert,) = alerts
    assert alert["details"] == {"reader": "dr-a", "patient_id": "pat-1", "reader_sites": "north"}
    assert alert["site"] == "north"
    assert (await client.get("/scheduling/patients/pat-1", headers=dr_a)).status_code == 200
    await suite_settles(suite)
    assert len(await listed(client, auditor, 1, monitor="phi_read_no_visit")) == 1


async def suite_settles(suite: Suite) -> None:
    async def caught_up() -> bool:
        return await suite.behind() == 0

    await wait_until(caught_up, message="every consumer caught up")


async def test_a_ledger_that_no_longer_verifies_raises_one_alert(
    client: httpx.AsyncClient,
    clinic: dict[str, str],
    suite: Suite,
    settings: Settings,
    auditor: dict[str, str],
) -> None:
    await suite_settles(suite)
    assert await fire(suite, "ledger") == 0  # it verifies
    scheduling = RawStore(settings, "scheduling")
    [site] = [e for e in await scheduling.events() if e["type"].endswith(".SiteRegistered.v1")]
    await scheduling.edit(site["id"], lambda data: data.update(name="Elsewhere"))

    assert await fire(suite, "ledger") == 1
    assert await fire(suite, "ledger") == 0  # the same fault: the same alert
    (alert,) = await listed(client, auditor, 1, monitor=rules.LEDGER_UNVERIFIED)
    assert alert["severity"] == "critical"
    assert "scheduling's event store differs from the ledger" in alert["summary"]
    assert alert["site"] is None


async def test_bad_alert_queries_and_bodies_are_4xx_problems(
    client: httpx.AsyncClient, officer: dict[str, str], auditor: dict[str, str], suite: Suite
) -> None:
    for params in ({"status": "maybe"}, {"monitor": "No Such"}, {"limit": 0}, {"site": "a b"}):
        response = await client.get(ALERTS, headers=auditor, params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == PROBLEM
    missing = await client.post(f"{ALERTS}/nope-1/acknowledgement", headers=officer, json={})
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    assert (await client.get(f"{ALERTS}/nope-1", headers=auditor)).status_code == 404
    unknown_field = await client.post(
        f"{ALERTS}/nope-1/resolution", headers=officer, json={"note": "x", "by": "me"}
    )
    assert unknown_field.status_code == 422
    bad_id = await client.post(f"{ALERTS}/a%20b/resolution", headers=officer, json={"note": "x"})
    assert bad_id.status_code == 422
    ahead = await client.get(f"{ALERTS}/nope-1", headers=auditor, params={"after_version": 3})
    assert ahead.status_code == 422
