"""The one place that wires the compliance service."""

from __future__ import annotations

from services.compliance.api import build_router
from services.compliance.projections.audit_log import AuditLogProjection
from shared.backends import Backends
from shared.events import EventRegistry
from shared.projections import ProjectionRunner
from shared.readmodels import ReadModels
from shared.service import Service

NAME = "compliance"


async def create_service(backends: Backends, registry: EventRegistry) -> Service:
    """`registry` knows every context's events: the audit log records them all."""
    read_models = ReadModels(await backends.documents(NAME))
    runner = ProjectionRunner(
        AuditLogProjection(), read_models, backends.bus, registry, backends.settings.topic
    )
    service = Service(name=NAME, routers=[build_router(read_models)], runners=[runner])
    service.checks = {
        "compliance.read_models": read_models.store.ping,
        "compliance.workers": service.workers_running,
    }
    return service
