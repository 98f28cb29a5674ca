"""Finding streams by the tags of their commits (`domain/streams.py` names them) in the event
store's own index. The tags are written in the same commit as the events, so the index is never
behind the way a read model may be: a command right after the booking, the triage or the room
it needs finds it.
"""

from __future__ import annotations

from shared.commands import CommandHandler
from shared.eventstore.port import Commit


class TagIndex:
    def __init__(self, handler: CommandHandler) -> None:
        self._handler = handler

    async def streams(self, tag: str) -> list[str]:
        """The streams tagged `tag`, the most recently tagged last. On a miss, commits an
        earlier version stored without tags (an older process may still be writing beside
        this one) are tagged first, and the index is asked again."""
        found = await self._handler.store.streams_tagged(tag)
        if not found and await self.backfill():
            found = await self._handler.store.streams_tagged(tag)
        return found

    async def backfill(self) -> int:
        """Tag the commits stored before commits had tags; how many it tagged (idempotent)."""
        return await self._handler.store.backfill_tags(self._tags_of)

    def _tags_of(self, commit: Commit) -> list[str]:
        registry, tags = self._handler.registry, self._handler.tags
        return [
            tag
            for envelope in commit.events
            if registry.knows(envelope.type)
            for tag in tags(envelope.tenant, registry.decode(envelope))
        ]
