"""Who may do what: every endpoint declares a policy, and the access matrix in
docs/security.md is what the API really answers.

The matrix is generated: each endpoint is called by each role, with a token for site `north`
of tenant `acme`, on a resource at its own site (north), at another site (south), and from
another tenant (globex, also "north"). A cell reads own/other site/other tenant. The last
column is a platform operator, whose token names no tenant. Rewrite the
document's table after a deliberate change with MEDOFFICE_WRITE_ACCESS_MATRIX=1.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.billing.domain import streams as billing_streams
from services.billing.domain.claims import claim_id_for
from services.billing.domain.events import (
    SELF_PAY,
    ChargeCreated,
    ChargeHeld,
    ChargeLine,
    ChargeReleased,
    ClaimAdjudicated,
    PatientLearnt,
    ProviderAdjustmentPosted,
    RemittanceClaimsReceived,
    RemittanceClaimUnmatched,
    RemittanceReceived,
    RemittedClaim,
    remittance_id_for,
)
from services.compliance.contracts import CONTRACT as COMPLIANCE
from services.compliance.domain.alerts import Finding, alert, alert_stream, raise_command
from services.engagement.contracts import CONTRACT as ENGAGEMENT
from services.engagement.domain import streams as engagement_streams
from services.engagement.domain.cases import OpenCase, feedback_case
from services.finance.domain.accounts import DEFAULT_ACCOUNTS
from services.staffing.domain import streams as staffing_streams
from services.staffing.domain.events import EmployeeHired
from services.staffing.domain.events import registry as staffing_registry
from services.suite import Suite
from shared.clock import SystemClock, UuidIds
from shared.commands import CommandHandler
from shared.domain import Decider
from shared.events import DomainEvent, Metadata
from shared.http.identity import OPERATOR, ROLES, mint_token
from shared.operations.console.session import COOKIE as CONSOLE_COOKIE
from shared.phivault import PhiVault
from shared.settings import Settings, key_bytes
from tests.api.conftest import TokenFor, post_ok
from tests.api.staffing_helpers import hire_bookable, hire_provider, scheduling_knows
from tests.api.test_staffing_shifts import hire as hire_staff
from tests.api.test_staffing_training import hire
from tests.billing_claim_facts import suite_facts
from tests.billing_facts import record_billing
from tests.support import suite_settings, wait_until

DOC = Path(__file__).parents[2] / "docs" / "security.md"
BEGIN, END = "<!-- access-matrix:begin -->", "<!-- access-matrix:end -->"
# The console's sign-in and sign-out take no session: they make or end one (docs/operations.md).
PUBLIC = {
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/console/sign-in"),
    ("POST", "/console/sign-in"),
    ("POST", "/console/sign-out"),
    # A patient's signed links: the token is the authority (tests/api/test_engagement_links.py).
    ("GET", "/engagement/links/{tenant}/{token}"),
    ("POST", "/engagement/links/{tenant}/{token}"),
    ("GET", "/engagement/surveys/{tenant}/{token}"),  # tests/api/test_engagement_surveys.py
    ("POST", "/engagement/surveys/{tenant}/{token}"),
    # The manager's KPI page signs in and out like the console (tests/api/test_engagement_kpis*).
    ("GET", "/engagement/dashboard/sign-in"),
    ("POST", "/engagement/dashboard/sign-in"),
    ("POST", "/engagement/dashboard/sign-out"),
}
SCOPES = ("own", "other", "tenant")
COLUMNS = (*ROLES, OPERATOR)

counter = itertools.count(1)


def _start(n: int, first_day: str) -> str:
    """A distinct half hour for call `n`, from `first_day` on: 40 a day, 00:00 to 20:00."""
    day = datetime.fromisoformat(f"{first_day}T00:00:00+00:00") + timedelta(days=n // 40)
    return (day + timedelta(minutes=30 * (n % 40))).isoformat()


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: dict[str, Any] | None = None
    cookie: bool = False  # the caller's token in the console's cookie, not a bearer header
    form: str | None = None  # a console form's fields, url-encoded
    csv: str | None = None  # a text/csv body (finance's payroll import)


Prepare = Callable[[httpx.AsyncClient, str], Awaitable[Call]]


async def _book(admin: httpx.AsyncClient, site: str) -> str:
    patient_id = await _registered(admin)
    n = next(counter)
    booked = await post_ok(
        admin,
        "/scheduling/appointments",
        {
            "patient_id": patient_id,
            "provider_id": f"dr-{site}",
            "site_id": site,
            "visit_type_id": "v",
            "start": _start(n, "2027-01-01"),
        },
    )
    return str(booked["id"])


def _fixed(method: str, path: str, json: dict[str, Any] | None = None) -> Prepare:
    async def prepare(_: httpx.AsyncClient, site: str) -> Call:
        return Call(method, path.format(site=site, n=next(counter)), json)

    return prepare


def _console(path: str) -> Prepare:
    """A console page, the caller's token in the console's cookie (where it signs in to)."""

    async def prepare(_: httpx.AsyncClient, site: str) -> Call:
        return Call("GET", path, cookie=True)

    return prepare


def _console_form(path: str, form: str) -> Prepare:
    """A console form posted from the console's page, with the caller's cookie."""

    async def prepare(_: httpx.AsyncClient, site: str) -> Call:
        return Call("POST", path, cookie=True, form=form)

    return prepare


async def _new_site(_: httpx.AsyncClient, site: str) -> Call:
    n = next(counter)
    return Call("POST", "/scheduling/sites", {"site_id": f"s{n}", "name": "S", "time_zone": "UTC"})


async def _new_room(_: httpx.AsyncClient, site: str) -> Call:
    return Call("POST", f"/scheduling/sites/{site}/rooms", {"name": f"Room {next(counter)}"})


async def _new_visit_type(_: httpx.AsyncClient, site: str) -> Call:
    body = {"visit_type_id": f"v{next(counter)}", "name": "V", "duration_minutes": 15}
    return Call("POST", "/scheduling/visit-types", body)


async def _booking(admin: httpx.AsyncClient, site: str) -> Call:
    patient_id = await _registered(admin)
    n = next(counter)
    body = {
        "patient_id": patient_id,
        "provider_id": f"dr-{site}",
        "site_id": site,
        "visit_type_id": "v",
        # A year of its own: `_book` makes some 1,400 bookings from 2027-01-01, which reach
        # February, where they met these by chance (a 409).
        "start": _start(n, "2028-02-01"),
    }
    return Call("POST", "/scheduling/appointments", body)


async def _cancel(admin: httpx.AsyncClient, site: str) -> Call:
    appointment = await _book(admin, site)
    return Call("POST", f"/scheduling/appointments/{appointment}/cancel", {"reason": "x"})


async def _readable(admin: httpx.AsyncClient, path: str) -> Call:
    """A GET of `path`, once its read model has it (the admin reads it with 200)."""

    async def projected() -> bool:
        return (await admin.get(path)).status_code == 200

    await wait_until(projected, message=f"{path} in its read model")
    return Call("GET", path)


async def _appointment(admin: httpx.AsyncClient, site: str) -> Call:
    return await _readable(admin, f"/scheduling/appointments/{await _book(admin, site)}")


async def _new_patient(_: httpx.AsyncClient, site: str) -> Call:
    body = {"patient_id": f"pat-{next(counter)}", "name": "P", "birth_date": "1980-01-01"}
    return Call("POST", "/scheduling/patients", body)


async def _patient(admin: httpx.AsyncClient, site: str) -> Call:
    return await _readable(admin, f"/scheduling/patients/{await _registered(admin)}")


async def _caused_by(admin: httpx.AsyncClient, site: str) -> Call:
    """The chain of causes of a booking at `site`, once the audit log has the booking."""
    appointment = await _book(admin, site)

    async def logged() -> str | None:
        params = {"subject": appointment}
        found = (await admin.get("/compliance/audit-log", params=params)).json()
        return str(found[0]["event_id"]) if found else None

    event_id = await wait_until(logged, message=f"{appointment} in the audit log")
    return Call("GET", f"/compliance/audit-log/caused-by/{event_id}")


def _patient_report(tail: str) -> Prepare:
    async def prepare(admin: httpx.AsyncClient, site: str) -> Call:
        return Call("GET", f"/compliance/patients/{await _registered(admin)}/{tail}")

    return prepare


async def _fhir_patient(admin: httpx.AsyncClient, site: str) -> Call:
    return await _readable(admin, f"/fhir/R4/Patient/{await _registered(admin)}")


async def _fhir_appointment(admin: httpx.AsyncClient, site: str) -> Call:
    return await _readable(admin, f"/fhir/R4/Appointment/{await _book(admin, site)}")


async def _forget(_: httpx.AsyncClient, site: str) -> Call:
    return Call("POST", f"/scheduling/patients/pat-{next(counter)}/forget", {"reason": "asked"})


async def _registered(admin: httpx.AsyncClient) -> str:
    patient_id = f"pat-{next(counter)}"
    body = {"patient_id": patient_id, "name": "P", "birth_date": "1980-01-01"}
    await post_ok(admin, "/scheduling/patients", body)
    return patient_id


async def _coverage(admin: httpx.AsyncClient, site: str) -> Call:
    body = {
        "payer_id": "payer",
        "payer_name": "Payer",
        "plan": "Plan",
        "relationship": "self",
        "member_id": "M1",
    }
    return Call("POST", f"/scheduling/patients/{await _registered(admin)}/coverage", body)


async def _intake(admin: httpx.AsyncClient, site: str) -> Call:
    """An intake for a patient's appointment at `site`."""
    patient_id = await _registered(admin)
    n = next(counter)
    booked = await post_ok(
        admin,
        "/scheduling/appointments",
        {
            "patient_id": patient_id,
            "provider_id": f"dr-{site}",
            "site_id": site,
            "visit_type_id": "v",
            "start": _start(n, "2027-03-01"),
        },
    )
    body = {"reason_for_visit": "R", "appointment_id": booked["id"]}
    return Call("POST", f"/scheduling/patients/{patient_id}/intake", body)


async def _triage(admin: httpx.AsyncClient, site: str) -> Call:
    body = {"patient_id": await _registered(admin), "urgency": 3}
    return Call("POST", f"/scheduling/sites/{site}/triage", body)


def _triaged(action: str, body: dict[str, Any] | None = None) -> Prepare:
    """`action` on a patient waiting at `site`."""

    async def prepare(admin: httpx.AsyncClient, site: str) -> Call:
        call = await _triage(admin, site)
        triaged = await post_ok(admin, call.path, call.json or {})
        return Call("POST", f"/scheduling/sites/{site}/triage/{triaged['id']}/{action}", body)

    return prepare


def _on_booking(action: str, body: dict[str, Any] | None = None, *before: str) -> Prepare:
    """`action` on an appointment at `site`, after the admin did the steps `before` it."""

    async def prepare(admin: httpx.AsyncClient, site: str) -> Call:
        appointment = await _book(admin, site)
        for step in before:
            response = await admin.post(f"/scheduling/appointments/{appointment}/{step}")
            assert response.status_code == 200, response.text
        n = next(counter)
        filled = {
            k: v.format(start=_start(n, "2027-05-01")) if isinstance(v, str) else v
            for k, v in (body or {}).items()
        }
        return Call("POST", f"/scheduling/appointments/{appointment}/{action}", body and filled)

    return prepare


async def _no_show(admin: httpx.AsyncClient, site: str) -> Call:
    patient_id = await _registered(admin)
    n = next(counter)
    booked = await post_ok(
        admin,
        "/scheduling/appointments",
        {
            "patient_id": patient_id,
            "provider_id": f"dr-{site}",
            "site_id": site,
            "visit_type_id": "v",
            "start": _start(n, "2026-06-01"),
        },
    )
    return Call("POST", f"/scheduling/appointments/{booked['id']}/no-show")


async def _series(admin: httpx.AsyncClient, site: str) -> Call:
    patient_id = await _registered(admin)
    n = next(counter)
    body = {
        "patient_id": patient_id,
        "provider_id": f"dr-{site}",
        "site_id": site,
        "visit_type_id": "v",
        "first_start": _start(n, "2027-04-01"),
        "count": 2,
    }
    return Call("POST", "/scheduling/appointment-series", body)


async def _fresh_provider(admin: httpx.AsyncClient, site: str) -> str:
    provider_id = f"p{next(counter)}"
    await hire_provider(admin, provider_id, [site], name="P")
    await scheduling_knows(admin, provider_id)
    return provider_id


def _provider_change(action: str, body: dict[str, Any] | None = None) -> Prepare:
    async def prepare(admin: httpx.AsyncClient, site: str) -> Call:
        provider_id = await _fresh_provider(admin, site)
        filled = {
            k: (v.format(site=site) if isinstance(v, str) else v) for k, v in (body or {}).items()
        }
        return Call("POST", f"/scheduling/providers/{provider_id}/{action}", filled or None)

    return prepare


def _wish(patient_id: str) -> dict[str, Any]:
    return {
        "patient_id": patient_id,
        "visit_type_id": "v",
        "earliest": "2027-01-01",
        "latest": "2027-12-31",
    }


