"""Stream names. Each invariant lives in one stream: no double-booking in a site's day."""

from __future__ import annotations

from datetime import date


def site(tenant: str, site_id: str) -> str:
    return f"{tenant}:site:{site_id}"


def room(tenant: str, room_id: str) -> str:
    return f"{tenant}:room:{room_id}"


def provider(tenant: str, provider_id: str) -> str:
    return f"{tenant}:provider:{provider_id}"


def visit_type(tenant: str, visit_type_id: str) -> str:
    return f"{tenant}:visit-type:{visit_type_id}"


def site_day(tenant: str, site_id: str, day: date) -> str:
    return f"{tenant}:site-day:{site_id}:{day.isoformat()}"


def site_day_parts(stream: str) -> tuple[str, str]:
    """The site and the local date (ISO) of a site-day stream."""
    _, _, site_id, day = stream.rsplit(":", 3)
    return site_id, day


def series(tenant: str, series_id: str) -> str:
    return f"{tenant}:series:{series_id}"


def patient(tenant: str, patient_id: str) -> str:
    return f"{tenant}:patient:{patient_id}"


def record_access(tenant: str, access_id: str) -> str:
    return f"{tenant}:record-access:{access_id}"


def triage_day(tenant: str, site_id: str, day: date) -> str:
    """A site's same-day triage queue on one local date."""
    return f"{tenant}:triage-day:{site_id}:{day.isoformat()}"


def waitlist(tenant: str, site_id: str) -> str:
    """A site's waitlist: its entries and the offers of freed slots to them."""
    return f"{tenant}:waitlist:{site_id}"
