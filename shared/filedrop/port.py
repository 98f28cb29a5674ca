"""FileDrop port: named files handed to, and taken from, a party outside the suite (a
clearinghouse, an auditor's archive) through a shared place: a drop folder or an SFTP server.

Semantics every adapter keeps (tests/integration/test_filedrop.py holds both to them):
- `put` is atomic: the file is written under a temporary name (a leading dot, a `.part`
  suffix) and renamed once complete, so the far side never sees half a file, even if the
  writer dies in between. It is idempotent: the same name with the same bytes again is a no-op
  (a retry after a crash); the same name with other bytes raises `FileConflict`. An existing
  file is never overwritten.
- `incoming` lists only complete files: names with a leading dot or ending in `.part` are
  someone's upload in progress (the far side follows the same convention) and are not listed.
- `done` moves an incoming file aside (never listed, never read again); done twice is a no-op.
  A far side that sends a second, different file under a name already done gets it kept
  beside the first (`done_name`), never overwritten.
- Names are single path components: `check_name` refuses traversal (`..`), separators,
  absolute paths, NUL and control characters before anything touches the far side.
- A far side that cannot be reached now (connection refused, timeout, dropped connection)
  raises `FileDropUnavailable`, a `RetryLater`: the work is kept and tried again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

from shared.errors import RetryLater

TEMPORARY_SUFFIX = ".part"
MAX_NAME_BYTES = 255


class FileDropUnavailable(RetryLater):
    """The drop cannot be reached or answered in time; retry later."""


class FileConflict(Exception):
    """A file of that name is already there with other bytes: never overwritten."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} is already there with other bytes")
        self.name = name


class BadFileName(ValueError):
    """Not one plain file name (traversal, a separator, NUL, a hidden or temporary name)."""


class NoSuchFile(Exception):
    """No incoming file of that name (taken already, or never there)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no incoming file {name}")
        self.name = name


def check_name(name: str) -> str:
    """`name` if it is one plain file name; else BadFileName (nothing is touched)."""
    if not isinstance(name, str) or not name:
        raise BadFileName("a file name is required")
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise BadFileName("a file name is at most 255 bytes")
    if any(c in "/\\" or ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise BadFileName("a file name holds no separator, NUL or control character")
    if name.startswith("."):  # ".", "..", hidden files and uploads in progress
        raise BadFileName("a file name does not start with a dot")
    if name.endswith(TEMPORARY_SUFFIX):
        raise BadFileName(f"a file name does not end in {TEMPORARY_SUFFIX} (an upload)")
    if name != name.strip():
        raise BadFileName("a file name neither starts nor ends with white space")
    return name


def is_complete(name: str) -> bool:
    """Whether a name found on the far side is a complete file to list (not a temporary or
    hidden one, nothing a hostile writer could use to reach outside the folder)."""
    try:
        check_name(name)
    except BadFileName:
        return False
    return True


def temporary_name(name: str, token: str) -> str:
    """Where `name` is written before its rename: hidden, unique per attempt, never listed."""
    return f".{name}.{token}{TEMPORARY_SUFFIX}"


def done_name(name: str, data: bytes) -> str:
    """Where a done file goes when another file of its name was done before it."""
    return f"{name}~{hashlib.sha256(data).hexdigest()[:16]}"


class FileDrop(Protocol):
    """Adapters: a drop folder on this machine (`folder.py`) and an SFTP server (`sftp.py`).

    Outbound files go to the far side's outbound place; incoming ones are read from its
    inbound place and moved to a done place once handled."""

    async def put(self, name: str, data: bytes) -> None:
        """Hand `data` over as `name`, atomically; again with the same bytes: nothing happens;
        other bytes: FileConflict."""
        ...

    async def incoming(self) -> Sequence[str]:
        """The complete incoming files not yet done, by name, sorted."""
        ...

    async def read(self, name: str) -> bytes:
        """An incoming file's bytes; NoSuchFile if it is not (or no longer) there."""
        ...

    async def done(self, name: str) -> None:
        """Move an incoming file aside: never listed or read again. Done twice: nothing."""
        ...

    async def ping(self) -> None:
        """Raise FileDropUnavailable when the drop cannot be reached."""
        ...

    async def close(self) -> None:
        """Let go of connections (the next call opens them again)."""
        ...
