"""The cost of the split: booking -> audit entry, with scheduling and compliance apart.

Two deployments of the suite run side by side on the same Kafka and MongoDB-wire server, each
with a database name and topic namespace of its own:
- apart: `medoffice serve scheduling` and `medoffice serve compliance`, two processes, each
  on its own loopback port (the split); `medoffice serve staffing` runs beside them, a third,
  for the clinic's provider, whom scheduling learns from staffing's topic;
- one process: `medoffice serve`, every service in one process on one port (the baseline).

Each gets the same small clinic through its API (a site, a room, a visit type, a provider hired
through staffing with a licence, and a weekly template, a registered patient). Then, in rounds,
one booking on each (the order alternates from round to round, so drift on a shared machine
falls on both alike): `POST /scheduling/appointments`, and from its 201 the clock runs while
compliance's `GET /compliance/audit-log?stream=...` is polled until the booking's entry is
there, and its `GET /compliance/audit-ledger/blocks` until a block chains it. Booked ->
visible and booked -> chained, p50/p99, printed for both and as ratios apart / one process.

Everything this starts is its own: the server processes (stopped by their Popen handles), the
databases `bench_<hex>_<service>` (dropped) and the topics under `bench-<hex>.` (deleted).
Every socket is on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from bench.clinic import hire, learnt
from bench.report import Latencies, latency_comparisons, latency_table
from bench.workload import appointments
from shared.backends import SUITE_DATABASES
from shared.clock import SystemClock
from shared.cloudevents import to_message
from shared.http.identity import mint_token
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
TENANT = "bench-split"
SITE = "north"
ZONE = ZoneInfo("America/New_York")
POLL = 0.02  # seconds between two reads of compliance's answers (the figures' resolution)
VISIBLE_TIMEOUT = 120.0
READY_TIMEOUT = 180.0
WARMUP = 3  # bookings per deployment, not counted: first connections, first batches
BOOKED = ".AppointmentBooked.v1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Process:
    """One `medoffice serve ...` subprocess, its log in a file; stopped by its own handle."""

    def __init__(self, name: str, args: Sequence[str], env: dict[str, str], log: Path) -> None:
        self.name, self.args, self.env, self.log = name, list(args), env, log
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "services", "serve", *self.args],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def exited(self) -> str | None:
        if self.popen is not None and self.popen.poll() is not None:
            return f"{self.name} exited ({self.popen.returncode}): {self.log.read_text()[-2000:]}"
        return None

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


@dataclass
class Deployment:
    label: str
    database: str
    namespace: str
    processes: list[Process]
    scheduling: httpx.AsyncClient
    compliance: httpx.AsyncClient
    staffing: httpx.AsyncClient
    booked: list[float] = field(default_factory=list)  # the booking request itself
    visible: list[float] = field(default_factory=list)  # 201 -> audit entry listed
    chained: list[float] = field(default_factory=list)  # 201 -> ledger block holds it
    log_reads: list[float] = field(default_factory=list)  # each GET of the audit log
    block_reads: list[float] = field(default_factory=list)  # each GET of ledger blocks
    chain: set[tuple[str, int]] = field(default_factory=set)  # (stream, version) chained
    cursor: int = 0  # the last ledger block read

    async def ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        for client in (self.scheduling, self.compliance, self.staffing):
            while True:
                for process in self.processes:
                    if (reason := process.exited()) is not None:
                        raise RuntimeError(reason)
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/ready")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.label}: not ready after {READY_TIMEOUT:.0f} s")
                await asyncio.sleep(0.2)


def _token(settings: Settings, subject: str, role: str) -> dict[str, str]:
    token = mint_token(
        settings.jwt_secret,
        issuer=settings.jwt_issuer,
        subject=subject,
        tenant=TENANT,
        roles=[role],
        sites=None,
        now=SystemClock().now(),
    )
    return {"authorization": f"Bearer {token}"}


def _client(settings: Settings, port: int, role: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        headers=_token(settings, f"bench-{role}", role),
        timeout=60,
    )


def _environment(settings: Settings, database: str, namespace: str, data: Path) -> dict[str, str]:
    """This environment without its MEDOFFICE_ settings, plus the deployment's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDOFFICE_")}
    return {
        **env,
        "PYTHONPATH": str(ROOT),
        "MEDOFFICE_DATA_DIR": str(data),
        "MEDOFFICE_SEED_DEMO": "false",
        "MEDOFFICE_KAFKA_BOOTSTRAP": settings.kafka_bootstrap or "",
        "MEDOFFICE_MONGO_URL": settings.mongo_url or "",
        "MEDOFFICE_MONGO_DATABASE": database,
        "MEDOFFICE_TOPIC_NAMESPACE": namespace,
        "MEDOFFICE_JWT_SECRET": settings.jwt_secret,
        "MEDOFFICE_JWT_ISSUER": settings.jwt_issuer,
        "MEDOFFICE_LOG_JSON": "true",
    }


