"""The one place that wires the billing service: its declaration for the service kit.

Each area (payers and fee schedules, what billing learns from scheduling and staffing, charges,
claims and claim files, the clearinghouse) adds its use cases to `UseCases`, its projections
to `SPEC`, and its routers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter

from services.billing import consumers
from services.billing.api import charges as charges_api
from services.billing.api import claim_files as claim_files_api
from services.billing.api import claims as claims_api
from services.billing.api import fhir as fhir_api
from services.billing.api import learning as learning_api
from services.billing.api import patients as patients_api
from services.billing.api import provider_accounts as provider_accounts_api
from services.billing.api import receivables as receivables_api
from services.billing.api import reference as reference_api
from services.billing.api import remittances as remittances_api
from services.billing.application.charges import Charges
from services.billing.application.claim_files import ClaimFileUseCases
from services.billing.application.claims import Claims
from services.billing.application.clearinghouse import Clearinghouse
from services.billing.application.learning import Learning
from services.billing.application.patients import Patients, Statements
from services.billing.application.provider_accounts import ProviderAccounts
from services.billing.application.receivables import Receivables
from services.billing.application.reference import ReferenceData
from services.billing.application.remittances import Remittances
from services.billing.contracts import CONTRACT
from services.billing.domain import access, charges, claims, fee_schedules, payers, streams
from services.billing.projections.charges import ChargesProjection
from services.billing.projections.claims import ClaimsProjection
from services.billing.projections.learnt import (
    PatientAccountsProjection,
    RenderingProvidersProjection,
)
from services.billing.projections.patients import PatientBalancesProjection
from services.billing.projections.payments import PaymentsProjection
from services.billing.projections.receivables import ReceivablesProjection
from services.billing.projections.reference import (
    BillingProvidersProjection,
    FeeSchedulesProjection,
    PayersProjection,
)
from services.scheduling.contracts import CONTRACT as SCHEDULING
from services.staffing.contracts import CONTRACT as STAFFING
from shared.filedrop.folder import FolderDrop
from shared.filedrop.port import FileDrop
from shared.filedrop.sftp import SftpDrop, SftpTarget
from shared.kit import Kit, ServiceSpec
from shared.reactions import Reaction
from shared.settings import Settings
from shared.timers import Timer
from shared.usecases import Disclosures

NAME = CONTRACT.context


@dataclass(frozen=True)
class UseCases:
    reference: ReferenceData  # payers and plans, billing providers, fee schedules
    learning: Learning  # what billing learns from scheduling and staffing
    disclosures: Disclosures
    charges: Charges  # charges from completed visits, coding checks, hold and release
    claims: Claims  # claims: lifecycle, ready checks, secondary claims, work queues
    claim_files: ClaimFileUseCases  # 837P files: control numbers, batching, the bytes
    clearinghouse: Clearinghouse  # claim files out, 999/277CA back in
    patients: Patients  # the patient's side: ledger, payments, refunds, write-offs, plans
    statements: Statements  # the patient's side: monthly statements (PDF), collection stages
    provider_accounts: ProviderAccounts  # posting (billing II): PLB adjustments, once each
    remittances: Remittances  # posting (billing II): 835s taken in and posted, once

    receivables: Receivables  # AR balances and aging as of any date (issue 13)


async def application(kit: Kit) -> UseCases:
    claims = Claims(kit.handler, kit.read_models, kit.phi_vault())
    claim_files = ClaimFileUseCases(kit.handler, claims, kit.settings)
    patients = Patients(kit.handler, kit.read_models, kit.settings.patient_small_balance_cents)
    provider_accounts = ProviderAccounts(kit.handler)
    remittances = Remittances(kit.handler, kit.read_models, claims, provider_accounts)
    return UseCases(
        reference=ReferenceData(kit.handler, kit.read_models),
        learning=Learning(kit.handler, kit.read_models),
        disclosures=Disclosures(kit.handler, access.access, streams.record_access),
        charges=Charges(kit.handler, kit.read_models),
        claims=claims,
        claim_files=claim_files,
        clearinghouse=Clearinghouse(  # clearinghouse (area 6)
            kit.handler,
            kit.read_models,
            clearinghouse_drop(kit.settings),
            claims,
            claim_files,
            remittances,
        ),
        patients=patients,
        statements=Statements(patients, kit.phi_vault(), kit.settings.payment_plan_overdue_days),
        provider_accounts=provider_accounts,
        remittances=remittances,
        receivables=Receivables(kit.read_models),  # receivables (issue 13)
    )


def routers(kit: Kit, app: UseCases) -> Sequence[APIRouter]:
    timeout = kit.settings.read_your_writes_timeout
    return [
        reference_api.build_router(app.reference, kit.read_models, timeout),
        learning_api.build_router(
            app.learning, app.disclosures, kit.read_models, kit.phi_vault(), kit.clock, timeout
        ),
        charges_api.build_router(app.charges, app.disclosures, kit.read_models, timeout),
        claims_api.build_router(app.claims, app.disclosures, kit.read_models, timeout),
        claim_files_api.build_router(
            app.claim_files, app.claims, app.clearinghouse, app.disclosures
        ),
        fhir_api.build_router(kit.read_models, app.disclosures, kit.phi_vault()),  # FHIR R4
        patients_api.build_router(  # the patient's side
            app.patients, app.statements, app.disclosures, kit.read_models, timeout
        ),
        provider_accounts_api.build_router(app.provider_accounts),  # posting (billing II)
        remittances_api.build_router(app.remittances),  # posting (billing II)
        receivables_api.build_router(  # receivables (issue 13)
            app.receivables,
            app.disclosures,
            app.claims.stream_version,
            kit.read_models,
            kit.clock,
            timeout,
        ),
    ]


def reactions(kit: Kit, app: UseCases) -> Sequence[Reaction]:
    return consumers.reactions(app.learning, app.charges, app.claims, app.patients, app.remittances)


def timers(kit: Kit, app: UseCases) -> Sequence[Timer]:
    return consumers.timers(
        kit.settings,
        app.clearinghouse,
        app.claims,
        app.statements,
        app.remittances,
        app.receivables,
        kit.clock,
    )


def clearinghouse_drop(settings: Settings) -> FileDrop:
    """Where claim files go and acknowledgements come from: a drop folder (by default under
    the data folder) or the clearinghouse's SFTP server (key auth, its host key pinned)."""
    if settings.clearinghouse_adapter == "folder":
        return FolderDrop(settings.clearinghouse_folder or settings.data_dir / "clearinghouse")
    missing = [
        f"MEDOFFICE_CLEARINGHOUSE_SFTP_{name.upper()}"
        for name, value in (
            ("key", settings.clearinghouse_sftp_key),
            ("known_hosts", settings.clearinghouse_sftp_known_hosts),
        )
        if value is None
    ]
    if settings.clearinghouse_sftp_key is None or settings.clearinghouse_sftp_known_hosts is None:
        raise ValueError(f"the SFTP clearinghouse needs {' and '.join(missing)}")
    return SftpDrop(
        SftpTarget(
            host=settings.clearinghouse_sftp_host,
            port=settings.clearinghouse_sftp_port,
            username=settings.clearinghouse_sftp_user,
            client_key=settings.clearinghouse_sftp_key,
            known_hosts=settings.clearinghouse_sftp_known_hosts,
            outbound=settings.clearinghouse_sftp_outbound,
            inbound=settings.clearinghouse_sftp_inbound,
            done=settings.clearinghouse_sftp_done,
            timeout=settings.clearinghouse_timeout_seconds,
        )
    )


SPEC = ServiceSpec(
    contract=CONTRACT,
    # What billing consumes, decoded by the contracts it reads (scheduling's, staffing's).
    reads=CONTRACT.registry.merged(SCHEDULING.registry).merged(STAFFING.registry),
    projections=(
        PayersProjection,
        BillingProvidersProjection,
        FeeSchedulesProjection,
        PatientAccountsProjection,
        RenderingProvidersProjection,
        ChargesProjection,
        ClaimsProjection,
        PaymentsProjection,  # FHIR ExplanationOfBenefit, PaymentReconciliation
        PatientBalancesProjection,
        ReceivablesProjection,  # receivables (issue 13)
    ),
    tags=streams.tags,
    # What auditors' streams as of a time fold with (shared/http/streams.py), by stream kind.
    folds={
        "payer": payers.payer,
        "fee-schedule": fee_schedules.fee_schedule,
        "charge": charges.charge,
        "claim": claims.claim,
    },
    application=application,
    reactions=reactions,
    timers=timers,
    routers=routers,
)
