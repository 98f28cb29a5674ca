"""Budgets over HTTP: finance drafts and revises, a manager approves (their sites), and every
version stays readable (finance, auditors, managers of the site)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import Field

from services.finance.api.common import ApproveBudget, Cents, Day, Read, Reason, Work, check_sites
from services.finance.application.budgets import Budgets
from services.finance.domain.budgets import Budget
from services.finance.domain.events import BudgetLine
from shared.http.app import metadata
from shared.http.identity import Principal
from shared.http.routes import Body, Id, Recorded, check_site, recorded

Year = Annotated[int, Path(ge=1900, le=2200)]


class LineIn(Body):
    account_code: Annotated[str, Field(min_length=1, max_length=16)]
    month: Day
    amount_cents: Cents


class DraftIn(Body):
    site_id: Id
    fiscal_year: int = Field(ge=1900, le=2200)
    first_month: int = Field(default=1, ge=1, le=12)
    lines: list[LineIn] = Field(max_length=5000)


class RevisionIn(Body):
    lines: list[LineIn] = Field(max_length=5000)
    reason: Reason


class ApprovalIn(Body):
    budget_version: int = Field(ge=1)


def _lines(lines: list[LineIn]) -> tuple[BudgetLine, ...]:
    return tuple(BudgetLine(**line.model_dump()) for line in lines)


def _shown(budget: Budget, version: int | None) -> dict[str, Any]:
    chosen = budget.approved if version is None else budget.version(version)
    return {
        "site_id": budget.site_id,
        "fiscal_year": budget.fiscal_year,
        "first_month": budget.first_month,
        "versions": [v.budget_version for v in budget.versions],
        "approved_version": budget.approved_version,
        "budget_version": None if chosen is None else chosen.budget_version,
        "lines": [] if chosen is None else [x.model_dump(mode="json") for x in chosen.lines],
    }


def build_router(budgets: Budgets) -> APIRouter:
    router = APIRouter(prefix="/finance/budgets", tags=["finance"])

    @router.post("", status_code=201)
    async def draft(request: Request, body: DraftIn, who: Principal = Work) -> Recorded:
        """Version 1 of a site's budget for a fiscal year."""
        outcome = await budgets.draft(
            metadata(request, who),
            site_id=body.site_id,
            fiscal_year=body.fiscal_year,
            first_month=body.first_month,
            lines=_lines(body.lines),
        )
        return recorded(f"{body.site_id}:{body.fiscal_year}", outcome)

    @router.post("/{site_id}/{fiscal_year}/revisions", status_code=201)
    async def revise(
        request: Request, site_id: Id, fiscal_year: Year, body: RevisionIn, who: Principal = Work
    ) -> Recorded:
        """A new version, whole (the approved one stays readable)."""
        outcome = await budgets.revise(
            metadata(request, who),
            site_id=site_id,
            fiscal_year=fiscal_year,
            lines=_lines(body.lines),
            reason=body.reason,
        )
        return recorded(f"{site_id}:{fiscal_year}", outcome)

    @router.post("/{site_id}/{fiscal_year}/approval")
    async def approve(
        request: Request,
        site_id: Id,
        fiscal_year: Year,
        body: ApprovalIn,
        who: Principal = ApproveBudget,
    ) -> Recorded:
        """A manager of the site approves the latest version."""
        check_site(who, site_id)
        outcome = await budgets.approve(
            metadata(request, who),
            site_id=site_id,
            fiscal_year=fiscal_year,
            budget_version=body.budget_version,
            roles=tuple(who.roles),
        )
        return recorded(f"{site_id}:{fiscal_year}", outcome)

    @router.get("/{site_id}/{fiscal_year}")
    async def read(
        site_id: Id,
        fiscal_year: Year,
        who: Principal = Read,
        version: Annotated[int | None, Query(ge=1)] = None,
    ) -> dict[str, Any]:
        """The approved version (none yet: no lines), or `version`."""
        check_sites(who, [site_id])
        return _shown(await budgets.budget(who.tenant, site_id, fiscal_year), version)

    return router
