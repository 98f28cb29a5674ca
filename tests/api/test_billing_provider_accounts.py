"""Provider accounts over HTTP on both backends: a payee's PLB adjustments and balance, read
from the event store; billers, admins and auditors read them, no one else (a payee spans
sites)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx

from services.billing.domain import streams
from services.billing.domain.events import ProviderAdjustmentPosted
from services.suite import Suite
from tests.api.conftest import TokenFor
from tests.billing_facts import record_billing

PROBLEM = "application/problem+json"
ACCOUNT = "/billing/provider-accounts/1234567893"


def _posted(n: int, amount_cents: int) -> ProviderAdjustmentPosted:
    return ProviderAdjustmentPosted(
        adjustment_id=f"R1-PLB{n}",
        remittance_id="R1",
        payer_id="aetna",
        provider_id="1234567893",
        fiscal_period_end=date(2026, 12, 31),
        reason="L6" if amount_cents < 0 else "WO",
        reference=f"REF{n}",
        amount_cents=amount_cents,
        posted_at=datetime(2026, 11, 26, 12, tzinfo=UTC),
    )


async def test_a_payees_account_shows_its_adjustments_to_those_who_may_read_it(
    suite: Suite, client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    stream = streams.provider_account("acme", "1234567893")
    await record_billing(suite, "acme", stream, _posted(0, -125), _posted(1, 5000))
    found = await client.get(ACCOUNT, headers=token_for("biller"))
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["balance_cents"] == 4875
    assert [a["adjustment_id"] for a in body["adjustments"]] == ["R1-PLB0", "R1-PLB1"]
    for role in ("admin", "auditor"):
        assert (await client.get(ACCOUNT, headers=token_for(role))).status_code == 200
    for role in ("manager", "front_desk", "clinician"):
        assert (await client.get(ACCOUNT, headers=token_for(role))).status_code == 403
    other_tenant = token_for("biller", tenant="globex")
    assert (await client.get(ACCOUNT, headers=other_tenant)).status_code == 404
    missing = await client.get("/billing/provider-accounts/nobody", headers=token_for("biller"))
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
