"""The office KPI dashboard for a year of a 6-site group: time to answer from the KPI
projection's sums, against reading the year's events raw (issue 17).

`python -m bench.kpis [--per-day N] [--queries N]`

The group: 6 sites, 3 providers each, `--per-day` (24) appointments a weekday at each site
through 2026. Each appointment is booked; 80 % are checked in, roomed and completed, 7 % are
no-shows, 10 % cancelled (half within a day of the start), the rest stay booked; every
completed visit becomes a claim, first adjudicated (one in ten denied). Each provider has a
weekly template; 200 training assignments and 300 credentials make the group's staffing
figures. The events are scheduling's, billing's and staffing's envelopes, published on their
topics of an embedded (SQLite) bus, one site-day stream per site and day.

Measured, on the embedded backend:
- the KPI projection catching up from the start of the three topics (events per second);
- the dashboard's answers through `KpiReader` (what `GET /engagement/kpis` and the page call):
  one month for the whole group, one month at one site, and the page's twelve months (the
  trend) for the group;
- baseline: reading the year's events raw, with sqlite3 on the bus file, each parsed from
  JSON (nothing decoded into models, nothing summed): what answering from the events would cost
  at the least. The ratio printed is raw reading / dashboard.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import orjson

from bench.report import heading
from services.billing.contracts import CONTRACT as BILLING
from services.billing.contracts import ClaimAdjudicated, ClaimCreated
from services.engagement.api.dashboard import months_to
from services.engagement.api.kpis import KpiReader
from services.engagement.projections.kpis import KpiProjection
from services.scheduling.contracts import CONTRACT as SCHEDULING
from services.scheduling.contracts import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentNoShow,
    AvailabilitySet,
    PatientCheckedIn,
    PatientRoomed,
    Sealed,
    VisitCompleted,
    Window,
)
from services.staffing.contracts import CONTRACT as STAFFING
from services.staffing.contracts import (
    CredentialRecorded,
    TrainingAssigned,
    TrainingCompleted,
)
from shared.bus.inprocess import InProcessBus
from shared.cloudevents import Message, events_topic, to_message
from shared.documents.sqlite import SqliteDocumentStore
from shared.events import DomainEvent, Envelope, Metadata, seal
from shared.http.identity import Principal
from shared.projections import ProjectionRunner
from shared.readmodels import ReadModels
from shared.sqlite import SqliteDatabase

TENANT = "bench"
SITES = tuple(f"site-{n}" for n in range(6))
YEAR = 2026
BATCH = 500


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, clock_time(hour, minute), tzinfo=UTC)


class Plan:
    """Every stream of the group's year, as envelopes, by context."""

    def __init__(self) -> None:
        self.by_context: dict[str, list[Envelope]] = {
            "scheduling": [],
            "billing": [],
            "staffing": [],
        }
        self._meta = Metadata(tenant=TENANT, actor="bench", correlation_id="bench-kpis")

    def write(
        self, context: str, stream: str, dated: Sequence[tuple[datetime, DomainEvent]]
    ) -> None:
        self.by_context[context] += [
            seal(
                event,
                stream=stream,
                stream_version=n,
                meta=self._meta,
                event_id=f"{stream}:{n}",
                time=at,
            )
            for n, (at, event) in enumerate(dated, start=1)
        ]

    @property
    def events(self) -> int:
        return sum(len(e) for e in self.by_context.values())


