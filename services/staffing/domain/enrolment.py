"""A provider's enrolment with one payer: one stream per provider and payer, so its status
moves along one lifecycle. Billing (to come) claims only for a provider `enrolled` with the
claim's payer on the date of service.

    (none) -> applied -> enrolled -> terminated -> applied ...
                      -> denied -> applied

Anything else is refused (409). Only providers enrol (their role is one of PROVIDER_ROLES);
the use case checks that on the employee stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from services.staffing.domain.events import PayerEnrolmentChanged
from shared.domain import Command, Decider, Invalid, Rejected
from shared.events import DomainEvent

Status = Literal["applied", "enrolled", "denied", "terminated"]

# From a status (None: never enrolled), the statuses it may move to.
TRANSITIONS: dict[str | None, tuple[str, ...]] = {
    None: ("applied",),
    "applied": ("enrolled", "denied"),
    "enrolled": ("terminated",),
    "denied": ("applied",),
    "terminated": ("applied",),  # a provider may apply again after an enrolment ended
}


class ChangeEnrolment(Command):
    enrolment_id: str  # kept from the first change on: a new one is used only then
    employee_id: str
    payer_id: str
    status: Status
    effective_from: date
    effective_until: date | None = None


@dataclass(frozen=True)
class Enrolment:
    latest: PayerEnrolmentChanged | None = None

    @property
    def status(self) -> str | None:
        return self.latest.status if self.latest is not None else None


def evolve(state: Enrolment, event: DomainEvent) -> Enrolment:
    if isinstance(event, PayerEnrolmentChanged):
        return Enrolment(latest=event)
    return state


def decide(state: Enrolment, command: ChangeEnrolment) -> list[DomainEvent]:
    if command.effective_until is not None and command.effective_until < command.effective_from:
        raise Invalid(
            f"effective_until {command.effective_until} is before effective_from "
            f"{command.effective_from}"
        )
    allowed = TRANSITIONS[state.status]
    if command.status not in allowed:
        now = state.status or "not enrolled"
        raise Rejected(
            f"an enrolment {now} cannot become {command.status} (only {', '.join(allowed)})"
        )
    enrolment_id = state.latest.enrolment_id if state.latest else command.enrolment_id
    return [PayerEnrolmentChanged(**{**command.model_dump(), "enrolment_id": enrolment_id})]


enrolment = Decider(initial=Enrolment(), evolve=evolve, decide=decide)