async def _join_waitlist(admin: httpx.AsyncClient, site: str) -> Call:
    return Call("POST", f"/scheduling/sites/{site}/waitlist", _wish(await _registered(admin)))


async def _waiting(admin: httpx.AsyncClient, site: str) -> str:
    """A new entry on `site`'s waitlist."""
    call = await _join_waitlist(admin, site)
    return str((await post_ok(admin, call.path, call.json or {}))["id"])


async def _leave_waitlist(admin: httpx.AsyncClient, site: str) -> Call:
    return Call("POST", f"/scheduling/sites/{site}/waitlist/{await _waiting(admin, site)}/remove")


def _offered(action: str) -> Prepare:
    """`action` on an open offer at `site`: of a cancelled appointment's slot to an entry."""

    async def prepare(admin: httpx.AsyncClient, site: str) -> Call:
        await _waiting(admin, site)
        appointment = await _book(admin, site)
        cancel = f"/scheduling/appointments/{appointment}/cancel"
        assert (await admin.post(cancel, json={"reason": "x"})).status_code == 200

        async def offer() -> str | None:
            listing = (await admin.get(f"/scheduling/sites/{site}/waitlist")).json()
            return next(
                (
                    o["offer_id"]
                    for o in listing["offers"]
                    if o["source_appointment_id"] == appointment
                ),
                None,
            )

        offer_id = await wait_until(offer, message="the offer of the freed slot")
        return Call("POST", f"/scheduling/sites/{site}/waitlist/offers/{offer_id}/{action}")

    return prepare


async def _fresh_employee(admin: httpx.AsyncClient, site: str, role: str = "front_desk") -> str:
    employee_id = f"e{next(counter)}"
    body = {
        "employee_id": employee_id,
        "name": "E",
        "title": "T",
        "role": role,
        "site_ids": [site],
        "fte": 1.0,
        "hired_on": "2026-01-05",
        "personal": {"phone": "+1 555 0100"},
    }
    await post_ok(admin, "/staffing/employees", body)
    return employee_id


async def _new_employee(_: httpx.AsyncClient, site: str) -> Call:
    body = {"name": "E", "title": "T", "role": "nurse", "site_ids": [site], "fte": 1.0}
    return Call("POST", "/staffing/employees", {**body, "hired_on": "2026-01-05"})


def _employee_change(
    method: str, action: str, body: dict[str, Any], *before: tuple[str, dict[str, Any]]
) -> Prepare:
    """`action` on a new employee at `site`, after the admin did the steps `before` it."""

    async def prepare(admin: httpx.AsyncClient, site: str) -> Call:
        role = "physician" if action == "provider" else "front_desk"
        employee_id = await _fresh_employee(admin, site, role)
        for step, step_body in before:
            await post_ok(admin, f"/staffing/employees/{employee_id}/{step}", step_body)
        filled = {k: [site] if v == ["{site}"] else v for k, v in body.items()}
        return Call(method, f"/staffing/employees/{employee_id}/{action}", filled)

    return prepare


async def _employee(admin: httpx.AsyncClient, site: str) -> Call:
    return await _readable(admin, f"/staffing/employees/{await _fresh_employee(admin, site)}")


STAFF_JOB = {"title": "T", "role": "nurse", "site_ids": ["{site}"], "fte": 0.5}
TERMINATED = ("termination", {"last_day": "2026-03-31", "reason": "left"})
ON_LEAVE = ("leave", {"leave_id": "l1", "reason": "r", "starts_on": "2026-02-01"})


async def _rebuild(_: httpx.AsyncClient, site: str) -> Call:
    await _rebuilds_ended()
    return Call("POST", "/ops/projections/scheduling.directory/rebuild")


async def _rebuilds_ended() -> Suite:
    """The suite, with no rebuild running (one per projection at a time)."""
    suite = _BILLING["suite"]
    for job in await suite.rebuilds.recent(100):
        if job["status"] == "running":
            await suite.rebuilds.wait(job["id"])
    return suite


async def _start_rebuild(_: httpx.AsyncClient, site: str) -> Call:
    await _rebuilds_ended()
    return Call("POST", "/ops/projections/scheduling.directory/rebuilds")


async def _a_rebuild(method: str) -> Call:
    """A rebuild an operator started, ended (switched): to follow, or to cancel too late."""
    suite = await _rebuilds_ended()
    job = await suite.rebuilds.start("scheduling.directory", "ops")
    await suite.rebuilds.wait(job["id"])
    return Call(method, f"/ops/rebuilds/{job['id']}")


async def _console_rebuild(_: httpx.AsyncClient, site: str) -> Call:
    await _rebuilds_ended()
    return Call("POST", "/console/rebuilds", cookie=True, form="projection=scheduling.directory")


async def _console_a_rebuild(path: str, method: str = "GET") -> Call:
    """A console page or form of a rebuild that ran (switched)."""
    suite = await _rebuilds_ended()
    job = await suite.rebuilds.start("scheduling.directory", "ops")
    await suite.rebuilds.wait(job["id"])
    form = "" if method == "POST" else None
    return Call(method, path.format(rebuild_id=job["id"]), cookie=True, form=form)


REPLAY_AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
NO_LETTER = "scheduling.0.999999"


async def _replay(_: httpx.AsyncClient, site: str) -> Call:
    as_of = {"as_of": REPLAY_AS_OF.isoformat()}
    return Call("POST", "/ops/projections/scheduling.directory/replays", as_of)


async def _a_replay(method: str) -> Call:
    """A replay an operator started, to follow or drop."""
    suite = _BILLING["suite"]
    assert isinstance(suite, Suite)
    job = await suite.replays.start("scheduling.directory", REPLAY_AS_OF, "ops")
    return Call(method, f"/ops/replays/{job['id']}")


# ---------------------------------------------------------------------- staffing: credentials


async def _hire_providers(suite: Suite) -> None:
    """dr-north and dr-south as staffing employees (physicians) of acme, on their streams."""
    store = suite.service("staffing").event_store
    assert store is not None
    handler = CommandHandler(store, staffing_registry, SystemClock(), UuidIds())
    meta = Metadata(tenant="acme", actor="hr", correlation_id="access-matrix")
    record: Decider[None, DomainEvent] = Decider(None, lambda s, e: s, lambda s, c: [c])
    for site in ("north", "south"):
        hired = EmployeeHired(
            employee_id=f"dr-{site}",
            name=f"Dr {site}",
            title="Physician",
            role="physician",
            site_ids=(site,),
            fte=1.0,
            hired_on=date(2020, 1, 1),
        )
        await handler.handle(f"acme:employee:dr-{site}", record, hired, meta)


LICENCE = {
    "kind": "state_licence",
    "issuer": "NY State Education Department",
    "number": "1",
    "state": "NY",
    "issued_on": "2024-01-01",
    "expires_on": "2027-01-01",
}


async def _credential(admin: httpx.AsyncClient, site: str) -> str:
    made = await post_ok(admin, f"/staffing/employees/dr-{site}/credentials", LICENCE)
    return str(made["id"])


def _credential_change(action: str, body: dict[str, Any]) -> Prepare:
    async def prepare(admin: httpx.AsyncClient, site: str) -> Call:
        return Call(
            "POST", f"/staffing/credentials/{await _credential(admin, site)}/{action}", body
        )

    return prepare


async def _credential_read(admin: httpx.AsyncClient, site: str) -> Call:
    return await _readable(admin, f"/staffing/credentials/{await _credential(admin, site)}")


def _staffing_read(path: str) -> Prepare:
    async def prepare(admin: httpx.AsyncClient, site: str) -> Call:
        return await _readable(admin, path.format(site=site))

    return prepare


async def _enrol(_: httpx.AsyncClient, site: str) -> Call:
    body = {
        "payer_id": f"payer{next(counter)}",
        "status": "applied",
        "effective_from": "2027-01-01",
    }
    return Call("POST", f"/staffing/employees/dr-{site}/enrolments", body)


# ------------------------------------------------------------------ staffing: training, reviews
# Employees are hired by writing the people area's contract events to their streams (`hire`):
# the suite the client talks to is kept here for it. Their reviewer is `tester`, every token's
# subject, so the steps a reviewer takes answer the role's access (409 out of order, 403 not
# theirs) rather than 403 for everyone.
_suites: list[Suite] = []


@pytest.fixture(autouse=True)
def _staffing_suite(suite: Suite) -> Iterator[None]:
    _suites.append(suite)
    yield
    _suites.clear()


async def _managed_employee(site: str, manager: str = "tester") -> str:
    """A new employee at `site`, managed (and reviewed) by `manager`."""
    suite = _suites[-1]
    store = suite.service("staffing").event_store
    assert store is not None
    if not await store.version(staffing_streams.employee("acme", manager)):
        await hire(suite, manager, role="manager", site=site, manager=None)
    employee_id = f"emp-{next(counter)}"
    await hire(suite, employee_id, site=site, manager=manager)
    return employee_id


async def _configured(admin: httpx.AsyncClient) -> None:
    """The course and the review cycle the calls use (a 409 once they exist)."""
    course = {"course_id": "matrix", "name": "Fire safety", "due_within_days": 30}
    await admin.post("/staffing/courses", json=course)
    cycle = {
        "cycle_id": "matrix",
        "name": "Annual",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "due_on": "2027-01-31",
        "competencies": ["teamwork"],
    }
    await admin.post("/staffing/review-cycles", json=cycle)


async def _new_course(_: httpx.AsyncClient, site: str) -> Call:
    body = {"course_id": f"c{next(counter)}", "name": "HIPAA", "due_within_days": 30}
    return Call("POST", "/staffing/courses", body)


async def _assign(admin: httpx.AsyncClient, site: str) -> Call:
    await _configured(admin)
    body = {"course_id": "matrix", "due_on": "2027-06-01"}
    return Call("POST", f"/staffing/employees/{await _managed_employee(site)}/training", body)


async def _completion(admin: httpx.AsyncClient, site: str) -> Call:
    call = await _assign(admin, site)
    assigned = await post_ok(admin, call.path, call.json or {})
    body = {"completed_on": "2026-11-26", "evidence": "certificate 1"}
    return Call("POST", f"/staffing/training/{assigned['id']}/completion", body)


async def _employee_training(admin: httpx.AsyncClient, site: str) -> Call:
    return await _readable(admin, f"/staffing/employees/{await _managed_employee(site)}/training")


async def _new_cycle(_: httpx.AsyncClient, site: str) -> Call:
    body = {
        "cycle_id": f"cy{next(counter)}",
        "name": "Annual",
        "period_start": "2026-01-01",
        "period_end": "2026-12-31",
        "due_on": "2027-01-31",
        "competencies": ["teamwork"],
    }
    return Call("POST", "/staffing/review-cycles", body)


async def _start_review(admin: httpx.AsyncClient, site: str) -> Call:
    await _configured(admin)
    body = {"employee_id": await _managed_employee(site)}
    return Call("POST", "/staffing/review-cycles/matrix/reviews", body)


async def _started(admin: httpx.AsyncClient, site: str, reviewer: str = "tester") -> str:
    await _configured(admin)
    body = {"employee_id": await _managed_employee(site, manager=reviewer)}
    started = await post_ok(admin, "/staffing/review-cycles/matrix/reviews", body)
    return str(started["id"])


def _review_step(step: str, body: dict[str, Any] | None = None) -> Prepare:
    async def prepare(admin: httpx.AsyncClient, site: str) -> Call:
        return Call("POST", f"/staffing/reviews/{await _started(admin, site)}/{step}", body)

    return prepare


async def _cycle(admin: httpx.AsyncClient, site: str) -> Call:
    await _configured(admin)
    return await _readable(admin, "/staffing/review-cycles/matrix")


async def _review(admin: httpx.AsyncClient, site: str) -> Call:
    """A review by someone else than the caller: its site decides who reads it."""
    review_id = await _started(admin, site, reviewer=f"boss-{site}")
    return await _readable(admin, f"/staffing/reviews/{review_id}")


# ------------------------------------------------------------------ staffing: shifts and time off
# Employee `ma-<site>` works at <site>; each call rosters or asks for a day of its own.


def _day(n: int) -> str:
    return (date(2027, 1, 1) + timedelta(days=n)).isoformat()


async def _roster_shift(_: httpx.AsyncClient, site: str) -> Call:
    body = {
        "employee_id": f"ma-{site}",
        "date": _day(next(counter)),
        "start": "09:00",
        "end": "10:00",
    }
    return Call("POST", f"/staffing/sites/{site}/roster", body)


async def _unassign(admin: httpx.AsyncClient, site: str) -> Call:
    body = {
        "employee_id": f"ma-{site}",
        "date": _day(next(counter)),
        "start": "09:00",
        "end": "10:00",
    }
    shift = await post_ok(admin, f"/staffing/sites/{site}/roster", body)
    return Call("DELETE", f"/staffing/sites/{site}/roster/{shift['id']}")


def _time_off_body() -> dict[str, Any]:
    day = _day(next(counter))
    return {"kind": "unpaid", "start": f"{day}T00:00:00Z", "end": f"{day}T12:00:00Z"}


