"""Demo data for a multi-site group, tenant `demo`: seeded once, through the public API.

A seeding that a crash cut short is finished by the next start: every step may be sent again.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import structlog
from fastapi import FastAPI

from shared.documents.port import DocumentStore, Write, put
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
# Providers are hired through staffing (NPI, taxonomy, a state licence each); scheduling learns
# them from staffing's events.
PROVIDERS: list[dict[str, Any]] = [
    {
        "provider_id": "dr-okafor",
        "name": "Dr. Ada Okafor",
        "site_ids": ["north", "lake"],
        "role": "physician",
        "title": "Family Physician",
        "provider": {"npi": "1234567893", "taxonomy_code": "207Q00000X", "specialty": "Family"},
        "state": "NY",
    },
    {
        "provider_id": "dr-lindqvist",
        "name": "Dr. Erik Lindqvist",
        "site_ids": ["north"],
        "role": "physician",
        "title": "Internist",
        "provider": {"npi": "1987654328", "taxonomy_code": "207R00000X", "specialty": "Internal"},
        "state": "NY",
    },
    {
        "provider_id": "np-haddad",
        "name": "Nadia Haddad, NP",
        "site_ids": ["lake"],
        "role": "nurse_practitioner",
        "title": "Nurse Practitioner",
        "provider": {"npi": "1456789019", "taxonomy_code": "363LP0200X", "specialty": "Pediatrics"},
        "state": "IL",
    },
    {
        "provider_id": "dr-tanaka",
        "name": "Dr. Ken Tanaka",
        "site_ids": ["bay"],
        "role": "physician",
        "title": "Internist",
        "provider": {"npi": "1765432103", "taxonomy_code": "207R00000X", "specialty": "Internal"},
        "state": "CA",
    },
]
# Staff who see no patients under their own NPI, a front desk and a medical assistant a site,
# so that staffing's screens (directory, rosters, time off) have people in them.
STAFF = [
    {"employee_id": f"{role.replace('_', '-')}-{site}", "name": name, "role": role, "site": site}
    for site, people in (
        ("north", ("Rosa Delgado", "Ben Carter")),
        ("lake", ("Megan Walsh", "Omar Farouk")),
        ("bay", ("Lena Park", "Diego Ruiz")),
    )
    for role, name in zip(("front_desk", "medical_assistant"), people, strict=True)
]
TITLES = {"front_desk": "Front Desk Coordinator", "medical_assistant": "Medical Assistant"}
# How long the seeding waits for scheduling to learn the providers staffing hired.
LEARNT_WITHIN = 60.0
VISIT_TYPES = [
    {"visit_type_id": "new-patient", "name": "New patient visit", "duration_minutes": 40},
    {"visit_type_id": "follow-up", "name": "Follow-up", "duration_minutes": 20},
    {"visit_type_id": "annual", "name": "Annual physical", "duration_minutes": 30},
]

# Fictional people: any likeness is chance.
PATIENTS = [
    {
        "patient_id": f"demo-patient-{n}",
        "name": name,
        "birth_date": born,
        "phone": phone,
        "address": address,  # as a claim's N3/N4 reads it: "street, city, ST ZIP"
    }
    for n, (name, born, phone, address) in enumerate(
        [
            ("Maria Alvarez", "1968-04-12", "555-0101", "14 Elm Street, Albany, NY 12207"),
            ("Tom Becker", "1990-09-30", "555-0102", "220 Lake Road, Apt 3, Albany, NY 12208"),
            ("Aiko Sato", "2015-02-08", "555-0103", "9 Birch Lane, Troy, NY 12180"),
            ("Samuel Osei", "1954-11-21", "555-0104", "77 River Street, Troy, NY 12180"),
            ("Priya Nair", "1983-06-05", "555-0105", "5 Oak Avenue, Schenectady, NY 12305"),
            ("Liam O'Connor", "2019-12-17", "555-0106", "31 Pine Court, Albany, NY 12203"),
            ("Grace Kim", "1977-03-29", "555-0107", "402 Main Street, Saratoga Springs, NY 12866"),
        ],
        start=1,
    )
]
COVERAGES = [
    ("demo-patient-1", "Blue Harbor Health", "BHH-100234"),
    ("demo-patient-4", "Medicare", "1EG4-TE5-MK72"),
    ("demo-patient-5", "Acme Mutual", "AM-88-2231"),
]
# Billing's reference data (fictional identifiers). The payers are those of the coverages
# above (their ids as the coverages name them); each site bills under a group of its own.
PAYERS: list[dict[str, Any]] = [
    {
        "name": "Blue Harbor Health",
        "x12_payer_id": "BHH01",
        "claim_filing_indicator": "BL",
        "plans": [{"plan_id": "ppo", "name": "PPO"}],
        "percent": 115,  # of the self-pay fee
    },
    {
        "name": "Medicare",
        "x12_payer_id": "MCRB1",
        "claim_filing_indicator": "MB",
        "plans": [{"plan_id": "part-b", "name": "Medicare Part B"}],
        "percent": 80,
    },
    {
        "name": "Acme Mutual",
        "x12_payer_id": "ACME01",
        "claim_filing_indicator": "CI",
        "plans": [{"plan_id": "ppo", "name": "PPO", "claim_filing_indicator": "12"}],
        "percent": 100,
    },
]
BILLING_PROVIDERS: dict[str, dict[str, Any]] = {
    "north": {
        "name": "Northside Family Medicine PC",
        "npi": "1745001127",
        "tin": "141234567",
        "taxonomy_code": "261QP2300X",  # primary care clinic
        "address": {
            "line1": "200 State St",
            "city": "Albany",
            "state": "NY",
            "postal_code": "12207",
        },
    },
    "lake": {
        "name": "Lakeview Pediatrics LLC",
        "npi": "1583004274",
        "tin": "362345678",
        "taxonomy_code": "208000000X",  # pediatrics
        "address": {
            "line1": "55 Lake Shore Dr",
            "city": "Chicago",
            "state": "IL",
            "postal_code": "60611",
        },
    },
    "bay": {
        "name": "Bayside Internal Medicine Group",
        "npi": "1922006535",
        "tin": "943456789",
        "taxonomy_code": "207R00000X",  # internal medicine
        "address": {
            "line1": "9 Embarcadero",
            "city": "San Francisco",
            "state": "CA",
            "postal_code": "94111",
        },
    },
}
# The self-pay fee of common office codes, in cents: new and established patient visits,
# preventive visits, venipuncture, urinalysis, immunisation and the flu vaccine, an ECG,
# Medicare's annual wellness visits.
SELF_PAY_FEES = {
    "99202": 9_500,
    "99203": 14_500,
    "99204": 21_500,
    "99205": 28_000,
    "99211": 3_000,
    "99212": 7_500,
    "99213": 11_500,
    "99214": 16_500,
    "99215": 22_500,
    "99385": 22_000,
    "99386": 24_000,
    "99395": 19_500,
    "99396": 21_000,
    "36415": 1_500,
    "81002": 1_200,
    "90471": 2_800,
    "90686": 3_500,
    "93000": 4_500,
    "G0438": 19_000,
    "G0439": 13_000,
}


def payer_id(name: str) -> str:
    """The id the demo's coverages give a payer."""
    return name.lower().replace(" ", "-")


