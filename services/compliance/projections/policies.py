"""Policies and who must acknowledge them: each policy's current version, each
acknowledgement, and the tenant's staff (role, sites, employed or not).

Staff come from staffing's events as they arrived (`AsReceived`: compliance has none of
staffing's classes): `EmployeeHired`, `JobChanged` and `EmployeeTerminated`, read by type name
(any version) and by the fields their contract publishes (`employee_id`, `role`, `site_ids`,
`name`). Whether an acknowledgement is overdue depends on today, so the queries decide it
(application/policies.py), never the projection.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "compliance.policies"
POLICIES = "policies"
ACKS = "policy_acknowledgements"
STAFF = "policy_staff"

HIRED, JOB_CHANGED, TERMINATED = "EmployeeHired", "JobChanged", "EmployeeTerminated"
PUBLISHED, ACKNOWLEDGED, RETIRED = "PolicyPublished", "PolicyAcknowledged", "PolicyRetired"
REMINDED = "PolicyAcknowledgementReminded"


def policy_doc_id(tenant: str, policy_id: str) -> str:
    return f"{tenant}:{policy_id}"


def _name(envelope: Envelope) -> str:
    """`medoffice.<context>.<Name>.v<n>` -> Name (any version)."""
    parts = envelope.type.split(".")
    return parts[2] if len(parts) == 4 else ""


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list | tuple) else []


class PoliciesProjection:
    name = PROJECTION
    contexts = ("staffing", "compliance")
    collections = (POLICIES, ACKS, STAFF)

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        """`event` is not looked at (`shared.events.AsReceived` hands over any type)."""
        data, kind = envelope.data, _name(envelope)
        if envelope.context == "staffing" and kind in (HIRED, JOB_CHANGED, TERMINATED):
            employee_id = data.get("employee_id")
            if isinstance(employee_id, str):
                await self._staff(view, envelope, kind, employee_id)
        elif envelope.context == "compliance" and kind in (
            PUBLISHED,
            ACKNOWLEDGED,
            REMINDED,
            RETIRED,
        ):
            policy_id = data.get("policy_id")
            if isinstance(policy_id, str):
                await self._policy(view, envelope, kind, policy_id)

    async def _staff(self, view: View, envelope: Envelope, kind: str, employee_id: str) -> None:
        data, tenant = envelope.data, envelope.tenant

        def change(doc: Document | None) -> Document:
            doc = doc or {
                "tenant": tenant,
                "employee_id": employee_id,
                "name": None,
                "role": None,
                "site_ids": [],
                "active": False,
            }
            if kind == TERMINATED:
                doc["active"] = False
                return doc
            doc.update(role=data.get("role"), site_ids=_strings(data.get("site_ids")), active=True)
            if isinstance(data.get("name"), str):
                doc["name"] = data["name"]
            return doc

        await view.change(STAFF, f"{tenant}:{employee_id}", envelope, change)

    async def _policy(self, view: View, envelope: Envelope, kind: str, policy_id: str) -> None:
        data, tenant = envelope.data, envelope.tenant

        def change(doc: Document | None) -> Document | None:
            if kind == PUBLISHED:
                effective_on = date.fromisoformat(data["effective_on"])
                within = int(data["acknowledge_within_days"])
                return {
                    "tenant": tenant,
                    "policy_id": policy_id,
                    "version": data["policy_version"],
                    "title": data["title"],
                    "body": data.get("body"),
                    "document_url": data.get("document_url"),
                    "document_sha256": data.get("document_sha256"),
                    "effective_on": effective_on.isoformat(),
                    "roles": _strings(data.get("roles")),
                    "site_ids": _strings(data.get("site_ids")),
                    "acknowledge_within_days": within,
                    "due_on": (effective_on + timedelta(days=within)).isoformat(),
                    "published_at": envelope.time.isoformat(),
                    "acknowledgements": 0,
                    "reminders": [],  # of this version: [{employee_id, reminded_on}], latest
                    "retired": False,
                    "retired_on": None,
                }
            if doc is None:
                return None  # the stream's first event is the publication: never happens
            if kind == ACKNOWLEDGED and data.get("policy_version") == doc["version"]:
                doc["acknowledgements"] += 1
            elif kind == REMINDED and data.get("policy_version") == doc["version"]:
                reminded = set(_strings(data.get("employee_ids")))
                doc["reminders"] = [
                    *(r for r in doc["reminders"] if r["employee_id"] not in reminded),
                    *(
                        {"employee_id": e, "reminded_on": data.get("reminded_on")}
                        for e in sorted(reminded)
                    ),
                ]
            elif kind == RETIRED:
                doc.update(retired=True, retired_on=data.get("retired_on"))
            return doc

        await view.change(POLICIES, policy_doc_id(tenant, policy_id), envelope, change)
        if kind == ACKNOWLEDGED:
            version, employee_id = data.get("policy_version"), data.get("employee_id")

            def acknowledged(_: Document | None) -> Document:
                return {
                    "tenant": tenant,
                    "policy_id": policy_id,
                    "version": version,
                    "employee_id": employee_id,
                    "acknowledged_at": data.get("acknowledged_at"),
                }

            doc_id = f"{tenant}:{policy_id}:{version}:{employee_id}"
            await view.change(ACKS, doc_id, envelope, acknowledged)
