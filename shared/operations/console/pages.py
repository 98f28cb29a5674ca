"""The console's HTML: plain templates (string.Template) filled with escaped values, and the
headers every console answer carries. No front-end build: a stylesheet and one small script."""

from __future__ import annotations

from functools import cache
from html import escape
from pathlib import Path
from string import Template
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

HERE = Path(__file__).parent

# No inline script or style anywhere: the one script and stylesheet come from /console/static.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # no-referrer would make Origin "null" on POSTs
    "Cache-Control": "no-store",
}


@cache
def template(name: str) -> Template:
    return Template((HERE / "templates" / f"{name}.html").read_text())


def page(
    title: str, body: str, operator: str | None = None, current: str = "", status: int = 200
) -> HTMLResponse:
    navigation = ""
    if operator is not None:
        navigation = template("navigation").substitute(
            operator=escape(operator),
            overview_current=' aria-current="page"' if current == "overview" else "",
            projections_current=' aria-current="page"' if current == "projections" else "",
        )
    html = template("layout").substitute(title=escape(title), navigation=navigation, body=body)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def sign_in(message: str = "", status: int = 200) -> HTMLResponse:
    shown = f'<p class="refusal">{escape(message)}</p>' if message else ""
    return page("Sign in", template("sign_in").substitute(message=shown), status=status)


def refused(_: Request, reason: str = "This token is not a platform operator's.") -> HTMLResponse:
    body = template("refused").substitute(reason=escape(reason))
    return page("Not for this token", body, status=403)


def _cell(value: Any) -> str:
    if value is None:
        return "<td>—</td>"
    if isinstance(value, bool):
        return f'<td class="{"good" if value else "bad"}">{"yes" if value else "no"}</td>'
    return f"<td>{escape(str(value))}</td>"


def _figure(key: str, value: Any, at_least: bool = False) -> str:
    shown = "—" if value is None else f"{value}{'+' if at_least else ''}"
    lagging = isinstance(value, int) and not isinstance(value, bool) and value > 0
    css = "figure lagging" if lagging else "figure"
    return f'<td class="{css}" data-figure="{escape(key)}">{escape(shown)}</td>'


def services_table(reports: list[dict[str, Any]]) -> str:
    rows = []
    for s in reports:
        failing = [f"{name}: {error}" for name, error in s["checks"].items() if error != "ok"]
        checks = escape("; ".join(failing)) if failing else f"{len(s['checks'])} passing"
        rows.append(
            f'<tr data-service="{escape(s["name"])}"><th scope="row">{escape(s["name"])}</th>'
            + _cell(s["ready"])
            + f"<td>{checks}</td>"
            + _figure(
                f"{s['name']}.unpublished", s["unpublished_commits"], s["unpublished_at_least"]
            )
            + f'<td data-figure="{escape(s["name"])}.appended">{s["events_appended"]}</td></tr>'
        )
    head = (
        "<tr><th>service</th><th>ready</th><th>checks</th><th>outbox backlog (commits)</th>"
        "<th>events appended</th></tr>"
    )
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def projections_table(reports: list[dict[str, Any]]) -> str:
    rows = []
    for p in sorted(reports, key=lambda p: str(p["name"])):
        rebuilding = p.get("rebuilding")
        rows.append(
            f'<tr data-projection="{escape(p["name"])}"><th scope="row">{escape(p["name"])}</th>'
            + _cell(p["running"])
            + _figure(f"{p['name']}.lag", p["lag"])
            + f'<td data-figure="{escape(p["name"])}.generation">{p["generation"]}</td>'
            + _cell(f"to generation {rebuilding}" if rebuilding else "no")
            + "</tr>"
        )
    head = "<tr><th>projection</th><th>running</th><th>lag</th><th>generation</th>"
    head += "<th>rebuilding</th></tr>"
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def consumers_table(reports: list[dict[str, Any]]) -> str:
    rows = [
        f'<tr data-consumer="{escape(c["name"])}"><th scope="row">{escape(c["name"])}</th>'
        f"<td>{escape(c['service'])}</td>" + _cell(c["running"]) + _figure(c["name"], c["lag"])
        for c in sorted(reports, key=lambda c: str(c["name"]))
    ]
    head = "<tr><th>consumer</th><th>service</th><th>running</th><th>lag</th></tr>"
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"
