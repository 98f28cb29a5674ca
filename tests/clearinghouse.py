"""A loopback clearinghouse for tests: it plays the far side of billing's clearinghouse port on
the folder that side sees (a drop folder's root, or the SFTP server's root, which are the same
layout: `outbound/`, `inbound/`, `done/`).

`answer()` takes every complete 837 from `outbound/` (moving it to `received/`, as a
clearinghouse takes what it fetched), and answers each with a 999 and, unless the 999 rejects
the file, a 277CA, written with billing's own X12 writers: every claim accepted (with a
payer claim control number) except those the test names in `rejections`, rejected with the
reasons given. Answers are named after the file they answer (`<name>.999`, `<name>.277`), or,
with `echo_names=False`, `ACK<n>.999` / `ACK<n>.277` as some clearinghouses do; each is
written aside and renamed into `inbound/`, so billing never sees half of one. `pay()` then
sends the payer's 835 for the claims received: the money comes back the same way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench.remittance_files import Billed, file_835, paid_claim, payment
from services.billing.domain.x12.acks import (
    ClaimAcknowledgement,
    StatusReason,
    acknowledgement_of,
    reply_envelope,
    write_277ca,
    write_999,
)
from services.billing.domain.x12.envelope import Envelope
from services.billing.domain.x12.model import ClaimFile
from services.billing.domain.x12.reader837 import read_837
from services.billing.domain.x12.remittance import RemittanceClaim
from shared.filedrop.port import is_complete

ANSWERED_AT = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


class LoopbackClearinghouse:
    def __init__(
        self,
        far: Path,
        *,
        rejections: Mapping[str, Sequence[StatusReason]] | None = None,
        file_code: str = "A",
        echo_names: bool = True,
    ) -> None:
        self.far = far
        self.rejections = dict(rejections or {})
        self.file_code = file_code  # every set of every 999: A, E or R
        self.echo_names = echo_names
        self.received: list[str] = []  # the 837s taken, in order
        self.files: list[ClaimFile] = []  # as read
        self._next_number = 0
        self.paid: set[str] = set()  # claims an 835 paid

    def waiting(self) -> list[str]:
        """The complete 837s billing has put and this side has not taken yet."""
        folder = self.far / "outbound"
        if not folder.exists():
            return []
        return sorted(
            p.name for p in folder.iterdir() if is_complete(p.name) and p.name.endswith(".837")
        )

    def answer(self) -> list[str]:
        """Take every waiting 837 and answer it; the names of the answers written."""
        written: list[str] = []
        for name in self.waiting():
            source = self.far / "outbound" / name
            text = source.read_text("ascii")
            claim_file = read_837(text)
            received = self.far / "received"
            received.mkdir(exist_ok=True)
            source.rename(received / name)
            self.received.append(name)
            self.files.append(claim_file)
            stem = name.removesuffix(".837") if self.echo_names else f"ACK{len(self.received)}"
            self.deliver(f"{stem}.999", self._999(claim_file, text).encode("ascii"))
            written.append(f"{stem}.999")
            if self.file_code != "R":
                self.deliver(f"{stem}.277", self._277ca(claim_file).encode("ascii"))
                written.append(f"{stem}.277")
        return written

    def _999(self, claim_file: ClaimFile, text: str) -> str:
        return write_999(acknowledgement_of(text, self.file_code), self._envelope(claim_file))

    def _277ca(self, claim_file: ClaimFile) -> str:
        acks = []
        for claim in claim_file.claims:
            reasons = tuple(self.rejections.get(claim.claim_id, ()))
            acks.append(
                ClaimAcknowledgement(
                    claim_id=claim.claim_id,
                    accepted=not reasons,
                    payer_claim_control_number=None if reasons else f"PCN{claim.claim_id}",
                    reasons=reasons,
                )
            )
        return write_277ca(
            claim_file, acks, self._envelope(claim_file), received_on=ANSWERED_AT.date()
        )

    def _envelope(self, claim_file: ClaimFile) -> Envelope:
        self._next_number += 1
        return reply_envelope(
            claim_file,
            interchange_control_number=7000 + self._next_number,
            group_control_number=7000 + self._next_number,
            created_at=ANSWERED_AT,
        )

    def pay(
        self, trace: str, *, allowed_percent: int = 80, copay_cents: int = 2000
    ) -> list[RemittanceClaim]:
        """A check for every claim received and not paid yet (`paid_claim`'s terms), as an
        835 named `<trace>.835`; the claim payments it made."""
        claims = [
            paid_claim(
                c.claim_id,
                [Billed(line.control_number, line.code, line.charge_cents) for line in c.lines],
                allowed_percent=allowed_percent,
                copay_cents=copay_cents,
            )
            for f in self.files
            for c in f.claims
            if c.claim_id not in self.paid
        ]
        self.paid.update(c.claim_ref for c in claims)
        self._next_number += 1
        check = payment(claims, trace=trace, number=7000 + self._next_number)
        self.deliver(f"{trace}.835", file_835(check))
        return claims

    def deliver(self, name: str, data: bytes) -> None:
        """Any file, as this side would hand it in (a test's garbage, a file answered twice)."""
        inbound = self.far / "inbound"
        inbound.mkdir(parents=True, exist_ok=True)
        temp = inbound / f".{name}.part"
        temp.write_bytes(data)
        temp.rename(inbound / name)
