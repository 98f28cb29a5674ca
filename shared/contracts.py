"""A service's published contract: the events it records, their CloudEvents type names and
versions, which of their fields are PHI, and the topic they travel on.

Each service declares one in `services/<ctx>/contracts.py`, the only module of a service that
another may import (tests/unit/test_architecture.py). `docs/asyncapi.yaml` is generated from
the contracts (`python -m services.asyncapi`).
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.cloudevents import events_topic
from shared.events import DomainEvent, EventRegistry
from shared.phi import PhiEvent, phi_fields


@dataclass(frozen=True)
class Contract:
    """`events`: every event type the context records, oldest versions included. `registry`
    decodes them (with any upcasters). `relayed`: whether the outbox relay publishes them on
    the context's topic; a context that keeps its events to itself still declares them.
    `consumes`: the contexts whose topics this service reads. `unrelayed`: the event types,
    among `events`, that stay in the context's store and are never published even though the
    others are (compliance's ledger blocks: chained in turn, they would chain themselves)."""

    context: str
    summary: str
    events: tuple[type[DomainEvent], ...]
    registry: EventRegistry
    relayed: bool = True
    consumes: tuple[str, ...] = ()
    unrelayed: tuple[type[DomainEvent], ...] = ()

    def __post_init__(self) -> None:
        for cls in self.events:
            if cls.context != self.context:
                raise ValueError(f"{cls.__name__} belongs to {cls.context!r}, not {self.context!r}")
            if not self.registry.knows(cls.type_name()):
                raise ValueError(f"{cls.type_name()} is not in the {self.context} registry")
        for cls in self.unrelayed:
            if cls not in self.events:
                raise ValueError(f"{cls.__name__} is not one of the {self.context} events")

    def publishes(self, cls: type[DomainEvent]) -> bool:
        """Whether the outbox relay puts events of this type on the context's topic."""
        return self.relayed and cls not in self.unrelayed

    @property
    def stored_only(self) -> frozenset[str]:
        """The type names of the events kept in the store and never published."""
        return frozenset(cls.type_name() for cls in self.unrelayed)

    def topic(self, namespace: str = "") -> str:
        """The topic the events travel on (settings prefix a namespace, as tests do)."""
        return events_topic(self.context, namespace)

    @property
    def source(self) -> str:
        """The CloudEvents `source` of every event of this context (see `shared.events.seal`)."""
        return f"/medoffice/{self.context}"

    def event(self, type_name: str) -> type[DomainEvent]:
        for cls in self.events:
            if cls.type_name() == type_name:
                return cls
        raise KeyError(type_name)


def phi_of(cls: type[DomainEvent]) -> tuple[str, ...]:
    """The fields of an event that hold PHI: sealed under the patient's key on the bus."""
    return phi_fields(cls)


def phi_subject(cls: type[DomainEvent]) -> str | None:
    """The field naming the patient whose key seals the event's PHI, if it has any."""
    return cls.phi_subject if issubclass(cls, PhiEvent) else None
