"""Demo data for a multi-site group, tenant `demo`: seeded once, through the public API."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
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

# Fictional people: any likeness is chance.
PATIENTS = [
    {"patient_id": f"demo-patient-{n}", "name": name, "birth_date": born, "phone": phone}
    for n, (name, born, phone) in enumerate(
        [
            ("Maria Alvarez", "1968-04-12", "555-0101"),
            ("Tom Becker", "1990-09-30", "555-0102"),
            ("Aiko Sato", "2015-02-08", "555-0103"),
            ("Samuel Osei", "1954-11-21", "555-0104"),
            ("Priya Nair", "1983-06-05", "555-0105"),
            ("Liam O'Connor", "2019-12-17", "555-0106"),
            ("Grace Kim", "1977-03-29", "555-0107"),
        ],
        start=1,
    )
]
COVERAGES = [
    ("demo-patient-1", "Blue Harbor Health", "BHH-100234"),
    ("demo-patient-4", "Medicare", "1EG4-TE5-MK72"),
    ("demo-patient-5", "Acme Mutual", "AM-88-2231"),
]
# What a completed visit recorded: office visit, established patient; its diagnosis.
VISIT_CODES = {"procedures": ["99213"], "diagnoses": ["I10"]}

Post = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]

log = structlog.get_logger(__name__)


async def _rooms_listed(client: httpx.AsyncClient, timeout: float = 30.0) -> None:
    """Bookings that name no room pick one from the directory read model: on Kafka it may
    trail the rooms just added by a moment, so wait (bounded) until it lists them all."""
    wanted = sum(len(rooms) for rooms in ROOMS.values())
    async with asyncio.timeout(timeout):
        while len((await client.get("/scheduling/rooms")).json()) < wanted:  # noqa: ASYNC110
            await asyncio.sleep(0.1)


def weekdays(now: datetime, zone: ZoneInfo, step: int, count: int) -> list[date]:
    """The next `count` weekdays after (step 1) or before (step -1) `now`'s local date."""
    found: list[date] = []
    day = now.astimezone(zone).date()
    while len(found) < count:
        day += timedelta(days=step)
        if day.weekday() < 5:
            found.append(day)
    return found


async def _book(
    post: Post,
    provider_id: str,
    site_id: str,
    zone: ZoneInfo,
    day: date,
    hour: int,
    slot: int,
    n: int,
) -> str:
    booked = await post(
        "/scheduling/appointments",
        {
            "patient_id": f"demo-patient-{n % 7 + 1}",
            "provider_id": provider_id,
            "site_id": site_id,
            "visit_type_id": VISIT_TYPES[slot]["visit_type_id"],
            "start": datetime.combine(day, time(hour), zone).isoformat(),
        },
    )
    return str(booked["id"])


async def _appointments(post: Post, now: datetime) -> None:
    """Last weekday's visits (completed, a no-show, a late cancellation), the next three
    weekdays' bookings, a weekly series, a waitlist with an offer, today's walk-ins."""
    zones = {s["site_id"]: ZoneInfo(s["time_zone"]) for s in SITES}
    upcoming: dict[str, list[str]] = {}
    for provider in PROVIDERS:
        site_id = provider["site_ids"][0]
        zone = zones[site_id]

        at = (post, str(provider["provider_id"]), site_id, zone)
        [last] = weekdays(now, zone, -1, 1)
        done, missed, cancelled = [
            await _book(*at, last, h, s, s) for s, h in enumerate((9, 10, 11))
        ]
        for step, body in (("check-in", {}), ("room", {}), ("complete", VISIT_CODES)):
            await post(f"/scheduling/appointments/{done}/{step}", body)
        await post(f"/scheduling/appointments/{missed}/no-show", {})
        await post(f"/scheduling/appointments/{cancelled}/cancel", {"reason": "Car trouble"})
        for day_n, day in enumerate(weekdays(now, zone, 1, 3)):
            for slot, hour in enumerate((9, 10, 11)):
                booked = await _book(*at, day, hour, slot, day_n * 3 + slot)
                upcoming.setdefault(str(provider["provider_id"]), []).append(booked)
    first = weekdays(now, zones["north"], 1, 1)[0]
    # Two patients wait for a follow-up at north; a cancellation offers the first one its slot.
    for patient_id in ("demo-patient-3", "demo-patient-6"):
        await post(
            "/scheduling/sites/north/waitlist",
            {
                "patient_id": patient_id,
                "visit_type_id": "follow-up",
                "earliest": first.isoformat(),
                "latest": (first + timedelta(days=14)).isoformat(),
            },
        )
    follow_up = upcoming["dr-lindqvist"][1]  # the first weekday's 10:00 follow-up
    await post(f"/scheduling/appointments/{follow_up}/cancel", {"reason": "Feeling better"})
    await post(
        "/scheduling/appointment-series",
        {
            "patient_id": "demo-patient-4",
            "provider_id": "dr-lindqvist",
            "site_id": "north",
            "visit_type_id": "follow-up",
            "first_start": datetime.combine(first, time(15), zones["north"]).isoformat(),
            "every_weeks": 1,
            "count": 6,
        },
    )
    for patient_id, urgency, complaint in (
        ("demo-patient-2", 4, "Sore throat for three days"),
        ("demo-patient-7", 2, "Chest tightness since this morning"),
    ):
        await post(
            "/scheduling/sites/north/triage",
            {"patient_id": patient_id, "urgency": urgency, "chief_complaint": complaint},
        )


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
        now=datetime.now(UTC),  # the token is checked against the real clock
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
                    "valid_from": (now - timedelta(days=730)).date().isoformat(),
                    "valid_until": (now + timedelta(days=1095)).date().isoformat(),
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
                        "effective_from": (now - timedelta(days=730)).date().isoformat(),
                    },
                )
        await _rooms_listed(client)
        for patient in PATIENTS:
            await post("/scheduling/patients", patient)
        for patient_id, payer, member_id in COVERAGES:
            await post(
                f"/scheduling/patients/{patient_id}/coverage",
                {
                    "payer_id": payer.lower().replace(" ", "-"),
                    "payer_name": payer,
                    "plan": "PPO",
                    "relationship": "self",
                    "member_id": member_id,
                },
            )
        await _appointments(post, now)
    log.info("demo_seeded", tenant=TENANT)
    return True
