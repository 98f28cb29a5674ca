"""`python -m bench`: append, replay, scheduling and split figures (see bench/__init__.py)."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sqlite3
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path

from bench import append, replay, report, scheduling
from bench.report import Figure
from bench.workload import BOOKINGS_PER_DAY, appointments
from shared.events import Envelope
from shared.eventstore.codec import encode_events
from shared.observability import configure
from shared.sqlite import Durability

BACKENDS = ("embedded", "mongo", "kafka")
ONLY = (
    "append",
    "replay",
    "scheduling",
    "split",
    "rosters",
    "x12",
    "charges",
    "remittances",
    "receivables",
    "as-of",
    "ledger",
    "finance",
)
KAFKA_ENV = "MEDOFFICE_KAFKA_BOOTSTRAP"
MONGO_ENV = "MEDOFFICE_MONGO_URL"


@dataclass
class Plan:
    backends: list[str]
    skipped: list[str] = field(default_factory=list)
    kafka: str = ""
    mongo: str = ""


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number of events")
    return value


def share(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a share from 0 to below 1")
    return value


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Append and replay throughput, printed."
    )
    parser.add_argument(
        "--events", type=positive, help="events for every measurement (overrides the four below)"
    )
    parser.add_argument("--append-events", type=positive, default=20_000, help="embedded append")
    parser.add_argument("--replay-events", type=positive, default=100_000, help="embedded replay")
    parser.add_argument(
        "--mongo-append-events",
        type=positive,
        default=5_000,
        help="MongoDB append (default 5000, to keep the run short)",
    )
    parser.add_argument(
        "--scale-out-replay-events",
        type=positive,
        default=3_000,
        help="Kafka + MongoDB replay (default 3000: see the note printed with the figures)",
    )
    parser.add_argument(
        "--only",
        choices=ONLY,
        help="one measurement; `split` (scheduling and compliance in separate processes) runs "
        "only when asked for, and needs kafka and mongo; `rosters` (staffing's roster query "
        "for 2,000 employees and 5 years, embedded) only when asked for; `x12` (837P "
        "generation for a month of a 6-site group, in-process) only when asked for; `charges` "
        "(billing's charges from 30,000 completed visits, embedded; bench/charges.py), "
        "`remittances` (posting a 5,000-claim 835, embedded; bench/remittances.py), "
        "`receivables` (AR aging as of a date one year back over two years of a 6-site "
        "group's billing events, embedded; bench/receivables.py), `as-of` (a read model "
        "replayed as of a date over a year of a 6-site group's bookings, embedded; "
        "bench/as_of.py) and `ledger` (the audit ledger's append and verification rates "
        "against hashing the same bytes raw, embedded; bench/ledger.py) only when asked for",
    )
    parser.add_argument(
        "--split-bookings",
        type=positive,
        default=200,
        help="bookings per deployment for --only split (default 200)",
    )
    parser.add_argument(
        "--scheduling-days",
        type=positive,
        default=scheduling.EMBEDDED.days,
        help=f"days of the generated group, embedded (default {scheduling.EMBEDDED.days})",
    )
    parser.add_argument(
        "--scale-out-scheduling-days",
        type=positive,
        default=scheduling.SCALE_OUT.days,
        help=f"days of the generated group on Kafka + MongoDB (default "
        f"{scheduling.SCALE_OUT.days}: see the note printed with the figures)",
    )
    parser.add_argument(
        "--fill",
        type=share,
        default=scheduling.EMBEDDED.fill,
        help="share of the providers' available time booked beforehand (default "
        f"{scheduling.EMBEDDED.fill})",
    )
    parser.add_argument(
        "--backends",
        help="comma-separated, of embedded,mongo,kafka (default: embedded, plus mongo and "
        f"kafka when {MONGO_ENV} and {KAFKA_ENV} are set)",
    )
    parser.add_argument(
        "--durability",
        choices=("normal", "full", "both"),
        default="both",
        help="SQLite synchronous mode for the append figures, ours and the library's alike "
        "(WAL either way; default both)",
    )
    parser.add_argument(
        "--replay-durability",
        choices=("normal", "full"),
        default="full",
        help="SQLite synchronous mode of the embedded bus and read models (default full, "
        "the suite's default), and of the raw path",
    )
    parser.add_argument(
        "--replay-rounds",
        type=positive,
        default=1,
        help="embedded replay rounds, each from a new bus and store; the fastest of each figure "
        "is kept (default 1; more on a machine other work shares)",
    )
    parser.add_argument(
        "--projections",
        default="appointments",
        help=f"comma-separated, of {','.join(replay.PROJECTIONS)} (default appointments)",
    )
    args = parser.parse_args(argv)
    if args.events is not None:
        args.append_events = args.replay_events = args.events
        args.mongo_append_events = args.scale_out_replay_events = args.events
    return args


def plan(requested: str | None) -> Plan:
    kafka, mongo = os.environ.get(KAFKA_ENV, ""), os.environ.get(MONGO_ENV, "")
    wanted = requested.split(",") if requested else list(BACKENDS)
    unknown = set(wanted) - set(BACKENDS)
    if unknown:
        raise SystemExit(f"unknown backends: {', '.join(sorted(unknown))}")
    result = Plan([], kafka=kafka, mongo=mongo)
    for backend, env, value in (("mongo", MONGO_ENV, mongo), ("kafka", KAFKA_ENV, kafka)):
        if backend in wanted and not value:
            result.skipped.append(f"{backend}: {env} is not set")
    result.backends = [
        b
        for b in BACKENDS
        if b in wanted and (b == "embedded" or (b == "mongo" and mongo) or (b == "kafka" and kafka))
    ]
    return result


def durabilities(choice: str) -> list[Durability]:
    if choice == "normal":
        return ["normal"]
    if choice == "full":
        return ["full"]
    return ["normal", "full"]


def run_append(args: argparse.Namespace, chosen: Plan, envelopes: list[Envelope]) -> None:
    report.heading("Append: one event per commit")
    sample = envelopes[: args.append_events]
    print(
        f"AppointmentBooked events over provider-day streams (~{BOOKINGS_PER_DAY} each, in "
        f"shuffled arrival order), each appended at its expected version: data "
        f"{append.payload_bytes(sample)} B of JSON, stored envelope "
        f"{len(encode_events(sample[:1]))} B. The first N of the same sequence on every path."
    )
    figures: list[Figure] = []
    lines: list[tuple[str, Figure, Figure]] = []
    library: dict[str, Figure] = {}
    if "embedded" in chosen.backends:
        print(
            "Durability: WAL on both sides, `synchronous` as printed in each row. The library "
            "sets only journal_mode=WAL, so it runs at SQLite's default synchronous=FULL; for "
            "NORMAL we set it on every connection the library opens. Each path is warmed up "
            "first on a scratch file."
        )
        warmup = sample[: min(1000, max(1, len(sample) // 10))]
        for durability in durabilities(args.durability):
            with tempfile.TemporaryDirectory(prefix="medoffice-bench-") as tmp:
                directory = Path(tmp)
                mine = asyncio.run(append.ours_sqlite(sample, durability, directory, warmup))
                application = append.library_application(sample, durability, directory, warmup)
                recorder = append.library_recorder(sample, durability, directory, warmup)
            figures += [mine, application, recorder]
            mode = durability.upper()
            library[mode] = application
            lines += [
                (f"embedded vs eventsourcing Application.save ({mode})", mine, application),
                (f"embedded vs eventsourcing recorder alone ({mode})", mine, recorder),
            ]
    if "mongo" in chosen.backends:
        from bench.scaleout import append_mongo

        print(f"MongoDB append: {args.mongo_append_events:,} events (to keep the run short).")
        mongo = asyncio.run(append_mongo(envelopes[: args.mongo_append_events], chosen.mongo))
        figures += mongo
        for mode, application in library.items():
            label = f"mongo vs eventsourcing Application.save ({mode})"
            lines.append((label, mongo[0], application))
        lines.append(("mongo vs raw pymongo insert_one", mongo[0], mongo[1]))
    report.table(figures)
    print()
    report.comparisons(lines)


def run_replay(args: argparse.Namespace, chosen: Plan, envelopes: list[Envelope]) -> None:
    projections = args.projections.split(",")
    unknown = set(projections) - set(replay.PROJECTIONS)
    if unknown:
        raise SystemExit(f"unknown projections: {', '.join(sorted(unknown))}")
    report.heading("Replay: a projection catching up from the start of the bus")
    print(
        f"AppointmentBooked CloudEvents ({append.payload_bytes(envelopes)} B values) published "
        f"in batches of {replay.BATCH} (timed apart); then the clock runs from the runner's "
        f"start until its lag reads 0 (to {replay.LAG_POLL_MIN}s). Raw = the same records "
        "read with the plain client and the documents our projection wrote, inserted in "
        f"batches of {replay.BATCH}: nothing decoded, no version guards, no offsets committed."
    )
    results: list[replay.ReplayFigures] = []
    if "embedded" in chosen.backends:
        durability: Durability = args.replay_durability
        print(f"Embedded: WAL, synchronous={durability.upper()} for ours and raw.")
        sample = envelopes[: args.replay_events]
        rounds: list[replay.ReplayFigures] = []
        for _ in range(args.replay_rounds):
            with tempfile.TemporaryDirectory(prefix="medoffice-bench-") as tmp:
                rounds.append(
                    asyncio.run(replay.embedded(sample, durability, Path(tmp), projections))
                )
        if len(rounds) > 1:
            print(f"Embedded: {len(rounds)} rounds, the fastest of each figure kept.")
        results.append(replay.fastest(rounds))
    if "kafka" in chosen.backends and "mongo" in chosen.backends:
        from bench.scaleout import replay_scale_out

        print(scale_out_note("scale-out replay", args.scale_out_replay_events))
        sample = envelopes[: args.scale_out_replay_events]
        results.append(
            asyncio.run(replay_scale_out(sample, chosen.kafka, chosen.mongo, projections))
        )
    elif "kafka" in chosen.backends or "mongo" in chosen.backends:
        print("Scale-out replay skipped: it needs both kafka and mongo.")
    figures: list[Figure] = []
    lines: list[tuple[str, Figure, Figure]] = []
    for r in results:
        figures += [r.publish, r.raw_publish, *r.replays.values(), *r.rebuilds.values()]
        lines.append((f"{r.backend} publish vs raw", r.publish, r.raw_publish))
        if r.raw_replay is not None:
            figures.append(r.raw_replay)
            ours = r.replays["appointments"]
            lines.append((f"{r.backend} catch-up vs raw (target >= 0.80x)", ours, r.raw_replay))
            rebuilt, raw = r.rebuilds["appointments"], r.raw_rebuild or r.raw_replay
            if r.raw_rebuild is not None:
                figures.append(r.raw_rebuild)
            lines.append((f"{r.backend} rebuild vs raw (target >= 0.80x)", rebuilt, raw))
    report.table(figures)
    print()
    report.comparisons(lines)


def run_scheduling(args: argparse.Namespace, chosen: Plan) -> None:
    report.heading("Scheduling: a group of 6 sites, 60 providers; open slots and booking")
    print(scheduling.METHOD)
    results: list[scheduling.Results] = []
    if "embedded" in chosen.backends:
        size = replace(scheduling.EMBEDDED, days=args.scheduling_days, fill=args.fill)
        results.append(asyncio.run(scheduling.embedded(size)))
    if "kafka" in chosen.backends and "mongo" in chosen.backends:
        size = replace(scheduling.SCALE_OUT, days=args.scale_out_scheduling_days, fill=args.fill)
        print(scheduling.scale_out_note(size.days))
        results.append(asyncio.run(scheduling.scale_out(size, chosen.kafka, chosen.mongo)))
    elif "kafka" in chosen.backends or "mongo" in chosen.backends:
        print("Scale-out scheduling skipped: it needs both kafka and mongo.")
    scheduling.report_results(results)


def run_split(args: argparse.Namespace, chosen: Plan) -> None:
    from bench import split

    report.heading("The split: booking -> audit entry, services apart vs in one process")
    if not (chosen.kafka and chosen.mongo):
        print(f"Skipped: it needs Kafka and MongoDB ({KAFKA_ENV} and {MONGO_ENV}).")
        return
    print(split.METHOD)
    print(f"{args.split_bookings} bookings per deployment.")
    results = asyncio.run(split.run(chosen.kafka, chosen.mongo, args.split_bookings))
    print()
    split.report_results(results)


def scale_out_note(what: str, events: int) -> str:
    return (
        f"{what}: {events:,} events, fewer than embedded to keep the run short. The runner "
        "reads each batch's documents (one `_id` `$in`) before it writes them: on the "
        "MongoDB-wire test server of infra/ (FerretDB 1.24 on PostgreSQL) an index lookup; on "
        "its SQLite fallback a scan of the collection, so there the run time grows with the "
        "square of the event count."
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    chosen = plan(args.backends)
    # As the suite runs: structlog set up, and an SDK tracer provider (no exporter), so every
    # projected event gets its span as in production.
    configure(level="warning", json_logs=False)
    print(
        f"medoffice bench: Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"eventsourcing {metadata.version('eventsourcing')}, {os.cpu_count()} CPUs, "
        f"{platform.machine()}"
    )
    print(f"backends: {', '.join(chosen.backends) or 'none'}")
    for reason in chosen.skipped:
        print(f"skipped scale-out figures for {reason}")
    if args.only == "split":
        if chosen.mongo:
            from bench.scaleout import describe_server

            print(f"MongoDB-wire server: {asyncio.run(describe_server(chosen.mongo))}")
        run_split(args, chosen)
        sys.stdout.flush()
        return 0
    if args.only == "rosters":
        from bench import rosters

        report.heading("Rosters: a group of 2,000 employees with 5 years of history")
        group, figures = asyncio.run(rosters.run())
        rosters.report_results(group, figures)
        sys.stdout.flush()
        return 0
    if args.only == "x12":
        from bench import x12

        report.heading("Billing: 837P for a month of a 6-site group (about 30,000 claims)")
        x12.report_results(x12.run())
        sys.stdout.flush()
        return 0
    if args.only == "charges":
        from bench import charges

        report.heading("Charges: a month of completed visits at a 6-site group")
        charges.report_results(asyncio.run(charges.run()))
        sys.stdout.flush()
        return 0
    if args.only == "remittances":
        from bench import remittances

        report.heading("Remittances: posting a payer's 835")
        remittances.report_results(asyncio.run(remittances.run()))
        sys.stdout.flush()
        return 0
    if args.only == "as-of":
        from bench import as_of

        report.heading(as_of.HEADING)
        as_of.report_results(asyncio.run(as_of.run()))
        sys.stdout.flush()
        return 0
    if args.only == "receivables":
        from bench import receivables

        receivables.main([])
        sys.stdout.flush()
        return 0
    if args.only == "finance":
        from bench import finance

        report.heading("Finance: a month's P&L and budget versus actual over a group's year")
        finance.main([])
        sys.stdout.flush()
        return 0
    if args.only == "ledger":
        from bench import ledger

        report.heading("Compliance: the audit ledger's append and verification rates")
        ledger.report_results(asyncio.run(ledger.run()))
        sys.stdout.flush()
        return 0
    if not chosen.backends:
        return 0
    appending, replaying = args.only in (None, "append"), args.only in (None, "replay")
    booking = args.only in (None, "scheduling")
    embedded, mongo = "embedded" in chosen.backends, "mongo" in chosen.backends
    sizes = [
        size
        for size, wanted in (
            (args.append_events, appending and embedded),
            (args.replay_events, replaying and embedded),
            (args.mongo_append_events, appending and mongo),
            (args.scale_out_replay_events, replaying and mongo and "kafka" in chosen.backends),
        )
        if wanted
    ]
    envelopes = appointments(max(sizes, default=1)).envelopes
    if chosen.mongo and "mongo" in chosen.backends:
        from bench.scaleout import describe_server

        print(f"MongoDB-wire server: {asyncio.run(describe_server(chosen.mongo))}")
    if appending:
        run_append(args, chosen, envelopes)
    if replaying:
        run_replay(args, chosen, envelopes)
    if booking:
        run_scheduling(args, chosen)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
