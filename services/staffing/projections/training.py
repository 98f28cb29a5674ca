"""Training compliance: each assignment as a document (course, due date, completion and its
evidence), and the staff it concerns (role, sites, employed or not), kept from the employee
streams' contract events. Whether an open assignment is overdue depends on today, so queries
decide it (application/training.py), never the projection: replaying it changes nothing.

A staff document also marks the training record's events it has seen (counts of assignments and
completions), so a read after a write to someone's training waits on it.
"""

from __future__ import annotations

from typing import get_args

from services.staffing.domain.events import (
    EmployeeHired,
    EmployeeTerminated,
    JobChanged,
    TrainingAssigned,
    TrainingCompleted,
)
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "staffing.training"
STAFF = "training_staff"
ASSIGNMENTS = "training_assignments"

_Staff = EmployeeHired | JobChanged | EmployeeTerminated
_Training = TrainingAssigned | TrainingCompleted


def staff_id(tenant: str, employee_id: str) -> str:
    return f"{tenant}:{employee_id}"


def assignment_id(tenant: str, assignment: str) -> str:
    return f"{tenant}:{assignment}"


class TrainingProjection:
    name = PROJECTION
    contexts = ("staffing",)
    collections = (STAFF, ASSIGNMENTS)
    handles: tuple[type[DomainEvent], ...] = (*get_args(_Staff), *get_args(_Training))

    def keys(self, event: DomainEvent, envelope: Envelope) -> list[tuple[str, str]]:
        keys: list[tuple[str, str]] = []
        if isinstance(event, _Staff | _Training):
            keys.append((STAFF, staff_id(envelope.tenant, event.employee_id)))
        if isinstance(event, _Training):
            keys.append((ASSIGNMENTS, assignment_id(envelope.tenant, event.assignment_id)))
        return keys

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        if not isinstance(event, _Staff | _Training):
            return
        tenant, seen = envelope.tenant, event

        def staff(doc: Document | None) -> Document:
            doc = doc or {
                "tenant": tenant,
                "employee_id": seen.employee_id,
                "name": None,
                "role": None,
                "site_ids": [],
                "manager_id": None,
                "active": False,
                "assigned": 0,
                "completed": 0,
            }
            match seen:
                case EmployeeHired() | JobChanged():
                    doc.update(
                        role=seen.role, site_ids=list(seen.site_ids), manager_id=seen.manager_id
                    )
                    if isinstance(seen, EmployeeHired):
                        doc.update(name=seen.name, active=True)
                case EmployeeTerminated():
                    doc.update(active=False, last_day=seen.last_day.isoformat())
                case TrainingAssigned():
                    doc["assigned"] += 1
                case TrainingCompleted():
                    doc["completed"] += 1
            return doc

        await view.change(STAFF, staff_id(tenant, event.employee_id), envelope, staff)
        if not isinstance(event, _Training):
            return
        done = event

        def assignment(doc: Document | None) -> Document | None:
            if isinstance(done, TrainingAssigned):
                return {
                    "tenant": tenant,
                    "stream": envelope.stream,
                    "status": "open",
                    "completed_on": None,
                    "evidence": None,
                    **done.model_dump(mode="json"),
                }
            if doc is None:  # a record's events arrive in order: never the case
                return None
            doc.update(
                status="completed",
                completed_on=done.completed_on.isoformat(),
                evidence=done.evidence,
                recorded_by=done.recorded_by,
            )
            return doc

        await view.change(
            ASSIGNMENTS, assignment_id(tenant, event.assignment_id), envelope, assignment
        )
