"""Stores and topics written before orjson still read the same, and new records read alike.

tests/unit/fixtures/encoded_before_orjson.json was written by the encoders as they were
(`json.dumps`: spaced, ASCII with `\\u` escapes): an event-store commit, in-process bus records
(headers and value) and a read-model document body, with text beyond ASCII, a surrogate pair,
control characters and the largest 64-bit integer.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest

from bench.workload import appointments
from shared import fastjson
from shared.bus.delivery import with_dead_letters
from shared.bus.inprocess import InProcessBus
from shared.cloudevents import Message, from_message, to_message
from shared.documents.port import Write
from shared.documents.sqlite import SqliteDocumentStore
from shared.events import Envelope
from shared.eventstore.codec import decode_events, encode_events
from shared.sqlite import SqliteDatabase, transaction
from tests.support import wait_until

FIXTURE = json.loads(
    (Path(__file__).parent / "fixtures" / "encoded_before_orjson.json").read_text()
)
TOPIC = "medoffice.fixture.events"


def envelopes(position: int | None = None) -> list[Envelope]:
    return [Envelope.model_validate({**e, "position": position}) for e in FIXTURE["envelopes"]]


def test_an_event_store_commit_written_before_decodes_to_the_same_envelopes() -> None:
    assert list(decode_events(FIXTURE["event_store_commit"], 7)) == envelopes(7)


def test_a_commit_encoded_now_decodes_to_the_same_envelopes_and_is_json_to_any_reader() -> None:
    encoded = encode_events(envelopes())
    assert list(decode_events(encoded, 7)) == envelopes(7)
    assert json.loads(encoded) == json.loads(FIXTURE["event_store_commit"])


def old_records() -> list[Message]:
    return [
        Message(
            topic=TOPIC,
            key=r["key"],
            headers=json.loads(r["headers"]),
            value=r["value"].encode(),
            partition=0,
            offset=n,
        )
        for n, r in enumerate(FIXTURE["bus_records"])
    ]


def test_bus_records_written_before_read_as_the_same_cloudevents() -> None:
    assert [from_message(m) for m in old_records()] == envelopes()


def test_records_written_now_read_as_the_same_cloudevents_with_the_same_data() -> None:
    for old, envelope in zip(old_records(), envelopes(), strict=True):
        new = to_message(envelope, TOPIC)
        assert new.headers == old.headers
        assert json.loads(new.value) == json.loads(old.value)
        assert from_message(new) == envelope


def test_ascii_data_is_written_byte_for_byte_as_before() -> None:
    for envelope in appointments(200).envelopes:
        old = json.dumps(envelope.data, separators=(",", ":")).encode()
        assert to_message(envelope, TOPIC).value == old


async def test_the_in_process_bus_delivers_records_it_stored_before(tmp_path: Path) -> None:
    bus = InProcessBus(SqliteDatabase(tmp_path / "bus.db"))
    rows = [
        (TOPIC, n, r["key"], r["headers"], r["value"].encode())
        for n, r in enumerate(FIXTURE["bus_records"])
    ]
    with sqlite3.connect(tmp_path / "bus.db", isolation_level=None) as conn:
        transaction(conn, lambda c: c.executemany("INSERT INTO records VALUES (?,?,?,?,?)", rows))
    got: list[Envelope] = []

    async def handle(batch: Sequence[Envelope]) -> None:
        got.extend(batch)

    try:
        await bus.subscribe("g", [TOPIC], with_dead_letters(bus, "g", handle))

        async def all_delivered() -> bool:
            return len(got) == len(rows)

        await wait_until(all_delivered, timeout=5)
        assert got == envelopes()
    finally:
        await bus.stop()


async def test_a_document_stored_before_reads_the_same_and_writes_back(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "docs.db")
    store = SqliteDocumentStore(db)
    try:
        await db.run(
            lambda conn: conn.execute(
                "INSERT INTO documents VALUES ('c', 'acme:n1', 3, ?)", (FIXTURE["document_body"],)
            )
        )
        doc = await store.get("c", "acme:n1")
        assert doc == {**FIXTURE["document"], "_id": "acme:n1", "_rev": 3}
        assert doc is not None
        assert type(doc["n"]) is int
        assert type(doc["x"]) is float
        assert await store.write("c", [Write(doc_id="acme:n1", doc=doc, expected_rev=3)]) == []
        assert await store.get("c", "acme:n1") == {**doc, "_rev": 4}
    finally:
        await store.close()


@pytest.mark.parametrize(
    "text",
    [
        "18446744073709551616",  # 2**64: orjson would read a float
        "-123456789012345678901234567890",
        '{"a": [1, 2.5, -0.0, 1e-07, 1E400, NaN, -Infinity]}',
        '"\\ud800 lone surrogate"',
        '"\\ud83e\\ude7a pair"',
        '{"k": 1, "k": 2}',
        " [ ] ",
    ],
)
def test_fast_json_reads_what_json_reads(text: str) -> None:
    expected = json.loads(text)
    for given in (text, text.encode("utf-8", "surrogatepass")):
        # Written back by json: NaN equals NaN, 1 differs from 1.0, -0.0 from 0.
        assert json.dumps(fastjson.loads(given)) == json.dumps(expected)


@pytest.mark.parametrize("text", ['{"a": ', "[1,]", "\xff", ""])
def test_fast_json_refuses_what_json_refuses(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - json's and orjson's errors are both ValueError
        fastjson.loads(text)


def test_fast_json_writes_what_orjson_cannot_as_json_did() -> None:
    assert json.loads(fastjson.dumps({"big": 2**70, 1: "non-string key"})) == {
        "big": 2**70,
        "1": "non-string key",
    }
    assert fastjson.loads(fastjson.dumps("\ud800")) == "\ud800"


def test_a_commit_with_text_that_is_not_utf8_is_stored_escaped() -> None:
    envelope = envelopes()[0]
    odd = envelope.model_copy(update={"data": {**envelope.data, "text": "lone \udc00"}})
    assert decode_events(encode_events([odd]), 1)[0].data["text"] == "lone \udc00"
