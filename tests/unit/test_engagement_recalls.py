"""Recalls: a patient a year past their last completed visit is due, opened once per due date,
sent once, and off the site's recall list when they book."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pytest

from services.engagement.domain.events import PatientDueForRecall, RecallClosed, RecallSent
from services.engagement.domain.recalls import (
    CloseRecall,
    LastVisit,
    OpenRecall,
    RecallCommand,
    SendRecall,
    a_year_after,
    recall,
    recall_lists,
    recalls_due,
)
from shared.domain import Rejected
from shared.events import DomainEvent

TODAY = date(2026, 3, 2)
DUE = PatientDueForRecall(
    patient_id="pt-1",
    site_id="site-1",
    recall_kind="annual",
    last_visit_on=date(2025, 2, 20),
    due_on=date(2026, 2, 20),
)


def when(given: Sequence[DomainEvent], command: RecallCommand) -> Sequence[DomainEvent]:
    return recall.decide(recall.fold(given), command)


def test_a_year_after_keeps_the_day_and_moves_29_february_to_the_28th() -> None:
    assert a_year_after(date(2025, 3, 2)) == date(2026, 3, 2)
    assert a_year_after(date(2024, 2, 29)) == date(2025, 2, 28)


def test_patients_due_are_those_a_year_past_their_last_visit_and_not_booked() -> None:
    visits = [
        LastVisit("pt-1", "site-1", date(2025, 2, 20)),  # due 20 Feb: overdue
        LastVisit("pt-2", "site-1", date(2025, 3, 2)),  # due today
        LastVisit("pt-3", "site-2", date(2025, 3, 20)),  # due in 18 days
        LastVisit("pt-4", "site-1", date(2025, 1, 5)),  # due, but booked
        LastVisit("pt-5", "site-2", date(2025, 9, 1)),  # not for months
    ]
    due = recalls_due(visits, frozenset({"pt-4"}), TODAY)
    assert [(v.patient_id, on) for v, on in due] == [
        ("pt-1", date(2026, 2, 20)),
        ("pt-2", date(2026, 3, 2)),
    ]
    with_lead = recalls_due(visits, frozenset({"pt-4"}), TODAY, lead_days=30)
    assert [v.patient_id for v, _ in with_lead] == ["pt-1", "pt-2", "pt-3"]


def test_a_recall_is_opened_once_per_due_date() -> None:
    open_ = OpenRecall(patient_id="pt-1", site_id="site-1", last_visit_on=date(2025, 2, 20))
    assert when([], open_) == [DUE]
    assert when([DUE], open_) == []


def test_a_recall_is_sent_once_and_closed_by_a_booking() -> None:
    send = SendRecall(patient_id="pt-1", message_id="m-1", today=TODAY)
    sent = RecallSent(
        patient_id="pt-1", site_id="site-1", due_on=DUE.due_on, message_id="m-1", sent_on=TODAY
    )
    assert when([DUE], send) == [sent]
    assert when([DUE, sent], send) == []
    book = CloseRecall(patient_id="pt-1", appointment_id="ap-9", today=TODAY)
    closed = RecallClosed(
        patient_id="pt-1",
        site_id="site-1",
        due_on=DUE.due_on,
        appointment_id="ap-9",
        closed_on=TODAY,
    )
    assert when([DUE, sent], book) == [closed]
    assert when([DUE, sent, closed], book) == []
    with pytest.raises(Rejected):
        when([DUE, sent, closed], send)


def test_the_next_year_opens_a_new_recall() -> None:
    closed = RecallClosed(
        patient_id="pt-1",
        site_id="site-1",
        due_on=DUE.due_on,
        appointment_id="ap-9",
        closed_on=TODAY,
    )
    next_year = OpenRecall(patient_id="pt-1", site_id="site-2", last_visit_on=date(2026, 3, 10))
    assert when([DUE, closed], next_year) == [
        PatientDueForRecall(
            patient_id="pt-1",
            site_id="site-2",
            recall_kind="annual",
            last_visit_on=date(2026, 3, 10),
            due_on=date(2027, 3, 10),
        )
    ]


def test_a_sites_recall_list_holds_the_open_recalls_until_they_book() -> None:
    other = DUE.model_copy(update={"patient_id": "pt-2", "due_on": date(2026, 2, 1)})
    elsewhere = DUE.model_copy(update={"patient_id": "pt-3", "site_id": "site-2"})
    booked = RecallClosed(
        patient_id="pt-1",
        site_id="site-1",
        due_on=DUE.due_on,
        appointment_id="ap-9",
        closed_on=TODAY,
    )
    assert recall_lists([DUE, other, elsewhere]) == {
        "site-1": [("pt-2", date(2026, 2, 1)), ("pt-1", date(2026, 2, 20))],
        "site-2": [("pt-3", date(2026, 2, 20))],
    }
    assert recall_lists([DUE, other, elsewhere, booked]) == {
        "site-1": [("pt-2", date(2026, 2, 1))],
        "site-2": [("pt-3", date(2026, 2, 20))],
    }
