"""Performance reviews: cycles, and each employee's review in a cycle, one lifecycle.

    started -> self_assessed -> manager_reviewed -> (signed by the manager and by the employee,
    either order) -> signed_off -> acknowledged

The employee self-assesses, signs as the employee and acknowledges; the reviewer submits the
manager review (a rating from 1 to 5 of every competency the cycle names, and goals) and signs
as the manager. Anyone else is `NotTheirs` (HTTP 403), checked before the order; a step out of
order is `Rejected` (409); both write nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from services.staffing.domain.employment import NotTheirs
from services.staffing.domain.events import (
    CompetencyRating,
    ManagerReviewSubmitted,
    ReviewAcknowledged,
    ReviewCycleOpened,
    ReviewSignedOff,
    ReviewStarted,
    SelfAssessmentSubmitted,
)
from shared.domain import Decider, Invalid, NotFound, Rejected
from shared.events import DomainEvent

LOWEST, HIGHEST = 1, 5
MAX_COMPETENCIES = 30

Status = Literal[
    "not_started", "started", "self_assessed", "manager_reviewed", "signed_off", "acknowledged"
]
# Every status a started review passes through, in order: the cycle's status counts by them.
STEPS: tuple[Status, ...] = (
    "started",
    "self_assessed",
    "manager_reviewed",
    "signed_off",
    "acknowledged",
)


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# ----------------------------------------------------------------------------- cycles


class OpenCycle(Command):
    cycle_id: str
    name: str
    period_start: date
    period_end: date
    due_on: date
    competencies: tuple[str, ...]


@dataclass(frozen=True)
class Cycle:
    cycle_id: str | None = None  # None: never opened
    name: str = ""
    competencies: tuple[str, ...] = ()
    period_start: date | None = None
    period_end: date | None = None
    due_on: date | None = None


def evolve_cycle(state: Cycle, event: DomainEvent) -> Cycle:
    if isinstance(event, ReviewCycleOpened):
        return Cycle(
            event.cycle_id,
            event.name,
            event.competencies,
            event.period_start,
            event.period_end,
            event.due_on,
        )
    return state


def decide_cycle(state: Cycle, command: OpenCycle) -> Sequence[DomainEvent]:
    if command.period_end < command.period_start:
        raise Invalid("a review period must end on or after its start")
    if command.due_on < command.period_start:
        raise Invalid("a review cycle cannot be due before its period starts")
    names = [c.strip() for c in command.competencies]
    if not names or any(not n for n in names):
        raise Invalid("a review cycle rates at least one named competency")
    if len(names) > MAX_COMPETENCIES:
        raise Invalid(f"a review cycle rates at most {MAX_COMPETENCIES} competencies")
    if len(set(names)) != len(names):
        raise Invalid("a competency is named twice")
    if state.cycle_id is not None:
        raise Rejected(f"review cycle {command.cycle_id} is already open")
    return [ReviewCycleOpened(**{**command.model_dump(), "competencies": tuple(names)})]


review_cycle = Decider[Cycle, OpenCycle](Cycle(), evolve_cycle, decide_cycle)


# ----------------------------------------------------------------------------- a review


class StartReview(Command):
    review_id: str
    cycle_id: str
    employee_id: str
    reviewer_id: str
    competencies: tuple[str, ...]
    site_ids: tuple[str, ...] = ()
    started_at: AwareDatetime


class SubmitSelfAssessment(Command):
    actor: str
    summary: str
    submitted_at: AwareDatetime


class SubmitManagerReview(Command):
    actor: str
    ratings: Mapping[str, int]
    goals: tuple[str, ...]
    summary: str = ""
    submitted_at: AwareDatetime


class SignOff(Command):
    """Sign as the manager (the reviewer) or as the employee: which, the actor says."""

    actor: str
    signed_at: AwareDatetime


class Acknowledge(Command):
    actor: str
    comment: str = ""
    acknowledged_at: AwareDatetime


ReviewCommand = StartReview | SubmitSelfAssessment | SubmitManagerReview | SignOff | Acknowledge


@dataclass(frozen=True)
class Review:
    review_id: str | None = None  # None: not started
    cycle_id: str = ""
    employee_id: str = ""
    reviewer_id: str = ""
    competencies: tuple[str, ...] = ()
    status: Status = "not_started"
    signed_by: frozenset[str] = field(default_factory=frozenset)  # "manager", "employee"
    ratings: Mapping[str, int] = field(default_factory=dict)
    goals: tuple[str, ...] = ()
    acknowledged_at: datetime | None = None


def evolve_review(state: Review, event: DomainEvent) -> Review:
    match event:
        case ReviewStarted():
            return Review(
                event.review_id,
                event.cycle_id,
                event.employee_id,
                event.reviewer_id,
                event.competencies,
                status="started",
            )
        case SelfAssessmentSubmitted():
            return replace(state, status="self_assessed")
        case ManagerReviewSubmitted():
            ratings = {r.competency: r.rating for r in event.ratings}
            return replace(state, status="manager_reviewed", ratings=ratings, goals=event.goals)
        case ReviewSignedOff():
            signed = state.signed_by | {event.by}
            status: Status = "signed_off" if signed == {"manager", "employee"} else state.status
            return replace(state, signed_by=signed, status=status)
        case ReviewAcknowledged():
            return replace(state, status="acknowledged", acknowledged_at=event.acknowledged_at)
    return state


def decide_review(state: Review, command: ReviewCommand) -> Sequence[DomainEvent]:
    if isinstance(command, StartReview):
        return _start(state, command)
    if state.review_id is None:
        raise NotFound("the review has not been started")
    match command:
        case SubmitSelfAssessment():
            _by_employee(state, command.actor, "self-assesses")
            _at(state, "started", "submit the self-assessment")
            return [
                SelfAssessmentSubmitted(
                    **_ids(state), summary=command.summary, submitted_at=command.submitted_at
                )
            ]
        case SubmitManagerReview():
            if command.actor != state.reviewer_id:
                raise NotTheirs("only the reviewer submits the manager review")
            _at(state, "self_assessed", "submit the manager review")
            ratings = _ratings(state, command.ratings)
            goals = tuple(g.strip() for g in command.goals)
            if not goals or any(not g for g in goals):
                raise Invalid("a manager review sets at least one goal, none of them empty")
            return [
                ManagerReviewSubmitted(
                    **_ids(state),
                    reviewer_id=state.reviewer_id,
                    ratings=ratings,
                    goals=goals,
                    summary=command.summary,
                    submitted_at=command.submitted_at,
                )
            ]
        case SignOff():
            return _sign(state, command)
        case Acknowledge():
            _by_employee(state, command.actor, "acknowledges")
            _at(state, "signed_off", "acknowledge the review")
            return [
                ReviewAcknowledged(
                    **_ids(state), comment=command.comment, acknowledged_at=command.acknowledged_at
                )
            ]


def _start(state: Review, c: StartReview) -> Sequence[DomainEvent]:
    if c.reviewer_id == c.employee_id:
        raise Invalid("an employee cannot review themselves")
    if state.review_id is not None:
        raise Rejected(
            f"employee {c.employee_id} already has review {state.review_id} in cycle {c.cycle_id}"
        )
    return [ReviewStarted(**c.model_dump())]


def _ids(state: Review) -> dict[str, str]:
    assert state.review_id is not None
    return {
        "review_id": state.review_id,
        "cycle_id": state.cycle_id,
        "employee_id": state.employee_id,
    }


def _by_employee(state: Review, actor: str, does: str) -> None:
    if actor != state.employee_id:
        raise NotTheirs(f"only the employee reviewed {does}")


def _at(state: Review, expected: Status, step: str) -> None:
    if state.status != expected:
        raise Rejected(f"cannot {step}: the review is {state.status.replace('_', ' ')}")


def _ratings(state: Review, given: Mapping[str, int]) -> tuple[CompetencyRating, ...]:
    unknown = sorted(set(given) - set(state.competencies))
    if unknown:
        raise Invalid(f"not a competency of this cycle: {', '.join(unknown)}")
    missing = [c for c in state.competencies if c not in given]
    if missing:
        raise Invalid(f"no rating for: {', '.join(missing)}")
    for competency, rating in given.items():
        if not LOWEST <= rating <= HIGHEST:
            raise Invalid(f"{competency} is rated {rating}: ratings run from {LOWEST} to {HIGHEST}")
    return tuple(CompetencyRating(competency=c, rating=given[c]) for c in state.competencies)


def _sign(state: Review, c: SignOff) -> Sequence[DomainEvent]:
    if c.actor == state.reviewer_id:
        side: Literal["manager", "employee"] = "manager"
    elif c.actor == state.employee_id:
        side = "employee"
    else:
        raise NotTheirs("only the reviewer and the employee sign a review off")
    if state.status != "manager_reviewed":
        raise Rejected(f"cannot sign the review off: it is {state.status.replace('_', ' ')}")
    if side in state.signed_by:
        raise Rejected(f"the {side} has already signed the review off")
    return [ReviewSignedOff(**_ids(state), by=side, signed_by=c.actor, signed_at=c.signed_at)]


review = Decider[Review, ReviewCommand](Review(), evolve_review, decide_review)
