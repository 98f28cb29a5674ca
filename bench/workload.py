"""The events both measurements use: AppointmentBooked over many provider-day streams.

Bookings arrive in a shuffled order across provider days (as a front desk books them), about a
dozen per provider and day, so a stream gets its events spread through the log. Everything is
derived from a seeded generator: two runs with the same size produce the same events.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from services.scheduling.domain import streams
from services.scheduling.domain.events import AppointmentBooked
from shared.events import Envelope, Metadata, seal

TENANT = "tenant-bench"
SITES = 6
PROVIDERS = 240
BOOKINGS_PER_DAY = 12
VISIT_TYPES = ("vt-new-patient", "vt-follow-up", "vt-annual-physical", "vt-telehealth")
FIRST_DAY = date(2026, 3, 2)
BOOKED_FROM = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Workload:
    envelopes: list[Envelope]

    @property
    def streams(self) -> int:
        return len({e.stream for e in self.envelopes})

    def data_bytes(self) -> float:
        """Mean size of the events' JSON data, as it travels as a Kafka record value."""
        sizes = [len(json.dumps(e.data, separators=(",", ":"))) for e in self.envelopes[:1000]]
        return sum(sizes) / len(sizes)


def appointments(count: int, seed: int = 2026) -> Workload:
    """`count` AppointmentBooked envelopes, one per booking, in arrival order."""
    rng = random.Random(seed)

    def new_id() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    days = -(-count // BOOKINGS_PER_DAY)
    arrivals = [d for d in range(days) for _ in range(BOOKINGS_PER_DAY)][:count]
    rng.shuffle(arrivals)
    versions: dict[tuple[str, int], int] = {}
    envelopes = []
    for n, stream_day in enumerate(arrivals):
        provider = stream_day % PROVIDERS
        day = FIRST_DAY + timedelta(days=stream_day // PROVIDERS)
        site = f"site-{provider % SITES:02d}"
        # One stream per site and day, as the site-day decider writes them.
        key = (site, stream_day // PROVIDERS)
        version = versions[key] = versions.get(key, 0) + 1
        start = datetime(day.year, day.month, day.day, 13, 0, tzinfo=UTC) + timedelta(
            minutes=30 * (version - 1)
        )
        booked_at = BOOKED_FROM + timedelta(seconds=n)
        appointment_id = new_id()
        event = AppointmentBooked(
            appointment_id=appointment_id,
            patient_id=new_id(),
            provider_id=f"prov-{provider:04d}",
            site_id=site,
            room_id=f"{site}-room-{rng.randrange(1, 12):02d}",
            visit_type_id=rng.choice(VISIT_TYPES),
            start=start,
            end=start + timedelta(minutes=30),
            booked_at=booked_at,
        )
        meta = Metadata(
            tenant=TENANT,
            actor=f"user-front-desk-{rng.randrange(1, 40):02d}",
            site=site,
            correlation_id=new_id(),
            traceparent=f"00-{rng.getrandbits(128):032x}-{rng.getrandbits(64):016x}-01",
        )
        envelopes.append(
            seal(
                event,
                stream=streams.site_day(TENANT, site, day),
                stream_version=version,
                meta=meta,
                event_id=new_id(),
                time=booked_at,
                subject=appointment_id,
            )
        )
    return Workload(envelopes)
