"""What operators do reaches the audit trail: a dead letter replayed or discarded, a rebuild
started, cancelled and ended are events of the `operations` store, with the operator as actor,
relayed to `medoffice.operations.events`, logged and chained by compliance under the tenant
`platform`, and its store cross-checked with the chain like any producer's."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.suite import Suite
from shared.cloudevents import Message
from shared.eventstore.port import StoreUnavailable
from shared.settings import Settings
from tests.api.conftest import TokenFor
from tests.api.test_audit_ledger import RawStore
from tests.api.test_dead_letters import letters
from tests.api.test_rebuilds import DIRECTORY, job
from tests.support import settled, wait_until

OPS = "medoffice.operations"
STARTED, CANCELLED, ENDED = (
    f"{OPS}.{name}.v1" for name in ("RebuildStarted", "RebuildCancelled", "RebuildEnded")
)
REPLAYED, DISCARDED = f"{OPS}.DeadLetterReplayed.v1", f"{OPS}.DeadLetterDiscarded.v1"


async def dead_letters_of_junk(
    suite: Suite, client: httpx.AsyncClient, operator: dict[str, str], settings: Settings
) -> list[dict[str, Any]]:
    """A malformed record on scheduling's topic: dead-lettered by each group that reads it."""
    junk = Message(topic=settings.topic("scheduling"), key="junk-9", headers={}, value=b"{oops")
    await suite.backends.bus.publish([junk])

    async def dead() -> list[dict[str, Any]]:
        found = await letters(client, operator, context="scheduling")
        return [x for x in found if x["stream"] == "junk-9"]

    await settled(suite)
    found = await wait_until(dead, message="the junk's dead letters")
    assert len(found) >= 2, found  # the directory's, the audit log's, the ledger's...
    return found


async def test_replays_discards_and_rebuilds_are_audited_with_the_operator(
    suite: Suite,
    client: httpx.AsyncClient,
    operator: dict[str, str],
    settings: Settings,
    token_for: TokenFor,
) -> None:
    replayed, discarded = (await dead_letters_of_junk(suite, client, operator, settings))[:2]
    answer = await client.post(f"/ops/dead-letters/{replayed['id']}/replay", headers=operator)
    assert answer.status_code == 200, answer.text
    path = f"/ops/dead-letters/{discarded['id']}/discard"
    answer = await client.post(path, json={"reason": "junk"}, headers=operator)
    assert answer.status_code == 200, answer.text

    started = await client.post(
        f"/ops/projections/{DIRECTORY}/rebuilds",
        headers={**operator, "x-correlation-id": "rebuild-by-ops"},
    )
    assert started.status_code == 202, started.text
    rebuild = started.json()

    async def switched() -> bool:
        return bool((await job(client, operator, rebuild["id"]))["status"] == "switched")

    await wait_until(switched, timeout=60, message="the switch")
    again = await client.post(f"/ops/projections/{DIRECTORY}/rebuilds", headers=operator)
    assert again.status_code == 202, again.text
    cancelled = again.json()
    answer = await client.delete(f"/ops/rebuilds/{cancelled['id']}", headers=operator)
    assert answer.status_code in (200, 409), answer.text  # 409: it switched first
    outcome = (await job(client, operator, cancelled["id"]))["status"]
    await settled(suite)

    auditor = token_for("auditor", tenant="platform")
    wanted = 2 + 2 + (3 if answer.status_code == 200 else 2)  # letters, rebuilds

    async def logged() -> list[dict[str, Any]] | None:
        response = await client.get("/compliance/audit-log", headers=auditor)
        assert response.status_code == 200, response.text
        entries = [e for e in response.json() if e["context"] == "operations"]
        return entries if len(entries) >= wanted else None

    entries = await wait_until(logged, message="what operators did, in the audit log")
    assert entries is not None
    assert {e["tenant"] for e in entries} == {"platform"}
    by_type: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_type.setdefault(entry["type"], []).append(entry)
    [replay] = by_type[REPLAYED]
    assert (replay["actor"], replay["data"]["dead_letter_id"]) == ("ops", replayed["id"])
    [discard] = by_type[DISCARDED]
    assert (discard["actor"], discard["data"]["reason"]) == ("ops", "junk")
    first = [e for e in entries if e["stream"] == f"rebuild-{rebuild['id']}"]
    assert [(e["type"], e["actor"]) for e in first] == [(STARTED, "ops"), (ENDED, None)]
    assert first[0]["correlation_id"] == "rebuild-by-ops"
    assert first[0]["data"]["projection"] == DIRECTORY
    assert first[1]["data"]["status"] == "switched"
    second = [e["type"] for e in entries if e["stream"] == f"rebuild-{cancelled['id']}"]
    if answer.status_code == 200:
        # The cancel is recorded before the job hears of it; a switch that came first ends the
        # stream before the operator's ask (quick on a small read model).
        assert second[0] == STARTED
        assert sorted(second[1:]) == sorted([CANCELLED, ENDED])
        assert outcome in ("cancelled", "switched")  # a cancel racing the switch may lose
        if outcome == "cancelled":
            assert second == [STARTED, CANCELLED, ENDED]
    else:
        assert second == [STARTED, ENDED]
    # Tenants' auditors see none of it; the platform's ledger chains it and the operations
    # store is cross-checked with the chain like every producer's.
    acme = (await client.get("/compliance/audit-log", headers=token_for("auditor"))).json()
    assert not [e for e in acme if e["context"] == "operations"]

    async def chained() -> dict[str, Any] | None:
        response = await client.get("/compliance/audit-ledger/verify", headers=auditor)
        report: dict[str, Any] = response.json()
        return report if report["entries"] >= wanted else None

    report = await wait_until(chained, message="what operators did, chained")
    assert report is not None
    assert report["verified"] is True, report
    assert report["stores"]["operations"]["events"] == report["entries"]
    assert report["stores"]["operations"]["missing"] == []


