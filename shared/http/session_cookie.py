"""A signed-in page's session: the caller's bearer token kept in a cookie that is HttpOnly (no
script reads it), SameSite=Strict (no other site's page sends it), Secure when the page is
reached over https, scoped to the page's path, and living no longer than the token. The pages
verify the token again on every request (the operations console, the manager's KPI page)."""

from __future__ import annotations

from dataclasses import dataclass

import jwt
from fastapi import Request, Response

UNKNOWN_LIFETIME = 3600  # seconds, for a token that names no expiry


@dataclass(frozen=True)
class SessionCookie:
    name: str
    path: str

    def keep(self, response: Response, request: Request, token: str, now: float) -> None:
        """Set the cookie on `response`, for as long as the token is valid from `now`."""
        expires = jwt.decode(token, options={"verify_signature": False}).get("exp")
        lifetime = int(expires - now) if isinstance(expires, int | float) else UNKNOWN_LIFETIME
        response.set_cookie(
            self.name,
            token,
            max_age=max(0, lifetime),
            path=self.path,
            httponly=True,
            samesite="strict",
            secure=_https(request),
        )

    def forget(self, response: Response, request: Request) -> None:
        response.delete_cookie(
            self.name, path=self.path, httponly=True, samesite="strict", secure=_https(request)
        )


def _https(request: Request) -> bool:
    return request.url.scheme == "https"
