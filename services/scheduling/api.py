"""Scheduling HTTP API: translate requests into use cases and results into responses."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.scheduling.application.commands import Scheduling
from services.scheduling.application.patients import open_patient
from services.scheduling.domain import directory, streams
from services.scheduling.projections import directory as directory_view
from services.scheduling.projections.appointments import APPOINTMENTS
from services.scheduling.projections.appointments import PROJECTION as APPOINTMENTS_PROJECTION
from services.scheduling.projections.patients import PATIENTS
from services.scheduling.projections.patients import PROJECTION as PATIENTS_PROJECTION
from services.scheduling.projections.provider_schedule import PROJECTION as SCHEDULE_PROJECTION
from services.scheduling.projections.provider_schedule import PROVIDER_DAYS, day_id
from shared.commands import Outcome
from shared.http.app import metadata
from shared.http.identity import Principal, policy
from shared.phivault import PhiVault
from shared.readmodels import ReadModels, public

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Name = Annotated[str, Field(min_length=1, max_length=200)]

# Front-desk work at one's own sites; set-up of sites and providers is for managers.
Booking = policy("front_desk", "manager", "clinician", site_scoped=True, changes_state=True)
Managers = policy("manager", changes_state=True)
SiteManagers = policy("manager", site_scoped=True, changes_state=True)
Admins = policy(changes_state=True)  # admin only
# Patients belong to the group, not to a site: any site's front desk may register one.
Registration = policy("front_desk", "manager", "clinician", changes_state=True)
Readers = policy("front_desk", "manager", "clinician", "auditor", site_scoped=True)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteIn(Body):
    site_id: Id | None = None
    name: Name
    time_zone: Name


class RoomIn(Body):
    room_id: Id | None = None
    name: Name


class ProviderIn(Body):
    provider_id: Id | None = None
    name: Name
    site_ids: list[Id] = Field(min_length=1)


class VisitTypeIn(Body):
    visit_type_id: Id | None = None
    name: Name
    duration_minutes: int = Field(ge=5, le=480)


class AppointmentIn(Body):
    patient_id: Id
    provider_id: Id
    site_id: Id
    room_id: Id | None = None
    visit_type_id: Id
    start: AwareDatetime
    end: AwareDatetime | None = None


class CancelIn(Body):
    reason: Name


class ForgetIn(Body):
    reason: Name


class PatientIn(Body):
    patient_id: Id | None = None
    name: Name
    birth_date: date
    phone: Annotated[str, Field(max_length=40)] = ""
    email: Annotated[str, Field(max_length=254, pattern=r"^([^@\s]+@[^@\s]+\.[^@\s]+)?$")] = ""
    address: Annotated[str, Field(max_length=500)] = ""  # postal address, free text


class Recorded(BaseModel):
    """What a command did: the new resource's id and where its stream now stands."""

    id: str
    stream: str
    stream_version: int


def _recorded(resource_id: str, outcome: Outcome[Any]) -> Recorded:
    return Recorded(id=resource_id, stream=outcome.stream, stream_version=outcome.stream_version)


def _purpose(request: Request) -> str | None:
    """Why the caller reads patient data, when it says (`X-Purpose-Of-Use`, as in FHIR)."""
    purpose = request.headers.get("x-purpose-of-use")
    return purpose[:100] if purpose else None


def _check_site(principal: Principal, site_id: str) -> None:
    if not principal.at_site(site_id):
        raise HTTPException(403, f"You do not work at site {site_id}")


