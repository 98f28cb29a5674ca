"""Engagement sends an appointment's messages when due, through the delivery timer (fired by
the test, with the suite's clock moved forward), once per appointment and threshold: never for
a cancelled or moved appointment, nothing once the patient opts out. With no server configured
(these tests) a message goes to the outbox, which `GET /engagement/outbox` shows. On both
backends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from services.engagement.application.delivery import DeliveryTimer
from services.suite import Suite
from tests.api.conftest import ShiftedClock, booking, post_ok
from tests.support import settled, wait_until

PROBLEM = "application/problem+json"


def timer_of(suite: Suite) -> DeliveryTimer:
    return next(w for w in suite.service("engagement").workers if isinstance(w, DeliveryTimer))


async def patient(client: httpx.AsyncClient, patient_id: str, channel: str = "email") -> None:
    body = {
        "patient_id": patient_id,
        "name": f"Name of {patient_id}",
        "birth_date": "1970-01-01",
        "email": f"{patient_id}@example.org",
        "phone": "+15550100",
    }
    await post_ok(client, "/scheduling/patients", body)
    response = await client.put(
        f"/engagement/patients/{patient_id}/consent/{channel}", json={"opted_in": True}
    )
    assert response.status_code == 200, response.text


async def planned(client: httpx.AsyncClient, appointment_id: str, count: int) -> dict[str, Any]:
    async def probe() -> dict[str, Any]:
        response = await client.get(f"/engagement/appointments/{appointment_id}/messages")
        body: dict[str, Any] = response.json() if response.status_code == 200 else {}
        return body if len(body.get("messages", [])) == count else {}

    return await wait_until(probe, timeout=30, message=f"{count} messages of {appointment_id}")


async def statuses(client: httpx.AsyncClient, appointment_id: str) -> dict[str, str]:
    response = await client.get(f"/engagement/appointments/{appointment_id}/messages")
    assert response.status_code == 200, response.text
    return {m["purpose"]: m["status"] for m in response.json()["messages"]}


async def outbox(client: httpx.AsyncClient, patient_id: str) -> list[dict[str, Any]]:
    response = await client.get("/engagement/outbox", params={"patient_id": patient_id})
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


async def booked_and_planned(
    client: httpx.AsyncClient, suite: Suite, clinic: dict[str, str], patient_id: str = "pat-1"
) -> str:
    await patient(client, patient_id)
    made = await post_ok(client, "/scheduling/appointments", booking(clinic, patient_id=patient_id))
    await planned(client, made["id"], 3)
    await settled(suite)  # the deliveries, contacts and sites read models hold it
    return str(made["id"])


async def test_each_message_goes_once_when_due(
    client: httpx.AsyncClient, suite: Suite, clinic: dict[str, str], clock: ShiftedClock
) -> None:
    appointment_id = await booked_and_planned(client, suite, clinic)
    timer = timer_of(suite)

    assert await timer.fire_due() == 1  # the confirmation, due at once
    await settled(suite)
    assert await timer.fire_due() == 0  # sent: never again
    clock.shift = timedelta(days=2, hours=1)  # past the 72-hour reminder (28 Nov 14:00 UTC)
    assert await timer.fire_due() == 1
    await settled(suite)
    assert await timer.fire_due() == 0

    assert await statuses(client, appointment_id) == {
        "confirmation": "sent",
        "reminder_72h": "sent",
        "reminder_24h": "scheduled",
    }
    held = await outbox(client, "pat-1")
    assert [m["to"] for m in held] == ["pat-1@example.org"] * 2
    reminder = "Reminder: your appointment at North on Tue 01 Dec 2026 at 09:00. Confirm: "
    assert held[1]["text"].startswith(reminder)
    assert "/engagement/links/acme/" in held[1]["text"]  # signed confirm and cancel links
    assert held[0]["text"].startswith("You are booked: your appointment at North")
    for message in held:  # the least PHI: no visit type, no provider
        assert "ollow" not in message["text"]
        assert "Dr" not in message["text"]


async def test_a_cancelled_appointment_gets_no_reminder_even_when_cancelled_as_it_is_due(
    client: httpx.AsyncClient, suite: Suite, clinic: dict[str, str], clock: ShiftedClock
) -> None:
    appointment_id = await booked_and_planned(client, suite, clinic)
    clock.shift = timedelta(days=2, hours=1)  # the confirmation and 72-hour reminder both due
    # Cancelled as the timer is about to fire: the deliveries read model still lists them due.
    cancelled = await client.post(
        f"/scheduling/appointments/{appointment_id}/cancel", json={"reason": "x"}
    )
    assert cancelled.status_code == 200, cancelled.text

    async def stopped() -> bool:
        return (await statuses(client, appointment_id)).get("reminder_72h") == "cancelled"

    await wait_until(stopped, message="the reminders cancelled")
    await timer_of(suite).fire_due()
    await settled(suite)
    await timer_of(suite).fire_due()

    after = await statuses(client, appointment_id)
    assert after["reminder_72h"] == after["reminder_24h"] == "cancelled"
    texts = [m["text"] for m in await outbox(client, "pat-1")]
    assert not any(t.startswith("Reminder") for t in texts)
    assert any(t.startswith("Cancelled") for t in texts)


async def test_a_moved_appointment_gets_its_reminder_for_the_new_time_only(
    client: httpx.AsyncClient, suite: Suite, clinic: dict[str, str], clock: ShiftedClock
) -> None:
    appointment_id = await booked_and_planned(client, suite, clinic)
    moved = await client.post(
        f"/scheduling/appointments/{appointment_id}/reschedule",
        json={"start": "2026-12-01T11:00:00-05:00"},
    )
    assert moved.status_code == 200, moved.text
    await planned(client, appointment_id, 6)
    await settled(suite)
    clock.shift = timedelta(days=4, hours=3)  # past both 24-hour reminders (14:00 and 16:00 UTC)

    await timer_of(suite).fire_due()
    await settled(suite)
    await timer_of(suite).fire_due()

    reminders = [
        m["text"].split(" Confirm: ")[0]  # without its signed links
        for m in await outbox(client, "pat-1")
        if "Reminder" in m["text"]
    ]
    assert reminders == [
        "Reminder: your appointment at North on Tue 01 Dec 2026 at 11:00.",
        "Reminder: your appointment at North on Tue 01 Dec 2026 at 11:00.",
    ]  # the 72- and 24-hour ones, each once, for 11:00, none for 9:00


async def test_nothing_goes_after_an_opt_out(
    client: httpx.AsyncClient, suite: Suite, clinic: dict[str, str], clock: ShiftedClock
) -> None:
    appointment_id = await booked_and_planned(client, suite, clinic)
    out = await client.put("/engagement/patients/pat-1/consent/email", json={"opted_in": False})
    assert out.status_code == 200, out.text
    clock.shift = timedelta(days=4, hours=1)

    assert await timer_of(suite).fire_due() == 0
    await settled(suite)

    assert set((await statuses(client, appointment_id)).values()) == {"cancelled"}
    assert await outbox(client, "pat-1") == []


async def test_the_outbox_refuses_bad_input_and_auditors_read_it(
    client: httpx.AsyncClient, token_for: Any
) -> None:
    for params in ({}, {"patient_id": "bad id"}):
        response = await client.get("/engagement/outbox", params=params)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == PROBLEM
    read = await client.get(
        "/engagement/outbox", params={"patient_id": "pat-9"}, headers=token_for("auditor")
    )
    assert read.status_code == 200, read.text
    assert read.json() == {"patient_id": "pat-9", "messages": []}
