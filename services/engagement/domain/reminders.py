"""An appointment's messages, on `engagement-appointment-<id>`: a confirmation at booking (a
reschedule notice at a move), reminders 72 and 24 hours before, a notice if it is cancelled.

- Every message is planned in the site's time zone (passed in as a `tzinfo`) and moved out of
  its quiet hours to their end; one that would then go at or after the visit is not planned.
- Each message goes once per appointment and threshold: its id is made of the appointment,
  the purpose and the visit's start, and planning again (a redelivered booking) plans nothing.
- A cancelled or moved appointment cancels its pending messages; a cancellation is recorded
  once (`AppointmentMessagesStopped`), and after it nothing is planned or sent but its notice:
  a timer that fires for a message of a cancelled appointment (the cancellation recorded
  first, in the race) sends nothing. A timer late past the visit's start cancels its message.
- A released message whose channel's answer was never recorded (its sender died) is offered
  again when its lease is over (`delivery.LEASE`): the same attempt, so the channel sees the
  same message id and attempt; cancelled instead if the appointment was cancelled meanwhile.
- The timer's command carries the patient's consent as folded when it fires: a channel opted
  out of since the plan cancels the message. A patient with no consented channel is sent
  nothing, and nothing is planned for them.
- Texts carry the least PHI that works: the site, the date and time, and links; never the visit
  type, the provider or their specialty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Literal

from pydantic import AwareDatetime

from services.engagement.domain.consent import Consent
from services.engagement.domain.delivery import (
    DeliveryCommand,
    FireMessage,
    Message,
    RecordOutcome,
    answer,
    evolve_message,
    release,
    scheduled,
)
from services.engagement.domain.events import (
    AppointmentMessagesStopped,
    MessageBounced,
    MessageCancelled,
    MessageDeliveryFailed,
    MessageGivenUp,
    MessageReleased,
    MessageRetried,
    MessageScheduled,
    MessageSent,
    Purpose,
)
from services.engagement.domain.quiet_hours import QuietHours, out_of_quiet_hours
from shared.domain import Decider, NotFound
from shared.events import DomainEvent

REMINDERS: tuple[tuple[Purpose, timedelta], ...] = (
    ("reminder_72h", timedelta(hours=72)),
    ("reminder_24h", timedelta(hours=24)),
)


@dataclass(frozen=True)
class AppointmentMessages:
    patient_id: str | None = None
    start: datetime | None = None  # the visit's current start
    cancelled: bool = False
    messages: Mapping[str, Message] = field(default_factory=dict)

    def pending(self) -> list[Message]:
        return [m for m in self.messages.values() if m.pending]


class PlanMessages(DeliveryCommand):
    """At a booking, or a move (a new `start`): plan its confirmation (or reschedule notice)
    and reminders."""

    appointment_id: str
    patient_id: str
    site_id: str
    start: AwareDatetime
    zone: tzinfo
    consent: Consent
    now: AwareDatetime
    quiet: QuietHours = QuietHours()


class CancelMessages(DeliveryCommand):
    """The appointment is cancelled: pending messages will not go; a cancellation notice will,
    if the visit is still ahead."""

    appointment_id: str
    patient_id: str
    site_id: str
    zone: tzinfo
    consent: Consent
    now: AwareDatetime
    quiet: QuietHours = QuietHours()


AppointmentCommand = PlanMessages | CancelMessages | FireMessage | RecordOutcome


def message_id(appointment_id: str, purpose: Purpose, start: datetime) -> str:
    return f"{appointment_id}:{purpose}:{start.astimezone(UTC):%Y%m%dT%H%MZ}"


def message_text(purpose: Purpose, site_name: str, local_start: datetime, links: str) -> str:
    """What the patient reads: the site and the local date and time, nothing clinical."""
    when = f"{local_start:%a %d %b %Y} at {local_start:%H:%M}"
    if purpose == "recall":
        return f"Time to book your next visit at {site_name}: your last was on {when}."
    opening = {
        "confirmation": "You are booked",
        "reminder_72h": "Reminder",
        "reminder_24h": "Reminder",
        "reschedule_notice": "Your appointment has moved",
        "cancellation_notice": "Cancelled",
        "survey": "Thank you for coming",
    }.get(purpose, "About")
    return f"{opening}: your appointment at {site_name} on {when}. {links}".strip()


def _plan(c: PlanMessages, first: bool) -> list[DomainEvent]:
    channel = c.consent.channel()
    if channel is None:
        return []
    notice: Purpose = "confirmation" if first else "reschedule_notice"
    wanted: list[tuple[Purpose, datetime]] = [(notice, c.now)]
    wanted += [(p, c.start - before) for p, before in REMINDERS if c.start - before > c.now]
    events: list[DomainEvent] = []
    for purpose, moment in wanted:
        send_at = out_of_quiet_hours(max(moment, c.now), c.zone, c.quiet)
        if send_at >= c.start:
            continue  # never at or after the visit
        events.append(
            MessageScheduled(
                message_id=message_id(c.appointment_id, purpose, c.start),
                patient_id=c.patient_id,
                site_id=c.site_id,
                purpose=purpose,
                channel=channel,
                send_at=send_at,
                appointment_id=c.appointment_id,
                appointment_start=c.start,
            )
        )
    return events


def _cancel_pending(
    state: AppointmentMessages,
    reason: Literal["appointment_cancelled", "appointment_moved"],
    at: datetime,
) -> list[DomainEvent]:
    return [
        MessageCancelled(
            message_id=m.message_id,
            patient_id=state.patient_id or "",
            reason=reason,
            cancelled_at=at,
        )
        for m in state.pending()
    ]


def _decide(state: AppointmentMessages, c: AppointmentCommand) -> Sequence[DomainEvent]:
    match c:
        case PlanMessages():
            if state.cancelled or state.start == c.start:
                return []  # a redelivery, or a booking seen after its cancellation
            moved = state.start is not None
            return [*_cancel_pending(state, "appointment_moved", c.now), *_plan(c, not moved)]
        case CancelMessages():
            return [] if state.cancelled else _stop(state, c)
        case FireMessage():
            return _fire(state, c)
        case RecordOutcome():
            return answer(_message(state, c.message_id), c)


def _stop(state: AppointmentMessages, c: CancelMessages) -> list[DomainEvent]:
    stopped = AppointmentMessagesStopped(
        appointment_id=c.appointment_id, patient_id=c.patient_id, stopped_at=c.now
    )
    events: list[DomainEvent] = [stopped, *_cancel_pending(state, "appointment_cancelled", c.now)]
    channel = c.consent.channel()
    send_at = out_of_quiet_hours(c.now, c.zone, c.quiet)
    if channel is None or state.start is None or send_at >= state.start:
        return events  # nobody to tell, nothing ever planned, or the visit is (nearly) past
    notice = MessageScheduled(
        message_id=message_id(c.appointment_id, "cancellation_notice", state.start),
        patient_id=c.patient_id,
        site_id=c.site_id,
        purpose="cancellation_notice",
        channel=channel,
        send_at=send_at,
        appointment_id=c.appointment_id,
        appointment_start=state.start,
    )
    return [*events, notice]


def _fire(state: AppointmentMessages, c: FireMessage) -> Sequence[DomainEvent]:
    message = _message(state, c.message_id)
    if not message.offered(c.now):
        return []  # cancelled (the race with a cancellation), gone, still leased, or early
    if state.cancelled and message.purpose != "cancellation_notice":
        # Only an attempt released before the cancellation, its answer lost, is left: its
        # sender died, and the appointment is cancelled now; it is not offered again.
        return [
            MessageCancelled(
                message_id=message.message_id,
                patient_id=message.patient_id,
                reason="appointment_cancelled",
                cancelled_at=c.now,
            )
        ]
    after_visit = message.purpose in ("survey", "recall")  # about a visit that took place
    if not after_visit and state.start is not None and c.now >= state.start:
        # The visit has begun (a timer late after an outage): a reminder now helps nobody.
        return [
            MessageCancelled(
                message_id=message.message_id,
                patient_id=message.patient_id,
                reason="visit_passed",
                cancelled_at=c.now,
            )
        ]
    return release(message, c)


def _message(state: AppointmentMessages, message_id: str) -> Message:
    message = state.messages.get(message_id)
    if message is None:
        raise NotFound(f"no message {message_id}")
    return message


def _evolve(state: AppointmentMessages, event: DomainEvent) -> AppointmentMessages:
    match event:
        case MessageScheduled():
            start = (
                state.start if event.purpose == "cancellation_notice" else event.appointment_start
            )
            return _put(replace(state, patient_id=event.patient_id, start=start), scheduled(event))
        case AppointmentMessagesStopped():
            return replace(state, patient_id=event.patient_id, cancelled=True)
        case (
            MessageCancelled()
            | MessageReleased()
            | MessageSent()
            | MessageDeliveryFailed()
            | MessageRetried()
            | MessageGivenUp()
            | MessageBounced()
        ):
            return _put(state, evolve_message(state.messages[event.message_id], event))
    return state


def _put(state: AppointmentMessages, message: Message) -> AppointmentMessages:
    return replace(state, messages={**state.messages, message.message_id: message})


appointment_messages = Decider[AppointmentMessages, AppointmentCommand](
    AppointmentMessages(), _evolve, _decide
)
