"""The audit ledger's hash chain, as pure functions: sealing blocks and verifying them, and
naming what was done to a chain by someone who can write its store but holds no key."""

from __future__ import annotations

import base64
import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from services.compliance.domain.ledger import (
    GENESIS,
    KEYED,
    LEGACY,
    MAX_ENTRIES,
    AuditBlockSealed,
    ChainCheck,
    Head,
    LedgerEntry,
    block_hash,
    data_digest,
    digest_of,
    entry_for,
    seal_blocks,
    unchained,
)
from shared.cloudevents import from_message, to_message
from shared.events import Envelope
from shared.eventstore.codec import decode_events, encode_events
from shared.settings import Settings, key_bytes

BLOCK = AuditBlockSealed.type_name()
KEY = bytes(range(32))
WRONG_KEY = bytes(range(1, 33))
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


def chain(*sizes: int, tenant: str = "acme", first: int = 0) -> list[AuditBlockSealed]:
    """Blocks of these many entries each, chained one after the other."""
    blocks: list[AuditBlockSealed] = []
    head, n = Head(), first
    for size in sizes:
        [block] = seal_blocks(tenant, head, [entry(n + i) for i in range(size)], KEY)
        n += size
        head = Head(block.sequence, block.hash)
        blocks.append(block)
    return blocks


def stored(blocks: list[AuditBlockSealed]) -> list[Stored]:
    return [(b.sequence, BLOCK, b.model_dump(mode="json")) for b in blocks]


def check(
    records: list[Stored],
    tenant: str = "acme",
    anchors: list[tuple[int, str]] | None = None,
    key: bytes = KEY,
) -> ChainCheck:
    checking = ChainCheck(tenant, key, anchors or [])
    for version, type_name, data in records:
        checking.add(version, type_name, data)
    return checking


def test_blocks_link_to_the_one_before_and_hash_their_contents() -> None:
    first, second = chain(2, 1)

    assert (first.sequence, first.prev_hash) == (1, GENESIS)
    assert (second.sequence, second.prev_hash) == (2, first.hash)
    assert first.algorithm == second.algorithm == KEYED
    assert first.hash == block_hash("acme", 1, GENESIS, first.entries, KEY)
    assert second.hash == block_hash("acme", 2, first.hash, second.entries, KEY)
    assert first.hash != block_hash("globex", 1, GENESIS, first.entries, KEY)
    # Without the key, nobody computes the hash: neither unkeyed nor under another key.
    assert first.hash != block_hash("acme", 1, GENESIS, first.entries)
    assert first.hash != block_hash("acme", 1, GENESIS, first.entries, WRONG_KEY)


def test_a_large_batch_is_sealed_into_blocks_of_at_most_max_entries() -> None:
    entries = [entry(n) for n in range(MAX_ENTRIES * 2 + 1)]
    blocks = seal_blocks("acme", Head(4, "a" * 64), entries, KEY)

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
        "anchors": 0,
    }
    assert check([]).verdict().report() == {
        "verified": True,
        "blocks": 0,
        "entries": 0,
        "head": GENESIS,
        "anchors": 0,
    }


def legacy_chain(*sizes: int) -> list[dict[str, Any]]:
    """Blocks as sealed before the ledger had a key: no algorithm, plain SHA-256."""
    blocks: list[dict[str, Any]] = []
    prev, n = GENESIS, 0
    for sequence, size in enumerate(sizes, start=1):
        entries = [entry(n + i).model_dump() for i in range(size)]
        n += size
        digest = block_hash("acme", sequence, prev, entries)
        blocks.append(
            {
                "tenant": "acme",
                "sequence": sequence,
                "prev_hash": prev,
                "entries": entries,
                "hash": digest,
            }
        )
        prev = digest
    return blocks


def forged(
    sequence: int, prev_hash: str, n: int, key: bytes | None = None, tenant: str = "acme"
) -> dict[str, Any]:
    """A block made by someone without the ledger key: unkeyed, or keyed with another key."""
    entries = (entry(n),)
    data: dict[str, Any] = {
        "tenant": tenant,
        "sequence": sequence,
        "prev_hash": prev_hash,
        "entries": [e.model_dump() for e in entries],
        "hash": block_hash(tenant, sequence, prev_hash, entries, key),
    }
    if key is not None:
        data["algorithm"] = KEYED
    return data


def renumbered(records: list[Stored]) -> list[Stored]:
    """The records stored at versions 1, 2, 3... in this order (the raw store edited)."""
    return [(n, t, d) for n, (_, t, d) in enumerate(records, start=1)]


