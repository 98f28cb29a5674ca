"""The demo data seeds once and exercises scheduling: a board, a series, triage, no-shows."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.demo import MARKER, TENANT, _learnt, seed_demo, weekdays
from services.suite import Suite
from shared.documents.port import Write, put
from shared.settings import Settings
from tests.api.conftest import ShiftedClock, TokenFor
from tests.support import settled, wait_until

NEW_YORK = ZoneInfo("America/New_York")


async def test_the_demo_group_seeds_once_and_shows_a_working_week(
    suite: Suite, settings: Settings, token_for: TokenFor, clock: ShiftedClock
) -> None:
    now = clock.now()  # the waitlist offers only slots still ahead: the suite's clock
    assert await seed_demo(suite.app, settings, today=now) is True
    assert await seed_demo(suite.app, settings, today=now) is False
    await check_the_demo(suite, token_for, now)


async def test_a_seeding_cut_short_is_finished_without_doubling(
    suite: Suite, settings: Settings, token_for: TokenFor, clock: ShiftedClock
) -> None:
    """The worst moments for a crash, all at once: every request was answered, and no
    booking still open was noted by the seeding (a crash between a booking and its note). The
    next start sends every request again; the demo ends as it would have, each visit once."""
    now = clock.now()
    assert await seed_demo(suite.app, settings, today=now) is True
    store = suite.app.state.idempotency
    noted = {d["_id"]: d["appointment_id"] for d in await store.find(MARKER) if d["_id"] != TENANT}
    assert len(noted) > 40  # every booking of the demo was noted
    await settled(suite)  # the statuses read below are the read model's: let it hold them all
    transport = httpx.ASGITransport(app=suite.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://demo", headers=token_for(tenant="demo")
    ) as client:

        async def status(appointment_id: str) -> str | None:
            response = await client.get(f"/scheduling/appointments/{appointment_id}")
            found: str | None = response.json().get("status")
            return found if response.status_code == 200 else None

        statuses = {k: await wait_until(lambda a=a: status(a)) for k, a in noted.items()}  # type: ignore[misc]
    # Only a booking nothing else happened to yet can be the one a crash left unnoted.
    unnoted = [k for k, s in statuses.items() if s == "booked"]
    assert len(unnoted) > 30
    assert await store.write(MARKER, [Write(doc_id=k, doc=None) for k in unnoted]) == []
    await put(store, MARKER, TENANT, {"state": "seeding", "now": now.isoformat()})

    assert await seed_demo(suite.app, settings, today=now) is True
    assert await seed_demo(suite.app, settings, today=now) is False
    await check_the_demo(suite, token_for, now)
    again = {d["_id"]: d["appointment_id"] for d in await store.find(MARKER) if d["_id"] != TENANT}
    assert again == noted  # each booking found again, none made twice


async def check_the_demo(suite: Suite, token_for: TokenFor, now: datetime) -> None:
    """The demo's week as seeded at `now`: every visit once, the series, triage, the waitlist."""
    [last] = weekdays(now, NEW_YORK, -1, 1)
    [next_day] = weekdays(now, NEW_YORK, 1, 1)
    transport = httpx.ASGITransport(app=suite.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://demo", headers=token_for(tenant="demo")
    ) as client:

        async def get(path: str, **params: Any) -> Any:
            response = await client.get(path, params=params)
            assert response.status_code == 200, response.text
            return response.json()

        async def last_thursday() -> dict[str, int]:
            board = await get(f"/scheduling/sites/north/board/{last.isoformat()}")
            counts: dict[str, int] = board["counts"]
            return counts if sum(counts.values()) == 6 else {}

        thursday = await wait_until(last_thursday, message="Thursday's board at north")
        assert thursday == {"completed": 2, "no_show": 2, "cancelled": 2}

        async def monday() -> int:
            board = await get(f"/scheduling/sites/north/board/{next_day.isoformat()}")
            return len(board["appointments"])

        # Okafor's and Lindqvist's three bookings, and the first visit of the weekly series.
        await wait_until(lambda: _is(monday(), 7), message="Monday's board at north")

        async def series() -> int:
            rows = await get("/scheduling/patients/demo-patient-4/appointments")
            return sum(1 for r in rows if r.get("series_id"))

        await wait_until(lambda: _is(series(), 6), message="the weekly series")
        await settled(suite)
        queue = await get("/scheduling/sites/north/triage-queue")
        assert [e["urgency"] for e in queue["waiting"]] == [2, 4]
        rates = await wait_until(
            lambda: get("/scheduling/no-show-rates", month=last.isoformat()[:7]),
            message="no-show rates",
        )
        assert {r["no_show_rate"] for r in rates if r["kind"] == "site"} == {0.5}

        async def offered() -> list[Any]:
            offers: list[Any] = (await get("/scheduling/sites/north/waitlist"))["offers"]
            return offers

        [offer] = await wait_until(offered, message="the waitlist offer")
        waitlist = await get("/scheduling/sites/north/waitlist")
        assert sorted(e["patient_id"] for e in waitlist["entries"]) == [
            "demo-patient-3",
            "demo-patient-6",
        ]
        assert offer["patient_id"] == "demo-patient-3"
        patient = await get("/scheduling/patients/demo-patient-1")
        assert patient["name"] == "Maria Alvarez"
        verified = await get("/compliance/audit-ledger/verify")
        assert verified["verified"] is True

        async def north_staff() -> dict[str, Any]:
            staff = await get("/staffing/sites/north/staff")
            return {e["employee_id"]: e for e in staff} if len(staff) == 4 else {}

        # Hired through staffing: the providers with their NPI, and the people at the desk.
        staff = await wait_until(north_staff, message="north's staff directory")
        assert sorted(staff) == [
            "dr-lindqvist",
            "dr-okafor",
            "front-desk-north",
            "medical-assistant-north",
        ]
        assert staff["dr-okafor"]["npi"] == "1234567893"

        async def licences() -> list[str]:
            held = await get("/staffing/employees/dr-okafor/credentials")
            return [c["kind"] for c in held["credentials"]]

        assert await wait_until(licences, message="Okafor's licence") == ["state_licence"]

        # Billing's reference data: the coverages' payers, a billing provider per site, and a
        # fee schedule per payer and for self-pay in force on the day of the completed visits.
        async def payers() -> list[str]:
            listed = (await get("/billing/payers"))["payers"]
            return [p["payer_id"] for p in listed] if len(listed) == 3 else []

        found = await wait_until(payers, message="billing's payers")
        assert found == ["acme-mutual", "blue-harbor-health", "medicare"]

        async def billing_sites() -> list[str]:
            listed = (await get("/billing/billing-providers"))["billing_providers"]
            return [p["site_id"] for p in listed] if len(listed) == 3 else []

        assert await wait_until(billing_sites, message="billing providers") == [
            "bay",
            "lake",
            "north",
        ]

        async def office_visit(payer_id: str) -> int | None:
            response = await client.get(
                f"/billing/fee-schedules/{payer_id}/fee",
                params={"code": "99213", "on": last.isoformat()},
            )
            return int(response.json()["amount_cents"]) if response.status_code == 200 else None

        for payer_id, cents in (
            ("self-pay", 11_500),
            ("medicare", 9_200),
            ("blue-harbor-health", 13_225),
            ("acme-mutual", 11_500),
        ):
            assert await wait_until(lambda p=payer_id: office_visit(p)) == cents  # type: ignore[misc]

        # Each provider's completed visit became a claim ready for a file: the providers are
        # enrolled with the payers and the patients' addresses read as N3/N4 (nothing in the
        # not-ready queue).
        async def ready_claims() -> list[str]:
            listed = (await get("/billing/claims", status="ready"))["claims"]
            return sorted(c["provider_id"] for c in listed) if len(listed) == 4 else []

        assert await wait_until(ready_claims, message="ready claims") == [
            "dr-lindqvist",
            "dr-okafor",
            "dr-tanaka",
            "np-haddad",
        ]
        assert (await get("/billing/work-queues/claims-not-ready"))["claims"] == []


async def test_the_seeding_says_which_providers_scheduling_never_learnt() -> None:
    """Scheduling learns the hired providers asynchronously: the seeding waits, bounded, and
    says who it waited for in vain rather than booking nobody."""

    def nobody(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[{"provider_id": "dr-a", "licence_ids": []}])

    async with httpx.AsyncClient(
        transport=httpx.MockTransport(nobody), base_url="http://demo"
    ) as client:
        with pytest.raises(RuntimeError, match="had not learnt providers dr-a, dr-b"):
            await _learnt(client, {"dr-a": "licence-a", "dr-b": "licence-b"}, timeout=0.2)


async def _is(value: Any, expected: int) -> bool:
    return bool(await value == expected)
