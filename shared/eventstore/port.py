"""EventStore port: append-only streams with optimistic concurrency and a global order.

A commit is one atomic write of one or more events to one stream. Every adapter gives each commit
a global position (increasing, gaps allowed) and keeps a published flag for the outbox relay.

A commit may carry tags: names of what it is about (`<tenant>:appointment:<id>`), written in the
same atomic write as its events and indexed, so that a command finds the stream it acts on from
the event store itself (`streams_tagged`), never from a read model that may lag behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
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
    tags: tuple[str, ...] = ()

    @property
    def last_version(self) -> int:
        return self.first_version + len(self.events) - 1


# Which tags a commit stored before commits had tags should carry (see `backfill_tags`).
TagsOf = Callable[[Commit], Iterable[str]]


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
        self,
        stream: str,
        events: Sequence[Envelope],
        expected_version: int,
        tags: Sequence[str] = (),
    ) -> Commit:
        """Atomically append `events` if the stream is at `expected_version` (0 = new stream).

        The envelopes must carry stream versions `expected_version + 1` onwards. `tags` go into
        the same atomic write: `streams_tagged` answers with this stream once the append has
        returned. Raises ConcurrencyConflict when the stream is elsewhere; nothing is written
        then, no tag either.
        """
        ...

    async def streams_tagged(self, tag: str) -> list[str]:
        """The streams of the commits tagged `tag`, each once, ordered by their last commit so
        tagged (the most recent last); [] when none is. An index lookup, never a scan."""
        ...

    async def backfill_tags(self, tags_of: TagsOf, batch: int = 500) -> int:
        """Give the commits stored before commits had tags the tags `tags_of` names; returns
        how many commits it tagged (two stores backfilling at once may both count one). Idempotent
        and safe to run concurrently: a commit appended since (with tags or none) is never
        touched, and one already backfilled is skipped."""
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

    async def backlog(self) -> int:
        """How many commits are not yet marked published: the outbox relay's backlog, counted
        where it is stored (an index on both backends), not loaded."""
        ...

    async def mark_published(self, positions: Sequence[int]) -> None:
        """Record that these commits reached the bus."""
        ...

    async def ping(self) -> None:
        """Raise StoreUnavailable when the backend cannot be reached."""
        ...

    async def close(self) -> None: ...
