"""The projection runner on real backends: redelivery, poison events, rebuild and switch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.scheduling.domain.events import AppointmentBooked, SiteRegistered, registry
from services.scheduling.projections.appointments import APPOINTMENTS, AppointmentsProjection
from shared.backends import Backends, open_backends
from shared.cloudevents import Message, dead_letter_topic, to_message
from shared.documents.port import Document, DocumentStore, Filter, Sort, Write
from shared.events import DomainEvent, Envelope, EventRegistry, Metadata, seal
from shared.projections import NewDocuments, ProjectionRunner, StaleBatch, View, skipped_types
from shared.readmodels import REGISTRY, ReadModels, physical, public
from shared.settings import Settings
from tests.support import drop_test_data, wait_until

T0 = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


def booking(n: int, stream: str | None = None, version: int = 1) -> Envelope:
    event = AppointmentBooked(
        appointment_id=f"a{n}",
        patient_id="p",
        provider_id="dr-a",
        site_id="north",
        room_id=None,
        visit_type_id="v",
        start=T0 + timedelta(hours=n),
        end=T0 + timedelta(hours=n, minutes=30),
        booked_at=T0,
    )
    return seal(
        event,
        stream=stream or f"acme:provider-day:dr-a:day{n}",
        stream_version=version,
        meta=Metadata(tenant="acme", correlation_id="c"),
        event_id=f"e{n}-{version}",
        time=T0,
    )


@pytest.fixture
async def backends(settings: Settings) -> AsyncIterator[Backends]:
    backends = await open_backends(settings)
    yield backends
    await backends.close()
    await drop_test_data(settings, backends.databases)


@pytest.fixture
async def runner(backends: Backends) -> AsyncIterator[ProjectionRunner]:
    read_models = ReadModels(await backends.documents("scheduling"))
    runner = ProjectionRunner(
        AppointmentsProjection(), read_models, backends.bus, registry, backends.settings.topic
    )
    await runner.start()
    yield runner
    await runner.stop()


async def publish(backends: Backends, *envelopes: Envelope) -> None:
    topic = backends.settings.topic("scheduling")
    await backends.bus.publish([to_message(e, topic) for e in envelopes])


async def caught_up(runner: ProjectionRunner) -> None:
    await wait_until(lambda: _zero_lag(runner), message="the projection to catch up")


async def _zero_lag(runner: ProjectionRunner) -> bool:
    return await runner.lag() == 0


async def documents(backends: Backends) -> list[dict[str, object]]:
    read_models = ReadModels(await backends.documents("scheduling"))
    docs = await read_models.find("scheduling.appointments", APPOINTMENTS)
    return [d for d in map(public, docs) if d is not None]


async def test_redelivered_events_change_nothing(
    backends: Backends, runner: ProjectionRunner
) -> None:
    await publish(backends, booking(1), booking(2))
    await caught_up(runner)
    before = await documents(backends)

    await publish(backends, booking(1), booking(2), booking(1))
    await caught_up(runner)

    assert await documents(backends) == before
    assert len(before) == 2


async def test_poison_and_unknown_events_go_to_the_dead_letter_topic(
    backends: Backends, runner: ProjectionRunner
) -> None:
    topic = backends.settings.topic("scheduling")
    unknown = to_message(booking(3), topic)
    unknown = unknown.model_copy(
        update={"headers": {**unknown.headers, "ce_type": "medoffice.scheduling.Teleported.v1"}}
    )
    garbage = Message(topic=topic, key="k", headers={"x": "y"}, value=b"not json")
    malformed = to_message(booking(4), topic).model_copy(update={"value": b'{"start": 1}'})
    await backends.bus.publish([unknown, garbage, malformed])
    await publish(backends, booking(5))
    await caught_up(runner)

    dead: list[Message] = []

    async def collect(messages: object) -> None:
        assert isinstance(messages, list | tuple)
        dead.extend(messages)

    subscription = await backends.bus.subscribe("dlq-reader", [dead_letter_topic(topic)], collect)
    try:
        await wait_until(_enough(dead, 3), message="three dead letters")
    finally:
        await subscription.stop()
    reasons = sorted(m.headers["dlq_error_type"] for m in dead)
    assert reasons == ["MalformedEvent", "MalformedMessage", "UnknownEventType"]
    assert all(m.headers["dlq_group"] == runner.group(1) for m in dead)
    assert [d["appointment_id"] for d in await documents(backends)] == ["a5"]


def _enough(items: list[Message], n: int):  # type: ignore[no-untyped-def]
    async def probe() -> bool:
        return len(items) >= n

    return probe


async def test_rebuild_fills_a_shadow_generation_and_switches(
    backends: Backends, runner: ProjectionRunner
) -> None:
    await publish(backends, *(booking(n) for n in range(1, 21)))
    await caught_up(runner)
    before = await documents(backends)

    generation = await runner.rebuild(timeout=60)

    assert generation == 2
    assert await documents(backends) == before
    read_models = ReadModels(await backends.documents("scheduling"))
    assert await read_models.generation("scheduling.appointments") == 2
    await publish(backends, booking(21))
    await caught_up(runner)
    assert len(await documents(backends)) == 21


async def test_a_rebuild_that_meets_another_writer_reads_before_writing(
    backends: Backends,
) -> None:
    store = await backends.documents("scheduling")
    projection = AppointmentsProjection()
    first = booking(1)
    other_writer = View(store, 2)
    await projection.apply(registry.decode(first), first, other_writer)
    await other_writer.flush()

    new = NewDocuments(fresh=True)
    assuming = View(store, 2, new)
    await projection.apply(registry.decode(first), first, assuming)
    with pytest.raises(StaleBatch):
        await assuming.flush()  # it took the document for absent: the insert must fail

    new.contested()
    reading = View(store, 2, new)
    await projection.apply(registry.decode(first), first, reading)
    assert await reading.flush() == set()  # it read the document and saw the event applied


class GatedAppointments(AppointmentsProjection):
    """The appointments projection, held at a gate the test opens."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.gate.set()

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        await self.gate.wait()
        await super().apply(event, envelope, view)


