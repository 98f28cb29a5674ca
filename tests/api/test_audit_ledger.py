"""The audit ledger through the API: it chains every event, still verifies after a patient is
forgotten and after rebuilds, and names the block an intruder changed or removed in the raw
store (the SQLite file, or the MongoDB collection)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from services.compliance.domain.ledger import ledger_stream
from services.suite import Suite
from shared.settings import Settings
from tests.api.conftest import TokenFor, booking, post_ok
from tests.support import wait_until

VERIFY, BLOCKS = "/compliance/audit-ledger/verify", "/compliance/audit-ledger/blocks"
PROBLEM = "application/problem+json"
STREAM = ledger_stream("acme")

Report = dict[str, Any]


async def events_recorded(suite: Suite) -> int:
    store = suite.service("scheduling").event_store
    assert store is not None
    return sum(len(c.events) for c in await store.read_all(0, 10_000))


async def verify(client: httpx.AsyncClient, auditor: dict[str, str], **params: Any) -> Report:
    response = await client.get(VERIFY, headers=auditor, params=params)
    assert response.status_code == 200, response.text
    report: Report = response.json()
    return report


async def chained(client: httpx.AsyncClient, suite: Suite, auditor: dict[str, str]) -> Report:
    """The verdict once the ledger holds every event recorded so far."""

    async def complete() -> Report | None:
        report = await verify(client, auditor)
        return report if report["entries"] == await events_recorded(suite) else None

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
    assert after["entries"] == before["entries"] + 1
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


class RawLedger:
    """The tenant's ledger as stored, reached around the service, as an intruder would."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def edit(self, sequence: int, change: Callable[[dict[str, Any]], None]) -> None:
        if not self._settings.scale_out:
            with self._sqlite() as db:
                position, raw = db.execute(
                    "SELECT position, events FROM commits WHERE stream = ? AND first_version = ?",
                    (STREAM, sequence),
                ).fetchone()
                events = json.loads(raw)
                change(events[0]["data"])
                db.execute(
                    "UPDATE commits SET events = ? WHERE position = ?",
                    (json.dumps(events), position),
                )
            return
        async with self._commits() as commits:
            doc = await commits.find_one({"stream": STREAM, "first_version": sequence})
            assert doc is not None
            events = doc["events"]
            data = json.loads(events[0]["data"])
            change(data)
            events[0]["data"] = json.dumps(data)
            await commits.update_one({"_id": doc["_id"]}, {"$set": {"events": events}})

    async def delete(self, sequence: int) -> None:
        if not self._settings.scale_out:
            with self._sqlite() as db:
                db.execute(
                    "DELETE FROM commits WHERE stream = ? AND first_version = ?", (STREAM, sequence)
                )
            return
        async with self._commits() as commits:
            deleted = await commits.delete_one({"stream": STREAM, "first_version": sequence})
            assert deleted.deleted_count == 1

    def _sqlite(self) -> _Sqlite:
        return _Sqlite(str(self._settings.data_dir / "compliance" / "events.db"))

    def _commits(self) -> _Commits:
        assert self._settings.mongo_url is not None
        return _Commits(self._settings.mongo_url, f"{self._settings.mongo_database}_compliance")


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


async def test_a_block_changed_or_removed_in_the_store_is_named(
    client: httpx.AsyncClient,
    clinic: dict[str, str],
    suite: Suite,
    settings: Settings,
    auditor: dict[str, str],
) -> None:
    report = await chained(client, suite, auditor)
    for site in ("south", "east"):  # each in a block of its own: the ledger has caught up
        await post_ok(client, "/scheduling/sites", {"name": site, "time_zone": "UTC"})
        report = await chained(client, suite, auditor)
    assert report["verified"] is True
    last, head = report["blocks"], report["head"]
    assert last >= 3
    raw = RawLedger(settings)
    first, second = (await blocks(client, auditor))[:2]
    digest = second["entries"][0]["data_sha256"]

    await raw.edit(2, lambda block: block["entries"][0].update(data_sha256="0" * 64))

    assert await verify(client, auditor) == {
        "verified": False,
        "blocks": 1,  # those that verified, up to the first fault
        "entries": len(first["entries"]),
        "head": first["hash"],
        "broken_at": 2,
        "reason": "block 2 was changed: its contents do not match its hash",
    }
    shown = (await client.get(BLOCKS, headers=auditor, params={"after": 1, "limit": 1})).json()
    assert shown["blocks"][0]["entries"][0]["data_sha256"] == "0" * 64  # as stored now

    await raw.edit(2, lambda block: block["entries"][0].update(data_sha256=digest))
    assert await verify(client, auditor) == {
        "verified": True,
        "blocks": last,
        "entries": report["entries"],
        "head": head,
    }

    await raw.delete(last)  # cut short: nothing in the chain shows it, the known head does
    assert (await verify(client, auditor))["verified"] is True
    cut = await verify(client, auditor, known_head=head)
    assert (cut["verified"], cut["broken_at"]) == (False, last)
    assert cut["reason"] == f"the known head {head} is not in the chain: blocks were removed"

    await raw.delete(2)
    removed = await verify(client, auditor)
    assert (removed["verified"], removed["broken_at"], removed["blocks"]) == (False, 2, 1)
    assert removed["reason"] == "block 2 is missing: the next stored block is 3"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (VERIFY, {"known_head": "not-a-hash"}),
        (VERIFY, {"known_head": "A" * 64}),
        (VERIFY, {"cross_check": "perhaps"}),
        (BLOCKS, {"after": -1}),
        (BLOCKS, {"after": "x"}),
        (BLOCKS, {"after": 10**16}),
        (BLOCKS, {"limit": 0}),
        (BLOCKS, {"limit": 501}),
    ],
)
async def test_bad_ledger_queries_are_422_problems(
    client: httpx.AsyncClient, auditor: dict[str, str], path: str, params: dict[str, Any]
) -> None:
    response = await client.get(path, headers=auditor, params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM


async def test_an_empty_ledger_verifies_from_genesis(
    client: httpx.AsyncClient, auditor: dict[str, str], token_for: TokenFor
) -> None:
    elsewhere = token_for("auditor", tenant="globex")
    assert await verify(client, elsewhere) == {
        "verified": True,
        "blocks": 0,
        "entries": 0,
        "head": "0" * 64,
    }
    page = await client.get(BLOCKS, headers=elsewhere)
    assert page.json() == {"blocks": [], "next_after": None}