def plan(per_day: int, seed: int = 2017) -> Plan:
    rng = random.Random(seed)
    planned = Plan()
    start = date(YEAR, 1, 1)
    for site in SITES:
        providers = [f"{site}-dr-{k}" for k in range(3)]
        for provider in providers:
            template = AvailabilitySet(
                provider_id=provider,
                site_id=site,
                template_id="weekdays",
                windows=tuple(
                    Window(weekday=d, start=clock_time(8), end=clock_time(17)) for d in range(5)
                ),
                effective_from=start,
                effective_until=None,
            )
            planned.write(
                "scheduling", f"{TENANT}:provider:{provider}", [(_at(start, 0), template)]
            )
        for offset in range(365):
            day = start + timedelta(days=offset)
            if day.weekday() >= 5:
                continue
            events: list[tuple[datetime, DomainEvent]] = []
            claims: list[tuple[str, datetime, bool, int]] = []
            for n in range(per_day):
                appointment = f"{site}-{day:%m%d}-{n}"
                provider = providers[n % 3]
                begins = _at(day, 8 + (n // 3) % 9, 20 * (n % 3))
                patient = f"pat-{rng.randrange(5000)}"
                events.append(
                    (
                        begins - timedelta(days=7),
                        AppointmentBooked(
                            appointment_id=appointment,
                            patient_id=patient,
                            provider_id=provider,
                            site_id=site,
                            room_id=None,
                            visit_type_id="follow-up",
                            start=begins,
                            end=begins + timedelta(minutes=20),
                            booked_at=begins - timedelta(days=7),
                        ),
                    )
                )
                roll = rng.random()
                if roll < 0.80:
                    arrived = begins - timedelta(minutes=rng.randint(0, 10))
                    roomed = arrived + timedelta(minutes=rng.randint(2, 35))
                    done = roomed + timedelta(minutes=rng.randint(10, 40))
                    events += [
                        (
                            arrived,
                            PatientCheckedIn(
                                appointment_id=appointment,
                                patient_id=patient,
                                provider_id=provider,
                                checked_in_at=arrived,
                            ),
                        ),
                        (
                            roomed,
                            PatientRoomed(
                                appointment_id=appointment,
                                provider_id=provider,
                                room_id=None,
                                roomed_at=roomed,
                            ),
                        ),
                        (
                            done,
                            VisitCompleted(
                                appointment_id=appointment,
                                patient_id=patient,
                                provider_id=provider,
                                site_id=site,
                                visit_type_id="follow-up",
                                start=begins,
                                procedures=("99213",),
                                diagnoses=("E11.9",),
                                completed_at=done,
                            ),
                        ),
                    ]
                    claims.append((appointment, done, rng.random() < 0.1, rng.randint(80, 250)))
                elif roll < 0.87:
                    events.append(
                        (
                            begins + timedelta(minutes=30),
                            AppointmentNoShow(
                                appointment_id=appointment,
                                patient_id=patient,
                                provider_id=provider,
                                recorded_at=begins + timedelta(minutes=30),
                                automatic=True,
                            ),
                        )
                    )
                elif roll < 0.97:
                    hours = rng.choice((2, 12, 48, 96))
                    events.append(
                        (
                            begins - timedelta(hours=hours),
                            AppointmentCancelled(
                                appointment_id=appointment,
                                patient_id=patient,
                                reason=Sealed(subject=patient, nonce="n", ct="c"),
                                cancelled_at=begins - timedelta(hours=hours),
                            ),
                        )
                    )
            events.sort(key=lambda pair: pair[0])
            planned.write("scheduling", f"{TENANT}:site-day:{site}:{day.isoformat()}", events)
            for appointment, done, denied, dollars in claims:
                claim = f"clm-{appointment}"
                created = ClaimCreated(
                    claim_id=claim,
                    patient_id="pat",
                    payer_id="payer",
                    coverage_id="cov",
                    priority=1,
                    site_id=site,
                    provider_id="dr",
                    charge_ids=(appointment,),
                    total_cents=dollars * 100,
                    created_at=done,
                )
                paid = 0 if denied else dollars * 60
                answered = ClaimAdjudicated(
                    claim_id=claim,
                    outcome="denied" if denied else "paid",
                    paid_cents=paid,
                    patient_responsibility_cents=0,
                    payer_claim_control_number=claim,
                    adjudicated_on=(done + timedelta(days=14)).date(),
                    recorded_at=done + timedelta(days=14),
                )
                planned.write(
                    "billing",
                    f"{TENANT}:claim:{claim}",
                    [(done, created), (done + timedelta(days=14), answered)],
                )
    for n in range(200):
        due = start + timedelta(days=rng.randrange(365))
        done_on = due + timedelta(days=rng.randint(-20, 10))
        planned.write(
            "staffing",
            f"{TENANT}:employee:emp-{n}",
            [
                (
                    _at(start, 0),
                    TrainingAssigned(
                        assignment_id=f"t-{n}",
                        employee_id=f"emp-{n}",
                        course_id="hipaa",
                        course_name="HIPAA",
                        assigned_on=start,
                        due_on=due,
                    ),
                ),
                (
                    _at(done_on, 12),
                    TrainingCompleted(
                        assignment_id=f"t-{n}",
                        employee_id=f"emp-{n}",
                        course_id="hipaa",
                        completed_on=done_on,
                        evidence="certificate",
                        recorded_by="hr",
                    ),
                ),
            ],
        )
    for n in range(300):
        recorded = CredentialRecorded(
            credential_id=f"cr-{n}",
            employee_id=f"emp-{n % 200}",
            kind="bls",
            issuer="AHA",
            number=str(n),
            issued_on=start,
            expires_on=start + timedelta(days=rng.randint(200, 900)),
        )
        planned.write("staffing", f"{TENANT}:credential:cr-{n}", [(_at(start, 0), recorded)])
    return planned


def _messages(planned: Plan) -> list[Message]:
    return [
        to_message(envelope, events_topic(context))
        for context, envelopes in planned.by_context.items()
        for envelope in envelopes
    ]


async def _catch_up(runner: ProjectionRunner) -> float:
    started = time.perf_counter()
    await runner.start()
    lag = await runner.lag()
    while lag > 0:
        await asyncio.sleep(0.2)
        lag = await runner.lag()
    return time.perf_counter() - started


def _raw_read(bus_file: Path) -> int:
    """Every record of the three topics, each value parsed: the least an answer from the
    events would cost."""
    with sqlite3.connect(bus_file) as conn:
        count = 0
        for context in ("scheduling", "billing", "staffing"):
            for (value,) in conn.execute(
                "SELECT value FROM records WHERE topic = ? ORDER BY offset",
                (events_topic(context),),
            ):
                orjson.loads(value)
                count += 1
    return count


async def _timed(runs: int, answer: Callable[[], Awaitable[object]]) -> list[float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        await answer()
        seconds.append(time.perf_counter() - started)
    return seconds


async def run(per_day: int, queries: int) -> None:
    with tempfile.TemporaryDirectory(prefix="medoffice-bench-kpis-") as tmp:
        directory = Path(tmp)
        planned = plan(per_day)
        messages = _messages(planned)
        bus = InProcessBus(SqliteDatabase(directory / "bus.db", "normal"))
        store_db = SqliteDatabase(directory / "readmodels.db", "normal")
        store = SqliteDocumentStore(store_db)
        registry = SCHEDULING.registry.merged(BILLING.registry).merged(STAFFING.registry)
        read_models = ReadModels(store)
        try:
            for start in range(0, len(messages), BATCH):
                await bus.publish(messages[start : start + BATCH])
            runner = ProjectionRunner(
                KpiProjection(), read_models, bus, registry, events_topic, max_batch=BATCH
            )
            try:
                caught_up = await _catch_up(runner)
            finally:
                await runner.stop()
            heading(
                f"Issue 17: KPI dashboard: {len(SITES)} sites, a year ({YEAR}), {per_day} "
                f"appointments a weekday at each site: {planned.events:,} events"
            )
            print(
                f"KPI projection caught up from the start of the topics in {caught_up:.1f} s "
                f"({planned.events / caught_up:,.0f} events/s)"
            )
            reader = KpiReader(read_models)
            manager = Principal(sub="bench", tenant=TENANT, sites="*", roles=["manager"])
            month = f"{YEAR}-06"
            group_month = await _timed(queries, lambda: reader.month(manager, None, month))
            site_month = await _timed(queries, lambda: reader.month(manager, SITES[0], month))

            year = months_to(f"{YEAR}-12")
            trend = await _timed(queries, lambda: reader.months(manager, None, year))
            raw = []
            for _ in range(3):
                started = time.perf_counter()
                read = await asyncio.to_thread(_raw_read, directory / "bus.db")
                raw.append(time.perf_counter() - started)
            raw_s = statistics.median(raw)
            print(
                f"raw reading of the year's {read:,} events (median of 3): {raw_s * 1000:,.0f} ms"
            )
            print(f"{'answer':<48}{'p50 ms':>10}{'p95 ms':>10}{'raw / p50':>12}")
            for label, seconds in (
                ("one month, the whole group", group_month),
                ("one month, one site", site_month),
                ("twelve months, the whole group (the page)", trend),
            ):
                ordered = sorted(seconds)
                p50 = statistics.median(ordered)
                p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
                print(f"{label:<48}{p50 * 1000:>10.2f}{p95 * 1000:>10.2f}{raw_s / p50:>11,.0f}x")
        finally:
            await bus.stop()
            await store_db.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.kpis", description=__doc__)
    parser.add_argument("--per-day", type=int, default=24, help="appointments a site a weekday")
    parser.add_argument("--queries", type=int, default=50, help="answers timed each")
    args = parser.parse_args(argv)
    asyncio.run(run(args.per_day, args.queries))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
