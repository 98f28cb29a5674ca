"""A provider's templates at two sites never overlap, also when the sites keep different time.

Each site's day is its own stream, so what keeps a provider who works at two sites from being
booked at both at once is that their availability there never overlaps: compared as instants,
not as local times (New York's noon is Los Angeles' nine o'clock).
"""

from __future__ import annotations

from datetime import date, time
from zoneinfo import ZoneInfo

import pytest

from services.scheduling.domain import providers
from services.scheduling.domain.events import Hours, ProviderRegistered, Window
from shared.domain import Rejected
from shared.events import DomainEvent

ZONES = {
    "east": ZoneInfo("America/New_York"),
    "west": ZoneInfo("America/Los_Angeles"),
    "desert": ZoneInfo("America/Phoenix"),  # no daylight saving time
    "east-2": ZoneInfo("America/New_York"),
}
MONDAY = 0
# Sites open round the clock, so any window is within opening hours.
ALWAYS_OPEN = tuple(Hours(weekday=d, opens=time(0), closes=time(23, 59)) for d in range(7))


def window(start: str, end: str, weekday: int = MONDAY) -> Window:
    return Window(weekday=weekday, start=time.fromisoformat(start), end=time.fromisoformat(end))


def set_availability(
    site_id: str,
    *windows: Window,
    effective_from: date = date(2027, 1, 1),
    effective_until: date | None = None,
) -> providers.SetAvailability:
    return providers.SetAvailability(
        provider_id="dr-a",
        site_id=site_id,
        template_id=f"t-{site_id}",
        windows=windows,
        effective_from=effective_from,
        effective_until=effective_until,
        opening_hours=ALWAYS_OPEN,
        time_zones=tuple(ZONES.items()),
    )


def given(*commands: providers.ProviderCommand) -> providers.Provider:
    hired = ProviderRegistered(
        provider_id="dr-a", name="Dr A", site_ids=tuple(ZONES), learnt_from="staffing-1"
    )
    events: list[DomainEvent] = []
    for command in (providers.Learn(provider_id="dr-a", fact=hired), *commands):
        state = providers.provider.fold(events)
        events += providers.provider.decide(state, command)
    return providers.provider.fold(events)


def test_windows_at_sites_in_one_zone_are_compared_by_local_time() -> None:
    state = given(set_availability("east", window("08:00", "12:00")))
    with pytest.raises(Rejected, match="at site east on weekday 0 08:00-12:00"):
        providers.provider.decide(state, set_availability("east-2", window("11:00", "13:00")))
    assert providers.provider.decide(state, set_availability("east-2", window("12:00", "16:00")))


def test_windows_that_meet_at_the_same_instant_in_other_zones_are_refused() -> None:
    # New York 12:00-16:00 is 17:00-21:00 UTC in winter; Los Angeles 10:00-12:00 is 18:00-20:00.
    state = given(set_availability("east", window("12:00", "16:00")))
    with pytest.raises(Rejected, match="at site east on weekday 0 12:00-16:00"):
        providers.provider.decide(state, set_availability("west", window("10:00", "12:00")))


def test_windows_at_different_instants_in_other_zones_are_accepted() -> None:
    # Los Angeles 08:00-09:00 is 11:00-12:00 in New York: before the window there.
    state = given(set_availability("east", window("12:00", "16:00")))
    assert providers.provider.decide(state, set_availability("west", window("08:00", "09:00")))


def test_a_window_that_overlaps_only_while_daylight_saving_time_is_in_force() -> None:
    # New York 12:00-13:00 is 17:00-18:00 UTC in winter and 16:00-17:00 in summer; Phoenix
    # 09:00-10:00 is 16:00-17:00 UTC all year.
    state = given(set_availability("east", window("12:00", "13:00")))
    winter = {"effective_from": date(2027, 1, 4), "effective_until": date(2027, 2, 28)}
    assert providers.provider.decide(
        state, set_availability("desert", window("09:00", "10:00"), **winter)
    )
    with pytest.raises(Rejected, match="at site east"):
        providers.provider.decide(state, set_availability("desert", window("09:00", "10:00")))


def test_a_late_window_there_may_meet_an_early_one_here_on_the_next_local_day() -> None:
    # Los Angeles Monday 22:00-23:30 is Tuesday 01:00-02:30 in New York.
    state = given(set_availability("east", window("01:00", "02:00", weekday=1)))
    with pytest.raises(Rejected, match="at site east on weekday 1 01:00-02:00"):
        providers.provider.decide(state, set_availability("west", window("22:00", "23:30")))


def test_templates_in_force_at_different_times_never_clash() -> None:
    state = given(
        set_availability("east", window("12:00", "16:00"), effective_until=date(2027, 3, 31))
    )
    later = set_availability("west", window("10:00", "12:00"), effective_from=date(2027, 4, 1))
    assert providers.provider.decide(state, later)
