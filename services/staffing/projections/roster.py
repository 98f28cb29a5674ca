"""The roster per site and ISO week, with its coverage gaps.

Two collections: each site's roster settings (zone, shift templates, minimum staffing) and the
shifts of each site and week (by the ISO week of the shift's local start date). A roster query
reads the week's document, the week before (a Sunday night shift covers Monday's first hours)
and the site's settings, and works out the gaps: the local hours where fewer people (of the
minimum's role, if it names one) are rostered for the whole hour than the minimum asks.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.staffing.domain.events import (
    MinimumStaffingSet,
    ShiftAssigned,
    ShiftTemplateDefined,
    ShiftUnassigned,
    SiteTimeZoneSet,
)
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View
from shared.readmodels import ReadModels, physical

PROJECTION = "staffing.roster"
SITES, WEEKS = "roster_sites", "roster_weeks"


def week_of(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def monday_of(week: str) -> date:
    """The Monday of an ISO week `YYYY-Www`; ValueError for anything else."""
    year, _, number = week.partition("-W")
    if len(year) != 4 or len(number) != 2 or not (year + number).isdigit():
        raise ValueError(f"{week!r} is not an ISO week like 2026-W49")
    return date.fromisocalendar(int(year), int(number), 1)


def site_doc_id(tenant: str, site_id: str) -> str:
    return f"{tenant}:{site_id}"


def week_doc_id(tenant: str, site_id: str, week: str) -> str:
    return f"{tenant}:{site_id}:{week}"


class RosterProjection:
    name = PROJECTION
    contexts = ("staffing",)
    collections = (SITES, WEEKS)
    handles = (
        SiteTimeZoneSet,
        ShiftTemplateDefined,
        MinimumStaffingSet,
        ShiftAssigned,
        ShiftUnassigned,
    )

    def keys(self, event: DomainEvent, envelope: Envelope) -> list[tuple[str, str]]:
        if isinstance(event, ShiftAssigned | ShiftUnassigned):
            return [(WEEKS, week_doc_id(envelope.tenant, event.site_id, week_of(event.day)))]
        site_id = getattr(event, "site_id", None)
        return [(SITES, site_doc_id(envelope.tenant, site_id))] if site_id else []

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        tenant = envelope.tenant
        if isinstance(event, ShiftAssigned | ShiftUnassigned):
            week = week_of(event.day)
            shift = event.model_dump(mode="json")

            def roster(doc: Document | None) -> Document:
                doc = doc or {
                    "tenant": tenant,
                    "site_id": event.site_id,
                    "week": week,
                    "shifts": {},
                }
                if isinstance(event, ShiftAssigned):
                    doc["shifts"][event.shift_id] = shift
                else:
                    doc["shifts"].pop(event.shift_id, None)
                return doc

            doc_id = week_doc_id(tenant, event.site_id, week)
            await view.change(WEEKS, doc_id, envelope, roster)
            return
        if not isinstance(event, SiteTimeZoneSet | ShiftTemplateDefined | MinimumStaffingSet):
            return
        fields = event.model_dump(mode="json")

        def settings(doc: Document | None) -> Document:
            doc = doc or {
                "tenant": tenant,
                "site_id": fields["site_id"],
                "time_zone": None,
                "templates": {},
                "minimums": [],
            }
            if isinstance(event, SiteTimeZoneSet):
                doc["time_zone"] = fields["time_zone"]
            elif isinstance(event, ShiftTemplateDefined):
                doc["templates"][event.template_id] = fields
            else:
                doc["minimums"] = fields["minimums"]
            return doc

        await view.change(SITES, site_doc_id(tenant, fields["site_id"]), envelope, settings)


Span = tuple[float, float, str]  # start and end (POSIX seconds), role
NOBODY = [0] * 24


def _local(day: date, hour: int, zone: ZoneInfo) -> float:
    return datetime.combine(day, time(hour), tzinfo=zone).timestamp()


def gaps(
    monday: date, zone: ZoneInfo, minimums: list[dict[str, Any]], spans: list[Span]
) -> list[dict[str, Any]]:
    """The local hours of the week where the rostered headcount is below the minimum. A shift
    counts for an hour it covers whole: from `hour`:00 to `hour + 1`:00 local time."""
    found = []
    spans = sorted(spans)
    starts = [span[0] for span in spans]
    longest = max((end - start for start, end, _ in spans), default=0.0)
    for offset in range(7):
        day = monday + timedelta(days=offset)
        rules = [r for r in minimums if r["weekday"] == day.weekday()]
        if not rules:
            continue
        # The day's hour boundaries as instants: slot h is bounds[h] to bounds[h + 1].
        bounds = [_local(day, h, zone) for h in range(24)]
        bounds.append(_local(day + timedelta(days=1), 0, zone))
        total = [0] * 24
        by_role: dict[str, list[int]] = {}
        # Only the shifts starting between a shift's length before the day and its end.
        lo, hi = bisect_left(starts, bounds[0] - longest), bisect_left(starts, bounds[24])
        for start, end, kind in spans[lo:hi]:
            if end <= bounds[0]:
                continue
            first, last = bisect_left(bounds, start), bisect_right(bounds, end) - 1
            counts = by_role.setdefault(kind, [0] * 24)
            for hour in range(first, last):
                total[hour] += 1
                counts[hour] += 1
        for rule in rules:
            hour, role = rule["hour"], rule.get("role")
            counted = total if role is None else by_role.get(role, NOBODY)
            rostered = counted[hour]
            if rostered < rule["headcount"]:
                found.append(
                    {
                        "day": day.isoformat(),
                        "hour": hour,
                        "role": role,
                        "required": rule["headcount"],
                        "rostered": rostered,
                        "short": rule["headcount"] - rostered,
                    }
                )
    return sorted(found, key=lambda g: (g["day"], g["hour"], g["role"] or ""))


async def roster_week(
    read_models: ReadModels, tenant: str, site_id: str, week: str
) -> dict[str, Any]:
    """The roster of a site for an ISO week: shifts per local day, and the coverage gaps."""
    monday = monday_of(week)
    previous = week_of(monday - timedelta(days=1))
    generation = await read_models.generation(PROJECTION)
    store = read_models.store
    weeks = await store.get_many(
        physical(WEEKS, generation),
        [week_doc_id(tenant, site_id, week), week_doc_id(tenant, site_id, previous)],
    )
    site = await store.get(physical(SITES, generation), site_doc_id(tenant, site_id)) or {}
    this_week = weeks.get(week_doc_id(tenant, site_id, week), {}).get("shifts", {})
    spill = weeks.get(week_doc_id(tenant, site_id, previous), {}).get("shifts", {})
    shifts = sorted(this_week.values(), key=lambda s: (s["start"], s["employee_id"]))
    zone_name = site.get("time_zone")
    zone = ZoneInfo(zone_name) if zone_name else None
    by_day: dict[str, list[dict[str, Any]]] = {}
    spans: list[Span] = []
    # Shifts from templates share their instants: each is parsed and shown locally once.
    instants: dict[str, tuple[float, str | None]] = {}

    def instant(text: str) -> tuple[float, str | None]:
        known = instants.get(text)
        if known is None:
            moment = datetime.fromisoformat(text)
            shown = moment.astimezone(zone).isoformat() if zone is not None else None
            known = instants[text] = (moment.timestamp(), shown)
        return known

    for shift in shifts:
        (begins, local_start), (ends, local_end) = instant(shift["start"]), instant(shift["end"])
        spans.append((begins, ends, shift["role"]))
        shown = {k: shift[k] for k in ("shift_id", "employee_id", "role", "template_id")}
        shown |= {"start": shift["start"], "end": shift["end"]}
        if zone is not None:
            shown |= {"local_start": local_start, "local_end": local_end}
        by_day.setdefault(shift["day"], []).append(shown)
    days = []
    for offset in range(7):
        day = (monday + timedelta(days=offset)).isoformat()
        days.append({"day": day, "shifts": by_day.get(day, [])})
    found: list[dict[str, Any]] = []
    if zone is not None:
        # A shift of the week before (a Sunday night's) may cover Monday's first hours.
        week_start = _local(monday, 0, zone)
        for shift in spill.values():
            begins, ends = instant(shift["start"])[0], instant(shift["end"])[0]
            if ends > week_start:
                spans.append((begins, ends, shift["role"]))
        found = gaps(monday, zone, site.get("minimums", []), spans)
    return {
        "site_id": site_id,
        "week": week,
        "time_zone": zone_name,
        "days": days,
        "minimums": site.get("minimums", []),
        "gaps": found,
    }
