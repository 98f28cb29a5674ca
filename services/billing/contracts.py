"""What billing publishes: every event it records, on `medoffice.billing.events`.

The one module of billing that another service may import (tests/unit/test_architecture.py).
Billing consumes scheduling's events (completed visits become charges; patients and their
coverages) and staffing's (providers' NPIs and payer enrolments), and records what it learns
on its own streams. The models live in `domain/`; this module is their published surface,
pinned by tests/unit/test_contracts.py. A changed meaning is a new version with an upcaster.

PHI (`Phi` fields) travels sealed (`Sealed`) under the patient's key, named by `patient_id`.
"""

from __future__ import annotations

from services.billing.domain.events import (
    SELF_PAY,
    Adjustment,
    BatchSubmitter,
    BillingProviderSet,
    ChargeCorrected,
    ChargeCreated,
    ChargeHeld,
    ChargeLine,
    ChargeReleased,
    ClaimAccepted,
    ClaimAdjudicated,
    ClaimAppealed,
    ClaimBatchAcknowledged,
    ClaimBatchCreated,
    ClaimBatchSent,
    ClaimCreated,
    ClaimNotReady,
    ClaimReady,
    ClaimRejected,
    ClaimReplaced,
    ClaimSubmitted,
    ClaimWrittenOff,
    ClearinghouseFileRejected,
    CodingIssue,
    CoverageLearnt,
    EnrolmentLearnt,
    Fee,
    FeeScheduleVersionPublished,
    LineAdjudication,
    PatientForgottenLearnt,
    PatientLearnt,
    PatientRecordAccessed,
    PayerDefined,
    PlanDefined,
    PostalAddress,
    ProviderLearnt,
    SiteZoneLearnt,
    StreamVersion,
    registry,
)
from shared.contracts import Contract
from shared.phi import Sealed

EVENTS = registry.events()  # every event billing records, as its registry decodes them

CONTRACT = Contract(
    context="billing",
    summary="Payers, fee schedules, charges from completed visits, claims (X12 837P) and files.",
    events=EVENTS,
    registry=registry,
    consumes=("billing", "scheduling", "staffing"),
)

__all__ = [
    "Adjustment",
    "BatchSubmitter",
    "BillingProviderSet",
    "CONTRACT",
    "ChargeCorrected",
    "ChargeCreated",
    "ChargeHeld",
    "ChargeLine",
    "ChargeReleased",
    "ClaimAccepted",
    "ClaimAdjudicated",
    "ClaimAppealed",
    "ClaimBatchAcknowledged",
    "ClaimBatchCreated",
    "ClaimBatchSent",
    "ClaimCreated",
    "ClaimNotReady",
    "ClaimReady",
    "ClaimRejected",
    "ClaimReplaced",
    "ClaimSubmitted",
    "ClaimWrittenOff",
    "CodingIssue",
    "ClearinghouseFileRejected",
    "CoverageLearnt",
    "EVENTS",
    "EnrolmentLearnt",
    "Fee",
    "FeeScheduleVersionPublished",
    "LineAdjudication",
    "PatientForgottenLearnt",
    "PatientLearnt",
    "PatientRecordAccessed",
    "PayerDefined",
    "PlanDefined",
    "PostalAddress",
    "ProviderLearnt",
    "SELF_PAY",
    "Sealed",
    "SiteZoneLearnt",
    "StreamVersion",
    "registry",
]
