"""An appointment's messages over HTTP: what was planned for it, and what became of each
(scheduled, released, retrying, sent, cancelled, failed), with the least PHI: ids, purpose,
channel, status and times, never the text or the patient's address. Site-scoped to the site the
messages were planned for; read from the event store."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from services.engagement.application.messages import AppointmentMessagesUseCases
from shared.access import AccessLog, record_disclosure
from shared.http.identity import Principal, policy
from shared.http.routes import Id, check_site

Read = policy("front_desk", "manager", "auditor", site_scoped=True)


def build_router(messages: AppointmentMessagesUseCases, disclosures: AccessLog) -> APIRouter:
    router = APIRouter(prefix="/engagement", tags=["messages"])

    @router.get("/appointments/{appointment_id}/messages")
    async def appointment_messages(
        request: Request, appointment_id: Id, who: Principal = Read
    ) -> dict[str, Any]:
        """404 for an appointment engagement planned nothing for (or not yet: its booking is
        learnt from the bus)."""
        planned = await messages.planned(who.tenant, appointment_id)
        state = planned.state
        if state.patient_id is None or planned.site_id is None:
            raise HTTPException(404, f"no messages for appointment {appointment_id}")
        check_site(who, planned.site_id)
        await record_disclosure(disclosures, request, who, [state.patient_id])
        return {
            "appointment_id": appointment_id,
            "patient_id": state.patient_id,
            "site_id": planned.site_id,
            "start": state.start.isoformat() if state.start else None,
            "cancelled": state.cancelled,
            "messages": [
                {
                    "message_id": m.message_id,
                    "purpose": m.purpose,
                    "channel": m.channel,
                    "status": m.status,
                    "due_at": m.due_at.isoformat(),
                    "attempt": m.attempt,
                }
                for m in state.messages.values()
            ],
        }

    return router
