"""Engagement plans an appointment's messages from scheduling's bookings, moves and
cancellations, on the channel the patient consented to, and reads them back with the least
PHI; a patient's consent is read and changed through the API. On both backends."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import TokenFor, booking, post_ok, register
from tests.support import wait_until

PROBLEM = "application/problem+json"


async def opt(client: httpx.AsyncClient, patient_id: str, channel: str, opted_in: bool) -> Any:
    response = await client.put(
        f"/engagement/patients/{patient_id}/consent/{channel}", json={"opted_in": opted_in}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def messages_once(
    client: httpx.AsyncClient, appointment_id: str, check: Any
) -> dict[str, Any]:
    """The appointment's messages, once engagement has learnt what `check` waits for."""

    async def probe() -> dict[str, Any]:
        response = await client.get(f"/engagement/appointments/{appointment_id}/messages")
        if response.status_code == 404:
            return {}
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body if check(body) else {}

    return await wait_until(probe, timeout=30, message=f"messages of {appointment_id}")


def by_purpose(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["purpose"]: m for m in body["messages"]}


async def test_a_booking_plans_its_confirmation_and_reminders_once_on_the_consented_channel(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-1")
    await opt(client, "pat-1", "sms", True)
    made = await post_ok(client, "/scheduling/appointments", booking(clinic))

    body = await messages_once(client, made["id"], lambda b: len(b["messages"]) == 3)

    planned = by_purpose(body)
    assert set(planned) == {"confirmation", "reminder_72h", "reminder_24h"}
    assert {m["channel"] for m in planned.values()} == {"sms"}
    assert {m["status"] for m in planned.values()} == {"scheduled"}
    # 9:00 New York on 1 December: 72 and 24 hours before, to the minute.
    assert planned["reminder_72h"]["due_at"] == "2026-11-28T14:00:00+00:00"
    assert planned["reminder_24h"]["due_at"] == "2026-11-30T14:00:00+00:00"
    # The least PHI: ids, purpose, channel, status and times; no visit type, provider, text.
    assert set(body) == {
        "appointment_id",
        "patient_id",
        "site_id",
        "start",
        "cancelled",
        "messages",
    }
    assert "follow-up" not in str(body)
    assert "dr-a" not in str(body)


async def test_a_cancellation_cancels_the_pending_messages_and_plans_its_notice(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-1")
    await opt(client, "pat-1", "email", True)
    made = await post_ok(client, "/scheduling/appointments", booking(clinic))
    await messages_once(client, made["id"], lambda b: len(b["messages"]) == 3)

    cancelled = await client.post(
        f"/scheduling/appointments/{made['id']}/cancel", json={"reason": "feels better"}
    )
    assert cancelled.status_code == 200, cancelled.text

    body = await messages_once(client, made["id"], lambda b: b["cancelled"])
    planned = by_purpose(body)
    assert {p: m["status"] for p, m in planned.items()} == {
        "confirmation": "cancelled",
        "reminder_72h": "cancelled",
        "reminder_24h": "cancelled",
        "cancellation_notice": "scheduled",
    }
    assert "feels better" not in str(body)


async def test_a_move_within_the_day_cancels_the_old_reminders_and_plans_new_ones(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-1")
    await opt(client, "pat-1", "email", True)
    made = await post_ok(client, "/scheduling/appointments", booking(clinic))
    await messages_once(client, made["id"], lambda b: len(b["messages"]) == 3)

    moved = await client.post(
        f"/scheduling/appointments/{made['id']}/reschedule",
        json={"start": "2026-12-01T11:00:00-05:00"},
    )
    assert moved.status_code == 200, moved.text

    body = await messages_once(client, made["id"], lambda b: len(b["messages"]) == 6)
    pending = sorted(
        (m["purpose"], m["due_at"]) for m in body["messages"] if m["status"] == "scheduled"
    )
    assert [p for p, _ in pending] == ["reminder_24h", "reminder_72h", "reschedule_notice"]
    assert ("reminder_24h", "2026-11-30T16:00:00+00:00") in pending
    assert body["start"] == "2026-12-01T16:00:00+00:00"
    old = [m for m in body["messages"] if m["status"] == "cancelled"]
    assert {m["purpose"] for m in old} == {"confirmation", "reminder_72h", "reminder_24h"}


async def test_a_patient_with_no_consented_channel_is_planned_nothing(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-1", "pat-2")
    await opt(client, "pat-2", "email", True)
    quiet = await post_ok(client, "/scheduling/appointments", booking(clinic))
    other = await post_ok(
        client,
        "/scheduling/appointments",
        booking(clinic, patient_id="pat-2", start="2026-12-01T10:00:00-05:00"),
    )

    # pat-2's booking, made after pat-1's, is planned; pat-1's never is.
    await messages_once(client, other["id"], lambda b: len(b["messages"]) == 3)
    response = await client.get(f"/engagement/appointments/{quiet['id']}/messages")
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == PROBLEM


async def test_consent_is_read_and_changed_at_once_and_each_change_recorded_once(
    client: httpx.AsyncClient,
) -> None:
    first = await opt(client, "pat-1", "email", True)
    again = await opt(client, "pat-1", "email", True)
    assert again["stream_version"] == first["stream_version"] == 1
    await opt(client, "pat-1", "sms", True)
    out = await opt(client, "pat-1", "email", False)
    assert out["stream_version"] == 3

    response = await client.get("/engagement/patients/pat-1/consent")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "patient_id": "pat-1",
        "opted_in": ["sms"],
        "preferred": [],
        "channel": "sms",
    }


async def test_consent_for_a_patient_not_learnt_yet_is_kept_and_holds_once_they_are(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    """Consent taken before scheduling registers the patient (or before engagement learns it)
    is accepted, not a 404: it is the patient's own stream, which the booking's plan folds."""
    kept = await opt(client, "pat-new", "sms", True)
    assert kept["stream_version"] == 1
    read = await client.get("/engagement/patients/pat-new/consent")
    assert read.status_code == 200, read.text
    assert read.json()["channel"] == "sms"

    await register(client, "pat-new")
    made = await post_ok(client, "/scheduling/appointments", booking(clinic, patient_id="pat-new"))

    body = await messages_once(client, made["id"], lambda b: len(b["messages"]) == 3)
    assert body["patient_id"] == "pat-new"
    assert {m["channel"] for m in body["messages"]} == {"sms"}


async def test_bad_input_is_a_problem_not_a_500(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    cases = [
        ("put", "/engagement/patients/pat-1/consent/pigeon", {"opted_in": True}, 422),
        ("put", "/engagement/patients/pat-1/consent/email", {"opted_in": "maybe"}, 422),
        ("put", "/engagement/patients/pat-1/consent/email", {}, 422),
        ("put", "/engagement/patients/pat-1/consent/email", {"opted_in": True, "x": 1}, 422),
        ("put", "/engagement/patients/pat-1/consent/email", {"opted_in": True, "source": "x"}, 422),
        ("put", "/engagement/patients/bad%20id/consent/email", {"opted_in": True}, 422),
        ("get", "/engagement/appointments/bad%20id/messages", None, 422),
        ("get", "/engagement/appointments/nothing-here/messages", None, 404),
    ]
    for method, path, body, status in cases:
        response = await client.request(method, path, json=body)
        assert response.status_code == status, (path, body, response.text)
        assert response.headers["content-type"] == PROBLEM, path


async def test_an_auditor_reads_consent_but_may_not_change_it(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    auditor = token_for("auditor")
    read = await client.get("/engagement/patients/pat-1/consent", headers=auditor)
    change = await client.put(
        "/engagement/patients/pat-1/consent/email", json={"opted_in": True}, headers=auditor
    )

    assert read.status_code == 200, read.text
    assert change.status_code == 403, change.text
