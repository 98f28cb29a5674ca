"""Time-off and PTO use cases: requests and their decisions, the tenant's accrual rule, the
balance as of a date (folded from the event store), and the durable accrual timer.

Each decision is made in the employee's time stream, from the event store: the balance a
request or an approval is checked against is that stream's ledger, never a read model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import structlog

from services.staffing.domain import streams
from services.staffing.domain.employment import Employment, employment
from services.staffing.domain.time_off import (
    AccruePto,
    ApproveTimeOff,
    CancelTimeOff,
    DenyTimeOff,
    Kind,
    PtoPolicy,
    RequestTimeOff,
    SetPtoPolicy,
    pto_policy,
    timesheet,
)
from shared.commands import CommandHandler, Outcome
from shared.domain import DomainError, NotFound, Rejected
from shared.events import Metadata
from shared.readmodels import ReadModels
from shared.timers import Timer
from shared.usecases import UseCases

log = structlog.get_logger(__name__)

SYSTEM = "staffing.pto_accrual"


@dataclass(frozen=True)
class Balance:
    """PTO hours as of a day: accrued by periods ended before it, less PTO taken (approved,
    starting before it); `booked` is approved PTO from that day on, `pending` requested PTO,
    `available` what a new request may draw now (accrued less approved less pending)."""

    employee_id: str
    as_of: date
    accrued: float
    taken: float
    balance: float
    booked: float
    pending: float
    available: float
    accrued_through: date | None


class TimeOff(UseCases):
    def __init__(self, handler: CommandHandler) -> None:
        super().__init__(handler)

    async def employment(self, tenant: str, employee_id: str) -> Employment:
        return await self.state(streams.employee(tenant, employee_id), employment)

    async def employee_of(self, tenant: str, request_id: str) -> str:
        """The employee whose request it is, from the event store's tag index."""
        found = await self._handler.store.streams_tagged(streams.time_off_tag(tenant, request_id))
        if not found:
            raise NotFound(f"time-off request {request_id} does not exist")
        return streams.employee_of_time(found[-1])

    async def _decide(self, meta: Metadata, employee_id: str, command: Any) -> Outcome[Any]:
        stream = streams.time_off(meta.tenant, employee_id)
        return await self.decide(stream, timesheet, command, meta, subject=employee_id)

    async def request(
        self,
        meta: Metadata,
        *,
        employee_id: str,
        request_id: str,
        kind: Kind,
        start: datetime,
        end: datetime,
        hours: float | None,
        note: str,
    ) -> Outcome[Any]:
        tagged = await self._handler.store.streams_tagged(
            streams.time_off_tag(meta.tenant, request_id)
        )
        if any(s != streams.time_off(meta.tenant, employee_id) for s in tagged):
            raise Rejected(f"time-off request {request_id} is another employee's")
        command = RequestTimeOff(
            request_id=request_id,
            employee_id=employee_id,
            kind=kind,
            start=start,
            end=end,
            hours=hours,
            note=note,
            employment=await self.employment(meta.tenant, employee_id),
        )
        return await self._decide(meta, employee_id, command)

    async def approve(self, meta: Metadata, employee_id: str, request_id: str) -> Outcome[Any]:
        command = ApproveTimeOff(
            request_id=request_id, employee_id=employee_id, decided_by=meta.actor or ""
        )
        return await self._decide(meta, employee_id, command)

    async def deny(
        self, meta: Metadata, employee_id: str, request_id: str, reason: str
    ) -> Outcome[Any]:
        command = DenyTimeOff(
            request_id=request_id,
            employee_id=employee_id,
            decided_by=meta.actor or "",
            reason=reason,
        )
        return await self._decide(meta, employee_id, command)

    async def cancel(self, meta: Metadata, employee_id: str, request_id: str) -> Outcome[Any]:
        command = CancelTimeOff(request_id=request_id, employee_id=employee_id)
        return await self._decide(meta, employee_id, command)

    # ------------------------------------------------------------------------- PTO

    async def policy(self, tenant: str) -> PtoPolicy:
        return await self.state(streams.pto_policy(tenant), pto_policy)

    async def set_policy(self, meta: Metadata, command: SetPtoPolicy) -> Outcome[Any]:
        stream = streams.pto_policy(meta.tenant)
        return await self.decide(stream, pto_policy, command, meta)

    async def accrue(self, meta: Metadata, employee_id: str, today: date) -> Outcome[Any]:
        """Credit the pay periods that ended before `today` and are not credited yet. Once per
        employee and period however often and wherever it runs: the employee's time stream
        decides, and a concurrent append makes the loser decide again on what the winner
        recorded."""
        policy = await self.policy(meta.tenant)
        command = AccruePto(
            employee_id=employee_id,
            today=today,
            policy_hours=policy.hours_per_period,
            policy_period_days=policy.period_days,
            policy_anchor=policy.anchor,
            policy_max_balance=policy.max_balance,
            employment=await self.employment(meta.tenant, employee_id),
        )
        return await self._decide(meta, employee_id, command)

    async def balance(self, tenant: str, employee_id: str, as_of: date) -> Balance:
        who = await self.employment(tenant, employee_id)
        if not who.exists:
            raise NotFound(f"employee {employee_id} does not exist")
        state = await self.state(streams.time_off(tenant, employee_id), timesheet)
        accrued = round(sum(a.hours for a in state.accruals.values() if a.period_end < as_of), 2)
        pto = [r for r in state.requests.values() if r.kind == "pto"]
        taken = round(
            sum(r.hours for r in pto if r.status == "approved" and r.start.date() < as_of), 2
        )
        booked = round(
            sum(r.hours for r in pto if r.status == "approved" and r.start.date() >= as_of), 2
        )
        pending = state.pto("requested")
        through = max((a.period_end for a in state.accruals.values()), default=None)
        return Balance(
            employee_id=employee_id,
            as_of=as_of,
            accrued=accrued,
            taken=taken,
            balance=round(accrued - taken, 2),
            booked=booked,
            pending=pending,
            available=round(state.available - pending, 2),
            accrued_through=through,
        )


