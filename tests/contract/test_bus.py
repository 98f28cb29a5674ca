"""The Bus contract: one suite, run against the in-process bus and against Kafka.

Each test gets its own topic namespace and consumer groups, so tests never see each other's
records. The Kafka tests need the broker named by MEDOFFICE_KAFKA_BOOTSTRAP and fail without it.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import CommitFailedError

from shared.bus.delivery import with_dead_letters
from shared.bus.inprocess import InProcessBus
from shared.bus.kafka import KafkaBus
from shared.bus.port import BadPosition, Bus, BusUnavailable, MessageHandler, Subscription
from shared.cloudevents import Message, dead_letter_topic, events_topic, from_message, to_message
from shared.events import Envelope
from shared.eventstore.port import StoreUnavailable
from shared.sqlite import SqliteDatabase
from tests.support import wait_until

RETRY_DELAY = 0.2


class Harness:
    """A bus under test, one topic of its own, and the subscriptions to stop afterwards."""

    def __init__(self, bus: Bus, unique: str) -> None:
        self.bus = bus
        self.unique = unique
        self.topic = events_topic("x", namespace=f"{unique}.")
        self.dlq = dead_letter_topic(self.topic)
        self._subscriptions: list[Subscription] = []
        self.stopped = False

    def group(self, name: str) -> str:
        return f"{self.unique}-{name}"

    async def subscribe(
        self, group: str, handler: MessageHandler, topics: Sequence[str] | None = None
    ) -> Subscription:
        subscription = await self.bus.subscribe(group, topics or [self.topic], handler)
        self._subscriptions.append(subscription)
        return subscription

    async def stop(self) -> None:
        self.stopped = True
        await self.bus.stop()

    async def close(self) -> None:
        for subscription in self._subscriptions:
            await subscription.stop()
        if not self.stopped:
            await self.stop()


class Recorder:
    """A handler that keeps what it was given, and can be told to fail."""

    def __init__(self) -> None:
        self.batches: list[list[Message]] = []
        self.handled: list[Message] = []
        self.failures_left = 0
        self.error: Exception = RuntimeError("handler failed")

    async def __call__(self, batch: Sequence[Message]) -> None:
        self.batches.append(list(batch))
        if self.failures_left:
            self.failures_left -= 1
            raise self.error
        self.handled.extend(batch)

    def ids(self) -> list[str]:
        return [m.headers["ce_id"] for m in self.handled]

    async def has(self, count: int) -> bool:
        return len(self.handled) >= count


@pytest.fixture(
    params=[
        pytest.param("inprocess"),
        pytest.param("kafka", marks=pytest.mark.integration),
    ]
)
async def harness(
    request: pytest.FixtureRequest, tmp_path: Path, unique: str
) -> AsyncIterator[Harness]:
    if request.param == "inprocess":
        db = SqliteDatabase(tmp_path / "bus.db", durability="normal")
        bus: Bus = InProcessBus(db, poll_interval=0.05, retry_delay=RETRY_DELAY)
        h = Harness(bus, unique)
        yield h
        await h.close()  # the in-process bus closes its database
    else:
        bootstrap: str = request.getfixturevalue("kafka_bootstrap")
        bus = KafkaBus(bootstrap, client_id=unique, retry_delay=RETRY_DELAY, poll_timeout=0.05)
        await bus.start()
        h = Harness(bus, unique)
        yield h
        await h.close()


def envelope(stream: str, version: int, type_: str = "medoffice.x.ThingHappened.v1") -> Envelope:
    return Envelope(
        id=f"{stream}-{version}",
        type=type_,
        source="/medoffice/x",
        subject=stream,
        time=datetime(2025, 3, 1, 9, 30, version % 60, tzinfo=UTC),
        stream=stream,
        stream_version=version,
        tenant="tenant-1",
        site="site-1",
        correlation_id=f"corr-{stream}",
        actor="user-1",
        data={"stream": stream, "version": version, "note": "café ✓"},
    )


def events(topic: str, streams: Sequence[str], per_stream: int, start: int = 1) -> list[Message]:
    """Records of several streams, interleaved as a busy outbox would publish them."""
    return [
        to_message(envelope(stream, version), topic)
        for version in range(start, start + per_stream)
        for stream in streams
    ]


def by_key(messages: Sequence[Message]) -> dict[str, list[Message]]:
    grouped: dict[str, list[Message]] = {}
    for m in messages:
        grouped.setdefault(m.key, []).append(m)
    return grouped


def wire(m: Message) -> tuple[str, str, dict[str, str], bytes]:
    return (m.topic, m.key, m.headers, m.value)


async def test_a_new_group_reads_everything_from_the_beginning_in_order_per_key(
    harness: Harness,
) -> None:
    sent = events(harness.topic, ["s-a", "s-b", "s-c"], per_stream=4)
    await harness.bus.publish(sent[:5])
    await harness.bus.publish(sent[5:])
    got = Recorder()

    await harness.subscribe(harness.group("reader"), got)

    await wait_until(lambda: got.has(len(sent)), message="all records")
    assert len(got.handled) == len(sent)
    received = by_key(got.handled)
    for key, expected in by_key(sent).items():
        assert [wire(m) for m in received[key]] == [wire(m) for m in expected]
    assert all(m.partition is not None and m.offset is not None for m in got.handled)


async def test_a_group_subscribed_before_the_topic_exists_gets_its_first_records(
    harness: Harness,
) -> None:
    got = Recorder()
    await harness.subscribe(harness.group("early"), got)
    sent = events(harness.topic, ["s-a"], per_stream=3)

    await harness.bus.publish(sent)

    await wait_until(lambda: got.has(len(sent)), message="records published after subscribe")
    assert [wire(m) for m in got.handled] == [wire(m) for m in sent]


async def test_two_groups_each_get_every_record(harness: Harness) -> None:
    sent = events(harness.topic, ["s-a", "s-b"], per_stream=3)
    await harness.bus.publish(sent)
    first, second = Recorder(), Recorder()

    await harness.subscribe(harness.group("first"), first)
    await harness.subscribe(harness.group("second"), second)

    await wait_until(lambda: first.has(len(sent)), message="first group")
    await wait_until(lambda: second.has(len(sent)), message="second group")
    assert sorted(first.ids()) == sorted(second.ids()) == sorted(m.headers["ce_id"] for m in sent)


async def test_a_batch_whose_handler_raises_comes_again(harness: Harness) -> None:
    sent = events(harness.topic, ["s-a", "s-b", "s-c"], per_stream=2)
    await harness.bus.publish(sent)
    got = Recorder()
    got.failures_left = 1

    await harness.subscribe(harness.group("retry"), got)

    await wait_until(lambda: got.has(len(sent)), message="redelivery after a failure")
    failed = got.batches[0]
    redelivered = {(m.partition, m.offset) for m in got.handled}
    assert {(m.partition, m.offset) for m in failed} <= redelivered
    assert sorted(got.ids()) == sorted(m.headers["ce_id"] for m in sent)
    group = harness.group("retry")
    await wait_until(lambda: _lag_is(harness.bus, group, [harness.topic], 0), message="commit")


async def test_a_restarted_group_gets_only_what_it_had_not_handled(harness: Harness) -> None:
    group = harness.group("restart")
    # One stream, so one partition: a wrongly redelivered record would come before the rest.
    handled_before = events(harness.topic, ["s-a"], per_stream=3)
    unhandled = events(harness.topic, ["s-a"], per_stream=3, start=4)
    unhandled_ids = {m.headers["ce_id"] for m in unhandled}
    first = Recorder()
    failed: list[list[Message]] = []

    async def fails_on_the_second_lot(batch: Sequence[Message]) -> None:
        if any(m.headers["ce_id"] in unhandled_ids for m in batch):
            failed.append(list(batch))
            raise StoreUnavailable("read model store down")
        await first(batch)

    async def attempted() -> bool:
        return bool(failed)

    await harness.bus.publish(handled_before)
    subscription = await harness.subscribe(group, fails_on_the_second_lot)
    await wait_until(lambda: first.has(len(handled_before)), message="first lot")
    await wait_until(lambda: _lag_is(harness.bus, group, [harness.topic], 0), message="commit")
    await harness.bus.publish(unhandled)
    await wait_until(attempted, message="a failed attempt at the second lot")
    await subscription.stop()
    assert not subscription.running
    assert await harness.bus.lag(group, [harness.topic]) == len(unhandled)

    second = Recorder()
    await harness.subscribe(group, second)

    await wait_until(lambda: second.has(len(unhandled)), message="the unhandled records")
    assert second.ids() == [m.headers["ce_id"] for m in unhandled]
    await wait_until(lambda: _lag_is(harness.bus, group, [harness.topic], 0), message="commit")


async def test_lag_counts_what_a_group_has_not_committed(harness: Harness) -> None:
    group = harness.group("lagging")
    assert await harness.bus.lag(group, [harness.topic]) == 0
    sent = events(harness.topic, ["s-a", "s-b"], per_stream=3)
    await harness.bus.publish(sent)
    assert await harness.bus.lag(group, [harness.topic]) == len(sent)
    got = Recorder()

    await harness.subscribe(group, got)

    await wait_until(lambda: _lag_is(harness.bus, group, [harness.topic], 0), message="no lag")
    assert len(got.handled) == len(sent)
    await harness.bus.publish(events(harness.topic, ["s-c"], per_stream=1))
    assert await harness.bus.lag(group, [harness.topic]) == 1
    assert await harness.bus.lag(harness.group("never"), [harness.topic]) == len(sent) + 1


async def test_poison_records_go_to_the_dead_letter_topic_and_the_rest_is_handled(
    harness: Harness,
) -> None:
    group = harness.group("projector")
    good = events(harness.topic, ["s-a", "s-b"], per_stream=2)
    unreadable = Message(topic=harness.topic, key="s-x", headers={}, value=b"not a CloudEvent")
    poison = to_message(envelope("s-p", 1, type_="medoffice.x.Poisonous.v1"), harness.topic)
    handled: list[Envelope] = []

    async def project(batch: Sequence[Envelope]) -> None:
        if any(e.type == "medoffice.x.Poisonous.v1" for e in batch):
            raise ValueError("cannot project a poisonous event")
        handled.extend(batch)

    await harness.bus.publish([good[0], unreadable, good[1], poison, *good[2:]])
    dead = Recorder()
    await harness.subscribe(group, with_dead_letters(harness.bus, group, project))
    await harness.subscribe(harness.group("dlq-reader"), dead, topics=[harness.dlq])

    async def all_good_handled() -> bool:
        return {e.id for e in handled} == {m.headers["ce_id"] for m in good}

    await wait_until(all_good_handled, message="the good records")
    await wait_until(lambda: dead.has(2), message="two dead letters")
    letters = {m.key: m for m in dead.handled}
    assert set(letters) == {"s-x", "s-p"}
    assert letters["s-x"].value == unreadable.value
    assert letters["s-x"].headers["dlq_error_type"] == "MalformedMessage"
    assert letters["s-p"].value == poison.value
    assert letters["s-p"].headers["dlq_error_type"] == "ValueError"
    assert letters["s-p"].headers["dlq_reason"] == "cannot project a poisonous event"
    assert letters["s-p"].headers["ce_id"] == poison.headers["ce_id"]
    for letter in letters.values():
        assert letter.topic == harness.dlq
        assert letter.headers["dlq_group"] == group
        assert letter.headers["dlq_topic"] == harness.topic
    await wait_until(lambda: _lag_is(harness.bus, group, [harness.topic], 0), message="commit")


async def test_an_unavailable_store_is_not_poison_the_batch_comes_again(
    harness: Harness,
) -> None:
    group = harness.group("projector")
    sent = events(harness.topic, ["s-a", "s-b"], per_stream=2)
    attempts = 0
    handled: list[Envelope] = []

    async def project(batch: Sequence[Envelope]) -> None:
        nonlocal attempts
        attempts += 1
        if attempts <= 2:
            raise StoreUnavailable("read model store down")
        handled.extend(batch)

    await harness.bus.publish(sent)
    await harness.subscribe(group, with_dead_letters(harness.bus, group, project))

    async def all_handled() -> bool:
        return {e.id for e in handled} == {m.headers["ce_id"] for m in sent}

    await wait_until(all_handled, message="the records after the store came back")
    await wait_until(lambda: _lag_is(harness.bus, group, [harness.topic], 0), message="commit")
    assert attempts >= 3
    assert await harness.bus.lag(harness.group("dlq-probe"), [harness.dlq]) == 0


async def test_reading_a_topic_pages_through_it_oldest_first_and_commits_nothing(
    harness: Harness,
) -> None:
    sent = events(harness.topic, ["s-a", "s-b", "s-c"], per_stream=3)
    for message in sent:  # one by one: their timestamps order them across partitions
        await harness.bus.publish([message])
    group = harness.group("projector")
    got = Recorder()
    await harness.subscribe(group, got)
    await wait_until(lambda: got.has(len(sent)), message="the group's records")

    read: list[Message] = []
    position: str | None = None
    pages = 0
    while True:
        page = await harness.bus.read(harness.topic, position, limit=4)
        pages += 1
        assert len(page.records) <= 4
        read += [record.message for record in page.records]
        if page.records:
            assert page.position == page.records[-1].position
        position = page.position
        if page.at_end:
            break
        assert pages < 10

    # Oldest first: within a key in order; across Kafka partitions by timestamps, which two
    # records of one millisecond share.
    assert len(read) == len(sent)
    received = by_key(read)
    for key, expected in by_key(sent).items():
        assert [wire(m) for m in received[key]] == [wire(m) for m in expected]
    assert all(m.partition is not None and m.offset is not None for m in read)
    again = await harness.bus.read(harness.topic, position, limit=4)
    assert again.records == ()
    assert again.at_end
    assert again.position == position
    more = events(harness.topic, ["s-d"], per_stream=1)
    await harness.bus.publish(more)
    tail = await harness.bus.read(harness.topic, position, limit=4)
    assert [wire(r.message) for r in tail.records] == [wire(m) for m in more]
    assert await harness.bus.lag(harness.group("never"), [harness.topic]) == len(sent) + 1


async def test_reading_resumes_after_any_record_it_handed_out(harness: Harness) -> None:
    sent = events(harness.topic, ["s-a", "s-b"], per_stream=2)
    for message in sent:
        await harness.bus.publish([message])

    first = await harness.bus.read(harness.topic, None, limit=10)
    second = await harness.bus.read(harness.topic, first.records[1].position, limit=10)

    assert len(first.records) == len(sent)
    assert [wire(r.message) for r in second.records] == [wire(r.message) for r in first.records[2:]]
    assert second.at_end


async def test_reading_an_empty_topic_or_from_a_foreign_position(harness: Harness) -> None:
    page = await harness.bus.read(harness.dlq, None, limit=5)
    assert page.records == ()
    assert page.at_end
    assert page.position is None
    for foreign in ("nonsense", "-1", "1:x", "1e3"):
        with pytest.raises(BadPosition):
            await harness.bus.read(harness.topic, foreign, limit=5)


async def test_ping_answers_while_the_broker_is_up(harness: Harness) -> None:
    await harness.bus.ping()


async def test_stopping_the_bus_stops_its_subscriptions(harness: Harness) -> None:
    await harness.bus.publish(events(harness.topic, ["s-a"], per_stream=1))
    got = Recorder()
    subscription = await harness.bus.subscribe(harness.group("reader"), [harness.topic], got)
    await wait_until(lambda: got.has(1), message="the record")

    await harness.stop()

    assert not subscription.running


# Kafka only: what the adapter promises beyond the port.


@pytest.mark.integration
async def test_a_plain_kafka_client_reads_what_the_kafka_bus_published(
    kafka_bootstrap: str, unique: str
) -> None:
    topic = events_topic("x", namespace=f"{unique}.")
    sent = to_message(envelope("appointment-1", 1), topic)
    bus = KafkaBus(kafka_bootstrap, client_id=unique)
    await bus.start()
    try:
        await bus.publish([sent])
    finally:
        await bus.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), timeout=15)
    finally:
        await consumer.stop()

    assert record.key == b"appointment-1"
    assert record.value == sent.value
    assert json.loads(record.value) == envelope("appointment-1", 1).data
    headers = {name: value.decode() for name, value in record.headers}
    assert headers == sent.headers
    assert headers["content-type"] == "application/json"
    assert headers["ce_type"] == "medoffice.x.ThingHappened.v1"
    assert headers["ce_specversion"] == "1.0"
    read_back = Message(topic=topic, key=record.key.decode(), headers=headers, value=record.value)
    assert from_message(read_back) == envelope("appointment-1", 1)


@pytest.mark.integration
async def test_kafka_buses_of_two_deployments_never_share_a_consumer_group(
    kafka_bootstrap: str, unique: str
) -> None:
    """Group names are the same in every deployment (`compliance.audit-ledger`); the group
    prefix keeps two deployments on one cluster from joining one group and splitting the
    partitions between them."""
    topic = events_topic("x", namespace=f"{unique}.")
    buses = [
        KafkaBus(
            kafka_bootstrap, client_id=unique, poll_timeout=0.05, group_prefix=f"{unique}.{n}."
        )
        for n in (1, 2)
    ]
    recorders = [Recorder(), Recorder()]
    subscriptions: list[Subscription] = []
    try:
        for bus, got in zip(buses, recorders, strict=True):
            await bus.start()
            subscriptions.append(await bus.subscribe("same-name", [topic], got))
        await buses[0].publish([to_message(envelope(f"s-{n}", 1), topic) for n in range(12)])
        for bus, got in zip(buses, recorders, strict=True):
            await wait_until(functools.partial(got.has, 12), message="every record, in each")
            await wait_until(
                functools.partial(_lag_is, bus, "same-name", [topic], 0), message="its commit"
            )
    finally:
        for subscription in subscriptions:
            await subscription.stop()
        for bus in buses:
            await bus.stop()

    assert sorted(recorders[0].ids()) == sorted(recorders[1].ids())


@pytest.mark.integration
async def test_kafka_topics_keep_their_records_forever(kafka_bootstrap: str, unique: str) -> None:
    topic = events_topic("x", namespace=f"{unique}.")
    bus = KafkaBus(kafka_bootstrap, client_id=unique)
    await bus.start()
    try:
        await bus.publish([to_message(envelope("s-a", 1), topic)])
    finally:
        await bus.stop()

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic)]
        )
    finally:
        await admin.close()
    [resource] = described.to_object()["resources"]
    configs = {entry["config_names"]: entry["config_value"] for entry in resource["config_entries"]}
    assert configs["retention.ms"] == "-1"


@pytest.mark.integration
async def test_a_foreign_record_with_unreadable_headers_is_delivered_not_skipped(
    kafka_bootstrap: str, unique: str
) -> None:
    topic = events_topic("x", namespace=f"{unique}.")
    bus = KafkaBus(kafka_bootstrap, client_id=unique, poll_timeout=0.05)
    await bus.start()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        await bus.lag(f"{unique}-probe", [topic])  # the bus creates the topic first
        await producer.send_and_wait(
            topic, b"{}", key=b"s-a", headers=[("empty", None), ("binary", b"\xff\xfe")]
        )
    finally:
        await producer.stop()
    await bus.publish([to_message(envelope("s-a", 2), topic)])
    got = Recorder()
    group = f"{unique}-reader"
    subscription = await bus.subscribe(group, [topic], got)
    try:
        await wait_until(lambda: got.has(2), message="both records")
        await wait_until(lambda: _lag_is(bus, group, [topic], 0), message="commit")
    finally:
        await subscription.stop()
        await bus.stop()

    foreign = got.handled[0]
    assert (foreign.key, foreign.value) == ("s-a", b"{}")
    assert foreign.headers == {"empty": "", "binary": "\ufffd\ufffd"}
    assert got.handled[1].headers["ce_id"] == "s-a-2"


class FailingCommits:
    """Makes the commits of one consumer group fail, as a broker restart or a rebalance does,
    while the real broker stays up: `failures_left` commits fail, then they go through."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, group: str) -> None:
        self.failures_left = 0
        self.failed = 0
        self.committed = 0
        real_commit = AIOKafkaConsumer.commit

        async def commit(consumer: AIOKafkaConsumer, offsets: object = None) -> None:
            if consumer._group_id == group and self.failures_left:
                self.failures_left -= 1
                self.failed += 1
                raise CommitFailedError("injected: the group rebalanced")
            await real_commit(consumer, offsets)
            if consumer._group_id == group:
                self.committed += 1

        monkeypatch.setattr(AIOKafkaConsumer, "commit", commit)


