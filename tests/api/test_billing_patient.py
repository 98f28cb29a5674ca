"""The patient's side over HTTP on both backends: a paper EOB's patient responsibility owed,
payments at the desk (the same payment twice records once), refunds, write-offs, a plan, a
statement as a PDF (its text extracted), read-your-writes on the ledger; who may do what;
bad input refused with problem+json and illegal steps with 409."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from services.billing.application.claim_files import ClaimFileUseCases
from services.billing.application.patients import StatementRun
from services.billing.domain.claims import claim_id_for
from services.suite import Suite
from shared.settings import Settings
from tests.api.conftest import ShiftedClock, TokenFor
from tests.billing_claim_facts import DAY, TOTAL_CENTS, Facts, claim_file_use_cases, suite_facts
from tests.support import every_case_holds, wait_until

PROBLEM = "application/problem+json"
LEDGER = "/billing/patients/pat-1/ledger"


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


async def owed_after_eob(
    client: httpx.AsyncClient, facts: Facts, files: ClaimFileUseCases, who: dict[str, str]
) -> None:
    await facts.charge("appt-1", "pat-1")
    claim_id = claim_id_for("appt-1")

    async def ready() -> bool:
        found = await client.get(f"/billing/claims/{claim_id}", headers=who)
        return found.status_code == 200 and found.json()["status"] == "ready"

    await wait_until(ready, message="claim ready")
    made = await client.post("/billing/claim-files", json={"payer_id": "aetna"}, headers=who)
    [one] = made.json()["files"]
    await files.mark_batch_sent(facts.meta, one["id"], f"{one['id']}.837")
    eob = {
        "outcome": "partially_paid",
        "paid_cents": TOTAL_CENTS - 5000,
        "patient_responsibility_cents": 5000,
        "payer_claim_control_number": "AET-1",
        "adjudicated_on": DAY.isoformat(),
        "adjustments": [
            {"group": "PR", "reason": "1", "amount_cents": 3000},
            {"group": "PR", "reason": "3", "amount_cents": 2000},
        ],
    }
    posted = await client.post(f"/billing/claims/{claim_id}/adjudication", json=eob, headers=who)
    assert posted.status_code == 201, posted.text


async def ledger_of(client: httpx.AsyncClient, who: dict[str, str]) -> Any:
    async def probe() -> Any:
        found = await client.get(LEDGER, headers=who)
        return found.json() if found.status_code == 200 else None

    return await wait_until(probe, message="the patient's ledger")


async def test_owed_paid_refunded_written_off_and_stated(
    client: httpx.AsyncClient, facts: Facts, files: ClaimFileUseCases, token_for: TokenFor
) -> None:
    who = token_for("biller")
    await owed_after_eob(client, facts, files, who)
    ledger = await ledger_of(client, who)
    assert ledger["balance_cents"] == 5000
    reasons = sorted((e["reason"], e["amount_cents"]) for e in ledger["entries"])
    assert reasons == [("copay", 2000), ("deductible", 3000)]

    desk = token_for("front_desk", sites=["north"])
    pay = {"payment_id": "pay-1", "amount_cents": 2000, "method": "card", "site_id": "north",
           "reference": "auth 991", "kind": "copay", "appointment_id": "appt-1"}  # fmt: skip
    paid = await client.post("/billing/patients/pat-1/payments", json=pay, headers=desk)
    assert paid.status_code == 201, paid.text
    again = await client.post("/billing/patients/pat-1/payments", json=pay, headers=desk)
    assert again.status_code == 201
    assert again.json()["stream_version"] == paid.json()["stream_version"]
    other = await client.post(
        "/billing/patients/pat-1/payments", json={**pay, "amount_cents": 2001}, headers=desk
    )
    assert other.status_code == 409
    assert other.headers["content-type"] == PROBLEM
    mine = await client.get(
        LEDGER,
        params={"after_stream": paid.json()["stream"],
                "after_version": paid.json()["stream_version"]},
        headers=desk,
    )  # fmt: skip
    assert mine.status_code == 200
    assert mine.json()["balance_cents"] == 3000
    assert "entries" not in mine.json()  # the front desk reads the balance, not the claims

    too_much = {"amount_cents": 100, "method": "cash", "reason": "overpaid"}
    refused = await client.post("/billing/patients/pat-1/refunds", json=too_much, headers=who)
    assert refused.status_code == 409  # no credit
    small = {"amount_cents": 1001, "reason": "small_balance"}
    refused = await client.post("/billing/patients/pat-1/write-offs", json=small, headers=who)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == PROBLEM
    small["amount_cents"] = 1000
    written = await client.post("/billing/patients/pat-1/write-offs", json=small, headers=who)
    assert written.status_code == 201, written.text

    made = await client.post(
        "/billing/patients/pat-1/statements", json={"period_end": "2026-11-30"}, headers=who
    )
    assert made.status_code == 201, made.text
    statement_id = made.json()["id"]
    listed = await client.get("/billing/patients/pat-1/statements", headers=who)
    [statement] = listed.json()["statements"]
    assert statement["balance_cents"] == 2000
    for path in (f"{statement_id}.pdf", f"{statement_id}/pdf"):
        pdf = await client.get(f"/billing/patients/pat-1/statements/{path}", headers=who)
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "Jane Q Doe" in text
        assert "Visit appt-1: deductible" in text
        assert "Payment (card)" in text
        assert "Balance due: $20.00" in text

    plan = {"total_cents": 2000, "installment_cents": 500, "first_due_on": "2026-12-15"}
    agreed = await client.post("/billing/patients/pat-1/payment-plans", json=plan, headers=who)
    assert agreed.status_code == 201, agreed.text
    second = await client.post("/billing/patients/pat-1/payment-plans", json=plan, headers=who)
    assert second.status_code == 409
    assert (await ledger_of(client, who))["stage"] == "plan"


async def test_who_may_see_and_do_what(
    client: httpx.AsyncClient, facts: Facts, files: ClaimFileUseCases, token_for: TokenFor
) -> None:
    who = token_for("biller")
    await owed_after_eob(client, facts, files, who)
    await ledger_of(client, who)
    assert (await client.get(LEDGER, headers=token_for("clinician"))).status_code == 403
    south = token_for("manager", sites=["south"])
    assert (await client.get(LEDGER, headers=south)).status_code == 404
    north = token_for("manager", sites=["north"])
    assert (await client.get(LEDGER, headers=north)).status_code == 200
    assert (await client.get(LEDGER, headers=token_for("auditor"))).status_code == 200
    pay = {"payment_id": "p", "amount_cents": 1, "method": "cash", "site_id": "north"}
    for role in ("auditor", "manager", "clinician"):
        posted = await client.post(
            "/billing/patients/pat-1/payments", json=pay, headers=token_for(role, sites=["north"])
        )
        assert posted.status_code == 403, role
    elsewhere = token_for("front_desk", sites=["south"])
    posted = await client.post("/billing/patients/pat-1/payments", json=pay, headers=elsewhere)
    assert posted.status_code == 403
    nobody = await client.post("/billing/patients/nobody/payments", json=pay, headers=who)
    assert nobody.status_code == 404  # a patient billing never learnt
    assert nobody.headers["content-type"] == PROBLEM


async def test_a_read_after_a_write_names_this_patients_ledger(
    client: httpx.AsyncClient, facts: Facts, files: ClaimFileUseCases, token_for: TokenFor
) -> None:
    who = token_for("biller")
    await owed_after_eob(client, facts, files, who)
    await ledger_of(client, who)
    for path in (LEDGER, "/billing/patients/pat-1/statements"):
        for params in (
            {"after_version": "1"},
            {"after_stream": "t:patient-ledger:pat-2", "after_version": "1"},
        ):
            refused = await client.get(path, params=params, headers=who)
            assert refused.status_code == 400, (path, params, refused.text)
            assert refused.headers["content-type"] == PROBLEM
        refused = await client.get(path, params={"after_version": "0"}, headers=who)
        assert refused.status_code == 422


async def test_a_plan_not_kept_defaults_on_the_statement_run(
    client: httpx.AsyncClient,
    suite: Suite,
    facts: Facts,
    files: ClaimFileUseCases,
    token_for: TokenFor,
    clock: ShiftedClock,
) -> None:
    """5000 in 1000s monthly from 15 Dec: December's kept, January's never paid. The statement
    run (its timer fired by hand) keeps the plan 30 days past 15 January, ends it `defaulted`
    on the 31st, and the stage leaves `plan`."""
    who = token_for("biller")
    await owed_after_eob(client, facts, files, who)
    await ledger_of(client, who)
    plan = {"plan_id": "pl-1", "total_cents": 5000, "installment_cents": 1000,
            "first_due_on": "2026-12-15"}  # fmt: skip
    agreed = await client.post("/billing/patients/pat-1/payment-plans", json=plan, headers=who)
    assert agreed.status_code == 201, agreed.text
    pay = {"payment_id": "dec", "amount_cents": 1000, "method": "cash", "site_id": "north"}
    paid = await client.post("/billing/patients/pat-1/payments", json=pay, headers=who)
    assert paid.status_code == 201, paid.text
    caught_up = {"after_stream": paid.json()["stream"],
                 "after_version": paid.json()["stream_version"]}  # fmt: skip
    # the run finds its tenants in the balances read model: wait until it holds the payment
    assert (await client.get(LEDGER, params=caught_up, headers=who)).status_code == 200
    [run] = [w for w in suite.service("billing").workers if isinstance(w, StatementRun)]

    async def run_on(days_after_epoch: int) -> Any:
        """The ledger after the run (a read of the ledger's stream: the run has committed)."""
        clock.shift = timedelta(days=days_after_epoch)
        await run.fire_due()
        found = await client.get(LEDGER, headers=who)
        assert found.status_code == 200, found.text
        return found.json()

    kept = await run_on(80)  # 2027-02-14: January's installment 30 days overdue
    assert (kept["plan_id"], kept["stage"]) == ("pl-1", "plan")
    ended = await run_on(81)  # 2027-02-15: 31 days
    assert ended["plan_id"] is None
    assert ended["stage"] == "statement"  # January's statement, 15 days old, unpaid
    [end] = [e for e in ended["entries"] if e["type"] == "PaymentPlanEnded"]
    assert (end["plan_id"], end["outcome"]) == ("pl-1", "defaulted")
    assert ended["balance_cents"] == 4000


BAD_INPUT: list[tuple[str, Any]] = [
    ("payments", {"payment_id": "p", "amount_cents": 0, "method": "cash", "site_id": "north"}),
    ("payments", {"payment_id": "p", "amount_cents": 5, "method": "gold", "site_id": "north"}),
    ("payments", {"payment_id": "../x", "amount_cents": 5, "method": "cash",
                  "site_id": "north"}),
    ("refunds", {"amount_cents": -1, "method": "cash", "reason": "x"}),
    ("write-offs", {"amount_cents": 5, "reason": "because"}),
    ("payment-plans", {"total_cents": 5, "installment_cents": 5, "first_due_on": "soon"}),
    ("statements", {"period_end": "2026-13-40"}),
]  # fmt: skip


async def test_bad_input_is_refused_with_nothing_written(
    client: httpx.AsyncClient, facts: Facts, token_for: TokenFor
) -> None:
    who = token_for("biller")

    async def refused(case: tuple[str, Any]) -> None:
        path, body = case
        response = await client.post(f"/billing/patients/pat-1/{path}", json=body, headers=who)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == PROBLEM
        assert (await client.get(LEDGER, headers=who)).status_code == 404

    await every_case_holds(BAD_INPUT, refused)
