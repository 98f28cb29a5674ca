"""Scheduling events: what happened at the front desk, in the past tense."""

from __future__ import annotations

from typing import ClassVar

from pydantic import AwareDatetime

from shared.events import DomainEvent, EventRegistry
from shared.phi import Phi, PhiEvent


class SchedulingEvent(DomainEvent):
    context: ClassVar[str] = "scheduling"


class SiteRegistered(SchedulingEvent):
    site_id: str
    name: str
    time_zone: str


class RoomAdded(SchedulingEvent):
    room_id: str
    site_id: str
    name: str


class ProviderRegistered(SchedulingEvent):
    provider_id: str
    name: str
    site_ids: tuple[str, ...]


class VisitTypeDefined(SchedulingEvent):
    visit_type_id: str
    name: str
    duration_minutes: int


class AppointmentBooked(SchedulingEvent):
    appointment_id: str
    patient_id: str
    provider_id: str
    site_id: str
    room_id: str | None
    visit_type_id: str
    start: AwareDatetime
    end: AwareDatetime
    booked_at: AwareDatetime


class AppointmentCancelled(SchedulingEvent, PhiEvent):
    appointment_id: str
    # Free text about the patient: PHI, sealed under the patient's key.
    reason: Phi
    cancelled_at: AwareDatetime
    patient_id: str | None = None  # None only in events recorded before PHI was sealed


class PatientRegistered(SchedulingEvent, PhiEvent):
    patient_id: str
    name: Phi
    birth_date: Phi
    phone: Phi  # "" when the patient gave none
    registered_at: AwareDatetime
    # Added with intake; events recorded before then have none ("").
    email: Phi = ""
    address: Phi = ""  # postal address, free text


class PatientRecordAccessed(SchedulingEvent):
    """A response disclosed a patient's record: who (the actor), which patient, where, why."""

    patient_id: str
    endpoint: str
    purpose: str | None
    outcome: str
    accessed_at: AwareDatetime


class PatientForgotten(SchedulingEvent):
    patient_id: str
    reason: str
    forgotten_at: AwareDatetime


class CoverageRecorded(SchedulingEvent, PhiEvent):
    """An insurance coverage the patient named: the payer and plan, and their member id."""

    coverage_id: str
    patient_id: str
    payer_id: str
    payer_name: str
    plan: str
    relationship: str  # the patient to the subscriber: self, spouse, child, other
    member_id: Phi
    recorded_at: AwareDatetime


class IntakeRecorded(SchedulingEvent, PhiEvent):
    """What the patient told us before a visit: why they come, and their answers."""

    intake_id: str
    patient_id: str
    appointment_id: str | None
    reason_for_visit: Phi
    answers: Phi  # JSON text: a list of {"question", "answer"}
    recorded_at: AwareDatetime


class PatientTriaged(SchedulingEvent, PhiEvent):
    """A same-day patient joined a site's queue; urgency 1 (most urgent) to 5, as in ESI."""

    triage_id: str
    patient_id: str
    site_id: str
    urgency: int
    chief_complaint: Phi  # "" when none was given
    arrived_at: AwareDatetime


class PatientRetriaged(SchedulingEvent):
    triage_id: str
    patient_id: str
    urgency: int
    retriaged_at: AwareDatetime


class TriagedPatientSeen(SchedulingEvent):
    """The patient was called in to be seen: they leave the queue."""

    triage_id: str
    patient_id: str
    seen_at: AwareDatetime


class TriagedPatientLeft(SchedulingEvent):
    """The patient left before being seen."""

    triage_id: str
    patient_id: str
    left_at: AwareDatetime


registry = EventRegistry(
    [
        SiteRegistered,
        RoomAdded,
        ProviderRegistered,
        VisitTypeDefined,
        AppointmentBooked,
        AppointmentCancelled,
        PatientRegistered,
        PatientForgotten,
        PatientRecordAccessed,
        CoverageRecorded,
        IntakeRecorded,
        PatientTriaged,
        PatientRetriaged,
        TriagedPatientSeen,
        TriagedPatientLeft,
    ]
)
