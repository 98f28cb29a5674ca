"""Service routes sit on the app itself: FastAPI matches the routes of an included router twice
per request and scans every router before the one that answers (issue 10's per-request floor)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute

from shared.documents.sqlite import SqliteDocumentStore
from shared.http.app import create_http_app
from shared.settings import Settings
from shared.sqlite import SqliteDatabase


def _router(prefix: str) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=[prefix.strip("/")])

    @router.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"prefix": prefix, "thing_id": thing_id}

    return router


async def test_every_service_route_is_matched_on_the_app_and_answers(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, seed_demo=False, env="test")
    store = SqliteDocumentStore(SqliteDatabase(tmp_path / "gateway.db", "full"))
    try:
        app = create_http_app(settings, [_router("/a"), _router("/b")], store, readiness={})
        paths = [r.path for r in app.routes if isinstance(r, APIRoute)]
        assert {"/a/things/{thing_id}", "/b/things/{thing_id}"} <= set(paths)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            answer = await client.get("/b/things/x1")
            assert answer.json() == {"prefix": "/b", "thing_id": "x1"}
            assert "x-correlation-id" in answer.headers
            assert (await client.get("/c/things/x1")).status_code == 404
        tags = {op["get"]["tags"][0] for op in app.openapi()["paths"].values() if "get" in op}
        assert {"a", "b"} <= tags
    finally:
        await store.close()


def test_a_router_with_event_handlers_is_refused(tmp_path: Path) -> None:
    router = _router("/a")
    router.add_event_handler("startup", lambda: None)
    settings = Settings(data_dir=tmp_path, seed_demo=False, env="test")
    store = SqliteDocumentStore(SqliteDatabase(tmp_path / "gateway.db", "full"))
    with pytest.raises(ValueError, match="event handlers"):
        create_http_app(settings, [router], store, readiness={})
