"""The outbox over HTTP: what engagement recorded instead of sending, for a channel with no
server configured (the embedded default). Read per patient by front desk, managers and
auditors (and admin), each read on the record; the address is the patient's (PHI)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from services.engagement.application.senders import OutboxSender
from shared.access import AccessLog, record_disclosure
from shared.http.identity import Principal, policy
from shared.http.routes import Id

Read = policy("front_desk", "manager", "auditor")


def build_router(outbox: OutboxSender, disclosures: AccessLog) -> APIRouter:
    router = APIRouter(prefix="/engagement", tags=["messages"])

    @router.get("/outbox")
    async def held(request: Request, patient_id: Id, who: Principal = Read) -> dict[str, Any]:
        """The messages the outbox holds for `patient_id`, oldest first."""
        messages = await outbox.held(who.tenant, patient_id)
        if messages:
            await record_disclosure(disclosures, request, who, [patient_id])
        return {"patient_id": patient_id, "messages": messages}

    return router
