"""Init container of every medoffice pod: wait until the Kafka topics of topics.yaml exist.

A service creates a topic it misses itself, with one replica. In a cluster the topics must be
those Strimzi's topic operator makes from topics.yaml (three replicas in prod), so a service
starts only once they are all there. Runs on the service's own image (its Python and aiokafka).

Environment: MEDOFFICE_KAFKA_BOOTSTRAP; WAIT_FOR_TOPICS, the topic names, comma-separated;
WAIT_FOR_TOPICS_TIMEOUT, seconds before giving up with exit status 1 (default: never).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

from aiokafka.admin import AIOKafkaAdminClient


async def missing(bootstrap: str, wanted: set[str]) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        await admin.start()
        return wanted - set(await admin.list_topics())
    finally:
        await admin.close()


async def main() -> int:
    bootstrap = os.environ["MEDOFFICE_KAFKA_BOOTSTRAP"]
    wanted = {t.strip() for t in os.environ["WAIT_FOR_TOPICS"].split(",") if t.strip()}
    timeout = float(os.environ.get("WAIT_FOR_TOPICS_TIMEOUT", "inf"))
    deadline = time.monotonic() + timeout
    while True:
        try:
            absent = await missing(bootstrap, wanted)
        except Exception as exc:  # noqa: BLE001 - Kafka not there yet: try again
            absent, reason = wanted, f"{type(exc).__name__}: {exc}"
        else:
            reason = "not created yet"
        if not absent:
            print(f"wait-for-topics: all {len(wanted)} topics exist", flush=True)
            return 0
        print(f"wait-for-topics: waiting for {', '.join(sorted(absent))} ({reason})", flush=True)
        if time.monotonic() >= deadline:
            return 1
        await asyncio.sleep(min(5.0, max(0.0, deadline - time.monotonic())))


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
