"""Time off and PTO over HTTP.

An employee (role `staff`, token `sub` = their employee id) requests and cancels their own
time off; HR does for anyone. Their manager (token `sub` = the employee's `manager_id`, working
at one of the employee's sites) or HR approves or denies. Balances: the employee, their sites'
managers and HR.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import Field

from services.staffing.api.shifts import Day, Moment
from services.staffing.application.time_off import TimeOff
from services.staffing.domain.employment import Employment
from services.staffing.domain.time_off import SetPtoPolicy
from services.staffing.projections import pto as pto_view
from shared.domain import NotFound
from shared.http.app import metadata
from shared.http.identity import Principal, policy
from shared.http.routes import Body, Id, Name, Recorded, check_site, recorded
from shared.readmodels import ReadModels

Requesters = policy("staff", "hr", changes_state=True)
Deciders = policy("manager", "hr", site_scoped=True, changes_state=True)
BalanceReaders = policy("staff", "manager", "hr", site_scoped=True)
SiteBalanceReaders = policy("manager", "hr", site_scoped=True)
Admins = policy(changes_state=True)

Note = Annotated[str, Field(max_length=2000)]


class TimeOffIn(Body):
    request_id: Id | None = None
    kind: Literal["pto", "sick", "unpaid", "other"]
    start: Moment
    end: Moment
    hours: float | None = Field(default=None, ge=0, le=9000)
    note: Note = ""


class DenialIn(Body):
    reason: Name


class PtoPolicyIn(Body):
    hours_per_period: float = Field(ge=0, le=80)
    period_days: int = Field(default=14, ge=7, le=31)
    anchor: Day
    max_balance: float | None = Field(default=None, ge=0, le=9000)


def _all_records(who: Principal) -> bool:
    """HR (and admin) act on every employee record of the tenant."""
    return bool({"hr", "admin"} & set(who.roles))


def check_self(who: Principal, employee_id: str) -> None:
    """403 unless HR, or the employee themselves."""
    if not _all_records(who) and who.sub != employee_id:
        raise HTTPException(403, "Staff act on their own record only")


def check_manager(who: Principal, employee: Employment) -> None:
    """403 unless HR, or the employee's manager working at one of the employee's sites."""
    if _all_records(who):
        return
    if employee.manager_id != who.sub or not any(who.at_site(s) for s in employee.site_ids):
        raise HTTPException(403, "Only the employee's manager or HR decides their time off")


def build_router(time_off: TimeOff, read_models: ReadModels) -> APIRouter:
    router = APIRouter(prefix="/staffing", tags=["time off"])

    @router.post("/employees/{employee_id}/time-off", status_code=201)
    async def request_time_off(
        request: Request, employee_id: Id, body: TimeOffIn, who: Principal = Requesters
    ) -> Recorded:
        """A request for time off. PTO beyond the balance (accrued less approved and pending
        PTO) is a 409: a conflict with the ledger as it stands, which later accruals lift."""
        check_self(who, employee_id)
        request_id = body.request_id or time_off.new_id()
        outcome = await time_off.request(
            metadata(request, who),
            employee_id=employee_id,
            request_id=request_id,
            kind=body.kind,
            start=body.start,
            end=body.end,
            hours=body.hours,
            note=body.note,
        )
        return recorded(request_id, outcome)

    async def _decided_by_manager(who: Principal, request_id: str) -> str:
        employee_id = await time_off.employee_of(who.tenant, request_id)
        check_manager(who, await time_off.employment(who.tenant, employee_id))
        return employee_id

    @router.post("/time-off/{request_id}/approve")
    async def approve(request: Request, request_id: Id, who: Principal = Deciders) -> Recorded:
        """Approve a requested time off; the employee's shifts inside it are unassigned."""
        employee_id = await _decided_by_manager(who, request_id)
        outcome = await time_off.approve(metadata(request, who), employee_id, request_id)
        return recorded(request_id, outcome)

    @router.post("/time-off/{request_id}/deny")
    async def deny(
        request: Request, request_id: Id, body: DenialIn, who: Principal = Deciders
    ) -> Recorded:
        employee_id = await _decided_by_manager(who, request_id)
        outcome = await time_off.deny(metadata(request, who), employee_id, request_id, body.reason)
        return recorded(request_id, outcome)

    @router.post("/time-off/{request_id}/cancel")
    async def cancel(request: Request, request_id: Id, who: Principal = Requesters) -> Recorded:
        employee_id = await time_off.employee_of(who.tenant, request_id)
        check_self(who, employee_id)
        outcome = await time_off.cancel(metadata(request, who), employee_id, request_id)
        return recorded(request_id, outcome)

    @router.get("/employees/{employee_id}/pto")
    async def balance(
        employee_id: Id,
        who: Principal = BalanceReaders,
        as_of: Annotated[Day | None, Query()] = None,
    ) -> dict[str, Any]:
        """The employee's PTO as of a day (today unless `as_of`), from the event store."""
        if "manager" in who.roles and not _all_records(who) and who.sub != employee_id:
            employee = await time_off.employment(who.tenant, employee_id)
            if not employee.exists:
                raise NotFound(f"employee {employee_id} does not exist")
            if not any(who.at_site(s) for s in employee.site_ids):
                raise HTTPException(403, "The employee works at none of your sites")
        else:
            check_self(who, employee_id)
        day = as_of or time_off.now().date()
        found = await time_off.balance(who.tenant, employee_id, day)
        return {
            **found.__dict__,
            "as_of": found.as_of.isoformat(),
            "accrued_through": found.accrued_through.isoformat() if found.accrued_through else None,
        }

    @router.get("/sites/{site_id}/pto-balances")
    async def site_balances(site_id: Id, who: Principal = SiteBalanceReaders) -> dict[str, Any]:
        """The PTO balances of the site's employees (the read model: accrued, approved,
        pending, balance)."""
        check_site(who, site_id)
        listed = await pto_view.site_balances(read_models, who.tenant, site_id)
        return {"site_id": site_id, "employees": listed}

    @router.put("/pto-policy")
    async def set_policy(request: Request, body: PtoPolicyIn, who: Principal = Admins) -> Recorded:
        """The tenant's accrual rule; periods already credited stay as they were."""
        command = SetPtoPolicy(**body.model_dump())
        outcome = await time_off.set_policy(metadata(request, who), command)
        return recorded(who.tenant, outcome)

    return router
