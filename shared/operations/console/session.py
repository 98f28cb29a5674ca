"""Who is signed in to the console: an operator's bearer token, kept in a cookie.

The cookie is HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it),
Secure when the console is reached over https, scoped to /console, and lives no longer than
the token. Every page and stream verifies the token again, as /ops does a bearer header.

CSRF: the console's only state-changing forms are signing in and out. SameSite=Strict keeps
the cookie off any request another site starts, and those POSTs also require the request's
`Origin`, when a browser sends one, to be the console's own origin (a login CSRF signing the
victim in as someone else is refused too). No page changes state through a GET."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from fastapi import Depends, HTTPException, Request, Response
from fastapi.responses import RedirectResponse

from shared.http.identity import Identity, Operator, OperatorPolicy, TokenVerifier
from shared.http.problems import Answered, problem
from shared.http.session_cookie import SessionCookie
from shared.operations.console import pages

log = structlog.get_logger(__name__)

COOKIE = "medoffice_console"
PATH = "/console"
SIGN_IN = "/console/sign-in"


def verify(request: Request, token: str) -> Identity:
    """The caller `token` names; HTTPException 401 when it is not a valid token."""
    verifier: TokenVerifier = request.app.state.verifier
    return verifier.verify(token)


SESSION = SessionCookie(COOKIE, PATH)


def keep(response: Response, request: Request, token: str) -> None:
    """Set the session cookie on `response`, for as long as the token is valid."""
    SESSION.keep(response, request, token, datetime.now(UTC).timestamp())


def forget(response: Response, request: Request) -> None:
    SESSION.forget(response, request)


def same_origin(request: Request) -> bool:
    """Whether a state-changing request comes from the console's own pages: its `Origin`
    names this host, or it has none (a browser sends one on every cross-origin POST)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    own = f"{request.url.scheme}://{request.url.netloc}"
    return origin == own


@dataclass(frozen=True)
class ConsolePolicy(OperatorPolicy):
    """Operators only, identified by the console's cookie (not a bearer header). Without a
    valid cookie a page sends the browser to sign in; a stream answers 401 (problem+json). A
    tenant's token gets a page saying the console is for platform operators (403)."""

    page: bool = True

    async def __call__(self, request: Request) -> Operator:
        token = request.cookies.get(COOKIE)
        caller: Identity | None = None
        if token:
            try:
                caller = verify(request, token)
            except HTTPException:
                caller = None
        if caller is None:
            refusal: Response
            if self.page:
                refusal = RedirectResponse(SIGN_IN, status_code=303)
            else:
                refusal = problem(401, "Sign in to the console first")
            if token:
                forget(refusal, request)  # expired or no longer valid: sign in again
            raise Answered(refusal)
        if not isinstance(caller, Operator):
            raise Answered(pages.refused(request))
        if self.changes_state:
            log.info(
                "operator_action", actor=caller.sub, method=request.method, path=request.url.path
            )
        return caller


def console_operator(*, page: bool = True, changes_state: bool = False) -> Operator:
    """The `Operator` dependency of a console route."""
    result: Operator = Depends(ConsolePolicy(changes_state=changes_state, page=page))
    return result
