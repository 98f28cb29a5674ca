"""A provider's time off the template, in a site's local wall-clock time: time blocked
(`TimeBlocked`), approved time off not cancelled and leave, as the KPI projection keeps them
(`projections/kpis.py`, one document per tenant and provider), and the minutes of a day's
template windows they cover. Pure: the caller passes the site's zone.

Templates count wall-clock minutes (09:00-12:00 is 180 whatever the day), so the time off is
turned into wall-clock intervals too: across a fall-back change the repeated hour is covered
once, across a spring-forward change the hour that does not exist is covered when both sides
are; a window fully covered is then fully subtracted, never more.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

Wall = tuple[datetime, datetime]  # naive local start and end
MINUTE = timedelta(minutes=1)
INSTANT = timedelta(microseconds=1)


def wall(start: datetime, end: datetime, zone: tzinfo) -> list[Wall]:
    """The wall-clock times of `zone` an aware interval covers, as one interval (the wall
    clock of a stretch of time is one stretch: the repeated hour once, the skipped one in).
    Where the offset changes inside, the interval is halved (on whole minutes) until each
    piece keeps one offset, and the pieces' ends taken."""
    if end <= start:
        return []
    first = start.astimezone(zone)
    # The offset of the interval's last instant (its end is not in it).
    last = (end - INSTANT).astimezone(zone)
    if first.utcoffset() == last.utcoffset():
        local = first.replace(tzinfo=None)
        return [(local, local + (end - start))]
    if end - start <= MINUTE:
        return []  # a minute with a change of clock inside, to the second: left out
    middle = start + (end - start) // 2 // MINUTE * MINUTE
    pieces = [*wall(start, middle, zone), *wall(middle, end, zone)]
    return [(min(s for s, _ in pieces), max(e for _, e in pieces))] if pieces else []


def merged(intervals: Iterable[Wall]) -> list[Wall]:
    """Sorted, overlapping or touching intervals joined, empty ones left out."""
    found: list[Wall] = []
    for start, end in sorted(i for i in intervals if i[0] < i[1]):
        if found and start <= found[-1][1]:
            found[-1] = (found[-1][0], max(end, found[-1][1]))
        else:
            found.append((start, end))
    return found


def off_walls(doc: Mapping[str, Any], zone: tzinfo) -> list[Wall]:
    """A provider's off document as wall-clock intervals at a site in `zone`: blocks, time
    off approved and not cancelled, and leave (whole local days from its first day to the
    first day back; open while not ended)."""
    found: list[Wall] = []
    spans = [*dict(doc.get("blocks", {})).values(), *dict(doc.get("time_off", {})).values()]
    for span in spans:
        if "start" in span and not span.get("cancelled"):
            start = datetime.fromisoformat(str(span["start"]))
            found += wall(start, datetime.fromisoformat(str(span["end"])), zone)
    for leave in dict(doc.get("leaves", {})).values():
        if "from" not in leave:
            continue
        back = date.fromisoformat(str(leave["back"])) if leave.get("back") else date.max
        first = date.fromisoformat(str(leave["from"]))
        if first < back:
            found.append((datetime.combine(first, time.min), datetime.combine(back, time.min)))
    return merged(found)


def covered(day: date, windows: Iterable[tuple[int, int]], off: Sequence[Wall]) -> int:
    """Minutes of the day's windows (local minutes from midnight) the off intervals cover."""
    midnight = datetime.combine(day, time.min)
    minutes = 0
    for start, end in windows:
        w_start, w_end = midnight + start * MINUTE, midnight + end * MINUTE
        for o_start, o_end in off:
            overlap = min(w_end, o_end) - max(w_start, o_start)
            if overlap > timedelta(0):
                minutes += overlap // MINUTE
    return minutes
