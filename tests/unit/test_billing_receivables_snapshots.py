"""Receivables' monthly snapshots (issue 13): the aging and balances read from the latest
fresh snapshot plus the entries after it equal the full read of the entries, for every date;
a snapshot an entry of its months reached after it was built is never read, and is built
again; a back-dated posting is recorded when it is recorded and leaves the past alone.

The projection is fed as its runner feeds it (batches, documents prefetched by `keys`), in any
order the test chooses, on an in-memory SQLite store."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, date, datetime, timedelta

import pytest

from bench.receivables import workload
from services.billing.application import receivables as application
from services.billing.application.receivables import By, Receivables, SnapshotReceivables
from services.billing.domain import streams
from services.billing.domain.events import (
    BillingEvent,
    ChargeCreated,
    ChargeLine,
    ClaimAdjudicated,
    ClaimCreated,
    ClaimWrittenOff,
    PatientBalanceWrittenOff,
    PatientPaymentReceived,
    PatientRefunded,
    ProviderAdjustmentPosted,
    registry,
)
from services.billing.projections import receivables as view
from shared.documents.port import Write
from shared.documents.sqlite import SqliteDocumentStore
from shared.events import Envelope, Metadata, seal
from shared.projections import View
from shared.readmodels import ReadModels, physical
from shared.sqlite import SqliteDatabase

T = "acme"
START = datetime(2027, 11, 1, 14, 0, tzinfo=UTC)  # to the end of March 2028: a leap day
MONTHS = ("2027-11", "2027-12", "2028-01", "2028-02", "2028-03")
BY: tuple[By, ...] = ("payer", "patient", "site", "provider")
DATES = [
    date(2027, 10, 31),  # before any entry
    date(2027, 11, 1),
    date(2027, 11, 15),
    date(2027, 11, 30),
    date(2027, 12, 1),
    date(2027, 12, 31),
    date(2028, 1, 1),
    date(2028, 1, 31),
    date(2028, 2, 1),
    date(2028, 2, 28),
    date(2028, 2, 29),  # the leap day, the last snapshot's month's end
    date(2028, 3, 1),
    date(2028, 3, 17),
    date(2028, 3, 31),
    date(2028, 4, 1),
    date(2029, 6, 30),
]


class Feed:
    """Envelopes into the projection, a batch at a time, versions per stream kept."""

    def __init__(self, store: SqliteDocumentStore) -> None:
        self.store = store
        self.versions: dict[str, int] = {}
        self.projection = view.ReceivablesProjection()

    async def envelopes(self, envelopes: Iterable[Envelope], batch: int = 200) -> None:
        pending = list(envelopes)
        for first in range(0, len(pending), batch):
            part = pending[first : first + batch]
            for envelope in part:
                self.versions[envelope.stream] = max(
                    self.versions.get(envelope.stream, 0), envelope.stream_version
                )
            unit = View(self.store, 1)
            events = [registry.decode(e) for e in part]
            await unit.prefetch(
                key
                for event, envelope in zip(events, part, strict=True)
                for key in self.projection.keys(event, envelope)
            )
            for event, envelope in zip(events, part, strict=True):
                await self.projection.apply(event, envelope, unit)
            await unit.flush()

    async def add(self, stream: str, event: BillingEvent, at: datetime) -> None:
        version = self.versions.get(stream, 0) + 1
        envelope = seal(
            event,
            stream=stream,
            stream_version=version,
            meta=Metadata(tenant=T, correlation_id="c"),
            event_id=str(uuid.uuid4()),
            time=at,
        )
        await self.envelopes([envelope])

    async def visit(self, n: int, site: str, day: datetime, total: int = 10_000) -> str:
        charge, claim, patient = f"late-{n}", f"LATE{n}", f"pat-late-{n}"
        line = ChargeLine(line_id="1", code="99213", diagnosis_pointers=(1,), fee_cents=total)
        await self.add(
            streams.charge(T, charge),
            ChargeCreated(
                charge_id=charge, appointment_id=charge, patient_id=patient, site_id=site,
                provider_id=f"{site}-dr-9", date_of_service=day.date(), diagnoses=("I10",),
                lines=(line,), payer_id="aetna", fee_schedule_version=1, created_at=day,
                learnt_from=f"late-visit-{n}",
            ),
            day,
        )  # fmt: skip
        await self.add(
            streams.claim(T, claim),
            ClaimCreated(
                claim_id=claim, patient_id=patient, payer_id="aetna", coverage_id="c",
                priority=1, site_id=site, provider_id=f"{site}-dr-9", charge_ids=(charge,),
                total_cents=total, created_at=day,
            ),
            day,
        )  # fmt: skip
        return claim


@pytest.fixture
async def store() -> AsyncIterator[SqliteDocumentStore]:
    db = SqliteDatabase(":memory:")
    documents = SqliteDocumentStore(db)
    yield documents
    await documents.close()
    await db.close()


@pytest.fixture
async def fed(store: SqliteDocumentStore) -> Feed:
    """Five months of a small group's events, and the other kinds of lines by hand: a claim
    written off, a patient's payment with no visit named (to the oldest visits, the rest a
    credit), a refund, a small-balance write-off and a payee's PLB adjustment."""
    feed = Feed(store)
    await feed.envelopes(workload(2_000, start=START, days=150))
    march = datetime(2028, 3, 3, 16, 0, tzinfo=UTC)
    await feed.add(
        streams.claim(T, "CLM7"),
        ClaimWrittenOff(claim_id="CLM7", reason="timely", amount_cents=2_000, written_off_at=march),
        march,
    )
    ledger = streams.patient_ledger(T, "pat-5")
    await feed.add(
        ledger,
        PatientPaymentReceived(
            patient_id="pat-5", payment_id="x1", amount_cents=50_000, method="cash",
            site_id="site-2", received_by="desk", received_at=march,
        ),
        march,
    )  # fmt: skip
    await feed.add(
        ledger,
        PatientRefunded(
            patient_id="pat-5", refund_id="r1", amount_cents=700, method="cash",
            reason="overpaid", refunded_by="desk", refunded_at=march + timedelta(days=1),
        ),
        march + timedelta(days=1),
    )  # fmt: skip
    await feed.add(
        streams.patient_ledger(T, "pat-8"),
        PatientBalanceWrittenOff(
            patient_id="pat-8", write_off_id="w1", amount_cents=300, reason="small_balance",
            written_off_by="biller", written_off_at=datetime(2028, 1, 9, tzinfo=UTC),
        ),
        datetime(2028, 1, 9, tzinfo=UTC),
    )  # fmt: skip
    await feed.add(
        streams.provider_account(T, "payee-1"),
        ProviderAdjustmentPosted(
            provider_id="payee-1", adjustment_id="a1", payer_id="aetna", remittance_id="R1",
            reason="WO", reference="ref", amount_cents=1_234,
            fiscal_period_end=date(2027, 12, 31), posted_at=datetime(2028, 2, 2, tzinfo=UTC),
        ),
        datetime(2028, 2, 2, tzinfo=UTC),
    )  # fmt: skip
    return feed