@pytest.mark.integration
async def test_kafka_commits_again_offsets_whose_commit_failed_with_no_new_record(
    kafka_bootstrap: str, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    topic = events_topic("x", namespace=f"{unique}.")
    group = f"{unique}-projection"
    commits = FailingCommits(monkeypatch, group)
    bus = KafkaBus(kafka_bootstrap, client_id=unique, retry_delay=RETRY_DELAY, poll_timeout=0.05)
    await bus.start()
    got = Recorder()
    try:
        first = events(topic, ["s-a", "s-b"], per_stream=2)
        await bus.publish(first)
        await bus.subscribe(group, [topic], got)
        await wait_until(lambda: _lag_is(bus, group, [topic], 0), message="the first commit")

        # The last record's commit fails twice; nothing is published after it.
        commits.failures_left = 2
        await bus.publish(events(topic, ["s-a"], per_stream=1, start=3))
        await wait_until(lambda: got.has(len(first) + 1), message="the last record")

        # `lag` reads the group's committed offsets, as /ops/projections does.
        await wait_until(lambda: _lag_is(bus, group, [topic], 0), message="the commit again")
        assert commits.failed == 2
        assert len(got.handled) == len(first) + 1
    finally:
        await bus.stop()


@pytest.mark.integration
async def test_kafka_stops_committing_again_when_the_subscription_stops(
    kafka_bootstrap: str, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    topic = events_topic("x", namespace=f"{unique}.")
    group = f"{unique}-projection"
    commits = FailingCommits(monkeypatch, group)
    commits.failures_left = 1_000_000
    bus = KafkaBus(kafka_bootstrap, client_id=unique, retry_delay=0.05, poll_timeout=0.05)
    await bus.start()
    got = Recorder()
    try:
        await bus.publish(events(topic, ["s-a"], per_stream=1))
        subscription = await bus.subscribe(group, [topic], got)

        async def retried() -> bool:
            return commits.failed >= 3

        await wait_until(retried, message="commits failing again and again")
        async with asyncio.timeout(15):
            await subscription.stop()
        # Stopped: no task is left to commit (the next owner starts at the last commit).
        assert not [t for t in asyncio.all_tasks() if t.get_name() == f"recommit-{group}"]
        assert await bus.lag(group, [topic]) == 1
    finally:
        await bus.stop()


@pytest.mark.integration
async def test_a_stopped_kafka_bus_connects_again_only_when_started(
    kafka_bootstrap: str, unique: str
) -> None:
    """A call in flight as the suite stops (a scrape's lag, a readiness ping) must not open
    clients again that nobody would close."""
    topic = events_topic("x", namespace=f"{unique}.")
    bus = KafkaBus(kafka_bootstrap, client_id=unique)
    await bus.start()
    await bus.stop()
    try:
        with pytest.raises(BusUnavailable):
            await bus.lag(f"{unique}-g", [topic])
        with pytest.raises(BusUnavailable):
            await bus.ping()

        await bus.start()
        assert await bus.lag(f"{unique}-g", [topic]) == 0
    finally:
        await bus.stop()


async def test_an_unreachable_kafka_is_reported_as_unavailable_within_a_bound() -> None:
    bus = KafkaBus("127.0.0.1:1", client_id="unreachable", ping_timeout=0.5)
    async with asyncio.timeout(10):
        with pytest.raises(BusUnavailable):
            await bus.start()
        with pytest.raises(BusUnavailable):
            await bus.ping()
        with pytest.raises(BusUnavailable):
            await bus.publish([to_message(envelope("s-a", 1), "medoffice.x.events")])
    await bus.stop()


async def _lag_is(bus: Bus, group: str, topics: Sequence[str], expected: int) -> bool:
    return await bus.lag(group, topics) == expected
