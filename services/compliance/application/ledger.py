"""The audit ledger kept in the compliance service's own event store, one stream per tenant.

Appending: a batch's entries become blocks appended to `{tenant}:audit-ledger` at the head this
process knows, with that version as the expected version. The event store lets exactly one
append win each version (SQLite: one transaction; MongoDB and FerretDB: the unique index on
(stream, first_version), the one write FerretDB 1.24 makes atomically), so any number of
compliance processes serialise on it without a lock or an update: a loser loads the blocks it
missed and seals again on the new head.

Dedupe: the chain itself says which events it holds, and an index in a database of its own
(`index.py`: event id -> block, per tenant) says it without reading the chain. A process keeps
only each tenant's head; when it first touches a tenant it starts at the head the index is
complete up to and indexes the blocks after it. The check (which of a batch's events the index
holds) is exact because the index is complete up to the very head the append expects: had
another process chained anything since, the append would conflict, and the blocks it missed
are indexed before the check runs again. So a redelivered event, whether seconds or years
later (a reset consumer group), is never entered twice, and no process holds every id.

Keys and anchors: blocks are sealed with HMAC-SHA256 under the ledger key (from the settings,
never stored), and every head appended is anchored outside this store (`anchors.py`); heads
are also signed and published outside every database at intervals (`heads.py`), and read back
as anchors when verifying.

Cross-check: verification also reads each producing context's event store (read-only, handed
in by the process that wires the suite: compliance imports no other service) and compares the
digest of every stored event's data with the digest the chain holds for it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from pydantic import ValidationError

from services.compliance.application.anchors import LedgerAnchors
from services.compliance.application.heads import Published, PublishedHeads
from services.compliance.application.index import ChainIndex
from services.compliance.domain.ledger import (
    AuditBlockSealed,
    ChainCheck,
    Head,
    LedgerEntry,
    data_digest,
    entry_for,
    ledger_stream,
    seal_blocks,
    unchained,
)
from shared.clock import Clock, Ids
from shared.errors import RetryLater
from shared.events import Envelope, Metadata, seal
from shared.eventstore.port import Commit, ConcurrencyConflict, EventStore

log = structlog.get_logger(__name__)

BLOCK_TYPE = AuditBlockSealed.type_name()
ACTOR = "compliance.audit-ledger"
# (event id, data digest) of every audit-log entry of a tenant, for the cross-check.
AuditLogDigests = Callable[[str], Awaitable[Iterable[tuple[str, str]]]]


class EventLog(Protocol):
    """Read-only access to a producing context's event store: all it needs for the cross-check
    (an EventStore is one)."""

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[Commit]: ...


class LedgerContended(RetryLater):
    """Other appenders kept winning; the batch comes again."""


class LedgerUnreadable(RetryLater):
    """A stored block does not read as one: chaining stops (nothing is acknowledged) until an
    operator has looked, rather than sealing new blocks on a ledger that was tampered with."""


@dataclass
class _Chain:
    """What this process knows of a tenant's chain: its head, up to which it is indexed."""

    head: Head = field(default_factory=Head)
    unanchored: Head | None = None  # appended, its anchor not written yet
    stale: bool = False  # appended, not indexed: start again from the index's mark


