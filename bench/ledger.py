"""The compliance audit ledger: append and verification rates against hashing the same bytes
raw (issue 14).

`python -m bench.ledger [--events N] [--batch N]`, or `python -m bench --only ledger`.

Measured, on the embedded backend (SQLite files, `sqlite_durability=normal`, as the bench of
appends), events per second:
- append: `AuditLedger.record` of `--events` (20,000) events in consumer batches of `--batch`
  (100): per batch, which events the index holds, the blocks sealed (HMAC-SHA256 under the
  ledger key), one append to the event store, the index written, the head anchored in its own
  database; baseline: hashing the same bytes raw, the SHA-256 of each event's canonical data
  and the HMAC-SHA256 of each block's canonical JSON, nothing stored;
- verification: `AuditLedger.verify` of the whole chain (read page by page from the event
  store, every block's HMAC recomputed, checked against the anchors); baseline: the HMACs of
  the same blocks' canonical JSON recomputed raw, in memory;
- offline verification of an export package of every event (`medoffice audit verify`'s
  `verify_package`: the Ed25519 signature, each block where the manifest puts it and linked,
  each event as chained, every file's SHA-256); baseline: the SHA-256 of the package's files
  and of each of their lines, raw; and those hashes with every line read as JSON,
  the least a check of the records can do.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.report import Figure, comparisons, table
from services.compliance.application.anchors import LedgerAnchors
from services.compliance.application.index import ChainIndex
from services.compliance.application.ledger import AuditLedger
from services.compliance.domain.exports import build_package, signing_key, unpack, verify_package
from services.compliance.domain.ledger import GENESIS, KEYED, canonical, digest_of
from services.scheduling.domain.events import RoomAdded
from shared.backends import open_backends
from shared.clock import UuidIds
from shared.events import Envelope, Metadata, seal
from shared.settings import Settings

KEY = bytes(range(32))
SIGNER = signing_key(bytes(range(32, 64)))
T0 = datetime(2026, 11, 1, tzinfo=UTC)
TENANT = "acme"


class StillClock:
    def now(self) -> datetime:
        return T0 + timedelta(days=30)


def events(count: int) -> list[Envelope]:
    """`count` scheduling events of one tenant (rooms added), one a second, as compliance
    receives them."""
    meta = Metadata(tenant=TENANT, actor="front-desk-1", correlation_id="bench-ledger")
    return [
        seal(
            RoomAdded(site_id="north", room_id=f"room-{n:07d}", name=f"Room {n}"),
            stream=f"{TENANT}:site:north",
            stream_version=n + 2,
            meta=meta,
            event_id=f"evt-{n:07d}",
            time=T0 + timedelta(seconds=n),
        )
        for n in range(count)
    ]


@dataclass
class Results:
    append: Figure
    raw_append: Figure
    verify: Figure
    raw_verify: Figure
    offline: Figure
    raw_offline: Figure
    raw_parsed: Figure


def raw_append(envelopes: list[Envelope], batch: int) -> float:
    """The hashing an append cannot do without, raw: each event's data digest, each block's
    HMAC over its canonical JSON (one block per batch, as the ledger seals them)."""
    started = time.perf_counter()
    prev = GENESIS
    for n, start in enumerate(range(0, len(envelopes), batch), start=1):
        entries = [
            {
                "event_id": e.id,
                "type": e.type,
                "context": e.context,
                "stream": e.stream,
                "stream_version": e.stream_version,
                "actor": e.actor,
                "time": e.time.isoformat(),
                "data_sha256": hashlib.sha256(canonical(e.data)).hexdigest(),
            }
            for e in envelopes[start : start + batch]
        ]
        content = {"tenant": TENANT, "sequence": n, "prev_hash": prev, "entries": entries}
        content["algorithm"] = KEYED
        prev = hmac.new(KEY, canonical(content), hashlib.sha256).hexdigest()
    return time.perf_counter() - started


def raw_verify(blocks: list[dict[str, Any]]) -> float:
    """Every block's HMAC recomputed over its canonical JSON, in memory."""
    started = time.perf_counter()
    for block in blocks:
        content = {k: block[k] for k in ("tenant", "sequence", "prev_hash", "entries")}
        content["algorithm"] = KEYED
        digest = hmac.new(KEY, canonical(content), hashlib.sha256).hexdigest()
        assert hmac.compare_digest(digest, block["hash"])
    return time.perf_counter() - started


