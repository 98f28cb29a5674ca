"""Patients: forgetting one, and the record of every disclosure of one's data.

Registration comes with the scheduling issue.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import AwareDatetime, BaseModel, ConfigDict

from services.scheduling.domain.events import PatientForgotten, PatientRecordAccessed
from shared.domain import Decider, Invalid
from shared.events import DomainEvent


class ForgetPatient(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    patient_id: str
    reason: str
    forgotten_at: AwareDatetime


def _evolve(forgotten: bool, event: DomainEvent) -> bool:
    return forgotten or isinstance(event, PatientForgotten)


def _decide(forgotten: bool, command: ForgetPatient) -> Sequence[DomainEvent]:
    if not command.reason.strip():
        raise Invalid("forgetting a patient needs a reason")
    if forgotten:
        return []  # forgotten already: asking again changes nothing
    return [PatientForgotten(**command.model_dump())]


forgetting = Decider[bool, ForgetPatient](False, _evolve, _decide)


class RecordAccess(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    patient_id: str
    endpoint: str
    purpose: str | None
    outcome: str
    accessed_at: AwareDatetime


def _record(_: None, command: RecordAccess) -> Sequence[DomainEvent]:
    return [PatientRecordAccessed(**command.model_dump())]


# Each disclosure is a stream of its own: recording one never waits for another.
access = Decider[None, RecordAccess](None, lambda state, _: state, _record)