# What a completed visit recorded: office visit, established patient; its diagnosis.
VISIT_CODES = {"procedures": ["99213"], "diagnoses": ["I10"]}

log = structlog.get_logger(__name__)


def weekdays(now: datetime, zone: ZoneInfo, step: int, count: int) -> list[date]:
    """The next `count` weekdays after (step 1) or before (step -1) `now`'s local date."""
    found: list[date] = []
    day = now.astimezone(zone).date()
    while len(found) < count:
        day += timedelta(days=step)
        if day.weekday() < 5:
            found.append(day)
    return found


class _Seeder:
    """The demo's requests, each safe to send again: a seeding cut short by a crash is
    finished by the next start. Registrations of the same thing again change nothing (or are
    refused as done already); bookings are noted as they are made, and one made but not noted
    before a crash is found again in its provider's schedule."""

    def __init__(self, client: httpx.AsyncClient, store: DocumentStore) -> None:
        self._client = client
        self._store = store

    async def post(
        self, path: str, body: dict[str, Any], *, done_if: str | None = None
    ) -> dict[str, Any]:
        """POST; a 409 whose detail contains `done_if` means the step was done before."""
        response = await self._client.post(path, json=body)
        if response.status_code == 409 and done_if and done_if in response.json()["detail"]:
            return {}
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    async def step(self, appointment_id: str, step: str, body: dict[str, Any]) -> None:
        """A step of a visit: refused as "cannot be" when it, or a later one, happened."""
        await self.post(
            f"/scheduling/appointments/{appointment_id}/{step}", body, done_if="cannot be"
        )

    async def book(self, body: dict[str, Any], path: str = "/scheduling/appointments") -> str:
        """The id of the demo's booking `body` (or of a series' first visit), booked once."""
        key = f"{TENANT}:booked:{body['provider_id']}:{body.get('start') or body['first_start']}"
        noted = await self._store.get(MARKER, key)
        if noted is not None:
            return str(noted["appointment_id"])
        response = await self._client.post(path, json=body)
        if response.status_code == 409:  # booked before a crash, not noted: find it
            appointment_id = await self._find(body)
        else:
            response.raise_for_status()
            answer = response.json()
            appointment_id = str(answer.get("appointment_ids", [answer.get("id")])[0])
        await put(self._store, MARKER, key, {"appointment_id": appointment_id})
        return appointment_id

    async def _find(self, body: dict[str, Any], timeout: float = 30.0) -> str:
        """The appointment of the demo's patient at the booking's start, once the provider's
        schedule shows it (after a restart its read model may still be catching up)."""
        start = datetime.fromisoformat(body.get("start") or body["first_start"])
        day = start.date().isoformat()
        path = f"/scheduling/providers/{body['provider_id']}/schedule/{day}"
        async with asyncio.timeout(timeout):
            while True:
                schedule = (await self._client.get(path)).json()
                for a in schedule.get("appointments", []):
                    at = datetime.fromisoformat(a["start"])
                    if at == start and a["patient_id"] == body["patient_id"]:
                        return str(a["appointment_id"])
                await asyncio.sleep(0.1)


