"""The service kit: a service is declared once (`ServiceSpec`) and built by one function
(`assemble`) on the backends, clock and ids of the process that runs it.

What every service gets from `assemble`, in this order: its event store and read models (in
its own database), the key vault and PHI vault (if it keeps patients' data), the outbox relay
that publishes its events (if it publishes), one `CommandHandler`, a runner per projection;
then its use cases (`application`), and with them its reactors, other consumers, timers,
routers and readiness checks. The declarations are what differs from one service to the next;
`services/<name>/app.py` holds them and nothing else (see docs/new-service.md).

On `shared.backends.open_in_memory` backends (SQLite `:memory:` stores, the in-process bus)
the same service is built for service-layer tests that call its use cases directly, in
milliseconds, with no HTTP and no files.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from fastapi import APIRouter

from shared.backends import Backends
from shared.bus.port import Bus
from shared.clock import Clock, Ids
from shared.commands import CommandHandler, CountOutcome, Tagger, no_tags
from shared.contracts import Contract
from shared.domain import Decider
from shared.events import EventRegistry
from shared.eventstore.port import EventStore
from shared.http import streams as streams_api
from shared.keyvault import KeyVault
from shared.outbox import OutboxRelay
from shared.phivault import PhiVault
from shared.projections import Projection, ProjectionRunner
from shared.reactions import Reaction, Reactor
from shared.readmodels import ReadModels
from shared.service import Check, Service, Worker
from shared.settings import Settings, key_bytes
from shared.timers import Timer

A = TypeVar("A")  # a service's use cases, as its `application` builds them


@dataclass
class Kit:
    """A service's ports, opened for it: what its declarations are built from."""

    name: str
    settings: Settings
    clock: Clock
    ids: Ids
    backends: Backends
    store: EventStore
    read_models: ReadModels
    handler: CommandHandler
    keys: KeyVault | None = None  # None: the service keeps no patients' data
    vault: PhiVault | None = None
    relay: OutboxRelay | None = None  # None: its events stay in its store
    runners: dict[str, ProjectionRunner] = field(default_factory=dict)  # by projection name
    producers: Mapping[str, EventStore] = field(default_factory=dict)  # the auditor's only
    contexts: tuple[str, ...] = ()  # what it subscribes to

    @property
    def bus(self) -> Bus:
        return self.backends.bus

    def topics(self) -> list[str]:
        """The topics of every context the service subscribes to."""
        return [self.settings.topic(c) for c in self.contexts]

    def runner(self, projection: str) -> ProjectionRunner:
        return self.runners[projection]

    def phi_vault(self) -> PhiVault:
        """The PHI vault, for a service that declared `keeps_phi`."""
        if self.vault is None:
            raise RuntimeError(f"{self.name} keeps no patients' data (keeps_phi=False)")
        return self.vault


Declare = Callable[[Kit, A], Sequence[Any]]


def _none(kit: Kit, app: Any) -> Sequence[Any]:
    return ()


def _no_checks(kit: Kit, app: Any) -> Mapping[str, Check]:
    return {}