async def _request_time_off(_: httpx.AsyncClient, site: str) -> Call:
    return Call("POST", f"/staffing/employees/ma-{site}/time-off", _time_off_body())


def _on_time_off(step: str, json: dict[str, Any] | None = None) -> Prepare:
    async def prepare(admin: httpx.AsyncClient, site: str) -> Call:
        asked = await post_ok(admin, f"/staffing/employees/ma-{site}/time-off", _time_off_body())
        return Call("POST", f"/staffing/time-off/{asked['id']}/{step}", json)

    return prepare


# ------------------------------------------------------------------ billing: claims
# A claim per call, made by billing's own reaction from a released charge appended to its
# store (the learning and charges areas fill those streams in the running suite); the steps
# a biller takes on it then answer 409 (out of order), which shows who is let through.
_billing_settings: list[Settings] = []


@pytest.fixture(autouse=True)
def _billing_facts_settings(settings: Settings) -> Iterator[None]:
    _billing_settings.append(settings)
    yield
    _billing_settings.clear()


async def _billing_claim(admin: httpx.AsyncClient, site: str) -> str:
    facts = await suite_facts(_suites[-1], _billing_settings[-1], SystemClock())
    if not await facts.handler.store.version(billing_streams.payer("acme", "aetna")):
        await facts.clinic("north", "aetna")
        await facts.billing_provider("south")
        await facts.patient("pat-b")
        await facts.coverage("pat-b", "aetna")
    charge_id = f"matrix-{next(counter)}"
    await facts.charge(charge_id, "pat-b", site_id=site)
    claim_id = claim_id_for(charge_id)
    await _readable(admin, f"/billing/claims/{claim_id}")
    return claim_id


async def _billing_claim_read(admin: httpx.AsyncClient, site: str) -> Call:
    return Call("GET", f"/billing/claims/{await _billing_claim(admin, site)}")


def _billing_claim_step(action: str, body: dict[str, Any] | None = None) -> Prepare:
    async def prepare(admin: httpx.AsyncClient, site: str) -> Call:
        return Call("POST", f"/billing/claims/{await _billing_claim(admin, site)}/{action}", body)

    return prepare


async def _billing_file(admin: httpx.AsyncClient, site: str) -> str:
    await _billing_claim(admin, site)
    made = await post_ok(admin, "/billing/claim-files", {"payer_id": "aetna"})
    return str(made["files"][0]["id"])


def _billing_file_read(suffix: str = "") -> Prepare:
    async def prepare(admin: httpx.AsyncClient, site: str) -> Call:
        return Call("GET", f"/billing/claim-files/{await _billing_file(admin, site)}{suffix}")

    return prepare


BILLING_EOB = {
    "outcome": "denied",
    "paid_cents": 0,
    "payer_claim_control_number": "PCN1",
    "adjudicated_on": "2026-11-20",
}
BILLING_CLAIMS_ENDPOINTS: dict[tuple[str, str], Prepare] = {
    ("GET", "/billing/claims"): _fixed("GET", "/billing/claims?site={site}"),
    ("GET", "/billing/claims/{claim_id}"): _billing_claim_read,
    ("POST", "/billing/claims/{claim_id}/ready"): _billing_claim_step("ready"),
    ("POST", "/billing/claims/{claim_id}/adjudication"): _billing_claim_step(
        "adjudication", BILLING_EOB
    ),
    ("POST", "/billing/claims/{claim_id}/appeal"): _billing_claim_step("appeal", {"reason": "r"}),
    ("POST", "/billing/claims/{claim_id}/write-off"): _billing_claim_step(
        "write-off", {"reason": "r"}
    ),
    ("POST", "/billing/claims/{claim_id}/replacement"): _billing_claim_step(
        "replacement", {"frequency": "7"}
    ),
    ("GET", "/billing/work-queues/claims-not-ready"): _fixed(
        "GET", "/billing/work-queues/claims-not-ready?site={site}"
    ),
    ("GET", "/billing/work-queues/rejected-claims"): _fixed(
        "GET", "/billing/work-queues/rejected-claims?site={site}"
    ),
    ("GET", "/billing/work-queues/denials"): _fixed(
        "GET", "/billing/work-queues/denials?site={site}"
    ),
    ("GET", "/billing/work-queues/unanswered-claims"): _fixed(
        "GET", "/billing/work-queues/unanswered-claims?site={site}"
    ),
    ("POST", "/billing/claim-files"): _fixed("POST", "/billing/claim-files", {"payer_id": "none"}),
    ("GET", "/billing/claim-files/{batch_id}"): _billing_file_read(),
    ("GET", "/billing/claim-files/{batch_id}/x12"): _billing_file_read("/x12"),
    ("GET", "/billing/work-queues/rejected-files"): _fixed(
        "GET", "/billing/work-queues/rejected-files"
    ),
}


STAFFING_ENDPOINTS: dict[tuple[str, str], Prepare] = {
    ("PUT", "/staffing/sites/{site_id}"): _fixed(
        "PUT", "/staffing/sites/{site}", {"time_zone": "UTC"}
    ),
    ("POST", "/staffing/sites/{site_id}/shift-templates"): _fixed(
        "POST",
        "/staffing/sites/{site}/shift-templates",
        {"name": "Day", "start": "08:00", "end": "16:00", "weekdays": [0, 1, 2, 3, 4]},
    ),
    ("PUT", "/staffing/sites/{site_id}/minimum-staffing"): _fixed(
        "PUT",
        "/staffing/sites/{site}/minimum-staffing",
        {"minimums": [{"weekday": 0, "hour": 9, "headcount": 1}]},
    ),
    ("POST", "/staffing/sites/{site_id}/roster"): _roster_shift,
    ("DELETE", "/staffing/sites/{site_id}/roster/{shift_id}"): _unassign,
    ("GET", "/staffing/sites/{site_id}/roster"): _fixed(
        "GET", "/staffing/sites/{site}/roster?week=2027-W01"
    ),
    ("POST", "/staffing/employees/{employee_id}/time-off"): _request_time_off,
    ("POST", "/staffing/time-off/{request_id}/approve"): _on_time_off("approve"),
    ("POST", "/staffing/time-off/{request_id}/deny"): _on_time_off("deny", {"reason": "busy"}),
    ("POST", "/staffing/time-off/{request_id}/cancel"): _on_time_off("cancel"),
    ("GET", "/staffing/employees/{employee_id}/pto"): _fixed(
        "GET", "/staffing/employees/ma-{site}/pto"
    ),
    ("GET", "/staffing/sites/{site_id}/pto-balances"): _fixed(
        "GET", "/staffing/sites/{site}/pto-balances"
    ),
    ("PUT", "/staffing/pto-policy"): _fixed(
        "PUT", "/staffing/pto-policy", {"hours_per_period": 4.62, "anchor": "2024-01-01"}
    ),
}


async def _staffing_group(client: httpx.AsyncClient, suite: Suite) -> None:
    """Each site with a time zone and a medical assistant working there."""
    for site in ("north", "south"):
        assert (await client.put(f"/staffing/sites/{site}", json={"time_zone": "UTC"})).is_success
        await hire_staff(suite, f"ma-{site}", site_ids=(site,))


# ---------------------------------------------------------------- billing: reference data
# Payer `payer` and its fee schedule are the tenant's (no site); each site's billing provider
# is its own. Each change names a payer or site of its own, or changes the shared one.

BILLING_PAYER = {"name": "Payer", "x12_payer_id": "PAYER1", "claim_filing_indicator": "CI"}
BILLING_STREET = {"line1": "1 Main St", "city": "Albany", "state": "NY", "postal_code": "12207"}
BILLING_PROVIDER = {
    "name": "Group",
    "npi": "1234567893",
    "tin": "123456789",
    "taxonomy_code": "207Q00000X",
    "address": BILLING_STREET,
    "place_of_service": "11",
    "facility_name": "Clinic",
    "facility_address": BILLING_STREET,
}


async def _new_payer(_: httpx.AsyncClient, site: str) -> Call:
    return Call("PUT", f"/billing/payers/payer{next(counter)}", BILLING_PAYER)


async def _billing_reference(admin: httpx.AsyncClient) -> None:
    """Payer `payer` with a fee schedule, and a billing provider at north and at south (the
    same calls again change nothing)."""
    assert (await admin.put("/billing/payers/payer", json=BILLING_PAYER)).is_success
    fees = {"effective_from": "2026-01-01", "fees": [{"code": "99213", "amount_cents": 100}]}
    await admin.post("/billing/fee-schedules/payer/versions", json=fees)  # 409 once published
    for site in ("north", "south"):
        path = f"/billing/sites/{site}/billing-provider"
        assert (await admin.put(path, json=BILLING_PROVIDER)).is_success


def _billing_read(path: str) -> Prepare:
    async def prepare(admin: httpx.AsyncClient, site: str) -> Call:
        await _billing_reference(admin)
        return await _readable(admin, path.format(site=site))

    return prepare


# ------------------------------------------------------------------------- compliance: alerts


async def _alert(admin: httpx.AsyncClient, site: str) -> str:
    """A fresh alert about `site`, raised on compliance's store as a monitor raises it."""
    suite = _BILLING["suite"]
    service = suite.service("compliance")
    assert service.event_store is not None
    relay = service.relay
    handler = CommandHandler(
        service.event_store,
        COMPLIANCE.registry,
        SystemClock(),
        UuidIds(),
        on_commit=relay.notify if relay is not None else lambda: None,
    )
    finding = Finding(
        "acme",
        "training_overdue",
        f"training/t-{next(counter)}",
        "2026-11-01",
        "warning",
        "x",
        site,
    )
    meta = Metadata(tenant="acme", actor="system:test", correlation_id="access")
    stream = alert_stream("acme", finding.alert_id)
    await handler.handle(stream, alert, raise_command(finding, SystemClock().now()), meta)
    await _readable(admin, f"/compliance/alerts/{finding.alert_id}")
    return finding.alert_id


async def _alert_read(admin: httpx.AsyncClient, site: str) -> Call:
    return Call("GET", f"/compliance/alerts/{await _alert(admin, site)}")


def _alert_change(action: str, body: dict[str, Any]) -> Prepare:
    async def prepare(admin: httpx.AsyncClient, site: str) -> Call:
        return Call("POST", f"/compliance/alerts/{await _alert(admin, site)}/{action}", body)

    return prepare


# ------------------------------------------------------------------------- billing: charges

# The running matrix test's suite: charges are recorded straight on billing's streams (a visit
# through scheduling for each of the calls would be slow, and needs the learning reactor).
_BILLING: dict[str, Suite] = {}


async def _recorded_charge(site: str, *, released: bool) -> str:
    charge_id = f"chg-{next(counter)}"
    now = SystemClock().now()
    created = ChargeCreated(
        charge_id=charge_id,
        appointment_id=charge_id,
        patient_id="pat-1",
        site_id=site,
        provider_id=f"dr-{site}",
        date_of_service=date(2026, 11, 2),
        diagnoses=("E11.9",),
        lines=(ChargeLine(line_id="1", code="99213", diagnosis_pointers=(1,), fee_cents=100),),
        payer_id=SELF_PAY,
        fee_schedule_version=1,
        created_at=now,
        learnt_from=f"access-matrix:{charge_id}",
    )
    step: DomainEvent = (
        ChargeReleased(charge_id=charge_id, released_at=now)
        if released
        else ChargeHeld(charge_id=charge_id, reason="check", held_at=now)
    )
    stream = billing_streams.charge("acme", charge_id)
    await record_billing(_BILLING["suite"], "acme", stream, created, step)
    return charge_id


async def _charge_read(admin: httpx.AsyncClient, site: str) -> Call:
    charge_id = await _recorded_charge(site, released=True)
    return await _readable(admin, f"/billing/charges/{charge_id}")


def _charge_step(action: str, body: dict[str, Any] | None, *, released: bool) -> Prepare:
    async def prepare(_: httpx.AsyncClient, site: str) -> Call:
        charge_id = await _recorded_charge(site, released=released)
        return Call("POST", f"/billing/charges/{charge_id}/{action}", body)

    return prepare


async def _new_plan(admin: httpx.AsyncClient, site: str) -> Call:
    await _billing_reference(admin)
    body = {"plan_id": f"plan{next(counter)}", "name": "Plan"}
    return Call("POST", "/billing/payers/payer/plans", body)


async def _new_fees(admin: httpx.AsyncClient, site: str) -> Call:
    await _billing_reference(admin)
    fees = [{"code": "99213", "amount_cents": next(counter)}]
    return Call(
        "POST",
        "/billing/fee-schedules/payer/versions",
        {"effective_from": "2027-01-01", "fees": fees},
    )


