"""The sites engagement learns from scheduling's `SiteRegistered` (consumer group
`reactor.engagement.learn_sites`), each recorded as engagement's own `SiteLearnt` on the site's
stream (`domain/sites.py`), and read back from the event store when a message is planned or
sent: the zone its quiet hours are kept in and the local time it names, and the site's name. A
site not learnt yet is `SiteNotLearnt`: the event that needed it is delivered again."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from services.engagement.domain import streams
from services.engagement.domain.sites import LearnSite, Site, site
from services.scheduling.contracts import SiteRegistered
from shared.commands import Outcome
from shared.errors import RetryLater
from shared.events import DomainEvent, Envelope, Metadata
from shared.usecases import UseCases

SYSTEM = "system:engagement"


class SiteNotLearnt(RetryLater):
    """Engagement has not learnt the site (its name and time zone) yet: try again later."""


@dataclass(frozen=True)
class KnownSite:
    name: str
    zone: ZoneInfo


class Sites(UseCases):
    async def learn(self, meta: Metadata, event: SiteRegistered, event_id: str) -> Outcome[Site]:
        command = LearnSite(
            site_id=event.site_id,
            name=event.name,
            time_zone=event.time_zone,
            learnt_from=event_id,
        )
        stream = streams.site(meta.tenant, event.site_id)
        return await self.decide(stream, site, command, meta)

    async def of(self, tenant: str, site_id: str) -> KnownSite:
        """The site as learnt (from the event store), or `SiteNotLearnt`."""
        state = await self.state(streams.site(tenant, site_id), site)
        if state.name is None or state.time_zone is None:
            raise SiteNotLearnt(f"site {site_id} not learnt yet")
        return KnownSite(state.name, ZoneInfo(state.time_zone))


class LearnSites:
    """Each site scheduling registers, learnt as engagement's own event."""

    name = "engagement.learn_sites"
    contexts = ("scheduling",)

    def __init__(self, sites: Sites) -> None:
        self._sites = sites

    async def react(self, event: DomainEvent, envelope: Envelope) -> None:
        if isinstance(event, SiteRegistered):
            await self._sites.learn(Metadata.reacting_to(envelope, SYSTEM), event, envelope.id)
