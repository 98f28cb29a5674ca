"""Claims over HTTP: the claims list and one claim, the biller's steps (re-check and make
ready, a paper EOB's adjudication, appeal, write-off, replacement and void), and the work
queues (claims not ready, rejected claims with reasons, denials by CARC/RARC, claims
unanswered after N days).

Billers (and admins) do billing work; managers read their sites' claims; auditors read every
claim; front desk and clinicians see none. Every answer naming patients records the
disclosure (billing's `PatientRecordAccessed`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import Field

from services.billing.application.claims import Claims
from services.billing.domain import streams
from services.billing.domain.events import Adjustment, LineAdjudication
from services.billing.projections.claims import CLAIMS, PROJECTION, claim_doc_id
from shared.access import record_disclosure
from shared.http.app import metadata
from shared.http.identity import Principal, policy
from shared.http.routes import (
    Body,
    Cursor,
    Id,
    Limit,
    PlausibleDay,
    Recorded,
    check_site,
    decode_cursor,
    next_cursor,
    read_after,
    recorded,
)
from shared.readmodels import ReadModels
from shared.usecases import Disclosures

Work = policy("biller", changes_state=True)  # and admin
Read = policy("biller", "manager", "auditor", site_scoped=True)

Reason = Annotated[str, Field(min_length=1, max_length=500)]
Code = Annotated[str, Field(min_length=1, max_length=30, pattern=r"^[A-Za-z0-9]+$")]
Cents = Annotated[int, Field(ge=0, le=100_000_000)]
Status = Literal[
    "draft", "ready", "submitted", "accepted", "rejected", "paid", "partially_paid", "denied",
    "appealed", "resubmitted", "voided", "written_off",
]  # fmt: skip
AfterStream = Annotated[str | None, Query(max_length=300)]
AfterVersion = Annotated[int | None, Query(ge=1)]


Day = PlausibleDay


class AdjustmentIn(Body):
    group: Literal["CO", "PR", "OA", "PI", "CR"]
    reason: Code  # CARC
    amount_cents: Annotated[int, Field(ge=-100_000_000, le=100_000_000)]
    quantity: Annotated[int | None, Field(ge=0, le=10_000)] = None


class LineIn(Body):
    line_id: Code
    code: Code
    paid_cents: Cents
    adjustments: list[AdjustmentIn] = Field(default_factory=list, max_length=20)
    remarks: list[Code] = Field(default_factory=list, max_length=20)  # RARC


class AdjudicationIn(Body):
    """A paper EOB: the payer's decision on the claim."""

    outcome: Literal["paid", "partially_paid", "denied"]
    paid_cents: Cents
    patient_responsibility_cents: Cents = 0
    payer_claim_control_number: Annotated[
        str, Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9-]+$")
    ]
    adjudicated_on: Day
    adjustments: list[AdjustmentIn] = Field(default_factory=list, max_length=20)
    lines: list[LineIn] = Field(default_factory=list, max_length=50)


class ReasonIn(Body):
    reason: Reason


class ReplacementIn(Body):
    frequency: Literal["7", "8"]  # replacement, void


def reach(who: Principal) -> list[str] | Literal["*"]:
    """The sites whose claims the caller reads: all (biller, auditor, admin), or a manager's."""
    if {"biller", "auditor", "admin"} & set(who.roles):
        return "*"
    return who.sites


def _at(sites: list[str] | Literal["*"], row: dict[str, Any]) -> bool:
    return sites == "*" or row.get("site_id") in sites


