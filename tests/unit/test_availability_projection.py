"""The availability read model: a provider's events fold into one document per site they work
at, holding what `providers.availability` needs, and a site's rooms; a search reads a site's
documents with one `_id` range query."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from services.scheduling.domain import providers
from services.scheduling.domain.events import (
    WEEKDAYS_8_TO_6,
    AvailabilitySet,
    ProviderDeactivated,
    ProviderLicenceRecorded,
    ProviderRegistered,
    ProviderTimeOffApproved,
    RoomAdded,
    SiteRegistered,
    TimeBlocked,
    Window,
)
from services.scheduling.projections.availability import (
    BOOKABLE,
    PROVIDERS,
    AvailabilityProjection,
    at_site,
    provider_at_site_id,
    site_prefix,
    state_from,
)
from shared.documents.sqlite import SqliteDocumentStore
from shared.events import DomainEvent, Envelope, Metadata, seal
from shared.projections import View
from shared.readmodels import physical, seen_key
from shared.sqlite import SqliteDatabase

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")
TUESDAY = date(2026, 12, 1)


def mornings(weekdays: range = range(5)) -> tuple[Window, ...]:
    return tuple(Window(weekday=d, start=time(8), end=time(12)) for d in weekdays)


def template(site_id: str, template_id: str = "t1", **change: object) -> AvailabilitySet:
    fields: dict[str, object] = {
        "provider_id": "dr-a",
        "site_id": site_id,
        "template_id": template_id,
        "windows": mornings(),
        "effective_from": date(2026, 1, 1),
        "effective_until": None,
        **change,
    }
    return AvailabilitySet.model_validate(fields)


DR_A: list[DomainEvent] = [
    ProviderRegistered(provider_id="dr-a", name="Dr A", site_ids=("north", "south")),
    ProviderLicenceRecorded(
        provider_id="dr-a",
        licence_id="l1",
        kind="state medical licence",
        valid_from=date(2026, 1, 1),
        valid_until=date(2030, 12, 31),
    ),
    template("north"),
    template(
        "south", windows=tuple(Window(weekday=d, start=time(13), end=time(17)) for d in range(5))
    ),
    ProviderTimeOffApproved(
        provider_id="dr-a",
        time_off_id="off-1",
        start=datetime(2026, 12, 1, 14, 0, tzinfo=UTC),
        end=datetime(2026, 12, 1, 15, 0, tzinfo=UTC),
    ),
    TimeBlocked(
        provider_id="dr-a",
        block_id="b1",
        start=datetime(2026, 12, 2, 13, 0, tzinfo=UTC),
        end=datetime(2026, 12, 2, 14, 0, tzinfo=UTC),
        reason="training",
    ),
]


Sealed = tuple[DomainEvent, Envelope]


def envelopes(stream: str, events: Sequence[DomainEvent], tenant: str = "acme") -> list[Sealed]:
    return [
        (
            event,
            seal(
                event,
                stream=stream,
                stream_version=n,
                meta=Metadata(tenant=tenant, correlation_id="c"),
                event_id=f"{stream}-{n}",
                time=T0,
            ),
        )
        for n, event in enumerate(events, start=1)
    ]


@pytest.fixture
async def store() -> AsyncIterator[SqliteDocumentStore]:
    store = SqliteDocumentStore(SqliteDatabase(":memory:"))
    yield store
    await store.close()


async def project(store: SqliteDocumentStore, batch: list[Sealed]) -> None:
    view = View(store, 1)
    projection = AvailabilityProjection()
    for event, envelope in batch:
        await projection.apply(event, envelope, view)
    await view.flush()


def fold(events: list[DomainEvent]) -> providers.Provider:
    state = providers.Provider()
    for event in events:
        state = providers.evolve(state, event)
    return state


async def doc(store: SqliteDocumentStore, doc_id: str) -> dict[str, object]:
    found = await store.get(physical(BOOKABLE, 1), doc_id)
    assert found is not None, doc_id
    return found


async def test_each_site_document_gives_the_availability_the_stream_gives() -> None:
    store = SqliteDocumentStore(SqliteDatabase(":memory:"))
    stream = "acme:provider:dr-a"
    await project(store, envelopes(stream, DR_A))
    full = fold(DR_A)

    for site_id in ("north", "south"):
        stored = await doc(store, provider_at_site_id("acme", site_id, "dr-a"))
        assert (stored["tenant"], stored["site_id"], stored["provider_id"]) == (
            "acme",
            site_id,
            "dr-a",
        )
        assert stored["_seen"] == {seen_key(stream): len(DR_A)}
        state = state_from(stored)
        # Only the site's own templates are kept; nothing else of the fold is left out.
        assert [t.site_id for t in state.templates] == [site_id]
        for day in (TUESDAY, date(2026, 12, 2), date(2026, 12, 5)):
            assert providers.availability(
                state, site_id, day, NEW_YORK, WEEKDAYS_8_TO_6
            ) == providers.availability(full, site_id, day, NEW_YORK, WEEKDAYS_8_TO_6)
    pointer = await store.get(physical(PROVIDERS, 1), "acme:dr-a")
    assert pointer is not None
    assert pointer["site_ids"] == ["north", "south"]
    assert pointer["_seen"] == {seen_key(stream): len(DR_A)}  # where a search's wait starts
    await store.close()


async def test_a_later_template_licence_lapse_and_deactivation_reach_every_site() -> None:
    store = SqliteDocumentStore(SqliteDatabase(":memory:"))
    stream = "acme:provider:dr-a"
    batch = envelopes(stream, [*DR_A, template("north", "t2", windows=mornings(range(1)))])
    await project(store, batch[:3])  # registered, licensed, north's first template
    await project(store, batch[3:])  # in another batch: found through the provider document
    north = state_from(await doc(store, provider_at_site_id("acme", "north", "dr-a")))
    assert providers.availability(north, "north", TUESDAY, NEW_YORK, WEEKDAYS_8_TO_6) == []

    deactivated = ProviderDeactivated(provider_id="dr-a", deactivated_at=T0)
    [last] = envelopes(stream, [*DR_A, template("north", "t2"), deactivated])[-1:]
    await project(store, [last])
    for site_id in ("north", "south"):
        stored = await doc(store, provider_at_site_id("acme", site_id, "dr-a"))
        assert stored["active"] is False
        assert stored["_seen"] == {seen_key(stream): len(DR_A) + 2}
    await store.close()


async def test_an_event_seen_before_changes_nothing(store: SqliteDocumentStore) -> None:
    batch = envelopes("acme:provider:dr-a", DR_A)
    await project(store, batch)
    before = await doc(store, provider_at_site_id("acme", "north", "dr-a"))

    await project(store, batch)  # redelivered

    assert await doc(store, provider_at_site_id("acme", "north", "dr-a")) == before


async def test_a_site_query_finds_its_rooms_and_providers_and_nothing_of_others(
    store: SqliteDocumentStore,
) -> None:
    await project(store, envelopes("acme:provider:dr-a", DR_A))
    only_south = [
        ProviderRegistered(provider_id="dr-b", name="Dr B", site_ids=("south",)),
        template("south", provider_id="dr-b"),
    ]
    await project(store, envelopes("acme:provider:dr-b", only_south))
    rooms = [
        RoomAdded(room_id="exam-2", site_id="north", name="Exam 2"),
        RoomAdded(room_id="exam-1", site_id="north", name="Exam 1"),
        RoomAdded(room_id="proc-1", site_id="north", name="Procedures", room_type="procedure"),
    ]
    await project(store, envelopes("acme:room:n", rooms))
    # A tenant whose name makes the same prefix of ids, and a site that is not a provider's.
    await project(store, envelopes("acme:north:provider:dr-x", DR_A[:1], tenant="acme:north"))
    site = SiteRegistered(site_id="north", name="North", time_zone="America/New_York")
    await project(store, envelopes("acme:site:north", [site]))

    found = await store.find(physical(BOOKABLE, 1), at_site("acme", "north"))

    assert [d["_id"] for d in found] == [site_prefix("acme", "north"), "acme:north:dr-a"]
    assert found[0]["rooms"] == [
        {"room_id": "exam-1", "room_type": "exam"},
        {"room_id": "exam-2", "room_type": "exam"},
        {"room_id": "proc-1", "room_type": "procedure"},
    ]
    south = await store.find(physical(BOOKABLE, 1), at_site("acme", "south"))
    assert [d["provider_id"] for d in south] == ["dr-a", "dr-b"]
