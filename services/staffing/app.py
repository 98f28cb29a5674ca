"""The one place that wires the staffing service: its declaration for the service kit.

Each area (employees and providers, credentials and payer enrolment, training, reviews, shifts
and time off) adds its use cases to `UseCases`, its projections to `SPEC`, and its routers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter

from services.staffing.api import employees as employees_api
from services.staffing.api import fhir as fhir_api
from services.staffing.application.employees import Employees
from services.staffing.contracts import CONTRACT
from services.staffing.projections.directory import DirectoryProjection
from shared.kit import Kit, ServiceSpec

NAME = CONTRACT.context


@dataclass(frozen=True)
class UseCases:
    employees: Employees


async def application(kit: Kit) -> UseCases:
    return UseCases(employees=Employees(kit.handler))


def routers(kit: Kit, app: UseCases) -> Sequence[APIRouter]:
    return [
        employees_api.build_router(
            app.employees,
            kit.read_models,
            kit.phi_vault(),
            kit.clock,
            kit.settings.read_your_writes_timeout,
        ),
        fhir_api.build_router(kit.read_models, kit.clock),
    ]


SPEC = ServiceSpec(
    contract=CONTRACT,
    projections=(DirectoryProjection,),
    application=application,
    routers=routers,
)
