"""Booking and cancelling through the HTTP API, with read-your-writes on the schedule."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from services.suite import Suite
from tests.api.conftest import booking, post_ok, register
from tests.support import ACCESS, wait_until


async def test_a_booking_shows_on_the_providers_schedule_when_asked_for_its_version(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-1")
    booked = await post_ok(client, "/scheduling/appointments", booking(clinic))
    assert booked["stream"] == "acme:site-day:north:2026-12-01"

    response = await client.get(
        "/scheduling/providers/dr-a/schedule/2026-12-01",
        params={"after_stream": booked["stream"], "after_version": booked["stream_version"]},
    )

    assert response.status_code == 200
    [appointment] = response.json()["appointments"]
    assert appointment["appointment_id"] == booked["id"]
    assert appointment["start"] == "2026-12-01T14:00:00Z"
    assert appointment["end"] == "2026-12-01T14:30:00Z"
    assert appointment["status"] == "booked"


async def test_cancel_frees_the_slot(client: httpx.AsyncClient, clinic: dict[str, str]) -> None:
    await register(client, "pat-1")
    first = await post_ok(client, "/scheduling/appointments", booking(clinic))
    clash = await client.post("/scheduling/appointments", json=booking(clinic))
    assert clash.status_code == 409
    assert clash.headers["content-type"] == "application/problem+json"

    cancelled = await client.post(
        f"/scheduling/appointments/{first['id']}/cancel", json={"reason": "patient called"}
    )
    assert cancelled.status_code == 200, cancelled.text
    again = await client.post(
        f"/scheduling/appointments/{first['id']}/cancel", json={"reason": "twice"}
    )
    assert again.status_code == 409

    rebooked = await post_ok(client, "/scheduling/appointments", booking(clinic))
    schedule = (
        await client.get(
            "/scheduling/providers/dr-a/schedule/2026-12-01",
            params={
                "after_stream": rebooked["stream"],
                "after_version": rebooked["stream_version"],
            },
        )
    ).json()
    assert [(a["appointment_id"], a["status"]) for a in schedule["appointments"]] == [
        (first["id"], "cancelled"),
        (rebooked["id"], "booked"),
    ]

    async def cancelled_in_its_read_model() -> bool:
        # Another projection than the schedule's: it may be a moment behind on Kafka.
        details = await client.get(f"/scheduling/appointments/{first['id']}")
        return bool(details.json()["status"] == "cancelled")

    await wait_until(cancelled_in_its_read_model, message="the cancellation on the appointment")


async def test_fifty_concurrent_bookings_of_one_slot_give_one_success(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite
) -> None:
    await register(client, *(f"pat-{n}" for n in range(50)))
    requests = [
        client.post("/scheduling/appointments", json=booking(clinic, patient_id=f"pat-{n}"))
        for n in range(50)
    ]
    statuses = sorted(r.status_code for r in await asyncio.gather(*requests))

    assert statuses == [201] + [409] * 49
    store = suite.service("scheduling").event_store
    assert store is not None
    events = await store.load("acme:site-day:north:2026-12-01")
    assert len(events) == 1


async def test_the_audit_log_holds_every_event(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-1")
    booked = await post_ok(client, "/scheduling/appointments", booking(clinic))

    async def logged() -> list[dict[str, object]]:
        entries: list[dict[str, object]] = (
            await client.get("/compliance/audit-log", params={"subject": booked["id"]})
        ).json()
        return entries

    [entry] = await wait_until(logged, message="the booking in the audit log")
    assert entry["type"] == "medoffice.scheduling.AppointmentBooked.v1"
    assert entry["actor"] == "tester"
    assert entry["stream"] == booked["stream"]

    async def everything() -> bool:
        entries = (await client.get("/compliance/audit-log", params={"limit": 1000})).json()
        # Site, room, visit type, template, patient, booking, and what scheduling learnt of the
        # provider staffing hired (hire, NPI, licence): on Kafka, streams on other partitions
        # may arrive after the booking. Staffing's own entries are not counted here.
        return len([e for e in entries if ".scheduling." in e["type"]]) == 9

    await wait_until(everything, message="scheduling's nine audit entries")


async def test_another_tenant_sees_nothing(
    client: httpx.AsyncClient, clinic: dict[str, str], token_for: object
) -> None:
    await register(client, "pat-1")
    booked = await post_ok(client, "/scheduling/appointments", booking(clinic))
    assert callable(token_for)
    other = token_for("admin", tenant="globex")
    response = await client.get(f"/scheduling/appointments/{booked['id']}", headers=other)
    assert response.status_code == 404
    assert (await client.get("/scheduling/sites", headers=other)).json() == []


async def test_reading_a_patients_appointment_is_on_the_record(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-1")
    booked = await post_ok(client, "/scheduling/appointments", booking(clinic))

    async def read() -> bool:
        response = await client.get(
            f"/scheduling/appointments/{booked['id']}", headers={"x-purpose-of-use": "TREAT"}
        )
        return response.status_code == 200

    await wait_until(read, message="the appointment in its read model")

    async def accesses() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (
            await client.get("/compliance/audit-log", params={"subject": "pat-1", "type": ACCESS})
        ).json()
        return found

    [entry] = await wait_until(accesses, message="the record of the read")
    assert entry["actor"] == "tester"
    assert entry["data"]["endpoint"] == f"/scheduling/appointments/{booked['id']}"
    assert entry["data"]["purpose"] == "TREAT"
    assert entry["data"]["outcome"] == "disclosed"


async def test_reading_a_schedule_records_each_patient_on_it(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-a", "pat-b")
    first = await post_ok(client, "/scheduling/appointments", booking(clinic, patient_id="pat-a"))
    await post_ok(
        client,
        "/scheduling/appointments",
        booking(clinic, patient_id="pat-b", start="2026-12-01T10:00:00-05:00"),
    )
    schedule = await client.get(
        "/scheduling/providers/dr-a/schedule/2026-12-01",
        params={"after_stream": first["stream"], "after_version": first["stream_version"] + 1},
    )
    assert len(schedule.json()["appointments"]) == 2

    async def accesses() -> list[dict[str, Any]] | None:
        found: list[dict[str, Any]] = (
            await client.get("/compliance/audit-log", params={"type": ACCESS})
        ).json()
        return found if len(found) >= 2 else None

    entries = await wait_until(accesses, message="the records of the read")
    assert entries is not None
    assert sorted(e["subject"] for e in entries) == ["pat-a", "pat-b"]
    assert len({e["stream"] for e in entries}) == 1  # one commit for the whole response
