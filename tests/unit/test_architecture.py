"""Domain code stays pure: no I/O, no clock, no new ids, no awaiting, no frameworks. Services
meet on the bus only: one imports nothing of another but its `contracts` module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from services.suite import SERVICES

ROOT = Path(__file__).parents[2]
DOMAIN_FILES = sorted(ROOT.glob("services/*/domain/**/*.py"))  # x12/ and any sub-package too
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
# Pure modules of the core a domain may use (shared.pdf writes bytes in memory, no I/O).
ALLOWED_SHARED = {
    "shared.domain",
    "shared.events",
    "shared.identifiers",
    "shared.money",
    "shared.pdf",
    "shared.phi",
}
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


# ------------------------------------------------------------------- services meet on the bus
#
# A module of service X (`services/X/...`) may import its own modules and, of any other
# service Y, only `services.Y.contracts`. The modules directly under `services/` (`suite.py`,
# `cli.py`, `demo.py`, `__main__.py`) are not a service but the process that runs them: they
# may import each service's `app` (its `SPEC`, the one place that declares it) and
# `contracts`, and each other, and nothing else of a service. Imports are read statically from
# every module, wherever they stand (inside functions too), in every form: `import a.b`,
# `from a.b import c` (read as `a.b.c`: `c` may be a module), relative imports resolved.

WIRING_MAY_IMPORT = {"app", "contracts"}


def imports_of(tree: ast.Module, module: str, is_package: bool) -> set[str]:
    """Every name `module` imports, in full: `a.b` for `import a.b`, `a.b` for `from a import b`
    (`b` a module or a name in `a`: either way it reaches into `a`)."""
    names: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names |= {base if a.name == "*" else f"{base}.{a.name}" for a in node.names}
    return names


def boundary_violations(root: Path) -> list[str]:
    """`module imports name` for every import across a service boundary under `root/services`."""
    services_dir = root / "services"
    services = {p.parent.name for p in services_dir.glob("*/__init__.py")}
    wiring = {p.stem for p in services_dir.glob("*.py") if p.stem != "__init__"}
    found: list[str] = []
    for path in sorted(services_dir.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_package else parts)
        owner = parts[1] if len(parts) > 2 else None  # None: the process-level wiring
        for name in sorted(imports_of(ast.parse(path.read_text()), module, is_package)):
            target = name.split(".")
            if target[0] != "services" or len(target) < 2:
                continue
            if owner is not None:
                allowed = target[1] == owner or target[2:3] == ["contracts"]
            elif target[1] in services:
                allowed = len(target) > 2 and target[2] in WIRING_MAY_IMPORT
            else:
                allowed = target[1] in wiring
            if not allowed:
                found.append(f"{module} imports {name}")
    return found


def test_services_import_nothing_of_each_other_but_contracts() -> None:
    assert boundary_violations(ROOT) == [], (
        "a service may import of another only `services.<other>.contracts`; the process wiring "
        "(services/*.py) only each service's `app` and `contracts`: publish what is needed there"
    )


def test_every_service_publishes_a_contracts_module() -> None:
    services = sorted(p.parent.name for p in (ROOT / "services").glob("*/__init__.py"))
    assert services == ["billing", "compliance", "engagement", "finance", "scheduling", "staffing"]
    for name in services:
        assert (ROOT / "services" / name / "contracts.py").is_file(), name


def _plant(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_boundary_check_finds_every_form_of_a_planted_violation(tmp_path: Path) -> None:
    _plant(
        tmp_path,
        {
            "services/__init__.py": "",
            "services/suite.py": (
                "from services.alpha.app import create_service\n"
                "from services.beta import contracts\n"
                "from services import demo\n"
                "from services.alpha.domain.events import registry\n"
            ),
            "services/demo.py": "import services.beta.api\n",
            "services/alpha/__init__.py": "",
            "services/alpha/app.py": "from services.alpha.domain import events\n",
            "services/alpha/contracts.py": "from services.alpha.domain.events import Booked\n",
            "services/alpha/domain/__init__.py": "",
            "services/alpha/domain/events.py": "from services.beta.contracts import Paid\n",
            "services/beta/__init__.py": "",
            "services/beta/contracts.py": "",
            "services/beta/api.py": (
                "from services.alpha.contracts import Booked\n"
                "from services.alpha import contracts\n"
                "from services.alpha import domain\n"
                "def handler() -> None:\n"
                "    from services.alpha.domain.events import Booked\n"
            ),
            "services/beta/consumers.py": "import services.alpha.app as alpha\n",
            "services/beta/domain/__init__.py": "",
            "services/beta/domain/rules.py": (
                "from ..api import handler\nfrom ...alpha.app import create_service\n"
            ),
            "services/beta/reports.py": "from services.suite import build\n",
        },
    )
    assert boundary_violations(tmp_path) == [
        "services.beta.api imports services.alpha.domain",
        "services.beta.api imports services.alpha.domain.events.Booked",
        "services.beta.consumers imports services.alpha.app",
        "services.beta.domain.rules imports services.alpha.app.create_service",
        "services.beta.reports imports services.suite.build",
        "services.demo imports services.beta.api",
        "services.suite imports services.alpha.domain.events.registry",
    ]


# ------------------------------------------------------------------------- the same rooms
#
# Someone who knows one service knows all: each has exactly these rooms (docs/new-service.md).

ROOMS = {
    "__init__.py",
    "contracts.py",
    "domain",
    "application",
    "projections",
    "api",
    "consumers.py",
    "app.py",
}


# A service being built, not yet in `services/suite.py`, has the rooms built so far: its
# contract and its pure domain come first, its wiring next takes it off this list (none now).
BEING_BUILT: dict[str, set[str]] = {}


def rooms_of(package: Path) -> set[str]:
    return {p.name for p in package.iterdir() if p.name != "__pycache__"}


def test_every_service_has_the_same_rooms_and_nothing_else() -> None:
    for package in sorted(p.parent for p in (ROOT / "services").glob("*/__init__.py")):
        if package.name in BEING_BUILT:
            assert package.name not in SERVICES, f"{package.name} is wired: give it every room"
            assert rooms_of(package) == BEING_BUILT[package.name], package.name
            continue
        assert rooms_of(package) == ROOMS, package.name
        for room in ("domain", "application", "projections", "api"):
            assert (package / room / "__init__.py").is_file(), f"{package.name}/{room}"


def test_the_rooms_check_names_a_room_too_many(tmp_path: Path) -> None:
    _plant(tmp_path, {f"billing/{room}": "" for room in ROOMS if room.endswith(".py")})
    for room in ("domain", "application", "projections", "api"):
        _plant(tmp_path, {f"billing/{room}/__init__.py": ""})
    assert rooms_of(tmp_path / "billing") == ROOMS
    _plant(tmp_path, {"billing/claims_api.py": ""})
    assert rooms_of(tmp_path / "billing") - ROOMS == {"claims_api.py"}


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_no_two_projections_of_a_service_share_a_collection(service: str) -> None:
    """A collection's stored name is its own name and a generation, not its projection's: two
    projections naming one collection would write the same documents, and the second would skip
    each change the first marked seen (the availability read model once took the directory's
    `providers`, and Practitioner lost its name)."""
    owners: dict[str, str] = {}
    for make in SERVICES[service].projections:
        projection = make()
        for collection in projection.collections:
            assert collection not in owners, (collection, owners.get(collection), projection.name)
            owners[collection] = projection.name
