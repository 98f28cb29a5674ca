"""Bad input gets a problem+json 4xx and writes nothing."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import httpx
import jwt
import pytest

from services.suite import Suite
from shared.clock import SystemClock
from shared.settings import Settings
from tests.api.conftest import booking, register
from tests.support import every_case_holds, settled

PROBLEM = "application/problem+json"


async def events_written(suite: Suite) -> int:
    store = suite.service("scheduling").event_store
    assert store is not None
    return sum(len(c.events) for c in await store.read_all(0, 10_000))


BAD_BOOKINGS: list[tuple[dict[str, object], int, str | None]] = [
    (
        {"start": "2026-12-01T09:00:00-05:00", "end": "2026-12-01T08:00:00-05:00"},
        422,
        "an appointment must end after it starts",
    ),
    ({"start": "tomorrow morning"}, 422, None),
    ({"start": "2026-12-01T09:00:00"}, 422, None),  # no time zone
    ({"provider_id": 42}, 422, None),
    ({"unexpected": "field"}, 422, None),
    ({"provider_id": "dr-nobody"}, 404, "provider dr-nobody not found"),
    ({"site_id": "nowhere"}, 404, "site nowhere not found"),
    ({"visit_type_id": "nothing"}, 404, "visit type nothing not found"),
    ({"room_id": "closet"}, 404, "room closet not found"),
    ({"provider_id": "../etc"}, 422, None),
]


async def test_a_bad_booking_is_refused_without_writing(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite
) -> None:
    await register(client, "pat-1")

    async def refused(case: tuple[dict[str, object], int, str | None]) -> None:
        change, status, detail = case
        before = await events_written(suite)
        response = await client.post("/scheduling/appointments", json=booking(clinic, **change))
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == PROBLEM
        problem = response.json()
        assert problem["status"] == status
        if detail:
            assert problem["detail"] == detail
        assert "Traceback" not in response.text
        assert await events_written(suite) == before

    await settled(suite)  # nothing appended in the background meanwhile
    await every_case_holds(BAD_BOOKINGS, refused)


async def test_malformed_json_is_a_400(client: httpx.AsyncClient, suite: Suite) -> None:
    response = await client.post(
        "/scheduling/sites", content=b'{"name": "x", ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert await events_written(suite) == 0


async def test_an_unknown_time_zone_is_refused(client: httpx.AsyncClient, suite: Suite) -> None:
    response = await client.post(
        "/scheduling/sites", json={"site_id": "x", "name": "X", "time_zone": "Mars/Base"}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "unknown time zone 'Mars/Base'"
    assert await events_written(suite) == 0


async def test_cancelling_an_unknown_appointment_is_404(
    client: httpx.AsyncClient, suite: Suite
) -> None:
    response = await client.post("/scheduling/appointments/nope/cancel", json={"reason": "x"})
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    "authorization", [None, "Bearer not-a-token", "Basic dXNlcjpwYXNz", "Bearer "]
)
async def test_requests_without_a_valid_token_are_401(
    client: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"authorization": authorization}
    client.headers.pop("authorization")
    response = await client.get("/scheduling/sites", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM


async def test_a_role_without_the_right_is_403(
    client: httpx.AsyncClient, token_for: object
) -> None:
    assert callable(token_for)
    response = await client.post(
        "/scheduling/sites",
        json={"name": "X", "time_zone": "UTC"},
        headers=token_for("front_desk"),
    )
    assert response.status_code == 403


def _token(secret: str, **claims: object) -> str:
    now = int(SystemClock().now().timestamp())
    base: dict[str, object] = {
        "iss": "medoffice",
        "sub": "u",
        "tenant": "acme",
        "roles": ["admin"],
        "sites": "*",
        "iat": now,
        "exp": now + 600,
    }
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, secret, algorithm="HS256")


@pytest.mark.parametrize(
    "change",
    [
        {"exp": 1},  # expired long ago
        {"tenant": None},  # no tenant claim
        {"roles": ["wizard"]},  # a role that does not exist
        {"iss": "someone-else"},
        {"secret": "a-different-secret-of-the-same-good-length!"},
    ],
)
async def test_expired_wrongly_signed_or_claimless_tokens_are_401(
    client: httpx.AsyncClient, settings: Settings, change: dict[str, object]
) -> None:
    claims = dict(change)
    secret = str(claims.pop("secret", settings.jwt_secret))
    client.headers["authorization"] = f"Bearer {_token(secret, **claims)}"
    response = await client.get("/scheduling/sites")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM


async def test_an_unsigned_token_is_401(client: httpx.AsyncClient) -> None:
    unsigned = jwt.encode(
        {"iss": "medoffice", "sub": "u", "tenant": "acme", "roles": ["admin"], "exp": 2**31},
        key="",
        algorithm="none",
    )
    client.headers["authorization"] = f"Bearer {unsigned}"
    assert (await client.get("/scheduling/sites")).status_code == 401


Naming = Callable[[dict[str, str], str], tuple[str, dict[str, object]]]


def _series(clinic: dict[str, str], patient_id: str) -> tuple[str, dict[str, object]]:
    body = {
        "patient_id": patient_id,
        **clinic,
        "first_start": "2026-12-01T09:00:00-05:00",
        "count": 2,
    }
    return "/scheduling/appointment-series", body


def _booking(clinic: dict[str, str], patient_id: str) -> tuple[str, dict[str, object]]:
    return "/scheduling/appointments", booking(clinic, patient_id=patient_id)


def _wish(clinic: dict[str, str], patient_id: str) -> tuple[str, dict[str, object]]:
    body: dict[str, object] = {
        "patient_id": patient_id,
        "visit_type_id": clinic["visit_type_id"],
        "earliest": "2026-12-01",
        "latest": "2030-12-31",  # not yet passed when the test runs
    }
    return "/scheduling/sites/north/waitlist", body


def _triage(clinic: dict[str, str], patient_id: str) -> tuple[str, dict[str, object]]:
    return "/scheduling/sites/north/triage", {"patient_id": patient_id, "urgency": 3}


# Everything that names a patient anew: a booking, a series, a waitlist entry, a triage.
NAMING_A_PATIENT: list[Naming] = [_booking, _series, _wish, _triage]


async def test_naming_an_unknown_patient_is_a_404_and_writes_nothing(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite
) -> None:
    async def refused(case: tuple[Naming, str]) -> None:
        request_for, patient_id = case
        path, body = request_for(clinic, patient_id)
        before = await events_written(suite)
        response = await client.post(path, json=body)
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["detail"] == f"patient {patient_id} not found"
        assert await events_written(suite) == before

    unknown = ["_", "never-registered"]
    await settled(suite)  # nothing appended in the background meanwhile
    await every_case_holds(itertools.product(NAMING_A_PATIENT, unknown), refused)


@pytest.mark.parametrize("request_for", NAMING_A_PATIENT)
async def test_the_patient_is_known_from_the_event_store_not_the_read_model(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite, request_for: Naming
) -> None:
    """With the patients' read model stopped, a patient registered a moment ago is named, and
    one forgotten a moment ago is refused: the command reads the patient's stream."""
    [patients] = [
        r for r in suite.service("scheduling").runners if r.projection.name == "scheduling.patients"
    ]
    await patients.stop()
    await register(client, "pat-new", "pat-gone")
    forgotten = await client.post("/scheduling/patients/pat-gone/forget", json={"reason": "asked"})
    assert forgotten.status_code == 200, forgotten.text
    path, body = request_for(clinic, "pat-new")

    named = await client.post(path, json=body)
    path, body = request_for(clinic, "pat-gone")
    before = await events_written(suite)
    refused = await client.post(path, json=body)

    assert named.status_code == 201, named.text
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == "patient pat-gone was forgotten"
    assert await events_written(suite) == before
    await patients.start()
