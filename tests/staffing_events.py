"""Staffing's contract events, recorded in the staffing service's own event store as staffing
would record them, so that they travel its outbox relay and the bus to their consumers.

Tests of what scheduling learns from staffing use this until staffing's HTTP API records them;
then `record_staffing` is the one place to switch to it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from services.scheduling.domain import streams as scheduling_streams
from services.staffing.contracts import (
    CredentialRecorded,
    CredentialRenewed,
    CredentialRevoked,
    CredentialVerified,
    EmployeeHired,
    EmployeeTerminated,
    JobChanged,
    LeaveEnded,
    LeaveStarted,
    ProviderDetailsRecorded,
    TimeOffApproved,
    TimeOffCancelled,
)
from services.staffing.domain import streams
from services.suite import Suite
from shared.events import DomainEvent, Envelope, Metadata, seal
from shared.eventstore.port import EventStore
from shared.kit import Assembled
from shared.outbox import OutboxRelay
from shared.phi import PhiEvent
from tests.support import TestRunClock, wait_until

HR = "hr:tests"


def stream_of(tenant: str, event: DomainEvent) -> str:
    """The staffing stream that records the event."""
    match event:
        case (
            CredentialRecorded() | CredentialRenewed() | CredentialRevoked() | CredentialVerified()
        ):
            return streams.credential(tenant, event.credential_id)
        case TimeOffApproved() | TimeOffCancelled():
            return streams.time_off(tenant, event.request_id)
        case (
            EmployeeHired()
            | JobChanged()
            | LeaveStarted()
            | LeaveEnded()
            | EmployeeTerminated()
            | ProviderDetailsRecorded()
        ):
            return streams.employee(tenant, event.employee_id)
    raise ValueError(f"record_staffing does not know where {type(event).__name__} goes")


def _staffing(target: Suite | Assembled[Any]) -> tuple[EventStore, OutboxRelay | None]:
    if isinstance(target, Assembled):
        return target.kit.store, target.kit.relay
    service = target.service("staffing")
    assert service.event_store is not None
    return service.event_store, service.relay


async def record_staffing(
    target: Suite | Assembled[Any], tenant: str, *events: DomainEvent
) -> list[Envelope]:
    """Append `events`, in order, each to its staffing stream (`target`: the suite, or the
    staffing service of a service-layer test), and wake its relay. The envelopes, as stored."""
    store, relay = _staffing(target)
    meta = Metadata(tenant=tenant, actor=HR, correlation_id=f"staffing-test:{uuid.uuid4()}")
    recorded = []
    for event in events:
        assert not isinstance(event, PhiEvent), "personal data is sealed: record it via staffing"
        stream = stream_of(tenant, event)
        version = await store.version(stream)
        envelope = seal(
            event,
            stream=stream,
            stream_version=version + 1,
            meta=meta,
            event_id=str(uuid.uuid4()),
            time=TestRunClock().now(),
            subject=getattr(event, "employee_id", None),
        )
        await store.append(stream, [envelope], version)
        recorded.append(envelope)
    if relay is not None:
        relay.notify()
    return recorded


async def learnt(
    version_of: Callable[[str], Awaitable[int]],
    tenant: str,
    provider_id: str,
    version: int,
    timeout: float = 30.0,
) -> int:
    """Wait until scheduling's stream of the provider reaches `version` (`version_of`: its
    event store's `version`): it has recorded what it learnt so far."""
    stream = scheduling_streams.provider(tenant, provider_id)

    async def reached() -> int:
        current = await version_of(stream)
        return current if current >= version else 0

    return await wait_until(
        reached, timeout=timeout, message=f"scheduling to learn {stream} up to v{version}"
    )


def hired(
    employee_id: str,
    *site_ids: str,
    role: str = "physician",
    hired_on: date = date(2020, 1, 1),
    rehired: bool = False,
) -> EmployeeHired:
    return EmployeeHired(
        employee_id=employee_id,
        name=f"Dr. {employee_id}",
        title="Physician",
        role=role,
        site_ids=site_ids,
        fte=1.0,
        hired_on=hired_on,
        rehired=rehired,
    )


def licence(
    employee_id: str,
    credential_id: str,
    issued_on: date = date(2020, 1, 1),
    expires_on: date | None = date(2027, 12, 31),
    kind: str = "state_licence",
) -> CredentialRecorded:
    return CredentialRecorded(
        credential_id=credential_id,
        employee_id=employee_id,
        kind=kind,
        issuer="NY State Education Department",
        number=f"NY-{credential_id}",
        state="NY",
        issued_on=issued_on,
        expires_on=expires_on,
    )
