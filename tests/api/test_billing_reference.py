"""Billing's reference data through the HTTP API on both backends: payers and plans, billing
providers per site, fee schedule versions and the fee in force on a day; who may read and
change them; hostile input answering 4xx problem+json with nothing written."""

from __future__ import annotations

from typing import Any

import httpx

from services.suite import Suite
from tests.api.conftest import TokenFor, post_ok
from tests.api.test_bad_input import PROBLEM
from tests.support import every_case_holds, settled

PAYER = {"name": "Acme Mutual", "x12_payer_id": "AM001", "claim_filing_indicator": "CI"}
STREET = {
    "line1": "1 Main St",
    "line2": "",
    "city": "Albany",
    "state": "NY",
    "postal_code": "12207",
}
PROVIDER = {
    "name": "Northside Medical Group",
    "npi": "1234567893",
    "tin": "123456789",
    "taxonomy_code": "207Q00000X",
    "address": STREET,
    "place_of_service": "11",
    "facility_name": "Northside Family Clinic",
    "facility_address": {**STREET, "line1": "5 Clinic Rd", "postal_code": "122071234"},
}
FEES = [
    {"code": "99213", "amount_cents": 12_000},
    {"code": "99213", "modifier": "25", "amount_cents": 12_500},
    {"code": "36415", "amount_cents": 1_500},
]


async def billing_events(suite: Suite) -> int:
    store = suite.service("billing").event_store
    assert store is not None
    return sum(len(c.events) for c in await store.read_all(0, 10_000))


