"""A patient's answers through the signed confirm and cancel links of an appointment's messages,
recorded on the appointment's stream (`engagement-appointment-<id>`) beside its messages: once
per link, and only while the link still speaks of the appointment as it stands there.

A link's expiry is the start of the visit its message named (`application/links.py`), so a link
of a message sent before a move names the old start: refused, as is any link once the
appointment's messages were stopped by its cancellation. Scheduling, which owns the appointment,
decides the answer in the end (it may have changed since engagement learnt of it): what it did
comes back on the bus (`PatientLinkAnswerApplied`, `PatientLinkAnswerRefused`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from pydantic import AwareDatetime

from services.engagement.domain.events import (
    AppointmentMessagesStopped,
    MessageScheduled,
    PatientAnsweredLink,
)
from shared.domain import Command, Decider, NotFound, Rejected
from shared.events import DomainEvent


@dataclass(frozen=True)
class LinkAnswers:
    patient_id: str | None = None
    site_id: str | None = None
    start: datetime | None = None  # the visit's start, as the latest plan named it
    cancelled: bool = False
    answered: frozenset[str] = frozenset()


class AnswerLink(Command):
    answer_id: str
    appointment_id: str
    action: Literal["confirm", "cancel"]
    appointment_start: AwareDatetime  # the start the link's message named (its expiry)
    now: AwareDatetime


def answer_id(appointment_id: str, action: str, appointment_start: datetime) -> str:
    """One answer per link: a link is its appointment, action and expiry."""
    return f"{appointment_id}-{action}-{appointment_start.astimezone(UTC):%Y%m%dT%H%MZ}"


def _evolve(state: LinkAnswers, event: DomainEvent) -> LinkAnswers:
    match event:
        case MessageScheduled() if event.purpose not in ("cancellation_notice", "survey"):
            return replace(
                state,
                patient_id=event.patient_id,
                site_id=event.site_id,
                start=event.appointment_start,
            )
        case AppointmentMessagesStopped():
            return replace(state, cancelled=True)
        case PatientAnsweredLink():
            return replace(state, answered=state.answered | {event.answer_id})
    return state


def _decide(state: LinkAnswers, c: AnswerLink) -> Sequence[DomainEvent]:
    if state.patient_id is None or state.site_id is None or state.start is None:
        raise NotFound(f"no messages were sent about appointment {c.appointment_id}")
    if c.answer_id in state.answered:
        raise Rejected("this link was answered already")
    if state.cancelled:
        raise Rejected("the appointment was cancelled")
    if state.start != c.appointment_start:
        raise Rejected(
            "the appointment has moved since this message was sent: "
            "the latest message about it has links of its own"
        )
    return [
        PatientAnsweredLink(
            answer_id=c.answer_id,
            appointment_id=c.appointment_id,
            patient_id=state.patient_id,
            site_id=state.site_id,
            action=c.action,
            appointment_start=c.appointment_start,
            answered_at=c.now,
        )
    ]


link_answers = Decider[LinkAnswers, AnswerLink](LinkAnswers(), _evolve, _decide)
