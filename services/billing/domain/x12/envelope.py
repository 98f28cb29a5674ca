"""The interchange (ISA/IEA) and functional group (GS/GE) around one transaction set: shared by
the 837P writer and the 999 and 277CA writers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.billing.domain.x12.segments import (
    DEFAULT,
    Segment,
    X12ValueError,
    ccyymmdd,
    ident,
    segment,
)

TRANSACTION_SET_CONTROL_NUMBER = "0001"  # one set per group: unique within it


@dataclass(frozen=True)
class Envelope:
    """Who sends to whom, with which control numbers, when (wall time of the sender's zone)."""

    sender_id: str  # ISA06 (padded to 15) and GS02
    receiver_id: str  # ISA08 and GS03
    interchange_control_number: int  # ISA13/IEA02, written zero-padded to 9 digits
    group_control_number: int  # GS06/GE02
    created_at: datetime
    usage: str  # ISA15: "T" test or "P" production


def enveloped(
    envelope: Envelope, functional_id: str, version: str, body: list[Segment]
) -> list[Segment]:
    """ISA, GS, the set's segments (ST to just before SE), SE with its count, GE, IEA."""
    if not 0 < envelope.interchange_control_number <= 999_999_999:
        raise X12ValueError("the interchange control number is not 1 to 999999999")
    if not 0 < envelope.group_control_number <= 999_999_999:
        raise X12ValueError("the group control number is not 1 to 999999999")
    if envelope.usage not in ("T", "P"):
        raise X12ValueError(f"usage {envelope.usage!r} is not T or P")
    sender = ident(envelope.sender_id, 15)
    receiver = ident(envelope.receiver_id, 15)
    at = envelope.created_at
    hhmm = f"{at.hour:02d}{at.minute:02d}"
    isa13 = f"{envelope.interchange_control_number:09d}"
    return [
        (
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            "ZZ",
            f"{sender:<15}",
            "ZZ",
            f"{receiver:<15}",
            ccyymmdd(at.date())[2:],
            hhmm,
            DEFAULT.repetition,
            "00501",
            isa13,
            "0",
            envelope.usage,
            DEFAULT.component,
        ),
        segment(
            "GS",
            functional_id,
            sender,
            receiver,
            ccyymmdd(at.date()),
            hhmm,
            str(envelope.group_control_number),
            "X",
            version,
        ),
        *body,
        segment("SE", str(len(body) + 1), TRANSACTION_SET_CONTROL_NUMBER),
        segment("GE", "1", str(envelope.group_control_number)),
        segment("IEA", "1", isa13),
    ]
