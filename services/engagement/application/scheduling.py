"""What engagement does with scheduling's appointments (consumer group
`reactor.engagement.plan_messages`): each booking, move, cancellation and withdrawal becomes a
command on the appointment's messages. A redelivered event decides nothing new (the deciders
plan a message once per appointment and threshold, and stop an appointment once)."""

from __future__ import annotations

from services.engagement.application.messages import AppointmentMessagesUseCases
from services.scheduling.contracts import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentRescheduled,
    AppointmentWithdrawn,
)
from shared.events import DomainEvent, Envelope, Metadata

SYSTEM = "system:engagement"


def caused_by(envelope: Envelope) -> Metadata:
    return Metadata.reacting_to(envelope, SYSTEM)


class PlanAppointmentMessages:
    """A move to another day or site is published as `AppointmentMovedOut` here and a booking
    there: the booking plans (cancelling what the old start planned), the move-out does
    nothing, so their order does not matter."""

    name = "engagement.plan_messages"
    contexts = ("scheduling",)

    def __init__(self, messages: AppointmentMessagesUseCases) -> None:
        self._messages = messages

    async def react(self, event: DomainEvent, envelope: Envelope) -> None:
        meta = caused_by(envelope)
        match event:
            case AppointmentBooked():
                await self._messages.plan(
                    meta, event.appointment_id, event.patient_id, event.site_id, event.start
                )
            case AppointmentRescheduled():
                await self._messages.replan(meta, event.appointment_id, event.start)
            case AppointmentCancelled():
                await self._messages.cancel(
                    meta, event.appointment_id, event.patient_id, event.site_id
                )
            case AppointmentWithdrawn():
                await self._messages.cancel(meta, event.appointment_id, None, None, notify=False)
