"""Engagement learns each site scheduling registers as its own event (`SiteLearnt` on
`engagement-site-<id>`), once, and plans messages in that zone from its event store. On both
backends."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support import wait_until


async def test_a_registered_site_is_learnt_once_as_engagements_own_event(
    client: httpx.AsyncClient, clinic: dict[str, str]
) -> None:
    async def learnt() -> list[dict[str, Any]]:
        response = await client.get("/engagement/streams/acme:engagement-site:north")
        events: list[dict[str, Any]] = (
            response.json()["events"] if response.status_code == 200 else []
        )
        return events

    events = await wait_until(learnt, timeout=60, message="the site learnt")
    assert [e["type"] for e in events] == ["medoffice.engagement.SiteLearnt.v1"]
    assert (events[0]["data"]["name"], events[0]["data"]["time_zone"]) == (
        "North",
        "America/New_York",
    )
