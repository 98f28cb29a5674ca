"""Billing's reference data over HTTP: payers and plans, billing providers, fee schedules.

`admin` and `biller` change them; `biller`, `admin` and `auditor` read them all; a `manager`
reads the payers and fee schedules (tenant-wide) and the billing providers of their sites.
Reads take `after_stream` and `after_version` (a change's `stream` and `stream_version`) to
wait until they include that change.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import Field, StrictInt

from services.billing.application.reference import ReferenceData
from services.billing.domain.codes import is_modifier, is_procedure_code
from services.billing.domain.events import Fee, PostalAddress
from services.billing.domain.fee_schedules import MAX_FEES
from services.billing.projections import reference as view
from shared.documents.port import Document
from shared.domain import Invalid, NotFound
from shared.http.app import metadata
from shared.http.identity import Principal, policy
from shared.http.routes import (
    Body,
    Id,
    Name,
    PlausibleDay,
    Recorded,
    check_site,
    read_after,
    recorded,
)
from shared.readmodels import ReadModels, public

Day = PlausibleDay
Short = Annotated[str, Field(max_length=16)]  # codes; the decider says what is wrong with one
Text = Annotated[str, Field(max_length=200)]

Changers = policy("biller", changes_state=True)
Readers = policy("biller", "manager", "auditor")
SiteReaders = policy("biller", "manager", "auditor", site_scoped=True)
TENANT_WIDE = {"admin", "biller", "auditor"}  # read every site's billing

After = Annotated[str | None, Query(max_length=300)]
AfterVersion = Annotated[int | None, Query(ge=1)]


class PayerIn(Body):
    name: Name
    x12_payer_id: Annotated[str, Field(max_length=80)]
    claim_filing_indicator: Short


class PlanIn(Body):
    plan_id: Id
    name: Name
    claim_filing_indicator: Short | None = None


class AddressIn(Body):
    line1: Text
    line2: Text = ""
    city: Text
    state: Short
    postal_code: Short

    def postal(self) -> PostalAddress:
        return PostalAddress(**self.model_dump())


class BillingProviderIn(Body):
    name: Name
    npi: Short
    tin: Short
    taxonomy_code: Short
    address: AddressIn
    place_of_service: Short
    facility_name: Name
    facility_address: AddressIn


class FeeIn(Body):
    code: Short
    modifier: Short = ""
    amount_cents: StrictInt


class FeeScheduleIn(Body):
    effective_from: Day
    fees: Annotated[list[FeeIn], Field(max_length=MAX_FEES)]


def _tenant_wide(who: Principal) -> bool:
    return bool(set(who.roles) & TENANT_WIDE)


def _sees_site(who: Principal, site_id: str) -> bool:
    return _tenant_wide(who) or who.at_site(site_id)


def _out(doc: Document) -> dict[str, Any]:
    """A reference document as answered: without its bookkeeping, tenant and stream."""
    return {k: v for k, v in (public(doc) or {}).items() if k not in ("tenant", "stream")}


def _schedule_out(doc: Document, in_force: int | None) -> dict[str, Any]:
    return {"payer_id": doc["payer_id"], "in_force_today": in_force, "versions": doc["versions"]}


def build_router(
    reference: ReferenceData, read_models: ReadModels, wait_timeout: float
) -> APIRouter:
    router = APIRouter(prefix="/billing", tags=["billing reference data"])

    # kind of stream -> the read model document that shows it
    documents = {
        "payer": (view.PAYERS_PROJECTION, view.PAYERS),
        "billing-provider": (view.BILLING_PROVIDERS_PROJECTION, view.BILLING_PROVIDERS),
        "fee-schedule": (view.FEE_SCHEDULES_PROJECTION, view.FEE_SCHEDULES),
    }

    async def wait(
        who: Principal, kind: str, after_stream: str | None, after_version: int | None
    ) -> None:
        """Read-your-writes for a stream of `kind` of the caller's tenant: wait until its read
        model document has seen `after_version`. A manager waits only for their sites'
        billing providers (403 otherwise: another site's version is not theirs to learn)."""
        if after_version is None:
            return
        if after_stream is None:
            raise HTTPException(400, "after_version needs the after_stream it belongs to")
        tenant, _, rest = after_stream.partition(":")
        named, _, key = rest.partition(":")
        if tenant != who.tenant or named != kind or not key:
            raise HTTPException(400, f"after_stream names no {kind} stream of your tenant")
        if kind == "billing-provider" and not _sees_site(who, key):
            raise HTTPException(403, f"You do not work at site {key}")
        projection, collection = documents[kind]
        await read_after(
            read_models,
            projection,
            collection,
            view.doc_id(tenant, key),
            after_stream,
            after_version,
            wait_timeout,
            reference.stream_version,
        )

    # ------------------------------------------------------------------------------ payers

    @router.put("/payers/{payer_id}")
    async def define_payer(
        request: Request, payer_id: Id, body: PayerIn, who: Principal = Changers
    ) -> Recorded:
        """Define a payer, or change its name, X12 payer id (2-80 letters or digits) or claim
        filing indicator (an X12 SBR09 code: CI commercial, MB Medicare part B, MC Medicaid,
        BL Blue Cross, HM HMO, ...). The same definition again changes nothing. `self-pay`
        is built in: a 422."""
        outcome = await reference.define_payer(
            metadata(request, who), payer_id=payer_id, **body.model_dump()
        )
        return recorded(payer_id, outcome)

    @router.post("/payers/{payer_id}/plans", status_code=201)
    async def define_plan(
        request: Request, payer_id: Id, body: PlanIn, who: Principal = Changers
    ) -> Recorded:
        """Define a plan of a payer, or change it; its claim filing indicator, if given, is
        used for its claims instead of the payer's. 404 for a payer not defined."""
        outcome = await reference.define_plan(
            metadata(request, who), payer_id=payer_id, **body.model_dump()
        )
        return recorded(body.plan_id, outcome)

    @router.get("/payers")
    async def payers(
        who: Principal = Readers, after_stream: After = None, after_version: AfterVersion = None
    ) -> dict[str, Any]:
        """Every payer of the tenant, with its plans, by id."""
        await wait(who, "payer", after_stream, after_version)
        return {"payers": [_out(d) for d in await reference.payers(who.tenant)]}

    @router.get("/payers/{payer_id}")
    async def get_payer(
        payer_id: Id,
        who: Principal = Readers,
        after_stream: After = None,
        after_version: AfterVersion = None,
    ) -> dict[str, Any]:
        await wait(who, "payer", after_stream, after_version)
        return _out(await reference.payer(who.tenant, payer_id))

    # -------------------------------------------------------------------- billing providers

    @router.put("/sites/{site_id}/billing-provider")
    async def set_billing_provider(
        request: Request, site_id: Id, body: BillingProviderIn, who: Principal = Changers
    ) -> Recorded:
        """Who bills for the site's visits and where the site is: the billing organisation's
        name, NPI (check digit checked), TIN (9 digits), taxonomy code, street address (no PO
        box), the place of service (a CMS code: 11 office, ...) and the service facility's
        name and address. The latest setting holds; the same again changes nothing."""
        outcome = await reference.set_billing_provider(
            metadata(request, who),
            site_id=site_id,
            **body.model_dump(exclude={"address", "facility_address"}),
            address=body.address.postal(),
            facility_address=body.facility_address.postal(),
        )
        return recorded(site_id, outcome)

    @router.get("/sites/{site_id}/billing-provider")
    async def get_billing_provider(
        site_id: Id,
        who: Principal = SiteReaders,
        after_stream: After = None,
        after_version: AfterVersion = None,
    ) -> dict[str, Any]:
        """A site's billing provider (managers: of their sites; 404 when none is set)."""
        if not _tenant_wide(who):
            check_site(who, site_id)
        await wait(who, "billing-provider", after_stream, after_version)
        return _out(await reference.billing_provider(who.tenant, site_id))

    @router.get("/billing-providers")
    async def billing_providers(
        who: Principal = SiteReaders,
        after_stream: After = None,
        after_version: AfterVersion = None,
    ) -> dict[str, Any]:
        """Every site's billing provider, by site (managers: their sites')."""
        await wait(who, "billing-provider", after_stream, after_version)
        docs = await reference.billing_providers(who.tenant)
        shown = [_out(d) for d in docs if _sees_site(who, str(d["site_id"]))]
        return {"billing_providers": shown}

    # ----------------------------------------------------------------------- fee schedules

    @router.post("/fee-schedules/{payer_id}/versions", status_code=201)
    async def publish(
        request: Request, payer_id: Id, body: FeeScheduleIn, who: Principal = Changers
    ) -> Recorded:
        """Publish the next version of a payer's fee schedule (`self-pay`: the self-pay
        schedule), in force from `effective_from` until a later version's date. Each
        (code, modifier) once; a CPT or HCPCS code, a modifier or "" (any), a fee per unit
        in cents from 0 to 10,000,000. Earlier versions, and charges they priced, stay as
        they were. 404 for a payer not defined; 409 for the latest version's fees and date
        again. The answer's `id` is the new version's number."""
        fees = tuple(Fee(**f.model_dump()) for f in body.fees)
        outcome = await reference.publish_fees(
            metadata(request, who),
            payer_id=payer_id,
            effective_from=body.effective_from,
            fees=fees,
        )
        published = outcome.state.versions[-1]
        return recorded(str(published.schedule_version), outcome)

    async def schedule(
        who: Principal, payer_id: str, after_stream: str | None, after_version: int | None
    ) -> Document:
        await wait(who, "fee-schedule", after_stream, after_version)
        return await reference.fee_schedule(who.tenant, payer_id)

    @router.get("/fee-schedules/{payer_id}")
    async def versions(
        payer_id: Id,
        who: Principal = Readers,
        after_stream: After = None,
        after_version: AfterVersion = None,
    ) -> dict[str, Any]:
        """A payer's fee schedule versions, oldest first (their dates and fee counts), and
        which is in force today (the clock's UTC date)."""
        doc = await schedule(who, payer_id, after_stream, after_version)
        today = reference.now().date()
        return _schedule_out(doc, reference.version_in_force(doc, today))

    async def version_doc(who: Principal, doc: Document, version: int) -> Document:
        """A listed version's fees. The summary and the version are separate documents:
        wait for the version's (version N of a schedule is event N on its stream)."""
        found = await reference.fee_version(who.tenant, doc["payer_id"], version)
        if found is None:
            await read_after(
                read_models,
                view.FEE_SCHEDULES_PROJECTION,
                view.FEE_VERSIONS,
                view.version_id(who.tenant, doc["payer_id"], version),
                doc["stream"],
                version,
                wait_timeout,
                reference.stream_version,
            )
            found = await reference.fee_version(who.tenant, doc["payer_id"], version)
        if found is None:
            raise HTTPException(
                503, "The read model has not caught up yet", headers={"Retry-After": "1"}
            )
        return found

    @router.get("/fee-schedules/{payer_id}/versions/{version}")
    async def get_version(
        payer_id: Id,
        version: Annotated[int, Path(ge=1, le=1_000_000)],
        who: Principal = Readers,
        after_stream: After = None,
        after_version: AfterVersion = None,
    ) -> dict[str, Any]:
        """One version of a payer's fee schedule, with its fees."""
        doc = await schedule(who, payer_id, after_stream, after_version)
        if not any(v["schedule_version"] == version for v in doc["versions"]):
            raise NotFound(f"payer {payer_id}'s fee schedule has no version {version}")
        found = await version_doc(who, doc, version)
        return {
            k: found[k] for k in ("payer_id", "schedule_version", "effective_from", "published_at")
        } | {"fees": found["fees"]}

    @router.get("/fee-schedules/{payer_id}/fee")
    async def fee(
        payer_id: Id,
        code: Annotated[str, Query(max_length=16)],
        who: Principal = Readers,
        modifier: Annotated[str, Query(max_length=16)] = "",
        on: Day | None = None,
        after_stream: After = None,
        after_version: AfterVersion = None,
    ) -> dict[str, Any]:
        """The fee for `code` (with `modifier`, the line's first, if any) in the version in
        force on `on` (today if not given): the fee listed for the code with that modifier,
        else the code's fee for any modifier. 404 when no version is in force that day or
        it lists no fee for the code."""
        if not is_procedure_code(code):
            raise Invalid(f"{code!r} is not a CPT or HCPCS procedure code")
        if modifier and not is_modifier(modifier):
            raise Invalid(f"modifier {modifier!r} is not two letters or digits")
        doc = await schedule(who, payer_id, after_stream, after_version)
        day = on or reference.now().date()
        in_force = reference.version_in_force(doc, day)
        if in_force is None:
            raise NotFound(f"no fee schedule of payer {payer_id} is in force on {day}")
        found = reference.fee_in(await version_doc(who, doc, in_force), code, modifier)
        if found is None:
            raise NotFound(f"version {in_force} of payer {payer_id}'s fee schedule lists no {code}")
        return {
            "payer_id": payer_id,
            "on": day.isoformat(),
            "schedule_version": in_force,
            "code": found.code,
            "modifier": found.modifier,
            "amount_cents": found.amount_cents,
        }

    return router
