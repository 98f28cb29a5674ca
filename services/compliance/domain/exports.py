"""Signed audit exports: a tenant's audit events of a period and the ledger blocks that chain
them, in a package anyone can check offline with the service's public key. Pure.

A package is a zip of four files:
- `events.jsonl`: the period's chained events (audit-log entries: metadata, the digest of the
  data as received, and the data itself unless it holds PHI), one per line, in chain order;
- `blocks.jsonl`: the ledger blocks from the first to the last that chains one of them, as
  stored, one per line;
- `manifest.json`: tenant, period, the SHA-256 of each file, and each block's sequence, sealed
  hash and the SHA-256 of its line (so that a fault is named at its block, not only its file);
- `manifest.sig`: the Ed25519 signature of `manifest.json`'s bytes (base64).

The ledger's own hashes are HMACs under a key the auditor does not hold, so offline the chain
is recomputed as far as it can be without it: every block where the signed manifest puts it,
linked to the one before, its content the content sealed; every event of the period chained
in those blocks, in order, with the metadata and data digest chained. A chain changed and
hashed again without the key shows at the first block whose hash is not the one signed; a
manifest rewritten to match no longer carries a valid signature.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import BaseModel, ConfigDict, ValidationError

from services.compliance.domain.ledger import GENESIS, canonical, digest_of

FORMAT: Final = "medoffice-audit-export/1"
EVENTS: Final = "events.jsonl"
BLOCKS: Final = "blocks.jsonl"
MANIFEST: Final = "manifest.json"
SIGNATURE: Final = "manifest.sig"
DATA_FILES: Final = (EVENTS, BLOCKS)
# What an exported event must say as its chained entry does.
CHAINED_FIELDS: Final = (
    "type", "context", "stream", "stream_version", "actor", "time", "data_sha256",
)  # fmt: skip
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed: the same package twice is the same bytes


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def signing_key(seed: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def fingerprint(public: bytes) -> str:
    """A short name for a public key: the first 16 hex digits of its SHA-256."""
    return sha256(public)[:16]


def parse_time(text: str) -> datetime:
    """An ISO time; one without an offset is UTC."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def in_period(time: str, start: datetime, end: datetime) -> bool:
    """Whether an entry's time falls in [start, end)."""
    return start <= parse_time(time) < end


def jsonl(records: Sequence[Mapping[str, Any]]) -> bytes:
    return b"".join(canonical(record) + b"\n" for record in records)


class ManifestFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sha256: str
    records: int


