"""The deciders refuse dates outside the clinic's calendar (Invalid, naming the field) before
they compute with them: at the edges of Python's calendar a day added overflows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.scheduling.domain.calendar import (
    FIRST_DAY,
    LAST_DAY,
    check_calendar,
    in_calendar,
)
from services.scheduling.domain.patients import RegisterPatient, patient
from services.scheduling.domain.providers import BlockTime, provider
from services.scheduling.domain.series import series
from services.scheduling.domain.site_day import site_day
from services.scheduling.domain.waitlist import waitlist
from shared.domain import Decider, Invalid
from tests.unit import test_providers, test_series, test_site_day, test_waitlist

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LATE = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)


def test_the_calendar_holds_its_first_and_last_day_and_nothing_beyond() -> None:
    assert in_calendar(FIRST_DAY)
    assert in_calendar(LAST_DAY)
    assert not in_calendar(FIRST_DAY - timedelta(days=1))
    assert not in_calendar(LAST_DAY + timedelta(days=1))
    assert not in_calendar(datetime(1, 1, 1, tzinfo=UTC))
    assert in_calendar(datetime(2199, 12, 31, 23, 59, tzinfo=UTC))


@pytest.mark.parametrize(
    ("decider", "given", "command", "field"),
    [
        (
            provider,
            test_providers.BOOKABLE[:2],
            test_providers.template(effective_until=date.max),
            "effective_until",
        ),
        (
            provider,
            test_providers.BOOKABLE,
            BlockTime(
                provider_id="dr-a",
                block_id="b-9",
                start=datetime(2026, 12, 1, 9, tzinfo=UTC),
                end=datetime.max.replace(tzinfo=UTC),
                reason="forever",
            ),
            "end",
        ),
        (
            site_day,
            [],
            test_site_day.book(start=LATE, end=LATE + timedelta(minutes=30)),
            "start",
        ),
        (
            series,
            [],
            test_series.request(starts=(LATE - timedelta(weeks=1), LATE)),
            "starts",
        ),
        (
            waitlist,
            [],
            test_waitlist.add("e1", latest=date.max),
            "latest",
        ),
        (
            patient,
            [],
            RegisterPatient(
                patient_id="p1",
                name="P",
                birth_date=date.min,
                phone="",
                registered_at=NOW,
            ),
            "birth_date",
        ),
    ],
)
def test_a_decider_refuses_a_date_outside_the_calendar_naming_it(
    decider: Decider[Any, Any], given: list[Any], command: Any, field: str
) -> None:
    with pytest.raises(Invalid, match=f"^{field} must lie between 1800-01-01 and 2199-12-31$"):
        decider.decide(decider.fold(given), command)


def test_dates_inside_tuples_and_nested_commands_are_checked() -> None:
    offer = test_waitlist.offer_slot("o1", day=date.max)

    with pytest.raises(Invalid, match="^day must lie"):
        check_calendar(offer)
