"""The audit ledger: a per-tenant hash chain over every event of every context. Pure.

Each block lists entries (an event's metadata and the digest of its data as received) and the
hash of the block before it; its own hash is the SHA-256 of its canonical JSON, prev_hash
included. Changing, removing or reordering any block breaks the chain from there on.

Entries hold digests, never event data: PHI is sealed before it leaves its service, and the
digest is of that ciphertext. Forgetting a patient destroys their key but rewrites no event,
so the digests, and with them the chain, stay true.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from shared.events import DomainEvent, Envelope

GENESIS = "0" * 64  # the prev_hash of a chain's first block
MAX_ENTRIES = 500  # per block: a bigger batch seals several blocks in one commit


def ledger_stream(tenant: str) -> str:
    return f"{tenant}:audit-ledger"


def canonical(value: Any) -> bytes:
    """The one JSON spelling of a value that hashes are taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def data_digest(envelope: Envelope) -> str:
    """SHA-256 of an event's data as received (for PHI events: of the sealed data)."""
    return hashlib.sha256(canonical(envelope.data)).hexdigest()


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
    """A block of the tenant's ledger: stored as event `sequence` of `{tenant}:audit-ledger`."""

    context: ClassVar[str] = "compliance"

    tenant: str
    sequence: int
    prev_hash: str
    entries: tuple[LedgerEntry, ...]
    hash: str


def block_hash(tenant: str, sequence: int, prev_hash: str, entries: Sequence[Any]) -> str:
    """SHA-256 of the block's canonical JSON, `entries` as models or as their stored dicts."""
    content = {
        "tenant": tenant,
        "sequence": sequence,
        "prev_hash": prev_hash,
        "entries": [e.model_dump() if isinstance(e, LedgerEntry) else e for e in entries],
    }
    return hashlib.sha256(canonical(content)).hexdigest()


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


def seal_blocks(tenant: str, head: Head, entries: Sequence[LedgerEntry]) -> list[AuditBlockSealed]:
    """The blocks that chain `entries` after `head`, at most MAX_ENTRIES each."""
    blocks: list[AuditBlockSealed] = []
    for start in range(0, len(entries), MAX_ENTRIES):
        chunk = tuple(entries[start : start + MAX_ENTRIES])
        sequence = head.sequence + 1
        digest = block_hash(tenant, sequence, head.hash, chunk)
        blocks.append(
            AuditBlockSealed(
                tenant=tenant, sequence=sequence, prev_hash=head.hash, entries=chunk, hash=digest
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
    broken_at: int | None = None  # the first block that does not verify
    reason: str | None = None

    def report(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "verified": self.verified,
            "blocks": self.blocks,
            "entries": self.entries,
            "head": self.head,
        }
        if not self.verified:
            found.update(broken_at=self.broken_at, reason=self.reason)
        return found


class ChainCheck:
    """Recomputes a chain block by block, as stored, and names the first block that is wrong.

    Fed with each stored block's stream version, event type and raw data, in stream order.
    It stops at the first fault; the blocks and entries it reports are those that verified.
    """

    def __init__(self, tenant: str) -> None:
        self._tenant = tenant
        self._head = Head()
        self._entries = 0
        self._hashes: set[str] = {GENESIS}
        self._chained: dict[str, tuple[int, str]] = {}  # event id -> (block, data digest)
        self._fault: tuple[int, str] | None = None

    @property
    def broken(self) -> bool:
        return self._fault is not None

    def add(self, version: int, type_name: str, data: dict[str, Any]) -> bool:
        """Check the next stored block; False once the chain is broken."""
        if self._fault is None:
            fault = self._check(version, type_name, data)
            if fault is not None:
                self._fault = (self._head.sequence + 1, fault)
        return self._fault is None

    def _check(self, version: int, type_name: str, data: dict[str, Any]) -> str | None:
        expected = self._head.sequence + 1
        if version != expected:
            missing = f"{expected}" if version == expected + 1 else f"{expected} to {version - 1}"
            return f"block {missing} is missing: the next stored block is {version}"
        if type_name != AuditBlockSealed.type_name():
            return f"a {type_name} event stands where block {expected} belongs"
        try:
            block = AuditBlockSealed.model_validate(data)
        except ValidationError:
            return f"block {expected} is not a readable block"
        if block.sequence != expected or block.tenant != self._tenant:
            return f"block {expected} names itself block {block.sequence} of {block.tenant!r}"
        if block.prev_hash != self._head.hash:
            return f"block {expected} does not link to block {expected - 1}: prev_hash differs"
        stored = data.get("entries", [])
        if block_hash(self._tenant, block.sequence, block.prev_hash, stored) != block.hash:
            return f"block {expected} was changed: its contents do not match its hash"
        for entry in block.entries:
            if entry.event_id in self._chained:
                first = self._chained[entry.event_id][0]
                return f"block {expected} repeats event {entry.event_id} of block {first}"
            self._chained[entry.event_id] = (expected, entry.data_sha256)
        self._head = Head(expected, block.hash)
        self._hashes.add(block.hash)
        self._entries += len(block.entries)
        return None

    def compare(self, logged: Iterable[tuple[str, str]]) -> dict[str, Any]:
        """Audit-log entries (event id, data digest) against the verified chain: how many
        are not chained (yet), and which name another digest than the chain holds."""
        entries, pending, mismatched = 0, 0, []
        for event_id, digest in logged:
            entries += 1
            chained = self._chained.get(event_id)
            if chained is None:
                pending += 1
            elif chained[1] != digest:
                mismatched.append(event_id)
        return {"entries": entries, "unchained": pending, "mismatched": mismatched}

    def verdict(self, known_head: str | None = None) -> Verdict:
        """The outcome; `known_head` is a head the auditor saw before: it must still be there,
        or the chain was cut short (removed blocks at the end leave no other trace)."""
        sequence, entries, head = self._head.sequence, self._entries, self._head.hash
        if self._fault is not None:
            at, reason = self._fault
            return Verdict(False, sequence, entries, head, at, reason)
        if known_head is not None and known_head not in self._hashes:
            reason = f"the known head {known_head} is not in the chain: blocks were removed"
            return Verdict(False, sequence, entries, head, sequence + 1, reason)
        return Verdict(True, sequence, entries, head)