async def test_a_rebuild_that_cannot_be_recorded_is_refused_and_runs_nothing(
    suite: Suite,
    client: httpx.AsyncClient,
    operator: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = suite.operations_relay.store

    async def down(*args: object, **kwargs: object) -> None:
        raise StoreUnavailable("operations store unreachable")

    monkeypatch.setattr(store, "append", down)
    refused = await client.post(f"/ops/projections/{DIRECTORY}/rebuilds", headers=operator)
    assert refused.status_code == 503, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    [unrecorded] = (await client.get("/ops/rebuilds", headers=operator)).json()
    assert (unrecorded["status"], unrecorded["error"]) == ("failed", "not recorded")
    status = (await client.get("/ops/projections", headers=operator)).json()
    [directory] = [p for p in status if p["name"] == DIRECTORY]
    assert (directory["generation"], directory["rebuilding"]) == (1, None)

    monkeypatch.undo()
    started = await client.post(f"/ops/projections/{DIRECTORY}/rebuilds", headers=operator)
    assert started.status_code == 202, started.text  # its claim on the projection was let go


async def test_a_record_on_the_operators_topic_that_fails_is_a_dead_letter_like_any(
    suite: Suite, client: httpx.AsyncClient, operator: dict[str, str], settings: Settings
) -> None:
    junk = Message(topic=settings.topic("operations"), key="junk-ops", headers={}, value=b"[")
    await suite.backends.bus.publish([junk])
    await settled(suite)

    async def parked() -> list[dict[str, Any]]:
        return await letters(client, operator, context="operations")

    found = await wait_until(parked, message="the operators' topic's dead letters")
    assert {x["context"] for x in found} == {"operations"}
    assert {x["reason"]["error_type"] for x in found} == {"MalformedMessage"}
    answer = await client.post(
        f"/ops/dead-letters/{found[0]['id']}/discard", json={"reason": "junk"}, headers=operator
    )
    assert answer.status_code == 200, answer.text


async def test_an_operators_action_edited_in_the_store_is_named_by_verification(
    suite: Suite,
    client: httpx.AsyncClient,
    operator: dict[str, str],
    settings: Settings,
    token_for: TokenFor,
) -> None:
    [letter, *_] = await dead_letters_of_junk(suite, client, operator, settings)
    path = f"/ops/dead-letters/{letter['id']}/discard"
    answer = await client.post(path, json={"reason": "junk"}, headers=operator)
    assert answer.status_code == 200, answer.text
    auditor = token_for("auditor", tenant="platform")

    async def chained() -> dict[str, Any] | None:
        response = await client.get("/compliance/audit-ledger/verify", headers=auditor)
        report: dict[str, Any] = response.json()
        return report if report["entries"] == 1 else None

    report = await wait_until(chained, message="the discard, chained")
    assert report is not None
    assert report["verified"] is True, report

    # Someone with the database covers their tracks: the reason is rewritten in place.
    operations = RawStore(settings, "operations")
    [stored] = await operations.events()
    await operations.edit(stored["id"], lambda data: data.update(reason="looked fine"))

    report = (await client.get("/compliance/audit-ledger/verify", headers=auditor)).json()
    assert report["verified"] is False
    assert [c["event_id"] for c in report["stores"]["operations"]["changed"]] == [stored["id"]]
    assert report["reason"].startswith("operations's event store differs from the ledger")
