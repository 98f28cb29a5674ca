"""The KPI projection names the documents an appointment's event reads, so a batch of bookings
reads them together (one read per collection) instead of one by one while applying."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from services.engagement.projections.kpis import ITEMS, MONTHS, KpiProjection, month_id
from services.scheduling.domain.events import AppointmentBooked, PatientCheckedIn
from shared.documents.sqlite import SqliteDocumentStore
from shared.events import DomainEvent, Envelope, Metadata, seal
from shared.projections import Prefetching, View
from shared.readmodels import physical
from shared.sqlite import SqliteDatabase

T0 = datetime(2026, 10, 5, 9, tzinfo=UTC)


def booked(n: int) -> tuple[DomainEvent, Envelope]:
    start = T0 + timedelta(minutes=30 * n)
    event = AppointmentBooked(
        appointment_id=f"a{n}",
        patient_id="pat",
        provider_id="p",
        site_id="north",
        room_id=None,
        visit_type_id="checkup",
        start=start,
        end=start + timedelta(minutes=30),
        booked_at=T0,
    )
    envelope = seal(
        event,
        stream="acme:site-day:north:2026-10-05",
        stream_version=n,
        meta=Metadata(tenant="acme", correlation_id="c"),
        event_id=f"e{n}",
        time=T0,
    )
    return event, envelope


class CountingStore(SqliteDocumentStore):
    def __init__(self, db: SqliteDatabase) -> None:
        super().__init__(db)
        self.reads: list[tuple[str, Any]] = []

    async def get(self, collection: str, doc_id: str) -> Any:
        self.reads.append(("get", doc_id))
        return await super().get(collection, doc_id)

    async def get_many(self, collection: str, doc_ids: Any) -> Any:
        self.reads.append(("get_many", collection))
        return await super().get_many(collection, doc_ids)


async def test_a_batch_of_bookings_reads_its_documents_once_per_collection(
    tmp_path: Path,
) -> None:
    store = CountingStore(SqliteDatabase(tmp_path / "rm.db"))
    try:
        projection = KpiProjection()
        assert isinstance(projection, Prefetching)
        batch = [booked(n) for n in range(1, 6)]
        view = View(store, 1)
        await view.prefetch(key for e, env in batch for key in projection.keys(e, env))
        for event, envelope in batch:
            await projection.apply(event, envelope, view)
        await view.flush()
        assert sorted(store.reads) == [
            ("get_many", physical(ITEMS, 1)),
            ("get_many", physical(MONTHS, 1)),
        ]
        month = await store.get(physical(MONTHS, 1), month_id("acme", "north", "2026-10"))
        assert month is not None
        assert month["booked"] == 5
    finally:
        await store.close()


def test_a_later_event_of_the_appointment_names_the_same_documents() -> None:
    event, envelope = booked(1)
    later = PatientCheckedIn(
        appointment_id="a1", patient_id="pat", provider_id="p", checked_in_at=T0
    )
    keys = KpiProjection().keys(later, envelope.model_copy(update={"stream_version": 2}))
    assert keys == KpiProjection().keys(event, envelope)