def raw_offline(files: dict[str, bytes], parse: bool = False) -> float:
    """The SHA-256 of each file of the package and of each of its lines; with `parse`, each
    line of the data files also read as JSON, as a check of its records must."""
    started = time.perf_counter()
    for name, content in files.items():
        hashlib.sha256(content).hexdigest()
        for line in content.splitlines():
            hashlib.sha256(line).hexdigest()
            if parse and name.endswith(".jsonl"):
                json.loads(line)
    return time.perf_counter() - started


async def run(count: int = 20_000, batch: int = 100, data_dir: Path | None = None) -> Results:
    envelopes = events(count)
    with tempfile.TemporaryDirectory(prefix="medoffice-bench-ledger-") as tmp:
        settings = Settings(
            data_dir=data_dir or Path(tmp), seed_demo=False, env="test", sqlite_durability="normal"
        )
        backends = await open_backends(settings)
        try:
            ledger = AuditLedger(
                await backends.event_store("compliance"),
                StillClock(),
                UuidIds(),
                KEY,
                LedgerAnchors(await backends.documents("compliance_anchors")),
                ChainIndex(await backends.documents("compliance")),
            )
            started = time.perf_counter()
            for start in range(0, count, batch):
                await ledger.record(envelopes[start : start + batch])
            appended = time.perf_counter() - started

            started = time.perf_counter()
            report = await ledger.verify(TENANT)
            verified = time.perf_counter() - started
            assert (report["verified"], report["entries"]) == (True, count), report

            blocks = await ledger.blocks(TENANT, 0, count)
        finally:
            await backends.close()
    logged = [
        {**entry, "data": e.data}
        for block, start in zip(blocks, range(0, count, batch), strict=True)
        for entry, e in zip(block["entries"], envelopes[start : start + batch], strict=True)
    ]
    assert all(digest_of(e["data"]) == e["data_sha256"] for e in logged)
    end = T0 + timedelta(seconds=count)
    files = unpack(build_package(TENANT, T0, end, T0, blocks, logged, SIGNER))
    started = time.perf_counter()
    found = verify_package(files)
    offline = time.perf_counter() - started
    assert found.ok, found.line()

    note = f"batches of {batch}"
    return Results(
        append=Figure("ledger append (AuditLedger.record)", "embedded", count, appended, note),
        raw_append=Figure(
            "raw: SHA-256 of data + HMAC of blocks",
            "in-process",
            count,
            raw_append(envelopes, batch),
            note,
        ),
        verify=Figure("ledger verify (AuditLedger.verify)", "embedded", count, verified),
        raw_verify=Figure("raw: HMAC of the same blocks", "in-process", count, raw_verify(blocks)),
        offline=Figure("package verify (verify_package)", "in-process", count, offline),
        raw_offline=Figure(
            "raw: SHA-256 of the files and lines", "in-process", count, raw_offline(files)
        ),
        raw_parsed=Figure(
            "raw: SHA-256 + JSON of every line",
            "in-process",
            count,
            raw_offline(files, parse=True),
        ),
    )


def report_results(results: Results) -> None:
    r = results
    table([r.append, r.raw_append, r.verify, r.raw_verify, r.offline, r.raw_offline, r.raw_parsed])
    print()
    comparisons(
        [
            ("append vs hashing the same bytes raw", r.append, r.raw_append),
            ("verify vs hashing the same blocks raw", r.verify, r.raw_verify),
            ("package verify vs hashing its bytes raw", r.offline, r.raw_offline),
            ("package verify vs hashing and parsing them raw", r.offline, r.raw_parsed),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ledger", description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100, help="events per consumer batch")
    args = parser.parse_args(argv)
    report_results(asyncio.run(run(args.events, args.batch)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
