"""The one place that wires the staffing service: its declaration for the service kit.

Each area (employees and providers, credentials and payer enrolment, training, reviews, shifts
and time off) adds its use cases to `UseCases`, its projections to `SPEC`, and its routers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter

from services.staffing import consumers
from services.staffing.api import credentials as credentials_api
from services.staffing.api import employees as employees_api
from services.staffing.api import fhir as fhir_api
from services.staffing.api import reviews as reviews_api
from services.staffing.api import shifts as shifts_api
from services.staffing.api import time_off as time_off_api
from services.staffing.api import training as training_api
from services.staffing.application.credentials import Credentials, Enrolments
from services.staffing.application.employees import Employees
from services.staffing.application.reviews import Reviews
from services.staffing.application.shifts import Rostering
from services.staffing.application.time_off import TimeOff
from services.staffing.application.training import Training
from services.staffing.contracts import CONTRACT
from services.staffing.domain import credentials, employees, streams
from services.staffing.projections.credentials import (
    CredentialsProjection,
    EnrolmentsProjection,
)
from services.staffing.projections.directory import DirectoryProjection
from services.staffing.projections.pto import PtoProjection
from services.staffing.projections.reviews import ReviewsProjection
from services.staffing.projections.roster import RosterProjection
from services.staffing.projections.training import TrainingProjection
from shared.kit import Kit, ServiceSpec
from shared.reactions import Reaction
from shared.timers import Timer

NAME = CONTRACT.context


@dataclass(frozen=True)
class UseCases:
    employees: Employees
    credentials: Credentials
    enrolments: Enrolments
    training: Training
    reviews: Reviews
    rostering: Rostering
    time_off: TimeOff


async def application(kit: Kit) -> UseCases:
    return UseCases(
        employees=Employees(kit.handler),
        credentials=Credentials(kit.handler, kit.read_models),
        enrolments=Enrolments(kit.handler, kit.read_models),
        training=Training(kit.handler, kit.read_models),
        reviews=Reviews(kit.handler, kit.read_models),
        rostering=Rostering(kit.handler),
        time_off=TimeOff(kit.handler),
    )


def routers(kit: Kit, app: UseCases) -> Sequence[APIRouter]:
    timeout = kit.settings.read_your_writes_timeout
    return [
        employees_api.build_router(
            app.employees, kit.read_models, kit.phi_vault(), kit.clock, timeout
        ),
        fhir_api.build_router(kit.read_models, kit.clock),
        credentials_api.build_router(app.credentials, app.enrolments, kit.read_models, timeout),
        training_api.build_router(app.training, kit.read_models, timeout),
        reviews_api.build_router(app.reviews, kit.read_models, timeout),
        shifts_api.build_router(app.rostering, kit.read_models, timeout),
        time_off_api.build_router(app.time_off, kit.read_models),
    ]


def reactions(kit: Kit, app: UseCases) -> Sequence[Reaction]:
    return consumers.reactions(app.training)


def timers(kit: Kit, app: UseCases) -> Sequence[Timer]:
    return consumers.timers(kit.settings, app.credentials, app.time_off, kit.read_models)


SPEC = ServiceSpec(
    contract=CONTRACT,
    projections=(
        DirectoryProjection,
        CredentialsProjection,
        EnrolmentsProjection,
        TrainingProjection,
        ReviewsProjection,
        RosterProjection,
        PtoProjection,
    ),
    tags=streams.tags,
    # What auditors' streams as of a time fold with (shared/http/streams.py), by stream kind.
    folds={"employee": employees.employee, "credential": credentials.credential},
    application=application,
    reactions=reactions,
    timers=timers,
    routers=routers,
)
