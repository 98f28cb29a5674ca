"""The scale-out bus: Apache Kafka through FastStream.

FastStream's `KafkaBroker` holds the connection, publishes, and runs one batch subscriber per
`subscribe` call. Subscribers are added after the broker started (`persistent=False`, so the
broker forgets a subscription once it is stopped) with `AckPolicy.MANUAL`, which gives explicit
ack-after-process: a batch is committed (`KafkaMessage.ack()`: the positions just consumed) only
once the handler returned. When the handler raises, every partition of the batch is rewound to
its first record and the subscriber pauses before fetching again. The rewind is ours rather than
`KafkaMessage.nack()`, which stops at the first partition a rebalance took away meanwhile and
leaves the others unrewound.

aiokafka, FastStream's driver, is used directly only where FastStream has no API: the admin
client creates topics with their configs (FastStream's `Topic` cannot carry `retention.ms`) and
reads a group's committed offsets, and a group-less consumer reads end offsets for `lag`.

Records go out as given: value bytes untouched (FastStream's codec passes bytes through), key =
stream id, our headers. FastStream's own `correlation_id` header is switched off (the event's
correlation id travels as `ce_correlationid`); the one header it still adds is an empty
`content-type` on a record that has none, which no record of ours lacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any, NoReturn, cast

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    ConsumerStoppedError,
    IllegalStateError,
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    TopicAlreadyExistsError,
    for_code,
)
from faststream.kafka import KafkaBroker, Topic
from faststream.kafka.message import ConsumerProtocol, KafkaMessage
from faststream.kafka.subscriber.usecase import BatchSubscriber
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy

from shared.bus.kafka_start import close_all, start_whole
from shared.bus.port import BadPosition, BusUnavailable, MessageHandler, ReadPage, ReadRecord
from shared.cloudevents import Message

log = structlog.get_logger(__name__)

Records = tuple["ConsumerRecord[bytes, bytes]", ...]
RecordsParser = Callable[[Records], Awaitable[StreamMessage[Any]]]

# Topics the bus creates keep their records forever: the event log is the history.
TOPIC_CONFIG = {"retention.ms": "-1"}
# How long a `read` may take to fetch its page, connecting included.
READ_TIMEOUT = 10.0
# The longest pause between two attempts to commit offsets whose commit failed.
MAX_COMMIT_RETRY_DELAY = 30.0


class KafkaSubscription:
    """One consumer group member: a FastStream batch subscriber and the handler it feeds.

    A batch is committed once its handler returned. A commit that fails (the broker restarting,
    the group rebalancing) is not left for the next batch to repair, because none may come: the
    batch's offsets are kept and committed again with a growing pause until that succeeds, or
    until the partition is revoked (its next owner then starts at the last commit and handles
    those records again, which handlers tolerate).
    """

    def __init__(
        self,
        group: str,
        handler: MessageHandler,
        retry_delay: float,
        max_commit_retry_delay: float = MAX_COMMIT_RETRY_DELAY,
        stop_timeout: float = 40.0,
    ) -> None:
        self.group = group
        self._handler = handler
        self._retry_delay = retry_delay
        self._stop_timeout = stop_timeout
        self._max_commit_retry_delay = max(max_commit_retry_delay, retry_delay)
        self._stopping = asyncio.Event()
        self._subscriber: BatchSubscriber | None = None
        # Offsets (next record) of handled batches whose commit failed, by partition.
        self._uncommitted: dict[TopicPartition, int] = {}
        self._commit_lock = asyncio.Lock()
        self._recommit: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        subscriber = self._subscriber
        return subscriber is not None and subscriber.running and not self._stopping.is_set()

    def bind(self, subscriber: BatchSubscriber) -> None:
        self._subscriber = subscriber

    def revoked(self, partitions: Iterable[TopicPartition]) -> None:
        """A rebalance took these partitions: their offsets are no longer ours to commit."""
        for tp in partitions:
            self._uncommitted.pop(tp, None)

    async def stop(self) -> None:
        """Finish the batch in hand (bounded by the graceful timeout), then leave the group.

        Leaving is bounded too: a consumer caught in a group join or a coordinator search does
        not see the stop until that ends, and a stopping process must not wait on the broker
        for ever. Past `stop_timeout` the consumer is abandoned; the broker drops the member
        when its session times out, and its uncommitted records come again to the next owner.
        """
        self._stopping.set()
        recommit, self._recommit = self._recommit, None
        if recommit is not None:
            recommit.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await recommit
        subscriber, self._subscriber = self._subscriber, None
        if subscriber is None:
            return
        try:
            async with asyncio.timeout(self._stop_timeout):
                await subscriber.stop()
        except TimeoutError:
            log.warning("consumer_left_unannounced", group=self.group, after=self._stop_timeout)

    async def on_batch(self, message: KafkaMessage) -> None:
        raw = message.raw_message
        records: Records = raw if isinstance(raw, tuple) else (raw,)
        try:
            await self._handler([_to_message(record) for record in records])
        except Exception as exc:  # noqa: BLE001 - not acked: the batch comes again after a pause
            log.warning(
                "consumer_batch_failed",
                group=self.group,
                records=len(records),
                error_type=type(exc).__name__,
            )
            _rewind(message.consumer, records)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._retry_delay)
            return
        async with self._commit_lock:
            try:
                await message.ack()
            except KafkaError as exc:
                for tp, offset in _next_offsets(records).items():
                    self._uncommitted[tp] = max(offset, self._uncommitted.get(tp, 0))
                log.warning(
                    "consumer_commit_failed",
                    group=self.group,
                    partitions=len(self._uncommitted),
                    error_type=type(exc).__name__,
                )
                self._retry_commit(message.consumer)
            else:
                # The ack committed the position of every assigned partition, which is past
                # these offsets (or back at the last commit after a reassignment, in which case
                # those records come again): nothing is left to commit again.
                self._uncommitted.clear()

    def _retry_commit(self, consumer: ConsumerProtocol) -> None:
        if self._recommit is None or self._recommit.done():
            self._recommit = asyncio.create_task(
                self._commit_again(cast("AIOKafkaConsumer", consumer)),
                name=f"recommit-{self.group}",
            )

    async def _commit_again(self, consumer: AIOKafkaConsumer) -> None:
        delay = self._retry_delay
        attempts = 0
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            if self._stopping.is_set():
                return
            attempts += 1
            async with self._commit_lock:
                assigned = consumer.assignment()
                for tp in [tp for tp in self._uncommitted if tp not in assigned]:
                    del self._uncommitted[tp]
                offsets = dict(self._uncommitted)
                if not offsets:
                    return
                try:
                    await consumer.commit(offsets)
                except KafkaError as exc:
                    delay = min(delay * 2, self._max_commit_retry_delay)
                    log.warning(
                        "consumer_commit_failed_again",
                        group=self.group,
                        partitions=len(offsets),
                        attempts=attempts,
                        retry_in=delay,
                        error_type=type(exc).__name__,
                    )
                    continue
                for tp, offset in offsets.items():
                    if self._uncommitted.get(tp) == offset:
                        del self._uncommitted[tp]
                log.info(
                    "consumer_offsets_committed_again",
                    group=self.group,
                    partitions=len(offsets),
                    attempts=attempts,
                )
                if not self._uncommitted:
                    return


class _Revocations(ConsumerRebalanceListener):  # type: ignore[misc]
    """Tells a subscription which partitions a rebalance took from it."""

    def __init__(self, subscription: KafkaSubscription) -> None:
        self._subscription = subscription

    def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        self._subscription.revoked(revoked)

    def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        pass


class KafkaBus:
    """The Bus port on Kafka. Nothing connects before `start()` (or the first call needing it).
    Once stopped, only `start()` connects again: a call still in flight as the suite stops (a
    scrape's lag, a readiness ping) is refused rather than opening clients nobody will close.
    """

    def __init__(
        self,
        bootstrap_servers: str | Sequence[str],
        client_id: str = "medoffice",
        *,
        retry_delay: float = 1.0,
        poll_timeout: float = 0.2,
        connect_timeout: float = 5.0,
        publish_timeout: float = 10.0,
        ping_timeout: float = 2.0,
        request_timeout: float = 30.0,
        session_timeout: float = 10.0,
        heartbeat_interval: float = 1.0,
        graceful_timeout: float = 10.0,
        partitions: int = 3,
        replication_factor: int = 1,
        create_topics: bool = True,
        group_prefix: str = "",
    ) -> None:
        if isinstance(bootstrap_servers, str):
            bootstrap_servers = bootstrap_servers.split(",")
        servers = [server.strip() for server in bootstrap_servers if server.strip()]
        self._servers = servers
        self._client_id = client_id
        # Prefixed to every consumer group, like the topic namespace to every topic: two
        # deployments (or tests) on one cluster never share a group and rebalance each other.
        self._group_prefix = group_prefix
        self._retry_delay = retry_delay
        self._poll_timeout_ms = int(poll_timeout * 1000)
        self._connect_timeout = connect_timeout
        self._publish_timeout = publish_timeout
        self._ping_timeout = ping_timeout
        self._request_timeout = request_timeout
        self._request_timeout_ms = int(request_timeout * 1000)
        self._session_timeout_ms = int(session_timeout * 1000)
        self._heartbeat_interval_ms = int(heartbeat_interval * 1000)
        self._partitions = partitions
        self._replication_factor = replication_factor
        # The batch in hand may take the graceful timeout, the LeaveGroup a request timeout.
        self._stop_timeout = graceful_timeout + request_timeout
        self._create_topics = create_topics
        self._broker = KafkaBroker(
            servers,
            client_id=client_id,
            acks="all",
            enable_idempotence=True,
            request_timeout_ms=self._request_timeout_ms,
            graceful_timeout=graceful_timeout,
            # Handlers get the FastStream message itself (see `_as_is`), not a decoded body.
            apply_types=False,
            id_generator=_no_correlation_id,
            logger=logging.getLogger(__name__),
            log_level=logging.DEBUG,
        )
        self._admin: AIOKafkaAdminClient | None = None
        self._offsets: AIOKafkaConsumer | None = None
        self._known_topics: set[str] = set()
        self._subscriptions: set[KafkaSubscription] = set()
        # Each watcher's consumer, and whether it has stopped in full (its sockets closed).
        self._followers: dict[AIOKafkaConsumer, asyncio.Event] = {}
        self._lock = asyncio.Lock()
        self._stopped = False

    async def start(self) -> None:
        self._stopped = False
        await self._start()

    async def _start(self) -> None:
        async with self._lock:
            if self._stopped:
                raise BusUnavailable("Kafka bus stopped")
            if self._admin is not None:
                return
            admin = AIOKafkaAdminClient(
                bootstrap_servers=self._servers,
                client_id=self._client_id,
                request_timeout_ms=self._request_timeout_ms,
            )
            offsets = AIOKafkaConsumer(
                bootstrap_servers=self._servers,
                client_id=self._client_id,
                group_id=None,
                enable_auto_commit=False,
                request_timeout_ms=self._request_timeout_ms,
            )
            try:
                # The admin client goes first: when the cluster is unreachable it fails, within
                # the connect timeout, before FastStream builds a producer it could not close.
                async with asyncio.timeout(self._connect_timeout):
                    await start_whole(admin.start(), admin.close, self._request_timeout)
                await start_whole(self._broker.start(), self._broker.stop, self._request_timeout)
                await start_whole(offsets.start(), offsets.stop, self._request_timeout)
            except BaseException as exc:  # a cancel too: close what started, then go on failing
                await close_all(offsets.stop, self._broker.stop, admin.close)
                if isinstance(exc, KafkaError | OSError | TimeoutError):
                    raise BusUnavailable(f"Kafka unreachable: {type(exc).__name__}") from exc
                raise
            self._admin, self._offsets = admin, offsets

    async def stop(self) -> None:
        self._stopped = True
        # At once: each leave is bounded by its own stop_timeout, and they would add up.
        stopped = await asyncio.gather(
            *(s.stop() for s in list(self._subscriptions)), return_exceptions=True
        )
        self._subscriptions.clear()
        # A watcher still iterating sees its consumer stopped and ends; one whose watch is
        # leaving (its consumer stopping in another task) is waited for, bounded.
        for follower, left in list(self._followers.items()):
            await follower.stop()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._stop_timeout):
                    await left.wait()
        async with self._lock:
            admin, offsets, self._admin, self._offsets = self._admin, self._offsets, None, None
            if admin is not None and offsets is not None:
                # Each client is closed even when closing another failed.
                await close_all(self._broker.stop, offsets.stop, admin.close)
        # A subscription that failed to stop is reported once every client is closed.
        for result in stopped:
            if isinstance(result, BaseException):
                raise result

    async def publish(self, messages: Sequence[Message]) -> None:
        if not messages:
            return
        await self._clients()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._publish_timeout
        sent: list[asyncio.Future[Any]] = []
        try:
            async with asyncio.timeout_at(deadline):
                await self._ensure_topics({m.topic for m in messages})
                # Queue every record first (one key stays on one partition, in order), then wait
                # for the acks=all acknowledgements of all of them.
                for m in messages:
                    future = await self._broker.publish(
                        m.value,
                        m.topic,
                        key=m.key.encode(),
                        headers=dict(m.headers),
                        no_confirm=True,
                    )
                    future.add_done_callback(_observe)
                    sent.append(future)
            _, pending = await asyncio.wait(sent, timeout=max(0.0, deadline - loop.time()))
        except TimeoutError as exc:
            raise BusUnavailable("Kafka did not take the records in time") from exc
        except KafkaError as exc:
            _raise_unavailable_or(exc)
        if pending:
            raise BusUnavailable("Kafka did not acknowledge the records in time")
        for future in sent:
            if (error := future.exception()) is not None:
                _raise_unavailable_or(error)

    async def subscribe(
        self,
        group: str,
        topics: Sequence[str],
        handler: MessageHandler,
        *,
        max_batch: int = 500,
    ) -> KafkaSubscription:
        await self._ensure_topics(topics)
        group = self._group_prefix + group
        subscription = KafkaSubscription(
            group, handler, self._retry_delay, stop_timeout=self._stop_timeout
        )
        subscriber = self._broker.subscriber(
            # declare=False: the topics exist already, made by `_ensure_topics` with our configs.
            *(Topic(topic, declare=False) for topic in topics),
            batch=True,
            group_id=group,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            max_records=max_batch,
            batch_timeout_ms=self._poll_timeout_ms,
            session_timeout_ms=self._session_timeout_ms,
            heartbeat_interval_ms=self._heartbeat_interval_ms,
            parser=_readable_headers,
            decoder=_as_is,
            persistent=False,
            include_in_schema=False,
            listener=_Revocations(subscription),
        )
        subscriber(subscription.on_batch)
        subscription.bind(subscriber)
        try:
            # A rebuild cancelled as it subscribes: the consumer's start ends, then it stops.
            await start_whole(subscriber.start(), subscription.stop, self._request_timeout)
        except (KafkaError, OSError) as exc:
            await subscription.stop()
            _raise_unavailable_or(exc)
        # Remember the live ones only, for `stop()`: rebuilds come and go.
        self._subscriptions = {s for s in self._subscriptions if s.running} | {subscription}
        return subscription

    async def lag(self, group: str, topics: Sequence[str]) -> int:
        await self._ensure_topics(topics)
        admin, offsets = await self._clients()
        try:
            described = await admin.describe_topics(list(topics))
            partitions = [
                TopicPartition(topic["topic"], partition["partition"])
                for topic in described
                for partition in topic["partitions"]
            ]
            if not partitions:
                return 0
            committed = await admin.list_consumer_group_offsets(
                self._group_prefix + group, partitions=partitions
            )
            beginning = await offsets.beginning_offsets(partitions)
            end = await offsets.end_offsets(partitions)
        except KafkaError as exc:
            _raise_unavailable_or(exc)
        total = 0
        for tp in partitions:
            done = committed[tp].offset if tp in committed else -1
            total += end[tp] - max(done, beginning[tp])
        return total

    async def read(self, topic: str, after: str | None, limit: int) -> ReadPage:
        """A page of `topic` through a consumer of no group: it assigns itself the partitions,
        seeks, fetches and leaves, committing nothing. A position names the next offset of
        every partition read so far ("0:12,1:7"); the records of all partitions are merged
        oldest first by their timestamps."""
        start = _partition_offsets(after)
        limit = max(1, limit)
        await self._ensure_topics([topic])
        admin, offsets = await self._clients()
        try:
            described = await admin.describe_topics([topic])
            partitions = [
                TopicPartition(topic, partition["partition"])
                for entry in described
                for partition in entry["partitions"]
            ]
            beginning = await offsets.beginning_offsets(partitions)
            end = await offsets.end_offsets(partitions)
        except KafkaError as exc:
            _raise_unavailable_or(exc)
        next_offsets = {
            tp.partition: max(start.get(tp.partition, 0), beginning[tp]) for tp in partitions
        }
        pending = {tp: end[tp] for tp in partitions if end[tp] > next_offsets[tp.partition]}
        fetched = await self._fetch(pending, next_offsets, limit) if pending else []
        fetched.sort(key=lambda r: (r.timestamp, r.partition, r.offset))
        records: list[ReadRecord] = []
        for record in fetched[:limit]:
            next_offsets[record.partition] = record.offset + 1
            records.append(ReadRecord(_to_message(record), _position_text(next_offsets)))
        at_end = all(next_offsets[tp.partition] >= end[tp] for tp in partitions)
        position = _position_text(next_offsets) if records else after
        return ReadPage(tuple(records), position, at_end)

    async def _fetch(
        self, until: dict[TopicPartition, int], start: dict[int, int], limit: int
    ) -> list[ConsumerRecord[bytes, bytes]]:
        """Up to `limit` records of each partition from `start`, short of its end offset."""
        reader = AIOKafkaConsumer(
            bootstrap_servers=self._servers,
            client_id=self._client_id,
            group_id=None,
            enable_auto_commit=False,
            request_timeout_ms=self._request_timeout_ms,
        )
        got: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]] = {tp: [] for tp in until}
        try:
            async with asyncio.timeout(READ_TIMEOUT):
                await start_whole(reader.start(), reader.stop, self._request_timeout)
                reader.assign(list(until))
                for tp in until:
                    reader.seek(tp, start[tp.partition])
                while wanted := [
                    tp
                    for tp in until
                    if len(got[tp]) < limit and await reader.position(tp) < until[tp]
                ]:
                    batches = await reader.getmany(*wanted, timeout_ms=200, max_records=limit)
                    for tp, batch in batches.items():
                        room = limit - len(got[tp])
                        got[tp] += [r for r in batch if r.offset < until[tp]][:room]
        except TimeoutError as exc:
            raise BusUnavailable("Kafka did not hand over the records in time") from exc
        except KafkaError as exc:
            _raise_unavailable_or(exc)
        finally:
            await reader.stop()
        return [record for batch in got.values() for record in batch]

    async def ping(self) -> None:
        await self._clients()
        if not await self._broker.ping(self._ping_timeout):
            raise BusUnavailable("Kafka cluster metadata unavailable")

    @contextlib.asynccontextmanager
    async def follow(self, topics: Sequence[str]) -> AsyncIterator[AsyncIterator[Message]]:
        """A group-less consumer assigned every partition of `topics`, each at its end offset
        (resolved before the block is entered), stopped when the block is left."""
        await self._ensure_topics(topics)
        admin, _ = await self._clients()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._servers,
            client_id=f"{self._client_id}-tail",
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="latest",
            request_timeout_ms=self._request_timeout_ms,
        )
        self._followers[consumer] = asyncio.Event()
        try:
            try:
                async with asyncio.timeout(self._connect_timeout):
                    await start_whole(consumer.start(), consumer.stop, self._request_timeout)
                    described = await admin.describe_topics(list(topics))
                    partitions = [
                        TopicPartition(topic["topic"], partition["partition"])
                        for topic in described
                        for partition in topic["partitions"]
                    ]
                    consumer.assign(partitions)
                    await consumer.seek_to_end(*partitions)
                    for tp in partitions:  # the end offsets, fetched now: the start is fixed
                        await consumer.position(tp)
            except (KafkaError, OSError, TimeoutError) as exc:
                _raise_unavailable_or(exc)
            records = self._followed(consumer)
            try:
                yield records
            finally:
                await records.aclose()
        finally:
            try:
                await consumer.stop()
            finally:
                self._followers.pop(consumer).set()

    @property
    def following(self) -> int:
        return len(self._followers)

    async def _followed(self, consumer: AIOKafkaConsumer) -> AsyncGenerator[Message, None]:
        while True:
            try:
                fetched = await consumer.getmany(timeout_ms=1000, max_records=500)
            except ConsumerStoppedError:
                return  # the bus stopped
            for batch in fetched.values():
                for record in batch:
                    yield _to_message(record)

    async def _clients(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        if self._admin is None or self._offsets is None:
            await self._start()
        if self._admin is None or self._offsets is None:
            raise BusUnavailable("Kafka bus stopped")
        return self._admin, self._offsets

    async def _ensure_topics(self, topics: Iterable[str]) -> None:
        """Create topics the first time the bus meets them; one that exists already is fine."""
        missing = sorted(set(topics) - self._known_topics)
        admin, _ = await self._clients()
        if not missing:
            return
        if not self._create_topics:
            self._known_topics.update(missing)
            return
        new = [
            NewTopic(topic, self._partitions, self._replication_factor, topic_configs=TOPIC_CONFIG)
            for topic in missing
        ]
        try:
            response = await admin.create_topics(new)
        except KafkaError as exc:
            _raise_unavailable_or(exc)
        for topic, code, message in _topic_errors(response):
            if code:
                error = for_code(code)(message or f"error code {code}")
                if not isinstance(error, TopicAlreadyExistsError):
                    raise error
            self._known_topics.add(topic)


def _topic_errors(response: Any) -> list[tuple[str, int, str | None]]:
    return [
        (entry["topic"], entry["error_code"], entry.get("error_message"))
        for entry in response.to_object()["topic_errors"]
    ]


def _to_message(record: ConsumerRecord[bytes, bytes]) -> Message:
    return Message(
        topic=record.topic,
        key=(record.key or b"").decode("utf-8", "replace"),
        headers={name: value.decode("utf-8", "replace") for name, value in record.headers},
        value=record.value or b"",
        partition=record.partition,
        offset=record.offset,
    )


def _partition_offsets(position: str | None) -> dict[int, int]:
    if position is None:
        return {}
    offsets: dict[int, int] = {}
    for part in position.split(","):
        partition, _, offset = part.partition(":")
        if not (_is_number(partition) and _is_number(offset)):
            raise BadPosition(f"not a position of this bus: {position[:40]!r}")
        offsets[int(partition)] = int(offset)
    return offsets


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 18


def _position_text(offsets: dict[int, int]) -> str:
    return ",".join(f"{partition}:{offset}" for partition, offset in sorted(offsets.items()))


def _next_offsets(records: Records) -> dict[TopicPartition, int]:
    """Per partition, the offset a commit of these records names: the next one to read."""
    offsets: dict[TopicPartition, int] = {}
    for record in records:
        tp = TopicPartition(record.topic, record.partition)
        offsets[tp] = max(offsets.get(tp, 0), record.offset + 1)
    return offsets


def _rewind(consumer: ConsumerProtocol, records: Records) -> None:
    """Seek each partition of the batch back to its first record, so it is fetched again."""
    first: dict[TopicPartition, int] = {}
    for record in records:
        tp = TopicPartition(record.topic, record.partition)
        first[tp] = min(first.get(tp, record.offset), record.offset)
    for tp, offset in first.items():
        # Revoked by a rebalance meanwhile: its new owner starts at the last commit anyway.
        with contextlib.suppress(IllegalStateError):
            consumer.seek(tp, offset)


async def _readable_headers(records: Records, parse: RecordsParser) -> StreamMessage[Any]:
    """FastStream decodes every header as strict UTF-8 before any handler runs, and a record it
    cannot parse is neither acked nor rewound: it would be skipped. A null or non-UTF-8 header
    value from a foreign producer is made readable here instead."""
    return await parse(tuple(_with_text_headers(record) for record in records))


def _with_text_headers(record: ConsumerRecord[bytes, bytes]) -> ConsumerRecord[bytes, bytes]:
    headers = tuple((name, _text(value)) for name, value in record.headers)
    if all(new is old for (_, new), (_, old) in zip(headers, record.headers, strict=True)):
        return record
    return dataclasses.replace(record, headers=headers)


def _text(value: bytes | None) -> bytes:
    if value is None:
        return b""
    try:
        value.decode()
    except UnicodeDecodeError:
        return value.decode("utf-8", "replace").encode()
    return value


async def _as_is(message: StreamMessage[Any]) -> StreamMessage[Any]:
    """The 'decoded body' a handler gets is the message: records plus ack, nothing parsed."""
    return message


def _no_correlation_id() -> str:
    return ""


def _observe(future: asyncio.Future[Any]) -> None:
    # A publish that gave up early leaves later futures unawaited: retrieve their errors.
    if not future.cancelled():
        future.exception()


def _raise_unavailable_or(error: BaseException) -> NoReturn:
    """Connection trouble becomes BusUnavailable; any other Kafka error is a real fault."""
    if isinstance(error, KafkaConnectionError | KafkaTimeoutError | OSError) or getattr(
        error, "retriable", False
    ):
        raise BusUnavailable(f"Kafka unavailable: {type(error).__name__}") from error
    raise error
