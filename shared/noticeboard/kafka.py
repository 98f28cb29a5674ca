"""The Noticeboard on a Kafka topic (unlimited retention; made with 3 partitions when missing,
as the bus makes its topics, or declared in deploy/k8s/base/topics.yaml): records keyed by
their key, so a key's records stay on one partition, in order; reading scans every partition
from its start to the end offset found when it starts."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from shared.bus.kafka_start import close_all, start_whole
from shared.bus.port import BusUnavailable


class KafkaNoticeboard:
    def __init__(
        self,
        bootstrap: str,
        topic: str,
        partitions: int = 3,
        replication_factor: int = 1,
        timeout: float = 10.0,
    ) -> None:
        self._servers = [s.strip() for s in bootstrap.split(",") if s.strip()]
        self.topic = topic
        self._partitions = partitions
        self._replication_factor = replication_factor
        self._timeout = timeout
        self._timeout_ms = int(timeout * 1000)
        self._producer: AIOKafkaProducer | None = None
        self._numbers: list[int] = []  # the topic's partitions, as the cluster describes it
        self._lock = asyncio.Lock()

    async def _ensure(self) -> AIOKafkaProducer:
        async with self._lock:
            if self._producer is not None:
                return self._producer
            # Every request is bounded by the timeout, so a start left to end on its own (see
            # `start_whole`) ends within it.
            admin = AIOKafkaAdminClient(
                bootstrap_servers=self._servers, request_timeout_ms=self._timeout_ms
            )
            producer = AIOKafkaProducer(
                bootstrap_servers=self._servers,
                acks="all",
                enable_idempotence=True,
                request_timeout_ms=self._timeout_ms,
            )
            try:
                async with asyncio.timeout(self._timeout):
                    await start_whole(admin.start(), admin.close, self._timeout)
                    topic = NewTopic(
                        self.topic,
                        self._partitions,
                        self._replication_factor,
                        topic_configs={"retention.ms": "-1"},
                    )
                    try:
                        await admin.create_topics([topic])
                    except TopicAlreadyExistsError:
                        pass
                    self._numbers = await self._partitions_of(admin)
                    await start_whole(producer.start(), producer.stop, self._timeout)
            except BaseException as exc:  # a cancel too: close the producer, then go on failing
                await close_all(producer.stop, admin.close)
                if isinstance(exc, KafkaError | OSError | TimeoutError):
                    raise BusUnavailable(f"Kafka unreachable: {type(exc).__name__}") from exc
                raise
            try:
                await admin.close()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
            return producer

    async def _partitions_of(self, admin: AIOKafkaAdminClient) -> list[int]:
        """The topic's partition numbers (a topic just made may not be described at once)."""
        while True:
            for described in await admin.describe_topics([self.topic]):
                if described["topic"] == self.topic and described["partitions"]:
                    return sorted(int(p["partition"]) for p in described["partitions"])
            await asyncio.sleep(0.1)

    async def publish(self, records: Sequence[tuple[str, bytes]]) -> None:
        if not records:
            return
        producer = await self._ensure()
        try:
            async with asyncio.timeout(self._timeout):
                sent = [await producer.send(self.topic, v, key=k.encode()) for k, v in records]
                await asyncio.gather(*sent)
        except (KafkaError, TimeoutError) as exc:
            raise BusUnavailable(f"Kafka did not take the records: {type(exc).__name__}") from exc

    async def read(self, key: str) -> list[bytes]:
        await self._ensure()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._servers,
            group_id=None,
            enable_auto_commit=False,
            request_timeout_ms=self._timeout_ms,
        )
        wanted = key.encode()
        found: list[bytes] = []
        try:
            async with asyncio.timeout(self._timeout):
                await start_whole(consumer.start(), consumer.stop, self._timeout)
                partitions = [TopicPartition(self.topic, n) for n in self._numbers]
                consumer.assign(partitions)
                await consumer.seek_to_beginning(*partitions)
                ends = await consumer.end_offsets(partitions)
                for partition in partitions:
                    end = ends[partition]
                    while await consumer.position(partition) < end:
                        batch = await consumer.getmany(partition, timeout_ms=500)
                        for record in batch.get(partition, []):
                            if record.offset < end and record.key == wanted and record.value:
                                found.append(record.value)
        except (KafkaError, TimeoutError) as exc:
            raise BusUnavailable(f"Kafka could not be read: {type(exc).__name__}") from exc
        finally:
            await consumer.stop()
        return found

    async def close(self) -> None:
        async with self._lock:
            if self._producer is not None:
                await self._producer.stop()
                self._producer = None
