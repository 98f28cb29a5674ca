"""RFC 9457 problem details for every error: never a stack trace."""

from __future__ import annotations

import traceback
from typing import Any

import structlog
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.domain import DomainError, Forbidden, Invalid, NotFound, Rejected
from shared.errors import RetryLater
from shared.eventstore.port import ConcurrencyConflict

PROBLEM_JSON = "application/problem+json"

log = structlog.get_logger(__name__)


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    if any(e["type"] == "json_invalid" for e in errors):
        return problem(400, "Malformed JSON", "the request body is not valid JSON")
    return problem(422, "Invalid request", "the request does not match its schema", errors=errors)


class Answered(HTTPException):
    """A refusal answered with a response of its own (the console's sign-in redirect, its
    HTML refusal page) rather than problem+json: for pages a browser shows."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _http(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc, Answered):
        return exc.response
    return problem(
        exc.status_code, str(exc.detail), headers=dict(exc.headers) if exc.headers else None
    )


def _domain(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    if isinstance(exc, NotFound):
        return problem(404, "Not found", exc.reason)
    if isinstance(exc, Rejected):
        return problem(409, "Conflict", exc.reason)
    if isinstance(exc, Invalid):
        return problem(422, "Invalid request", exc.reason)
    if isinstance(exc, Forbidden):
        return problem(403, "Forbidden", exc.reason)
    return problem(400, "Bad request", exc.reason)


def _conflict(_: Request, exc: Exception) -> JSONResponse:
    return problem(409, "Conflict", "the resource changed concurrently; try again")


def _unavailable(_: Request, exc: Exception) -> JSONResponse:
    return unavailable(exc)


def unavailable(exc: Exception) -> JSONResponse:
    """503 with Retry-After: a backend is down, nothing was done."""
    log.warning("backend_unavailable", error_type=type(exc).__name__)
    return problem(
        503,
        "Service unavailable",
        "a backend is unreachable; try again shortly",
        headers={"Retry-After": "5"},
    )


def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    return unexpected(exc)


def unexpected(exc: BaseException) -> JSONResponse:
    """500: a bug. Logged as one JSON line with where it failed, never what it held."""
    log.error("unhandled_error", error_type=type(exc).__name__, traceback=where(exc))
    return problem(500, "Internal error", "the request failed; nothing was half-written")


def where(exc: BaseException) -> list[str]:
    """The frames an exception passed, innermost last, then those of what it was raised
    from: file, line and function only. Its message and locals stay out: they may hold a
    patient's data."""
    frames: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if frames:
            frames.append(f"caused by {type(current).__name__}")
        frames += [
            f"{f.filename}:{f.lineno} in {f.name}"
            for f in traceback.extract_tb(current.__traceback__)
        ]
        current = current.__cause__  # not __context__: frameworks re-raise through groups
    return frames


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(ConcurrencyConflict, _conflict)
    app.add_exception_handler(RetryLater, _unavailable)
    app.add_exception_handler(Exception, _unexpected)
