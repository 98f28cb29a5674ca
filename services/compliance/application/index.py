"""The index of chained events: which block holds each event id, per tenant, in a database.

The ledger asks it, before every append, which of a batch's events are chained already, so a
redelivered event is never entered twice, however long after (a reset consumer group), with
nothing held in process memory but each tenant's head. The index is derived from the chain and
only ever lags it: a document per chained event (`{tenant}:{event_id}` -> block), then a mark
of the head it is complete up to (`ledger_index_heads`), moved forward only. A process that
touches a tenant reads the mark and indexes the blocks after it (appended by a process that
stopped before indexing them, or by another process), so the index is complete up to the head
that process appends at; that is what makes the check exact (see `ledger.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from services.compliance.domain.ledger import AuditBlockSealed, Head
from shared.documents.port import DocumentStore, Write

CHAINED = "ledger_index"
HEADS = "ledger_index_heads"
_LOOKUP = 1000  # ids per round trip


class ChainIndex:
    """Chained event ids by tenant, with the head they are complete up to."""

    def __init__(self, store: DocumentStore) -> None:
        self.store = store

    async def head(self, tenant: str) -> Head:
        """The head the index is complete up to (the start of the chain when none)."""
        mark = await self.store.get(HEADS, tenant)
        if mark is None:
            return Head()
        return Head(int(mark["sequence"]), str(mark["hash"]))

    async def heads(self) -> dict[str, Head]:
        """Every tenant's indexed head."""
        return {
            str(mark["tenant"]): Head(int(mark["sequence"]), str(mark["hash"]))
            for mark in await self.store.find(HEADS)
        }

    async def chained(self, tenant: str, event_ids: Iterable[str]) -> set[str]:
        """Those of `event_ids` that the tenant's chain holds (up to the indexed head)."""
        wanted = list(dict.fromkeys(event_ids))
        found: set[str] = set()
        for start in range(0, len(wanted), _LOOKUP):
            ids = [f"{tenant}:{e}" for e in wanted[start : start + _LOOKUP]]
            docs = await self.store.get_many(CHAINED, ids)
            found.update(str(doc["event_id"]) for doc in docs.values())
        return found

    async def add(self, tenant: str, blocks: Sequence[AuditBlockSealed]) -> None:
        """Index `blocks` (consecutive, in order), then mark their last as indexed."""
        if not blocks:
            return
        writes = [
            Write(
                f"{tenant}:{entry.event_id}",
                {"tenant": tenant, "event_id": entry.event_id, "block": block.sequence},
            )
            for block in blocks
            for entry in block.entries
        ]
        for start in range(0, len(writes), _LOOKUP):
            await self.store.write(CHAINED, writes[start : start + _LOOKUP])
        last = blocks[-1]
        await self._mark(tenant, Head(last.sequence, last.hash))

    async def _mark(self, tenant: str, head: Head) -> None:
        """Move the tenant's mark forward to `head`; never back (another process's is later)."""
        while True:
            mark = await self.store.get(HEADS, tenant)
            if mark is not None and int(mark["sequence"]) >= head.sequence:
                return
            doc = {"tenant": tenant, "sequence": head.sequence, "hash": head.hash}
            rev = 0 if mark is None else int(mark["_rev"])
            if not await self.store.write(HEADS, [Write(tenant, doc, expected_rev=rev)]):
                return
