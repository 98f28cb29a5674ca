"""The EventStore contract: every adapter (SQLite, MongoDB/FerretDB) must pass all of it."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from shared.events import Envelope
from shared.eventstore.codec import encode_events, envelope_record
from shared.eventstore.mongo import MongoEventStore, open_mongo_event_store
from shared.eventstore.port import Commit, ConcurrencyConflict, EventStore, StoreUnavailable
from shared.mongo import connect
from tests.contract.conftest import MONGO_OPTIONS, UNREACHABLE, Stores

T0 = datetime(2025, 3, 4, 9, 30, 15, 123456, tzinfo=UTC)


def envelope(stream: str, version: int, **changes: Any) -> Envelope:
    fields: dict[str, Any] = {
        "id": f"{stream}-{version}",
        "type": "medoffice.scheduling.AppointmentBooked.v1",
        "source": "/medoffice/scheduling",
        "subject": f"appointment/{stream}",
        "time": T0 + timedelta(minutes=version),
        "stream": stream,
        "stream_version": version,
        "tenant": "tenant-a",
        "site": "site-1",
        "correlation_id": f"corr-{version}",
        "causation_id": f"cause-{version}",
        "actor": "user-7",
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "data": {"n": version, "stream": stream},
    }
    fields.update(changes)
    return Envelope.model_validate(fields)


def run(stream: str, first: int, count: int = 1) -> list[Envelope]:
    return [envelope(stream, v) for v in range(first, first + count)]


async def fill(store: EventStore, stream: str, count: int) -> None:
    """Append `count` single-event commits to a new stream."""
    for version in range(1, count + 1):
        await store.append(stream, run(stream, version), version - 1)


def positions(commits: Sequence[Commit]) -> list[int]:
    return [c.position for c in commits]


async def test_append_returns_the_commit_and_load_gives_back_every_field(
    event_store: EventStore,
) -> None:
    rich = envelope(
        "appt-1",
        1,
        time=datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=-5))),
        data={
            "text": 'Zoë — 漢字 "quoted" \\ back',
            "cents": 12345,
            "big": 2**70,
            "ratio": 0.1,
            "flag": False,
            "nothing": None,
            "list": [1, "two", {"three": 3}],
            "codes": {"E11.9": "diabetes", "$ref": "x", "": "empty"},
        },
    )
    bare = envelope(
        "appt-1",
        2,
        subject=None,
        site=None,
        causation_id=None,
        actor=None,
        traceparent=None,
        data={},
    )

    commit = await event_store.append("appt-1", [rich, bare], expected_version=0)

    assert commit.position > 0
    assert (commit.stream, commit.first_version, commit.last_version) == ("appt-1", 1, 2)
    assert not commit.published
    expected = [e.model_copy(update={"position": commit.position}) for e in (rich, bare)]
    assert list(commit.events) == expected
    loaded = await event_store.load("appt-1")
    assert loaded == expected
    assert loaded[0].time == rich.time
    assert loaded[0].time.utcoffset() == rich.time.utcoffset()
    assert loaded[0].data["big"] == 2**70
    assert isinstance(loaded[0].data["ratio"], float)
    assert await event_store.version("appt-1") == 2
    assert await event_store.read_all() == [commit]


async def test_an_unknown_stream_is_empty_at_version_zero(event_store: EventStore) -> None:
    assert await event_store.load("nobody") == []
    assert await event_store.version("nobody") == 0


async def test_load_after_a_version_gives_only_later_events_even_inside_a_commit(
    event_store: EventStore,
) -> None:
    await event_store.append("s", run("s", 1, 2), 0)
    await event_store.append("s", run("s", 3, 3), 2)
    await event_store.append("s", run("s", 6, 1), 5)

    assert [e.stream_version for e in await event_store.load("s")] == [1, 2, 3, 4, 5, 6]
    assert [e.stream_version for e in await event_store.load("s", after_version=3)] == [4, 5, 6]
    assert [e.stream_version for e in await event_store.load("s", after_version=5)] == [6]
    assert await event_store.load("s", after_version=6) == []


async def test_load_with_a_limit_gives_the_first_events_after_a_version(
    event_store: EventStore,
) -> None:
    await event_store.append("s", run("s", 1, 2), 0)
    await event_store.append("s", run("s", 3, 3), 2)
    await event_store.append("s", run("s", 6, 1), 5)

    def versions(events: list[Envelope]) -> list[int]:
        return [e.stream_version for e in events]

    assert versions(await event_store.load("s", limit=1)) == [1]
    assert versions(await event_store.load("s", limit=3)) == [1, 2, 3]
    assert versions(await event_store.load("s", after_version=1, limit=3)) == [2, 3, 4]
    assert versions(await event_store.load("s", after_version=3, limit=10)) == [4, 5, 6]
    assert await event_store.load("s", after_version=6, limit=5) == []
    with pytest.raises(ValueError, match="limit"):
        await event_store.load("s", limit=0)


async def test_load_keeps_streams_apart(event_store: EventStore) -> None:
    await event_store.append("a", run("a", 1, 2), 0)
    await event_store.append("b", run("b", 1), 0)
    await event_store.append("a", run("a", 3), 2)

    assert [(e.stream, e.stream_version) for e in await event_store.load("a")] == [
        ("a", 1),
        ("a", 2),
        ("a", 3),
    ]
    assert [e.id for e in await event_store.load("b")] == ["b-1"]


@pytest.mark.parametrize(
    ("stream_at", "expected"),
    [(0, 1), (0, 4), (2, 0), (2, 1), (2, 3), (2, 7)],
    ids=["new-expected-1", "new-expected-4", "existing-expected-0", "stale", "ahead-by-1", "ahead"],
)
async def test_append_at_another_version_conflicts_and_writes_nothing(
    event_store: EventStore, stream_at: int, expected: int
) -> None:
    await fill(event_store, "s", stream_at)
    before = await event_store.read_all()

    with pytest.raises(ConcurrencyConflict) as raised:
        await event_store.append("s", run("s", expected + 1, 2), expected)

    assert (raised.value.stream, raised.value.expected) == ("s", expected)
    assert raised.value.actual == stream_at
    assert await event_store.version("s") == stream_at
    assert await event_store.read_all() == before


@pytest.mark.parametrize("expected", [1, 3, 4])
async def test_append_after_a_version_inside_or_before_the_last_commit_conflicts(
    event_store: EventStore, expected: int
) -> None:
    await event_store.append("s", run("s", 1, 2), 0)
    await event_store.append("s", run("s", 3, 3), 2)

    with pytest.raises(ConcurrencyConflict) as raised:
        await event_store.append("s", run("s", expected + 1), expected)

    assert raised.value.actual == 5
    assert [e.stream_version for e in await event_store.load("s")] == [1, 2, 3, 4, 5]


async def test_concurrent_appends_at_the_same_version_let_exactly_one_win(
    event_store: EventStore,
) -> None:
    await fill(event_store, "s", 1)
    contenders = [
        [envelope("s", 2, id=f"contender-{i}"), envelope("s", 3, id=f"contender-{i}-b")]
        for i in range(8)
    ]

    results = await asyncio.gather(
        *(event_store.append("s", events, 1) for events in contenders), return_exceptions=True
    )

    winners = [r for r in results if isinstance(r, Commit)]
    losers = [r for r in results if not isinstance(r, Commit)]
    assert len(winners) == 1
    assert len(losers) == 7
    assert all(isinstance(r, ConcurrencyConflict) for r in losers), losers
    assert await event_store.version("s") == 3
    assert [e.id for e in await event_store.load("s", after_version=1)] == [
        e.id for e in winners[0].events
    ]


async def test_concurrent_appends_to_different_streams_all_succeed_with_distinct_positions(
    event_store: EventStore,
) -> None:
    commits = await asyncio.gather(
        *(event_store.append(f"s{i}", run(f"s{i}", 1), 0) for i in range(10))
    )

    assert len(set(positions(commits))) == 10
    assert sorted(positions(await event_store.read_all())) == sorted(positions(commits))


async def test_positions_increase_strictly_across_streams(event_store: EventStore) -> None:
    order = ["a", "b", "a", "c", "b", "a"]
    versions: dict[str, int] = {}
    commits = []
    for stream in order:
        at = versions.get(stream, 0)
        commits.append(await event_store.append(stream, run(stream, at + 1), at))
        versions[stream] = at + 1

    assert positions(commits) == sorted(set(positions(commits)))
    assert await event_store.read_all() == commits
    for commit in commits:
        assert all(e.position == commit.position for e in commit.events)
    loaded_a = await event_store.load("a")
    assert [e.position for e in loaded_a] == [commits[i].position for i in (0, 2, 5)]


async def test_read_all_pages_by_position_and_limit(event_store: EventStore) -> None:
    commits = [await event_store.append(f"s{i}", run(f"s{i}", 1), 0) for i in range(5)]

    assert await event_store.read_all(limit=2) == commits[:2]
    assert await event_store.read_all(after_position=commits[1].position, limit=2) == commits[2:4]
    assert await event_store.read_all(after_position=commits[3].position) == commits[4:]
    assert await event_store.read_all(after_position=commits[4].position) == []
    assert await event_store.read_all(limit=0) == []
    paged: list[Commit] = []
    after = 0
    while page := await event_store.read_all(after_position=after, limit=2):
        paged += page
        after = page[-1].position
    assert paged == commits


async def test_unpublished_commits_come_in_order_until_marked(event_store: EventStore) -> None:
    commits = [await event_store.append(f"s{i}", run(f"s{i}", 1), 0) for i in range(4)]

    assert await event_store.unpublished() == commits
    assert await event_store.unpublished(limit=2) == commits[:2]
    assert await event_store.backlog() == 4

    await event_store.mark_published([commits[0].position, commits[2].position])
    await event_store.mark_published([])

    assert await event_store.unpublished() == [commits[1], commits[3]]
    assert await event_store.backlog() == 2
    assert [c.published for c in await event_store.read_all()] == [True, False, True, False]
    await event_store.mark_published([c.position for c in commits])
    assert await event_store.unpublished() == []
    assert await event_store.backlog() == 0
    later = await event_store.append("s0", run("s0", 2), 1)
    assert await event_store.unpublished() == [later]


@pytest.mark.parametrize(
    "events",
    [
        [],
        run("s", 2),
        run("s", 1) + run("s", 3),
        run("s", 1) + run("s", 1),
        run("other", 1),
        run("s", 1) + run("other", 2),
    ],
    ids=["empty", "starts-late", "gap", "repeat", "other-stream", "mixed-streams"],
)
async def test_envelopes_that_do_not_continue_the_stream_are_refused(
    event_store: EventStore, events: list[Envelope]
) -> None:
    with pytest.raises(ValueError, match=r"."):
        await event_store.append("s", events, 0)

    assert await event_store.version("s") == 0
    assert await event_store.read_all() == []


async def test_stale_versions_on_an_existing_stream_are_refused(event_store: EventStore) -> None:
    await fill(event_store, "s", 2)

    with pytest.raises(ValueError, match=r"expected s@3"):
        await event_store.append("s", run("s", 2), 2)

    assert await event_store.version("s") == 2


async def test_commits_survive_reopening_and_positions_keep_increasing(
    event_stores: Stores[EventStore],
) -> None:
    store = await event_stores.open()
    first = await store.append("s", run("s", 1, 2), 0)
    await store.mark_published([first.position])

    store = await event_stores.reopen(store)

    assert await store.load("s") == list(first.events)
    assert await store.version("s") == 2
    assert await store.read_all() == [first.model_copy(update={"published": True})]
    later = await store.append("s", run("s", 3), 2)
    assert later.position > first.position
    with pytest.raises(ConcurrencyConflict):
        await store.append("s", run("s", 3), 2)


async def test_two_stores_on_the_same_data_see_each_other(event_stores: Stores[EventStore]) -> None:
    one, two = await event_stores.open(), await event_stores.open()

    await one.append("s", run("s", 1), 0)
    with pytest.raises(ConcurrencyConflict):
        await two.append("s", run("s", 1), 0)
    await two.append("s", run("s", 2), 1)
    with pytest.raises(ConcurrencyConflict) as raised:  # `one` last saw the stream at 1
        await one.append("s", run("s", 2), 1)

    assert raised.value.actual == 2
    assert [e.stream_version for e in await one.load("s")] == [1, 2]
    await one.append("s", run("s", 3), 2)
    assert [e.id for e in await two.load("s")] == ["s-1", "s-2", "s-3"]


async def test_two_stores_racing_keep_positions_distinct_and_one_winner_per_version(
    event_stores: Stores[EventStore],
) -> None:
    one, two = await event_stores.open(), await event_stores.open()

    spread = await asyncio.gather(
        *(store.append(f"s{i}", run(f"s{i}", 1), 0) for i in range(12) for store in (one, two)),
        return_exceptions=True,
    )
    same = await asyncio.gather(
        *(
            store.append("hot", [envelope("hot", 1, id=f"hot-{i}")], 0)
            for i in range(6)
            for store in (one, two)
        ),
        return_exceptions=True,
    )

    commits = [r for r in spread + same if isinstance(r, Commit)]
    others = [r for r in spread + same if not isinstance(r, Commit)]
    assert all(isinstance(r, ConcurrencyConflict) for r in others), others
    assert sorted({c.stream for c in commits}) == sorted({f"s{i}" for i in range(12)} | {"hot"})
    assert len(commits) == 13
    stored = await one.read_all()
    assert sorted(positions(stored)) == sorted(positions(commits))
    assert positions(stored) == sorted(set(positions(stored)))
    assert await two.read_all() == stored


async def test_ping_answers_while_the_backend_is_up(event_store: EventStore) -> None:
    await event_store.ping()


async def test_an_unreachable_mongodb_is_reported_as_unavailable() -> None:
    with pytest.raises(StoreUnavailable):
        await open_mongo_event_store(UNREACHABLE, "nowhere", serverSelectionTimeoutMS=300)
    client = connect(UNREACHABLE, serverSelectionTimeoutMS=300)
    store = MongoEventStore(client["nowhere"], client=client)
    try:
        calls: list[Callable[[], Awaitable[object]]] = [
            store.ping,
            lambda: store.append("s", run("s", 1), 0),
            lambda: store.load("s"),
            lambda: store.version("s"),
            store.read_all,
            store.unpublished,
            store.backlog,
            lambda: store.mark_published([1]),
            lambda: store.streams_tagged("t"),
            lambda: store.backfill_tags(lambda _: ()),
        ]
        for call in calls:
            with pytest.raises(StoreUnavailable):
                await call()
    finally:
        await store.close()


# ------------------------------------------------------------------------------------- tags


async def test_tags_are_written_with_the_commit_and_find_its_stream(
    event_store: EventStore,
) -> None:
    commit = await event_store.append(
        "day-1", run("day-1", 1), 0, tags=["t:appointment:a1", "t:appointment:a1", "t:x"]
    )
    await event_store.append("day-1", run("day-1", 2), 1)
    await event_store.append("day-2", run("day-2", 1), 0, tags=["t:appointment:a2"])

    assert commit.tags == ("t:appointment:a1", "t:x")
    assert await event_store.streams_tagged("t:appointment:a1") == ["day-1"]
    assert await event_store.streams_tagged("t:x") == ["day-1"]
    assert await event_store.streams_tagged("t:appointment:a2") == ["day-2"]
    assert await event_store.streams_tagged("t:appointment:a3") == []
    assert [c.tags for c in await event_store.read_all()] == [
        ("t:appointment:a1", "t:x"),
        (),
        ("t:appointment:a2",),
    ]
    assert [c.tags for c in await event_store.unpublished()] == [
        ("t:appointment:a1", "t:x"),
        (),
        ("t:appointment:a2",),
    ]


async def test_streams_of_a_tag_come_once_each_by_their_last_tagged_commit(
    event_store: EventStore,
) -> None:
    await event_store.append("a", run("a", 1), 0, tags=["moved"])
    await event_store.append("b", run("b", 1), 0, tags=["moved"])
    await event_store.append("c", run("c", 1), 0, tags=["other"])
    await event_store.append("a", run("a", 2), 1, tags=["moved"])

    assert await event_store.streams_tagged("moved") == ["b", "a"]


async def test_a_conflicting_append_leaves_no_tag(event_store: EventStore) -> None:
    await event_store.append("s", run("s", 1), 0, tags=["first"])

    with pytest.raises(ConcurrencyConflict):
        await event_store.append("s", run("s", 1), 0, tags=["lost"])
    with pytest.raises(ConcurrencyConflict):
        await event_store.append("s", run("s", 3), 2, tags=["ahead"])

    assert await event_store.streams_tagged("lost") == []
    assert await event_store.streams_tagged("ahead") == []
    assert await event_store.streams_tagged("first") == ["s"]


async def test_racing_appends_leave_the_winners_tag_only(event_store: EventStore) -> None:
    results = await asyncio.gather(
        *(
            event_store.append("hot", [envelope("hot", 1, id=f"hot-{i}")], 0, tags=[f"c{i}"])
            for i in range(8)
        ),
        return_exceptions=True,
    )

    [winner] = [r for r in results if isinstance(r, Commit)]
    found = {i: await event_store.streams_tagged(f"c{i}") for i in range(8)}
    assert {i for i, streams in found.items() if streams} == {int(winner.tags[0][1:])}


@pytest.mark.parametrize("tags", [[""], "one-string"], ids=["empty-tag", "a-string"])
async def test_bad_tags_are_refused_and_nothing_is_written(
    event_store: EventStore, tags: Any
) -> None:
    with pytest.raises(ValueError, match="tag"):
        await event_store.append("s", run("s", 1), 0, tags=tags)

    assert await event_store.version("s") == 0


async def test_tags_are_seen_by_another_store_and_after_reopening(
    event_stores: Stores[EventStore],
) -> None:
    one, two = await event_stores.open(), await event_stores.open()
    await one.append("s", run("s", 1), 0, tags=["t"])

    assert await two.streams_tagged("t") == ["s"]
    one = await event_stores.reopen(one)
    assert await one.streams_tagged("t") == ["s"]


# Commits as an earlier version stored them, before commits had tags: three legacy commits.
LEGACY = [("old-a", 1), ("old-b", 1), ("old-a", 2)]
_SQLITE_BEFORE_TAGS = """
CREATE TABLE commits (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    stream TEXT NOT NULL,
    first_version INTEGER NOT NULL,
    last_version INTEGER NOT NULL,
    events TEXT NOT NULL,
    published INTEGER NOT NULL DEFAULT 0,
    UNIQUE (stream, first_version)
);
CREATE INDEX commits_unpublished ON commits (position) WHERE published = 0;
"""


async def store_before_tags(
    event_stores: Stores[EventStore], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Write LEGACY as the version before tags did, on the data `event_stores` opens."""
    if event_stores.backend == "sqlite":
        conn = sqlite3.connect(tmp_path / "events.db")
        try:
            conn.executescript(_SQLITE_BEFORE_TAGS)
            for stream, version in LEGACY:
                conn.execute(
                    "INSERT INTO commits (stream, first_version, last_version, events,"
                    " published) VALUES (?, ?, ?, ?, 1)",
                    (stream, version, version, encode_events(run(stream, version))),
                )
            conn.commit()
        finally:
            conn.close()
        return
    client = connect(request.getfixturevalue("mongo_url"), **MONGO_OPTIONS)
    try:
        commits = client[request.getfixturevalue("unique")]["commits"]
        for position, (stream, version) in enumerate(LEGACY, start=1):
            records = [envelope_record(e) for e in run(stream, version)]
            await commits.insert_one(
                {
                    "_id": position,
                    "stream": stream,
                    "first_version": version,
                    "last_version": version,
                    "events": [{**r, "data": json.dumps(r["data"])} for r in records],
                    "published": True,
                }
            )
    finally:
        await client.close()


