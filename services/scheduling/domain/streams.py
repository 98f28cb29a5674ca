"""Stream names and commit tags. Each invariant lives in one stream: no double-booking in a
site's day. A tag names what a commit is about, so that a command finds its stream through the
event store's tag index (an appointment's site-day, a triage entry's queue, a site's rooms)."""

from __future__ import annotations

from datetime import date

from services.scheduling.domain.events import AppointmentBooked, PatientTriaged, RoomAdded
from shared.events import DomainEvent


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
    """The site and the local date (ISO) of a site-day (or triage-day) stream."""
    _, _, site_id, day = stream.rsplit(":", 3)
    return site_id, day


def access_day(tenant: str, site_id: str, day: date) -> str:
    """A site's access measures (third next available) taken on one local date."""
    return f"{tenant}:access-day:{site_id}:{day.isoformat()}"


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


def patient_answer(tenant: str, answer_id: str) -> str:
    """What became of one patient's answer through engagement's signed link."""
    return f"{tenant}:patient-answer:{answer_id}"


def appointment_tag(tenant: str, appointment_id: str) -> str:
    """On every commit that books the appointment: the site-days it was booked on."""
    return f"{tenant}:appointment:{appointment_id}"


def triage_tag(tenant: str, triage_id: str) -> str:
    """On the commit that put the triage entry in its queue."""
    return f"{tenant}:triage:{triage_id}"


def site_rooms_tag(tenant: str, site_id: str) -> str:
    """On each room's registration: the rooms of the site."""
    return f"{tenant}:site-rooms:{site_id}"


def tags(tenant: str, event: DomainEvent) -> tuple[str, ...]:
    """The tags of the commit that records `event`."""
    match event:
        case AppointmentBooked():
            return (appointment_tag(tenant, event.appointment_id),)
        case PatientTriaged():
            return (triage_tag(tenant, event.triage_id),)
        case RoomAdded():
            return (site_rooms_tag(tenant, event.site_id),)
    return ()
