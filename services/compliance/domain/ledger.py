"""The audit ledger: a per-tenant hash chain over every event of every context. Pure.

Each block lists entries (an event's metadata and the digest of its data as received) and the
hash of the block before it; its own hash is the HMAC-SHA256, under the ledger key, of its
canonical JSON, prev_hash included. The key is held outside every database (the settings), so
someone who can write the ledger's store can neither forge a block nor re-hash the blocks after
one they changed: changing, removing, inserting or reordering any block breaks the chain there.
Blocks sealed before the chain was keyed carry no `algorithm` and were hashed with plain SHA-256
(`LEGACY`): they verify as such, are counted apart, and may only come before the first keyed
block (an unkeyed block after it is a forgery).

Entries hold digests, never event data: PHI is sealed before it leaves its service, and the
digest is of that ciphertext. Forgetting a patient destroys their key but rewrites no event,
so the digests, and with them the chain, stay true.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from shared.events import DomainEvent, Envelope

GENESIS = "0" * 64  # the prev_hash of a chain's first block
MAX_ENTRIES = 500  # per block: a bigger batch seals several blocks in one commit
KEYED: Final = "hmac-sha256"
LEGACY: Final = "sha256"  # blocks sealed before the ledger had a key
LOOKAHEAD = 10_000  # blocks read past the first fault to name it
LISTED = 100  # event ids listed per finding of a cross-check

Algorithm = Literal["sha256", "hmac-sha256"]


def ledger_stream(tenant: str) -> str:
    return f"{tenant}:audit-ledger"


def canonical(value: Any) -> bytes:
    """The one JSON spelling of a value that hashes are taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def digest_of(data: dict[str, Any]) -> str:
    """SHA-256 of event data in its canonical spelling: the same for the stored form and the
    wire form, which both decode to the same JSON value."""
    return hashlib.sha256(canonical(data)).hexdigest()


def data_digest(envelope: Envelope) -> str:
    """SHA-256 of an event's data as received (for PHI events: of the sealed data)."""
    return digest_of(envelope.data)


class LedgerEntry(BaseModel):
    """One event, as chained. `time` is kept as text so the hash never depends on parsing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str
    type: str
    context: str
    stream: str
    stream_version: int
    actor: str | None
    time: str
    data_sha256: str


def entry_for(envelope: Envelope) -> LedgerEntry:
    return LedgerEntry(
        event_id=envelope.id,
        type=envelope.type,
        context=envelope.context,
        stream=envelope.stream,
        stream_version=envelope.stream_version,
        actor=envelope.actor,
        time=envelope.time.isoformat(),
        data_sha256=data_digest(envelope),
    )


class AuditBlockSealed(DomainEvent):
    """A block of the tenant's ledger: stored as event `sequence` of `{tenant}:audit-ledger`.

    `algorithm` is absent from blocks sealed before the ledger was keyed: they read as LEGACY.
    """

    context: ClassVar[str] = "compliance"

    tenant: str
    sequence: int
    prev_hash: str
    entries: tuple[LedgerEntry, ...]
    hash: str
    algorithm: Algorithm = LEGACY


def block_hash(
    tenant: str,
    sequence: int,
    prev_hash: str,
    entries: Sequence[Any],
    key: bytes | None = None,
) -> str:
    """The block's hash, `entries` as models or as their stored dicts: HMAC-SHA256 under `key`
    of its canonical JSON (the algorithm named in it), or, without a key, the LEGACY SHA-256."""
    content: dict[str, Any] = {
        "tenant": tenant,
        "sequence": sequence,
        "prev_hash": prev_hash,
        "entries": [e.model_dump() if isinstance(e, LedgerEntry) else e for e in entries],
    }
    if key is None:
        return hashlib.sha256(canonical(content)).hexdigest()
    content["algorithm"] = KEYED
    return hmac.new(key, canonical(content), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Head:
    """Where a chain ends: its last block's sequence and hash."""

    sequence: int = 0
    hash: str = GENESIS


def unchained(entries: Iterable[LedgerEntry], chained: set[str]) -> list[LedgerEntry]:
    """The entries whose events are not in the chain yet, each once, in arrival order."""
    fresh: dict[str, LedgerEntry] = {}
    for entry in entries:
        if entry.event_id not in chained and entry.event_id not in fresh:
            fresh[entry.event_id] = entry
    return list(fresh.values())


