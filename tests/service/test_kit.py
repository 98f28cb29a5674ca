"""The service kit: what `assemble` builds from a declaration, and what it refuses."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from services.compliance import app as compliance
from services.scheduling import app as scheduling
from shared.backends import Backends
from shared.clock import SystemClock, UuidIds
from shared.commands import CommandHandler
from shared.domain import Command, Decider, Rejected
from shared.events import DomainEvent, EventRegistry
from shared.kit import Assembled, assemble
from shared.timers import Timer
from shared.usecases import UseCases
from tests.service.conftest import META


def test_every_service_declares_its_checks_and_workers(
    scheduling_service: Assembled[Any], compliance_service: Assembled[Any]
) -> None:
    built = scheduling_service.service
    assert list(built.checks) == [
        "scheduling.event_store",
        "scheduling.read_models",
        "scheduling.key_vault",
        "scheduling.workers",
    ]
    assert built.relay is not None  # scheduling's events go to the bus
    assert [w.name for w in built.workers if isinstance(w, Timer)] == [
        "scheduling.no_show_timer",
        "scheduling.offer_expiry_timer",
        "scheduling.third_next_available_timer",
    ]
    assert {r.projection.name for r in built.runners} >= {"scheduling.patients"}

    audit = compliance_service.service
    assert list(audit.checks) == [
        "compliance.event_store",
        "compliance.read_models",
        "compliance.ledger_anchors",
        "compliance.workers",
    ]
    # The officer's events (policies, incidents, alerts) go to the bus; the ledger's blocks stay in
    # its store (the contract's `unrelayed`, honoured by the relay: tests/service/test_outbox.py).
    assert audit.relay is not None
    assert compliance_service.kit.vault is None  # it never opens patients' data
    assert [w.name for w in audit.workers] == [
        "reactor.compliance.monitors",
        "reactor.compliance.privacy_complaints",
        "compliance.audit_ledger",
        "compliance.monitor.credentials",
        "compliance.monitor.training",
        "compliance.monitor.ledger",
        "compliance.monitor.policies",
        "compliance.monitor.incidents",
    ]


async def test_a_projection_reading_a_context_its_contract_does_not_consume_is_refused(
    backends: Backends,
) -> None:
    narrow = replace(compliance.SPEC.contract, consumes=("scheduling",))  # it reads them all
    spec = replace(compliance.SPEC, contract=narrow)
    with pytest.raises(ValueError, match="compliance.audit_log reads .*billing"):
        await assemble(spec, backends, SystemClock(), UuidIds())


async def test_ready_checks_pass_on_an_assembled_service(
    scheduling_service: Assembled[Any],
) -> None:
    for check in scheduling_service.service.checks.values():
        await check()


class Open(Command):
    at: datetime


class Opened(DomainEvent):
    context = "doors"
    at: datetime


def _decide(opened: bool, command: Open) -> list[DomainEvent]:
    if opened:
        raise Rejected("already open")
    return [Opened(at=command.at)]


DOOR = Decider[bool, Open](initial=False, evolve=lambda _, __: True, decide=_decide)


async def test_a_use_case_class_gets_ids_time_and_decisions_from_the_base(
    backends: Backends,
) -> None:
    class Doors(UseCases):
        async def open(self, door: str) -> int:
            outcome = await self.decide(f"acme:door:{door}", DOOR, Open(at=self.now()), META)
            return outcome.stream_version

    store = await backends.event_store("doors")  # a store of its own: no relay, no projections
    doors = Doors(CommandHandler(store, EventRegistry([Opened]), SystemClock(), UuidIds()))
    door = doors.new_id()
    assert door
    assert door != doors.new_id()
    assert doors.now().tzinfo is not None
    assert doors.now() <= datetime.now(UTC)
    assert await doors.open(door) == 1
    assert await doors.stream_version(f"acme:door:{door}") == 1
    assert await doors.state(f"acme:door:{door}", DOOR) is True
    with pytest.raises(Rejected):
        await doors.open(door)
    with pytest.raises(ValueError, match="extra"):
        Open(at=doors.now(), by="someone")  # type: ignore[call-arg]


def test_scheduling_and_compliance_are_declared_by_their_contracts() -> None:
    assert (scheduling.SPEC.name, compliance.SPEC.name) == ("scheduling", "compliance")
    assert compliance.SPEC.subscribes_to == (
        "scheduling",
        "staffing",
        "billing",
        "finance",
        "engagement",
        "compliance",
        "operations",
    )
