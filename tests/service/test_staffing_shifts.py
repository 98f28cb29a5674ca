"""Shifts, time off and PTO on the service layer: accrual is recorded once per employee and pay
period, across restarts and across two processes racing on one event store; rostering and
time off decide from the event store."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, date, datetime, time

import pytest

from services.staffing import app as staffing
from services.staffing.application.time_off import PtoAccrualTimer
from services.staffing.domain import streams
from services.staffing.domain.events import (
    EmployeeHired,
    EmployeeTerminated,
    PtoAccrued,
    ShiftAssigned,
)
from services.staffing.domain.shifts import DefineShiftTemplate
from services.staffing.domain.time_off import PtoPolicy
from services.staffing.projections import pto as pto_view
from shared.backends import Backends
from shared.clock import UuidIds
from shared.domain import Decider, Rejected
from shared.events import DomainEvent
from shared.kit import Assembled, assemble_parts
from tests.service.conftest import META
from tests.support import TestRunClock, wait_until

Staffing = Assembled[staffing.UseCases]

# Appends the events it is given: how these tests stand in for the people area's hiring.
RECORD: Decider[None, Sequence[DomainEvent]] = Decider(None, lambda s, e: s, lambda s, c: c)

HIRED_ON = date(2026, 1, 12)


async def hire(built: Staffing, employee_id: str, *more: DomainEvent) -> None:
    hired = EmployeeHired(
        employee_id=employee_id,
        name="Dana",
        title="Medical assistant",
        role="medical_assistant",
        site_ids=("north",),
        fte=1.0,
        manager_id="m1",
        hired_on=HIRED_ON,
    )
    stream = streams.employee("acme", employee_id)
    await built.kit.handler.handle(stream, RECORD, [hired, *more], META)


async def accruals(built: Staffing, employee_id: str) -> list[PtoAccrued]:
    envelopes = await built.kit.store.load(streams.employee_time("acme", employee_id))
    events = [built.kit.handler.registry.decode(e) for e in envelopes]
    return [e for e in events if isinstance(e, PtoAccrued)]


def due_periods() -> int:
    """Pay periods from the hire that ended before the test clock's today (26 Nov 2026)."""
    return len(PtoPolicy().completed(HIRED_ON, TestRunClock().now().date()))


async def another_process(backends: Backends) -> Staffing:
    built = await assemble_parts(staffing.SPEC, backends, TestRunClock(), UuidIds())
    await built.service.start()
    return built


async def test_accrual_once_per_period_across_restarts(
    staffing_service: Staffing, backends: Backends
) -> None:
    await hire(staffing_service, "e1")
    today = staffing_service.use_cases.time_off.now().date()
    await staffing_service.use_cases.time_off.accrue(META, "e1", today)
    assert len(await accruals(staffing_service, "e1")) == due_periods() == 22
    await staffing_service.service.stop()
    restarted = await another_process(backends)  # a new process: nothing folded in memory
    try:
        again = await restarted.use_cases.time_off.accrue(META, "e1", today)
        assert again.events == ()
    finally:
        await restarted.service.stop()
        await staffing_service.service.start()  # the fixture stops it again
    assert len(await accruals(staffing_service, "e1")) == 22


async def test_two_processes_racing_record_each_period_once(
    staffing_service: Staffing, backends: Backends
) -> None:
    await hire(staffing_service, "e1")
    await hire(staffing_service, "e2")
    other = await another_process(backends)
    try:
        today = staffing_service.use_cases.time_off.now().date()
        both = [
            built.use_cases.time_off.accrue(META, employee, today)
            for employee in ("e1", "e2")
            for built in (staffing_service, other)
            for _ in range(2)
        ]
        # The new process's own timer fires at start, too: a third contender.
        outcomes = await asyncio.gather(*both)
        assert sum(len(o.events) for o in outcomes) <= 2 * due_periods()
    finally:
        await other.service.stop()
    for employee in ("e1", "e2"):
        periods = [a.period_start for a in await accruals(staffing_service, employee)]
        assert len(periods) == len(set(periods)) == due_periods()


async def test_the_timers_of_two_processes_credit_each_period_once(
    staffing_service: Staffing, backends: Backends
) -> None:
    await hire(staffing_service, "e1")
    await hire(
        staffing_service,
        "gone",
        EmployeeTerminated(employee_id="gone", last_day=date(2026, 3, 1), reason="left"),
    )
    read_models = staffing_service.kit.read_models

    async def projected() -> bool:
        docs = await read_models.find(pto_view.PROJECTION, pto_view.BALANCES)
        return len(docs) == 2

    await wait_until(projected, message="both employees in the PTO read model")
    other = await another_process(backends)
    try:
        timers = [
            PtoAccrualTimer(built.use_cases.time_off, built.kit.read_models, every=3600)
            for built in (staffing_service, other)
        ]
        await asyncio.gather(*(t.fire_due() for t in timers))
        await asyncio.gather(*(t.fire_due() for t in timers))
    finally:
        await other.service.stop()
    assert len(await accruals(staffing_service, "e1")) == 22
    # Terminated on 1 March: the periods ending by then, and no more.
    assert len(await accruals(staffing_service, "gone")) == 3

    async def balance() -> bool:
        doc = await read_models.get(pto_view.PROJECTION, pto_view.BALANCES, "acme:e1")
        return doc is not None and doc["accrued"] == round(22 * 4.62, 2)

    await wait_until(balance, message="the accruals in the PTO read model")


