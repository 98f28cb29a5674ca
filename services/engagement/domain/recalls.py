"""Recalls: a patient whose last completed visit was a year ago or more is due for their annual
visit. Each patient's recall, on `engagement-recall-<patient>`, is opened once per due date,
sent once, and closed by a booking; the recall list of a site is its open recalls.

Completed visits and bookings come from scheduling: the caller passes the last completed visit
in (`last_visits`) and the decider keeps its own record of what it opened, sent and closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from services.engagement.domain.events import PatientDueForRecall, RecallClosed, RecallSent
from shared.domain import Command, Decider, Rejected
from shared.events import DomainEvent


def a_year_after(day: date) -> date:
    """The same day a year later; 29 February's is 28 February."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


@dataclass(frozen=True)
class LastVisit:
    patient_id: str
    site_id: str
    visited_on: date


def recalls_due(
    last_visits: Iterable[LastVisit], booked: frozenset[str], today: date, lead_days: int = 0
) -> list[tuple[LastVisit, date]]:
    """The patients due for their annual visit within `lead_days` of `today` and not booked,
    each with the due date, in order of due date then patient."""
    horizon = today + timedelta(days=lead_days)
    due = [
        (visit, a_year_after(visit.visited_on))
        for visit in last_visits
        if visit.patient_id not in booked and a_year_after(visit.visited_on) <= horizon
    ]
    return sorted(due, key=lambda pair: (pair[1], pair[0].patient_id))


@dataclass(frozen=True)
class Recall:
    site_id: str | None = None
    due_on: date | None = None  # of the recall opened last
    sent: bool = False
    closed: bool = True  # no recall open


class OpenRecall(Command):
    patient_id: str
    site_id: str
    last_visit_on: date


class SendRecall(Command):
    patient_id: str
    message_id: str
    today: date


class CloseRecall(Command):
    """The patient booked (any appointment from the recall's site onwards)."""

    patient_id: str
    appointment_id: str
    today: date


RecallCommand = OpenRecall | SendRecall | CloseRecall


def _evolve(state: Recall, event: DomainEvent) -> Recall:
    match event:
        case PatientDueForRecall():
            return Recall(event.site_id, event.due_on, sent=False, closed=False)
        case RecallSent():
            return Recall(state.site_id, state.due_on, sent=True, closed=state.closed)
        case RecallClosed():
            return Recall(state.site_id, state.due_on, sent=state.sent, closed=True)
    return state


def _decide(state: Recall, c: RecallCommand) -> Sequence[DomainEvent]:
    match c:
        case OpenRecall():
            due_on = a_year_after(c.last_visit_on)
            if state.due_on is not None and due_on <= state.due_on:
                return []  # this one (or a later one) is opened already
            return [
                PatientDueForRecall(
                    patient_id=c.patient_id,
                    site_id=c.site_id,
                    recall_kind="annual",
                    last_visit_on=c.last_visit_on,
                    due_on=due_on,
                )
            ]
        case SendRecall():
            if state.closed or state.due_on is None or state.site_id is None:
                raise Rejected("no recall is open")
            if state.sent:
                return []
            return [
                RecallSent(
                    patient_id=c.patient_id,
                    site_id=state.site_id,
                    due_on=state.due_on,
                    message_id=c.message_id,
                    sent_on=c.today,
                )
            ]
        case CloseRecall():
            if state.closed or state.due_on is None or state.site_id is None:
                return []
            return [
                RecallClosed(
                    patient_id=c.patient_id,
                    site_id=state.site_id,
                    due_on=state.due_on,
                    appointment_id=c.appointment_id,
                    closed_on=c.today,
                )
            ]


recall = Decider[Recall, RecallCommand](Recall(), _evolve, _decide)


def recall_lists(events: Iterable[DomainEvent]) -> Mapping[str, list[tuple[str, date]]]:
    """Each site's open recalls, `(patient, due date)` by due date: a fold over every patient's
    recall events in the order recorded."""
    open_: dict[str, tuple[str, date]] = {}
    for event in events:
        match event:
            case PatientDueForRecall():
                open_[event.patient_id] = (event.site_id, event.due_on)
            case RecallClosed():
                open_.pop(event.patient_id, None)
    lists: dict[str, list[tuple[str, date]]] = {}
    for patient_id, (site_id, due_on) in open_.items():
        lists.setdefault(site_id, []).append((patient_id, due_on))
    return {site: sorted(rows, key=lambda r: (r[1], r[0])) for site, rows in sorted(lists.items())}
