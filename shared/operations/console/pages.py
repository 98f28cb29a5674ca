"""The console's HTML: plain templates (string.Template) filled with escaped values, and the
headers every console answer carries. No front-end build: a stylesheet and one small script."""

from __future__ import annotations

from functools import cache
from html import escape
from pathlib import Path
from string import Template
from typing import Any

import orjson
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
            dead_letters_current=' aria-current="page"' if current == "dead-letters" else "",
            rebuilds_current=' aria-current="page"' if current == "rebuilds" else "",
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


def dead_letters_table(items: list[dict[str, Any]], more: bool) -> str:
    """Dead letters still to settle, each linking to its page (replay, discard)."""
    if not items:
        return '<p class="empty" data-dead-letters="0">No dead letters: every record applied.</p>'
    rows = []
    for d in items:
        reason = d["reason"]
        why = f"{reason.get('error_type') or ''}: {reason.get('message') or ''}".strip(": ")
        link = f'<a href="/console/dead-letters/{escape(d["id"])}">{escape(d["id"])}</a>'
        rows.append(
            f'<tr data-dead-letter="{escape(d["id"])}"><th scope="row">{link}</th>'
            + _cell(d["context"])
            + _cell((d["type"] or "").removeprefix("medoffice."))
            + _cell(d["group"])
            + _cell(why)
            + _cell(d["dead_lettered_at"])
            + "</tr>"
        )
    head = (
        "<tr><th>dead letter</th><th>context</th><th>event type</th><th>consumer group</th>"
        "<th>why it failed</th><th>dead-lettered at</th></tr>"
    )
    shown = f'<p class="more">The first {len(items)} are shown.</p>' if more else ""
    return (
        f'<table data-dead-letters="{len(items)}"><thead>{head}</thead>'
        f"<tbody>{''.join(rows)}</tbody></table>{shown}"
    )


def replay_all_forms(contexts: list[str]) -> str:
    return "".join(
        '<form method="post" action="/console/dead-letters/replay" class="replay-all">'
        f'<input type="hidden" name="context" value="{escape(c)}">'
        f'<button type="submit">Replay all of {escape(c)}</button></form>'
        for c in contexts
    )


def notice(message: str) -> str:
    return f'<p class="notice" role="status">{escape(message)}</p>' if message else ""


def _json(value: Any) -> str:
    return escape(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode())


def dead_letter(letter: dict[str, Any], message: str = "") -> str:
    """One dead letter: what it is, why it failed, its data with PHI sealed, what was done, and
    the forms that settle it."""
    summary = {k: letter[k] for k in ("context", "type", "group", "stream", "tenant")}
    summary |= {"correlation id": letter["correlation_id"], "state": letter["state"]}
    summary |= {"dead-lettered at": letter["dead_lettered_at"]}
    facts = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in summary.items())
    actions = ""
    if letter["state"] != "discarded":
        target = f"/console/dead-letters/{escape(letter['id'])}"
        actions += (
            f'<form method="post" action="{target}/replay" class="replay">'
            '<button type="submit">Replay</button></form>'
        )
    if letter["state"] == "dead":
        actions += (
            f'<form method="post" action="/console/dead-letters/{escape(letter["id"])}/discard"'
            ' class="discard"><label for="reason">Reason to discard</label>'
            '<input id="reason" name="reason" required maxlength="500">'
            '<button type="submit">Discard</button></form>'
        )
    return template("dead_letter").substitute(
        notice=notice(message),
        facts=facts,
        reason=_json(letter["reason"]),
        attributes=_json(letter["attributes"]),
        data=_json(letter["data"]),
        history=_json(letter["history"]),
        actions=actions,
    )


def _progress(job: dict[str, Any]) -> str:
    done, total = job.get("events_done") or 0, job.get("events_total")
    if total is None:
        return f'<progress data-progress="{escape(job["id"])}"></progress>'
    # A rebuild of no events at all is done as it starts: a full bar of one, not an empty one.
    most, value = (int(total), int(done)) if total else (1, 1)
    return (
        f'<progress data-progress="{escape(job["id"])}" value="{value}" '
        f'max="{most}">{int(done)} of {int(total)}</progress>'
    )


def _left(seconds: Any) -> str:
    return "—" if seconds is None else f"{seconds} s"


def rebuilds_table(jobs: list[dict[str, Any]]) -> str:
    """The rebuilds started last, newest first, each with its progress."""
    if not jobs:
        return '<p class="empty">No rebuild started yet.</p>'
    rows = [
        f'<tr data-rebuild="{escape(j["id"])}"><th scope="row">'
        f'<a href="/console/rebuilds/{escape(j["id"])}">{escape(j["projection"])}</a></th>'
        + f'<td data-status="{escape(j["status"])}">{escape(j["status"])}</td>'
        + f"<td>{_progress(j)}</td>"
        + _cell(f"{j.get('events_done') or 0} of {j.get('events_total') or '…'}")
        + _cell(j.get("started_by"))
        + _cell(j.get("started_at"))
        + "</tr>"
        for j in jobs
    ]
    head = (
        "<tr><th>projection</th><th>status</th><th>progress</th><th>events</th>"
        "<th>started by</th><th>started at</th></tr>"
    )
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def rebuild_progress(job: dict[str, Any]) -> str:
    """One rebuild as it stands: its progress bar and figures, and how it ended."""
    facts = {
        "projection": job["projection"],
        "to generation": job.get("generation"),
        "status": job["status"],
        "events done": f"{job.get('events_done') or 0} of {job.get('events_total') or '…'}",
        "rate": f"{job.get('rate_per_second') or 0} events a second",
        "time left": _left(job.get("seconds_left")),
        "started": f"{job.get('started_at')} by {job.get('started_by')}",
        "finished": job.get("finished_at"),
        "cancelled by": job.get("cancelled_by"),
        "error": job.get("error"),
    }
    shown = "".join(
        f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in facts.items() if v is not None
    )
    return (
        f'<div class="progress" data-status="{escape(job["status"])}">{_progress(job)}</div>'
        f'<dl class="facts">{shown}</dl>'
    )


def projection_options(names: list[str]) -> str:
    return "".join(f'<option value="{escape(n)}">{escape(n)}</option>' for n in sorted(names))
