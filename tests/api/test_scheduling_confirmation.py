"""The front desk records that a patient confirmed their appointment (a signed link in a
message records the same through engagement: tests/api/test_engagement_links.py): once, shown
in the appointment's read model; not for a cancelled visit. On both backends."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import booking, post_ok, register
from tests.support import wait_until


async def test_the_front_desk_confirms_an_appointment_once(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    await register(client, "pat-1")
    made = await post_ok(client, "/scheduling/appointments", booking(clinic))
    path = f"/scheduling/appointments/{made['id']}"

    confirmed = await client.post(f"{path}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    again = await client.post(f"{path}/confirm")
    assert again.status_code == 200, again.text
    assert again.json()["stream_version"] == confirmed.json()["stream_version"]

    async def shown() -> dict[str, Any]:
        body: dict[str, Any] = (await client.get(path)).json()
        return body if body.get("confirmed_at") else {}

    appointment = await wait_until(shown, message="the confirmation in the read model")
    assert appointment["status"] == "booked"

    cancelled = await client.post(f"{path}/cancel", json={"reason": "x"})
    assert cancelled.status_code == 200, cancelled.text
    refused = await client.post(f"{path}/confirm")
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert "it was cancelled" in refused.json()["detail"]
