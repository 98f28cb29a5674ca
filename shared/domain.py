"""Building blocks for pure domain code: deciders and the errors a decision may raise."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict

from shared.events import DomainEvent

S = TypeVar("S")
C = TypeVar("C")


class Command(BaseModel):
    """A command: what someone asks for, in the imperative (`BookAppointment`). Frozen, and an
    unknown field is an error; it carries its own time and new ids (never read in a decider)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class DomainError(Exception):
    """A command the domain refuses. Entry points map subclasses to HTTP statuses."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Rejected(DomainError):
    """The command conflicts with the current state (HTTP 409)."""


class NotFound(DomainError):
    """The command names something that does not exist (HTTP 404, or 422 inside a body)."""


class Invalid(DomainError):
    """The command is well-formed but makes no sense (HTTP 422)."""


class Forbidden(DomainError):
    """The step is someone else's to take, whatever the caller's role (HTTP 403)."""


@dataclass(frozen=True)
class Decider(Generic[S, C]):
    """An aggregate as three pure functions: state = fold(evolve, initial, events)."""

    initial: S
    evolve: Callable[[S, DomainEvent], S]
    decide: Callable[[S, C], Sequence[DomainEvent]]

    def fold(self, events: Iterable[DomainEvent]) -> S:
        state = self.initial
        for event in events:
            state = self.evolve(state, event)
        return state


class RecordAccess(Command):
    """Put on the record that one response disclosed these patients' data (`shared/access.py`):
    every service that discloses PHI records it, each under its own `PatientRecordAccessed`."""

    patient_ids: tuple[str, ...]
    endpoint: str
    purpose: str | None
    outcome: str
    accessed_at: AwareDatetime


def disclosure_decider(recorded: Callable[..., DomainEvent]) -> Decider[None, RecordAccess]:
    """A service's decider for its disclosures: one `recorded` event (the service's own
    `PatientRecordAccessed` class) per patient, each patient once. Each response's disclosures
    are a stream of their own, written in one commit: recording one never waits for another."""

    def record(_: None, command: RecordAccess) -> Sequence[DomainEvent]:
        fields = command.model_dump(exclude={"patient_ids"})
        return [
            recorded(patient_id=patient_id, **fields)
            for patient_id in dict.fromkeys(command.patient_ids)
        ]

    return Decider[None, RecordAccess](None, lambda state, _: state, record)
