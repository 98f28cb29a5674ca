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
from services.staffing.application.credentials import Credentials, Enrolments
from services.staffing.contracts import CONTRACT
from services.staffing.projections.credentials import (
    CredentialsProjection,
    EnrolmentsProjection,
)
from shared.kit import Kit, ServiceSpec
from shared.timers import Timer

NAME = CONTRACT.context


@dataclass(frozen=True)
class UseCases:
    credentials: Credentials
    enrolments: Enrolments


async def application(kit: Kit) -> UseCases:
    return UseCases(
        credentials=Credentials(kit.handler, kit.read_models),
        enrolments=Enrolments(kit.handler, kit.read_models),
    )


def routers(kit: Kit, app: UseCases) -> Sequence[APIRouter]:
    return [
        credentials_api.build_router(
            app.credentials,
            app.enrolments,
            kit.read_models,
            kit.settings.read_your_writes_timeout,
        )
    ]


def timers(kit: Kit, app: UseCases) -> Sequence[Timer]:
    return consumers.timers(kit.settings, app.credentials)


SPEC = ServiceSpec(
    contract=CONTRACT,
    projections=(CredentialsProjection, EnrolmentsProjection),
    application=application,
    timers=timers,
    routers=routers,
)
