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
    coverages: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # id: (payer, plan)
    intakes: frozenset[str] = frozenset()


def evolve(state: PatientFile, event: DomainEvent) -> PatientFile:
    match event:
        case PatientRegistered():
            return replace(state, registered=True)
        case PatientForgotten():
            return replace(state, forgotten=True)
        case CoverageRecorded():
            plan = (event.payer_id, event.plan)
            return replace(state, coverages={**state.coverages, event.coverage_id: plan})
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
    for name in ("payer_id", "payer_name", "plan", "member_id"):
        if not getattr(c, name).strip():
            raise Invalid(f"a coverage needs a {name.replace('_', ' ')}")
    if c.coverage_id in state.coverages:
        raise Rejected(f"coverage {c.coverage_id} already exists")
    if (c.payer_id, c.plan) in state.coverages.values():
        raise Rejected(
            f"patient {c.patient_id} already has coverage with payer {c.payer_id}, plan {c.plan}"
        )
    return [CoverageRecorded(**c.model_dump())]


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
