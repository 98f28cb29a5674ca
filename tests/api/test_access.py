"""Who may do what: every endpoint declares a policy, and the access matrix in
docs/security.md is what the API really answers.

The matrix is generated: each endpoint is called by each role, with a token for site `north`
of tenant `acme`, on a resource at its own site (north), at another site (south), and from
another tenant (globex, also "north"). A cell reads own/other site/other tenant. Rewrite the
document's table after a deliberate change with MEDOFFICE_WRITE_ACCESS_MATRIX=1.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.http.identity import ROLES
from shared.settings import Settings
from tests.api.conftest import TokenFor, post_ok
from tests.support import suite_settings, wait_until

DOC = Path(__file__).parents[2] / "docs" / "security.md"
BEGIN, END = "<!-- access-matrix:begin -->", "<!-- access-matrix:end -->"
PUBLIC = {("GET", "/health"), ("GET", "/ready")}
SCOPES = ("own", "other", "tenant")

counter = itertools.count(1)


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: dict[str, Any] | None = None


Prepare = Callable[[httpx.AsyncClient, str], Awaitable[Call]]


async def _book(admin: httpx.AsyncClient, site: str) -> str:
    n = next(counter)
    booked = await post_ok(
        admin,
        "/scheduling/appointments",
        {
            "patient_id": f"pat-{n}",
            "provider_id": f"dr-{site}",
            "site_id": site,
            "visit_type_id": "v",
            "start": f"2027-01-{n % 28 + 1:02d}T{8 + n % 9:02d}:00:00+00:00",
        },
    )
    return str(booked["id"])


def _fixed(method: str, path: str, json: dict[str, Any] | None = None) -> Prepare:
    async def prepare(_: httpx.AsyncClient, site: str) -> Call:
        return Call(method, path.format(site=site, n=next(counter)), json)

    return prepare


async def _new_site(_: httpx.AsyncClient, site: str) -> Call:
    n = next(counter)
    return Call("POST", "/scheduling/sites", {"site_id": f"s{n}", "name": "S", "time_zone": "UTC"})


async def _new_room(_: httpx.AsyncClient, site: str) -> Call:
    return Call("POST", f"/scheduling/sites/{site}/rooms", {"name": f"Room {next(counter)}"})


async def _new_provider(_: httpx.AsyncClient, site: str) -> Call:
    body = {"provider_id": f"p{next(counter)}", "name": "P", "site_ids": [site]}
    return Call("POST", "/scheduling/providers", body)


async def _new_visit_type(_: httpx.AsyncClient, site: str) -> Call:
    body = {"visit_type_id": f"v{next(counter)}", "name": "V", "duration_minutes": 15}
    return Call("POST", "/scheduling/visit-types", body)


async def _booking(_: httpx.AsyncClient, site: str) -> Call:
    n = next(counter)
    body = {
        "patient_id": "pat-x",
        "provider_id": f"dr-{site}",
        "site_id": site,
        "visit_type_id": "v",
        "start": f"2027-02-{n % 28 + 1:02d}T{8 + n % 9:02d}:00:00+00:00",
    }
    return Call("POST", "/scheduling/appointments", body)


async def _cancel(admin: httpx.AsyncClient, site: str) -> Call:
    appointment = await _book(admin, site)
    return Call("POST", f"/scheduling/appointments/{appointment}/cancel", {"reason": "x"})


async def _appointment(admin: httpx.AsyncClient, site: str) -> Call:
    path = f"/scheduling/appointments/{await _book(admin, site)}"

    async def projected() -> bool:
        return (await admin.get(path)).status_code == 200

    await wait_until(projected, message="the appointment in its read model")
    return Call("GET", path)


async def _new_patient(_: httpx.AsyncClient, site: str) -> Call:
    body = {"patient_id": f"pat-{next(counter)}", "name": "P", "birth_date": "1980-01-01"}
    return Call("POST", "/scheduling/patients", body)


async def _patient(admin: httpx.AsyncClient, site: str) -> Call:
    patient_id = f"pat-{next(counter)}"
    body = {"patient_id": patient_id, "name": "P", "birth_date": "1980-01-01"}
    await post_ok(admin, "/scheduling/patients", body)

    async def projected() -> bool:
        return (await admin.get(f"/scheduling/patients/{patient_id}")).status_code == 200

    await wait_until(projected, message="the patient in its read model")
    return Call("GET", f"/scheduling/patients/{patient_id}")


async def _forget(_: httpx.AsyncClient, site: str) -> Call:
    return Call("POST", f"/scheduling/patients/pat-{next(counter)}/forget", {"reason": "asked"})


async def _registered(admin: httpx.AsyncClient) -> str:
    patient_id = f"pat-{next(counter)}"
    body = {"patient_id": patient_id, "name": "P", "birth_date": "1980-01-01"}
    await post_ok(admin, "/scheduling/patients", body)
    return patient_id


async def _coverage(admin: httpx.AsyncClient, site: str) -> Call:
    body = {
        "payer_id": "payer",
        "payer_name": "Payer",
        "plan": "Plan",
        "relationship": "self",
        "member_id": "M1",
    }
    return Call("POST", f"/scheduling/patients/{await _registered(admin)}/coverage", body)


async def _intake(admin: httpx.AsyncClient, site: str) -> Call:
    """An intake for a patient's appointment at `site`."""
    patient_id = await _registered(admin)
    n = next(counter)
    booked = await post_ok(
        admin,
        "/scheduling/appointments",
        {
            "patient_id": patient_id,
            "provider_id": f"dr-{site}",
            "site_id": site,
            "visit_type_id": "v",
            "start": f"2027-03-{n % 28 + 1:02d}T{8 + n % 9:02d}:00:00+00:00",
        },
    )
    body = {"reason_for_visit": "R", "appointment_id": booked["id"]}
    return Call("POST", f"/scheduling/patients/{patient_id}/intake", body)


