"""What every service's FHIR R4 view shares: ids, responses, errors as OperationOutcomes,
searchset Bundles, and the one CapabilityStatement of the server.

Each service serves the resource types it owns under `/fhir/R4` (scheduling: Patient,
Appointment, Location, Schedule, Slot; staffing: Practitioner, PractitionerRole; billing:
Coverage, ChargeItem, Claim) with a
`FhirRouter`, which declares what it serves (`capabilities`). The process that mounts them adds
`server_routers(routers)` after every service's routes: `GET /fhir/R4/metadata`, listing what
the routers of that process serve, and an OperationOutcome 404 for whatever none serves. So no
service names another's resources, and the statement lists what this process answers.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from shared.http.identity import ROLES, Principal, policy

Resource = dict[str, Any]

BASE = "/fhir/R4"
FHIR_JSON = "application/fhir+json"
FHIR_VERSION = "4.0.1"
CAPABILITIES_DATE = "2026-11-30"  # when what the statement says last changed

# ----------------------------------------------------------------------------- ids
# A FHIR id is `[A-Za-z0-9\-.]{1,64}`; ours are `[A-Za-z0-9_-]{1,64}`. The two alphabets are the
# same size, so an id maps one to one by writing `_` as `.` (ours never hold a `.`).

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
MAX_ID = 64


def fhir_id(our_id: str) -> str:
    """The FHIR id of one of our records (a patient, an appointment, an employee)."""
    return our_id.replace("_", ".")


def our_id(fhir: str) -> str | None:
    """Our id for a FHIR id, or None when it is not a well-formed FHIR id."""
    if not FHIR_ID.fullmatch(fhir):
        return None
    return fhir.replace(".", "_")


def readable_or_digest(readable: str, kind: str, *parts: str) -> str:
    """`readable` while it is shorter than 64 characters, else a digest of what it names."""
    if len(readable) < MAX_ID:
        return readable
    digest = hashlib.sha256("\x00".join((kind, *parts)).encode()).hexdigest()
    return f"{kind}-{digest}"[:MAX_ID]


def site_location_id(site_id: str) -> str:
    """The Location of a site (rooms are Locations too, so sites have a prefix)."""
    return readable_or_digest(f"site-{fhir_id(site_id)}", "site", site_id)


# ----------------------------------------------------------------------------- responses


class FhirResponse(JSONResponse):
    media_type = FHIR_JSON


class FhirRoute(APIRoute):
    """An endpoint whose errors are OperationOutcomes: the suite's problem details, re-dressed."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_as_fhir(request: Request) -> Response:
            try:
                return await handle(request)
            except Exception as exc:
                return await _outcome(request, exc)

        return handle_as_fhir


async def _outcome(request: Request, exc: Exception) -> Response:
    handlers: dict[Any, Callable[..., Any]] = request.app.exception_handlers
    handler = next((handlers[c] for c in type(exc).__mro__ if c in handlers), None)
    if handler is None:
        raise exc
    answer = handler(request, exc)
    if inspect.isawaitable(answer):
        answer = await answer
    assert isinstance(answer, JSONResponse)
    problem = json.loads(bytes(answer.body))
    messages = [problem.get("detail") or problem["title"]]
    messages += [
        f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
        for error in problem.get("errors", ())
    ]
    headers = {k: v for k, v in answer.headers.items() if k in ("retry-after", "www-authenticate")}
    return FhirResponse(
        operation_outcome(answer.status_code, messages),
        status_code=answer.status_code,
        headers=headers,
    )


ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    409: "conflict",
    422: "invalid",
    500: "exception",
    503: "transient",
}


def operation_outcome(status: int, messages: Iterable[str]) -> Resource:
    """An error as FHIR clients expect it: one issue per message."""
    code = ISSUE_CODES.get(status, "processing")
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": m} for m in messages],
    }


def base_url(request: Request) -> str:
    return f"{request.base_url}{BASE.lstrip('/')}/"


