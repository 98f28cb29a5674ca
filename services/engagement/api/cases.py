"""Feedback cases over HTTP. The front desk and managers (and admin) open a complaint, a
compliment or a privacy complaint about a patient (and the visit, if any) at one of their
sites, assign it to an owner with a due date, and resolve it once (409 after). Front desk,
managers and auditors read one case whole (from the event store, its words opened for the
reader and the disclosure recorded) and a site's open cases, soonest due first, overdue ones
flagged, a page at a time (from the read model, its words left out). A privacy complaint shows
the incident compliance opened for it once compliance has (`incident_id`, null until then).
Site-scoped callers see and change their sites' cases only: another site's case is a 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import Field

from services.engagement.application.cases import Cases
from services.engagement.domain import streams
from services.engagement.domain.cases import Case
from services.engagement.domain.events import CaseKind
from services.engagement.projections.cases import CASES, PROJECTION, case_doc_id
from shared.access import AccessLog, record_disclosure
from shared.http.app import metadata
from shared.http.identity import Principal, policy
from shared.http.routes import (
    AfterStream,
    AfterVersion,
    Body,
    Cursor,
    Id,
    Limit,
    PlausibleDay,
    Recorded,
    check_site,
    decode_cursor,
    encode_cursor,
    read_after,
    recorded,
)
from shared.phivault import PhiVault
from shared.readmodels import ReadModels

Change = policy("front_desk", "manager", site_scoped=True, changes_state=True)
Read = policy("front_desk", "manager", "auditor", site_scoped=True)

Words = Annotated[str, Field(min_length=1, max_length=2000)]


class CaseIn(Body):
    """What the case is about (the patient, at a site, and the visit if any), in the patient's
    words (sealed as PHI), due when; `owner_id` assigns it at once."""

    patient_id: Id
    site_id: Id
    kind: CaseKind
    summary: Words
    due_on: PlausibleDay
    appointment_id: Id | None = None
    provider_id: Id | None = None
    owner_id: Id | None = None


class AssignmentIn(Body):
    owner_id: Id
    due_on: PlausibleDay


class ResolutionIn(Body):
    resolution: Words


def build_router(
    cases: Cases,
    read_models: ReadModels,
    vault: PhiVault,
    disclosures: AccessLog,
    wait_timeout: float,
) -> APIRouter:
    router = APIRouter(prefix="/engagement", tags=["cases"])

    async def at_sites(who: Principal, case_id: str) -> Case:
        """The case as recorded; a 404 for none, or one at a site the caller does not work at."""
        state = await cases.case(who.tenant, case_id)
        if state.opened is None or not who.at_site(state.opened.site_id):
            raise HTTPException(404, f"no case {case_id}")
        return state

    @router.post("/cases", status_code=201)
    async def open_case(request: Request, body: CaseIn, who: Principal = Change) -> Recorded:
        """A new case from the front desk (422 for a due date in the past, or no words); a
        privacy complaint opens compliance's incident, linked from the case once opened."""
        check_site(who, body.site_id)
        meta = metadata(request, who)
        case_id, outcome = await cases.open(
            meta,
            patient_id=body.patient_id,
            site_id=body.site_id,
            kind=body.kind,
            summary=body.summary,
            due_on=body.due_on,
            appointment_id=body.appointment_id,
            provider_id=body.provider_id,
        )
        if body.owner_id is not None:
            outcome = await cases.assign(meta, case_id, body.owner_id, body.due_on)
        return recorded(case_id, outcome)

    @router.post("/cases/{case_id}/assignment", status_code=201)
    async def assign(
        request: Request, case_id: Id, body: AssignmentIn, who: Principal = Change
    ) -> Recorded:
        """The case's owner and due date (again, to move it; 409 once resolved)."""
        await at_sites(who, case_id)
        outcome = await cases.assign(metadata(request, who), case_id, body.owner_id, body.due_on)
        return recorded(case_id, outcome)

    @router.post("/cases/{case_id}/resolution", status_code=201)
    async def resolve(
        request: Request, case_id: Id, body: ResolutionIn, who: Principal = Change
    ) -> Recorded:
        """What was done (sealed), once: 409 for a case resolved already or with no owner."""
        await at_sites(who, case_id)
        outcome = await cases.resolve(metadata(request, who), case_id, body.resolution)
        return recorded(case_id, outcome)

    @router.get("/cases")
    async def open_cases(
        site: Id,
        who: Principal = Read,
        limit: Limit = 100,
        cursor: Cursor = None,
        after_stream: AfterStream = None,
        after_version: AfterVersion = None,
    ) -> dict[str, Any]:
        """The site's open cases, soonest due first, each `overdue` once its due date has
        passed, a page at a time (`next_cursor` to the next; 422 for a cursor not handed out
        here). `after_stream` and `after_version` (a write to a case, as answered) wait until
        the list holds it."""
        check_site(who, site)
        if after_version is not None:
            prefix = f"{who.tenant}:engagement-case:"
            if after_stream is None or not after_stream.startswith(prefix):
                raise HTTPException(400, "after_version needs a case's stream (after_stream)")
            case_id = after_stream.removeprefix(prefix)
            await read_after(
                read_models, PROJECTION, CASES, case_doc_id(who.tenant, case_id), after_stream,
                after_version, wait_timeout, cases.stream_version,
            )  # fmt: skip
        after = "|".join(decode_cursor(cursor, 2)) if cursor is not None else None
        rows = await cases.open_at(who.tenant, site, limit, after)
        last = rows[-1] if rows and len(rows) == limit else None
        return {
            "site_id": site,
            "as_of": cases.today().isoformat(),
            "cases": [{k: v for k, v in r.items() if k != "position"} for r in rows],
            "next_cursor": encode_cursor(last["due_on"], last["case_id"]) if last else None,
        }

    @router.get("/cases/{case_id}")
    async def case(request: Request, case_id: Id, who: Principal = Read) -> dict[str, Any]:
        """A feedback case as recorded (from the event store): its summary and resolution
        opened, and compliance's incident for a privacy complaint."""
        state = await at_sites(who, case_id)
        opened = state.opened
        assert opened is not None
        await record_disclosure(disclosures, request, who, [opened.patient_id])
        resolution = state.resolution
        words = None if resolution is None else await vault.reveal(who.tenant, resolution)
        return {
            "case_id": case_id,
            "patient_id": opened.patient_id,
            "site_id": opened.site_id,
            "kind": opened.kind,
            "source": opened.source,
            "summary": await vault.reveal(who.tenant, opened.summary),
            "opened_at": opened.opened_at.isoformat(),
            "due_on": (state.due_on or opened.due_on).isoformat(),
            "owner_id": state.owner_id,
            "resolved": state.resolved,
            "resolution": words,
            "incident_id": state.incident_id,
            "appointment_id": opened.appointment_id,
            "survey_id": opened.survey_id,
            "provider_id": opened.provider_id,
            "stream": streams.case(who.tenant, case_id),
        }

    return router