BILLING_ENDPOINTS: dict[tuple[str, str], Prepare] = {
    ("PUT", "/billing/payers/{payer_id}"): _new_payer,
    ("GET", "/billing/payers"): _billing_read("/billing/payers"),
    ("GET", "/billing/payers/{payer_id}"): _billing_read("/billing/payers/payer"),
    ("POST", "/billing/payers/{payer_id}/plans"): _new_plan,
    ("PUT", "/billing/sites/{site_id}/billing-provider"): _fixed(
        "PUT", "/billing/sites/{site}/billing-provider", BILLING_PROVIDER
    ),
    ("GET", "/billing/sites/{site_id}/billing-provider"): _billing_read(
        "/billing/sites/{site}/billing-provider"
    ),
    ("GET", "/billing/billing-providers"): _billing_read("/billing/billing-providers"),
    ("POST", "/billing/fee-schedules/{payer_id}/versions"): _new_fees,
    ("GET", "/billing/fee-schedules/{payer_id}"): _billing_read("/billing/fee-schedules/payer"),
    ("GET", "/billing/fee-schedules/{payer_id}/versions/{version}"): _billing_read(
        "/billing/fee-schedules/payer/versions/1"
    ),
    ("GET", "/billing/fee-schedules/{payer_id}/fee"): _billing_read(
        "/billing/fee-schedules/payer/fee?code=99213&on=2026-06-01"
    ),
}


# ------------------------------------------------------------- billing: what it learns


async def _billing_coverages(admin: httpx.AsyncClient, site: str) -> Call:
    """A patient billing learnt from scheduling (patients belong to no site)."""
    return await _readable(admin, f"/billing/patients/{await _registered(admin)}/coverages")


BILLING_LEARNING_ENDPOINTS: dict[tuple[str, str], Prepare] = {
    ("GET", "/billing/patients/{patient_id}/coverages"): _billing_coverages,
    # dr-north and dr-south, hired by _hire_providers and learnt from staffing's events.
    ("GET", "/billing/providers/{provider_id}"): _staffing_read("/billing/providers/dr-{site}"),
}


CORRECTION = {
    "diagnoses": ["I10"],
    "lines": [{"code": "99213", "diagnosis_pointers": [1]}],
    "reason": "coded from the note",
}
BILLING_CHARGE_ENDPOINTS: dict[tuple[str, str], Prepare] = {
    ("GET", "/billing/charges"): _fixed("GET", "/billing/charges"),
    ("GET", "/billing/charges/{charge_id}"): _charge_read,
    ("GET", "/billing/work-queues/held-charges"): _fixed(
        "GET", "/billing/work-queues/held-charges"
    ),
    ("GET", "/billing/work-queues/coding-errors"): _fixed(
        "GET", "/billing/work-queues/coding-errors"
    ),
    ("POST", "/billing/charges/{charge_id}/corrections"): _charge_step(
        "corrections", CORRECTION, released=False
    ),
    ("POST", "/billing/charges/{charge_id}/hold"): _charge_step(
        "hold", {"reason": "payer query"}, released=True
    ),
    ("POST", "/billing/charges/{charge_id}/release"): _charge_step("release", None, released=False),
}


# ------------------------------------------------------------------ billing: FHIR views


async def _fhir_charge_item(admin: httpx.AsyncClient, site: str) -> Call:
    charge_id = await _recorded_charge(site, released=True)
    return await _readable(admin, f"/fhir/R4/ChargeItem/{charge_id}-1")


async def _fhir_claim(admin: httpx.AsyncClient, site: str) -> Call:
    return await _readable(admin, f"/fhir/R4/Claim/{await _billing_claim(admin, site)}")


async def _fhir_coverage(admin: httpx.AsyncClient, site: str) -> Call:
    """pat-b's coverage, learnt with the first claim's facts (coverages belong to no site)."""
    await _billing_claim(admin, site)
    return await _readable(admin, "/fhir/R4/Coverage/cov-pat-b-1")


async def _fhir_eob(admin: httpx.AsyncClient, site: str) -> Call:
    """A remittance's posting of a fresh claim at `site`, recorded on the claim's stream."""
    claim_id = await _billing_claim(admin, site)
    facts = await suite_facts(_suites[-1], _billing_settings[-1], SystemClock())
    posting_id = f"P-{claim_id}"
    adjudicated = ClaimAdjudicated(
        claim_id=claim_id,
        outcome="denied",
        paid_cents=0,
        patient_responsibility_cents=0,
        payer_claim_control_number="PCN1",
        adjudicated_on=date(2026, 11, 20),
        recorded_at=SystemClock().now(),
        posting_id=posting_id,
    )
    await facts.record(billing_streams.claim("acme", claim_id), adjudicated)
    return await _readable(admin, f"/fhir/R4/ExplanationOfBenefit/{posting_id}")


async def _fhir_payment(admin: httpx.AsyncClient, site: str) -> Call:
    """A remittance (it belongs to no site), recorded on its own stream."""
    facts = await suite_facts(_suites[-1], _billing_settings[-1], SystemClock())
    trace = f"EFT{next(counter)}"
    remittance_id = remittance_id_for("60054", trace)
    received = RemittanceReceived(
        remittance_id=remittance_id,
        digest="0" * 64,
        file_name=f"{trace}.835",
        source="upload",
        payer_id="aetna",
        x12_payer_id="60054",
        payer_name="AETNA",
        trace_number=trace,
        handling_code="I",
        payment_method="ACH",
        payment_cents=0,
        paid_on=None,
        payee_npi=None,
        claim_count=0,
        received_at=SystemClock().now(),
    )
    await facts.record(billing_streams.remittance("acme", remittance_id), received)
    return await _readable(admin, f"/fhir/R4/PaymentReconciliation/{remittance_id}")


BILLING_FHIR_ENDPOINTS: dict[tuple[str, str], Prepare] = {
    ("GET", "/fhir/R4/Coverage"): _fixed("GET", "/fhir/R4/Coverage"),
    ("GET", "/fhir/R4/Coverage/{coverage_id}"): _fhir_coverage,
    ("GET", "/fhir/R4/ChargeItem"): _fixed("GET", "/fhir/R4/ChargeItem"),
    ("GET", "/fhir/R4/ChargeItem/{item_id}"): _fhir_charge_item,
    ("GET", "/fhir/R4/Claim"): _fixed("GET", "/fhir/R4/Claim"),
    ("GET", "/fhir/R4/Claim/{claim_id}"): _fhir_claim,
    ("GET", "/fhir/R4/ExplanationOfBenefit"): _fixed("GET", "/fhir/R4/ExplanationOfBenefit"),
    ("GET", "/fhir/R4/ExplanationOfBenefit/{eob_id}"): _fhir_eob,
    ("GET", "/fhir/R4/PaymentReconciliation"): _fixed("GET", "/fhir/R4/PaymentReconciliation"),
    ("GET", "/fhir/R4/PaymentReconciliation/{remittance_id}"): _fhir_payment,
}


# ------------------------------------------------------------------ billing: the patient's side


async def _patient_owing(admin: httpx.AsyncClient, site: str) -> str:
    """A patient of `site` owing a self-pay charge (its ledger read, so assessed)."""
    n = next(counter)
    patient_id = f"pp-{n}"
    now = SystemClock().now()
    created = ChargeCreated(
        charge_id=f"chp-{n}",
        appointment_id=f"chp-{n}",
        patient_id=patient_id,
        site_id=site,
        provider_id=f"dr-{site}",
        date_of_service=date(2026, 11, 2),
        diagnoses=("E11.9",),
        lines=(ChargeLine(line_id="1", code="99213", diagnosis_pointers=(1,), fee_cents=100000),),
        payer_id=SELF_PAY,
        fee_schedule_version=1,
        created_at=now,
        learnt_from=f"access-matrix:chp-{n}",
    )
    released = ChargeReleased(charge_id=f"chp-{n}", released_at=now)
    learnt = PatientLearnt(
        patient_id=patient_id,
        name="Pat Matrix",
        birth_date="1980-01-01",
        address="1 Main St, Springfield, IL 62701",
        learnt_from=f"access-matrix:{patient_id}",
    )
    account = billing_streams.patient_account("acme", patient_id)
    await record_billing(_BILLING["suite"], "acme", account, learnt)
    stream = billing_streams.charge("acme", f"chp-{n}")
    await record_billing(_BILLING["suite"], "acme", stream, created, released)
    await _readable(admin, f"/billing/patients/{patient_id}/ledger")
    return patient_id


def _patient_step(action: str, body: dict[str, Any]) -> Prepare:
    async def prepare(admin: httpx.AsyncClient, site: str) -> Call:
        patient_id = await _patient_owing(admin, site)
        n = next(counter)
        filled = {
            k: (v.format(site=site, n=n) if isinstance(v, str) else v) for k, v in body.items()
        }
        return Call("POST", f"/billing/patients/{patient_id}/{action}", filled)

    return prepare


def _patient_read(tail: str) -> Prepare:
    async def prepare(admin: httpx.AsyncClient, site: str) -> Call:
        patient_id = await _patient_owing(admin, site)
        return Call("GET", f"/billing/patients/{patient_id}/{tail}")

    return prepare


async def _plan_end(admin: httpx.AsyncClient, site: str) -> Call:
    patient_id = await _patient_owing(admin, site)
    body = {"total_cents": 1000, "installment_cents": 500, "first_due_on": "2026-12-01"}
    plan = await post_ok(admin, f"/billing/patients/{patient_id}/payment-plans", body)
    end = f"/billing/patients/{patient_id}/payment-plans/{plan['id']}/end"
    return Call("POST", end, {"outcome": "cancelled"})


def _statement_pdf(form: str) -> Prepare:
    async def prepare(admin: httpx.AsyncClient, site: str) -> Call:
        patient_id = await _patient_owing(admin, site)
        await post_ok(
            admin, f"/billing/patients/{patient_id}/statements", {"period_end": "2026-11-30"}
        )
        listed = (await admin.get(f"/billing/patients/{patient_id}/statements")).json()
        statement_id = listed["statements"][0]["statement_id"]
        return Call("GET", f"/billing/patients/{patient_id}/statements/{form.format(statement_id)}")

    return prepare


BILLING_PATIENT_ENDPOINTS: dict[tuple[str, str], Prepare] = {
    ("POST", "/billing/patients/{patient_id}/payments"): _patient_step(
        "payments",
        {"payment_id": "pay{n}", "amount_cents": 100, "method": "cash", "site_id": "{site}"},
    ),
    ("POST", "/billing/patients/{patient_id}/refunds"): _patient_step(
        "refunds", {"amount_cents": 100, "method": "cash", "reason": "overpaid"}
    ),
    ("POST", "/billing/patients/{patient_id}/write-offs"): _patient_step(
        "write-offs", {"amount_cents": 100, "reason": "small_balance"}
    ),
    ("POST", "/billing/patients/{patient_id}/payment-plans"): _patient_step(
        "payment-plans",
        {"total_cents": 1000, "installment_cents": 500, "first_due_on": "2026-12-01"},
    ),
    ("POST", "/billing/patients/{patient_id}/payment-plans/{plan_id}/end"): _plan_end,
    ("POST", "/billing/patients/{patient_id}/statements"): _patient_step(
        "statements", {"period_end": "2026-11-30"}
    ),
    ("GET", "/billing/patients/{patient_id}/statements"): _patient_read("statements"),
    ("GET", "/billing/patients/{patient_id}/ledger"): _patient_read("ledger"),
    ("GET", "/billing/patients/{patient_id}/statements/{statement_id}.pdf"): _statement_pdf(
        "{}.pdf"
    ),
    ("GET", "/billing/patients/{patient_id}/statements/{statement_id}/pdf"): _statement_pdf(
        "{}/pdf"
    ),
}

# ------------------------------------------------------------- billing: posting (billing II)


async def _provider_account(admin: httpx.AsyncClient, site: str) -> Call:
    """A payee's account with one PLB adjustment (a payee spans sites)."""
    provider_id = f"npi-{site}"
    n = next(counter)
    posted = ProviderAdjustmentPosted(
        adjustment_id=f"R-access-{n}-PLB0",
        remittance_id=f"R-access-{n}",
        payer_id="aetna",
        provider_id=provider_id,
        fiscal_period_end=date(2026, 12, 31),
        reason="L6",
        reference="INTEREST",
        amount_cents=-125,
        posted_at=datetime(2026, 11, 26, 12, tzinfo=UTC),
    )
    stream = billing_streams.provider_account("acme", provider_id)
    await record_billing(_BILLING["suite"], "acme", stream, posted)
    return Call("GET", f"/billing/provider-accounts/{provider_id}")


