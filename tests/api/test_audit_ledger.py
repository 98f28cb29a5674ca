"""The audit ledger through the API: it chains every event, still verifies after a patient is
forgotten and after rebuilds, and names the block an intruder changed or removed in the raw
store (the SQLite file, or the MongoDB collection)."""

from __future__ import annotations

import copy
import json
import sqlite3
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from services.compliance.domain.ledger import block_hash, ledger_stream
from services.suite import Suite
from shared.settings import Settings
from tests.api.conftest import TokenFor, booking, post_ok, register
from tests.support import every_case_holds, wait_until

VERIFY, BLOCKS = "/compliance/audit-ledger/verify", "/compliance/audit-ledger/blocks"
PROBLEM = "application/problem+json"
STREAM = ledger_stream("acme")

Report = dict[str, Any]


async def events_recorded(suite: Suite) -> int:
    """Every event the ledger chains: scheduling's, staffing's (who hired the providers),
    billing's (what it learnt of the sites, the charges), finance's, and engagement's (an
    appointment's messages stopped at its cancellation)."""
    total = 0
    for service in ("scheduling", "staffing", "billing", "finance", "engagement"):
        store = suite.service(service).event_store
        assert store is not None
        total += sum(len(c.events) for c in await store.read_all(0, 10_000))
    return total


async def verify(client: httpx.AsyncClient, auditor: dict[str, str], **params: Any) -> Report:
    response = await client.get(VERIFY, headers=auditor, params=params)
    assert response.status_code == 200, response.text
    report: Report = response.json()
    return report


async def chained(client: httpx.AsyncClient, suite: Suite, auditor: dict[str, str]) -> Report:
    """The verdict once the ledger holds every event recorded so far, with every read model
    caught up (so the reactions to those events have had their turn: one recorded late would
    be chained in a block after this verdict)."""

    async def complete() -> Report | None:
        if await suite.behind():
            return None
        report = await verify(client, auditor)
        recorded = await events_recorded(suite)
        return report if report["entries"] == recorded and not await suite.behind() else None

    report = await wait_until(complete, message="the ledger to chain every event")
    assert report is not None
    return report


