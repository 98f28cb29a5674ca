"""The compliance service's consumers: every context's events into the audit ledger.

The ledger has a consumer group of its own; several compliance processes share it, and the
event store serialises their appends (see `application/ledger.py`). A batch is acknowledged
only once its blocks are stored; a redelivered batch adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.compliance.application.ledger import AuditLedger
from shared.bus.delivery import with_dead_letters
from shared.bus.port import Bus, Subscription
from shared.events import Envelope

GROUP = "compliance.audit-ledger"


class LedgerConsumer:
    name = "compliance.audit_ledger"
    group = GROUP  # what its lag and dead letters are labelled with

    def __init__(
        self, ledger: AuditLedger, bus: Bus, topics: Sequence[str], *, max_batch: int = 500
    ) -> None:
        self._ledger = ledger
        self._bus = bus
        self._topics = list(topics)
        self._max_batch = max_batch
        self._subscription: Subscription | None = None

    async def start(self) -> None:
        async def chain(envelopes: Sequence[Envelope]) -> None:
            await self._ledger.record(envelopes)

        self._subscription = await self._bus.subscribe(
            GROUP,
            self._topics,
            with_dead_letters(self._bus, GROUP, chain),
            max_batch=self._max_batch,
        )

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._subscription.stop()
            self._subscription = None

    @property
    def running(self) -> bool:
        return self._subscription is not None and self._subscription.running

    async def lag(self) -> int:
        """Events of any context not chained yet (by this group's committed offsets)."""
        return await self._bus.lag(GROUP, self._topics)
