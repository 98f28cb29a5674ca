"""Scheduling HTTP API: translate requests into use cases and results into responses."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, HTTPException, Request
from pydantic import AfterValidator, AwareDatetime, Field

from services.scheduling.application.commands import Scheduling
from services.scheduling.application.patients import open_patient
from services.scheduling.domain import calendar, directory
from services.scheduling.domain.events import WEEKDAYS_8_TO_6, Hours
from services.scheduling.projections import directory as directory_view
from services.scheduling.projections.patients import PATIENTS
from services.scheduling.projections.patients import PROJECTION as PATIENTS_PROJECTION
from shared.access import record_disclosure
from shared.http.app import metadata
from shared.http.identity import Principal, policy
from shared.http.routes import Body, Id, Name, Recorded, check_site, recorded
from shared.phivault import PhiVault
from shared.readmodels import ReadModels, public

# Re-exported for the other route modules of this service.
__all__ = ["Body", "Day", "Id", "Moment", "Name", "Recorded", "check_site", "recorded"]

Kind = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]

D = TypeVar("D", bound=date)


def _in_calendar(value: D) -> D:
    if not calendar.in_calendar(value):
        raise ValueError(calendar.IN_CALENDAR)
    return value


# Every date and date-time the API takes, in a body, a path or a query: one far outside the
# clinic's calendar (year 1, year 9999) is a 422 that names the field, before any arithmetic.
Day = Annotated[date, AfterValidator(_in_calendar)]
Moment = Annotated[AwareDatetime, AfterValidator(_in_calendar)]

# Front-desk work at one's own sites; set-up of sites and providers is for managers.
Booking = policy("front_desk", "manager", "clinician", site_scoped=True, changes_state=True)
Managers = policy("manager", changes_state=True)
SiteManagers = policy("manager", site_scoped=True, changes_state=True)
Admins = policy(changes_state=True)  # admin only
# Patients belong to the group, not to a site: any site's front desk may register one.
Registration = policy("front_desk", "manager", "clinician", changes_state=True)
Readers = policy("front_desk", "manager", "clinician", "auditor", site_scoped=True)


class SiteIn(Body):
    site_id: Id | None = None
    name: Name
    time_zone: Name
    opening_hours: list[Hours] = Field(default_factory=lambda: list(WEEKDAYS_8_TO_6), max_length=21)
    late_cancel_hours: int = Field(default=24, ge=0, le=168)
    no_show_grace_minutes: int = Field(default=30, ge=0, le=240)


class RoomIn(Body):
    room_id: Id | None = None
    name: Name
    room_type: Kind = "exam"


class VisitTypeIn(Body):
    visit_type_id: Id | None = None
    name: Name
    duration_minutes: int = Field(ge=5, le=480)
    room_type: Kind | None = "exam"
    provider_roles: list[Kind] = Field(default_factory=list, max_length=10)


class ForgetIn(Body):
    reason: Name


class PatientIn(Body):
    patient_id: Id | None = None
    name: Name
    birth_date: Day
    phone: Annotated[str, Field(max_length=40)] = ""
    email: Annotated[str, Field(max_length=254, pattern=r"^([^@\s]+@[^@\s]+\.[^@\s]+)?$")] = ""
    address: Annotated[str, Field(max_length=500)] = ""  # postal address, free text
    sex: Literal["female", "male", "other", "unknown", ""] = ""  # "" not given


def build_router(scheduling: Scheduling, read_models: ReadModels, vault: PhiVault) -> APIRouter:
    router = APIRouter(prefix="/scheduling", tags=["scheduling"])

    @router.post("/sites", status_code=201)
    async def register_site(request: Request, body: SiteIn, who: Principal = Managers) -> Recorded:
        site_id = body.site_id or scheduling.new_id()
        fields = body.model_dump(exclude={"site_id", "opening_hours"})
        command = directory.RegisterSite(
            site_id=site_id, opening_hours=tuple(body.opening_hours), **fields
        )
        return recorded(site_id, await scheduling.register_site(metadata(request, who), command))

    @router.post("/sites/{site_id}/rooms", status_code=201)
    async def add_room(
        request: Request, site_id: Id, body: RoomIn, who: Principal = SiteManagers
    ) -> Recorded:
        check_site(who, site_id)
        room_id = body.room_id or scheduling.new_id()
        command = directory.AddRoom(
            room_id=room_id, site_id=site_id, name=body.name, room_type=body.room_type
        )
        return recorded(room_id, await scheduling.add_room(metadata(request, who), command))

    @router.post("/visit-types", status_code=201)
    async def define_visit_type(
        request: Request, body: VisitTypeIn, who: Principal = Managers
    ) -> Recorded:
        visit_type_id = body.visit_type_id or scheduling.new_id()
        command = directory.DefineVisitType(
            visit_type_id=visit_type_id,
            name=body.name,
            duration_minutes=body.duration_minutes,
            room_type=body.room_type,
            provider_roles=tuple(body.provider_roles),
        )
        outcome = await scheduling.define_visit_type(metadata(request, who), command)
        return recorded(visit_type_id, outcome)

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
            sex=body.sex,
        )
        return recorded(patient_id, outcome)

    @router.get("/patients/{patient_id}")
    async def patient(request: Request, patient_id: Id, who: Principal = Readers) -> dict[str, Any]:
        """A patient's demographics, coverages and intakes; the read is recorded as
        PatientRecordAccessed."""
        doc = await read_models.get(PATIENTS_PROJECTION, PATIENTS, f"{who.tenant}:{patient_id}")
        if doc is None:
            raise HTTPException(404, "Patient not found")
        record = public(doc) or {}
        await open_patient(vault, who.tenant, record)
        await record_disclosure(scheduling, request, who, [patient_id])
        return record

    @router.post("/patients/{patient_id}/forget")
    async def forget_patient(
        request: Request, patient_id: Id, body: ForgetIn, who: Principal = Admins
    ) -> Recorded:
        """Destroy the patient's data key: all their PHI, everywhere, reads back redacted."""
        outcome = await scheduling.forget_patient(metadata(request, who), patient_id, body.reason)
        return recorded(patient_id, outcome)

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
