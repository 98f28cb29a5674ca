"""The audit ledger on real event stores and buses: redelivery, several appenders at once,
anchors in a database of their own, blocks forged by someone who can write the store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from services.compliance.application.anchors import LedgerAnchors
from services.compliance.application.index import ChainIndex
from services.compliance.application.ledger import AuditLedger, LedgerUnreadable
from services.compliance.consumers import LedgerConsumer
from services.compliance.domain.ledger import (
    AuditBlockSealed,
    Head,
    LedgerEntry,
    block_hash,
    entry_for,
    ledger_stream,
    seal_blocks,
)
from services.scheduling.domain.events import SiteRegistered
from shared.backends import Backends, open_backends
from shared.clock import SystemClock, UuidIds
from shared.cloudevents import to_message
from shared.events import Envelope, Metadata, seal
from shared.eventstore.port import EventStore
from shared.settings import Settings
from tests.support import drop_test_data, wait_until

T0 = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
KEY = bytes(range(32))


def registered(n: int, tenant: str = "acme") -> Envelope:
    event = SiteRegistered(site_id=f"s{n}", name=f"Site {n}", time_zone="UTC")
    return seal(
        event,
        stream=f"{tenant}:site:s{n}",
        stream_version=1,
        meta=Metadata(tenant=tenant, actor="tester", correlation_id="c"),
        event_id=f"{tenant}-e{n}",
        time=T0,
    )


@pytest.fixture
async def backends(settings: Settings) -> AsyncIterator[Backends]:
    backends = await open_backends(settings)
    yield backends
    await backends.close()
    await drop_test_data(settings, backends.databases)


async def ledger_on(backends: Backends, key: bytes = KEY) -> AuditLedger:
    """A ledger with stores of its own: what another compliance process would have."""
    anchors = LedgerAnchors(await backends.documents("compliance_anchors"))
    index = ChainIndex(await backends.documents("compliance"))
    return AuditLedger(
        await backends.event_store("compliance"), SystemClock(), UuidIds(), key, anchors, index
    )


async def chained_ids(ledger: AuditLedger, tenant: str = "acme") -> list[str]:
    blocks = await ledger.blocks(tenant, after=0, limit=500)
    return [entry["event_id"] for block in blocks for entry in block["entries"]]


async def test_a_redelivered_event_is_chained_once(backends: Backends) -> None:
    ledger = await ledger_on(backends)

    assert await ledger.record([registered(1), registered(1)]) == 1
    assert await ledger.record([registered(1), registered(2)]) == 1
    assert await ledger.record([registered(2)]) == 0
    # Another process, which has never seen this tenant, gets the same events again.
    restarted = await ledger_on(backends)
    assert await restarted.record([registered(2), registered(3), registered(1)]) == 1

    assert await chained_ids(ledger) == ["acme-e1", "acme-e2", "acme-e3"]
    report = await restarted.verify("acme")
    assert (report["verified"], report["blocks"], report["entries"]) == (True, 3, 3)


async def test_tenants_have_chains_of_their_own(backends: Backends) -> None:
    ledger = await ledger_on(backends)

    await ledger.record([registered(1), registered(1, "globex"), registered(2)])

    assert await chained_ids(ledger) == ["acme-e1", "acme-e2"]
    assert await chained_ids(ledger, "globex") == ["globex-e1"]
    assert (await ledger.verify("globex"))["entries"] == 1


async def test_processes_appending_at_once_serialise_on_the_event_store(
    backends: Backends,
) -> None:
    ledgers = [await ledger_on(backends) for _ in range(3)]
    # Overlapping batches, as a rebalance redelivers them to another member of the group.
    batches = [[registered(n), registered(n + 1), registered(n + 2)] for n in range(0, 30, 2)]

    added = await asyncio.gather(*(ledger.record(batch) for batch in batches for ledger in ledgers))

    assert sum(added) == 31
    assert sorted(await chained_ids(ledgers[0])) == sorted(f"acme-e{n}" for n in range(31))
    report = await ledgers[1].verify("acme")
    assert (report["verified"], report["entries"]) == (True, 31)


async def test_a_block_that_does_not_read_stops_chaining(backends: Backends) -> None:
    store: EventStore = await backends.event_store("compliance")
    stranger = registered(9).model_copy(update={"stream": ledger_stream("acme")})
    await store.append(ledger_stream("acme"), [stranger], 0)
    anchors = LedgerAnchors(await backends.documents("compliance_anchors"))
    index = ChainIndex(await backends.documents("compliance"))
    ledger = AuditLedger(store, SystemClock(), UuidIds(), KEY, anchors, index)

    with pytest.raises(LedgerUnreadable):
        await ledger.record([registered(1)])
    report = await ledger.verify("acme")
    assert (report["verified"], report["broken_at"]) == (False, 1)


async def test_events_redelivered_by_the_bus_are_chained_once(backends: Backends) -> None:
    ledger = await ledger_on(backends)
    topic = backends.settings.topic("scheduling")
    consumer = LedgerConsumer(ledger, backends.bus, [topic])
    await consumer.start()

    async def caught_up() -> bool:
        return await consumer.lag() == 0

    try:
        await backends.bus.publish([to_message(registered(n), topic) for n in (1, 2)])
        await wait_until(caught_up, message="the ledger to catch up")
        again = [registered(1), registered(3), registered(2)]
        await backends.bus.publish([to_message(e, topic) for e in again])
        await wait_until(caught_up, message="the ledger to catch up again")
    finally:
        await consumer.stop()

    assert await chained_ids(ledger) == ["acme-e1", "acme-e2", "acme-e3"]
    assert (await ledger.verify("acme"))["verified"]


def forged_block(
    sequence: int, prev_hash: str, entries: tuple[LedgerEntry, ...], key: bytes | None
) -> AuditBlockSealed:
    """A block made by someone without the ledger key: unkeyed, or under another key."""
    digest = block_hash("acme", sequence, prev_hash, entries, key)
    if key is None:
        return AuditBlockSealed(
            tenant="acme", sequence=sequence, prev_hash=prev_hash, entries=entries, hash=digest
        )
    return AuditBlockSealed(
        tenant="acme",
        sequence=sequence,
        prev_hash=prev_hash,
        entries=entries,
        hash=digest,
        algorithm="hmac-sha256",
    )


@pytest.mark.parametrize("key", [None, bytes(range(1, 33))], ids=["unkeyed", "wrong-key"])
async def test_a_block_appended_at_the_head_by_another_writer_is_named(
    backends: Backends, key: bytes | None
) -> None:
    ledger = await ledger_on(backends)
    await ledger.record([registered(1)])
    await ledger.record([registered(2)])
    head = await ledger.verify("acme")
    assert (head["verified"], head["blocks"], head["anchors"]) == (True, 2, 2)
    store = await backends.event_store("compliance")
    block = forged_block(3, head["head"], (entry_for(registered(9)),), key)
    intruder = seal(
        block,
        stream=ledger_stream("acme"),
        stream_version=3,
        meta=Metadata(tenant="acme", actor="compliance.audit-ledger", correlation_id="c"),
        event_id="forged",
        time=T0,
    )
    await store.append(ledger_stream("acme"), [intruder], 2)

    report = await ledger.verify("acme")

    assert (report["verified"], report["broken_at"], report["blocks"]) == (False, 3, 2)
    assert report["reason"].startswith(
        "a block was inserted at the head, as block 3 (stored at version 3): "
    )


async def test_heads_are_anchored_outside_the_ledgers_store(backends: Backends) -> None:
    ledger = await ledger_on(backends)
    await ledger.record([registered(1)])
    await ledger.record([registered(2), registered(3)])

    anchors = LedgerAnchors(await backends.documents("compliance_anchors"))
    report = await ledger.verify("acme")
    assert await anchors.heads("acme") == [(1, (await ledger.blocks("acme", 0, 1))[0]["hash"]),
                                           (2, report["head"])]  # fmt: skip
    assert await anchors.heads("globex") == []
    # A process with another key: every block reads as not sealed by the ledger.
    wrong = await ledger_on(backends, key=bytes(range(1, 33)))
    refused = await wrong.verify("acme")
    assert (refused["verified"], refused["broken_at"]) == (False, 1)
    assert refused["reason"].endswith("(or the ledger key is not the one that sealed it)")


async def test_a_chain_sealed_before_the_ledger_had_a_key_verifies_and_grows_keyed(
    backends: Backends,
) -> None:
    """The demo's var/ data: blocks stored without `algorithm`, hashed with plain SHA-256."""
    store: EventStore = await backends.event_store("compliance")
    prev = "0" * 64
    for sequence in (1, 2):
        entries = (entry_for(registered(sequence)),)
        old = forged_block(sequence, prev, entries, None)
        legacy = seal(
            old,
            stream=ledger_stream("acme"),
            stream_version=sequence,
            meta=Metadata(tenant="acme", actor="compliance.audit-ledger", correlation_id="c"),
            event_id=f"legacy-{sequence}",
            time=T0,
        )
        stored = {k: v for k, v in legacy.data.items() if k != "algorithm"}
        await store.append(
            ledger_stream("acme"), [legacy.model_copy(update={"data": stored})], sequence - 1
        )
        prev = old.hash
    ledger = await ledger_on(backends)

    before = await ledger.verify("acme")
    assert (before["verified"], before["blocks"], before["unkeyed_blocks"]) == (True, 2, 2)
    # Redelivered events stay chained once; new ones are sealed with the key after them.
    assert await ledger.record([registered(1), registered(2), registered(3)]) == 1

    after = await ledger.verify("acme")
    assert (after["verified"], after["blocks"], after["entries"]) == (True, 3, 3)
    assert (after["unkeyed_blocks"], after["anchors"]) == (2, 1)
    [keyed] = await ledger.blocks("acme", after=2, limit=1)
    assert (keyed["algorithm"], keyed["prev_hash"]) == ("hmac-sha256", prev)


