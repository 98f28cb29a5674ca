"""The one place that wires the billing service: its declaration for the service kit.

Each area (payers and fee schedules, what billing learns from scheduling and staffing, charges,
claims and claim files, the clearinghouse) adds its use cases to `UseCases`, its projections
to `SPEC`, and its routers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter

from services.billing import consumers
from services.billing.api import charges as charges_api
from services.billing.application.charges import Charges
from services.billing.contracts import CONTRACT
from services.billing.domain import streams
from services.billing.projections.charges import ChargesProjection
from services.scheduling.contracts import CONTRACT as SCHEDULING
from services.staffing.contracts import CONTRACT as STAFFING
from shared.kit import Kit, ServiceSpec
from shared.reactions import Reaction
from shared.timers import Timer

NAME = CONTRACT.context


@dataclass(frozen=True)
class UseCases:
    charges: Charges


async def application(kit: Kit) -> UseCases:
    return UseCases(charges=Charges(kit.handler, kit.read_models))


def routers(kit: Kit, app: UseCases) -> Sequence[APIRouter]:
    timeout = kit.settings.read_your_writes_timeout
    return [charges_api.build_router(app.charges, kit.read_models, timeout)]


def reactions(kit: Kit, app: UseCases) -> Sequence[Reaction]:
    return consumers.reactions(app.charges)


def timers(kit: Kit, app: UseCases) -> Sequence[Timer]:
    return consumers.timers()


SPEC = ServiceSpec(
    contract=CONTRACT,
    projections=(ChargesProjection,),
    tags=streams.tags,
    application=application,
    reactions=reactions,
    timers=timers,
    routers=routers,
    # What billing consumes: scheduling's visits and patients, staffing's providers.
    reads=CONTRACT.registry.merged(SCHEDULING.registry).merged(STAFFING.registry),
)
