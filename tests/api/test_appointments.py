"""The appointment lifecycle, availability rules, series, moves, no-shows and the day views,
through the HTTP API on both backends."""

from __future__ import annotations

from typing import Any

import httpx

from services.scheduling.application.reactions import NoShowTimer
from services.suite import Suite
from tests.api.conftest import booking, make_bookable, post_ok, register, search_slots
from tests.api.staffing_helpers import approve_time_off, hire_bookable, scheduling_learnt
from tests.support import wait_until

CODES = {"procedures": ["99213"], "diagnoses": ["E11.9"]}


async def appointment(client: httpx.AsyncClient, appointment_id: str) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        response = await client.get(f"/scheduling/appointments/{appointment_id}")
        return response.json() if response.status_code == 200 else None

    doc = await wait_until(found, message=f"appointment {appointment_id}")
    assert doc is not None
    return doc


async def status_becomes(client: httpx.AsyncClient, appointment_id: str, status: str) -> None:
    async def reached() -> bool:
        return bool((await appointment(client, appointment_id))["status"] == status)

    await wait_until(reached, message=f"{appointment_id} {status}")


async def test_a_visit_goes_from_booked_to_completed(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-1")
    booked = await post_ok(client, "/scheduling/appointments", booking(clinic))
    aid = booked["id"]
    for step, body in (("check-in", None), ("room", {}), ("complete", CODES)):
        response = await client.post(f"/scheduling/appointments/{aid}/{step}", json=body)
        assert response.status_code == 200, response.text
    await status_becomes(client, aid, "completed")
    done = await appointment(client, aid)
    assert done["procedures"] == ["99213"]
    assert done["diagnoses"] == ["E11.9"]
    assert done["room_id"] == "exam-1"

    refused = await client.post(f"/scheduling/appointments/{aid}/cancel", json={"reason": "x"})
    assert refused.status_code == 409
    assert "completed" in refused.json()["detail"]
    again = await client.post(f"/scheduling/appointments/{aid}/check-in")
    assert again.status_code == 409

    async def billed() -> list[Any]:
        entries: list[Any] = (
            await client.get(
                "/compliance/audit-log",
                params={"type": "medoffice.scheduling.VisitCompleted.v1"},
            )
        ).json()
        return entries

    [entry] = await wait_until(billed, message="VisitCompleted in the audit log")
    assert entry["data"]["procedures"] == ["99213"]


async def test_a_cancelled_appointment_cannot_be_checked_in(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-1")
    booked = await post_ok(client, "/scheduling/appointments", booking(clinic))
    aid = booked["id"]
    cancelled = await client.post(
        f"/scheduling/appointments/{aid}/cancel", json={"reason": "feels better"}
    )
    assert cancelled.status_code == 200
    refused = await client.post(f"/scheduling/appointments/{aid}/check-in")
    assert refused.status_code == 409
    assert "cancelled" in refused.json()["detail"]
    await status_becomes(client, aid, "cancelled")
    assert (await appointment(client, aid))["late_cancellation"] is False


async def test_bad_codes_are_refused_and_nothing_is_recorded(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-1")
    booked = await post_ok(client, "/scheduling/appointments", booking(clinic))
    aid = booked["id"]
    await client.post(f"/scheduling/appointments/{aid}/check-in")
    bad = await client.post(
        f"/scheduling/appointments/{aid}/complete",
        json={"procedures": ["ABC"], "diagnoses": ["E11.9"]},
    )
    assert bad.status_code == 422
    assert "CPT" in bad.json()["detail"]
    await status_becomes(client, aid, "checked_in")


async def test_bookings_only_inside_availability_with_a_licence(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite
) -> None:
    await register(client, "pat-1")
    early = await client.post(
        "/scheduling/appointments", json=booking(clinic, start="2026-12-01T07:00:00-05:00")
    )
    assert early.status_code == 409
    assert "not available" in early.json()["detail"]
    saturday = await client.post(
        "/scheduling/appointments", json=booking(clinic, start="2026-12-05T09:00:00-05:00")
    )
    assert saturday.status_code == 409
    unlicensed = await client.post(
        "/scheduling/appointments", json=booking(clinic, start="2031-01-07T09:00:00-05:00")
    )
    assert unlicensed.status_code == 409
    assert "licence" in unlicensed.json()["detail"]
    request_id = await approve_time_off(
        client, "dr-a", "2026-12-01T00:00:00-05:00", "2026-12-02T00:00:00-05:00"
    )
    await scheduling_learnt(suite, "dr-a", "ProviderTimeOffApproved", time_off_id=request_id)
    off = await client.post("/scheduling/appointments", json=booking(clinic))
    assert off.status_code == 409
    assert "time off" in off.json()["detail"]


async def test_a_room_is_never_double_booked(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-1", "p2")
    await hire_bookable(client, "dr-b", ["north"], name="Dr. B")
    await make_bookable(client, "dr-b", "north")
    await post_ok(client, "/scheduling/appointments", booking(clinic))
    clash = await client.post(
        "/scheduling/appointments", json=booking(clinic, provider_id="dr-b", patient_id="p2")
    )
    assert clash.status_code == 409
    assert "room exam-1" in clash.json()["detail"]
    # Without a named room, the visit needs an exam room and none is free then.
    unnamed = booking(clinic, provider_id="dr-b", patient_id="p2")
    del unnamed["room_id"]
    no_room = await client.post("/scheduling/appointments", json=unnamed)
    assert no_room.status_code == 409
    await post_ok(client, "/scheduling/sites/north/rooms", {"room_id": "exam-2", "name": "Exam 2"})

    taken = await post_ok(client, "/scheduling/appointments", unnamed)
    assert (await appointment(client, taken["id"]))["room_id"] == "exam-2"


async def test_a_provider_at_sites_in_two_time_zones_is_never_booked_at_both_at_once(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-1", "p2")
    await post_ok(
        client,
        "/scheduling/sites",
        {"site_id": "west", "name": "West", "time_zone": "America/Los_Angeles"},
    )
    await post_ok(client, "/scheduling/sites/west/rooms", {"room_id": "west-1", "name": "W 1"})
    await hire_bookable(client, "dr-w", ["north", "west"], name="Dr. W")
    # Tuesdays 12:00-16:00 in New York: 17:00-21:00 UTC in winter.
    await make_bookable(client, "dr-w", "north", [{"weekday": 1, "start": "12:00", "end": "16:00"}])
    # Tuesdays 10:00-12:00 in Los Angeles are 13:00-15:00 in New York: the same hours.
    overlapping = await client.post(
        "/scheduling/providers/dr-w/availability",
        json={
            "site_id": "west",
            "windows": [{"weekday": 1, "start": "10:00", "end": "12:00"}],
            "effective_from": "2026-01-01",
        },
    )
    assert overlapping.status_code == 409, overlapping.text
    assert "available at site north" in overlapping.json()["detail"]
    same_instant = {"provider_id": "dr-w", "start": "2026-12-01T18:00:00Z"}
    await post_ok(client, "/scheduling/appointments", booking(clinic, **same_instant))
    west = booking(clinic, site_id="west", room_id="west-1", patient_id="p2", **same_instant)
    assert (await client.post("/scheduling/appointments", json=west)).status_code == 409
    # 08:00-09:00 in Los Angeles is 11:00-12:00 in New York: before the window there.
    await post_ok(
        client,
        "/scheduling/providers/dr-w/availability",
        {
            "site_id": "west",
            "windows": [{"weekday": 1, "start": "08:00", "end": "09:00"}],
            "effective_from": "2026-01-01",
        },
    )


async def test_a_series_is_booked_whole_or_not_at_all(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-1", "p9")
    # Week 3 is taken by someone else: the whole series is refused, nothing of it stays.
    other = await post_ok(
        client,
        "/scheduling/appointments",
        booking(clinic, patient_id="p9", start="2026-12-15T09:00:00-05:00"),
    )
    body = {
        "patient_id": "pat-1",
        **clinic,
        "first_start": "2026-12-01T09:00:00-05:00",
        "every_weeks": 1,
        "count": 4,
    }
    refused = await client.post("/scheduling/appointment-series", json=body)
    assert refused.status_code == 409
    assert "occurrence 3" in refused.json()["detail"]
    history = (await client.get("/scheduling/patients/pat-1/appointments")).json()
    assert history == []

    await client.post(f"/scheduling/appointments/{other['id']}/cancel", json={"reason": "moved"})
    series = await post_ok(client, "/scheduling/appointment-series", body)
    assert len(series["appointment_ids"]) == 4

    async def all_booked() -> bool:
        rows = (await client.get("/scheduling/patients/pat-1/appointments")).json()
        return sorted(r["status"] for r in rows) == ["booked"] * 4

    await wait_until(all_booked, message="four booked occurrences")


async def test_a_refused_series_left_halfway_is_withdrawn_whole(
    suite: Suite, client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    """A crash between booking occurrences: the recovery (as the reactor runs it) finds an
    occurrence taken meanwhile, refuses the series and withdraws what was booked."""
    await register(client, "pat-1", "p9")
    scheduling = suite.service("scheduling")
    reactor = next(w for w in scheduling.workers if w.name == "reactor.scheduling.finish_series")
    await reactor.stop()  # the test plays the reactor's part, at the moment it chooses
    appointments = reactor.reaction._appointments  # type: ignore[attr-defined]
    from services.scheduling.domain import series as series_domain
    from services.scheduling.domain import streams
    from shared.events import Metadata

    meta = Metadata(tenant="acme", actor="tester", correlation_id="c1")
    plans = [
        await appointments.plan(
            "acme",
            appointment_id=f"s1-{n}",
            patient_id="pat-1",
            provider_id="dr-a",
            site_id="north",
            room_id="exam-1",
            visit_type_id="follow-up",
            start=start,
            series_id="s1",
        )
        for n, start in enumerate([booking(clinic)["start"], "2026-12-08T09:00:00-05:00"], start=1)
        for start in [__import__("datetime").datetime.fromisoformat(start)]
    ]
    handler = appointments._handler
    await handler.handle(
        streams.series("acme", "s1"),
        series_domain.series,
        series_domain.RequestSeries(
            series_id="s1",
            patient_id="pat-1",
            provider_id="dr-a",
            site_id="north",
            room_id="exam-1",
            visit_type_id="follow-up",
            starts=tuple(c.start for _, c in plans),
            appointment_ids=("s1-1", "s1-2"),
            requested_at=handler.clock.now(),
        ),
        meta,
    )
    from services.scheduling.domain.site_day import site_day

    await handler.handle(plans[0][0], site_day, plans[0][1], meta)  # then the process died
    await post_ok(
        client,
        "/scheduling/appointments",
        booking(clinic, patient_id="p9", start="2026-12-08T09:00:00-05:00"),
    )
    await reactor.start()

    await status_becomes(client, "s1-1", "withdrawn")
    history = (await client.get("/scheduling/patients/pat-1/appointments")).json()
    assert history == []


async def test_rescheduling_moves_the_appointment_between_days(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-1", "p2")
    booked = await post_ok(client, "/scheduling/appointments", booking(clinic))
    aid = booked["id"]
    # Naming no room, a move takes a free room of the visit's type (known from the event store).
    same_day = await client.post(
        f"/scheduling/appointments/{aid}/reschedule", json={"start": "2026-12-01T11:00:00-05:00"}
    )
    assert same_day.status_code == 200, same_day.text
    moved = await client.post(
        f"/scheduling/appointments/{aid}/reschedule", json={"start": "2026-12-02T10:00:00-05:00"}
    )
    assert moved.status_code == 200, moved.text

    async def on_new_day() -> bool:
        doc = await appointment(client, aid)
        return bool(doc["date"] == "2026-12-02" and doc["status"] == "booked")

    await wait_until(on_new_day, message="the appointment on 2 December")

    async def day(d: str) -> list[str]:
        schedule = (await client.get(f"/scheduling/providers/dr-a/schedule/{d}")).json()
        return [a["start"] for a in schedule["appointments"]]

    await wait_until(lambda: _equals(day("2026-12-01"), []), message="1 December empty again")
    assert await day("2026-12-02") == ["2026-12-02T15:00:00Z"]
    # The freed slot can be booked again.
    await post_ok(client, "/scheduling/appointments", booking(clinic, patient_id="p2"))


async def _equals(value: Any, expected: Any) -> bool:
    return bool(await value == expected)


async def test_the_no_show_timer_fires_once(
    suite: Suite, client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-1", "p2")
    past = booking(clinic, start="2026-11-23T09:00:00-05:00")  # a Monday, long gone
    booked = await post_ok(client, "/scheduling/appointments", past)
    early = await post_ok(client, "/scheduling/appointments", booking(clinic, patient_id="p2"))
    refused = await client.post(f"/scheduling/appointments/{early['id']}/no-show")
    assert refused.status_code == 409  # it has not started yet
    await appointment(client, booked["id"])
    timer = next(w for w in suite.service("scheduling").workers if isinstance(w, NoShowTimer))
    assert await timer.fire_due() == 1
    await status_becomes(client, booked["id"], "no_show")
    assert await timer.fire_due() == 0
    doc = await appointment(client, booked["id"])
    assert doc["no_show_automatic"] is True

    async def rates() -> list[Any]:
        rows: list[Any] = (
            await client.get("/scheduling/no-show-rates", params={"month": "2026-11"})
        ).json()
        return rows

    rows = await wait_until(rates, message="the month's no-show rates")
    assert {(r["kind"], r["no_shows"], r["no_show_rate"]) for r in rows} == {
        ("provider", 1, 1.0),
        ("site", 1, 1.0),
    }


async def test_open_slots_skip_what_is_taken(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-1")
    booked = await post_ok(client, "/scheduling/appointments", booking(clinic))
    await client.get(
        "/scheduling/sites/north/board/2026-12-01",
        params={"after_version": booked["stream_version"]},
    )

    async def found() -> list[dict[str, Any]]:
        # The search finds the site's providers and rooms in the availability read model,
        # which the board's after_version does not wait for.
        response = await search_slots(client, limit=6)
        result: list[dict[str, Any]] = response.json()
        return result

    slots = await wait_until(found, message="open slots")
    assert [s["start"] for s in slots] == [
        "2026-12-01T13:00:00+00:00",
        "2026-12-01T13:15:00+00:00",
        "2026-12-01T13:30:00+00:00",  # 8:30-9:00; 9:00-9:30 is taken, and so are 8:45 and 9:15
        "2026-12-01T14:30:00+00:00",
        "2026-12-01T14:45:00+00:00",
        "2026-12-01T15:00:00+00:00",
    ]
    assert {s["room_id"] for s in slots} == {"exam-1"}
    board = (await client.get("/scheduling/sites/north/board/2026-12-01")).json()
    assert board["counts"] == {"booked": 1}
    bad = await search_slots(client, start="2026-12-02")
    assert bad.status_code == 422
