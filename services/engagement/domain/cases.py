"""Feedback cases, on `engagement-case-<id>`: a complaint or a compliment from a survey or the
front desk, with an owner, a due date and a resolution. Opened once (the same opening again,
a redelivery, records nothing), assigned (again, to move it), resolved once. A privacy
complaint is linked to the incident compliance opens for it (`LinkIncident`, once; the same
link again records nothing). A detractor's survey answer opens a complaint
(`case_for_detractor`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal

from pydantic import AwareDatetime

from services.engagement.domain.events import (
    CaseKind,
    FeedbackCaseAssigned,
    FeedbackCaseIncidentLinked,
    FeedbackCaseOpened,
    FeedbackCaseResolved,
    SurveyAnswered,
)
from services.engagement.domain.surveys import is_detractor
from shared.domain import Command, Decider, Invalid, NotFound, Rejected
from shared.events import DomainEvent
from shared.phi import Phi

DETRACTOR_CASE_DUE_DAYS = 7


@dataclass(frozen=True)
class Case:
    opened: FeedbackCaseOpened | None = None
    owner_id: str | None = None
    due_on: date | None = None
    resolved: bool = False
    incident_id: str | None = None
    resolution: Phi | None = None  # as recorded (sealed)


class OpenCase(Command):
    case_id: str
    patient_id: str
    site_id: str
    kind: CaseKind
    source: Literal["survey", "front_desk"]
    summary: str
    now: AwareDatetime
    due_on: date
    survey_id: str | None = None
    provider_id: str | None = None
    appointment_id: str | None = None


class AssignCase(Command):
    case_id: str
    owner_id: str
    due_on: date
    assigned_by: str
    now: AwareDatetime


class ResolveCase(Command):
    case_id: str
    resolution: str
    resolved_by: str
    now: AwareDatetime


class LinkIncident(Command):
    """Compliance opened `incident_id` for the privacy complaint."""

    case_id: str
    incident_id: str
    now: AwareDatetime


CaseCommand = OpenCase | AssignCase | ResolveCase | LinkIncident


def case_for_detractor(answered: SurveyAnswered, case_id: str, today: date) -> OpenCase | None:
    """The complaint a detractor's answer opens, due in a week; none for anyone else."""
    if not is_detractor(answered):
        return None
    return OpenCase(
        case_id=case_id,
        patient_id=answered.patient_id,
        site_id=answered.site_id,
        kind="complaint",
        source="survey",
        summary=f"Survey: likelihood to recommend {answered.likelihood_to_recommend} of 10",
        now=answered.answered_at,
        due_on=today + timedelta(days=DETRACTOR_CASE_DUE_DAYS),
        survey_id=answered.survey_id,
        provider_id=answered.provider_id,
    )


def _evolve(state: Case, event: DomainEvent) -> Case:
    match event:
        case FeedbackCaseOpened():
            return Case(opened=event, due_on=event.due_on, incident_id=event.incident_id)
        case FeedbackCaseAssigned():
            return replace(state, owner_id=event.owner_id, due_on=event.due_on)
        case FeedbackCaseResolved():
            return replace(state, resolved=True, resolution=event.resolution)
        case FeedbackCaseIncidentLinked():
            return replace(state, incident_id=event.incident_id)
    return state


def _open(state: Case, c: OpenCase) -> Sequence[DomainEvent]:
    if not c.summary.strip():
        raise Invalid("a case says what it is about")
    if c.due_on < c.now.date():
        raise Invalid("a case is due today or later")
    opened = FeedbackCaseOpened(
        case_id=c.case_id,
        patient_id=c.patient_id,
        site_id=c.site_id,
        kind=c.kind,
        source=c.source,
        summary=c.summary,
        opened_at=c.now,
        due_on=c.due_on,
        survey_id=c.survey_id,
        provider_id=c.provider_id,
        appointment_id=c.appointment_id,
    )
    if state.opened is not None:
        same = state.opened.model_dump(exclude={"opened_at"}) == opened.model_dump(
            exclude={"opened_at"}
        )
        if same:
            return []
        raise Rejected(f"case {c.case_id} is open already")
    return [opened]


def _decide(state: Case, c: CaseCommand) -> Sequence[DomainEvent]:
    if isinstance(c, OpenCase):
        return _open(state, c)
    if state.opened is None:
        raise NotFound(f"no case {c.case_id}")
    if isinstance(c, LinkIncident):
        return _link(state, c)
    if state.resolved:
        raise Rejected("the case is resolved")
    match c:
        case AssignCase():
            if c.due_on < c.now.date():
                raise Invalid("a case is due today or later")
            if (c.owner_id, c.due_on) == (state.owner_id, state.due_on):
                return []
            return [
                FeedbackCaseAssigned(
                    case_id=c.case_id,
                    owner_id=c.owner_id,
                    due_on=c.due_on,
                    assigned_by=c.assigned_by,
                    assigned_at=c.now,
                )
            ]
        case ResolveCase():
            if state.owner_id is None:
                raise Rejected("the case has no owner yet")
            if not c.resolution.strip():
                raise Invalid("a resolution says what was done")
            return [
                FeedbackCaseResolved(
                    case_id=c.case_id,
                    patient_id=state.opened.patient_id,
                    resolution=c.resolution,
                    resolved_by=c.resolved_by,
                    resolved_at=c.now,
                )
            ]


def _link(state: Case, c: LinkIncident) -> Sequence[DomainEvent]:
    """Linked once, whether resolved or not (compliance may answer after the resolution)."""
    assert state.opened is not None
    if state.opened.kind != "privacy_complaint":
        raise Rejected("only a privacy complaint links to an incident")
    if state.incident_id == c.incident_id:
        return []
    if state.incident_id is not None:
        raise Rejected(f"the case is linked to incident {state.incident_id}")
    return [
        FeedbackCaseIncidentLinked(case_id=c.case_id, incident_id=c.incident_id, linked_at=c.now)
    ]


feedback_case = Decider[Case, CaseCommand](Case(), _evolve, _decide)
