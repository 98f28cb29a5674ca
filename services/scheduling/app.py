"""The one place that wires the scheduling service."""

from __future__ import annotations

import base64

from services.scheduling.api import appointments as appointments_api
from services.scheduling.api import directory as api
from services.scheduling.api import providers as providers_api
from services.scheduling.api import waitlist as waitlist_api
from services.scheduling.api.fhir.api import build_router as build_fhir_router
from services.scheduling.api.patients import add_patient_routes
from services.scheduling.application.appointments import Appointments
from services.scheduling.application.commands import Scheduling
from services.scheduling.application.directory import Directory
from services.scheduling.application.open_slots import OpenSlots
from services.scheduling.application.patients import Patients
from services.scheduling.application.reactions import (
    FinishMoves,
    FinishSeries,
    NoShowTimer,
    OfferExpiryTimer,
    OfferFreedSlots,
)
from services.scheduling.application.waitlist import Waitlist
from services.scheduling.domain.events import registry
from services.scheduling.projections.appointments import AppointmentsProjection
from services.scheduling.projections.day_views import (
    ProviderScheduleProjection,
    SiteBoardProjection,
)
from services.scheduling.projections.directory import DirectoryProjection
from services.scheduling.projections.no_show_rates import NoShowRatesProjection
from services.scheduling.projections.patients import PatientsProjection
from services.scheduling.projections.triage_queue import TriageQueueProjection
from services.scheduling.projections.waitlist import WaitlistProjection
from shared.backends import Backends
from shared.clock import Clock, Ids
from shared.commands import CommandHandler
from shared.outbox import OutboxRelay
from shared.phivault import PhiVault, adopt_legacy_keys
from shared.projections import ProjectionRunner
from shared.reactions import Reactor
from shared.readmodels import ReadModels
from shared.service import Service

NAME = "scheduling"


async def create_service(backends: Backends, clock: Clock, ids: Ids) -> Service:
    settings = backends.settings
    store = await backends.event_store(NAME)
    read_models = ReadModels(await backends.documents(NAME))
    relay = OutboxRelay(store, backends.bus, settings.topic)
    keys = await backends.key_vault()
    if await adopt_legacy_keys(read_models.store, keys):  # data keys kept by an earlier version
        await backends.erase_deleted_documents(NAME)
    vault = PhiVault(keys, base64.b64decode(settings.phi_kek))
    handler = CommandHandler(store, registry, clock, ids, on_commit=relay.notify, vault=vault)
    runners = [
        ProjectionRunner(projection, read_models, backends.bus, registry, settings.topic)
        for projection in (
            AppointmentsProjection(),
            ProviderScheduleProjection(),
            SiteBoardProjection(),
            DirectoryProjection(),
            PatientsProjection(),
            NoShowRatesProjection(),
            TriageQueueProjection(),
            WaitlistProjection(),
        )
    ]

    async def appointments_behind() -> bool:
        return bool(await store.unpublished(1)) or await runners[0].lag() > 0

    directory = Directory(handler)
    scheduling = Scheduling(handler, directory)
    appointments = Appointments(
        handler, directory, read_models, appointments_behind, settings.read_your_writes_timeout
    )
    slots = OpenSlots(directory, read_models, clock)
    waitlist = Waitlist(
        handler, directory, appointments, read_models, settings.waitlist_offer_minutes
    )
    reactors = [
        Reactor(reaction, backends.bus, registry, settings.topic)
        for reaction in (
            FinishMoves(appointments),
            FinishSeries(appointments),
            OfferFreedSlots(waitlist),
        )
    ]
    timer = NoShowTimer(appointments, directory, read_models, settings.no_show_timer_seconds)
    offer_timer = OfferExpiryTimer(waitlist, settings.offer_expiry_timer_seconds)
    triage = next(r for r in runners if isinstance(r.projection, TriageQueueProjection))

    async def triage_behind() -> bool:
        return bool(await store.unpublished(1)) or await triage.lag() > 0

    patients = Patients(
        handler, read_models, appointments_behind, triage_behind, settings.read_your_writes_timeout
    )
    main_router = api.build_router(scheduling, read_models, vault)
    add_patient_routes(main_router, scheduling, patients, read_models, vault)
    routers = [
        main_router,
        appointments_api.build_router(
            scheduling, appointments, slots, read_models, vault, settings.read_your_writes_timeout
        ),
        providers_api.build_router(scheduling),
        waitlist_api.build_router(scheduling, waitlist, read_models, vault),
        build_fhir_router(scheduling, read_models, vault, slots, clock),
    ]
    service = Service(
        name=NAME,
        routers=routers,
        runners=runners,
        relay=relay if settings.outbox_relay else None,
        event_store=store,
        workers=[*reactors, timer, offer_timer],
    )
    service.checks = {
        "scheduling.event_store": store.ping,
        "scheduling.read_models": read_models.store.ping,
        "scheduling.key_vault": keys.ping,
        "scheduling.workers": service.workers_running,
    }
    return service
