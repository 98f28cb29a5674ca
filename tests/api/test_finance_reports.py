"""Finance's month through the HTTP API on both backends: the P&L ties out (revenue equals
billing's posted patient payments, recognised once; expenses equal AP and payroll), budget
versus actual against the approved version, cost per visit, as JSON, CSV and PDF, as of a past
day; and who reads which books."""

from __future__ import annotations

import io
import re
from typing import Any

import httpx
from pypdf import PdfReader

from services.billing.application.claim_files import ClaimFileUseCases
from tests.api.conftest import ShiftedClock, TokenFor, post_ok
from tests.api.test_billing_patient import facts, files, owed_after_eob
from tests.api.test_finance_payables import books, invoice
from tests.billing_claim_facts import DAY, TOTAL_CENTS, Facts
from tests.support import wait_until

__all__ = ["facts", "files"]  # billing's fixtures: a clinic, a patient, a claim file


async def _report(client: httpx.AsyncClient, who: dict[str, str], **params: str) -> dict[str, Any]:
    response = await client.get("/finance/reports/month", params=params, headers=who)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_the_month_ties_out_to_billing_and_payables(
    client: httpx.AsyncClient, token_for: TokenFor, clock: ShiftedClock
) -> None:
    finance = token_for("finance", sub="fin-1")
    await books(client, finance)
    today = clock.now().date()
    month = f"{today:%Y-%m}"
    first = f"{month}-01"
    body = {"patient_id": "pat-1", "name": "P", "birth_date": "1980-01-01"}
    await post_ok(client, "/scheduling/patients", body)
    desk = token_for("front_desk", sites=["north"])
    for n, cents in enumerate((2_000, 3_500)):
        pay = {"payment_id": f"pay-{n}", "amount_cents": cents, "method": "card",
               "site_id": "north", "kind": "payment"}  # fmt: skip

        async def paid(pay: dict[str, Any] = pay) -> bool:
            answer = await client.post("/billing/patients/pat-1/payments", json=pay, headers=desk)
            return answer.status_code == 201  # once billing has learnt the patient

        await wait_until(paid, message="billing learns the patient")
        again = await client.post("/billing/patients/pat-1/payments", json=pay, headers=desk)
        assert again.status_code == 201
    bill = invoice("SUP-1", 1_200, invoice_date=first, received_on=first)
    made = await client.post("/finance/invoices", json=bill, headers=finance)
    assert made.status_code == 201, made.text
    payroll = f"site,month,account,amount\nnorth,{month},5100,30.00\n"
    posted = await client.post(
        "/finance/payroll-imports",
        content=payroll,
        headers={**finance, "content-type": "text/csv"},
    )
    assert posted.status_code == 201, posted.text
    lines = [{"account_code": "5200", "month": first, "amount_cents": 1_000}]
    draft = {"site_id": "north", "fiscal_year": today.year, "lines": lines}
    drafted = await client.post("/finance/budgets", json=draft, headers=finance)
    assert drafted.status_code == 201, drafted.text
    by_finance = await client.post(
        f"/finance/budgets/north/{today.year}/approval", json={"budget_version": 1},
        headers=finance,
    )  # fmt: skip
    assert by_finance.status_code == 403
    manager = token_for("manager", sites=["north"], sub="mgr-1")
    approved = await client.post(
        f"/finance/budgets/north/{today.year}/approval", json={"budget_version": 1},
        headers=manager,
    )  # fmt: skip
    assert approved.status_code == 200, approved.text

    async def tied() -> dict[str, Any] | None:
        report = await _report(client, finance, month=month, site_id="north")
        pnl = report["profit_and_loss"]
        done = pnl["revenue_cents"] == 5_500 and pnl["expenses_cents"] == 4_200
        return report if done else None

    report = await wait_until(tied, message="the month's revenue and expenses")
    assert report is not None
    pnl = report["profit_and_loss"]
    assert pnl["net_income_cents"] == 1_300
    assert report["cash_collected_cents"] == 5_500
    supplies = next(v for v in report["budget_versus_actual"] if v["account_code"] == "5200")
    assert (supplies["budget_cents"], supplies["actual_cents"]) == (1_000, 1_200)
    assert supplies["variance_cents"] == 200
    assert supplies["variance_pct"] == 20.0
    assert supplies["favourable"] is False
    group = await _report(client, finance, month=month)
    assert group["profit_and_loss"]["revenue_cents"] == 5_500
    past = await _report(client, finance, month=month, site_id="north", as_of="2020-01-01")
    assert past["profit_and_loss"]["revenue_cents"] == 0
    as_csv = await client.get(
        "/finance/reports/month",
        params={"month": month, "site_id": "north"},
        headers={**finance, "accept": "text/csv"},
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert "net_income,,,1300" in as_csv.text
    as_pdf = await client.get(
        "/finance/reports/month",
        params={"month": month, "site_id": "north"},
        headers={**finance, "accept": "application/pdf"},
    )
    assert as_pdf.headers["content-type"] == "application/pdf"
    assert f"finance-{month}-north.pdf" in as_pdf.headers["content-disposition"]
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(as_pdf.content)).pages)
    assert f"Month: {month}    Site north" in text
    assert re.search(r"Net income +\$13\.00", text), text
    # A manager reads their site, not another's nor the group; no clinical role reads any.
    assert (await _report(client, manager, month=month, site_id="north"))["site_id"] == "north"
    for params in ({"month": month, "site_id": "south"}, {"month": month}):
        refused = await client.get("/finance/reports/month", params=params, headers=manager)
        assert refused.status_code == 403
    for role in ("clinician", "front_desk", "biller", "hr", "staff"):
        refused = await client.get(
            "/finance/reports/month", params={"month": month}, headers=token_for(role)
        )
        assert refused.status_code == 403, role
    bad = await client.get("/finance/reports/month", params={"month": "2026-13"}, headers=finance)
    assert bad.status_code == 422


async def test_a_payer_s_payment_is_revenue_of_the_claim_s_site_and_payer_class(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    facts: Facts,
    files: ClaimFileUseCases,
) -> None:
    """Billing posts a paper EOB paying the claim of a visit at north (its date of service in
    November): finance recognises exactly what billing posted, on the payer class's account."""
    finance = token_for("finance", sub="fin-1")
    await books(client, finance)
    await owed_after_eob(client, facts, files, token_for("biller"))
    month = f"{DAY:%Y-%m}"

    async def recognised() -> dict[str, Any] | None:
        report = await _report(client, finance, month=month, site_id="north")
        return report if report["profit_and_loss"]["revenue_cents"] else None

    report = await wait_until(recognised, message="the payer's payment as revenue")
    assert report is not None
    revenue = {
        line["account_code"]: line["amount_cents"] for line in report["profit_and_loss"]["revenue"]
    }
    assert sum(revenue.values()) == TOTAL_CENTS - 5000  # what the EOB paid, once
    assert revenue["4100"] == TOTAL_CENTS - 5000  # aetna: commercial
    by_service = await _report(client, finance, month=month, site_id="north", basis="service")
    assert by_service["profit_and_loss"]["revenue_cents"] == TOTAL_CENTS - 5000  # served in Nov.
    bad = await client.get(
        "/finance/reports/month", params={"month": month, "basis": "cash"}, headers=finance
    )
    assert bad.status_code == 422
