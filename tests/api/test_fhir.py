"""The FHIR R4 views of scheduling: valid resources, the same access rules, every disclosure
on the record, and OperationOutcomes for bad requests."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.scheduling.api.fhir.resources import LOCATION_TIMEZONE
from tests.api.conftest import (
    WEEKDAYS_8_TO_5,
    ShiftedClock,
    TokenFor,
    booking,
    make_bookable,
    post_ok,
    register,
    search_slots,
)
from tests.api.staffing_helpers import NPI, hire_bookable
from tests.fhir_validation import valid
from tests.support import ACCESS, every_case_holds, wait_until

pytestmark = pytest.mark.usefixtures("hl7_validator")

FHIR = "/fhir/R4"
FHIR_JSON = "application/fhir+json"
T = TypeVar("T")

PATIENT = {
    "name": "Ada Lovelace",
    "birth_date": "1815-12-10",
    "phone": "+1 555 0100",
    "sex": "female",
}


async def until(probe: Callable[[], Awaitable[T | None]], message: str) -> T:
    found = await wait_until(probe, message=message)
    assert found is not None
    return found


async def fhir_get(
    client: httpx.AsyncClient, path: str, status: int = 200, **kwargs: Any
) -> dict[str, Any]:
    response = await client.get(f"{FHIR}/{path}", **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == FHIR_JSON
    return valid(response.json())


async def appears(client: httpx.AsyncClient, path: str) -> dict[str, Any]:
    """The resource once its read model has it (the read is then recorded once)."""

    async def read() -> dict[str, Any] | None:
        response = await client.get(f"{FHIR}/{path}")
        return valid(response.json()) if response.status_code == 200 else None

    return await until(read, message=f"{path} in its read model")


async def accesses(client: httpx.AsyncClient, patient_id: str, count: int) -> list[dict[str, Any]]:
    async def recorded() -> list[dict[str, Any]] | None:
        found: list[dict[str, Any]] = (
            await client.get(
                "/compliance/audit-log",
                params={"subject": patient_id, "type": ACCESS, "limit": 1000},
            )
        ).json()
        return found if len(found) >= count else None

    return await until(recorded, message=f"{count} records of reading {patient_id}")


def ids(bundle: dict[str, Any]) -> list[str]:
    assert bundle["type"] == "searchset"
    assert bundle["total"] == len(bundle.get("entry", []))
    return [e["resource"]["id"] for e in bundle.get("entry", [])]


@pytest.fixture
async def south(client: httpx.AsyncClient, clinic: dict[str, str]) -> dict[str, str]:
    """A second site in Chicago, with a room and its own provider, bookable weekdays 8-5."""
    await post_ok(
        client,
        "/scheduling/sites",
        {"site_id": "south", "name": "South", "time_zone": "America/Chicago"},
    )
    await post_ok(client, "/scheduling/sites/south/rooms", {"room_id": "exam-s", "name": "S"})
    await appears(client, "Location/room-exam-s")  # a booking looks for rooms there
    await hire_bookable(client, "dr-b", ["south"], name="Dr. B")
    await make_bookable(client, "dr-b", "south")
    return {"site_id": "south", "provider_id": "dr-b", "visit_type_id": "follow-up"}


async def test_a_patient_reads_as_fhir_and_the_read_is_recorded(
    client: httpx.AsyncClient,
) -> None:
    await post_ok(client, "/scheduling/patients", {"patient_id": "pat_ada", **PATIENT})

    patient = await appears(client, "Patient/pat.ada")

    assert patient["id"] == "pat.ada"
    assert patient["name"] == [{"text": "Ada Lovelace"}]
    assert patient["birthDate"] == "1815-12-10"
    assert patient["gender"] == "female"
    assert patient["telecom"] == [{"system": "phone", "value": "+1 555 0100"}]
    await fhir_get(client, "Patient/pat.ada", headers={"x-purpose-of-use": "TREAT"})
    entries = await accesses(client, "pat_ada", 2)
    assert [e["data"]["endpoint"] for e in entries] == ["/fhir/R4/Patient/pat.ada"] * 2
    assert [e["data"]["purpose"] for e in entries] == [None, "TREAT"]


async def test_a_forgotten_patient_reads_redacted_and_still_validates(
    client: httpx.AsyncClient,
) -> None:
    await post_ok(client, "/scheduling/patients", {"patient_id": "pat-ada", **PATIENT})
    await appears(client, "Patient/pat-ada")
    forgotten = await client.post("/scheduling/patients/pat-ada/forget", json={"reason": "asked"})
    assert forgotten.status_code == 200, forgotten.text

    async def redacted() -> dict[str, Any] | None:
        patient = await fhir_get(client, "Patient/pat-ada")
        return patient if "meta" in patient else None

    patient = await until(redacted, message="the patient redacted")
    text = str(patient)
    assert not [v for v in (*PATIENT.values(), "Lovelace", "[redacted]") if v in text]
    assert patient["name"][0]["extension"][0]["valueCode"] == "masked"
    assert "birthDate" not in patient
    assert "gender" not in patient
    assert "_gender" not in patient
    assert "_birthDate" in patient
    assert patient["meta"]["security"][0]["code"] == "REDACTED"


async def test_an_appointment_reads_and_searches_as_fhir(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat_late", "pat-1")
    # 16:30 in Los Angeles on 1 December is 2 December in UTC: dates are the site's.
    await post_ok(
        client,
        "/scheduling/sites",
        {"site_id": "west", "name": "West", "time_zone": "America/Los_Angeles"},
    )
    await post_ok(client, "/scheduling/sites/west/rooms", {"room_id": "exam-w", "name": "W"})
    await appears(client, "Location/room-exam-w")  # a booking looks for rooms there
    await hire_bookable(client, "dr-w", ["west"], name="Dr. W")
    await make_bookable(client, "dr-w", "west")
    west = {"site_id": "west", "provider_id": "dr-w", "visit_type_id": "follow-up"}
    late = await post_ok(
        client,
        "/scheduling/appointments",
        booking(west, patient_id="pat_late", start="2026-12-01T16:30:00-08:00"),
    )
    early = await post_ok(client, "/scheduling/appointments", booking(clinic))
    late_id = str(late["id"]).replace("_", ".")

    appointment = await appears(client, f"Appointment/{late_id}")
    await appears(client, f"Appointment/{early['id']}")

    assert appointment["status"] == "booked"
    assert appointment["start"] == "2026-12-02T00:30:00Z"
    assert appointment["appointmentType"]["text"] == "Follow-up"
    assert [p["actor"]["reference"] for p in appointment["participant"]] == [
        "Patient/pat.late",
        "Practitioner/dr-w",
        "Location/site-west",
        "Location/room-exam-w",
    ]
    on_the_first = await fhir_get(client, "Appointment", params={"date": "2026-12-01"})
    assert ids(on_the_first) == [early["id"], late_id]
    assert ids(await fhir_get(client, "Appointment", params={"date": "eq2026-12-02"})) == []
    later = await fhir_get(client, "Appointment?date=ge2026-12-01&date=le2026-12-01")
    assert ids(later) == [early["id"], late_id]
    assert ids(await fhir_get(client, "Appointment", params={"date": "gt2026-12-01"})) == []
    assert ids(await fhir_get(client, "Appointment", params={"date": "lt2026-12-01"})) == []
    mine = await fhir_get(client, "Appointment", params={"patient": "Patient/pat.late"})
    assert ids(mine) == [late_id]
    both = await fhir_get(client, "Appointment", params={"patient": "pat.late,pat-1"})
    assert ids(both) == [early["id"], late_id]
    assert both["entry"][0]["fullUrl"] == f"http://medoffice{FHIR}/Appointment/{early['id']}"

    entries = await accesses(client, "pat_late", 5)
    assert {e["data"]["endpoint"] for e in entries} == {
        f"{FHIR}/Appointment/{late_id}",
        f"{FHIR}/Appointment",
    }


async def test_a_cancelled_appointment_shows_its_reason_until_the_patient_is_forgotten(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-1")
    booked = await post_ok(client, "/scheduling/appointments", booking(clinic))
    await appears(client, f"Appointment/{booked['id']}")
    cancelled = await client.post(
        f"/scheduling/appointments/{booked['id']}/cancel", json={"reason": "Feeling better"}
    )
    assert cancelled.status_code == 200, cancelled.text

    async def status() -> dict[str, Any] | None:
        appointment = await fhir_get(client, f"Appointment/{booked['id']}")
        return appointment if appointment["status"] == "cancelled" else None

    appointment = await until(status, message="the cancellation")
    assert appointment["cancelationReason"] == {"text": "Feeling better"}
    forgotten = await client.post("/scheduling/patients/pat-1/forget", json={"reason": "asked"})
    assert forgotten.status_code == 200, forgotten.text
    withheld = await fhir_get(client, f"Appointment/{booked['id']}")
    assert "Feeling better" not in str(withheld)
    assert withheld["cancelationReason"]["extension"][0]["valueCode"] == "masked"


async def test_locations_and_schedules(
    client: httpx.AsyncClient, clinic: dict[str, str], south: dict[str, str]
) -> None:
    async def everything() -> dict[str, Any] | None:
        bundle = await fhir_get(client, "Location")
        return bundle if len(ids(bundle)) == 4 else None

    locations = await until(everything, message="sites and rooms")
    assert ids(locations) == ["site-north", "site-south", "room-exam-1", "room-exam-s"]
    north, _, room, _ = (e["resource"] for e in locations["entry"])
    [zone] = north["extension"]
    assert zone == {"url": LOCATION_TIMEZONE, "valueCode": "America/New_York"}
    # The extension is defined where its canonical URL points, on this server.
    definition = await fhir_get(client, zone["url"].removeprefix(f"http://medoffice{FHIR}/"))
    assert definition["resourceType"] == "StructureDefinition"
    assert definition["url"] == zone["url"]
    assert definition["context"] == [{"type": "element", "expression": "Location"}]
    assert room["partOf"]["reference"] == "Location/site-north"
    assert await fhir_get(client, "Location/room-exam-1") == room

    async def both() -> dict[str, Any] | None:
        bundle = await fhir_get(client, "Schedule")
        return bundle if len(ids(bundle)) == 2 else None

    schedules = await until(both, message="both providers' schedules")
    assert ids(schedules) == ["4-dr-a-north", "4-dr-b-south"]
    by_provider = await fhir_get(client, "Schedule", params={"actor": "Practitioner/dr-b"})
    assert ids(by_provider) == ["4-dr-b-south"]
    by_site = await fhir_get(client, "Schedule", params={"actor": "Location/site-north"})
    assert ids(by_site) == ["4-dr-a-north"]
    either = await fhir_get(
        client, "Schedule", params={"actor": "Location/site-north,Location/site-south"}
    )
    assert ids(either) == ["4-dr-a-north", "4-dr-b-south"]
    schedule = await fhir_get(client, "Schedule/4-dr-a-north")
    assert [a["reference"] for a in schedule["actor"]] == [
        "Practitioner/dr-a",
        "Location/site-north",
    ]


async def test_callers_see_their_tenant_and_their_sites_only(
    client: httpx.AsyncClient,
    clinic: dict[str, str],
    south: dict[str, str],
    token_for: TokenFor,
) -> None:
    await post_ok(client, "/scheduling/patients", {"patient_id": "pat-1", **PATIENT})
    await register(client, "pat-2")
    at_north = await post_ok(client, "/scheduling/appointments", booking(clinic))
    at_south = await post_ok(client, "/scheduling/appointments", booking(south, patient_id="pat-2"))
    await appears(client, "Patient/pat-1")
    await appears(client, f"Appointment/{at_north['id']}")
    await appears(client, f"Appointment/{at_south['id']}")
    await appears(client, "Schedule/4-dr-b-south")

    other_tenant = token_for("admin", tenant="globex")
    for path in (
        "Patient/pat-1",
        f"Appointment/{at_north['id']}",
        "Location/site-north",
        "Schedule/4-dr-a-north",
    ):
        await fhir_get(client, path, 404, headers=other_tenant)
    assert ids(await fhir_get(client, "Location", headers=other_tenant)) == []

    desk = token_for("front_desk", sites=["north"])
    await fhir_get(client, f"Appointment/{at_north['id']}", headers=desk)
    await fhir_get(client, f"Appointment/{at_south['id']}", 404, headers=desk)
    await fhir_get(client, "Location/site-south", 404, headers=desk)
    await fhir_get(client, "Schedule/4-dr-b-south", 404, headers=desk)
    assert ids(await fhir_get(client, "Location", headers=desk)) == ["site-north", "room-exam-1"]
    assert ids(await fhir_get(client, "Schedule", headers=desk)) == ["4-dr-a-north"]
    day = {"date": "2026-12-01"}
    assert ids(await fhir_get(client, "Appointment", params=day, headers=desk)) == [at_north["id"]]
    assert await fhir_get(client, "Patient/pat-1", headers=desk)  # patients have no site

    south_desk = token_for("front_desk", sites=["south"])
    await fhir_get(client, f"Appointment/{at_north['id']}", 404, headers=south_desk)
    assert ids(await fhir_get(client, "Appointment", params=day, headers=south_desk)) == [
        at_south["id"]
    ]

    auditor = token_for("auditor", sites=["north"])
    assert ids(await fhir_get(client, "Appointment", params=day, headers=auditor)) == [
        at_north["id"]
    ]
    everywhere = token_for("auditor")
    assert len(ids(await fhir_get(client, "Appointment", params=day, headers=everywhere))) == 2
    await fhir_get(client, "Patient/pat-1", headers=everywhere)
    denied = await fhir_get(client, "Patient/pat-1", 403, headers=token_for("biller"))
    assert denied["issue"][0]["code"] == "forbidden"
    unsigned = await client.get(f"{FHIR}/metadata", headers={"authorization": "Bearer x"})
    assert unsigned.status_code == 401
    assert unsigned.headers["www-authenticate"] == "Bearer"
    assert valid(unsigned.json())["issue"][0]["code"] == "login"


def slot_times(bundle: dict[str, Any]) -> list[tuple[str, str]]:
    """The (start, end) of each free slot, checked to be a searchset of free Slots."""
    assert bundle["type"] == "searchset"
    assert "total" not in bundle  # the earliest slots: how many there are in all is not known
    slots = [e["resource"] for e in bundle.get("entry", [])]
    assert all(slot["status"] == "free" for slot in slots)
    return [(slot["start"], slot["end"]) for slot in slots]


def half_hours(day: int, *starts: str) -> list[tuple[str, str]]:
    """30-minute slots on `day` December 2026 starting at the UTC times `starts` (HH:MM)."""
    out = []
    for start in starts:
        begin = datetime.fromisoformat(f"2026-12-{day:02}T{start}:00+00:00")
        out.append((_z(begin), _z(begin + timedelta(minutes=30))))
    return out


def _z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def every_quarter(first: str, last: str, day: int = 1) -> list[str]:
    """HH:MM every 15 minutes from `first` to `last` (UTC)."""
    at = datetime.fromisoformat(f"2026-12-{day:02}T{first}:00")
    end = datetime.fromisoformat(f"2026-12-{day:02}T{last}:00")
    times = []
    while at <= end:
        times.append(at.strftime("%H:%M"))
        at += timedelta(minutes=15)
    return times


NORTH_SCHEDULE = "Schedule/4-dr-a-north"


async def test_free_slots_of_a_schedule_leave_out_booked_time(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-1")
    # dr-a's days end at 17:00 from now on: the latest template in force wins.
    changed = await post_ok(
        client,
        "/scheduling/providers/dr-a/availability",
        {"site_id": "north", "windows": WEEKDAYS_8_TO_5, "effective_from": "2026-01-01"},
    )
    # Slots read availability from a read model: wait until it has the new template.
    waited = await search_slots(
        client, after_stream=changed["stream"], after_version=changed["stream_version"]
    )
    assert waited.status_code == 200, waited.text
    # 9:00-9:30 in New York (14:00-14:30 UTC) with dr-a in the clinic's one exam room.
    await post_ok(client, "/scheduling/appointments", booking(clinic))
    on_the_first = {"schedule": NORTH_SCHEDULE, "start": "2026-12-01", "_count": "200"}

    async def booked_time_taken() -> dict[str, Any] | None:
        bundle = await fhir_get(client, "Slot", params=on_the_first)
        starts = [start for start, _ in slot_times(bundle)]
        return bundle if starts and "2026-12-01T14:00:00Z" not in starts else None

    bundle = await until(booked_time_taken, message="the booking on the site's board")

    # 8:00 to 16:30 New York time, every 15 minutes, but for what would overlap 9:00-9:30.
    taken = {"13:45", "14:00", "14:15"}
    free = [t for t in every_quarter("13:00", "21:30") if t not in taken]
    assert slot_times(bundle) == half_hours(1, *free)
    slot = bundle["entry"][0]["resource"]
    assert slot["schedule"] == {"reference": NORTH_SCHEDULE}
    assert slot["appointmentType"] == {
        "coding": [
            {
                "system": "urn:medoffice:scheduling:visit-type",
                "code": "follow-up",
                "display": "Follow-up",
            }
        ],
        "text": "Follow-up",
    }
    assert slot["id"] == "202612011300-9-follow-up-4-dr-a-north"
    assert bundle["entry"][0]["fullUrl"] == f"http://medoffice{FHIR}/Slot/{slot['id']}"

    first_five = await fhir_get(client, "Slot", params={**on_the_first, "_count": "5"})
    assert slot_times(first_five) == half_hours(1, *free[:5])
    two_days = await fhir_get(
        client,
        f"Slot?schedule={NORTH_SCHEDULE}&start=ge2026-12-01&start=lt2026-12-03&_count=200",
    )
    assert slot_times(two_days) == [
        *half_hours(1, *free),
        *half_hours(2, *every_quarter("13:00", "21:30", day=2)),
    ]
    same = [
        {"appointment-type": "follow-up"},
        {"appointment-type": "urn:medoffice:scheduling:visit-type|follow-up"},
        {"status": "free"},
        {"status": "busy,free"},
        {"schedule": "4-dr-a-north"},
    ]
    for change in same:
        found = await fhir_get(client, "Slot", params={**on_the_first, **change})
        assert slot_times(found) == slot_times(bundle), change
    nothing = [
        {"status": "busy"},
        {"appointment-type": "http://example.org/visits|follow-up"},
        {"appointment-type": "no-such-visit"},
        {"start": "2026-12-05"},  # a Saturday
        {"start": "lt2026-11-01"},  # over
        {"schedule": "Schedule/1-x-north"},
    ]
    for change in nothing:
        found = await fhir_get(client, "Slot", params={**on_the_first, **change})
        assert slot_times(found) == [], change


async def test_slots_are_for_the_shortest_visit_unless_a_type_is_named(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await post_ok(
        client,
        "/scheduling/visit-types",
        {"visit_type_id": "physical", "name": "Physical", "duration_minutes": 60},
    )
    # Shorter, but not for a physician: dr-a's default stays the 30-minute follow-up.
    await post_ok(
        client,
        "/scheduling/visit-types",
        {
            "visit_type_id": "shot",
            "name": "Shot",
            "duration_minutes": 10,
            "provider_roles": ["nurse"],
        },
    )
    day = {"schedule": NORTH_SCHEDULE, "start": "2026-12-01", "_count": "3"}

    async def both_defined() -> bool:
        listed = (await client.get("/scheduling/visit-types")).json()
        return {"physical", "shot"} <= {v["visit_type_id"] for v in listed}

    await until(both_defined, message="the visit types in their read model")

    async def three(params: dict[str, str]) -> dict[str, Any] | None:
        bundle = await fhir_get(client, "Slot", params=params)
        return bundle if len(slot_times(bundle)) == 3 else None

    physical = await until(
        lambda: three({**day, "appointment-type": "physical"}), message="the physical"
    )
    assert slot_times(physical) == [
        ("2026-12-01T13:00:00Z", "2026-12-01T14:00:00Z"),
        ("2026-12-01T13:15:00Z", "2026-12-01T14:15:00Z"),
        ("2026-12-01T13:30:00Z", "2026-12-01T14:30:00Z"),
    ]
    assert physical["entry"][0]["resource"]["appointmentType"]["text"] == "Physical"
    default = await fhir_get(client, "Slot", params=day)
    assert slot_times(default) == half_hours(1, "13:00", "13:15", "13:30")
    assert default["entry"][0]["resource"]["appointmentType"]["text"] == "Follow-up"
    not_for_dr_a = await fhir_get(client, "Slot", params={**day, "appointment-type": "shot"})
    assert slot_times(not_for_dr_a) == []


async def test_without_start_slots_are_from_the_site_today_for_a_week(
    client: httpx.AsyncClient, clinic: dict[str, str], clock: ShiftedClock
) -> None:
    new_york = ZoneInfo("America/New_York")
    before = clock.now()

    async def twenty() -> list[tuple[str, str]] | None:
        times = slot_times(await fhir_get(client, "Slot", params={"schedule": NORTH_SCHEDULE}))
        return times if len(times) == 20 else None

    times = await until(twenty, message="the clinic's rooms and visit types")
    after = clock.now()
    first_day = before.astimezone(new_york).date()
    last_day = after.astimezone(new_york).date() + timedelta(days=6)
    for start, _ in times:
        moment = datetime.fromisoformat(start)
        assert moment >= before
        assert first_day <= moment.astimezone(new_york).date() <= last_day
    assert times == sorted(times)


async def test_another_site_schedule_shows_no_slots(
    client: httpx.AsyncClient,
    clinic: dict[str, str],
    south: dict[str, str],
    token_for: TokenFor,
) -> None:
    south_day = {"schedule": "Schedule/4-dr-b-south", "start": "2026-12-01", "_count": "3"}
    north_day = {"schedule": NORTH_SCHEDULE, "start": "2026-12-01", "_count": "3"}

    async def three() -> dict[str, Any] | None:
        bundle = await fhir_get(client, "Slot", params=south_day)
        return bundle if len(slot_times(bundle)) == 3 else None

    # 8:00 in Chicago is 14:00 UTC.
    assert slot_times(await until(three, message="dr-b's slots")) == half_hours(
        1, "14:00", "14:15", "14:30"
    )
    south_desk = token_for("front_desk", sites=["south"])
    north_desk = token_for("front_desk", sites=["north"])
    other_tenant = token_for("admin", tenant="globex")

    def shown(params: dict[str, str], headers: dict[str, str]) -> Callable[[], Awaitable[bool]]:
        async def probe() -> bool:
            bundle = await fhir_get(client, "Slot", params=params, headers=headers)
            return len(slot_times(bundle)) == 3

        return probe

    await until(shown(south_day, south_desk), message="dr-b's slots to the south desk")
    await until(shown(north_day, north_desk), message="dr-a's slots to the north desk")
    assert slot_times(await fhir_get(client, "Slot", params=south_day, headers=north_desk)) == []
    assert slot_times(await fhir_get(client, "Slot", params=north_day, headers=south_desk)) == []
    for params in (south_day, north_day):
        assert slot_times(await fhir_get(client, "Slot", params=params, headers=other_tenant)) == []
    denied = await fhir_get(client, "Slot", 403, params=north_day, headers=token_for("biller"))
    assert denied["issue"][0]["code"] == "forbidden"


async def test_the_capability_statement_lists_what_is_served(client: httpx.AsyncClient) -> None:
    statement = await fhir_get(client, "metadata")

    [rest] = statement["rest"]
    served = {
        r["type"]: (
            [i["code"] for i in r["interaction"]],
            sorted(p["name"] for p in r.get("searchParam", [])),
        )
        for r in rest["resource"]
    }
    assert served == {
        "Patient": (["read"], []),
        "Appointment": (["read", "search-type"], ["date", "patient"]),
        "Location": (["read", "search-type"], []),
        "Schedule": (["read", "search-type"], ["actor"]),
        "Practitioner": (["read", "search-type"], ["_id", "identifier", "name"]),
        "PractitionerRole": (["read", "search-type"], ["_id", "location", "practitioner"]),
        "Slot": (["search-type"], ["appointment-type", "schedule", "start", "status"]),
        "StructureDefinition": (["read"], []),
        "Coverage": (["read", "search-type"], ["_id", "patient"]),
        "ChargeItem": (["read", "search-type"], ["_id", "patient"]),
        "Claim": (["read", "search-type"], ["_id", "patient"]),
        "ExplanationOfBenefit": (["read", "search-type"], ["_id", "claim", "patient"]),
        "PaymentReconciliation": (["read", "search-type"], ["_id", "created"]),
    }
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert sorted(p for p in paths if p.startswith(FHIR)) == sorted(
        [
            f"{FHIR}/metadata",
            f"{FHIR}/Patient/{{patient_id}}",
            f"{FHIR}/Appointment",
            f"{FHIR}/Appointment/{{appointment_id}}",
            f"{FHIR}/Location",
            f"{FHIR}/Location/{{location_id}}",
            f"{FHIR}/Practitioner",
            f"{FHIR}/Practitioner/{{practitioner_id}}",
            f"{FHIR}/PractitionerRole",
            f"{FHIR}/PractitionerRole/{{role_id}}",
            f"{FHIR}/Schedule",
            f"{FHIR}/Schedule/{{schedule_id}}",
            f"{FHIR}/Slot",
            f"{FHIR}/StructureDefinition/{{definition_id}}",
            f"{FHIR}/Coverage",
            f"{FHIR}/Coverage/{{coverage_id}}",
            f"{FHIR}/ChargeItem",
            f"{FHIR}/ChargeItem/{{item_id}}",
            f"{FHIR}/Claim",
            f"{FHIR}/Claim/{{claim_id}}",
            f"{FHIR}/ExplanationOfBenefit",
            f"{FHIR}/ExplanationOfBenefit/{{eob_id}}",
            f"{FHIR}/PaymentReconciliation",
            f"{FHIR}/PaymentReconciliation/{{remittance_id}}",
        ]
    )


BAD_REQUESTS = [
    "Appointment",
    "Appointment?date=tomorrow",
    "Appointment?date=ap2026-12-01",
    "Appointment?date=2026-13-01",
    "Appointment?patient=Practitioner/dr-a",
    "Appointment?patient=pat_1",
    "Appointment?patient=",
    "Appointment?status=booked",
    "Location?name=North",
    "Schedule?actor=dr-a",
    "Schedule?actor=Patient/pat-1",
    "Patient/pat_1",
    "Appointment/a%20b",
    f"Schedule/{'x' * 65}",
    "Slot",
    "Slot?start=2026-12-01",
    "Slot?schedule=Practitioner/dr-a",
    "Slot?schedule=4_dr",
    "Slot?schedule=4-dr-a-north,4-dr-b-south",
    "Slot?schedule=4-dr-a-north&schedule=4-dr-b-south",
    "Slot?schedule=4-dr-a-north&start=tomorrow",
    "Slot?schedule=4-dr-a-north&start=ap2026-12-01",
    "Slot?schedule=4-dr-a-north&start=2026-02-30",
    "Slot?schedule=4-dr-a-north&start=ge2026-12-01&start=le2027-03-03",
    "Slot?schedule=4-dr-a-north&start=le2030-01-01",
    "Slot?schedule=4-dr-a-north&_count=0",
    "Slot?schedule=4-dr-a-north&_count=201",
    "Slot?schedule=4-dr-a-north&_count=ten",
    "Slot?schedule=4-dr-a-north&_count=5&_count=6",
    "Slot?schedule=4-dr-a-north&status=open",
    "Slot?schedule=4-dr-a-north&appointment-type=a,b",
    "Slot?schedule=4-dr-a-north&appointment-type=urn:x|",
    "Slot?schedule=4-dr-a-north&service-type=follow-up",
]


async def test_a_bad_request_is_a_400_operation_outcome(client: httpx.AsyncClient) -> None:
    async def refused(path: str) -> None:
        outcome = await fhir_get(client, path, 400)
        assert outcome["resourceType"] == "OperationOutcome"
        assert outcome["issue"][0]["code"] == "invalid"
        assert outcome["issue"][0]["diagnostics"]

    await every_case_holds(BAD_REQUESTS, refused)


async def test_an_unknown_resource_is_a_404_operation_outcome(client: httpx.AsyncClient) -> None:
    for path in (
        "Patient/nobody",
        "Appointment/nothing",
        "Location/site-x",
        "Schedule/1-a-b",
        "Practitioner/nobody",
        "StructureDefinition/nothing",
    ):
        outcome = await fhir_get(client, path, 404)
        assert outcome["issue"][0]["code"] == "not-found"


async def test_what_is_not_served_is_a_404_operation_outcome(client: httpx.AsyncClient) -> None:
    for path in ("Encounter", "Encounter/e-1", "Patient/p-1/_history", "Observation?code=x"):
        outcome = await fhir_get(client, path, 404)
        assert outcome["issue"][0]["code"] == "not-found"
        assert "GET metadata lists what is" in outcome["issue"][0]["diagnostics"]
    unsigned = await client.get(f"{FHIR}/Encounter", headers={"authorization": ""})
    assert unsigned.status_code == 401
    assert valid(unsigned.json())["resourceType"] == "OperationOutcome"


DATE_SEARCHES = ["Appointment?date={}", "Slot?schedule=4-dr-a-north&start={}"]


async def test_a_date_at_the_ends_of_the_calendar_is_a_400_operation_outcome(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    async def refused(case: tuple[str, str, str]) -> None:
        search, prefix, day = case
        outcome = await fhir_get(client, search.format(prefix + day), 400)
        assert outcome["issue"][0]["code"] == "invalid"
        assert "out of range" in outcome["issue"][0]["diagnostics"]

    prefixes = ["", "eq", "gt", "lt", "ge", "le"]
    days = ["0001-01-01", "0001-12-31", "9999-01-01", "9999-12-31"]
    await every_case_holds(itertools.product(DATE_SEARCHES, prefixes, days), refused)


async def test_the_first_and_last_searchable_days_answer_a_searchset(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    async def answered(case: tuple[str, str, str]) -> None:
        search, prefix, day = case
        # Up to the last day from today spans millennia of slots: a slot search names at most
        # 92 days, so that is refused as too long (a 400 for what it asks, not for the date).
        too_long = search.startswith("Slot") and prefix in ("lt", "le") and day == "9998-12-31"
        bundle = await fhir_get(client, search.format(prefix + day), 400 if too_long else 200)
        if too_long:
            assert "at most 92 days" in bundle["issue"][0]["diagnostics"]
        else:
            assert bundle["type"] == "searchset"

    prefixes = ["", "gt", "lt", "ge", "le"]
    days = ["0002-01-01", "9998-12-31"]
    await every_case_holds(itertools.product(DATE_SEARCHES, prefixes, days), answered)


async def test_an_empty_search_has_no_entry(
    client: httpx.AsyncClient, clinic: dict[str, str], token_for: TokenFor
) -> None:
    for path in (
        "Appointment?date=2026-12-01",
        "Schedule?actor=Location/site-nowhere",
        "Slot?schedule=1-x-north",
    ):
        bundle = await fhir_get(client, path)
        assert "entry" not in bundle, path
    other_tenant = token_for("admin", tenant="globex")
    for path in ("Practitioner", "Location", "Schedule"):
        bundle = await fhir_get(client, path, headers=other_tenant)
        assert "entry" not in bundle, path
        assert bundle["total"] == 0


async def test_practitioners_are_served_and_every_reference_resolves(
    client: httpx.AsyncClient, clinic: dict[str, str], south: dict[str, str], token_for: TokenFor
) -> None:
    # Practitioners are staffing's: a provider's id is their employee id (both hired there).
    await post_ok(client, "/scheduling/patients", {"patient_id": "pat-1", **PATIENT})
    booked = await post_ok(client, "/scheduling/appointments", booking(clinic))
    await appears(client, "Patient/pat-1")
    appointment = await appears(client, f"Appointment/{booked['id']}")
    await appears(client, "Schedule/4-dr-b-south")
    await appears(client, "Practitioner/dr-a")
    await appears(client, "Practitioner/dr-b")

    practitioners = await fhir_get(client, "Practitioner")
    assert ids(practitioners) == ["dr-a", "dr-b"]
    dr_b = await fhir_get(client, "Practitioner/dr-b")
    assert {k: dr_b[k] for k in ("resourceType", "id", "active", "name", "identifier")} == {
        "resourceType": "Practitioner",
        "id": "dr-b",
        "active": True,
        "name": [{"text": "Dr. B"}],
        "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": NPI}],
    }
    [licence] = dr_b["qualification"]
    assert licence["code"]["coding"][0]["code"] == "state_licence"
    # Providers are staff of the group: every reader sees them all, as in /scheduling/providers.
    desk = token_for("front_desk", sites=["north"])
    assert await fhir_get(client, "Practitioner/dr-b", headers=desk) == dr_b
    await fhir_get(client, "Practitioner/dr-b", 404, headers=token_for("admin", tenant="globex"))
    await fhir_get(client, "Practitioner/dr-b", 403, headers=token_for("biller"))

    schedules = await fhir_get(client, "Schedule")
    referenced = {p["actor"]["reference"] for p in appointment["participant"]}
    for entry in schedules["entry"]:
        referenced |= {actor["reference"] for actor in entry["resource"]["actor"]}
    for entry in (await fhir_get(client, "Location"))["entry"]:
        if "partOf" in entry["resource"]:
            referenced.add(entry["resource"]["partOf"]["reference"])
    # A PractitionerRole's sites are scheduling's site Locations.
    for entry in (await fhir_get(client, "PractitionerRole"))["entry"]:
        referenced |= {place["reference"] for place in entry["resource"]["location"]}
    assert {
        "Practitioner/dr-a",
        "Practitioner/dr-b",
        "Patient/pat-1",
        "Location/site-north",
        "Location/site-south",
    } <= referenced
    for reference in sorted(referenced):
        resource = await fhir_get(client, reference)
        assert f"{resource['resourceType']}/{resource['id']}" == reference
