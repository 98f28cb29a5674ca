"""Scheduling learns its providers from staffing's events only, on the service layer: staffing's
events are recorded in staffing's own event store and travel its relay and the bus to
scheduling's reaction. A licence that ends stops bookings from its day and lists the visits
already booked then; the facts may arrive in any order and more than once; and a licence end
recorded while a booking is being decided loses to the booking (first committed wins), which
then appears on the to-reschedule list."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from services.scheduling.app import SPEC
from services.scheduling.app import UseCases as SchedulingUseCases
from services.scheduling.application.staffing import learn
from services.scheduling.domain import directory, providers, streams
from services.scheduling.domain.events import Window
from services.scheduling.projections.directory import PROJECTION as DIRECTORY
from services.scheduling.projections.directory import PROVIDERS
from services.scheduling.projections.to_reschedule import PROJECTION, VISITS
from services.staffing.app import UseCases as StaffingUseCases
from services.staffing.contracts import (
    CredentialRevoked,
    CredentialVerified,
    EmployeeTerminated,
    JobChanged,
    TimeOffApproved,
)
from shared.domain import Invalid, Rejected
from shared.kit import Assembled
from shared.readmodels import public
from tests.service.conftest import META
from tests.staffing_events import hired, learnt, licence, record_staffing
from tests.support import wait_until

Scheduling = Assembled[SchedulingUseCases]
Staffing = Assembled[StaffingUseCases]
EXPIRY = date(2026, 12, 15)  # a Tuesday


def at(day: int, hour: int) -> datetime:
    """A New York wall-clock time in December 2026 (EST), in UTC."""
    return datetime(2026, 12, day, hour + 5, 0, tzinfo=UTC)


async def set_up_site(scheduling: Scheduling) -> None:
    cases = scheduling.use_cases.scheduling
    await cases.register_site(
        META, directory.RegisterSite(site_id="north", name="North", time_zone="America/New_York")
    )
    await cases.add_room(META, directory.AddRoom(room_id="r1", site_id="north", name="Exam 1"))
    await cases.define_visit_type(
        META,
        directory.DefineVisitType(visit_type_id="checkup", name="Checkup", duration_minutes=30),
    )
    await cases.register_patient(
        META, patient_id="pat-1", name="Ada", birth_date=date(1980, 5, 6), phone=""
    )


async def weekdays_9_to_5(scheduling: Scheduling, provider_id: str) -> None:
    await scheduling.use_cases.scheduling.set_availability(
        META,
        provider_id=provider_id,
        site_id="north",
        template_id=f"t-{provider_id}",
        windows=tuple(Window(weekday=d, start=time(9), end=time(17)) for d in range(5)),
        effective_from=date(2026, 1, 1),
        effective_until=None,
    )


def version_of(scheduling: Scheduling) -> Callable[[str], Awaitable[int]]:
    return scheduling.kit.store.version


BOOKING: dict[str, Any] = {
    "patient_id": "pat-1",
    "provider_id": "dr-s",
    "site_id": "north",
    "room_id": None,
    "visit_type_id": "checkup",
}


async def book(scheduling: Scheduling, appointment_id: str, start: datetime) -> Any:
    return await scheduling.use_cases.appointments.book(
        META, appointment_id=appointment_id, start=start, **BOOKING
    )


async def a_provider_from_staffing(scheduling: Scheduling, staffing: Staffing) -> None:
    """dr-s, hired at north with a New York licence to EXPIRY, learnt; weekdays 9 to 5."""
    await set_up_site(scheduling)
    await record_staffing(
        staffing, "acme", hired("dr-s", "north"), licence("dr-s", "lic-ny", expires_on=EXPIRY)
    )
    await learnt(version_of(scheduling), "acme", "dr-s", 2)
    await weekdays_9_to_5(scheduling, "dr-s")


async def to_reschedule(scheduling: Scheduling, until: Callable[[list[str]], bool]) -> list[str]:
    """The appointment ids the to-reschedule list holds at north, once `until(ids)`."""

    async def read() -> list[str] | None:
        docs = await scheduling.kit.read_models.find(
            PROJECTION, VISITS, {"tenant": "acme", "site_id": "north", "listed": True}
        )
        ids = sorted(str((public(d) or {})["appointment_id"]) for d in docs)
        return ids if until(ids) else None

    found = await wait_until(read, message="the to-reschedule list")
    assert found is not None
    return found


async def test_a_provider_learnt_from_staffing_is_bookable_until_the_licence_expires(
    scheduling_service: Scheduling, staffing_service: Staffing
) -> None:
    await a_provider_from_staffing(scheduling_service, staffing_service)
    state = await scheduling_service.use_cases.scheduling.state(
        streams.provider("acme", "dr-s"), providers.provider
    )
    assert state.registered is not None
    assert state.registered.hired_on == date(2020, 1, 1)

    booked = await book(scheduling_service, "a-15", at(15, 10))  # the expiry day itself
    assert len(booked.events) == 1
    with pytest.raises(Rejected, match="has no licence valid on 2026-12-16"):
        await book(scheduling_service, "a-16", at(16, 10))


@pytest.mark.parametrize(
    "ending",
    [
        CredentialRevoked(
            credential_id="lic-ny",
            employee_id="dr-s",
            effective_on=date(2026, 12, 10),
            reason="board action",
        ),
        CredentialVerified(
            credential_id="lic-ny",
            employee_id="dr-s",
            source="state board website",
            verified_by="hr-1",
            verified_at=datetime(2026, 12, 10, 15, 0, tzinfo=UTC),
            result="failed",
        ),
        EmployeeTerminated(employee_id="dr-s", last_day=date(2026, 12, 9), reason="resigned"),
    ],
    ids=["revoked", "failed-verification", "terminated"],
)
async def test_visits_booked_before_the_provider_stopped_being_bookable_are_to_reschedule(
    scheduling_service: Scheduling, staffing_service: Staffing, ending: Any
) -> None:
    await a_provider_from_staffing(scheduling_service, staffing_service)
    for appointment_id, start in (("a-9", at(9, 10)), ("a-10", at(10, 10)), ("a-11", at(11, 9))):
        await book(scheduling_service, appointment_id, start)

    await record_staffing(staffing_service, "acme", ending)
    await learnt(version_of(scheduling_service), "acme", "dr-s", 4)  # + the template

    assert await to_reschedule(scheduling_service, lambda ids: len(ids) == 2) == ["a-10", "a-11"]
    with pytest.raises(Rejected, match="provider dr-s"):
        await book(scheduling_service, "a-10b", at(10, 14))
    await book(scheduling_service, "a-9b", at(9, 14))  # the day before still bookable


async def test_facts_learnt_before_the_hire_count_and_redelivery_records_nothing(
    scheduling_service: Scheduling, staffing_service: Staffing
) -> None:
    await set_up_site(scheduling_service)
    # Staffing's streams are ordered apart: the licence and time off may come before the hire.
    off = TimeOffApproved(
        request_id="to-1", employee_id="dr-s", start=at(14, 9), end=at(14, 12), decided_by="m"
    )
    early = await record_staffing(
        staffing_service, "acme", licence("dr-s", "lic-ny", expires_on=EXPIRY), off
    )
    await learnt(version_of(scheduling_service), "acme", "dr-s", 2)
    hire = await record_staffing(staffing_service, "acme", hired("dr-s", "north"))
    await learnt(version_of(scheduling_service), "acme", "dr-s", 3)
    await weekdays_9_to_5(scheduling_service, "dr-s")

    with pytest.raises(Rejected, match="on approved time off then"):
        await book(scheduling_service, "a-1", at(14, 10))
    await book(scheduling_service, "a-2", at(14, 13))

    # Every staffing event delivered again (as after a consumer's restart): nothing new.
    stream = streams.provider("acme", "dr-s")
    before = await scheduling_service.kit.store.version(stream)
    for envelope in [*early, *hire]:
        event = SPEC.decoder.decode(envelope)  # as the reactor decodes it
        outcome = await learn(scheduling_service.use_cases.scheduling, event, envelope)
        assert outcome is not None
        assert outcome.events == ()
    assert await scheduling_service.kit.store.version(stream) == before


async def test_the_booking_decided_before_the_licence_end_was_recorded_wins_and_is_listed(
    scheduling_service: Scheduling, staffing_service: Staffing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race: a booking loads the provider (licensed), then the licence's revocation is
    recorded on the provider's stream, then the booking appends to its site-day stream. The
    booking stands (it committed first on the stream that decides it); it is listed to
    reschedule; every booking decided after the revocation was recorded is refused."""
    await a_provider_from_staffing(scheduling_service, staffing_service)
    appointments = scheduling_service.use_cases.appointments
    planned, resume = asyncio.Event(), asyncio.Event()
    plan = appointments.plan

    async def paused_plan(tenant: str, **booking: Any) -> Any:
        decided = await plan(tenant, **booking)  # the provider is loaded: still licensed
        if booking["appointment_id"] == "raced":
            planned.set()
            await resume.wait()
        return decided

    monkeypatch.setattr(appointments, "plan", paused_plan)
    booking = asyncio.create_task(book(scheduling_service, "raced", at(11, 10)))
    await asyncio.wait_for(planned.wait(), timeout=10)

    revoked = CredentialRevoked(
        credential_id="lic-ny", employee_id="dr-s", effective_on=date(2026, 12, 10), reason="x"
    )
    await record_staffing(staffing_service, "acme", revoked)
    await learnt(version_of(scheduling_service), "acme", "dr-s", 4)
    resume.set()
    outcome = await asyncio.wait_for(booking, timeout=10)

    assert [type(e).__name__ for e in outcome.events] == ["AppointmentBooked"]
    assert await to_reschedule(scheduling_service, lambda ids: ids == ["raced"]) == ["raced"]
    with pytest.raises(Rejected, match="has no licence valid on 2026-12-11"):
        await book(scheduling_service, "after", at(11, 14))


