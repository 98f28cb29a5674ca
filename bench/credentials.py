"""Staffing's credentials at a group's scale: the expiring list's latency and the daily sweep's
duration, each against the raw reads it cannot do without (issue 11).

`python -m bench.credentials [--employees N] [--queries N] [--rounds N]`

The group: `--employees` (2,000) employees at 10 sites with five years of history. Providers
hold a state licence, a DEA registration and BLS; nurses a licence and BLS; half of the others
BLS. Each credential is renewed every one to two years (60 to 89 days before its last day,
after the sweep's 90-day reminder; one in ten lapses once instead and is renewed late), and
verified at the primary source when recorded and now and then after; a few are revoked. Every
event is decided by the staffing deciders and written, one commit per stream, into the
staffing service's own embedded stores (SQLite files, the in-process bus); its projections
catch up before anything is timed. The clock stands still on `TODAY`.

Measured, on the embedded backend:
- the expiring list (`GET /staffing/credentials/expiring?within_days=90`, through the HTTP
  app in-process: auth, validation, JSON), for hr (every site) and for a manager of one site;
  the same through the use case alone; baseline: the raw reads it cannot do without, with
  sqlite3 on the read-model file: the credential documents in the window and their holders'
  documents, parsed;
- the daily sweep (`Credentials.sweep`, on a fresh copy of the stores and a fresh process:
  nothing folded yet), which records every reminder due today; baseline: the raw reads it
  cannot do without, with sqlite3: the due credential documents, and each one's commits from
  the event-store file, parsed; and those reads plus one raw commit per credential (its
  own transaction), the write it cannot do without either. And the sweep again the same day
  (nothing due: one query) against that query alone, both on warm connections.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.report import Latencies, heading, latency_comparisons, latency_table
from services.staffing import app as staffing
from services.staffing.domain import credentials as domain
from services.staffing.domain import streams
from services.staffing.domain.events import EmployeeHired
from services.staffing.projections import credentials as view
from shared.backends import open_backends
from shared.clock import UuidIds
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope, Metadata, seal
from shared.http.app import create_http_app
from shared.http.identity import mint_token
from shared.kit import Assembled, assemble_parts
from shared.readmodels import physical
from shared.settings import Settings
from shared.timers import Timer

TODAY = date(2031, 11, 26)
NOW = datetime(2031, 11, 26, 6, 0, tzinfo=UTC)
YEARS = 5
SITES = tuple(f"site-{n:02d}" for n in range(1, 11))
TENANT = "acme"
WITHIN = 90


class StillClock:
    def now(self) -> datetime:
        return NOW


@dataclass
class Group:
    employees: int
    streams: int
    events: int
    credentials: int


def _kinds(role: str, rng: random.Random) -> list[str]:
    if role == "physician":
        return ["state_licence", "dea_registration", "bls"]
    if role == "nurse":
        return ["state_licence", "bls"]
    return ["bls"] if rng.random() < 0.5 else []


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def credential_history(
    credential_id: str, employee_id: str, kind: str, rng: random.Random
) -> list[tuple[date, DomainEvent]]:
    """Five years of one credential, decided by the credential decider: (day, event)."""
    start = TODAY - timedelta(days=365 * YEARS)
    cycle = rng.randint(365, 730)
    issued = start - timedelta(days=rng.randint(0, cycle - 1))
    state = domain.credential.initial
    out: list[tuple[date, DomainEvent]] = []

    def step(day: date, command: Any) -> None:
        nonlocal state
        for event in domain.credential.decide(state, command):
            state = domain.credential.evolve(state, event)
            out.append((day, event))

    step(
        issued,
        domain.RecordCredential(
            credential_id=credential_id,
            employee_id=employee_id,
            kind=kind,
            issuer="AHA" if kind == "bls" else "State board",
            number=f"N{rng.randint(100000, 999999)}",
            state=None if kind == "bls" else "NY",
            issued_on=issued,
            expires_on=issued + timedelta(days=cycle - 1),
        ),
    )
    step(issued, _verification(issued, "verified"))
    while True:
        assert state.expires_on is not None
        expires = state.expires_on
        lapses = rng.random() < 0.1
        renew_on = (
            expires + timedelta(days=rng.randint(5, 40))
            if lapses
            else expires - timedelta(days=rng.randint(60, 89))
        )
        if renew_on > TODAY:
            break
        for threshold in (90, 60, 30, 0) if lapses else (90,):
            day = expires + timedelta(days=1) if threshold == 0 else expires - timedelta(threshold)
            step(day, domain.RemindExpiry(today=day))
        step(renew_on, domain.RenewCredential(expires_on=expires + timedelta(days=cycle)))
        if rng.random() < 0.3:
            step(renew_on, _verification(renew_on, "verified"))
    if rng.random() < 0.02:
        day = TODAY - timedelta(days=rng.randint(1, 300))
        if day >= issued:
            step(day, domain.RevokeCredential(effective_on=day, reason="board action"))
    return out


def _verification(day: date, result: str) -> domain.VerifyCredential:
    return domain.VerifyCredential.model_validate(
        {
            "source": "primary source",
            "verified_by": "hr-1",
            "verified_at": _at(day),
            "result": result,
        }
    )


def plan(employees: int, seed: int = 2031) -> dict[str, list[Envelope]]:
    """Every stream of the group, as envelopes ready to append."""
    rng = random.Random(seed)
    roles = ["physician"] * 25 + ["nurse"] * 35 + ["front_desk"] * 40
    planned: dict[str, list[Envelope]] = {}
    meta = Metadata(tenant=TENANT, actor="bench", correlation_id="bench-credentials")

    def write(stream: str, dated: Sequence[tuple[date, DomainEvent]], subject: str) -> None:
        planned[stream] = [
            seal(
                event,
                stream=stream,
                stream_version=n,
                meta=meta,
                event_id=f"{stream}:{n}",
                time=_at(day),
                subject=subject,
            )
            for n, (day, event) in enumerate(dated, start=1)
        ]

    for n in range(employees):
        employee_id = f"emp-{n:05d}"
        role = roles[n % len(roles)]
        hired_on = TODAY - timedelta(days=365 * YEARS + rng.randint(0, 2000))
        hired = EmployeeHired(
            employee_id=employee_id,
            name=f"Employee {n}",
            title=role,
            role=role,
            site_ids=(SITES[n % len(SITES)],),
            fte=1.0,
            hired_on=hired_on,
        )
        write(streams.employee(TENANT, employee_id), [(hired_on, hired)], employee_id)
        for k, kind in enumerate(_kinds(role, rng)):
            credential_id = f"{employee_id}-c{k}"
            history = credential_history(credential_id, employee_id, kind, rng)
            write(streams.credential(TENANT, credential_id), history, credential_id)
    return planned


def _settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        seed_demo=False,
        env="test",
        sqlite_durability="normal",
        credential_sweep_seconds=86_400,
    )


async def _open(data_dir: Path) -> Assembled[staffing.UseCases]:
    backends = await open_backends(_settings(data_dir))
    built = await assemble_parts(staffing.SPEC, backends, StillClock(), UuidIds())
    # The sweep is timed when asked for: its timer (whose first round is at start) stays off.
    built.service.workers = [w for w in built.service.workers if not isinstance(w, Timer)]
    await built.service.start()
    return built


async def _close(built: Assembled[staffing.UseCases]) -> None:
    await built.service.stop()
    await built.kit.backends.close()


async def _caught_up(built: Assembled[staffing.UseCases], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while True:
        relay = built.kit.relay
        behind = len(await built.kit.store.unpublished(1)) if relay is not None else 0
        for runner in built.service.runners:
            behind += await runner.lag()
        if behind == 0:
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the staffing projections did not catch up")
        await asyncio.sleep(0.1)


async def build(data_dir: Path, employees: int) -> Group:
    planned = plan(employees)
    built = await _open(data_dir)
    try:
        for stream, envelopes in planned.items():
            await built.kit.store.append(stream, envelopes, 0)
        built.kit.relay.notify() if built.kit.relay is not None else None
        await _caught_up(built)
    finally:
        await _close(built)
    credentials = sum(1 for s in planned if ":credential:" in s)
    return Group(employees, len(planned), sum(len(e) for e in planned.values()), credentials)


# ----------------------------------------------------------------------------- raw reads


def _raw_expiring(conn: sqlite3.Connection, sites: set[str] | None) -> int:
    """The documents the expiring list cannot do without, read and parsed: the credentials
    in the window, and their holders."""
    credentials = physical(view.CREDENTIALS, 1)
    holders = physical(view.HOLDERS, 1)
    low = (TODAY - timedelta(days=WITHIN)).isoformat()
    high = (TODAY + timedelta(days=WITHIN)).isoformat()
    docs = [
        orjson.loads(body)
        for (body,) in conn.execute(
            "SELECT body FROM documents WHERE collection = ?"
            " AND json_extract(body, '$.tenant') = ?"
            " AND json_extract(body, '$.revoked_on') IS NULL"
            " AND json_extract(body, '$.expires_on') >= ?"
            " AND json_extract(body, '$.expires_on') <= ?",
            (credentials, TENANT, low, high),
        )
    ]
    ids = sorted({f"{TENANT}:{d['employee_id']}" for d in docs})
    people: dict[str, Document] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for doc_id, body in conn.execute(
            f"SELECT id, body FROM documents WHERE collection = ? AND id IN ({marks})",
            [holders, *chunk],
        ):
            people[doc_id] = orjson.loads(body)
    if sites is None:
        return len(docs)
    return sum(1 for d in docs if set(people[f"{TENANT}:{d['employee_id']}"]["site_ids"]) & sites)


def _raw_due(conn: sqlite3.Connection) -> list[Document]:
    return [
        orjson.loads(body)
        for (body,) in conn.execute(
            "SELECT body FROM documents WHERE collection = ?"
            " AND json_extract(body, '$.next_reminder_on') <= ? ORDER BY id",
            (physical(view.CREDENTIALS, 1), TODAY.isoformat()),
        )
    ]


def _raw_sweep(data_dir: Path, write: bool) -> int:
    """The reads the sweep cannot do without: the due documents, and each due credential's
    stream from the event store, parsed; with `write`, also one commit per credential
    appended in a transaction of its own (a copy of its last one, at the next version), the
    write it cannot do without either."""
    docs = sqlite3.connect(data_dir / "staffing" / "readmodels.db")
    events = sqlite3.connect(data_dir / "staffing" / "events.db", isolation_level=None)
    events.execute("PRAGMA synchronous=NORMAL")
    try:
        due = _raw_due(docs)
        for doc in due:
            stream = streams.credential(doc["tenant"], doc["credential_id"])
            rows = events.execute(
                "SELECT last_version, events FROM commits WHERE stream = ? ORDER BY first_version",
                (stream,),
            ).fetchall()
            parsed = [orjson.loads(raw) for _, raw in rows]
            if write:
                version = rows[-1][0] + 1
                events.execute("BEGIN IMMEDIATE")
                events.execute(
                    "INSERT INTO commits (stream, first_version, last_version, events)"
                    " VALUES (?, ?, ?, ?)",
                    (stream, version, version, orjson.dumps(parsed[-1][-1:]).decode()),
                )
                events.execute("COMMIT")
    finally:
        docs.close()
        events.close()
    return len(due)


# ------------------------------------------------------------------------------- timings


def _timed_sync(what: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = what()
    return time.perf_counter() - started, result


async def measure_expiring(data_dir: Path, queries: int) -> list[tuple[str, Latencies]]:
    built = await _open(data_dir)
    settings = built.kit.settings
    app = create_http_app(
        settings,
        built.service.routers,
        await built.kit.backends.documents("gateway"),
        {},
        clock=StillClock(),
    )
    raw_conn = sqlite3.connect(data_dir / "staffing" / "readmodels.db")
    credentials = built.use_cases.credentials

    def token(role: str, sites: list[str] | None) -> dict[str, str]:
        minted = mint_token(
            settings.jwt_secret,
            issuer=settings.jwt_issuer,
            subject="bench",
            tenant=TENANT,
            roles=[role],
            sites=sites,
            now=datetime.now(UTC),
        )
        return {"authorization": f"Bearer {minted}"}

    results: list[tuple[str, Latencies]] = []
    path = f"/staffing/credentials/expiring?within_days={WITHIN}"
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench"
        ) as client:
            for label, role, sites in (
                ("hr, every site", "hr", None),
                ("manager, one site", "manager", [SITES[0]]),
            ):
                headers = token(role, sites)
                found = (await client.get(path, headers=headers)).json()["credentials"]
                http, use_case, raw = [], [], []
                for _ in range(queries):
                    started = time.perf_counter()
                    response = await client.get(path, headers=headers)
                    http.append(time.perf_counter() - started)
                    assert response.status_code == 200, response.text
                    started = time.perf_counter()
                    rows = await credentials.expiring(TENANT, WITHIN, sites)
                    use_case.append(time.perf_counter() - started)
                    seconds, count = _timed_sync(
                        lambda sites=sites: _raw_expiring(raw_conn, set(sites) if sites else None)
                    )
                    raw.append(seconds)
                    assert count >= len(rows) == len(found), (count, len(rows), len(found))
                note = f"{len(found)} rows"
                results.append(
                    (
                        label,
                        Latencies(f"expiring, HTTP ({label})", "embedded", tuple(http), note=note),
                    )
                )
                results.append(
                    (
                        label,
                        Latencies(
                            f"expiring, use case ({label})", "embedded", tuple(use_case), note=note
                        ),
                    )
                )
                results.append(
                    (label, Latencies(f"raw reads ({label})", "embedded", tuple(raw), note=note))
                )
    finally:
        raw_conn.close()
        await _close(built)
    return results


@dataclass
class SweepFigures:
    sweep: float
    reminded: int
    raw: float
    raw_writes: float
    due: int
    again: float
    raw_query: float


async def measure_sweep(data_dir: Path, scratch: Path) -> SweepFigures:
    """One round on a fresh copy of the stores, in a fresh process's state."""
    await asyncio.to_thread(shutil.copytree, data_dir, scratch)
    raw, due = _timed_sync(lambda: _raw_sweep(scratch, write=False))
    await asyncio.to_thread(shutil.copytree, data_dir, scratch.with_suffix(".raw"))
    raw_writes, _ = _timed_sync(lambda: _raw_sweep(scratch.with_suffix(".raw"), write=True))
    built = await _open(scratch)
    try:
        started = time.perf_counter()
        reminded = await built.use_cases.credentials.sweep()
        sweep = time.perf_counter() - started
        await _caught_up(built)
        seconds = []
        for _ in range(5):
            started = time.perf_counter()
            again = await built.use_cases.credentials.sweep()
            seconds.append(time.perf_counter() - started)
            assert again == 0, again
        second = statistics.median(seconds)
    finally:
        await _close(built)
    # The due query on the same documents (nothing due any more), on a warm connection.
    with sqlite3.connect(scratch / "staffing" / "readmodels.db") as conn:
        _raw_due(conn)
        raw_query = statistics.median(_timed_sync(lambda: _raw_due(conn))[0] for _ in range(5))
    return SweepFigures(sweep, reminded, raw, raw_writes, due, second, raw_query)


