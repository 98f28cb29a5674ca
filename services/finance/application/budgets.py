"""Budgets per site and fiscal year: drafted and revised as versions, approved by a manager,
read from the event store (every version stays readable)."""

from __future__ import annotations

from typing import Any

from services.finance.application.accounts import Accounts
from services.finance.domain import streams
from services.finance.domain.budgets import (
    ApproveBudget,
    Budget,
    DraftBudget,
    ReviseBudget,
    budget,
)
from services.finance.domain.events import BudgetLine
from shared.commands import CommandHandler, Outcome
from shared.domain import NotFound
from shared.events import Metadata
from shared.usecases import UseCases


class Budgets(UseCases):
    def __init__(self, handler: CommandHandler, accounts: Accounts) -> None:
        super().__init__(handler)
        self._accounts = accounts

    async def draft(
        self,
        meta: Metadata,
        *,
        site_id: str,
        fiscal_year: int,
        first_month: int,
        lines: tuple[BudgetLine, ...],
    ) -> Outcome[Budget]:
        command = DraftBudget(
            site_id=site_id,
            fiscal_year=fiscal_year,
            first_month=first_month,
            lines=lines,
            chart=await self._accounts.in_use(meta),
            drafted_by=meta.actor or "",
            drafted_at=self.now(),
        )
        stream = streams.budget(meta.tenant, site_id, fiscal_year)
        return await self.decide(stream, budget, command, meta)

    async def revise(
        self,
        meta: Metadata,
        *,
        site_id: str,
        fiscal_year: int,
        lines: tuple[BudgetLine, ...],
        reason: str,
    ) -> Outcome[Budget]:
        command = ReviseBudget(
            site_id=site_id,
            fiscal_year=fiscal_year,
            lines=lines,
            reason=reason,
            chart=await self._accounts.in_use(meta),
            revised_by=meta.actor or "",
            revised_at=self.now(),
        )
        stream = streams.budget(meta.tenant, site_id, fiscal_year)
        return await self.decide(stream, budget, command, meta)

    async def approve(
        self,
        meta: Metadata,
        *,
        site_id: str,
        fiscal_year: int,
        budget_version: int,
        roles: tuple[str, ...],
    ) -> Outcome[Any]:
        command = ApproveBudget(
            site_id=site_id,
            fiscal_year=fiscal_year,
            budget_version=budget_version,
            approved_by=meta.actor or "",
            approver_roles=roles,
            approved_at=self.now(),
        )
        stream = streams.budget(meta.tenant, site_id, fiscal_year)
        return await self.decide(stream, budget, command, meta)

    async def budget(self, tenant: str, site_id: str, fiscal_year: int) -> Budget:
        found = await self.state(streams.budget(tenant, site_id, fiscal_year), budget)
        if not found.exists:
            raise NotFound(f"site {site_id} has no budget for fiscal {fiscal_year}")
        return found
