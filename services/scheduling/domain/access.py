"""A site's access measures of one local day: each provider's third next available
appointment (IHI), recorded once per provider and day on the site's access-day stream
(`streams.access_day`), however many processes or rounds of the timer measure it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from pydantic import AwareDatetime

from services.scheduling.domain.events import ThirdNextAvailableMeasured
from shared.domain import Command, Decider
from shared.events import DomainEvent

Measured = frozenset[str]  # the providers measured that day


class RecordThirdNextAvailable(Command):
    site_id: str
    provider_id: str
    visit_type_id: str
    measured_on: date
    days: int | None
    horizon_days: int
    measured_at: AwareDatetime


def third_next_available(slot_starts: Sequence[date], measured_on: date) -> int | None:
    """Days from `measured_on` to the third open slot on or after it (several on a day count
    each); None with fewer than three."""
    ahead = sorted(day for day in slot_starts if day >= measured_on)
    return (ahead[2] - measured_on).days if len(ahead) >= 3 else None


def horizon(measured_on: date, days: int) -> date:
    """The last day searched: `days` days counted from the day measured."""
    return measured_on + timedelta(days=days - 1)


def _evolve(state: Measured, event: DomainEvent) -> Measured:
    if isinstance(event, ThirdNextAvailableMeasured):
        return state | {event.provider_id}
    return state


def _decide(state: Measured, c: RecordThirdNextAvailable) -> Sequence[DomainEvent]:
    if c.provider_id in state:
        return []
    return [
        ThirdNextAvailableMeasured(
            site_id=c.site_id,
            provider_id=c.provider_id,
            visit_type_id=c.visit_type_id,
            measured_on=c.measured_on,
            days=c.days,
            horizon_days=c.horizon_days,
            measured_at=c.measured_at,
        )
    ]


access_day: Decider[Measured, RecordThirdNextAvailable] = Decider(frozenset(), _evolve, _decide)