async def test_the_old_read_model_serves_until_the_rebuild_switches(backends: Backends) -> None:
    read_models = ReadModels(await backends.documents("scheduling"))
    projection = GatedAppointments()
    runner = ProjectionRunner(
        projection, read_models, backends.bus, registry, backends.settings.topic
    )
    await runner.start()
    try:
        await publish(backends, *(booking(n) for n in range(1, 6)))
        await caught_up(runner)
        before = await documents(backends)

        projection.gate.clear()
        rebuilding = asyncio.create_task(runner.rebuild(timeout=60))

        async def started() -> bool:
            return runner.rebuilding == 2

        await wait_until(started, message="the rebuild to start")
        assert await read_models.generation("scheduling.appointments") == 1
        assert await documents(backends) == before

        projection.gate.set()
        assert await rebuilding == 2
        assert await read_models.generation("scheduling.appointments") == 2
        assert await documents(backends) == before
    finally:
        projection.gate.set()
        await runner.stop()


class CountingReads:
    """A document store that counts the reads of projected documents (not the registry's)."""

    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self.reads = 0

    async def get(self, collection: str, doc_id: str) -> Document | None:
        self.reads += collection != REGISTRY
        return await self._store.get(collection, doc_id)

    async def get_many(self, collection: str, doc_ids: Sequence[str]) -> dict[str, Document]:
        self.reads += 1
        return await self._store.get_many(collection, doc_ids)

    async def find(
        self,
        collection: str,
        where: Filter | None = None,
        sort: Sort = (),
        limit: int | None = None,
    ) -> list[Document]:
        return await self._store.find(collection, where, sort, limit)

    async def revisions(self, collection: str, where: Filter | None = None) -> dict[str, int]:
        return await self._store.revisions(collection, where)

    async def count(self, collection: str, where: Filter | None = None) -> int:
        return await self._store.count(collection, where)

    async def write(self, collection: str, writes: Sequence[Write]) -> list[str]:
        return await self._store.write(collection, writes)

    async def drop(self, collection: str) -> None:
        await self._store.drop(collection)

    async def ping(self) -> None:
        await self._store.ping()

    async def close(self) -> None:
        await self._store.close()


async def other_writer_applies(backends: Backends, envelope: Envelope) -> None:
    view = View(await backends.documents("scheduling"), 1)
    await AppointmentsProjection().apply(registry.decode(envelope), envelope, view)
    await view.flush()


async def run_counting(
    backends: Backends, *envelopes: Envelope, before: Envelope | None = None
) -> int:
    """Start a runner (after `before` was projected by another writer), publish, catch up:
    how many reads of projected documents it made."""
    store = CountingReads(await backends.documents("scheduling"))
    runner = ProjectionRunner(
        AppointmentsProjection(), ReadModels(store), backends.bus, registry, backends.settings.topic
    )
    if before is not None:
        await other_writer_applies(backends, before)
    await runner.start()
    try:
        await publish(backends, *envelopes)
        await caught_up(runner)
    finally:
        await runner.stop()
    return store.reads


async def test_a_runner_starting_on_an_empty_generation_reads_nothing_back(
    backends: Backends,
) -> None:
    reads = await run_counting(backends, *(booking(n) for n in range(1, 6)))

    assert reads == 0
    assert len(await documents(backends)) == 5


async def test_a_runner_starting_on_documents_reads_them_before_writing(
    backends: Backends,
) -> None:
    reads = await run_counting(backends, *(booking(n) for n in range(1, 4)), before=booking(1))

    assert reads > 0
    assert len(await documents(backends)) == 3


