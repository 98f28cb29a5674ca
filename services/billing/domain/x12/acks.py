"""Acknowledgements of the claim files we send: read them, and write them (for tests and the
loopback clearinghouse).

- 999 (005010X231A1, implementation acknowledgement): whether the file's syntax and
  implementation-guide rules held. Per transaction set (AK2) a code in IK5 (A accepted, E
  accepted with errors, R rejected) and the errors found (IK3 segment, IK4 element); for the
  functional group (AK1 names its GS06) a code in AK9 (A, E, R, or P: some sets accepted).
  A 999 names the group it answers (AK102) and its sets (AK202), not the interchange.
- 277CA (005010X214, claim acknowledgement): per claim (2200D, its CLM01 echoed in TRN02) one
  or more STC statuses (category:status code:entity), and the payer's claim control number in
  REF*1K when the payer took the claim in. Categories A0/A1/A2/A5 acknowledge; any other
  (A3 returned as unprocessable, A4 not found, A6/A7 missing or invalid information, A8
  relational error, E* response errors) rejects the claim, at claim level or on one of its
  lines (2220D, under SVC); a claim with no claim-level status is not taken as accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from services.billing.domain.x12.envelope import Envelope, enveloped
from services.billing.domain.x12.model import Claim, ClaimFile
from services.billing.domain.x12.segments import (
    Segment,
    X12ValueError,
    amount,
    ccyymmdd,
    composite,
    element,
    ident,
    segment,
    text,
    tokenise,
    write,
)
from services.billing.domain.x12.writer837 import VERSION as VERSION_837

VERSION_999 = "005010X231A1"
VERSION_277CA = "005010X214"
FILE_CODES = ("A", "E", "R", "P")
SET_CODES = ("A", "E", "R")
ACKNOWLEDGING = frozenset({"A0", "A1", "A2", "A5"})

# Claim status codes (X12 code list 507/508) a 277CA commonly carries, with a short text of our
# own, for reasons the payer sent without a free-form message (STC12).
STATUS_TEXT = {
    "0": "Cannot provide further status electronically",
    "3": "Claim has been adjudicated and is awaiting payment cycle",
    "15": "Requested information not provided",
    "16": "Claim/encounter has been returned for invalid or missing information",
    "19": "Entity acknowledges receipt of claim/encounter",
    "20": "Accepted for processing",
    "21": "Missing or invalid information",
    "23": "Returned to entity",
    "24": "Entity not approved as an electronic submitter",
    "29": "Subscriber and policy number/contract number mismatched",
    "31": "Subscriber and subscriber id mismatched",
    "33": "Subscriber and subscriber id not found",
    "35": "Claim/encounter not found",
    "53": "Claim/encounter not found for this patient",
    "85": "Entity's tax id",
    "96": "No agreement with entity",
    "145": "Entity's primary identifier",
    "164": "Entity's contract/member number",
    "187": "Date(s) of service",
    "254": "Principal diagnosis code",
    "255": "Diagnosis code",
    "400": "Claim is out of balance",
    "454": "Procedure code for services rendered",
    "479": "Other payer's explanation of benefits/payment information",
    "562": "Entity's National Provider Identifier (NPI)",
    "697": "Invalid procedure code modifier",
}


# --------------------------------------------------------------------------------------- 999


@dataclass(frozen=True)
class ElementError:
    """IK4: an element of a segment in error."""

    position: str  # IK401: "2", or "2:1" for a component
    reference: str  # IK402: the data element reference number ("" when not known)
    code: str  # IK403: 1 mandatory missing, 2 conditional missing, 7 invalid code value, ...
    bad_value: str = ""  # IK404


@dataclass(frozen=True)
class SegmentError:
    """IK3 (with its IK4s): a segment in error."""

    segment_id: str  # IK301: the segment's tag
    position: int  # IK302: its position in the set, ST being 1
    loop_id: str  # IK303 (at most 4 characters: "2300", "2010")
    code: str  # IK304: 1 unrecognised, 3 mandatory missing, 8 has data element errors, ...
    elements: tuple[ElementError, ...] = ()


@dataclass(frozen=True)
class TransactionAcknowledgement:
    """AK2 to IK5: one transaction set of the group."""

    set_control_number: str  # AK202: the ST02 answered
    code: str  # IK501: A, E or R
    errors: tuple[SegmentError, ...] = ()
    set_errors: tuple[str, ...] = ()  # IK502-506: 5 control number mismatch, I5 IG error...


@dataclass(frozen=True)
class FileAcknowledgement:
    """One 999 set: the functional group (so the claim file) it answers."""

    group_control_number: int  # AK102: the GS06 answered
    code: str  # AK901: A, E, R or P
    transactions: tuple[TransactionAcknowledgement, ...] = ()
    errors: tuple[str, ...] = ()  # AK905-909: group-level error codes
    version: str = VERSION_837  # AK103

    @property
    def accepted(self) -> bool:
        """The file goes on to the payer (E: accepted, with errors noted)."""
        return self.code in ("A", "E")


def acknowledgement_of(content_837: str, code: str = "A") -> FileAcknowledgement:
    """The 999 a clearinghouse would send for an 837 (every set with `code`): for tests and the
    loopback clearinghouse."""
    if code not in SET_CODES:
        raise X12ValueError(f"set acknowledgement code {code!r} is not A, E or R")
    _, segments = tokenise(content_837)
    gs = next((s for s in segments if s[0] == "GS"), None)
    if gs is None:
        raise X12ValueError("the file has no GS segment")
    sets = tuple(
        TransactionAcknowledgement(set_control_number=element(s, 2), code=code)
        for s in segments
        if s[0] == "ST"
    )
    return FileAcknowledgement(
        group_control_number=int(element(gs, 6)),
        code=code,
        transactions=sets,
        version=element(gs, 8),
    )


def write_999(acknowledgement: FileAcknowledgement, envelope: Envelope) -> str:
    ack = acknowledgement
    if ack.code not in FILE_CODES:
        raise X12ValueError(f"file acknowledgement code {ack.code!r} is not A, E, R or P")
    body: list[Segment] = [
        segment("ST", "999", "0001", VERSION_999),
        segment("AK1", "HC", str(ack.group_control_number), ident(ack.version, 12)),
    ]
    for tx in ack.transactions:
        if tx.code not in SET_CODES:
            raise X12ValueError(f"set acknowledgement code {tx.code!r} is not A, E or R")
        body.append(segment("AK2", "837", ident(tx.set_control_number, 9), ident(ack.version, 35)))
        for error in tx.errors:
            body.append(
                segment(
                    "IK3",
                    ident(error.segment_id, 3),
                    str(error.position),
                    _optional(error.loop_id, 4),
                    ident(error.code, 3),
                )
            )
            for bad in error.elements:
                body.append(
                    segment(
                        "IK4",
                        ident(bad.position, 9),
                        _optional(bad.reference, 4),
                        ident(bad.code, 3),
                        text(bad.bad_value, 99),
                    )
                )
        body.append(segment("IK5", tx.code, *(ident(c, 3) for c in tx.set_errors[:5])))
    accepted = sum(1 for tx in ack.transactions if tx.code in ("A", "E"))
    if ack.transactions and ack.code != _group_code([tx.code for tx in ack.transactions]):
        raise X12ValueError(f"AK9 {ack.code} contradicts its sets' codes")
    count = str(len(ack.transactions))
    body.append(
        segment(
            "AK9", ack.code, count, count, str(accepted), *(ident(c, 3) for c in ack.errors[:5])
        )
    )
    return write(enveloped(envelope, "FA", VERSION_999, body))


def read_999s(content: str) -> tuple[FileAcknowledgement, ...]:
    """Every 999 set of an interchange (one per functional group acknowledged)."""
    _, segments = tokenise(content)
    found: list[FileAcknowledgement] = []
    group: Segment | None = None
    sets: list[TransactionAcknowledgement] = []
    current: Segment | None = None
    errors: list[SegmentError] = []
    for seg in segments:
        tag = seg[0]
        if tag == "ST" and element(seg, 1) != "999":
            raise X12ValueError(f"a {element(seg, 1)} set where a 999 was expected")
        if tag == "AK1":
            group, sets = seg, []
        elif tag == "AK2":
            current, errors = seg, []
        elif tag == "IK3":
            errors.append(
                SegmentError(
                    segment_id=element(seg, 1),
                    position=_number(element(seg, 2)),
                    loop_id=element(seg, 3),
                    code=element(seg, 4),
                )
            )
        elif tag == "IK4" and errors:
            last = errors[-1]
            bad = ElementError(
                position=element(seg, 1),
                reference=element(seg, 2),
                code=element(seg, 3),
                bad_value=element(seg, 4),
            )
            errors[-1] = SegmentError(
                last.segment_id, last.position, last.loop_id, last.code, (*last.elements, bad)
            )
        elif tag == "IK5":
            if current is None:
                raise X12ValueError("an IK5 without its AK2")
            sets.append(
                TransactionAcknowledgement(
                    set_control_number=element(current, 2),
                    code=_code(element(seg, 1), SET_CODES),
                    errors=tuple(errors),
                    set_errors=tuple(v for v in seg[2:] if v),
                )
            )
            current = None
        elif tag == "AK9":
            if group is None:
                raise X12ValueError("an AK9 without its AK1")
            found.append(
                FileAcknowledgement(
                    group_control_number=_number(element(group, 2)),
                    code=_code(element(seg, 1), FILE_CODES),
                    transactions=tuple(sets),
                    errors=tuple(v for v in seg[5:] if v),
                    version=element(group, 3),
                )
            )
            group = None
    if not found:
        raise X12ValueError("the file holds no 999 acknowledgement (AK1 to AK9)")
    return tuple(found)


def read_999(content: str) -> FileAcknowledgement:
    """The one 999 set of a file (a clearinghouse sends one per claim file)."""
    acks = read_999s(content)
    if len(acks) != 1:
        raise X12ValueError(f"the file acknowledges {len(acks)} groups, not one")
    return acks[0]


# ------------------------------------------------------------------------------------- 277CA


@dataclass(frozen=True)
class StatusReason:
    """One STC composite: the category (A1, A7...), the status code and its text, and the
    entity it is about (85 billing provider, IL subscriber, QC patient, PR payer; "" if none)."""

    category: str
    code: str
    text: str = ""
    entity: str = ""


@dataclass(frozen=True)
class ClaimAcknowledgement:
    """A payer's (or clearinghouse's) word on one claim of a file."""

    claim_id: str  # CLM01, from TRN02 of 2200D
    accepted: bool
    payer_claim_control_number: str | None = None  # REF*1K
    reasons: tuple[StatusReason, ...] = ()


@dataclass(frozen=True)
class ClaimAcknowledgements:
    """A 277CA: which batch it answers (2200B TRN02 = the 837's BHT03) and each claim."""

    batch_id: str
    payer_id: str
    claims: tuple[ClaimAcknowledgement, ...]


def reason(category: str, code: str, entity: str = "") -> StatusReason:
    """A reason with the status code's usual text."""
    return StatusReason(category=category, code=code, text=STATUS_TEXT.get(code, ""), entity=entity)


ACCEPTED = reason("A2", "20", "PR")


def write_277ca(
    claim_file: ClaimFile,
    acknowledgements: Sequence[ClaimAcknowledgement],
    envelope: Envelope,
    *,
    received_on: date,
) -> str:
    """The 277CA for `acknowledgements` about claims of `claim_file` (names, amounts and dates
    are taken from the claims). An accepted claim with no reasons gets A2:20 (accepted for
    processing); a rejected one needs at least one rejecting reason."""
    claims = {c.claim_id: c for c in claim_file.claims}
    by_provider: dict[object, list[tuple[Claim, ClaimAcknowledgement]]] = {}
    for ack in acknowledgements:
        claim = claims.get(ack.claim_id)
        if claim is None:
            raise X12ValueError(f"claim {ack.claim_id} is not in the claim file")
        by_provider.setdefault(claim.billing_provider, []).append((claim, ack))
    if not by_provider:
        raise X12ValueError("a 277CA acknowledges at least one claim")
    payer = claim_file.claims[0].subscriber
    day = ccyymmdd(received_on)
    at = envelope.created_at
    accepted = [(c, a) for pairs in by_provider.values() for c, a in pairs if a.accepted]
    rejected = [(c, a) for pairs in by_provider.values() for c, a in pairs if not a.accepted]
    body: list[Segment] = [
        segment("ST", "277", "0001", VERSION_277CA),
        segment(
            "BHT",
            "0085",
            "08",
            ident(claim_file.batch_id, 50),
            ccyymmdd(at.date()),
            f"{at.hour:02d}{at.minute:02d}{at.second:02d}",
            "TH",
        ),
        segment("HL", "1", "", "20", "1"),
        segment(
            "NM1",
            "PR",
            "2",
            text(payer.payer_name, 60),
            "",
            "",
            "",
            "",
            "PI",
            ident(payer.payer_id, 80),
        ),
        segment("TRN", "1", str(envelope.group_control_number)),
        segment("DTP", "050", "D8", day),
        segment("DTP", "009", "D8", day),
        segment("HL", "2", "1", "21", "1"),
        segment(
            "NM1",
            "41",
            "2",
            text(claim_file.submitter.name, 60),
            "",
            "",
            "",
            "",
            "46",
            ident(claim_file.submitter.id, 80),
        ),
        segment("TRN", "2", ident(claim_file.batch_id, 50)),
        segment(
            "STC",
            "A1:19:PR",
            day,
            "WQ",
            amount(sum(c.total_cents for c, _ in accepted + rejected)),
        ),
        segment("QTY", "90", str(len(accepted))) if accepted else (),
        segment("QTY", "AA", str(len(rejected))) if rejected else (),
        segment("AMT", "YU", amount(sum(c.total_cents for c, _ in accepted))) if accepted else (),
        segment("AMT", "YY", amount(sum(c.total_cents for c, _ in rejected))) if rejected else (),
    ]
    body = [s for s in body if s]
    hl = 2
    for provider, pairs in by_provider.items():
        hl += 1
        provider_hl = hl
        billing = pairs[0][0].billing_provider
        assert billing == provider
        body += [
            segment("HL", str(provider_hl), "2", "19", "1"),
            segment(
                "NM1",
                "85",
                "2",
                text(billing.name, 60),
                "",
                "",
                "",
                "",
                "XX",
                ident(billing.npi, 80),
            ),
            segment("TRN", "1", "0"),
            segment("STC", "A1:19:PR", "", "WQ", amount(sum(c.total_cents for c, _ in pairs))),
            segment("REF", "TJ", ident(billing.tin, 50)),
        ]
        for claim, ack in pairs:
            hl += 1
            body += _claim_status(hl, provider_hl, claim, ack, day)
    return write(enveloped(envelope, "HN", VERSION_277CA, body))


def _claim_status(
    hl: int, parent: int, claim: Claim, ack: ClaimAcknowledgement, day: str
) -> list[Segment]:
    reasons = ack.reasons or ((ACCEPTED,) if ack.accepted else ())
    categories = {r.category for r in reasons}
    if ack.accepted and not categories <= ACKNOWLEDGING:
        raise X12ValueError(f"claim {claim.claim_id}: accepted with a rejecting reason")
    if not ack.accepted and categories <= ACKNOWLEDGING:
        raise X12ValueError(f"claim {claim.claim_id}: rejected without a rejecting reason")
    patient = claim.patient.person if claim.patient is not None else claim.subscriber.person
    first = min(line.date_of_service for line in claim.lines)
    last = max(line.date_of_service for line in claim.lines)
    found: list[Segment] = [
        segment("HL", str(hl), str(parent), "PT"),
        segment(
            "NM1",
            "QC",
            "1",
            text(patient.name.last, 60),
            text(patient.name.first, 35),
            text(patient.name.middle, 25),
            "",
            "",
            "MI",
            ident(claim.subscriber.member_id, 80),
        ),
        segment("TRN", "2", ident(claim.claim_id, 50)),
    ]
    for why in reasons:
        usual = STATUS_TEXT.get(why.code, "")
        message = text(why.text, 264) if why.text and why.text != usual else ""
        found.append(
            segment(
                "STC",
                composite(ident(why.category, 2), ident(why.code, 30), _optional(why.entity, 3)),
                day,
                "WQ" if ack.accepted else "U",
                amount(claim.total_cents),
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                message,
            )
        )
    if ack.payer_claim_control_number:
        found.append(segment("REF", "1K", ident(ack.payer_claim_control_number, 50)))
    found.append(segment("DTP", "472", "RD8", f"{ccyymmdd(first)}-{ccyymmdd(last)}"))
    return found


def read_277ca(content: str) -> ClaimAcknowledgements:
    seps, segments = tokenise(content)
    if not any(s[0] == "ST" and element(s, 1) == "277" for s in segments):
        raise X12ValueError("the file holds no 277 transaction set")
    claims: list[ClaimAcknowledgement] = []
    batch_id = payer_id = ""
    level = ""
    claim_id = ""
    pccn: str | None = None
    claim_reasons: list[StatusReason] = []
    line_reasons: list[StatusReason] = []
    in_line = False

    def close() -> None:
        if level == "PT" and claim_id:
            # The claim's own statuses decide; a line rejected under it rejects it too.
            categories = {r.category for r in claim_reasons + line_reasons}
            claims.append(
                ClaimAcknowledgement(
                    claim_id=claim_id,
                    accepted=bool(claim_reasons) and categories <= ACKNOWLEDGING,
                    payer_claim_control_number=pccn,
                    reasons=tuple(claim_reasons + line_reasons),
                )
            )

    for seg in segments:
        tag = seg[0]
        if tag == "HL" or tag == "SE":
            close()
            level = element(seg, 3) if tag == "HL" else ""
            claim_id, pccn, claim_reasons, line_reasons, in_line = "", None, [], [], False
        elif tag == "NM1" and level == "20" and element(seg, 1) == "PR":
            payer_id = element(seg, 9)
        elif tag == "TRN" and level == "21" and element(seg, 1) == "2":
            batch_id = element(seg, 2)
        elif tag == "TRN" and level == "PT" and element(seg, 1) == "2":
            claim_id = element(seg, 2)
        elif tag == "REF" and level == "PT" and element(seg, 1) == "1K":
            pccn = element(seg, 2)
        elif tag == "SVC" and level == "PT":
            in_line = True
        elif tag == "STC" and level == "PT":
            found = _reasons(seg, seps.component)
            (line_reasons if in_line else claim_reasons).extend(found)
    close()
    return ClaimAcknowledgements(batch_id=batch_id, payer_id=payer_id, claims=tuple(claims))


def _reasons(stc: Segment, component: str) -> list[StatusReason]:
    message = element(stc, 12)
    found: list[StatusReason] = []
    for position in (1, 10, 11):  # STC01, and STC10/STC11 for further statuses
        value = element(stc, position)
        if not value:
            continue
        parts = value.split(component) + ["", ""]
        category, code, entity = parts[0], parts[1], parts[2]
        found.append(
            StatusReason(
                category=category,
                code=code,
                text=message if message and position == 1 else STATUS_TEXT.get(code, ""),
                entity=entity,
            )
        )
    return found


# ------------------------------------------------------------------------------------ helpers


def reply_envelope(
    claim_file: ClaimFile,
    *,
    interchange_control_number: int,
    group_control_number: int,
    created_at: datetime,
) -> Envelope:
    """The envelope of an acknowledgement of `claim_file`: from its receiver back to its sender."""
    return Envelope(
        sender_id=claim_file.submitter.receiver_id,
        receiver_id=claim_file.submitter.id,
        interchange_control_number=interchange_control_number,
        group_control_number=group_control_number,
        created_at=created_at,
        usage=claim_file.usage,
    )


def _group_code(codes: list[str]) -> str:
    """AK901 from the sets' IK501: all accepted (A), accepted with errors (E), none (R), or
    some (P)."""
    accepted = [c for c in codes if c in ("A", "E")]
    if not accepted:
        return "R"
    if len(accepted) < len(codes):
        return "P"
    return "E" if "E" in accepted else "A"


def _optional(value: str, max_length: int) -> str:
    return ident(value, max_length) if value else ""


def _number(value: str) -> int:
    if not value.isdigit():
        raise X12ValueError(f"{value!r} is not a control number")
    return int(value)


def _code(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise X12ValueError(f"acknowledgement code {value!r} is not one of {', '.join(allowed)}")
    return value
