"""Day views: the front desk's board of a site's day, and each provider's day schedule.

Both are one document per day holding that day's appointments in start order, each with its
current status; the board also counts them by status (expected, arrived, in room, ...).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from services.scheduling.domain import streams
from services.scheduling.domain.events import AppointmentBooked, AppointmentRescheduled
from services.scheduling.projections.appointments import APPOINTMENT_EVENTS, booked_entry, changes
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

BOARD_PROJECTION = "scheduling.site_board"
SITE_DAYS = "site_days"
SCHEDULE_PROJECTION = "scheduling.provider_schedule"
PROVIDER_DAYS = "provider_days"

ENTRY_FIELDS = (
    "appointment_id",
    "patient_id",
    "provider_id",
    "site_id",
    "room_id",
    "visit_type_id",
    "start",
    "end",
    "status",
    "series_id",
    "late_cancellation",
)


def site_day_id(tenant: str, site_id: str, day: str) -> str:
    return f"{tenant}:{site_id}:{day}"


def provider_day_id(tenant: str, provider_id: str, day: str) -> str:
    return f"{tenant}:{provider_id}:{day}"


def _entry(event: AppointmentBooked, stream: str) -> dict[str, Any]:
    full = booked_entry(event, stream)
    return {k: full.get(k) for k in ENTRY_FIELDS}


def _upsert(doc: Document, entry: dict[str, Any]) -> None:
    rest = [a for a in doc["appointments"] if a["appointment_id"] != entry["appointment_id"]]
    doc["appointments"] = sorted([*rest, entry], key=lambda a: a["start"])


GONE = ("moved", "withdrawn")  # no longer an appointment of that day


def _update(doc: Document, appointment_id: str, update: dict[str, Any]) -> dict[str, Any] | None:
    if update.get("status") in GONE:
        doc["appointments"] = [
            a for a in doc["appointments"] if a["appointment_id"] != appointment_id
        ]
        return None
    for entry in doc["appointments"]:
        if entry["appointment_id"] == appointment_id:
            entry.update({k: v for k, v in update.items() if k in ENTRY_FIELDS})
            doc["appointments"].sort(key=lambda a: a["start"])
            return dict(entry)
    return None


class SiteBoardProjection:
    name = BOARD_PROJECTION
    contexts = ("scheduling",)
    collections = (SITE_DAYS,)
    handles = APPOINTMENT_EVENTS

    def keys(self, event: DomainEvent, envelope: Envelope) -> list[tuple[str, str]]:
        if not isinstance(event, APPOINTMENT_EVENTS):
            return []
        site_id, day = streams.site_day_parts(envelope.stream)
        return [(SITE_DAYS, site_day_id(envelope.tenant, site_id, day))]

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        if not isinstance(event, APPOINTMENT_EVENTS):
            return
        site_id, day = streams.site_day_parts(envelope.stream)
        update = changes(event)

        def change(doc: Document | None) -> Document:
            doc = doc or {
                "tenant": envelope.tenant,
                "site_id": site_id,
                "date": day,
                "appointments": [],
            }
            if isinstance(event, AppointmentBooked):
                _upsert(doc, _entry(event, envelope.stream))
            else:
                _update(doc, event.appointment_id, update)
            doc["counts"] = dict(Counter(a["status"] for a in doc["appointments"]))
            return doc

        await view.change(SITE_DAYS, site_day_id(envelope.tenant, site_id, day), envelope, change)


class ProviderScheduleProjection:
    name = SCHEDULE_PROJECTION
    contexts = ("scheduling",)
    collections = (PROVIDER_DAYS,)
    handles = APPOINTMENT_EVENTS

    def keys(self, event: DomainEvent, envelope: Envelope) -> list[tuple[str, str]]:
        return [(PROVIDER_DAYS, doc_id) for doc_id in self._docs(event, envelope)]

    def _docs(self, event: DomainEvent, envelope: Envelope) -> list[str]:
        if not isinstance(event, APPOINTMENT_EVENTS):
            return []
        _, day = streams.site_day_parts(envelope.stream)
        providers = [getattr(event, "provider_id", None)]
        if isinstance(event, AppointmentRescheduled):
            providers.insert(0, event.previous_provider_id)
        return [provider_day_id(envelope.tenant, p, day) for p in dict.fromkeys(providers) if p]

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        docs = self._docs(event, envelope)
        if not docs:
            return
        _, day = streams.site_day_parts(envelope.stream)
        update = changes(event)
        moved: dict[str, Any] = {}

        def fresh(provider_id: str) -> Document:
            return {
                "tenant": envelope.tenant,
                "provider_id": provider_id,
                "date": day,
                "appointments": [],
            }

        if isinstance(event, AppointmentRescheduled) and len(docs) == 2:
            # Another provider takes it: out of the first one's day, into the second's.
            def hand_over(doc: Document | None) -> Document | None:
                if doc is None:
                    return None
                for entry in doc["appointments"]:
                    if entry["appointment_id"] == event.appointment_id:
                        moved.update(entry, **{k: update[k] for k in update if k in ENTRY_FIELDS})
                doc["appointments"] = [
                    a for a in doc["appointments"] if a["appointment_id"] != event.appointment_id
                ]
                return doc

            def take_over(doc: Document | None) -> Document | None:
                if not moved:
                    return None
                doc = doc or fresh(event.provider_id)
                _upsert(doc, dict(moved))
                return doc

            await view.change(PROVIDER_DAYS, docs[0], envelope, hand_over)
            await view.change(PROVIDER_DAYS, docs[1], envelope, take_over)
            return

        def change(doc: Document | None) -> Document | None:
            if isinstance(event, AppointmentBooked):
                doc = doc or fresh(event.provider_id)
                _upsert(doc, _entry(event, envelope.stream))
                return doc
            if doc is None:
                return None
            _update(doc, appointment_id, update)
            return doc

        appointment_id: str = getattr(event, "appointment_id")  # noqa: B009 - every one has it
        await view.change(PROVIDER_DAYS, docs[0], envelope, change)
