"""The manager's KPI page (`/engagement/dashboard`), signed in like the operations console: the
caller pastes their token once, kept in an HttpOnly, SameSite=Strict cookie scoped to this
page and living no longer than the token; every page verifies it again. A bearer header is
taken too (what the API's clients send). Managers, auditors and admins, at their sites.

CSRF: the only state-changing forms are signing in and out, refused when the browser names
another origin; the page changes nothing through a GET.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from services.engagement.api import dashboard_html as html
from services.engagement.api.kpis import KpiReader, Site
from shared.clock import Clock
from shared.http.identity import Policy, Principal, Role, TokenVerifier
from shared.http.problems import Answered
from shared.http.session_cookie import SessionCookie
from shared.operations.console.live import form_field
from shared.operations.console.session import same_origin

COOKIE = "medoffice_kpis"
PATH = "/engagement/dashboard"
SIGN_IN = f"{PATH}/sign-in"
SESSION = SessionCookie(COOKIE, PATH)
READERS: frozenset[Role] = frozenset({"manager", "auditor"})
PageMonth = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


def _verify(request: Request, token: str) -> Principal | None:
    verifier: TokenVerifier = request.app.state.verifier
    try:
        caller = verifier.verify(token)
    except HTTPException:
        return None
    return caller if isinstance(caller, Principal) else None


@dataclass(frozen=True)
class DashboardPolicy(Policy):
    """Managers and auditors (and admin) by the page's cookie, else by a bearer header. With
    neither, the browser is sent to sign in."""

    async def __call__(self, request: Request) -> Principal:
        token = request.cookies.get(COOKIE)
        if token is None:
            if not request.headers.get("authorization"):
                raise Answered(RedirectResponse(SIGN_IN, status_code=303))
            return await super().__call__(request)
        caller = _verify(request, token)
        if caller is None:
            again = RedirectResponse(SIGN_IN, status_code=303)
            SESSION.forget(again, request)
            raise Answered(again)
        if not (READERS & set(caller.roles)) and "admin" not in caller.roles:
            raise Answered(html.refused("This page is for managers, auditors and admins."))
        return caller


def months_to(month: str, count: int = 12) -> list[str]:
    """The `count` months ending with `month`, oldest first."""
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - count + 1, index + 1)]


def build_router(reader: KpiReader, clock: Clock) -> APIRouter:
    router = APIRouter(prefix=PATH, tags=["kpis"])
    reader_policy = Depends(DashboardPolicy(READERS, site_scoped=True))

    @router.get("/sign-in", response_class=HTMLResponse)
    async def sign_in_form() -> HTMLResponse:
        """The sign-in page: a form for the caller's token."""
        return html.sign_in()

    @router.post("/sign-in", response_class=HTMLResponse, response_model=None)
    async def sign_in(request: Request) -> Response:
        """Keep a manager's, auditor's or admin's token in the page's cookie, then show it."""
        if not same_origin(request):
            return html.refused("This sign-in did not come from the KPI page.")
        token = await form_field(request, "token")
        if not token:
            return html.sign_in("Paste one token.", status=422)
        caller = _verify(request, token)
        if caller is None:
            return html.sign_in("That token is not valid, or has expired.", status=401)
        if not (READERS & set(caller.roles)) and "admin" not in caller.roles:
            return html.refused("This page is for managers, auditors and admins.")
        signed_in = RedirectResponse(PATH, status_code=303)
        SESSION.keep(signed_in, request, token, clock.now().timestamp())
        return signed_in

    @router.post("/sign-out", response_class=HTMLResponse, response_model=None)
    async def sign_out(request: Request) -> Response:
        """Forget the page's cookie, then show the sign-in page."""
        if not same_origin(request):
            return html.refused("This sign-out did not come from the KPI page.")
        signed_out = RedirectResponse(SIGN_IN, status_code=303)
        SESSION.forget(signed_out, request)
        return signed_out

    @router.get("", response_class=HTMLResponse)
    async def dashboard(
        who: Principal = reader_policy, month: PageMonth = None, site: Site = None
    ) -> HTMLResponse:
        """The month's KPIs (this month unless `month`) at `site` or over the caller's sites,
        and each KPI's trend over the twelve months to it."""
        if site is not None and not who.at_site(site):
            return html.refused(f"You do not work at site {site}.")
        shown = month or f"{clock.now():%Y-%m}"
        trend = await reader.months(who, site, months_to(shown))
        return html.dashboard(who.sub, site, shown, trend)

    return router
