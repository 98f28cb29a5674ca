"""The FHIR R4 views of scheduling: valid resources, the same access rules, every disclosure
on the record, and OperationOutcomes for bad requests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from tests.api.conftest import TokenFor, booking, make_bookable, post_ok
from tests.fhir_validation import valid
from tests.support import ACCESS, wait_until

FHIR = "/fhir/R4"
FHIR_JSON = "application/fhir+json"
T = TypeVar("T")

PATIENT = {"name": "Ada Lovelace", "birth_date": "1815-12-10", "phone": "+1 555 0100"}


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
    """A second site in Chicago, with its own provider."""
    await post_ok(
        client,
        "/scheduling/sites",
        {"site_id": "south", "name": "South", "time_zone": "America/Chicago"},
    )
    await post_ok(
        client,
        "/scheduling/providers",
        {"provider_id": "dr-b", "name": "Dr. B", "site_ids": ["south"]},
    )
    await post_ok(client, "/scheduling/sites/south/rooms", {"room_id": "exam-s", "name": "Exam S"})
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
    assert "_birthDate" in patient
    assert patient["meta"]["security"][0]["code"] == "REDACTED"


async def test_an_appointment_reads_and_searches_as_fhir(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    # 21:00 in New York on 1 December is 2 December in UTC: dates are the site's.
    late = await post_ok(
        client,
        "/scheduling/appointments",
        booking(clinic, patient_id="pat_late", start="2026-12-01T21:00:00-05:00"),
    )
    early = await post_ok(client, "/scheduling/appointments", booking(clinic))
    late_id = str(late["id"]).replace("_", ".")

    appointment = await appears(client, f"Appointment/{late_id}")
    await appears(client, f"Appointment/{early['id']}")

    assert appointment["status"] == "booked"
    assert appointment["start"] == "2026-12-02T02:00:00Z"
    assert appointment["appointmentType"]["text"] == "Follow-up"
    assert [p["actor"]["reference"] for p in appointment["participant"]] == [
        "Patient/pat.late",
        "Practitioner/dr-a",
        "Location/site-north",
        "Location/room-exam-1",
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
    assert north["extension"][0]["valueCode"] == "America/New_York"
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
            f"{FHIR}/Schedule",
            f"{FHIR}/Schedule/{{schedule_id}}",
        ]
    )


@pytest.mark.parametrize(
    "path",
    [
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
    ],
)
async def test_a_bad_request_is_a_400_operation_outcome(
    client: httpx.AsyncClient, path: str
) -> None:
    outcome = await fhir_get(client, path, 400)

    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "invalid"
    assert outcome["issue"][0]["diagnostics"]


async def test_an_unknown_resource_is_a_404_operation_outcome(client: httpx.AsyncClient) -> None:
    for path in ("Patient/nobody", "Appointment/nothing", "Location/site-x", "Schedule/1-a-b"):
        outcome = await fhir_get(client, path, 404)
        assert outcome["issue"][0]["code"] == "not-found"
