"""One message's way to the patient, once scheduled: its timer fires and it is handed to its
channel (released) if still due and the patient still consents to the channel, then sent, or
failed and retried (`retries.RetryPolicy`), or bounced. A release is a lease (`LEASE`): an
attempt whose answer was never recorded (its sender died) is released again, the same attempt,
once the lease is over: at least once, never lost. Used by an appointment's messages
(`reminders`) and by messages that stand alone, each on `engagement-message-<id>` (a recall's,
a survey's): `message_delivery` is the decider of those."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from typing import Literal

from pydantic import AwareDatetime, ConfigDict, Field

from services.engagement.domain.consent import Consent
from services.engagement.domain.events import (
    Channel,
    MessageBounced,
    MessageCancelled,
    MessageGivenUp,
    MessageReleased,
    MessageRetried,
    MessageScheduled,
    MessageSent,
    Purpose,
)
from services.engagement.domain.quiet_hours import QuietHours, out_of_quiet_hours
from services.engagement.domain.retries import InFlight, Outcome, RetryPolicy, after_attempt
from shared.domain import Command, Decider, Invalid, NotFound
from shared.events import DomainEvent

MessageStatus = Literal["scheduled", "released", "retrying", "sent", "cancelled", "failed"]

# How long a released attempt waits for its channel's answer before it is offered again: far
# beyond a channel's own timeout (`Settings.engagement_send_timeout`), so that only an attempt
# whose sender died is offered twice.
LEASE = timedelta(minutes=10)


@dataclass(frozen=True)
class Message:
    message_id: str
    patient_id: str
    purpose: Purpose
    channel: Channel
    due_at: datetime  # when the timer fires: the planned time, or the next retry's
    status: MessageStatus = "scheduled"
    attempt: int = 1
    lease_until: datetime | None = None  # while released: when it is offered again

    @property
    def pending(self) -> bool:
        return self.status in ("scheduled", "retrying")

    def offered(self, now: datetime) -> bool:
        """Whether its timer may release it at `now`: pending and due, or released and its
        lease over with no answer recorded."""
        if self.status == "released":
            return self.lease_until is not None and now >= self.lease_until
        return self.pending and now >= self.due_at


class DeliveryCommand(Command):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class FireMessage(DeliveryCommand):
    """The message's timer fired: hand it to its channel if it is still due (or released and
    its lease over), for `lease`. `consent` is the patient's, folded as the timer fires."""

    message_id: str
    consent: Consent
    now: AwareDatetime
    lease: timedelta = Field(default=LEASE, gt=timedelta(0))


class RecordOutcome(DeliveryCommand):
    """The channel's answer to an attempt."""

    message_id: str
    attempt: int
    outcome: Outcome
    reason: str = ""
    now: AwareDatetime
    policy: RetryPolicy = RetryPolicy()


def release(message: Message, c: FireMessage) -> list[DomainEvent]:
    """Released if due (again, the same attempt, if its lease is over); cancelled if the patient
    opted out of its channel since it was planned; nothing if it is not offered (cancelled,
    gone already, released and still leased) or the timer is early."""
    if not message.offered(c.now):
        return []
    ids = {"message_id": message.message_id, "patient_id": message.patient_id}
    if not c.consent.allows(message.channel):
        return [MessageCancelled(**ids, reason="opted_out", cancelled_at=c.now)]
    return [
        MessageReleased(
            **ids,
            channel=message.channel,
            attempt=message.attempt,
            released_at=c.now,
            lease_until=c.now + c.lease,
        )
    ]


def answer(message: Message, c: RecordOutcome) -> Sequence[DomainEvent]:
    """The events of the channel's answer; nothing for an answer already recorded or for an
    attempt long gone."""
    if message.status != "released" or message.attempt != c.attempt:
        return []
    flight = InFlight(message.message_id, message.patient_id, message.channel, c.attempt)
    return after_attempt(flight, c.outcome, c.reason, c.now, c.policy)


def scheduled(event: MessageScheduled) -> Message:
    return Message(event.message_id, event.patient_id, event.purpose, event.channel, event.send_at)


def evolve_message(message: Message, event: DomainEvent) -> Message:
    """The message after one of its own events (its scheduling aside: `scheduled`)."""
    match event:
        case MessageCancelled():
            return replace(message, status="cancelled")
        case MessageReleased():
            return replace(message, status="released", lease_until=event.lease_until)
        case MessageSent():
            return replace(message, status="sent")
        case MessageRetried():
            return replace(message, status="retrying", attempt=event.attempt, due_at=event.retry_at)
        case MessageGivenUp() | MessageBounced():
            return replace(message, status="failed")
    return message  # MessageDeliveryFailed: a retry or a give-up follows in the same decision


# ------------------------------------------------------------------ messages that stand alone


class ScheduleMessage(DeliveryCommand):
    """Plan a message that belongs to no appointment (a recall, a survey) for `at`, moved out of
    the site's quiet hours; on the patient's channel, or not at all if they consent to none."""

    message_id: str
    patient_id: str
    site_id: str
    purpose: Purpose
    at: AwareDatetime
    zone: tzinfo
    consent: Consent
    quiet: QuietHours = QuietHours()


MessageCommand = ScheduleMessage | FireMessage | RecordOutcome


def _decide(state: Message | None, c: MessageCommand) -> Sequence[DomainEvent]:
    match c:
        case ScheduleMessage():
            if c.purpose not in ("recall", "survey"):
                raise Invalid("an appointment's messages are planned with the appointment")
            channel = c.consent.channel()
            if state is not None or channel is None:
                return []
            return [
                MessageScheduled(
                    message_id=c.message_id,
                    patient_id=c.patient_id,
                    site_id=c.site_id,
                    purpose=c.purpose,
                    channel=channel,
                    send_at=out_of_quiet_hours(c.at, c.zone, c.quiet),
                )
            ]
        case FireMessage() | RecordOutcome():
            if state is None:
                raise NotFound(f"no message {c.message_id}")
            return release(state, c) if isinstance(c, FireMessage) else answer(state, c)


def _evolve(state: Message | None, event: DomainEvent) -> Message | None:
    if isinstance(event, MessageScheduled):
        return scheduled(event)
    return None if state is None else evolve_message(state, event)


message_delivery = Decider[Message | None, MessageCommand](None, _evolve, _decide)
