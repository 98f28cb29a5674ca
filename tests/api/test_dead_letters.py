"""Dead letters under /ops: a record a consumer could not handle is listed with its reason,
inspected with PHI sealed, replayed through the normal path (twice, applied once), or
discarded with a reason recorded with the operator."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.suite import Suite
from shared.cloudevents import Message
from shared.events import DomainEvent, Envelope
from shared.projections import View
from shared.settings import Settings
from tests.api.conftest import TokenFor
from tests.support import settled, wait_until

SITE_REGISTERED = "medoffice.scheduling.SiteRegistered.v1"
DIRECTORY = "scheduling.directory"


async def letters(
    client: httpx.AsyncClient, operator: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    """Every dead letter still to settle (following the cursor)."""
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/ops/dead-letters", params=query, headers=operator)
        assert response.status_code == 200, response.text
        page = response.json()
        found += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return found


class Hiccup:
    """The directory projection refusing sites (a store refusing writes for a reason that is
    not 'unavailable': the record is dead-lettered) until `healed`; `given` is every site
    event it was handed."""

    def __init__(self, suite: Suite, monkeypatch: pytest.MonkeyPatch) -> None:
        self.healed = False
        self.given: list[str] = []
        projection = suite.service("scheduling").runner(DIRECTORY).projection
        real = projection.apply

        async def flaky(event: DomainEvent, envelope: Envelope, view: View) -> None:
            if envelope.type == SITE_REGISTERED:
                self.given.append(envelope.id)
                if not self.healed:
                    raise RuntimeError("directory write refused: disk quota")
            await real(event, envelope, view)

        monkeypatch.setattr(projection, "apply", flaky)


async def register_site(client: httpx.AsyncClient, site_id: str) -> None:
    body = {
        "site_id": site_id,
        "name": site_id.title(),
        "time_zone": "America/New_York",
        "opening_hours": [{"weekday": 0, "opens": "08:00", "closes": "17:00"}],
    }
    response = await client.post("/scheduling/sites", json=body)
    assert response.status_code == 201, response.text


async def test_a_failed_record_is_listed_replayed_twice_and_applied_once(
    suite: Suite,
    client: httpx.AsyncClient,
    operator: dict[str, str],
    token_for: TokenFor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hiccup = Hiccup(suite, monkeypatch)
    await register_site(client, "north")

    async def listed() -> list[dict[str, Any]]:
        return await letters(client, operator, context="scheduling")

    [letter] = await wait_until(listed, message="the dead letter")
    assert letter["context"] == "scheduling"
    assert letter["topic"].endswith("medoffice.scheduling.events")
    assert letter["group"] == f"projection.{DIRECTORY}.g1"
    assert letter["reason"] == {
        "error_type": "RuntimeError",
        "message": "directory write refused: disk quota",
    }
    assert letter["type"] == SITE_REGISTERED
    assert letter["tenant"] == "acme"
    assert letter["event_id"] == hiccup.given[0]
    assert letter["correlation_id"]
    assert letter["stream"]
    assert letter["dead_lettered_at"]
    shown = (await client.get(f"/ops/dead-letters/{letter['id']}", headers=operator)).json()
    assert shown["attributes"]["type"] == SITE_REGISTERED
    assert shown["attributes"]["id"] == hiccup.given[0]
    assert shown["data"]["site_id"] == "north"
    assert shown["state"] == "dead"

    hiccup.healed = True
    delivered = len(hiccup.given)
    first = await client.post(f"/ops/dead-letters/{letter['id']}/replay", headers=operator)
    second = await client.post(f"/ops/dead-letters/{letter['id']}/replay", headers=operator)
    assert first.status_code == second.status_code == 200, second.text
    assert second.json()["state"] == "replayed"
    assert [h["operator"] for h in second.json()["history"]] == ["ops", "ops"]
    await settled(suite)

    # Every consumer of the topic got the record three times (the directory handled it this
    # time); each applied it once.
    assert set(hiccup.given) == {letter["event_id"]}
    assert len(hiccup.given) == delivered + 2
    auditor = token_for("auditor")
    logged = (
        await client.get("/compliance/audit-log", params={"type": SITE_REGISTERED}, headers=auditor)
    ).json()
    assert [e["event_id"] for e in logged] == [letter["event_id"]]
    assert await listed() == []
    sites = (await client.get("/scheduling/sites")).json()
    assert [s["site_id"] for s in sites] == ["north"]


async def test_a_malformed_record_is_listed_discarded_or_replayed_into_a_new_dead_letter(
    suite: Suite, client: httpx.AsyncClient, operator: dict[str, str], settings: Settings
) -> None:
    junk = Message(
        topic=settings.topic("scheduling"),
        key="junk-1",
        headers={"ce_phi": "name"},
        value=b'{"name": "Jane Roe", "nested": {"x": {"phi": 1, "ct": "zz"}}}',
    )
    await suite.backends.bus.publish([junk])

    async def junk_letters() -> list[dict[str, Any]]:
        found = await letters(client, operator, context="scheduling", limit=2)
        return [x for x in found if x["stream"] == "junk-1"]

    await settled(suite)
    dead = await wait_until(junk_letters, message="the junk's dead letters")
    assert {x["reason"]["error_type"] for x in dead} == {"MalformedMessage"}
    assert len({x["group"] for x in dead}) == len(dead)  # one per consumer group of the topic
    shown = (await client.get(f"/ops/dead-letters/{dead[0]['id']}", headers=operator)).json()
    assert shown["data"] == {"name": {"sealed": True}, "nested": {"x": {"sealed": True}}}
    assert "Jane" not in str(shown)

    discarded, rest = dead[0], dead[1:]
    path = f"/ops/dead-letters/{discarded['id']}"
    missing = await client.post(f"{path}/discard", json={}, headers=operator)
    assert missing.status_code == 422
    answer = await client.post(f"{path}/discard", json={"reason": "test junk"}, headers=operator)
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "discarded"
    assert answer.json()["history"][0]["reason"] == "test junk"
    assert answer.json()["history"][0]["operator"] == "ops"
    again = await client.post(f"{path}/discard", json={"reason": "again"}, headers=operator)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert (await client.post(f"{path}/replay", headers=operator)).status_code == 409

    # Replayed unchanged, it fails again: back in the dead-letter topic under new ids.
    replayed = await client.post(
        "/ops/dead-letters/replay", json={"context": "scheduling"}, headers=operator
    )
    assert replayed.status_code == 200, replayed.text
    assert sorted(replayed.json()["replayed"]) == sorted(x["id"] for x in rest)

    async def dead_again() -> list[dict[str, Any]]:
        found = await junk_letters()
        return found if len(found) == len(dead) else []

    await settled(suite)
    new = await wait_until(dead_again, message="the junk dead-lettered again")
    assert not {x["id"] for x in new} & {x["id"] for x in dead}
    assert {x["replayed_from"] for x in new} <= {x["id"] for x in rest}


async def test_bad_requests_are_refused_with_a_problem(
    client: httpx.AsyncClient, operator: dict[str, str], token_for: TokenFor
) -> None:
    cases = [
        ("GET", "/ops/dead-letters?context=nowhere", None, 422),
        ("GET", "/ops/dead-letters?cursor=nonsense", None, 422),
        ("GET", "/ops/dead-letters?limit=0", None, 422),
        ("GET", "/ops/dead-letters/not-an-id", None, 422),
        ("GET", "/ops/dead-letters/scheduling.0.999999", None, 404),
        ("GET", "/ops/dead-letters/nowhere.0.1", None, 404),
        ("POST", "/ops/dead-letters/scheduling.0.999999/replay", None, 404),
        ("POST", "/ops/dead-letters/scheduling.0.999999/discard", {"reason": "x"}, 404),
        ("POST", "/ops/dead-letters/replay", {"context": "nowhere"}, 422),
        ("POST", "/ops/dead-letters/replay", {}, 422),
    ]
    for method, path, body, status in cases:
        response = await client.request(method, path, json=body, headers=operator)
        assert response.status_code == status, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    admin = await client.get("/ops/dead-letters", headers=token_for("admin"))
    assert admin.status_code == 403


async def test_a_replay_retried_with_its_idempotency_key_is_recorded_once(
    suite: Suite,
    client: httpx.AsyncClient,
    operator: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    Hiccup(suite, monkeypatch)
    await register_site(client, "south")

    async def listed() -> list[dict[str, Any]]:
        return await letters(client, operator, context="scheduling")

    [letter] = await wait_until(listed, message="the dead letter")
    keyed = {**operator, "Idempotency-Key": "replay-south"}
    path = f"/ops/dead-letters/{letter['id']}/replay"
    first = await client.post(path, headers=keyed)
    retried = await client.post(path, headers=keyed)
    assert first.status_code == retried.status_code == 200, retried.text
    assert retried.json() == first.json()
    shown = (await client.get(f"/ops/dead-letters/{letter['id']}", headers=operator)).json()
    assert len(shown["history"]) == 1