async def test_a_runner_that_started_empty_meets_another_writer_and_reads_from_then_on(
    backends: Backends,
) -> None:
    store = await backends.documents("scheduling")
    runner = ProjectionRunner(
        AppointmentsProjection(), ReadModels(store), backends.bus, registry, backends.settings.topic
    )
    await runner.start()  # empty: it takes what it has not written for absent
    try:
        await other_writer_applies(backends, booking(1))  # another process, meanwhile
        await publish(backends, *(booking(n) for n in range(1, 4)))
        await caught_up(runner)
    finally:
        await runner.stop()

    docs = await ReadModels(store).find("scheduling.appointments", APPOINTMENTS)
    assert sorted(d["appointment_id"] for d in docs) == ["a1", "a2", "a3"]
    assert {d["appointment_id"]: d["_rev"] for d in docs}["a1"] == 1  # seen applied, left


class CountingRegistry(EventRegistry):
    """The scheduling registry, counting what it decodes by type name."""

    def __init__(self) -> None:
        super().__init__(registry.events())
        self.decoded: list[str] = []

    def decode(self, envelope: Envelope) -> DomainEvent:
        self.decoded.append(envelope.type)
        return super().decode(envelope)


async def test_events_a_projection_does_not_handle_are_neither_decoded_nor_applied(
    backends: Backends,
) -> None:
    counting = CountingRegistry()
    read_models = ReadModels(await backends.documents("scheduling"))
    runner = ProjectionRunner(
        AppointmentsProjection(), read_models, backends.bus, counting, backends.settings.topic
    )
    await runner.start()
    try:
        registered = seal(
            SiteRegistered(site_id="north", name="North", time_zone="Europe/Paris"),
            stream="acme:site:north",
            stream_version=1,
            meta=Metadata(tenant="acme", correlation_id="c"),
            event_id="r1",
            time=T0,
        )
        await publish(backends, registered, booking(1))
        await caught_up(runner)
    finally:
        await runner.stop()
    assert counting.decoded == [AppointmentBooked.type_name()]
    assert [d["appointment_id"] for d in await documents(backends)] == ["a1"]
    skipped = skipped_types(AppointmentsProjection(), counting)
    assert skipped is not None
    assert SiteRegistered.type_name() in skipped
    assert AppointmentBooked.type_name() not in skipped


async def test_a_catching_up_batch_links_the_traces_of_its_first_events_only(
    backends: Backends, spans: InMemorySpanExporter
) -> None:
    def traced(n: int) -> Envelope:
        plain = booking(n)
        return plain.model_copy(update={"traceparent": f"00-{n + 1:032x}-{n + 1:016x}-01"})

    await publish(backends, *[traced(n) for n in range(40)])
    spans.clear()
    read_models = ReadModels(await backends.documents("scheduling"))
    runner = ProjectionRunner(
        AppointmentsProjection(), read_models, backends.bus, registry, backends.settings.topic
    )
    await runner.start()
    try:
        await caught_up(runner)
    finally:
        await runner.stop()
    batches = [
        s for s in spans.get_finished_spans() if s.name == f"project {runner.projection.name}"
    ]
    catching_up = [s for s in batches if "medoffice.events" in dict(s.attributes or {})]
    assert catching_up, "no batch larger than 16 events"
    for span in catching_up:
        linked = [link.context.trace_id for link in span.links]
        # 16 links (of its first events: on Kafka, first in partition order), each distinct
        assert len(set(linked)) == len(linked) == 16
        assert set(linked) <= set(range(1, 41))


async def test_a_replay_applies_what_was_recorded_by_then_and_passes_over_the_rest(
    backends: Backends,
) -> None:
    """Into a scratch generation: the bookings recorded up to the time, not the one after; a
    record after it is passed over on its time header, undecoded, so even a malformed one is
    not dead-lettered by the replay."""
    day = timedelta(days=1)
    recorded = [booking(n).model_copy(update={"time": T0 + n * day}) for n in range(3)]
    await publish(backends, *recorded)
    topic = backends.settings.topic("scheduling")
    later = to_message(recorded[0], topic)
    headers = {**later.headers, "ce_time": (T0 + 9 * day).isoformat()}
    later = later.model_copy(update={"headers": headers, "value": b"not json"})
    await backends.bus.publish([later])
    read_models = ReadModels(await backends.documents("scheduling"))
    runner = ProjectionRunner(
        AppointmentsProjection(), read_models, backends.bus, registry, backends.settings.topic
    )
    heard: list[tuple[int, int]] = []

    async def progress(read: int, applied: int) -> None:
        heard.append((read, applied))

    read, applied = await runner.replay(-1, T0 + day, progress)

    assert (read, applied) == (4, 2)
    assert heard[-1] == (4, 2)
    scratch = await read_models.store.find(physical(APPOINTMENTS, -1), {})
    assert sorted(d["appointment_id"] for d in scratch) == ["a0", "a1"]
    assert await read_models.find("scheduling.appointments", APPOINTMENTS) == []
    assert await backends.bus.lag("nobody", [dead_letter_topic(topic)]) == 0
