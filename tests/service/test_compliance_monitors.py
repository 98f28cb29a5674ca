"""Compliance's monitors on the service layer: staffing and scheduling record, compliance
watches on the same in-process bus, and each monitor raises each alert once, whether two
compliance processes (two instances on the same stores) run it at once or one runs it again
after a restart."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.billing.domain import streams as billing_streams
from services.billing.domain.events import PatientRecordAccessed as BillingRecordAccessed
from services.compliance import app as compliance
from services.compliance.contracts import CONTRACT
from services.compliance.domain import monitors as rules
from services.compliance.domain.alerts import AlertRaised, alert_id, alert_stream
from services.compliance.domain.policies import PublishPolicy
from services.compliance.projections import watch
from services.scheduling.domain import streams as scheduling_streams
from services.scheduling.domain.events import (
    AppointmentBooked,
    PatientRecordAccessed,
    SiteRegistered,
)
from services.staffing.domain import streams as staffing_streams
from services.staffing.domain.events import EmployeeHired, TrainingAssigned
from shared.backends import Backends
from shared.clock import UuidIds
from shared.commands import CommandHandler
from shared.domain import Decider, NotFound, Rejected
from shared.events import DomainEvent, Metadata
from shared.kit import Assembled, assemble_parts
from shared.settings import Settings
from tests.service.conftest import META
from tests.support import TestRunClock, suite_settings, wait_until

Compliance = Assembled[compliance.UseCases]
TODAY = date(2026, 11, 26)  # the test run's clock (TEST_EPOCH)
# Appends the event it is given: how these tests put staffing's and scheduling's facts on
# their streams (their own rules are tested elsewhere; here they are only watched).
READ = PatientRecordAccessed.type_name()
RECORD: Decider[None, DomainEvent] = Decider(None, lambda s, e: s, lambda s, c: [c])


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    base = suite_settings(tmp_path / "never-written")
    return base.model_copy(update={"phi_reads_per_hour_threshold": 3})


@contextlib.asynccontextmanager
async def compliance_process(backends: Backends, clock: TestRunClock) -> AsyncIterator[Compliance]:
    """One compliance process on the shared stores and bus (several may run at once)."""
    built = await assemble_parts(compliance.SPEC, backends, clock, UuidIds())
    await built.service.start()
    try:
        yield built
    finally:
        await built.service.stop()


async def record(handler: CommandHandler, stream: str, event: DomainEvent, **meta: Any) -> None:
    await handler.handle(stream, RECORD, event, META.model_copy(update=meta))


async def raised(built: Compliance, tenant: str, alert: str) -> list[AlertRaised]:
    """The AlertRaised events the alert's stream holds: the store is the truth."""
    envelopes = await built.kit.store.load(alert_stream(tenant, alert))
    decoded = [CONTRACT.registry.decode(e) for e in envelopes]
    return [e for e in decoded if isinstance(e, AlertRaised)]


async def watched(built: Compliance, collection: str, *parts: str) -> None:
    async def seen() -> bool:
        doc = await built.kit.read_models.get(
            watch.PROJECTION, collection, watch.key("acme", *parts)
        )
        return doc is not None

    await wait_until(seen, message=f"{collection} {parts} watched")


async def hire(staffing: Assembled[Any], employee_id: str, sites: tuple[str, ...]) -> None:
    event = EmployeeHired(
        employee_id=employee_id,
        name=f"Employee {employee_id}",
        title="Nurse",
        role="nurse",
        site_ids=sites,
        fte=1.0,
        hired_on=date(2020, 1, 1),
    )
    await record(staffing.kit.handler, staffing_streams.employee("acme", employee_id), event)


