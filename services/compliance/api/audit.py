"""Compliance HTTP API: the audit log and the audit ledger, for auditors.

Who reads what: auditors read the whole tenant, whatever sites their token names (auditing is
tenant-wide). Managers and admins read the audit log of the sites their token names: all of it
with `sites: "*"`, otherwise only entries about one of those sites (an entry's `site`: see the
projection); entries about no site (patients, providers, records of access) reveal patients or
span sites, so they are for auditors and tenant-wide callers only. The ledger (its blocks name
every stream of the tenant) is for auditors and tenant-wide admins.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from services.compliance.application.ledger import AuditLedger
from services.compliance.projections.audit_log import ENTRIES, PROJECTION
from shared.http.identity import ALL_SITES, Principal, policy
from shared.http.routes import next_after
from shared.readmodels import ReadModels, public

Auditors = policy("auditor", "manager", site_scoped=True)
LedgerAuditors = policy("auditor")  # and admin; read-only


def tenant_wide(who: Principal) -> bool:
    """Reads every site's entries: an auditor, or a token for all the tenant's sites."""
    return "auditor" in who.roles or who.sites == ALL_SITES


Hash = Annotated[str | None, Query(pattern=r"^[0-9a-f]{64}$")]


def build_router(read_models: ReadModels, ledger: AuditLedger) -> APIRouter:
    router = APIRouter(prefix="/compliance", tags=["compliance"])

    @router.get("/audit-log")
    async def audit_log(
        who: Principal = Auditors,
        stream: Annotated[str | None, Query(max_length=300)] = None,
        subject: Annotated[str | None, Query(max_length=100)] = None,
        type: Annotated[str | None, Query(max_length=200)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        """Entries of the caller's tenant, oldest first; filter by stream, subject or type."""
        where: dict[str, Any] = {"tenant": who.tenant}
        if not tenant_wide(who) and isinstance(who.sites, list):
            where["site"] = {"$in": who.sites}
        if stream is not None:
            where["stream"] = stream
        if subject is not None:
            where["subject"] = subject
        if type is not None:
            where["type"] = type
        docs = await read_models.find(
            PROJECTION, ENTRIES, where, sort=[("time", 1), ("stream_version", 1)], limit=limit
        )
        return [d for d in (public(doc) for doc in docs) if d is not None]

    @router.get("/audit-ledger/verify")
    async def verify_ledger(
        who: Principal = LedgerAuditors,
        known_head: Hash = None,
        cross_check: bool = False,
    ) -> dict[str, Any]:
        """Recompute the tenant's hash chain. `known_head`: a head hash seen before, which
        must still be in the chain (a chain cut short leaves no other trace). `cross_check`:
        also compare every audit-log entry's digest with the one the chain holds. Each
        producing context's event store is always compared with the chain (`stores`)."""
        _whole_ledger(who)
        return await ledger.verify(who.tenant, known_head, cross_check)

    @router.get("/audit-ledger/blocks")
    async def ledger_blocks(
        who: Principal = LedgerAuditors,
        after: Annotated[int, Query(ge=0, le=10**15)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> dict[str, Any]:
        """The tenant's blocks after sequence `after`, as stored, oldest first; page on with
        `next_after` until it is null."""
        _whole_ledger(who)
        blocks = await ledger.blocks(who.tenant, after, limit)
        after_last = next_after(blocks, limit, lambda block: int(block["stream_version"]))
        return {"blocks": blocks, "next_after": after_last}

    return router


def _whole_ledger(who: Principal) -> None:
    if not tenant_wide(who):
        raise HTTPException(403, "The ledger spans every site: auditors and tenant-wide admins")
