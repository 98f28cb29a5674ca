"""The channels a message goes through, behind one port (`Sender`): e-mail over SMTP
(`aiosmtplib`), texts through an HTTP SMS gateway (`httpx`), and the outbox, which records each
message in engagement's own document collection and sends nothing (the embedded default for a
channel with no server configured; `GET /engagement/outbox` shows what it holds).

A sender answers `sent`, `failed` (worth retrying: the server unreachable, a temporary refusal)
or `bounced` (never retried: the address refused). Its reason is the channel's own words, never
the message or the address."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib
import httpx

from services.engagement.domain.events import Channel
from services.engagement.domain.retries import Outcome
from shared.documents.port import DocumentStore, put
from shared.phivault import PhiVault

OUTBOX = "engagement_outbox"


@dataclass(frozen=True)
class Outgoing:
    """One attempt at one message: to whom (opened from their sealed contact) and what."""

    tenant: str
    message_id: str
    patient_id: str
    channel: Channel
    to: str
    subject: str
    text: str
    attempt: int
    at: datetime


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    reason: str = ""


class Sender(Protocol):
    async def send(self, message: Outgoing) -> Answer: ...


class SmtpSender:
    """E-mail through an SMTP server: a recipient refused is a bounce; anything else that goes
    wrong (connection, timeout, a 4xx) a failure, retried."""

    def __init__(
        self, host: str, port: int, sender: str, timeout: float, starttls: bool = False
    ) -> None:
        self._host, self._port, self._sender, self._timeout = host, port, sender, timeout
        self._starttls = starttls

    async def send(self, message: Outgoing) -> Answer:
        mail = EmailMessage()
        mail["From"] = self._sender
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Message-ID"] = f"<{message.message_id}.{message.attempt}@medoffice>"
        mail.set_content(message.text)
        try:
            await aiosmtplib.send(
                mail,
                hostname=self._host,
                port=self._port,
                timeout=self._timeout,
                start_tls=self._starttls,
                use_tls=False,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = sorted({refusal.code for refusal in exc.recipients})
            if all(code >= 500 for code in codes):
                return Answer("bounced", f"recipient refused ({', '.join(map(str, codes))})")
            return Answer("failed", f"recipient deferred ({', '.join(map(str, codes))})")
        except (aiosmtplib.SMTPException, OSError) as exc:
            return Answer("failed", type(exc).__name__)
        return Answer("sent")


class SmsGatewaySender:
    """Texts through an HTTP gateway: `POST <url>` with `{"to", "text", "reference"}`. A 2xx is
    sent; 400, 404 and 422 (a number it cannot reach) a bounce; anything else a failure."""

    BOUNCES = frozenset({400, 404, 422})

    def __init__(self, url: str, timeout: float) -> None:
        self._url, self._timeout = url, timeout

    async def send(self, message: Outgoing) -> Answer:
        body = {"to": message.to, "text": message.text, "reference": message.message_id}
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.post(self._url, json=body)
        except httpx.HTTPError as exc:
            return Answer("failed", type(exc).__name__)
        if response.is_success:
            return Answer("sent")
        outcome: Outcome = "bounced" if response.status_code in self.BOUNCES else "failed"
        return Answer(outcome, f"gateway answered {response.status_code}")


class OutboxSender:
    """Records the message (its address sealed under the patient's key) and sends nothing."""

    def __init__(self, store: DocumentStore, vault: PhiVault) -> None:
        self._store, self._vault = store, vault

    async def send(self, message: Outgoing) -> Answer:
        sealed = await self._vault.seal(message.tenant, message.patient_id, message.to)
        doc = {
            "tenant": message.tenant,
            "message_id": message.message_id,
            "patient_id": message.patient_id,
            "channel": message.channel,
            "to": sealed.model_dump(mode="json"),
            "subject": message.subject,
            "text": message.text,
            "recorded_at": message.at.isoformat(),
        }
        await put(self._store, OUTBOX, f"{message.tenant}:{message.message_id}", doc)
        return Answer("sent")

    async def held(self, tenant: str, patient_id: str) -> list[dict[str, object]]:
        """What the outbox holds for the patient, oldest first, addresses opened."""
        docs = await self._store.find(
            OUTBOX, {"tenant": tenant, "patient_id": patient_id}, sort=(("recorded_at", 1),)
        )
        return [
            {
                "message_id": d["message_id"],
                "channel": d["channel"],
                "to": await self._vault.reveal(tenant, d["to"]),
                "subject": d["subject"],
                "text": d["text"],
                "recorded_at": d["recorded_at"],
            }
            for d in docs
        ]
