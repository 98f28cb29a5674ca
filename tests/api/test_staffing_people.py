"""Employees over HTTP on both backends: the lifecycle, who sees what (a manager never sees
another site's staff; no role but hr sees personal contact data, staff only their own), every
read of personal data on the record, bad input refused with nothing written, and providers as
FHIR Practitioners and PractitionerRoles that validate."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.suite import Suite
from tests.api.conftest import TokenFor, post_ok
from tests.api.staffing_helpers import NPI, hire_provider
from tests.fhir_validation import valid
from tests.support import settled, wait_until

PERSONAL_ACCESS = "medoffice.staffing.PersonalRecordAccessed.v1"
PERSONAL = {
    "home_address": "1 Main St, Albany NY",
    "phone": "+1 555 0100",
    "emergency_contact": "Sam Quinn, +1 555 0199",
    "birth_date": "1980-02-03",
}
DESK = {"title": "Front desk", "role": "front_desk", "site_ids": ["north"], "fte": 0.5}
FHIR = "/fhir/R4"


async def hire(client: httpx.AsyncClient, employee_id: str, **fields: Any) -> dict[str, Any]:
    body = {"employee_id": employee_id, "name": f"Person {employee_id}", **DESK}
    return await post_ok(
        client, "/staffing/employees", {"hired_on": "2026-01-05", **body, **fields}
    )


async def read(
    client: httpx.AsyncClient, employee_id: str, done: dict[str, Any], **kwargs: Any
) -> httpx.Response:
    """GET the employee once the change `done` answered is in the read model."""
    params = {"after_stream": done["stream"], "after_version": done["stream_version"]}
    return await client.get(f"/staffing/employees/{employee_id}", params=params, **kwargs)


async def record(client: httpx.AsyncClient, employee_id: str, done: dict[str, Any]) -> Any:
    response = await read(client, employee_id, done)
    assert response.status_code == 200, response.text
    return response.json()


async def directory(client: httpx.AsyncClient, site_id: str, **kwargs: Any) -> httpx.Response:
    return await client.get(f"/staffing/sites/{site_id}/staff", **kwargs)


async def test_a_hire_reads_back_whole_for_hr_and_the_read_is_recorded(
    client: httpx.AsyncClient, token_for: TokenFor, suite: Suite
) -> None:
    hr = token_for("hr", sub="hr-1")
    done = await hire_provider(
        client, "dr-q", ["north"], name="Dr. Quinn", personal=PERSONAL, hired_on="2026-01-05"
    )
    assert done["id"] == "dr-q"
    assert done["stream_version"] == 3  # hired, personal details, provider details

    response = await read(client, "dr-q", done, headers={**hr, "x-purpose-of-use": "HRADMIN"})
    assert response.status_code == 200, response.text
    employee = response.json()
    assert employee["personal"] == PERSONAL
    assert (employee["name"], employee["role"], employee["status"]) == (
        "Dr. Quinn",
        "physician",
        "active",
    )
    assert employee["provider"] == {
        "npi": NPI,
        "taxonomy_code": "207Q00000X",
        "specialty": "Family",
    }

    async def disclosed() -> list[dict[str, Any]] | None:
        found: list[dict[str, Any]] = (
            await client.get(
                "/compliance/audit-log",
                params={"subject": "dr-q", "type": PERSONAL_ACCESS},
                headers=token_for("auditor"),
            )
        ).json()
        return found or None

    found = await wait_until(disclosed, message="the read of dr-q's personal data recorded")
    assert found is not None
    [entry] = found
    assert entry["actor"] == "hr-1"
    assert entry["data"]["employee_id"] == "dr-q"
    assert entry["data"]["endpoint"] == "/staffing/employees/dr-q"
    assert entry["data"]["purpose"] == "HRADMIN"
    # The audit log keeps the personal details sealed: names of fields, never their values.
    await settled(suite)
    log = (await client.get("/compliance/audit-log", params={"subject": "dr-q"})).text
    for value in PERSONAL.values():  # whole values: "555" alone turns up in ids and hashes
        assert value not in log


async def test_a_manager_never_sees_another_site_staff_nor_personal_data(
    client: httpx.AsyncClient, token_for: TokenFor, suite: Suite
) -> None:
    await hire(client, "ana", personal=PERSONAL)
    done = await hire(client, "bo", site_ids=["south"], personal=PERSONAL)
    await record(client, "bo", done)
    await settled(suite)
    north_manager = token_for("manager", sites=["north"], sub="mgr-n")
    south_manager = token_for("manager", sites=["south"], sub="mgr-s")

    seen = await client.get("/staffing/employees/ana", headers=north_manager)
    assert seen.status_code == 200, seen.text
    assert "personal" not in seen.json()
    assert "555" not in seen.text
    assert "Main St" not in seen.text
    # Another site's employee, and one who does not exist, answer alike.
    for missing in ("bo", "nobody"):
        hidden = await client.get(f"/staffing/employees/{missing}", headers=north_manager)
        assert hidden.status_code == 404
        assert hidden.json()["title"] == f"employee {missing} not found"

    [line] = (await directory(client, "north", headers=north_manager)).json()
    assert line["employee_id"] == "ana"
    assert (await directory(client, "south", headers=north_manager)).status_code == 403
    [line] = (await directory(client, "south", headers=south_manager)).json()
    assert line["employee_id"] == "bo"
    assert "555" not in (await directory(client, "south", headers=south_manager)).text

    # Roles that keep no employee records are refused; another tenant finds nobody.
    for role in ("front_desk", "clinician", "biller", "auditor"):
        refused = await client.get("/staffing/employees/ana", headers=token_for(role))
        assert refused.status_code == 403, role
        assert (await directory(client, "north", headers=token_for(role))).status_code == 403
    elsewhere = token_for("hr", tenant="globex")
    assert (await client.get("/staffing/employees/ana", headers=elsewhere)).status_code == 404
    assert (await directory(client, "north", headers=elsewhere)).json() == []


async def test_staff_read_their_own_record_only_and_that_read_is_recorded(
    client: httpx.AsyncClient, token_for: TokenFor, suite: Suite
) -> None:
    await hire(client, "ana", personal=PERSONAL)
    done = await hire(client, "bo", personal=PERSONAL)
    await record(client, "bo", done)
    ana = token_for("staff", sites=["north"], sub="ana")

    own = await client.get("/staffing/employees/ana", headers=ana)
    assert own.status_code == 200, own.text
    assert own.json()["personal"] == PERSONAL
    assert (await client.get("/staffing/employees/bo", headers=ana)).status_code == 404
    assert (await directory(client, "north", headers=ana)).status_code == 403
    await settled(suite)
    entries = (
        await client.get(
            "/compliance/audit-log",
            params={"type": PERSONAL_ACCESS},
            headers=token_for("auditor"),
        )
    ).json()
    # The admin's read of bo (read-your-writes above) and ana's own read: nothing of ana's
    # failed read of bo.
    assert sorted((e["actor"], e["subject"]) for e in entries) == [("ana", "ana"), ("tester", "bo")]


async def test_an_employee_lifecycle_and_its_illegal_steps(
    client: httpx.AsyncClient, suite: Suite
) -> None:
    await hire(client, "boss", title="Manager", role="manager", fte=1.0)
    done = await hire(client, "ana", manager_id="boss")
    base = "/staffing/employees/ana"

    again = await client.post(
        "/staffing/employees",
        json={
            "employee_id": "ana",
            "name": "Person ana",
            "hired_on": "2026-01-05",
            "manager_id": "boss",
            **DESK,
        },
    )
    assert again.status_code == 201  # the same hire, replayed: nothing new
    assert again.json()["stream_version"] == done["stream_version"]
    other = await client.post(
        "/staffing/employees",
        json={"employee_id": "ana", "name": "Someone else", "hired_on": "2026-02-01", **DESK},
    )
    assert other.status_code == 409

    moved = await post_ok(
        client,
        f"{base}/job",
        {
            "title": "Lead desk",
            "role": "front_desk",
            "site_ids": ["north", "south"],
            "fte": 1.0,
            "manager_id": "boss",
            "effective_on": "2026-03-01",
        },
    )
    leave = await post_ok(
        client,
        f"{base}/leave",
        {
            "leave_id": "l1",
            "reason": "parental",
            "starts_on": "2026-04-01",
            "expected_return_on": "2026-07-01",
        },
    )
    on_leave = await record(client, "ana", leave)
    assert (on_leave["status"], on_leave["title"], on_leave["site_ids"]) == (
        "on_leave",
        "Lead desk",
        ["north", "south"],
    )
    assert moved["stream_version"] == 2
    second = await client.post(f"{base}/leave", json={"reason": "again", "starts_on": "2026-05-01"})
    assert second.status_code == 409
    back = await post_ok(client, f"{base}/leave/l1/end", {"returned_on": "2026-06-15"})
    assert (await record(client, "ana", back))["status"] == "active"

    ended = await post_ok(
        client, f"{base}/termination", {"last_day": "2026-08-31", "reason": "moved away"}
    )
    terminated = await record(client, "ana", ended)
    assert (terminated["status"], terminated["last_day"]) == ("terminated", "2026-08-31")
    for path, body in (
        (f"{base}/job", {**DESK, "effective_on": "2026-09-01"}),
        (f"{base}/leave", {"reason": "x", "starts_on": "2026-09-01"}),
        (f"{base}/termination", {"last_day": "2026-09-30", "reason": "again"}),
    ):
        refused = await client.post(path, json=body)
        assert refused.status_code == 409, (path, refused.text)
    # Gone from the directory the day after the last day (the suite's today: 26 Nov 2026).
    listed = await directory(
        client,
        "south",
        params={"after_stream": ended["stream"], "after_version": ended["stream_version"]},
    )
    assert listed.json() == []

    rehired = await post_ok(
        client, f"{base}/rehire", {**DESK, "site_ids": ["south"], "hired_on": "2026-10-01"}
    )
    back_again = await record(client, "ana", rehired)
    assert (back_again["status"], back_again["rehired"], back_again["site_ids"]) == (
        "active",
        True,
        ["south"],
    )
    south = await directory(
        client,
        "south",
        params={"after_stream": rehired["stream"], "after_version": rehired["stream_version"]},
    )
    [line] = south.json()
    assert (line["employee_id"], line["title"], line["fte"], line["status"]) == (
        "ana",
        "Front desk",
        0.5,
        "active",
    )
    assert (await directory(client, "north")).json()[0]["employee_id"] == "boss"
    assert (
        await client.post(f"{base}/rehire", json={**DESK, "hired_on": "2026-11-01"})
    ).status_code == 409
    assert (
        await client.post(
            "/staffing/employees/nobody/termination", json={"last_day": "2026-08-31", "reason": "x"}
        )
    ).status_code == 404


BAD_HIRES = [
    (
        {
            "provider": {"npi": "1234567890", "taxonomy_code": "207Q00000X", "specialty": "F"},
            "role": "physician",
        },
        422,
    ),  # check digit wrong
    (
        {
            "provider": {"npi": "12345", "taxonomy_code": "207Q00000X", "specialty": "F"},
            "role": "physician",
        },
        422,
    ),
    ({"provider": {"npi": NPI, "taxonomy_code": "207Q00000X", "specialty": "F"}}, 422),  # desk
    ({"fte": 0}, 422),
    ({"fte": 1.2}, 422),
    ({"site_ids": []}, 422),
    ({"site_ids": ["north", "north"]}, 422),
    ({"manager_id": "new"}, 422),  # themself
    ({"manager_id": "nobody"}, 422),  # not an employee
    ({"role": "janitor"}, 422),
    ({"personal": {"birth_date": "2030-01-01"}}, 422),
    ({"personal": {"ssn": "123-45-6789"}}, 422),  # no SSNs are kept
    ({"employee_id": "a b"}, 422),
]


# A 4xx is decided before any write, the same on both backends: the embedded one covers it.
@pytest.mark.parametrize("settings", ["embedded"], indirect=True)
@pytest.mark.parametrize(("change", "status"), BAD_HIRES)
async def test_bad_input_answers_4xx_and_writes_nothing(
    client: httpx.AsyncClient, suite: Suite, change: dict[str, Any], status: int
) -> None:
    body = {"employee_id": "new", "name": "New Person", "hired_on": "2026-01-05", **DESK, **change}
    response = await client.post("/staffing/employees", json=body)

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    store = suite.service("staffing").event_store
    assert store is not None
    assert await store.version("acme:employee:new") == 0


async def test_bad_changes_answer_4xx_and_write_nothing(
    client: httpx.AsyncClient, suite: Suite
) -> None:
    done = await hire(client, "ana")
    base = "/staffing/employees/ana"
    for path, body in (
        (f"{base}/provider", {"npi": NPI, "taxonomy_code": "207Q00000X", "specialty": "F"}),
        (f"{base}/job", {**DESK, "fte": 0, "effective_on": "2026-03-01"}),
        (f"{base}/job", {**DESK, "effective_on": "2025-03-01"}),
        (
            f"{base}/leave",
            {"reason": "x", "starts_on": "2026-03-01", "expected_return_on": "2026-02-01"},
        ),
        (f"{base}/termination", {"last_day": "2025-12-31", "reason": "x"}),
        (f"{base}/leave/l9/end", {"returned_on": "2026-03-01"}),
    ):
        response = await client.post(path, json=body)
        assert 400 <= response.status_code < 500, (path, response.text)
    store = suite.service("staffing").event_store
    assert store is not None
    assert await store.version(done["stream"]) == done["stream_version"]


async def test_only_hr_and_admin_change_employee_records(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    body = {"employee_id": "x", "name": "X", "hired_on": "2026-01-05", **DESK}
    for role in ("manager", "staff", "front_desk", "auditor"):
        response = await client.post("/staffing/employees", json=body, headers=token_for(role))
        assert response.status_code == 403, role
    hr = await client.post("/staffing/employees", json=body, headers=token_for("hr"))
    assert hr.status_code == 201


async def test_personal_details_change_field_by_field_and_forgetting_redacts_them(
    client: httpx.AsyncClient,
) -> None:
    await hire(client, "ana", personal=PERSONAL)
    changed = await client.put("/staffing/employees/ana/personal", json={"phone": "+1 555 0111"})
    assert changed.status_code == 200, changed.text
    assert (await record(client, "ana", changed.json()))["personal"] == {
        **PERSONAL,
        "phone": "+1 555 0111",
    }
    forgotten = await post_ok(
        client, "/staffing/employees/ana/forget-personal-data", {"reason": "asked to"}
    )
    after = await record(client, "ana", forgotten)
    assert set(after["personal"].values()) == {"[redacted]"}
    assert after["name"] == "Person ana"  # the employment record stays
    refused = await client.put("/staffing/employees/ana/personal", json={"phone": "1"})
    assert refused.status_code == 409


# ----------------------------------------------------------------------------- FHIR


async def fhir(client: httpx.AsyncClient, path: str, status: int = 200, **kw: Any) -> Any:
    response = await client.get(f"{FHIR}/{path}", **kw)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/fhir+json"
    return valid(response.json())


def ids(bundle: dict[str, Any]) -> list[str]:
    assert bundle["type"] == "searchset"
    assert bundle["total"] == len(bundle.get("entry", []))
    return [e["resource"]["id"] for e in bundle.get("entry", [])]


@pytest.mark.usefixtures("hl7_validator")
async def test_providers_are_practitioners_with_roles_read_and_searched(
    client: httpx.AsyncClient, token_for: TokenFor, suite: Suite
) -> None:
    await hire_provider(client, "dr_a", ["north", "south"], name="Ada Quinn")
    await hire_provider(
        client, "dr-b", ["south"], name="Bo Rivers", npi="1245319599", role="nurse_practitioner"
    )
    await hire_provider(client, "dr-c", ["north"], name="Cy Stone", npi=None)
    await hire(client, "desk-1")  # not a provider: no Practitioner
    ended = await post_ok(
        client,
        "/staffing/employees/dr-b/termination",
        {"last_day": "2026-10-31", "reason": "left"},
    )
    await record(client, "dr-b", ended)
    await settled(suite)

    ada = await fhir(client, "Practitioner/dr.a")
    assert ada == {
        "resourceType": "Practitioner",
        "id": "dr.a",
        "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": NPI}],
        "active": True,
        "name": [{"text": "Ada Quinn"}],
    }
    assert (await fhir(client, "Practitioner/dr-b"))["active"] is False
    assert "identifier" not in await fhir(client, "Practitioner/dr-c")
    await fhir(client, "Practitioner/desk-1", 404)
    await fhir(client, "Practitioner/nobody", 404)
    await fhir(client, "Practitioner/dr_a", 400)  # not a FHIR id

    assert ids(await fhir(client, "Practitioner")) == ["dr-b", "dr-c", "dr.a"]  # by our id
    assert ids(await fhir(client, f"Practitioner?identifier={NPI}")) == ["dr.a"]
    npi_system = "http://hl7.org/fhir/sid/us-npi"
    assert ids(await fhir(client, f"Practitioner?identifier={npi_system}|1245319599")) == ["dr-b"]
    assert ids(await fhir(client, "Practitioner?identifier=urn:other|1245319599")) == []
    assert ids(await fhir(client, "Practitioner?name=riv")) == ["dr-b"]
    assert ids(await fhir(client, "Practitioner?name=ada quinn,stone")) == ["dr-c", "dr.a"]
    assert ids(await fhir(client, "Practitioner?_id=dr.a,dr-c&name=cy")) == ["dr-c"]

    role = await fhir(client, "PractitionerRole/dr.a")
    assert role["practitioner"] == {"reference": "Practitioner/dr.a", "display": "Ada Quinn"}
    assert role["location"] == [
        {"reference": "Location/site-north"},
        {"reference": "Location/site-south"},
    ]
    assert role["specialty"] == [
        {
            "coding": [
                {
                    "system": "http://nucc.org/provider-taxonomy",
                    "code": "207Q00000X",
                    "display": "Family",
                }
            ],
            "text": "Family",
        }
    ]
    assert ids(await fhir(client, "PractitionerRole?location=Location/site-south")) == [
        "dr-b",
        "dr.a",
    ]
    assert ids(await fhir(client, "PractitionerRole?location=site-north")) == ["dr-c", "dr.a"]
    assert ids(await fhir(client, "PractitionerRole?practitioner=Practitioner/dr-b")) == ["dr-b"]
    assert ids(await fhir(client, "PractitionerRole?_id=dr-c")) == ["dr-c"]
    for bad in ("Practitioner?family=x", "Practitioner?name=", "PractitionerRole?location=a/b/c"):
        outcome = await fhir(client, bad, 400)
        assert outcome["issue"][0]["code"] == "invalid"

    # Providers are staff of the group: every reader of the tenant, no one else.
    desk = token_for("front_desk", sites=["north"])
    assert await fhir(client, "Practitioner/dr.a", headers=desk) == ada
    await fhir(client, "Practitioner/dr.a", 404, headers=token_for("admin", tenant="globex"))
    await fhir(client, "Practitioner/dr.a", 403, headers=token_for("biller"))
    assert (
        ids(await fhir(client, "PractitionerRole", headers=token_for("hr", tenant="globex"))) == []
    )


@pytest.mark.usefixtures("hl7_validator")
async def test_the_capability_statement_lists_what_every_service_serves(
    client: httpx.AsyncClient,
) -> None:
    statement = await fhir(client, "metadata")
    [rest] = statement["rest"]
    served = {
        r["type"]: sorted(p["name"] for p in r.get("searchParam", [])) for r in rest["resource"]
    }
    assert served["Practitioner"] == ["_id", "identifier", "name"]
    assert served["PractitionerRole"] == ["_id", "location", "practitioner"]
    assert {"Patient", "Appointment", "Location", "Schedule", "Slot"} <= set(served)
    # What no service serves is a 404 OperationOutcome, after every service's routes.
    outcome = await fhir(client, "Encounter", 404)
    assert "GET metadata lists what is" in outcome["issue"][0]["diagnostics"]


async def test_the_directory_rebuilds_to_what_it_was(
    client: httpx.AsyncClient, suite: Suite, operator: dict[str, str]
) -> None:
    await hire(client, "ana", personal=PERSONAL)
    await hire(client, "bo", site_ids=["north", "south"])
    moved = await post_ok(
        client,
        "/staffing/employees/bo/job",
        {**DESK, "site_ids": ["south"], "effective_on": "2026-03-01"},
    )
    await record(client, "bo", moved)
    await settled(suite)
    before = [(await directory(client, site)).json() for site in ("north", "south")]
    ana = (await client.get("/staffing/employees/ana")).json()
    assert [[line["employee_id"] for line in lines] for lines in before] == [["ana"], ["bo"]]

    rebuilt = await client.post("/ops/projections/staffing.directory/rebuild", headers=operator)
    assert rebuilt.json() == {"name": "staffing.directory", "generation": 2}

    async def switched() -> bool:
        status = (await client.get("/ops/projections", headers=operator)).json()
        [mine] = [p for p in status if p["name"] == "staffing.directory"]
        return bool(mine["generation"] == 2)

    await wait_until(switched, message="the rebuilt directory switched in")
    await settled(suite)
    assert [(await directory(client, site)).json() for site in ("north", "south")] == before
    assert (await client.get("/staffing/employees/ana")).json() == ana
