"""The month's report as a PDF a manager can send: the figures of the JSON report, as text.

Pure: the report (as `Reports.month` answers it) in, lines and bytes out. Amounts are dollars
and cents from integer cents (never a float); a variance percentage is the report's own, to one
decimal; a variance against the practice (revenue under budget, an expense over) is starred.
Every line fits the page (90 characters of Courier 10 on US letter).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shared.money import dollars
from shared.pdf import write_pdf

BASIS = {"posting": "by posting day", "service": "by date of service"}
LABEL = 40  # an account's code and name, cut to fit
AMOUNT = 13


def report_lines(report: Mapping[str, Any], practice: str) -> list[str]:
    """What the PDF says, line by line."""
    where = f"Site {report['site_id']}" if report["site_id"] else "Whole group"
    pnl = report["profit_and_loss"]
    lines = [
        f"{practice} - Monthly financial report",
        f"Month: {report['month']}    {where}",
        f"As recorded by {report['as_of']}; revenue {BASIS[report['revenue_basis']]}",
        "",
        "PROFIT AND LOSS",
        *_amounts("Revenue", pnl["revenue"], pnl["revenue_cents"]),
        *_amounts("Expenses", pnl["expenses"], pnl["expenses_cents"]),
        _row("Net income", pnl["net_income_cents"]),
        "",
        "BUDGET VERSUS ACTUAL",
        f"{'Account':<{LABEL}}{'Budget':>{AMOUNT}}{'Actual':>{AMOUNT}}"
        f"{'Variance':>{AMOUNT}}{'%':>9}",
    ]
    for v in report["budget_versus_actual"]:
        pct = "" if v["variance_pct"] is None else f"{v['variance_pct']:.1f}"
        lines.append(
            f"{_label(v['account_code'], v['name'])}{dollars(v['budget_cents']):>{AMOUNT}}"
            f"{dollars(v['actual_cents']):>{AMOUNT}}{dollars(v['variance_cents']):>{AMOUNT}}"
            f"{pct:>8}{'' if v['favourable'] else '*'}"
        )
    cost = report["cost_per_visit_cents"]
    lines += [
        "* against the budget: revenue under it, or an expense over it",
        "",
        f"Cash collected: {dollars(report['cash_collected_cents'])}",
        f"Visits: {report['visits']:,}",
        f"Cost per visit: {'n/a (no visits)' if cost is None else dollars(cost)}",
    ]
    return lines


def report_pdf(report: Mapping[str, Any], practice: str) -> bytes:
    return write_pdf(report_lines(report, practice))


def _amounts(heading: str, rows: Sequence[Mapping[str, Any]], total: int) -> list[str]:
    return [
        heading,
        *(_row(_label(r["account_code"], r["name"]), r["amount_cents"]) for r in rows),
        _row(f"  Total {heading.lower()}", total),
    ]


def _row(label: str, cents: int) -> str:
    return f"{label:<{LABEL}}{dollars(cents):>{AMOUNT}}"


def _label(code: str, name: str) -> str:
    text = f"  {code} {name}"
    return f"{text[: LABEL - 1]:<{LABEL}}"
