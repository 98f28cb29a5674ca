"""Given an appointment's messages, when its visit completes, then its survey message: once per
visit, two hours after the visit ended, out of the site's quiet hours, on the channel consented
to; nothing for a patient with none. The timer sends it after the visit (a reminder then would
be cancelled), and only while the channel is still consented to. Given a message's links, a
patient's answer through one: once per link, refused once the appointment was cancelled or
moved from the start the link named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

import pytest

from services.engagement.domain.consent import Consent
from services.engagement.domain.delivery import FireMessage
from services.engagement.domain.events import (
    AppointmentMessagesStopped,
    MessageCancelled,
    MessageReleased,
    MessageScheduled,
    PatientAnsweredLink,
)
from services.engagement.domain.link_answers import AnswerLink, answer_id, link_answers
from services.engagement.domain.reminders import appointment_messages, message_id
from services.engagement.domain.survey_messages import PlanSurvey, survey_message
from services.engagement.projections.nps import band, scored
from shared.domain import NotFound, Rejected
from shared.events import DomainEvent
from tests.unit.test_engagement_reminders import (
    BOOKED_AT,
    EMAIL_FIRST,
    NEW_YORK,
    NOBODY,
    SMS,
    START,
    plan,
    utc,
)

ENDED = START + timedelta(minutes=30)  # 11:00 EDT
SURVEY = message_id("ap-1", "survey", START)


def survey(ended: datetime = ENDED, who: Consent = SMS) -> PlanSurvey:
    return PlanSurvey(
        appointment_id="ap-1",
        patient_id="pt-1",
        site_id="site-1",
        start=START,
        completed_at=ended,
        zone=NEW_YORK,
        consent=who,
        now=ended,
    )


def booked() -> list[DomainEvent]:
    return list(appointment_messages.decide(appointment_messages.initial, plan()))


def test_a_completed_visit_plans_its_survey_once_two_hours_after() -> None:
    given = booked()
    [planned] = survey_message.decide(survey_message.fold(given), survey())
    assert isinstance(planned, MessageScheduled)
    assert (planned.message_id, planned.purpose, planned.channel) == (SURVEY, "survey", "sms")
    assert planned.send_at == ENDED + timedelta(hours=2)
    again = survey_message.fold([*given, planned])
    assert survey_message.decide(again, survey()) == []


def test_a_survey_is_moved_out_of_the_quiet_hours_and_needs_a_channel() -> None:
    late = utc(2026, 3, 10, 23, 30)  # 19:30 EDT: two hours on is 21:30, quiet until 08:00
    [planned] = survey_message.decide(survey_message.initial, survey(late, EMAIL_FIRST))
    assert isinstance(planned, MessageScheduled)
    assert planned.send_at == datetime(2026, 3, 11, 12, 0, tzinfo=UTC)  # 08:00 EDT
    assert planned.channel == "email"
    assert survey_message.decide(survey_message.initial, survey(who=NOBODY)) == []


def test_the_survey_goes_after_the_visit_and_only_to_a_consented_channel() -> None:
    [planned] = survey_message.decide(survey_message.initial, survey())
    state = appointment_messages.fold([*booked(), planned])
    due = ENDED + timedelta(hours=2)
    [released] = appointment_messages.decide(
        state, FireMessage(message_id=SURVEY, consent=SMS, now=due)
    )
    assert isinstance(released, MessageReleased)
    [dropped] = appointment_messages.decide(
        state, FireMessage(message_id=SURVEY, consent=NOBODY, now=due)
    )
    assert isinstance(dropped, MessageCancelled)
    assert dropped.reason == "opted_out"


def answer(action: Literal["confirm", "cancel"] = "confirm", start: datetime = START) -> AnswerLink:
    return AnswerLink(
        answer_id=answer_id("ap-1", action, start),
        appointment_id="ap-1",
        action=action,
        appointment_start=start,
        now=BOOKED_AT,
    )


def test_a_link_is_answered_once_while_it_names_the_appointment_as_it_stands() -> None:
    given = booked()
    [answered] = link_answers.decide(link_answers.fold(given), answer())
    assert isinstance(answered, PatientAnsweredLink)
    assert (answered.patient_id, answered.site_id, answered.action) == ("pt-1", "site-1", "confirm")
    with pytest.raises(Rejected, match="answered already"):
        link_answers.decide(link_answers.fold([*given, answered]), answer())
    # The other link of the message is answered apart: the patient changed their mind.
    assert len(link_answers.decide(link_answers.fold([*given, answered]), answer("cancel"))) == 1
    with pytest.raises(Rejected, match="moved"):
        link_answers.decide(link_answers.fold(given), answer(start=START + timedelta(hours=1)))
    stopped = AppointmentMessagesStopped(
        appointment_id="ap-1", patient_id="pt-1", stopped_at=BOOKED_AT
    )
    with pytest.raises(Rejected, match="cancelled"):
        link_answers.decide(link_answers.fold([*given, stopped]), answer())
    with pytest.raises(NotFound):
        link_answers.decide(link_answers.initial, answer())


def test_nps_documents_count_bands_and_score_them_as_the_domain_does() -> None:
    assert [band(s) for s in (0, 6, 7, 8, 9, 10)] == [
        "detractors",
        "detractors",
        "passives",
        "passives",
        "promoters",
        "promoters",
    ]
    doc = {"site_id": "north", "month": "2026-12", "promoters": 3, "passives": 4, "detractors": 1}
    assert scored(doc) == {
        "site_id": "north",
        "month": "2026-12",
        "promoters": 3,
        "passives": 4,
        "detractors": 1,
        "answers": 8,
        "nps": 25,
    }
