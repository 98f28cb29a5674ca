"""The month's report as a PDF: every figure of the JSON report, readable by a PDF library, and
every line within the page."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader

from services.finance.domain.report_pdf import report_lines, report_pdf

REPORT: dict[str, Any] = {
    "month": "2026-03",
    "site_id": None,
    "as_of": "2026-04-10",
    "revenue_basis": "service",
    "profit_and_loss": {
        "revenue": [
            {"account_code": "4100", "name": "Commercial", "amount_cents": 1234567},
            {"account_code": "4400", "name": "Patient revenue: self-pay", "amount_cents": 5000},
        ],
        "expenses": [
            {"account_code": "5100", "name": "Salaries and wages", "amount_cents": 900000},
        ],
        "revenue_cents": 1239567,
        "expenses_cents": 900000,
        "net_income_cents": 339567,
    },
    "budget_versus_actual": [
        {
            "account_code": "5100",
            "name": "Salaries and wages",
            "kind": "expense",
            "budget_cents": 800000,
            "actual_cents": 900000,
            "variance_cents": 100000,
            "variance_pct": 12.5,
            "favourable": False,
        },
        {
            "account_code": "4400",
            "name": "Patient revenue: self-pay, with a name far too long for its column",
            "kind": "revenue",
            "budget_cents": 0,
            "actual_cents": 5000,
            "variance_cents": 5000,
            "variance_pct": None,
            "favourable": True,
        },
    ],
    "cash_collected_cents": 1239567,
    "visits": 1200,
    "cost_per_visit_cents": 750,
}


def test_the_pdf_says_the_month_the_books_and_every_figure() -> None:
    reader = PdfReader(io.BytesIO(report_pdf(REPORT, "acme")))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "acme - Monthly financial report" in text
    assert "Month: 2026-03    Whole group" in text
    assert "As recorded by 2026-04-10; revenue by date of service" in text
    for figure in ("$12,345.67", "$50.00", "$9,000.00", "$3,395.67", "$8,000.00", "$1,000.00"):
        assert figure in text
    assert "12.5*" in text  # salaries over budget: against the practice
    assert "Cash collected: $12,395.67" in text
    assert "Visits: 1,200" in text
    assert "Cost per visit: $7.50" in text


def test_a_site_without_visits_has_no_cost_per_visit_and_every_line_fits_the_page() -> None:
    lines = report_lines(
        {**REPORT, "site_id": "north", "visits": 0, "cost_per_visit_cents": None}, "acme"
    )
    assert "Month: 2026-03    Site north" in lines
    assert "Cost per visit: n/a (no visits)" in lines
    assert max(len(line) for line in lines) <= 90
