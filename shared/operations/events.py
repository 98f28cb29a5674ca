"""What operators do, as events: dead letters replayed or discarded, read models rebuilt.

They are recorded in the deployment's one `operations` event store (every process opens the
same), each with the operator's identity as its actor and the platform as its tenant (operators
belong to no tenant), and relayed like any context's events to `medoffice.operations.events`.
Compliance consumes that topic, so its audit log and hash-chained ledger hold what operators
did beside what the services did, and its verification compares the store with the chain.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from shared.contracts import Contract
from shared.events import DomainEvent, EventRegistry

CONTEXT = "operations"


class DeadLetterReplayed(DomainEvent):
    """An operator sent a dead letter's record again to its original topic."""

    context: ClassVar[str] = CONTEXT

    dead_letter_id: str
    letter_context: str
    topic: str
    event_id: str | None
    operator: str


class DeadLetterDiscarded(DomainEvent):
    """An operator set a dead letter aside for good, saying why."""

    context: ClassVar[str] = CONTEXT

    dead_letter_id: str
    letter_context: str
    reason: str
    operator: str


class RebuildStarted(DomainEvent):
    """An operator started rebuilding a read model from the first event."""

    context: ClassVar[str] = CONTEXT

    rebuild_id: str
    projection: str
    generation: int
    operator: str


class RebuildCancelled(DomainEvent):
    """An operator asked a running rebuild to stop; the live read model serves on."""

    context: ClassVar[str] = CONTEXT

    rebuild_id: str
    projection: str
    operator: str


class RebuildEnded(DomainEvent):
    """A rebuild came to its end: switched to its new generation, cancelled, or failed."""

    context: ClassVar[str] = CONTEXT

    rebuild_id: str
    projection: str
    status: Literal["switched", "cancelled", "failed"]
    events_done: int | None = None
    error: str | None = None


EVENTS = (DeadLetterReplayed, DeadLetterDiscarded, RebuildStarted, RebuildCancelled, RebuildEnded)

CONTRACT = Contract(
    context=CONTEXT,
    summary="What operators did: dead letters replayed or discarded, read models rebuilt, each "
    "with the operator's identity (tenant `platform`).",
    events=EVENTS,
    registry=EventRegistry(EVENTS),
)
