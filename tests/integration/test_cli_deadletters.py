"""`medoffice dlq` against a real server process: list, show, discard, replay, and the exit
codes scripts rely on."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from services.cli import cli
from services.operator_client import EXIT_REFUSED, EXIT_UNREACHABLE
from shared.backends import open_backends
from shared.cloudevents import Message
from shared.settings import Settings
from tests.integration.servers import Server, free_port, served
from tests.support import wait_until


@pytest.fixture
async def server(settings: Settings, tmp_path: Path) -> AsyncIterator[Server]:
    async with served(settings, tmp_path) as running:
        yield running


def dlq(server: Server, *args: str) -> Result:
    token = server.operator["authorization"].removeprefix("Bearer ")
    url = f"http://127.0.0.1:{server.port}"
    return CliRunner().invoke(cli, ["dlq", *args, "--url", url, "--token", token])


async def publish_junk(settings: Settings) -> None:
    """A record no consumer can read, on scheduling's events topic (the server's bus)."""
    backends = await open_backends(settings)
    try:
        junk = Message(topic=settings.topic("scheduling"), key="junk-cli", headers={}, value=b"?")
        await backends.bus.publish([junk])
    finally:
        await backends.close()


async def test_the_dlq_commands_against_a_running_suite(server: Server, settings: Settings) -> None:
    await publish_junk(settings)

    async def listed() -> list[dict[str, Any]]:
        result = dlq(server, "list", "--context", "scheduling", "--json")
        assert result.exit_code == 0, result.output
        found: list[dict[str, Any]] = json.loads(result.stdout)
        return [x for x in found if x["stream"] == "junk-cli"]

    dead = await wait_until(listed, timeout=60, message="the junk's dead letters")
    first, *rest = [x["id"] for x in dead]

    shown = dlq(server, "show", first)
    assert shown.exit_code == 0, shown.output
    assert "MalformedMessage" in shown.stdout
    assert "state: dead" in shown.stdout

    discarded = dlq(server, "discard", first, "--reason", "junk from a test")
    assert discarded.exit_code == 0, discarded.output
    assert dlq(server, "discard", first, "--reason", "again").exit_code == EXIT_REFUSED
    history = json.loads(dlq(server, "show", first, "--json").stdout)["history"]
    assert [(h["type"], h["reason"], h["operator"]) for h in history] == [
        ("DeadLetterDiscarded", "junk from a test", "ops")
    ]

    replayed = dlq(server, "replay", "--all", "--context", "scheduling", "--json")
    assert replayed.exit_code == 0, replayed.output
    assert sorted(json.loads(replayed.stdout)["replayed"]) == sorted(rest)
    if rest:
        one = dlq(server, "replay", rest[0])
        assert one.exit_code == 0, one.output

    assert dlq(server, "replay").exit_code == EXIT_REFUSED
    assert dlq(server, "replay", "--all").exit_code == EXIT_REFUSED
    assert dlq(server, "show", "scheduling.0.999999").exit_code == EXIT_REFUSED
    assert dlq(server, "list", "--context", "nowhere").exit_code == EXIT_REFUSED


def test_an_unreachable_suite_exits_with_3() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(cli, ["dlq", "list", "--url", url, "--token", "t"])
    assert result.exit_code == EXIT_UNREACHABLE
