"""The DocumentStore contract: every adapter (SQLite, MongoDB/FerretDB) must pass all of it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.documents.mongo import MongoDocumentStore, open_mongo_document_store
from shared.documents.port import (
    Document,
    DocumentConflict,
    DocumentStore,
    Filter,
    Sort,
    Write,
    put,
)
from shared.eventstore.port import StoreUnavailable
from shared.mongo import connect
from tests.contract.conftest import UNREACHABLE, Stores

C = "things"

PEOPLE: dict[str, Document] = {
    "p1": {
        "name": "Ada",
        "age": 36,
        "score": 9.5,
        "active": True,
        "site": "north",
        "address": {"city": "Leeds", "zip": "LS1"},
        "tags": ["a"],
        "note": None,
    },
    "p2": {
        "name": "Bea",
        "age": 41,
        "score": 7.25,
        "active": False,
        "site": "south",
        "address": {"city": "York", "zip": "YO1"},
        "note": "vip",
    },
    "p3": {
        "name": "Cem",
        "age": 29,
        "score": 8.0,
        "active": True,
        "site": "north",
        "address": {"city": "York"},
    },
    "p4": {
        "name": "Dee",
        "age": 41,
        "active": False,
        "address": {"city": "Hull", "zip": "HU1"},
        "note": None,
    },
    "p5": {"name": "Éva", "age": 52, "score": 6.0, "active": True, "site": "east", "address": {}},
}


def w(doc_id: str, doc: Document | None, expected_rev: int | None = None) -> Write:
    return Write(doc_id=doc_id, doc=doc, expected_rev=expected_rev)


def stored(doc_id: str, rev: int, doc: Document) -> Document:
    return {**doc, "_id": doc_id, "_rev": rev}


async def people(store: DocumentStore) -> None:
    assert await store.write(C, [w(k, v) for k, v in PEOPLE.items()]) == []


def ids(docs: list[Document]) -> list[str]:
    return [d["_id"] for d in docs]


# --- get, put and revisions ---------------------------------------------------------------


async def test_a_missing_document_is_none(document_store: DocumentStore) -> None:
    assert await document_store.get(C, "nope") is None
    assert await document_store.find(C) == []
    assert await document_store.count(C) == 0


async def test_put_inserts_at_rev_1_and_each_write_replaces_the_body_and_bumps_the_rev(
    document_store: DocumentStore,
) -> None:
    await put(document_store, C, "d1", {"a": 1, "nested": {"b": [1, 2, {"c": None}]}})
    assert await document_store.get(C, "d1") == stored(
        "d1", 1, {"a": 1, "nested": {"b": [1, 2, {"c": None}]}}
    )

    await put(document_store, C, "d1", {"z": "new"})
    assert await document_store.get(C, "d1") == stored("d1", 2, {"z": "new"})

    await put(document_store, C, "d1", {"z": "newer"}, expected_rev=2)
    assert await document_store.get(C, "d1") == stored("d1", 3, {"z": "newer"})


async def test_id_and_rev_in_the_body_are_the_stores_not_the_callers(
    document_store: DocumentStore,
) -> None:
    await put(document_store, C, "d1", {"_id": "other", "_rev": 99, "x": 1})
    await put(document_store, C, "d1", {"_id": "other", "_rev": 99, "x": 2})

    assert await document_store.get(C, "d1") == stored("d1", 2, {"x": 2})
    assert await document_store.get(C, "other") is None


async def test_values_come_back_with_their_json_types(document_store: DocumentStore) -> None:
    doc: Document = {
        "i": 7,
        "f": 7.0,
        "neg": -(2**63),
        "big": 2**63 - 1,
        "t": True,
        "n": None,
        "s": "Zoë 漢字",
        "empty": {},
        "list": [],
        "deep": {"a": {"b": {"c": [{"d": 1}]}}},
    }
    await put(document_store, C, "d", doc)

    got = await document_store.get(C, "d")
    assert got == stored("d", 1, doc)
    assert got is not None
    assert type(got["i"]) is int
    assert type(got["f"]) is float
    assert got["t"] is True


async def test_collections_are_apart(document_store: DocumentStore) -> None:
    await put(document_store, "one", "d", {"v": 1})
    await put(document_store, "two", "d", {"v": 2})

    assert await document_store.get("one", "d") == stored("d", 1, {"v": 1})
    assert await document_store.get("two", "d") == stored("d", 1, {"v": 2})
    assert await document_store.count("one") == 1


# --- conditional writes -------------------------------------------------------------------


async def test_inserting_an_existing_document_fails_and_leaves_it(
    document_store: DocumentStore,
) -> None:
    await put(document_store, C, "d", {"v": 1})

    assert await document_store.write(C, [w("d", {"v": 2}, expected_rev=0)]) == ["d"]
    with pytest.raises(DocumentConflict) as raised:
        await put(document_store, C, "d", {"v": 2}, expected_rev=0)

    assert (raised.value.collection, raised.value.doc_id) == (C, "d")
    assert await document_store.get(C, "d") == stored("d", 1, {"v": 1})


@pytest.mark.parametrize("expected_rev", [1, 3, 4])
async def test_a_write_at_another_rev_fails_and_leaves_the_document(
    document_store: DocumentStore, expected_rev: int
) -> None:
    for v in range(2):
        await put(document_store, C, "d", {"v": v})

    assert await document_store.write(C, [w("d", {"v": 9}, expected_rev)]) == ["d"]
    assert await document_store.write(C, [w("d", None, expected_rev)]) == ["d"]

    assert await document_store.get(C, "d") == stored("d", 2, {"v": 1})


async def test_a_write_at_a_rev_of_a_missing_document_fails(document_store: DocumentStore) -> None:
    assert await document_store.write(C, [w("d", {"v": 1}, expected_rev=1)]) == ["d"]
    assert await document_store.write(C, [w("d", None, expected_rev=2)]) == ["d"]
    assert await document_store.get(C, "d") is None


async def test_delete_at_the_right_rev_or_unconditionally_removes_and_resets_the_rev(
    document_store: DocumentStore,
) -> None:
    await put(document_store, C, "a", {"v": 1})
    await put(document_store, C, "a", {"v": 2})
    await put(document_store, C, "b", {"v": 1})

    assert await document_store.write(C, [w("a", None, expected_rev=2), w("b", None)]) == []
    assert await document_store.get(C, "a") is None
    assert await document_store.get(C, "b") is None
    assert await document_store.write(C, [w("a", None), w("zz", None), w("zz", None, 0)]) == []

    await put(document_store, C, "a", {"v": 3}, expected_rev=0)
    assert await document_store.get(C, "a") == stored("a", 1, {"v": 3})


async def test_a_batch_applies_its_writes_in_order_and_names_each_that_failed(
    document_store: DocumentStore,
) -> None:
    await put(document_store, C, "old", {"v": 0})
    await put(document_store, C, "gone", {"v": 0})

    failed = await document_store.write(
        C,
        [
            w("new", {"v": 1}, expected_rev=0),
            w("old", {"v": 1}, expected_rev=5),  # stale
            w("new", {"v": 2}, expected_rev=1),  # sees the insert above
            w("new", {"v": 3}, expected_rev=1),  # stale now
            w("old", {"v": 2}, expected_rev=1),
            w("gone", None, expected_rev=1),
            w("gone", {"v": "back"}, expected_rev=0),  # sees the delete above
            w("never", {"v": 1}),
            w("never", None),
            w("twice", {"v": 1}, expected_rev=0),
            w("twice", {"v": 1}, expected_rev=0),  # exists now
        ],
    )

    assert failed == ["old", "new", "twice"]
    assert await document_store.find(C) == [
        stored("gone", 1, {"v": "back"}),
        stored("new", 2, {"v": 2}),
        stored("old", 2, {"v": 2}),
        stored("twice", 1, {"v": 1}),
    ]


async def test_a_batch_of_distinct_conditional_writes_lands_whole_but_its_stale_ones(
    document_store: DocumentStore,
) -> None:
    # A projection's flush: each id once, inserts at rev 0 and updates at the rev it read.
    await put(document_store, C, "a", {"v": 0})
    await put(document_store, C, "b", {"v": 0})
    batch = [
        w("new", {"v": 1}, expected_rev=0),
        w("a", {"v": 1}, expected_rev=1),
        w("b", {"v": 1}, expected_rev=7),  # stale
        w("c", {"v": 1}, expected_rev=0),
    ]
    assert await document_store.write(C, batch) == ["b"]
    assert await document_store.write(C, [w("d", {"v": 1}, expected_rev=0)]) == []
    assert await document_store.write(
        C, [w("e", {"v": 1}, expected_rev=0), w("new", {"v": 9}, expected_rev=0)]
    ) == ["new"]  # exists already

    assert await document_store.find(C) == [
        stored("a", 2, {"v": 1}),
        stored("b", 1, {"v": 0}),
        stored("c", 1, {"v": 1}),
        stored("d", 1, {"v": 1}),
        stored("e", 1, {"v": 1}),
        stored("new", 1, {"v": 1}),
    ]


async def test_concurrent_conditional_writers_let_exactly_one_win(
    document_store: DocumentStore,
) -> None:
    await put(document_store, C, "d", {"v": 0})

    results = await asyncio.gather(
        *(document_store.write(C, [w("d", {"v": i}, expected_rev=1)]) for i in range(8))
    )
    inserts = await asyncio.gather(
        *(document_store.write(C, [w("e", {"v": i}, expected_rev=0)]) for i in range(8))
    )

    assert sorted(map(len, results)) == [0] + [1] * 7
    assert sorted(map(len, inserts)) == [0] + [1] * 7
    d, e = await document_store.get(C, "d"), await document_store.get(C, "e")
    assert d is not None
    assert e is not None
    assert d["_rev"] == 2
    assert e["_rev"] == 1
    assert d["v"] == results.index([])
    assert e["v"] == inserts.index([])


async def test_concurrent_unconditional_writers_all_land_one_after_another(
    document_store: DocumentStore,
) -> None:
    await asyncio.gather(*(put(document_store, C, "d", {"v": i}) for i in range(6)))

    d = await document_store.get(C, "d")
    assert d is not None
    assert d["_rev"] == 6


async def test_a_large_batch_of_inserts_lands_whole(document_store: DocumentStore) -> None:
    docs = {f"d{i:04}": {"n": i, "site": f"s{i % 3}"} for i in range(1500)}

    assert await document_store.write(C, [w(k, v, 0) for k, v in docs.items()]) == []
    assert await document_store.write(C, [w(k, {"n": -1}, 0) for k in list(docs)[::100]]) == [
        k for k in list(docs)[::100]
    ]

    assert await document_store.count(C) == 1500
    assert await document_store.count(C, {"site": "s1"}) == 500
    assert await document_store.get(C, "d0777") == stored("d0777", 1, {"n": 777, "site": "s0"})


# --- find, count ----------------------------------------------------------------------------


FILTERS: list[tuple[str, Filter, list[str]]] = [
    ("all", {}, ["p1", "p2", "p3", "p4", "p5"]),
    ("equal", {"site": "north"}, ["p1", "p3"]),
    ("equal-number", {"age": 41}, ["p2", "p4"]),
    ("equal-float", {"score": 8.0}, ["p3"]),
    ("equal-int-matches-float", {"score": 8}, ["p3"]),
    ("eq-operator", {"name": {"$eq": "Bea"}}, ["p2"]),
    ("dotted", {"address.city": "York"}, ["p2", "p3"]),
    ("dotted-missing", {"address.zip": None}, ["p3", "p5"]),
    ("true", {"active": True}, ["p1", "p3", "p5"]),
    ("false", {"active": False}, ["p2", "p4"]),
    ("ne-bool", {"active": {"$ne": True}}, ["p2", "p4"]),
    ("none-is-null-or-missing", {"note": None}, ["p1", "p3", "p4", "p5"]),
    ("ne-none-is-present", {"note": {"$ne": None}}, ["p2"]),
    ("ne-matches-missing", {"site": {"$ne": "north"}}, ["p2", "p4", "p5"]),
    ("gt", {"age": {"$gt": 41}}, ["p5"]),
    ("gte", {"age": {"$gte": 41}}, ["p2", "p4", "p5"]),
    ("lt", {"age": {"$lt": 36}}, ["p3"]),
    ("lte", {"age": {"$lte": 36}}, ["p1", "p3"]),
    ("range", {"age": {"$gte": 30, "$lt": 45}}, ["p1", "p2", "p4"]),
    ("float-range", {"score": {"$gt": 6.0, "$lte": 8.0}}, ["p2", "p3"]),
    ("range-skips-missing", {"score": {"$lt": 100}}, ["p1", "p2", "p3", "p5"]),
    ("string-range", {"name": {"$gte": "B", "$lt": "D"}}, ["p2", "p3"]),
    ("dotted-range", {"address.zip": {"$gte": "M"}}, ["p2"]),
    ("in", {"site": {"$in": ["south", "east"]}}, ["p2", "p5"]),
    ("in-numbers", {"age": {"$in": [29, 52, 1000]}}, ["p3", "p5"]),
    ("in-none-matches-missing", {"site": {"$in": ["east", None]}}, ["p4", "p5"]),
    ("in-empty", {"site": {"$in": []}}, []),
    ("in-tuple", {"age": {"$in": (36,)}}, ["p1"]),
    ("several-fields", {"active": True, "site": "north", "age": {"$gt": 30}}, ["p1"]),
    ("id", {"_id": "p3"}, ["p3"]),
    ("id-in", {"_id": {"$in": ["p5", "p1", "zz"]}}, ["p1", "p5"]),
    ("id-range", {"_id": {"$gt": "p3"}}, ["p4", "p5"]),
    ("rev", {"_rev": 1}, ["p1", "p2", "p3", "p4", "p5"]),
    ("no-match", {"name": "Zed"}, []),
]


@pytest.mark.parametrize(
    ("where", "expected"), [f[1:] for f in FILTERS], ids=[f[0] for f in FILTERS]
)
async def test_find_and_count_answer_every_operator_alike(
    document_store: DocumentStore, where: Filter, expected: list[str]
) -> None:
    await people(document_store)

    found = await document_store.find(C, where)

    assert ids(found) == expected
    assert found == [stored(k, 1, PEOPLE[k]) for k in expected]
    assert await document_store.count(C, where) == len(expected)
    assert await document_store.revisions(C, where) == dict.fromkeys(expected, 1)


SORTS: list[tuple[str, Sort, int | None, list[str]]] = [
    ("default-by-id", (), None, ["p1", "p2", "p3", "p4", "p5"]),
    ("asc", [("age", 1)], None, ["p3", "p1", "p2", "p4", "p5"]),
    ("desc-ties-by-id", [("age", -1)], None, ["p5", "p2", "p4", "p1", "p3"]),
    ("two-keys", [("age", -1), ("name", -1)], None, ["p5", "p4", "p2", "p1", "p3"]),
    ("dotted", [("address.city", 1)], None, ["p5", "p4", "p1", "p2", "p3"]),
    ("missing-first-ascending", [("score", 1)], None, ["p4", "p5", "p2", "p3", "p1"]),
    ("missing-last-descending", [("score", -1)], None, ["p1", "p3", "p2", "p5", "p4"]),
    ("string-desc", [("name", -1)], None, ["p5", "p4", "p3", "p2", "p1"]),
    ("id-desc", [("_id", -1)], None, ["p5", "p4", "p3", "p2", "p1"]),
    ("limit", [("age", 1)], 2, ["p3", "p1"]),
    ("limit-without-sort", (), 3, ["p1", "p2", "p3"]),
    ("limit-beyond", [("name", 1)], 50, ["p1", "p2", "p3", "p4", "p5"]),
    ("limit-zero", (), 0, []),
]


@pytest.mark.parametrize(
    ("sort", "limit", "expected"), [s[1:] for s in SORTS], ids=[s[0] for s in SORTS]
)
async def test_find_sorts_and_limits_alike(
    document_store: DocumentStore, sort: Sort, limit: int | None, expected: list[str]
) -> None:
    await people(document_store)

    assert ids(await document_store.find(C, sort=sort, limit=limit)) == expected


async def test_find_filters_sorts_and_limits_together(document_store: DocumentStore) -> None:
    await people(document_store)

    found = await document_store.find(C, {"age": {"$gte": 36}}, sort=[("score", -1)], limit=2)

    assert ids(found) == ["p1", "p2"]


async def test_find_sees_the_latest_revision(document_store: DocumentStore) -> None:
    await people(document_store)
    await put(document_store, C, "p3", {"name": "Cem", "age": 60}, expected_rev=1)

    assert ids(await document_store.find(C, {"age": {"$gt": 50}})) == ["p3", "p5"]
    assert await document_store.find(C, {"_rev": 2}) == [
        stored("p3", 2, {"name": "Cem", "age": 60})
    ]
    assert await document_store.count(C, {"address.city": "York"}) == 1


async def test_revisions_name_each_found_document_at_its_revision_without_its_body(
    document_store: DocumentStore,
) -> None:
    await people(document_store)
    await put(document_store, C, "p3", {"name": "Cem", "age": 60}, expected_rev=1)
    await put(document_store, C, "p3", {"name": "Cem", "age": 61}, expected_rev=2)
    assert await document_store.write(C, [Write("p4", None)]) == []

    assert await document_store.revisions(C) == {"p1": 1, "p2": 1, "p3": 3, "p5": 1}
    assert await document_store.revisions(C, {"_id": {"$gte": "p2", "$lt": "p4"}}) == {
        "p2": 1,
        "p3": 3,
    }
    assert await document_store.revisions("empty") == {}


async def test_drop_empties_one_collection_only(document_store: DocumentStore) -> None:
    await people(document_store)
    await put(document_store, "other", "x", {"v": 1})

    await document_store.drop(C)
    await document_store.drop("never-written")

    assert await document_store.find(C) == []
    assert await document_store.count(C) == 0
    assert await document_store.get("other", "x") == stored("x", 1, {"v": 1})
    await put(document_store, C, "p1", {"v": 2}, expected_rev=0)
    assert await document_store.get(C, "p1") == stored("p1", 1, {"v": 2})


# --- bad input is refused alike ---------------------------------------------------------------


BAD_FILTERS: list[tuple[str, Any]] = [
    ("unknown-operator", {"age": {"$regex": "4"}}),
    ("or", {"$or": [{"age": 1}]}),
    ("where", {"$where": "1"}),
    ("operator-typo", {"age": {"gt": 1}}),
    ("empty-operators", {"age": {}}),
    ("injection", {"age) OR 1=1 --": 1}),
    ("quote", {"a'b": 1}),
    ("space", {"a b": 1}),
    ("leading-digit", {"1a": 1}),
    ("empty-segment", {"a..b": 1}),
    ("trailing-dot", {"a.": 1}),
    ("empty-field", {"": 1}),
    ("dollar-field", {"a.$b": 1}),
    ("list-value", {"tags": ["a"]}),
    ("dict-value-in-operator", {"address": {"$eq": {"city": "York"}}}),
    ("in-not-a-list", {"site": {"$in": "north"}}),
    ("in-nested-list", {"site": {"$in": [["north"]]}}),
    ("date-value", {"age": datetime(2020, 1, 1, tzinfo=UTC)}),
]


@pytest.mark.parametrize("where", [b[1] for b in BAD_FILTERS], ids=[b[0] for b in BAD_FILTERS])
async def test_a_bad_filter_is_refused_with_value_error(
    document_store: DocumentStore, where: Any
) -> None:
    await people(document_store)

    with pytest.raises(ValueError, match=r"."):
        await document_store.find(C, where)
    with pytest.raises(ValueError, match=r"."):
        await document_store.count(C, where)


@pytest.mark.parametrize("field", ["a b", "$natural", "a;b", "1", ""])
async def test_a_bad_sort_field_is_refused_with_value_error(
    document_store: DocumentStore, field: str
) -> None:
    with pytest.raises(ValueError, match="bad field name"):
        await document_store.find(C, sort=[(field, 1)])


BAD_DOCUMENTS: list[tuple[str, Any]] = [
    ("dotted-key", {"codes": {"E11.9": 1}}),
    ("dollar-key", {"$set": 1}),
    ("nested-dollar-key", {"a": [{"$x": 1}]}),
    ("int-key", {"a": {1: "x"}}),
    ("datetime", {"at": datetime(2020, 1, 1, tzinfo=UTC)}),
    ("set", {"s": {1, 2}}),
    ("bytes", {"b": b"x"}),
    ("nan", {"f": float("nan")}),
    ("infinity", {"f": float("inf")}),
    ("too-big-int", {"n": 2**64}),
]


@pytest.mark.parametrize("doc", [b[1] for b in BAD_DOCUMENTS], ids=[b[0] for b in BAD_DOCUMENTS])
async def test_a_document_one_backend_could_not_store_is_refused_and_nothing_is_written(
    document_store: DocumentStore, doc: Any
) -> None:
    with pytest.raises(ValueError, match=r"."):
        await document_store.write(C, [w("ok", {"v": 1}), w("bad", doc)])

    assert await document_store.count(C) == 0


# --- persistence and availability -----------------------------------------------------------


async def test_documents_survive_reopening(document_stores: Stores[DocumentStore]) -> None:
    store = await document_stores.open()
    await people(store)
    await put(store, C, "p1", {"name": "Ada", "age": 37}, expected_rev=1)
    await store.write(C, [w("p2", None)])

    store = await document_stores.reopen(store)

    assert await store.get(C, "p1") == stored("p1", 2, {"name": "Ada", "age": 37})
    assert await store.get(C, "p2") is None
    assert ids(await store.find(C, {"active": True})) == ["p3", "p5"]
    assert await store.write(C, [w("p1", {"v": 1}, expected_rev=1)]) == ["p1"]


async def test_two_stores_on_the_same_data_see_each_other(
    document_stores: Stores[DocumentStore],
) -> None:
    one, two = await document_stores.open(), await document_stores.open()

    await put(one, C, "d", {"v": 1})
    assert await two.write(C, [w("d", {"v": 2}, expected_rev=0)]) == ["d"]
    await put(two, C, "d", {"v": 2}, expected_rev=1)

    assert await one.get(C, "d") == stored("d", 2, {"v": 2})


async def test_ping_answers_while_the_backend_is_up(document_store: DocumentStore) -> None:
    await document_store.ping()


async def test_an_unreachable_mongodb_is_reported_as_unavailable() -> None:
    store = await open_mongo_document_store(UNREACHABLE, "nowhere", serverSelectionTimeoutMS=300)
    try:
        calls: list[Callable[[], Awaitable[object]]] = [
            store.ping,
            lambda: store.get(C, "d"),
            lambda: store.find(C, {"v": 1}),
            lambda: store.count(C),
            lambda: store.write(C, [w("d", {"v": 1})]),
            lambda: store.drop(C),
        ]
        for call in calls:
            with pytest.raises(StoreUnavailable):
                await call()
    finally:
        await store.close()


@pytest.mark.integration
async def test_a_store_on_a_shared_client_leaves_the_client_open(
    mongo_url: str, unique: str
) -> None:
    client = connect(mongo_url)
    try:
        store = MongoDocumentStore(client[unique])
        await put(store, C, "d", {"v": 1})
        await store.close()
        assert await client[unique][f"rm_{C}"].find_one({"_id": "d"}) == {
            "_id": "d",
            "_rev": 1,
            "v": 1,
        }
    finally:
        await client.drop_database(unique)
        await client.close()


async def test_get_many_returns_the_documents_that_exist_by_id(
    document_store: DocumentStore,
) -> None:
    await put(document_store, C, "a", {"n": 1})
    await put(document_store, C, "b", {"n": 2})
    await put(document_store, "elsewhere", "c", {"n": 3})

    found = await document_store.get_many(C, ["a", "b", "c", "a", "missing"])

    assert sorted(found) == ["a", "b"]
    assert found["a"] == {"_id": "a", "_rev": 1, "n": 1}
    assert await document_store.get_many(C, []) == {}
