"""Ports for the two things domain code must never make itself: the time and new ids.

New ids are random, except while a request that may run more than once is served (one sent
with an `Idempotency-Key`, see shared/http/idempotency.py): inside `repeatable_ids(...)` the
n-th id is derived from the request's seed and n, so a run again after a crash names the same
appointment, series or entry as the run that died, and the decider sees the same thing twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class Ids(Protocol):
    def new_id(self) -> str:
        """A new entity id: the next of the request's repeatable ids, else a random one."""
        ...

    def event_id(self, stream: str, version: int) -> str:
        """The id of the event recorded at `version` of `stream`: repeatable like `new_id`,
        but apart from its count, so recording events (or not, on a run again) never shifts
        the entity ids drawn after them."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


_NAMESPACE = uuid.UUID("5b1f7d0e-2d0c-4c39-9a57-1f4c0c6c8a11")


@dataclass
class _Seed:
    namespace: uuid.UUID
    drawn: int = 0  # shared by every task the request starts: one count per request
    # Closed when the request is served: a task it started that outlives it (a consumer a
    # rebuild subscribes) inherits the seed, and must go back to random ids.
    open: bool = True


_seed: ContextVar[_Seed | None] = ContextVar("medoffice_repeatable_ids", default=None)


def _current() -> _Seed | None:
    seed = _seed.get()
    return seed if seed is not None and seed.open else None


@contextmanager
def repeatable_ids(*parts: str) -> Iterator[None]:
    """Inside, ids are derived from `parts` (e.g. tenant, subject, key, request digest)."""
    seed = _Seed(uuid.uuid5(_NAMESPACE, "\n".join(parts)))
    token = _seed.set(seed)
    try:
        yield
    finally:
        seed.open = False
        _seed.reset(token)


class UuidIds:
    def new_id(self) -> str:
        seed = _current()
        if seed is None:
            return str(uuid.uuid4())
        seed.drawn += 1
        return str(uuid.uuid5(seed.namespace, f"id {seed.drawn}"))

    def event_id(self, stream: str, version: int) -> str:
        seed = _current()
        if seed is None:
            return str(uuid.uuid4())
        # One event per (stream, version) ever commits, so this never names two events.
        return str(uuid.uuid5(seed.namespace, f"event {stream} {version}"))
