"""The HTTP shell every process shares: problems, correlation ids, health and readiness."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import parse_qs

import structlog
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.telemetry import TelemetryConfig
from opentelemetry import trace
from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.clock import Clock, SystemClock
from shared.documents.port import DocumentStore
from shared.events import Metadata
from shared.http import problems
from shared.http.idempotency import Guards, IdempotencyMiddleware
from shared.http.identity import OperatorPolicy, Policy, Principal, TokenVerifier
from shared.metrics import route_of
from shared.observability import current_traceparent
from shared.readmodels import reading_replay
from shared.settings import Settings

Check = Callable[[], Awaitable[None]]

tracer = trace.get_tracer("medoffice.http")


class RequestShell:
    """The outermost layer: a correlation id on every answer and in every log line, and a
    problem+json 500 for anything unhandled, answered on a connection that stays usable.

    Pure ASGI: it wraps Starlette's own error middleware, which would re-raise the exception
    to the server (a traceback in plain text, the connection dropped without a word).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation_id = Headers(scope=scope).get("x-correlation-id") or str(uuid.uuid4())
        scope.setdefault("state", {})["correlation_id"] = correlation_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message)["x-correlation-id"] = correlation_id
            await send(message)

        method = scope.get("method", "")
        with (
            structlog.contextvars.bound_contextvars(correlation_id=correlation_id),
            tracer.start_as_current_span(f"{method} {scope.get('path', '')}") as span,
        ):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception as exc:
                answer = problems.unexpected(exc)
                if started:
                    raise  # half an answer is out: only closing the connection ends it
                await answer(scope, receive, send_with_id)
            finally:
                # Named by its route's template once routed: spans leave the process (OTLP),
                # and a path may hold ids.
                route = route_of(scope)
                span.update_name(f"{method} {route}")
                span.set_attribute("http.route", route)


class ReplayReads:
    """`?replay=<id>` on a read: the request's reads of read models go to the scratch
    generation of that replay (shared/replays.py), through the route it calls. Only reads
    name one: a write must never decide on the past."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = scope.get("query_string", b"") if scope["type"] == "http" else b""
        if b"replay=" not in query:
            await self.app(scope, receive, send)
            return
        values = parse_qs(query.decode("latin-1"), keep_blank_values=True).get("replay", [])
        answer: Response | None = None
        if len(values) > 1:
            answer = problems.problem(422, "Invalid request", "replay is named more than once")
        elif values and not _REPLAY_ID.fullmatch(values[0]):
            answer = problems.problem(422, "Invalid request", "replay is not a replay id")
        elif values and scope.get("method") not in ("GET", "HEAD"):
            answer = problems.problem(400, "Bad request", "only reads may name a replay")
        if answer is not None:
            await answer(scope, receive, send)
            return
        with reading_replay(values[0] if values else None):
            await self.app(scope, receive, send)


_REPLAY_ID = re.compile(r"[0-9a-f]{32}")


async def probe(check: Check, timeout: float) -> str | None:
    """None when `check` passes within `timeout` seconds, else the name of what failed."""
    try:
        async with asyncio.timeout(timeout):
            await check()
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return type(exc).__name__
    return None


def metadata(request: Request, principal: Principal) -> Metadata:
    """What every event caused by this request records about it."""
    return Metadata(
        tenant=principal.tenant,
        actor=principal.sub,
        correlation_id=getattr(request.state, "correlation_id", None) or str(uuid.uuid4()),
        traceparent=current_traceparent(),
    )


def create_http_app(
    settings: Settings,
    routers: Sequence[APIRouter],
    idempotency: DocumentStore,
    readiness: dict[str, Check],
    title: str = "medoffice",
    lifespan: Any = None,
    ready_timeout: float = 3.0,
    clock: Clock | None = None,
) -> FastAPI:
    # FastAPI's own telemetry keeps its HTTP server span (the trace's root, continuing a
    # caller's traceparent); its spans around each dependency, endpoint and serialisation cost
    # more than the floor route's own work (docs/benchmarks.md, issue 10).
    # Its `logs` would hand exception messages and stack traces (which may quote a request's
    # PHI) to an OpenTelemetry log provider, were one ever configured: off, as our own error
    # lines carry frames without messages (docs/security.md).
    telemetry: TelemetryConfig = {"operation_spans": False, "logs": False}
    app = FastAPI(title=title, version="0.1.0", lifespan=lifespan, telemetry=telemetry)
    app.state.settings = settings
    app.state.idempotency = idempotency
    app.state.clock = clock or SystemClock()
    app.state.guards = guards = Guards()
    app.state.verifier = TokenVerifier(settings)
    problems.install(app)
    app.add_middleware(ReplayReads)
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(RequestShell)

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/ready", tags=["operations"], response_model=None)
    async def ready() -> Response | dict[str, Any]:
        """Every backend answers and every worker runs; checks run at once, each bounded."""
        results = await asyncio.gather(*(probe(c, ready_timeout) for c in readiness.values()))
        failing = {name: error for name, error in zip(readiness, results, strict=True) if error}
        if failing:
            return problems.problem(503, "Not ready", headers={"Retry-After": "5"}, failing=failing)
        return {"status": "ready", "checks": sorted(readiness)}

    for router in routers:
        _publish_policies(router.routes, guards)
        # The routes themselves, not the router: FastAPI matches an included router's routes
        # twice per request (to pick the router, then inside it), and scans every router
        # before the one that answers. A router's prefix, tags and response class are already
        # in its routes; ours carry no lifespan or event handlers of their own.
        if router.on_startup or router.on_shutdown:
            raise ValueError("a service router has event handlers: include it instead")
        app.router.routes.extend(router.routes)
    return app


def _policies(dependant: Dependant) -> list[Policy | OperatorPolicy]:
    found = [d.call for d in dependant.dependencies if isinstance(d.call, Policy | OperatorPolicy)]
    for sub in dependant.dependencies:
        found += _policies(sub)
    return found


def _publish_policies(routes: Sequence[BaseRoute], guards: Guards) -> None:
    """Copy each endpoint's policy into the OpenAPI document, where a test can check it, and
    into the guards an idempotent retry passes before its stored answer is read."""
    for route in routes:
        # A router may include routers: FastAPI keeps those as one route that wraps them.
        included = getattr(route, "original_router", None)
        if isinstance(included, APIRouter):
            _publish_policies(included.routes, guards)
        elif isinstance(route, APIRoute):
            policies = _policies(route.dependant)
            guards.add(route, policies)
            if len(policies) == 1:
                extra = dict(route.openapi_extra or {})
                extra["x-medoffice-policy"] = policies[0].describe()
                route.openapi_extra = extra
