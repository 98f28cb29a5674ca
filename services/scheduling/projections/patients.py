"""Patients by id: demographics, coverages and intakes as stored (sealed PHI, opened by the API),
and whether forgotten."""

from __future__ import annotations

from services.scheduling.domain.events import (
    CoverageRecorded,
    IntakeRecorded,
    PatientForgotten,
    PatientRegistered,
)
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "scheduling.patients"
PATIENTS = "patients"
PHI_FIELDS = ("name", "birth_date", "phone", "email", "address", "sex")
COVERAGE_PHI = ("member_id", "subscriber_name")
INTAKE_PHI = ("reason_for_visit", "answers")


class PatientsProjection:
    name = PROJECTION
    contexts = ("scheduling",)
    collections = (PATIENTS,)
    handles = (PatientRegistered, PatientForgotten, CoverageRecorded, IntakeRecorded)

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        doc_id = f"{envelope.tenant}:{getattr(event, 'patient_id', '')}"
        if isinstance(event, PatientRegistered):
            fields = event.model_dump(mode="json")

            def register(_: Document | None) -> Document:
                return {
                    "tenant": envelope.tenant,
                    "forgotten": False,
                    **fields,
                    "coverages": [],
                    "intakes": [],
                }

            await view.change(PATIENTS, doc_id, envelope, register)
        elif isinstance(event, PatientForgotten):
            forgotten_at = event.forgotten_at.isoformat()

            def forget(doc: Document | None) -> Document | None:
                if doc is None:
                    return None
                doc.update(forgotten=True, forgotten_at=forgotten_at)
                return doc

            await view.change(PATIENTS, doc_id, envelope, forget)
        elif isinstance(event, CoverageRecorded):
            # The coverages in force, by priority: one recorded again (its id) is updated, and
            # the latest at a priority replaces any other there. Sealed PHI stays sealed.
            coverage = event.model_dump(mode="json", exclude={"patient_id"})

            def cover(doc: Document | None) -> Document | None:
                if doc is None:
                    return None
                kept = [
                    c
                    for c in doc.get("coverages", [])
                    if c["coverage_id"] != event.coverage_id
                    and c.get("priority", 1) != event.priority
                ]
                doc["coverages"] = sorted([*kept, coverage], key=lambda c: c.get("priority", 1))
                return doc

            await view.change(PATIENTS, doc_id, envelope, cover)
        elif isinstance(event, IntakeRecorded):
            # Documents of patients registered before intake existed get their list on first use.
            entry = event.model_dump(mode="json", exclude={"patient_id"})

            def add(doc: Document | None) -> Document | None:
                if doc is None:
                    return None
                doc.setdefault("intakes", []).append(entry)
                return doc

            await view.change(PATIENTS, doc_id, envelope, add)