async def _triage(admin: httpx.AsyncClient, site: str) -> Call:
    body = {"patient_id": await _registered(admin), "urgency": 3}
    return Call("POST", f"/scheduling/sites/{site}/triage", body)


def _triaged(action: str, body: dict[str, Any] | None = None) -> Prepare:
    """`action` on a patient waiting at `site`."""

    async def prepare(admin: httpx.AsyncClient, site: str) -> Call:
        call = await _triage(admin, site)
        triaged = await post_ok(admin, call.path, call.json or {})
        return Call("POST", f"/scheduling/sites/{site}/triage/{triaged['id']}/{action}", body)

    return prepare


async def _rebuild(_: httpx.AsyncClient, site: str) -> Call:
    return Call("POST", "/ops/projections/scheduling.directory/rebuild")


ENDPOINTS: dict[tuple[str, str], Prepare] = {
    ("GET", "/scheduling/sites"): _fixed("GET", "/scheduling/sites"),
    ("POST", "/scheduling/sites"): _new_site,
    ("POST", "/scheduling/sites/{site_id}/rooms"): _new_room,
    ("GET", "/scheduling/rooms"): _fixed("GET", "/scheduling/rooms"),
    ("GET", "/scheduling/providers"): _fixed("GET", "/scheduling/providers"),
    ("POST", "/scheduling/providers"): _new_provider,
    ("GET", "/scheduling/visit-types"): _fixed("GET", "/scheduling/visit-types"),
    ("POST", "/scheduling/visit-types"): _new_visit_type,
    ("POST", "/scheduling/appointments"): _booking,
    ("POST", "/scheduling/appointments/{appointment_id}/cancel"): _cancel,
    ("GET", "/scheduling/appointments/{appointment_id}"): _appointment,
    ("GET", "/scheduling/providers/{provider_id}/schedule/{day}"): _fixed(
        "GET", "/scheduling/providers/dr-{site}/schedule/2027-01-05"
    ),
    ("POST", "/scheduling/patients"): _new_patient,
    ("GET", "/scheduling/patients/{patient_id}"): _patient,
    ("POST", "/scheduling/patients/{patient_id}/forget"): _forget,
    ("POST", "/scheduling/patients/{patient_id}/coverage"): _coverage,
    ("POST", "/scheduling/patients/{patient_id}/intake"): _intake,
    ("POST", "/scheduling/sites/{site_id}/triage"): _triage,
    ("POST", "/scheduling/sites/{site_id}/triage/{triage_id}/retriage"): _triaged(
        "retriage", {"urgency": 1}
    ),
    ("POST", "/scheduling/sites/{site_id}/triage/{triage_id}/seen"): _triaged("seen"),
    ("POST", "/scheduling/sites/{site_id}/triage/{triage_id}/left"): _triaged("left"),
    ("GET", "/scheduling/sites/{site_id}/triage-queue"): _fixed(
        "GET", "/scheduling/sites/{site}/triage-queue"
    ),
    ("GET", "/compliance/audit-log"): _fixed("GET", "/compliance/audit-log"),
    ("GET", "/ops/projections"): _fixed("GET", "/ops/projections"),
    ("POST", "/ops/projections/{name}/rebuild"): _rebuild,
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The matrix is about the HTTP layer: the embedded backend is enough."""
    return suite_settings(tmp_path)


async def _group(client: httpx.AsyncClient) -> None:
    for site in ("north", "south"):
        await post_ok(
            client, "/scheduling/sites", {"site_id": site, "name": site, "time_zone": "UTC"}
        )
        await post_ok(
            client,
            "/scheduling/providers",
            {"provider_id": f"dr-{site}", "name": site, "site_ids": [site]},
        )
    await post_ok(
        client,
        "/scheduling/visit-types",
        {"visit_type_id": "v", "name": "Visit", "duration_minutes": 30},
    )


async def test_every_endpoint_declares_its_policy(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    operations = {(m.upper(), p): op for p, ops in paths.items() for m, op in ops.items()}
    undeclared = [
        key
        for key, op in operations.items()
        if key not in PUBLIC and "x-medoffice-policy" not in op
    ]
    assert undeclared == []
    assert set(operations) - PUBLIC == set(ENDPOINTS), "the matrix must cover every endpoint"
    for key, op in operations.items():
        rule = op.get("x-medoffice-policy")
        if rule and rule["changes_state"]:
            assert "auditor" not in rule["roles"], key


async def test_the_access_matrix_is_the_documented_one(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    await _group(client)
    rows = []
    for (method, path), prepare in ENDPOINTS.items():
        cells = []
        for role in ROLES:
            statuses = []
            for scope in SCOPES:
                site = "north" if scope == "own" else "south" if scope == "other" else "north"
                tenant = "globex" if scope == "tenant" else "acme"
                call = await prepare(client, site)
                response = await client.request(
                    call.method,
                    call.path,
                    json=call.json,
                    headers=token_for(role, tenant=tenant, sites=["north"]),
                )
                assert response.status_code < 500, (role, scope, call, response.text)
                statuses.append(str(response.status_code))
            cells.append("/".join(statuses))
        rows.append(f"| `{method} {path}` | " + " | ".join(cells) + " |")
    header = "| endpoint | " + " | ".join(ROLES) + " |\n|---|" + "---|" * len(ROLES)
    table = header + "\n" + "\n".join(rows)

    document = DOC.read_text()
    before, _, rest = document.partition(BEGIN)
    _, _, after = rest.partition(END)
    if os.environ.get("MEDOFFICE_WRITE_ACCESS_MATRIX"):
        DOC.write_text(f"{before}{BEGIN}\n{table}\n{END}{after}")
    documented = rest.partition(END)[0].strip()
    assert documented == table, "docs/security.md's access matrix differs from the API's"


async def test_site_scoped_callers_list_only_their_sites(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    await _group(client)
    desk = token_for("front_desk", sites=["north"])
    sites = (await client.get("/scheduling/sites", headers=desk)).json()
    providers = (await client.get("/scheduling/providers", headers=desk)).json()
    assert [s["site_id"] for s in sites] == ["north"]
    assert [p["provider_id"] for p in providers] == ["dr-north"]
    everyone = (await client.get("/scheduling/sites")).json()
    assert sorted(s["site_id"] for s in everyone) == ["north", "south"]
