"""Finance's accounts payable through the HTTP API on both backends: an invoice is never paid
twice (a duplicate refused naming the first; a payment run started and completed again pays
nothing twice), nobody approves their own, two approvers over the limit, a vendor's tax id
shown to finance only, AP aging, payroll CSV refused whole naming its lines, and who may do
what."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.suite import Suite
from tests.api.conftest import TokenFor, post_ok
from tests.api.test_bad_input import PROBLEM
from tests.support import wait_until

SITES = [{"site_id": "north", "name": "North"}, {"site_id": "south", "name": "South"}]


@pytest.fixture
def finance(token_for: TokenFor) -> dict[str, str]:
    return token_for("finance", sub="fin-1")


async def books(client: httpx.AsyncClient, finance: dict[str, str]) -> None:
    """The default chart and a cost centre per site; vendor `acme-supply` (net 30)."""
    response = await client.put(
        "/finance/cost-centres", json={"cost_centres": SITES}, headers=finance
    )
    assert response.status_code == 200, response.text
    vendor = {"vendor_id": "acme-supply", "name": "Acme Supply", "tax_id": "12-3456789"}
    response = await client.post("/finance/vendors", json=vendor, headers=finance)
    assert response.status_code == 201, response.text


def invoice(number: str, cents: int, site: str = "north", **more: Any) -> dict[str, Any]:
    return {
        "vendor_id": "acme-supply",
        "invoice_number": number,
        "invoice_date": "2026-10-01",
        "received_on": "2026-10-03",
        "lines": [{"account_code": "5200", "site_id": site, "amount_cents": cents}],
        **more,
    }


async def test_a_duplicate_invoice_is_refused_naming_the_first(
    client: httpx.AsyncClient, finance: dict[str, str]
) -> None:
    await books(client, finance)
    first = await client.post("/finance/invoices", json=invoice("INV-42", 12_000), headers=finance)
    assert first.status_code == 201, first.text
    again = await client.post("/finance/invoices", json=invoice("inv 42", 12_000), headers=finance)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith(PROBLEM)
    assert first.json()["id"] in again.json()["detail"]


async def test_nobody_approves_their_own_and_over_the_limit_two_approve(
    client: httpx.AsyncClient, finance: dict[str, str], token_for: TokenFor
) -> None:
    await books(client, finance)
    big = await client.post("/finance/invoices", json=invoice("BIG-1", 750_000), headers=finance)
    invoice_id = big.json()["id"]
    own = await client.post(f"/finance/invoices/{invoice_id}/approval", headers=finance)
    assert own.status_code == 403
    manager = token_for("manager", sites=["north"], sub="mgr-1")
    first = await client.post(f"/finance/invoices/{invoice_id}/approval", headers=manager)
    assert first.status_code == 200, first.text
    twice = await client.post(f"/finance/invoices/{invoice_id}/approval", headers=manager)
    assert twice.status_code == 409
    read = await client.get(
        f"/finance/invoices/{invoice_id}",
        params={"after_version": first.json()["stream_version"]},
        headers=finance,
    )
    assert read.json()["status"] == "received"
    second = await client.post(
        f"/finance/invoices/{invoice_id}/approval", headers=token_for("finance", sub="fin-2")
    )
    assert second.status_code == 200, second.text
    read = await client.get(
        f"/finance/invoices/{invoice_id}",
        params={"after_version": second.json()["stream_version"]},
        headers=finance,
    )
    assert read.json()["status"] == "approved"
    assert read.json()["approved_by"] == ["mgr-1", "fin-2"]
    south = token_for("manager", sites=["south"], sub="mgr-2")
    other = await client.post("/finance/invoices", json=invoice("S-1", 100), headers=finance)
    refused = await client.post(f"/finance/invoices/{other.json()['id']}/approval", headers=south)
    assert refused.status_code == 403


async def test_a_payment_run_started_and_completed_again_pays_nothing_twice(
    suite: Suite, client: httpx.AsyncClient, finance: dict[str, str], token_for: TokenFor
) -> None:
    await books(client, finance)
    approver = token_for("finance", sub="fin-2")
    ids = []
    for number, cents in (("A-1", 10_000), ("A-2", 25_000)):
        made = await post_ok(client, "/finance/invoices", invoice(number, cents))
        ids.append(made["id"])
        response = await client.post(f"/finance/invoices/{made['id']}/approval", headers=approver)
        assert response.status_code == 200, response.text
    later = await post_ok(
        client,
        "/finance/invoices",
        invoice("L-1", 999, invoice_date="2026-12-20", received_on="2026-12-21"),
    )
    await client.post(f"/finance/invoices/{later['id']}/approval", headers=approver)
    run = {"run_id": "run-1", "pay_on": "2026-11-15"}
    started = await client.post("/finance/payment-runs", json=run, headers=finance)
    assert started.status_code == 201, started.text
    again = await client.post("/finance/payment-runs", json=run, headers=finance)
    assert again.status_code == 201
    assert again.json()["stream_version"] == started.json()["stream_version"]
    other = await client.post(
        "/finance/payment-runs", json={"run_id": "run-2", "pay_on": "2026-11-15"}, headers=finance
    )
    assert other.status_code == 409  # nothing left due: the first run holds them
    for _ in range(2):
        done = await client.post("/finance/payment-runs/run-1/completion", headers=finance)
        assert done.status_code == 200, done.text
    shown = (await client.get("/finance/payment-runs/run-1", headers=finance)).json()
    assert shown["completed"]
    assert shown["total_cents"] == 35_000
    assert sorted(i["invoice_id"] for i in shown["invoices"]) == sorted(ids)
    for invoice_id in ids:

        async def paid(invoice_id: str = invoice_id) -> bool:
            return await _status(client, finance, invoice_id, "paid")

        await wait_until(paid, message=f"invoice {invoice_id} paid in its read model")
    store = suite.service("finance").event_store
    assert store is not None
    recorded = await store.load("acme:vendor:acme-supply")
    assert sum(1 for e in recorded if e.type.endswith(".InvoicePaid.v1")) == 2
    voided = await client.post(
        f"/finance/invoices/{ids[0]}/void", json={"reason": "x", "on": "2026-11-20"}
    )
    assert voided.status_code == 409  # paid: never voided


async def test_an_abandoned_run_releases_its_invoices_for_another(
    client: httpx.AsyncClient, finance: dict[str, str], token_for: TokenFor
) -> None:
    await books(client, finance)
    made = await post_ok(client, "/finance/invoices", invoice("B-1", 7_000))
    approver = token_for("finance", sub="fin-2")
    response = await client.post(f"/finance/invoices/{made['id']}/approval", headers=approver)
    assert response.status_code == 200, response.text
    run = {"run_id": "run-1", "pay_on": "2026-11-15"}
    assert (
        await client.post("/finance/payment-runs", json=run, headers=finance)
    ).status_code == 201
    shown = (await client.get("/finance/payment-runs/run-1", headers=finance)).json()
    assert shown["state"] == "started"
    assert [i["status"] for i in shown["invoices"]] == ["scheduled"]
    for _ in range(2):
        abandoned = await client.post("/finance/payment-runs/run-1/abandonment", headers=finance)
        assert abandoned.status_code == 200, abandoned.text
    shown = (await client.get("/finance/payment-runs/run-1", headers=finance)).json()
    assert shown["state"] == "abandoned"
    assert [(i["invoice_id"], i["status"]) for i in shown["invoices"]] == [(made["id"], "released")]
    await wait_until(lambda: _status(client, finance, made["id"], "approved"))
    done = await client.post("/finance/payment-runs/run-1/completion", headers=finance)
    assert done.status_code == 409
    assert done.headers["content-type"].startswith(PROBLEM)
    other = {"run_id": "run-2", "pay_on": "2026-11-15"}
    assert (
        await client.post("/finance/payment-runs", json=other, headers=finance)
    ).status_code == 201
    for _ in range(2):
        paid = await client.post("/finance/payment-runs/run-2/completion", headers=finance)
        assert paid.status_code == 200, paid.text
    late = await client.post("/finance/payment-runs/run-2/abandonment", headers=finance)
    assert late.status_code == 409  # completed: never abandoned
    unknown = await client.post("/finance/payment-runs/nope/abandonment", headers=finance)
    assert unknown.status_code == 404
    assert (await client.get("/finance/payment-runs/nope", headers=finance)).status_code == 404


async def test_invoices_and_vendors_are_listed_a_page_at_a_time(
    client: httpx.AsyncClient, finance: dict[str, str], token_for: TokenFor
) -> None:
    await books(client, finance)
    ids = []
    for n in range(5):
        site = "south" if n == 4 else "north"
        made = await post_ok(client, "/finance/invoices", invoice(f"P-{n}", 100 + n, site))
        ids.append(made["id"])
    for invoice_id in ids:

        async def received(invoice_id: str = invoice_id) -> bool:
            return await _status(client, finance, invoice_id, "received")

        await wait_until(received)
    seen, cursor, pages = [], None, 0
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/finance/invoices", params=params, headers=finance)).json()
        seen += [i["invoice_id"] for i in page["invoices"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids)
    assert pages == 3
    south = token_for("manager", sites=["south"], sub="mgr-2")
    theirs = await client.get("/finance/invoices", params={"limit": 1}, headers=south)
    assert [i["invoice_id"] for i in theirs.json()["invoices"]] == [ids[4]]  # a full page
    none = await client.get("/finance/invoices", params={"status": "paid"}, headers=finance)
    assert none.json() == {"invoices": [], "next_cursor": None}
    vendors = (await client.get("/finance/vendors", headers=finance)).json()
    assert [(v["vendor_id"], v["tax_id"]) for v in vendors["vendors"]] == [("acme-supply", None)]
    for bad in ({"cursor": "not-ours"}, {"limit": 0}, {"limit": 501}, {"status": "lost"}):
        refused = await client.get("/finance/invoices", params=bad, headers=finance)
        assert refused.status_code == 422, bad
        assert refused.headers["content-type"].startswith(PROBLEM)
    refused = await client.get("/finance/vendors", params={"cursor": "x"}, headers=finance)
    assert refused.status_code == 422
    assert (await client.get("/finance/vendors", headers=south)).status_code == 403


async def _status(
    client: httpx.AsyncClient, headers: dict[str, str], invoice_id: str, status: str
) -> bool:
    response = await client.get(f"/finance/invoices/{invoice_id}", headers=headers)
    return response.status_code == 200 and response.json()["status"] == status


async def test_ap_aging_as_of_any_day(client: httpx.AsyncClient, finance: dict[str, str]) -> None:
    await books(client, finance)
    made = await post_ok(client, "/finance/invoices", invoice("OLD-1", 4_200))  # due 2026-10-31
    await wait_until(lambda: _status(client, finance, made["id"], "received"))
    before = await client.get("/finance/ap-aging", params={"as_of": "2026-10-02"}, headers=finance)
    assert before.json()["total_cents"] == 0
    late = await client.get("/finance/ap-aging", params={"as_of": "2026-12-15"}, headers=finance)
    assert late.json()["buckets"]["31-60"] == 4_200
    assert late.json()["invoices"][0]["days_past_due"] == 45


async def test_a_vendor_s_tax_id_is_shown_to_finance_only(
    client: httpx.AsyncClient, finance: dict[str, str], token_for: TokenFor
) -> None:
    await books(client, finance)
    vendor = {"vendor_id": "solo", "name": "Solo Cleaning", "tax_id": "123-45-6789"}
    made = await post_ok(client, "/finance/vendors", vendor)
    shown = await client.get(
        "/finance/vendors/solo", params={"after_version": made["stream_version"]}, headers=finance
    )
    assert shown.json()["tax_id"] == "123-45-6789"
    await wait_until(lambda: _vendor_known(client, finance))
    audited = await client.get("/finance/vendors/acme-supply", headers=token_for("auditor"))
    assert audited.status_code == 200
    assert audited.json()["tax_id"] is None
    for role in ("clinician", "front_desk", "biller", "hr"):
        refused = await client.get("/finance/vendors/acme-supply", headers=token_for(role))
        assert refused.status_code == 403, role


async def _vendor_known(client: httpx.AsyncClient, headers: dict[str, str]) -> bool:
    return (await client.get("/finance/vendors/acme-supply", headers=headers)).status_code == 200


async def test_a_payroll_file_with_bad_rows_imports_nothing_and_names_them(
    client: httpx.AsyncClient, finance: dict[str, str]
) -> None:
    await books(client, finance)
    csv_headers = {**finance, "content-type": "text/csv"}
    bad = (
        "site,month,account,amount\nnorth,2026-10,5100,100.00\n"
        "mars,2026-10,5100,1\nnorth,2026-10,5100,abc\n"
    )
    refused = await client.post("/finance/payroll-imports", content=bad, headers=csv_headers)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert "line 3" in refused.text
    assert "line 4" in refused.text
    good = 'site,month,account,amount\nnorth,2026-10,5100,"1,000.50"\nsouth,2026-10,5100,200\n'
    posted = await client.post("/finance/payroll-imports", content=good, headers=csv_headers)
    assert posted.status_code == 201, posted.text
    twice = await client.post("/finance/payroll-imports", content=good, headers=csv_headers)
    assert twice.status_code == 409
    wrong_type = await client.post("/finance/payroll-imports", content=good, headers=finance)
    assert wrong_type.status_code == 415


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/finance/invoices", {"vendor_id": "acme-supply"}),
        ("/finance/invoices", invoice("X", -5)),
        ("/finance/invoices", invoice("X", 5, invoice_date="9999-12-31")),
        ("/finance/payment-runs", {"pay_on": "not a day"}),
        ("/finance/budgets", {"site_id": "north", "fiscal_year": 2027, "lines": "x"}),
        ("/finance/vendors", {"name": "No tax id"}),
    ],
)
async def test_bad_input_is_a_problem_never_a_500(
    client: httpx.AsyncClient, finance: dict[str, str], path: str, body: dict[str, Any]
) -> None:
    await books(client, finance)
    response = await client.post(path, json=body, headers=finance)
    assert response.status_code in (404, 409, 422), response.text
    assert response.headers["content-type"].startswith(PROBLEM)
