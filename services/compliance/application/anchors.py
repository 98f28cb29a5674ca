"""Anchors: each tenant's chain heads, recorded outside the ledger's event store as it grows.

The ledger's store can be written by whoever reaches its database. Blocks carry an HMAC under a
key that is not in that database, so no block can be forged or changed there; but blocks can
still be taken away from the end, which leaves no trace in what remains. So every head the
ledger seals is also written here, to another database (embedded: the SQLite file
`compliance_anchors/readmodels.db` beside the ledger's `compliance/events.db`; scale-out: the
MongoDB database `<name>_compliance_anchors`), insert-only: a document per head, never updated
or deleted by the suite. Verification reads the anchors first, then the chain, and requires
every anchored head in the chain and the chain to reach the last anchor.
"""

from __future__ import annotations

import structlog

from services.compliance.domain.ledger import Head
from shared.documents.port import DocumentStore, Write

log = structlog.get_logger(__name__)

ANCHORS = "ledger_anchors"


def _anchor_id(tenant: str, sequence: int) -> str:
    return f"{tenant}:{sequence:015d}"


class LedgerAnchors:
    """Insert-only records of sealed heads (tenant, sequence, hash)."""

    def __init__(self, store: DocumentStore) -> None:
        self.store = store

    async def record(self, tenant: str, head: Head) -> None:
        """Anchor `head`; a head anchored already (another process) is left as it is."""
        doc = {"tenant": tenant, "sequence": head.sequence, "hash": head.hash}
        doc_id = _anchor_id(tenant, head.sequence)
        if await self.store.write(ANCHORS, [Write(doc_id, doc, expected_rev=0)]):
            existing = await self.store.get(ANCHORS, doc_id)
            if existing is not None and existing.get("hash") != head.hash:
                # Never overwritten: verification will show which of the two the chain holds.
                log.error("audit_ledger_anchor_differs", tenant=tenant, sequence=head.sequence)

    async def heads(self, tenant: str) -> list[tuple[int, str]]:
        """Every anchored head of the tenant's chain, (sequence, hash), in sequence order."""
        docs = await self.store.find(ANCHORS, {"tenant": tenant}, sort=[("sequence", 1)])
        return [(int(d["sequence"]), str(d["hash"])) for d in docs]