async def test_timed_monitors_raise_each_alert_once_across_processes_and_restarts(
    backends: Backends, staffing_service: Assembled[Any]
) -> None:
    clock = TestRunClock()
    await hire(staffing_service, "nurse-1", ("north",))
    await staffing_service.use_cases.credentials.record(
        META,
        credential_id="lic-1",
        employee_id="nurse-1",
        kind="state_licence",
        issuer="NY State Education Department",
        number="RN-1",
        state="NY",
        issued_on=date(2024, 1, 1),
        expires_on=TODAY + timedelta(days=10),
    )
    assignment = TrainingAssigned(
        assignment_id="hipaa-1",
        employee_id="nurse-1",
        course_id="hipaa",
        course_name="HIPAA privacy",
        assigned_on=TODAY - timedelta(days=20),
        due_on=TODAY + timedelta(days=2),
    )
    await record(
        staffing_service.kit.handler, staffing_streams.training("acme", "nurse-1"), assignment
    )
    expiring = alert_id(rules.CREDENTIAL_EXPIRING, "credential/lic-1", "2026-12-06")
    expired = alert_id(rules.CREDENTIAL_EXPIRED, "credential/lic-1", "2026-12-06")
    overdue = alert_id(rules.TRAINING_OVERDUE, "training/hipaa-1", "2026-11-28")

    async with (
        compliance_process(backends, clock) as first,
        compliance_process(backends, clock) as second,
    ):
        await watched(first, watch.CREDENTIALS, "lic-1")
        await watched(first, watch.TRAINING, "hipaa-1")
        # Two processes run the timed monitors at once (their timers fired as they started,
        # and may have raised it already), then again: one alert in all.
        counts = await asyncio.gather(
            first.use_cases.monitors.run_timed(), second.use_cases.monitors.run_timed()
        )
        assert sum(counts) <= 1
        assert await first.use_cases.monitors.run_timed() == 0
        assert len(await raised(first, "acme", expiring)) == 1
        assert await raised(first, "acme", overdue) == []  # not due yet

        # Two weeks on: the licence has expired and the training is overdue.
        clock.shift = timedelta(days=14)
        counts = await asyncio.gather(
            first.use_cases.monitors.run_timed(), second.use_cases.monitors.run_timed()
        )
        assert sum(counts) == 2

    # A restart (a new process on the same stores): its timers fire at once, and raise nothing.
    async with compliance_process(backends, clock) as third:
        assert await third.use_cases.monitors.run_timed() == 0
        for alert in (expiring, expired, overdue):
            assert len(await raised(third, "acme", alert)) == 1

        async def listed() -> list[dict[str, Any]] | None:
            found = await third.use_cases.alerts.find("acme")
            return found if len(found) == 3 else None

        alerts = await wait_until(listed, message="three alerts in the read model")
        assert alerts is not None
        by_id = {a["alert_id"]: a for a in alerts}
        assert by_id[expired]["severity"] == "critical"
        assert by_id[expired]["site"] == "north"
        assert by_id[overdue]["monitor"] == rules.TRAINING_OVERDUE
        assert {a["status"] for a in alerts} == {"open"}


async def test_the_officer_acknowledges_and_resolves_with_a_note(
    backends: Backends, staffing_service: Assembled[Any]
) -> None:
    clock = TestRunClock()
    assignment = TrainingAssigned(
        assignment_id="fire-1",
        employee_id="nurse-2",
        course_id="fire",
        course_name="Fire safety",
        assigned_on=TODAY - timedelta(days=40),
        due_on=TODAY - timedelta(days=1),
    )
    await hire(staffing_service, "nurse-2", ("south",))
    await record(
        staffing_service.kit.handler, staffing_streams.training("acme", "nurse-2"), assignment
    )
    overdue = alert_id(rules.TRAINING_OVERDUE, "training/fire-1", assignment.due_on.isoformat())
    async with compliance_process(backends, clock) as built:
        await watched(built, watch.TRAINING, "fire-1")
        await built.use_cases.monitors.run_timed()
        alerts = built.use_cases.alerts
        officer = Metadata(tenant="acme", actor="officer-1", correlation_id="t")
        with pytest.raises(NotFound):
            await alerts.acknowledge(officer, "training-overdue-0", "")
        await alerts.acknowledge(officer, overdue, "asked her manager")
        assert (await alerts.acknowledge(officer, overdue, "again")).events == ()
        await alerts.resolve(officer, overdue, "completed late on the 27th; evidence filed")
        with pytest.raises(Rejected):
            await alerts.resolve(officer, overdue, "twice")
        # Still overdue in the watch (no completion recorded): resolved stays resolved.
        assert await built.use_cases.monitors.run_timed() == 0

        async def closed() -> list[dict[str, Any]] | None:
            found = await alerts.find("acme", status="closed", monitor=rules.TRAINING_OVERDUE)
            return found or None

        found = await wait_until(closed, message="the resolution read")
        assert found is not None
        (doc,) = found
        assert doc["resolved_by"] == "officer-1"
        assert doc["resolution"].startswith("completed late")
        assert await alerts.find("acme", status="open") == []


