"""Stream names: each invariant lives in one stream (an employee's job and details, one
credential's life, one time-off request, a provider's enrolment with one payer)."""

from __future__ import annotations

from services.staffing.domain.events import ReviewStarted, TrainingAssigned
from shared.events import DomainEvent


def employee(tenant: str, employee_id: str) -> str:
    return f"{tenant}:employee:{employee_id}"


def credential(tenant: str, credential_id: str) -> str:
    return f"{tenant}:credential:{credential_id}"


def enrolment(tenant: str, employee_id: str, payer_id: str) -> str:
    return f"{tenant}:enrolment:{employee_id}:{payer_id}"


def time_off(tenant: str, request_id: str) -> str:
    return f"{tenant}:time-off:{request_id}"


# ----------------------------------------------------------------------------- training, reviews


def courses(tenant: str) -> str:
    """The tenant's training catalogue: every course, so one read finds those a role needs."""
    return f"{tenant}:courses"


def training(tenant: str, employee_id: str) -> str:
    """An employee's training record: their assignments and completions."""
    return f"{tenant}:training:{employee_id}"


def training_employee(stream: str) -> str:
    """The employee whose training record `stream` is."""
    return stream.rsplit(":", 1)[1]


def assignment_tag(tenant: str, assignment_id: str) -> str:
    """On the commit that assigns the training: the employee's training record."""
    return f"{tenant}:training-assignment:{assignment_id}"


def review_cycle(tenant: str, cycle_id: str) -> str:
    return f"{tenant}:review-cycle:{cycle_id}"


def review(tenant: str, cycle_id: str, employee_id: str) -> str:
    """One employee's review in one cycle: one per cycle and employee, by its name."""
    return f"{tenant}:review:{cycle_id}:{employee_id}"


def review_tag(tenant: str, review_id: str) -> str:
    """On the commit that starts the review: the review's stream."""
    return f"{tenant}:review-id:{review_id}"


def tags(tenant: str, event: DomainEvent) -> tuple[str, ...]:
    """The tags of the commit that records `event`."""
    match event:
        case TrainingAssigned():
            return (assignment_tag(tenant, event.assignment_id),)
        case ReviewStarted():
            return (review_tag(tenant, event.review_id),)
    return ()


def personal_access(tenant: str, access_id: str) -> str:
    """One response's record of disclosing employees' personal data."""
    return f"{tenant}:personal-access:{access_id}"
