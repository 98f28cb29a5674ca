"""What engagement records: patients' channel consent, the messages sent to them (reminders,
confirmations, recalls, surveys), recalls, survey answers and feedback cases.

Messages carry the least PHI that works: events name patients and appointments by id only;
the text a patient receives is composed at send time (`reminders.message_text`). A survey's
free-text comment and a feedback case's summary and resolution are the patient's words: PHI,
sealed under the patient's key (`phi_subject = "patient_id"`), as scheduling seals its own.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.events import DomainEvent, EventRegistry
from shared.phi import Phi, PhiEvent


class EngagementEvent(DomainEvent):
    context: ClassVar[str] = "engagement"


Channel = Literal["email", "sms"]
CHANNELS: tuple[Channel, ...] = ("email", "sms")

# Why a message is sent. A reminder's purpose names its threshold before the visit.
Purpose = Literal[
    "confirmation",
    "reminder_72h",
    "reminder_24h",
    "reschedule_notice",
    "cancellation_notice",
    "recall",
    "survey",
]

# Who recorded a change of consent: the patient (a link, a reply STOP), or staff for them.
ConsentSource = Literal["patient", "front_desk", "link", "reply"]


# ------------------------------------------------------------------------ channel consent


class ChannelOptedIn(EngagementEvent):
    """The patient agreed to be contacted on `channel`, from `recorded_at`."""

    patient_id: str
    channel: Channel
    source: ConsentSource
    recorded_at: AwareDatetime


class ChannelOptedOut(EngagementEvent):
    """The patient is not to be contacted on `channel` from `recorded_at`: honoured at once,
    pending messages on the channel included."""

    patient_id: str
    channel: Channel
    source: ConsentSource
    recorded_at: AwareDatetime


class ChannelPreferenceSet(EngagementEvent):
    """The channels the patient prefers, first first (among those they consented to)."""

    patient_id: str
    channels: tuple[Channel, ...]
    recorded_at: AwareDatetime


# --------------------------------------------------------------------------------- sites


class SiteLearnt(EngagementEvent):
    """A site's name and time zone (IANA, e.g. "America/New_York"), learnt from scheduling's
    `SiteRegistered` (`learnt_from`, its event id): what a message calls the site, and the
    zone its quiet hours and local times are in."""

    site_id: str
    name: str
    time_zone: str
    learnt_from: str


# ------------------------------------------------------------------------------ messages


class MessageScheduled(EngagementEvent):
    """A message planned for `send_at` (UTC, already moved out of the site's quiet hours).
    `appointment_id` and `appointment_start` name the visit it is about, if any."""

    message_id: str
    patient_id: str
    site_id: str
    purpose: Purpose
    channel: Channel
    send_at: AwareDatetime
    appointment_id: str | None = None
    appointment_start: AwareDatetime | None = None


class MessageCancelled(EngagementEvent):
    """A scheduled message that will not go: its appointment cancelled or moved, the patient
    opted out of its channel, or its timer fired after the visit began."""

    message_id: str
    patient_id: str
    reason: Literal["appointment_cancelled", "appointment_moved", "opted_out", "visit_passed"]
    cancelled_at: AwareDatetime


class AppointmentMessagesStopped(EngagementEvent):
    """The appointment was cancelled: from now on nothing is planned or sent for it but the
    cancellation notice. Recorded once, even when nothing was pending (so that a booking seen
    again later plans nothing)."""

    appointment_id: str
    patient_id: str
    stopped_at: AwareDatetime


class MessageReleased(EngagementEvent):
    """The timer fired and the message was still due: handed to its channel for attempt
    `attempt`. Recorded before the channel is called, so that a message goes once while its
    sender lives. The release is a lease: if no answer is recorded by `lease_until` (the
    process died between the release and the answer), the timer releases the same attempt
    again, and the channel is told the same message id and attempt (at least once)."""

    message_id: str
    patient_id: str
    channel: Channel
    attempt: int = Field(ge=1)
    released_at: AwareDatetime
    lease_until: AwareDatetime


class MessageSent(EngagementEvent):
    """The channel accepted the message (an SMTP server, an SMS gateway)."""

    message_id: str
    patient_id: str
    channel: Channel
    attempt: int = Field(ge=1)
    sent_at: AwareDatetime


class MessageDeliveryFailed(EngagementEvent):
    """The channel refused or was unreachable: `reason` is the channel's, never PHI."""

    message_id: str
    patient_id: str
    channel: Channel
    attempt: int = Field(ge=1)
    reason: str
    failed_at: AwareDatetime


class MessageRetried(EngagementEvent):
    """Attempt `attempt` is scheduled for `retry_at`, after a failed one."""

    message_id: str
    patient_id: str
    attempt: int = Field(ge=2)
    retry_at: AwareDatetime


class MessageGivenUp(EngagementEvent):
    """No more attempts: `attempts` failed, to be reported."""

    message_id: str
    patient_id: str
    attempts: int = Field(ge=1)
    given_up_at: AwareDatetime


class MessageBounced(EngagementEvent):
    """The address is bad (a hard bounce, an unknown number): never retried."""

    message_id: str
    patient_id: str
    channel: Channel
    reason: str
    bounced_at: AwareDatetime


# --------------------------------------------------------------------------- signed links


class PatientAnsweredLink(EngagementEvent):
    """The patient followed a signed confirm or cancel link of a message about the visit at
    `appointment_start` (the start the message named): recorded once per link, on the
    appointment's stream. Scheduling makes it its own command (`answer_id` names the answer in
    what scheduling records about it: applied, or refused with its reason)."""

    answer_id: str
    appointment_id: str
    patient_id: str
    site_id: str
    action: Literal["confirm", "cancel"]
    appointment_start: AwareDatetime
    answered_at: AwareDatetime


# ------------------------------------------------------------------------------- recalls


class PatientDueForRecall(EngagementEvent):
    """The patient's periodic visit falls due on `due_on` (`last_visit_on` + the interval,
    `interval_months`: the recall rule of the visit's type, `visit_type_id`; "annual" is 12
    months). `appointment_id` and `visit_start` name the completed visit it follows (its
    recall message is planned beside that visit's other messages)."""

    patient_id: str
    site_id: str
    recall_kind: Literal["annual", "periodic"]
    last_visit_on: date
    due_on: date
    interval_months: int = Field(default=12, ge=1)
    visit_type_id: str | None = None
    appointment_id: str | None = None
    visit_start: AwareDatetime | None = None


class RecallSent(EngagementEvent):
    """The recall fell due and its message was planned (`message_id`, sent by the delivery
    timer), once; null when the patient consented to no channel then: no message goes for this
    recall, and the patient stays on the site's recall list until they book."""

    patient_id: str
    site_id: str
    due_on: date
    message_id: str | None
    sent_on: date


class RecallRuleSet(EngagementEvent):
    """A visit of type `visit_type_id`, completed, makes the patient due again
    `interval_months` later (a manager's rule)."""

    visit_type_id: str
    interval_months: int = Field(ge=1, le=120)
    set_by: str
    set_at: AwareDatetime


class RecallClosed(EngagementEvent):
    """The patient booked: off the site's recall list."""

    patient_id: str
    site_id: str
    due_on: date
    appointment_id: str
    closed_on: date


# ------------------------------------------------------------------------------- surveys


class SurveySent(EngagementEvent):
    """A survey about one completed visit."""

    survey_id: str
    patient_id: str
    appointment_id: str
    provider_id: str
    site_id: str
    visit_on: date
    sent_at: AwareDatetime


class SurveyAnswer(BaseModel):
    """One experience question (CAHPS-style) and the choice given."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    question: str
    choice: str


class SurveyAnswered(EngagementEvent, PhiEvent):
    """Likelihood to recommend (0-10), experience answers, and a comment (the patient's words,
    sealed: "" when none was given)."""

    survey_id: str
    patient_id: str
    provider_id: str
    site_id: str
    visit_on: date
    likelihood_to_recommend: int = Field(ge=0, le=10)
    answers: tuple[SurveyAnswer, ...]
    comment: Phi = ""
    answered_at: AwareDatetime


# --------------------------------------------------------------------------- feedback cases

CaseKind = Literal["complaint", "compliment", "privacy_complaint"]


class FeedbackCaseOpened(EngagementEvent, PhiEvent):
    """A complaint or compliment (or a privacy complaint, which compliance opens an incident
    for), from a survey (a detractor's) or the front desk, about a patient at a site, and the
    visit if `appointment_id` names one. `incident_id` is null: compliance's incident is
    linked after the opening (`FeedbackCaseIncidentLinked`); the field stays so that openings
    recorded with it still read."""

    case_id: str
    patient_id: str
    site_id: str
    kind: CaseKind
    source: Literal["survey", "front_desk"]
    summary: Phi
    opened_at: AwareDatetime
    due_on: date
    survey_id: str | None = None
    provider_id: str | None = None
    incident_id: str | None = None
    appointment_id: str | None = None


class FeedbackCaseAssigned(EngagementEvent):
    case_id: str
    owner_id: str
    due_on: date
    assigned_by: str
    assigned_at: AwareDatetime


class FeedbackCaseResolved(EngagementEvent, PhiEvent):
    """Resolved once: what was done, in words that may be the patient's (sealed)."""

    case_id: str
    patient_id: str
    resolution: Phi
    resolved_by: str
    resolved_at: AwareDatetime


class FeedbackCaseIncidentLinked(EngagementEvent):
    """Compliance opened `incident_id` for the privacy complaint (learnt from its
    `IncidentReported`, which names the case)."""

    case_id: str
    incident_id: str
    linked_at: AwareDatetime


# -------------------------------------------------------------------------------- access


class PatientRecordAccessed(EngagementEvent):
    """An engagement response disclosed a patient's data (consent, messages, survey comments)."""

    patient_id: str
    endpoint: str
    purpose: str | None
    outcome: str
    accessed_at: AwareDatetime


registry = EventRegistry(
    [
        ChannelOptedIn,
        ChannelOptedOut,
        ChannelPreferenceSet,
        MessageScheduled,
        MessageCancelled,
        AppointmentMessagesStopped,
        MessageReleased,
        MessageSent,
        MessageDeliveryFailed,
        MessageRetried,
        MessageGivenUp,
        MessageBounced,
        PatientAnsweredLink,
        PatientDueForRecall,
        RecallSent,
        RecallClosed,
        RecallRuleSet,
        SurveySent,
        SurveyAnswered,
        FeedbackCaseOpened,
        FeedbackCaseAssigned,
        FeedbackCaseResolved,
        FeedbackCaseIncidentLinked,
        SiteLearnt,
        PatientRecordAccessed,
    ]
)