async def _book(
    seeder: _Seeder,
    provider_id: str,
    site_id: str,
    zone: ZoneInfo,
    day: date,
    hour: int,
    slot: int,
    n: int,
) -> str:
    return await seeder.book(
        {
            "patient_id": f"demo-patient-{n % 7 + 1}",
            "provider_id": provider_id,
            "site_id": site_id,
            "visit_type_id": VISIT_TYPES[slot]["visit_type_id"],
            "start": datetime.combine(day, time(hour), zone).isoformat(),
        }
    )


async def _appointments(seeder: _Seeder, now: datetime) -> None:
    """Last weekday's visits (completed, a no-show, a late cancellation), the next three
    weekdays' bookings, a weekly series, a waitlist with an offer, today's walk-ins."""
    post = seeder.post
    zones = {s["site_id"]: ZoneInfo(s["time_zone"]) for s in SITES}
    upcoming: dict[str, list[str]] = {}
    for provider in PROVIDERS:
        site_id = provider["site_ids"][0]
        zone = zones[site_id]

        at = (seeder, str(provider["provider_id"]), site_id, zone)
        [last] = weekdays(now, zone, -1, 1)
        done, missed, cancelled = [
            await _book(*at, last, h, s, s) for s, h in enumerate((9, 10, 11))
        ]
        for step, body in (("check-in", {}), ("room", {}), ("complete", VISIT_CODES)):
            await seeder.step(done, step, body)
        await seeder.step(missed, "no-show", {})
        await seeder.step(cancelled, "cancel", {"reason": "Car trouble"})
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
            done_if="already waits",
        )
    follow_up = upcoming["dr-lindqvist"][1]  # the first weekday's 10:00 follow-up
    await seeder.step(follow_up, "cancel", {"reason": "Feeling better"})
    await seeder.book(
        {
            "patient_id": "demo-patient-4",
            "provider_id": "dr-lindqvist",
            "site_id": "north",
            "visit_type_id": "follow-up",
            "first_start": datetime.combine(first, time(15), zones["north"]).isoformat(),
            "every_weeks": 1,
            "count": 6,
        },
        path="/scheduling/appointment-series",
    )
    for patient_id, urgency, complaint in (
        ("demo-patient-2", 4, "Sore throat for three days"),
        ("demo-patient-7", 2, "Chest tightness since this morning"),
    ):
        await post(
            "/scheduling/sites/north/triage",
            {"patient_id": patient_id, "urgency": urgency, "chief_complaint": complaint},
            done_if="is already waiting",
        )


