"""What training and reviews need to know of an employee: whether they are employed, their
role, sites and manager, folded from the contract events on the employee's stream.

A small read-only fold (it decides nothing); the people area's employee decider folds the same
events for everything else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from services.staffing.domain.events import EmployeeHired, EmployeeTerminated, JobChanged
from shared.domain import Decider, DomainError
from shared.events import DomainEvent


class NotTheirs(DomainError):
    """The step is someone else's to take: another employee's training, another's review
    (HTTP 403)."""


@dataclass(frozen=True)
class Employment:
    employee_id: str | None = None  # None: never hired
    role: str | None = None
    site_ids: tuple[str, ...] = ()
    manager_id: str | None = None
    employed: bool = False

    @property
    def known(self) -> bool:
        return self.employee_id is not None


def evolve(state: Employment, event: DomainEvent) -> Employment:
    match event:
        case EmployeeHired():
            return Employment(
                event.employee_id, event.role, event.site_ids, event.manager_id, employed=True
            )
        case JobChanged():
            return replace(
                state, role=event.role, site_ids=event.site_ids, manager_id=event.manager_id
            )
        case EmployeeTerminated():
            return replace(state, employed=False)
    return state


def _decides_nothing(state: Employment, command: object) -> Sequence[DomainEvent]:
    return ()


employment = Decider[Employment, object](Employment(), evolve, _decides_nothing)
