"""Recalls: a patient whose last completed visit of a recurring type was its interval ago or
more (a year for an annual visit) is due again. Each patient's recall, on
`engagement-recall-<patient>`, is opened once per due date (a later visit moves it on), sent
once when due, and closed by a booking other than the visit it follows; the recall list of a
site is its open recalls.

Completed visits and bookings come from scheduling: the caller passes the last completed visit
in (`last_visits`) and the decider keeps its own record of what it opened, sent and closed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from pydantic import AwareDatetime, Field

from services.engagement.domain.events import PatientDueForRecall, RecallClosed, RecallSent
from shared.domain import Command, Decider, Rejected
from shared.events import DomainEvent


def months_after(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day if it is shorter (31 January and
    one month: 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    for last in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("every month has a 28th")


def a_year_after(day: date) -> date:
    """The same day a year later; 29 February's is 28 February."""
    return months_after(day, 12)


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
    opened: PatientDueForRecall | None = None  # the recall opened last


class OpenRecall(Command):
    patient_id: str
    site_id: str
    last_visit_on: date
    interval_months: int = Field(default=12, ge=1)
    visit_type_id: str | None = None
    appointment_id: str | None = None
    visit_start: AwareDatetime | None = None


class SendRecall(Command):
    """The recall fell due: its message planned (`message_id`), or none (no channel)."""

    patient_id: str
    message_id: str | None
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
            return Recall(event.site_id, event.due_on, sent=False, closed=False, opened=event)
        case RecallSent():
            return replace(state, sent=True)
        case RecallClosed():
            return replace(state, closed=True)
    return state


def _decide(state: Recall, c: RecallCommand) -> Sequence[DomainEvent]:
    match c:
        case OpenRecall():
            due_on = months_after(c.last_visit_on, c.interval_months)
            if state.due_on is not None and due_on <= state.due_on:
                return []  # this one (or a later one) is opened already
            return [
                PatientDueForRecall(
                    patient_id=c.patient_id,
                    site_id=c.site_id,
                    recall_kind="annual" if c.interval_months == 12 else "periodic",
                    last_visit_on=c.last_visit_on,
                    due_on=due_on,
                    interval_months=c.interval_months,
                    visit_type_id=c.visit_type_id,
                    appointment_id=c.appointment_id,
                    visit_start=c.visit_start,
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
            if state.opened is not None and state.opened.appointment_id == c.appointment_id:
                return []  # the booking of the visit the recall follows (read late)
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
