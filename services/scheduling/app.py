"""The one place that wires the scheduling service: its declaration for the service kit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter

from services.engagement.contracts import CONTRACT as ENGAGEMENT
from services.scheduling import consumers
from services.scheduling.api import appointments as appointments_api
from services.scheduling.api import directory as directory_api
from services.scheduling.api import providers as providers_api
from services.scheduling.api import to_reschedule as to_reschedule_api
from services.scheduling.api import waitlist as waitlist_api
from services.scheduling.api.fhir.api import build_router as build_fhir_router
from services.scheduling.api.patients import add_patient_routes
from services.scheduling.application.access import ThirdNextAvailable
from services.scheduling.application.appointments import Appointments
from services.scheduling.application.commands import Scheduling
from services.scheduling.application.directory import Directory
from services.scheduling.application.links import PatientLinks
from services.scheduling.application.open_slots import OpenSlots
from services.scheduling.application.patients import Patients
from services.scheduling.application.tag_index import TagIndex
from services.scheduling.application.waitlist import Waitlist
from services.scheduling.contracts import CONTRACT
from services.scheduling.domain import (
    access,
    directory,
    patient_answers,
    providers,
    series,
    site_day,
    streams,
    triage,
    waitlist,
)
from services.scheduling.projections.appointments import AppointmentsProjection
from services.scheduling.projections.availability import AvailabilityProjection
from services.scheduling.projections.day_views import (
    ProviderScheduleProjection,
    SiteBoardProjection,
)
from services.scheduling.projections.directory import DirectoryProjection
from services.scheduling.projections.no_show_rates import NoShowRatesProjection
from services.scheduling.projections.patients import PatientsProjection
from services.scheduling.projections.to_reschedule import ToRescheduleProjection
from services.scheduling.projections.triage_queue import TriageQueueProjection
from services.scheduling.projections.waitlist import WaitlistProjection
from services.staffing.contracts import CONTRACT as STAFFING
from shared.kit import Kit, ServiceSpec
from shared.phivault import adopt_legacy_keys
from shared.reactions import Reaction
from shared.timers import Timer

NAME = CONTRACT.context


@dataclass(frozen=True)
class UseCases:
    scheduling: Scheduling
    directory: Directory
    appointments: Appointments
    slots: OpenSlots
    waitlist: Waitlist
    patients: Patients
    links: PatientLinks
    access: ThirdNextAvailable


async def application(kit: Kit) -> UseCases:
    settings, handler, read_models = kit.settings, kit.handler, kit.read_models
    tags = TagIndex(handler)
    await tags.backfill()  # commits an earlier version stored without tags
    directory = Directory(handler, tags)
    booking = Appointments(handler, directory, tags)
    waitlist = Waitlist(handler, directory, booking, read_models, settings.waitlist_offer_minutes)
    slots = OpenSlots(directory, read_models, kit.clock)
    measures = ThirdNextAvailable(
        handler,
        directory,
        read_models,
        slots,
        kit.clock,
        settings.third_next_available_visit_type,
    )
    return UseCases(
        scheduling=Scheduling(handler, directory),
        directory=directory,
        appointments=booking,
        slots=slots,
        waitlist=waitlist,
        patients=Patients(handler, read_models, booking, tags),
        links=PatientLinks(handler, booking),
        access=measures,
    )


def routers(kit: Kit, app: UseCases) -> Sequence[APIRouter]:
    read_models, vault = kit.read_models, kit.phi_vault()
    main = directory_api.build_router(app.scheduling, read_models, vault)
    add_patient_routes(main, app.scheduling, app.patients, read_models, vault)
    return [
        main,
        appointments_api.build_router(
            app.scheduling,
            app.appointments,
            app.slots,
            read_models,
            vault,
            kit.settings.read_your_writes_timeout,
        ),
        providers_api.build_router(app.scheduling),
        to_reschedule_api.build_router(
            app.scheduling, read_models, kit.settings.read_your_writes_timeout
        ),
        waitlist_api.build_router(app.scheduling, app.waitlist, read_models, vault),
        build_fhir_router(app.scheduling, read_models, vault, app.slots, kit.clock),
    ]


def reactions(kit: Kit, app: UseCases) -> Sequence[Reaction]:
    return consumers.reactions(app.scheduling, app.appointments, app.waitlist, app.links)


def timers(kit: Kit, app: UseCases) -> Sequence[Timer]:
    return consumers.timers(
        kit.settings, app.appointments, app.directory, app.waitlist, kit.read_models, app.access
    )


async def prepare(kit: Kit) -> None:
    """Move the data keys an earlier version kept in the read models into the key vault."""
    assert kit.keys is not None
    if await adopt_legacy_keys(kit.read_models.store, kit.keys):
        await kit.backends.erase_deleted_documents(NAME)


SPEC = ServiceSpec(
    contract=CONTRACT,
    # Its own events, staffing's: who its providers are (application/staffing.py), and
    # engagement's: patients' answers through signed links (application/links.py).
    reads=CONTRACT.registry.merged(STAFFING.registry).merged(ENGAGEMENT.registry),
    projections=(
        AppointmentsProjection,
        ProviderScheduleProjection,
        SiteBoardProjection,
        DirectoryProjection,
        PatientsProjection,
        NoShowRatesProjection,
        TriageQueueProjection,
        WaitlistProjection,
        AvailabilityProjection,
        ToRescheduleProjection,
    ),
    tags=streams.tags,
    # What auditors' streams as of a time fold with (shared/http/streams.py), by stream kind.
    folds={
        "site": directory.site,
        "room": directory.room,
        "visit-type": directory.visit_type,
        "provider": providers.provider,
        "site-day": site_day.site_day,
        "access-day": access.access_day,
        "series": series.series,
        "triage-day": triage.triage_day,
        "waitlist": waitlist.waitlist,
        "patient-answer": patient_answers.patient_answer,
    },
    prepare=prepare,
    application=application,
    reactions=reactions,
    timers=timers,
    routers=routers,
)
