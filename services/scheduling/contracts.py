"""What scheduling publishes: every event it records, on `medoffice.scheduling.events`.

The one module of scheduling that another service may import (tests/unit/test_architecture.py).
The models live in `domain/events.py`, where the deciders make them; this module is their
published surface, pinned by tests/unit/test_contracts.py: removing or renaming a name here, or
changing an event's fields other than by adding one with a default, breaks its consumers. A
changed meaning is a new version (`version = 2`) with an upcaster in the registry.

Scheduling consumes staffing's events too (`consumes`): providers, their sites, licences, leave,
time off and termination are staffing's facts, which scheduling records on each provider's
stream as its own events (`ProviderLicenceRevoked`...). And engagement's: a patient's answer
through a signed link becomes the confirmation or cancellation the front desk would record.

PHI fields (`Phi`) travel sealed (`Sealed`) under the patient's key, named by `patient_id`.
"""

from __future__ import annotations

from services.scheduling.domain.events import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentConfirmed,
    AppointmentMovedOut,
    AppointmentNoShow,
    AppointmentRescheduled,
    AppointmentWithdrawn,
    AvailabilitySet,
    CoverageRecorded,
    Hours,
    IntakeRecorded,
    PatientCheckedIn,
    PatientForgotten,
    PatientLinkAnswerApplied,
    PatientLinkAnswerRefused,
    PatientRecordAccessed,
    PatientRegistered,
    PatientRetriaged,
    PatientRoomed,
    PatientTriaged,
    ProviderDeactivated,
    ProviderIdentified,
    ProviderJobChanged,
    ProviderLeaveEnded,
    ProviderLeaveStarted,
    ProviderLicenceRecorded,
    ProviderLicenceRenewed,
    ProviderLicenceRevoked,
    ProviderLicenceVerified,
    ProviderRegistered,
    ProviderRehired,
    ProviderTerminated,
    ProviderTimeOffApproved,
    ProviderTimeOffCancelled,
    RoomAdded,
    SeriesBooked,
    SeriesRefused,
    SeriesRequested,
    SiteRegistered,
    ThirdNextAvailableMeasured,
    TimeBlocked,
    TriagedPatientLeft,
    TriagedPatientSeen,
    VisitCompleted,
    VisitTypeDefined,
    WaitlistEntryAdded,
    WaitlistEntryRemoved,
    WaitlistOfferAccepted,
    WaitlistOfferDeclined,
    WaitlistOfferExpired,
    WaitlistOfferLapsed,
    WaitlistOfferMade,
    Window,
    registry,
)
from shared.contracts import Contract
from shared.phi import Sealed

EVENTS = registry.events()  # every event scheduling records, as its registry decodes them

CONTRACT = Contract(
    context="scheduling",
    summary="Sites, providers, patients, appointments, series, triage and the waitlist.",
    events=EVENTS,
    registry=registry,
    # Staffing's events tell scheduling who its providers are (see application/staffing.py);
    # engagement's, what patients answered through its signed links (application/links.py).
    consumes=("scheduling", "staffing", "engagement"),
)

__all__ = [
    "AppointmentBooked",
    "AppointmentCancelled",
    "AppointmentConfirmed",
    "AppointmentMovedOut",
    "AppointmentNoShow",
    "AppointmentRescheduled",
    "AppointmentWithdrawn",
    "AvailabilitySet",
    "CONTRACT",
    "CoverageRecorded",
    "EVENTS",
    "Hours",
    "IntakeRecorded",
    "PatientCheckedIn",
    "PatientForgotten",
    "PatientLinkAnswerApplied",
    "PatientLinkAnswerRefused",
    "ThirdNextAvailableMeasured",
    "PatientRecordAccessed",
    "PatientRegistered",
    "PatientRetriaged",
    "PatientRoomed",
    "PatientTriaged",
    "ProviderDeactivated",
    "ProviderIdentified",
    "ProviderJobChanged",
    "ProviderLeaveEnded",
    "ProviderLeaveStarted",
    "ProviderLicenceRecorded",
    "ProviderLicenceRenewed",
    "ProviderLicenceRevoked",
    "ProviderLicenceVerified",
    "ProviderRegistered",
    "ProviderRehired",
    "ProviderTerminated",
    "ProviderTimeOffApproved",
    "ProviderTimeOffCancelled",
    "RoomAdded",
    "Sealed",
    "SeriesBooked",
    "SeriesRefused",
    "SeriesRequested",
    "SiteRegistered",
    "TimeBlocked",
    "TriagedPatientLeft",
    "TriagedPatientSeen",
    "VisitCompleted",
    "VisitTypeDefined",
    "WaitlistEntryAdded",
    "WaitlistEntryRemoved",
    "WaitlistOfferAccepted",
    "WaitlistOfferDeclined",
    "WaitlistOfferExpired",
    "WaitlistOfferLapsed",
    "WaitlistOfferMade",
    "Window",
    "registry",
]