def read_models(store: SqliteDocumentStore) -> ReadModels:
    return ReadModels(store)


async def assert_same_answers(store: SqliteDocumentStore, dates: Iterable[date]) -> None:
    ours = Receivables(read_models(store))
    entries = Receivables(read_models(store), snapshots=False)
    asked: list[tuple[By, list[str] | None]] = [(by, None) for by in BY]
    asked += [("payer", ["site-1", "site-3"]), ("provider", [""])]  # "": a PLB, a credit
    for as_of in dates:
        for by, sites in asked:
            expected = (await entries.aging(T, as_of, by, sites)).out()
            assert (await ours.aging(T, as_of, by, sites)).out() == expected, (as_of, by)
            assert await ours.balances(T, as_of, by, sites) == await entries.balances(
                T, as_of, by, sites
            ), (as_of, by, sites)


async def test_the_aging_from_snapshots_equals_the_full_read_on_every_date(
    store: SqliteDocumentStore, fed: Feed
) -> None:
    ours = Receivables(read_models(store))
    assert await ours.take_snapshots(T, "2028-02") == 4
    heads = {h.month for h in await ours.heads(T, MONTHS)}
    assert heads == {"2027-11", "2027-12", "2028-01", "2028-02"}
    # The snapshot is what is read: fewer lines than the entries hold, the same sums.
    whole = Receivables(read_models(store), snapshots=False)
    as_of = date(2028, 2, 29)  # February's snapshot alone, no entry after it
    assert len(await ours.lines(T, as_of)) < len(await whole.lines(T, as_of)) // 3
    coarse = await ours.lines(T, as_of, patients=False)
    assert len(coarse) <= len(await ours.lines(T, as_of))
    assert {line["patient_id"] for line in coarse} == {""}  # the snapshot's coarse form
    await assert_same_answers(store, DATES)
    assert (await ours.aging(T, date(2027, 10, 31))).total_cents == 0
    for key in ("payer:aetna", "patient:pat-5", "patient-of:pat-8", "site:site-2", "site:"):
        assert await ours.current(T, key) == await whole.current(T, key), key


