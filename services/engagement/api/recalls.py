"""Recalls over HTTP: a manager (or admin) sets a visit type's recall rule, the months after a
completed visit of the type that the patient is due again; front desk, managers and auditors
read a site's recall list (site-scoped): the patients whose recall is due by today and who
have not booked since, longest due first, each with whether their recall message was planned.
The list names patients by id only (no words of theirs), and its disclosure is recorded."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import Field

from services.engagement.application.recalls import Recalls
from shared.access import AccessLog, record_disclosure
from shared.http.app import metadata
from shared.http.identity import Principal, policy
from shared.http.routes import Body, Id, Recorded, check_site, recorded

SetRule = policy("manager", changes_state=True)
Read = policy("front_desk", "manager", "auditor", site_scoped=True)


class RecallRuleIn(Body):
    interval_months: Annotated[int, Field(ge=1, le=120)]


def build_router(recalls: Recalls, disclosures: AccessLog) -> APIRouter:
    router = APIRouter(prefix="/engagement", tags=["recalls"])

    @router.put("/recall-rules/{visit_type_id}")
    async def set_rule(
        request: Request, visit_type_id: Id, body: RecallRuleIn, who: Principal = SetRule
    ) -> Recorded:
        """A completed visit of the type makes the patient due `interval_months` later (1 to
        120; the same interval again records nothing)."""
        outcome = await recalls.set_rule(
            metadata(request, who), visit_type_id, body.interval_months
        )
        return recorded(visit_type_id, outcome)

    @router.get("/recalls")
    async def recall_list(request: Request, site: Id, who: Principal = Read) -> dict[str, Any]:
        """The site's patients due for their recall by today and not booked since."""
        check_site(who, site)
        rows = await recalls.listed(who.tenant, site)
        await record_disclosure(disclosures, request, who, [r["patient_id"] for r in rows])
        return {"site_id": site, "as_of": recalls.now().date().isoformat(), "recalls": rows}

    return router
