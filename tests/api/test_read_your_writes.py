"""Read-your-writes: `after_version` waits for a version the event store has, and refuses one
it does not have at once (422), instead of waiting in vain and answering 503 for ever."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from services.suite import Suite
from shared.settings import Settings
from tests.api.conftest import TokenFor, booking, post_ok, register

PROBLEM = "application/problem+json"


async def read(
    client: httpx.AsyncClient, entry: str, stream: str, version: int, day: str = "2026-12-01"
) -> httpx.Response:
    """The read-your-writes entry point `entry`, asked to wait for `stream` at `version`."""
    if entry == "board":
        return await client.get(
            f"/scheduling/sites/north/board/{day}", params={"after_version": version}
        )
    return await client.get(
        f"/scheduling/providers/dr-a/schedule/{day}",
        params={"after_stream": stream, "after_version": version},
    )


DAY_VIEWS = {
    "board": "/scheduling/sites/{site_id}/board/{day}",
    "schedule": "/scheduling/providers/{provider_id}/schedule/{day}",
}
# Open-slot search waits for a provider's stream: tested in tests/api/test_open_slots.py; so
# does the to-reschedule list: tests/api/test_scheduling_learns_from_staffing.py; a
# staffing roster for its site's and employees' streams: in tests/api/test_staffing_shifts.py
# (a version beyond the head too). Staffing's other reads wait through the same
# `shared.http.routes.read_after`; each area's API tests read their own writes through them
# (tests/api/test_staffing_{people,credentials,training,reviews}.py). Billing's reference data
# (payers, billing providers, fee schedules): tests/api/test_billing_reference.py.
ENTRIES = {
    **DAY_VIEWS,
    "open-slots": "/scheduling/open-slots",
    "to-reschedule": "/scheduling/sites/{site_id}/to-reschedule",
    "roster": "/staffing/sites/{site_id}/roster",
    "employee": "/staffing/employees/{employee_id}",
    "staff": "/staffing/sites/{site_id}/staff",
    "credentials": "/staffing/employees/{employee_id}/credentials",
    "expiring": "/staffing/credentials/expiring",
    "credential": "/staffing/credentials/{credential_id}",
    "enrolments": "/staffing/employees/{employee_id}/enrolments",
    "all-enrolments": "/staffing/enrolments",
    "training": "/staffing/employees/{employee_id}/training",
    "overdue": "/staffing/training/overdue",
    "training-compliance": "/staffing/sites/{site_id}/training-compliance",
    "review-cycle": "/staffing/review-cycles/{cycle}",
    "review": "/staffing/reviews/{review_id}",
    # billing: reference data
    "payers": "/billing/payers",
    "payer": "/billing/payers/{payer_id}",
    "billing-provider": "/billing/sites/{site_id}/billing-provider",
    "billing-providers": "/billing/billing-providers",
    "fee-schedule": "/billing/fee-schedules/{payer_id}",
    "fee-schedule-version": "/billing/fee-schedules/{payer_id}/versions/{version}",
    "fee": "/billing/fee-schedules/{payer_id}/fee",
    # Billing's learnt patients and providers: tests/api/test_billing_learning.py.
    "billing-coverages": "/billing/patients/{patient_id}/coverages",
    "billing-rendering-provider": "/billing/providers/{provider_id}",
    # billing: charges (tests/api/test_billing_charges.py reads its writes through each)
    "charges": "/billing/charges",
    "charge": "/billing/charges/{charge_id}",
    "held-charges": "/billing/work-queues/held-charges",
    "coding-errors": "/billing/work-queues/coding-errors",
    # billing claims: tests/api/test_billing_claims.py reads its writes through each
    "claims": "/billing/claims",
    "claim": "/billing/claims/{claim_id}",
    "claims-not-ready": "/billing/work-queues/claims-not-ready",
    "rejected-claims": "/billing/work-queues/rejected-claims",
    "denials": "/billing/work-queues/denials",
    "unanswered-claims": "/billing/work-queues/unanswered-claims",
    # billing: the patient's side (tests/api/test_billing_patient.py reads its writes)
    "patient-ledger": "/billing/patients/{patient_id}/ledger",
    "patient-statements": "/billing/patients/{patient_id}/statements",
    # billing receivables: tests/api/test_billing_receivables.py reads its writes through each
    "receivables": "/billing/receivables",
    "receivables-aging": "/billing/receivables/aging",
    "kpis": "/billing/kpis",
    # compliance: tests/api/test_compliance_{policies,incidents}.py read their writes
    "policy": "/compliance/policies/{policy_id}",
    "incident": "/compliance/incidents/{incident_id}",
    # compliance: tests/api/test_compliance_alerts.py reads its writes through it
    "alert": "/compliance/alerts/{alert_id}",
    # finance: tests/api/test_finance_payables.py reads its writes through each
    "finance-invoice": "/finance/invoices/{invoice_id}",
    "finance-vendor": "/finance/vendors/{vendor_id}",
    # engagement: tests/api/test_engagement_surveys.py reads its survey answers through it
    "nps": "/engagement/nps",
    # engagement: tests/api/test_engagement_cases.py reads its cases' writes through it
    "engagement-cases": "/engagement/cases",
}


async def test_every_route_taking_after_version_is_tested_here(
    client: httpx.AsyncClient, suite: Suite
) -> None:
    doc = (await client.get("/openapi.json")).json()
    waiting = {
        path
        for path, operations in doc["paths"].items()
        for op in operations.values()
        if any(p["name"] == "after_version" for p in op.get("parameters", []))
    }
    assert waiting == set(ENTRIES.values())


async def booked(client: httpx.AsyncClient, clinic: dict[str, str]) -> dict[str, Any]:
    await register(client, "pat-1")
    return await post_ok(client, "/scheduling/appointments", booking(clinic))


@pytest.mark.parametrize("entry", DAY_VIEWS)
async def test_a_version_beyond_the_streams_head_is_a_422_at_once(
    client: httpx.AsyncClient, clinic: dict[str, str], settings: Settings, entry: str
) -> None:
    made = await booked(client, clinic)
    stream, head = made["stream"], made["stream_version"]

    started = time.monotonic()
    response = await read(client, entry, stream, head + 1)
    elapsed = time.monotonic() - started

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == (
        f"stream {stream} is at version {head}; after_version {head + 1} does not exist"
    )
    assert "retry-after" not in response.headers
    # Refused without waiting for the read model: far inside the bound it would wait.
    assert elapsed < settings.read_your_writes_timeout / 3


@pytest.mark.parametrize("entry", DAY_VIEWS)
async def test_a_day_never_written_has_no_version_to_wait_for(
    client: httpx.AsyncClient, clinic: dict[str, str], entry: str
) -> None:
    stream = "acme:site-day:north:2026-12-02"

    response = await read(client, entry, stream, 1, day="2026-12-02")

    assert response.status_code == 422, response.text
    assert response.json()["detail"] == (
        f"stream {stream} is at version 0; after_version 1 does not exist"
    )


@pytest.mark.parametrize("entry", DAY_VIEWS)
async def test_the_version_at_the_head_is_read_with_the_write_in_it(
    client: httpx.AsyncClient, clinic: dict[str, str], entry: str
) -> None:
    made = await booked(client, clinic)

    response = await read(client, entry, made["stream"], made["stream_version"])

    assert response.status_code == 200, response.text
    assert [a["appointment_id"] for a in response.json()["appointments"]] == [made["id"]]


async def test_another_sites_stream_is_not_waited_for_nor_its_version_told(
    client: httpx.AsyncClient, clinic: dict[str, str], token_for: TokenFor
) -> None:
    made = await booked(client, clinic)
    elsewhere = token_for("front_desk", sites=["south"])

    response = await client.get(
        "/scheduling/providers/dr-a/schedule/2026-12-01",
        params={"after_stream": made["stream"], "after_version": made["stream_version"] + 1},
        headers=elsewhere,
    )

    assert response.status_code == 403, response.text
    assert "version" not in response.text


@pytest.mark.parametrize("stream", ["acme:site-day:", "acme:site-day:north", "other:site-day:n:d"])
async def test_an_after_stream_not_of_a_site_day_of_ones_tenant_is_a_400(
    client: httpx.AsyncClient, clinic: dict[str, str], stream: str
) -> None:
    response = await client.get(
        "/scheduling/providers/dr-a/schedule/2026-12-01",
        params={"after_stream": stream, "after_version": 1},
    )

    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM
