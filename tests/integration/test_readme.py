"""Every example in the README works on a fresh start: run them as a new user would.

The README's shell blocks that send requests are run in order, as one bash script (so the
token and the booking's id carry from one block to the next), against a real `medoffice serve`
on a fresh data directory, seeded with the demo, on a free loopback port (`MEDOFFICE_PORT`).
`curl` is wrapped to report each request's status on stderr; every one must be 2xx.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.servers import ROOT, Server
from tests.support import suite_settings

# Reports each request's status on stderr; the README's output stays as it is.
WRAPPER = """set -euo pipefail
curl() { command curl -w '%{stderr}STATUS %{http_code} %{method} %{url_effective}\\n' "$@"; }
"""


def examples(readme: str) -> list[str]:
    """The README's shell blocks that send requests, in order."""
    blocks = re.findall(r"```sh\n(.*?)```", readme, flags=re.DOTALL)
    return [b for b in blocks if "curl " in b]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    server = Server(suite_settings(tmp_path / "data"), tmp_path)
    server.start(MEDOFFICE_SEED_DEMO="true")
    yield server
    await server.close()


async def test_every_readme_example_answers_2xx_on_a_fresh_start(
    server: Server, tmp_path: Path
) -> None:
    assert shutil.which("curl"), "the README's examples need curl"
    assert shutil.which("jq"), "the README's examples need jq"
    blocks = examples((ROOT / "README.md").read_text())
    assert len(blocks) == 6
    script = WRAPPER + "\n".join(blocks)
    requests = sum(line.count("curl -s") for line in script.splitlines())
    await server.ready(timeout=120)  # the server listens once the demo is seeded
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDOFFICE_")} | {
        "MEDOFFICE_PORT": str(server.port)
    }
    bash = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        script,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(bash.communicate(), timeout=120)
    report = f"stdout:\n{out.decode()[-3000:]}\nstderr:\n{err.decode()[-3000:]}"
    assert bash.returncode == 0, report
    statuses = [line.split() for line in err.decode().splitlines() if line.startswith("STATUS ")]
    assert len(statuses) == requests, report
    assert [s for s in statuses if not s[1].startswith("2")] == [], report
    assert any(
        s[2:] == ["POST", f"{server.client.base_url}/scheduling/appointments"] for s in statuses
    )
