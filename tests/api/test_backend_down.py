"""MongoDB goes away: requests answer 503 with Retry-After, nothing is half-written, and the
suite carries on when it comes back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from services.suite import Suite
from shared.settings import Settings
from tests.api.conftest import booking, post_ok, register
from tests.support import TcpProxy, suite_settings

pytestmark = pytest.mark.integration


@pytest.fixture
async def proxy(mongo_url: str) -> AsyncIterator[TcpProxy]:
    target = urlsplit(mongo_url)
    assert target.hostname is not None
    proxy = TcpProxy(target.hostname, target.port or 27017)
    await proxy.start()
    yield proxy
    await proxy.cut()


@pytest.fixture
def settings(
    kafka_bootstrap: str, proxy: TcpProxy, tmp_path: Path, unique: str, mongo_url: str
) -> Settings:
    query = urlsplit(mongo_url).query
    # Short timeouts so that "down" shows within the test's patience, and "up" again soon.
    through_proxy = (
        f"mongodb://127.0.0.1:{proxy.port}/?serverSelectionTimeoutMS=2000&heartbeatFrequencyMS=500"
        + (f"&{query}" if query else "")
    )
    return suite_settings(tmp_path, kafka_bootstrap, through_proxy, namespace=unique)


async def test_an_unreachable_database_is_a_503_and_recovers(
    client: httpx.AsyncClient, clinic: dict[str, str], proxy: TcpProxy, suite: Suite
) -> None:
    await register(client, "pat-1")
    store = suite.service("scheduling").event_store
    assert store is not None
    await proxy.cut()

    response = await client.post("/scheduling/appointments", json=booking(clinic))

    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"]
    assert (await client.get("/ready")).status_code == 503
    keyed = await client.post(
        "/scheduling/appointments", json=booking(clinic), headers={"idempotency-key": "down-1"}
    )
    assert keyed.status_code == 503, keyed.text
    assert keyed.headers["content-type"] == "application/problem+json"

    await proxy.start()
    assert (await client.get("/ready")).status_code == 200
    assert await store.load("acme:site-day:north:2026-12-01") == []
    await post_ok(client, "/scheduling/appointments", booking(clinic))