def apart(settings: Settings, tmp: Path) -> Deployment:
    suffix = uuid.uuid4().hex[:12]
    database, namespace = f"bench_{suffix}", f"bench-{suffix}."
    env = _environment(settings, database, namespace, tmp / "apart")
    scheduling_port, compliance_port, staffing_port = free_port(), free_port(), free_port()
    scheduling = Process(
        "scheduling",
        ["scheduling"],
        {
            **env,
            "MEDOFFICE_SCHEDULING_PORT": str(scheduling_port),
            "MEDOFFICE_PORT": str(free_port()),
        },
        tmp / "apart-scheduling.log",
    )
    compliance = Process(
        "compliance",
        ["compliance"],
        {
            **env,
            "MEDOFFICE_COMPLIANCE_PORT": str(compliance_port),
            "MEDOFFICE_PORT": str(free_port()),
        },
        tmp / "apart-compliance.log",
    )
    # Scheduling learns the clinic's provider from staffing's topic: staffing runs too.
    staffing = Process(
        "staffing",
        ["staffing"],
        {**env, "MEDOFFICE_STAFFING_PORT": str(staffing_port), "MEDOFFICE_PORT": str(free_port())},
        tmp / "apart-staffing.log",
    )
    return Deployment(
        "apart",
        database,
        namespace,
        [scheduling, compliance, staffing],
        _client(settings, scheduling_port, "admin"),
        _client(settings, compliance_port, "auditor"),
        _client(settings, staffing_port, "admin"),
    )


def together(settings: Settings, tmp: Path) -> Deployment:
    suffix = uuid.uuid4().hex[:12]
    database, namespace = f"bench_{suffix}", f"bench-{suffix}."
    port = free_port()
    env = {
        **_environment(settings, database, namespace, tmp / "together"),
        "MEDOFFICE_PORT": str(port),
    }
    process = Process("suite", [], env, tmp / "together.log")
    return Deployment(
        "one process",
        database,
        namespace,
        [process],
        _client(settings, port, "admin"),
        _client(settings, port, "auditor"),
        _client(settings, port, "admin"),
    )


