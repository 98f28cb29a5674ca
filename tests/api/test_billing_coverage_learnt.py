"""Coverage learnt after the charge, on both backends: a visit charged self-pay (and released,
no claim) is repriced when billing learns the patient's coverage: `ChargeCorrected` "coverage
learnt" priced under the payer's schedule in force on the date of service, then its claim to
that payer; the same coverage again reprices nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from services.billing.application.charges import Charges
from services.billing.domain import streams
from services.billing.domain.charges import COVERAGE_LEARNT
from services.billing.domain.claims import claim_id_for
from services.billing.domain.events import (
    SELF_PAY,
    ChargeCorrected,
    Fee,
    FeeScheduleVersionPublished,
)
from services.suite import Suite
from shared.readmodels import ReadModels
from shared.settings import Settings
from tests.api.conftest import ShiftedClock, TokenFor
from tests.billing_claim_facts import AT, Facts, suite_facts
from tests.support import wait_until


def schedule(
    number: int, effective_from: date, fees: dict[str, int]
) -> FeeScheduleVersionPublished:
    return FeeScheduleVersionPublished(
        payer_id="aetna",
        schedule_version=number,
        effective_from=effective_from,
        fees=tuple(Fee(code=code, amount_cents=cents) for code, cents in fees.items()),
        published_at=AT,
    )


@pytest.fixture
async def facts(suite: Suite, settings: Settings, clock: ShiftedClock) -> Facts:
    facts = await suite_facts(suite, settings, clock)
    await facts.clinic("north", "aetna")
    await facts.patient("pat-1")  # no coverage yet
    # Version 1 is in force on the date of service (20 Nov 2026); version 2 only after it.
    await facts.record(
        streams.fee_schedule(facts.tenant, "aetna"),
        schedule(1, date(2026, 1, 1), {"99213": 9_000, "36415": 700}),
        schedule(2, date(2026, 11, 21), {"99213": 50_000, "36415": 5_000}),
    )
    return facts


async def test_a_self_pay_charge_is_repriced_and_claimed_when_the_coverage_is_learnt(
    client: httpx.AsyncClient, suite: Suite, facts: Facts, token_for: TokenFor
) -> None:
    who = token_for("biller")
    await facts.charge("appt-1", "pat-1", payer_id=SELF_PAY)

    async def charge_is(payer_id: str) -> Any:
        response = await client.get("/billing/charges/appt-1", headers=who)
        found = response.json() if response.status_code == 200 else None
        return found if found and found["payer_id"] == payer_id else None

    self_paid = await wait_until(lambda: charge_is(SELF_PAY), message="the self-pay charge")
    assert self_paid["status"] == "released"
    claim_id = claim_id_for("appt-1")
    assert (await client.get(f"/billing/claims/{claim_id}", headers=who)).status_code == 404

    await facts.coverage("pat-1", "aetna")

    repriced = await wait_until(lambda: charge_is("aetna"), message="the charge repriced")
    assert (repriced["corrections"], repriced["fee_schedule_version"]) == (1, 1)
    assert repriced["total_cents"] == 9_000 + 2 * 700
    assert repriced["status"] == "released"

    async def claimed() -> Any:
        response = await client.get(f"/billing/claims/{claim_id}", headers=who)
        return response.json() if response.status_code == 200 else None

    claim = await wait_until(claimed, message="the repriced charge's claim")
    assert (claim["payer_id"], claim["total_cents"]) == ("aetna", 9_000 + 2 * 700)

    # Asked again (a redelivery of either fact): nothing is repriced a second time.
    documents = await suite.backends.documents("billing")
    charges = Charges(facts.handler, ReadModels(documents))
    stream = streams.charge(facts.tenant, "appt-1")
    before = await charges.stream_version(stream)
    assert await charges.reprice(facts.meta, "appt-1") is None
    assert await charges.stream_version(stream) == before
    store = suite.service("billing").event_store
    assert store is not None
    corrections = [
        e
        for c in await store.read_all()
        if c.stream == stream
        for e in c.events
        if e.type == ChargeCorrected.type_name()
    ]
    [corrected] = corrections
    assert (corrected.data["reason"], corrected.data["payer_id"]) == (COVERAGE_LEARNT, "aetna")