async def _remittance(admin: httpx.AsyncClient, site: str) -> str:
    """A remittance (no names: a payee spans sites) whose one claim payment matched nothing."""
    n = next(counter)
    rid = remittance_id_for("AETNA01", f"EFT-ACCESS-{n}")
    at = datetime(2026, 11, 26, 12, tzinfo=UTC)
    await record_billing(
        _BILLING["suite"],
        "acme",
        billing_streams.remittance("acme", rid),
        RemittanceReceived(
            remittance_id=rid,
            digest="0" * 64,
            file_name=f"access-{n}.835",
            source="upload",
            payer_id="aetna",
            x12_payer_id="AETNA01",
            payer_name="AETNA",
            trace_number=f"EFT-ACCESS-{n}",
            handling_code="I",
            payment_method="CHK",
            payment_cents=1000,
            paid_on=date(2026, 11, 25),
            payee_npi="1234567893",
            claim_count=1,
            received_at=at,
        ),
        RemittanceClaimsReceived(
            remittance_id=rid,
            first_index=0,
            claims=(
                RemittedClaim(
                    claim_ref="NOCLAIM",
                    status_code="1",
                    charge_cents=1000,
                    paid_cents=1000,
                    patient_responsibility_cents=0,
                    payer_claim_control_number="PCN-ACCESS",
                ),
            ),
        ),
        RemittanceClaimUnmatched(
            remittance_id=rid,
            index=0,
            claim_ref="NOCLAIM",
            payer_claim_control_number="PCN-ACCESS",
            paid_cents=1000,
            reason="no claim NOCLAIM (CLP01) of ours",
            found_at=at,
        ),
    )
    return rid


async def _remittance_read(admin: httpx.AsyncClient, site: str) -> Call:
    return Call("GET", f"/billing/remittances/{await _remittance(admin, site)}")


async def _remittance_match(admin: httpx.AsyncClient, site: str) -> Call:
    """The claim CLP01 names is still no claim of ours: 404 for those who may match."""
    rid = await _remittance(admin, site)
    return Call("POST", f"/billing/remittances/{rid}/claims/0/match", {})


BILLING_POSTING_ENDPOINTS: dict[tuple[str, str], Prepare] = {
    ("GET", "/billing/provider-accounts/{provider_id}"): _provider_account,
    # An empty upload is a 422 for those who may upload: the matrix shows who reaches it.
    ("POST", "/billing/remittances"): _fixed("POST", "/billing/remittances"),
    ("GET", "/billing/remittances/{remittance_id}"): _remittance_read,
    ("POST", "/billing/remittances/{remittance_id}/claims/{index}/match"): _remittance_match,
    ("GET", "/billing/work-queues/unmatched-remittances"): _fixed(
        "GET", "/billing/work-queues/unmatched-remittances"
    ),
}


# ------------------------------------------------------------------ billing: receivables
BILLING_RECEIVABLES_ENDPOINTS: dict[tuple[str, str], Prepare] = {
    ("GET", "/billing/receivables"): _fixed(
        "GET", "/billing/receivables?site={site}&as_of=2026-11-30&by=payer"
    ),
    ("GET", "/billing/receivables/aging"): _fixed(
        "GET", "/billing/receivables/aging?site={site}&as_of=2026-11-30"
    ),
    ("GET", "/billing/kpis"): _fixed("GET", "/billing/kpis?site={site}&month=2026-11"),
}

# ---------------------------------------------------------------- compliance: policies
# Each call names a policy of its own; the tenant's `tester` (every token's default subject)
# is an employee at north, so a `staff` token acknowledges on its own behalf.

_EMPLOYED: list[Suite] = []  # the suites where `tester` is hired
COMPLIANCE_POLICY = {
    "title": "Code of conduct",
    "body": "Be kind.",
    "effective_on": "2026-01-01",
    "acknowledge_within_days": 0,
}


async def _policy(admin: httpx.AsyncClient) -> str:
    policy_id = f"pol{next(counter)}"
    await post_ok(admin, "/compliance/policies", {**COMPLIANCE_POLICY, "policy_id": policy_id})
    return policy_id


async def _new_policy(_: httpx.AsyncClient, site: str) -> Call:
    return Call(
        "POST", "/compliance/policies", {**COMPLIANCE_POLICY, "policy_id": f"pol{next(counter)}"}
    )


def _on_policy(action: str, body: dict[str, Any]) -> Prepare:
    async def prepare(admin: httpx.AsyncClient, site: str) -> Call:
        return Call("POST", f"/compliance/policies/{await _policy(admin)}/{action}", body)

    return prepare


async def _acknowledgement(admin: httpx.AsyncClient, site: str) -> Call:
    """A policy overdue for the tenant's employee `tester`, once compliance knows them."""
    suite = _BILLING["suite"]
    if suite not in _EMPLOYED:
        await hire(suite, "tester", site="north")
        _EMPLOYED.append(suite)
    policy_id = await _policy(admin)

    async def owed() -> bool:
        found = await admin.get("/compliance/policies/overdue", params={"site": "north"})
        return any(
            (r["policy_id"], r["employee_id"]) == (policy_id, "tester")
            for r in found.json()["overdue"]
        )

    await wait_until(owed, message="tester owing the policy")
    return Call("POST", f"/compliance/policies/{policy_id}/acknowledgements", {"version": 1})


async def _policy_read(admin: httpx.AsyncClient, site: str) -> Call:
    return await _readable(admin, f"/compliance/policies/{await _policy(admin)}")


# Incidents: each call names one of its own, at the caller's site, brought to the step before.
COMPLIANCE_ASSESSMENT = {
    "assessed_on": "2026-01-01",
    "breach": True,
    "risk": "high",
    "patients_affected": 3,
    "summary": "x",
}
COMPLIANCE_NOTIFICATION = {
    "recipient": "individuals",
    "sent_on": "2026-01-02",
    "recipients_count": 3,
}
COMPLIANCE_INVESTIGATION = {
    "investigated_on": "2026-01-02",
    "harm": "none",
    "root_cause": "x",
    "actions": ["y"],
}


def _incident_body(kind: str, site: str) -> dict[str, Any]:
    return {
        "incident_id": f"inc{next(counter)}",
        "kind": kind,
        "site_id": site,
        "title": "Incident",
        "description": "x",
        "discovered_on": "2026-01-01",
    }


async def _new_incident(_: httpx.AsyncClient, site: str) -> Call:
    return Call("POST", "/compliance/incidents", _incident_body("privacy", site))


async def _incident(admin: httpx.AsyncClient, kind: str, site: str) -> str:
    return str((await post_ok(admin, "/compliance/incidents", _incident_body(kind, site)))["id"])


def _on_incident(
    kind: str,
    step: str,
    body: dict[str, Any],
    assessed: bool = False,
    investigated: bool = False,
) -> Prepare:
    async def prepare(admin: httpx.AsyncClient, site: str) -> Call:
        at = f"/compliance/incidents/{await _incident(admin, kind, site)}"
        if assessed:
            await post_ok(admin, f"{at}/risk-assessment", COMPLIANCE_ASSESSMENT)
        if investigated:
            await post_ok(admin, f"{at}/investigation", COMPLIANCE_INVESTIGATION)
        return Call("POST", f"{at}/{step}", body)

    return prepare


async def _incident_read(admin: httpx.AsyncClient, site: str) -> Call:
    incident_id = await _incident(admin, "safety", site)
    return await _readable(admin, f"/compliance/incidents/{incident_id}")


# ------------------------------------------------------------------ engagement
# An appointment's messages: its patient opted in to e-mail, then booked at the site; the
# messages are planned from scheduling's booking on the bus (waited for by admin).


async def _appointment_messages(admin: httpx.AsyncClient, site: str) -> Call:
    patient_id = await _registered(admin)
    consent = await admin.put(
        f"/engagement/patients/{patient_id}/consent/email", json={"opted_in": True}
    )
    assert consent.status_code == 200, consent.text
    n = next(counter)
    booked = await post_ok(
        admin,
        "/scheduling/appointments",
        {
            "patient_id": patient_id,
            "provider_id": f"dr-{site}",
            "site_id": site,
            "visit_type_id": "v",
            "start": _start(n, "2027-01-01"),
        },
    )
    path = f"/engagement/appointments/{booked['id']}/messages"

    async def planned() -> bool:
        return (await admin.get(path)).status_code == 200

    await wait_until(planned, timeout=30, message=f"messages of {booked['id']}")
    return Call("GET", path)


async def _detractor_case(admin: httpx.AsyncClient, site: str) -> Call:
    """A feedback case at `site`, opened on engagement's store as a detractor's survey answer
    opens one (the matrix needs no visit for it), its summary sealed."""
    suite = _BILLING["suite"]
    service = suite.service("engagement")
    assert service.event_store is not None
    relay = service.relay
    vault = PhiVault(await suite.backends.key_vault(), key_bytes(_billing_settings[-1].phi_kek))
    handler = CommandHandler(
        service.event_store,
        ENGAGEMENT.registry,
        SystemClock(),
        UuidIds(),
        on_commit=relay.notify if relay is not None else lambda: None,
        vault=vault,
    )
    case_id = f"survey-matrix-{next(counter)}"
    opening = OpenCase(
        case_id=case_id,
        patient_id=f"pat-case-{site}",
        site_id=site,
        kind="complaint",
        source="survey",
        summary="Survey: likelihood to recommend 2 of 10",
        now=SystemClock().now(),
        due_on=date(2030, 1, 1),
    )
    meta = Metadata(tenant="acme", actor="system:test", site=site, correlation_id="access")
    await handler.handle(engagement_streams.case("acme", case_id), feedback_case, opening, meta)
    return Call("GET", f"/engagement/cases/{case_id}")


def _case_body(site: str, **change: Any) -> dict[str, Any]:
    return {
        "patient_id": f"pat-case-{site}",
        "site_id": site,
        "kind": "complaint",
        "summary": "Waited an hour",
        "due_on": "2030-01-01",
        **change,
    }


async def _case_opening(_: httpx.AsyncClient, site: str) -> Call:
    return Call("POST", "/engagement/cases", _case_body(site))


def _on_case(step: str, body: dict[str, Any], owned: bool = False) -> Prepare:
    """A step of a front-desk case at `site` (opened by admin, with an owner if `owned`)."""

    async def prepare(admin: httpx.AsyncClient, site: str) -> Call:
        change = {"owner_id": "mgr-case"} if owned else {}
        opened = await post_ok(admin, "/engagement/cases", _case_body(site, **change))
        return Call("POST", f"/engagement/cases/{opened['id']}/{step}", body)

    return prepare


ENGAGEMENT_ENDPOINTS: dict[tuple[str, str], Prepare] = {
    ("POST", "/engagement/cases"): _case_opening,
    ("POST", "/engagement/cases/{case_id}/assignment"): _on_case(
        "assignment", {"owner_id": "mgr-2", "due_on": "2030-01-02"}
    ),
    ("POST", "/engagement/cases/{case_id}/resolution"): _on_case(
        "resolution", {"resolution": "Apologised"}, owned=True
    ),
    ("GET", "/engagement/cases"): _fixed("GET", "/engagement/cases?site={site}"),
    ("PUT", "/engagement/recall-rules/{visit_type_id}"): _fixed(
        "PUT", "/engagement/recall-rules/vt-r{n}", {"interval_months": 12}
    ),
    ("GET", "/engagement/recalls"): _fixed("GET", "/engagement/recalls?site={site}"),
    ("PUT", "/engagement/patients/{patient_id}/consent/{channel}"): _fixed(
        "PUT", "/engagement/patients/pat-c{n}/consent/email", {"opted_in": True}
    ),
    ("GET", "/engagement/patients/{patient_id}/consent"): _fixed(
        "GET", "/engagement/patients/pat-c{n}/consent"
    ),
    ("GET", "/engagement/appointments/{appointment_id}/messages"): _appointment_messages,
    ("GET", "/engagement/outbox"): _fixed("GET", "/engagement/outbox?patient_id=pat-o{n}"),
    ("GET", "/engagement/streams/{stream}"): _fixed("GET", "/engagement/streams/acme:none"),
    ("GET", "/engagement/nps"): _fixed("GET", "/engagement/nps?month=2026-12&site_id={site}"),
    ("GET", "/engagement/kpis"): _fixed("GET", "/engagement/kpis?month=2026-12&site={site}"),
    ("GET", "/engagement/dashboard"): _fixed(
        "GET", "/engagement/dashboard?month=2026-12&site={site}"
    ),
    ("GET", "/engagement/cases/{case_id}"): _detractor_case,
}


COMPLIANCE_ENDPOINTS: dict[tuple[str, str], Prepare] = {
    ("POST", "/compliance/policies"): _new_policy,
    ("POST", "/compliance/policies/{policy_id}/versions"): _on_policy(
        "versions", COMPLIANCE_POLICY
    ),
    ("POST", "/compliance/policies/{policy_id}/retirement"): _on_policy(
        "retirement", {"retired_on": "2026-02-01", "reason": "superseded"}
    ),
    ("POST", "/compliance/policies/{policy_id}/reminders"): _on_policy("reminders", {}),
    ("POST", "/compliance/policies/{policy_id}/acknowledgements"): _acknowledgement,
    ("GET", "/compliance/policies"): _fixed("GET", "/compliance/policies"),
    ("GET", "/compliance/policies/overdue"): _fixed(
        "GET", "/compliance/policies/overdue?site={site}"
    ),
    ("GET", "/compliance/policies/{policy_id}"): _policy_read,
    ("POST", "/compliance/incidents"): _new_incident,
    ("POST", "/compliance/incidents/{incident_id}/risk-assessment"): _on_incident(
        "privacy", "risk-assessment", COMPLIANCE_ASSESSMENT
    ),
    ("POST", "/compliance/incidents/{incident_id}/notifications"): _on_incident(
        "privacy", "notifications", COMPLIANCE_NOTIFICATION, assessed=True
    ),
    ("POST", "/compliance/incidents/{incident_id}/investigation"): _on_incident(
        "safety", "investigation", COMPLIANCE_INVESTIGATION
    ),
    ("POST", "/compliance/incidents/{incident_id}/closure"): _on_incident(
        "safety", "closure", {"closed_on": "2026-01-02", "resolution": "x"}, investigated=True
    ),
    ("GET", "/compliance/incidents"): _fixed("GET", "/compliance/incidents"),
    ("GET", "/compliance/incidents/deadlines"): _fixed("GET", "/compliance/incidents/deadlines"),
    ("GET", "/compliance/incidents/{incident_id}"): _incident_read,
}