def seal_blocks(
    tenant: str, head: Head, entries: Sequence[LedgerEntry], key: bytes
) -> list[AuditBlockSealed]:
    """The keyed blocks that chain `entries` after `head`, at most MAX_ENTRIES each."""
    blocks: list[AuditBlockSealed] = []
    for start in range(0, len(entries), MAX_ENTRIES):
        chunk = tuple(entries[start : start + MAX_ENTRIES])
        sequence = head.sequence + 1
        digest = block_hash(tenant, sequence, head.hash, chunk, key)
        blocks.append(
            AuditBlockSealed(
                tenant=tenant,
                sequence=sequence,
                prev_hash=head.hash,
                entries=chunk,
                hash=digest,
                algorithm=KEYED,
            )
        )
        head = Head(sequence, digest)
    return blocks


@dataclass(frozen=True)
class Verdict:
    verified: bool
    blocks: int
    entries: int
    head: str
    broken_at: int | None = None  # the block where the chain is wrong
    reason: str | None = None
    unkeyed: int = 0  # LEGACY blocks among those that verified
    anchors: int = 0  # anchored heads checked

    def report(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "verified": self.verified,
            "blocks": self.blocks,
            "entries": self.entries,
            "head": self.head,
            "anchors": self.anchors,
        }
        if self.unkeyed:
            found["unkeyed_blocks"] = self.unkeyed  # sealed before the ledger was keyed
        if not self.verified:
            found.update(broken_at=self.broken_at, reason=self.reason)
        return found


@dataclass(frozen=True)
class _Stored:
    """One stored record as the check saw it."""

    version: int
    block: AuditBlockSealed | None  # None: not a block of this ledger
    problem: str | None  # why it is not
    authentic: bool  # its hash is right under the algorithm it may use here


@dataclass(frozen=True)
class _Chained:
    block: int
    digest: str
    context: str
    stream: str
    stream_version: int


