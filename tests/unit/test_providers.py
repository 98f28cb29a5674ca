"""Given these events, when this command, then these events: a provider's licences, time off,
templates and blocks, and the availability they leave."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.scheduling.domain.events import (
    WEEKDAYS_8_TO_6,
    AvailabilitySet,
    Hours,
    ProviderDeactivated,
    ProviderLicenceRecorded,
    ProviderRegistered,
    ProviderTimeOffApproved,
    TimeBlocked,
    Window,
)
from services.scheduling.domain.providers import (
    BlockTime,
    ProviderCommand,
    SetAvailability,
    availability,
    provider,
    why_unavailable,
)
from shared.domain import Invalid, NotFound, Rejected
from shared.events import DomainEvent

NEW_YORK = ZoneInfo("America/New_York")
TUESDAY = date(2026, 12, 1)  # weekday 1
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def at(hour: int, minute: int = 0, day: int = 1) -> datetime:
    """A New York wall-clock time in December 2026 (EST), in UTC."""
    return datetime(2026, 12, day, hour + 5, minute, tzinfo=UTC)


def window(weekday: int, start: str, end: str) -> Window:
    return Window(weekday=weekday, start=time.fromisoformat(start), end=time.fromisoformat(end))


WEEKDAYS_9_TO_5 = tuple(window(d, "09:00", "17:00") for d in range(5))

REGISTERED = ProviderRegistered(
    provider_id="dr-a", name="Dr. A", site_ids=("north", "south"), role="physician"
)
LICENSED = ProviderLicenceRecorded(
    provider_id="dr-a",
    licence_id="lic-1",
    kind="state medical licence",
    valid_from=date(2026, 1, 1),
    valid_until=date(2026, 12, 31),
)


def template(site_id: str = "north", **change: Any) -> SetAvailability:
    fields: dict[str, Any] = {
        "provider_id": "dr-a",
        "site_id": site_id,
        "template_id": f"t-{site_id}",
        "windows": WEEKDAYS_9_TO_5,
        "effective_from": date(2026, 1, 1),
        "effective_until": None,
        "opening_hours": WEEKDAYS_8_TO_6,
        "time_zones": (("north", NEW_YORK), ("south", NEW_YORK)),
        **change,
    }
    return SetAvailability(**fields)


def template_set(site_id: str = "north", **change: Any) -> AvailabilitySet:
    command = template(site_id, **change)
    return AvailabilitySet(**command.model_dump(exclude={"opening_hours", "time_zones"}))


BOOKABLE: list[DomainEvent] = [REGISTERED, LICENSED, template_set()]


def when(given: Sequence[DomainEvent], command: ProviderCommand) -> list[DomainEvent]:
    return list(provider.decide(provider.fold(given), command))


def free(given: Sequence[DomainEvent], day: date = TUESDAY, site_id: str = "north") -> list[Any]:
    return availability(provider.fold(given), site_id, day, NEW_YORK, WEEKDAYS_8_TO_6)


def why(
    given: Sequence[DomainEvent], start: datetime, end: datetime, site_id: str = "north"
) -> str:
    return why_unavailable(provider.fold(given), site_id, TUESDAY, start, end)


# -------------------------------------------------------------------------- registration
# Who a provider is, their licences and time off: learnt from staffing (test_provider_staffing).


@pytest.mark.parametrize(
    "command",
    [template(), BlockTime(provider_id="dr-a", block_id="b", start=at(9), end=at(10), reason="r")],
)
def test_an_unregistered_provider_is_not_found(command: ProviderCommand) -> None:
    with pytest.raises(NotFound, match="provider dr-a not found"):
        when([], command)


# ------------------------------------------------------------------------------ licences


def test_a_provider_is_bookable_only_on_days_a_licence_covers() -> None:
    assert free(BOOKABLE) == [(at(9), at(17))]
    assert free(BOOKABLE, day=date(2027, 1, 5)) == []  # the licence ended 2026-12-31
    assert free([REGISTERED, template_set()]) == []
    assert why([REGISTERED, template_set()], at(9), at(10)) == (
        "provider dr-a has no licence valid on 2026-12-01"
    )


def test_a_renewed_licence_makes_the_provider_bookable_again() -> None:
    renewed = LICENSED.model_copy(
        update={
            "licence_id": "lic-2",
            "valid_from": date(2027, 1, 1),
            "valid_until": date(2027, 12, 31),
        }
    )
    tuesday = date(2027, 1, 5)
    assert free([*BOOKABLE, renewed], day=tuesday) == [
        (datetime(2027, 1, 5, 14, tzinfo=UTC), datetime(2027, 1, 5, 22, tzinfo=UTC))
    ]


# ------------------------------------------------------------------------ time off, blocks


def time_off(start: datetime, end: datetime, time_off_id: str = "off-1") -> ProviderTimeOffApproved:
    return ProviderTimeOffApproved(
        provider_id="dr-a", time_off_id=time_off_id, start=start, end=end
    )


def block(start: datetime, end: datetime, reason: str = "training") -> BlockTime:
    return BlockTime(provider_id="dr-a", block_id="b-1", start=start, end=end, reason=reason)


def test_approved_time_off_cuts_availability() -> None:
    approved = time_off(at(12), at(14))
    assert free([*BOOKABLE, approved]) == [(at(9), at(12)), (at(14), at(17))]
    assert why([*BOOKABLE, approved], at(13), at(13, 30)) == (
        "provider dr-a is on approved time off then"
    )


def test_a_whole_day_off_leaves_nothing() -> None:
    day_off = time_off(at(0), at(0, day=2))
    assert free([*BOOKABLE, day_off]) == []
    assert free([*BOOKABLE, day_off], day=date(2026, 12, 2)) == [(at(9, day=2), at(17, day=2))]


def test_blocked_time_is_recorded_once_and_cuts_availability() -> None:
    command = block(at(9), at(10, 30), reason="team meeting")
    [blocked] = when(BOOKABLE, command)
    assert blocked == TimeBlocked(**command.model_dump())
    assert when([*BOOKABLE, blocked], command) == []
    assert free([*BOOKABLE, blocked]) == [(at(10, 30), at(17))]
    assert why([*BOOKABLE, blocked], at(10), at(11)) == (
        "provider dr-a has that time blocked (team meeting)"
    )


@pytest.mark.parametrize(
    "command",
    [block(at(10), at(10)), block(at(10), at(9))],
    ids=["block of no length", "block backwards"],
)
def test_blocks_end_after_they_start(command: ProviderCommand) -> None:
    with pytest.raises(Invalid, match="must end after it starts"):
        when(BOOKABLE, command)


# ----------------------------------------------------------------------------- templates


def test_a_template_inside_opening_hours_is_set_once() -> None:
    command = template()
    assert when([REGISTERED], command) == [template_set()]
    assert when([REGISTERED, template_set()], command) == []


@pytest.mark.parametrize(
    ("windows", "message"),
    [
        ((window(1, "07:30", "12:00"),), "07:30-12:00 on weekday 1 is outside the opening hours"),
        ((window(1, "15:00", "18:30"),), "15:00-18:30 on weekday 1 is outside the opening hours"),
        ((window(5, "09:00", "12:00"),), "09:00-12:00 on weekday 5 is outside the opening hours"),
        ((window(1, "12:00", "09:00"),), "each window is on a weekday 0-6"),
        ((window(7, "09:00", "12:00"),), "each window is on a weekday 0-6"),
        ((window(1, "09:00", "12:00"), window(1, "11:00", "13:00")), "windows on weekday 1"),
    ],
)
def test_a_template_lies_within_the_site_opening_hours(
    windows: tuple[Window, ...], message: str
) -> None:
    with pytest.raises(Invalid, match=message):
        when([REGISTERED], template(windows=windows))


def test_a_window_across_two_opening_spans_of_a_day_is_outside_them() -> None:
    split = (
        Hours(weekday=1, opens=time(8), closes=time(12)),
        Hours(weekday=1, opens=time(13), closes=time(18)),
    )
    with pytest.raises(Invalid, match="outside the opening hours"):
        when([REGISTERED], template(windows=(window(1, "11:00", "14:00"),), opening_hours=split))


def test_back_to_back_windows_are_one_stretch_of_availability() -> None:
    windows = (window(1, "09:00", "12:00"), window(1, "12:00", "15:00"))
    given = [REGISTERED, LICENSED, template_set(windows=windows)]
    assert when([REGISTERED, LICENSED], template(windows=windows)) == [
        template_set(windows=windows)
    ]
    assert free(given) == [(at(9), at(15))]


def test_a_template_is_for_a_site_the_provider_works_at() -> None:
    with pytest.raises(Invalid, match="provider dr-a does not work at site east"):
        when([REGISTERED], template("east"))
    assert free(BOOKABLE, site_id="east") == []
    assert why(BOOKABLE, at(9), at(10), site_id="east") == (
        "provider dr-a does not work at site east"
    )


def test_a_template_ends_after_it_starts() -> None:
    command = template(effective_from=date(2026, 6, 1), effective_until=date(2026, 5, 31))
    with pytest.raises(Invalid, match="a template must end after it starts"):
        when([REGISTERED], command)


def test_the_latest_template_covering_a_day_is_in_force() -> None:
    december = template_set(
        template_id="t-dec",
        windows=(window(1, "13:00", "15:00"),),
        effective_from=date(2026, 12, 1),
        effective_until=date(2026, 12, 15),
    )
    given = [*BOOKABLE, december]
    assert free(given) == [(at(13), at(15))]
    assert free(given, day=date(2026, 11, 24)) == [
        (datetime(2026, 11, 24, 14, tzinfo=UTC), datetime(2026, 11, 24, 22, tzinfo=UTC))
    ]
    assert free(given, day=date(2026, 12, 22)) == [(at(9, day=22), at(17, day=22))]


def test_no_template_no_availability() -> None:
    given = [REGISTERED, LICENSED]
    assert free(given) == []
    assert (
        why(given, at(9), at(10)) == "provider dr-a has no availability at site north on 2026-12-01"
    )


def test_outside_the_windows_the_reason_is_plain() -> None:
    assert why(BOOKABLE, at(17), at(17, 30)) == "provider dr-a is not available at that time"
    assert free(BOOKABLE, day=date(2026, 12, 5)) == []  # a Saturday


def test_templates_at_two_sites_may_not_overlap_in_overlapping_periods() -> None:
    with pytest.raises(
        Rejected,
        match=re.escape(
            "provider dr-a is available at site north on weekday 0 09:00-17:00 "
            "(America/New_York) in that period"
        ),
    ):
        when(BOOKABLE, template("south", windows=(window(0, "16:00", "18:00"),)))


def test_templates_at_two_sites_may_share_a_weekday_at_other_hours() -> None:
    north = template_set(windows=(window(0, "08:00", "12:00"),))
    south = template("south", windows=(window(0, "12:00", "18:00"),))
    assert when([REGISTERED, north], south) == [template_set("south", **_fields(south))]


def test_templates_at_two_sites_may_overlap_in_hours_when_their_periods_do_not() -> None:
    north = template_set(effective_until=date(2026, 6, 30))
    south = template("south", effective_from=date(2026, 7, 1))
    assert when([REGISTERED, north], south) == [template_set("south", **_fields(south))]


def test_a_template_replaced_at_its_site_no_longer_keeps_the_provider_from_another() -> None:
    # North from January, every weekday 9-5; from July north only has Monday mornings.
    mornings = template_set(
        template_id="t-north-2",
        windows=(window(0, "08:00", "12:00"),),
        effective_from=date(2026, 7, 1),
    )
    given = [REGISTERED, LICENSED, template_set(), mornings]
    south = template(
        "south", windows=(window(1, "09:00", "17:00"),), effective_from=date(2026, 7, 1)
    )
    assert when(given, south) == [template_set("south", **_fields(south))]
    # Before July the old north template is still in force, and a south one would clash.
    earlier = template(
        "south", windows=(window(1, "09:00", "17:00"),), effective_from=date(2026, 6, 1)
    )
    with pytest.raises(Rejected, match="available at site north on weekday 1"):
        when(given, earlier)


def test_a_replaced_template_comes_back_in_force_when_its_replacement_ends() -> None:
    summer = template_set(
        template_id="t-north-summer",
        windows=(),
        effective_from=date(2026, 7, 1),
        effective_until=date(2026, 8, 31),
    )
    given = [REGISTERED, LICENSED, template_set(), summer]
    july = template("south", effective_from=date(2026, 7, 1), effective_until=date(2026, 8, 31))
    assert when(given, july) == [template_set("south", **_fields(july))]
    with pytest.raises(Rejected, match="available at site north"):
        when(given, template("south", effective_from=date(2026, 7, 1)))


def _fields(command: SetAvailability) -> dict[str, Any]:
    return command.model_dump(exclude={"opening_hours", "provider_id", "site_id"})


# -------------------------------------------------------------------------- deactivation


def test_a_deactivation_on_record_empties_availability() -> None:
    """Recorded by scheduling's admin command before staffing existed: it still counts."""
    deactivated = ProviderDeactivated(provider_id="dr-a", deactivated_at=NOW)
    given = [*BOOKABLE, deactivated]
    assert free(given) == []
    assert why(given, at(9), at(10)) == "provider dr-a is not active"


def test_an_inactive_provider_gets_no_template() -> None:
    deactivated = ProviderDeactivated(provider_id="dr-a", deactivated_at=NOW)
    with pytest.raises(Rejected, match="provider dr-a is not active"):
        when([REGISTERED, deactivated], template())


def test_an_unknown_provider_has_no_availability() -> None:
    assert free([]) == []
    assert why([], at(9), at(10)).endswith("not found")