async def test_a_job_change_to_another_site_makes_the_provider_bookable_there_from_its_day(
    scheduling_service: Scheduling, staffing_service: Staffing
) -> None:
    await a_provider_from_staffing(scheduling_service, staffing_service)
    cases = scheduling_service.use_cases
    await cases.scheduling.register_site(
        META, directory.RegisterSite(site_id="south", name="South", time_zone="America/New_York")
    )
    moved = JobChanged(
        employee_id="dr-s",
        title="Physician",
        role="physician",
        site_ids=("south",),
        fte=1.0,
        effective_on=date(2026, 12, 7),
    )
    await record_staffing(staffing_service, "acme", moved)
    await learnt(version_of(scheduling_service), "acme", "dr-s", 4)

    # South's waitlist takes them (it was not among the sites they were hired at)...
    await cases.waitlist.add(
        META,
        entry_id="w-1",
        site_id="south",
        patient_id="pat-1",
        visit_type_id="checkup",
        provider_id="dr-s",
        earliest=date(2026, 12, 7),
        latest=date(2026, 12, 18),
    )
    # ... and north books them before the move, not after.
    await book(scheduling_service, "before", at(4, 10))
    with pytest.raises(Rejected, match="does not work at site north"):
        await book(scheduling_service, "after", at(7, 10))


