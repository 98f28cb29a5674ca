"""The drop-folder adapter (embedded): `<root>/outbound` for files handed over,
`<root>/inbound` for files coming back, `<root>/done` for those handled.

A put writes a hidden temporary file, fsyncs it, and links it under its name (a link, unlike
a rename, never replaces an existing file: two writers of one name cannot overwrite each
other), then fsyncs the folder. The folders are made on first write, not when the adapter is
built: a process that never sends anything leaves no trace on disk. Symbolic links and other
non-regular files in the folders are neither listed nor read.
"""

from __future__ import annotations

import asyncio
import errno
import os
import secrets
import stat
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import ParamSpec, TypeVar

from shared.filedrop.port import (
    FileConflict,
    FileDropUnavailable,
    NoSuchFile,
    check_name,
    done_name,
    is_complete,
    temporary_name,
)

P = ParamSpec("P")
T = TypeVar("T")


class FolderDrop:
    """A FileDrop on a folder of this machine (or a mounted share a far side also sees)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.outbound = root / "outbound"
        self.inbound = root / "inbound"
        self.done_folder = root / "done"

    async def put(self, name: str, data: bytes) -> None:
        check_name(name)
        await self._blocking("put", self._put, name, data)

    async def incoming(self) -> Sequence[str]:
        return await self._blocking("list", self._incoming)

    async def read(self, name: str) -> bytes:
        check_name(name)
        data = await self._blocking("read", _read_regular, self.inbound / name)
        if data is None:
            raise NoSuchFile(name)
        return data

    async def done(self, name: str) -> None:
        check_name(name)
        await self._blocking("done", self._done, name)

    async def ping(self) -> None:
        await self._blocking("ping", self._ping)

    async def close(self) -> None:
        return None

    def _put(self, name: str, data: bytes) -> None:
        self.outbound.mkdir(parents=True, exist_ok=True)
        final = self.outbound / name
        existing = _read_regular(final)
        if existing is not None:
            _same_or_conflict(name, existing, data)
            return
        temp = self.outbound / temporary_name(name, secrets.token_hex(8))
        try:
            _write_synced(temp, data)
            self._publish(temp, final)
        except FileExistsError:
            _same_or_conflict(name, _read_regular(final), data)
        finally:
            temp.unlink(missing_ok=True)
        _sync_folder(self.outbound)

    def _publish(self, temp: Path, final: Path) -> None:
        """The step that makes a written file visible under its name (tests fail it)."""
        os.link(temp, final)

    def _incoming(self) -> list[str]:
        try:
            entries = list(os.scandir(self.inbound))
        except FileNotFoundError:
            return []
        return sorted(
            entry.name
            for entry in entries
            if is_complete(entry.name) and entry.is_file(follow_symlinks=False)
        )

    def _done(self, name: str) -> None:
        source = self.inbound / name
        data = _read_regular(source)
        if data is None:
            return  # done already (or never there): nothing to move
        self.done_folder.mkdir(parents=True, exist_ok=True)
        for target in (self.done_folder / name, self.done_folder / done_name(name, data)):
            try:
                os.link(source, target)
                break
            except FileExistsError:
                if _read_regular(target) == data:
                    break
        source.unlink()
        _sync_folder(self.done_folder)
        _sync_folder(self.inbound)

    def _ping(self) -> None:
        for folder in (self.outbound, self.inbound, self.done_folder):
            folder.mkdir(parents=True, exist_ok=True)
            if not os.access(folder, os.W_OK | os.X_OK):
                raise PermissionError(f"{folder} is not writable")

    async def _blocking(
        self, what: str, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """`work` on a thread; a folder that cannot be written (full, gone, not ours) is a
        passing condition for the caller: FileDropUnavailable, naming the folder."""
        try:
            return await asyncio.to_thread(work, *args, **kwargs)
        except OSError as exc:
            raise FileDropUnavailable(
                f"drop folder {self.root}: {what} failed: {exc.strerror or exc}"
            ) from exc


def _same_or_conflict(name: str, existing: bytes | None, data: bytes) -> None:
    if existing != data:
        raise FileConflict(name)


def _read_regular(path: Path) -> bytes | None:
    """A regular file's bytes, never through a symbolic link; None if there is none."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None  # a symbolic link: not a file of ours
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _write_synced(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o640)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_folder(folder: Path) -> None:
    """A rename or link is durable once its folder is synced."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