class ChainCheck:
    """Recomputes a chain block by block, as stored, and names what is wrong at the first block
    that does not verify.

    Fed with each stored block's stream version, event type and raw data, in stream order.
    After the first fault it reads on (up to LOOKAHEAD blocks) only to name the fault: a block
    whose hash is right under the key was sealed by the ledger, whatever its place, so where the
    authentic blocks stand tells a removal from a reordering, and an inserted block from an
    edited one. `anchors` are heads (sequence, hash) recorded outside the ledger's store as the
    chain grew: every one must be in the chain, and the chain must reach the last.
    """

    def __init__(self, tenant: str, key: bytes, anchors: Iterable[tuple[int, str]] = ()) -> None:
        self._tenant = tenant
        self._key = key
        self._anchors = dict(sorted(anchors))
        self._head = Head()
        self._hashes: list[str] = [GENESIS]  # by sequence, of the blocks that verified
        self._counts: list[int] = [0]  # by sequence: entries up to that block
        self._unkeyed_counts: list[int] = [0]  # by sequence: unkeyed blocks up to that block
        self._keyed = False  # a keyed block verified: no unkeyed block may follow
        self._chained: dict[str, _Chained] = {}
        self._tail: list[_Stored] = []  # the first faulty record and those after it

    @property
    def broken(self) -> bool:
        return bool(self._tail)

    @property
    def settled(self) -> bool:
        """Nothing more to read: the fault and enough of what follows it are known."""
        return len(self._tail) > LOOKAHEAD

    def add(self, version: int, type_name: str, data: dict[str, Any]) -> bool:
        """Check the next stored block; False once the chain is broken."""
        stored = self._read(version, type_name, data)
        if stored.authentic and stored.block is not None and stored.block.algorithm == KEYED:
            self._keyed = True
        if self._tail:
            if not self.settled:
                self._tail.append(stored)
            return False
        block = stored.block
        if (
            block is None
            or not stored.authentic
            or block.sequence != self._head.sequence + 1
            or block.prev_hash != self._head.hash
            or any(entry.event_id in self._chained for entry in block.entries)
        ):
            self._tail.append(stored)
            return False
        for entry in block.entries:
            self._chained[entry.event_id] = _Chained(
                block.sequence, entry.data_sha256, entry.context, entry.stream, entry.stream_version
            )
        self._head = Head(block.sequence, block.hash)
        self._hashes.append(block.hash)
        self._counts.append(self._counts[-1] + len(block.entries))
        self._unkeyed_counts.append(self._unkeyed_counts[-1] + (block.algorithm == LEGACY))
        return True

    def _read(self, version: int, type_name: str, data: dict[str, Any]) -> _Stored:
        if type_name != AuditBlockSealed.type_name():
            return _Stored(version, None, f"a {type_name} event", False)
        try:
            block = AuditBlockSealed.model_validate(data)
        except ValidationError:
            return _Stored(version, None, "not a readable block", False)
        if block.tenant != self._tenant:
            return _Stored(version, block, f"a block of tenant {block.tenant!r}", False)
        stored = data.get("entries", [])
        if block.algorithm == KEYED:
            key: bytes | None = self._key
        elif self._keyed:
            return _Stored(version, block, "an unkeyed block after the ledger was keyed", False)
        else:
            key = None
        expected = block_hash(self._tenant, block.sequence, block.prev_hash, stored, key)
        return _Stored(version, block, None, hmac.compare_digest(expected, block.hash))

    def verdict(self, known_head: str | None = None) -> Verdict:
        """The outcome; `known_head` is a head the auditor saw before: it must still be there,
        or the chain was cut short (removed blocks at the end leave no other trace)."""
        if self._tail:
            at, reason = self._name_fault()
            first = self._tail[0]
            keyed = first.block is not None and first.block.algorithm == KEYED
            if not self._keyed and keyed and first.problem is None and not first.authentic:
                # Not one block verified under this key: the key may be the wrong one.
                reason += " (or the ledger key is not the one that sealed it)"
            return self._broken(at, reason)
        for sequence, anchored in self._anchors.items():
            if sequence > self._head.sequence:
                last = max(self._anchors)
                return self._broken(
                    self._head.sequence + 1,
                    f"the chain was truncated: it ends at block {self._head.sequence}, "
                    f"but block {last} was anchored",
                )
            if self._hashes[sequence] != anchored:
                return self._broken(sequence, f"block {sequence} is not the block anchored")
        if known_head is not None and known_head not in self._hashes:
            return self._broken(
                self._head.sequence + 1,
                f"the chain was truncated: the known head {known_head} is not in it",
            )
        return self._verdict(True)

    def _verdict(self, verified: bool, at: int | None = None, why: str | None = None) -> Verdict:
        """Blocks, entries and head of the part before `at` (all that verified, without it)."""
        good = self._head.sequence if at is None else min(self._head.sequence, at - 1)
        return Verdict(
            verified, good, self._counts[good], self._hashes[good], at, why,
            self._unkeyed_counts[good], len(self._anchors),
        )  # fmt: skip

    def _broken(self, at: int, reason: str) -> Verdict:
        return self._verdict(False, at, reason)

    def _name_fault(self) -> tuple[int, str]:
        """The block where the chain goes wrong, and what happened to it."""
        expected = self._head.sequence + 1
        first, rest = self._tail[0], self._tail[1:]
        block = first.block
        at_version = f"stored at version {first.version}"
        if block is None:
            if first.problem == "not a readable block":
                return expected, f"block {expected} was edited: it is not a readable block"
            return expected, f"{first.problem} was inserted where block {expected} belongs"
        if first.problem is not None and first.problem.startswith("a block of tenant"):
            return expected, f"{first.problem} was inserted where block {expected} belongs"
        if first.authentic:
            return self._misplaced(first, block, rest)
        following = next((s for s in rest if s.authentic and s.block is not None), None)
        if following is not None and following.block is not None:
            after = following.block
            if after.sequence == expected and after.prev_hash == self._head.hash:
                return expected, (
                    f"a block was inserted where block {expected} belongs ({at_version}): "
                    f"{self._not_sealed(first)}"
                )
            if after.sequence > expected and after.prev_hash == block.hash:
                return expected, f"block {expected} was edited: its contents do not match its hash"
            return expected, (
                f"block {expected} was edited: neither its contents nor its hash are those "
                f"block {after.sequence} links to"
            )
        anchored = [s for s in self._anchors if s >= expected]
        if anchored:
            if self._anchors.get(expected) == block.hash:
                return expected, f"block {expected} was edited: its contents do not match its hash"
            which = "it and the blocks after it were" if rest else "it was"
            return expected, (
                f"block {expected} was edited: {which} hashed again without the ledger "
                f"key (block {anchored[-1]} was anchored as sealed); {self._not_sealed(first)}"
            )
        return expected, (
            f"a block was inserted at the head, as block {expected} ({at_version}): "
            f"{self._not_sealed(first)}"
        )

    def _misplaced(
        self, first: _Stored, block: AuditBlockSealed, rest: list[_Stored]
    ) -> tuple[int, str]:
        """An authentic block where it does not belong."""
        expected = self._head.sequence + 1
        if block.sequence == expected:
            if any(e.event_id in self._chained for e in block.entries):
                repeated = next(e.event_id for e in block.entries if e.event_id in self._chained)
                earlier = self._chained[repeated].block
                return expected, f"block {expected} repeats event {repeated} of block {earlier}"
            if expected == 1:
                return expected, "block 1 does not link to the start of the chain"
            # It links to another block before it: that one (unkeyed) was rewritten.
            return expected - 1, (
                f"block {expected - 1} was edited: block {expected} does not link to it "
                "(its hash was computed again without the ledger key)"
            )
        if block.sequence < expected:
            what = (
                f"a copy of block {block.sequence}"
                if self._hashes[block.sequence] == block.hash
                else f"a second block {block.sequence}"
            )
            return expected, (
                f"{what} was inserted where block {expected} belongs "
                f"(stored at version {first.version})"
            )
        later = {
            s.block.sequence: s.version
            for s in rest
            if s.authentic and s.block is not None and expected <= s.block.sequence
        }
        if expected in later:
            return expected, (
                f"blocks were reordered: block {block.sequence} is stored where block "
                f"{expected} belongs, and block {expected} at version {later[expected]}"
            )
        gone = (
            f"block {expected} was"
            if block.sequence == expected + 1
            else f"blocks {expected} to {block.sequence - 1} were"
        )
        return expected, f"{gone} removed: the next stored block is {block.sequence}"

    def _not_sealed(self, stored: _Stored) -> str:
        if stored.problem is not None:
            return stored.problem
        if stored.block is not None and stored.block.algorithm == LEGACY:
            return "it is unkeyed, and its hash does not match"
        return "its hash is not the ledger key's"

    def compare(self, logged: Iterable[tuple[str, str]]) -> dict[str, Any]:
        """Audit-log entries (event id, data digest) against the verified chain: how many
        are not chained (yet), and which name another digest than the chain holds."""
        entries, pending, mismatched = 0, 0, []
        for event_id, digest in logged:
            entries += 1
            chained = self._chained.get(event_id)
            if chained is None:
                pending += 1
            elif chained.digest != digest:
                mismatched.append(event_id)
        return {"entries": entries, "unchained": pending, "mismatched": mismatched}

    def compare_store(
        self, context: str, stored: Iterable[tuple[str, str, int, str]]
    ) -> dict[str, Any]:
        """One producer's event store, its events of this tenant as (event id, stream, stream
        version, data digest), against the verified chain: the events whose data is not what
        was chained (`changed`), the chained events of that context the store no longer holds
        (`missing`), and the stored events not chained (`unchained`: normally on their way)."""
        events, changed, unchained_ids, found = 0, [], [], set()
        for event_id, stream, version, digest in stored:
            events += 1
            chained = self._chained.get(event_id)
            if chained is None:
                unchained_ids.append(event_id)
                continue
            found.add(event_id)
            if chained.digest != digest or (chained.stream, chained.stream_version) != (
                stream,
                version,
            ):
                changed.append(
                    {
                        "event_id": event_id,
                        "stream": stream,
                        "stream_version": version,
                        "block": chained.block,
                    }
                )
        missing = [
            {
                "event_id": event_id,
                "stream": c.stream,
                "stream_version": c.stream_version,
                "block": c.block,
            }
            for event_id, c in self._chained.items()
            if c.context == context and event_id not in found
        ]
        return {
            "events": events,
            "unchained": len(unchained_ids),
            "unchained_events": unchained_ids[:LISTED],
            "changed": changed[:LISTED],
            "missing": missing[:LISTED],
        }
