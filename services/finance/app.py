"""The one place that wires the finance service: its declaration for the service kit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter

from services.billing.contracts import CONTRACT as BILLING
from services.finance import consumers
from services.finance.api import accounts as accounts_api
from services.finance.api import budgets as budgets_api
from services.finance.api import payables as payables_api
from services.finance.api import reports as reports_api
from services.finance.application.accounts import Accounts
from services.finance.application.budgets import Budgets
from services.finance.application.payables import Payables
from services.finance.application.payroll import Payroll
from services.finance.application.reports import Reports
from services.finance.application.revenue import Revenue
from services.finance.contracts import CONTRACT
from services.finance.domain import budgets, payables, payment_runs, streams
from services.finance.projections.ledger import LedgerProjection
from services.scheduling.contracts import CONTRACT as SCHEDULING
from shared.kit import Kit, ServiceSpec
from shared.reactions import Reaction

NAME = CONTRACT.context


@dataclass(frozen=True)
class UseCases:
    accounts: Accounts
    budgets: Budgets
    payables: Payables
    payroll: Payroll
    revenue: Revenue
    reports: Reports


async def application(kit: Kit) -> UseCases:
    accounts = Accounts(kit.handler)
    return UseCases(
        accounts=accounts,
        budgets=Budgets(kit.handler, accounts),
        payables=Payables(kit.handler, accounts),
        payroll=Payroll(kit.handler, accounts),
        revenue=Revenue(kit.handler, accounts, kit.read_models),
        reports=Reports(kit.read_models, accounts),
    )


def routers(kit: Kit, app: UseCases) -> Sequence[APIRouter]:
    timeout = kit.settings.read_your_writes_timeout
    return [
        accounts_api.build_router(app.accounts, app.payroll),
        budgets_api.build_router(app.budgets),
        payables_api.build_router(
            app.payables, app.reports, kit.read_models, kit.phi_vault(), timeout
        ),
        reports_api.build_router(app.reports, kit.read_models, kit.clock, timeout),
    ]


def reactions(kit: Kit, app: UseCases) -> Sequence[Reaction]:
    return consumers.reactions(app.revenue)


SPEC = ServiceSpec(
    contract=CONTRACT,
    # What finance consumes, decoded by the contracts it reads (billing's, scheduling's).
    reads=CONTRACT.registry.merged(BILLING.registry).merged(SCHEDULING.registry),
    projections=(LedgerProjection,),
    tags=streams.tags,
    folds={
        "budget": budgets.budget,
        "vendor": payables.vendor,
        "payment-run": payment_runs.payment_run,
    },
    application=application,
    reactions=reactions,
    routers=routers,
)
