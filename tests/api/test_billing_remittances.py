"""Remittances over HTTP on both backends: an 835 uploaded is posted once (the claim paid, the
patient's share on their balance), whatever is uploaded again; a reversal and its correction
net to the correction; a file that does not balance is a 422 with nothing taken; too big a
file is a 413; what matches nothing waits in the unmatched queue, a page at a time; billers
upload, auditors read, nobody else."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bench.remittance_files import PAYER_X12_ID, Billed, file_835, paid_claim, payment, reversal_of
from services.billing.application.claim_files import ClaimFileUseCases
from services.billing.domain.claims import claim_id_for
from services.billing.domain.events import remittance_id_for
from services.suite import Suite
from shared.settings import Settings
from tests.api.conftest import ShiftedClock, TokenFor
from tests.api.test_billing_fhir import FHIR, appears
from tests.billing_claim_facts import Facts, claim_file_use_cases, suite_facts
from tests.fhir_validation import valid
from tests.support import wait_until

PROBLEM = "application/problem+json"
X12 = {"content-type": "application/edi-x12"}


@pytest.fixture
async def facts(suite: Suite, settings: Settings, clock: ShiftedClock) -> Facts:
    facts = await suite_facts(suite, settings, clock)
    await facts.clinic("north", "aetna")
    await facts.patient("pat-1")
    await facts.coverage("pat-1", "aetna")
    return facts


def lines_of(claim_id: str) -> list[Billed]:
    """billing_claim_facts' charge: 99213 at 120.00 and 36415 twice at 15.00."""
    return [Billed(f"{claim_id}-1", "99213", 12000), Billed(f"{claim_id}-2", "36415", 3000)]


@pytest.fixture
async def files(suite: Suite, facts: Facts, settings: Settings) -> ClaimFileUseCases:
    return await claim_file_use_cases(suite, facts, settings)


async def submitted(
    client: httpx.AsyncClient, facts: Facts, files: ClaimFileUseCases, who: dict[str, str]
) -> str:
    """A claim of pat-1's visit, in a claim file sent to the payer."""
    await facts.charge("appt-1", "pat-1")
    claim_id = claim_id_for("appt-1")

    async def ready() -> bool:
        found = await client.get(f"/billing/claims/{claim_id}", headers=who)
        return found.status_code == 200 and found.json()["status"] == "ready"

    await wait_until(ready, message="the claim ready")
    made = await client.post("/billing/claim-files", json={}, headers=who)
    assert made.status_code == 201, made.text
    (one,) = made.json()["files"]
    await files.mark_batch_sent(facts.meta, one["id"], f"{one['id']}.837")
    return claim_id


async def upload(
    client: httpx.AsyncClient, who: dict[str, str], data: bytes, name: str = "eft.835"
) -> httpx.Response:
    return await client.post(
        "/billing/remittances", content=data, params={"file_name": name}, headers={**who, **X12}
    )


async def posted(client: httpx.AsyncClient, who: dict[str, str], remittance_id: str) -> Any:
    async def probe() -> Any:
        found = await client.get(f"/billing/remittances/{remittance_id}", headers=who)
        assert found.status_code == 200, found.text
        body = found.json()
        return body if body["status"] == "posted" else None

    return await wait_until(probe, message=f"remittance {remittance_id} posted")


async def claim_paid(
    client: httpx.AsyncClient, who: dict[str, str], claim_id: str, cents: int
) -> Any:
    """The claim as the claims read model has it once it shows `cents` paid (net)."""

    async def probe() -> Any:
        found = await client.get(f"/billing/claims/{claim_id}", headers=who)
        assert found.status_code == 200, found.text
        return found.json() if found.json()["paid_cents"] == cents else None

    return await wait_until(probe, message=f"claim {claim_id} paid {cents}")


