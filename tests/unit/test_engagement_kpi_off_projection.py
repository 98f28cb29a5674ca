"""The KPI projection keeps a provider's blocks, time off and leave beside their templates:
whether the site's registration comes before or after the provider's stream, redelivered or
not, the documents give the same available minutes, the time off subtracted in the site's
zone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.engagement.domain import kpi_figures
from services.engagement.projections.kpis import AVAILABILITY, KpiProjection
from services.scheduling.domain.events import (
    AvailabilitySet,
    ProviderLeaveEnded,
    ProviderLeaveStarted,
    ProviderTimeOffApproved,
    ProviderTimeOffCancelled,
    SiteRegistered,
    TimeBlocked,
    Window,
)
from shared.documents.port import Document
from shared.documents.sqlite import SqliteDocumentStore
from shared.events import DomainEvent, Envelope, Metadata, seal
from shared.projections import View
from shared.readmodels import physical
from shared.sqlite import SqliteDatabase

Sealed = tuple[DomainEvent, Envelope]
T0 = datetime(2026, 10, 1, 9, tzinfo=UTC)


def sealed(stream: str, events: Sequence[DomainEvent]) -> list[Sealed]:
    return [
        (
            event,
            seal(
                event,
                stream=stream,
                stream_version=n,
                meta=Metadata(tenant="acme", correlation_id="c"),
                event_id=f"{stream}-{n}",
                time=T0 + timedelta(minutes=n),
            ),
        )
        for n, event in enumerate(events, start=1)
    ]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


SITE = sealed(
    "acme:site:north", [SiteRegistered(site_id="north", name="N", time_zone="Europe/Berlin")]
)
PROVIDER = sealed(
    "acme:provider:p",
    [
        # Blocked 09:00-10:00 Berlin on Monday 5 October, before any template is known.
        TimeBlocked(
            provider_id="p",
            block_id="b1",
            start=at("2026-10-05T07:00:00+00:00"),
            end=at("2026-10-05T08:00:00+00:00"),
            reason="meeting",
        ),
        AvailabilitySet(
            provider_id="p",
            site_id="north",
            template_id="t1",
            windows=(Window(weekday=0, start=time(9), end=time(12)),),
            effective_from=date(2026, 10, 1),
            effective_until=None,
        ),
        # The 12th off, then cancelled; the 19th off.
        *(
            ProviderTimeOffApproved(
                provider_id="p",
                time_off_id=name,
                start=at(f"2026-10-{day}T00:00:00+02:00"),
                end=at(f"2026-10-{day + 1}T00:00:00+02:00"),
            )
            for name, day in (("o1", 12), ("o2", 19))
        ),
        ProviderTimeOffCancelled(provider_id="p", time_off_id="o1", learnt_from="hr"),
        # On leave from the 26th, back on 3 November.
        ProviderLeaveStarted(
            provider_id="p", leave_id="l1", starts_on=date(2026, 10, 26), learnt_from="hr"
        ),
        ProviderLeaveEnded(
            provider_id="p", leave_id="l1", returned_on=date(2026, 11, 3), learnt_from="hr"
        ),
    ],
)


async def documents(batches: Sequence[Sequence[Sealed]]) -> list[Document]:
    store = SqliteDocumentStore(SqliteDatabase(":memory:"))
    try:
        for batch in batches:
            view = View(store, 1)
            projection = KpiProjection()
            for event, envelope in batch:
                await projection.apply(event, envelope, view)
            await view.flush()
        found = await store.find(physical(AVAILABILITY, 1), {"tenant": "acme"})
        return [{k: v for k, v in d.items() if not k.startswith("_")} for d in found]
    finally:
        await store.close()


def available(docs: Sequence[Document], month: str) -> dict[str, int]:
    off = {str(d["provider_id"]): d for d in docs if d.get("kind") == "off"}
    sites = [d for d in docs if d.get("kind") != "off"]
    zones = {str(d["site_id"]): ZoneInfo(str(d["time_zone"])) for d in sites}
    return kpi_figures.available_by_provider(sites, month, off, zones)


@pytest.mark.parametrize(
    "batches",
    [
        [SITE, PROVIDER],
        [PROVIDER, SITE],
        [PROVIDER[:2], SITE, PROVIDER[2:], PROVIDER, SITE],  # redelivered
    ],
    ids=["site-first", "site-last", "redelivered"],
)
async def test_the_time_off_kept_gives_the_same_minutes_in_any_order(
    batches: Sequence[Sequence[Sealed]],
) -> None:
    docs = await documents(batches)
    # October's Mondays 5, 12, 19, 26 at 180: less 60 on the 5th, 180 on the 19th (the
    # 12th's time off cancelled) and 180 on the 26th (on leave): 300.
    assert available(docs, "2026-10") == {"p": 300}
    # November's Mondays 2, 9, 16, 23, 30: the 2nd on leave, back on the 3rd: 720.
    assert available(docs, "2026-11") == {"p": 720}
