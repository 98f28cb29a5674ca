"""SIGKILL in the middle of posting a remittance: nothing is lost, nothing is posted twice.

Claims are written to billing's event store first (the server down), each submitted to the
payer. The server takes a 600-claim 835 upload and posts it in the background; it is killed
with SIGKILL as soon as the first claims show paid, while the remittance is still posting.
After a restart the posting resumes (the reaction's event is delivered again; the resume
timer is the backstop): the remittance ends posted with every claim posted, and each claim
has exactly one adjudication in the event store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bench.remittance_files import Billed, file_835, paid_claim, payment
from services.billing.domain import streams
from services.billing.domain.events import (
    ChargeCreated,
    ChargeLine,
    ClaimAdjudicated,
    ClaimCreated,
    ClaimSubmitted,
    registry,
)
from shared.backends import SUITE_DATABASES, open_backends
from shared.clock import SystemClock, UuidIds
from shared.commands import CommandHandler
from shared.events import Metadata
from shared.settings import Settings
from tests.billing_claim_facts import AT, DAY, Facts
from tests.integration.servers import Server
from tests.support import drop_test_data, wait_until

CLAIMS = 600
FEE = 10000


def claim_id(n: int) -> str:
    return f"CRASH{n:05d}"


@pytest.fixture
async def server(settings: Settings, tmp_path: Path) -> AsyncIterator[Server]:
    server = Server(settings, tmp_path)
    yield server
    await server.close()
    await drop_test_data(settings, {f"{settings.mongo_database}_{s}" for s in SUITE_DATABASES})


async def submitted_claims(settings: Settings) -> None:
    """CLAIMS claims of one line each, submitted, straight into billing's store."""
    backends = await open_backends(settings)
    try:
        store = await backends.event_store("billing")
        handler = CommandHandler(store, registry, SystemClock(), UuidIds())
        facts = Facts(handler, Metadata(tenant="acme", actor="facts", correlation_id="crash"))
        for n in range(CLAIMS):
            charge_id = f"ch-{claim_id(n)}"
            line = ChargeLine(line_id="1", code="99213", diagnosis_pointers=(1,), fee_cents=FEE)
            await facts.record(
                streams.charge("acme", charge_id),
                ChargeCreated(
                    charge_id=charge_id,
                    appointment_id=charge_id,
                    patient_id=f"pat-{n}",
                    site_id="north",
                    provider_id="dr-a",
                    date_of_service=DAY,
                    diagnoses=("E11.9",),
                    lines=(line,),
                    payer_id="aetna",
                    fee_schedule_version=1,
                    created_at=AT,
                    learnt_from=f"visit-{n}",
                ),
            )
            await facts.record(
                streams.claim("acme", claim_id(n)),
                ClaimCreated(
                    claim_id=claim_id(n),
                    patient_id=f"pat-{n}",
                    payer_id="aetna",
                    coverage_id=f"cov-{n}",
                    priority=1,
                    site_id="north",
                    provider_id="dr-a",
                    charge_ids=(charge_id,),
                    total_cents=FEE,
                    created_at=AT,
                ),
                ClaimSubmitted(claim_id=claim_id(n), batch_id="B1", submitted_at=AT),
            )
    finally:
        await backends.close()


async def adjudications(settings: Settings) -> dict[str, int]:
    backends = await open_backends(settings)
    try:
        store = await backends.event_store("billing")
        counts = {}
        for n in range(CLAIMS):
            stored = await store.load(streams.claim("acme", claim_id(n)))
            counts[claim_id(n)] = sum(e.type == ClaimAdjudicated.type_name() for e in stored)
        return counts
    finally:
        await backends.close()


async def test_a_posting_killed_halfway_resumes_and_posts_each_claim_once(
    server: Server, settings: Settings
) -> None:
    await submitted_claims(settings)
    check = payment(
        [
            paid_claim(claim_id(n), [Billed(f"{claim_id(n)}-1", "99213", FEE)])
            for n in range(CLAIMS)
        ],
        trace="EFT-CRASH",
    )
    server.start()
    await server.ready()
    taken = await server.client.post(
        "/billing/remittances", content=file_835(check), headers={"content-type": "text/plain"}
    )
    assert taken.status_code == 202, taken.text
    (receipt,) = taken.json()["remittances"]
    href = f"/billing/remittances/{receipt['remittance_id']}"

    async def some_paid() -> bool:
        found = await server.client.get(f"/billing/claims/{claim_id(0)}")
        return found.status_code == 200 and found.json()["status"] == "paid"

    await wait_until(some_paid, timeout=60, message="the first claim posted")
    midway: dict[str, Any] = (await server.client.get(href)).json()
    server.kill()
    assert midway["status"] == "posting", "the posting ended before the kill: nothing tested"

    server.start(MEDOFFICE_REMITTANCE_RESUME_SECONDS="1")
    await server.ready()

    async def posted() -> Any:
        body = (await server.client.get(href)).json()
        return body if body["status"] == "posted" else None

    # What is left of 600 claims, posted on the scale-out test server: about 115 s on this
    # 2-core machine with a benchmark beside it (120 s was too tight there). Speed is the
    # remittance benchmark's business (docs/benchmarks.md); this test is about the crash.
    body = await wait_until(posted, timeout=300, message="the posting resumed and finished")
    assert (body["posted"], body["already_posted"], body["unmatched"]) == (CLAIMS, 0, [])
    server.stop()
    counts = await adjudications(settings)
    assert set(counts.values()) == {1}, {k: v for k, v in counts.items() if v != 1}
