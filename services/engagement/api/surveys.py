"""Satisfaction surveys over HTTP. The patient's side is public (the survey link's signed
token is the authority, throttled and size-limited like the confirm and cancel links): what
the survey asks, and the answer, once. The office's side needs a token: NPS per site and per
provider at a site for a month (managers and auditors, and admin; site-scoped). The feedback
case a detractor opens is read like any case (`api/cases.py`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import Field

from services.engagement.api.links import Tenant, Token, correlation_of, public_router
from services.engagement.application.surveys import Surveys
from services.engagement.domain.events import SurveyAnswer
from services.engagement.projections.nps import NPS, PROJECTION, scored, site_doc_id
from shared.http.identity import Principal, policy
from shared.http.routes import Body, Id, Recorded, check_site, read_after, recorded
from shared.http.throttle import Throttle
from shared.readmodels import ReadModels

Managers = policy("manager", "auditor", site_scoped=True)
Month = Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


class AnswerIn(Body):
    question: str = Field(min_length=1, max_length=64)
    choice: str = Field(min_length=1, max_length=32)


class SurveyIn(Body):
    """Likelihood to recommend (0-10), the experience questions answered (any may be skipped),
    and a comment in the patient's words (sealed as PHI)."""

    likelihood_to_recommend: int = Field(ge=0, le=10)
    answers: list[AnswerIn] = Field(default_factory=list, max_length=10)
    comment: str = Field(default="", max_length=2000)


def build_public_router(surveys: Surveys, throttle: Throttle) -> APIRouter:
    router = public_router(throttle, ["surveys"])

    @router.get("/surveys/{tenant}/{token}")
    async def form(tenant: Tenant, token: Token) -> dict[str, Any]:
        """The survey's questions and their choices, and whether it was answered."""
        return await surveys.form(tenant, token)

    @router.post("/surveys/{tenant}/{token}", status_code=201)
    async def answer(request: Request, tenant: Tenant, token: Token, body: SurveyIn) -> Recorded:
        """The patient's answer, once (409 after): 422 for a choice the question does not
        offer, or a question answered twice."""
        survey_id, outcome = await surveys.answer(
            tenant,
            token,
            correlation_of(request),
            body.likelihood_to_recommend,
            tuple(SurveyAnswer(question=a.question, choice=a.choice) for a in body.answers),
            body.comment,
        )
        return recorded(survey_id, outcome)

    return router


def build_router(
    surveys: Surveys,
    read_models: ReadModels,
    wait_timeout: float,
) -> APIRouter:
    router = APIRouter(prefix="/engagement", tags=["surveys"])

    @router.get("/nps")
    async def net_promoter_scores(
        month: Month,
        who: Principal = Managers,
        site_id: Id | None = None,
        after_stream: Annotated[str | None, Query(max_length=300)] = None,
        after_version: Annotated[int | None, Query(ge=1)] = None,
    ) -> dict[str, Any]:
        """NPS of the month's visits (YYYY-MM), per site and per provider at a site, at the
        caller's sites (or `site_id`). `after_stream` and `after_version` (a survey answer's
        `stream` and `stream_version`, with its `site_id`) wait until they are counted."""
        if site_id is not None:
            check_site(who, site_id)
        if after_version is not None:
            if site_id is None or after_stream is None:
                raise HTTPException(400, "after_version needs the after_stream and site_id")
            if not after_stream.startswith(f"{who.tenant}:engagement-survey:"):
                raise HTTPException(400, "after_stream names a survey of yours")
            doc_id = site_doc_id(who.tenant, site_id, month)
            await read_after(
                read_models,
                PROJECTION,
                NPS,
                doc_id,
                after_stream,
                after_version,
                wait_timeout,
                surveys.stream_version,
            )
        where: dict[str, Any] = {"tenant": who.tenant, "month": month}
        if site_id is not None:
            where["site_id"] = site_id
        found = await read_models.find(PROJECTION, NPS, where)
        docs = [d for d in found if who.at_site(d["site_id"])]
        by_kind = {
            kind: sorted(
                (scored(d) for d in docs if d["kind"] == kind),
                key=lambda d: (d["site_id"], d.get("provider_id", "")),
            )
            for kind in ("site", "provider")
        }
        return {"month": month, "sites": by_kind["site"], "providers": by_kind["provider"]}

    return router
