"""Credentials and payer enrolment over HTTP.

`hr` records and reads every employee's credentials and enrolments; a `manager` those of the
staff at their sites (anyone else's answer 404, as if absent); `staff` read their own. The
expiring list is for hr and managers. Reads take `after_stream` and `after_version` (a
change's `stream` and `stream_version`) to wait until they include that change.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import Field

from services.staffing.application.credentials import Credentials, Enrolments, Expiring
from services.staffing.domain.employment import Employment
from services.staffing.domain.enrolment import Status
from services.staffing.domain.events import CredentialKind
from services.staffing.projections import credentials as view
from shared.documents.port import Document
from shared.http.app import metadata
from shared.http.identity import Principal, policy
from shared.http.routes import Body, Id, Name, PlausibleDay, Recorded, read_after, recorded
from shared.readmodels import ReadModels

Day = PlausibleDay
Number = Annotated[str, Field(min_length=1, max_length=64)]
State = Annotated[str, Field(min_length=1, max_length=8)]  # the decider checks two letters

# Who changes credentials: hr everywhere, managers for the staff at their sites.
Keepers = policy("hr", "manager", site_scoped=True, changes_state=True)
Readers = policy("hr", "manager", "staff", site_scoped=True)
Overseers = policy("hr", "manager", site_scoped=True)
Enrolling = policy("hr", changes_state=True)
EnrolmentReaders = policy("hr", "manager", "biller", "staff", site_scoped=True)

After = Annotated[str | None, Query(max_length=300)]
AfterVersion = Annotated[int | None, Query(ge=1)]


class CredentialIn(Body):
    credential_id: Id | None = None
    kind: CredentialKind
    issuer: Name
    number: Number
    state: State | None = None  # two letters, for state licences and DEA registrations
    issued_on: Day
    expires_on: Day | None = None  # the last day it is valid; none: it does not expire


class RenewalIn(Body):
    expires_on: Day


class VerificationIn(Body):
    source: Name
    result: Literal["verified", "failed"]
    note: Annotated[str, Field(max_length=2000)] = ""


class RevocationIn(Body):
    effective_on: Day
    reason: Name


class EnrolmentIn(Body):
    payer_id: Id
    status: Status
    effective_from: Day
    effective_until: Day | None = None


def _oversees(who: Principal, site_ids: list[str] | tuple[str, ...], employee_id: str) -> bool:
    """Whether the caller may see this employee's credentials and enrolments."""
    roles = set(who.roles)
    if roles & {"hr", "admin", "biller"}:
        return True
    if "manager" in roles and any(who.at_site(s) for s in site_ids):
        return True
    return "staff" in roles and who.sub == employee_id


def _may_change(who: Principal, person: Employment) -> None:
    """hr and admin change anyone's credentials; a manager those of their sites' staff."""
    if set(who.roles) & {"hr", "admin"}:
        return
    if not any(who.at_site(s) for s in person.site_ids):
        raise HTTPException(404, f"employee {person.employee_id} not found")


def credential_out(doc: Document, holder: Document | None, today: date) -> dict[str, Any]:
    expires = doc.get("expires_on")
    invalid_from = doc.get("invalid_from")
    days_left = (date.fromisoformat(expires) - today).days if expires else None
    valid = (days_left is None or days_left >= 0) and (
        invalid_from is None or today.isoformat() < invalid_from
    )
    return {
        "credential_id": doc["credential_id"],
        "employee_id": doc["employee_id"],
        "employee_name": holder.get("name") if holder else None,
        "kind": doc["kind"],
        "issuer": doc["issuer"],
        "number": doc["number"],
        "state": doc.get("state"),
        "issued_on": doc["issued_on"],
        "expires_on": expires,
        "days_left": days_left,
        "valid_today": valid,
        "invalid_from": invalid_from,
        "revoked_on": doc.get("revoked_on"),
        "revocation_reason": doc.get("revocation_reason"),
        "last_verification": doc.get("last_verification"),
        "last_reminder": doc.get("last_reminder"),
        "renewals": doc.get("renewals", 0),
    }


def expiring_out(row: Expiring) -> dict[str, Any]:
    doc, holder = row.credential, row.holder
    return {
        "credential_id": doc["credential_id"],
        "employee_id": doc["employee_id"],
        "employee_name": holder["name"],
        "site_ids": holder["site_ids"],
        "kind": doc["kind"],
        "state": doc.get("state"),
        "number": doc["number"],
        "expires_on": doc["expires_on"],
        "days_left": row.days_left,
        "invalid_from": doc.get("invalid_from"),
        "last_verification": doc.get("last_verification"),
        "last_reminder": doc.get("last_reminder"),
    }


