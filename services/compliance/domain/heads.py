"""Signed chain heads: a tenant's ledger head (sequence, hash), signed with the audit signing
key (Ed25519) and published outside every database of the suite. Pure.

The ledger's blocks are sealed under a key held apart from its store, and its heads anchored
in another database; but whoever holds both the ledger key and the databases (an insider, a
stolen backup with the settings) could recompute the whole chain from the start and the
anchors with it. Published heads are out of that reach (a file shipped elsewhere, a Kafka
topic) and signed, so none can be planted there without the signing key: a chain rewritten and
recomputed from the start no longer holds the hash a published head signed for its block.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, ValidationError

from services.compliance.domain.exports import public_key_bytes
from services.compliance.domain.ledger import Head, canonical

HEAD_FORMAT: Final = "medoffice-ledger-head/1"


class SignedHead(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    format: str = HEAD_FORMAT
    tenant: str
    sequence: int
    hash: str
    signed_at: str
    public_key: str  # base64 of the raw Ed25519 public key
    signature: str  # base64, over the canonical JSON of every other field

    def content(self) -> bytes:
        return canonical(self.model_dump(exclude={"signature"}))

    def record(self) -> bytes:
        return canonical(self.model_dump())


def sign_head(tenant: str, head: Head, at: datetime, key: Ed25519PrivateKey) -> SignedHead:
    unsigned = SignedHead(
        tenant=tenant,
        sequence=head.sequence,
        hash=head.hash,
        signed_at=at.isoformat(),
        public_key=base64.b64encode(public_key_bytes(key)).decode(),
        signature="",
    )
    signature = base64.b64encode(key.sign(unsigned.content())).decode()
    return unsigned.model_copy(update={"signature": signature})


def read_head(record: bytes, tenant: str, public_key: bytes) -> SignedHead | None:
    """The head a published record holds, if it is one of `tenant`'s signed by `public_key`;
    None for anything else (a record not read as a head, another key's, a forged one)."""
    try:
        head = SignedHead.model_validate_json(record)
        signature = base64.b64decode(head.signature, validate=True)
        signer = base64.b64decode(head.public_key, validate=True)
    except (ValidationError, ValueError):
        return None
    if head.format != HEAD_FORMAT or head.tenant != tenant or signer != public_key:
        return None
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, head.content())
    except (InvalidSignature, ValueError):
        return None
    return head
