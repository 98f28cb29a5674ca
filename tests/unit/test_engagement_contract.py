"""Engagement's contract before it is wired: its published names pinned, its PHI fields the
known ones and sealed under the patient's key, the contexts it consumes real ones, and every
event through the envelope and back. (tests/unit/test_contracts.py and docs/asyncapi.yaml take
it on when the service is wired into the suite.)"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.billing import contracts as billing
from services.compliance import contracts as compliance
from services.engagement import contracts as engagement
from services.engagement.contracts import (
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
)
from services.scheduling import contracts as scheduling
from services.staffing import contracts as staffing
from shared.contracts import phi_of
from shared.events import DomainEvent, Metadata, seal
from shared.phi import PhiEvent

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)

EXPORTS = {
    *(cls.__name__ for cls in engagement.EVENTS),
    "CHANNELS",
    "CONTRACT",
    "EVENTS",
    "Sealed",
    "SurveyAnswer",
    "registry",
}


def test_the_published_names_are_pinned() -> None:
    assert set(engagement.__all__) == EXPORTS
    assert len(engagement.__all__) == len(EXPORTS)
    for name in engagement.__all__:
        assert hasattr(engagement, name), name


def test_it_consumes_the_real_contexts_and_its_own() -> None:
    contexts = {c.CONTRACT.context for c in (billing, compliance, scheduling, staffing)}
    assert set(engagement.CONTRACT.consumes) == contexts | {"engagement"}
    assert engagement.CONTRACT.topic() == "medoffice.engagement.events"
    assert engagement.CONTRACT.relayed


def test_the_phi_fields_are_the_known_ones_sealed_under_the_patients_key() -> None:
    marked = {cls.__name__: phi_of(cls) for cls in engagement.EVENTS if phi_of(cls)}
    assert marked == {
        "SurveyAnswered": ("comment",),
        "FeedbackCaseOpened": ("summary",),
        "FeedbackCaseResolved": ("resolution",),
    }
    for cls in engagement.EVENTS:
        assert bool(phi_of(cls)) == issubclass(cls, PhiEvent), cls.__name__
        if issubclass(cls, PhiEvent):
            assert cls.phi_subject == "patient_id"
            assert cls.phi_subject in cls.model_fields


DAY = date(2026, 3, 2)
P = {"patient_id": "pt-1"}
M = {"message_id": "m-1", "patient_id": "pt-1"}
EXAMPLES: list[DomainEvent] = [
    ChannelOptedIn(**P, channel="sms", source="front_desk", recorded_at=T0),
    ChannelOptedOut(**P, channel="sms", source="reply", recorded_at=T0),
    ChannelPreferenceSet(**P, channels=("email", "sms"), recorded_at=T0),
    MessageScheduled(
        **M,
        site_id="site-1",
        purpose="reminder_24h",
        channel="sms",
        send_at=T0,
        appointment_id="ap-1",
        appointment_start=T0,
    ),
    MessageCancelled(**M, reason="appointment_moved", cancelled_at=T0),
    AppointmentMessagesStopped(appointment_id="ap-1", **P, stopped_at=T0),
    MessageReleased(**M, channel="email", attempt=1, released_at=T0, lease_until=T0),
    MessageSent(**M, channel="email", attempt=1, sent_at=T0),
    MessageDeliveryFailed(**M, channel="email", attempt=1, reason="421", failed_at=T0),
    MessageRetried(**M, attempt=2, retry_at=T0),
    MessageGivenUp(**M, attempts=4, given_up_at=T0),
    MessageBounced(**M, channel="email", reason="550 no such user", bounced_at=T0),
    PatientAnsweredLink(
        answer_id="ap-1-confirm-20261201T1400Z",
        appointment_id="ap-1",
        **P,
        site_id="site-1",
        action="confirm",
        appointment_start=T0,
        answered_at=T0,
    ),
    PatientDueForRecall(**P, site_id="site-1", recall_kind="annual", last_visit_on=DAY, due_on=DAY),
    RecallSent(**P, site_id="site-1", due_on=DAY, message_id="m-2", sent_on=DAY),
    RecallClosed(**P, site_id="site-1", due_on=DAY, appointment_id="ap-2", closed_on=DAY),
    RecallRuleSet(visit_type_id="annual", interval_months=12, set_by="mgr-1", set_at=T0),
    SurveySent(
        survey_id="sv-1",
        **P,
        appointment_id="ap-1",
        provider_id="pr-1",
        site_id="site-1",
        visit_on=DAY,
        sent_at=T0,
    ),
    SurveyAnswered(
        survey_id="sv-1",
        **P,
        provider_id="pr-1",
        site_id="site-1",
        visit_on=DAY,
        likelihood_to_recommend=4,
        answers=(SurveyAnswer(question="seen_within_15_minutes", choice="no"),),
        comment="Waited long",
        answered_at=T0,
    ),
    FeedbackCaseOpened(
        case_id="case-1",
        **P,
        site_id="site-1",
        kind="privacy_complaint",
        source="front_desk",
        summary="Results read aloud in the waiting room",
        opened_at=T0,
        due_on=DAY,
        incident_id="inc-1",
    ),
    FeedbackCaseAssigned(
        case_id="case-1", owner_id="emp-1", due_on=DAY, assigned_by="emp-2", assigned_at=T0
    ),
    FeedbackCaseResolved(
        case_id="case-1", **P, resolution="Apologised", resolved_by="emp-1", resolved_at=T0
    ),
    FeedbackCaseIncidentLinked(case_id="case-1", incident_id="case-case-1", linked_at=T0),
    SiteLearnt(site_id="site-1", name="North", time_zone="America/New_York", learnt_from="ev-1"),
    PatientRecordAccessed(
        **P, endpoint="/engagement/cases", purpose=None, outcome="ok", accessed_at=T0
    ),
]


def test_the_examples_cover_every_event() -> None:
    assert [type(e) for e in EXAMPLES] == list(engagement.EVENTS)


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: type(e).__name__)
def test_every_event_goes_into_the_envelope_and_back(event: DomainEvent) -> None:
    envelope = seal(
        event,
        stream="engagement-x",
        stream_version=1,
        meta=Metadata(tenant="t", correlation_id="c"),
        event_id="e-1",
        time=T0,
    )
    assert envelope.type == f"medoffice.engagement.{type(event).__name__}.v1"
    assert envelope.phi == phi_of(type(event))
    assert engagement.registry.decode(envelope) == event
