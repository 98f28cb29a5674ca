"""The base of a service's use cases: one command decided against the event store per call.

A use-case class takes the service's `CommandHandler` (built by the kit, `shared/kit.py`) and
gets from it what every use case needs: new ids and the time as inputs (never read inside the
domain), where a stream stands, and `decide` to run a decider on a stream.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from shared.commands import CommandHandler, Outcome
from shared.domain import Decider, RecordAccess
from shared.events import DomainEvent, Metadata

S = TypeVar("S")
C = TypeVar("C")


class UseCases:
    """Subclass per area (`class Billing(UseCases)`); methods take `meta` first, then the
    command (a frozen model) or its fields as keyword arguments."""

    def __init__(self, handler: CommandHandler) -> None:
        self._handler = handler

    def new_id(self) -> str:
        return self._handler.ids.new_id()

    def now(self) -> datetime:
        return self._handler.clock.now()

    async def stream_version(self, stream: str) -> int:
        """Where a stream stands in the event store (0: not written): the truth a read model
        catches up with."""
        return await self._handler.store.version(stream)

    async def decide(
        self,
        stream: str,
        decider: Decider[S, C],
        command: C,
        meta: Metadata,
        subject: str | Callable[[DomainEvent], str | None] | None = None,
    ) -> Outcome[S]:
        """Decide `command` on `stream` and append what it records."""
        return await self._handler.handle(stream, decider, command, meta, subject=subject)

    async def state(self, stream: str, decider: Decider[S, Any]) -> S:
        """A stream's state, folded from the event store (not from a read model)."""
        state, _ = await self._handler.load(stream, decider)
        return state


def _patient_of(event: DomainEvent) -> str | None:
    return getattr(event, "patient_id", None)


class Disclosures(UseCases):
    """A service's `AccessLog` (`shared/access.py`): records `PatientRecordAccessed` per patient
    a response disclosed, through the service's own decider, on a stream per response."""

    def __init__(
        self,
        handler: CommandHandler,
        decider: Decider[None, RecordAccess],
        stream: Callable[[str, str], str],
    ) -> None:
        super().__init__(handler)
        self._decider = decider
        self._stream = stream

    async def record_access(
        self, meta: Metadata, patient_ids: Iterable[str], endpoint: str, purpose: str | None
    ) -> None:
        command = RecordAccess(
            patient_ids=tuple(patient_ids),
            endpoint=endpoint,
            purpose=purpose,
            outcome="disclosed",
            accessed_at=self.now(),
        )
        if not command.patient_ids:
            return
        stream = self._stream(meta.tenant, self.new_id())
        await self.decide(stream, self._decider, command, meta, subject=_patient_of)
