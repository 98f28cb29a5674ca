"""The auditor's reads of the audit log: one patient's trail (the access report and the
accounting of disclosures) and one request's chain of events. Routes parse, authorise, call
one of these and map the answer; the rules they apply are `domain/disclosures.py`'s."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.compliance.domain.disclosures import caused_by, in_order
from services.compliance.projections.audit_log import (
    ENTRIES,
    PATIENTS,
    PROJECTION,
    patient_prefix,
    tenant_prefix,
    utc_text,
)
from shared.readmodels import ReadModels, public

END_OF_TIME = "~"  # after any `at` (digits first) within one tenant's ids
MAX_CHAIN = 5000  # events of one correlation read to follow a chain of causes

Visible = Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True)
class Trail:
    """A page of one patient's entries, oldest first; `next_after` continues it."""

    entries: list[dict[str, Any]]
    next_after: str | None
    unstated_purpose: int = 0  # reads in the period that stated no purpose (disclosures only)


@dataclass(frozen=True)
class Chain:
    correlation_id: str
    entries: list[dict[str, Any]]
    truncated: bool  # the correlation held more than MAX_CHAIN events: later ones not read


class AuditQueries:
    def __init__(self, read_models: ReadModels) -> None:
        self._read_models = read_models

    async def patient_trail(
        self,
        tenant: str,
        patient_id: str,
        start: datetime,
        end: datetime,
        *,
        disclosures: bool = False,
        after: str | None = None,
        limit: int = 100,
    ) -> Trail:
        """The patient's entries recorded in [start, end): every read and every change that
        names them, or only the reads the accounting of disclosures lists."""
        prefix = patient_prefix(tenant, patient_id)
        low = prefix + utc_text(start)
        if after is not None and prefix + after > low:
            low_bound: dict[str, Any] = {"$gt": prefix + after}
        else:
            low_bound = {"$gte": low}
        where: dict[str, Any] = {
            "_id": {**low_bound, "$lt": prefix + utc_text(end)},
            "tenant": tenant,
            "patient": patient_id,
        }
        if disclosures:
            where["disclosure"] = True
        docs = await self._read_models.find(
            PROJECTION, PATIENTS, where, sort=[("_id", 1)], limit=limit
        )
        entries = [d for d in (public(doc) for doc in docs) if d is not None]
        next_after = None
        if len(docs) == limit:
            next_after = str(docs[-1]["_id"])[len(prefix) :]
        unstated = 0
        if disclosures:
            period = {
                "_id": {"$gte": low, "$lt": prefix + utc_text(end)},
                "tenant": tenant,
                "patient": patient_id,
                "access": True,
                "purpose": None,
            }
            unstated = await self._read_models.store.count(
                await self._read_models.collection(PROJECTION, PATIENTS), period
            )
        return Trail(entries, next_after, unstated)

    async def log(
        self,
        tenant: str,
        sites: list[str] | None,
        equal: Mapping[str, str | None],
        start: datetime | None,
        end: datetime | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        """The tenant's entries, oldest first: of these `sites` only (None: every entry), with
        the fields of `equal` that are not None as given, recorded in [start, end). A period
        is a range of entry ids (tenant, then time), so it is looked up like the others."""
        where: dict[str, Any] = {"tenant": tenant}
        if sites is not None:
            where["site"] = {"$in": sites}
        where.update({field: value for field, value in equal.items() if value is not None})
        if start is not None or end is not None:
            low = "" if start is None else utc_text(start)
            high = END_OF_TIME if end is None else utc_text(end)
            prefix = tenant_prefix(tenant)
            where["_id"] = {"$gte": prefix + low, "$lt": prefix + high}
            # The id range is the lookup; `at` holds out entries keyed before ids had times.
            where["at"] = {"$gte": low, "$lt": high}
        docs = await self._read_models.find(
            PROJECTION, ENTRIES, where, sort=[("time", 1), ("stream_version", 1)], limit=limit
        )
        return [d for d in (public(doc) for doc in docs) if d is not None]

    async def entry(self, tenant: str, event_id: str) -> dict[str, Any] | None:
        """One event's entry (by its indexed `event_id`: the entry's id begins with its time)."""
        docs = await self._read_models.find(
            PROJECTION, ENTRIES, {"tenant": tenant, "event_id": event_id}, limit=1
        )
        return public(docs[0]) if docs else None

    async def chain(self, tenant: str, root: Mapping[str, Any], visible: Visible) -> Chain:
        """The event `root` and everything it caused, across services, in the order it
        happened: followed through causation ids within the request's correlation (a
        reaction keeps its cause's correlation id and names the cause)."""
        correlation = str(root["correlation_id"])
        docs = await self._read_models.find(
            PROJECTION,
            ENTRIES,
            {"tenant": tenant, "correlation_id": correlation},
            sort=[("time", 1), ("stream_version", 1)],
            limit=MAX_CHAIN + 1,
        )
        truncated = len(docs) > MAX_CHAIN
        entries = [d for d in (public(doc) for doc in docs[:MAX_CHAIN]) if d is not None]
        found = caused_by(
            str(root["event_id"]),
            ((str(e["event_id"]), e.get("causation_id")) for e in entries),
        )
        chained = in_order([e for e in entries if e["event_id"] in found])
        return Chain(correlation, [dict(e) for e in chained if visible(e)], truncated)
