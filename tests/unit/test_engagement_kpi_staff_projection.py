"""Training and credentials per site in the KPI projection: each assignment and credential
counts once for the tenant and at each of the employee's sites as they stood when it was
recorded, whichever of the employee's, training's and credentials' streams the projection sees
first, in one batch or several, and redelivered; an employee never seen hired counts for the
tenant only."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.engagement.projections.kpis import GROUP, KpiProjection
from services.staffing.domain.events import (
    CredentialRecorded,
    CredentialRenewed,
    CredentialRevoked,
    EmployeeHired,
    JobChanged,
    TrainingAssigned,
    TrainingCompleted,
)
from shared.documents.sqlite import SqliteDocumentStore
from shared.events import DomainEvent, Envelope, Metadata, seal
from shared.projections import View
from shared.readmodels import physical
from shared.sqlite import SqliteDatabase

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
Sealed = tuple[DomainEvent, Envelope]


def sealed(stream: str, timed: Sequence[tuple[int, DomainEvent]]) -> list[Sealed]:
    """The stream's events, each recorded `hours` after T0."""
    return [
        (
            event,
            seal(
                event,
                stream=stream,
                stream_version=n,
                meta=Metadata(tenant="acme", correlation_id="c"),
                event_id=f"{stream}-{n}",
                time=T0 + timedelta(hours=hours),
            ),
        )
        for n, (hours, event) in enumerate(timed, start=1)
    ]


def hired(employee: str, *sites: str) -> EmployeeHired:
    return EmployeeHired(
        employee_id=employee,
        name="E",
        title="Nurse",
        role="nurse",
        site_ids=sites,
        fte=1.0,
        hired_on=date(2026, 1, 5),
    )


def moved_to(employee: str, *sites: str) -> JobChanged:
    return JobChanged(
        employee_id=employee,
        title="Nurse",
        role="nurse",
        site_ids=sites,
        fte=1.0,
        effective_on=date(2026, 11, 2),
    )


def assigned(assignment: str, employee: str, due: date) -> TrainingAssigned:
    return TrainingAssigned(
        assignment_id=assignment,
        employee_id=employee,
        course_id="hipaa",
        course_name="HIPAA",
        assigned_on=date(2026, 10, 1),
        due_on=due,
    )


def completed(assignment: str, employee: str, on: date) -> TrainingCompleted:
    return TrainingCompleted(
        assignment_id=assignment,
        employee_id=employee,
        course_id="hipaa",
        completed_on=on,
        evidence="certificate",
        recorded_by="hr",
    )


def credential(credential_id: str, employee: str, expires: date) -> CredentialRecorded:
    return CredentialRecorded(
        credential_id=credential_id,
        employee_id=employee,
        kind="bls",
        issuer="AHA",
        number=credential_id,
        issued_on=date(2025, 1, 1),
        expires_on=expires,
    )


NOV_10, NOV_20 = date(2026, 11, 10), date(2026, 11, 20)
DEC_20, JAN_15 = date(2026, 12, 20), date(2027, 1, 15)
# e1 at north and south from hour 0, at south only from hour 10.
EMPLOYEE = sealed(
    "acme:employee:e1", [(0, hired("e1", "north", "south")), (10, moved_to("e1", "south"))]
)
# t1 assigned at hour 5 (both sites), done on time; t2 assigned at hour 12 (south), not done.
TRAINING = sealed(
    "acme:training:e1",
    [
        (5, assigned("t1", "e1", NOV_10)),
        (6, completed("t1", "e1", date(2026, 11, 9))),
        (12, assigned("t2", "e1", NOV_20)),
    ],
)
# c1 recorded at hour 5 (both sites), renewed at hour 12 (south only); c2 revoked.
CREDENTIALS = sealed(
    "acme:credential:c1",
    [
        (5, credential("c1", "e1", DEC_20)),
        (12, CredentialRenewed(credential_id="c1", employee_id="e1", expires_on=JAN_15)),
    ],
)
REVOKED = sealed(
    "acme:credential:c2",
    [
        (1, credential("c2", "e1", DEC_20)),
        (
            2,
            CredentialRevoked(
                credential_id="c2", employee_id="e1", effective_on=date(2026, 11, 1), reason="r"
            ),
        ),
    ],
)
# e9 was never hired (as far as the projection knows): the tenant's only.
UNHIRED = sealed(
    "acme:training:e9",
    [(3, assigned("t9", "e9", NOV_10)), (4, completed("t9", "e9", date(2026, 11, 1)))],
)

EXPECTED = {
    "acme:training:2026-11": {"due": 3, "on_time": 2},
    "acme:site-training:north:2026-11": {"due": 1, "on_time": 1},
    "acme:site-training:south:2026-11": {"due": 2, "on_time": 1},
    "acme:credentials": {"expiring": {"2027-01-15": 1}},
    "acme:site-credentials:south": {"expiring": {"2027-01-15": 1}},
}


async def project(batches: Sequence[Sequence[Sealed]]) -> dict[str, Any]:
    """The staffing sums after the projection applied these batches, in a fresh store."""
    store = SqliteDocumentStore(SqliteDatabase(":memory:"))
    try:
        for batch in batches:
            view = View(store, 1)
            projection = KpiProjection()
            for event, envelope in batch:
                await projection.apply(event, envelope, view)
            await view.flush()
        docs = await store.find(physical(GROUP, 1), {"tenant": "acme"})
        found = {
            str(d["_id"]): {k: v for k, v in d.items() if k in ("due", "on_time", "expiring")}
            for d in docs
        }
        return {doc_id: sums for doc_id, sums in found.items() if any(sums.values())}
    finally:
        await store.close()


STREAMS = [EMPLOYEE, TRAINING, CREDENTIALS, REVOKED, UNHIRED]


@pytest.mark.parametrize(
    "order",
    list(itertools.permutations(range(3))),
    ids=lambda o: "-".join(map(str, o)),
)
async def test_the_sums_are_the_same_whichever_stream_comes_first(order: tuple[int, ...]) -> None:
    in_order = [STREAMS[i] for i in order] + STREAMS[3:]
    assert await project(in_order) == EXPECTED  # one batch per stream
    assert await project([[e for s in in_order for e in s]]) == EXPECTED  # all in one batch


async def test_events_interleaved_and_redelivered_change_nothing() -> None:
    batches = [
        TRAINING[:1],
        EMPLOYEE[:1],
        CREDENTIALS[:1],
        TRAINING[1:],
        EMPLOYEE[1:],
        CREDENTIALS[1:],
        REVOKED,
        UNHIRED,
    ]
    assert await project(batches) == EXPECTED
    assert await project([*batches, *batches]) == EXPECTED
