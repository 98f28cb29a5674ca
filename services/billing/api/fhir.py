"""FHIR R4 read views of billing: Coverage, ChargeItem and Claim, read and searched.

Who reads them is who reads billing's own routes: billers, admins and auditors everything;
a manager the charges and claims of their sites (another site's is not found, and searches
leave it out) and no coverages (a coverage belongs to no site); front desk, clinicians, hr
and staff nothing. Every answer naming patients records the disclosure (billing's
`PatientRecordAccessed`); coverages' PHI is opened through the vault for the caller and never
logged. Errors are OperationOutcomes. References: `Patient/<id>` (scheduling),
`Practitioner/<provider id>` (staffing), a claim's `Coverage/<coverage id>` (here).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request, Response

from services.billing.api import fhir_payment_resources as payment_resources
from services.billing.api import fhir_resources as resources
from services.billing.projections import charges as charges_view
from services.billing.projections import claims as claims_view
from services.billing.projections import learnt as learnt_view
from services.billing.projections import payments as payments_view
from services.billing.projections import reference as reference_view
from shared.access import record_disclosure
from shared.http.fhir import (
    FhirResponse,
    FhirRouter,
    base_url,
    fhir_id,
    our_id,
    reference_ids,
    search_params,
    searchset,
)
from shared.http.identity import Principal, policy
from shared.phivault import PhiVault
from shared.readmodels import ReadModels, public
from shared.usecases import Disclosures

CoverageReaders = policy("biller", "auditor")  # and admin
PaymentReaders = policy("biller", "auditor")  # and admin: a remittance spans sites
Readers = policy("biller", "manager", "auditor", site_scoped=True)  # and admin
TENANT_WIDE = frozenset({"biller", "auditor", "admin"})

Doc = dict[str, Any]
Resource = dict[str, Any]


def _patients(query: dict[str, list[str]]) -> set[str] | None:
    """Our ids of the patients every `patient` parameter names (None: no such parameter)."""
    found: set[str] | None = None
    for value in query.get("patient", ()):
        ours = {our_id(p) or "" for p in reference_ids(value, "Patient")}
        found = ours if found is None else found & ours
    return found


def _wanted(query: dict[str, list[str]], kind: str) -> list[set[str]]:
    """The ids each `_id` parameter names (400 for one that names none)."""
    return [reference_ids(value, kind) for value in query.get("_id", ())]


def _matches(wanted: list[set[str]], resource: Resource) -> bool:
    return all(resource["id"] in ids for ids in wanted)


def _sites(who: Principal) -> list[str] | Literal["*"]:
    """The sites whose charges and claims the caller reads: all, or a manager's."""
    if set(who.roles) & TENANT_WIDE or who.sites == "*":
        return "*"
    return list(who.sites)


def _at(sites: list[str] | Literal["*"], doc: Doc) -> bool:
    return sites == "*" or doc.get("site_id") in sites


DAY_PREFIXES = ("eq", "ge", "gt", "le", "lt")


def _day_test(value: str) -> Callable[[str], bool]:
    """A date search value (`[prefix]YYYY-MM-DD`) as a test of an ISO day; 400 otherwise."""
    prefix = value[:2] if value[:2] in DAY_PREFIXES else "eq"
    raw = value[2:] if value[:2] in DAY_PREFIXES else value
    try:
        day = date.fromisoformat(raw).isoformat()
    except ValueError:
        raise HTTPException(400, f"date {value!r} is not [eq|ge|gt|le|lt]YYYY-MM-DD") from None
    if len(raw) != 10:
        raise HTTPException(400, f"date {value!r} is not [eq|ge|gt|le|lt]YYYY-MM-DD")
    tests: dict[str, Callable[[str], bool]] = {
        "eq": lambda d: d == day,
        "ge": lambda d: d >= day,
        "gt": lambda d: d > day,
        "le": lambda d: d <= day,
        "lt": lambda d: d < day,
    }
    return tests[prefix]


