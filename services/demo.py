"""Demo data for a multi-site group, tenant `demo`: seeded once, through the public API."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import structlog
from fastapi import FastAPI

from shared.documents.port import Write
from shared.http.identity import mint_token
from shared.settings import Settings

TENANT = "demo"
MARKER = "_demo_seed"

SITES = [
    {"site_id": "north", "name": "Northside Family Clinic", "time_zone": "America/New_York"},
    {"site_id": "lake", "name": "Lakeview Pediatrics", "time_zone": "America/Chicago"},
    {"site_id": "bay", "name": "Bayside Internal Medicine", "time_zone": "America/Los_Angeles"},
]
ROOMS = {
    "north": ["Exam 1", "Exam 2", "Procedure"],
    "lake": ["Exam A", "Exam B"],
    "bay": ["Room 101", "Room 102"],
}
PROVIDERS = [
    {"provider_id": "dr-okafor", "name": "Dr. Ada Okafor", "site_ids": ["north", "lake"]},
    {"provider_id": "dr-lindqvist", "name": "Dr. Erik Lindqvist", "site_ids": ["north"]},
    {"provider_id": "np-haddad", "name": "Nadia Haddad, NP", "site_ids": ["lake"]},
    {"provider_id": "dr-tanaka", "name": "Dr. Ken Tanaka", "site_ids": ["bay"]},
]
VISIT_TYPES = [
    {"visit_type_id": "new-patient", "name": "New patient visit", "duration_minutes": 40},
    {"visit_type_id": "follow-up", "name": "Follow-up", "duration_minutes": 20},
    {"visit_type_id": "annual", "name": "Annual physical", "duration_minutes": 30},
]

log = structlog.get_logger(__name__)


async def seed_demo(app: FastAPI, settings: Settings, today: datetime | None = None) -> bool:
    """Seed the demo group unless it was seeded before; True when it seeded now."""
    claimed = await app.state.idempotency.write(
        MARKER, [Write(doc_id=TENANT, doc={"seeded": True}, expected_rev=0)]
    )
    if claimed:
        return False
    now = today or datetime.now(UTC)
    token = mint_token(
        settings.jwt_secret,
        issuer=settings.jwt_issuer,
        subject="demo-seed",
        tenant=TENANT,
        roles=["admin"],
        sites=None,
        now=now,
    )
    headers = {"authorization": f"Bearer {token}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://demo", headers=headers
    ) as client:

        async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = await client.post(path, json=body)
            response.raise_for_status()
            result: dict[str, Any] = response.json()
            return result

        for site in SITES:
            await post("/scheduling/sites", site)
            for n, room in enumerate(ROOMS[site["site_id"]], start=1):
                await post(
                    f"/scheduling/sites/{site['site_id']}/rooms",
                    {"room_id": f"{site['site_id']}-{n}", "name": room},
                )
        for visit_type in VISIT_TYPES:
            await post("/scheduling/visit-types", visit_type)
        for provider in PROVIDERS:
            await post("/scheduling/providers", provider)
            provider_id = provider["provider_id"]
            await post(
                f"/scheduling/providers/{provider_id}/licences",
                {
                    "kind": "state medical licence",
                    "valid_from": "2024-01-01",
                    "valid_until": "2030-12-31",
                },
            )
            # Mornings at the first site, afternoons at the second: never two places at once.
            for n, site_id in enumerate(provider["site_ids"]):
                opens, closes = ("08:00", "12:30") if n == 0 else ("13:00", "17:30")
                if len(provider["site_ids"]) == 1:
                    opens, closes = "08:00", "17:30"
                await post(
                    f"/scheduling/providers/{provider_id}/availability",
                    {
                        "site_id": site_id,
                        "windows": [
                            {"weekday": d, "start": opens, "end": closes} for d in range(5)
                        ],
                        "effective_from": "2024-01-01",
                    },
                )
        zones = {s["site_id"]: ZoneInfo(s["time_zone"]) for s in SITES}
        for provider in PROVIDERS:
            site_id = provider["site_ids"][0]
            local_days: list[date] = []
            ahead = 1
            while len(local_days) < 3:  # the next three weekdays
                local_day = (now + timedelta(days=ahead)).astimezone(zones[site_id]).date()
                ahead += 1
                if local_day.weekday() < 5:
                    local_days.append(local_day)
            for day, local_day in enumerate(local_days):
                for slot, hour in enumerate((9, 10, 11)):
                    start = datetime.combine(local_day, time(hour), zones[site_id])
                    await post(
                        "/scheduling/appointments",
                        {
                            "patient_id": f"demo-patient-{(day * 3 + slot) % 7 + 1}",
                            "provider_id": provider["provider_id"],
                            "site_id": site_id,
                            "visit_type_id": VISIT_TYPES[slot]["visit_type_id"],
                            "start": start.isoformat(),
                        },
                    )
    log.info("demo_seeded", tenant=TENANT)
    return True
