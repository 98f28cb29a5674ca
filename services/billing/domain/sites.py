"""What billing knows of a site of scheduling's, on `streams.site`: its time zone, so that a
visit's date of service is its date at its site. Learnt from `SiteRegistered`, once per event
it came from (a redelivery, or the same zone again, records nothing)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.billing.domain.events import SiteZoneLearnt
from shared.domain import Command, Decider
from shared.events import DomainEvent


@dataclass(frozen=True)
class Site:
    time_zone: str | None = None  # None: not learnt yet
    learnt: frozenset[str] = frozenset()


class LearnSiteZone(Command):
    site_id: str
    time_zone: str
    learnt_from: str


def evolve(state: Site, event: DomainEvent) -> Site:
    if isinstance(event, SiteZoneLearnt):
        return Site(time_zone=event.time_zone, learnt=state.learnt | {event.learnt_from})
    return state


def decide(state: Site, c: LearnSiteZone) -> Sequence[DomainEvent]:
    if c.learnt_from in state.learnt or c.time_zone == state.time_zone:
        return []
    return [SiteZoneLearnt(site_id=c.site_id, time_zone=c.time_zone, learnt_from=c.learnt_from)]


site = Decider[Site, LearnSiteZone](Site(), evolve, decide)
