"""What became of a patient's answer through engagement's signed link, on
`patient-answer:<answer_id>`: applied (the appointment confirmed or cancelled) or refused, with
scheduling's reason. Recorded once: a redelivered answer finds its outcome and does nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import AwareDatetime

from services.scheduling.domain.events import PatientLinkAnswerApplied, PatientLinkAnswerRefused
from shared.domain import Command, Decider
from shared.events import DomainEvent


@dataclass(frozen=True)
class PatientAnswer:
    outcome: PatientLinkAnswerApplied | PatientLinkAnswerRefused | None = None


class RecordPatientAnswer(Command):
    answer_id: str
    appointment_id: str
    action: str
    refused_because: str | None  # None: applied
    at: AwareDatetime


def _evolve(state: PatientAnswer, event: DomainEvent) -> PatientAnswer:
    if isinstance(event, PatientLinkAnswerApplied | PatientLinkAnswerRefused):
        return PatientAnswer(event)
    return state


def _decide(state: PatientAnswer, c: RecordPatientAnswer) -> Sequence[DomainEvent]:
    if state.outcome is not None:
        return []
    if c.refused_because is None:
        return [
            PatientLinkAnswerApplied(
                answer_id=c.answer_id,
                appointment_id=c.appointment_id,
                action=c.action,
                applied_at=c.at,
            )
        ]
    return [
        PatientLinkAnswerRefused(
            answer_id=c.answer_id,
            appointment_id=c.appointment_id,
            action=c.action,
            reason=c.refused_because,
            refused_at=c.at,
        )
    ]


patient_answer = Decider[PatientAnswer, RecordPatientAnswer](PatientAnswer(), _evolve, _decide)