class PtoAccrualTimer(Timer):
    """Credits PTO for every pay period that has ended, for every employee due. The due ones
    come from the PTO read model (rebuilt from the events, so the timer survives restarts);
    several processes may fire it at once, and the employee's time stream records each period
    once. An employee found with nothing to credit (terminated, capped) is not asked again in
    this process until the next period ends."""

    name = "staffing.pto_accrual"

    def __init__(
        self, time_off: TimeOff, read_models: ReadModels, every: float, batch: int = 500
    ) -> None:
        super().__init__(every)
        self._time_off = time_off
        self._read_models = read_models
        self._batch = batch
        self._settled: set[tuple[str, str, date]] = set()

    async def fire_due(self) -> int:
        # Imported here: the projection module imports nothing of the application layer.
        from services.staffing.projections import pto as view

        today = self._time_off.now().date()
        tenants = await self._read_models.find(view.PROJECTION, view.TENANTS)
        credited = 0
        for tenant_doc in tenants:
            tenant = tenant_doc["tenant"]
            policy = view.policy_of(tenant_doc)
            last_end = policy.period_of(today)[0] - timedelta(days=1)
            due = await self._read_models.find(
                view.PROJECTION,
                view.BALANCES,
                {
                    "tenant": tenant,
                    "hired_on": {"$lte": last_end.isoformat()},
                    "accrued_through": {"$lt": last_end.isoformat()},
                },
                limit=self._batch,
            )
            for doc in due:
                key = (tenant, doc["employee_id"], last_end)
                if key in self._settled:
                    continue
                meta = Metadata(
                    tenant=tenant,
                    actor=SYSTEM,
                    correlation_id=f"pto-accrual:{doc['employee_id']}:{last_end}",
                )
                try:
                    outcome = await self._time_off.accrue(meta, doc["employee_id"], today)
                except DomainError as exc:
                    log.warning(
                        "pto_accrual_refused", employee_id=doc["employee_id"], reason=exc.reason
                    )
                    self._settled.add(key)
                    continue
                if not outcome.events:
                    self._settled.add(key)
                credited += len(outcome.events)
        if credited:
            log.info("pto_accrued", periods=credited)
        return credited
