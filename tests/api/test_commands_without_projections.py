"""Commands decide from the event store: with every scheduling projection stopped, a command
right after the thing it acts on was created finds it (cancel, check in, room, complete, move,
intake after a booking; a booking naming no room after the room's registration; closing a
triage entry right after triage). On both backends."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest

from services.scheduling.application.appointments import Appointments
from services.scheduling.domain.site_day import CheckIn, site_day
from services.suite import Suite, build_suite
from shared.domain import Rejected
from shared.events import Metadata
from shared.mongo import connect
from shared.settings import Settings
from tests.api.conftest import TokenFor, booking, make_bookable, post_ok, register
from tests.api.staffing_helpers import hire_bookable
from tests.support import TestRunClock, drop_test_data

CODES = {"procedures": ["99213"], "diagnoses": ["E11.9"]}


async def stop_projections(suite: Suite) -> None:
    for runner in suite.service("scheduling").runners:
        await runner.stop()


async def test_an_appointment_is_acted_on_right_after_booking_with_projections_stopped(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite
) -> None:
    await stop_projections(suite)
    await register(client, "pat-1")
    path = "/scheduling/appointments"

    cancelled = await post_ok(client, path, booking(clinic))
    response = await client.post(f"{path}/{cancelled['id']}/cancel", json={"reason": "x"})
    assert response.status_code == 200, response.text

    visit = await post_ok(client, path, booking(clinic, start="2026-12-01T10:00:00-05:00"))
    for step, body in (("check-in", None), ("room", {}), ("complete", CODES)):
        response = await client.post(f"{path}/{visit['id']}/{step}", json=body)
        assert response.status_code == 200, (step, response.text)
    again = await client.post(f"{path}/{visit['id']}/cancel", json={"reason": "x"})
    assert again.status_code == 409, again.text

    moved = await post_ok(client, path, booking(clinic, start="2026-12-01T11:00:00-05:00"))
    for start in ("2026-12-02T11:00:00-05:00", "2026-12-03T11:00:00-05:00"):
        response = await client.post(f"{path}/{moved['id']}/reschedule", json={"start": start})
        assert response.status_code == 200, response.text
    response = await client.post(f"{path}/{moved['id']}/check-in")
    assert response.status_code == 200, response.text
    assert response.json()["stream"] == "acme:site-day:north:2026-12-03"

    intake = {"reason_for_visit": "Cough", "appointment_id": moved["id"]}
    await post_ok(client, "/scheduling/patients/pat-1/intake", intake)
    unknown = await client.post(f"{path}/no-such-appointment/check-in")
    assert unknown.status_code == 404, unknown.text


async def test_an_appointment_whose_move_was_undone_is_found_on_its_old_day(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite
) -> None:
    """Booked on 1 December and checked in there while a move to 2 December was under way:
    the move's booking is withdrawn, and the appointment lives on its old day still."""
    await stop_projections(suite)
    scheduling = suite.service("scheduling")
    reactor = next(w for w in scheduling.workers if w.name == "reactor.scheduling.finish_moves")
    await reactor.stop()  # the test plays the reactor's part, at the moment it chooses
    appointments: Appointments = reactor.reaction._appointments  # type: ignore[attr-defined]
    await register(client, "pat-1")
    booked = await post_ok(client, "/scheduling/appointments", booking(clinic))
    aid, old_day = booked["id"], booked["stream"]
    meta = Metadata(tenant="acme", actor="tester", correlation_id="c1")
    new_day, book = await appointments.plan(
        "acme",
        appointment_id=aid,
        patient_id="pat-1",
        provider_id="dr-a",
        site_id="north",
        room_id=None,
        visit_type_id="follow-up",
        start=datetime.fromisoformat("2026-12-02T09:00:00-05:00"),
        rescheduled_from=old_day,
    )
    await appointments._handler.handle(new_day, site_day, book, meta)  # the move's first step
    assert await appointments.locate("acme", aid) == new_day  # mid-move: the newest booking
    # A check-in that found the old day before the move's booking was made.
    await appointments._handler.handle(
        old_day, site_day, CheckIn(appointment_id=aid, checked_in_at=book.booked_at), meta
    )
    with pytest.raises(Rejected):  # checked in on its old day: the move is undone
        await appointments.finish_move(meta, aid, old_day, new_day, book.booked_at)

    completed = await client.post(f"/scheduling/appointments/{aid}/complete", json=CODES)

    assert completed.status_code == 200, completed.text
    assert completed.json()["stream"] == old_day


