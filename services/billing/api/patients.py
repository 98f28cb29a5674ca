"""The patient's side over HTTP, under `/billing/patients/{patient_id}/`.

`biller` (and `admin`) take payments, refunds, write-offs, payment plans and statements, and
read everything; `front_desk` takes payments and copays at check-in (at a site they work at)
and reads the balance, never the claims behind it; a `manager` reads the ledgers of their
sites (a patient's sites are those of the visits on the ledger); an `auditor` reads; clinicians
see none of it. Every answer naming a patient records the disclosure. Reads take
`after_stream`/`after_version` (read-your-writes on the patient's ledger).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import Field

from services.billing.application.patients import Patients, StatementNotAvailable, Statements
from services.billing.domain.events import (
    PatientResponsibilityAssessed,
    StatementIssued,
)
from services.billing.domain.patient_ledger import Ledger
from services.billing.projections import patients as view
from shared.access import record_disclosure
from shared.events import Metadata
from shared.http.app import metadata
from shared.http.identity import Principal, policy
from shared.http.routes import (
    AfterStream,
    AfterVersion,
    Body,
    Id,
    PlausibleDay,
    Recorded,
    check_site,
    read_after,
    recorded,
    written,
)
from shared.readmodels import ReadModels
from shared.usecases import Disclosures

Billers = policy("biller", changes_state=True)
Takers = policy("biller", "front_desk", changes_state=True)
Readers = policy("biller", "manager", "auditor", site_scoped=True)
BalanceReaders = policy("biller", "manager", "auditor", "front_desk", site_scoped=True)
TENANT_WIDE = frozenset({"biller", "auditor", "admin"})

Cents = Annotated[int, Field(ge=1, le=100_000_000)]
Method = Literal["cash", "card", "check", "online"]
Text = Annotated[str, Field(min_length=1, max_length=500)]


@dataclass(frozen=True)
class Acting:
    """A command's caller: who, on whose ledger, and the metadata of what they record."""

    who: Principal
    patient_id: str
    meta: Metadata


@dataclass(frozen=True)
class Reading:
    """A read's caller and the ledger they may read (their write waited for, the disclosure
    recorded)."""

    who: Principal
    patient_id: str
    ledger: Ledger


def no_ledger(patient_id: str) -> HTTPException:
    return HTTPException(404, f"patient {patient_id} has no ledger")


class PaymentIn(Body):
    payment_id: Id  # the client's: the same payment sent twice records once
    amount_cents: Cents
    method: Method
    site_id: Id
    reference: str = Field(default="", max_length=100)
    kind: Literal["copay", "payment", "prepayment"] = "payment"
    appointment_id: Id | None = None
    charge_id: Id | None = None


class RefundIn(Body):
    refund_id: Id | None = None
    amount_cents: Cents
    method: Method
    reason: Text
    reference: str = Field(default="", max_length=100)
    payment_id: Id | None = None


class WriteOffIn(Body):
    write_off_id: Id | None = None
    amount_cents: Cents
    reason: Literal["small_balance", "hardship", "bad_debt", "courtesy", "other"]
    note: str = Field(default="", max_length=500)
    charge_id: Id | None = None


class PlanIn(Body):
    plan_id: Id | None = None
    total_cents: Cents
    installment_cents: Cents
    first_due_on: PlausibleDay


class PlanEndIn(Body):
    outcome: Literal["paid", "cancelled", "defaulted"]


class StatementIn(Body):
    period_end: PlausibleDay
    statement_id: Id | None = None


def _entry(event: Any, front_desk: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type(event).__name__, **event.model_dump(mode="json")}
    if front_desk and isinstance(event, PatientResponsibilityAssessed):
        out.pop("claim_id", None)
    return out