async def blocks(client: httpx.AsyncClient, auditor: dict[str, str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after: int | None = 0
    while after is not None:
        page = await client.get(BLOCKS, headers=auditor, params={"after": after, "limit": 2})
        assert page.status_code == 200, page.text
        found += page.json()["blocks"]
        after = page.json()["next_after"]
    return found


@pytest.fixture
def auditor(token_for: TokenFor) -> dict[str, str]:
    return token_for("auditor")


async def test_the_ledger_verifies_before_and_after_a_patient_is_forgotten_and_rebuilds(
    client: httpx.AsyncClient,
    clinic: dict[str, str],
    suite: Suite,
    auditor: dict[str, str],
    operator: dict[str, str],
) -> None:
    patient = {"patient_id": "pat-zq", "name": "Zebulon Quarrington", "birth_date": "1961-02-03"}
    await post_ok(client, "/scheduling/patients", {**patient, "phone": "+1 555 0199"})
    booked = await post_ok(client, "/scheduling/appointments", booking(clinic, patient_id="pat-zq"))
    cancel = f"/scheduling/appointments/{booked['id']}/cancel"
    cancelled = await client.post(cancel, json={"reason": "Zebulon has chest pain"})
    assert cancelled.status_code == 200, cancelled.text

    before = await chained(client, suite, auditor)
    assert before["verified"] is True
    chain = await blocks(client, auditor)
    entries = [e for block in chain for e in block["entries"]]
    assert len(chain) == before["blocks"]
    assert chain[-1]["hash"] == before["head"]
    assert len({e["event_id"] for e in entries}) == len(entries) == before["entries"]
    assert "Zebulon" not in json.dumps(chain)  # digests of sealed data, never the data
    [cancel_entry] = [e for e in entries if e["type"].endswith("AppointmentCancelled.v1")]
    assert (cancel_entry["actor"], cancel_entry["context"]) == ("tester", "scheduling")

    forgotten = await client.post(
        "/scheduling/patients/pat-zq/forget", json={"reason": "erasure request"}
    )
    assert forgotten.status_code == 200, forgotten.text

    after = await chained(client, suite, auditor)
    assert after["verified"] is True
    # scheduling's PatientForgotten, and billing's PatientForgottenLearnt of it
    assert after["entries"] == before["entries"] + 2
    assert (await verify(client, auditor, known_head=before["head"]))["verified"] is True
    # Forgetting rewrote nothing: the blocks from before are exactly as they were.
    assert (await blocks(client, auditor))[: len(chain)] == chain

    for projection in ("compliance.audit_log", "scheduling.patients", "scheduling.appointments"):
        rebuilt = await client.post(f"/ops/projections/{projection}/rebuild", headers=operator)
        assert rebuilt.status_code == 200, rebuilt.text

    async def cross_checked() -> Report | None:
        report = await verify(client, auditor, cross_check="true")
        return report if report["audit_log"]["unchained"] == 0 else None

    report = await wait_until(cross_checked, message="the audit log to be chained")
    assert report is not None
    assert report["verified"] is True
    assert (report["entries"], report["head"]) == (after["entries"], after["head"])
    assert report["audit_log"]["mismatched"] == []
    assert report["audit_log"]["entries"] == after["entries"]


class RawStore:
    """A service's event store as stored, reached around the service, as an intruder would:
    the SQLite file, or the MongoDB collection. Each commit here holds one event."""

    def __init__(self, settings: Settings, service: str) -> None:
        self._settings = settings
        self._service = service

    async def events(self, stream: str | None = None) -> list[dict[str, Any]]:
        """The stored events (of `stream`, else all), as records with their data decoded."""
        if not self._settings.scale_out:
            with self._sqlite() as db:
                rows = db.execute(
                    "SELECT events FROM commits WHERE stream = coalesce(?, stream)"
                    " ORDER BY stream, first_version",
                    (stream,),
                ).fetchall()
            return [e for (raw,) in rows for e in json.loads(raw)]
        async with self._commits() as commits:
            where = {} if stream is None else {"stream": stream}
            docs = await commits.find(where).sort([("stream", 1), ("first_version", 1)]).to_list()
        return [{**e, "data": json.loads(e["data"])} for d in docs for e in d["events"]]

    async def rewrite(self, stream: str, events: list[dict[str, Any]]) -> None:
        """Store `events` as the whole of `stream`, at versions 1, 2, 3... in this order."""
        events = [{**e, "stream_version": n} for n, e in enumerate(events, start=1)]
        if not self._settings.scale_out:
            with self._sqlite() as db:
                db.execute("DELETE FROM commits WHERE stream = ?", (stream,))
                db.executemany(
                    "INSERT INTO commits (stream, first_version, last_version, events, published)"
                    " VALUES (?, ?, ?, ?, 1)",
                    [
                        (stream, e["stream_version"], e["stream_version"], json.dumps([e]))
                        for e in events
                    ],
                )
            return
        async with self._commits() as commits:
            await commits.delete_many({"stream": stream})
            last = await commits.find_one({}, sort=[("_id", -1)])
            position = 0 if last is None else int(last["_id"])
            for n, e in enumerate(events, start=1):
                await commits.insert_one(
                    {
                        "_id": position + n,
                        "stream": stream,
                        "first_version": e["stream_version"],
                        "last_version": e["stream_version"],
                        "events": [{**e, "data": json.dumps(e["data"])}],
                        "published": True,
                    }
                )

    async def edit(self, event_id: str, change: Callable[[dict[str, Any]], None]) -> None:
        """Change one stored event's data in place."""
        if not self._settings.scale_out:
            with self._sqlite() as db:
                for position, raw in db.execute("SELECT position, events FROM commits"):
                    events = json.loads(raw)
                    for event in events:
                        if event["id"] == event_id:
                            change(event["data"])
                            db.execute(
                                "UPDATE commits SET events = ? WHERE position = ?",
                                (json.dumps(events), position),
                            )
                            return
            raise AssertionError(f"no event {event_id}")
        async with self._commits() as commits:
            doc = await commits.find_one({"events.id": event_id})
            assert doc is not None
            for event in doc["events"]:
                if event["id"] == event_id:
                    data = json.loads(event["data"])
                    change(data)
                    event["data"] = json.dumps(data)
            await commits.update_one({"_id": doc["_id"]}, {"$set": {"events": doc["events"]}})

    def _sqlite(self) -> _Sqlite:
        return _Sqlite(str(self._settings.data_dir / self._service / "events.db"))

    def _commits(self) -> _Commits:
        assert self._settings.mongo_url is not None
        database = f"{self._settings.mongo_database}_{self._service}"
        return _Commits(self._settings.mongo_url, database)


class _Sqlite:
    def __init__(self, path: str) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None)

    def __enter__(self) -> sqlite3.Connection:
        return self._conn

    def __exit__(self, *_: object) -> None:
        self._conn.close()


class _Commits:
    def __init__(self, url: str, database: str) -> None:
        self._client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
        self._database = database

    async def __aenter__(self) -> Any:
        return self._client[self._database]["commits"]

    async def __aexit__(self, *_: object) -> None:
        await self._client.close()


def core(report: Report) -> Report:
    """The verdict on the chain itself, without the stores' cross-check and the count of
    published heads (tests/integration/test_ledger_heads.py)."""
    skipped = ("stores", "audit_log", "published_heads")
    return {k: v for k, v in report.items() if k not in skipped}


def forged(block: dict[str, Any], key: bytes | None) -> dict[str, Any]:
    """`block` hashed again by someone without the ledger key: unkeyed, or under another."""
    forged = {k: v for k, v in block.items() if k != "algorithm"}
    forged["hash"] = block_hash(
        block["tenant"], block["sequence"], block["prev_hash"], block["entries"], key
    )
    if key is not None:
        forged["algorithm"] = "hmac-sha256"
    return forged


async def a_chain_of_four(
    client: httpx.AsyncClient, suite: Suite, auditor: dict[str, str]
) -> Report:
    """At least four blocks: each new site is chained in a block of its own."""
    report = await chained(client, suite, auditor)
    for site in ("south", "east", "west"):
        await post_ok(client, "/scheduling/sites", {"name": site, "time_zone": "UTC"})
        report = await chained(client, suite, auditor)
    assert report["verified"] is True
    assert report["blocks"] >= 4
    return report


async def test_a_block_changed_or_removed_in_the_store_is_named(
    client: httpx.AsyncClient,
    clinic: dict[str, str],
    suite: Suite,
    settings: Settings,
    auditor: dict[str, str],
) -> None:
    report = await a_chain_of_four(client, suite, auditor)
    last, head = report["blocks"], report["head"]
    raw = RawStore(settings, "compliance")
    stored = await raw.events(STREAM)
    first, second = stored[0]["data"], stored[1]["data"]
    edited = copy.deepcopy(stored)
    edited[1]["data"]["entries"][0]["data_sha256"] = "0" * 64

    await raw.rewrite(STREAM, edited)

    assert core(await verify(client, auditor)) == {
        "verified": False,
        "blocks": 1,  # those that verified, up to the first fault
        "entries": len(first["entries"]),
        "head": first["hash"],
        "anchors": last,  # one per append
        "broken_at": 2,
        "reason": "block 2 was edited: its contents do not match its hash",
    }
    shown = (await client.get(BLOCKS, headers=auditor, params={"after": 1, "limit": 1})).json()
    assert shown["blocks"][0]["entries"][0]["data_sha256"] == "0" * 64  # as stored now

    await raw.rewrite(STREAM, stored)
    assert core(await verify(client, auditor)) == {
        "verified": True,
        "blocks": last,
        "entries": report["entries"],
        "head": head,
        "anchors": last,
    }

    # Cut short: nothing left in the chain shows it; the anchors, outside its store, do.
    await raw.rewrite(STREAM, stored[:-2])
    cut = await verify(client, auditor)
    assert (cut["verified"], cut["broken_at"], cut["blocks"]) == (False, last - 1, last - 2)
    assert cut["reason"] == (
        f"the chain was truncated: it ends at block {last - 2}, but block {last} was anchored"
    )
    known = await verify(client, auditor, known_head=head)
    assert known["reason"] == cut["reason"]

    await raw.rewrite(STREAM, [stored[0], *stored[2:]])
    removed = await verify(client, auditor)
    assert (removed["verified"], removed["broken_at"], removed["blocks"]) == (False, 2, 1)
    assert removed["reason"] == "block 2 was removed: the next stored block is 3"
    assert second["sequence"] == 2


@pytest.mark.parametrize("key", [None, bytes(range(32))], ids=["unkeyed", "wrong-key"])
async def test_blocks_forged_without_the_ledger_key_are_named_at_their_block(
    client: httpx.AsyncClient,
    clinic: dict[str, str],
    suite: Suite,
    settings: Settings,
    auditor: dict[str, str],
    key: bytes | None,
) -> None:
    report = await a_chain_of_four(client, suite, auditor)
    last = report["blocks"]
    raw = RawStore(settings, "compliance")
    stored = await raw.events(STREAM)

    async def verdict_on(events: list[dict[str, Any]]) -> tuple[bool, int, str]:
        await raw.rewrite(STREAM, events)
        found = await verify(client, auditor)
        return found["verified"], found["broken_at"], found["reason"]

    # Inserted between blocks 2 and 3: a copy of block 3 with an entry of its own, valid
    # without the key (or under another key), the blocks after it one version on.
    intruder = copy.deepcopy(stored[2])
    intruder["id"] = "forged-event"
    intruder["data"]["entries"][0]["actor"] = "intruder"
    intruder["data"] = forged(intruder["data"], key)
    verified, at, reason = await verdict_on([*stored[:2], intruder, *stored[2:]])
    assert (verified, at) == (False, 3)
    assert reason.startswith("a block was inserted where block 3 belongs (stored at version 3)")

    # Appended at the head, linked to it.
    head = copy.deepcopy(stored[-1])
    head["id"] = "forged-head"
    head["data"].update(sequence=last + 1, prev_hash=stored[-1]["data"]["hash"])
    head["data"] = forged(head["data"], key)
    verified, at, reason = await verdict_on([*stored, head])
    assert (verified, at) == (False, last + 1)
    assert reason.startswith(f"a block was inserted at the head, as block {last + 1}")

    # Block 2 edited and every later hash computed again.
    rewritten = copy.deepcopy(stored)
    rewritten[1]["data"]["entries"][0]["actor"] = "intruder"
    for previous, event in zip(rewritten[:-1], rewritten[1:], strict=True):
        event["data"]["prev_hash"] = previous["data"]["hash"]
        event["data"] = forged(event["data"], key)
    verified, at, reason = await verdict_on(rewritten)
    assert (verified, at) == (False, 2)
    assert reason.startswith(
        "block 2 was edited: it and the blocks after it were hashed again without the ledger key"
    )

    # Two blocks swapped.
    verified, at, reason = await verdict_on([stored[0], stored[2], stored[1], *stored[3:]])
    assert (verified, at) == (False, 2)
    assert reason == (
        "blocks were reordered: block 3 is stored where block 2 belongs, and block 2 at version 3"
    )

    await raw.rewrite(STREAM, stored)
    assert (await verify(client, auditor))["verified"] is True


async def test_an_event_changed_or_removed_in_the_producers_store_is_named(
    client: httpx.AsyncClient,
    clinic: dict[str, str],
    suite: Suite,
    settings: Settings,
    auditor: dict[str, str],
) -> None:
    await register(client, "pat-1")
    booked = await post_ok(client, "/scheduling/appointments", booking(clinic))
    report = await chained(client, suite, auditor)
    assert report["verified"] is True
    assert report["stores"]["scheduling"]["changed"] == []
    assert report["stores"]["scheduling"]["missing"] == []
    scheduling = RawStore(settings, "scheduling")
    [stored] = [e for e in await scheduling.events() if e["type"].endswith(".AppointmentBooked.v1")]
    assert stored["data"]["appointment_id"] == booked["id"]
    chained_in = next(
        block["sequence"]
        for block in await blocks(client, auditor)
        for entry in block["entries"]
        if entry["event_id"] == stored["id"]
    )

    await scheduling.edit(stored["id"], lambda data: data.update(start="2026-12-01T15:00:00Z"))

    report = await verify(client, auditor)
    named = {
        "event_id": stored["id"],
        "stream": stored["stream"],
        "stream_version": stored["stream_version"],
        "block": chained_in,
    }
    assert (report["verified"], report["broken_at"]) == (False, None)
    assert report["stores"]["scheduling"]["changed"] == [named]
    assert report["reason"] == (
        "scheduling's event store differs from the ledger: changed since it was chained: "
        f"{stored['id']} ({stored['stream']}@{stored['stream_version']}, block {chained_in})"
    )
    assert core(report)["blocks"] == report["blocks"]  # the chain itself is intact

    await scheduling.edit(stored["id"], lambda data: data.update(start=stored["data"]["start"]))
    assert (await verify(client, auditor))["verified"] is True

    await scheduling.rewrite(stored["stream"], [])
    report = await verify(client, auditor)
    assert report["verified"] is False
    assert report["stores"]["scheduling"]["missing"] == [named]
    assert "chained but no longer stored" in report["reason"]


BAD_QUERIES: list[tuple[str, dict[str, Any]]] = [
    (VERIFY, {"known_head": "not-a-hash"}),
    (VERIFY, {"known_head": "A" * 64}),
    (VERIFY, {"cross_check": "perhaps"}),
    (BLOCKS, {"after": -1}),
    (BLOCKS, {"after": "x"}),
    (BLOCKS, {"after": 10**16}),
    (BLOCKS, {"limit": 0}),
    (BLOCKS, {"limit": 501}),
]


async def test_bad_ledger_queries_are_422_problems(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    async def refused(case: tuple[str, dict[str, Any]]) -> None:
        path, params = case
        response = await client.get(path, headers=auditor, params=params)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == PROBLEM

    await every_case_holds(BAD_QUERIES, refused)


async def test_an_empty_ledger_verifies_from_genesis(
    client: httpx.AsyncClient, auditor: dict[str, str], token_for: TokenFor
) -> None:
    elsewhere = token_for("auditor", tenant="globex")
    assert core(await verify(client, elsewhere)) == {
        "verified": True,
        "blocks": 0,
        "entries": 0,
        "head": "0" * 64,
        "anchors": 0,
    }
    page = await client.get(BLOCKS, headers=elsewhere)
    assert page.json() == {"blocks": [], "next_after": None}