class RawHop:
    """The hop without the suite: one AppointmentBooked CloudEvent produced with a plain
    aiokafka producer (acks=all, idempotent, as the bus's), consumed by a plain consumer in a
    group (batches, 200 ms poll timeout, as the bus's) that inserts one document per record
    into MongoDB, and read back with `find_one` by the poller. Its topic and database are the
    run's own."""

    def __init__(self, bootstrap: str, url: str) -> None:
        from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
        from pymongo import AsyncMongoClient

        suffix = uuid.uuid4().hex[:12]
        self.namespace, self.database = f"bench-{suffix}.", f"bench_{suffix}_raw"
        self.topic = f"{self.namespace}raw"
        self.bootstrap = bootstrap
        self.mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
        self.collection = self.mongo[self.database]["entries"]
        self.producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", enable_idempotence=True
        )
        self.consumer = AIOKafkaConsumer(
            self.topic,
            bootstrap_servers=bootstrap,
            group_id=f"{self.namespace}raw",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        self.task: asyncio.Task[None] | None = None
        self.seconds: list[float] = []
        envelope = appointments(1).envelopes[0]
        self.message = to_message(envelope, self.topic)

    async def start(self) -> None:
        from aiokafka.admin import AIOKafkaAdminClient, NewTopic

        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, client_id="medoffice-bench")
        await admin.start()
        try:
            await admin.create_topics([NewTopic(self.topic, 3, 1)])
        finally:
            await admin.close()
        await self.producer.start()
        await self.consumer.start()
        self.task = asyncio.create_task(self._consume(), name="bench-raw-consumer")
        deadline = time.monotonic() + READY_TIMEOUT
        while not self.consumer.assignment():
            if time.monotonic() > deadline:
                raise TimeoutError("the raw consumer got no partitions")
            await asyncio.sleep(0.1)

    async def _consume(self) -> None:
        while True:
            fetched = await self.consumer.getmany(timeout_ms=200, max_records=500)
            for records in fetched.values():
                for record in records:
                    key = record.key.decode() if record.key else ""
                    await self.collection.insert_one({"_id": key, "value": record.value})
            if fetched:
                await self.consumer.commit()

    async def once(self, counted: bool) -> None:
        key = uuid.uuid4().hex
        headers = [(k, v.encode()) for k, v in self.message.headers.items()]
        sent = time.perf_counter()
        await self.producer.send_and_wait(
            self.topic, self.message.value, key=key.encode(), headers=headers
        )
        while await self.collection.find_one({"_id": key}, {"_id": 1}) is None:
            if time.perf_counter() - sent > VISIBLE_TIMEOUT:
                raise TimeoutError("the raw record did not arrive")
            await asyncio.sleep(POLL)
        if counted:
            self.seconds.append(time.perf_counter() - sent)

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        with contextlib.suppress(Exception):
            await self.consumer.stop()
        with contextlib.suppress(Exception):
            await self.producer.stop()
        with contextlib.suppress(Exception):
            await self.mongo.drop_database(self.database)
        await self.mongo.close()


# ----------------------------------------------------------------------------------- workload


async def _post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    if response.status_code not in (200, 201):
        raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")
    result: dict[str, Any] = response.json()
    return result


async def clinic(client: httpx.AsyncClient, staffing: httpx.AsyncClient, first_day: date) -> None:
    """One site, one exam room, one 30-minute visit type, one provider (hired at `staffing`
    with a licence, learnt by scheduling) with a weekday template, one registered patient."""
    site = {"site_id": SITE, "name": "North", "time_zone": ZONE.key}
    await _post(client, "/scheduling/sites", site)
    await _post(client, f"/scheduling/sites/{SITE}/rooms", {"room_id": "exam-1", "name": "Exam"})
    visit = {"visit_type_id": "follow-up", "name": "Follow-up", "duration_minutes": 30}
    await _post(client, "/scheduling/visit-types", visit)
    await hire(staffing, "dr-a", [SITE], first_day)
    await learnt(client, ["dr-a"])
    windows = [{"weekday": d, "start": "08:00", "end": "17:00"} for d in range(5)]
    template = {
        "site_id": SITE,
        "windows": windows,
        "effective_from": (first_day - timedelta(days=7)).isoformat(),
    }
    await _post(client, "/scheduling/providers/dr-a/availability", template)
    patient = {"patient_id": "pat-b00", "name": "pat-b00", "birth_date": "1970-01-01"}
    await _post(client, "/scheduling/patients", patient)


def slots(first_day: date, count: int) -> list[str]:
    """`count` 09:00 starts on consecutive weekdays: one booking per site-day stream."""
    starts: list[str] = []
    day = first_day
    while len(starts) < count:
        if day.weekday() < 5:
            starts.append(datetime(day.year, day.month, day.day, 9, tzinfo=ZONE).isoformat())
        day += timedelta(days=1)
    return starts


async def _listed(deployment: Deployment, stream: str, version: int) -> bool:
    began = time.perf_counter()
    response = await deployment.compliance.get(
        "/compliance/audit-log", params={"stream": stream, "limit": 1000}
    )
    deployment.log_reads.append(time.perf_counter() - began)
    if response.status_code != 200:
        raise RuntimeError(f"audit-log: {response.status_code} {response.text}")
    return any(
        e.get("stream_version") == version and str(e.get("type", "")).endswith(BOOKED)
        for e in response.json()
    )


