"""Scheduling's bus consumers and timers: what it does on its own, not asked over HTTP.

Reactors (each its own consumer group, `reactor.<name>`) finish work a request left halfway: a
move between days, a series booked whole, a freed slot offered to the waitlist (on scheduling's
topic); one records what staffing's events say about providers (on staffing's topic); and one
makes a patient's answer through engagement's signed link the confirmation or cancellation the
front desk would record (on engagement's topic, `application/links.py`).
Timers mark no-shows, expire offers and measure the third next available appointment
(`application/access.py`). The reactions and timers themselves are use cases
(`application/reactions.py`, `application/staffing.py`); this module declares which ones run.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.scheduling.application.access import ThirdNextAvailable, ThirdNextAvailableTimer
from services.scheduling.application.appointments import Appointments
from services.scheduling.application.commands import Scheduling
from services.scheduling.application.directory import Directory
from services.scheduling.application.links import AnswerPatientLinks, PatientLinks
from services.scheduling.application.reactions import (
    FinishMoves,
    FinishSeries,
    NoShowTimer,
    OfferExpiryTimer,
    OfferFreedSlots,
)
from services.scheduling.application.staffing import LearnFromStaffing
from services.scheduling.application.waitlist import Waitlist
from shared.reactions import Reaction
from shared.readmodels import ReadModels
from shared.settings import Settings
from shared.timers import Timer


def reactions(
    scheduling: Scheduling, appointments: Appointments, waitlist: Waitlist, links: PatientLinks
) -> Sequence[Reaction]:
    return [
        FinishMoves(appointments),
        FinishSeries(appointments),
        OfferFreedSlots(waitlist),
        LearnFromStaffing(scheduling),
        AnswerPatientLinks(links),
    ]


def timers(
    settings: Settings,
    appointments: Appointments,
    directory: Directory,
    waitlist: Waitlist,
    read_models: ReadModels,
    access: ThirdNextAvailable,
) -> Sequence[Timer]:
    return [
        NoShowTimer(appointments, directory, read_models, settings.no_show_timer_seconds),
        OfferExpiryTimer(waitlist, settings.offer_expiry_timer_seconds),
        ThirdNextAvailableTimer(access, settings.third_next_available_timer_seconds),
    ]
