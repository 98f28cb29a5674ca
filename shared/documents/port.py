"""DocumentStore port: JSON documents in named collections, with per-document revisions.

Filters are a small MongoDB-shaped subset that every backend answers the same way:
`{"field": value}` for equality (dotted paths reach into sub-documents) and
`{"field": {"$gte": a, "$lt": b, "$in": [...]}}` with `$gt`, `$gte`, `$lt`, `$lte`, `$in`, `$ne`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

Document = dict[str, Any]
Filter = Mapping[str, Any]
Sort = Sequence[tuple[str, int]]


class DocumentConflict(Exception):
    """A conditional write found another revision than the one it expected."""

    def __init__(self, collection: str, doc_id: str) -> None:
        super().__init__(f"document {collection}/{doc_id} changed concurrently")
        self.collection = collection
        self.doc_id = doc_id


@dataclass(frozen=True, slots=True)
class Write:
    """One conditional write: `expected_rev` 0 = must not exist, None = unconditional.

    A plain dataclass: a projection builds one per changed document, on the replay hot path.
    """

    doc_id: str
    doc: Document | None  # None deletes
    expected_rev: int | None = None


class DocumentStore(Protocol):
    """Read-model storage. Adapters: SQLite (embedded) and MongoDB (scale-out).

    Every stored document carries `_id` (its id) and `_rev` (1 on insert, +1 per write).
    """

    async def get(self, collection: str, doc_id: str) -> Document | None: ...

    async def get_many(self, collection: str, doc_ids: Sequence[str]) -> dict[str, Document]:
        """The documents of these ids that exist, by id: one round trip for a batch."""
        ...

    async def find(
        self,
        collection: str,
        where: Filter | None = None,
        sort: Sort = (),
        limit: int | None = None,
    ) -> list[Document]: ...

    async def revisions(self, collection: str, where: Filter | None = None) -> dict[str, int]:
        """The revision of each document `find` would return, by id, without their bodies: a
        reader that keeps what it made of a revision reads only the bodies that changed."""
        ...

    async def count(self, collection: str, where: Filter | None = None) -> int: ...

    async def write(self, collection: str, writes: Sequence[Write]) -> list[str]:
        """Apply writes; return the ids whose condition failed (those are left untouched)."""
        ...

    async def drop(self, collection: str) -> None: ...

    async def ping(self) -> None:
        """Raise StoreUnavailable when the backend cannot be reached."""
        ...

    async def close(self) -> None: ...


async def put(
    store: DocumentStore,
    collection: str,
    doc_id: str,
    doc: Document,
    expected_rev: int | None = None,
) -> None:
    """Write one document, raising DocumentConflict when `expected_rev` does not hold."""
    if await store.write(collection, [Write(doc_id=doc_id, doc=doc, expected_rev=expected_rev)]):
        raise DocumentConflict(collection, doc_id)
