"""What the front desk takes in about a registered patient: coverage and the intake form.

Both are recorded in the patient's own stream, so they follow the patient's registration and
stop with forgetting: no new PHI for a forgotten patient. Member ids, reasons for visit and
questionnaire answers are PHI (`Phi` fields), sealed under the patient's key before storage.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from pydantic import AwareDatetime

from services.scheduling.domain.events import (
    CoverageRecorded,
    IntakeRecorded,
    PatientForgotten,
    PatientRegistered,
)
from shared.domain import Command, Decider, Invalid, NotFound, Rejected
from shared.events import DomainEvent

# The patient's relationship to the coverage's subscriber (X12 individual relationship codes
# 18, 01, 19 and G8, in words).
Relationship = Literal["self", "spouse", "child", "other"]


class RecordCoverage(Command):
    coverage_id: str
    patient_id: str
    payer_id: str
    payer_name: str
    plan: str
    relationship: Relationship
    member_id: str
    recorded_at: AwareDatetime
    # 1 primary, 2 secondary, 3 tertiary. None: the coverage's own if it is on file, else the
    # first free one (a second card handed over without a word is the secondary).
    priority: int | None = None
    subscriber_name: str = ""  # required unless the patient is the subscriber ("self")
    group_number: str = ""


PRIORITIES = (1, 2, 3)


class Answer(Command):
    question: str
    answer: str


class RecordIntake(Command):
    intake_id: str
    patient_id: str
    appointment_id: str | None
    reason_for_visit: str
    answers: tuple[Answer, ...]
    recorded_at: AwareDatetime


@dataclass(frozen=True)
class PatientFile:
    """A patient's stream as intake sees it: registered, forgotten, what is on file."""

    registered: bool = False
    forgotten: bool = False
    # The coverages in force, by id: (payer, plan, priority); one per priority.
    coverages: Mapping[str, tuple[str, str, int]] = field(default_factory=dict)
    intakes: frozenset[str] = frozenset()


def evolve(state: PatientFile, event: DomainEvent) -> PatientFile:
    match event:
        case PatientRegistered():
            return replace(state, registered=True)
        case PatientForgotten():
            return replace(state, forgotten=True)
        case CoverageRecorded():
            # The latest at a priority replaces any other there (and the same id is updated).
            kept = {
                coverage_id: on_file
                for coverage_id, on_file in state.coverages.items()
                if coverage_id != event.coverage_id and on_file[2] != event.priority
            }
            on_file = (event.payer_id, event.plan, event.priority)
            return replace(state, coverages={**kept, event.coverage_id: on_file})
        case IntakeRecorded():
            return replace(state, intakes=state.intakes | {event.intake_id})
    return state


def decide(state: PatientFile, command: RecordCoverage | RecordIntake) -> Sequence[DomainEvent]:
    if not state.registered:
        raise NotFound(f"patient {command.patient_id} not found")
    if state.forgotten:
        raise Rejected(f"patient {command.patient_id} was forgotten")
    match command:
        case RecordCoverage():
            return _record_coverage(state, command)
        case RecordIntake():
            return _record_intake(state, command)


def _record_coverage(state: PatientFile, c: RecordCoverage) -> Sequence[DomainEvent]:
    """A new coverage, or one on file (its id) updated. At a priority another coverage holds,
    the new one replaces it: the front desk records the card the patient hands over now."""
    for name in ("payer_id", "payer_name", "plan", "member_id"):
        if not getattr(c, name).strip():
            raise Invalid(f"a coverage needs a {name.replace('_', ' ')}")
    if c.relationship == "self" and c.subscriber_name:
        raise Invalid("a coverage of the patient's own names no other subscriber")
    if c.relationship != "self" and not c.subscriber_name.strip():
        raise Invalid(f"a coverage through a {c.relationship} needs the subscriber's name")
    priority = c.priority if c.priority is not None else _priority_of(state, c)
    if priority not in PRIORITIES:
        raise Invalid("a coverage's priority is 1 (primary), 2 (secondary) or 3 (tertiary)")
    others = [
        (payer, plan)
        for coverage_id, (payer, plan, at) in state.coverages.items()
        if coverage_id != c.coverage_id and at != priority
    ]
    if (c.payer_id, c.plan) in others:
        raise Rejected(
            f"patient {c.patient_id} already has coverage with payer {c.payer_id}, plan {c.plan}"
        )
    return [CoverageRecorded(**c.model_dump(exclude={"priority"}), priority=priority)]


def _priority_of(state: PatientFile, c: RecordCoverage) -> int:
    """The coverage's own priority if it is on file, else the first one free."""
    if c.coverage_id in state.coverages:
        return state.coverages[c.coverage_id][2]
    held = {at for _, _, at in state.coverages.values()}
    free = [p for p in PRIORITIES if p not in held]
    if not free:
        raise Rejected(
            f"patient {c.patient_id} has a primary, secondary and tertiary coverage: "
            "name the priority this one replaces"
        )
    return free[0]


def _record_intake(state: PatientFile, c: RecordIntake) -> Sequence[DomainEvent]:
    if not c.reason_for_visit.strip():
        raise Invalid("an intake needs a reason for the visit")
    questions = [a.question.strip() for a in c.answers]
    if not all(questions):
        raise Invalid("every answer needs its question")
    if len(set(questions)) != len(questions):
        raise Invalid("a question is answered once")
    if c.intake_id in state.intakes:
        raise Rejected(f"intake {c.intake_id} already exists")
    # One PHI field for the whole questionnaire: shared.phi seals top-level fields only.
    answers = json.dumps([a.model_dump() for a in c.answers])
    return [IntakeRecorded(**c.model_dump(exclude={"answers"}), answers=answers)]


patient_file = Decider[PatientFile, RecordCoverage | RecordIntake](PatientFile(), evolve, decide)
