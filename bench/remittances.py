"""Posting a payer's 835: the posting rate (claims per second) of one 5,000-claim remittance,
against appending the same events with no decider (issue 13).

`python -m bench.remittances [--claims N]`, or `python -m bench --only remittances`.

The claims (one or two lines each, submitted to the payer) are recorded in billing's embedded
stores before anything is timed; the 835 paying them all is written with billing's own writer
(`bench/remittance_files.py`: 80% allowed, a copay on the first line). Measured in one run:
- ours, taking in: `Remittances.receive` (the file read and checked whole, its balance, the
  payment recorded with its claims in parts of 100, in one commit);
- ours, posting: `Remittances.post` (each claim payment posted on its claim's stream: the
  claim and its charge folded, the posting decided, the adjudication appended; then
  `RemittancePosted`), what the reaction runs after the upload;
- ours, the same file again: taken in (nothing new) and posted (nothing to post);
- raw: the very events posting recorded (one ClaimAdjudicated per claim, one commit per
  claim) appended to a fresh store of the same kind: the write a posting cannot do without.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bench.charges import NOW, StillClock, progress
from bench.remittance_files import Billed, file_835, paid_claim, payment
from bench.report import Figure, comparisons, heading, table
from services.billing import app as billing
from services.billing.domain import streams
from services.billing.domain.events import (
    ChargeCreated,
    ChargeLine,
    ClaimAdjudicated,
    ClaimCreated,
    ClaimSubmitted,
)
from shared.backends import open_backends
from shared.clock import UuidIds
from shared.domain import Decider
from shared.events import DomainEvent, Metadata, seal
from shared.kit import Assembled, assemble_parts
from shared.observability import configure
from shared.settings import Settings

TENANT = "acme"
DAY = date(2026, 11, 20)
META = Metadata(tenant=TENANT, actor="bench", correlation_id="bench-remittances")

Append = tuple[DomainEvent, ...]
APPEND = Decider[None, Append](None, lambda state, _: state, lambda _, events: events)


@dataclass(frozen=True)
class Result:
    claims: int
    file_bytes: int
    figures: list[Figure]


def claim_id(n: int) -> str:
    return f"B{n:07d}"


def billed(n: int) -> list[Billed]:
    lines = [Billed(f"{claim_id(n)}-1", "99213", 12_000)]
    if n % 2:
        lines.append(Billed(f"{claim_id(n)}-2", "36415", 3_000))
    return lines


async def _open(data_dir: Path) -> Assembled[billing.UseCases]:
    settings = Settings(
        data_dir=data_dir, seed_demo=False, env="test", log_json=False, sqlite_durability="normal"
    )
    backends = await open_backends(settings)
    # Its reactors stay off: posting is timed by calling it, not raced by the reaction.
    built = await assemble_parts(billing.SPEC, backends, StillClock(), UuidIds())
    return built


async def _close(built: Assembled[billing.UseCases]) -> None:
    await built.kit.backends.close()


async def submitted_claims(built: Assembled[billing.UseCases], count: int) -> None:
    handler = built.kit.handler
    for n in range(count):
        charge_id = f"ch-{n}"
        lines = tuple(
            ChargeLine(
                line_id=str(k), code=b.code, diagnosis_pointers=(1,), fee_cents=b.charge_cents
            )
            for k, b in enumerate(billed(n), start=1)
        )
        charge = ChargeCreated(
            charge_id=charge_id,
            appointment_id=charge_id,
            patient_id=f"pat-{n}",
            site_id=f"site-{n % 6}",
            provider_id=f"dr-{n % 24}",
            date_of_service=DAY,
            diagnoses=("E11.9",),
            lines=lines,
            payer_id="aetna",
            fee_schedule_version=1,
            created_at=NOW,
            learnt_from=f"visit-{n}",
        )
        await handler.handle(streams.charge(TENANT, charge_id), APPEND, (charge,), META)
        created = ClaimCreated(
            claim_id=claim_id(n),
            patient_id=f"pat-{n}",
            payer_id="aetna",
            coverage_id=f"cov-{n}",
            priority=1,
            site_id=f"site-{n % 6}",
            provider_id=f"dr-{n % 24}",
            charge_ids=(charge_id,),
            total_cents=sum(line.fee_cents for line in lines),
            created_at=NOW,
        )
        sent = ClaimSubmitted(claim_id=claim_id(n), batch_id="B1", submitted_at=NOW)
        await handler.handle(streams.claim(TENANT, claim_id(n)), APPEND, (created, sent), META)
        if n % 1000 == 999:
            progress(f"{n + 1:,} claims submitted")
    handler.states.clear()  # nothing folded yet when the remittance comes


async def run(count: int = 5_000) -> Result:
    check = payment([paid_claim(claim_id(n), billed(n)) for n in range(count)], trace="EFT-BENCH")
    data = file_835(check)
    with tempfile.TemporaryDirectory(prefix="medoffice-bench-remittances-") as tmp:
        built = await _open(Path(tmp) / "ours")
        try:
            await submitted_claims(built, count)
            remittances = built.use_cases.remittances
            progress(f"taking in and posting {count:,} claims ({len(data):,} bytes)")
            began = time.perf_counter()
            (receipt,) = await remittances.receive(META, data, "bench.835", "upload")
            taken = time.perf_counter() - began
            began = time.perf_counter()
            state = await remittances.post(META, receipt.remittance_id)
            posting = time.perf_counter() - began
            assert state.posted is not None
            assert state.posted.posted == count, state.posted
            began = time.perf_counter()
            (again,) = await remittances.receive(META, data, "bench-again.835", "upload")
            await remittances.post(META, again.remittance_id)
            repeated = time.perf_counter() - began
            assert again.claims_added == 0
            store = built.kit.store
            registry = built.kit.handler.registry
            recorded: list[tuple[str, DomainEvent]] = []
            for n in range(count):
                stream = streams.claim(TENANT, claim_id(n))
                stored = await store.load(stream)
                adjudicated = [
                    registry.decode(e) for e in stored if e.type == ClaimAdjudicated.type_name()
                ]
                assert len(adjudicated) == 1
                recorded.append((stream, adjudicated[0]))
        finally:
            await _close(built)
        progress("raw appends")
        raw_built = await _open(Path(tmp) / "raw")
        try:
            store = raw_built.kit.store
            ids = UuidIds()
            began = time.perf_counter()
            for stream, event in recorded:
                sealed = seal(
                    event,
                    stream=stream,
                    stream_version=1,
                    meta=META,
                    event_id=ids.event_id(stream, 1),
                    time=NOW,
                    subject=stream.rsplit(":", 1)[-1],
                )
                await store.append(stream, [sealed], 0)
            raw = time.perf_counter() - began
        finally:
            await _close(raw_built)
    figures = [
        Figure("835 taken in: read, checked, recorded", "embedded", count, taken),
        Figure("posted: claim payments on their claims", "embedded", count, posting),
        Figure("the same file again (nothing posted)", "embedded", count, repeated),
        Figure("raw: the same adjudications appended", "embedded", count, raw),
    ]
    return Result(count, len(data), figures)


def report_results(result: Result) -> None:
    print(f"One remittance of {result.claims:,} claims ({result.file_bytes:,} bytes).")
    table(result.figures)
    taken, posting, again, raw = result.figures
    print()
    comparisons(
        [
            ("claims/s: posting vs raw append", posting, raw),
            ("taking in vs raw append", taken, raw),
            ("the same file again vs raw append", again, raw),
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.remittances")
    parser.add_argument("--claims", type=int, default=5_000)
    args = parser.parse_args(argv)
    configure(level="warning", json_logs=False)
    heading("Remittances: posting a payer's 835")
    report_results(asyncio.run(run(args.claims)))


if __name__ == "__main__":
    main()