def build_router(read_models: ReadModels, disclosures: Disclosures, vault: PhiVault) -> APIRouter:
    router = FhirRouter(resources.CAPABILITIES + payment_resources.CAPABILITIES)

    async def find(projection: str, collection: str, where: Doc, key: str) -> list[Doc]:
        docs = await read_models.find(projection, collection, where, sort=[(key, 1)])
        return [d for d in (public(doc) for doc in docs) if d is not None]

    async def get(projection: str, collection: str, doc_id: str) -> Doc | None:
        return public(await read_models.get(projection, collection, doc_id))

    async def payers(tenant: str, payer_ids: Iterable[str]) -> dict[str, Doc | None]:
        return {
            payer_id: await get(
                reference_view.PAYERS_PROJECTION,
                reference_view.PAYERS,
                reference_view.doc_id(tenant, payer_id),
            )
            for payer_id in set(payer_ids)
        }

    def answer(request: Request, found: list[Resource]) -> Response:
        return FhirResponse(searchset(base_url(request), str(request.url), found))

    def not_found(kind: str, fhir: str) -> HTTPException:
        return HTTPException(404, f"{kind}/{fhir} not found")

    def checked(kind: str, fhir: str) -> str:
        ours = our_id(fhir)
        if ours is None:
            raise HTTPException(400, f"{kind}/{fhir} is not a FHIR id ([A-Za-z0-9-.], 1-64)")
        return ours

    # ------------------------------------------------------------------------- Coverage

    async def coverages(tenant: str, accounts: list[Doc]) -> list[Resource]:
        """Each account's coverages, PHI opened (redacted once forgotten), primary first."""
        known = await payers(tenant, (c["payer_id"] for a in accounts for c in a["coverages"]))
        found = []
        for account in accounts:
            for cover in account["coverages"]:
                await vault.reveal_fields(tenant, cover, *learnt_view.COVERAGE_PHI)
                found.append(resources.coverage(account, cover, known[cover["payer_id"]]))
        return found

    async def accounts(tenant: str, patients: set[str] | None) -> list[Doc]:
        if patients is None:
            return await find(
                learnt_view.ACCOUNTS_PROJECTION,
                learnt_view.ACCOUNTS,
                {"tenant": tenant},
                "patient_id",
            )
        found = []
        for patient_id in sorted(patients):
            doc_id = learnt_view.doc_id(tenant, patient_id)
            doc = await get(learnt_view.ACCOUNTS_PROJECTION, learnt_view.ACCOUNTS, doc_id)
            if doc is not None:
                found.append(doc)
        return found

    @router.get("/Coverage")
    async def search_coverages(request: Request, who: Principal = CoverageReaders) -> Response:
        """Coverages by `patient` and `_id`; the reads are recorded per patient."""
        query = search_params(request, ("_id", "patient"))
        wanted = _wanted(query, "Coverage")
        held = await accounts(who.tenant, _patients(query))
        found = [r for r in await coverages(who.tenant, held) if _matches(wanted, r)]
        kept = {r["id"] for r in found}
        disclosed = [
            a["patient_id"]
            for a in held
            if any(fhir_id(c["coverage_id"]) in kept for c in a["coverages"])
        ]
        await record_disclosure(disclosures, request, who, disclosed)
        return answer(request, found)

    @router.get("/Coverage/{coverage_id}")
    async def read_coverage(
        request: Request, coverage_id: str, who: Principal = CoverageReaders
    ) -> Response:
        """A coverage by its id (scheduling's coverage id); the read is recorded."""
        search_params(request, ())
        ours = checked("Coverage", coverage_id)
        # A coverage is kept on its patient's account: the account that holds it.
        for account in await accounts(who.tenant, None):
            held = [c for c in account["coverages"] if c["coverage_id"] == ours]
            if held:
                account = {**account, "coverages": held}
                [found] = await coverages(who.tenant, [account])
                await record_disclosure(disclosures, request, who, [account["patient_id"]])
                return FhirResponse(found)
        raise not_found("Coverage", coverage_id)

    # ------------------------------------------------------------------------ ChargeItem

    async def charges(who: Principal, patients: set[str] | None) -> list[Doc]:
        where: Doc = {"tenant": who.tenant}
        if patients is not None:
            where["patient_id"] = {"$in": sorted(patients)}
        sites = _sites(who)
        if sites != "*":
            where["site_id"] = {"$in": sites}
        return await find(charges_view.PROJECTION, charges_view.CHARGES, where, "charge_id")

    @router.get("/ChargeItem")
    async def search_charge_items(request: Request, who: Principal = Readers) -> Response:
        """The lines of charges by `patient` and `_id` (managers: their sites')."""
        query = search_params(request, ("_id", "patient"))
        wanted = _wanted(query, "ChargeItem")
        found: list[Resource] = []
        disclosed: list[str] = []
        for charge in await charges(who, _patients(query)):
            items = [r for r in resources.charge_items(charge) if _matches(wanted, r)]
            if items:
                found += items
                disclosed.append(charge["patient_id"])
        await record_disclosure(disclosures, request, who, disclosed)
        return answer(request, found)

    @router.get("/ChargeItem/{item_id}")
    async def read_charge_item(
        request: Request, item_id: str, who: Principal = Readers
    ) -> Response:
        """A line of a charge: `<charge id>-<line id>`; the read is recorded."""
        search_params(request, ())
        checked("ChargeItem", item_id)
        named = resources.charge_of(item_id)
        candidates: list[Doc] = []
        if named is not None:
            charge_id = our_id(named[0]) or ""
            doc_id = charges_view.doc_id(who.tenant, charge_id)
            doc = await get(charges_view.PROJECTION, charges_view.CHARGES, doc_id)
            candidates = [doc] if doc is not None else []
        if not candidates and item_id.startswith("chargeitem-"):
            # A digest id (the charge's id was too long to read from it): look for it.
            candidates = await charges(who, None)
        sites = _sites(who)
        for charge in candidates:
            for item in resources.charge_items(charge):
                if item["id"] == item_id and _at(sites, charge):
                    await record_disclosure(disclosures, request, who, [charge["patient_id"]])
                    return FhirResponse(item)
        raise not_found("ChargeItem", item_id)

    # ----------------------------------------------------------------------------- Claim

    async def claims(tenant: str, docs: list[Doc]) -> list[Resource]:
        known = await payers(tenant, (d["payer_id"] for d in docs))
        found = []
        for doc in docs:
            billed = []
            for charge_id in doc.get("charge_ids") or ():
                key = charges_view.doc_id(tenant, charge_id)
                charge = await get(charges_view.PROJECTION, charges_view.CHARGES, key)
                if charge is not None:
                    billed.append(charge)
            found.append(resources.claim(doc, billed, known[doc["payer_id"]]))
        return found

    @router.get("/Claim")
    async def search_claims(request: Request, who: Principal = Readers) -> Response:
        """Claims by `patient` and `_id` (managers: their sites')."""
        query = search_params(request, ("_id", "patient"))
        wanted = _wanted(query, "Claim")
        where: Doc = {"tenant": who.tenant}
        patients = _patients(query)
        if patients is not None:
            where["patient_id"] = {"$in": sorted(patients)}
        sites = _sites(who)
        docs = [
            d
            for d in await find(claims_view.PROJECTION, claims_view.CLAIMS, where, "claim_id")
            if _at(sites, d) and all(fhir_id(d["claim_id"]) in ids for ids in wanted)
        ]
        found = await claims(who.tenant, docs)
        await record_disclosure(disclosures, request, who, [d["patient_id"] for d in docs])
        return answer(request, found)

    @router.get("/Claim/{claim_id}")
    async def read_claim(request: Request, claim_id: str, who: Principal = Readers) -> Response:
        """A claim by its id (CLM01); the read is recorded."""
        search_params(request, ())
        ours = checked("Claim", claim_id)
        doc = await get(
            claims_view.PROJECTION, claims_view.CLAIMS, claims_view.claim_doc_id(who.tenant, ours)
        )
        if doc is None or not _at(_sites(who), doc):
            raise not_found("Claim", claim_id)
        [found] = await claims(who.tenant, [doc])
        await record_disclosure(disclosures, request, who, [doc["patient_id"]])
        return FhirResponse(found)

    # -------------------------------------------------------------- ExplanationOfBenefit

    async def explanations(tenant: str, docs: list[Doc]) -> list[tuple[Doc, Resource]]:
        """Each adjudication with its claim (from the claims read model) as an EOB."""
        found = []
        for doc in docs:
            key = claims_view.claim_doc_id(tenant, doc["claim_id"])
            claim = await get(claims_view.PROJECTION, claims_view.CLAIMS, key)
            if claim is None:  # the claims read model has not caught up yet
                continue
            billed = []
            for charge_id in claim.get("charge_ids") or ():
                key = charges_view.doc_id(tenant, charge_id)
                charge = await get(charges_view.PROJECTION, charges_view.CHARGES, key)
                if charge is not None:
                    billed.append(charge)
            [payer] = (await payers(tenant, [claim["payer_id"]])).values()
            eob = payment_resources.explanation_of_benefit(doc, claim, billed, payer)
            found.append((claim, eob))
        return found

    @router.get("/ExplanationOfBenefit")
    async def search_explanations(request: Request, who: Principal = Readers) -> Response:
        """Adjudications by `patient`, `claim` and `_id` (managers: their sites')."""
        query = search_params(request, ("_id", "patient", "claim"))
        wanted = _wanted(query, "ExplanationOfBenefit")
        where: Doc = {"tenant": who.tenant}
        patients = _patients(query)
        if patients is not None:
            where["patient_id"] = {"$in": sorted(patients)}
        sites = _sites(who)
        named = [reference_ids(value, "Claim") for value in query.get("claim", ())]
        claim_ids = [
            d["claim_id"]
            for d in await find(claims_view.PROJECTION, claims_view.CLAIMS, where, "claim_id")
            if _at(sites, d) and all(fhir_id(d["claim_id"]) in ids for ids in named)
        ]
        docs = await find(
            payments_view.PROJECTION,
            payments_view.ADJUDICATIONS,
            {"tenant": who.tenant, "claim_id": {"$in": claim_ids}},
            "recorded_at",
        )
        kept = [(c, r) for c, r in await explanations(who.tenant, docs) if _matches(wanted, r)]
        await record_disclosure(disclosures, request, who, [c["patient_id"] for c, _ in kept])
        return answer(request, [r for _, r in kept])

    @router.get("/ExplanationOfBenefit/{eob_id}")
    async def read_explanation(request: Request, eob_id: str, who: Principal = Readers) -> Response:
        """An adjudication by its id (the posting's, a paper EOB's event's); recorded."""
        search_params(request, ())
        ours = checked("ExplanationOfBenefit", eob_id)
        doc = await get(
            payments_view.PROJECTION,
            payments_view.ADJUDICATIONS,
            payments_view.doc_id(who.tenant, ours),
        )
        found = await explanations(who.tenant, [doc] if doc is not None else [])
        if not found or not _at(_sites(who), found[0][0]):
            raise not_found("ExplanationOfBenefit", eob_id)
        [(claim, eob)] = found
        await record_disclosure(disclosures, request, who, [claim["patient_id"]])
        return FhirResponse(eob)

    # ------------------------------------------------------------- PaymentReconciliation

    async def reconciliations(tenant: str, docs: list[Doc]) -> list[Resource]:
        received = [d for d in docs if d.get("received")]
        known = await payers(tenant, (d["payer_id"] for d in received if d.get("payer_id")))
        return [
            payment_resources.payment_reconciliation(d, known.get(d.get("payer_id") or ""))
            for d in received
        ]

    @router.get("/PaymentReconciliation")
    async def search_reconciliations(request: Request, who: Principal = PaymentReaders) -> Response:
        """Remittances by `created` (the day received: [eq|ge|gt|le|lt]YYYY-MM-DD) and `_id`."""
        query = search_params(request, ("_id", "created"))
        wanted = _wanted(query, "PaymentReconciliation")
        tests = [_day_test(value) for value in query.get("created", ())]
        docs = await find(
            payments_view.PROJECTION,
            payments_view.REMITTANCES,
            {"tenant": who.tenant},
            "remittance_id",
        )
        kept = [d for d in docs if d.get("received") and all(t(d["received_on"]) for t in tests)]
        kept.sort(key=lambda d: (d["received_at"], d["remittance_id"]))
        found = [r for r in await reconciliations(who.tenant, kept) if _matches(wanted, r)]
        return answer(request, found)

    @router.get("/PaymentReconciliation/{remittance_id}")
    async def read_reconciliation(
        request: Request, remittance_id: str, who: Principal = PaymentReaders
    ) -> Response:
        """A remittance by its id (`remittance_id_for(payer, trace number)`)."""
        search_params(request, ())
        ours = checked("PaymentReconciliation", remittance_id)
        doc = await get(
            payments_view.PROJECTION,
            payments_view.REMITTANCES,
            payments_view.doc_id(who.tenant, ours),
        )
        found = await reconciliations(who.tenant, [doc] if doc is not None else [])
        if not found:
            raise not_found("PaymentReconciliation", remittance_id)
        return FhirResponse(found[0])

    return router
