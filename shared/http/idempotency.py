"""`Idempotency-Key` on POST: a retried request gets the first response and changes nothing.

The first request with a key claims it (an insert that only one can win), runs, and stores its
response. A retry with the same key and body replays that response; the same key with another
body is refused (422); a retry while the first is still running gets 409.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import HTTPException, Request, Response
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from shared.documents.port import DocumentConflict, DocumentStore, Write, put
from shared.errors import RetryLater
from shared.http.identity import Operator, read_identity
from shared.http.problems import problem, unavailable

COLLECTION = "_idempotency"
OPERATORS = "_idempotency_operators"  # operators' keys: apart from every tenant's
HEADER = "idempotency-key"


class IdempotencyMiddleware(BaseHTTPMiddleware):
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
        store: DocumentStore = request.app.state.idempotency
        body = await request.body()
        fingerprint = hashlib.sha256(request.url.path.encode() + b"\n" + body).hexdigest()
        digest = hashlib.sha256(key.encode()).hexdigest()
        if isinstance(caller, Operator):
            collection, doc_id = OPERATORS, f"{caller.sub}:{digest}"
        else:
            collection, doc_id = COLLECTION, f"{caller.tenant}:{digest}"
        claim = {"state": "running", "fingerprint": fingerprint}
        if await store.write(collection, [Write(doc_id=doc_id, doc=claim, expected_rev=0)]):
            return await _replay(store, collection, doc_id, fingerprint)

        try:
            response = await call_next(request)
        except Exception:
            await store.write(collection, [Write(doc_id=doc_id, doc=None)])
            raise
        if response.status_code >= 500:
            # Not a result: release the key so the client's retry really runs.
            await store.write(collection, [Write(doc_id=doc_id, doc=None)])
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
            await put(store, collection, doc_id, done, expected_rev=1)
        except DocumentConflict:
            pass
        return Response(content, status_code=response.status_code, headers=dict(response.headers))


async def _replay(store: DocumentStore, collection: str, doc_id: str, fingerprint: str) -> Response:
    first = await store.get(collection, doc_id)
    if first is None:
        return problem(409, "Conflict", "a request with this Idempotency-Key just failed; retry")
    if first["fingerprint"] != fingerprint:
        return problem(422, "Idempotency-Key reused", "this key was used for a different request")
    if first["state"] != "done":
        return problem(
            409,
            "Conflict",
            "a request with this Idempotency-Key is still being processed",
            headers={"Retry-After": "1"},
        )
    headers = {"idempotent-replayed": "true"}
    return Response(
        first["body"],
        status_code=int(first["status"]),
        media_type=first["media_type"],
        headers=headers,
    )
