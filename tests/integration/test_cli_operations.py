"""`medoffice lag` and `medoffice projections ...` against a real server on a loopback port, on
both backends: their JSON parsed, their exit codes as scripts rely on them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from services.cli import cli
from shared.settings import Settings
from tests.integration.servers import Server, free_port, served
from tests.support import wait_until

runner = CliRunner()
DIRECTORY = "scheduling.directory"


@pytest.fixture
async def server(settings: Settings, tmp_path: Path) -> AsyncIterator[Server]:
    async with served(settings, tmp_path) as running:
        yield running


def medoffice(server: Server, *args: str, token: str | None = None) -> Result:
    operator = token or server.operator["authorization"].removeprefix("Bearer ")
    url = str(server.client.base_url)
    return runner.invoke(cli, [*args, "--url", url, "--token", operator])


def parsed(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


async def test_lag_and_the_projections_list(server: Server) -> None:
    site = {"site_id": "north", "name": "North", "time_zone": "UTC"}
    assert (await server.client.post("/scheduling/sites", json=site)).status_code == 201

    def caught_up() -> bool:
        lags = parsed(medoffice(server, "lag", "--json"))
        return all(x["lag"] == 0 for x in [*lags["projections"], *lags["consumers"]])

    async def settled() -> bool:
        return caught_up()

    await wait_until(settled, timeout=30, interval=0.2, message="no lag")
    lags = parsed(medoffice(server, "lag", "--json"))
    assert DIRECTORY in {p["name"] for p in lags["projections"]}
    assert {c["service"] for c in lags["consumers"]} >= {"compliance"}

    table = medoffice(server, "lag")
    assert table.exit_code == 0, table.output
    assert DIRECTORY in table.stdout
    assert "0 events behind in all" in table.stdout

    listed = parsed(medoffice(server, "projections", "list", "--json"))
    [directory] = [p for p in listed if p["name"] == DIRECTORY]
    assert (directory["generation"], directory["running"]) == (1, True)
    assert DIRECTORY in medoffice(server, "projections", "list").stdout


async def test_a_rebuild_is_followed_to_the_switch(server: Server) -> None:
    switched = parsed(medoffice(server, "projections", "rebuild", DIRECTORY, "--json"))
    assert (switched["status"], switched["generation"]) == ("switched", 2)
    assert switched["started_by"] == "ops"
    assert switched["events_done"] == switched["events_total"]

    shown = medoffice(server, "projections", "rebuild", DIRECTORY)
    assert shown.exit_code == 0, shown.output
    assert f"of {DIRECTORY} (generation 3): switched" in shown.stdout

    started = parsed(medoffice(server, "projections", "rebuild", DIRECTORY, "--no-wait", "--json"))
    assert (started["status"], started["generation"]) == ("running", 4)

    async def ended() -> bool:
        got = await server.client.get(f"/ops/rebuilds/{started['id']}", headers=server.operator)
        return bool(got.json()["status"] == "switched")

    await wait_until(ended, timeout=60, message="the rebuild to switch")
    # Nothing left to cancel: refused, with the reason.
    late = medoffice(server, "projections", "cancel", started["id"])
    assert late.exit_code == 2
    assert "is switched: nothing to cancel" in late.output


async def test_exit_codes_scripts_rely_on(server: Server) -> None:
    unknown = medoffice(server, "projections", "rebuild", "nothing")
    assert unknown.exit_code == 2
    assert "No projection 'nothing'" in unknown.output
    assert "Traceback" not in unknown.output

    refused = medoffice(server, "lag", token="not-a-token")
    assert refused.exit_code == 2
    assert "401" in refused.output

    nobody = runner.invoke(
        cli, ["projections", "list", "--url", f"http://127.0.0.1:{free_port()}", "--token", "x"]
    )
    assert nobody.exit_code == 3
    assert "cannot reach" in nobody.output
