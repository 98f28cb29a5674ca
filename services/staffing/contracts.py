"""What staffing publishes: every event it records, on `medoffice.staffing.events`.

The one module of staffing that another service may import (tests/unit/test_architecture.py).
Scheduling learns providers, their sites, licences, approved time off and deactivation from
these events only; billing learns payer enrolment. The models live in `domain/` beside the
deciders that make them; this module is their published surface, pinned by
tests/unit/test_contracts.py. A changed meaning is a new version with an upcaster.

Personal data (`Phi` fields) travels sealed (`Sealed`) under the employee's own key, named by
`employee_id`.
"""

from __future__ import annotations

from services.staffing.domain.events import (
    LICENCE_KINDS,
    PROVIDER_ROLES,
    CompetencyRating,
    CourseDefined,
    CredentialExpiryReminded,
    CredentialRecorded,
    CredentialRenewed,
    CredentialRevoked,
    CredentialVerified,
    EmployeeHired,
    EmployeeTerminated,
    JobChanged,
    LeaveEnded,
    LeaveStarted,
    ManagerReviewSubmitted,
    MinimumStaffingSet,
    PayerEnrolmentChanged,
    PersonalDataForgotten,
    PersonalDetailsRecorded,
    PersonalRecordAccessed,
    ProviderDetailsRecorded,
    PtoAccrued,
    PtoPolicySet,
    ReviewAcknowledged,
    ReviewCycleOpened,
    ReviewSignedOff,
    ReviewStarted,
    SelfAssessmentSubmitted,
    ShiftAssigned,
    ShiftTemplateDefined,
    ShiftUnassigned,
    SiteTimeZoneSet,
    StaffingMinimum,
    TimeOffApproved,
    TimeOffCancelled,
    TimeOffDenied,
    TimeOffRequested,
    TrainingAssigned,
    TrainingCompleted,
    registry,
)
from shared.contracts import Contract
from shared.phi import Sealed

EVENTS = registry.events()  # every event staffing records, as its registry decodes them

CONTRACT = Contract(
    context="staffing",
    summary="Employees, providers, credentials, payer enrolment, training, reviews, shifts, leave.",
    events=EVENTS,
    registry=registry,
    consumes=("staffing",),
)

__all__ = [
    "CONTRACT",
    "CredentialExpiryReminded",
    "CredentialRecorded",
    "CredentialRenewed",
    "CredentialRevoked",
    "CredentialVerified",
    "EVENTS",
    "EmployeeHired",
    "EmployeeTerminated",
    "JobChanged",
    "LICENCE_KINDS",
    "LeaveEnded",
    "LeaveStarted",
    "PROVIDER_ROLES",
    "PayerEnrolmentChanged",
    "PersonalDataForgotten",
    "PersonalDetailsRecorded",
    "PersonalRecordAccessed",
    "ProviderDetailsRecorded",
    "Sealed",
    "TimeOffApproved",
    "TimeOffCancelled",
    "TimeOffDenied",
    "TimeOffRequested",
    "registry",
    # training and reviews
    "CompetencyRating",
    "CourseDefined",
    "ManagerReviewSubmitted",
    "ReviewAcknowledged",
    "ReviewCycleOpened",
    "ReviewSignedOff",
    "ReviewStarted",
    "SelfAssessmentSubmitted",
    "TrainingAssigned",
    "TrainingCompleted",
    # shifts and time off
    "MinimumStaffingSet",
    "PtoAccrued",
    "PtoPolicySet",
    "ShiftAssigned",
    "ShiftTemplateDefined",
    "ShiftUnassigned",
    "SiteTimeZoneSet",
    "StaffingMinimum",
]