def build_router(
    scheduling: Scheduling, read_models: ReadModels, vault: PhiVault, wait_timeout: float
) -> APIRouter:
    router = APIRouter(prefix="/scheduling", tags=["scheduling"])

    @router.post("/sites", status_code=201)
    async def register_site(request: Request, body: SiteIn, who: Principal = Managers) -> Recorded:
        site_id = body.site_id or scheduling.new_id()
        command = directory.RegisterSite(site_id=site_id, name=body.name, time_zone=body.time_zone)
        return _recorded(site_id, await scheduling.register_site(metadata(request, who), command))

    @router.post("/sites/{site_id}/rooms", status_code=201)
    async def add_room(
        request: Request, site_id: Id, body: RoomIn, who: Principal = SiteManagers
    ) -> Recorded:
        _check_site(who, site_id)
        room_id = body.room_id or scheduling.new_id()
        command = directory.AddRoom(room_id=room_id, site_id=site_id, name=body.name)
        return _recorded(room_id, await scheduling.add_room(metadata(request, who), command))

    @router.post("/providers", status_code=201)
    async def register_provider(
        request: Request, body: ProviderIn, who: Principal = Managers
    ) -> Recorded:
        provider_id = body.provider_id or scheduling.new_id()
        command = directory.RegisterProvider(
            provider_id=provider_id, name=body.name, site_ids=tuple(body.site_ids)
        )
        outcome = await scheduling.register_provider(metadata(request, who), command)
        return _recorded(provider_id, outcome)

    @router.post("/visit-types", status_code=201)
    async def define_visit_type(
        request: Request, body: VisitTypeIn, who: Principal = Managers
    ) -> Recorded:
        visit_type_id = body.visit_type_id or scheduling.new_id()
        command = directory.DefineVisitType(
            visit_type_id=visit_type_id, name=body.name, duration_minutes=body.duration_minutes
        )
        outcome = await scheduling.define_visit_type(metadata(request, who), command)
        return _recorded(visit_type_id, outcome)

    @router.post("/appointments", status_code=201)
    async def book(request: Request, body: AppointmentIn, who: Principal = Booking) -> Recorded:
        _check_site(who, body.site_id)
        appointment_id = scheduling.new_id()
        outcome = await scheduling.book(
            metadata(request, who), appointment_id=appointment_id, **body.model_dump()
        )
        return _recorded(appointment_id, outcome)

    @router.post("/appointments/{appointment_id}/cancel")
    async def cancel(
        request: Request, appointment_id: Id, body: CancelIn, who: Principal = Booking
    ) -> Recorded:
        outcome = await scheduling.cancel(
            metadata(request, who), appointment_id, body.reason, may_see_site=who.at_site
        )
        return _recorded(appointment_id, outcome)

    @router.get("/appointments/{appointment_id}")
    async def appointment(
        request: Request, appointment_id: Id, who: Principal = Readers
    ) -> dict[str, Any]:
        doc = await read_models.get(
            APPOINTMENTS_PROJECTION, APPOINTMENTS, f"{who.tenant}:{appointment_id}"
        )
        if doc is None or not who.at_site(doc["site_id"]):
            raise HTTPException(404, "Appointment not found")
        appointment = public(doc) or {}
        await vault.reveal_fields(who.tenant, appointment, "cancel_reason")
        await scheduling.record_access(
            metadata(request, who), [doc["patient_id"]], request.url.path, _purpose(request)
        )
        return appointment

    @router.post("/patients", status_code=201)
    async def register_patient(
        request: Request, body: PatientIn, who: Principal = Registration
    ) -> Recorded:
        """Register a patient; all their details are sealed under the patient's key."""
        patient_id = body.patient_id or scheduling.new_id()
        outcome = await scheduling.register_patient(
            metadata(request, who),
            patient_id=patient_id,
            name=body.name,
            birth_date=body.birth_date,
            phone=body.phone,
            email=body.email,
            address=body.address,
        )
        return _recorded(patient_id, outcome)

    @router.get("/patients/{patient_id}")
    async def patient(request: Request, patient_id: Id, who: Principal = Readers) -> dict[str, Any]:
        """A patient's demographics, coverages and intakes; the read is recorded as
        PatientRecordAccessed."""
        doc = await read_models.get(PATIENTS_PROJECTION, PATIENTS, f"{who.tenant}:{patient_id}")
        if doc is None:
            raise HTTPException(404, "Patient not found")
        record = public(doc) or {}
        await open_patient(vault, who.tenant, record)
        await scheduling.record_access(
            metadata(request, who), [patient_id], request.url.path, _purpose(request)
        )
        return record

    @router.post("/patients/{patient_id}/forget")
    async def forget_patient(
        request: Request, patient_id: Id, body: ForgetIn, who: Principal = Admins
    ) -> Recorded:
        """Destroy the patient's data key: all their PHI, everywhere, reads back redacted."""
        outcome = await scheduling.forget_patient(metadata(request, who), patient_id, body.reason)
        return _recorded(patient_id, outcome)

    @router.get("/providers/{provider_id}/schedule/{day}")
    async def provider_schedule(
        request: Request,
        provider_id: Id,
        day: date,
        who: Principal = Readers,
        after_version: Annotated[int | None, Query(ge=1)] = None,
    ) -> dict[str, Any]:
        """A provider's appointments on a local date. `after_version` (from a booking's
        `stream_version`) waits until the schedule includes that change: read-your-writes."""
        doc_id = day_id(who.tenant, provider_id, day.isoformat())
        if after_version is not None:
            stream = streams.provider_day(who.tenant, provider_id, day)
            caught_up = await read_models.wait_for(
                SCHEDULE_PROJECTION, PROVIDER_DAYS, doc_id, stream, after_version, wait_timeout
            )
            if not caught_up:
                raise HTTPException(
                    503, "The schedule has not caught up yet", headers={"Retry-After": "1"}
                )
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
        await scheduling.record_access(
            metadata(request, who),
            [a["patient_id"] for a in schedule["appointments"]],
            request.url.path,
            _purpose(request),
        )
        return schedule

    for collection in (
        directory_view.SITES,
        directory_view.ROOMS,
        directory_view.PROVIDERS,
        directory_view.VISIT_TYPES,
    ):
        _add_listing(router, read_models, collection)
    return router


def _visible(who: Principal, doc: dict[str, Any]) -> bool:
    """Site-scoped callers list only what belongs to their sites (visit types are group-wide)."""
    if "site_ids" in doc:
        return any(who.at_site(site) for site in doc["site_ids"])
    site = doc.get("site_id")
    return site is None or who.at_site(site)


def _add_listing(router: APIRouter, read_models: ReadModels, collection: str) -> None:
    path = "/" + collection.replace("_", "-")

    async def listing(who: Principal = Readers) -> list[dict[str, Any]]:
        docs = await read_models.find(directory_view.PROJECTION, collection, {"tenant": who.tenant})
        return [d for d in (public(doc) for doc in docs) if d is not None and _visible(who, d)]

    router.add_api_route(path, listing, methods=["GET"], name=f"list_{collection}")
