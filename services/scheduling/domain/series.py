"""A recurring series (say weekly for 8 weeks): booked whole, or not at all.

Its occurrences fall on different days, hence in different site-day streams, which no single
append covers. The series stream records the request first; the application then books each
occurrence and records the outcome here, withdrawing what it booked when one occurrence fails.
Whoever records the outcome first decides it: a second attempt (a retry, or the recovery of a
series left pending by a crash) reads that outcome and brings the bookings in line with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from services.scheduling.domain.calendar import check_calendar
from services.scheduling.domain.events import SeriesBooked, SeriesRefused, SeriesRequested
from shared.domain import Decider, Invalid, NotFound, Rejected
from shared.events import DomainEvent

MAX_OCCURRENCES = 52


class RequestSeries(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    series_id: str
    patient_id: str
    provider_id: str
    site_id: str
    room_id: str | None
    visit_type_id: str
    starts: tuple[AwareDatetime, ...]
    appointment_ids: tuple[str, ...]
    requested_at: AwareDatetime


class ConcludeSeries(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    series_id: str
    booked: bool
    reason: str
    at: AwareDatetime


Outcome = Literal["pending", "booked", "refused"]


@dataclass(frozen=True)
class Series:
    requested: SeriesRequested | None = None
    outcome: Outcome = "pending"
    reason: str = ""


def evolve(state: Series, event: DomainEvent) -> Series:
    match event:
        case SeriesRequested():
            return Series(event)
        case SeriesBooked():
            return Series(state.requested, "booked")
        case SeriesRefused():
            return Series(state.requested, "refused", event.reason)
    return state


def decide(state: Series, command: RequestSeries | ConcludeSeries) -> Sequence[DomainEvent]:
    check_calendar(command)
    if isinstance(command, RequestSeries):
        if not 2 <= len(command.starts) <= MAX_OCCURRENCES:
            raise Invalid(f"a series has 2 to {MAX_OCCURRENCES} occurrences")
        if len(set(command.starts)) != len(command.starts):
            raise Invalid("a series books each start once")
        # Booking pairs ids and starts one to one: a request that cannot be paired is refused.
        ids = command.appointment_ids
        if len(ids) != len(command.starts) or len(set(ids)) != len(ids):
            raise Invalid("each occurrence has an appointment id of its own")
        requested = SeriesRequested(**command.model_dump())
        if state.requested is not None:
            # The same request again (a retry; its clock reading aside) changes nothing.
            if state.requested.model_copy(update={"requested_at": command.requested_at}) == (
                requested
            ):
                return []
            raise Rejected(f"series {command.series_id} already exists")
        return [requested]
    if state.requested is None:
        raise NotFound(f"series {command.series_id} not found")
    if state.outcome != "pending":
        return []  # decided already; the caller aligns with `state.outcome`
    if command.booked:
        return [SeriesBooked(series_id=command.series_id, booked_at=command.at)]
    return [
        SeriesRefused(series_id=command.series_id, reason=command.reason, refused_at=command.at)
    ]


series = Decider[Series, RequestSeries | ConcludeSeries](Series(), evolve, decide)
