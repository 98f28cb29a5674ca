"""What each monitor finds, as pure rules over the facts compliance keeps (`projections/watch.py`)
and the time given to it. No I/O here: `application/monitors.py` reads the facts, calls these
and raises what they find."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from services.compliance.domain.alerts import Finding, Severity

CREDENTIAL_EXPIRING = "credential_expiring"
CREDENTIAL_EXPIRED = "credential_expired"
TRAINING_OVERDUE = "training_overdue"
PHI_READS_VOLUME = "phi_reads_volume"
PHI_READ_NO_VISIT = "phi_read_no_visit"
PHI_READ_AFTER_HOURS = "phi_read_after_hours"
LEDGER_UNVERIFIED = "ledger_unverified"
POLICY_UNACKNOWLEDGED = "policy_unacknowledged"
INCIDENT_DEADLINE_NEAR = "incident_deadline_near"
INCIDENT_DEADLINE_MISSED = "incident_deadline_missed"


def credential(
    doc: Mapping[str, Any], today: date, warn_days: int, site: str | None
) -> list[Finding]:
    """A credential past its last day (expired), or within `warn_days` of it (expiring). The
    period is the expiry date: a renewal's new date is a new period, so a new alert."""
    expires = doc.get("expires_on")
    if expires is None or doc.get("revoked") or not doc.get("employed", True):
        return []
    expires_on = date.fromisoformat(expires)
    days_left = (expires_on - today).days
    details = {
        "employee_id": str(doc["employee_id"]),
        "credential_id": str(doc["credential_id"]),
        "kind": str(doc["kind"]),
        "expires_on": expires,
    }
    subject = f"credential/{doc['credential_id']}"

    def finding(monitor: str, severity: Severity, summary: str) -> Finding:
        return Finding(doc["tenant"], monitor, subject, expires, severity, summary, site, details)

    if days_left < 0:
        summary = f"{doc['kind']} {doc['credential_id']} expired on {expires}"
        return [finding(CREDENTIAL_EXPIRED, "critical", summary)]
    if days_left <= warn_days:
        summary = f"{doc['kind']} {doc['credential_id']} expires on {expires} ({days_left} days)"
        return [finding(CREDENTIAL_EXPIRING, "warning", summary)]
    return []


def training(doc: Mapping[str, Any], today: date, site: str | None) -> list[Finding]:
    """An assignment not completed by its due date. The period is the due date."""
    if doc.get("completed") or not doc.get("employed", True):
        return []
    due = str(doc["due_on"])
    if date.fromisoformat(due) >= today:
        return []
    return [
        Finding(
            doc["tenant"],
            TRAINING_OVERDUE,
            f"training/{doc['assignment_id']}",
            due,
            "warning",
            f"{doc['course_name']} was due on {due} and is not completed",
            site,
            {
                "employee_id": str(doc["employee_id"]),
                "assignment_id": str(doc["assignment_id"]),
                "due_on": due,
            },
        )
    ]


def policy_unacknowledged(tenant: str, row: Mapping[str, Any], site: str | None) -> list[Finding]:
    """A person who owes the acknowledgement of a policy's current version past its due date
    (a row of `Policies.overdue`). The period is the version: a new version is a new alert,
    a reminder or another day is not."""
    employee, policy, version = str(row["employee_id"]), str(row["policy_id"]), str(row["version"])
    return [
        Finding(
            tenant,
            POLICY_UNACKNOWLEDGED,
            f"policy/{policy}/employee/{employee}",
            version,
            "warning",
            f"{row.get('employee_name') or employee} has not acknowledged {row['title']} "
            f"(version {version}), due on {row['due_on']}",
            site,
            {
                "employee_id": employee,
                "policy_id": policy,
                "version": version,
                "due_on": str(row["due_on"]),
            },
        )  # fmt: skip
    ]


