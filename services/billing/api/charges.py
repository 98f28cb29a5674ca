"""Charges and their work queues over HTTP.

`biller` (and `admin`) correct, hold and release charges and read them all; a `manager` reads
the charges of their sites; an `auditor` reads everything and changes nothing. Front desk,
clinicians, hr and staff see no charges. Every answer that names patients records the
disclosure (billing's `PatientRecordAccessed`). Reads take `after_stream` and `after_version`
(a change's `stream` and `stream_version`) to wait until they include that change.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from services.billing.application.charges import Charges
from services.billing.domain.charges import CodedLine, CodingIssues
from services.billing.projections import charges as view
from shared.access import record_disclosure
from shared.documents.port import Document
from shared.http.app import metadata
from shared.http.identity import Principal, policy
from shared.http.problems import problem
from shared.http.routes import (
    Body,
    Cursor,
    Id,
    Limit,
    Recorded,
    decode_cursor,
    next_cursor,
    read_after,
    recorded,
)
from shared.readmodels import ReadModels
from shared.usecases import Disclosures

Workers = policy("biller", changes_state=True)
Readers = policy("biller", "manager", "auditor", site_scoped=True)
TENANT_WIDE = frozenset({"biller", "auditor", "admin"})

After = Annotated[str | None, Query(max_length=300)]
AfterVersion = Annotated[int | None, Query(ge=1)]
Site = Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]

# Loose shapes here (a typo is a coding issue the charge is held for, not a 422); anything
# that could not be a code at all is refused.
Diagnosis = Annotated[str, Field(min_length=3, max_length=8, pattern=r"^[A-Za-z0-9.]+$")]
Procedure = Annotated[str, Field(min_length=4, max_length=5, pattern=r"^[A-Za-z0-9]+$")]
Modifier = Annotated[str, Field(min_length=1, max_length=2, pattern=r"^[A-Za-z0-9]+$")]
Reason = Annotated[str, Field(min_length=1, max_length=500)]


class LineIn(Body):
    code: Procedure
    modifiers: list[Modifier] = Field(default=[], max_length=4)
    units: int = Field(default=1, ge=1, le=999)
    diagnosis_pointers: list[Annotated[int, Field(ge=1, le=12)]] = Field(min_length=1, max_length=4)


class CorrectionIn(Body):
    diagnoses: list[Diagnosis] = Field(min_length=1, max_length=12)
    lines: list[LineIn] = Field(min_length=1, max_length=50)
    reason: Reason


class HoldIn(Body):
    reason: Reason


def _sites(who: Principal) -> list[str] | None:
    """The sites whose charges the caller reads (None: every site)."""
    if set(who.roles) & TENANT_WIDE or who.sites == "*":
        return None
    return list(who.sites)


def charge_out(doc: Document) -> dict[str, Any]:
    return {
        k: doc.get(k)
        for k in (
            "charge_id",
            "appointment_id",
            "patient_id",
            "site_id",
            "provider_id",
            "date_of_service",
            "diagnoses",
            "lines",
            "total_cents",
            "payer_id",
            "fee_schedule_version",
            "status",
            "hold_reason",
            "issues",
            "corrections",
            "created_at",
            "changed_at",
        )
    }


def build_router(
    charges: Charges, disclosures: Disclosures, read_models: ReadModels, wait_timeout: float
) -> APIRouter:
    router = APIRouter(prefix="/billing", tags=["charges"])

    async def wait(who: Principal, after_stream: str | None, after_version: int | None) -> None:
        """Read-your-writes for a charge stream of the caller's tenant."""
        if after_version is None:
            return
        if after_stream is None:
            raise HTTPException(400, "after_version needs the after_stream it belongs to")
        tenant, _, rest = after_stream.partition(":")
        kind, _, charge_id = rest.partition(":")
        if tenant != who.tenant or kind != "charge" or not charge_id:
            raise HTTPException(400, "after_stream names no charge")
        await read_after(
            read_models,
            view.PROJECTION,
            view.CHARGES,
            view.doc_id(tenant, charge_id),
            after_stream,
            after_version,
            wait_timeout,
            charges.stream_version,
        )

    async def listing(
        request: Request,
        who: Principal,
        site: str | None,
        *,
        status: str | None = None,
        with_issues: bool = False,
        limit: int,
        cursor: str | None,
    ) -> dict[str, Any]:
        """A page of the caller's charges, oldest date of service first, and the cursor of
        the next page (None: this was the last)."""
        sites = _sites(who)
        if site is not None:
            if sites is not None and site not in sites:
                raise HTTPException(403, f"You do not work at site {site}")
            sites = [site]
        after: tuple[str, str] | None = None
        if cursor is not None:
            day, charge_id = decode_cursor(cursor, 2)
            after = (day, charge_id)
        docs = await charges.find(
            who.tenant,
            status=status,
            sites=sites,
            with_issues=with_issues,
            limit=limit,
            after=after,
        )
        await record_disclosure(disclosures, request, who, [d["patient_id"] for d in docs])
        return {
            "charges": [charge_out(d) for d in docs],
            "next_cursor": next_cursor(
                docs, limit, lambda d: (str(d["date_of_service"]), str(d["charge_id"]))
            ),
        }

    # ---------------------------------------------------------------------------- commands

    @router.post("/charges/{charge_id}/corrections", status_code=201)
    async def correct(
        request: Request, charge_id: Id, body: CorrectionIn, who: Principal = Workers
    ) -> Recorded:
        """The charge's whole new set of diagnoses and lines (codes upper-cased), priced by the
        fee schedule version that first priced it, and checked again: the issues found are on
        the charge. 409 for a released charge (hold it first); 404 for none."""
        lines = [
            CodedLine(
                code=line.code.upper(),
                modifiers=tuple(m.upper() for m in line.modifiers),
                units=line.units,
                diagnosis_pointers=tuple(line.diagnosis_pointers),
            )
            for line in body.lines
        ]
        outcome = await charges.correct(
            metadata(request, who),
            charge_id,
            [d.upper() for d in body.diagnoses],
            lines,
            body.reason,
        )
        return recorded(charge_id, outcome)

    @router.post("/charges/{charge_id}/hold", status_code=201)
    async def hold(
        request: Request, charge_id: Id, body: HoldIn, who: Principal = Workers
    ) -> Recorded:
        """Hold the charge (no claim is made from it) with a reason. 409 when held already."""
        outcome = await charges.hold(metadata(request, who), charge_id, body.reason)
        return recorded(charge_id, outcome)

    @router.post("/charges/{charge_id}/release", status_code=201, response_model=None)
    async def release(
        request: Request, charge_id: Id, who: Principal = Workers
    ) -> Recorded | JSONResponse:
        """Release a held charge for claims. 409 with the `issues` while its codes have coding
        issues (checked again now), or when it is released already."""
        try:
            outcome = await charges.release(metadata(request, who), charge_id)
        except CodingIssues as refused:
            issues = [issue.model_dump(mode="json") for issue in refused.issues]
            return problem(409, "Conflict", refused.reason, issues=issues)
        return recorded(charge_id, outcome)

    # ------------------------------------------------------------------------------- reads

    @router.get("/charges")
    async def list_charges(
        request: Request,
        who: Principal = Readers,
        status: Literal["held", "released"] | None = None,
        site: Site = None,
        limit: Limit = 100,
        cursor: Cursor = None,
        after_stream: After = None,
        after_version: AfterVersion = None,
    ) -> dict[str, Any]:
        """Charges by status and site, oldest date of service first (managers: their sites)."""
        await wait(who, after_stream, after_version)
        return await listing(request, who, site, status=status, limit=limit, cursor=cursor)

    @router.get("/charges/{charge_id}")
    async def get_charge(
        request: Request,
        charge_id: Id,
        who: Principal = Readers,
        after_stream: After = None,
        after_version: AfterVersion = None,
    ) -> dict[str, Any]:
        """One charge: its visit, codes, fees, payer and schedule version, status and issues."""
        await wait(who, after_stream, after_version)
        doc = await charges.get(who.tenant, charge_id)
        sites = _sites(who)
        if doc is None or (sites is not None and doc["site_id"] not in sites):
            raise HTTPException(404, f"charge {charge_id} not found")
        await record_disclosure(disclosures, request, who, [doc["patient_id"]])
        return charge_out(doc)

    @router.get("/work-queues/held-charges")
    async def held_charges(
        request: Request,
        who: Principal = Readers,
        site: Site = None,
        limit: Limit = 100,
        cursor: Cursor = None,
        after_stream: After = None,
        after_version: AfterVersion = None,
    ) -> dict[str, Any]:
        """Every held charge, with its hold reason and issues, oldest date of service first."""
        await wait(who, after_stream, after_version)
        return await listing(request, who, site, status="held", limit=limit, cursor=cursor)

    @router.get("/work-queues/coding-errors")
    async def coding_errors(
        request: Request,
        who: Principal = Readers,
        site: Site = None,
        limit: Limit = 100,
        cursor: Cursor = None,
        after_stream: After = None,
        after_version: AfterVersion = None,
    ) -> dict[str, Any]:
        """Every charge whose codes have coding issues, each with its issues."""
        await wait(who, after_stream, after_version)
        return await listing(request, who, site, with_issues=True, limit=limit, cursor=cursor)

    return router