# ------------------------------------------------------------------ finance
# The books of acme: a cost centre per site and a vendor; invoices are entered by a clerk (an
# admin of another name) so that whoever the matrix calls as may approve them.
FINANCE_SITES = {
    "cost_centres": [{"site_id": "north", "name": "N"}, {"site_id": "south", "name": "S"}]
}


async def _finance_books(admin: httpx.AsyncClient) -> None:
    response = await admin.put("/finance/cost-centres", json=FINANCE_SITES)
    assert response.status_code == 200, response.text
    vendor = {"vendor_id": "matrix", "name": "Matrix Supply", "tax_id": "12-3456789"}
    await post_ok(admin, "/finance/vendors", vendor)


def _clerk() -> dict[str, str]:
    settings = _billing_settings[-1]
    token = mint_token(
        settings.jwt_secret,
        issuer=settings.jwt_issuer,
        subject="clerk",
        tenant="acme",
        roles=["admin"],
        sites=None,
        now=SystemClock().now(),
    )
    return {"authorization": f"Bearer {token}"}


async def _finance_invoice(admin: httpx.AsyncClient, site: str, approved: bool = False) -> str:
    await _finance_books(admin)
    n = next(counter)
    body = {
        "vendor_id": "matrix",
        "invoice_number": f"M-{n}",
        "invoice_date": "2026-01-02",
        "received_on": "2026-01-03",
        "lines": [{"account_code": "5200", "site_id": site, "amount_cents": 100 + n}],
    }
    made = await admin.post("/finance/invoices", json=body, headers=_clerk())
    assert made.status_code == 201, made.text
    invoice_id = str(made.json()["id"])
    if approved:
        answer = await admin.post(f"/finance/invoices/{invoice_id}/approval")
        assert answer.status_code == 200, answer.text
    return invoice_id


def _finance_invoice_step(action: str, body: dict[str, Any] | None = None) -> Prepare:
    async def prepare(admin: httpx.AsyncClient, site: str) -> Call:
        invoice_id = await _finance_invoice(admin, site)
        return Call("POST", f"/finance/invoices/{invoice_id}/{action}", body)

    return prepare


async def _finance_invoice_read(admin: httpx.AsyncClient, site: str) -> Call:
    return await _readable(admin, f"/finance/invoices/{await _finance_invoice(admin, site)}")


async def _finance_run(admin: httpx.AsyncClient, site: str) -> str:
    await _finance_invoice(admin, site, approved=True)
    run_id = f"run-{next(counter)}"
    await post_ok(admin, "/finance/payment-runs", {"run_id": run_id, "pay_on": "2030-01-01"})
    return run_id


def _finance_run_call(method: str, tail: str = "") -> Prepare:
    async def prepare(admin: httpx.AsyncClient, site: str) -> Call:
        return Call(method, f"/finance/payment-runs/{await _finance_run(admin, site)}{tail}")

    return prepare


def _finance_budget(year: int, lines: bool, approved: bool = False) -> Callable[..., Any]:
    async def made(admin: httpx.AsyncClient, site: str) -> None:
        await _finance_books(admin)
        rows = [{"account_code": "5200", "month": f"{year}-01-01", "amount_cents": 100}]
        if (await admin.get(f"/finance/budgets/{site}/{year}")).status_code == 200:
            return  # drafted (and perhaps revised) by an earlier call
        body = {"site_id": site, "fiscal_year": year, "lines": rows if lines else []}
        await post_ok(admin, "/finance/budgets", body)
        if approved:
            approval = {"budget_version": 1}
            manager = await admin.post(f"/finance/budgets/{site}/{year}/approval", json=approval)
            assert manager.status_code in (200, 403), manager.text  # admin is not a manager

    return made


def _finance_on_budget(
    year: int, method: str, tail: str, body: dict[str, Any] | None, lines: bool = True
) -> Prepare:
    async def prepare(admin: httpx.AsyncClient, site: str) -> Call:
        await _finance_budget(year, lines)(admin, site)
        return Call(method, f"/finance/budgets/{site}/{year}{tail}", body)

    return prepare


async def _finance_payroll(admin: httpx.AsyncClient, site: str) -> Call:
    await _finance_books(admin)
    n = next(counter)
    return Call(
        "POST",
        "/finance/payroll-imports",
        csv=f"site,month,account,amount\n{site},2026-10,5100,{n}\n",
    )


async def _finance_vendor(admin: httpx.AsyncClient, site: str) -> Call:
    await _finance_books(admin)
    return await _readable(admin, "/finance/vendors/matrix")


async def _finance_draft(admin: httpx.AsyncClient, site: str) -> Call:
    await _finance_books(admin)
    return Call("POST", "/finance/budgets", {"site_id": site, "fiscal_year": 2030, "lines": []})


async def _finance_new_vendor(_: httpx.AsyncClient, site: str) -> Call:
    body = {"vendor_id": f"v-{next(counter)}", "name": "V", "tax_id": "98-7654321"}
    return Call("POST", "/finance/vendors", body)


async def _finance_new_invoice(admin: httpx.AsyncClient, site: str) -> Call:
    await _finance_books(admin)
    body = {
        "vendor_id": "matrix",
        "invoice_number": f"X-{next(counter)}",
        "invoice_date": "2026-01-02",
        "received_on": "2026-01-03",
        "lines": [{"account_code": "5200", "site_id": site, "amount_cents": 7}],
    }
    return Call("POST", "/finance/invoices", body)


async def _finance_new_run(_: httpx.AsyncClient, site: str) -> Call:
    # Nothing is due by 2020: an admitted caller is answered 409 (no run to start).
    return Call(
        "POST", "/finance/payment-runs", {"run_id": f"r-{next(counter)}", "pay_on": "2020-01-01"}
    )


FINANCE_REASON = {"reason": "wrong", "on": "2026-01-05"}
FINANCE_ENDPOINTS: dict[tuple[str, str], Prepare] = {
    ("GET", "/finance/chart"): _fixed("GET", "/finance/chart"),
    ("PUT", "/finance/chart"): _fixed(
        "PUT", "/finance/chart", {"accounts": [a.model_dump() for a in DEFAULT_ACCOUNTS]}
    ),
    ("PUT", "/finance/cost-centres"): _fixed("PUT", "/finance/cost-centres", FINANCE_SITES),
    ("POST", "/finance/payroll-imports"): _finance_payroll,
    ("POST", "/finance/budgets"): _finance_draft,
    ("POST", "/finance/budgets/{site_id}/{fiscal_year}/revisions"): _finance_on_budget(
        2031, "POST", "/revisions", {"lines": [], "reason": "cut"}
    ),
    ("POST", "/finance/budgets/{site_id}/{fiscal_year}/approval"): _finance_on_budget(
        2032, "POST", "/approval", {"budget_version": 1}
    ),
    ("GET", "/finance/budgets/{site_id}/{fiscal_year}"): _finance_on_budget(2032, "GET", "", None),
    ("POST", "/finance/vendors"): _finance_new_vendor,
    ("GET", "/finance/vendors"): _fixed("GET", "/finance/vendors"),
    ("GET", "/finance/vendors/{vendor_id}"): _finance_vendor,
    ("POST", "/finance/invoices"): _finance_new_invoice,
    ("POST", "/finance/invoices/{invoice_id}/approval"): _finance_invoice_step("approval"),
    ("POST", "/finance/invoices/{invoice_id}/rejection"): _finance_invoice_step(
        "rejection", FINANCE_REASON
    ),
    ("POST", "/finance/invoices/{invoice_id}/void"): _finance_invoice_step("void", FINANCE_REASON),
    ("GET", "/finance/invoices"): _fixed("GET", "/finance/invoices"),
    ("GET", "/finance/invoices/{invoice_id}"): _finance_invoice_read,
    ("POST", "/finance/payment-runs"): _finance_new_run,
    ("POST", "/finance/payment-runs/{run_id}/completion"): _finance_run_call("POST", "/completion"),
    ("POST", "/finance/payment-runs/{run_id}/abandonment"): _finance_run_call(
        "POST", "/abandonment"
    ),
    ("GET", "/finance/payment-runs/{run_id}"): _finance_run_call("GET"),
    ("GET", "/finance/ap-aging"): _fixed("GET", "/finance/ap-aging?site_id={site}"),
    ("GET", "/finance/reports/month"): _fixed(
        "GET", "/finance/reports/month?month=2026-11&site_id={site}"
    ),
}


