"""Policy use cases: the officer publishes and retires policies, each employee acknowledges
the current version on their own token, and the read model's queries (a policy, the list, who
is overdue at a site).

"Today" is the kit clock's date (UTC): an acknowledgement is overdue from the day after its
version's due date (effective date + the days it allows). Who must acknowledge a version: the
employed staff (as staffing's events tell) in one of its roles at one of its sites (empty: all).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from services.compliance.domain.policies import (
    AcknowledgePolicy,
    Policy,
    PolicyAcknowledgementReminded,
    PublishPolicy,
    RemindStaff,
    RetirePolicy,
    policy,
    policy_stream,
)
from services.compliance.projections.policies import (
    ACKS,
    POLICIES,
    PROJECTION,
    STAFF,
    policy_doc_id,
)
from shared.commands import CommandHandler, Outcome
from shared.documents.port import Document
from shared.domain import Forbidden
from shared.events import Metadata
from shared.readmodels import ReadModels, public
from shared.usecases import UseCases


class Policies(UseCases):
    def __init__(self, handler: CommandHandler, read_models: ReadModels) -> None:
        super().__init__(handler)
        self._read_models = read_models

    def today(self) -> date:
        return self.now().date()

    # ------------------------------------------------------------------------- commands

    async def publish(self, meta: Metadata, command: PublishPolicy) -> Outcome[Policy]:
        """The first version (`command.new`) or the next one of a policy."""
        stream = policy_stream(meta.tenant, command.policy_id)
        return await self.decide(stream, policy, command, meta)

    async def retire(
        self, meta: Metadata, policy_id: str, retired_on: date, reason: str
    ) -> Outcome[Policy]:
        command = RetirePolicy(retired_on=retired_on, reason=reason)
        return await self.decide(policy_stream(meta.tenant, policy_id), policy, command, meta)

    async def remind(
        self, meta: Metadata, policy_id: str, site_id: str | None
    ) -> tuple[Outcome[Policy], tuple[str, ...]]:
        """Remind who the policy's current version binds (at `site_id`, if named) and who has
        not acknowledged it, as the read model knows them; the stream leaves out whoever has
        acknowledged, or was reminded today. Returns who was reminded."""
        doc = await self._read_models.get(
            PROJECTION, POLICIES, policy_doc_id(meta.tenant, policy_id)
        )
        owing: list[Document] = []
        if doc is not None and not doc["retired"]:
            staff = await self._staff(meta.tenant, site_id)
            owing = await self._owing(meta.tenant, doc, staff, site_id)
        command = RemindStaff(
            employee_ids=tuple(str(s["employee_id"]) for s in owing), reminded_on=self.today()
        )
        stream = policy_stream(meta.tenant, policy_id)
        outcome = await self.decide(stream, policy, command, meta)
        reminded = tuple(
            e for event in outcome.events if isinstance(event, PolicyAcknowledgementReminded)
            for e in event.employee_ids
        )  # fmt: skip
        return outcome, reminded

    async def acknowledge(
        self, meta: Metadata, policy_id: str, version: int, employee_id: str
    ) -> Outcome[Policy]:
        """An employee acknowledges a policy's current version: only someone staffing employs
        (403 otherwise: an acknowledgement is the employee's own)."""
        person = await self._read_models.get(PROJECTION, STAFF, f"{meta.tenant}:{employee_id}")
        if person is None or not person.get("active"):
            raise Forbidden("only an employee of the tenant acknowledges a policy")
        command = AcknowledgePolicy(
            policy_version=version, employee_id=employee_id, acknowledged_at=self.now()
        )
        return await self.decide(policy_stream(meta.tenant, policy_id), policy, command, meta)

    # ------------------------------------------------------------------------- queries

    async def one(self, tenant: str, policy_id: str) -> dict[str, Any] | None:
        doc = public(
            await self._read_models.get(PROJECTION, POLICIES, policy_doc_id(tenant, policy_id))
        )
        if doc is not None:
            doc.pop("tenant", None)
        return doc

    async def all(self, tenant: str, include_retired: bool) -> list[dict[str, Any]]:
        where: dict[str, Any] = {"tenant": tenant}
        if not include_retired:
            where["retired"] = False
        docs = await self._read_models.find(PROJECTION, POLICIES, where, sort=[("policy_id", 1)])
        found = []
        for doc in docs:
            row = public(doc) or {}
            row.pop("tenant", None)
            row.pop("body", None)  # the list names policies; one policy reads whole
            found.append(row)
        return found

    async def overdue(self, tenant: str, site_id: str | None) -> list[dict[str, Any]]:
        """Per policy in force whose acknowledgement is past due, the employed staff at the
        site (`None`: at any site) it binds who have not acknowledged its current version;
        oldest due first."""
        today = self.today()
        docs = await self._read_models.find(
            PROJECTION,
            POLICIES,
            {"tenant": tenant, "retired": False, "due_on": {"$lt": today.isoformat()}},
            sort=[("due_on", 1), ("policy_id", 1)],
        )
        if not docs:
            return []
        staff = await self._staff(tenant, site_id)
        rows: list[dict[str, Any]] = []
        for doc in docs:
            days = (today - date.fromisoformat(doc["due_on"])).days
            reminded = {r["employee_id"]: r["reminded_on"] for r in doc.get("reminders", ())}
            for person in await self._owing(tenant, doc, staff, site_id):
                rows.append(
                    {
                        "policy_id": doc["policy_id"],
                        "version": doc["version"],
                        "title": doc["title"],
                        "due_on": doc["due_on"],
                        "days_overdue": days,
                        "employee_id": person["employee_id"],
                        "employee_name": person.get("name"),
                        "role": person.get("role"),
                        "last_reminded_on": reminded.get(person["employee_id"]),
                    }
                )
        return rows

    async def _staff(self, tenant: str, site_id: str | None) -> list[Document]:
        """The tenant's employed staff (at `site_id`, if named)."""
        staff = await self._read_models.find(PROJECTION, STAFF, {"tenant": tenant, "active": True})
        return [s for s in staff if site_id is None or site_id in (s.get("site_ids") or ())]

    async def _owing(
        self, tenant: str, doc: Document, staff: list[Document], site_id: str | None
    ) -> list[Document]:
        """Of `staff`, who the policy's current version binds (its roles, at its sites: at
        `site_id` when named) and who has not acknowledged it, by employee id."""
        if site_id is not None and doc["site_ids"] and site_id not in doc["site_ids"]:
            return []
        bound = [
            s
            for s in staff
            if (not doc["roles"] or s.get("role") in doc["roles"])
            and (not doc["site_ids"] or set(doc["site_ids"]) & set(s.get("site_ids") or ()))
        ]
        if not bound:
            return []
        acks = await self._read_models.find(
            PROJECTION,
            ACKS,
            {"tenant": tenant, "policy_id": doc["policy_id"], "version": doc["version"]},
        )
        done = {a["employee_id"] for a in acks}
        return sorted(
            (s for s in bound if s["employee_id"] not in done), key=lambda s: str(s["employee_id"])
        )