def anchored(blocks: list[AuditBlockSealed]) -> list[tuple[int, str]]:
    return [(b.sequence, b.hash) for b in blocks]


def outcome(checking: ChainCheck, known_head: str | None = None) -> tuple[bool, int | None, str]:
    verdict = checking.verdict(known_head)
    return verdict.verified, verdict.broken_at, verdict.reason or ""


def test_a_changed_digest_is_named_an_edit_of_its_block() -> None:
    blocks = chain(2, 2, 1)
    records = stored(blocks)
    records[1][2]["entries"][1]["data_sha256"] = "f" * 64

    verdict = check(records).verdict()

    assert (verdict.verified, verdict.broken_at, verdict.blocks) == (False, 2, 1)
    assert verdict.reason == "block 2 was edited: its contents do not match its hash"
    # The last block: the anchor of its head says it was sealed, so it was edited.
    last = stored(blocks)
    last[2][2]["entries"][0]["actor"] = "someone-else"
    assert outcome(check(last, anchors=anchored(blocks))) == (
        False,
        3,
        "block 3 was edited: its contents do not match its hash",
    )


def test_an_edited_block_with_every_later_hash_recomputed_is_named_at_the_edit() -> None:
    blocks = chain(1, 1, 1, 1)
    for key in (None, WRONG_KEY):
        records = stored(blocks)
        prev = records[0][2]["hash"]
        for _, _, data in records[1:]:
            if data is records[1][2]:
                data["entries"][0]["actor"] = "someone-else"
            data["prev_hash"] = prev
            data["hash"] = block_hash("acme", data["sequence"], prev, data["entries"], key)
            if key is None:
                del data["algorithm"]
            prev = data["hash"]

        verified, at, reason = outcome(check(records, anchors=anchored(blocks)))

        assert (verified, at) == (False, 2)
        assert reason.startswith(
            "block 2 was edited: it and the blocks after it were hashed again without the "
            "ledger key (block 4 was anchored as sealed)"
        )


def test_a_block_inserted_with_a_valid_unkeyed_or_wrongly_keyed_hash_is_named() -> None:
    blocks = chain(1, 1, 1)
    for key, why in (
        (None, "an unkeyed block after the ledger was keyed"),
        (WRONG_KEY, "its hash is not the ledger key's"),
    ):
        records = stored(blocks)
        intruder = forged(2, blocks[0].hash, 7, key)
        # Stored between blocks 1 and 2, the blocks after it moved one version on.
        tampered = renumbered([records[0], (0, BLOCK, intruder), *records[1:]])

        verdict = check(tampered, anchors=anchored(blocks)).verdict()

        assert (verdict.verified, verdict.broken_at, verdict.blocks) == (False, 2, 1)
        assert verdict.reason == (
            f"a block was inserted where block 2 belongs (stored at version 2): {why}"
        )


def test_a_block_appended_at_the_head_is_named() -> None:
    blocks = chain(1, 1)
    for key in (None, WRONG_KEY):
        appended = (3, BLOCK, forged(3, blocks[-1].hash, 9, key))

        verified, at, reason = outcome(check([*stored(blocks), appended], anchors=anchored(blocks)))

        assert (verified, at) == (False, 3)
        assert reason.startswith(
            "a block was inserted at the head, as block 3 (stored at version 3): "
        )


def test_a_swap_of_two_blocks_is_named_a_reordering() -> None:
    records = stored(chain(1, 1, 1, 1))

    swapped = check([records[0], records[2], records[1], records[3]])
    as_stored = check(renumbered([records[0], records[2], records[1], records[3]]))

    for checked in (swapped, as_stored):
        assert outcome(checked) == (
            False,
            2,
            "blocks were reordered: block 3 is stored where block 2 belongs, "
            "and block 2 at version " + ("2" if checked is swapped else "3"),
        )


def test_a_removed_block_is_named() -> None:
    records = stored(chain(1, 1, 1, 1))

    verdict = check([records[0], records[2], records[3]]).verdict()
    assert (verdict.verified, verdict.broken_at) == (False, 2)
    assert verdict.reason == "block 2 was removed: the next stored block is 3"

    verdict = check([records[0], records[3]]).verdict()
    assert verdict.reason == "blocks 2 to 3 were removed: the next stored block is 4"
    # Renumbered to hide the gap, the block's own sequence still tells.
    assert outcome(check(renumbered([records[0], records[2], records[3]])))[1:] == (
        2,
        "block 2 was removed: the next stored block is 3",
    )


