"""What engagement publishes: every event it records, on `medoffice.engagement.events`.

The one module of engagement that another service may import (tests/unit/test_architecture.py).
It reads scheduling (bookings, moves, cancellations, completed visits, patients), billing
(receivables for the KPIs), staffing (training and credentials for the KPIs), compliance
(incidents a privacy complaint links to) and its own topic. A changed meaning is a new version
with an upcaster.

PHI (`Phi` fields: survey comments, feedback summaries and resolutions) travels sealed under
the patient's key, named by `patient_id`.
"""

from __future__ import annotations

from services.engagement.domain.events import (
    CHANNELS,
    AppointmentMessagesStopped,
    ChannelOptedIn,
    ChannelOptedOut,
    ChannelPreferenceSet,
    FeedbackCaseAssigned,
    FeedbackCaseIncidentLinked,
    FeedbackCaseOpened,
    FeedbackCaseResolved,
    MessageBounced,
    MessageCancelled,
    MessageDeliveryFailed,
    MessageGivenUp,
    MessageReleased,
    MessageRetried,
    MessageScheduled,
    MessageSent,
    PatientAnsweredLink,
    PatientDueForRecall,
    PatientRecordAccessed,
    RecallClosed,
    RecallRuleSet,
    RecallSent,
    SiteLearnt,
    SurveyAnswer,
    SurveyAnswered,
    SurveySent,
    registry,
)
from shared.contracts import Contract
from shared.phi import Sealed

EVENTS = registry.events()  # every event engagement records, as its registry decodes them

CONTRACT = Contract(
    context="engagement",
    summary="Reminders and confirmations, consent, recalls, surveys, feedback cases, KPIs.",
    events=EVENTS,
    registry=registry,
    consumes=("engagement", "scheduling", "billing", "staffing", "compliance"),
)

__all__ = [
    "CHANNELS",
    "CONTRACT",
    "EVENTS",
    "PatientRecordAccessed",
    "Sealed",
    "registry",
    # consent
    "ChannelOptedIn",
    "ChannelOptedOut",
    "ChannelPreferenceSet",
    # messages
    "AppointmentMessagesStopped",
    "MessageBounced",
    "MessageCancelled",
    "MessageDeliveryFailed",
    "MessageGivenUp",
    "MessageReleased",
    "MessageRetried",
    "MessageScheduled",
    "MessageSent",
    # signed links
    "PatientAnsweredLink",
    # recalls
    "PatientDueForRecall",
    "RecallClosed",
    "RecallRuleSet",
    "RecallSent",
    # sites
    "SiteLearnt",
    # surveys and feedback
    "FeedbackCaseAssigned",
    "FeedbackCaseIncidentLinked",
    "FeedbackCaseOpened",
    "FeedbackCaseResolved",
    "SurveyAnswer",
    "SurveyAnswered",
    "SurveySent",
]
