"""Appointments by id: where each one lives (its site-day stream), its status and its visit.

Also serves a patient's appointment history (by patient_id). An appointment moved to another
day has events in two streams; only the stream it lives in now may change it, whichever of
the two the bus delivers first.
"""

from __future__ import annotations

from typing import Any

from services.scheduling.domain import streams
from services.scheduling.domain.events import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentConfirmed,
    AppointmentMovedOut,
    AppointmentNoShow,
    AppointmentRescheduled,
    AppointmentWithdrawn,
    PatientCheckedIn,
    PatientRoomed,
    VisitCompleted,
)
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "scheduling.appointments"
APPOINTMENTS = "appointments"

APPOINTMENT_EVENTS = (
    AppointmentBooked,
    AppointmentRescheduled,
    AppointmentMovedOut,
    AppointmentWithdrawn,
    AppointmentCancelled,
    AppointmentConfirmed,
    PatientCheckedIn,
    PatientRoomed,
    VisitCompleted,
    AppointmentNoShow,
)


def changes(event: DomainEvent) -> dict[str, Any]:
    """What a lifecycle event changes on an appointment (booking aside). Times are kept as
    the events write them in JSON (UTC, `Z`), so that they sort as text."""
    fields = event.model_dump(mode="json")
    match event:
        case AppointmentRescheduled():
            keep = ("provider_id", "room_id", "start", "end", "rescheduled_at")
            return {k: fields[k] for k in keep}
        case AppointmentMovedOut():
            return {"status": "moved", "moved_to": event.to_stream}
        case AppointmentWithdrawn():
            return {"status": "withdrawn"}
        case AppointmentCancelled():
            return {
                "status": "cancelled",
                "cancel_reason": fields["reason"],  # sealed PHI, opened by the API
                "cancelled_at": fields["cancelled_at"],
                "late_cancellation": event.late,
            }
        case AppointmentConfirmed():
            return {"confirmed_at": fields["confirmed_at"]}
        case PatientCheckedIn():
            return {"status": "checked_in", "checked_in_at": fields["checked_in_at"]}
        case PatientRoomed():
            return {
                "status": "in_room",
                "room_id": event.room_id,
                "roomed_at": fields["roomed_at"],
            }
        case VisitCompleted():
            return {
                "status": "completed",
                "completed_at": fields["completed_at"],
                "procedures": list(event.procedures),
                "diagnoses": list(event.diagnoses),
            }
        case AppointmentNoShow():
            return {
                "status": "no_show",
                "no_show_at": fields["recorded_at"],
                "no_show_automatic": event.automatic,
            }
    return {}


def booked_entry(event: AppointmentBooked, stream: str) -> dict[str, Any]:
    _, day = streams.site_day_parts(stream)
    return {
        "appointment_id": event.appointment_id,
        "stream": stream,
        "date": day,
        "status": "booked",
        **event.model_dump(mode="json", exclude={"appointment_id"}),
    }


class AppointmentsProjection:
    name = PROJECTION
    contexts = ("scheduling",)
    collections = (APPOINTMENTS,)
    handles = APPOINTMENT_EVENTS

    def keys(self, event: DomainEvent, envelope: Envelope) -> list[tuple[str, str]]:
        if isinstance(event, APPOINTMENT_EVENTS):
            return [(APPOINTMENTS, _id(envelope, event.appointment_id))]
        return []

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        if not isinstance(event, APPOINTMENT_EVENTS):
            return
        doc_id = _id(envelope, event.appointment_id)
        if isinstance(event, AppointmentBooked):
            booked = event

            def book(doc: Document | None) -> Document | None:
                if doc is not None and booked.rescheduled_from is None:
                    return None  # booked before; a redelivery under another stream version
                entry = {"tenant": envelope.tenant, **booked_entry(booked, envelope.stream)}
                if doc is not None:  # moved here from another day: keep what happened before
                    entry["moved_from"] = booked.rescheduled_from
                    entry["_seen"] = doc.get("_seen", {})
                return entry

            await view.change(APPOINTMENTS, doc_id, envelope, book)
            return
        update = changes(event)

        def change(doc: Document | None) -> Document | None:
            if doc is None or doc["stream"] != envelope.stream:
                return None  # it lives in another day's stream now
            doc.update(update)
            return doc

        await view.change(APPOINTMENTS, doc_id, envelope, change)


def _id(envelope: Envelope, appointment_id: str) -> str:
    return f"{envelope.tenant}:{appointment_id}"
