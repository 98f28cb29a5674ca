"""What training, reviews, rostering and time off need to know of an employee, folded from the
employee stream's contract events: hired when, role, sites, manager, FTE over time, leaves,
termination.

A read-only fold (it decides nothing); the people area's employee decider
(`domain/employees.py`) folds the same events to decide. The use cases fold this one and hand
it to the other areas' deciders inside their commands, so those stay pure and one-stream.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from services.staffing.domain.events import (
    PROVIDER_ROLES,
    EmployeeHired,
    EmployeeTerminated,
    JobChanged,
    LeaveEnded,
    LeaveStarted,
)
from shared.domain import Decider, Forbidden
from shared.events import DomainEvent


class NotTheirs(Forbidden):
    """The step is someone else's to take: another employee's training, another's review
    (HTTP 403)."""


class Leave(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    leave_id: str
    starts_on: date
    returned_on: date | None = None  # back at work on this day


class Employment(BaseModel):
    """An employee as rostering sees them. `spells`: (hired_on, last_day or None) per hire;
    `ftes`: (effective_on, fte) in order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    employee_id: str = ""
    name: str = ""
    role: str = ""
    site_ids: tuple[str, ...] = ()
    manager_id: str | None = None
    spells: tuple[tuple[date, date | None], ...] = ()
    ftes: tuple[tuple[date, float], ...] = ()
    leaves: tuple[Leave, ...] = ()

    @property
    def exists(self) -> bool:
        return bool(self.spells)

    @property
    def known(self) -> bool:
        """Hired at least once."""
        return self.exists

    @property
    def employed(self) -> bool:
        """Hired and not terminated since (a termination counts from when it is recorded)."""
        return self.exists and not self.terminated

    @property
    def is_provider(self) -> bool:
        return self.role in PROVIDER_ROLES

    @property
    def terminated(self) -> bool:
        return bool(self.spells) and self.spells[-1][1] is not None

    def employed_on(self, day: date) -> bool:
        return any(hired <= day and (last is None or day <= last) for hired, last in self.spells)

    def on_leave(self, day: date) -> bool:
        return any(
            leave.starts_on <= day and (leave.returned_on is None or day < leave.returned_on)
            for leave in self.leaves
        )

    def fte_on(self, day: date) -> float:
        fte = 0.0
        for effective_on, value in self.ftes:
            if effective_on > day:
                break
            fte = value
        return fte


def _evolve(state: Employment, event: DomainEvent) -> Employment:
    if isinstance(event, EmployeeHired):
        return state.model_copy(
            update={
                "employee_id": event.employee_id,
                "name": event.name,
                "role": event.role,
                "site_ids": event.site_ids,
                "manager_id": event.manager_id,
                "spells": (*state.spells, (event.hired_on, None)),
                "ftes": (*state.ftes, (event.hired_on, event.fte)),
            }
        )
    if isinstance(event, JobChanged):
        return state.model_copy(
            update={
                "role": event.role,
                "site_ids": event.site_ids,
                "manager_id": event.manager_id,
                "ftes": (*state.ftes, (event.effective_on, event.fte)),
            }
        )
    if isinstance(event, EmployeeTerminated) and state.spells:
        hired, _ = state.spells[-1]
        return state.model_copy(update={"spells": (*state.spells[:-1], (hired, event.last_day))})
    if isinstance(event, LeaveStarted):
        leave = Leave(leave_id=event.leave_id, starts_on=event.starts_on)
        return state.model_copy(update={"leaves": (*state.leaves, leave)})
    if isinstance(event, LeaveEnded):
        leaves = tuple(
            leave.model_copy(update={"returned_on": event.returned_on})
            if leave.leave_id == event.leave_id
            else leave
            for leave in state.leaves
        )
        return state.model_copy(update={"leaves": leaves})
    return state


def _decide(state: Employment, command: object) -> list[DomainEvent]:
    raise TypeError("the employment fold only reads the employee stream")


employment: Decider[Employment, object] = Decider(Employment(), _evolve, _decide)