def build_router(
    claims: Claims, disclosures: Disclosures, read_models: ReadModels, wait_timeout: float
) -> APIRouter:
    router = APIRouter(prefix="/billing", tags=["claims"])

    async def after(who: Principal, stream: str | None, version: int | None) -> None:
        """Read-your-writes on a list: `stream` is one of the caller's tenant's claims."""
        if version is None:
            return
        prefix = f"{who.tenant}:claim:"
        if stream is None or not stream.startswith(prefix):
            raise HTTPException(400, "after_version needs the claim stream (after_stream)")
        await wait_for_claim(who.tenant, stream.removeprefix(prefix), version)

    async def wait_for_claim(tenant: str, claim_id: str, version: int) -> None:
        stream = streams.claim(tenant, claim_id)
        doc_id = claim_doc_id(tenant, claim_id)
        await read_after(
            read_models, PROJECTION, CLAIMS, doc_id, stream, version, wait_timeout,
            claims.stream_version,
        )  # fmt: skip

    async def rows(
        request: Request,
        who: Principal,
        where: dict[str, Any],
        site: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> list[dict[str, Any]]:
        """The caller's claims `where` says, in claim id order: a page of `limit` after
        `cursor` (None: all); a manager's sites in the query itself, so a page is full."""
        sites = reach(who)
        if site is not None:
            if sites != "*":
                check_site(who, site)
            where = {**where, "site_id": site}
        elif sites != "*":
            where = {**where, "site_id": {"$in": list(sites)}}
        after = decode_cursor(cursor, 1)[0] if cursor is not None else None
        found = [r for r in await claims.find(who.tenant, where, limit, after) if _at(sites, r)]
        await record_disclosure(disclosures, request, who, [r["patient_id"] for r in found])
        return found

    async def page(
        request: Request,
        who: Principal,
        where: dict[str, Any],
        site: str | None,
        limit: int,
        cursor: str | None,
    ) -> dict[str, Any]:
        found = await rows(request, who, where, site, limit, cursor)
        return {
            "claims": found,
            "next_cursor": next_cursor(found, limit, lambda r: (str(r["claim_id"]),)),
        }

    # ------------------------------------------------------------------------- reads

    @router.get("/claims")
    async def list_claims(
        request: Request,
        who: Principal = Read,
        status: Status | None = None,
        site: Id | None = None,
        payer: Id | None = None,
        limit: Limit = 100,
        cursor: Cursor = None,
        after_stream: AfterStream = None,
        after_version: AfterVersion = None,
    ) -> dict[str, Any]:
        """Claims, by `status`, `site` and `payer`, in claim id order, a page at a time
        (`next_cursor` to the next); a manager sees their sites' only."""
        await after(who, after_stream, after_version)
        where: dict[str, Any] = {}
        if status is not None:
            where["status"] = status
        if payer is not None:
            where["payer_id"] = payer
        return await page(request, who, where, site, limit, cursor)

    @router.get("/claims/{claim_id}")
    async def get_claim(
        request: Request,
        claim_id: Id,
        who: Principal = Read,
        after_version: AfterVersion = None,
    ) -> dict[str, Any]:
        """One claim: status, problems, rejection reasons, adjudication, file, replacement.
        `after_version` (of the claim's stream, as a write to it answered) waits for it."""
        if after_version is not None:
            await wait_for_claim(who.tenant, claim_id, after_version)
        found = await claims.get(who.tenant, claim_id)
        if found is None or not _at(reach(who), found):
            raise HTTPException(404, f"claim {claim_id} not found")
        await record_disclosure(disclosures, request, who, [found["patient_id"]])
        return found

    @router.get("/work-queues/claims-not-ready")
    async def not_ready(
        request: Request,
        who: Principal = Read,
        site: Id | None = None,
        limit: Limit = 100,
        cursor: Cursor = None,
        after_stream: AfterStream = None,
        after_version: AfterVersion = None,
    ) -> dict[str, Any]:
        """Draft claims with the problems their last check found (what is missing)."""
        await after(who, after_stream, after_version)
        return await page(request, who, {"status": "draft"}, site, limit, cursor)

    @router.get("/work-queues/rejected-claims")
    async def rejected(
        request: Request,
        who: Principal = Read,
        site: Id | None = None,
        limit: Limit = 100,
        cursor: Cursor = None,
        after_stream: AfterStream = None,
        after_version: AfterVersion = None,
    ) -> dict[str, Any]:
        """Claims the clearinghouse or payer rejected, with the reasons (to correct)."""
        await after(who, after_stream, after_version)
        return await page(request, who, {"status": "rejected"}, site, limit, cursor)

    @router.get("/work-queues/denials")
    async def denials(
        request: Request,
        who: Principal = Read,
        site: Id | None = None,
        after_stream: AfterStream = None,
        after_version: AfterVersion = None,
    ) -> dict[str, Any]:
        """Denied claims grouped by reason: each CARC (as GROUP-CODE, e.g. CO-50) and each
        RARC, with the claims it names and their billed total."""
        await after(who, after_stream, after_version)
        found = await rows(request, who, {"status": "denied"}, site)
        groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for row in found:
            for code in row.get("carc") or ["none"]:
                groups[("CARC", code)].append(row)
            for code in row.get("rarc") or []:
                groups[("RARC", code)].append(row)
        return {
            "groups": [
                {
                    "kind": kind,
                    "code": code,
                    "count": len(members),
                    "total_cents": sum(m["total_cents"] for m in members),
                    "claim_ids": [m["claim_id"] for m in members],
                }
                for (kind, code), members in sorted(groups.items())
            ],
            "claims": found,
        }

    @router.get("/work-queues/unanswered-claims")
    async def unanswered(
        request: Request,
        who: Principal = Read,
        days: Annotated[int, Query(ge=1, le=3650)] = 30,
        site: Id | None = None,
        after_stream: AfterStream = None,
        after_version: AfterVersion = None,
    ) -> dict[str, Any]:
        """Claims submitted `days` days ago or more with no answer yet, oldest first."""
        await after(who, after_stream, after_version)
        sites = reach(who)
        if site is not None and sites != "*":
            check_site(who, site)
        found = [
            r
            for r in await claims.unanswered(who.tenant, days)
            if _at(sites, r) and (site is None or r["site_id"] == site)
        ]
        await record_disclosure(disclosures, request, who, [r["patient_id"] for r in found])
        return {"days": days, "as_of": claims.now().isoformat(), "claims": found}

    # ------------------------------------------------------------------------- steps

    @router.post("/claims/{claim_id}/ready", status_code=201)
    async def make_ready(request: Request, claim_id: Id, who: Principal = Work) -> Recorded:
        """Check a draft (or rejected, corrected) claim again: ready when nothing is missing;
        else 409 naming what still is (the claims-not-ready queue shows it too)."""
        outcome = await claims.check(metadata(request, who), claim_id)
        return recorded(claim_id, outcome)

    @router.post("/claims/{claim_id}/adjudication", status_code=201)
    async def adjudicate(
        request: Request, claim_id: Id, body: AdjudicationIn, who: Principal = Work
    ) -> Recorded:
        """Post a paper EOB: the payer's decision on a submitted, accepted or appealed claim.
        A primary claim with something left then goes to the secondary payer by itself."""
        outcome = await claims.adjudicate(
            metadata(request, who),
            claim_id,
            outcome=body.outcome,
            paid_cents=body.paid_cents,
            patient_responsibility_cents=body.patient_responsibility_cents,
            payer_claim_control_number=body.payer_claim_control_number,
            adjudicated_on=body.adjudicated_on,
            adjustments=[Adjustment(**a.model_dump()) for a in body.adjustments],
            lines=[
                LineAdjudication(
                    line_id=line.line_id,
                    code=line.code,
                    paid_cents=line.paid_cents,
                    adjustments=tuple(Adjustment(**a.model_dump()) for a in line.adjustments),
                    remarks=tuple(line.remarks),
                )
                for line in body.lines
            ],
        )
        return recorded(claim_id, outcome)

    @router.post("/claims/{claim_id}/appeal", status_code=201)
    async def appeal(
        request: Request, claim_id: Id, body: ReasonIn, who: Principal = Work
    ) -> Recorded:
        """Appeal a denied or partly paid claim."""
        return recorded(
            claim_id, await claims.appeal(metadata(request, who), claim_id, body.reason)
        )

    @router.post("/claims/{claim_id}/write-off", status_code=201)
    async def write_off(
        request: Request, claim_id: Id, body: ReasonIn, who: Principal = Work
    ) -> Recorded:
        """Write off what is left of a denied, partly paid, appealed or rejected claim."""
        outcome = await claims.write_off(metadata(request, who), claim_id, body.reason)
        return recorded(claim_id, outcome)

    @router.post("/claims/{claim_id}/replacement", status_code=201)
    async def replace(
        request: Request, claim_id: Id, body: ReplacementIn, who: Principal = Work
    ) -> Recorded:
        """A replacement (frequency 7) or void (8) of a claim the payer numbered (accepted with
        its claim control number, or adjudicated): answers the new claim; 409 before."""
        outcome = await claims.replace(metadata(request, who), claim_id, body.frequency)
        new_id = outcome.stream.rsplit(":", 1)[1]
        return recorded(new_id, outcome)

    return router
