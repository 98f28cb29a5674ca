"""A patient's channel consent over HTTP: read it, opt in or out per channel. Front desk and
managers (and admin) change it; auditors read it. An opt-out is recorded at once on the
patient's consent stream and every message about to go reads that stream: nothing goes on the
channel from then on. Reads come from the event store, so they hold every write answered."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from services.engagement.application.consent import Consents
from services.engagement.domain.events import Channel, ConsentSource
from shared.access import AccessLog, record_disclosure
from shared.http.app import metadata
from shared.http.identity import Principal, policy
from shared.http.routes import Body, Id, Recorded, recorded

Change = policy("front_desk", "manager", changes_state=True)
Read = policy("front_desk", "manager", "auditor")


class ConsentIn(Body):
    """Opt in (`opted_in: true`) or out of `channel`, told by `source`."""

    opted_in: bool
    source: ConsentSource = "front_desk"


def build_router(consents: Consents, disclosures: AccessLog) -> APIRouter:
    router = APIRouter(prefix="/engagement", tags=["consent"])

    @router.put("/patients/{patient_id}/consent/{channel}")
    async def set_consent(
        request: Request, patient_id: Id, channel: Channel, body: ConsentIn, who: Principal = Change
    ) -> Recorded:
        """Record the patient's opt-in or opt-out of `channel` (nothing new if it already
        stands: the same version is answered)."""
        meta = metadata(request, who)
        if body.opted_in:
            outcome = await consents.opt_in(meta, patient_id, channel, body.source)
        else:
            outcome = await consents.opt_out(meta, patient_id, channel, body.source)
        return recorded(patient_id, outcome)

    @router.get("/patients/{patient_id}/consent")
    async def read_consent(
        request: Request, patient_id: Id, who: Principal = Read
    ) -> dict[str, Any]:
        """The channels the patient consented to, their preference, and the channel a message
        to them goes on now (null: none, and nothing is sent to them)."""
        consent = await consents.of(who.tenant, patient_id)
        await record_disclosure(disclosures, request, who, [patient_id])
        return {
            "patient_id": patient_id,
            "opted_in": sorted(consent.opted_in),
            "preferred": list(consent.preferred),
            "channel": consent.channel(),
        }

    return router
