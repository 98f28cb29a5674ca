"""Signed ledger heads published outside the databases (a file, or a Kafka topic): the
Noticeboard's contract on both adapters, and what published heads catch that the chain and its
database anchors cannot: the whole chain recomputed from the start under the ledger key."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.compliance.app import noticeboard
from services.compliance.application.anchors import LedgerAnchors
from services.compliance.application.heads import HeadPublisher, PublishedHeads
from services.compliance.application.index import ChainIndex
from services.compliance.application.ledger import AuditLedger
from services.compliance.domain.heads import sign_head
from services.compliance.domain.ledger import Head
from services.scheduling.domain.events import SiteRegistered
from shared.backends import Backends, open_backends
from shared.clock import SystemClock, UuidIds
from shared.events import Envelope, Metadata, seal
from shared.noticeboard.port import Noticeboard
from shared.settings import Settings
from tests.integration.test_audit_ledger import KEY, T0, registered
from tests.support import drop_test_data

SIGNER = Ed25519PrivateKey.from_private_bytes(bytes(range(64, 96)))


@pytest.fixture
async def backends(settings: Settings) -> AsyncIterator[Backends]:
    backends = await open_backends(settings)
    yield backends
    await backends.close()
    await drop_test_data(settings, backends.databases)


@pytest.fixture
async def board(settings: Settings) -> AsyncIterator[Noticeboard]:
    board = noticeboard(settings)
    yield board
    await board.close()


async def test_records_read_back_by_key_in_the_order_published(
    settings: Settings, board: Noticeboard
) -> None:
    assert await board.read("acme") == []
    await board.publish([("acme", b'{"n":1}'), ("globex", b'{"n":1}')])
    await board.publish([("acme", b'{"n":2}')])
    await board.publish([])

    assert await board.read("acme") == [b'{"n":1}', b'{"n":2}']
    assert await board.read("globex") == [b'{"n":1}']
    other = noticeboard(settings)  # another process reads what this one published
    try:
        assert await other.read("acme") == [b'{"n":1}', b'{"n":2}']
    finally:
        await other.close()


async def ledger_in(backends: Backends, name: str, board: Noticeboard | None) -> AuditLedger:
    """A ledger on databases of its own (`name`, `<name>_anchors`), publishing on `board`."""
    published = None if board is None else PublishedHeads(board, SIGNER)
    return AuditLedger(
        await backends.event_store(name),
        SystemClock(),
        UuidIds(),
        KEY,
        LedgerAnchors(await backends.documents(f"{name}_anchors")),
        ChainIndex(await backends.documents(name)),
        published=published,
    )


def changed(event: Envelope) -> Envelope:
    data = SiteRegistered(site_id="s2", name="Another name", time_zone="UTC")
    return seal(
        data,
        stream=event.stream,
        stream_version=1,
        meta=Metadata(tenant="acme", actor="tester", correlation_id="c"),
        event_id=event.id,
        time=T0,
    )


async def test_a_chain_recomputed_from_the_start_is_caught_by_the_published_heads(
    backends: Backends, board: Noticeboard
) -> None:
    ledger = await ledger_in(backends, "compliance", board)
    publisher = HeadPublisher(
        ChainIndex(await backends.documents("compliance")), board, SIGNER, SystemClock(), 60
    )
    await ledger.record([registered(1)])
    assert await publisher.fire_due() == 1
    await ledger.record([registered(2), registered(3)])
    assert await publisher.fire_due() == 1
    assert await publisher.fire_due() == 0  # nothing moved: nothing published again
    good = await ledger.verify("acme")
    assert (good["verified"], good["blocks"]) == (True, 2)
    assert good["published_heads"] == {"heads": 2, "rejected": 0}

    # An insider with the ledger key and every database writes history again from the start:
    # the same first block, then event 2 as it never was; blocks, anchors, index all agree.
    rewritten = await ledger_in(backends, "compliance_rewritten", None)
    await rewritten.record([registered(1)])
    await rewritten.record([changed(registered(2)), registered(3)])
    alone = await rewritten.verify("acme")
    assert (alone["verified"], alone["blocks"]) == (True, 2)  # the chain alone cannot tell

    checked = await ledger_in(backends, "compliance_rewritten", board)
    caught = await checked.verify("acme")
    assert (caught["verified"], caught["broken_at"]) == (False, 2)
    assert caught["reason"] == "block 2 is not the block anchored"
    assert caught["blocks"] == 1


async def test_heads_not_signed_by_the_key_are_counted_and_never_trusted(
    backends: Backends, board: Noticeboard
) -> None:
    ledger = await ledger_in(backends, "compliance", board)
    await ledger.record([registered(1)])
    stranger = Ed25519PrivateKey.from_private_bytes(bytes(32))
    planted = sign_head("acme", Head(1, "f" * 64), T0, stranger)
    edited = sign_head("acme", Head(1, "e" * 64), T0, SIGNER).model_copy(update={"sequence": 9})
    await board.publish([("acme", planted.record()), ("acme", edited.record()), ("acme", b"{}")])

    report = await ledger.verify("acme")

    assert report["verified"] is True
    assert report["published_heads"] == {"heads": 0, "rejected": 3}
