"""The month's reports over HTTP: profit and loss, budget versus actual, cash collected and
cost per visit, for a site or the whole group, as of any past day; JSON, or CSV with
`Accept: text/csv`, or a PDF to send with `Accept: application/pdf`. Finance and auditors read
the group; managers their sites."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response

from services.finance.api.common import Day, Read, check_sites, first_of_month, group_wide
from services.finance.application.reports import Basis, Reports
from services.finance.domain.report_pdf import report_pdf
from shared.clock import Clock
from shared.http.identity import Principal
from shared.http.routes import Id
from shared.readmodels import ReadModels

Month = Annotated[str, Query(min_length=7, max_length=7, description="YYYY-MM")]


def as_csv(report: dict[str, Any]) -> str:
    """The report as rows: section, account, name, then its amounts in cents."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "account_code", "name", "amount_cents", "budget_cents",
                     "variance_cents", "variance_pct"])  # fmt: skip
    pnl = report["profit_and_loss"]
    for section in ("revenue", "expenses"):
        for line in pnl[section]:
            writer.writerow([section, line["account_code"], line["name"], line["amount_cents"]])
    writer.writerow(["net_income", "", "", pnl["net_income_cents"]])
    for v in report["budget_versus_actual"]:
        writer.writerow(["budget_versus_actual", v["account_code"], v["name"], v["actual_cents"],
                         v["budget_cents"], v["variance_cents"], v["variance_pct"]])  # fmt: skip
    writer.writerow(["cash_collected", "", "", report["cash_collected_cents"]])
    writer.writerow(["visits", "", "", report["visits"]])
    writer.writerow(["cost_per_visit", "", "", report["cost_per_visit_cents"]])
    return out.getvalue()


def build_router(
    reports: Reports, read_models: ReadModels, clock: Clock, wait_timeout: float
) -> APIRouter:
    router = APIRouter(prefix="/finance/reports", tags=["finance"])

    @router.get("/month", response_model=None)
    async def month(
        request: Request,
        month: Month,
        who: Principal = Read,
        site_id: Id | None = None,
        as_of: Day | None = None,
        basis: Basis = "posting",
    ) -> dict[str, Any] | Response:
        """The month for `site_id`, or the whole group (finance, auditors): P&L, budget
        versus actual, cash collected, visits and cost per visit, as recorded by `as_of`; revenue
        by posting day, or by date of service with `basis=service`."""
        if site_id is not None:
            check_sites(who, [site_id])
        elif not group_wide(who) and who.sites != "*":
            raise HTTPException(403, "The whole group's report is for finance and auditors")
        first = first_of_month(month)
        day = as_of or clock.now().date()
        report = await reports.month(who.tenant, first, site_id, day, basis)
        accept = request.headers.get("accept", "")
        if "text/csv" in accept:
            return Response(as_csv(report), media_type="text/csv")
        if "application/pdf" in accept:
            name = f"finance-{report['month']}-{site_id or 'group'}.pdf"
            return Response(
                report_pdf(report, who.tenant),
                media_type="application/pdf",
                headers={"content-disposition": f'attachment; filename="{name}"'},
            )
        return report

    return router
