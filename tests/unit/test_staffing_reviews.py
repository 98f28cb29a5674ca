"""Performance reviews, given events, when a command, then events: one lifecycle, each step by
its own person (`NotTheirs`, 403), out of order `Rejected` (409), ratings checked (422)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import pytest

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
from services.staffing.domain.reviews import (
    Acknowledge,
    OpenCycle,
    ReviewCommand,
    SignOff,
    StartReview,
    SubmitManagerReview,
    SubmitSelfAssessment,
    review,
    review_cycle,
)
from shared.domain import Invalid, NotFound, Rejected
from shared.events import DomainEvent

AT = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
COMPETENCIES = ("patient care", "teamwork")
IDS = {"review_id": "r-1", "cycle_id": "2026", "employee_id": "emp-1"}

STARTED = ReviewStarted(
    **IDS, reviewer_id="mgr-1", competencies=COMPETENCIES, site_ids=("north",), started_at=AT
)
SELF = SelfAssessmentSubmitted(**IDS, summary="A good year", submitted_at=AT)
MANAGER = ManagerReviewSubmitted(
    **IDS,
    reviewer_id="mgr-1",
    ratings=(
        CompetencyRating(competency="patient care", rating=4),
        CompetencyRating(competency="teamwork", rating=5),
    ),
    goals=("Lead the flu clinic",),
    submitted_at=AT,
)
BY_MANAGER = ReviewSignedOff(**IDS, by="manager", signed_by="mgr-1", signed_at=AT)
BY_EMPLOYEE = ReviewSignedOff(**IDS, by="employee", signed_by="emp-1", signed_at=AT)
ACKNOWLEDGED = ReviewAcknowledged(**IDS, acknowledged_at=AT)

START = StartReview(
    **IDS, reviewer_id="mgr-1", competencies=COMPETENCIES, site_ids=("north",), started_at=AT
)
SELF_ASSESS = SubmitSelfAssessment(actor="emp-1", summary="A good year", submitted_at=AT)
RATINGS = {"patient care": 4, "teamwork": 5}
MANAGER_REVIEW = SubmitManagerReview(
    actor="mgr-1", ratings=RATINGS, goals=("Lead the flu clinic",), submitted_at=AT
)
SIGN_AS_MANAGER = SignOff(actor="mgr-1", signed_at=AT)
SIGN_AS_EMPLOYEE = SignOff(actor="emp-1", signed_at=AT)
ACKNOWLEDGE = Acknowledge(actor="emp-1", acknowledged_at=AT)

# Where a review stands after each step, as its events.
STAGES: dict[str, list[DomainEvent]] = {
    "not started": [],
    "started": [STARTED],
    "self assessed": [STARTED, SELF],
    "manager reviewed": [STARTED, SELF, MANAGER],
    "signed by the manager": [STARTED, SELF, MANAGER, BY_MANAGER],
    "signed by the employee": [STARTED, SELF, MANAGER, BY_EMPLOYEE],
    "signed off": [STARTED, SELF, MANAGER, BY_MANAGER, BY_EMPLOYEE],
    "acknowledged": [STARTED, SELF, MANAGER, BY_MANAGER, BY_EMPLOYEE, ACKNOWLEDGED],
}
# The commands each stage accepts; every other step is out of order.
LEGAL: dict[str, set[str]] = {
    "not started": {"start"},
    "started": {"self-assess"},
    "self assessed": {"manager review"},
    "manager reviewed": {"sign as manager", "sign as employee"},
    "signed by the manager": {"sign as employee"},
    "signed by the employee": {"sign as manager"},
    "signed off": {"acknowledge"},
    "acknowledged": set(),
}
STEPS: dict[str, ReviewCommand] = {
    "start": START,
    "self-assess": SELF_ASSESS,
    "manager review": MANAGER_REVIEW,
    "sign as manager": SIGN_AS_MANAGER,
    "sign as employee": SIGN_AS_EMPLOYEE,
    "acknowledge": ACKNOWLEDGE,
}


def when(given: Sequence[DomainEvent], command: ReviewCommand) -> Sequence[DomainEvent]:
    return review.decide(review.fold(given), command)


def test_the_whole_lifecycle_either_order_of_sign_off() -> None:
    assert when([], START) == [STARTED]
    assert when([STARTED], SELF_ASSESS) == [SELF]
    assert when([STARTED, SELF], MANAGER_REVIEW) == [MANAGER]
    assert when(STAGES["manager reviewed"], SIGN_AS_EMPLOYEE) == [BY_EMPLOYEE]
    assert when(STAGES["signed by the employee"], SIGN_AS_MANAGER) == [BY_MANAGER]
    assert when(STAGES["signed by the manager"], SIGN_AS_EMPLOYEE) == [BY_EMPLOYEE]
    assert when(STAGES["signed off"], ACKNOWLEDGE) == [ACKNOWLEDGED]
    state = review.fold(STAGES["acknowledged"])
    assert state.status == "acknowledged"
    assert state.ratings == RATINGS


@pytest.mark.parametrize(
    ("stage", "step"),
    [(stage, step) for stage in STAGES for step in STEPS if step not in LEGAL[stage]],
)
def test_every_step_out_of_order_is_refused(stage: str, step: str) -> None:
    expected = NotFound if stage == "not started" else Rejected
    with pytest.raises(expected):
        when(STAGES[stage], STEPS[step])


@pytest.mark.parametrize(
    ("step", "actor"),
    [
        ("self-assess", "mgr-1"),
        ("self-assess", "someone"),
        ("manager review", "emp-1"),
        ("manager review", "someone"),
        ("sign as manager", "someone"),
        ("acknowledge", "mgr-1"),
    ],
)
def test_each_step_is_its_own_persons(step: str, actor: str) -> None:
    stage = {
        "self-assess": "started",
        "manager review": "self assessed",
        "sign as manager": "manager reviewed",
        "acknowledge": "signed off",
    }[step]
    command = STEPS[step].model_copy(update={"actor": actor})
    with pytest.raises(NotTheirs):
        when(STAGES[stage], command)


def test_the_wrong_person_is_told_so_before_the_order() -> None:
    with pytest.raises(NotTheirs):
        when(STAGES["acknowledged"], SELF_ASSESS.model_copy(update={"actor": "mgr-1"}))


@pytest.mark.parametrize(
    ("ratings", "reason"),
    [
        ({"patient care": 0, "teamwork": 3}, "patient care is rated 0: ratings run from 1 to 5"),
        ({"patient care": 6, "teamwork": 3}, "patient care is rated 6: ratings run from 1 to 5"),
        ({"patient care": 3, "teamwork": 3, "charting": 4}, "not a competency of this cycle: "),
        ({"patient care": 3}, "no rating for: teamwork"),
    ],
)
def test_ratings_run_from_1_to_5_for_every_competency_of_the_cycle(
    ratings: dict[str, int], reason: str
) -> None:
    command = MANAGER_REVIEW.model_copy(update={"ratings": ratings})
    with pytest.raises(Invalid, match=reason):
        when(STAGES["self assessed"], command)


def test_a_manager_review_sets_goals() -> None:
    with pytest.raises(Invalid, match="at least one goal"):
        when(STAGES["self assessed"], MANAGER_REVIEW.model_copy(update={"goals": ("  ",)}))


def test_nobody_reviews_themselves() -> None:
    with pytest.raises(Invalid, match="cannot review themselves"):
        when([], START.model_copy(update={"reviewer_id": "emp-1"}))


CYCLE = OpenCycle(
    cycle_id="2026",
    name="Annual 2026",
    period_start=date(2026, 1, 1),
    period_end=date(2026, 12, 31),
    due_on=date(2027, 1, 31),
    competencies=COMPETENCIES,
)


def test_a_cycle_opens_once() -> None:
    opened = review_cycle.decide(review_cycle.initial, CYCLE)
    assert opened == [ReviewCycleOpened(**CYCLE.model_dump())]
    with pytest.raises(Rejected):
        review_cycle.decide(review_cycle.fold(opened), CYCLE)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"period_end": date(2025, 12, 31)}, "must end on or after its start"),
        ({"due_on": date(2025, 6, 1)}, "cannot be due before its period starts"),
        ({"competencies": ()}, "at least one named competency"),
        ({"competencies": ("teamwork", " teamwork ")}, "named twice"),
    ],
)
def test_a_cycle_makes_sense(change: dict[str, object], reason: str) -> None:
    with pytest.raises(Invalid, match=reason):
        review_cycle.decide(review_cycle.initial, CYCLE.model_copy(update=change))