async def seed_demo(app: FastAPI, settings: Settings, today: datetime | None = None) -> bool:
    """Seed the demo group unless that was done before; True when it seeded now.

    Seeding is marked done only once every step is: a start after a crash mid-seed finishes
    it, on the days the first attempt chose (the marker keeps its clock reading).
    """
    store: DocumentStore = app.state.idempotency
    marker = await store.get(MARKER, TENANT)
    if marker is None:
        began = {"state": "seeding", "now": (today or app.state.clock.now()).isoformat()}
        if await store.write(MARKER, [Write(doc_id=TENANT, doc=began, expected_rev=0)]):
            marker = await store.get(MARKER, TENANT)  # another process began first
        else:
            marker = began
    assert marker is not None
    if marker.get("seeded") or marker.get("state") == "done":  # "seeded": the old marker
        return False
    now = datetime.fromisoformat(marker["now"])
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
        seeder = _Seeder(client, store)
        await _directory(seeder, client, now)
        await _billing(seeder, client, now)
        await _billing_learnt(client)
        await _appointments(seeder, now)
    await put(store, MARKER, TENANT, {"state": "done", "now": now.isoformat()})
    log.info("demo_seeded", tenant=TENANT)
    return True


async def _hire(seeder: _Seeder, now: datetime) -> None:
    """The group's people, hired through staffing: providers with a state licence each."""
    hired_on = (now - timedelta(days=730)).date().isoformat()
    for provider in PROVIDERS:
        provider_id = provider["provider_id"]
        job = {k: provider[k] for k in ("name", "title", "role", "site_ids", "provider")}
        await seeder.post(
            "/staffing/employees",
            {"employee_id": provider_id, **job, "fte": 1.0, "hired_on": hired_on},
        )
        state = provider["state"]
        await seeder.post(
            f"/staffing/employees/{provider_id}/credentials",
            {
                "credential_id": f"licence-{provider_id}",
                "kind": "state_licence",
                "issuer": f"{state} medical board",
                "number": f"{state}-{provider['provider']['npi'][-6:]}",
                "state": state,
                "issued_on": hired_on,
                "expires_on": (now + timedelta(days=1095)).date().isoformat(),
            },
            done_if="is recorded already",
        )
        # Enrolled with every payer of the demo's coverages, so their claims can go out.
        for payer in PAYERS:
            for status in ("applied", "enrolled"):
                await seeder.post(
                    f"/staffing/employees/{provider_id}/enrolments",
                    {
                        "payer_id": payer_id(payer["name"]),
                        "status": status,
                        "effective_from": hired_on,
                    },
                    done_if="cannot become",
                )
    for person in STAFF:
        await seeder.post(
            "/staffing/employees",
            {
                "employee_id": person["employee_id"],
                "name": person["name"],
                "title": TITLES[person["role"]],
                "role": person["role"],
                "site_ids": [person["site"]],
                "fte": 1.0,
                "hired_on": hired_on,
            },
        )


