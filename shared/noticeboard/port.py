"""Noticeboard port: an append-only place outside the suite's databases where records are
published for anyone to read back (the audit ledger's signed heads).

Adapters: a file of JSON lines (embedded, `file.py`) and a Kafka topic (scale-out, `kafka.py`).
Records are opaque bytes under a key (a tenant); a reader gets every record of a key in the
order published. One contract suite (tests/integration/test_noticeboard.py) runs on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Noticeboard(Protocol):
    async def publish(self, records: Sequence[tuple[str, bytes]]) -> None:
        """Append (key, value) records, durably, before returning; no newline in a value."""
        ...

    async def read(self, key: str) -> list[bytes]:
        """Every record published under `key`, oldest first."""
        ...

    async def close(self) -> None: ...