def test_blocks_cut_off_the_end_are_caught_by_the_anchors() -> None:
    blocks = chain(1, 1, 1, 1)
    records = stored(blocks)

    assert check(records[:2], anchors=anchored(blocks[:2])).verdict().verified
    verdict = check(records[:2], anchors=anchored(blocks)).verdict()

    assert (verdict.verified, verdict.broken_at, verdict.blocks, verdict.anchors) == (
        False,
        3,
        2,
        4,
    )
    assert verdict.reason == "the chain was truncated: it ends at block 2, but block 4 was anchored"


def test_a_chain_cut_short_fails_against_a_head_seen_before() -> None:
    blocks = chain(1, 1, 1)
    records = stored(blocks)

    assert check(records).verdict(known_head=blocks[1].hash).verified
    cut = check(records[:2]).verdict(known_head=blocks[2].hash)

    assert (cut.verified, cut.broken_at, cut.blocks) == (False, 3, 2)
    assert cut.reason == f"the chain was truncated: the known head {blocks[2].hash} is not in it"


def test_blocks_moved_to_other_versions_are_named_by_their_own_sequence() -> None:
    first, second = stored(chain(1, 1))

    verdict = check([(1, BLOCK, second[2]), (2, BLOCK, first[2])]).verdict()

    assert (verdict.verified, verdict.broken_at) == (False, 1)
    assert verdict.reason == (
        "blocks were reordered: block 2 is stored where block 1 belongs, and block 1 at version 2"
    )


def test_another_tenants_block_or_another_event_type_does_not_verify() -> None:
    theirs = stored(chain(1, tenant="globex"))
    assert check(theirs).verdict().reason == (
        "a block of tenant 'globex' was inserted where block 1 belongs"
    )

    [(version, _, data)] = stored(chain(1))
    other = check([(version, "medoffice.scheduling.SiteRegistered.v1", data)]).verdict()
    assert other.reason == (
        "a medoffice.scheduling.SiteRegistered.v1 event was inserted where block 1 belongs"
    )
    garbled = check([(version, BLOCK, {**data, "entries": "nothing"})]).verdict()
    assert garbled.reason == "block 1 was edited: it is not a readable block"


def test_an_event_chained_twice_does_not_verify() -> None:
    first = seal_blocks("acme", Head(), [entry(1)], KEY)[0]
    again = seal_blocks("acme", Head(1, first.hash), [entry(2), entry(1)], KEY)[0]

    verdict = check(stored([first, again])).verdict()

    assert (verdict.verified, verdict.broken_at) == (False, 2)
    assert verdict.reason == "block 2 repeats event ev-1 of block 1"


def test_a_copy_of_an_earlier_block_is_named_inserted() -> None:
    records = stored(chain(1, 1, 1))

    copied = check(renumbered([records[0], records[1], records[0], records[2]]))

    assert outcome(copied) == (
        False,
        3,
        "a copy of block 1 was inserted where block 3 belongs (stored at version 3)",
    )


def test_a_chain_sealed_before_the_ledger_had_a_key_verifies_as_unkeyed() -> None:
    legacy = legacy_chain(1, 2)
    records: list[Stored] = [(d["sequence"], BLOCK, d) for d in legacy]
    [keyed] = seal_blocks("acme", Head(2, legacy[-1]["hash"]), [entry(9)], KEY)

    old = check(records).verdict()
    grown = check([*records, (3, BLOCK, keyed.model_dump(mode="json"))]).verdict()

    assert old.report() == {
        "verified": True,
        "blocks": 2,
        "entries": 3,
        "head": legacy[-1]["hash"],
        "anchors": 0,
        "unkeyed_blocks": 2,
    }
    assert AuditBlockSealed.model_validate(legacy[0]).algorithm == LEGACY
    assert (grown.verified, grown.blocks, grown.unkeyed, grown.head) == (True, 3, 2, keyed.hash)


def test_an_unkeyed_block_rewritten_before_a_keyed_one_is_caught_by_the_keyed_link() -> None:
    legacy = legacy_chain(1, 1)
    [keyed] = seal_blocks("acme", Head(2, legacy[-1]["hash"]), [entry(9)], KEY)
    rewritten = copy.deepcopy(legacy)
    rewritten[1]["entries"][0]["actor"] = "someone-else"
    rewritten[1]["hash"] = block_hash("acme", 2, rewritten[1]["prev_hash"], rewritten[1]["entries"])
    records: list[Stored] = [(d["sequence"], BLOCK, d) for d in rewritten]

    verdict = check([*records, (3, BLOCK, keyed.model_dump(mode="json"))]).verdict()

    assert (verdict.verified, verdict.broken_at, verdict.blocks) == (False, 2, 1)
    assert (verdict.head, verdict.unkeyed) == (legacy[0]["hash"], 1)
    assert verdict.reason == (
        "block 2 was edited: block 3 does not link to it "
        "(its hash was computed again without the ledger key)"
    )


