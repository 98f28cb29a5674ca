"""The roster per site and ISO week, with its coverage gaps.

Two collections: each site's roster settings (zone, shift templates, minimum staffing) and the
shifts of each site and week (by the ISO week of the shift's local start date). A roster query
reads the week's document, the week before (a Sunday night shift covers Monday's first hours)
and the site's settings, and works out the gaps: the local hours where fewer people (of the
minimum's role, if it names one) are rostered for the whole hour than the minimum asks.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
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


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def gaps(
    monday: date, zone: ZoneInfo, minimums: list[dict[str, Any]], shifts: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The local hours of the week where the rostered headcount is below the minimum."""
    spans = [(_instant(s["start"]), _instant(s["end"]), s["role"]) for s in shifts]
    found = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        for rule in minimums:
            if rule["weekday"] != day.weekday():
                continue
            hour = rule["hour"]
            start = datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)
            next_day = day + timedelta(days=1) if hour == 23 else day
            end = datetime.combine(next_day, time((hour + 1) % 24), tzinfo=zone).astimezone(UTC)
            role = rule.get("role")
            rostered = sum(
                1 for s, e, r in spans if s <= start and e >= end and (role is None or r == role)
            )
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
    days = []
    for offset in range(7):
        day = (monday + timedelta(days=offset)).isoformat()
        listed = []
        for shift in shifts:
            if shift["day"] != day:
                continue
            shown = {k: shift[k] for k in ("shift_id", "employee_id", "role", "template_id")}
            shown |= {"start": shift["start"], "end": shift["end"]}
            if zone is not None:
                shown["local_start"] = _instant(shift["start"]).astimezone(zone).isoformat()
                shown["local_end"] = _instant(shift["end"]).astimezone(zone).isoformat()
            listed.append(shown)
        days.append({"day": day, "shifts": listed})
    covering = [
        *shifts,
        *(s for s in spill.values() if _instant(s["end"]) > _start_of(monday, zone)),
    ]
    return {
        "site_id": site_id,
        "week": week,
        "time_zone": zone_name,
        "days": days,
        "minimums": site.get("minimums", []),
        "gaps": gaps(monday, zone, site.get("minimums", []), covering) if zone else [],
    }


def _start_of(day: date, zone: ZoneInfo | None) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone or UTC).astimezone(UTC)
