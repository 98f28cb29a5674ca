"""The monitors' pure rules and the alert decider: given facts and a time, then these findings;
given an alert's events, when a command, then these events."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from services.compliance.domain import monitors as rules
from services.compliance.domain.alerts import (
    AcknowledgeAlert,
    AlertRaised,
    AlertResolved,
    Finding,
    ResolveAlert,
    alert,
    alert_id,
    raise_command,
)
from shared.domain import Invalid, NotFound

TODAY = date(2026, 11, 26)
AT = datetime(2026, 11, 26, 15, tzinfo=UTC)
LICENCE = {
    "tenant": "acme",
    "credential_id": "lic-1",
    "employee_id": "dr-a",
    "kind": "state_licence",
    "expires_on": "2026-12-10",
}
WEEKDAYS_8_TO_6 = [{"weekday": d, "opens": "08:00:00", "closes": "18:00:00"} for d in range(5)]


def test_an_alert_id_is_fixed_by_monitor_subject_and_period() -> None:
    first = alert_id("credential_expired", "credential/lic-1", "2026-12-10")
    assert first == alert_id("credential_expired", "credential/lic-1", "2026-12-10")
    assert first != alert_id("credential_expired", "credential/lic-1", "2027-12-10")
    assert first != alert_id("credential_expiring", "credential/lic-1", "2026-12-10")
    assert first.startswith("credential-expired-")


def test_a_licence_is_expiring_within_the_window_then_expired_after_its_last_day() -> None:
    assert rules.credential(LICENCE, TODAY, 10, "north") == []  # 14 days left
    (expiring,) = rules.credential(LICENCE, TODAY, 30, "north")
    assert (expiring.monitor, expiring.period, expiring.site) == (
        "credential_expiring",
        "2026-12-10",
        "north",
    )
    assert rules.credential(LICENCE, date(2026, 12, 10), 0, None)[0].monitor == (
        "credential_expiring"  # its last day is still valid
    )
    (expired,) = rules.credential(LICENCE, date(2026, 12, 11), 30, None)
    assert (expired.monitor, expired.severity) == ("credential_expired", "critical")
    assert rules.credential({**LICENCE, "revoked": True}, date(2027, 1, 1), 30, None) == []
    assert rules.credential({**LICENCE, "employed": False}, date(2027, 1, 1), 30, None) == []
    assert rules.credential({**LICENCE, "expires_on": None}, TODAY, 30, None) == []


def test_training_is_overdue_the_day_after_it_was_due_unless_completed() -> None:
    doc = {
        "tenant": "acme",
        "assignment_id": "a-1",
        "employee_id": "dr-a",
        "course_name": "HIPAA",
        "due_on": "2026-11-26",
    }
    assert rules.training(doc, TODAY, None) == []
    (overdue,) = rules.training(doc, date(2026, 11, 27), "north")
    assert (overdue.subject, overdue.period) == ("training/a-1", "2026-11-26")
    assert rules.training({**doc, "completed": True}, date(2027, 1, 1), None) == []


@pytest.mark.parametrize(
    ("local", "open_"),
    [
        ("2026-11-26T08:00", True),  # Thursday, opening
        ("2026-11-26T17:59", True),
        ("2026-11-26T18:00", False),  # closing time
        ("2026-11-26T07:59", False),
        ("2026-11-29T12:00", False),  # Sunday
    ],
)
def test_a_site_is_open_within_its_hours(local: str, open_: bool) -> None:
    moment = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo("America/New_York"))
    assert rules.is_open(moment, WEEKDAYS_8_TO_6) is open_


def test_a_read_after_hours_is_found_only_when_every_site_is_closed() -> None:
    night = datetime(2026, 11, 27, 3, tzinfo=UTC)  # 22:00 Thursday in New York
    new_york = night.astimezone(ZoneInfo("America/New_York"))
    tokyo = night.astimezone(ZoneInfo("Asia/Tokyo"))  # 12:00 Friday: open
    sites = [("north", new_york, WEEKDAYS_8_TO_6)]
    (found,) = rules.read_after_hours("acme", "dr-a", "pat-1", night, sites)
    assert (found.period, found.site) == ("2026-11-27", "north")
    both = [*sites, ("tokyo", tokyo, WEEKDAYS_8_TO_6)]
    assert rules.read_after_hours("acme", "dr-a", "pat-1", night, both) == []
    assert rules.read_after_hours("acme", "dr-a", "pat-1", night, []) == []


def test_reads_of_many_patients_and_of_a_patient_seen_elsewhere() -> None:
    assert rules.reads_volume("acme", "dr-a", "2026-11-26T15", 2, 3) == []
    (volume,) = rules.reads_volume("acme", "dr-a", "2026-11-26T15", 3, 3)
    assert volume.subject == "reader/dr-a"
    assert rules.hour_of(AT) == "2026-11-26T15"
    assert rules.read_without_visit("acme", "dr-a", "p", ["north"], ["north"], "d") == []
    assert rules.read_without_visit("acme", "dr-a", "p", [], [], "d") == []
    (elsewhere,) = rules.read_without_visit("acme", "dr-a", "p", ["north", "south"], [], "d")
    assert elsewhere.site is None  # two sites: about neither alone


def test_a_ledger_fault_is_its_own_period() -> None:
    assert rules.ledger("acme", {"verified": True}) == []
    (block,) = rules.ledger("acme", {"verified": False, "broken_at": 2, "reason": "edited"})
    assert block.period == "block-2"
    (store,) = rules.ledger("acme", {"verified": False, "broken_at": None, "reason": "changed"})
    (same,) = rules.ledger("acme", {"verified": False, "broken_at": None, "reason": "changed"})
    assert store.alert_id == same.alert_id


FINDING = Finding("acme", "training_overdue", "training/a-1", "2026-11-26", "warning", "late")


def test_an_alert_is_raised_once_then_acknowledged_and_resolved_with_a_note() -> None:
    command = raise_command(FINDING, AT)
    (raised,) = alert.decide(alert.initial, command)
    assert isinstance(raised, AlertRaised)
    state = alert.fold([raised])
    assert alert.decide(state, command) == []  # raised again: nothing
    ack = AcknowledgeAlert(alert_id=FINDING.alert_id, by="officer", at=AT)
    (acknowledged,) = alert.decide(state, ack)
    state = alert.fold([raised, acknowledged])
    assert alert.decide(state, ack) == []
    with pytest.raises(Invalid):
        alert.decide(state, ResolveAlert(alert_id=FINDING.alert_id, by="o", at=AT, note=" "))
    (resolved,) = alert.decide(
        state, ResolveAlert(alert_id=FINDING.alert_id, by="o", at=AT, note="done")
    )
    assert isinstance(resolved, AlertResolved)
    with pytest.raises(NotFound):
        alert.decide(alert.initial, ack)
    with pytest.raises(NotFound):  # an alert about no site, for a caller of some sites only
        alert.decide(alert.fold([raised]), ack.model_copy(update={"within": ("north",)}))


def test_an_unacknowledged_policy_is_one_alert_per_person_and_version() -> None:
    row = {
        "policy_id": "hipaa",
        "version": 2,
        "title": "HIPAA privacy",
        "due_on": "2026-11-16",
        "employee_id": "nurse-1",
        "employee_name": "Ann Lee",
    }
    [found] = rules.policy_unacknowledged("acme", row, "north")
    assert (found.monitor, found.subject, found.period) == (
        rules.POLICY_UNACKNOWLEDGED,
        "policy/hipaa/employee/nurse-1",
        "2",
    )
    assert (found.site, found.severity) == ("north", "warning")
    assert "Ann Lee" in found.summary
    assert "version 2" in found.summary
    [next_version] = rules.policy_unacknowledged("acme", {**row, "version": 3}, "north")
    assert next_version.alert_id != found.alert_id


@pytest.mark.parametrize(
    ("days_left", "monitor", "severity"),
    [
        (5, rules.INCIDENT_DEADLINE_NEAR, "warning"),
        (0, rules.INCIDENT_DEADLINE_NEAR, "warning"),
        (-1, rules.INCIDENT_DEADLINE_MISSED, "critical"),
    ],
)
def test_an_incident_step_near_or_past_its_due_date(
    days_left: int, monitor: str, severity: str
) -> None:
    row = {
        "incident_id": "inc-1",
        "kind": "privacy",
        "site_id": "north",
        "title": "Wrong address",
        "task": "risk_assessment",
        "due_on": "2026-12-01",
        "days_left": days_left,
        "overdue": days_left < 0,
    }
    [found] = rules.incident_deadline("acme", row)
    assert (found.monitor, found.severity, found.site) == (monitor, severity, "north")
    assert (found.subject, found.period) == ("incident/inc-1/risk_assessment", "2026-12-01")
    assert "risk assessment" in found.summary
