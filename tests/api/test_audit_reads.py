"""Auditors' reads of the audit log on both backends: a patient's access report and accounting
of disclosures, the log by correlation and by chain of causes, its time, actor and patient
filters. Auditors read; nobody changes anything; a report is itself a recorded disclosure."""

from __future__ import annotations

from typing import Any

import httpx

from services.compliance.application.access import record_access_stream
from services.suite import Suite
from tests.api.conftest import TokenFor, register
from tests.api.test_billing_charges import complete_visit, set_up_billing
from tests.support import wait_until

ACCESS = "medoffice.scheduling.PatientRecordAccessed.v1"
REPORTED = "medoffice.compliance.PatientRecordAccessed.v1"  # a report answered
REPORT = "/compliance/patients/{}/access-report"
DISCLOSURES = "/compliance/patients/{}/disclosures"


async def _read(client: httpx.AsyncClient, patient: str, purpose: str | None) -> None:
    headers = {} if purpose is None else {"x-purpose-of-use": purpose}

    async def read() -> httpx.Response | None:
        response = await client.get(f"/scheduling/patients/{patient}", headers=headers)
        return response if response.status_code == 200 else None

    assert await wait_until(read, message=f"{patient}'s record")


async def _report(
    client: httpx.AsyncClient, patient: str, reads: int, **params: Any
) -> dict[str, Any]:
    """The patient's access report once it holds `reads` reads of their record."""

    async def ready() -> dict[str, Any] | None:
        response = await client.get(REPORT.format(patient), params=params)
        assert response.status_code == 200, response.text
        report: dict[str, Any] = response.json()
        return (
            report if len([e for e in report["entries"] if e["type"] == ACCESS]) >= reads else None
        )

    report = await wait_until(ready, message=f"{patient}'s access report")
    assert report is not None
    return report


async def test_a_patients_access_report_and_accounting_of_disclosures(
    client: httpx.AsyncClient, suite: Suite, token_for: TokenFor
) -> None:
    await register(client, "pat-1", "pat-2")
    await _read(client, "pat-1", "TREAT")
    await _read(client, "pat-1", "hlegal")  # a court order: accounted for, whatever the case
    await _read(client, "pat-1", None)
    await _read(client, "pat-2", "PUBHLTH")
    # The auditor's own reads state their purpose (operations: neither unstated nor accounted).
    client.headers["x-purpose-of-use"] = "HOPERAT"

    report = await _report(client, "pat-1", 3)
    entries = report["entries"]
    assert {e["patient"] for e in entries} == {"pat-1"}  # nothing of pat-2's
    registered = [e for e in entries if e["type"].endswith(".PatientRegistered.v1")]
    assert [(e["actor"], e["access"]) for e in registered] == [("tester", False)]
    reads = [e for e in entries if e["access"] and e["type"] == ACCESS]
    assert {e["endpoint"] for e in reads} == {"/scheduling/patients/pat-1"}
    assert {"TREAT", "HLEGAL", None} <= {e["purpose"] for e in reads}
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    assert (report["patient_id"], report["next_after"]) == ("pat-1", None)
    assert report["to"] > report["from"]
    assert report["from"][:4] == str(int(report["to"][:4]) - 6)  # six years by default

    accounted = (await client.get(DISCLOSURES.format("pat-1"))).json()
    assert [(d["purpose"], d["actor"]) for d in accounted["disclosures"]] == [("HLEGAL", "tester")]
    unstated = [e for e in reads if e["purpose"] is None]
    assert accounted["unstated_purpose"] == len(unstated) >= 1
    other = await _report(client, "pat-2", 1)
    assert [e["purpose"] for e in other["entries"] if e["type"] == ACCESS] == ["PUBHLTH"]
    other = (await client.get(DISCLOSURES.format("pat-2"))).json()
    assert [d["purpose"] for d in other["disclosures"]] == ["PUBHLTH"]

    # Paging: one entry a page, in the same order, to the end. Each page read is itself a read
    # of the record, added to the report: the pages after the first keep its `to`, or they
    # would chase the reads of the paging itself.
    paged: list[str] = []
    params: dict[str, Any] = {"limit": 1}
    while True:
        page = (await client.get(REPORT.format("pat-1"), params=params)).json()
        paged += [e["event_id"] for e in page["entries"]]
        if page["next_after"] is None:
            break
        params = {"limit": 1, "after": page["next_after"], "to": page["to"]}
    assert paged[: len(entries)] == [e["event_id"] for e in entries]

    # A period before anything was recorded holds nothing; `to` as a date takes its whole day.
    day = entries[0]["at"][:10]
    empty = (await client.get(REPORT.format("pat-1"), params={"to": "2020-01-01"})).json()
    assert empty["entries"] == []
    that_day = await client.get(REPORT.format("pat-1"), params={"from": day, "to": day})
    assert [e["event_id"] for e in that_day.json()["entries"]][:2] == [
        e["event_id"] for e in entries
    ][:2]

    # Each answer is a disclosure of the patient, on compliance's own record.
    store = suite.service("compliance").event_store
    assert store is not None
    recorded = [
        e
        for commit in await store.read_all()
        if commit.stream.startswith(record_access_stream("acme", ""))
        for e in commit.events
    ]
    assert recorded, "the reports' reads are recorded"
    assert {e.type for e in recorded} == {"medoffice.compliance.PatientRecordAccessed.v1"}
    assert {(e.data["patient_id"], e.actor, e.subject) for e in recorded} >= {
        ("pat-1", "tester", "pat-1"),
        ("pat-2", "tester", "pat-2"),
    }
    assert {e.data["endpoint"] for e in recorded} == {
        REPORT.format("pat-1"),
        DISCLOSURES.format("pat-1"),
        REPORT.format("pat-2"),
        DISCLOSURES.format("pat-2"),
    }

    # Relayed like any context's read, they reach the audit log: a later report lists them.
    async def reports_listed() -> list[dict[str, Any]] | None:
        report = (await client.get(REPORT.format("pat-1"))).json()
        listed = [e for e in report["entries"] if e["type"] == REPORTED]
        return listed if {e["endpoint"] for e in listed} >= {DISCLOSURES.format("pat-1")} else None

    listed = await wait_until(reports_listed, message="the reports read, in the report")
    assert listed is not None
    assert {(e["actor"], e["purpose"]) for e in listed} == {("tester", "HOPERAT")}
    assert all(e["access"] for e in listed)


