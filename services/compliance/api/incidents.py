"""Incidents over HTTP: the compliance officer reports privacy, security and safety incidents
and records each step; the officer and auditors read them, and what is due soon or overdue.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import Field

from services.compliance.application.incidents import Incidents, Step
from services.compliance.domain.incidents import (
    AssessRisk,
    CloseIncident,
    Harm,
    Kind,
    Recipient,
    RecordInvestigation,
    RecordNotification,
    Risk,
    incident_stream,
)
from services.compliance.projections.incidents import INCIDENTS, PROJECTION, incident_doc_id
from shared.http.app import metadata
from shared.http.identity import Principal, policy
from shared.http.routes import Body, Id, Name, PlausibleDay, Recorded, read_after, recorded
from shared.readmodels import ReadModels

Manage = policy("compliance", changes_state=True)  # and admin
Read = policy("compliance", "auditor")

Text = Annotated[str, Field(min_length=1, max_length=10_000)]
Count = Annotated[int, Field(ge=0, le=1_000_000_000)]


class IncidentIn(Body):
    """An incident at a site: when it happened (if known) and when it was discovered (the
    deadlines count from that day). The description names no patient: they are counted."""

    incident_id: Id | None = None
    kind: Kind
    site_id: Id
    title: Name
    description: Text
    occurred_on: PlausibleDay | None = None
    discovered_on: PlausibleDay


class RiskAssessmentIn(Body):
    assessed_on: PlausibleDay
    breach: bool
    risk: Risk
    patients_affected: Count
    summary: Text


class NotificationIn(Body):
    recipient: Recipient
    sent_on: PlausibleDay
    recipients_count: Annotated[int, Field(ge=1, le=1_000_000_000)]


class InvestigationIn(Body):
    investigated_on: PlausibleDay
    harm: Harm
    root_cause: Text
    actions: list[Name] = Field(min_length=1, max_length=50)


class ClosureIn(Body):
    closed_on: PlausibleDay
    resolution: Text


def build_router(incidents: Incidents, read_models: ReadModels, wait_timeout: float) -> APIRouter:
    router = APIRouter(prefix="/compliance/incidents", tags=["incidents"])

    async def step(request: Request, who: Principal, incident_id: str, command: Step) -> Recorded:
        outcome = await incidents.record(metadata(request, who), incident_id, command)
        return recorded(incident_id, outcome)

    @router.post("", status_code=201)
    async def report(request: Request, body: IncidentIn, who: Principal = Manage) -> Recorded:
        """A new incident (409 if `incident_id` is taken)."""
        incident_id = body.incident_id or incidents.new_id()
        outcome = await incidents.report(
            metadata(request, who),
            incident_id,
            body.kind,
            body.site_id,
            body.title,
            body.description,
            body.occurred_on,
            body.discovered_on,
        )
        return recorded(incident_id, outcome)

    @router.post("/{incident_id}/risk-assessment", status_code=201)
    async def assess(
        request: Request, incident_id: Id, body: RiskAssessmentIn, who: Principal = Manage
    ) -> Recorded:
        """A privacy or security incident's risk assessment (a later one replaces it)."""
        command = AssessRisk(**body.model_dump(), today=incidents.today())
        return await step(request, who, incident_id, command)

    @router.post("/{incident_id}/notifications", status_code=201)
    async def notify(
        request: Request, incident_id: Id, body: NotificationIn, who: Principal = Manage
    ) -> Recorded:
        """A breach notification sent (409 if not owed, or sent already)."""
        command = RecordNotification(**body.model_dump(), today=incidents.today())
        return await step(request, who, incident_id, command)

    @router.post("/{incident_id}/investigation", status_code=201)
    async def investigate(
        request: Request, incident_id: Id, body: InvestigationIn, who: Principal = Manage
    ) -> Recorded:
        """A safety incident's investigation (409 twice)."""
        command = RecordInvestigation(
            investigated_on=body.investigated_on,
            harm=body.harm,
            root_cause=body.root_cause,
            actions=tuple(body.actions),
            today=incidents.today(),
        )
        return await step(request, who, incident_id, command)

    @router.post("/{incident_id}/closure", status_code=201)
    async def close(
        request: Request, incident_id: Id, body: ClosureIn, who: Principal = Manage
    ) -> Recorded:
        """The incident closed (409 while it still owes a step)."""
        command = CloseIncident(**body.model_dump(), today=incidents.today())
        return await step(request, who, incident_id, command)

    @router.get("")
    async def list_incidents(
        who: Principal = Read,
        status: Annotated[str | None, Query(pattern="^(open|closed)$")] = None,
        kind: Annotated[str | None, Query(pattern="^(privacy|security|safety)$")] = None,
        site: Id | None = None,
    ) -> list[dict[str, Any]]:
        """The tenant's incidents (without descriptions), latest discovered first."""
        return await incidents.all(who.tenant, status, kind, site)

    @router.get("/deadlines")
    async def deadlines(
        who: Principal = Read,
        within_days: Annotated[int, Query(ge=0, le=366)] = 14,
        site: Id | None = None,
    ) -> dict[str, Any]:
        """What open incidents owe within `within_days` of today, overdue steps included,
        soonest first: each step's due date, days left (negative: overdue)."""
        return {
            "as_of": incidents.today().isoformat(),
            "within_days": within_days,
            "deadlines": await incidents.due(who.tenant, within_days, site),
        }

    @router.get("/{incident_id}")
    async def one(
        incident_id: Id,
        who: Principal = Read,
        after_version: Annotated[int | None, Query(ge=1, le=10**9)] = None,
    ) -> dict[str, Any]:
        """An incident whole, with what it owes by when. `after_version` (of the incident's
        stream, as a write to it answered) waits for that write."""
        if after_version is not None:
            await read_after(
                read_models, PROJECTION, INCIDENTS, incident_doc_id(who.tenant, incident_id),
                incident_stream(who.tenant, incident_id), after_version, wait_timeout,
                incidents.stream_version,
            )  # fmt: skip
        found = await incidents.one(who.tenant, incident_id)
        if found is None:
            raise HTTPException(404, f"incident {incident_id} not found")
        return found

    return router
