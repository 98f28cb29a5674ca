"""Open-slot search: the earliest times a visit fits, with the provider and a suitable room
both free, inside the provider's availability and the site's opening hours.

Occupancy comes from the site-day boards (a read model), availability from the providers'
streams. The answer is advice: the booking that follows is decided on the site's day, and
answers 409 if someone took the slot in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.scheduling.application.directory import Directory
from services.scheduling.domain import providers
from services.scheduling.domain.calendar import Interval, overlaps
from services.scheduling.domain.site_day import HOLDING
from services.scheduling.projections.day_views import BOARD_PROJECTION, SITE_DAYS, site_day_id
from services.scheduling.projections.directory import PROJECTION as DIRECTORY_PROJECTION
from services.scheduling.projections.directory import PROVIDERS, ROOMS
from shared.clock import Clock
from shared.domain import Invalid
from shared.readmodels import ReadModels

MAX_DAYS = 92
MAX_SLOTS = 200


@dataclass(frozen=True)
class Slot:
    provider_id: str
    room_id: str | None
    start: datetime
    end: datetime


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class OpenSlots:
    def __init__(self, directory: Directory, read_models: ReadModels, clock: Clock) -> None:
        self._directory = directory
        self._read_models = read_models
        self._clock = clock

    async def search(
        self,
        tenant: str,
        *,
        site_id: str,
        visit_type_id: str,
        first_day: date,
        last_day: date,
        provider_id: str | None = None,
        limit: int = 10,
        step_minutes: int = 15,
    ) -> list[Slot]:
        if last_day < first_day:
            raise Invalid("the date range ends before it starts")
        if (last_day - first_day).days >= MAX_DAYS:
            raise Invalid(f"search at most {MAX_DAYS} days at once")
        if not 1 <= limit <= MAX_SLOTS:
            raise Invalid(f"ask for 1 to {MAX_SLOTS} slots")
        site = await self._directory.site(tenant, site_id)
        visit = await self._directory.visit_type(tenant, visit_type_id)
        zone = await self._directory.zone(tenant, site_id)
        candidates = await self._providers(tenant, site_id, provider_id)
        states = {p: await self._directory.provider(tenant, p) for p in candidates}
        states = {
            p: s
            for p, s in states.items()
            if s.registered is not None
            and (not visit.provider_roles or s.registered.role in visit.provider_roles)
        }
        rooms: list[str | None] = [None]
        if visit.room_type is not None:
            docs = await self._read_models.find(
                DIRECTORY_PROJECTION,
                ROOMS,
                {"tenant": tenant, "site_id": site_id, "room_type": visit.room_type},
            )
            rooms = sorted(d["room_id"] for d in docs)
        duration = timedelta(minutes=visit.duration_minutes)
        step = timedelta(minutes=step_minutes)
        now = self._clock.now()
        found: list[Slot] = []
        day = first_day
        while day <= last_day and len(found) < limit:
            busy = await self._busy(tenant, site_id, day)
            for p, state in sorted(states.items()):
                for w_start, w_end in providers.availability(
                    state, site_id, day, zone, site.opening_hours
                ):
                    start = w_start
                    while start + duration <= w_end:
                        end = start + duration
                        if start >= now and _free(busy, "provider", p, start, end):
                            room = next(
                                (
                                    r
                                    for r in rooms
                                    if r is None or _free(busy, "room", r, start, end)
                                ),
                                "none",
                            )
                            if room != "none":
                                found.append(Slot(p, room, start, end))
                        start += step
            day += timedelta(days=1)
        found.sort(key=lambda s: (s.start, s.provider_id))
        return found[:limit]

    async def _providers(self, tenant: str, site_id: str, provider_id: str | None) -> list[str]:
        if provider_id is not None:
            return [provider_id]
        docs = await self._read_models.find(DIRECTORY_PROJECTION, PROVIDERS, {"tenant": tenant})
        return [d["provider_id"] for d in docs if site_id in d.get("site_ids", [])]

    async def _busy(
        self, tenant: str, site_id: str, day: date
    ) -> dict[tuple[str, str], list[Interval]]:
        doc = await self._read_models.get(
            BOARD_PROJECTION, SITE_DAYS, site_day_id(tenant, site_id, day.isoformat())
        )
        busy: dict[tuple[str, str], list[Interval]] = {}
        for a in (doc or {}).get("appointments", []):
            if a["status"] not in HOLDING:
                continue
            interval = (_parse(a["start"]), _parse(a["end"]))
            busy.setdefault(("provider", a["provider_id"]), []).append(interval)
            if a.get("room_id"):
                busy.setdefault(("room", a["room_id"]), []).append(interval)
        return busy


def _free(
    busy: dict[tuple[str, str], list[Interval]], kind: str, key: str, start: datetime, end: datetime
) -> bool:
    return not any(overlaps(s, e, start, end) for s, e in busy.get((kind, key), []))


def slot_json(slot: Slot) -> dict[str, Any]:
    return {
        "provider_id": slot.provider_id,
        "room_id": slot.room_id,
        "start": slot.start.astimezone(UTC).isoformat(),
        "end": slot.end.astimezone(UTC).isoformat(),
    }
