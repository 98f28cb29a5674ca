"""The to-reschedule read model: a booked visit whose provider's licence ended (or who was
terminated, or went on leave) is listed, whichever of the booking and the change the
projection sees first, in one batch or several, and again after a rebuild; a visit cancelled,
completed or moved is not."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.scheduling.domain.events import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentRescheduled,
    ProviderLicenceRecorded,
    ProviderLicenceRevoked,
    ProviderRegistered,
    ProviderTerminated,
)
from services.scheduling.projections.availability import (
    BOOKABLE,
    AvailabilityProjection,
    provider_at_site_id,
    state_from,
)
from services.scheduling.projections.to_reschedule import VISITS, ToRescheduleProjection
from shared.documents.sqlite import SqliteDocumentStore
from shared.events import DomainEvent, Envelope, Metadata, seal
from shared.projections import View
from shared.readmodels import physical
from shared.sqlite import SqliteDatabase

T0 = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
PROVIDER, DAY_10, DAY_14 = (
    "acme:provider:dr-s",
    "acme:site-day:north:2026-12-10",
    ("acme:site-day:north:2026-12-14"),
)

Sealed = tuple[DomainEvent, Envelope]


def sealed(stream: str, events: Sequence[DomainEvent], first: int = 1) -> list[Sealed]:
    return [
        (
            e,
            seal(
                e,
                stream=stream,
                stream_version=n,
                meta=Metadata(tenant="acme", correlation_id="c"),
                event_id=f"{stream}-{n}",
                time=T0,
            ),
        )
        for n, e in enumerate(events, start=first)
    ]


def booked(appointment_id: str, day: int, provider_id: str = "dr-s") -> AppointmentBooked:
    start = datetime(2026, 12, day, 15, 0, tzinfo=UTC)
    return AppointmentBooked(
        appointment_id=appointment_id,
        patient_id=f"pat-{appointment_id}",
        provider_id=provider_id,
        site_id="north",
        room_id="r1",
        visit_type_id="checkup",
        start=start,
        end=start.replace(hour=15, minute=30),
        booked_at=T0,
    )


HIRED = ProviderRegistered(
    provider_id="dr-s", name="Dr S", site_ids=("north",), hired_on=date(2020, 1, 1), learnt_from="h"
)
LICENCE = ProviderLicenceRecorded(
    provider_id="dr-s",
    licence_id="lic",
    kind="state_licence",
    valid_from=date(2026, 1, 1),
    valid_until=date(2027, 12, 31),
    learnt_from="l",
)
REVOKED = ProviderLicenceRevoked(
    provider_id="dr-s", licence_id="lic", effective_on=date(2026, 12, 12), learnt_from="r"
)
PROVIDER_EVENTS = sealed(PROVIDER, [HIRED, LICENCE, REVOKED])
DAY_10_EVENTS = sealed(DAY_10, [booked("a10", 10)])
DAY_14_EVENTS = sealed(DAY_14, [booked("a14", 14), booked("b14", 14)])


async def project(batches: Sequence[Sequence[Sealed]]) -> list[dict[str, Any]]:
    """The listed visits after the projection applied these batches, in a fresh store."""
    store = SqliteDocumentStore(SqliteDatabase(":memory:"))
    try:
        for batch in batches:
            view = View(store, 1)
            projection = ToRescheduleProjection()
            for event, envelope in batch:
                await projection.apply(event, envelope, view)
            await view.flush()
        docs = await store.find(physical(VISITS, 1), {"listed": True})
        return sorted(
            ({"id": d["appointment_id"], "reason": d["reason"]} for d in docs),
            key=lambda d: str(d["id"]),
        )
    finally:
        await store.close()


EXPECTED = [
    {"id": "a14", "reason": "provider dr-s has no licence valid on 2026-12-14"},
    {"id": "b14", "reason": "provider dr-s has no licence valid on 2026-12-14"},
]


@pytest.mark.parametrize(
    "order", list(itertools.permutations(range(3))), ids=lambda o: "-".join(map(str, o))
)
async def test_the_list_is_the_same_whichever_stream_comes_first(order: tuple[int, ...]) -> None:
    streams = [PROVIDER_EVENTS, DAY_10_EVENTS, DAY_14_EVENTS]
    in_order = [streams[i] for i in order]
    assert await project(in_order) == EXPECTED  # one batch per stream
    assert await project([[e for s in in_order for e in s]]) == EXPECTED  # all in one batch


async def test_the_revocation_between_two_bookings_lists_both_and_redelivery_changes_nothing() -> (
    None
):
    batches = [PROVIDER_EVENTS[:2], DAY_14_EVENTS[:1], PROVIDER_EVENTS[2:], DAY_14_EVENTS[1:]]
    assert await project(batches) == EXPECTED
    assert await project([*batches, *batches]) == EXPECTED


async def test_a_cancelled_visit_leaves_the_list_and_a_visit_moved_to_another_provider_is_judged_anew() -> (  # noqa: E501
    None
):
    cancelled = AppointmentCancelled(
        appointment_id="a14",
        reason="moved away",
        cancelled_at=T0,
        patient_id="pat-a14",
    )
    other = sealed(
        "acme:provider:dr-t",
        [
            HIRED.model_copy(update={"provider_id": "dr-t", "learnt_from": "h2"}),
            LICENCE.model_copy(update={"provider_id": "dr-t", "learnt_from": "l2"}),
        ],
    )
    moved = AppointmentRescheduled(
        appointment_id="b14",
        provider_id="dr-t",
        previous_provider_id="dr-s",
        room_id="r1",
        start=datetime(2026, 12, 14, 16, 0, tzinfo=UTC),
        end=datetime(2026, 12, 14, 16, 30, tzinfo=UTC),
        rescheduled_at=T0,
    )
    later = sealed(DAY_14, [cancelled, moved], first=3)
    assert await project([PROVIDER_EVENTS, other, DAY_14_EVENTS, later]) == []


async def test_a_terminated_providers_visits_after_the_last_day_are_listed() -> None:
    gone = sealed(
        PROVIDER,
        [
            HIRED,
            LICENCE,
            ProviderTerminated(provider_id="dr-s", last_day=date(2026, 12, 10), learnt_from="t"),
        ],
    )
    assert await project([DAY_10_EVENTS, DAY_14_EVENTS, gone]) == [
        {"id": "a14", "reason": "provider dr-s is not employed on 2026-12-14"},
        {"id": "b14", "reason": "provider dr-s is not employed on 2026-12-14"},
    ]


async def test_availability_counts_a_licence_recorded_before_the_hire() -> None:
    store = SqliteDocumentStore(SqliteDatabase(":memory:"))
    try:
        view = View(store, 1)
        projection = AvailabilityProjection()
        for event, envelope in sealed(PROVIDER, [LICENCE, HIRED]):
            await projection.apply(event, envelope, view)
        await view.flush()
        doc = await store.get(physical(BOOKABLE, 1), provider_at_site_id("acme", "north", "dr-s"))
        assert doc is not None
        assert state_from(doc).licensed_on(date(2026, 12, 14))
    finally:
        await store.close()
