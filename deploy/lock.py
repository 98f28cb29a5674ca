"""Writes or checks requirements.lock: the exact versions the image installs.

The lock names every distribution `medoffice` needs at run time (its dependencies, without the
test or bench extras, and theirs, recursively), at the version installed in this venv, the one
the tests ran with. The Dockerfile installs the project with the lock as pip's constraints file.

    .venv/bin/python deploy/lock.py          # rewrite requirements.lock from this venv
    .venv/bin/python deploy/lock.py --check [LOCK]  # exit 1 if it misses or mis-pins something
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
HEADER = (
    "# Exact versions of medoffice's run-time dependencies, for the image (Dockerfile).\n"
    "# Written by `.venv/bin/python deploy/lock.py` from the venv the tests ran in; do not edit.\n"
)


def _wanted(requirement: Requirement, extras: frozenset[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({"extra": extra}) for extra in extras or {""})


def runtime_closure(root: str = "medoffice") -> dict[str, tuple[str, list[Requirement]]]:
    """Installed run-time dependencies of `root`: canonical name -> (version, who asked how)."""
    found: dict[str, tuple[str, list[Requirement]]] = {}
    visited: set[tuple[str, frozenset[str]]] = set()
    todo = [Requirement(text) for text in distribution(root).requires or []]
    todo = [requirement for requirement in todo if _wanted(requirement, frozenset())]
    while todo:
        requirement = todo.pop()
        name, extras = canonicalize_name(requirement.name), frozenset(requirement.extras)
        try:
            dist = distribution(requirement.name)
        except PackageNotFoundError:
            sys.exit(f"lock: {requirement.name} is required but not installed; run `make venv`")
        found.setdefault(name, (dist.version, []))[1].append(requirement)
        if (name, extras) in visited:
            continue
        visited.add((name, extras))
        # An extra (faststream[kafka]) brings requirements of its own.
        children = [Requirement(text) for text in dist.requires or []]
        todo += [child for child in children if _wanted(child, extras)]
    return found


def render(closure: dict[str, tuple[str, list[Requirement]]]) -> str:
    return HEADER + "".join(f"{name}=={closure[name][0]}\n" for name in sorted(closure))


def read_lock(text: str) -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = Version(version)
    return pins


def problems(closure: dict[str, tuple[str, list[Requirement]]], lock_text: str) -> list[str]:
    """What keeps the lock from installing exactly the closure's distributions."""
    pins = read_lock(lock_text)
    found = [f"{name} is not pinned" for name in sorted(set(closure) - set(pins))]
    found += [f"{name} is pinned but not needed" for name in sorted(set(pins) - set(closure))]
    for name in sorted(set(closure) & set(pins)):
        for requirement in closure[name][1]:
            if not requirement.specifier.contains(pins[name], prereleases=True):
                found.append(f"{name}=={pins[name]} does not satisfy {requirement}")
    return found


def main(argv: list[str]) -> int:
    closure = runtime_closure()
    if argv[1:2] == ["--check"] and len(argv) <= 3:
        lock = Path(argv[2]) if len(argv) == 3 else LOCK
        found = problems(closure, lock.read_text() if lock.exists() else "")
        for problem in found:
            print(f"{lock.name}: {problem}", file=sys.stderr)
        if found:
            print("regenerate it: .venv/bin/python deploy/lock.py", file=sys.stderr)
        return 1 if found else 0
    if argv[1:]:
        print(__doc__, file=sys.stderr)
        return 2
    LOCK.write_text(render(closure))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
