"""Employees over HTTP: hire, job changes, leave, termination, rehire, personal and provider
details, an employee's record and the staff directory of a site.

Who sees what: `hr` (and `admin`) reads and changes every employee record of the tenant,
personal contact data included. A `manager` reads the job data of the staff of their sites,
never personal contact data, and no other site's staff (as if they were not there: 404). A
`staff` member reads their own record (`sub` is their employee id), their personal data
included. Every answer that holds personal data is recorded (`PersonalRecordAccessed`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import AfterValidator, Field

from services.staffing.application.employees import Employees
from services.staffing.domain.employees import (
    ChangeJob,
    EndLeave,
    Hire,
    Job,
    PersonalDetails,
    ProviderDetails,
    Rehire,
    StartLeave,
    Terminate,
)
from services.staffing.domain.events import Role
from services.staffing.projections.directory import (
    EMPLOYEES,
    PERSONAL,
    PERSONAL_FIELDS,
    PROJECTION,
    SITE_STAFF,
    employee_doc_id,
    site_staff_id,
)
from shared.access import record_disclosure
from shared.clock import Clock
from shared.http.app import metadata
from shared.http.identity import Principal, policy
from shared.http.routes import Body, Id, Name, Recorded, read_after, recorded
from shared.phivault import PhiVault
from shared.readmodels import ReadModels, public

# Changing an employee record is hr's (and admin's) work.
HumanResources = policy("hr", changes_state=True)
# Reading one: hr the whole tenant, managers their sites' staff, staff themselves.
RecordReaders = policy("hr", "manager", "staff", site_scoped=True)
DirectoryReaders = policy("hr", "manager", site_scoped=True)
Forgetting = policy("hr", changes_state=True)

# The days an employee record names: a year 1 or 9999 is a 422 naming the field, before any
# arithmetic (the suite's calendar, as scheduling's).
FIRST_DAY, LAST_DAY = date(1800, 1, 1), date(2199, 12, 31)


def _in_calendar(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"must lie between {FIRST_DAY} and {LAST_DAY}")
    return value


Day = Annotated[date, AfterValidator(_in_calendar)]
Text = Annotated[str, Field(min_length=1, max_length=500)]
Fte = Annotated[float, Field(gt=0, le=1)]
Npi = Annotated[str, Field(pattern=r"^\d{10}$")]
Taxonomy = Annotated[str, Field(pattern=r"^[0-9A-Z]{9}X$")]  # NUCC: e.g. 207Q00000X
After = Annotated[str | None, Query(max_length=300)]
AfterVersion = Annotated[int | None, Query(ge=1)]


class JobIn(Body):
    title: Name
    role: Role
    site_ids: list[Id] = Field(min_length=1, max_length=50)
    fte: Fte
    manager_id: Id | None = None

    def job(self) -> Job:
        return Job(
            title=self.title,
            role=self.role,
            site_ids=tuple(self.site_ids),
            fte=self.fte,
            manager_id=self.manager_id,
        )


class PersonalIn(Body):
    home_address: Text | None = None
    phone: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    emergency_contact: Text | None = None
    birth_date: Day | None = None

    def details(self) -> PersonalDetails:
        return PersonalDetails(**self.model_dump())


class ProviderIn(Body):
    npi: Npi
    taxonomy_code: Taxonomy
    specialty: Name

    def details(self) -> ProviderDetails:
        return ProviderDetails(**self.model_dump())


class HireIn(JobIn):
    employee_id: Id | None = None
    name: Name
    hired_on: Day
    personal: PersonalIn | None = None
    provider: ProviderIn | None = None


class ChangeJobIn(JobIn):
    effective_on: Day


class RehireIn(JobIn):
    hired_on: Day


class LeaveIn(Body):
    leave_id: Id | None = None
    reason: Name
    starts_on: Day
    expected_return_on: Day | None = None


class ReturnIn(Body):
    returned_on: Day


class TerminationIn(Body):
    last_day: Day
    reason: Name


class ForgetIn(Body):
    reason: Name


def _tenant_wide(who: Principal) -> bool:
    """hr and admin read every employee record of the tenant, whatever sites they name."""
    return bool({"hr", "admin"} & set(who.roles))


def _own(who: Principal, employee_id: str) -> bool:
    return "staff" in who.roles and who.sub == employee_id


def build_router(
    employees: Employees,
    read_models: ReadModels,
    vault: PhiVault,
    clock: Clock,
    read_timeout: float,
) -> APIRouter:
    router = APIRouter(prefix="/staffing", tags=["staffing"])

    async def wait(collection: str, doc_id: str, stream: str, version: int) -> None:
        await read_after(
            read_models,
            PROJECTION,
            collection,
            doc_id,
            stream,
            version,
            read_timeout,
            employees.stream_version,
        )

    def after(who: Principal, stream: str | None, version: int | None) -> str | None:
        if version is None:
            return None
        if stream is None or not stream.startswith(f"{who.tenant}:"):
            raise HTTPException(400, "after_version needs the after_stream it belongs to")
        return stream

    async def change(
        request: Request,
        who: Principal,
        employee_id: str,
        decide: Callable[..., Awaitable[Any]],
        command: Any,
    ) -> Recorded:
        return recorded(employee_id, await decide(metadata(request, who), command))

    @router.post("/employees", status_code=201)
    async def hire(request: Request, body: HireIn, who: Principal = HumanResources) -> Recorded:
        """Hire someone: their job, and (optionally) personal details, sealed under their own
        key, and provider details (NPI, taxonomy, specialty; providers only)."""
        employee_id = body.employee_id or employees.new_id()
        command = Hire(
            employee_id=employee_id,
            name=body.name,
            job=body.job(),
            hired_on=body.hired_on,
            personal=body.personal.details() if body.personal else None,
            provider=body.provider.details() if body.provider else None,
        )
        return await change(request, who, employee_id, employees.hire, command)

    @router.post("/employees/{employee_id}/job", status_code=201)
    async def change_job(
        request: Request, employee_id: Id, body: ChangeJobIn, who: Principal = HumanResources
    ) -> Recorded:
        command = ChangeJob(employee_id=employee_id, job=body.job(), effective_on=body.effective_on)
        return await change(request, who, employee_id, employees.change_job, command)

    @router.post("/employees/{employee_id}/leave", status_code=201)
    async def start_leave(
        request: Request, employee_id: Id, body: LeaveIn, who: Principal = HumanResources
    ) -> Recorded:
        leave_id = body.leave_id or employees.new_id()
        command = StartLeave(
            employee_id=employee_id,
            leave_id=leave_id,
            reason=body.reason,
            starts_on=body.starts_on,
            expected_return_on=body.expected_return_on,
        )
        outcome = await employees.change(metadata(request, who), command)
        return recorded(leave_id, outcome)

    @router.post("/employees/{employee_id}/leave/{leave_id}/end", status_code=201)
    async def end_leave(
        request: Request,
        employee_id: Id,
        leave_id: Id,
        body: ReturnIn,
        who: Principal = HumanResources,
    ) -> Recorded:
        command = EndLeave(employee_id=employee_id, leave_id=leave_id, returned_on=body.returned_on)
        outcome = await employees.change(metadata(request, who), command)
        return recorded(leave_id, outcome)

    @router.post("/employees/{employee_id}/termination", status_code=201)
    async def terminate(
        request: Request, employee_id: Id, body: TerminationIn, who: Principal = HumanResources
    ) -> Recorded:
        command = Terminate(employee_id=employee_id, last_day=body.last_day, reason=body.reason)
        return await change(request, who, employee_id, employees.change, command)

    @router.post("/employees/{employee_id}/rehire", status_code=201)
    async def rehire(
        request: Request, employee_id: Id, body: RehireIn, who: Principal = HumanResources
    ) -> Recorded:
        command = Rehire(employee_id=employee_id, job=body.job(), hired_on=body.hired_on)
        return await change(request, who, employee_id, employees.rehire, command)

    @router.put("/employees/{employee_id}/personal")
    async def record_personal(
        request: Request, employee_id: Id, body: PersonalIn, who: Principal = HumanResources
    ) -> Recorded:
        """Record personal details: each field given replaces what was recorded; a field
        left out stays as it was."""
        outcome = await employees.record_personal_details(
            metadata(request, who), employee_id, body.details()
        )
        return recorded(employee_id, outcome)

    @router.post("/employees/{employee_id}/provider", status_code=201)
    async def record_provider(
        request: Request, employee_id: Id, body: ProviderIn, who: Principal = HumanResources
    ) -> Recorded:
        outcome = await employees.record_provider_details(
            metadata(request, who), employee_id, body.details()
        )
        return recorded(employee_id, outcome)

    @router.post("/employees/{employee_id}/forget-personal-data", status_code=201)
    async def forget_personal_data(
        request: Request, employee_id: Id, body: ForgetIn, who: Principal = Forgetting
    ) -> Recorded:
        """Destroy the employee's data key: their personal data, everywhere, reads back
        redacted. Their employment record stays."""
        outcome = await employees.forget_personal_data(
            metadata(request, who), employee_id, body.reason
        )
        return recorded(employee_id, outcome)

    @router.get("/employees/{employee_id}")
    async def employee(
        request: Request,
        employee_id: Id,
        who: Principal = RecordReaders,
        after_stream: After = None,
        after_version: AfterVersion = None,
    ) -> dict[str, Any]:
        """An employee's record. hr, and the employee themself, see their personal details
        too (the read is recorded as PersonalRecordAccessed); a manager of one of their sites
        sees their job only; anyone else learns nothing (404). `after_stream`/`after_version`
        (a change's `stream` and `stream_version`) wait until the record includes it."""
        doc_id = employee_doc_id(who.tenant, employee_id)
        stream = after(who, after_stream, after_version)
        tenant_wide, own = _tenant_wide(who), _own(who, employee_id)
        if stream is not None and (tenant_wide or own):
            assert after_version is not None
            await wait(EMPLOYEES, doc_id, stream, after_version)
        doc = public(await read_models.get(PROJECTION, EMPLOYEES, doc_id))
        managed = (
            doc is not None
            and "manager" in who.roles
            and any(who.at_site(site) for site in doc.get("site_ids", ()))
        )
        if doc is None or not doc.get("hired") or not (tenant_wide or own or managed):
            raise HTTPException(404, f"employee {employee_id} not found")
        if stream is not None and not (tenant_wide or own):
            assert after_version is not None
            await wait(EMPLOYEES, doc_id, stream, after_version)
            doc = public(await read_models.get(PROJECTION, EMPLOYEES, doc_id)) or doc
        record = _record(doc)
        if tenant_wide or own:
            personal = public(await read_models.get(PROJECTION, PERSONAL, doc_id)) or {}
            await vault.reveal_fields(who.tenant, personal, *PERSONAL_FIELDS)
            record["personal"] = {k: personal.get(k) for k in PERSONAL_FIELDS}
            await record_disclosure(employees, request, who, [employee_id])
        return record

    @router.get("/sites/{site_id}/staff")
    async def site_staff(
        site_id: Id,
        who: Principal = DirectoryReaders,
        after_stream: After = None,
        after_version: AfterVersion = None,
    ) -> list[dict[str, Any]]:
        """The staff directory of a site: everyone employed there today (on leave included,
        terminated only until their last day), with title, role, FTE, manager and NPI.
        `after_stream`/`after_version` (an employee stream's change) wait until it is in."""
        if not _tenant_wide(who) and not who.at_site(site_id):
            raise HTTPException(403, f"You do not work at site {site_id}")
        stream = after(who, after_stream, after_version)
        if stream is not None:
            assert after_version is not None
            prefix = f"{who.tenant}:employee:"
            if not stream.startswith(prefix):
                raise HTTPException(400, "after_stream names an employee's stream")
            changed = stream.removeprefix(prefix)
            await wait(EMPLOYEES, employee_doc_id(who.tenant, changed), stream, after_version)
            line_id = site_staff_id(who.tenant, site_id, changed)
            if await read_models.get(PROJECTION, SITE_STAFF, line_id) is not None:
                await wait(SITE_STAFF, line_id, stream, after_version)
        today = clock.now().date().isoformat()
        docs = await read_models.find(
            PROJECTION,
            SITE_STAFF,
            {"tenant": who.tenant, "site_id": site_id, "listed": True},
            sort=[("name", 1), ("employee_id", 1)],
        )
        return [
            {k: v for k, v in d.items() if k not in ("tenant", "listed")}
            for d in (public(doc) or {} for doc in docs)
            if not d.get("last_day") or d["last_day"] >= today
        ]

    return router


RECORD_FIELDS = (
    "employee_id",
    "name",
    "title",
    "role",
    "site_ids",
    "fte",
    "manager_id",
    "hired_on",
    "rehired",
    "status",
    "leave",
    "last_day",
    "termination_reason",
    "provider",
)


def _record(doc: dict[str, Any]) -> dict[str, Any]:
    """An employee's job data as the API shows it (no personal data, no bookkeeping)."""
    return {k: doc.get(k) for k in RECORD_FIELDS}