async def test_an_835_uploaded_is_posted_once_and_the_patients_share_is_theirs(
    client: httpx.AsyncClient, facts: Facts, files: ClaimFileUseCases, token_for: TokenFor
) -> None:
    who = token_for("biller")
    claim_id = await submitted(client, facts, files, who)
    paid = paid_claim(claim_id, lines_of(claim_id))  # 80% allowed, a 20.00 copay
    data = file_835(payment([paid], trace="EFT100"))

    taken = await upload(client, who, data)
    assert taken.status_code == 202, taken.text
    (receipt,) = taken.json()["remittances"]
    assert (receipt["new"], receipt["claim_count"], receipt["claims_added"]) == (True, 1, 1)
    body = await posted(client, who, receipt["remittance_id"])
    assert (body["posted"], body["already_posted"], body["unmatched"]) == (1, 0, [])
    assert body["payment_cents"] == paid.paid_cents == 10000
    assert body["payer_id"] == "aetna"
    assert body["warnings"] == []

    claim = await claim_paid(client, who, claim_id, 10000)
    assert claim["status"] == "paid"
    assert claim["adjudication"]["remittance_id"] == receipt["remittance_id"]

    async def patient_owes() -> Any:
        ledger = await client.get("/billing/patients/pat-1/ledger", headers=who)
        owed = ledger.json()["balance_cents"] if ledger.status_code == 200 else None
        return owed if owed == 2000 else None

    await wait_until(patient_owes, message="the copay on the patient's balance")

    again = await upload(client, who, data, name="eft-again.835")
    assert again.status_code == 202
    (same,) = again.json()["remittances"]
    assert (same["remittance_id"], same["new"], same["claims_added"]) == (
        receipt["remittance_id"],
        False,
        0,
    )
    assert (await posted(client, who, same["remittance_id"]))["posted"] == 1  # not 2

    # The payer takes it back and pays anew (a 10.00 copay now): the correction stands.
    corrected = paid_claim(claim_id, lines_of(claim_id), copay_cents=1000, pccn="PCN-2")
    both = payment([reversal_of(paid), corrected], trace="EFT200")
    (second,) = (await upload(client, who, file_835(both))).json()["remittances"]
    done = await posted(client, who, second["remittance_id"])
    assert (done["posted"], done["unmatched"]) == (2, [])
    claim = await claim_paid(client, who, claim_id, 11000)
    assert (claim["status"], len(claim["postings"])) == ("paid", 1)

    async def patient_owes_less() -> Any:
        ledger = await client.get("/billing/patients/pat-1/ledger", headers=who)
        owed = ledger.json()["balance_cents"] if ledger.status_code == 200 else None
        return owed if owed == 1000 else None

    await wait_until(patient_owes_less, message="the copay corrected on the balance")


async def test_a_file_that_does_not_balance_is_refused_whole(
    client: httpx.AsyncClient, facts: Facts, files: ClaimFileUseCases, token_for: TokenFor
) -> None:
    who = token_for("biller")
    claim_id = await submitted(client, facts, files, who)
    good = file_835(payment([paid_claim(claim_id, lines_of(claim_id))], trace="EFT300"))
    bad = good.replace(b"BPR*I*100*", b"BPR*I*101*", 1)
    assert bad != good
    refused = await upload(client, who, bad)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == PROBLEM
    assert "does not balance" in refused.json()["title"]
    nothing = f"/billing/remittances/{remittance_id_for(PAYER_X12_ID, 'EFT300')}"
    assert (await client.get(nothing, headers=who)).status_code == 404  # nothing taken
    for garbage in (b"not x12 at all", "ISA*\u00e9".encode(), b"ISA*00*" + b"~" * 5000):
        answer = await upload(client, who, garbage)
        assert answer.status_code == 422, answer.text
    empty = await upload(client, who, b"")
    assert empty.status_code == 422
    too_big = await upload(client, who, b"ISA" + b" " * (16 * 1024 * 1024))
    assert too_big.status_code == 413
    bad_name = await upload(client, who, good, name="../../etc/passwd")
    assert bad_name.status_code == 422


async def test_what_matches_nothing_waits_in_the_unmatched_queue_until_a_biller_matches_it(
    client: httpx.AsyncClient, facts: Facts, files: ClaimFileUseCases, token_for: TokenFor
) -> None:
    who = token_for("biller")
    claim_id = await submitted(client, facts, files, who)  # billed 150.00 in two lines
    strangers = [
        paid_claim(f"NOTOURS{n}", [Billed(f"NOTOURS{n}-1", "99213", 15000)]) for n in range(3)
    ]
    data = file_835(payment(strangers, trace="EFT400"))
    (receipt,) = (await upload(client, who, data)).json()["remittances"]
    rid = receipt["remittance_id"]
    body = await posted(client, who, rid)
    assert [u["claim_ref"] for u in body["unmatched"]] == ["NOTOURS0", "NOTOURS1", "NOTOURS2"]
    assert all("no claim" in u["reason"] for u in body["unmatched"])

    async def queued(cursor: str | None = None) -> Any:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = await client.get(
            "/billing/work-queues/unmatched-remittances", params=params, headers=who
        )
        assert page.status_code == 200, page.text
        return page.json()

    async def both_pages() -> Any:
        # The queue's read model takes the three one by one: wait until it holds all of them.
        page = await queued()
        if len(page["items"]) < 2 or page["next_cursor"] is None:
            return None
        rest = await queued(page["next_cursor"])
        return (page, rest) if rest["items"] else None

    page, rest = await wait_until(both_pages, message="the unmatched queue")
    items = page["items"] + rest["items"]
    assert [i["claim_ref"] for i in items] == ["NOTOURS0", "NOTOURS1", "NOTOURS2"]
    assert items[0]["remittance_id"] == rid
    assert items[0]["paid_cents"] == strangers[0].paid_cents
    assert rest["next_cursor"] is None

    # The biller finds the payer mangled our claim id: the first goes to our claim.
    match = f"/billing/remittances/{rid}/claims/0/match"
    matched = await client.post(match, json={"claim_id": claim_id}, headers=who)
    assert matched.status_code == 201, matched.text
    assert [m["claim_id"] for m in matched.json()["matched"]] == [claim_id]
    assert [u["index"] for u in matched.json()["unmatched"]] == [1, 2]
    claim = await claim_paid(client, who, claim_id, strangers[0].paid_cents)
    assert claim["status"] == "paid"
    again = await client.post(match, json={"claim_id": claim_id}, headers=who)
    assert again.status_code == 409  # matched already
    # The second stranger cannot go to the same claim: paid under another payer number.
    refused = await client.post(
        f"/billing/remittances/{rid}/claims/1/match", json={"claim_id": claim_id}, headers=who
    )
    assert refused.status_code == 409
    assert "without a reversal" in refused.json()["detail"]
    nowhere = await client.post(
        f"/billing/remittances/{rid}/claims/7/match", json={"claim_id": claim_id}, headers=who
    )
    assert nowhere.status_code == 404
    no_claim = await client.post(f"/billing/remittances/{rid}/claims/2/match", json={}, headers=who)
    assert no_claim.status_code == 404  # CLP01 names no claim of ours still

    async def off_the_queue() -> Any:
        listed = await queued()
        return listed if [i["index"] for i in listed["items"]] == [1, 2] else None

    await wait_until(off_the_queue, message="the matched payment off the queue")


