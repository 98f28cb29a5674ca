"""The survey message about a completed visit, planned on the appointment's stream beside its
other messages (so the delivery timer sends it like them: once, on the channel consented to
when it fires, out of the site's quiet hours). Planned once per visit: its id is made of the
appointment, the purpose and the visit's start, and planning it again plans nothing. It goes
`SURVEY_DELAY` after the visit ended, moved out of the quiet hours; never for a patient with
no consented channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta, tzinfo

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

SURVEY_DELAY = timedelta(hours=2)


class PlanSurvey(DeliveryCommand):
    appointment_id: str
    patient_id: str
    site_id: str
    start: AwareDatetime  # the visit's
    completed_at: AwareDatetime
    zone: tzinfo
    consent: Consent
    now: AwareDatetime
    quiet: QuietHours = QuietHours()


def _decide(state: AppointmentMessages, c: PlanSurvey) -> Sequence[DomainEvent]:
    survey_id = message_id(c.appointment_id, "survey", c.start)
    channel = c.consent.channel()
    if survey_id in state.messages or channel is None:
        return []
    send_at = out_of_quiet_hours(max(c.completed_at + SURVEY_DELAY, c.now), c.zone, c.quiet)
    return [
        MessageScheduled(
            message_id=survey_id,
            patient_id=c.patient_id,
            site_id=c.site_id,
            purpose="survey",
            channel=channel,
            send_at=send_at,
            appointment_id=c.appointment_id,
            appointment_start=c.start,
        )
    ]


survey_message = Decider[AppointmentMessages, PlanSurvey](
    appointment_messages.initial, appointment_messages.evolve, _decide
)
