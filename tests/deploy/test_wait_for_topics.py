"""The init container that holds a service until Strimzi made its topics, on a real Kafka."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tests.deploy.manifests import K8S

pytestmark = pytest.mark.integration

SCRIPT = K8S / "base" / "wait-for-topics.py"
CreateTopic = Callable[[str], Coroutine[Any, Any, None]]


@pytest.fixture
async def create_topic(kafka_bootstrap: str) -> AsyncIterator[CreateTopic]:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    made: list[str] = []

    async def create(name: str) -> None:
        await admin.create_topics([NewTopic(name, 1, 1)])
        made.append(name)

    try:
        yield create
    finally:
        if made:
            await admin.delete_topics(made)
        await admin.close()


async def start(
    kafka_bootstrap: str, topics: list[str], timeout: float
) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDOFFICE_")} | {
        "MEDOFFICE_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "WAIT_FOR_TOPICS": ",".join(topics),
        "WAIT_FOR_TOPICS_TIMEOUT": str(timeout),
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-B",
        str(SCRIPT),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def finish(process: asyncio.subprocess.Process) -> tuple[int, str]:
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_it_gives_up_after_its_timeout_naming_the_missing_topic(
    kafka_bootstrap: str, unique: str, create_topic: CreateTopic
) -> None:
    await create_topic(f"{unique}.events")
    process = await start(kafka_bootstrap, [f"{unique}.events", f"{unique}.dlq"], timeout=1)
    code, out = await finish(process)
    assert code == 1, out
    assert f"waiting for {unique}.dlq (not created yet)" in out


async def test_it_returns_once_the_last_topic_is_created(
    kafka_bootstrap: str, unique: str, create_topic: CreateTopic
) -> None:
    await create_topic(f"{unique}.events")
    process = await start(kafka_bootstrap, [f"{unique}.events", f"{unique}.dlq"], timeout=60)
    assert process.stdout is not None
    # It is waiting (it says so) before the topic exists, and returns once it does.
    line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
    assert f"waiting for {unique}.dlq" in line.decode()
    await create_topic(f"{unique}.dlq")
    code, out = await finish(process)
    assert code == 0, out
    assert "all 2 topics exist" in out
