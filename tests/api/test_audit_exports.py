"""Signed audit exports through the API: the package of a period verifies offline with the
published key and holds every chained event of the period; no package is signed for a ledger
that does not verify; only auditors (and tenant-wide admins) export. The same key signs the
ledger heads published outside the databases."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import httpx
import pytest

from services.compliance.app import noticeboard
from services.compliance.application.heads import HeadPublisher
from services.compliance.domain.exports import (
    BLOCKS,
    EVENTS,
    MANIFEST,
    decode_public_key,
    unpack,
    verify_package,
)
from services.compliance.domain.heads import read_head
from services.suite import Suite
from shared.settings import Settings
from tests.api.conftest import TokenFor, post_ok
from tests.api.test_audit_ledger import STREAM, RawStore, a_chain_of_four
from tests.support import every_case_holds, wait_until

EXPORTS, PUBLIC_KEY = "/compliance/audit-exports", "/compliance/audit-exports/public-key"
PROBLEM = "application/problem+json"
YEARS = {"from": "2026-01-01", "to": "2027-01-01"}


@pytest.fixture
def auditor(token_for: TokenFor) -> dict[str, str]:
    return token_for("auditor")


async def published_key(client: httpx.AsyncClient, auditor: dict[str, str]) -> bytes:
    response = await client.get(PUBLIC_KEY, headers=auditor)
    assert response.status_code == 200, response.text
    assert response.json()["algorithm"] == "Ed25519"
    return decode_public_key(response.json()["public_key"])


async def exported(
    client: httpx.AsyncClient, auditor: dict[str, str], **period: str
) -> dict[str, bytes]:
    response = await client.get(EXPORTS, headers=auditor, params=period)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    return unpack(response.content)


def records(files: dict[str, bytes], name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in files[name].splitlines()]


async def test_an_export_holds_the_periods_chained_events_and_verifies_offline(
    client: httpx.AsyncClient,
    clinic: dict[str, str],
    suite: Suite,
    auditor: dict[str, str],
) -> None:
    patient = {"patient_id": "pat-zq", "name": "Zebulon Quarrington", "birth_date": "1961-02-03"}
    await post_ok(client, "/scheduling/patients", patient)
    report = await a_chain_of_four(client, suite, auditor)
    key = await published_key(client, auditor)

    files = await exported(client, auditor, **YEARS)

    found = verify_package(files, key)
    assert found.ok, found.line()
    events, blocks = records(files, EVENTS), records(files, BLOCKS)
    assert len(events) == report["entries"]
    assert [b["sequence"] for b in blocks] == list(range(1, report["blocks"] + 1))
    assert blocks[-1]["hash"] == report["head"]
    assert [e["event_id"] for e in events] == [e["event_id"] for b in blocks for e in b["entries"]]
    # The audit log's entries: data where there is no PHI, only PHI field names where there is.
    [registered] = [e for e in events if e["type"].endswith("PatientRegistered.v1")]
    assert "data" not in registered
    assert registered["phi"]
    assert "Zebulon" not in json.dumps(events)
    assert any("data" in e for e in events)
    manifest = json.loads(files[MANIFEST])
    assert (manifest["tenant"], manifest["events"]) == ("acme", len(events))

    # A period with nothing in it: an empty package, signed and verifying all the same.
    empty = await exported(client, auditor, **{"from": "2020-01-01", "to": "2020-02-01"})
    assert verify_package(empty, key).ok
    assert (records(empty, EVENTS), records(empty, BLOCKS)) == ([], [])


async def test_no_package_is_signed_for_a_ledger_that_does_not_verify(
    client: httpx.AsyncClient,
    clinic: dict[str, str],
    suite: Suite,
    settings: Settings,
    auditor: dict[str, str],
) -> None:
    await a_chain_of_four(client, suite, auditor)
    raw = RawStore(settings, "compliance")
    stored = await raw.events(STREAM)
    edited = copy.deepcopy(stored)
    edited[1]["data"]["entries"][0]["data_sha256"] = "0" * 64
    await raw.rewrite(STREAM, edited)

    refused = await client.get(EXPORTS, headers=auditor, params=YEARS)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == PROBLEM
    assert "block 2" in refused.json()["detail"]

    await raw.rewrite(STREAM, stored)
    assert verify_package(await exported(client, auditor, **YEARS)).ok


async def test_exports_are_for_auditors_and_tenant_wide_admins(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    for headers in (token_for("front_desk"), token_for("manager"), token_for("clinician")):
        response = await client.get(EXPORTS, headers=headers, params=YEARS)
        assert response.status_code == 403, response.text
        assert (await client.get(PUBLIC_KEY, headers=headers)).status_code == 403
    scoped = await client.get(EXPORTS, headers=token_for("admin", sites=["north"]), params=YEARS)
    assert scoped.status_code == 403, scoped.text
    admin = await client.get(EXPORTS, headers=token_for("admin"), params=YEARS)
    assert admin.status_code == 200, admin.text


BAD_PERIODS: list[dict[str, str]] = [
    {},
    {"from": "2026-01-01"},
    {"from": "yesterday", "to": "2027-01-01"},
    {"from": "2026-01-01", "to": "2026-01-01"},
    {"from": "2027-01-01", "to": "2026-01-01"},
    {"from": "2026-01-01T00:00:00-10:00", "to": "2026-01-01T05:00:00Z"},
]


async def test_bad_periods_are_422_problems(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    async def refused(params: dict[str, str]) -> None:
        response = await client.get(EXPORTS, headers=auditor, params=params)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == PROBLEM

    await every_case_holds(BAD_PERIODS, refused)


async def test_the_public_key_is_the_one_packages_name(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    key = await published_key(client, auditor)
    files = await exported(client, auditor, **YEARS)
    assert base64.b64decode(json.loads(files[MANIFEST])["public_key"]) == key


async def test_heads_are_published_signed_by_the_key_that_signs_exports(
    client: httpx.AsyncClient, suite: Suite, auditor: dict[str, str], settings: Settings
) -> None:
    report = await a_chain_of_four(client, suite, auditor)
    [publisher] = [w for w in suite.service("compliance").workers if isinstance(w, HeadPublisher)]
    key = await published_key(client, auditor)
    board = noticeboard(settings)

    async def published_head() -> list[bytes] | None:
        """Every record published, once the last is the head verified above (the chain index
        is written just after the append the verdict saw: the timer's round, now, again)."""
        await publisher.fire_due()
        records = await board.read("acme")
        last = read_head(records[-1], "acme", key) if records else None
        assert last is not None or not records
        return records if last is not None and last.sequence == report["blocks"] else None

    try:
        records = await wait_until(published_head, message="the head to be published")
    finally:
        await board.close()
    assert records is not None
    head = read_head(records[-1], "acme", key)
    assert head is not None
    assert head.hash == report["head"]
    response = await client.get("/compliance/audit-ledger/verify", headers=auditor)
    assert response.json()["published_heads"] == {"heads": len(records), "rejected": 0}
