"""The chart of accounts, cost centres and payroll imports over HTTP (finance does them)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import Field

from services.finance.api.common import ReadAll, Work
from services.finance.application.accounts import Accounts
from services.finance.application.payroll import Payroll
from services.finance.domain.events import Account, AccountCategory, AccountKind, CostCentre
from shared.http.app import metadata
from shared.http.identity import Principal
from shared.http.routes import Body, Id, Name, Recorded, recorded

MAX_CSV_BYTES = 2_000_000

Code = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")]


class AccountIn(Body):
    code: Code
    name: Name
    kind: AccountKind
    category: AccountCategory


class ChartIn(Body):
    accounts: list[AccountIn] = Field(min_length=2, max_length=500)


class CostCentreIn(Body):
    site_id: Id
    name: Name
    cost_centre_id: Id | None = None


class CostCentresIn(Body):
    cost_centres: list[CostCentreIn] = Field(min_length=1, max_length=500)


def build_router(accounts: Accounts, payroll: Payroll) -> APIRouter:
    router = APIRouter(prefix="/finance", tags=["finance"])

    @router.get("/chart")
    async def chart(who: Principal = ReadAll) -> dict[str, Any]:
        """The chart of accounts (the default one until another is set) and cost centres."""
        return (await accounts.shown(who.tenant)).model_dump(mode="json")

    @router.put("/chart")
    async def set_chart(request: Request, body: ChartIn, who: Principal = Work) -> Recorded:
        """The whole chart: codes keep their kind and are never removed (409)."""
        outcome = await accounts.set_chart(
            metadata(request, who),
            tuple(Account(**a.model_dump()) for a in body.accounts),
        )
        return recorded("chart", outcome)

    @router.put("/cost-centres")
    async def set_cost_centres(
        request: Request, body: CostCentresIn, who: Principal = Work
    ) -> Recorded:
        """A cost centre per site, whole."""
        centres = tuple(
            CostCentre(
                cost_centre_id=c.cost_centre_id or f"cc-{c.site_id}",
                site_id=c.site_id,
                name=c.name,
            )
            for c in body.cost_centres
        )
        outcome = await accounts.set_cost_centres(metadata(request, who), centres)
        return recorded("cost-centres", outcome)

    @router.post("/payroll-imports", status_code=201)
    async def import_payroll(
        request: Request,
        who: Principal = Work,
        source: Annotated[str, Query(min_length=1, max_length=200)] = "payroll.csv",
        journal_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,64}$")] = None,
    ) -> Recorded:
        """A payroll export (`text/csv`: site,month,account,amount) as the month's journal;
        any bad line is a 422 naming every one, and nothing is imported."""
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "text/csv":
            raise HTTPException(415, "send the payroll file as text/csv")
        raw = await request.body()
        if len(raw) > MAX_CSV_BYTES:
            raise HTTPException(413, f"a payroll file is at most {MAX_CSV_BYTES} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise HTTPException(422, "the payroll file is not UTF-8 text") from None
        chosen = journal_id or payroll.new_id()
        outcome = await payroll.import_csv(
            metadata(request, who), journal_id=chosen, text=text, source=source
        )
        return recorded(chosen, outcome)

    return router
