"""`write_837`: a ClaimFile as an 837P (005010X222A1) interchange.

One interchange, one functional group (GS*HC), one transaction set (ST*837*0001). Claims are
grouped under one 2000A (HL 20) per billing provider, in the order each provider first appears
(claims keep their order within a provider); each claim has its own 2000B (HL 22) and, when the
patient is not the subscriber, 2000C (HL 23). Deterministic: the same ClaimFile gives the same
text, byte for byte (nothing here reads a clock or makes an id).

A claim X12 cannot carry as given is refused with X12ValueError, never written half right: no
lines or more than 50, no diagnosis or more than 12, a pointer outside the claim's diagnoses,
CLM02 not the sum of the lines, a replacement or void without the payer's claim control number,
a subscriber relationship (SBR02) that contradicts the patient loop.
"""

from __future__ import annotations

from collections.abc import Iterator

from services.billing.domain.events import PostalAddress
from services.billing.domain.x12.cas import write_cas
from services.billing.domain.x12.envelope import (
    TRANSACTION_SET_CONTROL_NUMBER,
    Envelope,
    enveloped,
)
from services.billing.domain.x12.model import (
    BillingProvider,
    Claim,
    ClaimFile,
    LineAdjudication,
    OtherSubscriber,
    Person,
    PersonName,
    ServiceLine,
)
from services.billing.domain.x12.segments import (
    Segment,
    X12ValueError,
    amount,
    ccyymmdd,
    composite,
    ident,
    segment,
    text,
    write,
)

VERSION = "005010X222A1"
MAX_LINES = 50
MAX_DIAGNOSES = 12
MAX_POINTERS = 4
REPLACING_FREQUENCIES = ("7", "8")


def write_837(file: ClaimFile) -> str:
    return write(segments_837(file))


def segments_837(file: ClaimFile) -> list[Segment]:
    """The segments of the whole interchange, ISA to IEA."""
    if not file.claims:
        raise X12ValueError("a claim file holds at least one claim")
    envelope = Envelope(
        sender_id=file.submitter.id,
        receiver_id=file.submitter.receiver_id,
        interchange_control_number=file.interchange_control_number,
        group_control_number=file.group_control_number,
        created_at=file.created_at,
        usage=file.usage,
    )
    return enveloped(envelope, "HC", VERSION, list(_transaction(file)))


def _transaction(file: ClaimFile) -> Iterator[Segment]:
    at = file.created_at
    submitter = file.submitter
    yield segment("ST", "837", TRANSACTION_SET_CONTROL_NUMBER, VERSION)
    yield segment(
        "BHT",
        "0019",
        "00",
        ident(file.batch_id, 30),
        ccyymmdd(at.date()),
        f"{at.hour:02d}{at.minute:02d}{at.second:02d}",
        "CH",
    )
    yield _organisation("41", submitter.name, "46", submitter.id)
    yield segment(
        "PER", "IC", text(submitter.contact_name, 60), "TE", ident(submitter.contact_phone, 256)
    )
    yield _organisation("40", submitter.receiver_name, "46", submitter.receiver_id)

    by_provider: dict[BillingProvider, list[Claim]] = {}
    for claim in file.claims:
        by_provider.setdefault(claim.billing_provider, []).append(claim)
    hl = 0
    for provider, claims in by_provider.items():
        hl += 1
        provider_hl = hl
        yield segment("HL", str(provider_hl), "", "20", "1")
        if provider.taxonomy_code:
            yield segment("PRV", "BI", "PXC", ident(provider.taxonomy_code, 50))
        yield _organisation("85", provider.name, "XX", provider.npi)
        yield from _address(provider.address)
        yield segment("REF", "EI", ident(provider.tin, 50))
        for claim in claims:
            hl += 1
            subscriber_hl = hl
            sub = claim.subscriber
            yield segment("HL", str(subscriber_hl), str(provider_hl), "22", _has_child(claim))
            yield segment(
                "SBR",
                ident(sub.payer_responsibility, 1),
                _optional_ident(sub.relationship, 2),
                _optional_ident(sub.group_number, 50),
                "",
                "",
                "",
                "",
                "",
                ident(sub.claim_filing_indicator, 2),
            )
            yield _person("IL", sub.person.name, "MI", sub.member_id)
            yield from _demographics(sub.person)
            yield _organisation("PR", sub.payer_name, "PI", sub.payer_id)
            if claim.patient is not None:
                hl += 1
                yield segment("HL", str(hl), str(subscriber_hl), "23", "0")
                yield segment("PAT", ident(claim.patient.relationship, 2))
                yield _person("QC", claim.patient.person.name, "", "")
                yield from _demographics(claim.patient.person)
            yield from _claim(claim)


def _has_child(claim: Claim) -> str:
    return "0" if claim.patient is None else "1"


def _claim(claim: Claim) -> Iterator[Segment]:
    _check(claim)
    yield segment(
        "CLM",
        ident(claim.claim_id, 20),
        amount(claim.total_cents),
        "",
        "",
        composite(ident(claim.place_of_service, 2), "B", ident(claim.frequency, 1)),
        "Y",
        "A",
        "Y",
        "Y",
    )
    if claim.frequency in REPLACING_FREQUENCIES:
        assert claim.payer_claim_control_number is not None  # _check
        yield segment("REF", "F8", ident(claim.payer_claim_control_number, 50))
    yield segment(
        "HI",
        *(
            composite("ABK" if n == 0 else "ABF", ident(code, 7))
            for n, code in enumerate(claim.diagnoses)
        ),
    )
    if claim.rendering is not None:
        yield _person("82", claim.rendering.name, "XX", claim.rendering.npi)
        yield segment("PRV", "PE", "PXC", ident(claim.rendering.taxonomy_code, 50))
    facility = claim.facility
    if facility is not None and facility.address != claim.billing_provider.address:
        yield _organisation("77", facility.name, "XX" if facility.npi else "", facility.npi or "")
        yield from _address(facility.address)
    for other in claim.other_subscribers:
        yield from _other_subscriber(other)
    for number, line in enumerate(claim.lines, start=1):
        yield from _line(number, line)