def build_router(
    patients: Patients,
    statements: Statements,
    disclosures: Disclosures,
    read_models: ReadModels,
    wait_timeout: float,
) -> APIRouter:
    router = APIRouter(prefix="/billing/patients/{patient_id}", tags=["patients"])

    async def wait(
        who: Principal, patient_id: str, after_stream: str | None, after_version: int | None
    ) -> None:
        after = written(after_stream, after_version)
        if after is None:
            return
        stream, version = after
        if stream != f"{who.tenant}:patient-ledger:{patient_id}":
            raise HTTPException(400, "after_stream names no ledger of this patient")
        await read_after(
            read_models,
            view.PROJECTION,
            view.BALANCES,
            view.doc_id(who.tenant, patient_id),
            stream,
            version,
            wait_timeout,
            patients.stream_version,
        )

    async def readable(who: Principal, patient_id: str) -> Ledger:
        """The ledger, if the caller may read it (a manager: one of their sites is on it)."""
        ledger = await patients.ledger(who.tenant, patient_id)
        if ledger.patient_id is None:
            raise no_ledger(patient_id)
        if set(who.roles) & TENANT_WIDE or who.sites == "*":
            return ledger
        if not set(ledger.site_ids) & set(who.sites):
            raise no_ledger(patient_id)
        return ledger

    def acting(allowed: Any) -> Any:
        """The dependency of a command route: the caller `allowed` lets in, and its metadata."""

        def dependency(request: Request, patient_id: Id, who: Principal = allowed) -> Acting:
            return Acting(who, patient_id, metadata(request, who))

        return Depends(dependency)

    def reading(allowed: Any) -> Any:
        """The dependency of a read route: the ledger the caller `allowed` lets in may read,
        after their write (`after_stream`/`after_version`); the disclosure recorded."""

        async def dependency(
            request: Request,
            patient_id: Id,
            who: Principal = allowed,
            after_stream: AfterStream = None,
            after_version: AfterVersion = None,
        ) -> Reading:
            await wait(who, patient_id, after_stream, after_version)
            ledger = await readable(who, patient_id)
            await record_disclosure(disclosures, request, who, [patient_id])
            return Reading(who, patient_id, ledger)

        return Depends(dependency)

    def new_or(given: str | None) -> str:
        return given or patients.new_id()

    ByBiller, ByTaker = acting(Billers), acting(Takers)
    ReadBalance, ReadLedger = reading(BalanceReaders), reading(Readers)

    # ---------------------------------------------------------------------------- commands

    @router.post("/payments", status_code=201)
    async def pay(body: PaymentIn, by: Acting = ByTaker) -> Recorded:
        """A payment (a copay at check-in with its `appointment_id`). The same `payment_id`
        again records nothing; with other details, 409."""
        check_site(by.who, body.site_id)
        outcome = await patients.receive_payment(
            by.meta,
            by.patient_id,
            payment_id=body.payment_id,
            amount_cents=body.amount_cents,
            method=body.method,
            site_id=body.site_id,
            reference=body.reference,
            kind=body.kind,
            appointment_id=body.appointment_id,
            charge_id=body.charge_id,
        )
        return recorded(body.payment_id, outcome)

    @router.post("/refunds", status_code=201)
    async def refund(body: RefundIn, by: Acting = ByBiller) -> Recorded:
        """A refund: at most the patient's credit (and what the payment named paid): else 409."""
        refund_id = new_or(body.refund_id)
        outcome = await patients.refund(
            by.meta,
            by.patient_id,
            amount_cents=body.amount_cents,
            method=body.method,
            reason=body.reason,
            reference=body.reference,
            payment_id=body.payment_id,
            refund_id=refund_id,
        )
        return recorded(refund_id, outcome)

    @router.post("/write-offs", status_code=201)
    async def write_off(body: WriteOffIn, by: Acting = ByBiller) -> Recorded:
        """A write-off: a small balance at most the settings' limit (422), any at most the
        balance (409)."""
        write_off_id = new_or(body.write_off_id)
        outcome = await patients.write_off(
            by.meta,
            by.patient_id,
            amount_cents=body.amount_cents,
            reason=body.reason,
            note=body.note,
            charge_id=body.charge_id,
            write_off_id=write_off_id,
        )
        return recorded(write_off_id, outcome)

    @router.post("/payment-plans", status_code=201)
    async def agree_plan(body: PlanIn, by: Acting = ByBiller) -> Recorded:
        """A payment plan (one open at a time: else 409)."""
        plan_id = new_or(body.plan_id)
        outcome = await patients.agree_plan(
            by.meta,
            by.patient_id,
            total_cents=body.total_cents,
            installment_cents=body.installment_cents,
            first_due_on=body.first_due_on,
            plan_id=plan_id,
        )
        return recorded(plan_id, outcome)

    @router.post("/payment-plans/{plan_id}/end", status_code=201)
    async def end_plan(plan_id: Id, body: PlanEndIn, by: Acting = ByBiller) -> Recorded:
        outcome = await patients.end_plan(by.meta, by.patient_id, plan_id, body.outcome)
        return recorded(plan_id, outcome)

    @router.post("/statements", status_code=201)
    async def issue_statement(body: StatementIn, by: Acting = ByBiller) -> Recorded:
        """A statement now (on demand), for the period ending `period_end`."""
        statement_id = new_or(body.statement_id)
        outcome = await statements.issue(
            by.meta, by.patient_id, body.period_end, statement_id=statement_id
        )
        return recorded(statement_id, outcome)

    # ------------------------------------------------------------------------------- reads

    @router.get("/ledger")
    async def ledger(read: Reading = ReadBalance) -> dict[str, Any]:
        """The balance, its items by visit, the stage and plan; and the entries (not for the
        front desk, who reads the balance only)."""
        state = read.ledger
        front_desk = not set(read.who.roles) & {"biller", "manager", "auditor", "admin"}
        out: dict[str, Any] = {
            "patient_id": read.patient_id,
            "balance_cents": state.balance_cents,
            "credit_cents": state.refundable_cents,
            "stage": state.stage,
            "plan_id": state.plan.plan_id if state.plan is not None else None,
            "items": [
                {
                    "charge_id": i.charge_id,
                    "site_id": i.site_id,
                    "date_of_service": i.date_of_service.isoformat(),
                    "assessed_cents": i.assessed_cents,
                    "paid_cents": i.paid_cents,
                    "written_off_cents": i.written_off_cents,
                    "balance_cents": i.balance_cents,
                }
                for i in state.items
            ],
        }
        if not front_desk:
            out["entries"] = [_entry(e, front_desk) for e in state.entries]
        return out

    @router.get("/statements")
    async def list_statements(read: Reading = ReadLedger) -> dict[str, Any]:
        return {"statements": [s.model_dump(mode="json") for s in read.ledger.statements]}

    async def statement_pdf(
        request: Request, who: Principal, patient_id: str, statement_id: str
    ) -> Response:
        state = await readable(who, patient_id)
        if not any(
            isinstance(e, StatementIssued) and e.statement_id == statement_id for e in state.entries
        ):
            raise HTTPException(404, f"statement {statement_id} not found")
        try:
            pdf = await statements.pdf(who.tenant, patient_id, statement_id)
        except StatementNotAvailable as gone:
            raise HTTPException(404, gone.reason) from gone
        await record_disclosure(disclosures, request, who, [patient_id])
        return Response(pdf, media_type="application/pdf")

    @router.get("/statements/{statement_id}.pdf", response_class=Response)
    async def statement_dot_pdf(
        request: Request, patient_id: Id, statement_id: Id, who: Principal = Readers
    ) -> Response:
        """The statement's PDF, written again from the ledger and checked against its digest."""
        return await statement_pdf(request, who, patient_id, statement_id)

    @router.get("/statements/{statement_id}/pdf", response_class=Response)
    async def statement_slash_pdf(
        request: Request, patient_id: Id, statement_id: Id, who: Principal = Readers
    ) -> Response:
        return await statement_pdf(request, who, patient_id, statement_id)

    return router
