"""Given these events, when this command, then these events: a recurring series, requested
once and concluded once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.scheduling.domain.events import SeriesBooked, SeriesRefused, SeriesRequested
from services.scheduling.domain.series import (
    MAX_OCCURRENCES,
    ConcludeSeries,
    RequestSeries,
    series,
)
from shared.domain import Invalid, NotFound, Rejected
from shared.events import DomainEvent

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
FIRST = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


def weekly(count: int) -> tuple[datetime, ...]:
    return tuple(FIRST + timedelta(weeks=n) for n in range(count))


def request(count: int = 4, **change: Any) -> RequestSeries:
    fields: dict[str, Any] = {
        "series_id": "s1",
        "patient_id": "pat-1",
        "provider_id": "dr-a",
        "site_id": "north",
        "room_id": None,
        "visit_type_id": "physio",
        "starts": weekly(count),
        "appointment_ids": tuple(f"s1-{n}" for n in range(1, count + 1)),
        "requested_at": NOW,
        **change,
    }
    return RequestSeries(**fields)


REQUESTED = SeriesRequested(**request().model_dump())
BOOKED = SeriesBooked(series_id="s1", booked_at=NOW)
REFUSED = SeriesRefused(series_id="s1", reason="occurrence 3 clashes", refused_at=NOW)


def conclude(booked: bool, reason: str = "") -> ConcludeSeries:
    return ConcludeSeries(series_id="s1", booked=booked, reason=reason, at=NOW)


def when(
    given: Sequence[DomainEvent], command: RequestSeries | ConcludeSeries
) -> list[DomainEvent]:
    return list(series.decide(series.fold(given), command))


# ---------------------------------------------------------------------------------- request


def test_a_series_is_requested_pending() -> None:
    assert when([], request()) == [REQUESTED]
    state = series.fold([REQUESTED])
    assert (state.requested, state.outcome) == (REQUESTED, "pending")


@pytest.mark.parametrize("count", [2, MAX_OCCURRENCES])
def test_a_series_has_two_to_the_most_occurrences(count: int) -> None:
    assert len(when([], request(count))) == 1


@pytest.mark.parametrize("count", [0, 1, MAX_OCCURRENCES + 1])
def test_fewer_or_more_occurrences_are_invalid(count: int) -> None:
    with pytest.raises(Invalid, match=f"a series has 2 to {MAX_OCCURRENCES} occurrences"):
        when([], request(count))


def test_a_series_books_each_start_once() -> None:
    with pytest.raises(Invalid, match="a series books each start once"):
        when(
            [],
            request(starts=(FIRST, FIRST + timedelta(weeks=1), FIRST, FIRST + timedelta(weeks=2))),
        )


@pytest.mark.parametrize(
    "appointment_ids",
    [
        ("s1-1", "s1-2", "s1-3"),
        ("s1-1", "s1-2", "s1-3", "s1-4", "s1-5"),
        ("s1-1", "s1-2", "s1-2", "s1-4"),
    ],
    ids=["too few", "too many", "repeated"],
)
def test_each_occurrence_has_its_own_appointment_id(appointment_ids: tuple[str, ...]) -> None:
    with pytest.raises(Invalid, match="each occurrence has an appointment id of its own"):
        when([], request(appointment_ids=appointment_ids))


def test_the_same_request_again_changes_nothing() -> None:
    assert when([REQUESTED], request()) == []
    assert when([REQUESTED, BOOKED], request()) == []


def test_the_same_request_retried_later_changes_nothing() -> None:
    later = request(requested_at=NOW + timedelta(minutes=1))
    assert when([REQUESTED], later) == []
    assert when([REQUESTED, BOOKED], later) == []


def test_another_request_under_the_same_id_is_refused() -> None:
    with pytest.raises(Rejected, match="series s1 already exists"):
        when([REQUESTED], request(patient_id="pat-2"))
    with pytest.raises(Rejected, match="series s1 already exists"):
        when([REQUESTED], request(count=3, appointment_ids=("s1-1", "s1-2", "s1-3")))


# --------------------------------------------------------------------------------- conclude


def test_a_pending_series_is_booked() -> None:
    assert when([REQUESTED], conclude(True)) == [BOOKED]
    assert series.fold([REQUESTED, BOOKED]).outcome == "booked"


def test_a_pending_series_is_refused_with_the_reason() -> None:
    assert when([REQUESTED], conclude(False, "occurrence 3 clashes")) == [REFUSED]
    state = series.fold([REQUESTED, REFUSED])
    assert (state.outcome, state.reason) == ("refused", "occurrence 3 clashes")
    assert state.requested == REQUESTED


@pytest.mark.parametrize(
    ("given", "outcome"),
    [([REQUESTED, BOOKED], "booked"), ([REQUESTED, REFUSED], "refused")],
)
@pytest.mark.parametrize("booked", [True, False])
def test_the_first_outcome_stands(given: list[DomainEvent], outcome: str, booked: bool) -> None:
    assert when(given, conclude(booked, "late")) == []
    assert series.fold(given).outcome == outcome


def test_an_unknown_series_cannot_be_concluded() -> None:
    with pytest.raises(NotFound, match="series s1 not found"):
        when([], conclude(True))
