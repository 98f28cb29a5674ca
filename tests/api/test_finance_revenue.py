"""Revenue learnt from billing, through the HTTP API on both backends: a payment posted before
the clinic set its cost centres is not lost, and a patient's write-off posted through billing's
API shows in finance's month apart from revenue and cash collected."""

from __future__ import annotations

from typing import Any

import httpx

from services.billing.application.claim_files import ClaimFileUseCases
from services.billing.domain.claims import claim_id_for
from tests.api.conftest import ShiftedClock, TokenFor, post_ok
from tests.api.test_billing_patient import facts, files, owed_after_eob
from tests.api.test_finance_payables import books
from tests.billing_claim_facts import DAY, TOTAL_CENTS, Facts
from tests.support import wait_until

__all__ = ["facts", "files"]  # billing's fixtures: a clinic, a patient, a claim file


async def _report(client: httpx.AsyncClient, who: dict[str, str], **params: str) -> dict[str, Any]:
    response = await client.get("/finance/reports/month", params=params, headers=who)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_a_payment_before_the_cost_centres_are_set_is_in_the_month_once_they_are(
    client: httpx.AsyncClient, token_for: TokenFor, clock: ShiftedClock
) -> None:
    finance = token_for("finance", sub="fin-1")
    month = f"{clock.now():%Y-%m}"
    body = {"patient_id": "pat-1", "name": "P", "birth_date": "1980-01-01"}
    await post_ok(client, "/scheduling/patients", body)
    desk = token_for("front_desk", sites=["north"])
    pay = {"payment_id": "pay-1", "amount_cents": 2_000, "method": "cash", "site_id": "north"}

    async def paid() -> bool:
        answer = await client.post("/billing/patients/pat-1/payments", json=pay, headers=desk)
        return answer.status_code == 201  # once billing has learnt the patient

    await wait_until(paid, message="billing learns the patient")

    async def recognised() -> dict[str, Any] | None:
        report = await _report(client, finance, month=month, site_id="north")
        return report if report["profit_and_loss"]["revenue_cents"] == 2_000 else None

    # No cost centres yet: the payment is revenue of its site all the same.
    assert await wait_until(recognised, message="the payment before the cost centres")
    await books(client, finance)  # the clinic sets its cost centres later
    report = await _report(client, finance, month=month, site_id="north")
    assert report["profit_and_loss"]["revenue_cents"] == 2_000
    assert report["cash_collected_cents"] == 2_000
    group = await _report(client, finance, month=month)
    assert group["profit_and_loss"]["revenue_cents"] == 2_000


async def test_a_patient_s_write_off_is_shown_apart_from_revenue_and_cash(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    facts: Facts,
    files: ClaimFileUseCases,
) -> None:
    """The EOB leaves the patient 5,000 to pay; billing writes 1,000 of the visit off, and then
    the claim, whose insurance balance is nothing (the rest is the patient's, owed by them, not
    written off with the claim): finance shows the 1,000 as written off at the visit's site,
    revenue and cash unchanged."""
    finance = token_for("finance", sub="fin-1")
    await books(client, finance)
    biller = token_for("biller")
    await owed_after_eob(client, facts, files, biller)
    write_off = {"write_off_id": "wo-1", "amount_cents": 1_000, "reason": "courtesy",
                 "charge_id": "appt-1"}  # fmt: skip

    async def written_off() -> bool:
        answer = await client.post(
            "/billing/patients/pat-1/write-offs", json=write_off, headers=biller
        )
        return answer.status_code == 201  # once billing has assessed what the patient owes

    await wait_until(written_off, message="the patient's balance written off")
    claim = await client.post(
        f"/billing/claims/{claim_id_for('appt-1')}/write-off",
        json={"reason": "not worth appealing"},
        headers=biller,
    )
    assert claim.status_code == 201, claim.text
    month = f"{DAY:%Y-%m}"

    async def shown() -> dict[str, Any] | None:
        report = await _report(client, finance, month=month, site_id="north", basis="service")
        return report if report["written_off_cents"] == 1_000 else None

    report = await wait_until(shown, message="the write-off in finance's month")
    assert report is not None
    assert report["profit_and_loss"]["revenue_cents"] == TOTAL_CENTS - 5000  # the EOB's only
    assert report["cash_collected_cents"] == TOTAL_CENTS - 5000
    south = await _report(client, finance, month=month, site_id="south", basis="service")
    assert south["written_off_cents"] == 0
