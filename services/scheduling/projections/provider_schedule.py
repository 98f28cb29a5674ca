"""A provider's day schedule: one document per provider and local date."""

from __future__ import annotations

from services.scheduling.domain.events import AppointmentBooked, AppointmentCancelled
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "scheduling.provider_schedule"
PROVIDER_DAYS = "provider_days"


def day_id(tenant: str, provider_id: str, day: str) -> str:
    return f"{tenant}:{provider_id}:{day}"


class ProviderScheduleProjection:
    name = PROJECTION
    contexts = ("scheduling",)
    collections = (PROVIDER_DAYS,)

    def keys(self, event: DomainEvent, envelope: Envelope) -> list[tuple[str, str]]:
        if not isinstance(event, AppointmentBooked | AppointmentCancelled):
            return []
        _, _, provider_id, day = envelope.stream.rsplit(":", 3)
        return [(PROVIDER_DAYS, day_id(envelope.tenant, provider_id, day))]

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        if not isinstance(event, AppointmentBooked | AppointmentCancelled):
            return
        # The provider-day stream id ends with the provider and the local date it covers.
        _, _, provider_id, day = envelope.stream.rsplit(":", 3)
        doc_id = day_id(envelope.tenant, provider_id, day)

        def change(doc: Document | None) -> Document:
            doc = doc or {
                "tenant": envelope.tenant,
                "provider_id": provider_id,
                "date": day,
                "appointments": [],
            }
            if isinstance(event, AppointmentBooked):
                doc["appointments"].append(
                    {
                        "appointment_id": event.appointment_id,
                        "patient_id": event.patient_id,
                        "site_id": event.site_id,
                        "room_id": event.room_id,
                        "visit_type_id": event.visit_type_id,
                        "start": event.start.isoformat(),
                        "end": event.end.isoformat(),
                        "status": "booked",
                    }
                )
                doc["appointments"].sort(key=lambda a: a["start"])
            else:
                for appointment in doc["appointments"]:
                    if appointment["appointment_id"] == event.appointment_id:
                        appointment["status"] = "cancelled"
            return doc

        await view.change(PROVIDER_DAYS, doc_id, envelope, change)
