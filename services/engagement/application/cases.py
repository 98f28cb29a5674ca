"""Feedback cases the front desk opens, assigns and resolves; the privacy complaint's incident.

Each command is decided on the case's stream (`domain/cases.py`); a case's words (summary,
resolution) are sealed under the patient's key as they are recorded. The open cases of a site
are read from the cases read model (`projections/cases.py`), soonest due first, overdue ones
flagged against today (the clock's date, UTC). Compliance opens an incident for a privacy
complaint and names the case in its `IncidentReported` (consumer group
`reactor.engagement.case_incidents`): the case records the link as its own event, once.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from services.compliance.contracts import IncidentReported
from services.engagement.domain import streams
from services.engagement.domain.cases import (
    AssignCase,
    Case,
    CaseCommand,
    LinkIncident,
    OpenCase,
    ResolveCase,
    feedback_case,
)
from services.engagement.domain.events import CaseKind
from services.engagement.projections.cases import CASES, PROJECTION
from shared.commands import CommandHandler, Outcome
from shared.events import DomainEvent, Envelope, Metadata
from shared.readmodels import ReadModels, public
from shared.usecases import UseCases

SYSTEM = "system:engagement"


def _patient(event: object) -> str | None:
    return getattr(event, "patient_id", None)


class Cases(UseCases):
    def __init__(self, handler: CommandHandler, read_models: ReadModels) -> None:
        super().__init__(handler)
        self._read_models = read_models

    def today(self) -> date:
        return self.now().date()

    # ------------------------------------------------------------------------- commands

    async def open(
        self,
        meta: Metadata,
        *,
        patient_id: str,
        site_id: str,
        kind: CaseKind,
        summary: str,
        due_on: date,
        appointment_id: str | None,
        provider_id: str | None,
    ) -> tuple[str, Outcome[Case]]:
        """A new case from the front desk: its id and where its stream stands."""
        case_id = self.new_id()
        command = OpenCase(
            case_id=case_id,
            patient_id=patient_id,
            site_id=site_id,
            kind=kind,
            source="front_desk",
            summary=summary,
            now=self.now(),
            due_on=due_on,
            appointment_id=appointment_id,
            provider_id=provider_id,
        )
        return case_id, await self._decide(meta, case_id, command)

    async def assign(
        self, meta: Metadata, case_id: str, owner_id: str, due_on: date
    ) -> Outcome[Case]:
        command = AssignCase(
            case_id=case_id,
            owner_id=owner_id,
            due_on=due_on,
            assigned_by=meta.actor,
            now=self.now(),
        )
        return await self._decide(meta, case_id, command)

    async def resolve(self, meta: Metadata, case_id: str, resolution: str) -> Outcome[Case]:
        command = ResolveCase(
            case_id=case_id, resolution=resolution, resolved_by=meta.actor, now=self.now()
        )
        return await self._decide(meta, case_id, command)

    async def link_incident(self, meta: Metadata, reported: IncidentReported) -> None:
        """Compliance's incident for a privacy complaint, on the case (once)."""
        if reported.case_id is None:
            return
        command = LinkIncident(
            case_id=reported.case_id, incident_id=reported.incident_id, now=self.now()
        )
        await self._decide(meta, reported.case_id, command)

    async def _decide(self, meta: Metadata, case_id: str, command: CaseCommand) -> Outcome[Case]:
        stream = streams.case(meta.tenant, case_id)
        return await self.decide(stream, feedback_case, command, meta, subject=_patient)

    # ------------------------------------------------------------------------- queries

    async def case(self, tenant: str, case_id: str) -> Case:
        """The case as recorded (folded from the event store; its words still sealed)."""
        return await self.state(streams.case(tenant, case_id), feedback_case)

    async def open_at(
        self, tenant: str, site_id: str, limit: int, after: str | None
    ) -> list[dict[str, Any]]:
        """The site's open cases, soonest due first (then by id): `limit` of them after the
        position `after`, each flagged `overdue` once its due date has passed."""
        where: dict[str, Any] = {"tenant": tenant, "site_id": site_id, "status": "open"}
        if after is not None:
            where["position"] = {"$gt": after}
        docs = await self._read_models.find(
            PROJECTION, CASES, where, sort=[("position", 1)], limit=limit
        )
        today = self.today().isoformat()
        rows = []
        for doc in docs:
            row = public(doc) or {}
            row.pop("tenant", None)
            row["overdue"] = row["due_on"] < today
            rows.append(row)
        return rows


class LinkCaseIncidents:
    """Compliance's incidents opened for privacy complaints, linked from their cases."""

    name = "engagement.case_incidents"
    contexts = ("compliance",)

    def __init__(self, cases: Cases) -> None:
        self._cases = cases

    async def react(self, event: DomainEvent, envelope: Envelope) -> None:
        if isinstance(event, IncidentReported) and event.case_id is not None:
            await self._cases.link_incident(Metadata.reacting_to(envelope, SYSTEM), event)
