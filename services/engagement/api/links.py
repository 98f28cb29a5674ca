"""The signed links in patients' messages, over HTTP: public routes, with no bearer token, for
the signed token is the authority (it names the tenant's appointment and the action, under the
tenant's secret). Throttled per address and size-limited like any public input; a token that
is malformed, tampered with, of another tenant or expired is a 422 problem, never a 500.

`POST` records the answer (202: scheduling carries it out from the bus); `GET` tells what
became of it, so a client can show the outcome, and changes nothing (mail scanners fetch links
to look at them: a `GET` must never confirm or cancel).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request

from services.engagement.application.links import PatientLinkAnswers
from shared.http.routes import Recorded, recorded
from shared.http.throttle import BodyLimit, Throttle

Tenant = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Token = Annotated[str, Path(min_length=1, max_length=240, pattern=r"^[A-Za-z0-9_.-]+$")]
MAX_BODY_BYTES = 4096  # a link's POST needs no body; a survey's answer fits in this


def correlation_of(request: Request) -> str:
    return getattr(request.state, "correlation_id", None) or str(uuid.uuid4())


def public_router(throttle: Throttle, tags: list[str]) -> APIRouter:
    limits = [Depends(throttle), Depends(BodyLimit(MAX_BODY_BYTES))]
    return APIRouter(prefix="/engagement", tags=list(tags), dependencies=limits)


def build_router(answers: PatientLinkAnswers, throttle: Throttle) -> APIRouter:
    router = public_router(throttle, ["links"])

    @router.post("/links/{tenant}/{token}", status_code=202)
    async def answer(request: Request, tenant: Tenant, token: Token) -> Recorded:
        """The patient confirms or cancels (what the link says): recorded once per link, then
        carried out by scheduling. 409 for a link answered already, of an appointment
        cancelled, or of a message sent before the visit moved."""
        answer_id, outcome = await answers.answer(tenant, token, correlation_of(request))
        return recorded(answer_id, outcome)

    @router.get("/links/{tenant}/{token}")
    async def state(tenant: Tenant, token: Token) -> dict[str, Any]:
        """What became of the link's answer: unanswered, pending, confirmed, cancelled, or
        refused with scheduling's reason."""
        return await answers.outcome(tenant, token)

    return router
