"""Third next available appointment (IHI), measured by scheduling each day: for every provider
with a calendar at a site, the open-slot search (`OpenSlots`, as a booking clerk would search
it at that moment: after bookings, blocks, leave and time off, from now on) finds the first
three open slots of the measuring visit type within the horizon, and the days from the site's
local date to the third are recorded as `ThirdNextAvailableMeasured` on the site's access day.

`ThirdNextAvailableTimer` measures each site once per local day: every round it measures the
providers not yet measured today (the access-day stream says who was), so a restart or a
second process measures nobody twice; the decider records one measurement per provider and day
whatever races. The engagement KPI projection averages the measurements per site and month.
"""

from __future__ import annotations

from datetime import date

import structlog

from services.scheduling.application.directory import Directory
from services.scheduling.application.open_slots import MAX_DAYS, OpenSlots
from services.scheduling.domain import access, streams
from services.scheduling.projections.availability import BOOKABLE
from services.scheduling.projections.availability import PROJECTION as AVAILABILITY
from shared.clock import Clock
from shared.commands import CommandHandler
from shared.domain import DomainError
from shared.events import Metadata
from shared.readmodels import ReadModels
from shared.timers import Timer

log = structlog.get_logger(__name__)

SYSTEM = "system:scheduling"
HORIZON_DAYS = MAX_DAYS  # the open-slot search's widest range, today included


class ThirdNextAvailable:
    def __init__(
        self,
        handler: CommandHandler,
        directory: Directory,
        read_models: ReadModels,
        slots: OpenSlots,
        clock: Clock,
        visit_type_id: str,
    ) -> None:
        self._handler = handler
        self._directory = directory
        self._read_models = read_models
        self._slots = slots
        self._clock = clock
        self._visit_type_id = visit_type_id

    async def sites(self) -> dict[tuple[str, str], list[str]]:
        """Every tenant's sites with providers' calendars (active, with a weekly template at
        the site), and those providers."""
        found: dict[tuple[str, str], list[str]] = {}
        for doc in await self._read_models.find(AVAILABILITY, BOOKABLE, {"kind": "provider"}):
            if not doc.get("active") or not doc.get("templates"):
                continue
            key = (str(doc["tenant"]), str(doc["site_id"]))
            found.setdefault(key, []).append(str(doc["provider_id"]))
        return {key: sorted(set(providers)) for key, providers in sorted(found.items())}

    async def days_to_third(
        self, tenant: str, site_id: str, provider_id: str, day: date
    ) -> int | None:
        """Days from `day` to the provider's third open slot, None with fewer than three."""
        found = await self._slots.search(
            tenant,
            site_id=site_id,
            visit_type_id=self._visit_type_id,
            first_day=day,
            last_day=access.horizon(day, HORIZON_DAYS),
            provider_id=provider_id,
            limit=3,
        )
        zone = await self._directory.zone(tenant, site_id)
        return access.third_next_available([s.start.astimezone(zone).date() for s in found], day)

    async def measure(self, tenant: str, site_id: str, providers: list[str]) -> int:
        """Measure the providers not yet measured at the site today (its local date); returns
        how many measurements were recorded."""
        now = self._clock.now()
        day = now.astimezone(await self._directory.zone(tenant, site_id)).date()
        stream = streams.access_day(tenant, site_id, day)
        measured, _ = await self._handler.load(stream, access.access_day)
        meta = Metadata(
            tenant=tenant,
            actor=SYSTEM,
            site=site_id,
            correlation_id=f"third-next-available:{site_id}:{day.isoformat()}",
        )
        recorded = 0
        for provider_id in providers:
            if provider_id in measured:
                continue
            command = access.RecordThirdNextAvailable(
                site_id=site_id,
                provider_id=provider_id,
                visit_type_id=self._visit_type_id,
                measured_on=day,
                days=await self.days_to_third(tenant, site_id, provider_id, day),
                horizon_days=HORIZON_DAYS,
                measured_at=now,
            )
            outcome = await self._handler.handle(
                stream, access.access_day, command, meta, subject=provider_id
            )
            recorded += len(outcome.events)
        return recorded


class ThirdNextAvailableTimer(Timer):
    """Measures every site's providers once per local day (`ThirdNextAvailable`)."""

    name = "scheduling.third_next_available_timer"

    def __init__(self, measures: ThirdNextAvailable, every: float = 300.0) -> None:
        super().__init__(every)
        self._measures = measures

    async def fire_due(self) -> int:
        recorded = 0
        for (tenant, site_id), providers in (await self._measures.sites()).items():
            try:
                recorded += await self._measures.measure(tenant, site_id, providers)
            except DomainError as exc:  # no such visit type or site (yet) at this tenant
                log.info("third_next_available_not_measured", site=site_id, reason=str(exc))
        return recorded
