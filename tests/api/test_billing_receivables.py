"""Receivables over HTTP on both backends: a claim's balance in AR, aged from its date of
service; a paper EOB moves it (read through the biller's own write); aging as of a past day
recorded then equals the same question asked later; who may read; bad dates refused."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from services.billing.application.claim_files import ClaimFileUseCases
from services.billing.application.receivables import Receivables, SnapshotReceivables
from services.billing.domain.claims import claim_id_for
from services.suite import Suite
from shared.readmodels import ReadModels
from shared.settings import Settings
from tests.api.conftest import ShiftedClock, TokenFor
from tests.billing_claim_facts import DAY, TOTAL_CENTS, Facts, claim_file_use_cases, suite_facts
from tests.support import wait_until

PROBLEM = "application/problem+json"


@pytest.fixture
async def facts(suite: Suite, settings: Settings, clock: ShiftedClock) -> Facts:
    facts = await suite_facts(suite, settings, clock)
    await facts.clinic("north", "aetna")
    await facts.patient("pat-1")
    await facts.coverage("pat-1", "aetna")
    return facts


@pytest.fixture
async def files(suite: Suite, facts: Facts, settings: Settings) -> ClaimFileUseCases:
    return await claim_file_use_cases(suite, facts, settings)


async def aging_of(client: httpx.AsyncClient, who: dict[str, str], **params: Any) -> httpx.Response:
    return await client.get("/billing/receivables/aging", params=params, headers=who)


async def test_a_claim_ages_and_a_paper_eob_moves_it_and_the_past_stays(
    client: httpx.AsyncClient,
    facts: Facts,
    files: ClaimFileUseCases,
    clock: ShiftedClock,
    token_for: TokenFor,
) -> None:
    who = token_for("biller")
    await facts.charge("appt-1", "pat-1")
    claim_id = claim_id_for("appt-1")
    today = clock.now().date()

    async def in_ar() -> Any:
        answer = (await aging_of(client, who, as_of=today.isoformat())).json()
        return answer if answer.get("total_cents") == TOTAL_CENTS else None

    then = await wait_until(in_ar, message="the claim in AR")
    bucket = "0-30" if (today - DAY).days <= 30 else "31-60"
    assert then["buckets"][bucket] == TOTAL_CENTS
    assert then["owners"] == [
        {"owner": "aetna", "total_cents": TOTAL_CENTS, "buckets": then["buckets"]}
    ]

    async def status_is(status: str) -> bool:
        found = await client.get(f"/billing/claims/{claim_id}", headers=who)
        return bool(found.status_code == 200 and found.json().get("status") == status)

    # Two days on, the payer's paper EOB: paid 10,000, CO-45 the rest less 2,000 PR. A file
    # is made from the claims read model's ready claims, which may lag AR's.
    clock.shift += timedelta(days=2)
    await wait_until(lambda: status_is("ready"), message="claim ready")
    made = await client.post("/billing/claim-files", json={"payer_id": "aetna"}, headers=who)
    assert made.status_code == 201, made.text
    [one] = made.json()["files"]
    await files.mark_batch_sent(facts.meta, one["id"], f"{one['id']}.837")
    await wait_until(lambda: status_is("submitted"), message="claim submitted")
    eob = {
        "outcome": "partially_paid",
        "paid_cents": 10_000,
        "patient_responsibility_cents": 2_000,
        "payer_claim_control_number": "AET-1",
        "adjudicated_on": (today + timedelta(days=2)).isoformat(),
        "adjustments": [
            {"group": "CO", "reason": "45", "amount_cents": TOTAL_CENTS - 12_000},
            {"group": "PR", "reason": "2", "amount_cents": 2_000},
        ],
    }
    posted = await client.post(f"/billing/claims/{claim_id}/adjudication", json=eob, headers=who)
    assert posted.status_code == 201, posted.text
    after = {
        "after_stream": posted.json()["stream"],
        "after_version": posted.json()["stream_version"],
    }
    later = today + timedelta(days=2)
    now = await client.get(
        "/billing/receivables",
        params={"as_of": later.isoformat(), "by": "payer", **after},
        headers=who,
    )
    assert now.status_code == 200, now.text
    assert {r["owner"]: r["balance_cents"] for r in now.json()["balances"]}.get("aetna") is None

    past = await aging_of(client, who, as_of=today.isoformat())
    assert past.json() == then  # what was held on that day, asked later

    sites = await client.get(
        "/billing/receivables", params={"as_of": today.isoformat(), "by": "site"}, headers=who
    )
    assert sites.json()["balances"] == [{"owner": "north", "balance_cents": TOTAL_CENTS}]


async def test_who_reads_receivables_and_bad_dates(
    client: httpx.AsyncClient, facts: Facts, token_for: TokenFor
) -> None:
    for role in ("front_desk", "clinician"):
        refused = await aging_of(client, token_for(role, sites=["north"]))
        assert refused.status_code == 403, (role, refused.text)
    manager = token_for("manager", sites=["north"])
    assert (await aging_of(client, manager, site="south")).status_code == 403
    assert (await aging_of(client, manager, site="north")).status_code == 200
    for role in ("biller", "admin", "auditor"):
        assert (await aging_of(client, token_for(role))).status_code == 200, role
    for bad in ("2026-02-30", "yesterday", "2026-1-1"):
        response = await aging_of(client, token_for("biller"), as_of=bad)
        assert response.status_code == 422, bad
        assert response.headers["content-type"] == PROBLEM
    wrong_by = await client.get(
        "/billing/receivables", params={"by": "mood"}, headers=token_for("biller")
    )
    assert wrong_by.status_code == 422


async def test_kpis_of_a_site_and_month_and_bad_months(
    client: httpx.AsyncClient, facts: Facts, clock: ShiftedClock, token_for: TokenFor
) -> None:
    who = token_for("biller")
    await facts.charge("appt-1", "pat-1")
    month = clock.now().strftime("%Y-%m")

    async def billed() -> Any:
        found = await client.get(
            "/billing/kpis", params={"site": "north", "month": month}, headers=who
        )
        counts = found.json().get("counts", {}) if found.status_code == 200 else {}
        return found.json() if counts.get("charges_cents") == TOTAL_CENTS else None

    kpis = await wait_until(billed, message="the claim's charges counted")
    assert kpis["ar_cents"] == TOTAL_CENTS
    assert kpis["denial_rate"] is None  # nothing adjudicated yet
    for bad in ("2026-13", "2026-1", "Nov"):
        refused = await client.get(
            "/billing/kpis", params={"site": "north", "month": bad}, headers=who
        )
        assert refused.status_code == 422, bad
    manager = token_for("manager", sites=["north"])
    other = await client.get(
        "/billing/kpis", params={"site": "south", "month": month}, headers=manager
    )
    assert other.status_code == 403


async def test_the_aging_reads_monthly_snapshots_and_answers_as_the_entries_do(
    client: httpx.AsyncClient,
    suite: Suite,
    facts: Facts,
    files: ClaimFileUseCases,
    clock: ShiftedClock,
    token_for: TokenFor,
) -> None:
    """November and December over, their snapshots built (the timer's round): the routes
    answer from them as the entries alone do; a paper EOB posted in January, though
    adjudicated on 20 December, leaves December's answer and its snapshot as they were."""
    who = token_for("biller")
    await facts.charge("appt-1", "pat-1")
    claim_id = claim_id_for("appt-1")
    today = clock.now().date()

    async def in_ar() -> Any:
        answer = (await aging_of(client, who, as_of=today.isoformat())).json()
        return answer if answer.get("total_cents") == TOTAL_CENTS else None

    then = await wait_until(in_ar, message="the claim in AR")

    async def status_is(status: str) -> bool:
        found = await client.get(f"/billing/claims/{claim_id}", headers=who)
        return bool(found.status_code == 200 and found.json().get("status") == status)

    # A file is made from the claims read model's ready claims, which may lag AR's.
    await wait_until(lambda: status_is("ready"), message="claim ready")
    made = await client.post("/billing/claim-files", json={"payer_id": "aetna"}, headers=who)
    assert made.status_code == 201, made.text
    [one] = made.json()["files"]
    await files.mark_batch_sent(facts.meta, one["id"], f"{one['id']}.837")
    await wait_until(lambda: status_is("submitted"), message="claim submitted")
    documents = ReadModels(await suite.backends.documents("billing"))
    ours, entries = Receivables(documents), Receivables(documents, snapshots=False)
    clock.shift += timedelta(days=45)  # into January 2027: November and December are over
    assert await SnapshotReceivables(ours, clock, 60.0).fire_due() == 2
    assert {h.month for h in await ours.heads(facts.meta.tenant, ["2026-11", "2026-12"])} == {
        "2026-11",
        "2026-12",
    }
    december = date(2026, 12, 31)
    for as_of in (today, december):
        for by in ("payer", "patient"):
            asked = await aging_of(client, who, as_of=as_of.isoformat(), by=by)
            expected = await entries.aging(facts.meta.tenant, as_of, by)
            assert asked.json() == expected.out(), (as_of, by)
    assert (await aging_of(client, who, as_of=today.isoformat())).json() == then
    at_december = (await aging_of(client, who, as_of=december.isoformat())).json()
    assert at_december["buckets"]["31-60"] == TOTAL_CENTS  # 20 Nov to 31 Dec: 41 days

    eob = {
        "outcome": "paid",
        "paid_cents": TOTAL_CENTS,
        "patient_responsibility_cents": 0,
        "payer_claim_control_number": "AET-9",
        "adjudicated_on": "2026-12-20",
    }
    posted = await client.post(f"/billing/claims/{claim_id}/adjudication", json=eob, headers=who)
    assert posted.status_code == 201, posted.text
    now = clock.now().date()
    after = {
        "after_stream": posted.json()["stream"],
        "after_version": posted.json()["stream_version"],
    }
    paid = await client.get(
        "/billing/receivables/aging", params={"as_of": now.isoformat(), **after}, headers=who
    )
    assert paid.json()["total_cents"] == 0
    assert (await aging_of(client, who, as_of=december.isoformat())).json() == at_december
    assert await SnapshotReceivables(ours, clock, 60.0).fire_due() == 0  # still fresh
