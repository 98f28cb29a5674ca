"""Publishing signed chain heads at intervals, and reading them back for verification.

`HeadPublisher` is a timer: every `MEDOFFICE_LEDGER_HEAD_PUBLISH_SECONDS` it takes each
tenant's head from the chain index (`index.py`), signs those that moved since it last
published (`domain/heads.py`) and publishes them on a Noticeboard (`shared/noticeboard`:
embedded, the file `MEDOFFICE_LEDGER_HEADS_FILE`, by default `<data_dir>/ledger-heads.jsonl`,
outside every service's database; scale-out, the Kafka topic `medoffice.compliance.ledger-heads`).
`PublishedHeads` reads them back: only heads signed by this service's key count; the others
are counted apart (`rejected`), never trusted.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.compliance.application.index import ChainIndex
from services.compliance.domain.exports import public_key_bytes
from services.compliance.domain.heads import read_head, sign_head
from services.compliance.domain.ledger import Head
from shared.clock import Clock
from shared.noticeboard.port import Noticeboard
from shared.timers import Timer

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Published:
    heads: list[tuple[int, str]]  # (sequence, hash) of the genuine heads, oldest first
    rejected: int  # records of the tenant's key not signed by it, or not heads


class PublishedHeads:
    def __init__(self, board: Noticeboard, key: Ed25519PrivateKey) -> None:
        self.board = board
        self._public = public_key_bytes(key)

    async def read(self, tenant: str) -> Published:
        heads, rejected = [], 0
        for record in await self.board.read(tenant):
            head = read_head(record, tenant, self._public)
            if head is None:
                rejected += 1
            else:
                heads.append((head.sequence, head.hash))
        return Published(heads, rejected)


class HeadPublisher(Timer):
    name = "compliance.head_publisher"

    def __init__(
        self,
        index: ChainIndex,
        board: Noticeboard,
        key: Ed25519PrivateKey,
        clock: Clock,
        every: float,
    ) -> None:
        super().__init__(every)
        self._index = index
        self._board = board
        self._key = key
        self._clock = clock
        self._published: dict[str, Head] = {}  # what this process published last, by tenant

    async def fire_due(self) -> int:
        """Sign and publish every tenant's head that moved since; return how many."""
        now = self._clock.now()
        moved = [
            (tenant, head)
            for tenant, head in (await self._index.heads()).items()
            if self._published.get(tenant) != head
        ]
        records = [(t, sign_head(t, head, now, self._key).record()) for t, head in moved]
        await self._board.publish(records)
        self._published.update(moved)
        if moved:
            log.info("audit_ledger_heads_published", tenants=len(moved))
        return len(moved)

    async def stop(self) -> None:
        await super().stop()
        await self._board.close()
