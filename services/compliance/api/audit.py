"""Compliance HTTP API: the audit log and the audit ledger, for auditors.

Who reads what: auditors read the whole tenant, whatever sites their token names (auditing is
tenant-wide). Managers and admins read the audit log of the sites their token names: all of it
with `sites: "*"`, otherwise only entries about one of those sites (an entry's `site`: see the
projection); entries about no site (patients, providers, records of access) reveal patients or
span sites, so they are for auditors and tenant-wide callers only. The ledger (its blocks name
every stream of the tenant) is for auditors and tenant-wide admins.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query

from services.compliance.application.ledger import AuditLedger
from services.compliance.application.queries import AuditQueries, Visible
from shared.http.identity import ALL_SITES, Principal, policy
from shared.http.routes import next_after

Auditors = policy("auditor", "manager", site_scoped=True)
LedgerAuditors = policy("auditor")  # and admin; read-only


def tenant_wide(who: Principal) -> bool:
    """Reads every site's entries: an auditor, or a token for all the tenant's sites."""
    return "auditor" in who.roles or who.sites == ALL_SITES


def visible_to(who: Principal) -> Visible:
    """Whether the caller may read an entry: every one tenant-wide, else its sites' only."""

    def visible(entry: Mapping[str, Any]) -> bool:
        return tenant_wide(who) or (isinstance(who.sites, list) and entry.get("site") in who.sites)

    return visible


Hash = Annotated[str | None, Query(pattern=r"^[0-9a-f]{64}$")]
WHEN = "a date (YYYY-MM-DD, UTC; `to` takes in the whole day) or a time with its offset"
From = Annotated[str | None, Query(alias="from", max_length=40, description=WHEN)]
To = Annotated[str | None, Query(max_length=40, description=WHEN)]


def moment(text: str | None, name: str, *, end: bool = False) -> datetime | None:
    """A query's date or time: a date is its first instant (UTC), or for the end of a period
    the first instant of the next day; a time must say its offset. Anything else is a 422."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + timedelta(days=1) if end else start
        value = datetime.fromisoformat(text)
        if value.tzinfo is None:
            raise HTTPException(422, f"{name}: a time needs its offset (Z or +hh:mm)")
        return value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise HTTPException(422, f"{name}: a date (YYYY-MM-DD) or a time with its offset") from None


def build_router(queries: AuditQueries, ledger: AuditLedger) -> APIRouter:
    router = APIRouter(prefix="/compliance", tags=["compliance"])

    @router.get("/audit-log")
    async def audit_log(
        who: Principal = Auditors,
        stream: Annotated[str | None, Query(max_length=300)] = None,
        subject: Annotated[str | None, Query(max_length=100)] = None,
        type: Annotated[str | None, Query(max_length=200)] = None,
        correlation_id: Annotated[str | None, Query(max_length=200)] = None,
        actor: Annotated[str | None, Query(max_length=200)] = None,
        patient: Annotated[str | None, Query(max_length=100)] = None,
        from_: From = None,
        to: To = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        """Entries of the caller's tenant, oldest first; filter by stream, subject, type,
        correlation id (one request and all it caused), actor, patient (the `patient_id` an
        event names) and recorded time (`from` inclusive, `to` exclusive; a date `to` takes
        in its whole day)."""
        start, end = moment(from_, "from"), moment(to, "to", end=True)
        if start is not None and end is not None and start >= end:
            raise HTTPException(422, "from must come before to")
        sites = None if tenant_wide(who) or not isinstance(who.sites, list) else who.sites
        equal = {
            "stream": stream,
            "subject": subject,
            "type": type,
            "correlation_id": correlation_id,
            "actor": actor,
            "patient": patient,
        }
        return await queries.log(who.tenant, sites, equal, start, end, limit)

    @router.get("/audit-log/caused-by/{event_id}")
    async def caused_by(
        event_id: Annotated[str, Path(min_length=1, max_length=200)],
        who: Principal = Auditors,
    ) -> dict[str, Any]:
        """The event and everything it caused, across services, in the order it happened
        (followed through causation ids within its request's correlation id). A caller
        limited to some sites sees those sites' entries of it only; an event it may not see
        is a 404. `truncated`: the request caused more than the answer holds."""
        visible = visible_to(who)
        root = await queries.entry(who.tenant, event_id)
        if root is None or not visible(root):
            raise HTTPException(404, "No such event in the audit log")
        chain = await queries.chain(who.tenant, root, visible)
        return {
            "event_id": event_id,
            "correlation_id": chain.correlation_id,
            "entries": chain.entries,
            "truncated": chain.truncated,
        }

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
