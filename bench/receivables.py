"""AR aging as of a date one year back over a year of a 6-site group's billing events
(issue 13), and at the end of the span.

The group: 6 sites of 6 providers each, 5 payers; `visits` visits spread evenly over the
weekdays of two years (the default, 78,150, is 25 visits a site a weekday: about 39,000 a year,
about 160,000 events), so that a date one year back from the end has a full year of events
before it. Per
visit: the charge, its claim, the payer's adjudication 14-60 days later for 90% of them (a
tenth denied), the patient's responsibility assessed, and a patient payment for half of those
10-40 days on. Synthetic and seeded: every run is the same two years. The events are made day
by day in recorded-time order (never all in memory at once).

The receivables projection is fed as its runner feeds it, without a bus: batches of 500, each
decoded by billing's registry, its documents read in one go per collection (`keys`), applied
in a View and flushed, on an embedded SQLite document store that starts empty (the runner's
"fresh generation": what it has not written it need not read). Then the monthly snapshots are
built (`Receivables.take_snapshots`, what the `SnapshotReceivables` timer runs), and, for a
date one year back from the end and for the end:
- ours: `Receivables.aging(as_of)` by payer (the latest snapshot at or before the date plus
  the entries recorded after it), and by patient (the snapshot's fine rows);
- entries: the same aging from the entries alone (snapshots off: the read model before them);
- raw: the same events read raw from an SQLite table (id, recorded time, JSON) up to that day
  and decoded with orjson, nothing folded: the floor of "replaying the events up to that date".
Ours and the entries' answers are checked equal (a first, untimed pass of every read, which
also warms the caches alike); then the four reads are timed ROUNDS times, interleaved, and the
fastest of each kept (the machine may be shared).

Run alone: `python -m bench.receivables [visits]`.
"""

from __future__ import annotations

import asyncio
import heapq
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import orjson

from bench.report import Figure, comparisons, heading, table
from services.billing.application.receivables import Receivables
from services.billing.domain import streams
from services.billing.domain.events import (
    Adjustment,
    BillingEvent,
    ChargeCreated,
    ChargeLine,
    ClaimAdjudicated,
    ClaimCreated,
    PatientPaymentReceived,
    PatientResponsibilityAssessed,
    registry,
)
from services.billing.projections import receivables as view
from shared.documents.sqlite import SqliteDocumentStore
from shared.events import Envelope, Metadata, seal
from shared.projections import NewDocuments, View
from shared.readmodels import ReadModels
from shared.sqlite import SqliteDatabase

T = "acme"
SITES = [f"site-{n}" for n in range(1, 7)]
PROVIDERS = 6  # per site
PAYERS = ["aetna", "bcbs", "cigna", "medicare", "uhc"]
START = datetime(2024, 12, 1, 14, 0, tzinfo=UTC)
DAYS = 730
VISITS_A_SITE_A_DAY = 25
VISITS = VISITS_A_SITE_A_DAY * len(SITES) * 521  # 78,150: the two years have 521 weekdays
BATCH = 500
ROUNDS = 2  # each read timed this many times, the fastest kept (the machine may be shared)


def weekdays(start: datetime, days: int) -> list[datetime]:
    every = (start + timedelta(days=n) for n in range(days))
    return [day for day in every if day.weekday() < 5]


def workload(
    visits: int, *, start: datetime = START, days: int = DAYS, seed: int = 13
) -> Iterator[Envelope]:
    """The group's billing events in recorded-time order, made day by day: a visit's later
    events wait in a heap until their time comes."""
    rng = random.Random(seed)
    meta = Metadata(tenant=T, correlation_id="bench")
    opened = weekdays(start, days)
    waiting: list[tuple[datetime, int, str, BillingEvent]] = []
    versions: dict[str, int] = {}
    order = 0

    def later(at: datetime, stream: str, event: BillingEvent) -> None:
        nonlocal order
        order += 1
        heapq.heappush(waiting, (at, order, stream, event))

    def due(until: datetime) -> Iterator[Envelope]:
        while waiting and waiting[0][0] < until:
            at, _, stream, event = heapq.heappop(waiting)
            versions[stream] = versions.get(stream, 0) + 1
            yield seal(
                event, stream=stream, stream_version=versions[stream], meta=meta,
                event_id=str(uuid.UUID(int=rng.getrandbits(128))), time=at,
            )  # fmt: skip

    n = 0
    for index, day in enumerate(opened):
        yield from due(day)
        while n < visits and n * len(opened) // visits == index:
            visit(rng, n, visits, day + timedelta(minutes=n % 600), later)
            n += 1
    yield from due(datetime.max.replace(tzinfo=UTC))


