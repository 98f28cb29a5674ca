"""Stream names: each invariant lives in one stream (an employee's job and details, one
credential's life, an employee's shifts and time off, a provider's enrolment with one payer)."""

from __future__ import annotations

from services.staffing.domain.events import (
    ReviewStarted,
    ShiftAssigned,
    TimeOffRequested,
    TrainingAssigned,
)
from shared.events import DomainEvent


def employee(tenant: str, employee_id: str) -> str:
    return f"{tenant}:employee:{employee_id}"


def credential(tenant: str, credential_id: str) -> str:
    return f"{tenant}:credential:{credential_id}"


def enrolment(tenant: str, employee_id: str, payer_id: str) -> str:
    return f"{tenant}:enrolment:{employee_id}:{payer_id}"


# ----------------------------------------------------------------------------- shifts and time off


def roster_site(tenant: str, site_id: str) -> str:
    """A site's roster settings: time zone, shift templates, minimum staffing."""
    return f"{tenant}:roster-site:{site_id}"


def employee_time(tenant: str, employee_id: str) -> str:
    """One employee's shifts, time-off requests and PTO ledger: the stream that decides that
    their shifts never overlap, never fall in approved time off, and that PTO never goes below
    zero."""
    return f"{tenant}:employee-time:{employee_id}"


def employee_of_time(stream: str) -> str:
    """The employee whose time stream this is."""
    return stream.rsplit(":", 1)[-1]


def time_off(tenant: str, employee_id: str) -> str:
    """Time-off requests live in the employee's time stream (with the PTO they draw on)."""
    return employee_time(tenant, employee_id)


def pto_policy(tenant: str) -> str:
    """A tenant's PTO accrual rule."""
    return f"{tenant}:pto-policy"


def time_off_tag(tenant: str, request_id: str) -> str:
    """Tags the commits of a time-off request: finds the employee's stream by request id."""
    return f"{tenant}:time-off:{request_id}"


def shift_tag(tenant: str, shift_id: str) -> str:
    return f"{tenant}:shift:{shift_id}"


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
        case TimeOffRequested():
            return (time_off_tag(tenant, event.request_id),)
        case ShiftAssigned():
            return (shift_tag(tenant, event.shift_id),)
    return ()


def personal_access(tenant: str, access_id: str) -> str:
    """One response's record of disclosing employees' personal data."""
    return f"{tenant}:personal-access:{access_id}"