async def test_a_new_role_from_a_job_change_sees_its_visit_types_from_its_day(
    scheduling_service: Scheduling, staffing_service: Staffing
) -> None:
    await a_provider_from_staffing(scheduling_service, staffing_service)
    cases = scheduling_service.use_cases
    await cases.scheduling.define_visit_type(
        META,
        directory.DefineVisitType(
            visit_type_id="np-visit",
            name="NP visit",
            duration_minutes=30,
            provider_roles=("nurse_practitioner",),
        ),
    )
    now_np = JobChanged(
        employee_id="dr-s",
        title="Nurse practitioner",
        role="nurse_practitioner",
        site_ids=("north",),
        fte=1.0,
        effective_on=date(2026, 12, 7),
    )
    await record_staffing(staffing_service, "acme", now_np)
    await learnt(version_of(scheduling_service), "acme", "dr-s", 4)

    async def np_slots(day: date) -> list[Any]:
        return await cases.slots.search(
            "acme", site_id="north", visit_type_id="np-visit", first_day=day, last_day=day, limit=1
        )

    found = await wait_until(lambda: np_slots(date(2026, 12, 7)), message="NP slots on the 7th")
    assert [s.provider_id for s in found] == ["dr-s"]
    assert await np_slots(date(2026, 12, 4)) == []
    booking = {**BOOKING, "visit_type_id": "np-visit"}
    await cases.appointments.book(META, appointment_id="np-7", start=at(7, 10), **booking)
    with pytest.raises(Invalid, match="not by a physician"):
        await cases.appointments.book(META, appointment_id="np-4", start=at(4, 10), **booking)


async def test_the_provider_listing_shows_learnt_licences_whichever_came_first(
    scheduling_service: Scheduling, staffing_service: Staffing
) -> None:
    """Who hires a provider through staffing waits until scheduling lists their licence: it
    shows whether the licence reached scheduling before the hire or after it."""
    await set_up_site(scheduling_service)
    read_models = scheduling_service.kit.read_models

    async def listed(count: int) -> dict[str, Any]:
        docs = await read_models.find(DIRECTORY, PROVIDERS, {"tenant": "acme"})
        found = {d["provider_id"]: public(d) for d in docs}
        return found if len(found) == count else {}

    await record_staffing(staffing_service, "acme", licence("dr-s", "lic-s"))
    await learnt(version_of(scheduling_service), "acme", "dr-s", 1)
    await record_staffing(
        staffing_service, "acme", hired("dr-t", "north"), licence("dr-t", "lic-t")
    )
    await learnt(version_of(scheduling_service), "acme", "dr-t", 2)
    # dr-s is not hired yet: their licence waits where no listing finds it.
    assert list(await wait_until(lambda: listed(1), message="dr-t listed")) == ["dr-t"]

    await record_staffing(staffing_service, "acme", hired("dr-s", "north"))
    await learnt(version_of(scheduling_service), "acme", "dr-s", 2)
    providers_listed = await wait_until(lambda: listed(2), message="both listed")

    assert providers_listed["dr-s"]["licence_ids"] == ["lic-s"]
    assert providers_listed["dr-s"]["name"] == "Dr. dr-s"
    assert providers_listed["dr-t"]["licence_ids"] == ["lic-t"]
