"""Appointments by id: where each one lives, and its current status."""

from __future__ import annotations

from services.scheduling.domain.events import AppointmentBooked, AppointmentCancelled
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "scheduling.appointments"
APPOINTMENTS = "appointments"


class AppointmentsProjection:
    name = PROJECTION
    contexts = ("scheduling",)
    collections = (APPOINTMENTS,)

    def keys(self, event: DomainEvent, envelope: Envelope) -> list[tuple[str, str]]:
        if isinstance(event, AppointmentBooked | AppointmentCancelled):
            return [(APPOINTMENTS, _id(envelope, event.appointment_id))]
        return []

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        match event:
            case AppointmentBooked():
                booked = event

                def book(_: Document | None) -> Document:
                    return {
                        "tenant": envelope.tenant,
                        "appointment_id": booked.appointment_id,
                        "stream": envelope.stream,
                        "status": "booked",
                        **booked.model_dump(mode="json", exclude={"appointment_id"}),
                    }

                doc_id = _id(envelope, booked.appointment_id)
                await view.change(APPOINTMENTS, doc_id, envelope, book)
            case AppointmentCancelled():
                cancelled = event

                def cancel(doc: Document | None) -> Document | None:
                    if doc is None:
                        return None
                    fields = cancelled.model_dump(mode="json")
                    doc.update(
                        status="cancelled",
                        cancel_reason=fields["reason"],  # sealed PHI, opened by the API
                        cancelled_at=cancelled.cancelled_at.isoformat(),
                    )
                    return doc

                await view.change(
                    APPOINTMENTS, _id(envelope, cancelled.appointment_id), envelope, cancel
                )


def _id(envelope: Envelope, appointment_id: str) -> str:
    return f"{envelope.tenant}:{appointment_id}"
