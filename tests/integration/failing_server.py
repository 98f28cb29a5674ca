"""The HTTP shell under a real uvicorn, with routes that fail: `python -m
tests.integration.failing_server <port> <data dir>`. Logs as `medoffice serve` does (JSON on
stderr); uvicorn's own lines below warning are left out, so stderr holds what the requests
caused."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import uvicorn
from fastapi import APIRouter

from shared.documents.sqlite import SqliteDocumentStore
from shared.http.app import create_http_app
from shared.observability import configure
from shared.settings import Settings
from shared.sqlite import SqliteDatabase

# Stands for a patient's data in an exception's message: it must not reach the log.
SECRET = "Jane Roe born 1970-01-01"


def failing_router() -> APIRouter:
    router = APIRouter(prefix="/failing")

    @router.get("/read")
    async def read() -> dict[str, str]:
        raise RuntimeError(f"cannot read {SECRET}")

    @router.post("/write")
    async def write() -> dict[str, str]:
        try:
            raise KeyError(SECRET)
        except KeyError as exc:
            raise ValueError(f"cannot write {SECRET}") from exc

    return router


async def serve(port: int, data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir, seed_demo=False, env="test")
    configure(settings.log_level, settings.log_json)
    store = SqliteDocumentStore(SqliteDatabase(data_dir / "gateway.db", "full"))
    app = create_http_app(settings, [failing_router()], idempotency=store, readiness={})
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, log_level="warning"
    )
    try:
        await uvicorn.Server(config).serve()
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), Path(sys.argv[2])))