async def test_a_booking_naming_no_room_takes_a_room_registered_just_before(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite
) -> None:
    await hire_bookable(client, "dr-b", ["north"], name="Dr. B")  # scheduling lists them
    await stop_projections(suite)
    await register(client, "pat-1", "pat-2")
    await make_bookable(client, "dr-b", "north")
    await post_ok(client, "/scheduling/appointments", booking(clinic))  # exam-1 is taken
    await post_ok(client, "/scheduling/sites/north/rooms", {"room_id": "exam-2", "name": "Exam 2"})

    unnamed = booking(clinic, patient_id="pat-2", provider_id="dr-b", room_id=None)
    taken = await post_ok(client, "/scheduling/appointments", unnamed)

    check_in = await client.post(f"/scheduling/appointments/{taken['id']}/check-in")
    assert check_in.status_code == 200, check_in.text
    roomed = await client.post(f"/scheduling/appointments/{taken['id']}/room", json={})
    assert roomed.status_code == 200, roomed.text
    assert roomed.json()["stream"] == "acme:site-day:north:2026-12-01"
    store = suite.service("scheduling").event_store
    assert store is not None
    [*_, last] = await store.load(roomed.json()["stream"])
    assert (last.type, last.data["room_id"]) == ("medoffice.scheduling.PatientRoomed.v1", "exam-2")


async def test_a_triage_entry_is_closed_right_after_triage_with_projections_stopped(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite
) -> None:
    await stop_projections(suite)
    await register(client, "pat-1", "pat-2")
    triage = "/scheduling/sites/north/triage"

    seen = await post_ok(client, triage, {"patient_id": "pat-1", "urgency": 3})
    left = await post_ok(client, triage, {"patient_id": "pat-2", "urgency": 2})

    response = await client.post(f"{triage}/{seen['id']}/retriage", json={"urgency": 1})
    assert response.status_code == 200, response.text
    assert (await client.post(f"{triage}/{seen['id']}/seen")).status_code == 200
    assert (await client.post(f"{triage}/{left['id']}/left")).status_code == 200
    twice = await client.post(f"{triage}/{left['id']}/seen")
    assert twice.status_code == 409, twice.text
    elsewhere = await client.post(f"/scheduling/sites/south/triage/{left['id']}/seen")
    assert elsewhere.status_code == 404, elsewhere.text


# ---------------------------------------------------------- data stored before commits had tags


@contextlib.asynccontextmanager
async def serving(
    settings: Settings, headers: dict[str, str]
) -> AsyncIterator[tuple[Suite, httpx.AsyncClient]]:
    """A started suite on the settings' data (kept after), and a client of it."""
    suite = await build_suite(settings, clock=TestRunClock())
    await suite.start()
    try:
        transport = httpx.ASGITransport(app=suite.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://medoffice", headers=headers, timeout=60
        ) as client:
            yield suite, client
    finally:
        await suite.stop()


async def forget_tags(settings: Settings) -> None:
    """Make scheduling's commits look as an earlier version stored them: without tags."""
    if not settings.scale_out:
        conn = sqlite3.connect(settings.data_dir / "scheduling" / "events.db")
        try:
            conn.execute("UPDATE commits SET tags = NULL")
            conn.execute("DELETE FROM commit_tags")
            conn.commit()
        finally:
            conn.close()
        return
    assert settings.mongo_url is not None
    client = connect(settings.mongo_url)
    try:
        commits = client[f"{settings.mongo_database}_scheduling"]["commits"]
        await commits.update_many({}, {"$unset": {"tags": ""}})
    finally:
        await client.close()


async def test_commands_find_what_was_stored_before_commits_had_tags(
    settings: Settings, token_for: TokenFor
) -> None:
    site = {
        "site_id": "north",
        "name": "North",
        "time_zone": "America/New_York",
        "opening_hours": [{"weekday": d, "opens": "07:00", "closes": "22:00"} for d in range(5)],
    }
    clinic = {"site_id": "north", "provider_id": "dr-a", "visit_type_id": "follow-up"}
    path = "/scheduling/appointments"
    databases = {f"{settings.mongo_database}_{name}" for name in ("scheduling", "compliance")}
    try:
        async with serving(settings, token_for("admin")) as (suite, client):
            await post_ok(client, "/scheduling/sites", site)
            await post_ok(client, "/scheduling/sites/north/rooms", {"room_id": "r1", "name": "1"})
            await hire_bookable(client, "dr-a", ["north"], name="Dr. A")
            await post_ok(
                client,
                "/scheduling/visit-types",
                {"visit_type_id": "follow-up", "name": "Follow-up", "duration_minutes": 30},
            )
            await make_bookable(client, "dr-a", "north")
            await register(client, "pat-1")
            old = await post_ok(client, path, booking(clinic))
            seen = await post_ok(
                client, "/scheduling/sites/north/triage", {"patient_id": "pat-1", "urgency": 3}
            )
            databases |= suite.backends.databases
        await forget_tags(settings)

        async with serving(settings, token_for("admin")) as (suite, client):  # backfills
            await stop_projections(suite)
            cancel = await client.post(f"{path}/{old['id']}/cancel", json={"reason": "x"})
            assert cancel.status_code == 200, cancel.text
            closed = await client.post(f"/scheduling/sites/north/triage/{seen['id']}/seen")
            assert closed.status_code == 200, closed.text
            later = await post_ok(client, path, booking(clinic, room_id=None))  # room r1
            # An older process beside this one still writes commits without tags.
            await forget_tags(settings)
            check_in = await client.post(f"{path}/{later['id']}/check-in")
            assert check_in.status_code == 200, check_in.text
    finally:
        await drop_test_data(settings, databases)