async def test_only_auditors_and_tenant_wide_admins_read_a_patients_reports(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    await register(client, "pat-1")
    for path in (REPORT.format("pat-1"), DISCLOSURES.format("pat-1")):
        assert (await client.get(path, headers=token_for("auditor", sites=["north"]))).is_success
        for role in ("manager", "front_desk", "clinician", "biller"):
            refused = await client.get(path, headers=token_for(role, sites=["north"]))
            assert refused.status_code == 403, (role, path)
        site_admin = await client.get(path, headers=token_for("admin", sites=["north"]))
        assert site_admin.status_code == 403
        other_tenant = await client.get(path, headers=token_for("auditor", tenant="globex"))
        assert other_tenant.json()["entries" if "report" in path else "disclosures"] == []
        for bad in ({"from": "2026-02-30"}, {"to": "2026-11-30T10:00:00"}, {"after": "x"}):
            response = await client.get(path, params=bad)
            assert response.status_code == 422, (bad, response.text)
            assert response.headers["content-type"] == "application/problem+json"
        backwards = await client.get(path, params={"from": "2026-12-01", "to": "2026-11-01"})
        assert backwards.status_code == 422


async def test_the_log_by_correlation_and_by_chain_of_causes_across_services(
    client: httpx.AsyncClient, clinic: dict[str, str], suite: Suite, token_for: TokenFor
) -> None:
    await set_up_billing(suite, "pat-1")
    await register(client, "pat-1")
    aid = await complete_visit(client, clinic, ["99213"], ["I10"])

    async def completed() -> dict[str, Any] | None:
        found = (
            await client.get("/compliance/audit-log", params={"subject": aid, "limit": 1000})
        ).json()
        done = [e for e in found if e["type"].endswith(".VisitCompleted.v1")]
        return done[0] if done else None

    visit = await wait_until(completed, message="the visit's completion in the audit log")
    assert visit is not None

    async def caused() -> dict[str, Any] | None:
        path = f"/compliance/audit-log/caused-by/{visit['event_id']}"
        chain: dict[str, Any] = (await client.get(path)).json()
        contexts = {e["context"] for e in chain["entries"]}
        return chain if "billing" in contexts else None

    chain = await wait_until(caused, message="billing's charge, caused by the completion")
    assert chain is not None
    entries = chain["entries"]
    assert entries[0]["event_id"] == visit["event_id"]  # the cause first, then what it caused
    assert chain["truncated"] is False
    ids = {e["event_id"] for e in entries}
    assert all(e["causation_id"] in ids for e in entries[1:])
    assert any(e["type"] == "medoffice.billing.ChargeCreated.v1" for e in entries)
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    assert {e["correlation_id"] for e in entries} == {visit["correlation_id"]}

    # The whole request by its correlation id: the completion and all it caused, and nothing
    # of the check-in (another request).
    request = (
        await client.get(
            "/compliance/audit-log", params={"correlation_id": visit["correlation_id"]}
        )
    ).json()
    assert ids <= {e["event_id"] for e in request}
    assert not any(e["type"].endswith(".PatientCheckedIn.v1") for e in request)

    # The other filters: actor, patient, time, and combined.
    by_actor = (
        await client.get("/compliance/audit-log", params={"actor": "tester", "limit": 1000})
    ).json()
    assert by_actor
    assert {e["actor"] for e in by_actor} == {"tester"}
    by_patient = (
        await client.get("/compliance/audit-log", params={"patient": "pat-1", "limit": 1000})
    ).json()
    assert {e["patient"] for e in by_patient} == {"pat-1"}
    assert visit["event_id"] in {e["event_id"] for e in by_patient}
    at = visit["at"]
    after = (await client.get("/compliance/audit-log", params={"from": at, "limit": 1000})).json()
    assert after
    assert all(e["at"] >= at for e in after)
    before = (await client.get("/compliance/audit-log", params={"to": at, "limit": 1000})).json()
    assert before
    assert all(e["at"] < at for e in before)
    assert visit["event_id"] not in {e["event_id"] for e in before}

    # A manager of another site sees none of it; an unknown event is a 404.
    south = token_for("manager", sites=["south"])
    hidden = await client.get(f"/compliance/audit-log/caused-by/{visit['event_id']}", headers=south)
    assert hidden.status_code == 404
    assert (await client.get("/compliance/audit-log/caused-by/nothing")).status_code == 404
    north = token_for("manager", sites=["north"])
    shown = await client.get(f"/compliance/audit-log/caused-by/{visit['event_id']}", headers=north)
    assert shown.status_code == 200
    assert {e["site"] for e in shown.json()["entries"]} == {"north"}
