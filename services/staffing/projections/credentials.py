"""Credentials and payer enrolments, for listing, the expiring list and the daily sweep.

`credentials`: one document per credential: what was recorded, its current last valid day,
whether it is revoked, its latest verification, the first day it is invalid (revoked or failed
verification), and `next_reminder_on`, the day its next expiry reminder falls due (None: no
more), which the sweep queries. `credential_holders`: one per employee, from the employee
stream's contract events: name, sites, role and whether employed, joined to credentials when
listed (a manager sees the holders at their sites only). `enrolments`: one per provider and
payer, its latest status. None of these events hold PHI.
"""

from __future__ import annotations

from datetime import date
from typing import Any, get_args

from services.staffing.domain.credentials import next_reminder_on
from services.staffing.domain.events import (
    CredentialExpiryReminded,
    CredentialRecorded,
    CredentialRenewed,
    CredentialRevoked,
    CredentialVerified,
    EmployeeHired,
    EmployeeTerminated,
    JobChanged,
    PayerEnrolmentChanged,
)
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import Change, View

PROJECTION = "staffing.credentials"
CREDENTIALS = "credentials"
HOLDERS = "credential_holders"

ENROLMENTS_PROJECTION = "staffing.enrolments"
ENROLMENTS = "enrolments"

_Holder = EmployeeHired | JobChanged | EmployeeTerminated
_Credential = (
    CredentialRecorded
    | CredentialRenewed
    | CredentialVerified
    | CredentialRevoked
    | CredentialExpiryReminded
)


def doc_id(tenant: str, some_id: str) -> str:
    return f"{tenant}:{some_id}"


def _reminded(doc: Document) -> frozenset[tuple[date, int]]:
    return frozenset(
        (date.fromisoformat(r["expires_on"]), int(r["threshold_days"]))
        for r in doc.get("reminded", [])
    )


def _refresh(doc: Document) -> Document:
    """The fields derived from the others: when the next reminder is due, and from which day
    the credential is invalid."""
    expires = doc.get("expires_on")
    doc["next_reminder_on"] = (
        None
        if doc.get("revoked_on") is not None or expires is None
        else _text(next_reminder_on(date.fromisoformat(expires), _reminded(doc)))
    )
    verification = doc.get("last_verification") or {}
    days = [doc.get("revoked_on")]
    if verification.get("result") == "failed":
        days.append(verification["verified_at"][:10])
    present = [d for d in days if d is not None]
    doc["invalid_from"] = min(present) if present else None
    return doc


def _text(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


class CredentialsProjection:
    name = PROJECTION
    contexts = ("staffing",)
    collections = (CREDENTIALS, HOLDERS)
    handles: tuple[type[DomainEvent], ...] = (*get_args(_Holder), *get_args(_Credential))

    def keys(self, event: DomainEvent, envelope: Envelope) -> list[tuple[str, str]]:
        if isinstance(event, _Holder):
            return [(HOLDERS, doc_id(envelope.tenant, event.employee_id))]
        if isinstance(event, _Credential):
            return [(CREDENTIALS, doc_id(envelope.tenant, event.credential_id))]
        return []

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        tenant = envelope.tenant
        if isinstance(event, _Holder):
            await view.change(
                HOLDERS, doc_id(tenant, event.employee_id), envelope, _holder(tenant, event)
            )
            return
        if not isinstance(event, _Credential):
            return
        key = doc_id(tenant, event.credential_id)
        fields = event.model_dump(mode="json")
        if isinstance(event, CredentialRecorded):

            def record(_: Document | None) -> Document:
                return _refresh(
                    {
                        "tenant": tenant,
                        "stream": envelope.stream,
                        **fields,
                        "revoked_on": None,
                        "revocation_reason": None,
                        "last_verification": None,
                        "reminded": [],
                        "renewals": 0,
                    }
                )

            await view.change(CREDENTIALS, key, envelope, record)
            return
        await view.change(CREDENTIALS, key, envelope, _credential_change(event, fields))


def _holder(tenant: str, event: _Holder) -> Change:
    def change(doc: Document | None) -> Document | None:
        if isinstance(event, EmployeeHired):
            return {
                "tenant": tenant,
                "employee_id": event.employee_id,
                "name": event.name,
                "role": event.role,
                "site_ids": list(event.site_ids),
                "manager_id": event.manager_id,
                "employed": True,
            }
        if doc is None:
            return None
        if isinstance(event, JobChanged):
            doc.update(role=event.role, site_ids=list(event.site_ids), manager_id=event.manager_id)
        else:
            doc["employed"] = False
        return doc

    return change


def _credential_change(event: _Credential, fields: dict[str, Any]) -> Change:
    def change(doc: Document | None) -> Document | None:
        if doc is None:
            return None
        match event:
            case CredentialRenewed():
                doc["expires_on"] = fields["expires_on"]
                doc["renewals"] = int(doc.get("renewals", 0)) + 1
            case CredentialVerified():
                doc["last_verification"] = {
                    k: fields[k] for k in ("source", "verified_by", "verified_at", "result", "note")
                }
            case CredentialRevoked():
                doc["revoked_on"] = fields["effective_on"]
                doc["revocation_reason"] = fields["reason"]
            case CredentialExpiryReminded():
                # Objects, not pairs: FerretDB 1.x stores no nested arrays.
                reminded = {
                    "expires_on": fields["expires_on"],
                    "threshold_days": event.threshold_days,
                }
                doc["reminded"] = [*doc.get("reminded", []), reminded]
                doc["last_reminder"] = {
                    "threshold_days": event.threshold_days,
                    "reminded_on": fields["reminded_on"],
                }
        return _refresh(doc)

    return change


class EnrolmentsProjection:
    name = ENROLMENTS_PROJECTION
    contexts = ("staffing",)
    collections = (ENROLMENTS,)
    handles: tuple[type[DomainEvent], ...] = (PayerEnrolmentChanged,)

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        if not isinstance(event, PayerEnrolmentChanged):
            return
        tenant = envelope.tenant
        fields = event.model_dump(mode="json")
        changed = {
            "status": event.status,
            "effective_from": fields["effective_from"],
            "effective_until": fields["effective_until"],
            "changed_at": envelope.time.isoformat(),
        }

        def change(doc: Document | None) -> Document:
            history = [*(doc or {}).get("history", []), changed]
            return {"tenant": tenant, "stream": envelope.stream, **fields, "history": history}

        key = doc_id(tenant, f"{event.employee_id}:{event.payer_id}")
        await view.change(ENROLMENTS, key, envelope, change)
