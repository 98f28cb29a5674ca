"""A site's quiet hours: local times in which no message goes to a patient. Pure: the site's
zone comes in as a `tzinfo`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo


@dataclass(frozen=True)
class QuietHours:
    """Local times between which no message goes (`start` to `end`, across midnight when
    `start` is later than `end`: the default is 21:00 to 08:00)."""

    start: time = time.fromisoformat("21:00")
    end: time = time.fromisoformat("08:00")

    def contains(self, local: time) -> bool:
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


def out_of_quiet_hours(moment: datetime, zone: tzinfo, quiet: QuietHours) -> datetime:
    """`moment`, or, if it falls in the quiet hours of the site's zone, the end of those quiet
    hours on the site's wall clock (so the end is 08:00 local whether or not the clocks changed
    overnight). UTC either way."""
    local = moment.astimezone(zone)
    wall = local.timetz().replace(tzinfo=None)  # the wall clock's
    if not quiet.contains(wall):
        return moment.astimezone(UTC)
    day = local.date()
    if quiet.start > quiet.end and wall >= quiet.start:
        day += timedelta(days=1)
    return datetime.combine(day, quiet.end, tzinfo=zone).astimezone(UTC)