Later = Callable[[datetime, str, BillingEvent], None]


def batched(items: Iterable[Envelope], size: int) -> Iterator[list[Envelope]]:
    batch: list[Envelope] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def visit(rng: random.Random, n: int, visits: int, day: datetime, later: Later) -> None:
    site = SITES[n % len(SITES)]
    payer = PAYERS[rng.randrange(len(PAYERS))]
    patient, charge, claim = f"pat-{rng.randrange(max(1, visits // 3))}", f"appt-{n}", f"CLM{n}"
    total = rng.choice((9_000, 12_500, 15_000, 22_000))
    provider = f"{site}-dr-{n // len(SITES) % PROVIDERS}"
    line = ChargeLine(line_id="1", code="99213", diagnosis_pointers=(1,), fee_cents=total)
    later(
        day,
        streams.charge(T, charge),
        ChargeCreated(
            charge_id=charge, appointment_id=charge, patient_id=patient, site_id=site,
            provider_id=provider, date_of_service=day.date(), diagnoses=("I10",),
            lines=(line,), payer_id=payer, fee_schedule_version=1, created_at=day,
            learnt_from=f"v{n}",
        ),
    )  # fmt: skip
    later(
        day + timedelta(hours=3),
        streams.claim(T, claim),
        ClaimCreated(
            claim_id=claim, patient_id=patient, payer_id=payer, coverage_id="c",
            priority=1, site_id=site, provider_id=provider, charge_ids=(charge,),
            total_cents=total, created_at=day,
        ),
    )  # fmt: skip
    if rng.random() >= 0.9:
        return
    at = day + timedelta(days=rng.randint(14, 60))
    denied = rng.random() < 0.1
    paid = 0 if denied else total * 6 // 10
    pr = 0 if denied else total // 10
    later(
        at,
        streams.claim(T, claim),
        ClaimAdjudicated(
            claim_id=claim, outcome="denied" if denied else "partially_paid",
            paid_cents=paid, patient_responsibility_cents=pr,
            payer_claim_control_number=f"P{n}",
            adjustments=(Adjustment(group="CO", reason="45", amount_cents=total - paid - pr),),
            adjudicated_on=at.date(), recorded_at=at, posting_id=f"post-{n}",
        ),
    )  # fmt: skip
    if not pr:
        return
    later(
        at,
        streams.patient_ledger(T, patient),
        PatientResponsibilityAssessed(
            patient_id=patient, entry_id=f"e{n}", charge_id=charge, claim_id=claim,
            site_id=site, provider_id=provider, date_of_service=day.date(), amount_cents=pr,
            reason="coinsurance", learnt_from=f"post-{n}", assessed_at=at,
        ),
    )  # fmt: skip
    if rng.random() < 0.5:
        paid_at = at + timedelta(days=rng.randint(10, 40))
        later(
            paid_at,
            streams.patient_ledger(T, patient),
            PatientPaymentReceived(
                patient_id=patient, payment_id=f"pay{n}", amount_cents=pr, method="card",
                charge_id=charge, site_id=site, received_by="desk", received_at=paid_at,
            ),
        )  # fmt: skip


async def project(
    store: SqliteDocumentStore, envelopes: Iterable[Envelope], raw: sqlite3.Connection | None
) -> tuple[int, float]:
    """Feed the projection as its runner does (see the module's doc); the raw table is
    written on the way, untimed. Returns the events fed and the seconds the feeding took."""
    projection = view.ReceivablesProjection()
    new = NewDocuments(fresh=True)
    fed, seconds = 0, 0.0
    for batch in batched(envelopes, BATCH):
        if raw is not None:
            raw.executemany(
                "INSERT INTO events VALUES (?, ?, ?)",
                [(e.id, e.time.isoformat(), e.model_dump_json()) for e in batch],
            )
        started = time.perf_counter()
        unit = View(store, 1, new)
        events = [registry.decode(envelope) for envelope in batch]
        await unit.prefetch(
            key for e, env in zip(events, batch, strict=True) for key in projection.keys(e, env)
        )
        for event, envelope in zip(events, batch, strict=True):
            await projection.apply(event, envelope, unit)
        new.wrote(await unit.flush())
        seconds += time.perf_counter() - started
        fed += len(batch)
    return fed, seconds


def raw_read(path: Path, bound: str) -> int:
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT body FROM events WHERE at < ? ORDER BY at", (bound,)).fetchall()
    decoded = [orjson.loads(body) for (body,) in rows]
    conn.close()
    return len(decoded)


