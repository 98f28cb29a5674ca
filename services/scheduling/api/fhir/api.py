"""FHIR R4 read views of scheduling: parse, authorize, read the read models, map.

Errors on these endpoints are FHIR OperationOutcomes (`application/fhir+json`), carrying the
status, detail and headers that the suite's problem+json handlers decide for the same error.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request, Response

from services.scheduling.api.fhir import resources, search
from services.scheduling.api.fhir.ids import our_id, schedule_id
from services.scheduling.api.fhir.resources import VISIT_TYPE_SYSTEM, Directory, Doc, Resource
from services.scheduling.application.commands import Scheduling
from services.scheduling.application.open_slots import MAX_DAYS, MAX_SLOTS, OpenSlots
from services.scheduling.projections import directory as directory_view
from services.scheduling.projections.appointments import APPOINTMENTS
from services.scheduling.projections.appointments import PROJECTION as APPOINTMENTS_PROJECTION
from services.scheduling.projections.patients import PATIENTS
from services.scheduling.projections.patients import PHI_FIELDS as PATIENT_PHI
from services.scheduling.projections.patients import PROJECTION as PATIENTS_PROJECTION
from shared.access import record_disclosure
from shared.clock import Clock
from shared.documents.port import Document
from shared.http.fhir import FhirResponse, FhirRouter, base_url, searchset
from shared.http.identity import Principal, policy
from shared.phivault import PhiVault
from shared.readmodels import ReadModels, public

# A search that matches more appointments than this is refused: narrow it (no paging yet).
MAX_MATCHES = 500
# A slot search without `start` looks at the site's today and the six days after it, and
# without `_count` answers with the earliest 20 slots.
DEFAULT_DAYS = 7
DEFAULT_SLOTS = 20
SLOT_STATUSES = ("busy", "free", "busy-unavailable", "busy-tentative", "entered-in-error")

# Patients belong to the group, not to a site; what has a site is shown only at one's sites.
Readers = policy("front_desk", "manager", "clinician", "auditor")
SiteReaders = policy("front_desk", "manager", "clinician", "auditor", site_scoped=True)


def _our_id(kind: str, fhir: str) -> str:
    ours = our_id(fhir)
    if ours is None:
        raise HTTPException(400, f"{kind}/{fhir} is not a FHIR id ([A-Za-z0-9-.], 1-64)")
    return ours


def _search(request: Request, *known: str) -> dict[str, list[str]]:
    try:
        return search.params(request.query_params.multi_items(), known)
    except search.BadSearch as exc:
        raise HTTPException(400, str(exc)) from exc


def _base(request: Request) -> str:
    return base_url(request)


def _searchset(request: Request, found: list[Resource], *, counted: bool = True) -> FhirResponse:
    return FhirResponse(searchset(_base(request), str(request.url), found, counted=counted))


def _too_long(first: date, last: date) -> None:
    if first <= last and (last - first).days >= MAX_DAYS:
        raise HTTPException(400, f"search slots of at most {MAX_DAYS} days at once")


def _shortest_visit(places: Directory, provider: Doc) -> Doc | None:
    """The shortest visit type the provider may see (then the first by id)."""
    role = provider.get("role")
    fitting = [
        v
        for v in places.visit_types.values()
        if not v.get("provider_roles") or role in v["provider_roles"]
    ]
    return min(fitting, key=lambda v: (v["duration_minutes"], v["visit_type_id"]), default=None)


def _schedule(places: Directory, who: Principal, wanted: str) -> tuple[Doc, Doc] | None:
    """The provider and the site of the schedule with the FHIR id `wanted`, if the caller
    may see it."""
    for provider_id, provider in sorted(places.providers.items()):
        for site_id in provider.get("site_ids", ()):
            site = places.sites.get(site_id)
            if site and who.at_site(site_id) and schedule_id(provider_id, site_id) == wanted:
                return provider, site
    return None


def build_router(
    scheduling: Scheduling,
    read_models: ReadModels,
    vault: PhiVault,
    slots: OpenSlots,
    clock: Clock,
) -> APIRouter:
    # metadata and the 404 for what is not served are the server's (shared.http.fhir).
    router = FhirRouter(resources.CAPABILITIES)

    async def directory(tenant: str) -> Directory:
        async def by_id(collection: str, key: str) -> dict[str, Document]:
            found = await read_models.find(
                directory_view.PROJECTION, collection, {"tenant": tenant}
            )
            return {doc[key]: doc for doc in found}

        return Directory(
            sites=await by_id(directory_view.SITES, "site_id"),
            rooms=await by_id(directory_view.ROOMS, "room_id"),
            providers=await by_id(directory_view.PROVIDERS, "provider_id"),
            visit_types=await by_id(directory_view.VISIT_TYPES, "visit_type_id"),
        )

    async def disclosed(request: Request, who: Principal, patient_ids: list[str]) -> None:
        await record_disclosure(scheduling, request, who, patient_ids)

    async def appointment(who: Principal, doc: Document, places: Directory) -> Resource:
        record = public(doc) or {}
        await vault.reveal_fields(who.tenant, record, "cancel_reason")
        return resources.appointment(record, places)

    @router.get("/Patient/{patient_id}")
    async def read_patient(request: Request, patient_id: str, who: Principal = Readers) -> Response:
        """A patient's demographics; the read is recorded as PatientRecordAccessed."""
        ours = _our_id("Patient", patient_id)
        _search(request)
        doc = await read_models.get(PATIENTS_PROJECTION, PATIENTS, f"{who.tenant}:{ours}")
        if doc is None:
            raise HTTPException(404, f"Patient/{patient_id} not found")
        record = public(doc) or {}
        await vault.reveal_fields(who.tenant, record, *PATIENT_PHI, "email")
        resource = resources.patient(record)
        await disclosed(request, who, [ours])
        return FhirResponse(resource)

    @router.get("/Appointment/{appointment_id}")
    async def read_appointment(
        request: Request, appointment_id: str, who: Principal = SiteReaders
    ) -> Response:
        """One appointment; recorded as an access to its patient's record."""
        ours = _our_id("Appointment", appointment_id)
        _search(request)
        doc = await read_models.get(APPOINTMENTS_PROJECTION, APPOINTMENTS, f"{who.tenant}:{ours}")
        if doc is None or not who.at_site(doc["site_id"]):
            raise HTTPException(404, f"Appointment/{appointment_id} not found")
        resource = await appointment(who, doc, await directory(who.tenant))
        await disclosed(request, who, [doc["patient_id"]])
        return FhirResponse(resource)

    @router.get("/Appointment")
    async def search_appointments(request: Request, who: Principal = SiteReaders) -> Response:
        """Appointments by `patient` and/or `date` (site-local days; eq, gt, lt, ge, le)."""
        query = _search(request, "patient", "date")
        if not query:
            raise HTTPException(400, "search appointments by patient, date or both")
        try:
            bounds = search.dates(query.get("date", ()))
            patients = [
                search.references(value, ("Patient",), bare="Patient")
                for value in query.get("patient", ())
            ]
        except search.BadSearch as exc:
            raise HTTPException(400, str(exc)) from exc
        where = search.appointment_filter(who.tenant, patients, bounds, who.sites)
        docs = []
        if where is not None:
            docs = await read_models.find(
                APPOINTMENTS_PROJECTION,
                APPOINTMENTS,
                where,
                sort=(("start", 1),),
                limit=MAX_MATCHES + 1,
            )
        if len(docs) > MAX_MATCHES:
            raise HTTPException(400, f"more than {MAX_MATCHES} appointments match: narrow it")
        places = await directory(who.tenant)

        def on_the_day(doc: Document) -> bool:
            site = places.sites.get(doc["site_id"], {})
            zone = ZoneInfo(site.get("time_zone", "UTC"))
            local_day = datetime.fromisoformat(doc["start"]).astimezone(zone).date()
            return all(bound.admits(local_day) for bound in bounds)

        matches = [doc for doc in docs if on_the_day(doc)]
        found = [await appointment(who, doc, places) for doc in matches]
        await disclosed(request, who, [doc["patient_id"] for doc in matches])
        return _searchset(request, found)

    async def locations(who: Principal) -> list[Resource]:
        places = await directory(who.tenant)
        sites = [
            resources.site_location(site)
            for site_id, site in sorted(places.sites.items())
            if who.at_site(site_id)
        ]
        rooms = [
            resources.room_location(room, places.sites.get(room["site_id"]))
            for _, room in sorted(places.rooms.items())
            if who.at_site(room["site_id"])
        ]
        return sites + rooms

    @router.get("/Location")
    async def search_locations(request: Request, who: Principal = SiteReaders) -> Response:
        """Every site and room the caller may see; rooms are `partOf` their site."""
        _search(request)
        return _searchset(request, await locations(who))

    @router.get("/Location/{location_id}")
    async def read_location(
        request: Request, location_id: str, who: Principal = SiteReaders
    ) -> Response:
        _our_id("Location", location_id)
        _search(request)
        for resource in await locations(who):
            if resource["id"] == location_id:
                return FhirResponse(resource)
        raise HTTPException(404, f"Location/{location_id} not found")

    @router.get("/StructureDefinition/{definition_id}")
    async def read_definition(
        request: Request, definition_id: str, who: Principal = Readers
    ) -> Response:
        """A definition this server publishes: the extensions its resources carry, at their
        canonical URLs."""
        _our_id("StructureDefinition", definition_id)
        _search(request)
        define = resources.PUBLISHED.get(definition_id)
        if define is None:
            raise HTTPException(404, f"StructureDefinition/{definition_id} not found")
        return FhirResponse(define())

    async def schedules(who: Principal) -> list[Resource]:
        places = await directory(who.tenant)
        return [
            resources.schedule(provider, site_id, places)
            for _, provider in sorted(places.providers.items())
            for site_id in provider.get("site_ids", ())
            if who.at_site(site_id)
        ]

    @router.get("/Schedule")
    async def search_schedules(request: Request, who: Principal = SiteReaders) -> Response:
        """One schedule per provider and site; `actor` is a Practitioner or a Location."""
        query = _search(request, "actor")
        try:
            actors = [
                search.references(value, ("Practitioner", "Location"))
                for value in query.get("actor", ())
            ]
        except search.BadSearch as exc:
            raise HTTPException(400, str(exc)) from exc
        found = [
            schedule
            for schedule in await schedules(who)
            if all({a["reference"] for a in schedule["actor"]} & wanted for wanted in actors)
        ]
        return _searchset(request, found)

    @router.get("/Schedule/{schedule_id}")
    async def read_schedule(
        request: Request, schedule_id: str, who: Principal = SiteReaders
    ) -> Response:
        _our_id("Schedule", schedule_id)
        _search(request)
        for resource in await schedules(who):
            if resource["id"] == schedule_id:
                return FhirResponse(resource)
        raise HTTPException(404, f"Schedule/{schedule_id} not found")

    @router.get("/Slot")
    async def search_slots(request: Request, who: Principal = SiteReaders) -> Response:
        """Free slots of one `schedule`: the earliest `_count` (default 20, at most 200)
        starts, every 15 minutes, where the provider and a suitable room are both free for
        one visit of the `appointment-type` (a visit type; by default the shortest the
        provider may see), on the site-local days `start` admits (eq, gt, lt, ge, le; by
        default the site's today and the six days after, at most 92 days)."""
        query = _search(request, "schedule", "start", "appointment-type", "status", "_count")
        try:
            wanted = search.one(query, "schedule")
            if wanted is None:
                raise search.BadSearch("search slots by schedule")
            [reference] = search.references(wanted, ("Schedule",), bare="Schedule")
            first, last = search.day_range(search.dates(query.get("start", ())))
            kind = search.one(query, "appointment-type")
            visit_type_id = None if kind is None else search.token(kind, VISIT_TYPE_SYSTEM)
            statuses = search.codes(query.get("status", ()), SLOT_STATUSES)
            limit = search.count(query.get("_count", ()), DEFAULT_SLOTS, MAX_SLOTS)
        except search.BadSearch as exc:
            raise HTTPException(400, str(exc)) from exc
        # Checked here too, so that the answer does not depend on the schedule: without a
        # lower bound, UTC's today stands in for the site's.
        utc_first = first or clock.now().date()
        _too_long(utc_first, last or utc_first)
        found: list[Resource] = []
        # Only free slots are served; a token of another system names no visit type here.
        if not all("free" in codes for codes in statuses) or (kind and visit_type_id is None):
            return _searchset(request, found, counted=False)
        places = await directory(who.tenant)
        schedule = _schedule(places, who, reference.partition("/")[2])
        if schedule is None:  # unknown, or another site's: as if it were not there
            return _searchset(request, found, counted=False)
        provider, site = schedule
        visit = (
            _shortest_visit(places, provider)
            if visit_type_id is None
            else places.visit_types.get(visit_type_id)
        )
        today = clock.now().astimezone(ZoneInfo(site["time_zone"])).date()
        first_day = first or today
        last_day = last or first_day + timedelta(days=DEFAULT_DAYS - 1)
        _too_long(first_day, last_day)
        if visit is not None and first_day <= last_day:
            free = await slots.search(
                who.tenant,
                site_id=site["site_id"],
                visit_type_id=visit["visit_type_id"],
                first_day=first_day,
                last_day=last_day,
                provider_id=provider["provider_id"],
                limit=limit,
            )
            found = [
                resources.slot(provider["provider_id"], site["site_id"], visit, s.start, s.end)
                for s in free
            ]
        return _searchset(request, found, counted=False)

    return router
