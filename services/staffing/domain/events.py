"""Staffing events that other services consume: people, providers, credentials, time off.

These are staffing's half of the bus contract with scheduling (which learns providers, their
sites, licences, approved time off and deactivation from them only) and billing (payer
enrolment). Each area's own events (training, reviews, shifts) live beside its decider and
register in the same `registry`. Fields added after an event type was first recorded have
defaults, so every stored version still decodes.

Personal data (home address, phone, emergency contact, birth date) is sealed like PHI under the
employee's own data key (`phi_subject = "employee_id"`): forgetting an employee destroys it.
No SSNs are kept.
"""

from __future__ import annotations

from datetime import date, time
from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from shared.events import DomainEvent, EventRegistry
from shared.phi import Phi, PhiEvent


class StaffingEvent(DomainEvent):
    context: ClassVar[str] = "staffing"


# What an employee is hired as. Providers (`PROVIDER_ROLES`) see patients under their own NPI
# and are the people scheduling books; the others are staff rostered by shift.
Role = Literal[
    "physician",
    "nurse_practitioner",
    "physician_assistant",
    "nurse",
    "medical_assistant",
    "front_desk",
    "biller",
    "manager",
    "hr",
    "other",
]
PROVIDER_ROLES: tuple[str, ...] = ("physician", "nurse_practitioner", "physician_assistant")


# ----------------------------------------------------------------------------- employees


class EmployeeHired(StaffingEvent):
    """Hired (or, with `rehired`, taken back after a termination) into a job at sites."""

    employee_id: str
    name: str
    title: str
    role: Role
    site_ids: tuple[str, ...]
    fte: float  # 1.0 = full time
    manager_id: str | None = None
    hired_on: date
    rehired: bool = False


class PersonalDetailsRecorded(StaffingEvent, PhiEvent):
    """An employee's personal contact data, sealed under the employee's key."""

    phi_subject: ClassVar[str] = "employee_id"

    employee_id: str
    home_address: Phi | None = None
    phone: Phi | None = None
    emergency_contact: Phi | None = None
    birth_date: Phi | None = None


class JobChanged(StaffingEvent):
    """A new title, role, sites, FTE or manager from `effective_on`."""

    employee_id: str
    title: str
    role: Role
    site_ids: tuple[str, ...]
    fte: float
    manager_id: str | None = None
    effective_on: date
    # The employee's name, so that a consumer which skipped the hire (scheduling skips
    # everyone hired into a role that sees no patients) can take them on at a change into one.
    name: str | None = None


class LeaveStarted(StaffingEvent):
    """A leave of absence (medical, parental, unpaid...): not at work, still employed."""

    employee_id: str
    leave_id: str
    reason: str
    starts_on: date
    expected_return_on: date | None = None


class LeaveEnded(StaffingEvent):
    employee_id: str
    leave_id: str
    returned_on: date


class EmployeeTerminated(StaffingEvent):
    """Employment ends after `last_day`: from the day after, the person is not bookable."""

    employee_id: str
    last_day: date
    reason: str


class ProviderDetailsRecorded(StaffingEvent):
    """A provider's NPI (checked: 10 digits, Luhn over the `80840` prefix), taxonomy code and
    specialty. The sites they practise at are their job's sites."""

    employee_id: str
    npi: str
    taxonomy_code: str
    specialty: str


# ----------------------------------------------------------------------------- credentials

CredentialKind = Literal[
    "state_licence",
    "board_certification",
    "dea_registration",
    "bls",
    "acls",
    "malpractice_cover",
]
# The kinds that let a provider see patients at all: without one valid on a day, scheduling
# books them nothing that day.
LICENCE_KINDS: tuple[str, ...] = ("state_licence",)


class CredentialRecorded(StaffingEvent):
    """A credential held by an employee: licence, certification, registration or cover.
    `expires_on` is the last day it is valid (None: it does not expire)."""

    credential_id: str
    employee_id: str
    kind: CredentialKind
    issuer: str  # e.g. "NY State Education Department", "ABIM", "DEA", "AHA"
    number: str
    state: str | None = None  # two-letter state for state licences and DEA registrations
    issued_on: date
    expires_on: date | None = None


class CredentialRenewed(StaffingEvent):
    """The same credential, valid to a new last day."""

    credential_id: str
    employee_id: str
    expires_on: date


class CredentialVerified(StaffingEvent):
    """A primary-source verification: where it was checked, by whom, when, and the result.
    A `failed` result makes the credential invalid from `verified_at`'s day on."""

    credential_id: str
    employee_id: str
    source: str  # e.g. "state board website", "NPPES", "NPDB"
    verified_by: str
    verified_at: AwareDatetime
    result: Literal["verified", "failed"]
    note: str = ""


