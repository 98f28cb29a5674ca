"""`Idempotency-Key` on POST: a retried request gets the first response and changes nothing.

A key belongs to its caller: (tenant, subject), or an operator's subject. The first request
with a key claims it (an insert that only one can win, recording when, from the app's clock),
runs, and stores its response. A retry first passes the endpoint's access policy, then:
- the same body, answered: the stored response, if the caller's roles and sites still cover
  those the answer was given under (else 403: ask again with a new key);
- another body: 422;
- still running: 409 with Retry-After, while the claim is younger than the lease
  (`idempotency_lease_seconds`); an older claim was left by a crash, and the retry takes it
  over (a conditional write, so one retry wins) and runs the request again.
Running again is safe because the new ids a keyed request makes are derived from the key
(`shared.clock.repeatable_ids`): the run again books the same appointment id, which the
decider finds already booked with the same details and answers without a change.
Answers of 401, 403 and 5xx are not results: the claim is released, and a retry runs for real.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import structlog
from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.clock import Clock, repeatable_ids
from shared.documents.port import DocumentStore, Write
from shared.errors import RetryLater
from shared.http.identity import Identity, Operator, OperatorPolicy, Policy, read_identity
from shared.http.problems import problem, unavailable

COLLECTION = "_idempotency"
OPERATORS = "_idempotency_operators"  # operators' keys: apart from every tenant's
HEADER = "idempotency-key"
NOT_RESULTS = frozenset({401, 403})  # and every 5xx

log = structlog.get_logger(__name__)


class Guards:
    """Each endpoint's access policies, found by method and path before the app routes the
    request: a retry must pass them before anything stored is read."""

    def __init__(self) -> None:
        self._routes: list[tuple[APIRoute, tuple[Policy | OperatorPolicy, ...]]] = []

    def add(self, route: APIRoute, policies: Sequence[Policy | OperatorPolicy]) -> None:
        self._routes.append((route, tuple(policies)))

    def policies(self, scope: Scope) -> tuple[Policy | OperatorPolicy, ...] | None:
        """The policies of the endpoint this request goes to; None for no endpoint."""
        for route, policies in self._routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return policies
        return None

    async def check(self, request: Request) -> Response | None:
        """The 401 or 403 the endpoint would answer this caller, or None when admitted."""
        try:
            for policy in self.policies(request.scope) or ():
                await policy(request)
        except HTTPException as exc:
            headers = dict(exc.headers) if exc.headers else None
            return problem(exc.status_code, str(exc.detail), headers=headers)
        return None


def _access(caller: Identity) -> dict[str, Any]:
    """What the caller may see and do: a stored answer is replayed only within it."""
    if isinstance(caller, Operator):
        return {"roles": sorted(caller.roles), "sites": "*"}
    sites = caller.sites if caller.sites == "*" else sorted(caller.sites)
    return {"roles": sorted(caller.roles), "sites": sites}


def _covers(now: dict[str, Any], then: dict[str, Any]) -> bool:
    if not set(then["roles"]) <= set(now["roles"]):
        return False
    return now["sites"] == "*" or (then["sites"] != "*" and set(then["sites"]) <= set(now["sites"]))


class IdempotencyMiddleware:
    """Pure ASGI in front of the keyed path: a request that is not a POST with an
    Idempotency-Key goes straight to the app. Only keyed POSTs pay for BaseHTTPMiddleware
    (a task and a stream per request), which buffers the answer to store it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.keyed = _KeyedRequests(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and _has_key(scope):
            await self.keyed(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _has_key(scope: Scope) -> bool:
    name = HEADER.encode()
    return any(key.lower() == name for key, _ in scope["headers"])


class _KeyedRequests(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        # Middleware sits outside the app's exception handlers: answer "backend down" here.
        try:
            return await self._dispatch(request, call_next)
        except RetryLater as exc:
            return unavailable(exc)

    async def _dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None:
            return await call_next(request)
        if not 1 <= len(key) <= 200:
            return problem(400, "Bad Idempotency-Key", "the key must have 1 to 200 characters")
        try:
            caller = await read_identity(request)
        except HTTPException:
            return await call_next(request)  # the endpoint answers 401 itself
        state = request.app.state
        store: DocumentStore = state.idempotency
        clock: Clock = state.clock
        guards: Guards = state.guards
        lease: float = state.settings.idempotency_lease_seconds
        body = await request.body()
        fingerprint = hashlib.sha256(request.url.path.encode() + b"\n" + body).hexdigest()
        mine = hashlib.sha256(json.dumps([caller.sub, key]).encode()).hexdigest()
        if isinstance(caller, Operator):
            collection, doc_id = OPERATORS, mine
        else:
            collection, doc_id = COLLECTION, f"{caller.tenant}:{mine}"
        place = _Place(store, collection, doc_id, fingerprint)

        for _ in range(3):
            now = clock.now()
            claim = {
                "state": "running",
                "fingerprint": fingerprint,
                "claimed_at": now.isoformat(),
                "access": _access(caller),
            }
            if not await store.write(collection, [Write(doc_id, claim, expected_rev=0)]):
                return await place.run(request, call_next, claim, rev=1)
            denied = await guards.check(request)
            if denied is not None:
                return denied
            first = await store.get(collection, doc_id)
            if first is None:
                continue  # the first run failed and let go meanwhile: claim it again
            if first["fingerprint"] != fingerprint:
                return problem(
                    422, "Idempotency-Key reused", "this key was used for a different request"
                )
            if first["state"] == "done":
                return _replay(first, caller)
            held = _held(first, now)
            if held < lease:
                return _running(lease - held)
            # Claimed longer ago than any request runs: its process died. Take it over.
            rev = int(first["_rev"])
            if await store.write(collection, [Write(doc_id, claim, expected_rev=rev)]):
                return _running(1)  # another retry took it over first
            log.warning("idempotency_claim_taken_over", held_seconds=round(held, 1))
            return await place.run(request, call_next, claim, rev=rev + 1)
        return problem(
            409,
            "Conflict",
            "a request with this Idempotency-Key just failed; retry",
            headers={"Retry-After": "1"},
        )


class _Place:
    """Where one caller's key is kept, and the run that answers for it."""

    def __init__(self, store: DocumentStore, collection: str, doc_id: str, fp: str) -> None:
        self.store, self.collection, self.doc_id, self.fingerprint = store, collection, doc_id, fp

    async def run(
        self,
        request: Request,
        call_next: RequestResponseEndpoint,
        claim: dict[str, Any],
        rev: int,
    ) -> Response:
        with repeatable_ids(self.collection, self.doc_id, self.fingerprint):
            try:
                response = await call_next(request)
            except Exception:
                await self._release(rev)
                raise
        if response.status_code >= 500 or response.status_code in NOT_RESULTS:
            # Not a result: release the key so the client's retry really runs.
            await self._release(rev)
            return response
        chunks = [chunk async for chunk in response.body_iterator]  # type: ignore[attr-defined]
        content = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
        done: dict[str, Any] = {
            **claim,
            "state": "done",
            "status": response.status_code,
            "media_type": response.headers.get("content-type"),
            "body": content.decode(),
        }
        try:
            failed = await self.store.write(self.collection, [Write(self.doc_id, done, rev)])
        except Exception as exc:  # noqa: BLE001 - the work is done: the client gets its answer
            # The claim stays "running"; a retry after the lease runs again, to the same ids.
            log.warning("idempotency_answer_not_stored", error_type=type(exc).__name__)
        else:
            if failed:  # a retry took the claim over meanwhile; its run stores the answer
                log.warning("idempotency_answer_not_stored", error_type="taken_over")
        return Response(content, status_code=response.status_code, headers=dict(response.headers))

    async def _release(self, rev: int) -> None:
        await self.store.write(self.collection, [Write(self.doc_id, None, expected_rev=rev)])


def _held(claim: dict[str, Any], now: datetime) -> float:
    """Seconds since the claim was taken; a claim of before leases counts as abandoned."""
    taken = claim.get("claimed_at")
    if not isinstance(taken, str):
        return math.inf
    return (now - datetime.fromisoformat(taken)).total_seconds()


def _running(seconds_left: float) -> Response:
    wait = max(1, min(5, math.ceil(seconds_left)))
    return problem(
        409,
        "Conflict",
        "a request with this Idempotency-Key is still being processed",
        headers={"Retry-After": str(wait)},
    )


def _replay(first: dict[str, Any], caller: Identity) -> Response:
    then = first.get("access")
    if not isinstance(then, dict) or not _covers(_access(caller), then):
        return problem(
            403,
            "Your access changed",
            "this key was answered under roles or sites you no longer hold; "
            "send the request with a new key",
        )
    return Response(
        first["body"],
        status_code=int(first["status"]),
        media_type=first["media_type"],
        headers={"idempotent-replayed": "true"},
    )
