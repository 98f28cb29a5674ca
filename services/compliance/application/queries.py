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
    utc_text,
)
from shared.readmodels import ReadModels, public

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

    async def entry(self, tenant: str, event_id: str) -> dict[str, Any] | None:
        return public(await self._read_models.get(PROJECTION, ENTRIES, f"{tenant}:{event_id}"))

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
