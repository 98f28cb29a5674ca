"""Domain events, the envelope they travel in, and the registry that decodes them.

An event once stored is never rewritten. Old versions are upcast on read: the registry holds a
chain of upcasters from each retired type name to its successor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError


class DomainEvent(BaseModel):
    """Base of every domain event: frozen, strict about unknown fields, named in the past tense.

    Its data is JSON, which has no NaN or infinity: a float field refuses them."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    context: ClassVar[str] = ""
    version: ClassVar[int] = 1

    @classmethod
    def type_name(cls) -> str:
        return f"medoffice.{cls.context}.{cls.__name__}.v{cls.version}"

    @classmethod
    def phi_field_names(cls) -> tuple[str, ...]:
        """The fields that hold PHI (sealed before storage): none here; see `shared.phi`."""
        return ()


class Metadata(BaseModel):
    """Who caused a change and within which request: copied onto every event it produces."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant: str
    actor: str | None = None
    site: str | None = None
    correlation_id: str
    causation_id: str | None = None
    traceparent: str | None = None

    @classmethod
    def reacting_to(cls, envelope: Envelope, actor: str) -> Metadata:
        """What a service records because of an event it consumed: the event's tenant, site,
        correlation and trace, caused by it, by `actor` (the reacting service)."""
        return cls(
            tenant=envelope.tenant,
            actor=actor,
            site=envelope.site,
            correlation_id=envelope.correlation_id,
            causation_id=envelope.id,
            traceparent=envelope.traceparent,
        )


class Envelope(BaseModel):
    """A recorded event: CloudEvents 1.0 attributes, our extensions, and the data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    type: str
    source: str
    subject: str | None = None
    time: AwareDatetime
    stream: str
    stream_version: int
    tenant: str
    site: str | None = None
    correlation_id: str
    causation_id: str | None = None
    actor: str | None = None
    traceparent: str | None = None
    position: int | None = None
    # The data fields the producer declares PHI (sealed under the patient's key): consumers
    # without the producer's classes (compliance) know from this what not to keep in the clear.
    phi: tuple[str, ...] = ()
    data: dict[str, Any]

    @property
    def context(self) -> str:
        """The context of `medoffice.<context>.<Name>.v<n>`; a type of another shape (nothing
        of ours, but a consumer may still meet it) names none."""
        parts = self.type.split(".")
        return parts[1] if len(parts) > 1 else ""


def seal(
    event: DomainEvent,
    *,
    stream: str,
    stream_version: int,
    meta: Metadata,
    event_id: str,
    time: datetime,
    subject: str | None = None,
) -> Envelope:
    """Wrap a domain event for storage. Ids and time are inputs: the domain never makes them."""
    return Envelope(
        id=event_id,
        type=event.type_name(),
        source=f"/medoffice/{event.context}",
        subject=subject,
        time=time,
        stream=stream,
        stream_version=stream_version,
        tenant=meta.tenant,
        site=meta.site,
        correlation_id=meta.correlation_id,
        causation_id=meta.causation_id,
        actor=meta.actor,
        traceparent=meta.traceparent,
        phi=event.phi_field_names(),
        data=event.model_dump(mode="json"),
    )


class UnknownEventType(Exception):
    """An envelope names a type this process has never registered."""

    def __init__(self, type_name: str) -> None:
        super().__init__(f"unknown event type {type_name!r}")
        self.type_name = type_name


class MalformedEvent(Exception):
    """An envelope of a known type whose data does not match the type's schema."""


E = TypeVar("E", bound=DomainEvent)
Upcaster = Callable[[Mapping[str, Any]], dict[str, Any]]


class EventRegistry:
    """Maps type names to event classes; upcasts retired versions on the way in."""

    def __init__(self, events: Iterable[type[DomainEvent]] = ()) -> None:
        self._types: dict[str, type[DomainEvent]] = {}
        self._upcasters: dict[str, tuple[str, Upcaster]] = {}
        for cls in events:
            self.register(cls)

    def register(self, cls: type[E]) -> type[E]:
        self._types[cls.type_name()] = cls
        return cls

    def upcast(self, old_type: str, new_type: str, change: Upcaster) -> None:
        """Declare that `old_type` data becomes `new_type` data through `change`."""
        self._upcasters[old_type] = (new_type, change)

    def events(self) -> tuple[type[DomainEvent], ...]:
        """The event classes registered, in the order they were."""
        return tuple(self._types.values())

    def knows(self, type_name: str) -> bool:
        return type_name in self._types or type_name in self._upcasters

    def decode(self, envelope: Envelope) -> DomainEvent:
        """The domain event, validated against its class: the data may come from another
        service. Validation reads the envelope's data without changing it; only upcasters get
        a copy."""
        type_name, data = envelope.type, envelope.data
        seen: set[str] = set()
        while type_name in self._upcasters and type_name not in seen:
            seen.add(type_name)
            type_name, change = self._upcasters[type_name]
            data = change(dict(data))
        cls = self._types.get(type_name)
        if cls is None:
            raise UnknownEventType(envelope.type)
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problem = f"{envelope.type} {envelope.id}: {exc.error_count()} errors"
            raise MalformedEvent(problem) from exc

    def merged(self, other: EventRegistry) -> EventRegistry:
        merged = EventRegistry()
        for registry in (self, other):
            merged._types.update(registry._types)
            merged._upcasters.update(registry._upcasters)
        return merged


class Received(DomainEvent):
    """An event read as it arrived, without its producer's class: its type name and data."""

    type: str
    data: dict[str, Any]


class AsReceived(EventRegistry):
    """A registry for consumers of every context's events that need none of their classes
    (compliance's audit log): every type is known, and no event is decoded or checked against
    a schema, so a type never seen before (a new service, a new version) is read like any
    other."""

    def knows(self, type_name: str) -> bool:
        return True

    def decode(self, envelope: Envelope) -> DomainEvent:
        return Received(type=envelope.type, data=dict(envelope.data))
