"""Sending an appointment's messages when they are due (`DeliveryTimer`).

Each round reads the due messages from the deliveries read model, then for each decides
`FireMessage` on the appointment's stream in the event store, with the patient's consent folded
from theirs as it fires: a message cancelled meanwhile (the appointment cancelled or moved, the
race lost to a cancellation), or whose channel the patient opted out of, is not released. A
release is recorded before the channel is called, so two live processes (or a round after a
restart) never send one attempt twice: the second decides nothing. The channel's answer is
recorded as the message's outcome: sent, or failed and retried with the domain's back-off, then
given up (logged as `message_given_up`), or bounced. The text names the site and the local date
and time, nothing clinical, and the message's signed links (`reminders.message_text`,
`links.LinkSigner.in_message`).

A release is a lease (`Settings.engagement_lease_seconds`): a process that dies between a
release and the channel's answer leaves the attempt released with no answer, and once the
lease is over the timer releases the same attempt again and sends it, under the same message
id and attempt (the e-mail's `Message-ID`, the SMS gateway's `reference`, the outbox's key), so
a server that got the first can recognise the second. Delivery is at least once: a message
whose first send got through before the crash goes twice, never none. A late answer from the
first sender, if it lived after all, is recorded once: the first answer for an attempt wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import structlog

from services.engagement.application.consent import Consents
from services.engagement.application.links import LinkSigner
from services.engagement.application.messages import AppointmentMessagesUseCases
from services.engagement.application.senders import Answer, Outgoing, Sender
from services.engagement.domain import streams
from services.engagement.domain.delivery import FireMessage, Message, RecordOutcome
from services.engagement.domain.events import Channel, MessageGivenUp, MessageReleased
from services.engagement.domain.reminders import appointment_messages, message_text
from services.engagement.projections.contacts import CONTACTS, contact_id
from services.engagement.projections.contacts import PROJECTION as CONTACTS_PROJECTION
from services.engagement.projections.deliveries import DELIVERIES, PROJECTION, utc_text
from shared.commands import CommandHandler
from shared.domain import DomainError
from shared.events import Metadata
from shared.phivault import REDACTED, PhiVault
from shared.readmodels import ReadModels
from shared.timers import Timer
from shared.usecases import UseCases

log = structlog.get_logger(__name__)

SYSTEM = "system:engagement"
ADDRESS = {"email": "email", "sms": "phone"}  # the contact field each channel sends to


class Delivery(UseCases):
    def __init__(
        self,
        handler: CommandHandler,
        consents: Consents,
        messages: AppointmentMessagesUseCases,
        read_models: ReadModels,
        vault: PhiVault,
        senders: Mapping[Channel, Sender],
        lease: timedelta,
        links: LinkSigner,
    ) -> None:
        super().__init__(handler)
        self._links = links
        self._consents = consents
        self._messages = messages
        self._read_models = read_models
        self._vault = vault
        self._senders = senders
        self._lease = lease

    async def due(self, limit: int) -> list[dict[str, Any]]:
        where = {"pending": True, "due_at": {"$lte": utc_text(self.now())}}
        return await self._read_models.find(PROJECTION, DELIVERIES, where, limit=limit)

    async def deliver(self, meta: Metadata, appointment_id: str, message_id: str) -> bool:
        """Release the message if still due, send it, record the answer; False when it was not
        released (not due, cancelled, gone already, released by another process). What to send
        is made before the release: a site not learnt yet releases nothing (`SiteNotLearnt`)."""
        planned = await self._messages.planned(meta.tenant, appointment_id)
        message = planned.state.messages.get(message_id)
        if message is None or planned.site_id is None or planned.state.start is None:
            return False
        outgoing = await self._outgoing(
            meta.tenant, planned.site_id, appointment_id, message, planned.state.start
        )
        stream = streams.appointment(meta.tenant, appointment_id)
        consent = await self._consents.of(meta.tenant, message.patient_id)
        fire = FireMessage(
            message_id=message_id, consent=consent, now=self.now(), lease=self._lease
        )
        fired = await self.decide(stream, appointment_messages, fire, meta, subject=_patient)
        released = [e for e in fired.events if isinstance(e, MessageReleased)]
        if not released:
            return False
        attempt = released[0].attempt
        if isinstance(outgoing, Answer):
            answer = outgoing
        else:
            sending = replace(outgoing, attempt=attempt, at=self.now())
            answer = await self._senders[message.channel].send(sending)
        outcome = RecordOutcome(
            message_id=message_id,
            attempt=attempt,
            outcome=answer.outcome,
            reason=answer.reason,
            now=self.now(),
        )
        recorded = await self.decide(stream, appointment_messages, outcome, meta, subject=_patient)
        for event in recorded.events:
            if isinstance(event, MessageGivenUp):
                log.warning("message_given_up", message=message_id, attempts=event.attempts)
        return True

    async def _outgoing(
        self, tenant: str, site: str, appointment_id: str, message: Message, start: datetime
    ) -> Outgoing | Answer:
        """The message to send, or the answer without sending it: no contact learnt yet
        (failed, retried), no address for the channel or the patient forgotten (bounced)."""
        contact = await self._read_models.get(
            CONTACTS_PROJECTION, CONTACTS, contact_id(tenant, message.patient_id)
        )
        if contact is None:
            return Answer("failed", "patient's contact not learnt yet")
        field = ADDRESS[message.channel]
        to = await self._vault.reveal(tenant, contact.get(field) or "")
        if not to or to == REDACTED:
            return Answer("bounced", f"no {field} on file")
        known = await self._messages.site(tenant, site)
        name = known.name
        local = start.astimezone(known.zone)
        return Outgoing(
            tenant=tenant,
            message_id=message.message_id,
            patient_id=message.patient_id,
            channel=message.channel,
            to=to,
            subject=f"Your appointment at {name}",
            text=message_text(
                message.purpose,
                name,
                local,
                self._links.in_message(tenant, appointment_id, message.purpose, start),
            ),
            attempt=message.attempt,
            at=self.now(),
        )


def _patient(event: object) -> str | None:
    return getattr(event, "patient_id", None)


class DeliveryTimer(Timer):
    """Sends every appointment message due: from the deliveries read model (rebuilt from the
    events, so it survives restarts); several processes may fire it at once, and each attempt is
    released once (see the module)."""

    name = "engagement.delivery_timer"

    def __init__(self, delivery: Delivery, every: float = 30.0, batch: int = 200) -> None:
        super().__init__(every)
        self._delivery = delivery
        self._batch = batch

    async def fire_due(self) -> int:
        """Deliver every due message; returns how many were released now."""
        released = 0
        for doc in await self._delivery.due(self._batch):
            meta = Metadata(
                tenant=doc["tenant"],
                actor=SYSTEM,
                site=doc["site_id"],
                correlation_id=f"delivery:{doc['message_id']}",
            )
            try:
                done = await self._delivery.deliver(meta, doc["appointment_id"], doc["message_id"])
            except DomainError as exc:
                log.info("message_not_delivered", message=doc["message_id"], reason=str(exc))
                continue
            released += int(done)
        return released