class ManifestChain(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    prev_hash: str  # the hash the first block links to
    head: str  # the last block's hash
    blocks: tuple[tuple[int, str, str], ...]  # (sequence, sealed hash, SHA-256 of its line)


class Manifest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    format: str
    tenant: str
    period_from: str
    period_to: str
    created_at: str
    public_key: str  # base64 of the raw Ed25519 public key that signed it
    events: int
    files: dict[str, ManifestFile]
    chain: ManifestChain


def build_package(
    tenant: str,
    start: datetime,
    end: datetime,
    created_at: datetime,
    blocks: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    key: Ed25519PrivateKey,
) -> bytes:
    """The zip of a period's `events` and the `blocks` that chain them, signed with `key`."""
    block_lines = [canonical(block) for block in blocks]
    files = {EVENTS: jsonl(events), BLOCKS: b"".join(line + b"\n" for line in block_lines)}
    manifest = Manifest(
        format=FORMAT,
        tenant=tenant,
        period_from=start.isoformat(),
        period_to=end.isoformat(),
        created_at=created_at.isoformat(),
        public_key=base64.b64encode(public_key_bytes(key)).decode(),
        events=len(events),
        files={
            EVENTS: ManifestFile(sha256=sha256(files[EVENTS]), records=len(events)),
            BLOCKS: ManifestFile(sha256=sha256(files[BLOCKS]), records=len(blocks)),
        },
        chain=ManifestChain(
            prev_hash=str(blocks[0]["prev_hash"]) if blocks else GENESIS,
            head=str(blocks[-1]["hash"]) if blocks else GENESIS,
            blocks=tuple(
                (int(b["sequence"]), str(b["hash"]), sha256(line))
                for b, line in zip(blocks, block_lines, strict=True)
            ),
        ),
    )
    manifest_bytes = json.dumps(manifest.model_dump(mode="json"), indent=1).encode() + b"\n"
    files[MANIFEST] = manifest_bytes
    files[SIGNATURE] = base64.b64encode(key.sign(manifest_bytes)) + b"\n"
    return pack(files)


def pack(files: Mapping[str, bytes]) -> bytes:
    """A zip of `files`, in the order given, with fixed times."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(zipfile.ZipInfo(name, _ZIP_TIME), content, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


class NotAPackage(ValueError):
    """The bytes are not a zip, or hold something other than plain files."""


def unpack(package: bytes, max_bytes: int = 1 << 31) -> dict[str, bytes]:
    """The files of a package by name (a name twice, a folder or an oversized file: refused)."""
    try:
        with zipfile.ZipFile(io.BytesIO(package)) as archive:
            files: dict[str, bytes] = {}
            for info in archive.infolist():
                if info.is_dir() or "/" in info.filename or info.filename in files:
                    raise NotAPackage(f"unexpected entry {info.filename!r} in the package")
                if info.file_size > max_bytes:
                    raise NotAPackage(f"{info.filename} is too large")
                files[info.filename] = archive.read(info)
            return files
    except (zipfile.BadZipFile, EOFError) as exc:
        raise NotAPackage("not a zip file") from exc


@dataclass(frozen=True)
class Finding:
    """What verification found: nothing (ok), or the first bad record."""

    ok: bool
    file: str | None = None
    record: str | None = None  # "line 3 (block 6)", ...
    reason: str = ""
    summary: str = ""

    def line(self) -> str:
        if self.ok:
            return f"OK: {self.summary}"
        where = self.file or "package"
        if self.record:
            where += f" {self.record}"
        return f"BAD: {where}: {self.reason}"


class _Bad(Exception):
    def __init__(self, file: str | None, record: str | None, reason: str) -> None:
        super().__init__(reason)
        self.finding = Finding(False, file, record, reason)


def decode_public_key(text: str) -> bytes:
    """Raw Ed25519 public key bytes from base64 (as published) or PEM; ValueError else."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    text = text.strip()
    if text.startswith("-----BEGIN"):
        loaded = load_pem_public_key(text.encode())
        if not isinstance(loaded, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return public_key_bytes(loaded)
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise ValueError("not base64 or PEM") from exc
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return raw


def verify_package(files: Mapping[str, bytes], public_key: bytes | None = None) -> Finding:
    """Check a package's signature (by `public_key` when given, else the key it names), then
    its blocks and events record by record, then each file's digest: the first bad record."""
    try:
        manifest = _trusted_manifest(files, public_key)
        blocks = _check_blocks(manifest, files[BLOCKS])
        _check_events(manifest, blocks, files[EVENTS])
        for name, listed in manifest.files.items():
            if sha256(files[name]) != listed.sha256:
                raise _Bad(name, None, "its SHA-256 is not the one signed: the file was changed")
    except _Bad as bad:
        return bad.finding
    chain = manifest.chain.blocks
    span = f"blocks {chain[0][0]} to {chain[-1][0]}" if chain else "no blocks"
    return Finding(
        True,
        summary=(
            f"tenant {manifest.tenant}, {manifest.period_from} to {manifest.period_to}: "
            f"{manifest.events} events, {span}, head {manifest.chain.head}; signed by key "
            f"{fingerprint(base64.b64decode(manifest.public_key))}"
        ),
    )


def _trusted_manifest(files: Mapping[str, bytes], public_key: bytes | None) -> Manifest:
    for name in (MANIFEST, SIGNATURE):
        if name not in files:
            raise _Bad(name, None, "missing from the package")
    raw = files[MANIFEST]
    try:
        manifest = Manifest.model_validate_json(raw)
        signer = base64.b64decode(manifest.public_key, validate=True)
        signed_by = Ed25519PublicKey.from_public_bytes(signer)
    except (ValidationError, ValueError):
        raise _Bad(MANIFEST, None, "not a manifest of this format") from None
    if public_key is not None and signer != public_key:
        raise _Bad(
            MANIFEST,
            None,
            f"signed by key {fingerprint(signer)}, not by the key given "
            f"({fingerprint(public_key)})",
        )
    try:
        signature = base64.b64decode(files[SIGNATURE].strip(), validate=True)
        signed_by.verify(signature, raw)
    except (InvalidSignature, ValueError):
        raise _Bad(
            SIGNATURE,
            None,
            "the signature does not verify: manifest.json or the signature was changed",
        ) from None
    if manifest.format != FORMAT:
        raise _Bad(MANIFEST, None, f"format {manifest.format!r}, not {FORMAT!r}")
    for name in DATA_FILES:
        if name not in manifest.files:
            raise _Bad(name, None, "not listed in the manifest")
    for name in files:
        if name not in manifest.files and name not in (MANIFEST, SIGNATURE):
            raise _Bad(name, None, "in the package but not listed in the manifest")
    for name in manifest.files:
        if name not in files:
            raise _Bad(name, None, "listed in the manifest but missing from the package")
    return manifest


def _lines(content: bytes) -> list[bytes]:
    lines = content.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def _record(line: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _check_blocks(manifest: Manifest, content: bytes) -> list[dict[str, Any]]:
    """The blocks, each where the manifest puts it, linked, as sealed; else the first bad."""
    expected = manifest.chain.blocks
    lines = _lines(content)
    records = [_record(line) for line in lines]
    place = {sequence: i for i, (sequence, _, _) in enumerate(expected)}
    blocks: list[dict[str, Any]] = []
    prev_hash = manifest.chain.prev_hash
    for i, (line, block) in enumerate(zip(lines, records, strict=True)):
        at = f"line {i + 1}"
        if i >= len(expected):
            raise _Bad(BLOCKS, at, "a block after the last one signed was inserted")
        sequence, sealed, digest = expected[i]
        at = f"line {i + 1} (block {sequence})"
        if block is None:
            raise _Bad(BLOCKS, at, f"block {sequence} was changed: the line is not a JSON object")
        found = block.get("sequence")
        if found != sequence:
            raise _Bad(BLOCKS, at, _misplaced(sequence, found, place, records, i))
        if sha256(line) == digest and block.get("prev_hash") == prev_hash:
            blocks.append(block)
            prev_hash = sealed
            continue
        if i + 1 < len(lines) and sha256(lines[i + 1]) == digest:
            raise _Bad(BLOCKS, at, f"a block was inserted where block {sequence} belongs")
        if block.get("hash") != sealed:
            raise _Bad(
                BLOCKS,
                at,
                f"block {sequence}'s hash is not the one sealed: the block was changed and "
                "hashed again without the ledger key",
            )
        if block.get("prev_hash") != prev_hash:
            raise _Bad(BLOCKS, at, f"block {sequence} does not link to the block before it")
        raise _Bad(BLOCKS, at, f"block {sequence} was changed: its content is not the one sealed")
    if len(lines) < len(expected):
        missing = expected[len(lines)][0]
        raise _Bad(
            BLOCKS,
            f"line {len(lines) + 1} (block {missing})",
            f"block {missing} was removed: the file ends after {len(lines)} blocks",
        )
    return blocks


def _misplaced(
    sequence: int,
    found: Any,
    place: Mapping[int, int],
    records: Sequence[dict[str, Any] | None],
    i: int,
) -> str:
    """Why the block at line i is not block `sequence`."""
    if not isinstance(found, int) or found not in place:
        return (
            f"a block not signed (sequence {found!r}) was inserted where block {sequence} belongs"
        )
    if place[found] < i:
        return f"a copy of block {found} was inserted where block {sequence} belongs"
    later = [
        j for j in range(i + 1, len(records)) if (records[j] or {}).get("sequence") == sequence
    ]
    if later:
        return (
            f"blocks were reordered: block {found} is where block {sequence} belongs, "
            f"and block {sequence} at line {later[0] + 1}"
        )
    gone = (
        f"block {sequence} was"
        if found == sequence + 1
        else f"blocks {sequence} to {found - 1} were"
    )
    return f"{gone} removed: the line holds block {found}"


def _check_events(manifest: Manifest, blocks: list[dict[str, Any]], content: bytes) -> None:
    """The period's events chained in the (checked) blocks, each in its place, as chained."""
    start, end = parse_time(manifest.period_from), parse_time(manifest.period_to)
    chained = [
        (entry, int(block["sequence"]))
        for block in blocks
        for entry in block.get("entries", [])
        if in_period(str(entry["time"]), start, end)
    ]
    place = {entry["event_id"]: k for k, (entry, _) in enumerate(chained)}
    lines = _lines(content)
    records = [_record(line) for line in lines]
    for k, event in enumerate(records):
        at = f"line {k + 1}"
        if event is None:
            raise _Bad(EVENTS, at, "not a JSON object")
        event_id = event.get("event_id")
        at = f"line {k + 1} (event {event_id})"
        if k >= len(chained):
            raise _Bad(EVENTS, at, "an event not chained in the period was inserted at the end")
        entry, sequence = chained[k]
        if event_id != entry["event_id"]:
            raise _Bad(EVENTS, at, _event_misplaced(entry, sequence, event_id, place, records, k))
        for name in CHAINED_FIELDS:
            if event.get(name) != entry.get(name):
                raise _Bad(EVENTS, at, f"its {name} is not the one chained in block {sequence}")
        if "data" in event and digest_of(event["data"]) != entry["data_sha256"]:
            raise _Bad(EVENTS, at, f"its data is not the data chained in block {sequence} (digest)")
    if len(records) < len(chained):
        entry, sequence = chained[len(records)]
        raise _Bad(
            EVENTS,
            f"line {len(records) + 1} (event {entry['event_id']})",
            f"event {entry['event_id']} (chained in block {sequence}) was removed: the file "
            f"ends after {len(records)} events",
        )


def _event_misplaced(
    entry: Mapping[str, Any],
    sequence: int,
    found: Any,
    place: Mapping[str, int],
    records: Sequence[dict[str, Any] | None],
    k: int,
) -> str:
    expected = entry["event_id"]
    if not isinstance(found, str) or found not in place:
        return (
            f"an event not chained in the period was inserted where event {expected} "
            f"(block {sequence}) belongs"
        )
    if place[found] < k:
        return f"event {found} was inserted again where event {expected} belongs"
    if any((r or {}).get("event_id") == expected for r in records[k + 1 :]):
        return f"events were reordered: event {found} is where event {expected} belongs"
    return f"event {expected} (chained in block {sequence}) was removed"
