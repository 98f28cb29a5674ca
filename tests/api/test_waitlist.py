"""The waitlist through the HTTP API on both backends: a cancellation offers its slot to the
first matching entry, which may accept it into a booking or pass it on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from services.scheduling.application.reactions import OfferExpiryTimer
from services.suite import Suite
from shared.settings import Settings
from tests.api.conftest import ShiftedClock, booking, post_ok, register, running_suite
from tests.api.test_appointments import appointment
from tests.api.test_bad_input import PROBLEM, events_written
from tests.support import ACCESS, wait_until
from tests.support import settled as every_read_model_settled

WAITLIST = "/scheduling/sites/north/waitlist"
SLOT_START = "2026-12-01T14:00:00Z"  # 9:00 in New York, where the clinic is


@pytest.fixture
async def suite(settings: Settings, clock: ShiftedClock) -> AsyncIterator[Suite]:
    """The suite on a clock the test moves."""
    async with running_suite(settings, clock) as suite:
        yield suite


def entry(patient_id: str, **change: Any) -> dict[str, Any]:
    """A wish for a follow-up at North in the first week of December."""
    return {
        "patient_id": patient_id,
        "visit_type_id": "follow-up",
        "earliest": "2026-11-30",
        "latest": "2026-12-04",
        **change,
    }


async def join(client: httpx.AsyncClient, patient_id: str, **change: Any) -> str:
    return str((await post_ok(client, WAITLIST, entry(patient_id, **change)))["id"])


async def listing(client: httpx.AsyncClient, **headers: str) -> dict[str, Any]:
    response = await client.get(WAITLIST, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def offer_to(client: httpx.AsyncClient, entry_id: str) -> dict[str, Any]:
    """The open offer the entry holds, once it shows."""

    async def found() -> dict[str, Any] | None:
        offers = (await listing(client))["offers"]
        return next((o for o in offers if o["entry_id"] == entry_id), None)

    offer = await wait_until(found, message=f"an offer to entry {entry_id}")
    assert offer is not None
    return offer


async def book_and_cancel(client: httpx.AsyncClient, clinic: dict[str, str]) -> str:
    booked = await post_ok(client, "/scheduling/appointments", booking(clinic, patient_id="pat-1"))
    cancelled = await client.post(
        f"/scheduling/appointments/{booked['id']}/cancel", json={"reason": "feels better"}
    )
    assert cancelled.status_code == 200, cancelled.text
    return str(booked["id"])


async def settled(client: httpx.AsyncClient, waiting: list[str], offered: list[str]) -> None:
    """Wait until the list shows these entries waiting and these holding offers."""

    async def shows() -> bool:
        current = await listing(client)
        return [e["entry_id"] for e in current["entries"]] == waiting and [
            o["entry_id"] for o in current["offers"]
        ] == offered

    await wait_until(shows, message=f"waiting {waiting}, offered {offered}")


async def test_a_cancelled_slot_is_offered_and_accepted_into_a_booking(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-1", "pat-2", "pat-3")
    first = await join(client, "pat-2", provider_id="dr-a")
    second = await join(client, "pat-3")
    cancelled = await book_and_cancel(client, clinic)

    offer = await offer_to(client, first)
    assert (offer["patient_id"], offer["provider_id"], offer["room_id"]) == (
        "pat-2",
        "dr-a",
        "exam-1",
    )
    assert (offer["start"], offer["end"]) == (SLOT_START, "2026-12-01T14:30:00Z")
    assert offer["expires_at"] > offer["offered_at"]
    assert offer["appointment_id"] != cancelled

    accepted = await client.post(f"{WAITLIST}/offers/{offer['offer_id']}/accept")

    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["appointment_id"] == offer["appointment_id"]
    assert body["appointment_stream"] == "acme:site-day:north:2026-12-01"
    booked = await appointment(client, body["appointment_id"])
    assert (booked["patient_id"], booked["status"], booked["start"]) == (
        "pat-2",
        "booked",
        SLOT_START,
    )
    history = (await client.get("/scheduling/patients/pat-2/appointments")).json()
    assert [a["appointment_id"] for a in history] == [body["appointment_id"]]
    # The entry is closed, and the second one gets nothing for that slot.
    await settled(client, waiting=[second], offered=[])
    again = await client.post(f"{WAITLIST}/offers/{offer['offer_id']}/accept")
    assert again.status_code == 200  # a retry books nothing new
    assert again.json()["appointment_id"] == body["appointment_id"]
    refused = await client.post(f"{WAITLIST}/offers/{offer['offer_id']}/decline")
    assert refused.status_code == 409
    assert "accepted" in refused.json()["detail"]


async def test_a_declined_slot_goes_to_the_next_entry(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-1", "pat-2", "pat-3", "pat-4")
    first = await join(client, "pat-2")
    await join(client, "pat-4", visit_type_id="follow-up", provider_id="dr-a", latest="2026-11-30")
    second = await join(client, "pat-3")
    await book_and_cancel(client, clinic)
    offer = await offer_to(client, first)

    declined = await client.post(f"{WAITLIST}/offers/{offer['offer_id']}/decline")

    assert declined.status_code == 200, declined.text
    passed = await offer_to(client, second)
    assert passed["start"] == SLOT_START
    current = await listing(client)
    assert [e["patient_id"] for e in current["entries"]] == ["pat-2", "pat-4", "pat-3"]
    assert [e["offer_id"] for e in current["entries"]] == [None, None, passed["offer_id"]]
    accepted = await client.post(f"{WAITLIST}/offers/{passed['offer_id']}/accept")
    assert accepted.status_code == 200, accepted.text
    late = await client.post(f"{WAITLIST}/offers/{offer['offer_id']}/accept")
    assert late.status_code == 409
    assert "declined" in late.json()["detail"]


async def test_a_slot_someone_took_lapses_the_offer_and_passes_it_on(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-1", "pat-2", "pat-3", "pat-9")
    first = await join(client, "pat-2")
    second = await join(client, "pat-3")
    await book_and_cancel(client, clinic)
    offer = await offer_to(client, first)
    # The front desk books someone into the freed slot meanwhile.
    taken = await post_ok(client, "/scheduling/appointments", booking(clinic, patient_id="pat-9"))

    refused = await client.post(f"{WAITLIST}/offers/{offer['offer_id']}/accept")

    assert refused.status_code == 409
    assert refused.headers["content-type"] == PROBLEM
    assert "no longer free" in refused.json()["detail"]
    assert taken["id"] in refused.json()["detail"]
    await offer_to(client, second)
    await settled(client, waiting=[first, second], offered=[second])
    history = (await client.get("/scheduling/patients/pat-2/appointments")).json()
    assert history == []


async def test_an_expired_offer_is_refused_and_the_slot_passes_on(
    suite: Suite, client: httpx.AsyncClient, clinic: dict[str, str], clock: ShiftedClock
) -> None:
    await register(client, "pat-1", "pat-2", "pat-3", "pat-4")
    entries = [await join(client, p) for p in ("pat-2", "pat-3", "pat-4")]
    await book_and_cancel(client, clinic)
    offer = await offer_to(client, entries[0])
    clock.shift = timedelta(hours=3)  # offers stay open for two hours

    refused = await client.post(f"{WAITLIST}/offers/{offer['offer_id']}/accept")

    assert refused.status_code == 409
    assert "expired" in refused.json()["detail"]
    await offer_to(client, entries[1])
    # Unanswered, the next offer expires too: the timer passes the slot on by itself.
    clock.shift = timedelta(hours=6)
    timer = next(w for w in suite.service("scheduling").workers if isinstance(w, OfferExpiryTimer))

    async def expired_one() -> int:
        return await timer.fire_due()

    assert await wait_until(expired_one, message="the timer expiring the second offer") == 1
    await offer_to(client, entries[2])
    assert await timer.fire_due() == 0


async def test_listing_the_waitlist_records_each_patient(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite
) -> None:
    await register(client, "pat-2", "pat-3")
    first = await join(client, "pat-2")
    second = await join(client, "pat-3")
    await settled(client, waiting=[first, second], offered=[])
    await every_read_model_settled(suite)  # the names come from the patients read model
    current = await listing(client, **{"x-purpose-of-use": "TREAT"})
    assert [e["patient_name"] for e in current["entries"]] == ["Name of pat-2", "Name of pat-3"]

    async def accesses() -> list[dict[str, Any]] | None:
        found: list[dict[str, Any]] = (
            await client.get("/compliance/audit-log", params={"type": ACCESS, "limit": 1000})
        ).json()
        treated = [e for e in found if e["data"]["purpose"] == "TREAT"]
        return treated if len(treated) == 2 else None

    records = await wait_until(accesses, message="the records of the read")
    assert records is not None
    assert sorted(e["subject"] for e in records) == ["pat-2", "pat-3"]
    assert {e["data"]["endpoint"] for e in records} == {WAITLIST}

    removed = await client.post(f"{WAITLIST}/{first}/remove")
    assert removed.status_code == 200, removed.text
    await settled(client, waiting=[second], offered=[])
    twice = await client.post(f"{WAITLIST}/{first}/remove")
    assert twice.status_code == 409


BAD_ENTRIES: list[tuple[dict[str, Any], int]] = [
    (entry("pat-2", earliest="2026-12-05"), 422),
    (entry("pat-2", earliest="2026-01-01", latest="2026-01-31"), 422),
    (entry("pat-2", earliest="soon"), 422),
    (entry("pat-2", earliest=None), 422),
    (entry("pat-2", urgent=True), 422),
    (entry("../x"), 422),
    (entry("pat-nobody"), 404),
    (entry("pat-gone"), 409),
    (entry("pat-2", visit_type_id="nothing"), 404),
    (entry("pat-2", provider_id="dr-nobody"), 404),
]


async def test_bad_input_is_refused_without_writing(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite
) -> None:
    await register(client, "pat-2", "pat-gone")
    forgotten = await client.post("/scheduling/patients/pat-gone/forget", json={"reason": "asked"})
    assert forgotten.status_code == 200
    entry_id = await join(client, "pat-2", provider_id="dr-a")
    calls: list[tuple[str, str, dict[str, Any] | None, int]] = [
        ("POST", WAITLIST, body, status) for body, status in BAD_ENTRIES
    ]
    calls += [
        ("POST", WAITLIST, entry("pat-2", provider_id="dr-a"), 409),  # waits for it already
        ("POST", "/scheduling/sites/nowhere/waitlist", entry("pat-2"), 404),
        ("POST", f"{WAITLIST}/nope/remove", None, 404),
        ("POST", f"{WAITLIST}/offers/nope/accept", None, 404),
        ("POST", f"{WAITLIST}/offers/nope/decline", None, 404),
        ("POST", f"{WAITLIST}/offers/{entry_id}/accept", None, 404),
        ("GET", "/scheduling/sites/nowhere/waitlist", None, 404),
    ]
    for method, path, body, status in calls:
        before = await events_written(suite)
        response = await client.request(method, path, json=body)
        assert response.status_code == status, (path, body, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert "Traceback" not in response.text
        assert await events_written(suite) == before, (path, body)


async def test_an_offer_to_a_patient_forgotten_since_lapses_and_passes_the_slot_on(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-1", "pat-2", "pat-3")
    first = await join(client, "pat-2")
    second = await join(client, "pat-3")
    await book_and_cancel(client, clinic)
    offer = await offer_to(client, first)
    forgotten = await client.post("/scheduling/patients/pat-2/forget", json={"reason": "asked"})
    assert forgotten.status_code == 200, forgotten.text

    refused = await client.post(f"{WAITLIST}/offers/{offer['offer_id']}/accept")

    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == "patient pat-2 was forgotten"
    passed = await offer_to(client, second)
    assert passed["start"] == SLOT_START
    assert (await client.get("/scheduling/patients/pat-2/appointments")).json() == []
