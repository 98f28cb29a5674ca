"""The audit ledger's hash chain, as pure functions: sealing blocks and verifying them."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from services.compliance.domain.ledger import (
    GENESIS,
    MAX_ENTRIES,
    AuditBlockSealed,
    ChainCheck,
    Head,
    LedgerEntry,
    block_hash,
    data_digest,
    entry_for,
    seal_blocks,
    unchained,
)
from shared.events import Envelope

BLOCK = AuditBlockSealed.type_name()
Stored = tuple[int, str, dict[str, Any]]


def entry(n: int) -> LedgerEntry:
    return LedgerEntry(
        event_id=f"ev-{n}",
        type="medoffice.scheduling.SiteRegistered.v1",
        context="scheduling",
        stream=f"acme:site:s{n}",
        stream_version=1,
        actor="tester",
        time="2026-12-01T09:00:00+00:00",
        data_sha256=f"{n:064x}",
    )


def chain(*sizes: int, tenant: str = "acme") -> list[AuditBlockSealed]:
    """Blocks of these many entries each, chained one after the other."""
    blocks: list[AuditBlockSealed] = []
    head, n = Head(), 0
    for size in sizes:
        [block] = seal_blocks(tenant, head, [entry(n + i) for i in range(size)])
        n += size
        head = Head(block.sequence, block.hash)
        blocks.append(block)
    return blocks


def stored(blocks: list[AuditBlockSealed]) -> list[Stored]:
    return [(b.sequence, BLOCK, b.model_dump(mode="json")) for b in blocks]


def check(records: list[Stored], tenant: str = "acme") -> ChainCheck:
    checking = ChainCheck(tenant)
    for version, type_name, data in records:
        checking.add(version, type_name, data)
    return checking


def test_blocks_link_to_the_one_before_and_hash_their_contents() -> None:
    first, second = chain(2, 1)

    assert (first.sequence, first.prev_hash) == (1, GENESIS)
    assert (second.sequence, second.prev_hash) == (2, first.hash)
    assert first.hash == block_hash("acme", 1, GENESIS, first.entries)
    assert second.hash == block_hash("acme", 2, first.hash, second.entries)
    assert first.hash != block_hash("globex", 1, GENESIS, first.entries)


def test_a_large_batch_is_sealed_into_blocks_of_at_most_max_entries() -> None:
    entries = [entry(n) for n in range(MAX_ENTRIES * 2 + 1)]
    blocks = seal_blocks("acme", Head(4, "a" * 64), entries)

    assert [len(b.entries) for b in blocks] == [MAX_ENTRIES, MAX_ENTRIES, 1]
    assert [b.sequence for b in blocks] == [5, 6, 7]
    assert [b.prev_hash for b in blocks] == ["a" * 64, blocks[0].hash, blocks[1].hash]


def test_only_events_not_chained_yet_are_entered_each_once_in_order() -> None:
    batch = [entry(3), entry(1), entry(2), entry(3), entry(1)]

    fresh = unchained(batch, chained={"ev-2"})

    assert [e.event_id for e in fresh] == ["ev-3", "ev-1"]


def test_an_entry_keeps_the_events_metadata_and_the_digest_of_its_data() -> None:
    envelope = Envelope(
        id="e1",
        type="medoffice.scheduling.AppointmentCancelled.v1",
        source="/medoffice/scheduling",
        time=datetime(2026, 12, 1, 14, tzinfo=UTC),
        stream="acme:provider-day:dr-a:2026-12-01",
        stream_version=2,
        tenant="acme",
        correlation_id="c1",
        actor="desk-1",
        data={"reason": "sealed:abc", "appointment_id": "a1"},
    )
    reordered = envelope.model_copy(
        update={"data": {"appointment_id": "a1", "reason": "sealed:abc"}}
    )

    found = entry_for(envelope)

    assert (found.event_id, found.context, found.stream_version, found.actor) == (
        "e1",
        "scheduling",
        2,
        "desk-1",
    )
    assert found.time == "2026-12-01T14:00:00+00:00"
    assert found.data_sha256 == data_digest(reordered)
    assert found.data_sha256 != data_digest(envelope.model_copy(update={"data": {"reason": "x"}}))


def test_an_untouched_chain_verifies_and_reports_its_head() -> None:
    blocks = chain(2, 1, 3)

    verdict = check(stored(blocks)).verdict()

    assert verdict.report() == {
        "verified": True,
        "blocks": 3,
        "entries": 6,
        "head": blocks[-1].hash,
    }
    assert check([]).verdict().report() == {
        "verified": True,
        "blocks": 0,
        "entries": 0,
        "head": GENESIS,
    }


def test_a_changed_digest_breaks_its_block() -> None:
    records = stored(chain(2, 2, 1))
    records[1][2]["entries"][1]["data_sha256"] = "f" * 64

    verdict = check(records).verdict()

    assert (verdict.verified, verdict.broken_at, verdict.blocks) == (False, 2, 1)
    assert verdict.reason == "block 2 was changed: its contents do not match its hash"


def test_a_changed_block_with_a_recomputed_hash_breaks_the_link_of_the_next() -> None:
    records = stored(chain(1, 1, 1))
    data = records[1][2]
    data["entries"][0]["actor"] = "someone-else"
    data["hash"] = block_hash("acme", 2, data["prev_hash"], data["entries"])

    verdict = check(records).verdict()

    assert (verdict.verified, verdict.broken_at) == (False, 3)
    assert verdict.reason == "block 3 does not link to block 2: prev_hash differs"


def test_a_removed_block_is_named() -> None:
    records = stored(chain(1, 1, 1, 1))

    verdict = check([records[0], records[2], records[3]]).verdict()
    assert (verdict.verified, verdict.broken_at) == (False, 2)
    assert verdict.reason == "block 2 is missing: the next stored block is 3"

    verdict = check([records[0], records[3]]).verdict()
    assert verdict.reason == "block 2 to 3 is missing: the next stored block is 4"


def test_blocks_moved_to_other_versions_do_not_verify() -> None:
    first, second = stored(chain(1, 1))

    verdict = check([(1, BLOCK, second[2]), (2, BLOCK, first[2])]).verdict()

    assert (verdict.verified, verdict.broken_at) == (False, 1)
    assert verdict.reason == "block 1 names itself block 2 of 'acme'"


def test_another_tenants_block_or_another_event_type_does_not_verify() -> None:
    theirs = stored(chain(1, tenant="globex"))
    assert check(theirs).verdict().reason == "block 1 names itself block 1 of 'globex'"

    [(version, _, data)] = stored(chain(1))
    other = check([(version, "medoffice.scheduling.SiteRegistered.v1", data)]).verdict()
    assert other.reason == (
        "a medoffice.scheduling.SiteRegistered.v1 event stands where block 1 belongs"
    )
    garbled = check([(version, BLOCK, {**data, "entries": "nothing"})]).verdict()
    assert garbled.reason == "block 1 is not a readable block"


def test_an_event_chained_twice_does_not_verify() -> None:
    first = seal_blocks("acme", Head(), [entry(1)])[0]
    again = seal_blocks("acme", Head(1, first.hash), [entry(2), entry(1)])[0]

    verdict = check(stored([first, again])).verdict()

    assert (verdict.verified, verdict.broken_at) == (False, 2)
    assert verdict.reason == "block 2 repeats event ev-1 of block 1"


def test_a_chain_cut_short_fails_against_a_head_seen_before() -> None:
    blocks = chain(1, 1, 1)
    records = stored(blocks)

    assert check(records).verdict(known_head=blocks[1].hash).verified
    cut = check(records[:2]).verdict(known_head=blocks[2].hash)

    assert (cut.verified, cut.broken_at, cut.blocks) == (False, 3, 2)
    assert cut.reason == f"the known head {blocks[2].hash} is not in the chain: blocks were removed"


def test_the_audit_log_is_compared_with_the_digests_the_chain_holds() -> None:
    checked = check(stored(chain(2, 1)))
    logged = [
        ("ev-0", entry(0).data_sha256),
        ("ev-1", "e" * 64),
        ("ev-2", entry(2).data_sha256),
        ("ev-9", entry(9).data_sha256),
    ]

    assert checked.compare(logged) == {"entries": 4, "unchained": 1, "mismatched": ["ev-1"]}


def test_checking_stops_at_the_first_fault() -> None:
    records = stored(chain(1, 1, 1))
    tampered = copy.deepcopy(records)
    tampered[0][2]["entries"][0]["type"] = "medoffice.scheduling.Nothing.v1"
    checking = ChainCheck("acme")

    assert [checking.add(*r) for r in tampered] == [False, False, False]
    assert checking.broken
    assert checking.verdict().broken_at == 1
