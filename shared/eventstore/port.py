"""EventStore port: append-only streams with optimistic concurrency and a global order.

A commit is one atomic write of one or more events to one stream. Every adapter gives each commit
a global position (increasing, gaps allowed) and keeps a published flag for the outbox relay.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from shared.errors import RetryLater
from shared.events import Envelope


class Commit(BaseModel):
    """One atomic append: events `first_version`..`first_version + len(events) - 1` of a stream."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    position: int
    stream: str
    first_version: int
    events: tuple[Envelope, ...]
    published: bool = False

    @property
    def last_version(self) -> int:
        return self.first_version + len(self.events) - 1


class ConcurrencyConflict(Exception):
    """The stream moved on since the caller read it: reload, decide again, retry."""

    def __init__(self, stream: str, expected: int, actual: int | None = None) -> None:
        found = "" if actual is None else f", found {actual}"
        super().__init__(f"stream {stream!r}: expected version {expected}{found}")
        self.stream = stream
        self.expected = expected
        self.actual = actual


class StoreUnavailable(RetryLater):
    """The backend cannot be reached; the caller may retry later (HTTP 503)."""


class EventStore(Protocol):
    """Append-only event storage. Adapters: SQLite (embedded) and MongoDB (scale-out)."""

    async def append(
        self, stream: str, events: Sequence[Envelope], expected_version: int
    ) -> Commit:
        """Atomically append `events` if the stream is at `expected_version` (0 = new stream).

        The envelopes must carry stream versions `expected_version + 1` onwards. Raises
        ConcurrencyConflict when the stream is elsewhere; nothing is written then.
        """
        ...

    async def load(
        self, stream: str, after_version: int = 0, limit: int | None = None
    ) -> list[Envelope]:
        """The stream's events after `after_version`, in version order, positions filled in;
        the first `limit` of them when a limit (at least 1) is given."""
        ...

    async def version(self, stream: str) -> int:
        """The stream's current version (0 when it does not exist)."""
        ...

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[Commit]:
        """Commits with position > `after_position`, in position order, at most `limit`."""
        ...

    async def unpublished(self, limit: int = 1000) -> list[Commit]:
        """Commits not yet marked published, in position order (for the outbox relay)."""
        ...

    async def mark_published(self, positions: Sequence[int]) -> None:
        """Record that these commits reached the bus."""
        ...

    async def ping(self) -> None:
        """Raise StoreUnavailable when the backend cannot be reached."""
        ...

    async def close(self) -> None: ...
