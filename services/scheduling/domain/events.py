"""Scheduling events: what happened at the front desk, in the past tense.

Fields added after an event type was first recorded have defaults, so every stored version
still decodes.
"""

from __future__ import annotations

from datetime import date, time
from typing import ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict

from shared.events import DomainEvent, EventRegistry
from shared.phi import Phi, PhiEvent


class SchedulingEvent(DomainEvent):
    context: ClassVar[str] = "scheduling"


class Hours(BaseModel):
    """Open from `opens` to `closes` (local time) on `weekday` (0 = Monday ... 6 = Sunday)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    weekday: int
    opens: time
    closes: time


WEEKDAYS_8_TO_6 = tuple(
    Hours(weekday=d, opens=time.fromisoformat("08:00"), closes=time.fromisoformat("18:00"))
    for d in range(5)
)


# ----------------------------------------------------------------------------- directory


class SiteRegistered(SchedulingEvent):
    site_id: str
    name: str
    time_zone: str
    opening_hours: tuple[Hours, ...] = WEEKDAYS_8_TO_6
    late_cancel_hours: int = 24  # a cancellation closer than this to the start is "late"
    no_show_grace_minutes: int = 30  # after start + grace, a patient not arrived is a no-show


class RoomAdded(SchedulingEvent):
    room_id: str
    site_id: str
    name: str
    room_type: str = "exam"


class VisitTypeDefined(SchedulingEvent):
    visit_type_id: str
    name: str
    duration_minutes: int
    room_type: str | None = "exam"  # None: needs no room
    provider_roles: tuple[str, ...] = ()  # empty: any provider role


# ----------------------------------------------------------------------------- providers


# Staffing's facts about a provider (hire, job, leave, termination, licences, time off) are
# recorded on the provider's stream as scheduling events carrying `learnt_from`: the id of the
# staffing event they came from, which makes learning it again (a redelivery) change nothing.
# Events recorded by scheduling's own admin endpoints have `learnt_from` None.


class ProviderRegistered(SchedulingEvent):
    provider_id: str
    name: str
    site_ids: tuple[str, ...]
    role: str = "physician"
    hired_on: date | None = None  # None: registered by an admin, bookable from any day
    learnt_from: str | None = None


class ProviderLicenceRecorded(SchedulingEvent):
    provider_id: str
    licence_id: str
    kind: str  # e.g. "state medical licence"
    valid_from: date
    valid_until: date  # the last valid day (date.max: it does not expire)
    learnt_from: str | None = None


class ProviderTimeOffApproved(SchedulingEvent):
    provider_id: str
    time_off_id: str
    start: AwareDatetime
    end: AwareDatetime
    learnt_from: str | None = None


class ProviderDeactivated(SchedulingEvent):
    provider_id: str
    deactivated_at: AwareDatetime


class ProviderRehired(SchedulingEvent):
    """Hired again (or hired, as staffing says, after an admin registered them): bookable
    again from `hired_on`, in this role and at these sites."""

    provider_id: str
    name: str
    site_ids: tuple[str, ...]
    role: str
    hired_on: date
    learnt_from: str


class ProviderJobChanged(SchedulingEvent):
    """Another role or other sites from `effective_on`; `sees_patients` False (a role that is
    not a provider's, e.g. manager): not bookable from then."""

    provider_id: str
    role: str
    site_ids: tuple[str, ...]
    effective_on: date
    sees_patients: bool
    learnt_from: str
    # The employee's name from staffing: someone hired into a role without patients, whom
    # scheduling never registered, is registered by a change into a provider's role.
    name: str | None = None


class ProviderLeaveStarted(SchedulingEvent):
    """On leave from `starts_on` until a `ProviderLeaveEnded` of the same leave: not bookable."""

    provider_id: str
    leave_id: str
    starts_on: date
    learnt_from: str


class ProviderLeaveEnded(SchedulingEvent):
    provider_id: str
    leave_id: str
    returned_on: date  # the first day back at work
    learnt_from: str


class ProviderTerminated(SchedulingEvent):
    """Employment ends after `last_day`: not bookable from the day after (until a rehire)."""

    provider_id: str
    last_day: date
    learnt_from: str


class ProviderIdentified(SchedulingEvent):
    """The provider's NPI, taxonomy code and specialty, as staffing recorded them."""

    provider_id: str
    npi: str
    taxonomy_code: str
    specialty: str
    learnt_from: str


class ProviderLicenceRenewed(SchedulingEvent):
    """The licence is valid to a new last day (the latest renewal recorded counts)."""

    provider_id: str
    licence_id: str
    valid_until: date
    learnt_from: str


class ProviderLicenceRevoked(SchedulingEvent):
    """Revoked, suspended or surrendered: invalid from `effective_on` (inclusive)."""

    provider_id: str
    licence_id: str
    effective_on: date
    learnt_from: str


class ProviderLicenceVerified(SchedulingEvent):
    """A primary-source verification on `verified_on`: from that day the latest verification
    decides, so a failed one makes the licence invalid until one passes."""

    provider_id: str
    licence_id: str
    verified_on: date
    passed: bool
    learnt_from: str


class ProviderTimeOffCancelled(SchedulingEvent):
    """Approved time off withdrawn: bookable then again."""

    provider_id: str
    time_off_id: str
    learnt_from: str


class Window(BaseModel):
    """From `start` to `end` local time on `weekday` (0 = Monday)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    weekday: int
    start: time
    end: time


class AvailabilitySet(SchedulingEvent):
    """A provider's weekly template at one site from `effective_from`, replacing the earlier."""

    provider_id: str
    site_id: str
    template_id: str
    windows: tuple[Window, ...]
    effective_from: date
    effective_until: date | None


class TimeBlocked(SchedulingEvent):
    """An exception to the template: the provider takes no bookings from `start` to `end`."""

    provider_id: str
    block_id: str
    start: AwareDatetime
    end: AwareDatetime
    reason: str


# -------------------------------------------------------------------------- appointments


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
    series_id: str | None = None
    rescheduled_from: str | None = None  # the site-day stream it moved from


class AppointmentRescheduled(SchedulingEvent):
    """Moved within the same site and day (possibly to another provider or room)."""

    appointment_id: str
    provider_id: str
    previous_provider_id: str
    room_id: str | None
    start: AwareDatetime
    end: AwareDatetime
    rescheduled_at: AwareDatetime


class AppointmentMovedOut(SchedulingEvent):
    """Rescheduled to another day or site: booked there, and this slot is free again."""

    appointment_id: str
    provider_id: str
    to_stream: str
    moved_at: AwareDatetime


class AppointmentWithdrawn(SchedulingEvent):
    """A booking undone by the process that made it (a series that could not be booked whole,
    a move that could not finish): the slot is free again, and it never was an appointment."""

    appointment_id: str
    provider_id: str
    reason: str
    withdrawn_at: AwareDatetime


class AppointmentCancelled(SchedulingEvent, PhiEvent):
    appointment_id: str
    # Free text about the patient: PHI, sealed under the patient's key.
    reason: Phi
    cancelled_at: AwareDatetime
    patient_id: str | None = None  # None only in events recorded before PHI was sealed
    late: bool = False  # inside the site's late-cancellation window
    # The freed slot, for the waitlist (None in events recorded before they were added).
    provider_id: str | None = None
    site_id: str | None = None
    room_id: str | None = None
    visit_type_id: str | None = None
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None


class PatientCheckedIn(SchedulingEvent):
    appointment_id: str
    patient_id: str
    provider_id: str
    checked_in_at: AwareDatetime


class PatientRoomed(SchedulingEvent):
    appointment_id: str
    provider_id: str
    room_id: str | None
    roomed_at: AwareDatetime


class VisitCompleted(SchedulingEvent):
    """The visit took place: what billing charges for (CPT/HCPCS procedures, ICD-10-CM)."""

    appointment_id: str
    patient_id: str
    provider_id: str
    site_id: str
    visit_type_id: str
    start: AwareDatetime
    procedures: tuple[str, ...]
    diagnoses: tuple[str, ...]
    completed_at: AwareDatetime


class AppointmentConfirmed(SchedulingEvent):
    """The patient said they will come: at the front desk, or through a signed link in a
    message (the actor then is `patient-link:<appointment>`). Confirmed once per booking: a
    move to another day or site books it anew, to be confirmed again."""

    appointment_id: str
    patient_id: str
    provider_id: str
    site_id: str
    start: AwareDatetime
    confirmed_at: AwareDatetime


class PatientLinkAnswerApplied(SchedulingEvent):
    """A patient's answer through engagement's signed link (`answer_id`, its
    `PatientAnsweredLink`) became scheduling's command: the appointment confirmed or
    cancelled. Recorded once per answer, on `patient-answer:<answer_id>`."""

    answer_id: str
    appointment_id: str
    action: str  # "confirm" or "cancel"
    applied_at: AwareDatetime


class PatientLinkAnswerRefused(SchedulingEvent):
    """A patient's answer through a signed link that scheduling could not carry out: the
    appointment was cancelled, moved, checked in... (`reason`, scheduling's own words)."""

    answer_id: str
    appointment_id: str
    action: str
    reason: str
    refused_at: AwareDatetime


class AppointmentNoShow(SchedulingEvent):
    appointment_id: str
    patient_id: str
    provider_id: str
    recorded_at: AwareDatetime
    automatic: bool  # by the grace-period timer rather than by staff


# ------------------------------------------------------------------------------- series


class SeriesRequested(SchedulingEvent):
    """A recurring series, to be booked whole or not at all."""

    series_id: str
    patient_id: str
    provider_id: str
    site_id: str
    room_id: str | None
    visit_type_id: str
    starts: tuple[AwareDatetime, ...]
    appointment_ids: tuple[str, ...]
    requested_at: AwareDatetime


class SeriesBooked(SchedulingEvent):
    series_id: str
    booked_at: AwareDatetime


class SeriesRefused(SchedulingEvent):
    series_id: str
    reason: str
    refused_at: AwareDatetime


# ----------------------------------------------------------------------------- patients


class PatientRegistered(SchedulingEvent, PhiEvent):
    patient_id: str
    name: Phi
    birth_date: Phi
    phone: Phi  # "" when the patient gave none
    registered_at: AwareDatetime
    # Added with intake; events recorded before then have none ("").
    email: Phi = ""
    address: Phi = ""  # postal address, free text
    # Added for billing (claims name it); events recorded before then have none (""). One of
    # "female", "male", "other", "unknown" (FHIR's administrative gender), or "" not given.
    sex: Phi = ""


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
    # Added for billing; coverages recorded before then decode as primary, with no subscriber
    # other than the patient and no group. The latest coverage recorded at a priority replaces
    # any other there (the same coverage id recorded again updates it).
    priority: int = 1  # 1 primary, 2 secondary, 3 tertiary
    subscriber_name: Phi = ""  # "" when the patient is the subscriber
    group_number: str = ""


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


# ----------------------------------------------------------------------------- waitlist


class WaitlistEntryAdded(SchedulingEvent):
    """A patient waits for an earlier slot of a visit type at a site, between two local dates
    (with one provider, or with any when `provider_id` is None)."""

    entry_id: str
    patient_id: str
    site_id: str
    visit_type_id: str
    provider_id: str | None
    earliest: date
    latest: date
    added_at: AwareDatetime


class WaitlistEntryRemoved(SchedulingEvent):
    """Staff took the entry off the list: it gets no more offers."""

    entry_id: str
    patient_id: str
    removed_at: AwareDatetime


class WaitlistOfferMade(SchedulingEvent):
    """A freed slot is offered to one entry until `expires_at`; accepting it books the
    appointment `appointment_id`. `source_appointment_id` is the cancelled appointment whose
    slot this is: one freed slot is offered to one entry at a time, and to each entry once."""

    offer_id: str
    entry_id: str
    patient_id: str
    appointment_id: str
    source_appointment_id: str
    site_id: str
    provider_id: str
    room_id: str | None
    visit_type_id: str
    start: AwareDatetime
    end: AwareDatetime
    day: date  # the site's local date of `start`
    offered_at: AwareDatetime
    expires_at: AwareDatetime


class WaitlistOfferAccepted(SchedulingEvent):
    """The patient took the slot: booked as `appointment_id`; the entry is closed."""

    offer_id: str
    entry_id: str
    patient_id: str
    appointment_id: str
    accepted_at: AwareDatetime


class WaitlistOfferDeclined(SchedulingEvent):
    """The patient turned the slot down (or left the list while it was offered)."""

    offer_id: str
    entry_id: str
    patient_id: str
    declined_at: AwareDatetime


class WaitlistOfferLapsed(SchedulingEvent):
    """The patient accepted, but the slot could not be booked any more (someone took it)."""

    offer_id: str
    entry_id: str
    patient_id: str
    reason: str  # why the booking was refused; names no patient
    lapsed_at: AwareDatetime


class WaitlistOfferExpired(SchedulingEvent):
    """Nobody answered the offer before it expired."""

    offer_id: str
    entry_id: str
    patient_id: str
    expired_at: AwareDatetime


class ThirdNextAvailableMeasured(SchedulingEvent):
    """How far ahead a provider's third next open slot at a site was, measured on a local day
    by the open-slot search (IHI's third next available appointment): `days` from
    `measured_on` to the third open slot of `visit_type_id`, None when there were fewer than
    three within `horizon_days`. Once per site, provider and day, on the site's access day."""

    site_id: str
    provider_id: str
    visit_type_id: str
    measured_on: date
    days: int | None
    horizon_days: int
    measured_at: AwareDatetime


registry = EventRegistry(
    [
        SiteRegistered,
        RoomAdded,
        ProviderRegistered,
        VisitTypeDefined,
        ProviderLicenceRecorded,
        ProviderTimeOffApproved,
        ProviderDeactivated,
        AvailabilitySet,
        TimeBlocked,
        AppointmentBooked,
        AppointmentRescheduled,
        AppointmentMovedOut,
        AppointmentWithdrawn,
        AppointmentCancelled,
        PatientCheckedIn,
        PatientRoomed,
        VisitCompleted,
        AppointmentNoShow,
        SeriesRequested,
        SeriesBooked,
        SeriesRefused,
        PatientRegistered,
        PatientForgotten,
        PatientRecordAccessed,
        CoverageRecorded,
        IntakeRecorded,
        PatientTriaged,
        PatientRetriaged,
        TriagedPatientSeen,
        TriagedPatientLeft,
        WaitlistEntryAdded,
        WaitlistEntryRemoved,
        WaitlistOfferMade,
        WaitlistOfferAccepted,
        WaitlistOfferDeclined,
        WaitlistOfferLapsed,
        WaitlistOfferExpired,
        ProviderRehired,
        ProviderJobChanged,
        ProviderLeaveStarted,
        ProviderLeaveEnded,
        ProviderTerminated,
        ProviderIdentified,
        ProviderLicenceRenewed,
        ProviderLicenceRevoked,
        ProviderLicenceVerified,
        ProviderTimeOffCancelled,
        AppointmentConfirmed,
        PatientLinkAnswerApplied,
        PatientLinkAnswerRefused,
        ThirdNextAvailableMeasured,
    ]
)
