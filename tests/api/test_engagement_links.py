"""The signed confirm and cancel links of a patient's messages, followed over engagement's
public route (no bearer token): the answer is recorded once, scheduling carries it out as the
front desk would (its read model shows the appointment confirmed or cancelled), and the client
learns the outcome. A tampered, foreign or expired link is a 4xx problem; an answer about an
appointment cancelled or moved since is refused, clearly. On both backends."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from services.engagement.application.links import LinkSigner
from services.engagement.contracts import CONTRACT as ENGAGEMENT
from services.suite import Suite
from shared.reactions import Reactor
from shared.settings import Settings
from tests.api.conftest import ShiftedClock
from tests.api.test_engagement_delivery import booked_and_planned, outbox, timer_of
from tests.support import settled, wait_until

PROBLEM = "application/problem+json"
LINK = re.compile(r"(Confirm|Cancel): \S*(/engagement/links/acme/\S+)")


async def links_sent(client: httpx.AsyncClient, suite: Suite, clinic: dict[str, str]) -> Any:
    """A booked appointment whose confirmation went out: its id, and its message's links."""
    appointment_id = await booked_and_planned(client, suite, clinic)
    assert await timer_of(suite).fire_due() == 1  # the confirmation
    await settled(suite)
    [message] = await outbox(client, "pat-1")
    links = dict(LINK.findall(message["text"]))
    assert set(links) == {"Confirm", "Cancel"}, message["text"]
    return appointment_id, links["Confirm"], links["Cancel"]


async def outcome(public: httpx.AsyncClient, link: str, status: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any]:
        response = await public.get(link)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body if body["status"] == status else {}

    return await wait_until(probe, timeout=30, message=f"the link's answer {status}")


def anonymous(suite: Suite) -> httpx.AsyncClient:
    """The suite's app without a bearer token: a patient following a link."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=suite.app), base_url="http://x")


async def appointment(client: httpx.AsyncClient, appointment_id: str) -> dict[str, Any]:
    """Scheduling's read model of the appointment."""
    response = await client.get(f"/scheduling/appointments/{appointment_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_confirm_link_confirms_the_appointment_in_scheduling_once(
    client: httpx.AsyncClient, suite: Suite, clinic: dict[str, str]
) -> None:
    appointment_id, confirm, _ = await links_sent(client, suite, clinic)
    async with anonymous(suite) as public:
        assert (await public.get(confirm)).json()["status"] == "unanswered"

        followed = await public.post(confirm)
        assert followed.status_code == 202, followed.text
        again = await public.post(confirm)  # a second click: answered once
        assert again.status_code == 409, again.text
        assert again.headers["content-type"] == PROBLEM
        assert again.json()["detail"] == "this link was answered already"

        answered = await outcome(public, confirm, "confirmed")
    assert answered["appointment_id"] == appointment_id
    assert answered["action"] == "confirm"

    async def confirmed() -> dict[str, Any]:
        body = await appointment(client, appointment_id)
        return body if body.get("confirmed_at") else {}

    booked = await wait_until(confirmed, message="scheduling's read model confirms it")
    assert booked["status"] == "booked"
    day = (await client.get(f"/scheduling/streams/{booked['stream']}")).json()
    confirmations = [e for e in day["events"] if e["type"].endswith("AppointmentConfirmed.v1")]
    assert len(confirmations) == 1  # one command, however often the link is followed
    assert confirmations[0]["actor"] == f"patient-link:{appointment_id}"


async def test_a_cancel_link_cancels_the_appointment_as_the_front_desk_would(
    client: httpx.AsyncClient, suite: Suite, clinic: dict[str, str]
) -> None:
    appointment_id, confirm, cancel = await links_sent(client, suite, clinic)
    async with anonymous(suite) as public:
        followed = await public.post(cancel)
        assert followed.status_code == 202, followed.text
        await outcome(public, cancel, "cancelled")

    async def cancelled() -> dict[str, Any]:
        body = await appointment(client, appointment_id)
        return body if body["status"] == "cancelled" else {}

    gone = await wait_until(cancelled, message="scheduling's read model cancels it")
    assert gone["cancel_reason"] == "cancelled by the patient through the link in a message"

    async def stopped() -> bool:
        messages = await client.get(f"/engagement/appointments/{appointment_id}/messages")
        return bool(messages.json()["cancelled"])

    await wait_until(stopped, timeout=30, message="engagement learns the cancellation")
    async with anonymous(suite) as public:
        late = await public.post(confirm)  # the other link of the message, after it
    assert late.status_code == 409, late.text
    assert late.json()["detail"] == "the appointment was cancelled"