class AuditLedger:
    def __init__(
        self,
        store: EventStore,
        clock: Clock,
        ids: Ids,
        key: bytes,
        anchors: LedgerAnchors,
        index: ChainIndex,
        audit_log: AuditLogDigests | None = None,
        producers: Mapping[str, EventLog] | None = None,
        *,
        published: PublishedHeads | None = None,
        attempts: int = 30,
        page: int = 1000,
    ) -> None:
        if len(key) != 32:
            raise ValueError("the ledger key must be 32 bytes")
        self._store = store
        self._clock = clock
        self._ids = ids
        self._key = key
        self._anchors = anchors
        self._index = index
        self._published = published
        self._audit_log = audit_log
        self._producers = dict(producers or {})
        self._attempts = attempts
        self._page = page
        self._chains: dict[str, _Chain] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def record(self, envelopes: Sequence[Envelope]) -> int:
        """Chain every event not chained yet, in arrival order; return how many were added."""
        by_tenant: dict[str, list[LedgerEntry]] = {}
        for envelope in envelopes:
            if envelope.type == BLOCK_TYPE:
                continue  # the ledger's own blocks, should they ever be published: no loop
            by_tenant.setdefault(envelope.tenant, []).append(entry_for(envelope))
        added = 0
        for tenant, entries in by_tenant.items():
            added += await self._append(tenant, entries)
        return added

    async def _append(self, tenant: str, entries: list[LedgerEntry]) -> int:
        stream = ledger_stream(tenant)
        async with self._locks.setdefault(tenant, asyncio.Lock()):
            chain = self._chains.get(tenant)
            if chain is None or chain.stale:
                unanchored = None if chain is None else chain.unanchored
                chain = _Chain(await self._index.head(tenant), unanchored)
                await self._catch_up(tenant, chain)
                self._chains[tenant] = chain
            if chain.unanchored is not None:  # the anchor write failed last time
                await self._anchor(tenant, chain)
            for attempt in range(1, self._attempts + 1):
                known = await self._index.chained(tenant, (e.event_id for e in entries))
                fresh = unchained(entries, known)
                if not fresh:
                    return 0
                blocks = seal_blocks(tenant, chain.head, fresh, self._key)
                try:
                    await self._store.append(
                        stream, [self._envelope(tenant, b) for b in blocks], chain.head.sequence
                    )
                except ConcurrencyConflict:
                    await self._catch_up(tenant, chain)
                    # Spread the contenders out so that one of them gets through.
                    await asyncio.sleep(random.uniform(0, 0.002 * attempt))
                    continue
                chain.head = Head(blocks[-1].sequence, blocks[-1].hash)
                chain.unanchored = chain.head
                try:
                    await self._anchor(tenant, chain)  # first: verification reads anchors first
                    await self._index.add(tenant, blocks)
                except BaseException:
                    # The index must be complete up to the head this process appends at: the
                    # next batch starts again from the index's own mark.
                    chain.stale = True
                    raise
                return len(fresh)
        log.warning("audit_ledger_contended", tenant=tenant, attempts=self._attempts)
        raise LedgerContended(f"{stream}: no append won in {self._attempts} attempts")

    async def _anchor(self, tenant: str, chain: _Chain) -> None:
        if chain.unanchored is not None:
            await self._anchors.record(tenant, chain.unanchored)
            chain.unanchored = None

    async def _catch_up(self, tenant: str, chain: _Chain) -> None:
        """Read and index the blocks after the known head (appended by other processes, or
        by one that stopped before indexing them)."""
        stream = ledger_stream(tenant)
        while True:
            page = await self._store.load(stream, chain.head.sequence, limit=self._page)
            try:
                blocks = [AuditBlockSealed.model_validate(e.data) for e in page]
            except ValidationError as exc:
                log.error("audit_ledger_unreadable", stream=stream, after=chain.head.sequence)
                raise LedgerUnreadable(f"{stream}: a block after {chain.head.sequence}") from exc
            await self._index.add(tenant, blocks)
            if blocks:
                chain.head = Head(blocks[-1].sequence, blocks[-1].hash)
            if len(page) < self._page:
                return

    def _envelope(self, tenant: str, block: AuditBlockSealed) -> Envelope:
        event_id = self._ids.new_id()
        return seal(
            block,
            stream=ledger_stream(tenant),
            stream_version=block.sequence,
            meta=Metadata(tenant=tenant, actor=ACTOR, correlation_id=event_id),
            event_id=event_id,
            time=self._clock.now(),
        )

    async def blocks(self, tenant: str, after: int, limit: int) -> list[dict[str, Any]]:
        """Blocks after sequence `after`, as stored (a tampered block shows as it now is),
        each with the stream version it is stored at and when it was sealed."""
        stored = await self._store.load(ledger_stream(tenant), after, limit=limit)
        return [
            {"stream_version": e.stream_version, "sealed_at": e.time.isoformat(), **e.data}
            for e in stored
        ]

    async def check(self, tenant: str) -> ChainCheck:
        """Recompute the tenant's chain from the store, page by page, against its anchors.

        The anchors are read first: a head anchored after the chain was read would otherwise
        look like blocks cut off its end."""
        check, _, _ = await self.check_and_collect(tenant, lambda _: False)
        return check

    async def check_and_collect(
        self, tenant: str, wanted: Callable[[dict[str, Any]], bool]
    ) -> tuple[ChainCheck, list[dict[str, Any]], Published]:
        """`check`, keeping the stored blocks (as `blocks` gives them) from the first to the
        last that holds an entry `wanted`: the blocks an export of those entries needs; and
        the published heads it checked.

        The heads anchored in the database and the signed heads published outside it are one
        set of anchors; where both name a block, the signed one is checked (a database
        anchor that differs from it was changed: the chain is checked against the head only
        the signing key could have made)."""
        anchored = dict(await self._anchors.heads(tenant))
        published = Published([], 0)
        if self._published is not None:
            published = await self._published.read(tenant)
            anchored.update(published.heads)
        check = ChainCheck(tenant, self._key, anchored.items())
        after, stream = 0, ledger_stream(tenant)
        kept: list[dict[str, Any]] = []
        last_wanted = 0  # how many of `kept` end with a wanted block
        while not check.settled:
            page = await self._store.load(stream, after, limit=self._page)
            for envelope in page:
                check.add(envelope.stream_version, envelope.type, envelope.data)
                entries = envelope.data.get("entries")
                hit = isinstance(entries, list) and any(
                    isinstance(e, dict) and wanted(e) for e in entries
                )
                if hit or kept:
                    kept.append(
                        {
                            "stream_version": envelope.stream_version,
                            "sealed_at": envelope.time.isoformat(),
                            **envelope.data,
                        }
                    )
                if hit:
                    last_wanted = len(kept)
            if len(page) < self._page:
                break
            after = page[-1].stream_version
        return check, kept[:last_wanted], published

    async def _stored_events(
        self, producer: EventLog, tenant: str
    ) -> list[tuple[str, str, int, str]]:
        """(event id, stream, stream version, data digest) of the tenant's stored events."""
        found: list[tuple[str, str, int, str]] = []
        after = 0
        while True:
            commits = await producer.read_all(after, self._page)
            for commit in commits:
                for event in commit.events:
                    if event.tenant == tenant:
                        found.append(
                            (event.id, event.stream, event.stream_version, data_digest(event))
                        )
            if len(commits) < self._page:
                return found
            after = commits[-1].position

    async def verify(
        self, tenant: str, known_head: str | None = None, cross_check: bool = False
    ) -> dict[str, Any]:
        """The verdict on the tenant's chain, and on each producing context's event store
        against it; with `cross_check`, also whether every audit-log entry's digest is the one
        the chain holds for its event."""
        check, _, published = await self.check_and_collect(tenant, lambda _: False)
        report = check.verdict(known_head).report()
        if self._published is not None:
            report["published_heads"] = {
                "heads": len(published.heads),
                "rejected": published.rejected,
            }
        stores: dict[str, Any] = {}
        for context, producer in self._producers.items():
            stores[context] = check.compare_store(
                context, await self._stored_events(producer, tenant)
            )
        report["stores"] = stores
        if report["verified"]:
            for context, found in stores.items():
                if found["changed"] or found["missing"]:
                    report.update(
                        verified=False, broken_at=None, reason=_store_reason(context, found)
                    )
                    break
        if cross_check and self._audit_log is not None:
            logged = await self._audit_log(tenant)
            audit = check.compare(logged)
            report["audit_log"] = audit
            if report["verified"] and audit["mismatched"]:
                report.update(
                    verified=False,
                    broken_at=None,
                    reason="audit-log entries differ from the ledger: "
                    + ", ".join(audit["mismatched"][:5]),
                )
        return report


def _store_reason(context: str, found: dict[str, Any]) -> str:
    def named(events: list[dict[str, Any]]) -> str:
        return ", ".join(
            f"{e['event_id']} ({e['stream']}@{e['stream_version']}, block {e['block']})"
            for e in events[:5]
        )

    parts = []
    if found["changed"]:
        parts.append(f"changed since it was chained: {named(found['changed'])}")
    if found["missing"]:
        parts.append(f"chained but no longer stored: {named(found['missing'])}")
    return f"{context}'s event store differs from the ledger: " + "; ".join(parts)
