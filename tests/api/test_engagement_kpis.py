"""The office KPIs: a small generated month of scheduling's, billing's, staffing's and
engagement's own events, recorded on each service's event store as the services record them,
gives each KPI its hand-computed value (written below) at a site and over the group; the KPI
projection rebuilt gives the same answer. Managers and auditors read at their sites; bad input
is a 422. On both backends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import httpx

from services.billing.contracts import CONTRACT as BILLING
from services.billing.contracts import (
    Adjustment,
    ClaimAdjudicated,
    ClaimCreated,
    ClaimWrittenOff,
    PatientPaymentReceived,
    PatientRefunded,
    PatientResponsibilityAssessed,
)
from services.engagement.contracts import CONTRACT as ENGAGEMENT
from services.engagement.contracts import SurveyAnswered
from services.scheduling.contracts import CONTRACT as SCHEDULING
from services.scheduling.contracts import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentNoShow,
    AppointmentRescheduled,
    AppointmentWithdrawn,
    AvailabilitySet,
    PatientCheckedIn,
    PatientRoomed,
    ProviderTimeOffApproved,
    ProviderTimeOffCancelled,
    ThirdNextAvailableMeasured,
    TimeBlocked,
    VisitCompleted,
    Window,
)
from services.staffing.contracts import CONTRACT as STAFFING
from services.staffing.contracts import (
    CredentialRecorded,
    CredentialRenewed,
    CredentialRevoked,
    EmployeeHired,
    JobChanged,
    TrainingAssigned,
    TrainingCompleted,
)
from services.suite import Suite
from shared.clock import UuidIds
from shared.commands import CommandHandler
from shared.contracts import Contract
from shared.domain import Decider
from shared.events import DomainEvent, Metadata
from shared.phivault import PhiVault
from shared.settings import Settings, key_bytes
from tests.api.conftest import TokenFor
from tests.support import wait_until

MONTH = "2026-11"
PROJECTION = "engagement.kpis"


@dataclass(frozen=True)
class At:
    """The clock the month's events are recorded on: billing counts by the recorded month."""

    moment: datetime

    def now(self) -> datetime:
        return self.moment