async def test_phi_access_monitors_raise_once_per_reader_and_period(
    backends: Backends, staffing_service: Assembled[Any], scheduling_service: Assembled[Any]
) -> None:
    clock = TestRunClock()
    handler = scheduling_service.kit.handler
    await hire(staffing_service, "nurse-3", ("north",))
    site = SiteRegistered(site_id="north", name="North", time_zone="America/New_York")
    await record(handler, scheduling_streams.site("acme", "north"), site)
    start = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    booked = AppointmentBooked(
        appointment_id="appt-1",
        patient_id="pat-seen",
        provider_id="dr-a",
        site_id="north",
        room_id=None,
        visit_type_id="follow-up",
        start=start,
        end=start + timedelta(minutes=30),
        booked_at=start - timedelta(days=3),
    )
    await record(handler, scheduling_streams.site_day("acme", "north", start.date()), booked)

    async def read(patient: str, at: datetime, number: int) -> None:
        event = PatientRecordAccessed(
            patient_id=patient,
            endpoint=f"/scheduling/patients/{patient}",
            purpose=None,
            outcome="disclosed",
            accessed_at=at,
        )
        stream = scheduling_streams.record_access("acme", f"access-{number}")
        await record(handler, stream, event, actor="nurse-3")

    async with (
        compliance_process(backends, clock) as first,
        compliance_process(backends, clock) as second,
    ):
        await watched(first, watch.PEOPLE, "nurse-3")
        await watched(first, watch.SITES, "north")
        await watched(first, watch.VISITS, "pat-seen", "north")
        thursday_10am = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)  # 10:00 in New York
        await read("pat-seen", thursday_10am, 1)  # seen at north, in hours: nothing
        await read("pat-other", thursday_10am + timedelta(minutes=5), 2)  # no visit at north
        await read("pat-third", thursday_10am + timedelta(minutes=9), 3)  # third patient
        await read("pat-other", thursday_10am + timedelta(minutes=12), 4)  # the same again
        sunday_3am = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)  # 03:00 in New York
        await read("pat-seen", sunday_3am, 5)  # after hours
        await read("pat-seen", sunday_3am + timedelta(minutes=30), 6)  # the same day again

        volume = alert_id(rules.PHI_READS_VOLUME, "reader/nurse-3", "2026-11-26T15")
        no_visit = alert_id(
            rules.PHI_READ_NO_VISIT, "reader/nurse-3/patient/pat-other", "2026-11-26"
        )
        no_visit_third = alert_id(
            rules.PHI_READ_NO_VISIT, "reader/nurse-3/patient/pat-third", "2026-11-26"
        )
        after_hours = alert_id(rules.PHI_READ_AFTER_HOURS, "reader/nurse-3", "2026-11-29")
        expected = {volume, no_visit, no_visit_third, after_hours}

        async def all_raised() -> list[dict[str, Any]] | None:
            found = await second.use_cases.alerts.find("acme")
            return found if {a["alert_id"] for a in found} >= expected else None

        alerts = await wait_until(all_raised, message="the PHI-access alerts")
        assert alerts is not None
        assert {a["alert_id"] for a in alerts} == expected
        # The reads delivered again, to either process: nothing raised twice.
        commits = await scheduling_service.kit.store.read_all(0, 100)
        reads = [e for c in commits for e in c.events if e.type == READ]
        assert len(reads) == 6
        for envelope in reads:
            assert await first.use_cases.monitors.on_event(envelope) == 0
            assert await second.use_cases.monitors.on_event(envelope) == 0
        for alert in expected:
            assert len(await raised(first, "acme", alert)) == 1