async def test_a_link_of_a_message_sent_before_a_move_is_refused(
    client: httpx.AsyncClient, suite: Suite, clinic: dict[str, str]
) -> None:
    appointment_id, confirm, _ = await links_sent(client, suite, clinic)
    moved = await client.post(
        f"/scheduling/appointments/{appointment_id}/reschedule",
        json={"start": "2026-12-01T11:00:00-05:00"},
    )
    assert moved.status_code == 200, moved.text

    async def replanned() -> bool:
        messages = await client.get(f"/engagement/appointments/{appointment_id}/messages")
        return bool(messages.json()["start"] == "2026-12-01T16:00:00+00:00")

    await wait_until(replanned, timeout=30, message="engagement learns the move")
    async with anonymous(suite) as public:
        refused = await public.post(confirm)
        assert refused.status_code == 409, refused.text
        assert "moved" in refused.json()["detail"]
        assert (await public.get(confirm)).json()["status"] == "unanswered"


async def test_a_tampered_foreign_or_expired_link_is_a_4xx_problem(
    client: httpx.AsyncClient,
    suite: Suite,
    clinic: dict[str, str],
    settings: Settings,
    clock: ShiftedClock,
) -> None:
    appointment_id, confirm, cancel = await links_sent(client, suite, clinic)
    signer = LinkSigner.from_settings(settings)
    expired = signer.token("acme", appointment_id, "confirm", datetime(2026, 1, 5, tzinfo=UTC))
    survey = signer.token("acme", appointment_id, "survey", datetime(2030, 1, 1, tzinfo=UTC))
    bad = {
        "tampered": confirm.replace("confirm", "cancel"),
        "foreign": confirm.replace("/acme/", "/globex/"),
        "expired": f"/engagement/links/acme/{expired}",
        "a survey's": f"/engagement/links/acme/{survey}",
        "malformed": "/engagement/links/acme/not-a-token",
    }
    async with anonymous(suite) as public:
        for kind, link in bad.items():
            for method in ("GET", "POST"):
                response = await public.request(method, link)
                assert response.status_code == 422, (kind, method, response.text)
                assert response.headers["content-type"] == PROBLEM
        detail = (await public.post(bad["expired"])).json()["detail"]
        assert detail == "the link has expired"
        too_big = await public.post(cancel, content=b"x" * 5000)
        assert too_big.status_code == 413, too_big.text
        assert too_big.headers["content-type"] == PROBLEM
        clock.shift = timedelta(days=30)  # past the visit: the links have expired
        assert (await public.post(cancel)).status_code == 422


async def test_an_answer_scheduling_cannot_carry_out_is_refused_with_its_reason(
    client: httpx.AsyncClient, suite: Suite, clinic: dict[str, str]
) -> None:
    """Engagement takes the answer (it does not follow check-ins); scheduling, which owns the
    appointment, refuses it, and the client reads why."""
    appointment_id, confirm, _ = await links_sent(client, suite, clinic)
    arrived = await client.post(f"/scheduling/appointments/{appointment_id}/check-in")
    assert arrived.status_code == 200, arrived.text
    async with anonymous(suite) as public:
        followed = await public.post(confirm)
        assert followed.status_code == 202, followed.text
        refused = await outcome(public, confirm, "refused")
    assert refused["reason"] == (
        f"appointment {appointment_id} cannot be confirmed: the patient is checked in"
    )
    assert (await appointment(client, appointment_id)).get("confirmed_at") is None


async def test_an_answer_delivered_again_issues_no_second_command(
    client: httpx.AsyncClient, suite: Suite, clinic: dict[str, str]
) -> None:
    """Scheduling's reactor handed the same `PatientAnsweredLink` again (at-least-once
    delivery) finds the answer's outcome recorded and does nothing."""
    appointment_id, _, cancel = await links_sent(client, suite, clinic)
    async with anonymous(suite) as public:
        assert (await public.post(cancel)).status_code == 202
        answered = await outcome(public, cancel, "cancelled")
    await settled(suite)
    store = suite.service("engagement").event_store
    assert store is not None
    [envelope] = [
        e
        for e in await store.load(f"acme:engagement-appointment:{appointment_id}")
        if e.type.endswith("PatientAnsweredLink.v1")
    ]
    reactor = next(
        w
        for w in suite.service("scheduling").workers
        if isinstance(w, Reactor) and w.name == "reactor.scheduling.patient_links"
    )
    for _ in range(2):
        await reactor.reaction.react(ENGAGEMENT.registry.decode(envelope), envelope)

    stream = (await appointment(client, appointment_id))["stream"]
    day = (await client.get(f"/scheduling/streams/{stream}")).json()
    assert [e["type"] for e in day["events"]].count(
        "medoffice.scheduling.AppointmentCancelled.v1"
    ) == 1
    answer = await client.get(f"/scheduling/streams/acme:patient-answer:{answered['answer_id']}")
    assert [e["type"] for e in answer.json()["events"]] == [
        "medoffice.scheduling.PatientLinkAnswerApplied.v1"
    ]
