"""A generated group for the scheduling benchmark: 6 sites, 60 providers, 90 days.

The group is set up through the suite's HTTP API (sites, rooms, visit types, providers,
licences, weekly templates). Its appointments are planned here with the real site-day decider
(`site_day.decide` against each site-day's state, with the availability the provider's own
stream gives), then written straight into the event store, one event per commit, as bookings
over the API would have left them: the suite's relay and projections then bring every read
model up to date. Everything comes from a seeded generator.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from services.scheduling.domain import providers, site_day, streams
from services.scheduling.domain.calendar import Interval
from services.scheduling.domain.events import Hours, registry
from shared.domain import Rejected
from shared.events import DomainEvent, Envelope, Metadata, seal
from shared.eventstore.port import EventStore

TENANT = "bench-group"
# (site, time zone, open on Saturday mornings)
SITES = (
    ("boston", "America/New_York", False),
    ("atlanta", "America/New_York", True),
    ("chicago", "America/Chicago", False),
    ("denver", "America/Denver", True),
    ("phoenix", "America/Phoenix", False),
    ("seattle", "America/Los_Angeles", False),
)
PROVIDERS_PER_SITE = 10
EXAM_ROOMS = 12  # more than providers: a free provider always finds a room
PROCEDURE_ROOMS = 2
# (visit type, minutes, room type, share of bookings)
VISITS = (
    ("follow-up", 30, "exam", 0.45),
    ("new-patient", 45, "exam", 0.2),
    ("quick-check", 15, "exam", 0.15),
    ("procedure", 60, "procedure", 0.05),
    ("telehealth", 20, None, 0.15),
)
STEP = timedelta(minutes=15)


def _hours(weekday: int, opens: str, closes: str) -> dict[str, Any]:
    return {"weekday": weekday, "opens": opens, "closes": closes}


def _window(weekday: int, start: str, end: str) -> dict[str, Any]:
    return {"weekday": weekday, "start": start, "end": end}


def opening_hours(saturday: bool) -> list[dict[str, Any]]:
    hours = [_hours(d, "07:30", "18:30") for d in range(5)]
    return [*hours, _hours(5, "08:00", "12:00")] if saturday else hours


def template(n: int, saturday: bool) -> list[dict[str, Any]]:
    """Weekly windows of a site's n-th provider: full-timers with a lunch break, four long
    days, part-timers, and Saturday mornings where the site opens."""
    if n % 4 == 0:
        return [
            w
            for d in range(5)
            for w in (_window(d, "08:00", "12:00"), _window(d, "13:00", "17:00"))
        ]
    if n % 4 == 1:
        return [_window(d, "09:00", "18:00") for d in range(4)]
    if n % 4 == 2:
        return [_window(d, "08:00", "17:00") for d in (0, 2, 4)]
    days = [_window(d, "10:00", "18:00") for d in range(1, 5)]
    return (
        [*days, _window(5, "08:00", "12:00")] if saturday else [*days, _window(0, "10:00", "18:00")]
    )


def provider_ids(site_id: str) -> list[str]:
    return [f"{site_id}-p{n:02d}" for n in range(1, PROVIDERS_PER_SITE + 1)]


def rooms(site_id: str) -> list[tuple[str, str]]:
    exam = [(f"{site_id}-exam-{n:02d}", "exam") for n in range(1, EXAM_ROOMS + 1)]
    procedure = [(f"{site_id}-proc-{n}", "procedure") for n in range(1, PROCEDURE_ROOMS + 1)]
    return exam + procedure


async def _post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> None:
    response = await client.post(path, json=body)
    if response.status_code != 201:
        raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")


# A valid NPI (10 digits, Luhn over the 80840 prefix); staffing does not require them unique.
NPI = "1234567893"
# How long set-up waits for scheduling to learn the providers staffing hired.
LEARNT_WITHIN = 120.0


async def hire(
    client: httpx.AsyncClient, provider_id: str, site_ids: list[str], first_day: date
) -> None:
    """Hire a physician through staffing, with a state licence from a year before `first_day`
    to three years after: scheduling learns both from staffing's events (see `learnt`)."""
    hired_on = (first_day - timedelta(days=365)).isoformat()
    body = {
        "employee_id": provider_id,
        "name": provider_id,
        "title": "Physician",
        "role": "physician",
        "site_ids": site_ids,
        "fte": 1.0,
        "hired_on": hired_on,
        "provider": {"npi": NPI, "taxonomy_code": "207Q00000X", "specialty": "Family"},
    }
    await _post(client, "/staffing/employees", body)
    licence = {
        "credential_id": f"licence-{provider_id}",
        "kind": "state_licence",
        "issuer": "State medical board",
        "number": f"L-{provider_id}",
        "state": "NY",
        "issued_on": hired_on,
        "expires_on": (first_day + timedelta(days=3 * 365)).isoformat(),
    }
    await _post(client, f"/staffing/employees/{provider_id}/credentials", licence)


