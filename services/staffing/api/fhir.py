"""FHIR R4 read views of staffing: Practitioner and PractitionerRole, read and searched.

Scheduling's Appointments and Schedules name `Practitioner/<provider id>`: a provider's id is
their employee id, so those references resolve here. Providers are staff of the group: every
reader of the tenant sees them all (no personal data is in them). Errors are OperationOutcomes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from services.staffing.api import fhir_resources as resources
from services.staffing.projections.directory import EMPLOYEES, PROJECTION, employee_doc_id
from shared.clock import Clock
from shared.documents.port import Document
from shared.http.fhir import (
    FhirResponse,
    FhirRouter,
    base_url,
    our_id,
    reference_ids,
    search_params,
    searchset,
)
from shared.http.identity import Principal, policy
from shared.readmodels import ReadModels, public

Readers = policy("front_desk", "manager", "clinician", "auditor", "hr")

Doc = dict[str, Any]


def _identifier(values: str) -> Callable[[Doc], bool]:
    """`system|value`, `|value` is not ours (no system), `value` alone: any NPI equal to it."""
    wanted: list[tuple[str | None, str]] = []
    for value in values.split(","):
        system, bar, code = value.rpartition("|")
        if not code:
            raise HTTPException(400, f"identifier {value!r} names no value")
        wanted.append((system if bar else None, code))

    def matches(doc: Doc) -> bool:
        npi = (doc.get("provider") or {}).get("npi")
        return npi is not None and any(
            code == npi and system in (None, resources.US_NPI) for system, code in wanted
        )

    return matches


def _name(values: str) -> Callable[[Doc], bool]:
    """FHIR string search: the name, or any word of it, starts with a value (any case)."""
    wanted = [v.casefold() for v in values.split(",")]

    def matches(doc: Doc) -> bool:
        name = str(doc.get("name") or "").casefold()
        parts = [name, *name.replace(",", " ").split()]
        return any(part.startswith(w) for part in parts for w in wanted)

    return matches


def _among(wanted: set[str]) -> Callable[[Doc], bool]:
    return lambda doc: doc["employee_id"] in wanted


def _at(places: set[str]) -> Callable[[Doc], bool]:
    return lambda doc: bool(resources.location_ids(doc) & places)


def build_router(read_models: ReadModels, clock: Clock) -> APIRouter:
    router = FhirRouter(resources.CAPABILITIES)

    def today() -> str:
        return clock.now().date().isoformat()

    async def practitioners(tenant: str) -> list[Doc]:
        docs = await read_models.find(
            PROJECTION,
            EMPLOYEES,
            {"tenant": tenant, "practitioner": True},
            sort=[("employee_id", 1)],
        )
        return [d for d in (public(doc) for doc in docs) if d is not None and d.get("hired")]

    async def one(tenant: str, kind: str, fhir: str) -> Doc:
        ours = our_id(fhir)
        if ours is None:
            raise HTTPException(400, f"{kind}/{fhir} is not a FHIR id ([A-Za-z0-9-.], 1-64)")
        doc: Document | None = await read_models.get(
            PROJECTION, EMPLOYEES, employee_doc_id(tenant, ours)
        )
        found = public(doc)
        if found is None or not found.get("practitioner") or not found.get("hired"):
            raise HTTPException(404, f"{kind}/{fhir} not found")
        return found

    def answer(request: Request, found: list[dict[str, Any]]) -> Response:
        return FhirResponse(searchset(base_url(request), str(request.url), found))

    @router.get("/Practitioner")
    async def search_practitioners(request: Request, who: Principal = Readers) -> Response:
        """Providers by `_id`, `identifier` (the NPI: `value` or `system|value`) or `name`."""
        query = search_params(request, ("_id", "identifier", "name"))
        tests: list[Callable[[Doc], bool]] = []
        for value in query.get("_id", ()):
            wanted = reference_ids(value, "Practitioner")
            tests.append(_among(wanted))
        tests += [_identifier(v) for v in query.get("identifier", ())]
        tests += [_name(v) for v in query.get("name", ())]
        found = [d for d in await practitioners(who.tenant) if all(t(d) for t in tests)]
        return answer(request, [resources.practitioner(d, today()) for d in found])

    @router.get("/Practitioner/{practitioner_id}")
    async def read_practitioner(
        request: Request, practitioner_id: str, who: Principal = Readers
    ) -> Response:
        """A provider, as appointments and schedules name them."""
        search_params(request, ())
        doc = await one(who.tenant, "Practitioner", practitioner_id)
        return FhirResponse(resources.practitioner(doc, today()))

    @router.get("/PractitionerRole")
    async def search_roles(request: Request, who: Principal = Readers) -> Response:
        """Providers' roles by `_id`, `practitioner` or `location` (a site's Location)."""
        query = search_params(request, ("_id", "practitioner", "location"))
        tests: list[Callable[[Doc], bool]] = []
        for name, kind in (("_id", "PractitionerRole"), ("practitioner", "Practitioner")):
            for value in query.get(name, ()):
                wanted = reference_ids(value, kind)
                tests.append(_among(wanted))
        for value in query.get("location", ()):
            places = {value.removeprefix("Location/") for value in value.split(",")}
            if any("/" in p or our_id(p) is None for p in places):
                raise HTTPException(400, f"{value!r} is not a Location id or reference")
            tests.append(_at(places))
        found = [d for d in await practitioners(who.tenant) if all(t(d) for t in tests)]
        return answer(request, [resources.practitioner_role(d, today()) for d in found])

    @router.get("/PractitionerRole/{role_id}")
    async def read_role(request: Request, role_id: str, who: Principal = Readers) -> Response:
        search_params(request, ())
        doc = await one(who.tenant, "PractitionerRole", role_id)
        return FhirResponse(resources.practitioner_role(doc, today()))

    return router