async def test_a_request_is_decided_from_the_ledger_in_the_event_store(
    staffing_service: Staffing,
) -> None:
    await hire(staffing_service, "e1")
    use_cases = staffing_service.use_cases.time_off
    today = use_cases.now().date()
    await use_cases.accrue(META, "e1", today)  # 22 x 4.62 = 101.64 h
    start, end = "2026-12-07T00:00:00+00:00", "2026-12-19T00:00:00+00:00"
    asked = await use_cases.request(
        META,
        employee_id="e1",
        request_id="r1",
        kind="pto",
        start=datetime.fromisoformat(start),
        end=datetime.fromisoformat(end),
        hours=100,
        note="",
    )
    assert asked.stream == streams.time_off("acme", "e1")
    with pytest.raises(Rejected, match="100.0 h of it already requested"):
        await use_cases.request(
            META,
            employee_id="e1",
            request_id="r2",
            kind="pto",
            start=datetime.fromisoformat("2026-12-21T00:00:00+00:00"),
            end=datetime.fromisoformat("2026-12-22T00:00:00+00:00"),
            hours=8,
            note="",
        )
    assert await use_cases.employee_of("acme", "r1") == "e1"
    found = await use_cases.balance("acme", "e1", date(2026, 12, 31))
    assert (found.accrued, found.pending, found.available) == (101.64, 100.0, 1.64)


async def test_a_template_shift_is_resolved_in_the_sites_zone(staffing_service: Staffing) -> None:
    await hire(staffing_service, "e1")
    rostering = staffing_service.use_cases.rostering
    await rostering.set_time_zone(META, "north", "America/New_York")
    await rostering.define_template(
        META,
        DefineShiftTemplate(
            site_id="north",
            template_id="night",
            name="Night",
            start=time(22),
            end=time(6),
            weekdays=(0, 1, 2, 3, 4),
        ),
    )
    outcome = await rostering.assign(
        META,
        site_id="north",
        shift_id="s1",
        employee_id="e1",
        day=date(2026, 12, 1),
        template_id="night",
    )
    (event,) = outcome.events
    assert isinstance(event, ShiftAssigned)
    assert (event.start.isoformat(), event.end.isoformat()) == (
        "2026-12-02T03:00:00+00:00",
        "2026-12-02T11:00:00+00:00",
    )
    with pytest.raises(Rejected, match="already has shift s1"):
        await rostering.assign(
            META,
            site_id="north",
            shift_id="s2",
            employee_id="e1",
            day=date(2026, 12, 2),
            start=time(5),
            end=time(9),
        )


async def test_overlapping_shifts_raced_from_two_processes_record_one(
    staffing_service: Staffing, backends: Backends
) -> None:
    await hire(staffing_service, "e1")
    await staffing_service.use_cases.rostering.set_time_zone(META, "north", "UTC")
    other = await another_process(backends)
    try:
        attempts = [
            built.use_cases.rostering.assign(
                META,
                site_id="north",
                shift_id=f"s{n}",
                employee_id="e1",
                day=date(2026, 12, 7),
                start=time(8 + n),
                end=time(16 + n),
            )
            for n, built in enumerate((staffing_service, other, staffing_service, other))
        ]
        outcomes = await asyncio.gather(*attempts, return_exceptions=True)
    finally:
        await other.service.stop()
    assert sum(not isinstance(o, BaseException) for o in outcomes) == 1
    assert all(isinstance(o, Rejected) for o in outcomes if isinstance(o, BaseException))
    envelopes = await staffing_service.kit.store.load(streams.employee_time("acme", "e1"))
    assert [e.type for e in envelopes if e.type == ShiftAssigned.type_name()] == [
        ShiftAssigned.type_name()
    ]


async def test_pto_requests_raced_from_two_processes_never_overdraw_the_balance(
    staffing_service: Staffing, backends: Backends
) -> None:
    await hire(staffing_service, "e1")
    time_off = staffing_service.use_cases.time_off
    await time_off.accrue(META, "e1", time_off.now().date())  # 101.64 h
    other = await another_process(backends)
    try:
        # 60 h each, in weeks of their own: either fits the balance, not both.
        outcomes = await asyncio.gather(
            *(
                built.use_cases.time_off.request(
                    META,
                    employee_id="e1",
                    request_id=f"r{n}",
                    kind="pto",
                    start=datetime(2026, 12, 7 + 7 * n, tzinfo=UTC),
                    end=datetime(2026, 12, 12 + 7 * n, tzinfo=UTC),
                    hours=60,
                    note="",
                )
                for n, built in enumerate((staffing_service, other))
            ),
            return_exceptions=True,
        )
    finally:
        await other.service.stop()
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(refused) == 1
    assert isinstance(refused[0], Rejected)
    found = await time_off.balance("acme", "e1", date(2027, 2, 1))
    assert (found.pending, found.available) == (60.0, 41.64)
