"""The signing key of audit exports and anchored heads: an Ed25519 private key in a PEM file.

`MEDOFFICE_AUDIT_SIGNING_KEY` holds the key itself (base64 of its 32-byte seed: `openssl rand
-base64 32`), as containers with a read-only filesystem take their other keys; else
`MEDOFFICE_AUDIT_SIGNING_KEY_FILE` names the file (PKCS#8 PEM, as `openssl genpkey -algorithm
ed25519` writes it). Neither set, the key is `<data_dir>/compliance/audit-signing.pem`, made on the
first start (mode 0600; of two processes starting at once, both use the one linked first).
Auditors pin the public key (`GET /compliance/audit-exports/public-key`, or
`medoffice audit public-key`), so a key made anew shows as a package signed by another key.
"""

from __future__ import annotations

import os
from pathlib import Path

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from services.compliance.domain.exports import fingerprint, public_key_bytes
from shared.settings import Settings, key_bytes

log = structlog.get_logger(__name__)

DEFAULT_FILE = Path("compliance") / "audit-signing.pem"


class SigningKeyUnusable(RuntimeError):
    """The key file cannot be read as an Ed25519 private key."""


def key_file(settings: Settings) -> Path:
    return settings.audit_signing_key_file or settings.data_dir / DEFAULT_FILE


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise SigningKeyUnusable(f"audit signing key {path}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyUnusable(f"audit signing key {path}: not an Ed25519 private key")
    return key


def signing_key_for(settings: Settings, in_memory: bool = False) -> Ed25519PrivateKey:
    """The configured key; the default file is made when absent, a configured one never.
    `in_memory` (backends that write nothing to disk, for tests): a key of the process alone
    when none is configured."""
    if settings.audit_signing_key is not None:
        return Ed25519PrivateKey.from_private_bytes(key_bytes(settings.audit_signing_key))
    if in_memory and settings.audit_signing_key_file is None:
        return Ed25519PrivateKey.generate()
    path = key_file(settings)
    if settings.audit_signing_key_file is None and not path.exists():
        _create(path)
    return load_signing_key(path)


def _create(path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside, then linked in place: a process starting meanwhile never reads half a key,
    # and of two made at once the first linked is the one both use.
    aside = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(pem)
        file.flush()
        os.fsync(file.fileno())
    try:
        os.link(aside, path)
    except FileExistsError:
        return
    finally:
        aside.unlink()
    log.warning(
        "audit_signing_key_created",
        path=str(path),
        fingerprint=fingerprint(public_key_bytes(key)),
    )