class CredentialRevoked(StaffingEvent):
    """Revoked, suspended or surrendered: invalid from `effective_on` (inclusive)."""

    credential_id: str
    employee_id: str
    effective_on: date
    reason: str


class CredentialExpiryReminded(StaffingEvent):
    """The daily sweep's reminder that a credential expires within `days_left` days (90, 60,
    30), or has expired (0): recorded once per credential, threshold and expiry date."""

    credential_id: str
    employee_id: str
    kind: CredentialKind
    expires_on: date
    threshold_days: int
    reminded_on: date


# ----------------------------------------------------------------------------- payer enrolment


class PayerEnrolmentChanged(StaffingEvent):
    """A provider's enrolment with a payer: billing claims only for `enrolled` on the date of
    service, between `effective_from` and `effective_until`."""

    enrolment_id: str
    employee_id: str
    payer_id: str
    status: Literal["applied", "enrolled", "denied", "terminated"]
    effective_from: date
    effective_until: date | None = None


# ----------------------------------------------------------------------------- time off


class TimeOffRequested(StaffingEvent):
    request_id: str
    employee_id: str
    kind: Literal["pto", "sick", "unpaid", "other"]
    start: AwareDatetime
    end: AwareDatetime
    hours: float  # paid hours it draws from the balance (0 for unpaid)
    note: str = ""


class TimeOffApproved(StaffingEvent):
    """Approved by the employee's manager: for a provider, scheduling books nothing then."""

    request_id: str
    employee_id: str
    start: AwareDatetime
    end: AwareDatetime
    decided_by: str


class TimeOffDenied(StaffingEvent):
    request_id: str
    employee_id: str
    decided_by: str
    reason: str


class TimeOffCancelled(StaffingEvent):
    """Withdrawn by the employee (or HR), before or after approval."""

    request_id: str
    employee_id: str
    start: AwareDatetime
    end: AwareDatetime


# ----------------------------------------------------------------------------- training


class CourseDefined(StaffingEvent):
    """A training course in the tenant's catalogue: required for `required_for_roles` (assigned
    on hire and on a change into such a role, due `due_within_days` after), and, with
    `recurs_every_months`, due again that long after each completion."""

    course_id: str
    name: str
    required_for_roles: tuple[Role, ...] = ()
    due_within_days: int
    recurs_every_months: int | None = None


AssignedBecause = Literal["assigned", "hired", "job_changed", "course_defined", "recurrence"]


class TrainingAssigned(StaffingEvent):
    """A course to complete by `due_on`. `reason`: by hand, on hire, on a change of job, on a
    course newly required of the employee's role, or the next round of a recurring course
    after a completion."""

    assignment_id: str
    employee_id: str
    course_id: str
    course_name: str
    assigned_on: date
    due_on: date
    recurs_every_months: int | None = None
    reason: AssignedBecause = "assigned"


class TrainingCompleted(StaffingEvent):
    """An assignment done on `completed_on`, with its evidence (certificate id, URL or text)."""

    assignment_id: str
    employee_id: str
    course_id: str
    completed_on: date
    evidence: str
    recorded_by: str


# ----------------------------------------------------------------------------- reviews


class ReviewCycleOpened(StaffingEvent):
    """A review cycle over a period, due by `due_on`, rating the named competencies."""

    cycle_id: str
    name: str
    period_start: date
    period_end: date
    due_on: date
    competencies: tuple[str, ...]


class ReviewStarted(StaffingEvent):
    """An employee's review in a cycle, by `reviewer_id`; the cycle's competencies and the
    employee's sites are copied in as they stood when it started."""

    review_id: str
    cycle_id: str
    employee_id: str
    reviewer_id: str
    competencies: tuple[str, ...]
    site_ids: tuple[str, ...] = ()
    started_at: AwareDatetime


class SelfAssessmentSubmitted(StaffingEvent):
    review_id: str
    cycle_id: str
    employee_id: str
    summary: str
    submitted_at: AwareDatetime


class CompetencyRating(BaseModel):
    """A rating from 1 (well below expectations) to 5 (well above) of one named competency."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    competency: str
    rating: int


class ManagerReviewSubmitted(StaffingEvent):
    """The reviewer's ratings of every competency of the cycle, and the goals set."""

    review_id: str
    cycle_id: str
    employee_id: str
    reviewer_id: str
    ratings: tuple[CompetencyRating, ...]
    goals: tuple[str, ...]
    summary: str = ""
    submitted_at: AwareDatetime


class ReviewSignedOff(StaffingEvent):
    """Signed by the reviewer (`manager`) or by the employee, in either order."""

    review_id: str
    cycle_id: str
    employee_id: str
    by: Literal["manager", "employee"]
    signed_by: str
    signed_at: AwareDatetime


