"""AR aging as of a past date over a year of a 6-site group's billing events (issue 13).

The group: 6 sites, 5 payers and self-pay, `visits` visits spread over 365 days (the issue's
size is about 360,000; the default here is smaller: see docs/benchmarks.md). Per visit: the
charge, its claim, the payer's adjudication 14-60 days later for 90% of them (a tenth denied),
the patient's responsibility assessed, and a patient payment for half of those 10-40 days on.
Synthetic and seeded: every run is the same year.

The receivables projection is fed straight from the envelopes (a View per batch of 500, on an
embedded SQLite document store, no bus); then, in one run:
- ours: `Receivables.aging(as_of)` for a date one year back from the end (and at the end), the
  entries up to the day read by (tenant, time) and summed into buckets;
- raw: the same events read raw from an SQLite table (id, recorded time, JSON) up to that day
  and decoded with orjson, nothing folded: the floor of "replaying the events up to that date".

Run alone: `python -m bench.receivables [visits]`.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
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
)
from services.billing.projections import receivables as view
from shared.documents.sqlite import SqliteDocumentStore
from shared.events import Envelope, Metadata, seal
from shared.projections import View
from shared.readmodels import ReadModels
from shared.sqlite import SqliteDatabase

T = "acme"
SITES = [f"site-{n}" for n in range(1, 7)]
PAYERS = ["aetna", "bcbs", "cigna", "medicare", "uhc"]
START = datetime(2025, 12, 1, 14, 0, tzinfo=UTC)
DAYS = 365


def workload(visits: int, seed: int = 13) -> list[Envelope]:
    rng = random.Random(seed)
    meta = Metadata(tenant=T, correlation_id="bench")
    out: list[tuple[datetime, str, BillingEvent]] = []
    for n in range(visits):
        day = START + timedelta(days=n * DAYS // visits, minutes=n % 600)
        site, payer = SITES[n % 6], PAYERS[rng.randrange(5)]
        patient, charge, claim = f"pat-{rng.randrange(visits // 3)}", f"appt-{n}", f"CLM{n}"
        total = rng.choice((9_000, 12_500, 15_000, 22_000))
        provider = f"{site}-dr-{n % 10}"
        line = ChargeLine(line_id="1", code="99213", diagnosis_pointers=(1,), fee_cents=total)
        out.append(
            (
                day,
                streams.charge(T, charge),
                ChargeCreated(
                    charge_id=charge, appointment_id=charge, patient_id=patient, site_id=site,
                    provider_id=provider, date_of_service=day.date(), diagnoses=("I10",),
                    lines=(line,), payer_id=payer, fee_schedule_version=1, created_at=day,
                    learnt_from=f"v{n}",
                ),
            )
        )  # fmt: skip
        out.append(
            (
                day + timedelta(hours=3),
                streams.claim(T, claim),
                ClaimCreated(
                    claim_id=claim, patient_id=patient, payer_id=payer, coverage_id="c",
                    priority=1, site_id=site, provider_id=provider, charge_ids=(charge,),
                    total_cents=total, created_at=day,
                ),
            )
        )  # fmt: skip
        if rng.random() < 0.9:
            at = day + timedelta(days=rng.randint(14, 60))
            denied = rng.random() < 0.1
            paid = 0 if denied else total * 6 // 10
            pr = 0 if denied else total // 10
            out.append(
                (
                    at,
                    streams.claim(T, claim),
                    ClaimAdjudicated(
                        claim_id=claim, outcome="denied" if denied else "partially_paid",
                        paid_cents=paid, patient_responsibility_cents=pr,
                        payer_claim_control_number=f"P{n}",
                        adjustments=(
                            Adjustment(group="CO", reason="45", amount_cents=total - paid - pr),
                        ),
                        adjudicated_on=at.date(), recorded_at=at, posting_id=f"post-{n}",
                    ),
                )
            )  # fmt: skip
            if pr:
                out.append(
                    (
                        at,
                        streams.patient_ledger(T, patient),
                        PatientResponsibilityAssessed(
                            patient_id=patient, entry_id=f"e{n}", charge_id=charge,
                            claim_id=claim, site_id=site, provider_id=provider,
                            date_of_service=day.date(), amount_cents=pr, reason="coinsurance",
                            learnt_from=f"post-{n}", assessed_at=at,
                        ),
                    )
                )  # fmt: skip
                if rng.random() < 0.5:
                    later = at + timedelta(days=rng.randint(10, 40))
                    out.append(
                        (
                            later,
                            streams.patient_ledger(T, patient),
                            PatientPaymentReceived(
                                patient_id=patient, payment_id=f"pay{n}", amount_cents=pr,
                                method="card", charge_id=charge, site_id=site,
                                received_by="desk", received_at=later,
                            ),
                        )
                    )  # fmt: skip
    out.sort(key=lambda item: item[0])
    versions: dict[str, int] = {}
    envelopes = []
    for at, stream, event in out:
        versions[stream] = versions.get(stream, 0) + 1
        envelopes.append(
            seal(event, stream=stream, stream_version=versions[stream], meta=meta,
                 event_id=str(uuid.UUID(int=rng.getrandbits(128))), time=at)
        )  # fmt: skip
    return envelopes


async def project(store: SqliteDocumentStore, envelopes: list[Envelope]) -> float:
    projection = view.ReceivablesProjection()
    registry_events = {cls.type_name(): cls for cls in view._Money}
    started = time.perf_counter()
    for first in range(0, len(envelopes), 500):
        batch = View(store, 1)
        for envelope in envelopes[first : first + 500]:
            event = registry_events[envelope.type].model_validate(envelope.data)
            await projection.apply(event, envelope, batch)
        await batch.flush()
    return time.perf_counter() - started


def raw_read(path: Path, bound: str) -> int:
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT body FROM events WHERE at < ? ORDER BY at", (bound,)).fetchall()
    decoded = [orjson.loads(body) for (body,) in rows]
    conn.close()
    return len(decoded)


async def run(visits: int) -> list[Figure]:
    envelopes = workload(visits)
    with tempfile.TemporaryDirectory() as folder:
        raw_path = Path(folder) / "raw.db"
        conn = sqlite3.connect(raw_path)
        conn.execute("CREATE TABLE events (id TEXT PRIMARY KEY, at TEXT, body TEXT)")
        conn.execute("CREATE INDEX events_at ON events (at)")
        conn.executemany(
            "INSERT INTO events VALUES (?, ?, ?)",
            [(e.id, e.time.isoformat(), e.model_dump_json()) for e in envelopes],
        )
        conn.commit()
        conn.close()
        db = SqliteDatabase(Path(folder) / "docs.db", durability="normal")
        store = SqliteDocumentStore(db)
        projected = await project(store, envelopes)
        receivables = Receivables(ReadModels(store))
        end = (START + timedelta(days=DAYS)).date()
        figures = [Figure("projection fed (no bus)", "embedded", len(envelopes), projected)]
        for label, as_of in (("one year back", end - timedelta(days=365 - 90)), ("end", end)):
            bound = view.day_end(as_of)
            upto = sum(1 for e in envelopes if e.time.isoformat() < bound)
            started = time.perf_counter()
            aging = await receivables.aging(T, as_of)
            ours = time.perf_counter() - started
            started = time.perf_counter()
            read = raw_read(raw_path, bound)
            raw = time.perf_counter() - started
            assert read == upto
            note = f"AR {aging.total_cents / 100:,.0f} USD as of {as_of}"
            figures.append(Figure(f"aging as of {label}", "embedded", upto, ours, note))
            figures.append(Figure(f"raw read up to {label}", "embedded", upto, raw))
        await store.close()
        await db.close()
    return figures


def report_results(figures: list[Figure], visits: int) -> None:
    print(f"Group: {len(SITES)} sites, {len(PAYERS)} payers, {visits:,} visits over a year.")
    table(figures)
    print()
    comparisons(
        [
            ("aging one year back vs raw read", figures[1], figures[2]),
            ("aging at the end vs raw read", figures[3], figures[4]),
        ]
    )


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    visits = int(args[0]) if args else 30_000
    heading("Receivables: AR aging as of a date, a year of a 6-site group's billing events")
    report_results(asyncio.run(run(visits)), visits)


if __name__ == "__main__":
    main()
