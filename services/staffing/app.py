"""The one place that wires the staffing service: its declaration for the service kit.

Each area (employees and providers, credentials and payer enrolment, training, reviews, shifts
and time off) adds its use cases to `UseCases`, its projections to `SPEC`, and its routers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter

from services.staffing import consumers
from services.staffing.api import shifts as shifts_api
from services.staffing.api import time_off as time_off_api
from services.staffing.application.shifts import Rostering
from services.staffing.application.time_off import TimeOff
from services.staffing.contracts import CONTRACT
from services.staffing.domain import streams
from services.staffing.projections.pto import PtoProjection
from services.staffing.projections.roster import RosterProjection
from shared.kit import Kit, ServiceSpec
from shared.timers import Timer

NAME = CONTRACT.context


@dataclass(frozen=True)
class UseCases:
    rostering: Rostering  # shifts and time off
    time_off: TimeOff  # shifts and time off


async def application(kit: Kit) -> UseCases:
    return UseCases(
        rostering=Rostering(kit.handler),
        time_off=TimeOff(kit.handler),
    )


def routers(kit: Kit, app: UseCases) -> Sequence[APIRouter]:
    wait = kit.settings.read_your_writes_timeout
    return [
        shifts_api.build_router(app.rostering, kit.read_models, wait),
        time_off_api.build_router(app.time_off, kit.read_models),
    ]


def timers(kit: Kit, app: UseCases) -> Sequence[Timer]:
    return consumers.timers(kit.settings, app.time_off, kit.read_models)


SPEC = ServiceSpec(
    contract=CONTRACT,
    projections=(RosterProjection, PtoProjection),
    tags=streams.tags,
    application=application,
    timers=timers,
    routers=routers,
)