async def run(employees: int, queries: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="medoffice-bench-credentials-") as tmp:
        data_dir = Path(tmp) / "group"
        started = time.perf_counter()
        group = await build(data_dir, employees)
        built_in = time.perf_counter() - started
        heading(
            f"Issue 11: credentials: {group.employees:,} employees, {group.credentials:,} "
            f"credentials, {group.events:,} events in {group.streams:,} streams, five years "
            f"(written and projected in {built_in:.1f} s); today {TODAY}"
        )
        expiring = await measure_expiring(data_dir, queries)
        latency_table([latencies for _, latencies in expiring])
        print()
        lines = []
        for n in range(0, len(expiring), 3):
            (_, http), (_, use_case), (label, raw) = expiring[n : n + 3]
            for q, name in ((0.5, "p50"), (0.95, "p95")):
                lines.append(
                    (
                        f"HTTP / raw reads, {name} ({label})",
                        "ms",
                        http.quantile(q) * 1000,
                        raw.quantile(q) * 1000,
                    )
                )
                lines.append(
                    (
                        f"use case / raw reads, {name} ({label})",
                        "ms",
                        use_case.quantile(q) * 1000,
                        raw.quantile(q) * 1000,
                    )
                )
        latency_comparisons(lines)
        print()
        sweeps = [await measure_sweep(data_dir, Path(tmp) / f"round-{n}") for n in range(rounds)]
        median = statistics.median
        sweep = median(s.sweep for s in sweeps)
        raw_sweep = median(s.raw for s in sweeps)
        raw_writes = median(s.raw_writes for s in sweeps)
        again = median(s.again for s in sweeps)
        raw_query = median(s.raw_query for s in sweeps)
        reminded, due = sweeps[0].reminded, sweeps[0].due
        print(
            f"daily sweep ({rounds} rounds, median): {reminded:,} reminders recorded of "
            f"{due:,} credentials due, in {sweep * 1000:,.0f} ms "
            f"({sweep / max(reminded, 1) * 1000:.2f} ms each); the same day again (nothing "
            f"due): {again * 1000:,.1f} ms"
        )
        latency_comparisons(
            [
                (
                    "sweep / raw reads (due documents + their streams)",
                    "ms",
                    sweep * 1000,
                    raw_sweep * 1000,
                ),
                (
                    "sweep / raw reads + one raw commit each",
                    "ms",
                    sweep * 1000,
                    raw_writes * 1000,
                ),
                ("sweep again / raw due query", "ms", again * 1000, raw_query * 1000),
            ]
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.credentials", description=__doc__)
    parser.add_argument("--employees", type=int, default=2_000)
    parser.add_argument("--queries", type=int, default=100, help="expiring-list requests each")
    parser.add_argument("--rounds", type=int, default=3, help="sweeps on fresh copies")
    args = parser.parse_args(argv)
    asyncio.run(run(args.employees, args.queries, args.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