def searchset(
    base: str, self_url: str, resources: Sequence[Resource], *, counted: bool = True
) -> Resource:
    """A search result in one page: every match, or (`counted=False`) the first matches of
    a search that does not know how many there are in all, so gives no total. No match, no
    `entry`: FHIR JSON has no empty arrays."""
    bundle: Resource = {
        "resourceType": "Bundle",
        "type": "searchset",
        **({"total": len(resources)} if counted else {}),
        "link": [{"relation": "self", "url": self_url}],
    }
    if resources:
        bundle["entry"] = [
            {
                "fullUrl": f"{base}{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ]
    return bundle


# ----------------------------------------------------------------------------- capabilities


def capability(
    kind: str,
    *params: tuple[str, str, str],
    searchable: bool = True,
    readable: bool = True,
    documentation: str | None = None,
) -> Resource:
    """A resource type's interactions; `params` are (name, type, R4 SearchParameter id)."""
    interactions = [
        *([{"code": "read"}] if readable else []),
        *([{"code": "search-type"}] if searchable else []),
    ]
    resource: Resource = {"type": kind}
    if documentation:
        resource["documentation"] = documentation
    resource.update(
        interaction=interactions, versioning="no-version", readHistory=False, updateCreate=False
    )
    if params:
        resource["searchParam"] = [
            {
                "name": name,
                "definition": f"http://hl7.org/fhir/SearchParameter/{definition}",
                "type": type_,
            }
            for name, type_, definition in params
        ]
    return resource


class FhirRouter(APIRouter):
    """A service's FHIR routes under /fhir/R4, and the resource types they serve."""

    def __init__(self, capabilities: Sequence[Resource]) -> None:
        super().__init__(
            prefix=BASE, tags=["fhir"], route_class=FhirRoute, default_response_class=FhirResponse
        )
        self.capabilities = tuple(capabilities)


def capability_statement(base: str, capabilities: Iterable[Resource]) -> Resource:
    """What this server does: reads and searches of the resources listed, in JSON."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": CAPABILITIES_DATE,
        "publisher": "medoffice",
        "kind": "instance",
        "software": {"name": "medoffice"},
        "implementation": {"description": "medoffice, read-only FHIR view", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": [FHIR_JSON],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Read-only. Search parameters are handled strictly: an unknown or malformed "
                    "one answers 400. Reads that disclose patient data are recorded, with the "
                    "X-Purpose-Of-Use header."
                ),
                "security": {
                    "cors": False,
                    "description": "Bearer JWT naming tenant, sites and roles.",
                },
                "resource": list(capabilities),
            }
        ],
    }


# Any tenant member may ask what the server does; it discloses nothing of the tenant.
Anyone = policy(*ROLES)


def server_routers(routers: Sequence[APIRouter]) -> list[APIRouter]:
    """The FHIR server's own routes for the FhirRouters among `routers` (none without any):
    the CapabilityStatement and, last, an OperationOutcome for what no router serves. Mount
    them after every service's routes."""
    served = [c for r in routers if isinstance(r, FhirRouter) for c in r.capabilities]
    if not served:
        return []
    router = FhirRouter(())

    @router.get("/metadata")
    async def capabilities(request: Request, who: Principal = Anyone) -> Response:
        """The CapabilityStatement: what this FHIR server reads and searches."""
        return FhirResponse(capability_statement(base_url(request), served))

    # Last, so it matches only what no route above serves: a FHIR client asking for another
    # resource type or interaction learns so in an OperationOutcome, as FHIR servers answer.
    @router.get("/{unsupported:path}", include_in_schema=False)
    async def not_served(unsupported: str, who: Principal = Anyone) -> Response:
        kind = unsupported.split("/", 1)[0] or "this"
        raise HTTPException(404, f"{kind} is not served here: GET metadata lists what is")

    return [router]


# ----------------------------------------------------------------------------- searches


def search_params(request: Request, known: Iterable[str]) -> dict[str, list[str]]:
    """A search's query by parameter (a repeat ANDs, a comma inside one ORs); a parameter not
    in `known`, or one without a value, is a 400."""
    allowed = tuple(known)
    found: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        if name not in allowed:
            supported = ", ".join(allowed) or "none"
            raise HTTPException(400, f"unknown search parameter {name!r} (supported: {supported})")
        if not value:
            raise HTTPException(400, f"search parameter {name!r} has no value")
        found.setdefault(name, []).append(value)
    return found


def reference_ids(values: str, kind: str) -> set[str]:
    """`_id` or a reference search's values as our ids: `x` or `Kind/x` (a comma: any)."""
    wanted = set()
    for value in values.split(","):
        bare = value.removeprefix(f"{kind}/")
        if "/" in bare or our_id(bare) is None:
            raise HTTPException(400, f"{value!r} is not a {kind} id or reference")
        wanted.add(bare)
    return wanted
