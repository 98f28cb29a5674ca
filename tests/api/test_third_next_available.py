"""Third next available appointment, measured by scheduling's timer from its open-slot search:
with a known calendar the days to the third open slot are recorded once per provider and day
as `ThirdNextAvailableMeasured`, and the office KPIs average them. On both backends."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx

from services.scheduling.application.access import HORIZON_DAYS, ThirdNextAvailableTimer
from services.scheduling.contracts import CONTRACT, ThirdNextAvailableMeasured
from services.suite import Suite
from tests.api.conftest import ShiftedClock, TokenFor
from tests.api.staffing_helpers import approve_time_off, scheduling_learnt
from tests.support import wait_until

# Thursday 26 November 2026, 21:05 in New York: the day's last slots start at 21:15 and 21:30.
EVENING = datetime(2026, 11, 27, 2, 5, tzinfo=UTC)


async def test_the_days_to_the_third_open_slot_are_measured_once_a_day_and_averaged(
    client: httpx.AsyncClient,
    clinic: dict[str, str],
    suite: Suite,
    clock: ShiftedClock,
    token_for: TokenFor,
) -> None:
    """dr-a is bookable weekdays 8:00-22:00 (30-minute visits, 15-minute steps) and off all
    Friday 27 November: the open slots from Thursday 21:05 are 21:15 and 21:30 that day, then
    Monday 30 November 8:00: the third is 4 days after the day measured."""
    request_id = await approve_time_off(
        client, "dr-a", "2026-11-27T05:00:00Z", "2026-11-28T05:00:00Z"
    )
    off = await scheduling_learnt(suite, "dr-a", "ProviderTimeOffApproved", time_off_id=request_id)

    async def friday_off() -> bool:
        params: dict[str, Any] = {
            "site_id": "north",
            "visit_type_id": "follow-up",
            "start": "2026-11-27",
            "end": "2026-11-27",
            "after_stream": off.stream,
            "after_version": off.stream_version,
        }
        found = await client.get("/scheduling/open-slots", params=params)
        return bool(found.status_code == 200 and found.json() == [])

    await wait_until(friday_off, message="Friday off in the open-slot search")
    clock.shift += EVENING - clock.now()
    scheduling = suite.service("scheduling")
    timer = next(w for w in scheduling.workers if isinstance(w, ThirdNextAvailableTimer))
    assert await timer.fire_due() == 1
    assert await timer.fire_due() == 0  # measured today already: nobody twice

    assert scheduling.event_store is not None
    recorded = await scheduling.event_store.load("acme:access-day:north:2026-11-26")
    [measured] = [CONTRACT.registry.decode(e) for e in recorded]
    assert isinstance(measured, ThirdNextAvailableMeasured)
    assert (measured.provider_id, measured.visit_type_id) == ("dr-a", "follow-up")
    assert (measured.measured_on, measured.days) == (date(2026, 11, 26), 4)
    assert measured.horizon_days == HORIZON_DAYS

    manager = token_for("manager")

    async def averaged() -> dict[str, Any]:
        params = {"month": "2026-11", "site": "north"}
        body = (await client.get("/engagement/kpis", params=params, headers=manager)).json()
        kpi: dict[str, Any] = next(k for k in body["kpis"] if k["id"] == "third_next_available")
        return kpi if kpi["denominator"] else {}

    kpi = await wait_until(averaged, timeout=30, message="the measurement in the KPIs")
    assert (kpi["value"], kpi["numerator"], kpi["denominator"]) == (4.0, 4, 1)
    assert kpi["beyond_horizon"] == 0
