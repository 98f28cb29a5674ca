"""Visits to reschedule: booked visits their provider can no longer see as booked.

A provider stops being bookable on a day when their licence no longer covers it (expired,
revoked, failed verification), they are terminated, on leave, moved off the site, or on
approved time off then (`providers.to_reschedule_reason`, the rule bookings obey). Visits
booked before that was known stay booked: they are listed here for the front desk to move.

Collection `to_reschedule`: one document per booking of a visit on a site's day (id
`<site-day stream>/<appointment>`, so a visit moved to another day is a new one), with its
provider, time, whether it is still open (not cancelled, completed, no-show, moved or
withdrawn) and, if the provider cannot see it, why (`reason`); `listed` is both. Collection
`reschedule_providers`: one document per provider, their state as their stream folds it and the
open visits booked with them. Either may come first (the bus orders events only within a
stream, and a rebuild replays them in that order): a visit is judged against the provider's
state when it is booked, and every open visit of the provider again on each of their events.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from services.scheduling.domain import providers, streams
from services.scheduling.domain.events import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentMovedOut,
    AppointmentNoShow,
    AppointmentRescheduled,
    AppointmentWithdrawn,
    VisitCompleted,
)
from services.scheduling.projections.availability import PROVIDER_EVENTS, state_from, state_json
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "scheduling.to_reschedule"
VISITS, PROVIDERS = "to_reschedule", "reschedule_providers"

CLOSED = (
    AppointmentCancelled,
    AppointmentMovedOut,
    AppointmentWithdrawn,
    VisitCompleted,
    AppointmentNoShow,
)


def provider_doc_id(tenant: str, provider_id: str) -> str:
    return f"{tenant}:{provider_id}"


def visit_doc_id(stream: str, appointment_id: str) -> str:
    return f"{stream}/{appointment_id}"


def _state(doc: Document | None) -> providers.Provider:
    if doc is None or doc.get("state") is None:
        return providers.Provider()
    return state_from(doc["state"])


def _judged(visit: Document, state: providers.Provider) -> Document:
    reason = providers.to_reschedule_reason(
        state,
        visit["site_id"],
        date.fromisoformat(visit["date"]),
        datetime.fromisoformat(visit["start"]),
        datetime.fromisoformat(visit["end"]),
    )
    visit["reason"] = reason
    visit["listed"] = bool(visit["open"] and reason is not None)
    return visit


def _with_visit(tenant: str, provider_id: str, visit_id: str, add: bool) -> Any:
    def change(doc: Document | None) -> Document:
        doc = doc or {"tenant": tenant, "provider_id": provider_id, "state": None, "visits": []}
        visits = [v for v in doc["visits"] if v != visit_id]
        doc["visits"] = sorted([*visits, visit_id]) if add else visits
        return doc

    return change


class ToRescheduleProjection:
    name = PROJECTION
    contexts = ("scheduling",)
    collections = (VISITS, PROVIDERS)
    handles = (*PROVIDER_EVENTS, AppointmentBooked, AppointmentRescheduled, *CLOSED)

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        tenant = envelope.tenant
        if isinstance(event, PROVIDER_EVENTS):
            await self._provider(tenant, event, envelope, view)
        elif isinstance(event, AppointmentBooked):
            await self._booked(tenant, event, envelope, view)
        elif isinstance(event, AppointmentRescheduled):
            await self._rescheduled(tenant, event, envelope, view)
        elif isinstance(event, CLOSED):
            await self._closed(tenant, event.appointment_id, envelope, view)

    async def _provider(self, tenant: str, event: Any, envelope: Envelope, view: View) -> None:
        doc_id = provider_doc_id(tenant, event.provider_id)

        def fold(doc: Document | None) -> Document:
            doc = doc or {"tenant": tenant, "provider_id": event.provider_id, "visits": []}
            doc["state"] = state_json(providers.evolve(_state(doc), event))
            return doc

        await view.change(PROVIDERS, doc_id, envelope, fold)
        doc = await view.get(PROVIDERS, doc_id)
        assert doc is not None
        state = _state(doc)
        for visit_id in doc["visits"]:
            await view.change(
                VISITS, visit_id, envelope, lambda v: None if v is None else _judged(v, state)
            )

    async def _booked(
        self, tenant: str, event: AppointmentBooked, envelope: Envelope, view: View
    ) -> None:
        visit_id = visit_doc_id(envelope.stream, event.appointment_id)
        provider_id = provider_doc_id(tenant, event.provider_id)
        await view.change(
            PROVIDERS, provider_id, envelope, _with_visit(tenant, event.provider_id, visit_id, True)
        )
        state = _state(await view.get(PROVIDERS, provider_id))
        _, day = streams.site_day_parts(envelope.stream)

        def create(_: Document | None) -> Document:
            visit = {
                "tenant": tenant,
                "appointment_id": event.appointment_id,
                "patient_id": event.patient_id,
                "provider_id": event.provider_id,
                "site_id": event.site_id,
                "date": day,
                "start": event.start.isoformat(),
                "end": event.end.isoformat(),
                "open": True,
            }
            return _judged(visit, state)

        await view.change(VISITS, visit_id, envelope, create)

    async def _rescheduled(
        self, tenant: str, event: AppointmentRescheduled, envelope: Envelope, view: View
    ) -> None:
        visit_id = visit_doc_id(envelope.stream, event.appointment_id)
        visit = await view.get(VISITS, visit_id)
        if visit is None:
            return
        old, new = visit["provider_id"], event.provider_id
        await view.change(
            PROVIDERS,
            provider_doc_id(tenant, old),
            envelope,
            _with_visit(tenant, old, visit_id, False),
        )
        await view.change(
            PROVIDERS,
            provider_doc_id(tenant, new),
            envelope,
            _with_visit(tenant, new, visit_id, True),
        )
        state = _state(await view.get(PROVIDERS, provider_doc_id(tenant, new)))

        def move(doc: Document | None) -> Document | None:
            if doc is None:
                return None
            doc.update(provider_id=new, start=event.start.isoformat(), end=event.end.isoformat())
            return _judged(doc, state)

        await view.change(VISITS, visit_id, envelope, move)

    async def _closed(
        self, tenant: str, appointment_id: str, envelope: Envelope, view: View
    ) -> None:
        visit_id = visit_doc_id(envelope.stream, appointment_id)
        visit = await view.get(VISITS, visit_id)
        if visit is None:
            return
        provider_id = visit["provider_id"]
        await view.change(
            PROVIDERS,
            provider_doc_id(tenant, provider_id),
            envelope,
            _with_visit(tenant, provider_id, visit_id, False),
        )

        def close(doc: Document | None) -> Document | None:
            if doc is None:
                return None
            doc.update(open=False, listed=False)
            return doc

        await view.change(VISITS, visit_id, envelope, close)