async def test_an_entry_recorded_in_a_month_after_its_snapshot_was_built_is_counted(
    store: SqliteDocumentStore, fed: Feed
) -> None:
    """An event recorded on 15 January reaches the read model only after January's and
    February's snapshots were built (a lagging partition, a consumer catching up): those
    snapshots are stale, the answers still the entries' own; the next round builds them
    again from December's."""
    ours = Receivables(read_models(store))
    assert await ours.take_snapshots(T, "2028-02") == 4
    before = (await ours.aging(T, date(2028, 2, 29))).total_cents
    await fed.visit(1, "site-4", datetime(2028, 1, 15, 10, 0, tzinfo=UTC), total=77_700)
    after = await ours.aging(T, date(2028, 2, 29))
    assert after.total_cents == before + 77_700
    await assert_same_answers(store, [date(2028, 1, 15), date(2028, 1, 31), date(2028, 2, 29)])
    marks = await ours.marks(T)
    stale = {h.month for h in await ours.heads(T, MONTHS) if not h.fresh(marks)}
    assert stale == {"2028-01", "2028-02"}
    assert await ours.take_snapshots(T, "2028-02") == 2  # January and February again
    marks = await ours.marks(T)
    assert all(h.fresh(marks) for h in await ours.heads(T, MONTHS))
    assert (await ours.aging(T, date(2028, 2, 29))).total_cents == before + 77_700
    await assert_same_answers(store, DATES)


async def test_a_back_dated_posting_counts_from_when_it_was_recorded(
    store: SqliteDocumentStore, fed: Feed
) -> None:
    """A payment adjudicated on 20 January, posted (recorded) on 3 March: January's answer
    never changes, the snapshots stay fresh, March's answer has it."""
    ours = Receivables(read_models(store))
    claim = await fed.visit(2, "site-5", datetime(2028, 1, 10, 15, 0, tzinfo=UTC))
    assert await ours.take_snapshots(T, "2028-02") == 4
    january = (await ours.aging(T, date(2028, 1, 31))).out()
    posted = datetime(2028, 3, 3, 12, 0, tzinfo=UTC)
    await fed.add(
        streams.claim(T, claim),
        ClaimAdjudicated(
            claim_id=claim, outcome="paid", paid_cents=10_000, patient_responsibility_cents=0,
            payer_claim_control_number="P-late", adjudicated_on=date(2028, 1, 20),
            recorded_at=posted, posting_id="post-late",
        ),
        posted,
    )  # fmt: skip
    assert await ours.take_snapshots(T, "2028-02") == 0  # nothing of theirs moved
    assert (await ours.aging(T, date(2028, 1, 31))).out() == january
    owed = {
        day: (await ours.balances(T, day, "patient"))["balances"]
        for day in (date(2028, 1, 31), date(2028, 3, 2), date(2028, 3, 3))
    }
    for day, balances in owed.items():
        paid = day >= posted.date()
        assert ({"owner": "pat-late-2", "balance_cents": 10_000} in balances) is not paid, day
    await assert_same_answers(store, [date(2028, 1, 31), date(2028, 3, 2), date(2028, 3, 3)])


async def test_the_timer_builds_the_months_that_are_over(
    store: SqliteDocumentStore, fed: Feed
) -> None:
    class Fixed:
        def now(self) -> datetime:
            return datetime(2028, 3, 10, 9, 0, tzinfo=UTC)

    ours = Receivables(read_models(store))
    timer = SnapshotReceivables(ours, Fixed(), every=60.0)
    assert await timer.fire_due() == 4  # November to February; March is not over
    assert await timer.fire_due() == 0
    assert {h.month for h in await ours.heads(T, MONTHS)} == {
        "2027-11",
        "2027-12",
        "2028-01",
        "2028-02",
    }


async def test_a_snapshot_missing_a_chunk_is_not_read(
    store: SqliteDocumentStore, fed: Feed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader between a rebuild's head and its chunks, or a chunk lost: the snapshot is
    passed over for an older one (or the entries alone), the answer unchanged."""
    monkeypatch.setattr(application, "CHUNK", 50)
    ours = Receivables(read_models(store))
    assert await ours.take_snapshots(T, "2028-02") == 4
    [head] = [h for h in await ours.heads(T, MONTHS) if h.month == "2028-02"]
    assert head.chunks["fine"] > 2
    rows = physical(view.SNAPSHOT_ROWS, 1)
    lost = f"{T}:2028-02:{head.build}:fine:000001"
    assert await store.get(rows, lost) is not None
    await store.write(rows, [Write(doc_id=lost, doc=None)])
    assert await ours.snapshot_rows(T, head) is None
    await assert_same_answers(store, [date(2028, 2, 29), date(2028, 3, 31)])
    assert await ours.take_snapshots(T, "2028-02") == 1  # February's, whole again
    assert (await ours.snapshot_rows(T, head)) is None  # the old build's chunks are gone
    [head] = [h for h in await ours.heads(T, MONTHS) if h.month == "2028-02"]
    assert await ours.snapshot_rows(T, head) is not None
