"""Appointments over HTTP: booking, series, moves, the visit's lifecycle and the day views."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import Field

from services.scheduling.api.directory import (
    Body,
    Booking,
    Day,
    Id,
    Moment,
    Name,
    Readers,
    Recorded,
    check_site,
    recorded,
)
from services.scheduling.application.appointments import Appointments
from services.scheduling.application.commands import Scheduling
from services.scheduling.application.open_slots import MAX_SLOTS, OpenSlots, slot_json
from services.scheduling.domain import series, streams
from services.scheduling.projections.appointments import APPOINTMENTS
from services.scheduling.projections.appointments import PROJECTION as APPOINTMENTS_PROJECTION
from services.scheduling.projections.availability import BOOKABLE, provider_at_site_id
from services.scheduling.projections.availability import PROJECTION as AVAILABILITY
from services.scheduling.projections.availability import PROVIDERS as AVAILABLE_PROVIDERS
from services.scheduling.projections.day_views import (
    BOARD_PROJECTION,
    PROVIDER_DAYS,
    SCHEDULE_PROJECTION,
    SITE_DAYS,
    provider_day_id,
    site_day_id,
)
from services.scheduling.projections.no_show_rates import PROJECTION as RATES_PROJECTION
from services.scheduling.projections.no_show_rates import RATES
from shared.access import record_disclosure
from shared.http.app import metadata
from shared.http.identity import Principal, policy
from shared.http.routes import read_after
from shared.phivault import PhiVault
from shared.readmodels import ReadModels, public

# Clinical work: what was done and found, recorded by the clinician (or a manager).
Clinical = policy("clinician", "manager", site_scoped=True, changes_state=True)
Managers = policy("manager", "auditor")  # reports


class AppointmentIn(Body):
    patient_id: Id
    provider_id: Id
    site_id: Id
    room_id: Id | None = None
    visit_type_id: Id
    start: Moment
    end: Moment | None = None


class SeriesIn(Body):
    """A recurring series: `count` visits, every `every_weeks` weeks from `first_start`."""

    patient_id: Id
    provider_id: Id
    site_id: Id
    room_id: Id | None = None
    visit_type_id: Id
    first_start: Moment
    every_weeks: int = Field(default=1, ge=1, le=12)
    count: int = Field(ge=2, le=series.MAX_OCCURRENCES)


class RescheduleIn(Body):
    start: Moment
    provider_id: Id | None = None
    room_id: Id | None = None
    site_id: Id | None = None


class CancelIn(Body):
    reason: Name


class RoomIn(Body):
    room_id: Id | None = None


Code = Annotated[str, Field(min_length=3, max_length=20)]


class CompleteIn(Body):
    procedures: list[Code] = Field(min_length=1, max_length=20)
    diagnoses: list[Code] = Field(min_length=1, max_length=12)


class SeriesRecorded(Recorded):
    appointment_ids: list[str]


def build_router(
    scheduling: Scheduling,
    appointments: Appointments,
    slots: OpenSlots,
    read_models: ReadModels,
    vault: PhiVault,
    wait_timeout: float,
) -> APIRouter:
    router = APIRouter(prefix="/scheduling", tags=["appointments"])

    async def wait(
        projection: str, collection: str, doc_id: str, stream: str, version: int
    ) -> None:
        await read_after(
            read_models,
            projection,
            collection,
            doc_id,
            stream,
            version,
            wait_timeout,
            scheduling.stream_version,
        )

    @router.post("/appointments", status_code=201)
    async def book(request: Request, body: AppointmentIn, who: Principal = Booking) -> Recorded:
        """Book a visit. Without a room, the first free room of the type the visit needs."""
        check_site(who, body.site_id)
        appointment_id = scheduling.new_id()
        outcome = await appointments.book(
            metadata(request, who), appointment_id=appointment_id, **body.model_dump()
        )
        return recorded(appointment_id, outcome)

    @router.post("/appointment-series", status_code=201)
    async def book_series(
        request: Request, body: SeriesIn, who: Principal = Booking
    ) -> SeriesRecorded:
        """Book a recurring series whole, or nothing of it (409 names the occurrence)."""
        check_site(who, body.site_id)
        series_id = scheduling.new_id()
        fields = body.model_dump(exclude={"first_start", "every_weeks", "count"})
        starts = [
            body.first_start + timedelta(weeks=body.every_weeks * n) for n in range(body.count)
        ]
        outcome = await appointments.book_series(
            metadata(request, who), series_id=series_id, starts=starts, **fields
        )
        ids = [f"{series_id}-{n}" for n in range(1, body.count + 1)]
        return SeriesRecorded(
            id=series_id,
            stream=outcome.stream,
            stream_version=outcome.stream_version,
            appointment_ids=ids,
        )

    @router.post("/appointments/{appointment_id}/reschedule")
    async def reschedule(
        request: Request, appointment_id: Id, body: RescheduleIn, who: Principal = Booking
    ) -> Recorded:
        """Move a booked appointment: to another time, provider, room, day or site."""
        if body.site_id is not None:
            check_site(who, body.site_id)
        outcome = await appointments.reschedule(
            metadata(request, who), appointment_id, **body.model_dump(), may_see_site=who.at_site
        )
        return recorded(appointment_id, outcome)

    @router.post("/appointments/{appointment_id}/cancel")
    async def cancel(
        request: Request, appointment_id: Id, body: CancelIn, who: Principal = Booking
    ) -> Recorded:
        """Cancel; inside the site's late-cancellation window it is flagged late."""
        outcome = await appointments.cancel(
            metadata(request, who), appointment_id, body.reason, may_see_site=who.at_site
        )
        return recorded(appointment_id, outcome)

    @router.post("/appointments/{appointment_id}/confirm")
    async def confirm(request: Request, appointment_id: Id, who: Principal = Booking) -> Recorded:
        """The patient will come (told the front desk; a signed link in a message records the
        same through engagement). Confirming again records nothing new."""
        outcome = await appointments.confirm(
            metadata(request, who), appointment_id, may_see_site=who.at_site
        )
        return recorded(appointment_id, outcome)

    @router.post("/appointments/{appointment_id}/check-in")
    async def check_in(request: Request, appointment_id: Id, who: Principal = Booking) -> Recorded:
        outcome = await appointments.check_in(
            metadata(request, who), appointment_id, may_see_site=who.at_site
        )
        return recorded(appointment_id, outcome)

    @router.post("/appointments/{appointment_id}/room")
    async def room(
        request: Request, appointment_id: Id, body: RoomIn, who: Principal = Booking
    ) -> Recorded:
        outcome = await appointments.room(
            metadata(request, who), appointment_id, body.room_id, may_see_site=who.at_site
        )
        return recorded(appointment_id, outcome)

    @router.post("/appointments/{appointment_id}/complete")
    async def complete(
        request: Request, appointment_id: Id, body: CompleteIn, who: Principal = Clinical
    ) -> Recorded:
        """Record the visit's CPT/HCPCS procedures and ICD-10-CM diagnoses: VisitCompleted."""
        outcome = await appointments.complete(
            metadata(request, who),
            appointment_id,
            [p.upper() for p in body.procedures],
            [d.upper() for d in body.diagnoses],
            may_see_site=who.at_site,
        )
        return recorded(appointment_id, outcome)

    @router.post("/appointments/{appointment_id}/no-show")
    async def no_show(request: Request, appointment_id: Id, who: Principal = Booking) -> Recorded:
        outcome = await appointments.no_show(
            metadata(request, who), appointment_id, may_see_site=who.at_site
        )
        return recorded(appointment_id, outcome)

    @router.get("/appointments/{appointment_id}")
    async def appointment(
        request: Request, appointment_id: Id, who: Principal = Readers
    ) -> dict[str, Any]:
        doc = await read_models.get(
            APPOINTMENTS_PROJECTION, APPOINTMENTS, f"{who.tenant}:{appointment_id}"
        )
        if doc is None or not who.at_site(doc["site_id"]):
            raise HTTPException(404, "Appointment not found")
        result = public(doc) or {}
        await vault.reveal_fields(who.tenant, result, "cancel_reason")
        await record_disclosure(scheduling, request, who, [doc["patient_id"]])
        return result

    @router.get("/patients/{patient_id}/appointments")
    async def history(
        request: Request, patient_id: Id, who: Principal = Readers
    ) -> list[dict[str, Any]]:
        """The patient's appointments at the caller's sites, latest first."""
        docs = await read_models.find(
            APPOINTMENTS_PROJECTION,
            APPOINTMENTS,
            {"tenant": who.tenant, "patient_id": patient_id},
        )
        visible = [public(d) or {} for d in docs if who.at_site(d["site_id"])]
        visible = [d for d in visible if d["status"] not in ("moved", "withdrawn")]
        for d in visible:
            await vault.reveal_fields(who.tenant, d, "cancel_reason")
        visible.sort(key=lambda d: d["start"], reverse=True)
        await record_disclosure(scheduling, request, who, [patient_id])
        return visible

    @router.get("/sites/{site_id}/board/{day}")
    async def board(
        request: Request,
        site_id: Id,
        day: Day,
        who: Principal = Readers,
        after_version: Annotated[int | None, Query(ge=1)] = None,
    ) -> dict[str, Any]:
        """The front desk's day: every appointment with its status, and counts by status.
        `after_version` (a booking's `stream_version`) waits for that change; a version the
        day's stream does not have is a 422."""
        check_site(who, site_id)
        doc_id = site_day_id(who.tenant, site_id, day.isoformat())
        if after_version is not None:
            stream = streams.site_day(who.tenant, site_id, day)
            await wait(BOARD_PROJECTION, SITE_DAYS, doc_id, stream, after_version)
        doc = await read_models.get(BOARD_PROJECTION, SITE_DAYS, doc_id)
        result = public(doc) or {
            "tenant": who.tenant,
            "site_id": site_id,
            "date": day.isoformat(),
            "appointments": [],
            "counts": {},
        }
        await record_disclosure(
            scheduling, request, who, [a["patient_id"] for a in result["appointments"]]
        )
        return result

    @router.get("/providers/{provider_id}/schedule/{day}")
    async def provider_schedule(
        request: Request,
        provider_id: Id,
        day: Day,
        who: Principal = Readers,
        after_stream: Annotated[str | None, Query(max_length=300)] = None,
        after_version: Annotated[int | None, Query(ge=1)] = None,
    ) -> dict[str, Any]:
        """A provider's appointments on a local date. `after_stream` and `after_version`
        (a booking's `stream` and `stream_version`) wait until the schedule includes that
        change: read-your-writes. A version the stream does not have is a 422."""
        doc_id = provider_day_id(who.tenant, provider_id, day.isoformat())
        if after_version is not None:
            prefix = f"{who.tenant}:site-day:"
            site_id, _, rest = (after_stream or "").removeprefix(prefix).partition(":")
            if after_stream is None or not after_stream.startswith(prefix) or not rest:
                raise HTTPException(400, "after_version needs the after_stream it belongs to")
            # The stream's version is news about its site's day: only for those who work there.
            check_site(who, site_id)
            await wait(SCHEDULE_PROJECTION, PROVIDER_DAYS, doc_id, after_stream, after_version)
        doc = await read_models.get(SCHEDULE_PROJECTION, PROVIDER_DAYS, doc_id)
        schedule = public(doc) or {
            "tenant": who.tenant,
            "provider_id": provider_id,
            "date": day.isoformat(),
            "appointments": [],
        }
        schedule["appointments"] = [
            a for a in schedule["appointments"] if who.at_site(a["site_id"])
        ]
        await record_disclosure(
            scheduling, request, who, [a["patient_id"] for a in schedule["appointments"]]
        )
        return schedule

    @router.get("/open-slots")
    async def open_slots(
        site_id: Id,
        visit_type_id: Id,
        start: Day,
        end: Day,
        who: Principal = Readers,
        provider_id: Id | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_SLOTS)] = 10,
        after_stream: Annotated[str | None, Query(max_length=300)] = None,
        after_version: Annotated[int | None, Query(ge=1)] = None,
    ) -> list[dict[str, Any]]:
        """The earliest `limit` slots from `start` to `end` (local dates) where the provider
        (any at the site, or the one named) and a suitable room are both free. Availability
        comes from a read model: `after_stream` and `after_version` (a provider change's
        `stream` and `stream_version`) wait until it includes that change. A version the
        stream does not have is a 422."""
        check_site(who, site_id)
        if after_version is not None:
            prefix = f"{who.tenant}:provider:"
            changed = (after_stream or "").removeprefix(prefix)
            if after_stream is None or not after_stream.startswith(prefix) or not changed:
                raise HTTPException(400, "after_version needs the provider stream it belongs to")
            pointer = f"{who.tenant}:{changed}"
            await wait(AVAILABILITY, AVAILABLE_PROVIDERS, pointer, after_stream, after_version)
            if await slots.works_at(who.tenant, changed, site_id):
                doc_id = provider_at_site_id(who.tenant, site_id, changed)
                await wait(AVAILABILITY, BOOKABLE, doc_id, after_stream, after_version)
        found = await slots.search(
            who.tenant,
            site_id=site_id,
            visit_type_id=visit_type_id,
            first_day=start,
            last_day=end,
            provider_id=provider_id,
            limit=limit,
        )
        return [slot_json(s) for s in found]

    @router.get("/no-show-rates")
    async def no_show_rates(
        month: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")],
        who: Principal = Managers,
    ) -> list[dict[str, Any]]:
        """Completed visits and no-shows per provider and per site in a month (YYYY-MM)."""
        docs = await read_models.find(
            RATES_PROJECTION, RATES, {"tenant": who.tenant, "month": month}
        )
        return sorted(
            (public(d) or {} for d in docs),
            key=lambda d: (d["kind"], d.get("provider_id") or d.get("site_id") or ""),
        )

    return router
