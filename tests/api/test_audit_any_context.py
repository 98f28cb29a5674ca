"""Compliance audits events of any context without their classes: CloudEvents as they arrive.

Two events no contract declares are published raw on the bus (headers written by hand, as
another service or a newer version of one would): a type of a service that does not exist yet
(billing), with PHI marked on its envelope, and a new version of a scheduling event. Both are
logged and chained, never dead-lettered.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import httpx

from services.suite import Suite
from shared.cloudevents import Message, dead_letter_topic
from shared.settings import Settings
from tests.api.conftest import TokenFor
from tests.support import wait_until

SEALED = {"phi": 1, "subject": "pat-9", "nonce": "bm9uY2Vub25jZTEy", "ct": "Y2lwaGVydGV4dA=="}


def raw(
    topic: str, event_id: str, type_: str, stream: str, data: dict[str, Any], **extra: str
) -> Message:
    headers = {
        "ce_specversion": "1.0",
        "ce_id": event_id,
        "ce_source": f"/medoffice/{type_.split('.')[1]}",
        "ce_type": type_,
        "ce_time": "2026-11-30T12:00:00+00:00",
        "ce_subject": "s-1",
        "content-type": "application/json",
        "ce_tenant": "acme",
        "ce_stream": stream,
        "ce_streamversion": "1",
        "ce_correlationid": f"corr-{event_id}",
        "ce_actor": "someone-else",
        **{f"ce_{k}": v for k, v in extra.items()},
    }
    return Message(topic=topic, key=stream, headers=headers, value=json.dumps(data).encode())


def digest(data: dict[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def test_types_no_contract_declares_are_logged_and_chained_never_dead_lettered(
    client: httpx.AsyncClient, suite: Suite, settings: Settings, token_for: TokenFor
) -> None:
    auditor = token_for("auditor")
    claim = {"claim_id": "c-1", "member_name": SEALED, "amount": "120.00"}
    newer = {"appointment_id": "a-1", "teleported_to": "mars"}
    billing = "medoffice.billing.ClaimSubmitted.v1"
    v9 = "medoffice.scheduling.AppointmentBooked.v9"
    await suite.backends.bus.publish(
        [
            raw(
                settings.topic("billing"),
                "bill-1",
                billing,
                "acme:claim:c-1",
                claim,
                phi="member_name",
                site="north",
            ),
            raw(settings.topic("scheduling"), "sched-9", v9, "acme:appointment:a-1", newer),
        ]
    )

    async def logged() -> list[dict[str, Any]] | None:
        entries = (await client.get("/compliance/audit-log", headers=auditor)).json()
        found = [e for e in entries if e["type"] in (billing, v9)]
        return found if len(found) == 2 else None

    found = await wait_until(logged, message="both to be logged")
    assert found is not None
    entries = {e["type"]: e for e in found}
    claimed, moved = entries[billing], entries[v9]
    assert (claimed["context"], claimed["source"], claimed["site"]) == (
        "billing",
        "/medoffice/billing",
        "north",
    )
    assert claimed["phi"] == ["member_name"]
    assert "data" not in claimed  # PHI-bearing: only its digest and which fields
    assert claimed["data_sha256"] == digest(claim)
    assert (moved["data"], moved["actor"]) == (newer, "someone-else")
    assert moved["data_sha256"] == digest(newer)

    async def chained() -> dict[str, Any] | None:
        report = (await client.get("/compliance/audit-ledger/verify", headers=auditor)).json()
        return report if report["entries"] == 2 else None

    report = await wait_until(chained, message="both to be chained")
    assert report is not None
    blocks = (await client.get("/compliance/audit-ledger/blocks", headers=auditor)).json()
    chain = {e["event_id"]: e for b in blocks["blocks"] for e in b["entries"]}
    assert chain["bill-1"]["data_sha256"] == digest(claim)
    assert chain["sched-9"]["type"] == v9
    # The cross-check with the producers' stores still holds: neither scheduling nor billing
    # stored the event published in its name, and verification says so.
    assert [m["event_id"] for m in report["stores"]["scheduling"]["missing"]] == ["sched-9"]
    assert [m["event_id"] for m in report["stores"]["billing"]["missing"]] == ["bill-1"]

    # Scheduling's own consumers refuse a version they do not know (their dead letters);
    # compliance's two consumers, which had to read both to log and chain them, sent none.
    topics = [dead_letter_topic(settings.topic(c)) for c in ("billing", "scheduling")]
    letters: list[Message] = []

    async def collect(messages: Sequence[Message]) -> None:
        letters.extend(messages)

    reader = await suite.backends.bus.subscribe("dead-letter-reader", topics, collect)
    try:

        async def read() -> bool:
            return await suite.backends.bus.lag("dead-letter-reader", topics) == 0

        await wait_until(read, message="the dead letters to be read")
    finally:
        await reader.stop()
    groups = {m.headers["dlq_group"] for m in letters}
    assert groups, "scheduling's consumers dead-letter the unknown version"
    # Billing's own consumers (its claims read model and reaction) refuse the malformed claim,
    # and so do finance's, which read billing's and scheduling's topics too, and engagement's,
    # which read scheduling's.
    producers: tuple[str, ...] = ("projection.scheduling.", "reactor.scheduling.")
    producers += ("projection.billing.", "reactor.billing.")
    producers += ("projection.finance.", "reactor.finance.")
    producers += ("projection.engagement.", "reactor.engagement.")
    assert all(g.startswith(producers) for g in groups)
    assert {m.headers["ce_id"] for m in letters} == {"sched-9", "bill-1"}
