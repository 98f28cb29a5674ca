"""`read_837`: an 837P interchange back into the ClaimFile model.

Tolerant of what published files do differently, as long as the model can hold the meaning:
- any separators the ISA declares, any layout (newlines, CR LF) between segments;
- 005010X222A1 or X222A2 version tags; ICD-9 (BK/BF) as well as ICD-10 (ABK/ABF) diagnosis
  qualifiers (codes kept as written, dots dropped); payer ids under PI or XV;
- a billing provider named as a person (NM102 = 1: "LAST FIRST"); a date of service given as a
  range (RD8: its first day); several claims under one subscriber; lines without REF*6R
  (control number "");
- segments and loops the model does not hold (pay-to address, referring providers, NTE, PWK,
  DME, drugs, ...) are skipped.
Free text is normalised as the writer writes it (upper case, X12 character set), so that a
parsed file written again and parsed again gives the same model. A service facility at the
billing provider's address is dropped, as the writer would not write it.
What the model needs and the file lacks (a claim without CLM02, a line adjudication without
its date) is refused with X12ValueError.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from services.billing.domain.events import Adjustment, PostalAddress
from services.billing.domain.x12.cas import read_cas
from services.billing.domain.x12.model import (
    BillingProvider,
    Claim,
    ClaimFile,
    LineAdjudication,
    OtherSubscriber,
    Patient,
    Person,
    PersonName,
    RenderingProvider,
    ServiceFacility,
    ServiceLine,
    Submitter,
    Subscriber,
)
from services.billing.domain.x12.segments import (
    Segment,
    Separators,
    X12ValueError,
    cents_of,
    date_of,
    element,
    text,
    time_of,
    tokenise,
    whole_number,
)

DIAGNOSIS_QUALIFIERS = {"ABK", "ABF", "BK", "BF"}


def read_837(content: str) -> ClaimFile:
    seps, segments = tokenise(content)
    return _Reader(seps).read(segments)


# ---------------------------------------------------------------- mutable drafts while reading


@dataclass
class _Name:
    entity_type: str = "1"
    last: str = ""
    first: str = ""
    middle: str = ""
    qualifier: str = ""
    identifier: str = ""
    address: PostalAddress | None = None
    line1: str = ""
    line2: str = ""
    birth_date: date | None = None
    sex: str = "U"

    def person_name(self) -> PersonName:
        return PersonName(last=self.last, first=self.first, middle=self.middle)

    def organisation(self) -> str:
        if self.entity_type == "1":
            return text(" ".join(p for p in (self.last, self.first, self.middle) if p), 60)
        return self.last

    def person(self) -> Person:
        return Person(
            name=self.person_name(), address=self.address, birth_date=self.birth_date, sex=self.sex
        )


@dataclass
class _Provider:
    taxonomy: str = ""
    name: _Name = field(default_factory=_Name)
    tin: str = ""

    def build(self) -> BillingProvider:
        if self.name.address is None:
            raise X12ValueError("a billing provider (2010AA) has no address")
        return BillingProvider(
            name=self.name.organisation(),
            npi=self.name.identifier,
            tin=self.tin,
            taxonomy_code=self.taxonomy,
            address=self.name.address,
        )


@dataclass
class _SubscriberDraft:
    sbr: Segment = ("SBR",)
    insured: _Name = field(default_factory=_Name)
    payer: _Name = field(default_factory=_Name)
    patient_relationship: str | None = None
    patient: _Name | None = None


@dataclass
class _OtherDraft:
    sbr: Segment
    adjustments: list[Adjustment] = field(default_factory=list)
    paid_cents: int | None = None
    insured: _Name = field(default_factory=_Name)
    payer: _Name = field(default_factory=_Name)
    adjudicated_on: date | None = None


@dataclass
class _AdjudicationDraft:
    svd: Segment
    adjustments: list[Adjustment] = field(default_factory=list)
    adjudicated_on: date | None = None


@dataclass
class _LineDraft:
    sv1: Segment
    date_of_service: date | None = None
    control_number: str = ""
    adjudications: list[_AdjudicationDraft] = field(default_factory=list)


@dataclass
class _ClaimDraft:
    clm: Segment
    provider: BillingProvider
    subscriber: _SubscriberDraft
    payer_claim_control_number: str | None = None
    diagnoses: list[str] = field(default_factory=list)
    rendering: _Name | None = None
    rendering_taxonomy: str = ""
    facility: _Name | None = None
    others: list[_OtherDraft] = field(default_factory=list)
    lines: list[_LineDraft] = field(default_factory=list)


class _Reader:
    def __init__(self, seps: Separators) -> None:
        self.seps = seps
        self.header: dict[str, Segment] = {}
        self.submitter = _Name()
        self.receiver = _Name()
        self.contact: Segment = ("PER",)
        self.provider: _Provider | None = None
        self.built_provider: BillingProvider | None = None
        self.subscriber: _SubscriberDraft | None = None
        self.claims: list[_ClaimDraft] = []
        self.claim: _ClaimDraft | None = None
        self.loop = ""  # where N3/N4/DMG/REF/CAS/DTP/AMT belong: the last loop opened
        self.name: _Name | None = None  # the last NM1 read (for N3/N4/DMG)

    def read(self, segments: list[Segment]) -> ClaimFile:
        for seg in segments:
            self.segment(seg)
        for tag in ("ISA", "GS", "BHT"):
            if tag not in self.header:
                raise X12ValueError(f"the file has no {tag} segment")
        if not self.claims:
            raise X12ValueError("the file holds no claim")
        isa, gs, bht = self.header["ISA"], self.header["GS"], self.header["BHT"]
        try:
            return ClaimFile(
                interchange_control_number=int(element(isa, 13)),
                group_control_number=int(element(gs, 6)),
                created_at=self.created_at(bht),
                usage=element(isa, 15),
                submitter=Submitter(
                    name=self.submitter.organisation(),
                    id=self.submitter.identifier,
                    contact_name=text(element(self.contact, 2), 60),
                    contact_phone=self.phone(),
                    receiver_name=self.receiver.organisation(),
                    receiver_id=self.receiver.identifier,
                ),
                claims=tuple(self.build(c) for c in self.claims),
                batch_id=element(bht, 3),
            )
        except ValueError as error:
            raise X12ValueError(str(error)) from error

    @staticmethod
    def created_at(bht: Segment) -> datetime:
        return time_of(date_of(element(bht, 4)), element(bht, 5))

    def phone(self) -> str:
        for n in (3, 5, 7):
            if element(self.contact, n) == "TE":
                return element(self.contact, n + 1)
        return ""

    # ------------------------------------------------------------------------- one segment

    def segment(self, seg: Segment) -> None:
        tag = seg[0]
        if tag in ("ISA", "GS", "BHT"):
            self.header[tag] = seg
        elif tag == "HL":
            self.hierarchy(seg)
        elif tag == "NM1":
            self.entity(seg)
        elif tag == "N3":
            if self.name is not None:
                self.name.line1, self.name.line2 = element(seg, 1), element(seg, 2)
        elif tag == "N4":
            if self.name is not None:
                self.name.address = PostalAddress(
                    line1=text(self.name.line1, 55),
                    line2=text(self.name.line2, 55),
                    city=text(element(seg, 1), 30),
                    state=element(seg, 2),
                    postal_code=element(seg, 3),
                )
        elif tag == "DMG":
            if self.name is not None and element(seg, 1) == "D8":
                self.name.birth_date = date_of(element(seg, 2))
                self.name.sex = element(seg, 3) or "U"
        elif tag == "PER" and self.loop == "1000A":
            self.contact = seg
        elif tag == "PRV":
            self.taxonomy(seg)
        elif tag == "REF":
            self.reference(seg)
        elif tag == "SBR":
            self.insurance(seg)
        elif tag == "PAT":
            if self.subscriber is not None:
                self.subscriber.patient_relationship = element(seg, 1)
        elif tag == "CLM":
            self.open_claim(seg)
        else:
            self.claim_segment(seg)

    def hierarchy(self, seg: Segment) -> None:
        level = element(seg, 3)
        self.name = None
        if level == "20":
            self.provider = _Provider()
            self.built_provider = None
            self.subscriber = None
            self.loop = "2000A"
        elif level == "22":
            self.subscriber = _SubscriberDraft()
            self.loop = "2000B"
        elif level == "23":
            self.loop = "2000C"
        else:
            self.loop = "other"
        self.claim = None

    def entity(self, seg: Segment) -> None:
        code = element(seg, 1)
        name = _Name(
            entity_type=element(seg, 2),
            last=text(element(seg, 3), 60),
            first=text(element(seg, 4), 35),
            middle=text(element(seg, 5), 25),
            qualifier=element(seg, 8),
            identifier=element(seg, 9),
        )
        self.name = name
        if code == "41":
            self.submitter, self.loop = name, "1000A"
        elif code == "40":
            self.receiver, self.loop = name, "1000B"
        elif code == "85" and self.provider is not None:
            self.provider.name, self.loop = name, "2010AA"
        elif self.claim is None and self.subscriber is not None and code in ("IL", "PR", "QC"):
            if code == "IL":
                self.subscriber.insured = name
            elif code == "PR":
                self.subscriber.payer = name
            else:
                self.subscriber.patient = name
            self.loop = f"2010-{code}"
        elif (
            self.claim is not None
            and self.loop.startswith(("2320", "2330"))
            and code in ("IL", "PR")
        ):
            other = self.claim.others[-1]
            if code == "IL":
                other.insured = name
            else:
                other.payer = name
            self.loop = "2330-" + code
        elif self.claim is not None and self.loop in ("2300", "2310") and code in ("82", "77"):
            if code == "82":
                self.claim.rendering = name
            else:
                self.claim.facility = name
            self.loop = "2310"
        else:
            self.name = None  # a loop the model does not hold: its N3/N4 go nowhere
            if self.claim is not None and self.loop.startswith("24"):
                self.loop = "2420"
            elif self.claim is not None and self.loop in ("2300", "2310"):
                self.loop = "2310"
            elif self.loop in ("2000A", "2010AA"):
                self.loop = "2010AB"

    def taxonomy(self, seg: Segment) -> None:
        if element(seg, 1) == "BI" and self.provider is not None and self.claim is None:
            self.provider.taxonomy = element(seg, 3)
        elif element(seg, 1) == "PE" and self.claim is not None and self.claim.rendering:
            self.claim.rendering_taxonomy = element(seg, 3)

    def reference(self, seg: Segment) -> None:
        qualifier = element(seg, 1)
        if qualifier == "EI" and self.loop == "2010AA" and self.provider is not None:
            self.provider.tin = element(seg, 2)
        elif qualifier == "F8" and self.claim is not None and self.loop == "2300":
            self.claim.payer_claim_control_number = element(seg, 2)
        elif qualifier == "6R" and self.claim is not None and self.loop == "2400":
            self.claim.lines[-1].control_number = element(seg, 2)

    def insurance(self, seg: Segment) -> None:
        if self.claim is None:
            if self.subscriber is not None:
                self.subscriber.sbr = seg
            return
        self.claim.others.append(_OtherDraft(sbr=seg))
        self.loop = "2320"
        self.name = None

    def open_claim(self, seg: Segment) -> None:
        if self.subscriber is None or self.provider is None:
            raise X12ValueError("a CLM outside a subscriber loop")
        if self.built_provider is None:
            self.built_provider = self.provider.build()
        self.claim = _ClaimDraft(clm=seg, provider=self.built_provider, subscriber=self.subscriber)
        self.claims.append(self.claim)
        self.loop = "2300"
        self.name = None

    def claim_segment(self, seg: Segment) -> None:
        claim = self.claim
        if claim is None:
            return
        tag = seg[0]
        if tag == "HI":
            for value in seg[1:]:
                parts = value.split(self.seps.component)
                if parts[0] in DIAGNOSIS_QUALIFIERS and len(parts) > 1:
                    claim.diagnoses.append(parts[1].replace(".", ""))
        elif tag == "LX":
            self.loop, self.name = "2400", None
        elif tag == "SV1":
            claim.lines.append(_LineDraft(sv1=seg))
        elif tag == "DTP":
            self.dated(claim, seg)
        elif tag == "CAS":
            adjustments = read_cas(seg)
            if self.loop == "2320":
                claim.others[-1].adjustments += adjustments
            elif self.loop == "2430":
                claim.lines[-1].adjudications[-1].adjustments += adjustments
        elif tag == "AMT" and self.loop == "2320" and element(seg, 1) == "D":
            claim.others[-1].paid_cents = cents_of(element(seg, 2))
        elif tag == "SVD" and claim.lines:
            claim.lines[-1].adjudications.append(_AdjudicationDraft(svd=seg))
            self.loop = "2430"
        elif tag in ("LIN", "CTP"):
            self.loop = "2410"

    def dated(self, claim: _ClaimDraft, seg: Segment) -> None:
        qualifier = element(seg, 1)
        if qualifier == "472" and self.loop == "2400" and claim.lines:
            claim.lines[-1].date_of_service = date_of(element(seg, 3))
        elif qualifier == "573" and self.loop == "2430":
            claim.lines[-1].adjudications[-1].adjudicated_on = date_of(element(seg, 3))
        elif qualifier == "573" and self.loop == "2330-PR":
            claim.others[-1].adjudicated_on = date_of(element(seg, 3))

    # ----------------------------------------------------------------------------- building

    def build(self, draft: _ClaimDraft) -> Claim:
        clm = draft.clm
        sub = draft.subscriber
        sbr = sub.sbr
        facility: ServiceFacility | None = None
        if draft.facility is not None and draft.facility.address is not None:
            if draft.facility.address != draft.provider.address:
                facility = ServiceFacility(
                    name=draft.facility.organisation(),
                    address=draft.facility.address,
                    npi=draft.facility.identifier or None,
                )
        patient = None
        if sub.patient is not None:
            patient = Patient(
                relationship=sub.patient_relationship or "", person=sub.patient.person()
            )
        position = element(clm, 5).split(self.seps.component)
        return Claim(
            claim_id=element(clm, 1),
            billing_provider=draft.provider,
            total_cents=cents_of(element(clm, 2)),
            place_of_service=position[0],
            frequency=position[2] if len(position) > 2 else "",
            diagnoses=tuple(draft.diagnoses),
            subscriber=Subscriber(
                payer_responsibility=element(sbr, 1),
                relationship=element(sbr, 2),
                group_number=element(sbr, 3),
                claim_filing_indicator=element(sbr, 9),
                member_id=sub.insured.identifier,
                person=sub.insured.person(),
                payer_name=sub.payer.organisation(),
                payer_id=sub.payer.identifier,
            ),
            patient=patient,
            rendering=(
                None
                if draft.rendering is None
                else RenderingProvider(
                    name=draft.rendering.person_name(),
                    npi=draft.rendering.identifier,
                    taxonomy_code=draft.rendering_taxonomy,
                )
            ),
            facility=facility,
            lines=tuple(self.line(line) for line in draft.lines),
            payer_claim_control_number=draft.payer_claim_control_number,
            other_subscribers=tuple(_other(other) for other in draft.others),
        )

    def line(self, draft: _LineDraft) -> ServiceLine:
        sv1 = draft.sv1
        code, modifiers = self.procedure(element(sv1, 1))
        if draft.date_of_service is None:
            raise X12ValueError("a service line (2400) has no DTP*472 date of service")
        pointers = element(sv1, 7)
        return ServiceLine(
            control_number=draft.control_number,
            code=code,
            modifiers=modifiers,
            charge_cents=cents_of(element(sv1, 2)),
            units=whole_number(element(sv1, 4) or "1"),
            diagnosis_pointers=tuple(int(p) for p in pointers.split(self.seps.component) if p),
            date_of_service=draft.date_of_service,
            prior_adjudications=tuple(self.adjudication(a) for a in draft.adjudications),
        )

    def adjudication(self, draft: _AdjudicationDraft) -> LineAdjudication:
        svd = draft.svd
        code, modifiers = self.procedure(element(svd, 3))
        if draft.adjudicated_on is None:
            raise X12ValueError("a line adjudication (2430) has no DTP*573 date")
        return LineAdjudication(
            payer_id=element(svd, 1),
            paid_cents=cents_of(element(svd, 2)),
            code=code,
            modifiers=modifiers,
            units=whole_number(element(svd, 5) or "1"),
            adjustments=tuple(draft.adjustments),
            adjudicated_on=draft.adjudicated_on,
        )

    def procedure(self, value: str) -> tuple[str, tuple[str, ...]]:
        parts = value.split(self.seps.component)
        if len(parts) < 2:
            raise X12ValueError(f"{value!r} is not a procedure (qualifier:code)")
        # SV101-7 is a description, not a modifier: keep components 3 to 6 only.
        return parts[1], tuple(m for m in parts[2:6] if m)


def _other(draft: _OtherDraft) -> OtherSubscriber:
    sbr = draft.sbr
    return OtherSubscriber(
        payer_responsibility=element(sbr, 1),
        relationship=element(sbr, 2),
        group_number=element(sbr, 3),
        claim_filing_indicator=element(sbr, 9),
        member_id=draft.insured.identifier,
        name=draft.insured.person_name(),
        payer_name=draft.payer.organisation(),
        payer_id=draft.payer.identifier,
        paid_cents=draft.paid_cents,
        adjustments=tuple(draft.adjustments),
        adjudicated_on=draft.adjudicated_on,
    )
