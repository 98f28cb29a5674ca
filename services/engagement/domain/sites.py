"""What engagement knows of a site of scheduling's, on `engagement-site-<id>`: its name (what a
message calls it) and its time zone (quiet hours, the local time a message names). Learnt from
`SiteRegistered` as engagement's own event, once per event it came from: a redelivery, or the
same name and zone again, records nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.engagement.domain.events import SiteLearnt
from shared.domain import Command, Decider
from shared.events import DomainEvent


@dataclass(frozen=True)
class Site:
    name: str | None = None  # None: not learnt yet
    time_zone: str | None = None
    learnt: frozenset[str] = frozenset()


class LearnSite(Command):
    site_id: str
    name: str
    time_zone: str
    learnt_from: str


def _evolve(state: Site, event: DomainEvent) -> Site:
    if isinstance(event, SiteLearnt):
        return Site(event.name, event.time_zone, state.learnt | {event.learnt_from})
    return state


def _decide(state: Site, c: LearnSite) -> Sequence[DomainEvent]:
    if c.learnt_from in state.learnt or (c.name, c.time_zone) == (state.name, state.time_zone):
        return []
    return [
        SiteLearnt(site_id=c.site_id, name=c.name, time_zone=c.time_zone, learnt_from=c.learnt_from)
    ]


site = Decider[Site, LearnSite](Site(), _evolve, _decide)