async def test_chained_ids_are_kept_in_the_index_not_in_a_process(backends: Backends) -> None:
    ledger = await ledger_on(backends)
    await ledger.record([registered(1), registered(2)])
    await ledger.record([registered(3)])
    index = ChainIndex(await backends.documents("compliance"))

    assert await index.chained("acme", ["acme-e1", "acme-e3", "acme-e9"]) == {"acme-e1", "acme-e3"}
    assert await index.chained("globex", ["acme-e1"]) == set()
    report = await ledger.verify("acme")
    assert await index.head("acme") == Head(2, report["head"])


async def test_blocks_appended_but_not_indexed_are_indexed_before_the_next_check(
    backends: Backends,
) -> None:
    """A process that stopped between its append and the index write: the next one to touch
    the tenant indexes the blocks after the mark, so a redelivery still adds nothing."""
    ledger = await ledger_on(backends)
    await ledger.record([registered(1)])
    store = await backends.event_store("compliance")
    [first] = await ledger.blocks("acme", 0, 1)
    sealed = seal_blocks(
        "acme", Head(1, first["hash"]), [entry_for(registered(2)), entry_for(registered(3))], KEY
    )
    envelopes = [
        seal(
            block,
            stream=ledger_stream("acme"),
            stream_version=block.sequence,
            meta=Metadata(tenant="acme", actor="compliance.audit-ledger", correlation_id="c"),
            event_id=f"block-{block.sequence}",
            time=T0,
        )
        for block in sealed
    ]
    await store.append(ledger_stream("acme"), envelopes, 1)  # appended, never indexed
    index = ChainIndex(await backends.documents("compliance"))
    assert (await index.head("acme")).sequence == 1

    restarted = await ledger_on(backends)
    assert await restarted.record([registered(3), registered(2), registered(4)]) == 1

    assert await chained_ids(restarted) == ["acme-e1", "acme-e2", "acme-e3", "acme-e4"]
    assert (await index.head("acme")).sequence == 3
    assert (await restarted.verify("acme"))["verified"]
