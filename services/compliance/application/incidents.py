"""Incident use cases: the officer reports an incident and records its steps (risk assessment,
breach notifications, investigation, closure), each decided on the incident's stream; the
read model's queries (an incident, the list, and what is due soon or overdue).

"Today" is the kit clock's date (UTC): a step is dated no later than today, and a deadline is
overdue from the day after its due date.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from services.compliance.domain.incidents import (
    AssessRisk,
    CloseIncident,
    Incident,
    Kind,
    RecordInvestigation,
    RecordNotification,
    ReportIncident,
    incident,
    incident_stream,
)
from services.compliance.projections.incidents import INCIDENTS, PROJECTION, incident_doc_id
from services.engagement.contracts import FeedbackCaseOpened
from shared.commands import CommandHandler, Outcome
from shared.events import Metadata
from shared.readmodels import ReadModels, public
from shared.usecases import UseCases


def case_incident_id(case_id: str) -> str:
    """The incident a feedback case (a privacy complaint) opens."""
    return f"case-{case_id}"


Step = AssessRisk | RecordNotification | RecordInvestigation | CloseIncident


class Incidents(UseCases):
    def __init__(self, handler: CommandHandler, read_models: ReadModels) -> None:
        super().__init__(handler)
        self._read_models = read_models

    def today(self) -> date:
        return self.now().date()

    # ------------------------------------------------------------------------- commands

    async def report(
        self,
        meta: Metadata,
        incident_id: str,
        kind: Kind,
        site_id: str,
        title: str,
        description: str,
        occurred_on: date | None,
        discovered_on: date,
    ) -> Outcome[Incident]:
        command = ReportIncident(
            incident_id=incident_id,
            kind=kind,
            site_id=site_id,
            title=title,
            description=description,
            occurred_on=occurred_on,
            discovered_on=discovered_on,
            reported_at=self.now(),
        )
        return await self.decide(incident_stream(meta.tenant, incident_id), incident, command, meta)

    async def open_for_case(self, meta: Metadata, case: FeedbackCaseOpened) -> Outcome[Incident]:
        """The privacy incident a patient's privacy complaint opens, once per case (its id is
        the case's, so a redelivered opening records nothing). It names the case, not the
        complaint's words: those stay sealed with engagement."""
        today = self.today()
        command = ReportIncident(
            incident_id=case_incident_id(case.case_id),
            kind="privacy",
            site_id=case.site_id,
            title=f"Privacy complaint: feedback case {case.case_id}",
            description=(
                "A patient complained about the privacy of their data "
                f"(engagement's feedback case {case.case_id}, source {case.source})."
            ),
            discovered_on=min(case.opened_at.date(), today),
            reported_at=self.now(),
            case_id=case.case_id,
        )
        stream = incident_stream(meta.tenant, command.incident_id)
        return await self.decide(stream, incident, command, meta)

    async def record(self, meta: Metadata, incident_id: str, step: Step) -> Outcome[Incident]:
        """One step of the incident's lifecycle (its `today` is the clock's)."""
        return await self.decide(incident_stream(meta.tenant, incident_id), incident, step, meta)

    # ------------------------------------------------------------------------- queries

    async def one(self, tenant: str, incident_id: str) -> dict[str, Any] | None:
        doc = public(
            await self._read_models.get(PROJECTION, INCIDENTS, incident_doc_id(tenant, incident_id))
        )
        if doc is not None:
            doc.pop("tenant", None)
        return doc

    async def all(
        self, tenant: str, status: str | None, kind: str | None, site_id: str | None
    ) -> list[dict[str, Any]]:
        """The tenant's incidents, latest discovered first, without their descriptions."""
        where: dict[str, Any] = {"tenant": tenant}
        for field, value in (("status", status), ("kind", kind), ("site_id", site_id)):
            if value is not None:
                where[field] = value
        docs = await self._read_models.find(
            PROJECTION, INCIDENTS, where, sort=[("discovered_on", -1), ("incident_id", 1)]
        )
        found = []
        for doc in docs:
            row = public(doc) or {}
            row.pop("tenant", None)
            row.pop("description", None)  # the list names incidents; one incident reads whole
            found.append(row)
        return found

    async def due(self, tenant: str, within_days: int, site_id: str | None) -> list[dict[str, Any]]:
        """Every step open incidents owe by `within_days` from today, overdue ones included,
        soonest first: what the officer (or a monitor) reads."""
        today = self.today()
        until = (today + timedelta(days=within_days)).isoformat()
        where: dict[str, Any] = {"tenant": tenant, "status": "open", "next_due_on": {"$lte": until}}
        if site_id is not None:
            where["site_id"] = site_id
        rows: list[dict[str, Any]] = []
        for doc in await self._read_models.find(PROJECTION, INCIDENTS, where):
            for deadline in doc["deadlines"]:
                if deadline["due_on"] > until:
                    continue
                days_left = (date.fromisoformat(deadline["due_on"]) - today).days
                rows.append(
                    {
                        "incident_id": doc["incident_id"],
                        "kind": doc["kind"],
                        "site_id": doc["site_id"],
                        "title": doc["title"],
                        "discovered_on": doc["discovered_on"],
                        "task": deadline["task"],
                        "due_on": deadline["due_on"],
                        "days_left": days_left,
                        "overdue": days_left < 0,
                    }
                )
        return sorted(rows, key=lambda r: (r["due_on"], r["incident_id"], r["task"]))
