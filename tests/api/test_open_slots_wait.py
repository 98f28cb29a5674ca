"""Open-slot search waits for the availability read model when asked to, and only then: with
its projection stopped, a search answers from the read model as it was, and one that waits for
a provider change is a 503 at the bound (short here) until the projection runs again."""

from __future__ import annotations

import httpx
import pytest

from services.suite import Suite
from shared.settings import Settings
from tests.api.conftest import search_slots
from tests.api.staffing_helpers import approve_time_off, scheduling_learnt
from tests.api.test_open_slots import bookable, starts
from tests.support import wait_until


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"read_your_writes_timeout": 1.0})


async def test_a_search_reads_the_read_model_and_waits_for_a_change_it_lacks(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite
) -> None:
    before = await bookable(client)
    runner = suite.service("scheduling").runner("scheduling.availability")
    await runner.stop()
    request_id = await approve_time_off(
        client, "dr-a", "2026-12-01T13:00:00Z", "2026-12-01T15:00:00Z"
    )
    off = await scheduling_learnt(suite, "dr-a", "ProviderTimeOffApproved", time_off_id=request_id)
    after = {"after_stream": off.stream, "after_version": off.stream_version}

    # The provider's stream has the time off; the read model, stopped, has not.
    assert await starts(client) == before
    behind = await search_slots(client, **after)
    assert behind.status_code == 503, behind.text
    assert behind.headers["retry-after"] == "1"

    await runner.start()

    async def caught_up() -> list[str]:
        response = await search_slots(client, limit=3, **after)
        return [s["start"] for s in response.json()] if response.status_code == 200 else []

    # The bound is short here: on a loaded machine the restarted runner may need longer.
    found = await wait_until(caught_up, message="the restarted projection")
    assert found[0] == "2026-12-01T15:00:00+00:00"
