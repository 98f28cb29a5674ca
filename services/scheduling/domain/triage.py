"""Same-day triage: the walk-in queue of one site on one local day.

Urgency runs from 1 (most urgent) to 5 (least), as in the Emergency Severity Index. The queue is
served by urgency, then by arrival. An entry waits until the patient is seen (called in) or leaves
without being seen; both close it for good. A patient waits in a site's queue once at a time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from services.scheduling.domain.events import (
    PatientRetriaged,
    PatientTriaged,
    TriagedPatientLeft,
    TriagedPatientSeen,
)
from shared.domain import Decider, Invalid, NotFound, Rejected
from shared.events import DomainEvent

MOST_URGENT, LEAST_URGENT = 1, 5

Status = Literal["waiting", "seen", "left"]
_CLOSED = {"seen": "was seen", "left": "left without being seen"}


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TriagePatient(Command):
    triage_id: str
    patient_id: str
    site_id: str
    urgency: int
    chief_complaint: str
    arrived_at: AwareDatetime


class Retriage(Command):
    triage_id: str
    urgency: int
    retriaged_at: AwareDatetime


class MarkSeen(Command):
    triage_id: str
    seen_at: AwareDatetime


class MarkLeft(Command):
    triage_id: str
    left_at: AwareDatetime


TriageCommand = TriagePatient | Retriage | MarkSeen | MarkLeft


@dataclass(frozen=True)
class Entry:
    triage_id: str
    patient_id: str
    urgency: int
    arrived_at: datetime
    status: Status = "waiting"


def queue_order(urgency: int, arrived_at: datetime, triage_id: str) -> tuple[int, datetime, str]:
    """The order a queue is served in: most urgent first, then first come; ids break ties."""
    return (urgency, arrived_at, triage_id)


@dataclass(frozen=True)
class TriageDay:
    entries: Mapping[str, Entry] = field(default_factory=dict)

    def waiting(self) -> list[Entry]:
        """The open entries, in the order they are served."""
        open_entries = [e for e in self.entries.values() if e.status == "waiting"]
        return sorted(open_entries, key=lambda e: queue_order(e.urgency, e.arrived_at, e.triage_id))


def evolve(state: TriageDay, event: DomainEvent) -> TriageDay:
    match event:
        case PatientTriaged():
            entry = Entry(event.triage_id, event.patient_id, event.urgency, event.arrived_at)
            return TriageDay({**state.entries, event.triage_id: entry})
        case PatientRetriaged():
            entry = replace(state.entries[event.triage_id], urgency=event.urgency)
        case TriagedPatientSeen():
            entry = replace(state.entries[event.triage_id], status="seen")
        case TriagedPatientLeft():
            entry = replace(state.entries[event.triage_id], status="left")
        case _:
            return state
    return TriageDay({**state.entries, entry.triage_id: entry})


def decide(state: TriageDay, command: TriageCommand) -> Sequence[DomainEvent]:
    match command:
        case TriagePatient():
            return _triage(state, command)
        case Retriage():
            entry = _waiting(state, command.triage_id)
            _check_urgency(command.urgency)
            if entry.urgency == command.urgency:
                return []  # the same urgency again changes nothing
            return [
                PatientRetriaged(
                    triage_id=entry.triage_id,
                    patient_id=entry.patient_id,
                    urgency=command.urgency,
                    retriaged_at=command.retriaged_at,
                )
            ]
        case MarkSeen():
            entry = _waiting(state, command.triage_id)
            return [
                TriagedPatientSeen(
                    triage_id=entry.triage_id, patient_id=entry.patient_id, seen_at=command.seen_at
                )
            ]
        case MarkLeft():
            entry = _waiting(state, command.triage_id)
            return [
                TriagedPatientLeft(
                    triage_id=entry.triage_id, patient_id=entry.patient_id, left_at=command.left_at
                )
            ]


def _check_urgency(urgency: int) -> None:
    if not MOST_URGENT <= urgency <= LEAST_URGENT:
        raise Invalid(f"urgency runs from {MOST_URGENT} (most urgent) to {LEAST_URGENT}")


def _triage(state: TriageDay, c: TriagePatient) -> Sequence[DomainEvent]:
    _check_urgency(c.urgency)
    if c.triage_id in state.entries:
        raise Rejected(f"triage {c.triage_id} already exists")
    for entry in state.waiting():
        if entry.patient_id == c.patient_id:
            raise Rejected(f"patient {c.patient_id} is already waiting (triage {entry.triage_id})")
    return [PatientTriaged(**c.model_dump())]


def _waiting(state: TriageDay, triage_id: str) -> Entry:
    entry = state.entries.get(triage_id)
    if entry is None:
        raise NotFound(f"triage {triage_id} not found")
    if entry.status != "waiting":
        raise Rejected(f"triage {triage_id} is closed: the patient {_CLOSED[entry.status]}")
    return entry


triage_day = Decider[TriageDay, TriageCommand](TriageDay(), evolve, decide)