def utc(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+00:00")


class Recorder:
    """Records events on a service's own event store as its commands would (PHI sealed)."""

    def __init__(self, suite: Suite, settings: Settings) -> None:
        self._suite, self._settings = suite, settings

    async def __call__(
        self,
        contract: Contract,
        stream: str,
        events: Sequence[DomainEvent],
        site: str = "north",
        at: str = "2026-11-20T12:00:00",
    ) -> None:
        service = self._suite.service(contract.context)
        assert service.event_store is not None
        relay = service.relay
        vault = PhiVault(await self._suite.backends.key_vault(), key_bytes(self._settings.phi_kek))
        handler = CommandHandler(
            service.event_store,
            contract.registry,
            At(utc(at)),
            UuidIds(),
            on_commit=relay.notify if relay is not None else lambda: None,
            vault=vault,
        )
        record: Decider[None, Sequence[DomainEvent]] = Decider(None, lambda s, e: s, lambda s, c: c)
        meta = Metadata(tenant="acme", actor="seeder", site=site, correlation_id="kpi-month")
        await handler.handle(stream, record, list(events), meta)


def visit(appointment_id: str, provider: str, start: str, end: str, site: str = "north") -> Any:
    return AppointmentBooked(
        appointment_id=appointment_id,
        patient_id=f"pat-{appointment_id}",
        provider_id=provider,
        site_id=site,
        room_id=None,
        visit_type_id="follow-up",
        start=utc(start),
        end=utc(end),
        booked_at=utc("2026-10-20T10:00:00"),
    )


def arrived(appointment_id: str, at: str) -> PatientCheckedIn:
    return PatientCheckedIn(
        appointment_id=appointment_id,
        patient_id=f"pat-{appointment_id}",
        provider_id="prov-a",
        checked_in_at=utc(at),
    )


def roomed(appointment_id: str, at: str) -> PatientRoomed:
    return PatientRoomed(
        appointment_id=appointment_id, provider_id="prov-a", room_id=None, roomed_at=utc(at)
    )


def done(appointment_id: str, start: str, at: str, site: str = "north") -> VisitCompleted:
    return VisitCompleted(
        appointment_id=appointment_id,
        patient_id=f"pat-{appointment_id}",
        provider_id="prov-a",
        site_id=site,
        visit_type_id="follow-up",
        start=utc(start),
        procedures=("99213",),
        diagnoses=("E11.9",),
        completed_at=utc(at),
    )


def cancelled(appointment_id: str, at: str) -> AppointmentCancelled:
    return AppointmentCancelled(
        appointment_id=appointment_id,
        patient_id=f"pat-{appointment_id}",
        reason="could not come",
        cancelled_at=utc(at),
    )


async def record_the_month(record: Recorder) -> None:
    """November 2026 at north (and one visit at south), by hand:

    north, prov-a, Monday 2 November (30-minute visits unless said):
      a1 09:00 checked in 08:55, roomed 09:05 (wait 10), done 09:40 (cycle 45)
      a2 10:00 checked in 09:58, roomed 10:10 (wait 12), done 10:28 (cycle 30)
      a3 11:00 checked in 11:00, roomed 11:21 (wait 21), done 11:50 (cycle 50)
      a4 13:00 no-show
      a5 14:00 cancelled 08:00 that day (6 hours before: late)
      a6 15:00 cancelled 30 October (not late)
      a7 16:00 withdrawn (never an appointment)
      a8 booked with prov-b 16:30-17:00, moved to prov-a 16:30-17:30 (60 minutes), still booked
    south: s1 Tuesday 3 November 09:00, checked in 09:00, done 09:21 (cycle 21), not roomed.
    prov-a is available at north on Mondays 09:00-12:00: five Mondays, 900 minutes, less
    10:00-11:00 blocked on the 9th (recorded before the template: 60), a day of time off on
    the 16th (180) and none for the 23rd's time off, cancelled: 660 minutes.
    Third next available, as scheduling measured it: at north prov-a 4 days on 2 November,
    7 on 3 November, none within the horizon on 4 November, and 9 on 1 December (next
    month); at south 2 days on 3 November. North: (4 + 7) / 2 = 5.5, one beyond the horizon;
    the group: 13 / 3 = 4.3.
    """
    day = "acme:site-day:north:2026-11-02"
    block = TimeBlocked(
        provider_id="prov-a",
        block_id="b1",
        start=utc("2026-11-09T10:00:00"),
        end=utc("2026-11-09T11:00:00"),
        reason="team meeting",
    )
    await record(SCHEDULING, "acme:provider:prov-a", [block])
    await record(
        SCHEDULING,
        "acme:provider:prov-a",
        [
            AvailabilitySet(
                provider_id="prov-a",
                site_id="north",
                template_id="t1",
                windows=(Window(weekday=0, start=time(9), end=time(12)),),
                effective_from=date(2026, 11, 1),
                effective_until=None,
            ),
            *(
                ProviderTimeOffApproved(
                    provider_id="prov-a",
                    time_off_id=time_off,
                    start=utc(f"2026-11-{monday}T00:00:00"),
                    end=utc(f"2026-11-{monday + 1}T00:00:00"),
                )
                for time_off, monday in (("o1", 16), ("o2", 23))
            ),
            ProviderTimeOffCancelled(provider_id="prov-a", time_off_id="o2", learnt_from="hr"),
        ],
    )
    slots = {"a1": "09:00", "a2": "10:00", "a3": "11:00", "a4": "13:00", "a5": "14:00"}
    slots |= {"a6": "15:00", "a7": "16:00"}
    booked = [
        visit(a, "prov-a", f"2026-11-02T{t}:00", f"2026-11-02T{t[:3]}30:00")
        for a, t in slots.items()
    ]
    booked.append(visit("a8", "prov-b", "2026-11-02T16:30:00", "2026-11-02T17:00:00"))
    await record(SCHEDULING, day, booked)
    await record(
        SCHEDULING,
        day,
        [
            arrived("a1", "2026-11-02T08:55:00"),
            roomed("a1", "2026-11-02T09:05:00"),
            done("a1", "2026-11-02T09:00:00", "2026-11-02T09:40:00"),
            arrived("a2", "2026-11-02T09:58:00"),
            roomed("a2", "2026-11-02T10:10:00"),
            done("a2", "2026-11-02T10:00:00", "2026-11-02T10:28:00"),
            arrived("a3", "2026-11-02T11:00:00"),
            roomed("a3", "2026-11-02T11:21:00"),
            done("a3", "2026-11-02T11:00:00", "2026-11-02T11:50:00"),
            AppointmentNoShow(
                appointment_id="a4",
                patient_id="pat-a4",
                provider_id="prov-a",
                recorded_at=utc("2026-11-02T13:30:00"),
                automatic=True,
            ),
            cancelled("a5", "2026-11-02T08:00:00"),
            cancelled("a6", "2026-10-30T12:00:00"),
            AppointmentWithdrawn(
                appointment_id="a7",
                provider_id="prov-a",
                reason="series not booked whole",
                withdrawn_at=utc("2026-10-20T10:00:00"),
            ),
            AppointmentRescheduled(
                appointment_id="a8",
                provider_id="prov-a",
                previous_provider_id="prov-b",
                room_id=None,
                start=utc("2026-11-02T16:30:00"),
                end=utc("2026-11-02T17:30:00"),
                rescheduled_at=utc("2026-11-01T09:00:00"),
            ),
        ],
    )
    measures: list[tuple[str, str, int | None]] = [("north", "2026-11-02", 4)]
    measures += [("north", "2026-11-03", 7)]
    measures += [("north", "2026-11-04", None), ("north", "2026-12-01", 9)]
    measures += [("south", "2026-11-03", 2)]
    for site, day, days in measures:
        measured = ThirdNextAvailableMeasured(
            site_id=site,
            provider_id="prov-a",
            visit_type_id="follow-up",
            measured_on=date.fromisoformat(day),
            days=days,
            horizon_days=92,
            measured_at=utc(f"{day}T12:00:00"),
        )
        await record(SCHEDULING, f"acme:access-day:{site}:{day}", [measured], site=site)
    south = "acme:site-day:south:2026-11-03"
    await record(
        SCHEDULING,
        south,
        [
            visit("s1", "prov-a", "2026-11-03T09:00:00", "2026-11-03T09:30:00", site="south"),
            arrived("s1", "2026-11-03T09:00:00"),
            done("s1", "2026-11-03T09:00:00", "2026-11-03T09:21:00", site="south"),
        ],
        site="south",
    )


async def record_the_money(record: Recorder) -> None:
    """Recorded on 20 November at north: claims c1 (100.00) and c2 (200.00), originals, and
    c3 (50.00), c1's secondary (no new charges): charges 300.00. c1 paid 70.00 with 20.00
    contractual (CO) at its first adjudication; c2 denied at its first, then paid 150.00 with
    50.00 contractual; a patient paid 5.00. Payments 225.00 of 300.00 - 70.00 collectible:
    97.8 %. Initial denials: c2 of c1, c2 (c3 never adjudicated): 50.0 %.

    Days in AR: c1 owes 100.00 - 70.00 - 20.00 = 10.00, less 4.00 written off: 6.00; c2
    owes nothing; c3 opens at what c1 left the patient: 0. The patient's 5.00 is a credit at
    north, 2.00 of it refunded: -3.00. c0 (60.00, an original) was recorded on 15 October,
    after November's events. North's AR at 30 November: 60.00 + 6.00 - 3.00 = 63.00; charges
    of September to November (91 days): 360.00; 6300 x 91 / 36000 = 15.925: 15.9 days.
    South: 20.00 the patient owes for s1, no charges; the group: 8300 x 91 / 36000 = 20.98:
    21.0 days."""

    def claim(
        claim_id: str, cents: int, primary: str | None = None, on: str = "2026-11-20T12:00:00"
    ) -> ClaimCreated:
        return ClaimCreated(
            claim_id=claim_id,
            patient_id="pat-a1",
            payer_id="payer-1",
            coverage_id="cov-1",
            priority=2 if primary else 1,
            site_id="north",
            provider_id="prov-a",
            charge_ids=(claim_id,),
            total_cents=cents,
            created_at=utc(on),
            primary_claim_id=primary,
        )

    def adjudicated(claim_id: str, outcome: Any, paid: int, contractual: int) -> Any:
        return ClaimAdjudicated(
            claim_id=claim_id,
            outcome=outcome,
            paid_cents=paid,
            patient_responsibility_cents=0,
            payer_claim_control_number=f"pcn-{claim_id}",
            adjustments=(Adjustment(group="CO", reason="45", amount_cents=contractual),),
            adjudicated_on=date(2026, 11, 20),
            recorded_at=utc("2026-11-20T12:00:00"),
        )

    await record(
        BILLING, "acme:claim:c1", [claim("c1", 10_000), adjudicated("c1", "paid", 7000, 2000)]
    )
    await record(
        BILLING,
        "acme:claim:c2",
        [
            claim("c2", 20_000),
            adjudicated("c2", "denied", 0, 0),
            adjudicated("c2", "paid", 15_000, 5000),
        ],
    )
    await record(BILLING, "acme:claim:c3", [claim("c3", 5000, primary="c1")])
    await record(
        BILLING,
        "acme:patient-account:pat-a1",
        [
            PatientPaymentReceived(
                patient_id="pat-a1",
                payment_id="pay-1",
                amount_cents=500,
                method="cash",
                site_id="north",
                received_by="desk",
                received_at=utc("2026-11-20T12:00:00"),
            ),
            PatientRefunded(
                patient_id="pat-a1",
                refund_id="ref-1",
                amount_cents=200,
                method="cash",
                reason="overpaid",
                refunded_by="desk",
                refunded_at=utc("2026-11-20T12:00:00"),
            ),
        ],
    )
    await record(
        BILLING,
        "acme:claim:c1",
        [
            ClaimWrittenOff(
                claim_id="c1",
                reason="small balance",
                amount_cents=400,
                written_off_at=utc("2026-11-20T12:00:00"),
            )
        ],
    )
    await record(
        BILLING,
        "acme:patient-ledger:pat-s1",
        [
            PatientResponsibilityAssessed(
                patient_id="pat-s1",
                entry_id="e-s1",
                charge_id="ch-s1",
                claim_id=None,
                site_id="south",
                provider_id="prov-a",
                date_of_service=date(2026, 11, 3),
                amount_cents=2000,
                reason="self_pay",
                learnt_from="s1",
                assessed_at=utc("2026-11-20T12:00:00"),
            )
        ],
        site="south",
    )
    # October's claim, recorded after November's events: its month still counts first.
    october = "2026-10-15T09:00:00"
    await record(BILLING, "acme:claim:c0", [claim("c0", 6000, on=october)], at=october)


def assigned(assignment: str, due: date, employee: str = "emp-1") -> TrainingAssigned:
    return TrainingAssigned(
        assignment_id=assignment,
        employee_id=employee,
        course_id="hipaa",
        course_name="HIPAA",
        assigned_on=date(2026, 9, 1),
        due_on=due,
    )


def completed(assignment: str, on: date, employee: str = "emp-1") -> TrainingCompleted:
    return TrainingCompleted(
        assignment_id=assignment,
        employee_id=employee,
        course_id="hipaa",
        completed_on=on,
        evidence="certificate",
        recorded_by="hr",
    )


def credential(credential_id: str, expires: date, employee: str = "emp-1") -> CredentialRecorded:
    return CredentialRecorded(
        credential_id=credential_id,
        employee_id=employee,
        kind="bls",
        issuer="AHA",
        number=credential_id,
        issued_on=date(2025, 1, 1),
        expires_on=expires,
    )


def job(employee: str, *sites: str) -> dict[str, Any]:
    return {"employee_id": employee, "title": "Nurse", "role": "nurse", "site_ids": sites}


async def record_the_staff(record: Recorder) -> None:
    """Staffing's events on their own streams (an employee's job, their training record, one
    credential's life). emp-1 works at north and south, so everything of theirs counts at
    both: training due by 30 November t1 (done before due), t2 (done late), t4 (October, done
    before due); t3 falls due in December. Credentials after 30 November: cr1 on 20 December
    (20 days), cr2 on 15 January (46), cr3 renewed from 10 December to 20 February (82), cr4
    in June (not within 90), cr5 revoked, cr6 expired on 1 November.
    emp-2 works at south: t5 done late; cr7 on 5 December (5 days).
    emp-3 works at north, then (10 November) at south: t6, assigned before the move, done on
    time, counts at north; t7, assigned after, not done, at south; cr8, recorded at north (20
    January), renewed after the move to 10 February (72 days), counts at south only.
    emp-9 was never hired as far as the KPIs know: t8 done on time, cr9 on 1 December (1 day)
    count for the group only."""
    hired = "2026-11-01T08:00:00"
    for employee, sites in (("emp-1", ("north", "south")), ("emp-2", ("south",))):
        hire = EmployeeHired(
            **job(employee, *sites), name=employee, fte=1.0, hired_on=date(2026, 1, 5)
        )
        await record(STAFFING, f"acme:employee:{employee}", [hire], at=hired)
    await record(
        STAFFING,
        "acme:employee:emp-3",
        [EmployeeHired(**job("emp-3", "north"), name="emp-3", fte=1.0, hired_on=date(2026, 1, 5))],
        at=hired,
    )
    await record(
        STAFFING,
        "acme:training:emp-1",
        [
            assigned("t1", date(2026, 11, 10)),
            completed("t1", date(2026, 11, 8)),
            assigned("t2", date(2026, 11, 20)),
            completed("t2", date(2026, 11, 25)),
            assigned("t3", date(2026, 12, 15)),
            assigned("t4", date(2026, 10, 1)),
            completed("t4", date(2026, 9, 30)),
        ],
    )
    expiring = {
        "cr1": date(2026, 12, 20),
        "cr2": date(2027, 1, 15),
        "cr3": date(2026, 12, 10),
        "cr4": date(2027, 6, 1),
        "cr5": date(2026, 12, 5),
        "cr6": date(2026, 11, 1),
    }
    for credential_id, expires in expiring.items():
        await record(
            STAFFING, f"acme:credential:{credential_id}", [credential(credential_id, expires)]
        )
    await record(
        STAFFING,
        "acme:credential:cr3",
        [CredentialRenewed(credential_id="cr3", employee_id="emp-1", expires_on=date(2027, 2, 20))],
    )
    await record(
        STAFFING,
        "acme:credential:cr5",
        [
            CredentialRevoked(
                credential_id="cr5",
                employee_id="emp-1",
                effective_on=date(2026, 11, 15),
                reason="surrendered",
            )
        ],
    )
    late = [
        assigned("t5", date(2026, 11, 25), "emp-2"),
        completed("t5", date(2026, 11, 30), "emp-2"),
    ]
    await record(STAFFING, "acme:training:emp-2", late)
    await record(STAFFING, "acme:credential:cr7", [credential("cr7", date(2026, 12, 5), "emp-2")])
    before, moved, after = "2026-11-05T09:00:00", "2026-11-10T09:00:00", "2026-11-12T09:00:00"
    on_time = [
        assigned("t6", date(2026, 11, 6), "emp-3"),
        completed("t6", date(2026, 11, 1), "emp-3"),
    ]
    await record(STAFFING, "acme:training:emp-3", on_time, at=before)
    await record(
        STAFFING, "acme:credential:cr8", [credential("cr8", date(2027, 1, 20), "emp-3")], at=before
    )
    change = JobChanged(**job("emp-3", "south"), fte=1.0, effective_on=date(2026, 11, 10))
    await record(STAFFING, "acme:employee:emp-3", [change], at=moved)
    await record(
        STAFFING, "acme:training:emp-3", [assigned("t7", date(2026, 11, 12), "emp-3")], at=after
    )
    renewed = CredentialRenewed(
        credential_id="cr8", employee_id="emp-3", expires_on=date(2027, 2, 10)
    )
    await record(STAFFING, "acme:credential:cr8", [renewed], at=after)
    unknown = [
        assigned("t8", date(2026, 11, 3), "emp-9"),
        completed("t8", date(2026, 11, 2), "emp-9"),
    ]
    await record(STAFFING, "acme:training:emp-9", unknown)
    await record(STAFFING, "acme:credential:cr9", [credential("cr9", date(2026, 12, 1), "emp-9")])


async def record_the_answers(record: Recorder) -> None:
    """Answers for November visits at north: 10, 9 and 3: NPS 100 x (2 - 1) / 3 = 33."""
    for n, score in enumerate((10, 9, 3)):
        answer = SurveyAnswered(
            survey_id=f"sv-{n}",
            patient_id=f"pat-a{n + 1}",
            provider_id="prov-a",
            site_id="north",
            visit_on=date(2026, 11, 2),
            likelihood_to_recommend=score,
            answers=(),
            answered_at=utc("2026-11-03T10:00:00"),
        )
        await record(ENGAGEMENT, f"acme:engagement-survey:sv-{n}", [answer])


async def counted(suite: Suite) -> None:
    """Wait until the KPI and NPS read models hold every event recorded. Not `settled`: the
    other services' reactions to this month's bare events (a visit of a patient billing never
    learnt, a booking at a site engagement never learnt) retry without end."""
    engagement = suite.service("engagement")

    async def caught_up() -> bool:
        for service in suite.services:
            if service.event_store is not None and service.relay is not None:
                if await service.event_store.unpublished(1):
                    return False
        lags = [await engagement.runner(name).lag() for name in (PROJECTION, "engagement.nps")]
        return lags == [0, 0]

    await wait_until(caught_up, timeout=60, message="the KPIs counted every event")


async def _caught_up(runner: Any) -> bool:
    return bool(await runner.lag() == 0)


def by_id(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {kpi["id"]: kpi for kpi in body["kpis"]}


def figures(kpi: dict[str, Any]) -> tuple[Any, ...]:
    return (kpi["value"], kpi.get("numerator"), kpi.get("denominator"))


NORTH = {
    "no_show_rate": (25.0, 1, 4),
    "late_cancellation_rate": (14.3, 1, 7),
    "wait_time": (12.0, 43.0, 3),
    "cycle_time": (45.0, 125.0, 3),
    "provider_utilisation": (27.3, 180, 660),
    "third_next_available": (5.5, 11, 2),
    "net_promoter_score": (33, 1, 3),
    "initial_denial_rate": (50.0, 1, 2),
    "net_collection_rate": (97.8, 22_500, 23_000),
    "days_in_ar": (15.9, 6300, 36_000),
    # emp-1's t1, t2, t4 and emp-3's t6; emp-1's cr1, cr2, cr3 (cr8 left with emp-3).
    "training_compliance": (75.0, 3, 4),
    "credentials_expiring": (3, None, None),
}
# The group adds south's one visit: completed 4 of 5 kept, 8 booked, cycles 21, 30, 45, 50,
# and its 30 minutes of prov-a's (available at north only): 210 of 660.
GROUP = NORTH | {
    "no_show_rate": (20.0, 1, 5),
    "late_cancellation_rate": (12.5, 1, 8),
    "cycle_time": (37.5, 146.0, 4),
    "provider_utilisation": (31.8, 210, 660),
    "third_next_available": (4.3, 13, 3),
    "days_in_ar": (21.0, 8300, 36_000),
    # The tenant's, each once: t1, t2, t4, t5, t6, t7, t8; cr1, cr2, cr3, cr7, cr8, cr9.
    "training_compliance": (57.1, 4, 7),
    "credentials_expiring": (6, None, None),
}
# South's training: emp-1's t1, t2, t4, emp-2's t5 and emp-3's t7; credentials: emp-1's cr1,
# cr2, cr3, emp-2's cr7 and emp-3's cr8.
SOUTH_STAFF = {"training_compliance": (40.0, 2, 5), "credentials_expiring": (5, None, None)}
WITHIN_DAYS = {
    "north": {"30": 1, "60": 2, "90": 3},
    "south": {"30": 2, "60": 3, "90": 5},
    "group": {"30": 3, "60": 4, "90": 6},
}


async def test_each_kpi_equals_its_hand_computation_and_itself_after_a_rebuild(
    client: httpx.AsyncClient,
    suite: Suite,
    settings: Settings,
    token_for: TokenFor,
    operator: dict[str, str],
) -> None:
    record = Recorder(suite, settings)
    await record_the_month(record)
    await record_the_money(record)
    await record_the_staff(record)
    await record_the_answers(record)
    await counted(suite)
    manager = token_for("manager")

    async def kpis(**params: str) -> dict[str, Any]:
        response = await client.get("/engagement/kpis", params=params, headers=manager)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    north = await kpis(month=MONTH, site="north")
    south = await kpis(month=MONTH, site="south")
    group = await kpis(month=MONTH)
    assert {k: figures(v) for k, v in by_id(north).items()} == NORTH
    assert {k: figures(v) for k, v in by_id(group).items()} == GROUP
    assert {k: figures(by_id(south)[k]) for k in SOUTH_STAFF} == SOUTH_STAFF
    for name, body in (("north", north), ("south", south), ("group", group)):
        staff = by_id(body)
        assert staff["credentials_expiring"]["within_days"] == WITHIN_DAYS[name], name
        scope = {
            kpi.get("scope")
            for kpi in (staff["credentials_expiring"], staff["training_compliance"])
        }
        assert scope == ({"tenant"} if name == "group" else {None}), name
    assert group["sites"] == ["north", "south"]
    served = by_id(north)
    assert (served["wait_time"]["median"], served["wait_time"]["mean"]) == (12.0, 14.3)
    assert (served["cycle_time"]["median"], served["cycle_time"]["mean"]) == (45.0, 41.7)
    assert served["provider_utilisation"]["providers"] == [
        {"provider_id": "prov-a", "value": 27.3, "numerator": 180, "denominator": 660}
    ]
    assert served["no_show_rate"]["definition"] == "kpi-no-show-rate"
    assert north["not_served"] == []
    assert served["third_next_available"]["beyond_horizon"] == 1
    assert (served["days_in_ar"]["days"], served["days_in_ar"]["as_of"]) == (91, "2026-11-30")
    # Billing's own days in AR, from its receivables, agrees.
    billing = suite.service("billing")
    await wait_until(
        lambda: _caught_up(billing.runner("billing.receivables")),
        timeout=60,
        message="billing's receivables counted every event",
    )
    params = {"site": "north", "month": MONTH}
    own = await client.get("/billing/kpis", params=params, headers=manager)
    assert own.status_code == 200, own.text
    assert (own.json()["ar_cents"], own.json()["days_in_ar"]) == (6300, 15.9)

    started = await client.post(f"/ops/projections/{PROJECTION}/rebuilds", headers=operator)
    assert started.status_code == 202, started.text
    job = started.json()["id"]

    async def switched() -> bool:
        state = (await client.get(f"/ops/rebuilds/{job}", headers=operator)).json()
        assert state["status"] in ("running", "switched"), state
        return bool(state["status"] == "switched")

    await wait_until(switched, timeout=60, message="the KPI projection rebuilt")
    assert await kpis(month=MONTH, site="north") == north
    assert await kpis(month=MONTH, site="south") == south
    assert await kpis(month=MONTH) == group


async def test_kpis_are_read_by_managers_at_their_sites_and_bad_input_is_refused(
    client: httpx.AsyncClient, token_for: TokenFor
) -> None:
    south = token_for("manager", sites=["south"])
    path = "/engagement/kpis"
    elsewhere = await client.get(path, params={"month": MONTH, "site": "north"}, headers=south)
    assert elsewhere.status_code == 403
    own = await client.get(path, params={"month": MONTH}, headers=south)
    assert own.status_code == 200
    assert own.json()["site"] is None
    auditor = token_for("auditor")
    assert (await client.get(path, params={"month": MONTH}, headers=auditor)).status_code == 200
    desk = token_for("front_desk")
    assert (await client.get(path, params={"month": MONTH}, headers=desk)).status_code == 403
    for params in ({"month": "2026-13"}, {"month": "nov"}, {}, {"month": MONTH, "site": "a b"}):
        refused = await client.get(path, params=params, headers=token_for("manager"))
        assert refused.status_code == 422, params
        assert refused.headers["content-type"].startswith("application/problem+json")