class ReviewAcknowledged(StaffingEvent):
    """The employee acknowledges the signed review: its last step."""

    review_id: str
    cycle_id: str
    employee_id: str
    comment: str = ""
    acknowledged_at: AwareDatetime


# ----------------------------------------------------------------------------- employees and
# providers: access to personal data


class PersonalRecordAccessed(StaffingEvent):
    """A response disclosed an employee's personal data: who (the actor), whose, where, why.
    Staffing's counterpart of scheduling's `PatientRecordAccessed`, read by compliance."""

    employee_id: str
    endpoint: str
    purpose: str | None
    outcome: str
    accessed_at: AwareDatetime


class PersonalDataForgotten(StaffingEvent):
    """The employee's data key was destroyed: their personal data reads back redacted, and no
    new personal data is recorded for them. Their employment record stays."""

    employee_id: str
    reason: str
    forgotten_at: AwareDatetime


# ----------------------------------------------------------------------------- shifts and time off
# Rostering of non-provider staff per site (providers are booked by scheduling's availability),
# minimum staffing, and the paid-time-off ledger. A site's roster settings live in one stream per
# site; an employee's shifts, time-off requests and PTO accruals in one stream per employee, so
# that "no two overlapping shifts", "no shift during approved time off" and "never more PTO than
# accrued" are each decided in one stream.


class SiteTimeZoneSet(StaffingEvent):
    """The IANA zone a site's shift templates and minimum staffing are read in."""

    site_id: str
    time_zone: str


class ShiftTemplateDefined(StaffingEvent):
    """A named shift at a site, local `start` to `end` (an `end` not after `start` ends the next
    day), on `weekdays` (0 = Monday); `role` set: only staff of that role take it. Defined again
    with the same id, it replaces the earlier definition for shifts assigned from then on."""

    site_id: str
    template_id: str
    name: str
    start: time
    end: time
    weekdays: tuple[int, ...]
    role: str | None = None


class StaffingMinimum(BaseModel):
    """At least `headcount` people (of `role`, when set) rostered for the whole local hour
    `hour`:00 to `hour + 1`:00 on `weekday` (0 = Monday)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    weekday: int
    hour: int
    headcount: int
    role: str | None = None


class MinimumStaffingSet(StaffingEvent):
    """A site's minimum staffing, replacing the whole earlier set."""

    site_id: str
    minimums: tuple[StaffingMinimum, ...]


class ShiftAssigned(StaffingEvent):
    """An employee rostered at a site from `start` to `end`; `day` is the site's local date the
    shift starts on, `role` the employee's role when assigned."""

    shift_id: str
    employee_id: str
    site_id: str
    day: date
    start: AwareDatetime
    end: AwareDatetime
    role: str
    template_id: str | None = None


class ShiftUnassigned(StaffingEvent):
    shift_id: str
    employee_id: str
    site_id: str
    day: date
    start: AwareDatetime
    end: AwareDatetime


class PtoPolicySet(StaffingEvent):
    """A tenant's PTO accrual rule: `hours_per_period` x FTE credited for each pay period of
    `period_days` days counted from `anchor`, the balance never above `max_balance` (if set)."""

    hours_per_period: float
    period_days: int
    anchor: date
    max_balance: float | None = None


class PtoAccrued(StaffingEvent):
    """Paid time off credited for one pay period, once per employee and period."""

    employee_id: str
    period_start: date
    period_end: date  # the period's last day
    hours: float
    fte: float


registry = EventRegistry(
    (
        EmployeeHired,
        PersonalDetailsRecorded,
        JobChanged,
        LeaveStarted,
        LeaveEnded,
        EmployeeTerminated,
        ProviderDetailsRecorded,
        CredentialRecorded,
        CredentialRenewed,
        CredentialVerified,
        CredentialRevoked,
        CredentialExpiryReminded,
        PayerEnrolmentChanged,
        TimeOffRequested,
        TimeOffApproved,
        TimeOffDenied,
        TimeOffCancelled,
        # training
        CourseDefined,
        TrainingAssigned,
        TrainingCompleted,
        # reviews
        ReviewCycleOpened,
        ReviewStarted,
        SelfAssessmentSubmitted,
        ManagerReviewSubmitted,
        ReviewSignedOff,
        ReviewAcknowledged,
        # employees and providers: access to personal data
        PersonalRecordAccessed,
        PersonalDataForgotten,
        # shifts and time off
        SiteTimeZoneSet,
        ShiftTemplateDefined,
        MinimumStaffingSet,
        ShiftAssigned,
        ShiftUnassigned,
        PtoPolicySet,
        PtoAccrued,
    )
)
