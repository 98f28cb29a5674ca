"""FHIR ids for scheduling's records.

A FHIR id is `[A-Za-z0-9\\-.]{1,64}`; ours are `[A-Za-z0-9_-]{1,64}`. The two alphabets are the
same size, so an id maps one to one by writing `_` as `.` (ours never hold a `.`). We encode
rather than tighten our ids: stored events are never rewritten, so an id with `_` accepted
once must stay readable, here and in the native API.

Two of our namespaces (sites and rooms) share the FHIR type Location, and a Schedule stands
for a pair (provider, site). Neither fits 64 characters one to one, so their ids are readable
(`site-north`, `room-exam-1`, `4-dr-a-north`) while that is shorter than 64 characters, and a
64-character digest otherwise: the two forms never meet, and the API finds such a resource by
listing the tenant's few sites, rooms or providers and mapping them again. A free Slot is
(start, visit type, schedule): `202612011400-9-follow-up-4-dr-a-north`, or a digest.
"""

from __future__ import annotations

from datetime import UTC, datetime

# The id rules every service's FHIR view shares (staffing's PractitionerRole names sites too).
from shared.http.fhir import FHIR_ID, fhir_id, our_id, site_location_id
from shared.http.fhir import readable_or_digest as _readable_or_digest

__all__ = [
    "FHIR_ID",
    "fhir_id",
    "our_id",
    "room_location_id",
    "schedule_id",
    "site_location_id",
    "slot_id",
]


def room_location_id(room_id: str) -> str:
    return _readable_or_digest(f"room-{fhir_id(room_id)}", "room", room_id)


def schedule_id(provider_id: str, site_id: str) -> str:
    """One provider's schedule at one site: the length prefix keeps the pair unambiguous."""
    readable = f"{len(provider_id)}-{fhir_id(provider_id)}-{fhir_id(site_id)}"
    return _readable_or_digest(readable, "schedule", provider_id, site_id)


def slot_id(provider_id: str, site_id: str, visit_type_id: str, start: datetime) -> str:
    """A free slot: when (UTC, to the minute), for which visit type, in which schedule. Slots
    are computed, not stored; the same free time has the same id on every search."""
    when = start.astimezone(UTC).strftime("%Y%m%d%H%M")
    schedule = schedule_id(provider_id, site_id)
    readable = f"{when}-{len(visit_type_id)}-{fhir_id(visit_type_id)}-{schedule}"
    return _readable_or_digest(readable, "slot", provider_id, site_id, visit_type_id, when)
