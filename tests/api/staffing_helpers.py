"""Helpers for API tests that need staff: hire through staffing's HTTP API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from services.scheduling.domain import streams as scheduling_streams
from services.suite import Suite
from shared.events import Envelope
from tests.support import wait_until

# A valid NPI (10 digits, Luhn over the 80840 prefix) for tests that need one.
NPI = "1234567893"
FAMILY_MEDICINE = "207Q00000X"


async def hire_provider(
    client: httpx.AsyncClient,
    provider_id: str,
    site_ids: Sequence[str],
    name: str = "Dr. Test",
    npi: str | None = NPI,
    role: str = "physician",
    hired_on: str = "2026-01-05",
    **extra: Any,
) -> dict[str, Any]:
    """Hire a provider at `site_ids` through staffing (the client must be hr or admin), with
    provider details unless `npi` is None; answers the 201's body (`id`, `stream`,
    `stream_version`). `extra` goes into the body as is (say `personal`, `manager_id`)."""
    body: dict[str, Any] = {
        "employee_id": provider_id,
        "name": name,
        "title": "Physician" if role == "physician" else role.replace("_", " ").capitalize(),
        "role": role,
        "site_ids": list(site_ids),
        "fte": 1.0,
        "hired_on": hired_on,
        **extra,
    }
    if npi is not None:
        body["provider"] = {"npi": npi, "taxonomy_code": FAMILY_MEDICINE, "specialty": "Family"}
    response = await client.post("/staffing/employees", json=body)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


LICENCE_FROM, LICENCE_UNTIL = "2026-01-01", "2030-12-31"


async def record_licence(
    client: httpx.AsyncClient,
    employee_id: str,
    credential_id: str | None = None,
    issued_on: str = LICENCE_FROM,
    expires_on: str | None = LICENCE_UNTIL,
    state: str = "NY",
) -> str:
    """Record a state licence of the employee through staffing; answers its credential id."""
    body = {
        "credential_id": credential_id or f"licence-{employee_id}",
        "kind": "state_licence",
        "issuer": f"{state} State Education Department",
        "number": f"{state}-{employee_id}",
        "state": state,
        "issued_on": issued_on,
        "expires_on": expires_on,
    }
    response = await client.post(f"/staffing/employees/{employee_id}/credentials", json=body)
    assert response.status_code == 201, response.text
    answer: str = response.json()["id"]
    return answer


async def scheduling_knows(
    client: httpx.AsyncClient,
    provider_id: str,
    licence_ids: Sequence[str] = (),
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Wait, at most `timeout` seconds, until scheduling lists the provider with their NPI (if
    staffing has one) and each of `licence_ids`: it learnt them from staffing's events, which
    reach it asynchronously (across topics on Kafka). Answers the provider as listed."""

    async def listed() -> dict[str, Any]:
        response = await client.get("/scheduling/providers")
        assert response.status_code == 200, response.text
        for doc in response.json():
            if doc["provider_id"] == provider_id and set(licence_ids) <= set(
                doc.get("licence_ids", [])
            ):
                found: dict[str, Any] = doc
                return found
        return {}

    return await wait_until(
        listed,
        timeout=timeout,
        message=f"scheduling to learn provider {provider_id} and licences {list(licence_ids)}",
    )


async def hire_bookable(
    client: httpx.AsyncClient,
    provider_id: str,
    site_ids: Sequence[str],
    name: str = "Dr. Test",
    issued_on: str = LICENCE_FROM,
    expires_on: str | None = LICENCE_UNTIL,
    timeout: float = 30.0,
    scheduling: httpx.AsyncClient | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Hire a provider through staffing (`client`) with a state licence valid
    `issued_on`..`expires_on`, and wait until scheduling (`scheduling`, if served apart) has
    learnt both: then availability may be set and visits booked. `extra` goes to
    `hire_provider`. Answers the provider as scheduling lists them."""
    await hire_provider(client, provider_id, site_ids, name=name, **extra)
    licence_id = await record_licence(
        client, provider_id, issued_on=issued_on, expires_on=expires_on
    )
    return await scheduling_knows(scheduling or client, provider_id, [licence_id], timeout=timeout)


async def approve_time_off(
    client: httpx.AsyncClient, employee_id: str, start: str, end: str, kind: str = "other"
) -> str:
    """Ask for time off of the employee through staffing and approve it (the client must be
    hr or admin); answers the request's id."""
    body = {"kind": kind, "start": start, "end": end}
    asked = await client.post(f"/staffing/employees/{employee_id}/time-off", json=body)
    assert asked.status_code == 201, asked.text
    request_id: str = asked.json()["id"]
    approved = await client.post(f"/staffing/time-off/{request_id}/approve")
    assert approved.status_code == 200, approved.text
    return request_id


async def scheduling_learnt(
    suite: Suite,
    provider_id: str,
    fact: str,
    tenant: str = "acme",
    timeout: float = 30.0,
    **fields: Any,
) -> Envelope:
    """Wait, bounded, until scheduling's stream of the provider records a `fact` (an event
    type's name, say "ProviderTimeOffApproved") whose data has `fields`: the envelope, whose
    `stream` and `stream_version` a read-your-writes read may wait for."""
    store = suite.service("scheduling").event_store
    assert store is not None
    stream = scheduling_streams.provider(tenant, provider_id)

    async def recorded() -> list[Envelope]:
        return [
            envelope
            for envelope in await store.load(stream)
            if envelope.type.split(".")[2:3] == [fact]
            and all(envelope.data.get(k) == v for k, v in fields.items())
        ][:1]

    [envelope] = await wait_until(
        recorded, timeout=timeout, message=f"scheduling to record {fact} {fields} on {stream}"
    )
    return envelope
