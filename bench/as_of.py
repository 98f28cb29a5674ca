"""A read model as of a date over a year of a 6-site group's events (issue 14, time travel).

`python -m bench --only as-of` (or `python -m bench.as_of [events]`): AppointmentBooked
events of 6 sites (bench/workload.py; 60,000 by default, about 27 bookings a site a day),
their recorded times spread evenly over 365 days, published to the embedded bus (SQLite).
Ours: `ProjectionRunner.replay` (what `POST /ops/projections/{name}/replays` runs) rebuilds
the appointments read model as of a date into a scratch generation: it reads every record on
the topic, applies those recorded up to the date and passes over the rest. Raw: the same
records read from the bus's SQLite table with sqlite3 in batches of 500, their headers and
data decoded with orjson and the recorded time compared with the date; nothing folded,
nothing written. The raw read runs right after each of ours, so other work on the machine
weighs on both sides of a ratio alike. Ratios are ours/raw in events read per second: above 1
is faster.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import orjson

from bench.report import Figure, heading, ratio, table
from bench.workload import SITES, appointments
from services.scheduling.domain.events import registry
from services.scheduling.projections.appointments import APPOINTMENTS, AppointmentsProjection
from shared.bus.inprocess import InProcessBus
from shared.cloudevents import events_topic, to_message
from shared.documents.sqlite import SqliteDocumentStore
from shared.events import Envelope
from shared.projections import ProjectionRunner
from shared.readmodels import ReadModels, physical
from shared.sqlite import SqliteDatabase

BATCH = 500
YEAR = timedelta(days=365)
END = datetime.fromisoformat("2026-12-01T00:00:00+00:00")
# As of: a quarter in (the date a year back from an auditor's "now" a quarter later), half way,
# and the end (the whole year: the replay then costs what a rebuild costs).
DATES = {"3 months in": END - YEAR + YEAR / 4, "6 months in": END - YEAR / 2, "the end": END}


def spread_over_a_year(envelopes: Sequence[Envelope]) -> list[Envelope]:
    """The same events, recorded at even steps over the year before END, in log order."""
    step = YEAR / len(envelopes)
    start = END - YEAR
    return [e.model_copy(update={"time": start + step * (n + 1)}) for n, e in enumerate(envelopes)]


def raw_read(bus_path: Path, topic: str, as_of: datetime) -> tuple[int, float]:
    """Every record of the topic read and decoded; how many were recorded up to `as_of`."""
    cut = as_of.isoformat()
    due = 0
    started = time.perf_counter()
    with contextlib.closing(sqlite3.connect(bus_path)) as conn:
        offset = 0
        while True:
            records = conn.execute(
                "SELECT offset, headers, value FROM records"
                " WHERE topic = ? AND offset >= ? ORDER BY offset LIMIT ?",
                (topic, offset, BATCH),
            ).fetchall()
            if not records:
                break
            offset = records[-1][0] + 1
            for _, headers, value in records:
                orjson.loads(value)
                # ISO times of one offset compare as text, as the bench writes them all.
                if orjson.loads(headers)["ce_time"] <= cut:
                    due += 1
    return due, time.perf_counter() - started


EVENTS = 60_000
HEADING = "A read model as of a date: appointments, a year of a 6-site group"


@dataclass(frozen=True)
class Result:
    events: int
    figures: list[Figure]
    ratios: list[str]


async def no_progress(read: int, applied: int) -> None:
    return None


async def run(count: int = EVENTS) -> Result:
    with tempfile.TemporaryDirectory(prefix="medoffice-bench-as-of-") as directory:
        return await measure(count, Path(directory))


async def measure(count: int, directory: Path) -> Result:
    envelopes = spread_over_a_year(appointments(count).envelopes)
    topic = events_topic("scheduling", "bench.")
    bus_path = directory / "bus.db"
    bus = InProcessBus(SqliteDatabase(bus_path, "full"))
    store = SqliteDocumentStore(SqliteDatabase(directory / "readmodels.db", "full"))
    figures: list[Figure] = []
    ratios: list[str] = []
    try:
        messages = [to_message(e, topic) for e in envelopes]
        for n in range(0, len(messages), BATCH):
            await bus.publish(messages[n : n + BATCH])
        runner = ProjectionRunner(
            AppointmentsProjection(),
            ReadModels(store),
            bus,
            registry,
            lambda _: topic,
            max_batch=BATCH,
        )
        for n, (label, as_of) in enumerate(DATES.items(), start=1):
            started = time.perf_counter()
            read, applied = await runner.replay(-n, as_of, no_progress, timeout=3600, poll=0.05)
            seconds = time.perf_counter() - started
            documents = await store.count(physical(APPOINTMENTS, -n))
            ours = Figure(
                f"replay as of {label}",
                "embedded: ours",
                read,
                seconds,
                f"{applied:,} applied, {documents:,} docs",
            )
            due, raw_seconds = raw_read(bus_path, topic, as_of)
            assert due == applied, f"raw read {due} events up to {label}, the replay {applied}"
            raw = Figure(f"raw read as of {label}", "embedded: sqlite3 + orjson", read, raw_seconds)
            figures += [ours, raw]
            ratios.append(f"{label}: {ratio(ours, raw)}")
            for collection in runner.projection.collections:
                await store.drop(physical(collection, -n))
    finally:
        await bus.stop()
        await store.close()
    return Result(len(envelopes), figures, ratios)


def report_results(result: Result) -> None:
    print(
        f"{result.events:,} AppointmentBooked events of {SITES} sites over 365 days to {END.date()}"
    )
    table(result.figures)
    print("ours/raw (events read per second): " + "; ".join(result.ratios))


def main(argv: Sequence[str]) -> None:
    count = int(argv[0]) if argv else EVENTS
    heading(HEADING)
    report_results(asyncio.run(run(count)))


if __name__ == "__main__":
    main(sys.argv[1:])