async def learnt(
    client: httpx.AsyncClient, provider_ids: list[str], timeout: float = LEARNT_WITHIN
) -> None:
    """Wait, bounded, until scheduling lists every provider with the licence `hire` recorded:
    it learns them asynchronously (across topics on Kafka)."""
    deadline = time.monotonic() + timeout
    while True:
        response = await client.get("/scheduling/providers")
        if response.status_code != 200:
            raise RuntimeError(f"GET /scheduling/providers: {response.status_code}")
        known = {d["provider_id"]: d.get("licence_ids", []) for d in response.json()}
        missing = [p for p in provider_ids if f"licence-{p}" not in known.get(p, [])]
        if not missing:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"scheduling never learnt {len(missing)} providers: {missing[:5]}")
        await asyncio.sleep(0.05)


# The patients the measured bookings name, registered by set_up.
BENCH_PATIENTS = tuple(f"pat-b{n:02d}" for n in range(50))


async def set_up(client: httpx.AsyncClient, first_day: date) -> int:
    """Register the group through the API; returns the number of requests it took."""
    requests = 0
    for visit_type, minutes, room_type, _ in VISITS:
        body = {"visit_type_id": visit_type, "name": visit_type, "duration_minutes": minutes}
        await _post(client, "/scheduling/visit-types", {**body, "room_type": room_type})
        requests += 1
    for site_id, zone, saturday in SITES:
        site = {"site_id": site_id, "name": site_id.title(), "time_zone": zone}
        await _post(client, "/scheduling/sites", {**site, "opening_hours": opening_hours(saturday)})
        requests += 1
        for room_id, room_type in rooms(site_id):
            body = {"room_id": room_id, "name": room_id, "room_type": room_type}
            await _post(client, f"/scheduling/sites/{site_id}/rooms", body)
            requests += 1
        for provider_id in provider_ids(site_id):
            await hire(client, provider_id, [site_id], first_day)
            requests += 2
    await learnt(client, [p for site_id, _, _ in SITES for p in provider_ids(site_id)])
    for site_id, _, saturday in SITES:
        for n, provider_id in enumerate(provider_ids(site_id)):
            availability = {
                "site_id": site_id,
                "windows": template(n, saturday),
                "effective_from": (first_day - timedelta(days=7)).isoformat(),
            }
            await _post(client, f"/scheduling/providers/{provider_id}/availability", availability)
            requests += 1
    for patient_id in BENCH_PATIENTS:  # a booking names a registered patient
        body = {"patient_id": patient_id, "name": patient_id, "birth_date": "1970-01-01"}
        await _post(client, "/scheduling/patients", body)
        requests += 1
    return requests


@dataclass
class SiteDayPlan:
    """One site's local day: its stream, the decider's state, the providers' availability."""

    site_id: str
    day: date
    stream: str
    state: site_day.SiteDay
    available: dict[str, list[Interval]]
    booked: list[DomainEvent] = field(default_factory=list)


@dataclass
class Group:
    first_day: date
    days: int
    plans: dict[tuple[str, date], SiteDayPlan]
    rooms: dict[tuple[str, str], tuple[str, ...]]  # (site, room type) -> rooms, sorted

    @property
    def appointments(self) -> int:
        return sum(len(p.booked) for p in self.plans.values())

    def decide(self, plan: SiteDayPlan, command: site_day.BookAppointment) -> DomainEvent | None:
        """The decider's booking event, kept in the plan's state; None when it refuses."""
        try:
            events = site_day.site_day.decide(plan.state, command)
        except Rejected:
            return None
        for event in events:
            plan.state = site_day.site_day.evolve(plan.state, event)
        return events[0] if events else None


async def _provider_states(store: EventStore) -> dict[str, providers.Provider]:
    states = {}
    for site_id, _, _ in SITES:
        for provider_id in provider_ids(site_id):
            envelopes = await store.load(streams.provider(TENANT, provider_id))
            states[provider_id] = providers.provider.fold(registry.decode(e) for e in envelopes)
    return states


async def plan_group(store: EventStore, first_day: date, days: int) -> Group:
    """Every site-day of the period with each provider's availability, from their streams."""
    states = await _provider_states(store)
    plans = {}
    group_rooms: dict[tuple[str, str], list[str]] = {}
    for site_id, zone_name, saturday in SITES:
        zone = ZoneInfo(zone_name)
        hours = [Hours.model_validate(h) for h in opening_hours(saturday)]
        for room_id, room_type in rooms(site_id):
            group_rooms.setdefault((site_id, room_type), []).append(room_id)
        for offset in range(days):
            day = first_day + timedelta(days=offset)
            available = {
                p: providers.availability(states[p], site_id, day, zone, hours)
                for p in provider_ids(site_id)
            }
            plans[(site_id, day)] = SiteDayPlan(
                site_id,
                day,
                streams.site_day(TENANT, site_id, day),
                site_day.SiteDay({}),
                {p: a for p, a in available.items() if a},
            )
    return Group(first_day, days, plans, {k: tuple(sorted(v)) for k, v in group_rooms.items()})


