"""Engagement's channels against real servers on loopback, started by the test: e-mail to an
SMTP server (aiosmtpd) and texts to an HTTP SMS gateway, each named in the settings. What
arrives names the site and the time, nothing clinical; a refused recipient is a bounce, never
retried; a gateway that fails is tried again after the domain's back-off. On both backends."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from services.engagement.application.delivery import DeliveryTimer
from services.suite import Suite
from shared.settings import Settings
from tests.api.conftest import ShiftedClock, booking, post_ok
from tests.support import settled, wait_until


class Inbox:
    """An SMTP server's handler: keeps every message; refuses recipients at nobody@."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[Envelope] = []

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


class Gateway:
    """An SMS gateway on loopback: answers each POST with the next of `answers` (then 202)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.answers: list[int] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
                body = self.rfile.read(int(self.headers["content-length"]))
                gateway.received.append(json.loads(body))
                status = gateway.answers.pop(0) if gateway.answers else 202
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/messages"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    handler = Inbox(free_port())
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    gateway = Gateway()
    thread = threading.Thread(target=gateway.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gateway
    finally:
        gateway.server.shutdown()
        gateway.server.server_close()


@pytest.fixture
def settings(settings: Settings, inbox: Inbox, gateway: Gateway) -> Settings:
    """The suite's settings, with e-mail to the inbox's server and texts to the gateway."""
    return settings.model_copy(
        update={
            "engagement_smtp_host": "127.0.0.1",
            "engagement_smtp_port": inbox.port,
            "engagement_sms_gateway_url": gateway.url,
        }
    )


def timer_of(suite: Suite) -> DeliveryTimer:
    return next(w for w in suite.service("engagement").workers if isinstance(w, DeliveryTimer))


async def booked(
    client: httpx.AsyncClient,
    suite: Suite,
    clinic: dict[str, str],
    channel: str,
    email: str = "pat-1@example.org",
) -> str:
    """pat-1, registered with `email` and a phone, opted in to `channel`, booked at 9:00 New
    York on 1 December; returns the appointment once its three messages are planned."""
    body = {
        "patient_id": "pat-1",
        "name": "Name of pat-1",
        "birth_date": "1970-01-01",
        "email": email,
        "phone": "+15550100",
    }
    await post_ok(client, "/scheduling/patients", body)
    response = await client.put(
        f"/engagement/patients/pat-1/consent/{channel}", json={"opted_in": True}
    )
    assert response.status_code == 200, response.text
    made = await post_ok(client, "/scheduling/appointments", booking(clinic))

    async def planned() -> bool:
        response = await client.get(f"/engagement/appointments/{made['id']}/messages")
        return response.status_code == 200 and len(response.json()["messages"]) == 3

    await wait_until(planned, timeout=30, message="the messages planned")
    await settled(suite)
    return str(made["id"])


async def messages(client: httpx.AsyncClient, appointment_id: str) -> dict[str, dict[str, Any]]:
    response = await client.get(f"/engagement/appointments/{appointment_id}/messages")
    assert response.status_code == 200, response.text
    return {m["purpose"]: m for m in response.json()["messages"]}


async def test_an_email_arrives_at_the_smtp_server_with_the_least_phi(
    client: httpx.AsyncClient, suite: Suite, clinic: dict[str, str], inbox: Inbox
) -> None:
    appointment_id = await booked(client, suite, clinic, "email")

    assert await timer_of(suite).fire_due() == 1
    await settled(suite)
    assert await timer_of(suite).fire_due() == 0

    assert len(inbox.messages) == 1
    envelope = inbox.messages[0]
    assert envelope.rcpt_tos == ["pat-1@example.org"]
    assert envelope.mail_from == "reminders@medoffice.invalid"
    assert isinstance(envelope.content, bytes)
    mail = message_from_bytes(envelope.content)
    assert mail["Subject"] == "Your appointment at North"
    text = mail.get_payload(decode=True)
    assert isinstance(text, bytes)
    said, links = text.decode().strip().split(" Confirm: ")
    assert said == "You are booked: your appointment at North on Tue 01 Dec 2026 at 09:00."
    assert links.startswith("http://127.0.0.1:8000/engagement/links/acme/")  # signed links
    assert (await messages(client, appointment_id))["confirmation"]["status"] == "sent"


async def test_a_refused_address_is_a_bounce_never_retried(
    client: httpx.AsyncClient,
    suite: Suite,
    clinic: dict[str, str],
    inbox: Inbox,
    clock: ShiftedClock,
) -> None:
    appointment_id = await booked(client, suite, clinic, "email", email="nobody@example.org")

    assert await timer_of(suite).fire_due() == 1
    await settled(suite)
    clock.shift = timedelta(hours=3)  # past every retry's delay
    assert await timer_of(suite).fire_due() == 0

    assert inbox.messages == []
    confirmation = (await messages(client, appointment_id))["confirmation"]
    assert (confirmation["status"], confirmation["attempt"]) == ("failed", 1)


async def test_a_text_goes_to_the_gateway_and_a_failure_is_retried_after_its_back_off(
    client: httpx.AsyncClient,
    suite: Suite,
    clinic: dict[str, str],
    gateway: Gateway,
    clock: ShiftedClock,
) -> None:
    appointment_id = await booked(client, suite, clinic, "sms")
    gateway.answers = [503]

    assert await timer_of(suite).fire_due() == 1  # refused: retried in 5 minutes
    await settled(suite)
    assert await timer_of(suite).fire_due() == 0  # not yet
    retrying = (await messages(client, appointment_id))["confirmation"]
    assert (retrying["status"], retrying["attempt"]) == ("retrying", 2)
    clock.shift = timedelta(minutes=6)
    assert await timer_of(suite).fire_due() == 1
    await settled(suite)

    sent = (await messages(client, appointment_id))["confirmation"]
    assert (sent["status"], sent["attempt"]) == ("sent", 2)
    assert [r["to"] for r in gateway.received] == ["+15550100", "+15550100"]
    assert gateway.received[-1]["text"].startswith(
        "You are booked: your appointment at North on Tue 01 Dec 2026 at 09:00. Confirm: "
    )
    assert gateway.received[-1]["reference"] == sent["message_id"]