def incident_deadline(tenant: str, row: Mapping[str, Any]) -> list[Finding]:
    """A step an incident still owes (a row of `Incidents.due`: breach notifications, the risk
    assessment, a safety investigation): near its due date (a warning), or past it (critical).
    The period is the due date: each is raised once, near and again once missed."""
    incident, task, due = str(row["incident_id"]), str(row["task"]), str(row["due_on"])
    missed = bool(row["overdue"])
    days = int(row["days_left"])
    when = f"was due on {due}" if missed else f"is due on {due} ({days} days)"
    return [
        Finding(
            tenant,
            INCIDENT_DEADLINE_MISSED if missed else INCIDENT_DEADLINE_NEAR,
            f"incident/{incident}/{task}",
            due,
            "critical" if missed else "warning",
            f"incident {incident} ({row['title']}): {task.replace('_', ' ')} {when}",
            str(row["site_id"]),
            {"incident_id": incident, "task": task, "due_on": due, "kind": str(row["kind"])},
        )
    ]


def hour_of(moment: datetime) -> str:
    """The UTC hour a read falls in: the period of the volume monitor."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H")


def reads_volume(
    tenant: str, reader: str, hour: str, patients: int, threshold: int
) -> list[Finding]:
    """One reader opened `threshold` or more distinct patients' records within one hour."""
    if patients < threshold:
        return []
    return [
        Finding(
            tenant,
            PHI_READS_VOLUME,
            f"reader/{reader}",
            hour,
            "critical",
            f"{reader} read {patients} patients' records within the hour {hour}:00 UTC",
            None,
            {"reader": reader, "hour": hour, "threshold": str(threshold)},
        )
    ]


def read_without_visit(
    tenant: str,
    reader: str,
    patient_id: str,
    reader_sites: Iterable[str],
    visited_sites: Iterable[str],
    day: str,
) -> list[Finding]:
    """The reader opened a patient who has no visit at any of the reader's sites."""
    sites = sorted(set(reader_sites))
    if not sites or set(sites) & set(visited_sites):
        return []
    return [
        Finding(
            tenant,
            PHI_READ_NO_VISIT,
            f"reader/{reader}/patient/{patient_id}",
            day,
            "warning",
            f"{reader} read patient {patient_id}, who has no visit at {', '.join(sites)}",
            sites[0] if len(sites) == 1 else None,
            {"reader": reader, "patient_id": patient_id, "reader_sites": ",".join(sites)},
        )
    ]


def is_open(local: datetime, opening_hours: Iterable[Mapping[str, Any]]) -> bool:
    """Whether a site with these hours is open at `local`, the moment in the site's zone."""
    now = local.timetz().replace(tzinfo=None)
    for hours in opening_hours:
        if int(hours["weekday"]) != local.weekday():
            continue
        if (
            time.fromisoformat(str(hours["opens"]))
            <= now
            < time.fromisoformat(str(hours["closes"]))
        ):
            return True
    return False


def read_after_hours(
    tenant: str,
    reader: str,
    patient_id: str,
    at: datetime,
    sites: Iterable[tuple[str, datetime, Iterable[Mapping[str, Any]]]],
) -> list[Finding]:
    """A read when none of these sites (the reader's, else the tenant's: each as (site id,
    the read's moment in the site's zone, its opening hours)) is open. Once per reader and
    UTC day."""
    sites = list(sites)
    if not sites or any(is_open(local, hours) for _, local, hours in sites):
        return []
    day = at.astimezone(UTC).date().isoformat()
    return [
        Finding(
            tenant,
            PHI_READ_AFTER_HOURS,
            f"reader/{reader}",
            day,
            "warning",
            f"{reader} read patient records after hours on {day}",
            sites[0][0] if len(sites) == 1 else None,
            {"reader": reader, "first_patient_id": patient_id, "first_read_at": at.isoformat()},
        )
    ]


def ledger(tenant: str, report: Mapping[str, Any]) -> list[Finding]:
    """A ledger whose verification fails. The period names the fault (the block, or the
    reason), so one fault raises one alert and a new fault a new one."""
    if report.get("verified", True):
        return []
    reason = str(report.get("reason") or "the ledger does not verify")
    broken = report.get("broken_at")
    period = f"block-{broken}" if broken is not None else f"reason-{_digest(reason)}"
    return [
        Finding(
            tenant,
            LEDGER_UNVERIFIED,
            f"ledger/{tenant}",
            period,
            "critical",
            f"the audit ledger does not verify: {reason}"[:500],
            None,
            {"broken_at": "" if broken is None else str(broken), "reason": reason[:1000]},
        )
    ]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