async def _read_chain(deployment: Deployment) -> None:
    """Read the ledger's blocks after the last one read; remember what they chain."""
    while True:
        began = time.perf_counter()
        response = await deployment.compliance.get(
            "/compliance/audit-ledger/blocks", params={"after": deployment.cursor, "limit": 500}
        )
        deployment.block_reads.append(time.perf_counter() - began)
        if response.status_code != 200:
            raise RuntimeError(f"audit-ledger/blocks: {response.status_code} {response.text}")
        page: dict[str, Any] = response.json()
        for block in page["blocks"]:
            deployment.cursor = max(deployment.cursor, int(block["stream_version"]))
            entries = block["entries"]
            deployment.chain.update((e["stream"], int(e["stream_version"])) for e in entries)
        if page["next_after"] is None:
            return


async def book_and_follow(deployment: Deployment, start: str, counted: bool) -> None:
    body = {
        "patient_id": "pat-b00",
        "provider_id": "dr-a",
        "site_id": SITE,
        "room_id": "exam-1",
        "visit_type_id": "follow-up",
        "start": start,
    }
    sent = time.perf_counter()
    recorded = await _post(deployment.scheduling, "/scheduling/appointments", body)
    answered = time.perf_counter()
    stream, version = str(recorded["stream"]), int(recorded["stream_version"])
    visible = chained = None
    while visible is None or chained is None:
        if visible is None and await _listed(deployment, stream, version):
            visible = time.perf_counter() - answered
        if chained is None:
            await _read_chain(deployment)
            if (stream, version) in deployment.chain:
                chained = time.perf_counter() - answered
        if time.perf_counter() - answered > VISIBLE_TIMEOUT:
            raise TimeoutError(f"{deployment.label}: {stream}@{version} not in compliance")
        if visible is None or chained is None:
            await asyncio.sleep(POLL)
    if counted:
        deployment.booked.append(answered - sent)
        deployment.visible.append(visible)
        deployment.chained.append(chained)


# ----------------------------------------------------------------------------------- the run


@contextlib.asynccontextmanager
async def deployed(settings: Settings) -> AsyncIterator[tuple[list[Deployment], RawHop]]:
    """Both deployments and the raw hop started and ready; afterwards stopped, their data and
    topics gone."""
    from aiokafka.admin import AIOKafkaAdminClient
    from pymongo import AsyncMongoClient

    from bench.scaleout import delete_topics

    with tempfile.TemporaryDirectory(prefix="medoffice-bench-") as name:
        tmp = Path(name)
        deployments = [apart(settings, tmp), together(settings, tmp)]
        raw = RawHop(settings.kafka_bootstrap or "", settings.mongo_url or "")
        try:
            for deployment in deployments:
                for process in deployment.processes:
                    process.start()
            await raw.start()
            for deployment in deployments:
                await deployment.ready()
            yield deployments, raw
        finally:
            await raw.stop()
            for deployment in deployments:
                for process in deployment.processes:
                    process.stop()
                await deployment.scheduling.aclose()
                await deployment.compliance.aclose()
                await deployment.staffing.aclose()
            mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
                settings.mongo_url, serverSelectionTimeoutMS=5000
            )
            admin = AIOKafkaAdminClient(
                bootstrap_servers=settings.kafka_bootstrap or "", client_id="medoffice-bench"
            )
            try:
                await admin.start()
                for deployment in deployments:
                    for service in SUITE_DATABASES:
                        with contextlib.suppress(Exception):
                            await mongo.drop_database(f"{deployment.database}_{service}")
                    await delete_topics(admin, deployment.namespace)
                await delete_topics(admin, raw.namespace)
            finally:
                await mongo.close()
                with contextlib.suppress(Exception):
                    await admin.close()


@dataclass
class Results:
    bookings: int
    deployments: list[Deployment]
    raw: RawHop
    setup: dict[str, float] = field(default_factory=dict)


