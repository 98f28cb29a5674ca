"""Given these events, when the patient confirms or cancels (at the front desk or through a
signed link naming the start they were told), then these events: confirmed once per booking,
refused once the visit moved or ended; and a link answer's outcome recorded once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.scheduling.domain.events import (
    AppointmentConfirmed,
    AppointmentRescheduled,
    PatientCheckedIn,
    PatientLinkAnswerApplied,
    PatientLinkAnswerRefused,
)
from services.scheduling.domain.patient_answers import RecordPatientAnswer, patient_answer
from services.scheduling.domain.site_day import CancelAppointment, ConfirmAppointment
from shared.domain import Rejected
from tests.unit.test_site_day import BOOKED_AT, at, booked, cancel, when

NOW = BOOKED_AT + timedelta(hours=1)


def confirm(expected: object = None) -> ConfirmAppointment:
    return ConfirmAppointment(appointment_id="a1", confirmed_at=NOW, expected_start=expected)


def test_a_booking_is_confirmed_once() -> None:
    [confirmed] = when([booked()], confirm())
    assert confirmed == AppointmentConfirmed(
        appointment_id="a1",
        patient_id="pat-a1",
        provider_id="dr-a",
        site_id="north",
        start=at(10),
        confirmed_at=NOW,
    )
    assert when([booked(), confirmed], confirm(at(10))) == []


def test_a_link_naming_an_earlier_start_neither_confirms_nor_cancels() -> None:
    moved = AppointmentRescheduled(
        appointment_id="a1",
        provider_id="dr-a",
        previous_provider_id="dr-a",
        room_id="exam-1",
        start=at(11),
        end=at(11, 30),
        rescheduled_at=NOW,
    )
    with pytest.raises(Rejected, match="has moved since"):
        when([booked(), moved], confirm(at(10)))
    link_cancel = CancelAppointment(**{**cancel().model_dump(), "expected_start": at(10)})
    with pytest.raises(Rejected, match="has moved since"):
        when([booked(), moved], link_cancel)
    assert len(when([booked(), moved], confirm(at(11)))) == 1


def test_a_visit_cancelled_or_begun_is_not_confirmed() -> None:
    [cancelled] = when([booked()], cancel())
    with pytest.raises(Rejected, match="it was cancelled"):
        when([booked(), cancelled], confirm(at(10)))
    arrived = PatientCheckedIn(
        appointment_id="a1", patient_id="pat-a1", provider_id="dr-a", checked_in_at=NOW
    )
    with pytest.raises(Rejected, match="checked in"):
        when([booked(), arrived], confirm())


def test_a_link_answers_outcome_is_recorded_once() -> None:
    def record(refused: str | None) -> RecordPatientAnswer:
        return RecordPatientAnswer(
            answer_id="ans-1", appointment_id="a1", action="cancel", refused_because=refused, at=NOW
        )

    [applied] = patient_answer.decide(patient_answer.initial, record(None))
    assert isinstance(applied, PatientLinkAnswerApplied)
    state = patient_answer.fold([applied])
    assert patient_answer.decide(state, record("too late")) == []
    [refused] = patient_answer.decide(patient_answer.initial, record("it was cancelled"))
    assert isinstance(refused, PatientLinkAnswerRefused)
    assert refused.reason == "it was cancelled"
