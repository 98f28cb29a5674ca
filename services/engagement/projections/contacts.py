"""Where a message reaches a patient: the e-mail address and phone number scheduling
registered them with (`PatientRegistered`), kept sealed as they came (PHI under the patient's
key): they are opened only to send, and read back redacted once the patient is forgotten."""

from __future__ import annotations

from services.scheduling.contracts import PatientRegistered
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "engagement.contacts"
CONTACTS = "engagement_contacts"


def contact_id(tenant: str, patient_id: str) -> str:
    return f"{tenant}:{patient_id}"


class ContactsProjection:
    name = PROJECTION
    contexts = ("scheduling",)
    collections = (CONTACTS,)
    handles: tuple[type[DomainEvent], ...] = (PatientRegistered,)

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        if not isinstance(event, PatientRegistered):
            return
        fields = event.model_dump(mode="json", include={"patient_id", "email", "phone"})

        def change(doc: Document | None) -> Document:
            return {"tenant": envelope.tenant, **fields}

        await view.change(CONTACTS, contact_id(envelope.tenant, event.patient_id), envelope, change)
