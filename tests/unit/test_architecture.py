"""Domain code stays pure: no I/O, no clock, no new ids, no awaiting, no frameworks."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
DOMAIN_FILES = sorted(ROOT.glob("services/*/domain/*.py"))
FORBIDDEN_MODULES = {
    "asyncio",
    "sqlite3",
    "pymongo",
    "aiokafka",
    "faststream",
    "fastapi",
    "starlette",
    "httpx",
    "uuid",
    "zoneinfo",
    "os",
    "time",
    "random",
    "socket",
    "structlog",
    "opentelemetry",
}
ALLOWED_SHARED = {"shared.domain", "shared.events", "shared.phi"}
FORBIDDEN_CALLS = {"now", "utcnow", "today", "uuid4", "uuid1", "time", "open"}


def imported_modules(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_there_is_domain_code_to_check() -> None:
    assert len(DOMAIN_FILES) >= 4


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_domain_modules_are_pure(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for module in imported_modules(tree):
        top = module.split(".")[0]
        assert top not in FORBIDDEN_MODULES, f"{path.name} imports {module}"
        if top == "shared":
            assert module in ALLOWED_SHARED, f"{path.name} imports {module}"
    for node in ast.walk(tree):
        assert not isinstance(node, ast.AsyncFunctionDef | ast.Await), f"{path.name} awaits"
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            assert name not in FORBIDDEN_CALLS, f"{path.name} calls {name}()"