async def raw_read_async(path: Path, bound: str) -> int:
    return raw_read(path, bound)


async def fastest_of(reads: dict[str, Callable[[], Awaitable[object]]]) -> dict[str, float]:
    """Each read's fastest of ROUNDS, the rounds interleaved: a burst of other load on a
    shared machine hits every read alike."""
    fastest = dict.fromkeys(reads, float("inf"))
    for _ in range(ROUNDS):
        for what, read in reads.items():
            started = time.perf_counter()
            await read()
            fastest[what] = min(fastest[what], time.perf_counter() - started)
    return fastest


async def run(visits: int, days: int = DAYS) -> list[Figure]:
    end = (START + timedelta(days=days)).date()
    back = end - timedelta(days=365)
    with tempfile.TemporaryDirectory() as folder:
        raw_path = Path(folder) / "raw.db"
        raw = sqlite3.connect(raw_path)
        raw.execute("CREATE TABLE events (id TEXT PRIMARY KEY, at TEXT, body TEXT)")
        raw.execute("CREATE INDEX events_at ON events (at)")
        db = SqliteDatabase(Path(folder) / "docs.db", durability="normal")
        store = SqliteDocumentStore(db)
        fed, projected = await project(store, workload(visits, days=days), raw)
        raw.commit()
        raw.close()
        figures = [Figure("projection fed (no bus)", "embedded", fed, projected)]
        ours = Receivables(ReadModels(store))
        entries = Receivables(ReadModels(store), snapshots=False)
        last = (end.replace(day=1) - timedelta(days=1)).isoformat()[:7]  # the last month over
        started = time.perf_counter()
        built = await ours.take_snapshots(T, last)
        months = (int(last[:4]) - START.year) * 12 + int(last[5:7]) - START.month + 1
        assert built == months, (built, months)
        figures.append(
            Figure("snapshots built", "embedded", fed, time.perf_counter() - started,
                   f"{built} months, to the end of {last}")
        )  # fmt: skip
        for label, as_of in (("one year back", back), ("end", end)):
            bound = view.day_end(as_of)
            conn = sqlite3.connect(raw_path)
            (upto,) = conn.execute("SELECT count(*) FROM events WHERE at < ?", (bound,)).fetchone()
            conn.close()
            aging = await ours.aging(T, as_of)
            plain = await entries.aging(T, as_of)
            assert aging.out() == plain.out(), f"the snapshot's aging differs as of {as_of}"
            by_patient = await ours.aging(T, as_of, "patient")
            assert by_patient.out() == (await entries.aging(T, as_of, "patient")).out()
            assert raw_read(raw_path, bound) == upto
            fastest = await fastest_of(
                {
                    "ours": partial(ours.aging, T, as_of),
                    "patient": partial(ours.aging, T, as_of, "patient"),
                    "entries": partial(entries.aging, T, as_of),
                    "raw": partial(raw_read_async, raw_path, bound),
                }
            )
            note = f"AR {aging.total_cents / 100:,.0f} USD as of {as_of}"
            figures += [
                Figure(f"aging as of {label}", "embedded", upto, fastest["ours"], note),
                Figure(f"aging by patient, {label}", "embedded", upto, fastest["patient"]),
                Figure(f"aging from entries only, {label}", "embedded", upto, fastest["entries"]),
                Figure(f"raw read up to {label}", "embedded", upto, fastest["raw"]),
            ]
        await store.close()
        await db.close()
    return figures


def report_results(figures: list[Figure], visits: int, days: int = DAYS) -> None:
    print(
        f"Group: {len(SITES)} sites x {PROVIDERS} providers, {len(PAYERS)} payers, "
        f"{visits:,} visits over {days} days from {START.date()}."
    )
    table(figures)
    print()
    back, end = figures[2:6], figures[6:10]
    comparisons(
        [
            ("aging one year back vs raw read", back[0], back[3]),
            ("by patient one year back vs raw read", back[1], back[3]),
            ("entries only one year back vs raw read", back[2], back[3]),
            ("aging one year back: snapshot vs entries only", back[0], back[2]),
            ("aging at the end vs raw read", end[0], end[3]),
            ("by patient at the end vs raw read", end[1], end[3]),
            ("entries only at the end vs raw read", end[2], end[3]),
            ("aging at the end: snapshot vs entries only", end[0], end[2]),
        ]
    )


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    visits = int(args[0]) if args else VISITS
    heading("Receivables: AR aging as of a date, two years of a 6-site group's billing events")
    report_results(asyncio.run(run(visits)), visits)


if __name__ == "__main__":
    main()
