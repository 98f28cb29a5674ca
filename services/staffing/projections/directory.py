"""Employees as the API and the FHIR views read them, and the staff directory per site.

- `employees`: one document per employee: job, status, leave, termination, provider details
  and credentials (for FHIR Practitioner qualifications). No personal data.
- `personal`: one document per employee: their personal details as sealed (the API opens them
  for the callers allowed to see them), merged field by field as they are recorded.
- `site_staff`: one document per employee and site they work or worked at, `listed` while the
  site is among their job's sites: what `GET /staffing/sites/{site_id}/staff` reads.

Credential events come from other streams than the employee's and may arrive first: they are
kept on a document the hire then completes.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from services.staffing.domain.events import (
    PROVIDER_ROLES,
    CredentialRecorded,
    CredentialRenewed,
    CredentialRevoked,
    CredentialVerified,
    EmployeeHired,
    EmployeeTerminated,
    JobChanged,
    LeaveEnded,
    LeaveStarted,
    PersonalDataForgotten,
    PersonalDetailsRecorded,
    ProviderDetailsRecorded,
)
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "staffing.directory"
EMPLOYEES, PERSONAL, SITE_STAFF = "employees", "personal", "site_staff"
PERSONAL_FIELDS = ("home_address", "phone", "emergency_contact", "birth_date")
# What the directory shows of each employee at a site.
LISTED_FIELDS = ("name", "title", "role", "fte", "manager_id", "status", "last_day", "npi")

JOB_EVENTS = (EmployeeHired, JobChanged, LeaveStarted, LeaveEnded, EmployeeTerminated)
CREDENTIAL_EVENTS = (CredentialRecorded, CredentialRenewed, CredentialVerified, CredentialRevoked)


def employee_doc_id(tenant: str, employee_id: str) -> str:
    return f"{tenant}:{employee_id}"


def site_staff_id(tenant: str, site_id: str, employee_id: str) -> str:
    return f"{tenant}:{site_id}:{employee_id}"


def _new_employee(tenant: str, employee_id: str) -> Document:
    return {"tenant": tenant, "employee_id": employee_id, "hired": False, "credentials": {}}


def _apply_job(doc: Document, event: DomainEvent) -> None:
    match event:
        case EmployeeHired():
            fields = event.model_dump(mode="json", exclude={"employee_id"})
            doc.update(fields, hired=True, status="active", leave=None, last_day=None)
            doc.pop("termination_reason", None)
        case JobChanged():
            doc.update(event.model_dump(mode="json", exclude={"employee_id"}))
        case LeaveStarted():
            doc.update(status="on_leave", leave=event.model_dump(mode="json"))
        case LeaveEnded():
            if doc.get("status") == "on_leave":
                doc["status"] = "active"
            doc["leave"] = None
        case EmployeeTerminated():
            doc.update(
                status="terminated",
                leave=None,
                last_day=event.last_day.isoformat(),
                termination_reason=event.reason,
            )
    if doc.get("role") in PROVIDER_ROLES:
        doc["practitioner"] = True  # once a provider, a Practitioner for good: visits name them


def _apply_credential(doc: Document, event: DomainEvent) -> None:
    credentials: dict[str, Any] = doc.setdefault("credentials", {})
    if isinstance(event, CredentialRecorded):
        credentials[event.credential_id] = event.model_dump(
            mode="json", exclude={"credential_id", "employee_id"}
        )
        return
    credential = credentials.get(getattr(event, "credential_id", ""))
    if credential is None:
        return  # recorded on a stream whose first event has not arrived: it will
    match event:
        case CredentialRenewed():
            credential["expires_on"] = event.expires_on.isoformat()
        case CredentialRevoked():
            credential["invalid_from"] = _earliest(credential, event.effective_on.isoformat())
        case CredentialVerified():
            credential["verification"] = event.result
            if event.result == "failed":
                day = event.verified_at.date().isoformat()
                credential["invalid_from"] = _earliest(credential, day)


def _earliest(credential: dict[str, Any], day: str) -> str:
    current = credential.get("invalid_from")
    return day if current is None or day < current else current


def valid_until(credential: dict[str, Any]) -> str | None:
    """The last day a credential is valid on (ISO), or None when it does not end."""
    ends = [credential["expires_on"]] if credential.get("expires_on") else []
    if credential.get("invalid_from"):
        ends.append(
            (date.fromisoformat(credential["invalid_from"]) - timedelta(days=1)).isoformat()
        )
    return min(ends) if ends else None


class DirectoryProjection:
    name = PROJECTION
    contexts = ("staffing",)
    collections = (EMPLOYEES, PERSONAL, SITE_STAFF)
    handles = (
        *JOB_EVENTS,
        ProviderDetailsRecorded,
        PersonalDetailsRecorded,
        PersonalDataForgotten,
        *CREDENTIAL_EVENTS,
    )

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        tenant = envelope.tenant
        employee_id: str = getattr(event, "employee_id", "")
        doc_id = employee_doc_id(tenant, employee_id)
        before = await view.get(EMPLOYEES, doc_id)
        sites_before = list(before.get("site_ids", ())) if before else []

        if isinstance(event, PersonalDetailsRecorded | PersonalDataForgotten):
            await self._personal(event, envelope, view, doc_id)

        def change(doc: Document | None) -> Document:
            doc = doc or _new_employee(tenant, employee_id)
            if isinstance(event, JOB_EVENTS):
                _apply_job(doc, event)
            elif isinstance(event, ProviderDetailsRecorded):
                doc["provider"] = event.model_dump(mode="json", exclude={"employee_id"})
                doc["npi"] = event.npi
                doc["practitioner"] = True
            elif isinstance(event, CREDENTIAL_EVENTS):
                _apply_credential(doc, event)
            elif isinstance(event, PersonalDataForgotten):
                doc["personal_forgotten"] = True
            else:
                doc["personal_recorded"] = True  # and read-your-writes sees it here
            return doc

        await view.change(EMPLOYEES, doc_id, envelope, change)
        if isinstance(event, (*JOB_EVENTS, ProviderDetailsRecorded)):
            after = await view.get(EMPLOYEES, doc_id)
            if after is not None and after.get("hired"):
                await self._list(view, envelope, after, sites_before)

    async def _personal(
        self,
        event: PersonalDetailsRecorded | PersonalDataForgotten,
        envelope: Envelope,
        view: View,
        doc_id: str,
    ) -> None:
        def change(doc: Document | None) -> Document:
            doc = doc or {"tenant": envelope.tenant, "employee_id": event.employee_id}
            if isinstance(event, PersonalDataForgotten):
                doc["forgotten"] = True
                return doc
            sealed = event.model_dump(mode="json", include=set(PERSONAL_FIELDS))
            doc.update({k: v for k, v in sealed.items() if v is not None})
            return doc

        await view.change(PERSONAL, doc_id, envelope, change)

    async def _list(
        self, view: View, envelope: Envelope, employee: Document, sites_before: list[str]
    ) -> None:
        """Keep the employee's line in each site's directory: listed at their job's sites."""
        now_at = list(employee.get("site_ids", ()))
        shown = {k: employee.get(k) for k in LISTED_FIELDS}
        for site_id in dict.fromkeys([*sites_before, *now_at]):

            def line(_: Document | None, site_id: str = site_id) -> Document:
                return {
                    "tenant": envelope.tenant,
                    "site_id": site_id,
                    "employee_id": employee["employee_id"],
                    **shown,
                    "listed": site_id in now_at,
                }

            doc_id = site_staff_id(envelope.tenant, site_id, employee["employee_id"])
            await view.change(SITE_STAFF, doc_id, envelope, line)
