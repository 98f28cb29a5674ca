"""The manager's KPI page as HTML: the month's KPIs in a table and each KPI's 12-month trend as
an inline SVG chart, drawn by the server. No script at all and no asset from elsewhere: the one
stylesheet is inline, admitted by its hash in the Content-Security-Policy."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from html import escape
from typing import Any

from fastapi.responses import HTMLResponse

STYLE = """
:root { --ink: #1d2530; --muted: #5b6675; --line: #d8dee6; --accent: #14324f; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--ink); background: #f6f8fa; }
header { display: flex; align-items: center; gap: 2rem; padding: .6rem 1.5rem;
  background: var(--accent); color: #fff; }
header form { margin-left: auto; }
main { padding: 1rem 1.5rem 3rem; max-width: 80rem; }
h1 { font-size: 1.4rem; }
h2 { font-size: 1.1rem; margin-top: 1.5rem; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid var(--line); }
thead th { color: var(--muted); font-weight: 600; }
td.figure { font-variant-numeric: tabular-nums; }
.choose { display: flex; gap: .75rem; align-items: end; margin: 1rem 0; }
.choose label { display: grid; gap: .2rem; color: var(--muted); font-size: .9rem; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(20rem, 1fr));
  gap: 1rem; }
figure { margin: 0; background: #fff; border: 1px solid var(--line); padding: .5rem; }
figcaption { font-weight: 600; font-size: .95rem; }
.empty, .hint { color: var(--muted); }
.refusal { color: #a3231a; font-weight: 600; }
.sign-in { display: grid; gap: .5rem; max-width: 40rem; }
.sign-in textarea { font-family: ui-monospace, monospace; font-size: .85rem; }
"""

_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

NAMES = {
    "no_show_rate": "No-show rate",
    "late_cancellation_rate": "Late cancellation rate",
    "wait_time": "Wait time (median)",
    "cycle_time": "Cycle time (median)",
    "provider_utilisation": "Provider utilisation",
    "net_promoter_score": "Net promoter score",
    "initial_denial_rate": "Initial denial rate",
    "net_collection_rate": "Net collection rate",
    "training_compliance": "Training compliance",
    "credentials_expiring": "Credentials expiring within 90 days",
    "third_next_available": "Third next available",
    "days_in_ar": "Days in AR",
}
UNITS = {"percent": " %", "minutes": " min", "score": "", "credentials": "", "days": " days"}

WIDTH, HEIGHT, PAD = 320, 140, 28


def page(title: str, body: str, who: str | None = None, status: int = 200) -> HTMLResponse:
    signed_in = ""
    if who is not None:
        signed_in = (
            f'<form method="post" action="/engagement/dashboard/sign-out">{escape(who)} '
            '<button type="submit">Sign out</button></form>'
        )
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="/console/static/favicon.svg" type="image/svg+xml">'
        f"<title>{escape(title)} · medoffice</title><style>{STYLE}</style></head><body>"
        f"<header><strong>medoffice office KPIs</strong>{signed_in}</header>"
        f"<main><h1>{escape(title)}</h1>{body}</main></body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def sign_in(message: str = "", status: int = 200) -> HTMLResponse:
    shown = f'<p class="refusal">{escape(message)}</p>' if message else ""
    form = (
        f'{shown}<form method="post" action="/engagement/dashboard/sign-in" class="sign-in">'
        '<label for="token">Your token (manager, auditor or admin)</label>'
        '<textarea id="token" name="token" rows="4" required autocomplete="off" '
        'spellcheck="false"></textarea>'
        '<p class="hint">It is kept in a cookie only this page reads, until it expires or you '
        'sign out.</p><button type="submit">Sign in</button></form>'
    )
    return page("Sign in", form, status=status)


def refused(reason: str, status: int = 403) -> HTMLResponse:
    return page("Not for this token", f'<p class="refusal">{escape(reason)}</p>', status=status)


def shown(kpi: dict[str, Any]) -> str:
    value = kpi.get("value")
    if value is None:
        return "—"
    return f"{value}{UNITS.get(str(kpi.get('unit')), '')}"


def _ratio(kpi: dict[str, Any]) -> str:
    if "numerator" not in kpi:
        within = kpi.get("within_days", {})
        return ", ".join(f"{n} within {days} days" for days, n in within.items())
    return f"{kpi['numerator']} / {kpi['denominator']}"


def _table(kpis: Sequence[dict[str, Any]], not_served: Sequence[dict[str, Any]]) -> str:
    rows = [
        f'<tr data-kpi="{escape(k["id"])}"><th scope="row">{escape(NAMES[k["id"]])}'
        f"{' (every site)' if k.get('scope') == 'tenant' else ''}</th>"
        f'<td class="figure">{escape(shown(k))}</td><td class="figure">{escape(_ratio(k))}</td>'
        f"<td><code>{escape(k['definition'])}</code></td></tr>"
        for k in kpis
    ]
    rows += [
        f'<tr data-kpi="{escape(k["id"])}"><th scope="row">{escape(NAMES[k["id"]])}</th>'
        f'<td colspan="2" class="empty">not served: {escape(k["why"])}</td>'
        f"<td><code>{escape(k['definition'])}</code></td></tr>"
        for k in not_served
    ]
    return (
        "<table><thead><tr><th>KPI</th><th>Value</th><th>Of</th><th>Definition "
        "(docs/kpis.md)</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def chart(kpi_id: str, months: Sequence[str], values: Sequence[float | None]) -> str:
    """A 12-month trend: a line through the months with a value, each point labelled."""
    known = [v for v in values if v is not None]
    top = max([*known, 1.0]) * 1.15
    step = (WIDTH - 2 * PAD) / max(len(months) - 1, 1)

    def x(i: int) -> float:
        return PAD + i * step

    def y(v: float) -> float:
        return HEIGHT - PAD - (v / top) * (HEIGHT - 2 * PAD)

    points = [(x(i), y(v), v) for i, v in enumerate(values) if v is not None]
    line = " ".join(f"{px:.1f},{py:.1f}" for px, py, _ in points)
    dots = "".join(
        f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="#14324f"><title>{v}</title></circle>'
        for px, py, v in points
    )
    if points:
        px, py, v = points[-1]
        dots += (
            f'<text x="{px:.1f}" y="{py - 8:.1f}" font-size="11" text-anchor="middle" '
            f'fill="#1d2530">{v}</text>'
        )
    labels = "".join(
        f'<text x="{x(i):.1f}" y="{HEIGHT - 8}" font-size="9" text-anchor="middle" '
        f'fill="#5b6675">{escape(m[5:])}</text>'
        for i, m in enumerate(months)
    )
    axis = (
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
        'stroke="#d8dee6"/>'
    )
    path = (
        f'<polyline points="{line}" fill="none" stroke="#14324f" stroke-width="2"/>'
        if len(points) > 1
        else ""
    )
    empty = (
        f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" fill="#5b6675" '
        'font-size="12">no figures in these months</text>'
        if not points
        else ""
    )
    name = escape(NAMES[kpi_id])
    return (
        f'<figure data-chart="{escape(kpi_id)}"><figcaption>{name}</figcaption>'
        f'<svg role="img" aria-label="{name}, {escape(months[0])} to {escape(months[-1])}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg">{axis}{path}{dots}{labels}{empty}</svg></figure>'
    )


def dashboard(
    who: str, site: str | None, month: str, trend: Sequence[dict[str, Any]]
) -> HTMLResponse:
    """`trend`: the 12 months' answers of GET /engagement/kpis, oldest first, `month` last."""
    current = trend[-1]
    months = [t["month"] for t in trend]
    where = f"site {site}" if site else "all your sites"
    choose = (
        '<form method="get" action="/engagement/dashboard" class="choose">'
        f'<label>Month<input type="month" name="month" value="{escape(month)}"></label>'
        f'<label>Site (empty: all)<input name="site" value="{escape(site or "")}" '
        'pattern="[A-Za-z0-9_\\-]+"></label><button type="submit">Show</button></form>'
    )
    charts = "".join(
        chart(
            kpi["id"],
            months,
            [next(k for k in t["kpis"] if k["id"] == kpi["id"])["value"] for t in trend],
        )
        for kpi in current["kpis"]
    )
    body = (
        f"{choose}<h2>{escape(month)}, {escape(where)}</h2>"
        f"{_table(current['kpis'], current['not_served'])}"
        f'<h2>Twelve months to {escape(month)}</h2><div class="charts">{charts}</div>'
    )
    return page("Office KPIs", body, who=who)
