"""A recall's message, planned on the stream of the visit the recall follows, beside that visit's
other messages (so the delivery timer sends it like them: once, on the channel consented to
when it fires, out of the site's quiet hours). Planned once per recall: its id is made of the
appointment, the purpose and the visit's start, and planning it again plans nothing; never for
a patient with no consented channel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from pydantic import AwareDatetime

from services.engagement.domain.consent import Consent
from services.engagement.domain.delivery import DeliveryCommand
from services.engagement.domain.events import MessageScheduled
from services.engagement.domain.quiet_hours import QuietHours, out_of_quiet_hours
from services.engagement.domain.reminders import (
    AppointmentMessages,
    appointment_messages,
    message_id,
)
from shared.domain import Decider
from shared.events import DomainEvent


class PlanRecallMessage(DeliveryCommand):
    appointment_id: str  # the visit the recall follows
    patient_id: str
    site_id: str
    visit_start: AwareDatetime
    zone: tzinfo
    consent: Consent
    now: AwareDatetime
    quiet: QuietHours = QuietHours()


def recall_message_id(appointment_id: str, visit_start: AwareDatetime) -> str:
    return message_id(appointment_id, "recall", visit_start)


def _decide(state: AppointmentMessages, c: PlanRecallMessage) -> Sequence[DomainEvent]:
    planned = recall_message_id(c.appointment_id, c.visit_start)
    channel = c.consent.channel()
    if planned in state.messages or channel is None:
        return []
    return [
        MessageScheduled(
            message_id=planned,
            patient_id=c.patient_id,
            site_id=c.site_id,
            purpose="recall",
            channel=channel,
            send_at=out_of_quiet_hours(c.now, c.zone, c.quiet),
            appointment_id=c.appointment_id,
            appointment_start=c.visit_start,
        )
    ]


recall_message = Decider[AppointmentMessages, PlanRecallMessage](
    appointment_messages.initial, appointment_messages.evolve, _decide
)