async def test_billers_upload_auditors_read_nobody_else(
    client: httpx.AsyncClient, facts: Facts, token_for: TokenFor
) -> None:
    data = file_835(payment([paid_claim("X1", [Billed("X1-1", "99213", 5000)])], trace="EFT500"))
    for role in ("front_desk", "clinician", "manager", "auditor"):
        assert (await upload(client, token_for(role), data)).status_code == 403
    taken = await upload(client, token_for("admin"), data)
    assert taken.status_code == 202
    (receipt,) = taken.json()["remittances"]
    href = f"/billing/remittances/{receipt['remittance_id']}"
    for role in ("biller", "admin", "auditor"):
        assert (await client.get(href, headers=token_for(role))).status_code == 200
    for role in ("front_desk", "clinician", "manager"):
        assert (await client.get(href, headers=token_for(role))).status_code == 403
    elsewhere = await client.get(href, headers=token_for("biller", tenant="globex"))
    assert elsewhere.status_code == 404


@pytest.mark.usefixtures("hl7_validator")
async def test_a_posted_835_reads_as_fhir_payment_reconciliation_and_eobs(
    client: httpx.AsyncClient, facts: Facts, files: ClaimFileUseCases, token_for: TokenFor
) -> None:
    who = token_for("biller")
    claim_id = await submitted(client, facts, files, who)
    paid = paid_claim(claim_id, lines_of(claim_id))
    data = file_835(payment([paid], trace="EFT600"))
    (receipt,) = (await upload(client, who, data)).json()["remittances"]
    rid = receipt["remittance_id"]
    await posted(client, who, rid)

    async def reconciled() -> Any:
        found = await client.get(f"{FHIR}/PaymentReconciliation/{rid}", headers=who)
        body = found.json() if found.status_code == 200 else None
        return body if body and body["outcome"] == "complete" else None

    reconciliation = valid(await wait_until(reconciled, message="the reconciliation complete"))
    assert reconciliation["paymentAmount"]["value"] == 100.0
    assert reconciliation["paymentIdentifier"]["value"] == "EFT600"
    (detail,) = reconciliation["detail"]
    assert detail["request"]["identifier"]["value"] == claim_id

    eob_id = f"{rid}-0"
    eob = await appears(client, f"ExplanationOfBenefit/{eob_id}", who)
    assert eob["status"] == "active"
    assert eob["outcome"] == "complete"

    # Taken back and corrected: the first EOB is cancelled, the correction's is active.
    corrected = paid_claim(claim_id, lines_of(claim_id), copay_cents=1000, pccn="PCN-2")
    both = file_835(payment([reversal_of(paid), corrected], trace="EFT700"))
    (second,) = (await upload(client, who, both)).json()["remittances"]
    await posted(client, who, second["remittance_id"])

    async def cancelled() -> Any:
        found = await client.get(f"{FHIR}/ExplanationOfBenefit/{eob_id}", headers=who)
        body = found.json() if found.status_code == 200 else None
        return body if body and body["status"] == "cancelled" else None

    valid(await wait_until(cancelled, message="the reversed EOB cancelled"))
    correction = await appears(client, f"ExplanationOfBenefit/{second['remittance_id']}-1", who)
    assert correction["status"] == "active"
