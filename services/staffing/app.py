"""The one place that wires the staffing service: its declaration for the service kit.

Each area (employees and providers, credentials and payer enrolment, training, reviews, shifts
and time off) adds its use cases to `UseCases`, its projections to `SPEC`, and its routers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter

from services.staffing.contracts import CONTRACT
from shared.kit import Kit, ServiceSpec

NAME = CONTRACT.context


@dataclass(frozen=True)
class UseCases:
    pass


async def application(kit: Kit) -> UseCases:
    return UseCases()


def routers(kit: Kit, app: UseCases) -> Sequence[APIRouter]:
    return []


SPEC = ServiceSpec(
    contract=CONTRACT,
    projections=(),
    application=application,
    routers=routers,
)
