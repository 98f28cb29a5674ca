"""Reactors: process managers that turn events into commands, fed by the bus.

A reactor finishes work that spans streams (a move between days, a series booked whole) when
the request that started it died halfway: the event that began the work is durable, so the
reactor always sees it, at least once. Its commands must be idempotent, which deciders that
return no events for work already done make them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from shared.bus.delivery import with_dead_letters
from shared.bus.port import Bus, Subscription
from shared.events import DomainEvent, Envelope, EventRegistry


class Reaction(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def contexts(self) -> tuple[str, ...]: ...

    async def react(self, event: DomainEvent, envelope: Envelope) -> None: ...


class Reactor:
    """Runs one reaction in consumer group `reactor.<name>`."""

    def __init__(
        self,
        reaction: Reaction,
        bus: Bus,
        registry: EventRegistry,
        topic_for: Callable[[str], str],
    ) -> None:
        self.reaction = reaction
        self._bus = bus
        self._registry = registry
        self._topics = [topic_for(c) for c in reaction.contexts]
        self._subscription: Subscription | None = None

    @property
    def name(self) -> str:
        return self.group

    @property
    def group(self) -> str:
        return f"reactor.{self.reaction.name}"

    async def start(self) -> None:
        async def handle(envelopes: Sequence[Envelope]) -> None:
            for envelope in envelopes:
                await self.reaction.react(self._registry.decode(envelope), envelope)

        self._subscription = await self._bus.subscribe(
            self.group, self._topics, with_dead_letters(self._bus, self.group, handle)
        )

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._subscription.stop()

    @property
    def running(self) -> bool:
        return self._subscription is not None and self._subscription.running

    async def lag(self) -> int:
        return await self._bus.lag(self.group, self._topics)