async def put_ok(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.put(path, json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def read(client: httpx.AsyncClient, path: str, made: dict[str, Any], **params: Any) -> Any:
    """GET `path` once it includes the change `made` (read-your-writes)."""
    after = {"after_stream": made["stream"], "after_version": made["stream_version"]}
    response = await client.get(path, params={**params, **after})
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_payer_with_plans_is_defined_read_and_changed(client: httpx.AsyncClient) -> None:
    made = await put_ok(client, "/billing/payers/acme-mutual", PAYER)
    assert made == {"id": "acme-mutual", "stream": "acme:payer:acme-mutual", "stream_version": 1}
    again = await put_ok(client, "/billing/payers/acme-mutual", PAYER)
    assert again["stream_version"] == 1  # the same definition changes nothing
    plan = await post_ok(
        client,
        "/billing/payers/acme-mutual/plans",
        {"plan_id": "advantage", "name": "Advantage", "claim_filing_indicator": "16"},
    )
    assert (plan["id"], plan["stream_version"]) == ("advantage", 2)
    renamed = await put_ok(client, "/billing/payers/acme-mutual", {**PAYER, "name": "Acme"})

    payer = await read(client, "/billing/payers/acme-mutual", renamed)
    assert payer["name"] == "Acme"
    assert payer["claim_filing_indicator"] == "CI"
    assert [p["plan_id"] for p in payer["plans"]] == ["advantage"]
    assert "tenant" not in payer
    listed = await read(client, "/billing/payers", renamed)
    assert [p["payer_id"] for p in listed["payers"]] == ["acme-mutual"]


async def test_a_sites_billing_provider_is_set_and_read_by_its_manager_only(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    made = await put_ok(client, "/billing/sites/north/billing-provider", PROVIDER)
    assert made["stream"] == "acme:billing-provider:north"
    south = await put_ok(
        client, "/billing/sites/south/billing-provider", {**PROVIDER, "place_of_service": "22"}
    )

    provider = await read(client, "/billing/sites/north/billing-provider", made)
    assert {k: provider[k] for k in PROVIDER} == PROVIDER
    assert provider["site_id"] == "north"
    everyone = await read(client, "/billing/billing-providers", south)
    assert [p["site_id"] for p in everyone["billing_providers"]] == ["north", "south"]

    manager = token_for("manager", sites=["north"])
    mine = await client.get("/billing/billing-providers", headers=manager)
    assert [p["site_id"] for p in mine.json()["billing_providers"]] == ["north"]
    assert (await client.get("/billing/sites/north/billing-provider", headers=manager)).is_success
    theirs = await client.get("/billing/sites/south/billing-provider", headers=manager)
    assert theirs.status_code == 403
    # Nor may a manager learn how far another site's stream is.
    peek = await client.get(
        "/billing/sites/north/billing-provider",
        params={"after_stream": south["stream"], "after_version": 9},
        headers=manager,
    )
    assert peek.status_code == 403
    assert "version" not in peek.text
    biller = token_for("biller", sites=["north"])  # billers work tenant-wide
    assert (await client.get("/billing/sites/south/billing-provider", headers=biller)).is_success
    missing = await client.get("/billing/sites/east/billing-provider")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM


async def test_fee_schedule_versions_and_the_fee_in_force_on_a_day(
    client: httpx.AsyncClient,
) -> None:
    await put_ok(client, "/billing/payers/acme-mutual", PAYER)
    first = await post_ok(
        client,
        "/billing/fee-schedules/acme-mutual/versions",
        {"effective_from": "2026-01-01", "fees": FEES},
    )
    assert (first["id"], first["stream"]) == ("1", "acme:fee-schedule:acme-mutual")
    second = await post_ok(
        client,
        "/billing/fee-schedules/acme-mutual/versions",
        {"effective_from": "2027-01-01", "fees": [{"code": "99213", "amount_cents": 13_000}]},
    )
    assert (second["id"], second["stream_version"]) == ("2", 2)
    again = await client.post(
        "/billing/fee-schedules/acme-mutual/versions",
        json={"effective_from": "2027-01-01", "fees": [{"code": "99213", "amount_cents": 13_000}]},
    )
    assert again.status_code == 409, again.text

    schedule = await read(client, "/billing/fee-schedules/acme-mutual", second)
    assert schedule["in_force_today"] == 1  # the test run's today: 26 Nov 2026
    assert [(v["schedule_version"], v["fee_count"]) for v in schedule["versions"]] == [
        (1, 3),
        (2, 1),
    ]
    version = await read(client, "/billing/fee-schedules/acme-mutual/versions/1", second)
    assert version["fees"] == [{"modifier": "", **f} for f in FEES[:1]] + [
        FEES[1],
        {"modifier": "", **FEES[2]},
    ]

    async def fee(**params: str) -> httpx.Response:
        return await client.get("/billing/fee-schedules/acme-mutual/fee", params=params)

    today = (await fee(code="99213")).json()
    assert (today["schedule_version"], today["amount_cents"], today["on"]) == (
        1,
        12_000,
        "2026-11-26",
    )
    assert (await fee(code="99213", modifier="25", on="2026-06-01")).json()[
        "amount_cents"
    ] == 12_500
    assert (await fee(code="99213", on="2027-01-01")).json()["amount_cents"] == 13_000
    assert (await fee(code="99213", modifier="25", on="2027-03-01")).json()[
        "amount_cents"
    ] == 13_000
    assert (await fee(code="36415", on="2027-03-01")).status_code == 404  # not in version 2
    before = await fee(code="99213", on="2025-12-31")
    assert before.status_code == 404
    assert (
        before.json()["detail"] == "no fee schedule of payer acme-mutual is in force on 2025-12-31"
    )
    assert (await fee(code="9921")).status_code == 422
    assert (await fee(code="99213", modifier="2")).status_code == 422


async def test_self_pay_has_a_fee_schedule_without_a_payer(client: httpx.AsyncClient) -> None:
    made = await post_ok(
        client,
        "/billing/fee-schedules/self-pay/versions",
        {"effective_from": "2026-01-01", "fees": FEES},
    )
    fee = await read(client, "/billing/fee-schedules/self-pay/fee", made, code="36415")
    assert fee["amount_cents"] == 1_500
    refused = await client.put("/billing/payers/self-pay", json=PAYER)
    assert refused.status_code == 422
    assert refused.json()["detail"] == "payer id self-pay is built in (the self-pay fee schedule)"


# The one allowed change writes the payer: it comes last, so every refusal before it meets
# the same fresh suite (no payer yet) that it met with a suite of its own.
CHANGERS: list[tuple[str, int]] = [
    ("auditor", 403),
    ("manager", 403),
    ("front_desk", 403),
    ("clinician", 403),
    ("hr", 403),
    ("staff", 403),
    ("biller", 200),
]


async def test_only_admins_and_billers_change_reference_data(
    client: httpx.AsyncClient, token_for: TokenFor, suite: Suite
) -> None:
    async def decided(case: tuple[str, int]) -> None:
        role, status = case
        before = await billing_events(suite)
        response = await client.put(
            "/billing/payers/acme-mutual", json=PAYER, headers=token_for(role, sites=["north"])
        )
        assert response.status_code == status, response.text
        assert await billing_events(suite) == before + (1 if status == 200 else 0)

    await settled(suite)  # nothing appended in the background meanwhile
    await every_case_holds(CHANGERS, decided)


READERS: list[tuple[str, int]] = [
    ("biller", 200),
    ("auditor", 200),
    ("manager", 200),
    ("front_desk", 403),
    ("clinician", 403),
    ("hr", 403),
    ("staff", 403),
]


async def test_who_reads_payers_and_fee_schedules(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    async def answered(case: tuple[str, int]) -> None:
        role, status = case
        headers = token_for(role, sites=["north"])
        assert (await client.get("/billing/payers", headers=headers)).status_code == status
        fee = await client.get("/billing/fee-schedules/x/fee?code=99213", headers=headers)
        assert fee.status_code == (404 if status == 200 else 403)

    await every_case_holds(READERS, answered)


def bad_provider(**change: Any) -> dict[str, Any]:
    return {**PROVIDER, **change}


def bad_fees(*fees: dict[str, Any], effective_from: str = "2026-01-01") -> dict[str, Any]:
    return {"effective_from": effective_from, "fees": list(fees)}


PUT, POST = "PUT", "POST"
HOSTILE: list[tuple[str, str, Any, int, str | None]] = [
    # payers
    (PUT, "/billing/payers/acme-mutual", {**PAYER, "x12_payer_id": "A"}, 422, "2 to 80"),
    (PUT, "/billing/payers/acme-mutual", {**PAYER, "x12_payer_id": "AM 001"}, 422, "2 to 80"),
    (PUT, "/billing/payers/acme-mutual", {**PAYER, "x12_payer_id": "A" * 81}, 422, None),
    (PUT, "/billing/payers/acme-mutual", {**PAYER, "claim_filing_indicator": "XX"}, 422, "SBR09"),
    (PUT, "/billing/payers/acme-mutual", {**PAYER, "name": ""}, 422, None),
    (PUT, "/billing/payers/acme-mutual", {**PAYER, "name": "   "}, 422, "needs a name"),
    (PUT, "/billing/payers/acme-mutual", {**PAYER, "extra": 1}, 422, None),
    (PUT, "/billing/payers/acme-mutual", {**PAYER, "name": ["A"]}, 422, None),
    (PUT, "/billing/payers/..%2Fetc", PAYER, 404, None),
    (PUT, "/billing/payers/a b", PAYER, 422, None),
    (PUT, "/billing/payers/self-pay", PAYER, 422, "built in"),
    (PUT, "/billing/payers/acme-mutual", "not an object", 422, None),
    # plans
    (POST, "/billing/payers/nobody/plans", {"plan_id": "p", "name": "P"}, 404, "payer nobody"),
    (POST, "/billing/payers/known/plans", {"plan_id": "p/q", "name": "P"}, 422, None),
    (
        POST,
        "/billing/payers/known/plans",
        {"plan_id": "p", "name": "P", "claim_filing_indicator": "77"},
        422,
        "SBR09",
    ),
    # billing providers
    (PUT, "/billing/sites/north/billing-provider", bad_provider(npi="1234567890"), 422, "NPI"),
    (
        PUT,
        "/billing/sites/north/billing-provider",
        bad_provider(npi="12345678901234567"),
        422,
        None,
    ),
    (PUT, "/billing/sites/north/billing-provider", bad_provider(tin="12-345678"), 422, "TIN"),
    (
        PUT,
        "/billing/sites/north/billing-provider",
        bad_provider(taxonomy_code="207Q"),
        422,
        "taxonomy",
    ),
    (
        PUT,
        "/billing/sites/north/billing-provider",
        bad_provider(place_of_service="30"),
        422,
        "place of service",
    ),
    (
        PUT,
        "/billing/sites/north/billing-provider",
        bad_provider(address={**STREET, "state": "XX"}),
        422,
        "state",
    ),
    (
        PUT,
        "/billing/sites/north/billing-provider",
        bad_provider(address={**STREET, "postal_code": "1220"}),
        422,
        "ZIP",
    ),
    (
        PUT,
        "/billing/sites/north/billing-provider",
        bad_provider(address={**STREET, "line1": "PO Box 4"}),
        422,
        "PO box",
    ),
    (PUT, "/billing/sites/north/billing-provider", bad_provider(address=None), 422, None),
    (
        PUT,
        "/billing/sites/north/billing-provider",
        bad_provider(facility_address={**STREET, "country": "US"}),
        422,
        None,
    ),
    # fee schedules
    (POST, "/billing/fee-schedules/nobody/versions", bad_fees(FEES[0]), 404, "payer nobody"),
    (POST, "/billing/fee-schedules/known/versions", bad_fees(), 422, "at least one fee"),
    (
        POST,
        "/billing/fee-schedules/known/versions",
        bad_fees({"code": "9921", "amount_cents": 1}),
        422,
        "CPT",
    ),
    (
        POST,
        "/billing/fee-schedules/known/versions",
        bad_fees({"code": "99213", "modifier": "x", "amount_cents": 1}),
        422,
        "modifier",
    ),
    (
        POST,
        "/billing/fee-schedules/known/versions",
        bad_fees({"code": "99213", "amount_cents": -1}),
        422,
        "from 0",
    ),
    (
        POST,
        "/billing/fee-schedules/known/versions",
        bad_fees({"code": "99213", "amount_cents": 10**12}),
        422,
        "from 0",
    ),
    (
        POST,
        "/billing/fee-schedules/known/versions",
        bad_fees({"code": "99213", "amount_cents": 1.5}),
        422,
        None,
    ),
    (
        POST,
        "/billing/fee-schedules/known/versions",
        bad_fees({"code": "99213", "amount_cents": "100"}),
        422,
        None,
    ),
    (
        POST,
        "/billing/fee-schedules/known/versions",
        bad_fees({"code": "99213", "amount_cents": True}),
        422,
        None,
    ),
    (
        POST,
        "/billing/fee-schedules/known/versions",
        bad_fees(FEES[0], FEES[0]),
        422,
        "listed twice",
    ),
    (
        POST,
        "/billing/fee-schedules/known/versions",
        bad_fees(FEES[0], effective_from="1066-10-14"),
        422,
        None,
    ),
    (
        POST,
        "/billing/fee-schedules/known/versions",
        bad_fees(FEES[0], effective_from="soon"),
        422,
        None,
    ),
    (POST, "/billing/fee-schedules/known/versions", {"fees": [FEES[0]]}, 422, None),
]


async def test_hostile_input_answers_4xx_problem_json_and_writes_nothing(
    client: httpx.AsyncClient, suite: Suite
) -> None:
    await put_ok(client, "/billing/payers/known", {**PAYER, "name": "Known"})

    async def refused(case: tuple[str, str, Any, int, str | None]) -> None:
        method, path, body, status, detail = case
        before = await billing_events(suite)
        response = await client.request(method, path, json=body)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == PROBLEM
        if detail is not None:
            assert detail in response.json()["detail"]
        assert await billing_events(suite) == before

    await settled(suite)  # nothing appended in the background meanwhile
    await every_case_holds(HOSTILE, refused)


async def test_an_after_stream_of_another_kind_or_tenant_is_a_400(
    client: httpx.AsyncClient,
) -> None:
    for stream in ("acme:payer:x", "globex:fee-schedule:x", "acme:fee-schedule:"):
        response = await client.get(
            "/billing/fee-schedules/x", params={"after_stream": stream, "after_version": 1}
        )
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == PROBLEM
    beyond = await client.get(
        "/billing/payers", params={"after_stream": "acme:payer:x", "after_version": 1}
    )
    assert beyond.status_code == 422
    assert beyond.json()["detail"] == (
        "stream acme:payer:x is at version 0; after_version 1 does not exist"
    )
