"""Facts billing needs before it can charge a visit, recorded straight on billing's streams.

What billing learns of patients and coverages is the learning reactor's work, and fee schedules
and payers are published through the reference routes; both are being built beside charges.
Until they land, tests record those facts here, through a command handler on billing's own
event store (PHI sealed by billing's vault, as the reactor would), and wake its relay.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from services.billing.domain import streams
from services.billing.domain.events import (
    CoverageLearnt,
    Fee,
    FeeScheduleVersionPublished,
    PatientLearnt,
    PayerDefined,
    registry,
)
from services.suite import Suite
from shared.backends import Backends
from shared.clock import UuidIds
from shared.commands import CommandHandler
from shared.domain import Decider
from shared.events import DomainEvent, Metadata
from shared.eventstore.port import EventStore
from shared.kit import Assembled
from shared.outbox import OutboxRelay
from shared.phivault import PhiVault
from shared.settings import key_bytes
from tests.support import TestRunClock

Append = tuple[DomainEvent, ...]
APPEND = Decider[None, Append](None, lambda state, _: state, lambda _, events: events)


def _billing(target: Suite | Assembled[Any]) -> tuple[EventStore, OutboxRelay | None, Backends]:
    if isinstance(target, Assembled):
        return target.kit.store, target.kit.relay, target.kit.backends
    service = target.service("billing")
    assert service.event_store is not None
    return service.event_store, service.relay, target.backends


async def record_billing(
    target: Suite | Assembled[Any], tenant: str, stream: str, *events: DomainEvent
) -> int:
    """Append `events` to a billing stream (`target`: the suite, or billing's service in a
    service-layer test); the stream's new version."""
    store, relay, backends = _billing(target)
    vault = PhiVault(await backends.key_vault(), key_bytes(backends.settings.phi_kek))
    handler = CommandHandler(
        store,
        registry,
        TestRunClock(),
        UuidIds(),
        on_commit=relay.notify if relay is not None else lambda: None,
        vault=vault,
    )
    meta = Metadata(tenant=tenant, actor="billing-test", correlation_id=str(uuid.uuid4()))
    outcome = await handler.handle(stream, APPEND, events, meta)
    return outcome.stream_version


async def learn_patient(
    target: Suite | Assembled[Any],
    tenant: str,
    patient_id: str,
    payer_id: str | None = None,
) -> None:
    """Billing learns the patient (and, with `payer_id`, a primary coverage with that payer)."""
    events: list[DomainEvent] = [
        PatientLearnt(
            patient_id=patient_id,
            name="Test Patient",
            birth_date="1980-05-06",
            learnt_from=f"test:{uuid.uuid4()}",
        )
    ]
    if payer_id is not None:
        events.append(
            CoverageLearnt(
                patient_id=patient_id,
                coverage_id=f"cov-{patient_id}",
                payer_id=payer_id,
                plan="PPO",
                priority=1,
                relationship="self",
                member_id="M123456",
                learnt_from=f"test:{uuid.uuid4()}",
            )
        )
    await record_billing(target, tenant, streams.patient_account(tenant, patient_id), *events)


async def define_payer(
    target: Suite | Assembled[Any], tenant: str, payer_id: str, name: str
) -> None:
    await record_billing(
        target,
        tenant,
        streams.payer(tenant, payer_id),
        PayerDefined(
            payer_id=payer_id,
            name=name,
            x12_payer_id="60054",
            claim_filing_indicator="CI",
            defined_at=TestRunClock().now(),
        ),
    )


async def publish_fees(
    target: Suite | Assembled[Any],
    tenant: str,
    payer_id: str,
    version: int,
    effective_from: date,
    fees: dict[str, int],
) -> None:
    listed: Sequence[Fee] = [Fee(code=c, amount_cents=a) for c, a in fees.items()]
    await record_billing(
        target,
        tenant,
        streams.fee_schedule(tenant, payer_id),
        FeeScheduleVersionPublished(
            payer_id=payer_id,
            schedule_version=version,
            effective_from=effective_from,
            fees=tuple(listed),
            published_at=TestRunClock().now(),
        ),
    )
