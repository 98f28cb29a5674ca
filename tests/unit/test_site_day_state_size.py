"""A folded site-day keeps two tracked objects per appointment (the appointment and what its
booking said), never the booking event itself: a process keeps thousands of folded days, and
every full collection of the garbage collector walks what they hold."""

from __future__ import annotations

import gc

from services.scheduling.domain import site_day
from services.scheduling.domain.events import AppointmentBooked
from tests.unit.test_site_day import booked


def tracked_reachable(root: object) -> list[object]:
    """The objects the collector tracks among those reachable from `root`."""
    found, seen, stack = [], set(), [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type):
            continue
        seen.add(id(obj))
        if gc.is_tracked(obj):
            found.append(obj)
        stack.extend(gc.get_referents(obj))
    return found


def test_a_folded_day_holds_two_tracked_objects_per_appointment() -> None:
    appointments = 40
    events = [booked(f"a{n}", 9 + n // 6, 10 * (n % 6)) for n in range(appointments)]
    state = site_day.site_day.fold(events)
    assert len(state.appointments) == appointments
    gc.collect()  # dicts and tuples of plain values are untracked on a collection
    held = tracked_reachable(state)
    assert not [o for o in held if isinstance(o, AppointmentBooked)]
    assert len(held) <= 2 * appointments + 2  # the state and its mapping
