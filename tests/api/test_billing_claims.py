"""Claims over HTTP on both backends: a released charge becomes a claim the biller sees ready
(reading their own write), files made per payer and downloaded as valid 837P (each patient's
disclosure recorded), a paper EOB posted, denials grouped by CARC/RARC, rejected and unanswered
claims, the not-ready queue and its re-check; who may see and do what; hostile input refused
with nothing written."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from services.billing.application.claim_files import ClaimFileUseCases
from services.billing.application.claims import Claims
from services.billing.domain import streams
from services.billing.domain.claims import claim_id_for
from services.billing.domain.events import ClearinghouseFileRejected, PatientRecordAccessed
from services.suite import Suite
from shared.readmodels import ReadModels
from shared.settings import Settings
from tests.api.conftest import ShiftedClock, TokenFor
from tests.billing_claim_facts import DAY, TOTAL_CENTS, Facts, suite_facts
from tests.support import every_case_holds, settled, wait_until
from tests.x12_checks import assert_valid_837

PROBLEM = "application/problem+json"


@pytest.fixture
async def facts(suite: Suite, settings: Settings, clock: ShiftedClock) -> Facts:
    facts = await suite_facts(suite, settings, clock)
    await facts.clinic("north", "aetna", "bcbs")
    await facts.billing_provider("south")
    for patient in ("pat-1", "pat-2"):
        await facts.patient(patient)
        await facts.coverage(patient, "aetna")
    await facts.coverage("pat-2", "bcbs", priority=2)
    return facts


@pytest.fixture
async def claims(suite: Suite, facts: Facts) -> Claims:
    """The claims use cases the clearinghouse calls (a 277CA's answer), on billing's store."""
    documents = await suite.backends.documents("billing")
    assert facts.handler.vault is not None
    return Claims(facts.handler, ReadModels(documents), facts.handler.vault)


@pytest.fixture
async def files(facts: Facts, claims: Claims, settings: Settings) -> ClaimFileUseCases:
    """The claim-file use cases the clearinghouse calls (sent, 999)."""
    return ClaimFileUseCases(facts.handler, claims, settings)


def biller(token_for: TokenFor) -> dict[str, str]:
    return token_for("biller")


async def claim_seen(client: httpx.AsyncClient, headers: dict[str, str], claim_id: str) -> Any:
    async def probe() -> Any:
        response = await client.get(f"/billing/claims/{claim_id}", headers=headers)
        return response.json() if response.status_code == 200 else None

    return await wait_until(probe, message=f"claim {claim_id} readable")


async def status_is(
    client: httpx.AsyncClient, headers: dict[str, str], claim_id: str, status: str
) -> Any:
    async def probe() -> Any:
        response = await client.get(f"/billing/claims/{claim_id}", headers=headers)
        found = response.json() if response.status_code == 200 else None
        return found if found and found["status"] == status else None

    return await wait_until(probe, message=f"claim {claim_id} {status}")


async def disclosed(suite: Suite, patient_id: str, endpoint: str) -> bool:
    store = suite.service("billing").event_store
    assert store is not None
    commits = await store.read_all()
    return any(
        e.type == PatientRecordAccessed.type_name()
        and e.data.get("patient_id") == patient_id
        and e.data.get("endpoint") == endpoint
        for c in commits
        for e in c.events
    )


async def test_from_released_charge_to_a_valid_file_and_a_paper_eob(
    client: httpx.AsyncClient, suite: Suite, facts: Facts, files: ClaimFileUseCases,
    token_for: TokenFor,
) -> None:  # fmt: skip
    who = biller(token_for)
    await facts.charge("appt-1", "pat-1")
    claim_id = claim_id_for("appt-1")
    found = await claim_seen(client, who, claim_id)
    assert (found["status"], found["payer_id"], found["total_cents"]) == (
        "ready",
        "aetna",
        TOTAL_CENTS,
    )
    assert await disclosed(suite, "pat-1", f"/billing/claims/{claim_id}")

    made = await client.post("/billing/claim-files", json={"payer_id": "aetna"}, headers=who)
    assert made.status_code == 201, made.text
    [one] = made.json()["files"]
    assert one["claim_ids"] == [claim_id]
    meta = await client.get(f"/billing/claim-files/{one['id']}", headers=who)
    assert meta.json()["interchange_control_number"] == 1
    x12 = await client.get(f"/billing/claim-files/{one['id']}/x12", headers=who)
    assert x12.status_code == 200
    assert_valid_837(x12.text)
    assert await disclosed(suite, "pat-1", f"/billing/claim-files/{one['id']}/x12")
    again = await client.post("/billing/claim-files", json={}, headers=who)
    assert again.status_code == 409, again.text  # the claim is in an open file already

    await files.mark_batch_sent(facts.meta, one["id"], f"{one['id']}.837")
    await status_is(client, who, claim_id, "submitted")
    eob = {
        "outcome": "denied",
        "paid_cents": 0,
        "payer_claim_control_number": "AET-1",
        "adjudicated_on": DAY.isoformat(),
        "adjustments": [{"group": "CO", "reason": "50", "amount_cents": TOTAL_CENTS}],
        "lines": [{"line_id": "1", "code": "99213", "paid_cents": 0, "remarks": ["N115"]}],
    }
    posted = await client.post(f"/billing/claims/{claim_id}/adjudication", json=eob, headers=who)
    assert posted.status_code == 201, posted.text
    stream, version = posted.json()["stream"], posted.json()["stream_version"]
    denials = await client.get(
        "/billing/work-queues/denials",
        params={"after_stream": stream, "after_version": version},
        headers=who,
    )
    groups = {(g["kind"], g["code"]): g["claim_ids"] for g in denials.json()["groups"]}
    assert groups == {("CARC", "CO-50"): [claim_id], ("RARC", "N115"): [claim_id]}
    twice = await client.post(f"/billing/claims/{claim_id}/adjudication", json=eob, headers=who)
    assert twice.status_code == 409
    appeal = {"reason": "medically necessary"}
    appealed = await client.post(f"/billing/claims/{claim_id}/appeal", json=appeal, headers=who)
    assert appealed.status_code == 201
    written = await client.post(f"/billing/claims/{claim_id}/write-off", json=appeal, headers=who)
    assert written.status_code == 201
    assert (await status_is(client, who, claim_id, "written_off"))["written_off_cents"] == (
        TOTAL_CENTS
    )


async def test_secondary_claim_after_the_primary_and_a_replacement(
    client: httpx.AsyncClient, facts: Facts, files: ClaimFileUseCases, token_for: TokenFor
) -> None:
    who = biller(token_for)
    await facts.charge("appt-2", "pat-2")
    primary = claim_id_for("appt-2")
    await status_is(client, who, primary, "ready")
    [one] = (await client.post("/billing/claim-files", json={}, headers=who)).json()["files"]
    await files.mark_batch_sent(facts.meta, one["id"], "f.837")
    eob = {
        "outcome": "partially_paid",
        "paid_cents": 9000,
        "patient_responsibility_cents": 1000,
        "payer_claim_control_number": "AET-2",
        "adjudicated_on": DAY.isoformat(),
        "adjustments": [{"group": "CO", "reason": "45", "amount_cents": 5000}],
    }
    posted = await client.post(f"/billing/claims/{primary}/adjudication", json=eob, headers=who)
    assert posted.status_code == 201, posted.text
    secondary = await status_is(client, who, claim_id_for("appt-2", "2"), "ready")
    assert (secondary["payer_id"], secondary["primary_claim_id"]) == ("bcbs", primary)
    made = await client.post("/billing/claim-files", json={"payer_id": "bcbs"}, headers=who)
    [file_2] = made.json()["files"]
    x12 = await client.get(f"/billing/claim-files/{file_2['id']}/x12", headers=who)
    assert_valid_837(x12.text)
    assert "AMT*D*90~" in x12.text

    replaced = await client.post(
        f"/billing/claims/{primary}/replacement", json={"frequency": "7"}, headers=who
    )
    assert replaced.status_code == 201, replaced.text
    new_id = replaced.json()["id"]
    assert (await status_is(client, who, new_id, "ready"))["replaces"] == primary
    assert (await claim_seen(client, who, primary))["status"] in ("partially_paid", "resubmitted")


async def test_the_not_ready_queue_and_the_re_check(
    client: httpx.AsyncClient, facts: Facts, token_for: TokenFor
) -> None:
    who = biller(token_for)
    await facts.patient("pat-3", address="no street at all")
    await facts.coverage("pat-3", "aetna")
    await facts.charge("appt-3", "pat-3")
    claim_id = claim_id_for("appt-3")
    found = await status_is(client, who, claim_id, "draft")
    assert found["problems"] == ["patient address incomplete"]
    queue = await client.get("/billing/work-queues/claims-not-ready", headers=who)
    assert [c["claim_id"] for c in queue.json()["claims"]] == [claim_id]
    refused = await client.post(f"/billing/claims/{claim_id}/ready", headers=who)
    assert refused.status_code == 409
    assert "patient address incomplete" in refused.json()["detail"]
    await facts.patient("pat-3", address="3 Oak Ave, Springfield, IL 62703")
    ready = await client.post(f"/billing/claims/{claim_id}/ready", headers=who)
    assert ready.status_code == 201
    params = {
        "after_stream": ready.json()["stream"],
        "after_version": ready.json()["stream_version"],
    }
    listed = await client.get("/billing/claims", params={"status": "ready", **params}, headers=who)
    assert claim_id in [c["claim_id"] for c in listed.json()["claims"]]
    empty = await client.get("/billing/work-queues/claims-not-ready", params=params, headers=who)
    assert empty.json()["claims"] == []


async def test_rejected_and_unanswered_claims(
    client: httpx.AsyncClient, facts: Facts, files: ClaimFileUseCases, token_for: TokenFor,
    clock: ShiftedClock, claims: Claims,
) -> None:  # fmt: skip
    who = biller(token_for)
    for charge in ("appt-4", "appt-5"):
        await facts.charge(charge, "pat-1")
        await status_is(client, who, claim_id_for(charge), "ready")
    [one] = (await client.post("/billing/claim-files", json={}, headers=who)).json()["files"]
    await files.mark_batch_sent(facts.meta, one["id"], "f.837")
    await files.acknowledge_batch(facts.meta, one["id"], "A")
    rejected = claim_id_for("appt-4")
    outcome = await claims.reject(facts.meta, rejected, ["A7:562 NPI not on file"])
    params: dict[str, str | int] = {
        "after_stream": outcome.stream,
        "after_version": outcome.stream_version,
    }
    queue = await client.get("/billing/work-queues/rejected-claims", params=params, headers=who)
    [row] = queue.json()["claims"]
    assert (row["claim_id"], row["reasons"]) == (rejected, ["A7:562 NPI not on file"])
    late = claim_id_for("appt-5")
    none_yet = await client.get("/billing/work-queues/unanswered-claims", headers=who)
    assert none_yet.json()["claims"] == []
    clock.shift += timedelta(days=31)
    answered = await client.get(
        "/billing/work-queues/unanswered-claims", params={"days": 30}, headers=who
    )
    assert [c["claim_id"] for c in answered.json()["claims"]] == [late]


async def test_the_files_billing_could_not_take_are_listed_for_billers_and_auditors(
    client: httpx.AsyncClient, facts: Facts, token_for: TokenFor, clock: ShiftedClock
) -> None:
    stream = streams.clearinghouse_inbox(facts.tenant)
    for n, name in enumerate(("ack-1.999", "odd.txt")):
        rejected = ClearinghouseFileRejected(
            file_name=name,
            digest=f"{n:064d}",
            reason="not a 999 or 277CA billing reads",
            rejected_at=clock.now() + timedelta(minutes=n),
        )
        await facts.record(stream, rejected)
    path = "/billing/work-queues/rejected-files"
    for role in ("biller", "auditor", "admin"):
        listed = await client.get(path, headers=token_for(role))
        assert listed.status_code == 200, listed.text
        body = listed.json()
        assert body["total"] == 2
        assert [f["file_name"] for f in body["files"]] == ["odd.txt", "ack-1.999"]  # newest first
        assert body["files"][0]["reason"] == "not a 999 or 277CA billing reads"
    one = await client.get(path, params={"limit": 1}, headers=token_for("biller"))
    assert [f["file_name"] for f in one.json()["files"]] == ["odd.txt"]
    bad = await client.get(path, params={"limit": 0}, headers=token_for("biller"))
    assert bad.status_code == 422
    assert bad.headers["content-type"] == PROBLEM
    for role in ("manager", "front_desk", "clinician"):  # a file spans sites and patients
        denied = await client.get(path, headers=token_for(role, sites=["north"]))
        assert denied.status_code == 403


async def test_claims_and_charges_are_read_a_page_at_a_time(
    client: httpx.AsyncClient, facts: Facts, token_for: TokenFor
) -> None:
    who = biller(token_for)
    days = [DAY - timedelta(days=n % 2) for n in range(5)]  # two days of service, mixed
    for n, day in enumerate(days):
        await facts.charge(f"appt-{n}", "pat-1", day=day)
    claim_ids = sorted(claim_id_for(f"appt-{n}") for n in range(5))
    for claim_id in claim_ids:
        await claim_seen(client, who, claim_id)

    async def every_page(path: str, key: str, **params: Any) -> list[list[Any]]:
        pages: list[list[Any]] = []
        cursor: str | None = None
        while True:
            query = {**params, "limit": 2} | ({"cursor": cursor} if cursor else {})
            answer = await client.get(path, params=query, headers=who)
            assert answer.status_code == 200, answer.text
            pages.append(answer.json()[key])
            cursor = answer.json()["next_cursor"]
            if cursor is None:
                return pages

    pages = await every_page("/billing/claims", "claims")
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [c["claim_id"] for p in pages for c in p] == claim_ids
    charge_pages = await every_page("/billing/charges", "charges")
    listed = [(c["date_of_service"], c["charge_id"]) for p in charge_pages for c in p]
    assert listed == sorted((days[n].isoformat(), f"appt-{n}") for n in range(5))
    assert len(charge_pages) == 3

    for path in ("/billing/claims", "/billing/charges", "/billing/work-queues/held-charges"):
        for bad in ({"cursor": "not-ours"}, {"cursor": "W10"}, {"limit": 0}, {"limit": 501}):
            refused = await client.get(path, params=bad, headers=who)
            assert refused.status_code == 422, (path, bad, refused.text)
            assert refused.headers["content-type"] == PROBLEM


async def test_who_sees_claims(
    client: httpx.AsyncClient, facts: Facts, token_for: TokenFor
) -> None:
    who = biller(token_for)
    await facts.charge("appt-n", "pat-1", site_id="north")
    await facts.charge("appt-s", "pat-1", site_id="south")
    for charge in ("appt-n", "appt-s"):
        await claim_seen(client, who, claim_id_for(charge))
    manager = token_for("manager", sites=["north"])
    listed = await client.get("/billing/claims", headers=manager)
    assert [c["site_id"] for c in listed.json()["claims"]] == ["north"]
    south = await client.get(f"/billing/claims/{claim_id_for('appt-s')}", headers=manager)
    assert south.status_code == 404
    assert (await client.get("/billing/claims?site=south", headers=manager)).status_code == 403
    auditor = token_for("auditor")
    assert len((await client.get("/billing/claims", headers=auditor)).json()["claims"]) == 2
    for role in ("front_desk", "clinician"):
        assert (await client.get("/billing/claims", headers=token_for(role))).status_code == 403
    denied = await client.post("/billing/claim-files", json={}, headers=auditor)
    assert denied.status_code == 403
    made = (await client.post("/billing/claim-files", json={}, headers=who)).json()["files"]
    download = f"/billing/claim-files/{made[0]['id']}/x12"
    assert (await client.get(download, headers=auditor)).status_code == 403
    assert (await client.get(download, headers=manager)).status_code == 403


HOSTILE: list[tuple[str, dict[str, Any]]] = [
    ("adjudication", {"outcome": "paid", "paid_cents": -5, "payer_claim_control_number": "X",
                      "adjudicated_on": "2026-11-20"}),
    ("adjudication", {"outcome": "stolen", "paid_cents": 5, "payer_claim_control_number": "X",
                      "adjudicated_on": "2026-11-20"}),
    ("adjudication", {"outcome": "paid", "paid_cents": 5, "payer_claim_control_number": "X*~",
                      "adjudicated_on": "2026-11-20"}),
    ("adjudication", {"outcome": "paid", "paid_cents": 5, "payer_claim_control_number": "X",
                      "adjudicated_on": "0001-01-01"}),
    ("adjudication", {"outcome": "paid", "paid_cents": 999999,
                      "payer_claim_control_number": "X", "adjudicated_on": "2026-11-20"}),
    ("appeal", {"reason": ""}),
    ("appeal", {"reason": "x", "extra": 1}),
    ("write-off", {"reason": "x" * 501}),
    ("replacement", {"frequency": "1"}),
]  # fmt: skip


async def test_hostile_input_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, suite: Suite, facts: Facts, files: ClaimFileUseCases,
    token_for: TokenFor,
) -> None:  # fmt: skip
    who = biller(token_for)
    await facts.charge("appt-h", "pat-1")
    claim_id = claim_id_for("appt-h")
    await status_is(client, who, claim_id, "ready")
    [one] = (await client.post("/billing/claim-files", json={}, headers=who)).json()["files"]
    await files.mark_batch_sent(facts.meta, one["id"], "f.837")
    store = suite.service("billing").event_store
    assert store is not None
    stream = streams.claim(facts.tenant, claim_id)
    # These three refusals do not depend on the case (each parametrized run asked them again).
    bad_id = await client.get("/billing/claims/x%2A%7E", headers=who)
    assert bad_id.status_code == 422
    bad_queue = await client.get("/billing/work-queues/unanswered-claims?days=0", headers=who)
    assert bad_queue.status_code == 422
    foreign = await client.get(
        "/billing/claims", params={"after_stream": "globex:claim:x", "after_version": 1},
        headers=who,
    )  # fmt: skip
    assert foreign.status_code == 400

    async def refused(case: tuple[str, dict[str, Any]]) -> None:
        path, body = case
        before = await store.version(stream)
        response = await client.post(f"/billing/claims/{claim_id}/{path}", json=body, headers=who)
        assert 400 <= response.status_code < 500, response.text
        assert response.headers["content-type"] == PROBLEM
        assert await store.version(stream) == before

    await settled(suite)  # nothing appended in the background meanwhile
    await every_case_holds(HOSTILE, refused)
