"""Charges from completed visits at a group's scale: the charge creation rate from the event
stream against appending the same charge events with no decider (issue 12).

`python -m bench.charges [--visits N] [--patients N]`, or `python -m bench --only charges`.

The group: 6 sites, a month (November 2026) of completed visits (`--visits`, 30,000), of
`--patients` (10,000) patients billing has learnt, four in five with a primary coverage with
one of three payers, the others self-pay. Each payer and self-pay has two fee schedule versions
(the second in force from 15 November), 20 codes each. A visit has one or two procedures
(one in ten with a modifier) and one to three diagnoses; one in twenty codes a category
(`E11`), which holds its charge for coding. The billing service runs on its own embedded
stores (SQLite files, the in-process bus), its projections and reactors running; the patients,
payers and schedules are recorded before anything is timed.

Measured in one run, on the embedded backend:
- ours: each scheduling `VisitCompleted` envelope decoded and handed to billing's reaction
  (`ChargeCompletedVisits.react`, what the reactor does with each event it consumes): the
  charge stream read, the patient's account, the payer's fee schedule and name folded (kept
  folded across calls by the command handler), priced, checked against the ICD-10-CM code
  book, and the charge's events appended (one commit per charge);
- ours, redelivered: the same envelopes again (each records nothing);
- raw: the very events ours recorded (ChargeCreated and ChargeReleased or ChargeHeld),
  sealed into envelopes and appended, one commit per charge, to a fresh event store of the
  same kind: the write a charge cannot do without.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench.report import Figure, comparisons, heading, table
from services.billing import app as billing
from services.billing.application.charges import ChargeCompletedVisits, caused_by
from services.billing.application.codebook import Icd10CodeBook
from services.billing.domain import streams
from services.billing.domain.events import (
    SELF_PAY,
    CoverageLearnt,
    Fee,
    FeeScheduleVersionPublished,
    PatientLearnt,
    PayerDefined,
    SiteZoneLearnt,
)
from services.scheduling.contracts import VisitCompleted
from shared.backends import open_backends
from shared.clock import UuidIds
from shared.domain import Decider
from shared.events import DomainEvent, Envelope, Metadata, seal
from shared.kit import Assembled, assemble_parts
from shared.observability import configure
from shared.settings import Settings

TENANT = "acme"
SITES = tuple(f"site-{n}" for n in range(1, 7))
PAYERS = ("aetna", "bluecross", "medicare")
MONTH = date(2026, 11, 1)
CODES = (
    *(f"9921{n}" for n in range(1, 6)),
    *(f"9920{n}" for n in range(2, 6)),
    *(f"9939{n}" for n in range(5, 8)),
    "36415",
    "81002",
    "87880",
    "90471",
    "90686",
    "93000",
    "J3301",
    "G0008",
)
DIAGNOSES = ("E11.9", "I10", "J45.909", "E78.5", "M54.50", "Z00.00", "J06.9", "R51.9")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

Append = tuple[DomainEvent, ...]
APPEND = Decider[None, Append](None, lambda state, _: state, lambda _, events: events)


class StillClock:
    def now(self) -> datetime:
        return NOW


@dataclass(frozen=True)
class Result:
    visits: int
    patients: int
    held: int
    figures: list[Figure]


def progress(text: str) -> None:
    print(f"  [{text}]", file=sys.stderr, flush=True)


def _settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir, seed_demo=False, env="test", log_json=False, sqlite_durability="normal"
    )


async def _open(data_dir: Path) -> Assembled[billing.UseCases]:
    backends = await open_backends(_settings(data_dir))
    built = await assemble_parts(billing.SPEC, backends, StillClock(), UuidIds())
    await built.service.start()
    return built


async def _close(built: Assembled[billing.UseCases]) -> None:
    await built.service.stop()
    await built.kit.backends.close()


def schedule(payer_id: str, version: int, effective_from: date, rng: random.Random) -> Append:
    fees = tuple(Fee(code=c, amount_cents=rng.randrange(2_000, 40_000, 100)) for c in CODES)
    modifier = (Fee(code="99213", modifier="25", amount_cents=11_000),)
    return (
        FeeScheduleVersionPublished(
            payer_id=payer_id,
            schedule_version=version,
            effective_from=effective_from,
            fees=fees + modifier,
            published_at=NOW,
        ),
    )


async def reference(built: Assembled[billing.UseCases], patients: int) -> None:
    """Payers, their fee schedules, and every patient as billing learnt them."""
    handler = built.kit.handler
    meta = Metadata(tenant=TENANT, actor="bench", correlation_id="bench-charges")
    rng = random.Random(12)
    for payer_id in PAYERS:
        defined = PayerDefined(
            payer_id=payer_id,
            name=payer_id.title(),
            x12_payer_id="60054",
            claim_filing_indicator="CI",
            defined_at=NOW,
        )
        await handler.handle(streams.payer(TENANT, payer_id), APPEND, (defined,), meta)
    for site_id in SITES:
        zone = SiteZoneLearnt(
            site_id=site_id, time_zone="America/New_York", learnt_from=f"bench:{site_id}"
        )
        await handler.handle(streams.site(TENANT, site_id), APPEND, (zone,), meta)
    for payer_id in (*PAYERS, SELF_PAY):
        stream = streams.fee_schedule(TENANT, payer_id)
        await handler.handle(stream, APPEND, schedule(payer_id, 1, date(2026, 1, 1), rng), meta)
        await handler.handle(stream, APPEND, schedule(payer_id, 2, date(2026, 11, 15), rng), meta)
    for n in range(patients):
        patient_id = f"pat-{n}"
        events: list[DomainEvent] = [
            PatientLearnt(
                patient_id=patient_id,
                name=f"Patient {n}",
                birth_date="1970-01-01",
                learnt_from=f"bench:{n}",
            )
        ]
        if n % 5:
            events.append(
                CoverageLearnt(
                    patient_id=patient_id,
                    coverage_id=f"cov-{n}",
                    payer_id=PAYERS[n % len(PAYERS)],
                    plan="PPO",
                    relationship="self",
                    member_id=f"M{n:08d}",
                    learnt_from=f"bench:cov:{n}",
                )
            )
        stream = streams.patient_account(TENANT, patient_id)
        await handler.handle(stream, APPEND, tuple(events), meta)
        if n % 2000 == 1999:
            progress(f"{n + 1:,} patients learnt")
    handler.states.clear()  # nothing folded yet when the visits come


def visits(count: int, patients: int) -> list[Envelope]:
    """A month of completed visits at 6 sites, as scheduling's envelopes."""
    rng = random.Random(7)
    envelopes = []
    for n in range(count):
        day = MONTH + timedelta(days=n * 30 // count)
        start = datetime(day.year, day.month, day.day, 14, 0, tzinfo=UTC) + timedelta(
            minutes=15 * (n % 32)
        )
        site_id = SITES[n % len(SITES)]
        procedures = rng.sample(CODES, rng.choice((1, 1, 2)))
        if rng.random() < 0.1:
            procedures[0] = "99213-25"
        diagnoses = rng.sample(DIAGNOSES, rng.choice((1, 2, 3)))
        if rng.random() < 0.05:
            diagnoses[0] = "E11"  # a category: held for coding
        appointment_id = f"appt-{n}"
        event = VisitCompleted(
            appointment_id=appointment_id,
            patient_id=f"pat-{rng.randrange(patients)}",
            provider_id=f"dr-{n % 24}",
            site_id=site_id,
            visit_type_id="follow-up",
            start=start,
            procedures=tuple(procedures),
            diagnoses=tuple(diagnoses),
            completed_at=start + timedelta(minutes=20),
        )
        meta = Metadata(tenant=TENANT, actor="clinician", site=site_id, correlation_id=f"c-{n}")
        stream = f"{TENANT}:site-day:{site_id}:{day.isoformat()}"
        envelopes.append(
            seal(
                event,
                stream=stream,
                stream_version=n + 1,
                meta=meta,
                event_id=str(uuid.UUID(int=n)),
                time=start,
                subject=appointment_id,
            )
        )
    return envelopes


async def run(visit_count: int = 30_000, patients: int = 10_000) -> Result:
    with tempfile.TemporaryDirectory(prefix="medoffice-bench-charges-") as tmp:
        built = await _open(Path(tmp) / "ours")
        try:
            await reference(built, patients)
            envelopes = visits(visit_count, patients)
            decoder = billing.SPEC.decoder
            reaction = ChargeCompletedVisits(built.use_cases.charges)
            Icd10CodeBook().exists("E11.9")  # the code list loads once, before timing
            progress(f"charging {visit_count:,} visits")
            recorded: list[tuple[str, Append]] = []
            began = time.perf_counter()
            for envelope in envelopes:
                event = decoder.decode(envelope)
                assert isinstance(event, VisitCompleted)
                # what the reaction does, keeping the outcome for the raw figure
                outcome = await built.use_cases.charges.charge_visit(
                    caused_by(envelope), event, envelope.id
                )
                recorded.append((outcome.stream, outcome.events))
            ours = time.perf_counter() - began
            progress("redelivering")
            began = time.perf_counter()
            for envelope in envelopes:
                await reaction.react(decoder.decode(envelope), envelope)
            again = time.perf_counter() - began
            held = sum(1 for _, events in recorded if type(events[-1]).__name__ == "ChargeHeld")
        finally:
            await _close(built)
        progress("raw appends")
        raw_built = await _open(Path(tmp) / "raw")
        try:
            store = raw_built.kit.store
            ids = UuidIds()
            began = time.perf_counter()
            for stream, events in recorded:
                meta = Metadata(tenant=TENANT, actor="system:billing", correlation_id="raw")
                sealed = [
                    seal(
                        e,
                        stream=stream,
                        stream_version=n,
                        meta=meta,
                        event_id=ids.event_id(stream, n),
                        time=NOW,
                        subject=stream.rsplit(":", 1)[-1],
                    )
                    for n, e in enumerate(events, start=1)
                ]
                await store.append(stream, sealed, 0)
            raw = time.perf_counter() - began
        finally:
            await _close(raw_built)
    figures = [
        Figure("charges from VisitCompleted (decider)", "embedded", visit_count, ours),
        Figure("the same visits redelivered (nothing new)", "embedded", visit_count, again),
        Figure("raw: the same charge events appended", "embedded", visit_count, raw),
    ]
    return Result(visit_count, patients, held, figures)


def report_results(result: Result) -> None:
    print(
        f"Group: {len(SITES)} sites, {result.visits:,} completed visits in a month, "
        f"{result.patients:,} patients; {result.held:,} charges held for coding."
    )
    table(result.figures)
    ours, again, raw = result.figures
    print()
    comparisons(
        [
            ("charges/s: decider vs raw append", ours, raw),
            ("redelivered vs raw append", again, raw),
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.charges")
    parser.add_argument("--visits", type=int, default=30_000)
    parser.add_argument("--patients", type=int, default=10_000)
    args = parser.parse_args(argv)
    configure(level="warning", json_logs=False)
    heading("Charges: a month of completed visits at a 6-site group")
    report_results(asyncio.run(run(args.visits, args.patients)))


if __name__ == "__main__":
    main()
