"""Compliance HTTP API: the audit log, for auditors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.compliance.projections.audit_log import ENTRIES, PROJECTION
from shared.http.identity import Principal, policy
from shared.readmodels import ReadModels, public

Auditors = policy("auditor", "manager")


def build_router(read_models: ReadModels) -> APIRouter:
    router = APIRouter(prefix="/compliance", tags=["compliance"])

    @router.get("/audit-log")
    async def audit_log(
        who: Principal = Auditors,
        stream: Annotated[str | None, Query(max_length=300)] = None,
        subject: Annotated[str | None, Query(max_length=100)] = None,
        type: Annotated[str | None, Query(max_length=200)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        """Entries of the caller's tenant, oldest first; filter by stream, subject or type."""
        where: dict[str, Any] = {"tenant": who.tenant}
        if stream is not None:
            where["stream"] = stream
        if subject is not None:
            where["subject"] = subject
        if type is not None:
            where["type"] = type
        docs = await read_models.find(
            PROJECTION, ENTRIES, where, sort=[("time", 1), ("stream_version", 1)], limit=limit
        )
        return [d for d in (public(doc) for doc in docs) if d is not None]

    return router