def test_a_chain_checked_with_another_key_says_the_key_may_be_wrong() -> None:
    verified, at, reason = outcome(check(stored(chain(1, 1)), key=WRONG_KEY))

    assert (verified, at) == (False, 1)
    assert reason.endswith("(or the ledger key is not the one that sealed it)")


def test_the_audit_log_is_compared_with_the_digests_the_chain_holds() -> None:
    checked = check(stored(chain(2, 1)))
    logged = [
        ("ev-0", entry(0).data_sha256),
        ("ev-1", "e" * 64),
        ("ev-2", entry(2).data_sha256),
        ("ev-9", entry(9).data_sha256),
    ]

    assert checked.compare(logged) == {"entries": 4, "unchained": 1, "mismatched": ["ev-1"]}


def test_a_producers_store_is_compared_with_the_digests_the_chain_holds() -> None:
    checked = check(stored(chain(2, 2)))  # events ev-0 to ev-3, in acme:site:s0 to s3
    in_store = [
        ("ev-0", "acme:site:s0", 1, entry(0).data_sha256),
        ("ev-1", "acme:site:s1", 1, "e" * 64),  # its data changed in the store
        ("ev-3", "acme:site:s3", 1, entry(3).data_sha256),  # ev-2 is gone
        ("ev-7", "acme:site:s7", 1, entry(7).data_sha256),  # not chained (yet)
    ]

    assert checked.compare_store("scheduling", in_store) == {
        "events": 4,
        "unchained": 1,
        "unchained_events": ["ev-7"],
        "changed": [
            {"event_id": "ev-1", "stream": "acme:site:s1", "stream_version": 1, "block": 1}
        ],
        "missing": [
            {"event_id": "ev-2", "stream": "acme:site:s2", "stream_version": 1, "block": 2}
        ],
    }
    assert checked.compare_store("billing", [])["missing"] == []


def test_the_stored_and_the_wire_form_of_an_event_have_the_same_digest() -> None:
    envelope = Envelope(
        id="e1",
        type="medoffice.scheduling.VisitCompleted.v1",
        source="/medoffice/scheduling",
        time=datetime(2026, 12, 1, 14, tzinfo=UTC),
        stream="acme:site-day:north:2026-12-01",
        stream_version=3,
        tenant="acme",
        correlation_id="c1",
        data={"diagnoses": ["E11.9"], "note": "Zoë ✓", "amount": 12.5, "nested": {"b": 1, "a": 0}},
    )

    [from_store] = decode_events(encode_events([envelope]), position=1)
    from_wire = from_message(to_message(envelope, "medoffice.scheduling.events"))

    assert data_digest(from_store) == data_digest(from_wire) == data_digest(envelope)
    assert digest_of(from_store.data) == data_digest(envelope)


def test_checking_stops_at_the_first_fault() -> None:
    records = stored(chain(1, 1, 1))
    tampered = copy.deepcopy(records)
    tampered[0][2]["entries"][0]["type"] = "medoffice.scheduling.Nothing.v1"
    checking = ChainCheck("acme", KEY)

    assert [checking.add(*r) for r in tampered] == [False, False, False]
    assert checking.broken
    assert checking.verdict().broken_at == 1


def test_production_refuses_the_development_ledger_key_and_a_key_must_be_32_bytes() -> None:
    kek = base64.b64encode(bytes(range(32))).decode()
    with pytest.raises(ValueError, match="MEDOFFICE_LEDGER_KEY"):
        Settings(env="production", jwt_secret="x" * 40, jwt_jwks="/keys.json", phi_kek=kek)
    production = Settings(
        env="production",
        jwt_secret="x" * 40,
        jwt_jwks="/keys.json",
        phi_kek=kek,
        ledger_key=kek,
        engagement_link_base_url="https://clinic.invalid",
    )
    assert key_bytes(production.ledger_key) == bytes(range(32))
    assert len(key_bytes(Settings().ledger_key)) == 32
    for bad in ("c2hvcnQ=", "not base64!"):
        with pytest.raises(ValueError, match="ledger_key"):
            Settings(ledger_key=bad)
