"""The chart of accounts and cost centres: set by finance, the default chart on first use."""

from __future__ import annotations

from typing import Any

from services.finance.domain import streams
from services.finance.domain.accounts import (
    DEFAULT_ACCOUNTS,
    Chart,
    SetChartOfAccounts,
    SetCostCentres,
    chart,
)
from services.finance.domain.events import Account, CostCentre
from shared.commands import Outcome
from shared.events import Metadata
from shared.usecases import UseCases


class Accounts(UseCases):
    async def chart(self, tenant: str) -> Chart:
        """The chart as set, from the event store (empty before it is)."""
        return await self.state(streams.chart(tenant), chart)

    async def shown(self, tenant: str) -> Chart:
        """The chart as a reader sees it: the default accounts until another is set."""
        found = await self.chart(tenant)
        return found if found.accounts else found.model_copy(update={"accounts": DEFAULT_ACCOUNTS})

    async def in_use(self, meta: Metadata) -> Chart:
        """The chart a command codes against: the default is set on first use."""
        found = await self.chart(meta.tenant)
        if found.accounts:
            return found
        command = SetChartOfAccounts(set_by=meta.actor or "", set_at=self.now())
        outcome = await self.decide(streams.chart(meta.tenant), chart, command, meta)
        return outcome.state

    async def set_chart(self, meta: Metadata, accounts: tuple[Account, ...]) -> Outcome[Any]:
        command = SetChartOfAccounts(accounts=accounts, set_by=meta.actor or "", set_at=self.now())
        return await self.decide(streams.chart(meta.tenant), chart, command, meta)

    async def set_cost_centres(
        self, meta: Metadata, cost_centres: tuple[CostCentre, ...]
    ) -> Outcome[Any]:
        await self.in_use(meta)
        command = SetCostCentres(
            cost_centres=cost_centres, set_by=meta.actor or "", set_at=self.now()
        )
        return await self.decide(streams.chart(meta.tenant), chart, command, meta)