@dataclass(frozen=True)
class ServiceSpec(Generic[A]):
    """A service, declared: the one page a new service writes besides its domain, use cases,
    projections and routes.

    `contract` (its `contracts.py`) names the service, the events it records (its registry
    decodes them for its command handler), whether they are relayed to the bus, and every
    context it consumes: each projection and reaction must read within those (checked when
    the service is assembled). `reads` decodes what it consumes: by default its own registry;
    `AsReceived()` takes every context's CloudEvents without their classes. `application`
    builds the use cases from the kit; the other declarations take the kit and those."""

    contract: Contract
    application: Callable[[Kit], Awaitable[A]]
    reads: EventRegistry | None = None
    projections: tuple[Callable[[], Projection], ...] = ()
    reactions: Callable[[Kit, A], Sequence[Reaction]] = _none
    consumers: Callable[[Kit, A], Sequence[Worker]] = _none  # other bus consumers
    timers: Callable[[Kit, A], Sequence[Timer]] = _none
    routers: Callable[[Kit, A], Sequence[APIRouter]] = _none
    checks: Callable[[Kit, A], Mapping[str, Check]] = _no_checks  # beyond the stores' own
    keeps_phi: bool = True  # opens the key vault and seals its events' PHI
    # The tags each commit carries (`shared/commands.py`): how commands find streams by id.
    tags: Tagger = no_tags
    prepare: Callable[[Kit], Awaitable[None]] | None = None  # once, before `application`
    # The decider each stream kind (`<tenant>:<kind>:...`) folds with, for the auditors'
    # stream as of a time (shared/http/streams.py); a kind not named shows its events only.
    folds: Mapping[str, Decider[Any, Any]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.contract.context

    @property
    def subscribes_to(self) -> tuple[str, ...]:
        return self.contract.consumes

    @property
    def decoder(self) -> EventRegistry:
        return self.reads if self.reads is not None else self.contract.registry


@dataclass(frozen=True)
class Assembled(Generic[A]):
    """A service as built, with its parts: what a service-layer test calls directly."""

    service: Service
    use_cases: A
    kit: Kit


def _outcomes(backends: Backends, service: str) -> CountOutcome:
    """How the service's command handler counts outcomes into the process's metrics."""

    def count(command: str, outcome: str) -> None:
        backends.metrics.count(
            "medoffice_commands_total", service=service, command=command, outcome=outcome
        )

    return count


async def assemble(
    spec: ServiceSpec[A],
    backends: Backends,
    clock: Clock,
    ids: Ids,
    producers: Mapping[str, EventStore] | None = None,
) -> Service:
    """Build the service `spec` declares on these backends. `producers`: the other services'
    event stores, read-only, for the auditor alone (see `services/suite.py`)."""
    return (await assemble_parts(spec, backends, clock, ids, producers)).service


async def assemble_parts(
    spec: ServiceSpec[A],
    backends: Backends,
    clock: Clock,
    ids: Ids,
    producers: Mapping[str, EventStore] | None = None,
) -> Assembled[A]:
    """`assemble`, keeping the use cases and the kit at hand."""
    settings = backends.settings
    name = spec.name
    store = await backends.event_store(name)
    read_models = ReadModels(await backends.documents(name))
    keys = await backends.key_vault() if spec.keeps_phi else None
    vault = PhiVault(keys, key_bytes(settings.phi_kek)) if keys is not None else None
    contract = spec.contract
    relay = (
        OutboxRelay(
            store,
            backends.bus,
            settings.topic,
            skip=contract.stored_only,
            linger=settings.relay_linger,
        )
        if contract.relayed
        else None
    )
    handler = CommandHandler(
        store,
        spec.contract.registry,
        clock,
        ids,
        on_commit=relay.notify if relay is not None else lambda: None,
        vault=vault,
        tags=spec.tags,
        count=_outcomes(backends, name),
    )
    kit = Kit(
        name=name,
        settings=settings,
        clock=clock,
        ids=ids,
        backends=backends,
        store=store,
        read_models=read_models,
        handler=handler,
        keys=keys,
        vault=vault,
        relay=relay,
        producers=dict(producers or {}),
        contexts=spec.subscribes_to,
    )
    for make in spec.projections:
        projection = make()
        _reads_within(spec, projection.name, projection.contexts)
        kit.runners[projection.name] = ProjectionRunner(
            projection, read_models, backends.bus, spec.decoder, settings.topic
        )
    if spec.prepare is not None:
        await spec.prepare(kit)
    app = await spec.application(kit)
    reactors: list[Worker] = []
    for reaction in spec.reactions(kit, app):
        _reads_within(spec, reaction.name, reaction.contexts)
        reactors.append(Reactor(reaction, backends.bus, spec.decoder, settings.topic))
    service = Service(
        name=name,
        routers=[
            *spec.routers(kit, app),
            streams_api.build_router(name, store, spec.contract.registry, spec.folds),
        ],
        runners=list(kit.runners.values()),
        relay=relay if relay is not None and settings.outbox_relay else None,
        event_store=store,
        workers=[*reactors, *spec.consumers(kit, app), *spec.timers(kit, app)],
    )
    checks: dict[str, Check] = {
        f"{name}.event_store": store.ping,
        f"{name}.read_models": read_models.store.ping,
    }
    if keys is not None:
        checks[f"{name}.key_vault"] = keys.ping
    checks.update(spec.checks(kit, app))
    checks[f"{name}.workers"] = service.workers_running
    service.checks = checks
    return Assembled(service, app, kit)


def _reads_within(spec: ServiceSpec[Any], reader: str, contexts: Sequence[str]) -> None:
    outside = sorted(set(contexts) - set(spec.subscribes_to))
    if outside:
        raise ValueError(
            f"{reader} reads {', '.join(outside)}: add it to what {spec.name}'s contract consumes"
        )