async def _learnt(
    client: httpx.AsyncClient, licences: dict[str, str], timeout: float = LEARNT_WITHIN
) -> None:
    """Wait, at most `timeout` seconds, until scheduling lists each provider with their
    licence (`licences`: provider id to licence id): it learns them from staffing's events,
    asynchronously, and books nobody it does not know licensed."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await client.get("/scheduling/providers")
        response.raise_for_status()
        known = {doc["provider_id"]: doc.get("licence_ids", []) for doc in response.json()}
        missing = sorted(p for p, lic in licences.items() if lic not in known.get(p, []))
        if not missing:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(
                f"scheduling had not learnt providers {', '.join(missing)} and their licences "
                f"from staffing within {timeout:.0f}s: is staffing's relay or scheduling's "
                "reaction to it running?"
            )
        await asyncio.sleep(0.1)


async def _billing_learnt(client: httpx.AsyncClient, timeout: float = LEARNT_WITHIN) -> None:
    """Wait, at most `timeout` seconds, until billing knows what last weekday's claims need:
    each provider enrolled with every payer (from staffing's events) and each covered
    patient's coverage (from scheduling's), both learnt asynchronously. Without them the
    visits would be charged self-pay or their claims wait in the not-ready queue."""
    payers = {payer_id(str(p["name"])) for p in PAYERS}
    uncovered = sorted({patient_id for patient_id, _, _ in COVERAGES})
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        missing: list[str] = []
        for provider in PROVIDERS:
            response = await client.get(f"/billing/providers/{provider['provider_id']}")
            known = response.json() if response.status_code == 200 else {}
            if payers - set(known.get("enrolled_with", [])):
                missing.append(str(provider["provider_id"]))
        for patient_id in list(uncovered):  # each read is a disclosure: read until learnt
            response = await client.get(f"/billing/patients/{patient_id}/coverages")
            if response.status_code == 200 and response.json()["coverages"]:
                uncovered.remove(patient_id)
        missing += uncovered
        if not missing:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(
                f"billing had not learnt {', '.join(missing)} (enrolments from staffing, "
                f"coverages from scheduling) within {timeout:.0f}s: is billing's learning "
                "reaction running?"
            )
        await asyncio.sleep(0.1)


async def _directory(seeder: _Seeder, client: httpx.AsyncClient, now: datetime) -> None:
    """Sites, rooms, visit types, staff hired through staffing (providers with licences, whom
    scheduling learns), the providers' templates, patients."""
    post = seeder.post
    for site in SITES:
        await post("/scheduling/sites", site)
        for n, room in enumerate(ROOMS[site["site_id"]], start=1):
            await post(
                f"/scheduling/sites/{site['site_id']}/rooms",
                {"room_id": f"{site['site_id']}-{n}", "name": room},
            )
    for visit_type in VISIT_TYPES:
        await post("/scheduling/visit-types", visit_type)
    await _hire(seeder, now)
    await _learnt(client, {str(p["provider_id"]): f"licence-{p['provider_id']}" for p in PROVIDERS})
    for provider in PROVIDERS:
        provider_id = provider["provider_id"]
        # Mornings at the first site, afternoons at the second: never two places at once.
        for n, site_id in enumerate(provider["site_ids"]):
            opens, closes = ("08:00", "12:30") if n == 0 else ("13:00", "17:30")
            if len(provider["site_ids"]) == 1:
                opens, closes = "08:00", "17:30"
            await post(
                f"/scheduling/providers/{provider_id}/availability",
                {
                    "site_id": site_id,
                    "windows": [{"weekday": d, "start": opens, "end": closes} for d in range(5)],
                    "effective_from": (now - timedelta(days=730)).date().isoformat(),
                },
            )
    for patient in PATIENTS:
        await post("/scheduling/patients", patient, done_if="is already registered")
    for patient_id, payer, member_id in COVERAGES:
        await post(
            f"/scheduling/patients/{patient_id}/coverage",
            {
                "payer_id": payer_id(payer),
                "payer_name": payer,
                "plan": "PPO",
                "relationship": "self",
                "member_id": member_id,
            },
            done_if="already has coverage",
        )


async def _billing(seeder: _Seeder, client: httpx.AsyncClient, now: datetime) -> None:
    """Billing's reference data: the payers and their plans, each site's billing provider, and
    a fee schedule per payer and for self-pay, in force from the first day of last year (so
    that every demo visit is priced)."""
    for payer in PAYERS:
        definition = {k: payer[k] for k in ("name", "x12_payer_id", "claim_filing_indicator")}
        some_id = payer_id(str(payer["name"]))
        (await client.put(f"/billing/payers/{some_id}", json=definition)).raise_for_status()
        for plan in payer["plans"]:
            await seeder.post(f"/billing/payers/{some_id}/plans", plan)
    for site in SITES:
        provider = BILLING_PROVIDERS[site["site_id"]]
        body = {
            **provider,
            "place_of_service": "11",  # office
            "facility_name": site["name"],
            "facility_address": provider["address"],
        }
        path = f"/billing/sites/{site['site_id']}/billing-provider"
        (await client.put(path, json=body)).raise_for_status()
    effective_from = date(now.year - 1, 1, 1).isoformat()
    schedules = [
        ("self-pay", 100),
        *((payer_id(str(p["name"])), int(p["percent"])) for p in PAYERS),
    ]
    for some_id, percent in schedules:
        fees = [
            {"code": code, "amount_cents": cents * percent // 100}
            for code, cents in SELF_PAY_FEES.items()
        ]
        await seeder.post(
            f"/billing/fee-schedules/{some_id}/versions",
            {"effective_from": effective_from, "fees": fees},
            done_if="published already",
        )
