"""The Noticeboard on a file: one JSON line per record, `{"key": ..., "value": ...}`, appended
and fsynced (a file that can live on another volume, shipped or mirrored elsewhere)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Sequence
from pathlib import Path


class FileNoticeboard:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = asyncio.Lock()

    async def publish(self, records: Sequence[tuple[str, bytes]]) -> None:
        if not records:
            return
        lines = b"".join(
            json.dumps({"key": key, "value": value.decode()}, sort_keys=True).encode() + b"\n"
            for key, value in records
        )
        async with self._lock:
            await asyncio.to_thread(self._append, lines)

    def _append(self, lines: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as file:
            file.write(lines)
            file.flush()
            os.fsync(file.fileno())

    async def read(self, key: str) -> list[bytes]:
        return await asyncio.to_thread(self._read, key)

    def _read(self, key: str) -> list[bytes]:
        try:
            content = self.path.read_bytes()
        except FileNotFoundError:
            return []
        found: list[bytes] = []
        for line in content.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a torn or foreign line: what reads it judges the rest
            if isinstance(record, dict) and record.get("key") == key:
                value = record.get("value")
                if isinstance(value, str):
                    found.append(value.encode())
        return found

    async def close(self) -> None:
        return None