def tag_by_stream(commit: Commit) -> list[str]:
    return [f"stream:{commit.stream}", f"first:{commit.stream}@{commit.first_version}"]


async def test_commits_stored_before_tags_are_backfilled_once_and_new_ones_never(
    event_stores: Stores[EventStore], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    await store_before_tags(event_stores, request, tmp_path)
    store = await event_stores.open()
    await store.append("new", run("new", 1), 0)  # no tags, after tags existed
    await store.append("old-b", run("old-b", 2), 1, tags=["stream:old-b"])
    assert await store.streams_tagged("stream:old-a") == []
    asked: list[int] = []

    def tags_of(commit: Commit) -> list[str]:
        asked.append(commit.position)
        return tag_by_stream(commit)

    assert await store.backfill_tags(tags_of, batch=2) == 3

    commits = await store.read_all()
    assert sorted(asked) == [c.position for c in commits[:3]]  # the new ones never
    assert await store.streams_tagged("stream:old-a") == ["old-a"]
    assert await store.streams_tagged("first:old-a@2") == ["old-a"]
    assert await store.streams_tagged("stream:old-b") == ["old-b"]
    assert await store.streams_tagged("stream:new") == []
    assert [c.tags for c in commits] == [
        ("first:old-a@1", "stream:old-a"),
        ("first:old-b@1", "stream:old-b"),
        ("first:old-a@2", "stream:old-a"),
        (),
        ("stream:old-b",),
    ]
    assert [c.published for c in commits] == [True, True, True, False, False]
    assert await store.backfill_tags(tags_of) == 0
    assert len(asked) == 3
    assert await store.load("old-a") == [
        e.model_copy(update={"position": commits[p].position})
        for p, e in ((0, run("old-a", 1)[0]), (2, run("old-a", 2)[0]))
    ]


async def test_two_stores_backfilling_at_once_give_each_commit_its_tags(
    event_stores: Stores[EventStore], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    await store_before_tags(event_stores, request, tmp_path)
    one, two = await event_stores.open(), await event_stores.open()

    done = await asyncio.gather(
        one.backfill_tags(tag_by_stream, batch=1), two.backfill_tags(tag_by_stream, batch=1)
    )

    # Both may count a commit (FerretDB 1.24's conditional update is not atomic across
    # connections), but a commit's tags are the same whoever writes them.
    assert 3 <= sum(done) <= 6
    assert await two.streams_tagged("stream:old-a") == ["old-a"]
    assert await one.streams_tagged("first:old-b@1") == ["old-b"]
    assert [len(c.tags) for c in await one.read_all()] == [2, 2, 2]
    assert await one.backfill_tags(tag_by_stream) == 0


async def test_a_new_store_and_a_reopened_one_have_nothing_to_backfill(
    event_stores: Stores[EventStore],
) -> None:
    store = await event_stores.open()
    await store.append("s", run("s", 1), 0)
    store = await event_stores.reopen(store)

    assert await store.backfill_tags(tag_by_stream) == 0
    assert await store.streams_tagged("stream:s") == []


@pytest.mark.integration
async def test_mongodb_looks_tags_up_through_an_index(mongo_url: str, unique: str) -> None:
    store = await open_mongo_event_store(mongo_url, unique, **MONGO_OPTIONS)
    client = connect(mongo_url, **MONGO_OPTIONS)
    try:
        indexes = await client[unique]["commits"].index_information()
        assert indexes["tags"]["key"] == [("tags", 1), ("_id", 1)]
    finally:
        await client.drop_database(unique)
        await client.close()
        await store.close()