def command(
    group: Group,
    plan: SiteDayPlan,
    *,
    appointment_id: str,
    patient_id: str,
    provider_id: str,
    visit: tuple[str, int, str | None, float],
    start: datetime,
    booked_at: datetime,
) -> site_day.BookAppointment:
    visit_type, minutes, room_type, _ = visit
    return site_day.BookAppointment(
        appointment_id=appointment_id,
        patient_id=patient_id,
        provider_id=provider_id,
        site_id=plan.site_id,
        room_id=None,
        visit_type_id=visit_type,
        start=start,
        end=start + timedelta(minutes=minutes),
        booked_at=booked_at,
        available=tuple(plan.available.get(provider_id, ())),
        candidate_rooms=group.rooms[(plan.site_id, room_type)] if room_type else (),
    )


def fill(group: Group, fraction: float, booked_at: datetime, seed: int = 2027) -> None:
    """Book about `fraction` of every provider's time: walk each window in 15-minute steps and
    book a visit of the usual mix at a step with that chance (decided by the site-day decider)."""
    rng = random.Random(seed)
    weights = [v[3] for v in VISITS]
    # A visit lasts 2.2 steps on average: book at a step with the chance that fills `fraction`.
    mean_steps = sum(v[1] * v[3] for v in VISITS) / 15
    chance = fraction / (mean_steps * (1 - fraction) + fraction)
    for plan in group.plans.values():
        for provider_id, windows in sorted(plan.available.items()):
            for w_start, w_end in windows:
                start = w_start
                while start < w_end:
                    if rng.random() >= chance:
                        start += STEP
                        continue
                    visit = rng.choices(VISITS, weights)[0]
                    booking = command(
                        group,
                        plan,
                        appointment_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        patient_id=f"pat-{rng.randrange(40_000):05d}",
                        provider_id=provider_id,
                        visit=visit,
                        start=start,
                        booked_at=booked_at,
                    )
                    event = group.decide(plan, booking)
                    if event is None:
                        start += STEP
                        continue
                    plan.booked.append(event)
                    start = booking.end


def booked_envelopes(group: Group, booked_at: datetime, seed: int = 2027) -> list[Envelope]:
    """Every planned booking as the envelope a booking request would have stored, in a shuffled
    arrival order across site-days (each stream's versions follow that order)."""
    rng = random.Random(seed)
    arrivals = [(plan, event) for plan in group.plans.values() for event in plan.booked]
    rng.shuffle(arrivals)
    versions: dict[str, int] = {}
    envelopes = []
    for n, (plan, event) in enumerate(arrivals):
        version = versions[plan.stream] = versions.get(plan.stream, 0) + 1
        meta = Metadata(
            tenant=TENANT,
            actor=f"front-desk-{rng.randrange(1, 40):02d}",
            site=plan.site_id,
            correlation_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        )
        envelopes.append(
            seal(
                event,
                stream=plan.stream,
                stream_version=version,
                meta=meta,
                event_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                time=booked_at + timedelta(milliseconds=n),
                subject=getattr(event, "appointment_id"),  # noqa: B009 - a booking has one
            )
        )
    return envelopes


def free_slots(
    group: Group, count: int, visit_type: str, seed: int = 7
) -> Iterator[tuple[str, str, datetime]]:
    """`count` distinct free (site, provider, start) for a visit, none clashing with another:
    each is decided into the plan's state as it is picked, so all of them can be booked."""
    rng = random.Random(seed)
    visit = next(v for v in VISITS if v[0] == visit_type)
    plans = [p for p in group.plans.values() if p.available]
    picked = 0
    for _ in range(count * 50):
        if picked == count:
            return
        plan = rng.choice(plans)
        provider_id = rng.choice(sorted(plan.available))
        w_start, w_end = rng.choice(plan.available[provider_id])
        steps = int((w_end - w_start) / STEP)
        start = w_start + STEP * rng.randrange(steps)
        booking = command(
            group,
            plan,
            appointment_id=f"bench-{seed}-{picked}",
            patient_id="pat-bench",
            provider_id=provider_id,
            visit=visit,
            start=start,
            booked_at=datetime.now(UTC),
        )
        if group.decide(plan, booking) is not None:
            picked += 1
            yield plan.site_id, provider_id, start
    raise RuntimeError(f"found {picked} of {count} free slots")


def first_monday(today: date, weeks_ahead: int = 2) -> date:
    return today + timedelta(days=7 * weeks_ahead - today.weekday())
