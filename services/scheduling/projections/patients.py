"""Patients by id: demographics as stored (sealed PHI, opened by the API), and whether forgotten."""

from __future__ import annotations

from services.scheduling.domain.events import PatientForgotten, PatientRegistered
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "scheduling.patients"
PATIENTS = "patients"
PHI_FIELDS = ("name", "birth_date", "phone")


class PatientsProjection:
    name = PROJECTION
    contexts = ("scheduling",)
    collections = (PATIENTS,)

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        if isinstance(event, PatientRegistered):
            fields = event.model_dump(mode="json")

            def register(_: Document | None) -> Document:
                return {"tenant": envelope.tenant, "forgotten": False, **fields}

            await view.change(PATIENTS, f"{envelope.tenant}:{event.patient_id}", envelope, register)
        elif isinstance(event, PatientForgotten):
            forgotten_at = event.forgotten_at.isoformat()

            def forget(doc: Document | None) -> Document | None:
                if doc is None:
                    return None
                doc.update(forgotten=True, forgotten_at=forgotten_at)
                return doc

            await view.change(PATIENTS, f"{envelope.tenant}:{event.patient_id}", envelope, forget)
