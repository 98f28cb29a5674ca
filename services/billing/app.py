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
from services.billing.contracts import CONTRACT
from services.billing.domain import streams
from shared.kit import Kit, ServiceSpec
from shared.reactions import Reaction
from shared.timers import Timer

NAME = CONTRACT.context


@dataclass(frozen=True)
class UseCases:
    pass


async def application(kit: Kit) -> UseCases:
    return UseCases()


def routers(kit: Kit, app: UseCases) -> Sequence[APIRouter]:
    return []


def reactions(kit: Kit, app: UseCases) -> Sequence[Reaction]:
    return consumers.reactions()


def timers(kit: Kit, app: UseCases) -> Sequence[Timer]:
    return consumers.timers()


SPEC = ServiceSpec(
    contract=CONTRACT,
    projections=(),
    tags=streams.tags,
    application=application,
    reactions=reactions,
    timers=timers,
    routers=routers,
)