ENROLMENT_FIELDS = (
    "enrolment_id",
    "employee_id",
    "payer_id",
    "status",
    "effective_from",
    "effective_until",
    "history",
)


def build_router(
    credentials: Credentials, enrolments: Enrolments, read_models: ReadModels, wait_timeout: float
) -> APIRouter:
    router = APIRouter(prefix="/staffing", tags=["credentials"])

    async def wait(who: Principal, after_stream: str | None, after_version: int | None) -> None:
        """Read-your-writes for a credential, enrolment or employee stream of the caller's
        tenant: wait until its read-model document has seen `after_version`."""
        if after_version is None:
            return
        if after_stream is None:
            raise HTTPException(400, "after_version needs the after_stream it belongs to")
        tenant, _, rest = after_stream.partition(":")
        kind, _, key = rest.partition(":")
        where = {
            "credential": (view.PROJECTION, view.CREDENTIALS),
            "employee": (view.PROJECTION, view.HOLDERS),
            "enrolment": (view.ENROLMENTS_PROJECTION, view.ENROLMENTS),
        }.get(kind)
        if tenant != who.tenant or where is None or not key:
            raise HTTPException(400, "after_stream names no credential, enrolment or employee")
        projection, collection = where
        await read_after(
            read_models,
            projection,
            collection,
            view.doc_id(tenant, key),
            after_stream,
            after_version,
            wait_timeout,
            credentials.stream_version,
        )

    async def changeable(who: Principal, credential_id: str) -> None:
        _may_change(who, await credentials.holder_of(who.tenant, credential_id))

    # --------------------------------------------------------------------------- credentials

    @router.post("/employees/{employee_id}/credentials", status_code=201)
    async def record(
        request: Request, employee_id: Id, body: CredentialIn, who: Principal = Keepers
    ) -> Recorded:
        """Record a licence, certification, registration or cover an employee holds. 422 for
        an expiry before the issue date, or a state licence or DEA registration without its
        two-letter state; 404 for an employee not hired (or not at a manager's sites)."""
        _may_change(who, await credentials.employee(who.tenant, employee_id))
        credential_id = body.credential_id or credentials.new_id()
        outcome = await credentials.record(
            metadata(request, who),
            credential_id=credential_id,
            employee_id=employee_id,
            **body.model_dump(exclude={"credential_id"}),
        )
        return recorded(credential_id, outcome)

    @router.post("/credentials/{credential_id}/renewal", status_code=201)
    async def renew(
        request: Request, credential_id: Id, body: RenewalIn, who: Principal = Keepers
    ) -> Recorded:
        """Valid to a later last day (422 for one not after the current; 409 once revoked).
        Expiry reminders start again for the new day."""
        await changeable(who, credential_id)
        outcome = await credentials.renew(metadata(request, who), credential_id, body.expires_on)
        return recorded(credential_id, outcome)

    @router.post("/credentials/{credential_id}/verifications", status_code=201)
    async def verify(
        request: Request, credential_id: Id, body: VerificationIn, who: Principal = Keepers
    ) -> Recorded:
        """A primary-source verification by the caller, now. `failed` makes the credential
        invalid from today (until a later verification succeeds)."""
        await changeable(who, credential_id)
        outcome = await credentials.verify(
            metadata(request, who), credential_id, **body.model_dump()
        )
        return recorded(credential_id, outcome)

    @router.post("/credentials/{credential_id}/revocation", status_code=201)
    async def revoke(
        request: Request, credential_id: Id, body: RevocationIn, who: Principal = Keepers
    ) -> Recorded:
        """Revoked, suspended or surrendered: invalid from `effective_on`; no more reminders.
        409 when revoked already."""
        await changeable(who, credential_id)
        outcome = await credentials.revoke(
            metadata(request, who), credential_id, **body.model_dump()
        )
        return recorded(credential_id, outcome)

    @router.get("/credentials/expiring")
    async def expiring(
        who: Principal = Overseers,
        within_days: Annotated[int, Query(ge=0, le=3650)] = 90,
        site_id: Id | None = None,
        after_stream: After = None,
        after_version: AfterVersion = None,
    ) -> dict[str, Any]:
        """Credentials of people employed now, not revoked, whose last valid day is within
        `within_days` of today (expiring, or expired lately), soonest first, with the
        holder's name, the days left (negative: expired) and the latest verification.
        Managers see their sites' staff only; `site_id` narrows to one site."""
        await wait(who, after_stream, after_version)
        if site_id is not None and not who.at_site(site_id):
            raise HTTPException(403, f"You do not work at site {site_id}")
        sites: list[str] | None = None
        if site_id is not None:
            sites = [site_id]
        elif not set(who.roles) & {"hr", "admin"} and who.sites != "*":
            sites = list(who.sites)
        rows = await credentials.expiring(who.tenant, within_days, sites)
        return {
            "today": credentials.today().isoformat(),
            "within_days": within_days,
            "credentials": [expiring_out(r) for r in rows],
        }

    @router.get("/credentials/{credential_id}")
    async def get(
        credential_id: Id,
        who: Principal = Readers,
        after_stream: After = None,
        after_version: AfterVersion = None,
    ) -> dict[str, Any]:
        """One credential: what it is, its last valid day and days left, whether it is valid
        today, its latest verification and reminder."""
        await wait(who, after_stream, after_version)
        doc, holder = await credentials.get(who.tenant, credential_id)
        sites = holder["site_ids"] if holder else []
        if not _oversees(who, sites, doc["employee_id"]):
            raise HTTPException(404, f"credential {credential_id} not found")
        return credential_out(doc, holder, credentials.today())

    async def overseen(who: Principal, employee_id: str) -> Document:
        """The employee as the credentials read model holds them, if the caller oversees them
        (404 otherwise, as if absent)."""
        holder = await credentials.holder(who.tenant, employee_id)
        if holder is None or not _oversees(who, holder["site_ids"], employee_id):
            raise HTTPException(404, f"employee {employee_id} not found")
        return holder

    @router.get("/employees/{employee_id}/credentials")
    async def of_employee(
        employee_id: Id,
        who: Principal = Readers,
        after_stream: After = None,
        after_version: AfterVersion = None,
    ) -> dict[str, Any]:
        """Every credential an employee holds (staff: their own)."""
        await wait(who, after_stream, after_version)
        holder = await overseen(who, employee_id)
        today = credentials.today()
        docs = await credentials.of_employee(who.tenant, employee_id)
        return {
            "employee_id": employee_id,
            "credentials": [credential_out(d, holder, today) for d in docs],
        }

    # ----------------------------------------------------------------------------- enrolment

    @router.post("/employees/{employee_id}/enrolments", status_code=201)
    async def enrol(
        request: Request, employee_id: Id, body: EnrolmentIn, who: Principal = Enrolling
    ) -> Recorded:
        """A provider's enrolment with a payer moves to `status`: applied, then enrolled or
        denied; enrolled to terminated; denied or terminated to applied again. Anything else
        is a 409; an employee who is not a provider a 422."""
        outcome = await enrolments.change(
            metadata(request, who), employee_id=employee_id, **body.model_dump()
        )
        return recorded(outcome.events[-1].enrolment_id, outcome)  # type: ignore[attr-defined]

    @router.get("/employees/{employee_id}/enrolments")
    async def enrolments_of(
        employee_id: Id,
        who: Principal = EnrolmentReaders,
        after_stream: After = None,
        after_version: AfterVersion = None,
    ) -> dict[str, Any]:
        """A provider's enrolment with each payer, latest status first-class, with history."""
        await wait(who, after_stream, after_version)
        await overseen(who, employee_id)
        docs = await enrolments.find(who.tenant, employee_id=employee_id)
        return {
            "employee_id": employee_id,
            "enrolments": [{k: d.get(k) for k in ENROLMENT_FIELDS} for d in docs],
        }

    @router.get("/enrolments")
    async def listing(
        who: Principal = EnrolmentReaders,
        payer_id: Id | None = None,
        status: Status | None = None,
        after_stream: After = None,
        after_version: AfterVersion = None,
    ) -> dict[str, Any]:
        """Enrolments by payer and status (managers: their sites' providers; staff: their
        own)."""
        await wait(who, after_stream, after_version)
        docs = await enrolments.find(who.tenant, payer_id=payer_id, status=status)
        if not set(who.roles) & {"hr", "admin", "biller"}:
            holders = await credentials.holders_of(who.tenant, [d["employee_id"] for d in docs])
            docs = [
                d
                for d in docs
                if _oversees(
                    who,
                    holders.get(view.doc_id(who.tenant, d["employee_id"]), {}).get("site_ids", []),
                    d["employee_id"],
                )
            ]
        return {"enrolments": [{k: d.get(k) for k in ENROLMENT_FIELDS} for d in docs]}

    return router