ENDPOINTS: dict[tuple[str, str], Prepare] = {
    ("GET", "/scheduling/sites"): _fixed("GET", "/scheduling/sites"),
    ("POST", "/scheduling/sites"): _new_site,
    ("POST", "/scheduling/sites/{site_id}/rooms"): _new_room,
    ("GET", "/scheduling/rooms"): _fixed("GET", "/scheduling/rooms"),
    ("GET", "/scheduling/providers"): _fixed("GET", "/scheduling/providers"),
    ("GET", "/scheduling/visit-types"): _fixed("GET", "/scheduling/visit-types"),
    ("POST", "/scheduling/visit-types"): _new_visit_type,
    ("POST", "/scheduling/appointments"): _booking,
    ("POST", "/scheduling/appointments/{appointment_id}/cancel"): _cancel,
    ("GET", "/scheduling/appointments/{appointment_id}"): _appointment,
    ("GET", "/scheduling/providers/{provider_id}/schedule/{day}"): _fixed(
        "GET", "/scheduling/providers/dr-{site}/schedule/2027-01-05"
    ),
    ("POST", "/scheduling/patients"): _new_patient,
    ("GET", "/scheduling/patients/{patient_id}"): _patient,
    ("POST", "/scheduling/patients/{patient_id}/forget"): _forget,
    ("GET", "/fhir/R4/metadata"): _fixed("GET", "/fhir/R4/metadata"),
    ("GET", "/fhir/R4/Patient/{patient_id}"): _fhir_patient,
    ("GET", "/fhir/R4/Appointment/{appointment_id}"): _fhir_appointment,
    ("GET", "/fhir/R4/Appointment"): _fixed("GET", "/fhir/R4/Appointment?date=2027-01-05"),
    ("GET", "/fhir/R4/Location"): _fixed("GET", "/fhir/R4/Location"),
    ("GET", "/fhir/R4/Location/{location_id}"): _fixed("GET", "/fhir/R4/Location/site-{site}"),
    ("GET", "/fhir/R4/Schedule"): _fixed("GET", "/fhir/R4/Schedule"),
    ("GET", "/fhir/R4/Schedule/{schedule_id}"): _fixed(
        "GET",
        "/fhir/R4/Schedule/8-dr-{site}-{site}",  # len("dr-north") == len("dr-south")
    ),
    ("GET", "/fhir/R4/Slot"): _fixed(
        "GET", "/fhir/R4/Slot?schedule=8-dr-{site}-{site}&start=2027-05-04"
    ),
    ("GET", "/fhir/R4/Practitioner"): _fixed("GET", "/fhir/R4/Practitioner"),
    ("GET", "/fhir/R4/Practitioner/{practitioner_id}"): _fixed(
        "GET", "/fhir/R4/Practitioner/dr-{site}"
    ),
    ("GET", "/fhir/R4/PractitionerRole"): _fixed("GET", "/fhir/R4/PractitionerRole"),
    ("GET", "/fhir/R4/PractitionerRole/{role_id}"): _fixed(
        "GET", "/fhir/R4/PractitionerRole/dr-{site}"
    ),
    ("POST", "/staffing/employees"): _new_employee,
    ("GET", "/staffing/employees/{employee_id}"): _employee,
    ("POST", "/staffing/employees/{employee_id}/job"): _employee_change(
        "POST", "job", {**STAFF_JOB, "effective_on": "2026-03-01"}
    ),
    ("POST", "/staffing/employees/{employee_id}/leave"): _employee_change(
        "POST", "leave", {"reason": "r", "starts_on": "2026-02-01"}
    ),
    ("POST", "/staffing/employees/{employee_id}/leave/{leave_id}/end"): _employee_change(
        "POST", "leave/l1/end", {"returned_on": "2026-03-01"}, ON_LEAVE
    ),
    ("POST", "/staffing/employees/{employee_id}/termination"): _employee_change(
        "POST", "termination", TERMINATED[1]
    ),
    ("POST", "/staffing/employees/{employee_id}/rehire"): _employee_change(
        "POST", "rehire", {**STAFF_JOB, "hired_on": "2026-05-01"}, TERMINATED
    ),
    ("PUT", "/staffing/employees/{employee_id}/personal"): _employee_change(
        "PUT", "personal", {"phone": "+1 555 0111"}
    ),
    ("POST", "/staffing/employees/{employee_id}/provider"): _employee_change(
        "POST", "provider", {"npi": "1234567893", "taxonomy_code": "207Q00000X", "specialty": "F"}
    ),
    ("POST", "/staffing/employees/{employee_id}/forget-personal-data"): _employee_change(
        "POST", "forget-personal-data", {"reason": "asked"}
    ),
    ("GET", "/staffing/sites/{site_id}/staff"): _fixed("GET", "/staffing/sites/{site}/staff"),
    ("GET", "/fhir/R4/StructureDefinition/{definition_id}"): _fixed(
        "GET", "/fhir/R4/StructureDefinition/location-timezone"
    ),
    ("POST", "/scheduling/patients/{patient_id}/coverage"): _coverage,
    ("POST", "/scheduling/patients/{patient_id}/intake"): _intake,
    ("POST", "/scheduling/sites/{site_id}/triage"): _triage,
    ("POST", "/scheduling/sites/{site_id}/triage/{triage_id}/retriage"): _triaged(
        "retriage", {"urgency": 1}
    ),
    ("POST", "/scheduling/sites/{site_id}/triage/{triage_id}/seen"): _triaged("seen"),
    ("POST", "/scheduling/sites/{site_id}/triage/{triage_id}/left"): _triaged("left"),
    ("GET", "/scheduling/sites/{site_id}/triage-queue"): _fixed(
        "GET", "/scheduling/sites/{site}/triage-queue"
    ),
    ("POST", "/scheduling/appointment-series"): _series,
    ("POST", "/scheduling/appointments/{appointment_id}/reschedule"): _on_booking(
        "reschedule", {"start": "{start}"}
    ),
    ("POST", "/scheduling/appointments/{appointment_id}/check-in"): _on_booking("check-in"),
    ("POST", "/scheduling/appointments/{appointment_id}/confirm"): _on_booking("confirm"),
    ("POST", "/scheduling/appointments/{appointment_id}/room"): _on_booking("room", {}, "check-in"),
    ("POST", "/scheduling/appointments/{appointment_id}/complete"): _on_booking(
        "complete", {"procedures": ["99213"], "diagnoses": ["E11.9"]}, "check-in"
    ),
    ("POST", "/scheduling/appointments/{appointment_id}/no-show"): _no_show,
    ("GET", "/scheduling/patients/{patient_id}/appointments"): _fixed(
        "GET", "/scheduling/patients/pat-1/appointments"
    ),
    ("GET", "/scheduling/sites/{site_id}/board/{day}"): _fixed(
        "GET", "/scheduling/sites/{site}/board/2027-01-05"
    ),
    ("GET", "/scheduling/sites/{site_id}/to-reschedule"): _fixed(
        "GET", "/scheduling/sites/{site}/to-reschedule"
    ),
    ("GET", "/scheduling/open-slots"): _fixed(
        "GET",
        "/scheduling/open-slots?site_id={site}&visit_type_id=v&start=2027-05-04&end=2027-05-04",
    ),
    ("GET", "/scheduling/no-show-rates"): _fixed("GET", "/scheduling/no-show-rates?month=2027-01"),
    ("POST", "/scheduling/providers/{provider_id}/availability"): _provider_change(
        "availability",
        {
            "site_id": "{site}",
            "windows": [{"weekday": 0, "start": "09:00", "end": "12:00"}],
            "effective_from": "2027-01-01",
        },
    ),
    ("POST", "/scheduling/providers/{provider_id}/blocks"): _provider_change(
        "blocks",
        {
            "site_id": "{site}",
            "start": "2027-06-01T09:00:00Z",
            "end": "2027-06-01T10:00:00Z",
            "reason": "training",
        },
    ),
    ("POST", "/scheduling/sites/{site_id}/waitlist"): _join_waitlist,
    ("POST", "/scheduling/sites/{site_id}/waitlist/{entry_id}/remove"): _leave_waitlist,
    ("POST", "/scheduling/sites/{site_id}/waitlist/offers/{offer_id}/accept"): _offered("accept"),
    ("POST", "/scheduling/sites/{site_id}/waitlist/offers/{offer_id}/decline"): _offered("decline"),
    ("GET", "/scheduling/sites/{site_id}/waitlist"): _fixed(
        "GET", "/scheduling/sites/{site}/waitlist"
    ),
    ("POST", "/staffing/employees/{employee_id}/credentials"): _fixed(
        "POST", "/staffing/employees/dr-{site}/credentials", LICENCE
    ),
    ("POST", "/staffing/credentials/{credential_id}/renewal"): _credential_change(
        "renewal", {"expires_on": "2029-01-01"}
    ),
    ("POST", "/staffing/credentials/{credential_id}/verifications"): _credential_change(
        "verifications", {"source": "state board", "result": "verified"}
    ),
    ("POST", "/staffing/credentials/{credential_id}/revocation"): _credential_change(
        "revocation", {"effective_on": "2027-01-01", "reason": "x"}
    ),
    ("GET", "/staffing/credentials/{credential_id}"): _credential_read,
    ("GET", "/staffing/credentials/expiring"): _fixed(
        "GET", "/staffing/credentials/expiring?within_days=60"
    ),
    ("GET", "/staffing/employees/{employee_id}/credentials"): _staffing_read(
        "/staffing/employees/dr-{site}/credentials"
    ),
    ("POST", "/staffing/employees/{employee_id}/enrolments"): _enrol,
    ("GET", "/staffing/employees/{employee_id}/enrolments"): _staffing_read(
        "/staffing/employees/dr-{site}/enrolments"
    ),
    ("GET", "/staffing/enrolments"): _fixed("GET", "/staffing/enrolments"),
    ("GET", "/compliance/audit-log"): _fixed("GET", "/compliance/audit-log"),
    ("GET", "/compliance/audit-log/caused-by/{event_id}"): _caused_by,
    ("GET", "/compliance/patients/{patient_id}/access-report"): _patient_report("access-report"),
    ("GET", "/compliance/patients/{patient_id}/disclosures"): _patient_report("disclosures"),
    ("GET", "/compliance/audit-ledger/verify"): _fixed("GET", "/compliance/audit-ledger/verify"),
    ("GET", "/compliance/audit-ledger/blocks"): _fixed("GET", "/compliance/audit-ledger/blocks"),
    ("GET", "/compliance/audit-exports"): _fixed(
        "GET", "/compliance/audit-exports?from=2026-01-01&to=2027-01-01"
    ),
    ("GET", "/compliance/audit-exports/public-key"): _fixed(
        "GET", "/compliance/audit-exports/public-key"
    ),
    ("GET", "/compliance/alerts"): _fixed("GET", "/compliance/alerts?site={site}"),
    ("GET", "/compliance/alerts/{alert_id}"): _alert_read,
    ("POST", "/compliance/alerts/{alert_id}/acknowledgement"): _alert_change(
        "acknowledgement", {"note": "on it"}
    ),
    ("POST", "/compliance/alerts/{alert_id}/resolution"): _alert_change(
        "resolution", {"note": "done"}
    ),
    ("GET", "/ops/projections"): _fixed("GET", "/ops/projections"),
    ("GET", "/ops/services"): _fixed("GET", "/ops/services"),
    ("GET", "/console"): _console("/console"),
    ("GET", "/console/projections"): _console("/console/projections"),
    # One snapshot: an endless stream would never answer the matrix.
    ("GET", "/console/stream/overview"): _console("/console/stream/overview?max_events=1"),
    ("GET", "/console/rebuilds"): _console("/console/rebuilds"),
    ("GET", "/console/stream/rebuilds"): _console("/console/stream/rebuilds?max_events=1"),
    ("POST", "/console/rebuilds"): _console_rebuild,
    ("GET", "/console/rebuilds/{rebuild_id}"): lambda _, site: _console_a_rebuild(
        "/console/rebuilds/{rebuild_id}"
    ),
    ("GET", "/console/stream/rebuilds/{rebuild_id}"): lambda _, site: _console_a_rebuild(
        "/console/stream/rebuilds/{rebuild_id}?max_events=1"
    ),
    ("POST", "/console/rebuilds/{rebuild_id}/cancel"): lambda _, site: _console_a_rebuild(
        "/console/rebuilds/{rebuild_id}/cancel", "POST"
    ),
    ("GET", "/console/dead-letters"): _console("/console/dead-letters"),
    ("GET", "/console/stream/dead-letters"): _console("/console/stream/dead-letters?max_events=1"),
    ("GET", "/console/dead-letters/{dead_letter_id}"): _console(
        f"/console/dead-letters/{NO_LETTER}"
    ),
    ("POST", "/console/dead-letters/replay"): _console_form(
        "/console/dead-letters/replay", "context=scheduling"
    ),
    ("POST", "/console/dead-letters/{dead_letter_id}/replay"): _console_form(
        f"/console/dead-letters/{NO_LETTER}/replay", ""
    ),
    ("POST", "/console/dead-letters/{dead_letter_id}/discard"): _console_form(
        f"/console/dead-letters/{NO_LETTER}/discard", "reason=matrix"
    ),
    ("POST", "/ops/projections/{name}/rebuild"): _rebuild,
    ("POST", "/ops/projections/{name}/replays"): _replay,
    ("POST", "/ops/projections/{name}/rebuilds"): _start_rebuild,
    ("GET", "/ops/rebuilds"): _fixed("GET", "/ops/rebuilds"),
    ("GET", "/ops/rebuilds/{rebuild_id}"): lambda _, site: _a_rebuild("GET"),
    ("DELETE", "/ops/rebuilds/{rebuild_id}"): lambda _, site: _a_rebuild("DELETE"),
    ("GET", "/ops/consumers"): _fixed("GET", "/ops/consumers"),
    ("GET", "/ops/replays/{replay_id}"): lambda _, site: _a_replay("GET"),
    # A stream that never ends by itself: an unknown context answers (422 or 403) at once.
    ("GET", "/ops/events/tail"): _fixed("GET", "/ops/events/tail?context=nowhere"),
    # Streams as of a time: acme's, whatever the caller's tenant (another tenant's is a 404).
    # Billing's and compliance's named ones never exist: their streams come from consumers.
    ("GET", "/scheduling/streams/{stream}"): _fixed("GET", "/scheduling/streams/acme:site:{site}"),
    ("GET", "/staffing/streams/{stream}"): _fixed(
        "GET", "/staffing/streams/acme:employee:dr-{site}"
    ),
    ("GET", "/billing/streams/{stream}"): _fixed("GET", "/billing/streams/acme:payer:none"),
    ("GET", "/finance/streams/{stream}"): _fixed("GET", "/finance/streams/acme:vendor:matrix"),
    ("GET", "/compliance/streams/{stream}"): _fixed("GET", "/compliance/streams/acme:none"),
    ("DELETE", "/ops/replays/{replay_id}"): lambda _, site: _a_replay("DELETE"),
    # Dead letters: who may, decided before any is looked up (an operator gets 404 for this one).
    ("GET", "/ops/dead-letters"): _fixed("GET", "/ops/dead-letters?context=scheduling"),
    ("GET", "/ops/dead-letters/{dead_letter_id}"): _fixed("GET", f"/ops/dead-letters/{NO_LETTER}"),
    ("POST", "/ops/dead-letters/replay"): _fixed(
        "POST", "/ops/dead-letters/replay", {"context": "scheduling"}
    ),
    ("POST", "/ops/dead-letters/{dead_letter_id}/replay"): _fixed(
        "POST", f"/ops/dead-letters/{NO_LETTER}/replay"
    ),
    ("POST", "/ops/dead-letters/{dead_letter_id}/discard"): _fixed(
        "POST", f"/ops/dead-letters/{NO_LETTER}/discard", {"reason": "matrix"}
    ),
    # staffing: training
    ("POST", "/staffing/courses"): _new_course,
    ("POST", "/staffing/employees/{employee_id}/training"): _assign,
    ("POST", "/staffing/training/{assignment_id}/completion"): _completion,
    ("GET", "/staffing/employees/{employee_id}/training"): _employee_training,
    ("GET", "/staffing/training/overdue"): _fixed(
        "GET", "/staffing/training/overdue?site_id={site}"
    ),
    ("GET", "/staffing/sites/{site_id}/training-compliance"): _fixed(
        "GET", "/staffing/sites/{site}/training-compliance"
    ),
    # staffing: reviews
    ("POST", "/staffing/review-cycles"): _new_cycle,
    ("POST", "/staffing/review-cycles/{cycle}/reviews"): _start_review,
    ("POST", "/staffing/reviews/{review_id}/self-assessment"): _review_step(
        "self-assessment", {"summary": "ok"}
    ),
    ("POST", "/staffing/reviews/{review_id}/manager-review"): _review_step(
        "manager-review", {"ratings": {"teamwork": 4}, "goals": ["Grow"]}
    ),
    ("POST", "/staffing/reviews/{review_id}/sign-off"): _review_step("sign-off"),
    ("POST", "/staffing/reviews/{review_id}/acknowledgement"): _review_step("acknowledgement", {}),
    ("GET", "/staffing/review-cycles/{cycle}"): _cycle,
    ("GET", "/staffing/reviews/{review_id}"): _review,
    **STAFFING_ENDPOINTS,
    **BILLING_ENDPOINTS,
    **BILLING_LEARNING_ENDPOINTS,
    **BILLING_CHARGE_ENDPOINTS,
    **BILLING_CLAIMS_ENDPOINTS,
    **BILLING_FHIR_ENDPOINTS,
    **BILLING_PATIENT_ENDPOINTS,
    **BILLING_POSTING_ENDPOINTS,
    **BILLING_RECEIVABLES_ENDPOINTS,
    **ENGAGEMENT_ENDPOINTS,
    **COMPLIANCE_ENDPOINTS,
    **FINANCE_ENDPOINTS,
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The matrix is about the HTTP layer: the embedded backend is enough."""
    return suite_settings(tmp_path)


ALL_WEEK = [{"weekday": d, "opens": "00:00", "closes": "23:59"} for d in range(7)]
ALL_WEEK_WINDOWS = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]


async def _group(client: httpx.AsyncClient) -> None:
    """Two sites open around the clock, each with a provider bookable there any time."""
    for site in ("north", "south"):
        await post_ok(
            client,
            "/scheduling/sites",
            {"site_id": site, "name": site, "time_zone": "UTC", "opening_hours": ALL_WEEK},
        )
        # Hired through staffing (FHIR Practitioner and PractitionerRole), learnt by scheduling.
        await hire_bookable(client, f"dr-{site}", [site], name=site)
        await _readable(client, f"/fhir/R4/Practitioner/dr-{site}")
        await post_ok(
            client,
            f"/scheduling/providers/dr-{site}/availability",
            {"site_id": site, "windows": ALL_WEEK_WINDOWS, "effective_from": "2026-01-01"},
        )
    await post_ok(
        client,
        "/scheduling/visit-types",
        {"visit_type_id": "v", "name": "Visit", "duration_minutes": 30, "room_type": None},
    )


async def test_every_endpoint_declares_its_policy(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    operations = {(m.upper(), p): op for p, ops in paths.items() for m, op in ops.items()}
    undeclared = [
        key
        for key, op in operations.items()
        if key not in PUBLIC and "x-medoffice-policy" not in op
    ]
    assert undeclared == []
    assert set(operations) - PUBLIC == set(ENDPOINTS), "the matrix must cover every endpoint"
    for key, op in operations.items():
        rule = op.get("x-medoffice-policy")
        if rule and rule["changes_state"]:
            assert "auditor" not in rule["roles"], key


# The matrix in parts, one per context: each part sets up a group of its own and is a test of
# its own (a few minutes at most on a loaded machine, and the parts share out across workers).
PARTS = {
    "scheduling": ("scheduling",),
    "scheduling-appointments": (),  # its appointments, series and open slots: the slowest
    "staffing": ("staffing",),
    "billing": ("billing",),
    "finance-and-engagement": ("finance", "engagement"),
    "compliance": ("compliance",),
    "fhir": ("fhir",),
    "operations": ("ops", "console"),
}


def _part_of(path: str) -> str:
    context, what = [*path.split("/")[1:3], ""][:2]
    if context == "scheduling" and what.startswith(("appointment", "open-slots", "no-show")):
        return "scheduling-appointments"
    return next(part for part, contexts in PARTS.items() if context in contexts)


def _documented_rows() -> dict[str, str]:
    """docs/security.md's matrix: each endpoint's row, keyed by its first cell."""
    table = DOC.read_text().partition(BEGIN)[2].partition(END)[0].strip().splitlines()
    return {row.split(" | ")[0]: row for row in table[2:]}


def _cells(row: str | None) -> list[list[str]] | None:
    """A documented row's statuses: per column, per scope."""
    if row is None:
        return None
    return [cell.split("/") for cell in row.strip(" |").split(" | ")[1:]]


def _header() -> str:
    return "| endpoint | " + " | ".join(COLUMNS) + " |\n|---|" + "---|" * len(COLUMNS)


def _write_rows(found: dict[str, str]) -> None:
    """Rewrite the documented matrix with these rows, in ENDPOINTS' order (run the parts in one
    process, not under several workers, when writing)."""
    rows = {**_documented_rows(), **found}
    keys = [f"| `{method} {path}`" for method, path in ENDPOINTS]
    table = _header() + "\n" + "\n".join(rows[key] for key in keys if key in rows)
    document = DOC.read_text()
    before, _, rest = document.partition(BEGIN)
    DOC.write_text(f"{before}{BEGIN}\n{table}\n{END}{rest.partition(END)[2]}")


def test_the_documented_matrix_lists_every_endpoint_in_order() -> None:
    table = DOC.read_text().partition(BEGIN)[2].partition(END)[0].strip().splitlines()
    assert "\n".join(table[:2]) == _header()
    assert list(_documented_rows()) == [f"| `{method} {path}`" for method, path in ENDPOINTS]
    assert {_part_of(path) for _, path in ENDPOINTS} == set(PARTS)


# Thousands of requests: on the embedded backend only (who may do what is decided in the HTTP
# layer, the same on both; the scale-out runs of the tests above check the backends agree), and
# with time for a loaded machine.
@pytest.mark.parametrize("settings", ["embedded"], indirect=True)
@pytest.mark.parametrize("part", list(PARTS))
@pytest.mark.timeout(600)
async def test_the_access_matrix_is_the_documented_one(
    suite: Suite,
    client: httpx.AsyncClient,
    token_for: TokenFor,
    operator: dict[str, str],
    part: str,
) -> None:
    _BILLING["suite"] = suite
    await _group(client)
    await _hire_providers(suite)
    await _staffing_group(client, suite)
    found = {}
    documented = _documented_rows()
    # A cell documented as refused (403) asks with the call prepared last in its scope: the
    # refusal comes before any work, and any other answer fails the test all the same. Each
    # cell is still a real request; only the preparing is spared. Not when writing the matrix.
    writing = bool(os.environ.get("MEDOFFICE_WRITE_ACCESS_MATRIX"))
    for (method, path), prepare in ENDPOINTS.items():
        if _part_of(path) != part:
            continue
        key = f"| `{method} {path}`"
        expected = _cells(documented.get(key))
        cells = []
        last: dict[str, Call] = {}
        for column, role in enumerate(COLUMNS):
            statuses = []
            for n, scope in enumerate(SCOPES):
                site = "north" if scope == "own" else "south" if scope == "other" else "north"
                tenant = "globex" if scope == "tenant" else "acme"
                refused = expected is not None and expected[column][n] == "403"
                if writing or not refused or scope not in last:
                    last[scope] = await prepare(client, site)
                call = last[scope]
                # An operator belongs to no tenant: the same token in every scope.
                headers = (
                    operator
                    if role == OPERATOR
                    else token_for(role, tenant=tenant, sites=["north"])
                )
                if call.cookie:
                    token = headers["authorization"].removeprefix("Bearer ")
                    headers = {"cookie": f"{CONSOLE_COOKIE}={token}"}
                if call.form is not None:
                    headers = {**headers, "content-type": "application/x-www-form-urlencoded"}
                if call.csv is not None:
                    headers = {**headers, "content-type": "text/csv"}
                response = await client.request(
                    call.method,
                    call.path,
                    json=call.json,
                    content=call.form if call.csv is None else call.csv,
                    headers=headers,
                )
                assert response.status_code < 500, (role, scope, call, response.text)
                statuses.append(str(response.status_code))
            cells.append("/".join(statuses))
        found[key] = f"{key} | " + " | ".join(cells) + " |"
    if writing:
        _write_rows(found)
        documented = _documented_rows()
    differing = {
        key: (documented.get(key), row) for key, row in found.items() if documented.get(key) != row
    }
    assert differing == {}, "docs/security.md's access matrix differs from the API's"


async def test_site_scoped_callers_list_only_their_sites(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    await _group(client)
    desk = token_for("front_desk", sites=["north"])

    async def listed(path: str, key: str, expected: int, **headers: str) -> list[str] | None:
        """The ids a list shows once the directory read model holds every one of `_group`'s."""
        everyone = (await client.get(path)).json()
        if len(everyone) < expected:
            return None
        return [item[key] for item in (await client.get(path, headers=headers)).json()]

    assert await wait_until(lambda: listed("/scheduling/sites", "site_id", 2, **desk)) == ["north"]
    providers = await wait_until(lambda: listed("/scheduling/providers", "provider_id", 2, **desk))
    assert providers == ["dr-north"]
    everyone = (await client.get("/scheduling/sites")).json()
    assert sorted(s["site_id"] for s in everyone) == ["north", "south"]


AUDIT_LOG_BEGIN, AUDIT_LOG_END = "<!-- audit-log-access:begin -->", "<!-- audit-log-access:end -->"
AUDIT_LOG_CALLERS: tuple[tuple[str, str, list[str] | None], ...] = (
    ("manager of north", "manager", ["north"]),
    ("manager of every site", "manager", None),
    ("admin of north", "admin", ["north"]),
    ("admin of every site", "admin", None),
    ("auditor of north", "auditor", ["north"]),
    ("auditor of every site", "auditor", None),
)


async def test_the_audit_log_shows_a_caller_only_the_sites_it_may_see(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    """Which audit-log entries each caller reads, unfiltered, by stream and by subject: the
    table in docs/security.md. An entry at another site would reveal its patients, provider
    and times; an entry about no site (a patient's registration, a record of access) reveals
    patients of every site."""
    await _group(client)
    patient = await _registered(client)
    at: dict[str, dict[str, str]] = {}
    for site in ("north", "south"):
        appointment = await _book(client, site)
        checked_in = await client.post(f"/scheduling/appointments/{appointment}/check-in")
        assert checked_in.status_code == 200, checked_in.text
        at[site] = {"subject": appointment}

    async def read_record() -> httpx.Response | None:
        """The patient's record, once the patients read model has it: the read records
        PatientRecordAccessed."""
        response = await client.get(f"/scheduling/patients/{patient}")
        return response if response.status_code != 404 else None

    read = await wait_until(read_record, message="the patient's record")
    assert read is not None
    assert read.status_code == 200, read.text

    async def everything() -> list[dict[str, Any]] | None:
        found = (await client.get("/compliance/audit-log", params={"limit": 1000})).json()
        types = {e["type"].rsplit(".", 2)[-2] for e in found}
        done = {"PatientCheckedIn", "PatientRecordAccessed"} <= types
        return found if done and len([e for e in found if "CheckedIn" in e["type"]]) == 2 else None

    entries = await wait_until(everything, message="every audit entry")
    assert entries is not None
    for site in ("north", "south"):
        [booked] = [
            e
            for e in entries
            if e["subject"] == at[site]["subject"] and e["type"].endswith("AppointmentBooked.v1")
        ]
        at[site]["stream"] = booked["stream"]
        # The check-in names no site in its data: it is the site of its day's stream.
        assert {e["site"] for e in entries if e["stream"] == booked["stream"]} == {site}
    siteless = [e for e in entries if e["site"] is None]
    assert {e["subject"] for e in siteless} >= {patient}

    rows = []
    for label, role, sites in AUDIT_LOG_CALLERS:
        headers = token_for(role, sites=sites)
        cells = []
        for site in ("north", "south"):
            shown = []
            for params in ({"limit": 1000}, {"stream": at[site]["stream"]}, at[site]):
                found = (
                    await client.get("/compliance/audit-log", headers=headers, params=params)
                ).json()
                shown.append(any(e["site"] == site for e in found))
            assert len(set(shown)) == 1, (label, site, shown)  # the same however it asks
            cells.append("yes" if shown[0] else "no")
        found = (
            await client.get("/compliance/audit-log", headers=headers, params={"limit": 1000})
        ).json()
        by_patient = (
            await client.get("/compliance/audit-log", headers=headers, params={"subject": patient})
        ).json()
        without_site = [e for e in found + by_patient if e["site"] is None]
        cells.append("yes" if without_site else "no")
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    # The issue: a manager of one site read another site's bookings through the audit log.
    assert rows[0] == "| manager of north | yes | no | no |"
    table = (
        "| caller | entries at north | entries at south | entries about no site |\n"
        "|---|---|---|---|\n" + "\n".join(rows)
    )

    document = DOC.read_text()
    before, _, rest = document.partition(AUDIT_LOG_BEGIN)
    _, _, after = rest.partition(AUDIT_LOG_END)
    if os.environ.get("MEDOFFICE_WRITE_ACCESS_MATRIX"):
        DOC.write_text(f"{before}{AUDIT_LOG_BEGIN}\n{table}\n{AUDIT_LOG_END}{after}")
    documented = rest.partition(AUDIT_LOG_END)[0].strip()
    assert documented == table, "docs/security.md's audit-log table differs from the API's"
