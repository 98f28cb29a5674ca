"""Patients: registration (demographics are PHI), forgetting, and every disclosure recorded.

Coverage and intake are in `intake.py`, same-day triage in `triage.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from pydantic import AwareDatetime, BaseModel, ConfigDict

from services.scheduling.domain.calendar import check_calendar
from services.scheduling.domain.events import (
    PatientForgotten,
    PatientRecordAccessed,
    PatientRegistered,
)
from shared.domain import Decider, Invalid, NotFound, Rejected, disclosure_decider
from shared.events import DomainEvent

# Administrative sex as FHIR's `gender` codes it (and X12's DMG03 maps it: F, M, U).
SEXES = ("female", "male", "other", "unknown")


class RegisterPatient(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    patient_id: str
    name: str
    birth_date: date
    phone: str
    registered_at: AwareDatetime
    email: str = ""
    address: str = ""
    sex: str = ""  # one of SEXES, or "" not given


class ForgetPatient(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    patient_id: str
    reason: str
    forgotten_at: AwareDatetime


@dataclass(frozen=True)
class PatientRecord:
    registered: bool = False
    forgotten: bool = False


class Forgotten(Rejected):
    """The patient was forgotten: nothing new is recorded for them (HTTP 409)."""


def check_may_be_named(record: PatientRecord, patient_id: str) -> None:
    """A new booking, series, waitlist entry or triage names a registered patient (404) who
    was not forgotten (409). Forgetting is final: new work under a forgotten id would gather
    new data about someone whose data was promised gone, and the desk would see only
    "[redacted]"; a person who comes back registers anew, under a key of their own."""
    if not record.registered:
        raise NotFound(f"patient {patient_id} not found")
    if record.forgotten:
        raise Forgotten(f"patient {patient_id} was forgotten")


def _evolve(record: PatientRecord, event: DomainEvent) -> PatientRecord:
    if isinstance(event, PatientRegistered):
        return PatientRecord(registered=True, forgotten=record.forgotten)
    if isinstance(event, PatientForgotten):
        return PatientRecord(registered=record.registered, forgotten=True)
    return record


def _decide(
    record: PatientRecord, command: RegisterPatient | ForgetPatient
) -> Sequence[DomainEvent]:
    check_calendar(command)
    if isinstance(command, RegisterPatient):
        if record.forgotten:
            raise Rejected(f"patient {command.patient_id} was forgotten")
        if record.registered:
            raise Rejected(f"patient {command.patient_id} is already registered")
        if command.birth_date > command.registered_at.date():
            raise Invalid("a birth date cannot be in the future")
        if command.sex and command.sex not in SEXES:
            raise Invalid(f"sex is one of {', '.join(SEXES)}")
        fields = command.model_dump()
        fields["birth_date"] = command.birth_date.isoformat()
        return [PatientRegistered(**fields)]
    if not command.reason.strip():
        raise Invalid("forgetting a patient needs a reason")
    if record.forgotten:
        return []  # forgotten already: asking again changes nothing
    return [PatientForgotten(**command.model_dump())]


patient = Decider[PatientRecord, RegisterPatient | ForgetPatient](PatientRecord(), _evolve, _decide)


access = disclosure_decider(PatientRecordAccessed)
