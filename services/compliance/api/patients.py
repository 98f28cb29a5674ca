"""A patient's access report and accounting of disclosures, for auditors.

Both read one patient's entries of the audit log over a period (by default the six years up to
now, as HIPAA's accounting covers): the access report every read of their record and every
change that names them (who, when, what, why), the accounting only the reads
`domain/disclosures.py` accounts for. A patient belongs to no site, so these are for auditors
and tenant-wide admins. Each answer is itself a disclosure of the patient, recorded as
compliance's `PatientRecordAccessed` (`shared/access.py`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request

from services.compliance.api.audit import From, LedgerAuditors, To, moment, tenant_wide
from services.compliance.application.queries import AuditQueries, Trail
from shared.access import record_disclosure
from shared.clock import Clock
from shared.http.identity import Principal
from shared.usecases import Disclosures

PatientId = Annotated[str, Path(min_length=1, max_length=100)]
After = Annotated[
    str | None,
    Query(
        max_length=400,
        pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z:.+$",
        description="`next_after` of the page before",
    ),
]
Limit = Annotated[int, Query(ge=1, le=1000)]
RETENTION_YEARS = 6


def years_before(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)


def period(clock: Clock, start_text: str | None, end_text: str | None) -> tuple[datetime, datetime]:
    """[from, to): `to` defaults to now, `from` to six years before `to`."""
    end = moment(end_text, "to", end=True) or clock.now()
    start = moment(start_text, "from")
    if start is None:
        start = years_before(end, RETENTION_YEARS) if end.year > RETENTION_YEARS else end
    if start >= end:
        raise HTTPException(422, "from must come before to")
    return start, end


def whole_tenant(who: Principal) -> None:
    if not tenant_wide(who):
        raise HTTPException(403, "A patient spans every site: auditors and tenant-wide admins")


def build_router(queries: AuditQueries, disclosures: Disclosures, clock: Clock) -> APIRouter:
    router = APIRouter(prefix="/compliance", tags=["compliance"])

    async def answer(
        request: Request, who: Principal, patient_id: str, trail: Trail, key: str
    ) -> dict[str, Any]:
        await record_disclosure(disclosures, request, who, [patient_id])
        return {"patient_id": patient_id, key: trail.entries, "next_after": trail.next_after}

    @router.get("/patients/{patient_id}/access-report")
    async def access_report(
        request: Request,
        patient_id: PatientId,
        who: Principal = LedgerAuditors,
        from_: From = None,
        to: To = None,
        after: After = None,
        limit: Limit = 200,
    ) -> dict[str, Any]:
        """Who read or changed the patient's record, when, through what and why: every
        context's reads of it (`PatientRecordAccessed`) and every event naming the patient,
        recorded in [from, to), oldest first; page on with `after=next_after` and the first
        page's `to` (each page read is a read of the record too, recorded after it)."""
        whole_tenant(who)
        start, end = period(clock, from_, to)
        trail = await queries.patient_trail(
            who.tenant, patient_id, start, end, after=after, limit=limit
        )
        report = await answer(request, who, patient_id, trail, "entries")
        return {"from": start.isoformat(), "to": end.isoformat(), **report}

    @router.get("/patients/{patient_id}/disclosures")
    async def accounting_of_disclosures(
        request: Request,
        patient_id: PatientId,
        who: Principal = LedgerAuditors,
        from_: From = None,
        to: To = None,
        after: After = None,
        limit: Limit = 200,
    ) -> dict[str, Any]:
        """The accounting of disclosures: the reads of the patient's record whose stated
        purpose is outside treatment, payment and operations (docs/security.md), recorded in
        [from, to) (by default the six years up to now). `unstated_purpose` counts the
        period's reads that stated no purpose, which it does not list."""
        whole_tenant(who)
        start, end = period(clock, from_, to)
        trail = await queries.patient_trail(
            who.tenant, patient_id, start, end, disclosures=True, after=after, limit=limit
        )
        report = await answer(request, who, patient_id, trail, "disclosures")
        return {
            "from": start.isoformat(),
            "to": end.isoformat(),
            **report,
            "unstated_purpose": trail.unstated_purpose,
        }

    return router