async def test_policy_and_incident_monitors_raise_once_across_processes(
    backends: Backends, staffing_service: Assembled[Any], scheduling_service: Assembled[Any]
) -> None:
    """An acknowledgement owed past its due date, and an incident's step near its due date
    then past it: each raised once by two processes at once, and not again after a restart."""
    clock = TestRunClock()
    await hire(staffing_service, "nurse-2", ("north",))
    site = SiteRegistered(site_id="north", name="North", time_zone="America/New_York")
    await record(scheduling_service.kit.handler, scheduling_streams.site("acme", "north"), site)
    async with (
        compliance_process(backends, clock) as first,
        compliance_process(backends, clock) as second,
    ):
        await watched(first, watch.TENANTS, "tenant")
        await watched(first, watch.PEOPLE, "nurse-2")
        policy = PublishPolicy(
            policy_id="hipaa-privacy",
            title="HIPAA privacy",
            body="Read no record you do not need for your work.",
            effective_on=TODAY - timedelta(days=20),
            roles=("nurse",),
            acknowledge_within_days=10,
            new=True,
        )
        await first.use_cases.policies.publish(META, policy)
        await first.use_cases.incidents.report(
            META,
            "inc-1",
            "privacy",
            "north",
            "Letter sent to the wrong patient",
            "A statement went to another address",
            None,
            TODAY - timedelta(days=50),
        )

        async def owed() -> list[dict[str, Any]] | None:
            return await first.use_cases.policies.overdue("acme", None) or None

        async def due() -> list[dict[str, Any]] | None:
            return await first.use_cases.incidents.due("acme", 14, None) or None

        assert await wait_until(owed, message="the acknowledgement overdue")
        steps = await wait_until(due, message="the incident's steps due")
        assert steps is not None
        assert {s["due_on"] for s in steps} == {(TODAY + timedelta(days=10)).isoformat()}
        unacknowledged = alert_id(
            rules.POLICY_UNACKNOWLEDGED, "policy/hipaa-privacy/employee/nurse-2", "1"
        )
        near = {
            alert_id(rules.INCIDENT_DEADLINE_NEAR, f"incident/inc-1/{s['task']}", s["due_on"])
            for s in steps
        }
        counts = await asyncio.gather(
            first.use_cases.monitors.run_timed(), second.use_cases.monitors.run_timed()
        )
        assert sum(counts) <= 1 + len(near)  # the timers may have raised some as they started
        assert await first.use_cases.monitors.run_timed() == 0
        for alert in (unacknowledged, *near):
            assert len(await raised(first, "acme", alert)) == 1

        clock.shift = timedelta(days=11)  # the incident's step is now past due
        missed = {
            alert_id(rules.INCIDENT_DEADLINE_MISSED, f"incident/inc-1/{s['task']}", s["due_on"])
            for s in steps
        }
        counts = await asyncio.gather(
            first.use_cases.monitors.run_timed(), second.use_cases.monitors.run_timed()
        )
        assert sum(counts) == len(missed)

    async with compliance_process(backends, clock) as third:
        assert await third.use_cases.monitors.run_timed() == 0
        for alert in (unacknowledged, *near, *missed):
            assert len(await raised(third, "acme", alert)) == 1

        async def listed() -> list[dict[str, Any]] | None:
            found = await third.use_cases.alerts.find("acme", status="open")
            ids = {a["alert_id"] for a in found}
            return found if ids >= {unacknowledged, *near, *missed} else None

        alerts = await wait_until(listed, message="the policy and incident alerts")
        assert alerts is not None
        by_id = {a["alert_id"]: a for a in alerts}
        assert by_id[unacknowledged]["site"] == "north"
        assert {by_id[m]["severity"] for m in missed} == {"critical"}


async def test_a_read_in_billing_is_watched_too(
    backends: Backends,
    staffing_service: Assembled[Any],
    scheduling_service: Assembled[Any],
    billing_service: Assembled[Any],
) -> None:
    """Billing's disclosures are reads of the record like scheduling's: after hours is after
    hours whichever service showed the patient."""
    clock = TestRunClock()
    await hire(staffing_service, "biller-1", ("north",))
    site = SiteRegistered(site_id="north", name="North", time_zone="America/New_York")
    await record(scheduling_service.kit.handler, scheduling_streams.site("acme", "north"), site)
    async with compliance_process(backends, clock) as compliance_built:
        assert "billing" in compliance_built.use_cases.monitors.reaction().contexts
        await watched(compliance_built, watch.PEOPLE, "biller-1")
        await watched(compliance_built, watch.SITES, "north")
        sunday_3am = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)  # 03:00 in New York
        read = BillingRecordAccessed(
            patient_id="pat-billed",
            endpoint="/billing/claims/c-1",
            purpose="HPAYMT",
            outcome="disclosed",
            accessed_at=sunday_3am,
        )
        stream = billing_streams.record_access("acme", "access-b1")
        await record(billing_service.kit.handler, stream, read, actor="biller-1")
        after_hours = alert_id(rules.PHI_READ_AFTER_HOURS, "reader/biller-1", "2026-11-29")

        async def raised_once() -> list[AlertRaised] | None:
            return await raised(compliance_built, "acme", after_hours) or None

        assert await wait_until(raised_once, message="the after-hours alert of a billing read")
