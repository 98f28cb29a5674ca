"""What billing learnt, over HTTP: a patient's coverages (PHI opened for the caller, the read
put on the record) and a rendering provider's NPI and enrolments.

Billers, admins and auditors read them. Managers do not: a manager reads their sites' billing,
and a patient's coverages belong to no site (billing learns no sites of patients), nor does a
provider's enrolment with a payer. Reads take `after_stream` (the patient's account or the
provider's stream; it defaults to that) and `after_version` to wait until they include it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from services.billing.application.learning import Learning
from services.billing.domain import streams
from services.billing.projections import learnt as view
from shared.access import record_disclosure
from shared.clock import Clock
from shared.http.identity import Principal, policy
from shared.http.routes import Id, read_after
from shared.phivault import PhiVault
from shared.readmodels import ReadModels
from shared.usecases import Disclosures

Readers = policy("biller", "auditor")

After = Annotated[str | None, Query(max_length=300)]
AfterVersion = Annotated[int | None, Query(ge=1)]


def build_router(
    learning: Learning,
    disclosures: Disclosures,
    read_models: ReadModels,
    vault: PhiVault,
    clock: Clock,
    wait_timeout: float,
) -> APIRouter:
    router = APIRouter(prefix="/billing", tags=["billing"])

    async def wait(
        stream: str,
        projection: str,
        collection: str,
        key: str,
        after_stream: str | None,
        after_version: int | None,
    ) -> None:
        """Read-your-writes on the route's own stream: wait until its document has seen
        `after_version`."""
        if after_version is None:
            return
        if after_stream not in (None, stream):
            raise HTTPException(400, f"after_stream of this read is {stream}")
        await read_after(
            read_models,
            projection,
            collection,
            key,
            stream,
            after_version,
            wait_timeout,
            learning.stream_version,
        )

    @router.get("/patients/{patient_id}/coverages")
    async def coverages(
        request: Request,
        patient_id: Id,
        who: Principal = Readers,
        after_stream: After = None,
        after_version: AfterVersion = None,
    ) -> dict[str, Any]:
        """The patient's coverages billing learnt from scheduling, primary first, with the
        member id and subscriber opened (`[redacted]` once the patient is forgotten). The read
        is recorded as PatientRecordAccessed."""
        await wait(
            streams.patient_account(who.tenant, patient_id),
            view.ACCOUNTS_PROJECTION,
            view.ACCOUNTS,
            view.doc_id(who.tenant, patient_id),
            after_stream,
            after_version,
        )
        account = await learning.account(who.tenant, patient_id)
        coverages = []
        for coverage in account["coverages"]:
            await vault.reveal_fields(who.tenant, coverage, *view.COVERAGE_PHI)
            coverages.append(coverage)
        await record_disclosure(disclosures, request, who, [patient_id])
        return {
            "patient_id": patient_id,
            "known": account["known"],
            "forgotten": account["forgotten"],
            "coverages": coverages,
        }

    @router.get("/providers/{provider_id}")
    async def provider(
        provider_id: Id,
        who: Principal = Readers,
        after_stream: After = None,
        after_version: AfterVersion = None,
    ) -> dict[str, Any]:
        """A rendering provider as billing learnt them from staffing: name, NPI, taxonomy,
        every enrolment change, and the payers they are enrolled with today."""
        await wait(
            streams.rendering_provider(who.tenant, provider_id),
            view.PROVIDERS_PROJECTION,
            view.PROVIDERS,
            view.doc_id(who.tenant, provider_id),
            after_stream,
            after_version,
        )
        return await learning.provider(who.tenant, provider_id, clock.now().date())

    return router
