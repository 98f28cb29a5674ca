"""The one image: Dockerfile lint and shape, build context, pinned dependencies.

No Docker engine here: hadolint (a real Dockerfile linter, from its PyPI wheel) and a reading of
the Dockerfile's instructions stand in for a build.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.manifests import DEPLOY, ROOT

DOCKERFILE = ROOT / "Dockerfile"
HADOLINT = Path(sys.executable).parent / "hadolint"


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    # Any finding fails, down to "info"; no colours in the assertion message.
    return subprocess.run(
        [str(HADOLINT), "--no-color", "--failure-threshold", "info", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n(\s*#[^\n]*\n)*", " ", text)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def runtime_problems(text: str) -> list[str]:
    """What keeps the Dockerfile's final stage from being the runtime the deploys rely on."""
    steps = instructions(text)
    args = dict(a.split("=", 1) for i, a in steps if i == "ARG" and "=" in a)
    stages = [n for n, (i, _) in enumerate(steps) if i == "FROM"]
    if len(stages) < 2:
        return ["not multi-stage: the build tools must stay out of the runtime image"]
    final = steps[stages[-1] :]
    base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), "?"), final[0][1].split()[0])
    problems = []
    if not re.fullmatch(r"python:3\.11-slim(-\w+)?", base):
        problems.append(f"runtime base {base} is not python:3.11-slim")
    users = [a for i, a in final if i == "USER"]
    if not users or not re.fullmatch(r"[1-9]\d*(:[1-9]\d*)?", users[-1]):
        problems.append("the runtime does not end as a fixed non-root uid (USER <uid>:<gid>)")
    if not any(i == "COPY" and "--from=builder" in a for i, a in final):
        problems.append("the runtime does not take its venv from the builder")
    if any(re.search(r"\b(gcc|build-essential|apt-get install)\b", a) for _, a in final):
        problems.append("the runtime installs build tools or packages")
    if not any(i == "HEALTHCHECK" and "/health" in a for i, a in final):
        problems.append("no HEALTHCHECK on /health")
    if ("ENTRYPOINT", '["medoffice"]') not in final or ("CMD", '["serve"]') not in final:
        problems.append('not ENTRYPOINT ["medoffice"] with CMD ["serve"]')
    env = " ".join(a for i, a in final if i == "ENV")
    for setting in ("MEDOFFICE_HOST=0.0.0.0", "MEDOFFICE_PORT=8000"):
        if setting not in env:
            problems.append(f"the runtime does not set {setting}")
    return problems


def test_hadolint_passes_the_dockerfile() -> None:
    result = hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_refuses_a_careless_dockerfile(tmp_path: Path) -> None:
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python:latest\nRUN apt-get install -y gcc\nCMD medoffice serve\n")
    result = hadolint(careless)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # the unpinned base image


def test_the_runtime_stage_is_slim_non_root_and_health_checked() -> None:
    assert runtime_problems(DOCKERFILE.read_text()) == []


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (("USER 10001:10001", "USER root"), "non-root"),
        (("ARG PYTHON_IMAGE=python:3.11-slim", "ARG PYTHON_IMAGE=python:3.11"), "slim"),
        (('CMD ["serve"]', "CMD serve"), "ENTRYPOINT"),
        (("COPY --from=builder", "COPY"), "builder"),
        (("HEALTHCHECK", "# HEALTHCHECK"), "HEALTHCHECK"),
    ],
)
def test_the_runtime_check_refuses_a_broken_stage(change: tuple[str, str], complaint: str) -> None:
    text = DOCKERFILE.read_text()
    assert change[0] in text
    problems = runtime_problems(text.replace(change[0], change[1]))
    assert any(complaint in problem for problem in problems), problems


def test_the_build_context_holds_what_the_dockerfile_copies_and_no_secrets() -> None:
    allowed = {
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    assert "*" in (ROOT / ".dockerignore").read_text().splitlines()  # all else is left out
    sources = []
    for word, rest in instructions(DOCKERFILE.read_text()):
        if word == "COPY" and "--from=" not in rest:
            sources += rest.split()[:-1]
    assert sources
    for source in sources:
        assert source.rstrip("/") in allowed, f"{source} is not in the build context"
        assert (ROOT / source).exists(), source
    assert not any("secrets" in entry or entry.startswith("deploy") for entry in allowed)


def lock_check(lock: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(DEPLOY / "lock.py"), "--check", str(lock)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_lock_pins_every_runtime_dependency_at_a_version_they_accept() -> None:
    result = lock_check(ROOT / "requirements.lock")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (("pydantic==", "# pydantic=="), "pydantic is not pinned"),
        (("fastapi==", "fastapi==0.1.0\n# "), "does not satisfy"),
        (("pymongo==", "pytest==8.0.0\npymongo=="), "pytest is pinned but not needed"),
    ],
)
def test_the_lock_check_refuses_a_stale_lock(
    tmp_path: Path, change: tuple[str, str], complaint: str
) -> None:
    lock = tmp_path / "requirements.lock"
    text = (ROOT / "requirements.lock").read_text()
    assert change[0] in text
    lock.write_text(text.replace(change[0], change[1], 1))
    result = lock_check(lock)
    assert result.returncode == 1
    assert complaint in result.stderr


def test_the_image_healthcheck_and_entrypoint_are_exec_form_json() -> None:
    steps = dict(instructions(DOCKERFILE.read_text()))
    assert json.loads(steps["ENTRYPOINT"]) == ["medoffice"]
    health = steps["HEALTHCHECK"]
    assert json.loads(health[health.index("CMD") + 3 :].strip())[0] == "python"