def _check(claim: Claim) -> None:
    cid = claim.claim_id
    if not claim.lines or len(claim.lines) > MAX_LINES:
        raise X12ValueError(f"claim {cid}: {len(claim.lines)} lines (1 to {MAX_LINES})")
    if not claim.diagnoses or len(claim.diagnoses) > MAX_DIAGNOSES:
        raise X12ValueError(f"claim {cid}: {len(claim.diagnoses)} diagnoses (1 to 12)")
    if claim.total_cents != sum(line.charge_cents for line in claim.lines):
        raise X12ValueError(f"claim {cid}: the total is not the sum of its lines")
    if claim.subscriber.relationship != ("18" if claim.patient is None else ""):
        raise X12ValueError(
            f"claim {cid}: SBR02 is 18 when the patient is the subscriber, and empty when not"
        )
    if claim.frequency in REPLACING_FREQUENCIES and not claim.payer_claim_control_number:
        raise X12ValueError(f"claim {cid}: a replacement or void names the claim it replaces")
    for line in claim.lines:
        pointers = line.diagnosis_pointers
        if not 0 < len(pointers) <= MAX_POINTERS:
            raise X12ValueError(f"claim {cid}: a line points to 1 to 4 diagnoses")
        if any(not 0 < p <= len(claim.diagnoses) for p in pointers):
            raise X12ValueError(f"claim {cid}: a diagnosis pointer is out of range")
        if len(line.modifiers) > 4:
            raise X12ValueError(f"claim {cid}: a line has more than 4 modifiers")
        if line.units <= 0:
            raise X12ValueError(f"claim {cid}: a line has no units")


def _other_subscriber(other: OtherSubscriber) -> Iterator[Segment]:
    yield segment(
        "SBR",
        ident(other.payer_responsibility, 1),
        ident(other.relationship, 2),
        _optional_ident(other.group_number, 50),
        "",
        "",
        "",
        "",
        "",
        ident(other.claim_filing_indicator, 2),
    )
    yield from write_cas(other.adjustments)
    if other.paid_cents is not None:
        yield segment("AMT", "D", amount(other.paid_cents))
    yield segment("OI", "", "", "Y", "P", "", "Y")
    yield _person("IL", other.name, "MI", other.member_id)
    yield _organisation("PR", other.payer_name, "PI", other.payer_id)
    if other.adjudicated_on is not None:
        yield segment("DTP", "573", "D8", ccyymmdd(other.adjudicated_on))


def _line(number: int, line: ServiceLine) -> Iterator[Segment]:
    yield segment("LX", str(number))
    yield segment(
        "SV1",
        _procedure(line.code, line.modifiers),
        amount(line.charge_cents),
        "UN",
        str(line.units),
        "",
        "",
        composite(*(str(p) for p in line.diagnosis_pointers)),
    )
    yield segment("DTP", "472", "D8", ccyymmdd(line.date_of_service))
    if line.control_number:
        yield segment("REF", "6R", ident(line.control_number, 50))
    for adjudication in line.prior_adjudications:
        yield from _line_adjudication(adjudication)


def _line_adjudication(adjudication: LineAdjudication) -> Iterator[Segment]:
    yield segment(
        "SVD",
        ident(adjudication.payer_id, 80),
        amount(adjudication.paid_cents),
        _procedure(adjudication.code, adjudication.modifiers),
        "",
        str(adjudication.units),
    )
    yield from write_cas(adjudication.adjustments)
    yield segment("DTP", "573", "D8", ccyymmdd(adjudication.adjudicated_on))


def _procedure(code: str, modifiers: tuple[str, ...]) -> str:
    return composite("HC", ident(code, 48), *(ident(m, 2) for m in modifiers))


def _organisation(entity: str, name: str, qualifier: str, identifier: str) -> Segment:
    return segment(
        "NM1",
        entity,
        "2",
        _required_text(name, 60),
        "",
        "",
        "",
        "",
        qualifier,
        ident(identifier, 80) if qualifier else "",
    )


def _person(entity: str, name: PersonName, qualifier: str, identifier: str) -> Segment:
    return segment(
        "NM1",
        entity,
        "1",
        _required_text(name.last, 60),
        text(name.first, 35),
        text(name.middle, 25),
        "",
        "",
        qualifier,
        ident(identifier, 80) if qualifier else "",
    )


def _demographics(person: Person) -> Iterator[Segment]:
    if person.address is not None:
        yield from _address(person.address)
    if person.birth_date is not None:
        yield segment("DMG", "D8", ccyymmdd(person.birth_date), ident(person.sex, 1))


def _address(address: PostalAddress) -> Iterator[Segment]:
    yield segment("N3", _required_text(address.line1, 55), text(address.line2, 55))
    yield segment(
        "N4",
        _required_text(address.city, 30),
        ident(address.state, 2),
        ident(address.postal_code, 15),
    )


def _required_text(value: str, max_length: int) -> str:
    cleaned = text(value, max_length)
    if not cleaned:
        raise X12ValueError("a required name or address line is empty once made safe")
    return cleaned


def _optional_ident(value: str, max_length: int) -> str:
    return ident(value, max_length) if value else ""
