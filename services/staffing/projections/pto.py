"""PTO balances per employee, listed per site, and each tenant's accrual rule (which the
accrual timer reads to find who is due).

A balance here is for listing and for finding due accruals; a request or an approval is decided
from the employee's time stream in the event store, never from this.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from services.staffing.domain.events import (
    EmployeeHired,
    EmployeeTerminated,
    JobChanged,
    PtoAccrued,
    PtoPolicySet,
    TimeOffApproved,
    TimeOffCancelled,
    TimeOffDenied,
    TimeOffRequested,
)
from services.staffing.domain.time_off import PtoPolicy
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View
from shared.readmodels import ReadModels, physical, public

PROJECTION = "staffing.pto"
BALANCES, MEMBERS, TENANTS = "pto_balances", "pto_site_members", "pto_tenants"
DEFAULT = PtoPolicy()


def balance_id(tenant: str, employee_id: str) -> str:
    return f"{tenant}:{employee_id}"


def member_id(tenant: str, site_id: str, employee_id: str) -> str:
    return f"{tenant}:{site_id}:{employee_id}"


def policy_of(doc: Document) -> PtoPolicy:
    return PtoPolicy(
        hours_per_period=doc.get("hours_per_period", DEFAULT.hours_per_period),
        period_days=doc.get("period_days", DEFAULT.period_days),
        anchor=date.fromisoformat(doc.get("anchor", DEFAULT.anchor.isoformat())),
        max_balance=doc.get("max_balance", DEFAULT.max_balance),
    )


def _totals(doc: Document) -> Document:
    requests = doc["requests"].values()
    pto = [r for r in requests if r["kind"] == "pto"]
    doc["approved"] = round(sum(r["hours"] for r in pto if r["status"] == "approved"), 2)
    doc["pending"] = round(sum(r["hours"] for r in pto if r["status"] == "requested"), 2)
    doc["balance"] = round(doc["accrued"] - doc["approved"], 2)
    return doc


def _blank(tenant: str, employee_id: str) -> Document:
    return {
        "tenant": tenant,
        "employee_id": employee_id,
        "role": None,
        "site_ids": [],
        "hired_on": "",
        "last_day": None,
        "accrued": 0.0,
        "accrued_through": "",
        "requests": {},
    }


class PtoProjection:
    name = PROJECTION
    contexts = ("staffing",)
    collections = (BALANCES, MEMBERS, TENANTS)
    handles = (
        EmployeeHired,
        JobChanged,
        EmployeeTerminated,
        TimeOffRequested,
        TimeOffApproved,
        TimeOffDenied,
        TimeOffCancelled,
        PtoAccrued,
        PtoPolicySet,
    )

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        tenant = envelope.tenant
        if isinstance(event, PtoPolicySet):
            fields = event.model_dump(mode="json")

            def set_policy(doc: Document | None) -> Document:
                return {**(doc or {}), "tenant": tenant, **fields}

            await view.change(TENANTS, tenant, envelope, set_policy)
            return
        employee_id: str = getattr(event, "employee_id", "")
        doc_id = balance_id(tenant, employee_id)
        if isinstance(event, EmployeeHired | JobChanged):
            await self._job(event, envelope, view, doc_id)
            return

        def change(doc: Document | None) -> Document | None:
            # The employee's stream and their time stream may reach this out of order.
            doc = doc or _blank(tenant, employee_id)
            if isinstance(event, EmployeeTerminated):
                doc["last_day"] = event.last_day.isoformat()
            elif isinstance(event, PtoAccrued):
                doc["accrued"] = round(doc["accrued"] + event.hours, 2)
                end = event.period_end.isoformat()
                doc["accrued_through"] = max(doc["accrued_through"], end)
            elif isinstance(event, TimeOffRequested):
                doc["requests"][event.request_id] = {
                    "kind": event.kind,
                    "hours": event.hours,
                    "status": "requested",
                }
            elif isinstance(event, TimeOffApproved | TimeOffDenied | TimeOffCancelled):
                request = doc["requests"].get(event.request_id)
                if request is None:
                    return None
                request["status"] = {
                    TimeOffApproved: "approved",
                    TimeOffDenied: "denied",
                    TimeOffCancelled: "cancelled",
                }[type(event)]
            return _totals(doc)

        await view.change(BALANCES, doc_id, envelope, change)

    async def _job(
        self, event: EmployeeHired | JobChanged, envelope: Envelope, view: View, doc_id: str
    ) -> None:
        tenant = envelope.tenant
        before = await view.get(BALANCES, doc_id)
        old_sites = set(before.get("site_ids", ())) if before else set()

        def job(doc: Document | None) -> Document:
            doc = doc or _blank(tenant, event.employee_id)
            if isinstance(event, EmployeeHired):
                doc["hired_on"] = doc["hired_on"] or event.hired_on.isoformat()
                doc["last_day"] = None  # a rehire
            doc["role"], doc["site_ids"], doc["fte"] = event.role, list(event.site_ids), event.fte
            doc["manager_id"] = event.manager_id
            return _totals(doc)

        await view.change(BALANCES, doc_id, envelope, job)
        for site_id in old_sites | set(event.site_ids):
            member = site_id in event.site_ids

            def membership(
                doc: Document | None, site_id: str = site_id, member: bool = member
            ) -> Document:
                return {
                    "tenant": tenant,
                    "site_id": site_id,
                    "employee_id": event.employee_id,
                    "member": member,
                }

            await view.change(
                MEMBERS, member_id(tenant, site_id, event.employee_id), envelope, membership
            )

        def known(doc: Document | None) -> Document | None:
            return None if doc else {"tenant": tenant}

        await view.change(TENANTS, tenant, envelope, known)


_SHOWN = ("employee_id", "role", "site_ids", "accrued", "approved", "pending", "balance")


async def site_balances(read_models: ReadModels, tenant: str, site_id: str) -> list[dict[str, Any]]:
    """The PTO balances of the site's employees, by employee id."""
    generation = await read_models.generation(PROJECTION)
    store = read_models.store
    members = await store.find(
        physical(MEMBERS, generation), {"tenant": tenant, "site_id": site_id, "member": True}
    )
    ids = [balance_id(tenant, m["employee_id"]) for m in members]
    docs = await store.get_many(physical(BALANCES, generation), ids)
    listed = []
    for doc_id in sorted(docs):
        doc = public(docs[doc_id]) or {}
        shown = {k: doc.get(k) for k in _SHOWN}
        shown["accrued_through"] = doc.get("accrued_through") or None
        listed.append(shown)
    return listed
