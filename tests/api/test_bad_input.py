"""Bad input gets a problem+json 4xx and writes nothing."""

from __future__ import annotations

import httpx
import jwt
import pytest

from services.suite import Suite
from shared.clock import SystemClock
from shared.settings import Settings
from tests.api.conftest import booking

PROBLEM = "application/problem+json"


async def events_written(suite: Suite) -> int:
    store = suite.service("scheduling").event_store
    assert store is not None
    return sum(len(c.events) for c in await store.read_all(0, 10_000))


@pytest.mark.parametrize(
    ("change", "status", "detail"),
    [
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
    ],
)
async def test_a_bad_booking_is_refused_without_writing(
    client: httpx.AsyncClient,
    clinic: dict[str, str],
    suite: Suite,
    change: dict[str, object],
    status: int,
    detail: str | None,
) -> None:
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