async def run(bootstrap: str, url: str, bookings: int) -> Results:
    settings = Settings(
        env="test", seed_demo=False, kafka_bootstrap=bootstrap, mongo_url=url, log_json=False
    )
    first_day = datetime.now(UTC).date() + timedelta(days=14)
    starts = slots(first_day, WARMUP + bookings)
    async with deployed(settings) as (deployments, raw):
        results = Results(bookings, deployments, raw)
        for deployment in deployments:
            began = time.perf_counter()
            await clinic(deployment.scheduling, deployment.staffing, first_day)
            results.setup[deployment.label] = time.perf_counter() - began
        for n, start in enumerate(starts):
            order = deployments if n % 2 == 0 else deployments[::-1]
            for deployment in order:
                await book_and_follow(deployment, start, counted=n >= WARMUP)
            await raw.once(counted=n >= WARMUP)
            if (n + 1) % 10 == 0:
                print(f"  [split: {n + 1} of {len(starts)} rounds]", file=sys.stderr, flush=True)
    return results


METHOD = (
    "Two deployments side by side on the same Kafka and MongoDB-wire server, each with its own "
    "databases and topic namespace: 'apart' = `medoffice serve scheduling` and `medoffice "
    "serve compliance`, two processes on their own loopback ports (and `medoffice serve "
    "staffing`, a third, for the clinic's provider); 'one process' = `medoffice "
    "serve` (every service, one port), the baseline. Each gets a small clinic through its API "
    "(one site, room, visit type, provider hired through staffing with a licence, template, "
    "patient). Then rounds of "
    "one booking on each (order alternating; a named room, one booking per site-day), one at a "
    "time: from the 201 the clock runs while compliance's audit log (`GET "
    "/compliance/audit-log?stream=`) and ledger (`GET /compliance/audit-ledger/blocks`, "
    f"after the last block read) are polled every {POLL * 1000:.0f} ms until the booking is "
    f"listed and chained. The first {WARMUP} rounds are not counted. Each figure is the time "
    "from the 201 to the answer that first showed it, so it is late by up to one poll (both "
    "reads and the pause; the reads' own latencies are listed as 'poll:'). Raw floor, in "
    "the same rounds: one AppointmentBooked CloudEvent produced with plain aiokafka (acks=all, "
    "idempotent), consumed in a group (200 ms batch poll, as the bus's) and inserted into "
    "MongoDB by a plain consumer in this process, polled with find_one at the same interval; "
    "its clock starts before the send."
)


def report_results(results: Results) -> None:
    for label, seconds in results.setup.items():
        print(f"{label}: clinic set up through the API in {seconds:.1f} s")
    print()
    rows: list[Latencies] = []
    for d in results.deployments:
        rows += [
            Latencies("book (POST, 201)", d.label, tuple(d.booked)),
            Latencies("booked -> audit entry listed", d.label, tuple(d.visible)),
            Latencies("booked -> ledger block chains it", d.label, tuple(d.chained)),
            Latencies("poll: GET audit-log", d.label, tuple(d.log_reads), note="all polls"),
            Latencies("poll: GET audit-ledger/blocks", d.label, tuple(d.block_reads)),
        ]
    raw = Latencies("produce -> consumed -> document read", "raw", tuple(results.raw.seconds))
    latency_table([*rows, raw])
    split, baseline = results.deployments
    lines: list[tuple[str, str, float, float]] = []
    for what, ours, base in (
        ("booked -> audit entry", split.visible, baseline.visible),
        ("booked -> ledger chained", split.chained, baseline.chained),
        ("book (POST)", split.booked, baseline.booked),
    ):
        a = Latencies(what, split.label, tuple(ours))
        b = Latencies(what, baseline.label, tuple(base))
        for q, name in ((0.5, "p50"), (0.99, "p99")):
            label = f"{what} {name}: apart vs one process"
            lines.append((label, "ms", a.quantile(q) * 1000, b.quantile(q) * 1000))
    for d in results.deployments:
        listed = Latencies("", d.label, tuple(d.visible))
        for q, name in ((0.5, "p50"), (0.99, "p99")):
            label = f"booked -> audit entry {name}: {d.label} vs raw hop"
            lines.append((label, "ms", listed.quantile(q) * 1000, raw.quantile(q) * 1000))
    print()
    latency_comparisons(lines)
