"""Credentials and payer enrolment through the HTTP API on both backends: recording,
renewal, verification and revocation; the expiring list (hr sees everyone, a manager their
sites' staff); enrolment's lifecycle; and bad input answering 4xx with nothing written."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from services.staffing.application.credentials import CredentialSweepTimer
from services.staffing.domain import streams
from services.staffing.domain.events import EmployeeHired, registry
from services.suite import Suite
from shared.clock import UuidIds
from shared.commands import CommandHandler
from shared.domain import Decider
from shared.events import DomainEvent, Metadata
from tests.api.conftest import ShiftedClock, TokenFor, post_ok
from tests.api.test_bad_input import PROBLEM
from tests.support import TestRunClock, every_case_holds, settled, wait_until

# Appends the event it is given: how these tests hire (the employees area decides hires).
RECORD: Decider[None, DomainEvent] = Decider(None, lambda s, e: s, lambda s, c: [c])
PEOPLE = {
    "dr-north": ("physician", "north"),
    "dr-south": ("physician", "south"),
    "rn-north": ("nurse", "north"),
}


async def staffing_events(suite: Suite) -> int:
    store = suite.service("staffing").event_store
    assert store is not None
    return sum(len(c.events) for c in await store.read_all(0, 10_000))


@pytest.fixture
async def people(suite: Suite, client: httpx.AsyncClient) -> dict[str, str]:
    """Two physicians (North, South) and a nurse (North), hired on their streams, once the
    credentials read model knows them."""
    store = suite.service("staffing").event_store
    assert store is not None
    handler = CommandHandler(store, registry, TestRunClock(), UuidIds())
    meta = Metadata(tenant="acme", actor="hr-1", correlation_id="hire")
    for employee_id, (role, site) in PEOPLE.items():
        hired = EmployeeHired(
            employee_id=employee_id,
            name=f"Name of {employee_id}",
            title=role,
            role=role,
            site_ids=(site,),
            fte=1.0,
            hired_on=date(2020, 1, 1),
        )
        await handler.handle(streams.employee("acme", employee_id), RECORD, hired, meta)

    for employee_id in PEOPLE:

        async def known(employee_id: str = employee_id) -> bool:
            path = f"/staffing/employees/{employee_id}/credentials"
            return (await client.get(path)).status_code == 200

        await wait_until(known, message=f"{employee_id} in the read model")
    return {k: v[1] for k, v in PEOPLE.items()}


def licence(**change: Any) -> dict[str, Any]:
    return {
        "kind": "state_licence",
        "issuer": "NY State Education Department",
        "number": "209311",
        "state": "NY",
        "issued_on": "2024-12-01",
        "expires_on": "2026-12-20",  # 24 days after the test run's today (26 Nov 2026)
        **change,
    }


async def record(client: httpx.AsyncClient, employee_id: str, **change: Any) -> dict[str, Any]:
    return await post_ok(
        client, f"/staffing/employees/{employee_id}/credentials", licence(**change)
    )


async def read(client: httpx.AsyncClient, path: str, made: dict[str, Any], **headers: str) -> Any:
    """GET `path` (its query kept) once it includes the change `made`."""
    path, _, query = path.partition("?")
    params = dict(httpx.QueryParams(query))
    params.update(after_stream=made["stream"], after_version=str(made["stream_version"]))
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_credential_is_recorded_renewed_verified_and_revoked(
    client: httpx.AsyncClient, people: dict[str, str], token_for: TokenFor
) -> None:
    made = await record(client, "dr-north", credential_id="lic-1")
    assert (made["id"], made["stream"], made["stream_version"]) == (
        "lic-1",
        "acme:credential:lic-1",
        1,
    )
    got = await read(client, "/staffing/credentials/lic-1", made)
    assert got["employee_name"] == "Name of dr-north"
    assert (got["days_left"], got["valid_today"], got["invalid_from"]) == (24, True, None)

    renewed = await post_ok(
        client, "/staffing/credentials/lic-1/renewal", {"expires_on": "2028-12-31"}
    )
    assert renewed["stream_version"] == 2
    hr = token_for("hr", sub="hr-7")
    verified = await client.post(
        "/staffing/credentials/lic-1/verifications",
        json={"source": "state board website", "result": "verified"},
        headers=hr,
    )
    assert verified.status_code == 201, verified.text
    got = await read(client, "/staffing/credentials/lic-1", verified.json())
    assert got["expires_on"] == "2028-12-31"
    assert got["last_verification"]["verified_by"] == "hr-7"
    assert got["last_verification"]["result"] == "verified"

    revoked = await post_ok(
        client,
        "/staffing/credentials/lic-1/revocation",
        {"effective_on": "2026-12-01", "reason": "board action"},
    )
    got = await read(client, "/staffing/credentials/lic-1", revoked)
    assert (got["revoked_on"], got["invalid_from"], got["valid_today"]) == (
        "2026-12-01",
        "2026-12-01",
        True,  # valid until the revocation's day
    )
    again = await client.post(
        "/staffing/credentials/lic-1/revocation",
        json={"effective_on": "2026-12-02", "reason": "again"},
    )
    assert again.status_code == 409
    renew = await client.post(
        "/staffing/credentials/lic-1/renewal", json={"expires_on": "2030-01-01"}
    )
    assert renew.status_code == 409
    assert renew.headers["content-type"].startswith(PROBLEM)


async def test_a_failed_verification_makes_it_invalid_from_today(
    client: httpx.AsyncClient, people: dict[str, str]
) -> None:
    await record(client, "dr-north", credential_id="lic-1")
    failed = await post_ok(
        client,
        "/staffing/credentials/lic-1/verifications",
        {"source": "NPDB", "result": "failed", "note": "no match"},
    )
    got = await read(client, "/staffing/credentials/lic-1", failed)
    assert (got["invalid_from"], got["valid_today"]) == ("2026-11-26", False)


async def test_the_expiring_list_counts_days_and_a_manager_sees_only_their_sites(
    client: httpx.AsyncClient, people: dict[str, str], token_for: TokenFor
) -> None:
    await record(client, "dr-north", credential_id="n-soon", expires_on="2026-12-06")  # 10 days
    await record(client, "dr-north", credential_id="n-later", expires_on="2027-02-14")  # 80 days
    await record(client, "dr-north", credential_id="n-gone", expires_on="2026-11-20")  # -6 days
    await record(
        client,
        "rn-north",
        credential_id="rn-bls",
        kind="bls",
        issuer="AHA",
        state=None,
        expires_on="2026-12-16",
    )
    await record(client, "dr-south", credential_id="s-soon", expires_on="2026-12-01")  # 5 days
    last = await record(client, "dr-south", credential_id="s-far", expires_on="2028-01-01")
    await record(
        client,
        "dr-north",
        credential_id="n-board",
        kind="board_certification",
        issuer="ABIM",
        state=None,
        expires_on=None,
    )
    last = await record(client, "dr-north", credential_id="n-revoked", expires_on="2026-12-02")
    last = await post_ok(
        client,
        "/staffing/credentials/n-revoked/revocation",
        {"effective_on": "2026-11-26", "reason": "surrendered"},
    )

    path = "/staffing/credentials/expiring"
    hr = token_for("hr")
    within_30 = await read(client, path + "?within_days=30", last, **hr)
    assert within_30["today"] == "2026-11-26"
    rows = within_30["credentials"]
    assert [(r["credential_id"], r["days_left"]) for r in rows] == [
        ("n-gone", -6),
        ("s-soon", 5),
        ("n-soon", 10),
        ("rn-bls", 20),
    ]
    assert rows[1]["employee_name"] == "Name of dr-south"
    assert rows[0]["kind"] == "state_licence"
    assert {"expires_on", "last_verification", "site_ids"} <= set(rows[0])
    within_90 = await read(client, path + "?within_days=90", last, **hr)
    assert "n-later" in [r["credential_id"] for r in within_90["credentials"]]
    within_5 = await read(client, path + "?within_days=5", last, **hr)
    assert [r["credential_id"] for r in within_5["credentials"]] == ["s-soon"]

    north = token_for("manager", sites=["north"])
    seen = await read(client, path + "?within_days=30", last, **north)
    assert [r["credential_id"] for r in seen["credentials"]] == ["n-gone", "n-soon", "rn-bls"]
    south_only = await read(client, path + "?within_days=30&site_id=south", last, **hr)
    assert [r["credential_id"] for r in south_only["credentials"]] == ["s-soon"]
    other_site = await client.get(path + "?site_id=south", headers=north)
    assert other_site.status_code == 403
    # A manager reads neither the other site's credential nor its holder's list.
    assert (await client.get("/staffing/credentials/s-soon", headers=north)).status_code == 404
    assert (
        await client.get("/staffing/employees/dr-south/credentials", headers=north)
    ).status_code == 404
    assert (await client.get(path, headers=token_for("staff", sub="dr-north"))).status_code == 403


async def test_staff_read_their_own_credentials_only(
    client: httpx.AsyncClient, people: dict[str, str], token_for: TokenFor
) -> None:
    made = await record(client, "dr-north", credential_id="lic-1")
    own = token_for("staff", sub="dr-north")
    mine = await read(client, "/staffing/employees/dr-north/credentials", made, **own)
    assert [c["credential_id"] for c in mine["credentials"]] == ["lic-1"]
    other = await client.get("/staffing/employees/dr-south/credentials", headers=own)
    assert other.status_code == 404
    cannot = await client.post(
        "/staffing/employees/dr-north/credentials", json=licence(), headers=own
    )
    assert cannot.status_code == 403


BAD_INPUT: list[tuple[str, dict[str, Any], int, str | None]] = [
    (
        "/staffing/employees/dr-north/credentials",
        licence(expires_on="2024-11-30"),
        422,
        "before issued_on",
    ),
    ("/staffing/employees/dr-north/credentials", licence(kind="tattoo_licence"), 422, None),
    ("/staffing/employees/dr-north/credentials", licence(state=None), 422, "names the state"),
    ("/staffing/employees/dr-north/credentials", licence(state="New York"), 422, None),
    ("/staffing/employees/dr-north/credentials", licence(issued_on="someday"), 422, None),
    ("/staffing/employees/dr-north/credentials", licence(color="red"), 422, None),
    ("/staffing/employees/nobody/credentials", licence(), 404, "employee nobody"),
    (
        "/staffing/credentials/lic-1/renewal",
        {"expires_on": "2026-12-01"},
        422,
        "after the current",
    ),
    (
        "/staffing/credentials/lic-1/revocation",
        {"effective_on": "2020-01-01", "reason": "x"},
        422,
        "before issued_on",
    ),
    (
        "/staffing/credentials/lic-1/verifications",
        {"source": "x", "result": "maybe"},
        422,
        None,
    ),
    ("/staffing/credentials/nothing/renewal", {"expires_on": "2030-01-01"}, 404, None),
    (
        "/staffing/employees/rn-north/enrolments",
        {"payer_id": "aetna", "status": "applied", "effective_from": "2026-12-01"},
        422,
        "only providers",
    ),
    (
        "/staffing/employees/dr-north/enrolments",
        {"payer_id": "aetna", "status": "enrolled", "effective_from": "2026-12-01"},
        409,
        None,
    ),
    (
        "/staffing/employees/dr-north/enrolments",
        {
            "payer_id": "aetna",
            "status": "applied",
            "effective_from": "2026-12-01",
            "effective_until": "2026-01-01",
        },
        422,
        "before effective_from",
    ),
    (
        "/staffing/employees/nobody/enrolments",
        {"payer_id": "aetna", "status": "applied", "effective_from": "2026-12-01"},
        404,
        None,
    ),
]


async def test_bad_input_answers_4xx_and_writes_nothing(
    suite: Suite, client: httpx.AsyncClient, people: dict[str, str]
) -> None:
    await record(client, "dr-north", credential_id="lic-1")  # expires 2026-12-20

    async def refused(case: tuple[str, dict[str, Any], int, str | None]) -> None:
        path, body, status, detail = case
        before = await staffing_events(suite)
        response = await client.post(path, json=body)
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        if detail is not None:
            assert detail in response.text
        assert await staffing_events(suite) == before

    await settled(suite)  # nothing appended in the background meanwhile
    await every_case_holds(BAD_INPUT, refused)


async def test_a_manager_changes_only_their_sites_staffs_credentials(
    suite: Suite, client: httpx.AsyncClient, people: dict[str, str], token_for: TokenFor
) -> None:
    await record(client, "dr-south", credential_id="lic-s")
    before = await staffing_events(suite)
    north = token_for("manager", sites=["north"])
    refused = await client.post(
        "/staffing/employees/dr-south/credentials", json=licence(), headers=north
    )
    assert refused.status_code == 404
    renew = await client.post(
        "/staffing/credentials/lic-s/renewal", json={"expires_on": "2030-01-01"}, headers=north
    )
    assert renew.status_code == 404
    assert await staffing_events(suite) == before
    allowed = await client.post(
        "/staffing/employees/dr-north/credentials", json=licence(), headers=north
    )
    assert allowed.status_code == 201, allowed.text


async def test_payer_enrolment_moves_along_its_lifecycle(
    client: httpx.AsyncClient, people: dict[str, str], token_for: TokenFor
) -> None:
    path = "/staffing/employees/dr-north/enrolments"
    applied = await post_ok(
        client, path, {"payer_id": "aetna", "status": "applied", "effective_from": "2026-12-01"}
    )
    enrolled = await post_ok(
        client, path, {"payer_id": "aetna", "status": "enrolled", "effective_from": "2027-01-01"}
    )
    assert enrolled["id"] == applied["id"]
    assert (enrolled["stream"], enrolled["stream_version"]) == ("acme:enrolment:dr-north:aetna", 2)
    await post_ok(
        client,
        "/staffing/employees/dr-south/enrolments",
        {"payer_id": "aetna", "status": "applied", "effective_from": "2026-12-01"},
    )
    last = await post_ok(
        client, path, {"payer_id": "cigna", "status": "applied", "effective_from": "2026-12-01"}
    )
    backwards = await client.post(
        path, json={"payer_id": "aetna", "status": "applied", "effective_from": "2027-02-01"}
    )
    assert backwards.status_code == 409

    mine = await read(client, path, enrolled)
    aetna = next(e for e in mine["enrolments"] if e["payer_id"] == "aetna")
    assert (aetna["status"], aetna["effective_from"]) == ("enrolled", "2027-01-01")
    assert [h["status"] for h in aetna["history"]] == ["applied", "enrolled"]
    listed = await read(client, "/staffing/enrolments?payer_id=aetna&status=applied", last)
    assert [e["employee_id"] for e in listed["enrolments"]] == ["dr-south"]
    biller = await read(client, "/staffing/enrolments?status=applied", last, **token_for("biller"))
    assert sorted((e["employee_id"], e["payer_id"]) for e in biller["enrolments"]) == [
        ("dr-north", "cigna"),
        ("dr-south", "aetna"),
    ]
    north = await read(
        client, "/staffing/enrolments", last, **token_for("manager", sites=["north"])
    )
    assert {e["employee_id"] for e in north["enrolments"]} == {"dr-north"}
    refused = await client.post(
        path,
        json={"payer_id": "x", "status": "applied", "effective_from": "2026-12-01"},
        headers=token_for("manager", sites=["north"]),
    )
    assert refused.status_code == 403


async def test_the_daily_sweep_reminds_once_per_threshold_on_both_backends(
    suite: Suite, client: httpx.AsyncClient, people: dict[str, str], clock: ShiftedClock
) -> None:
    """The service's sweep timer, fired by hand: the tightest threshold due today, once; the
    next one when its day comes; none for a revoked credential."""
    [sweep] = [w for w in suite.service("staffing").workers if isinstance(w, CredentialSweepTimer)]
    await record(client, "dr-north", credential_id="soon", expires_on="2026-12-06")  # 10 days
    await record(client, "dr-north", credential_id="later", expires_on="2027-02-24")  # 90 days
    await record(client, "dr-north", credential_id="far", expires_on="2027-06-30")
    made = await record(client, "dr-south", credential_id="gone", expires_on="2026-12-06")
    made = await post_ok(
        client,
        "/staffing/credentials/gone/revocation",
        {"effective_on": "2026-11-26", "reason": "surrendered"},
    )
    await read(client, "/staffing/credentials/gone", made)

    await wait_until(lambda: _settled_sweep(client, {"soon", "later", "far"}))
    assert await sweep.fire_due() == 2
    soon = await wait_until(lambda: _reminded(client, "soon"))
    assert soon == {"threshold_days": 30, "reminded_on": "2026-11-26"}
    later = await wait_until(lambda: _reminded(client, "later"))
    assert later is not None
    assert later["threshold_days"] == 90
    assert await sweep.fire_due() == 0  # the same day again

    clock.shift = timedelta(days=11)  # 2026-12-07: "soon" expired yesterday, "later" at 79 days
    assert await sweep.fire_due() == 1
    expired = await wait_until(lambda: _reminded(client, "soon", threshold=0))
    assert expired == {"threshold_days": 0, "reminded_on": "2026-12-07"}
    for credential_id in ("far", "gone"):
        got = (await client.get(f"/staffing/credentials/{credential_id}")).json()
        assert got["last_reminder"] is None


async def _settled_sweep(client: httpx.AsyncClient, ids: set[str]) -> bool:
    """Every one of `ids` in the read model, as the sweep reads it."""
    for credential_id in ids:
        if (await client.get(f"/staffing/credentials/{credential_id}")).status_code != 200:
            return False
    return True


async def _reminded(
    client: httpx.AsyncClient, credential_id: str, threshold: int | None = None
) -> dict[str, Any] | None:
    got = (await client.get(f"/staffing/credentials/{credential_id}")).json()
    last: dict[str, Any] | None = got["last_reminder"]
    if last is None or (threshold is not None and last["threshold_days"] != threshold):
        return None
    return last
