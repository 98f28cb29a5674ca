"""Billing records a disclosure one way: every billing route that answers with patients' data
(charges, claims, their work queues, claim files) writes `PatientRecordAccessed` through
`Disclosures` onto one stream shape (`{tenant}:record-access:{id}`), so a second recorder
creeping back fails here; disclosures stored by the old claims recorder on `claims-access`
streams still decode and still reach compliance's audit log."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.billing.domain import streams
from services.billing.domain.access import access
from services.billing.domain.claims import claim_id_for
from services.billing.domain.events import PatientRecordAccessed
from services.suite import Suite
from shared.domain import RecordAccess
from shared.settings import Settings
from tests.api.conftest import ShiftedClock, TokenFor
from tests.billing_claim_facts import AT, Facts, suite_facts
from tests.support import wait_until


@pytest.fixture
async def facts(suite: Suite, settings: Settings, clock: ShiftedClock) -> Facts:
    facts = await suite_facts(suite, settings, clock)
    await facts.clinic("north", "aetna")
    await facts.patient("pat-1")
    await facts.coverage("pat-1", "aetna")
    return facts


async def disclosures(suite: Suite) -> list[tuple[str, str]]:
    """(stream, endpoint) of every PatientRecordAccessed billing's store holds."""
    store = suite.service("billing").event_store
    assert store is not None
    return [
        (c.stream, e.data["endpoint"])
        for c in await store.read_all()
        for e in c.events
        if e.type == PatientRecordAccessed.type_name()
    ]


async def test_every_disclosing_route_writes_the_one_stream_shape(
    client: httpx.AsyncClient, suite: Suite, facts: Facts, token_for: TokenFor
) -> None:
    who = token_for("biller")
    await facts.charge("appt-1", "pat-1")
    claim_id = claim_id_for("appt-1")

    async def ready() -> Any:
        response = await client.get(f"/billing/claims/{claim_id}", headers=who)
        return response.status_code == 200 and response.json()["status"] == "ready" or None

    await wait_until(ready, message="the claim ready")

    async def charge_listed() -> Any:
        response = await client.get("/billing/charges", headers=who)
        return response.json()["charges"] or None

    await wait_until(charge_listed, message="the charge listed")
    made = await client.post("/billing/claim-files", json={"payer_id": "aetna"}, headers=who)
    assert made.status_code == 201, made.text
    [one] = made.json()["files"]
    endpoints = {
        "/billing/charges",
        "/billing/charges/appt-1",
        "/billing/claims",
        f"/billing/claims/{claim_id}",
        f"/billing/claim-files/{one['id']}/x12",
    }
    for endpoint in sorted(endpoints):
        response = await client.get(endpoint, headers=who)
        assert response.status_code == 200, (endpoint, response.text)

    found = await disclosures(suite)
    assert endpoints <= {endpoint for _, endpoint in found}
    prefix = streams.record_access(facts.tenant, "")
    assert [s for s, _ in found if not s.startswith(prefix)] == []


async def test_a_disclosure_on_an_old_claims_access_stream_still_reaches_the_audit_log(
    client: httpx.AsyncClient, suite: Suite, facts: Facts
) -> None:
    old = f"{facts.tenant}:claims-access:before-one-recorder"
    command = RecordAccess(
        patient_ids=("pat-1",),
        endpoint="/billing/claims",
        purpose=None,
        outcome="disclosed",
        accessed_at=AT,
    )
    await facts.handler.handle(
        old, access, command, facts.meta, subject=lambda e: getattr(e, "patient_id", None)
    )
    assert (old, "/billing/claims") in await disclosures(suite)

    async def in_the_log() -> Any:
        entries: list[dict[str, Any]] = (
            await client.get(
                "/compliance/audit-log", params={"type": PatientRecordAccessed.type_name()}
            )
        ).json()
        return [e for e in entries if e["stream"] == old] or None

    [entry] = await wait_until(in_the_log, message="the old disclosure in the audit log")
    assert entry["subject"] == "pat-1"
