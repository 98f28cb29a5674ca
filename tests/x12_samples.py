"""ClaimFiles for tests: a plain claim and the pieces to vary it. Synthetic people only."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from services.billing.domain.events import Adjustment, PostalAddress
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

DAY = date(2026, 11, 20)
SUBMITTER = Submitter(
    name="RIVERSIDE MEDICAL GROUP",
    id="RMG0001",
    contact_name="BILLING OFFICE",
    contact_phone="2125550100",
    receiver_name="LOOPBACK CLEARINGHOUSE",
    receiver_id="LOOPBACK01",
)
BILLING_PROVIDER = BillingProvider(
    name="RIVERSIDE MEDICAL GROUP",
    npi="1234567893",
    tin="123456789",
    taxonomy_code="207Q00000X",
    address=PostalAddress(line1="100 MAIN ST", city="SPRINGFIELD", state="IL", postal_code="62701"),
)
OTHER_SITE = BillingProvider(
    name="RIVERSIDE MEDICAL GROUP EAST",
    npi="1245319599",
    tin="123456789",
    taxonomy_code="207Q00000X",
    address=PostalAddress(
        line1="9 LAKE RD", city="SPRINGFIELD", state="IL", postal_code="627040001"
    ),
)
RENDERING = RenderingProvider(
    name=PersonName(last="HOUSE", first="GREGORY"), npi="1497758544", taxonomy_code="207Q00000X"
)
SUBSCRIBER_AS_PATIENT = Person(
    name=PersonName(last="DOE", first="JANE", middle="Q"),
    address=PostalAddress(
        line1="12 ELM ST", line2="APT 4", city="SPRINGFIELD", state="IL", postal_code="62702"
    ),
    birth_date=date(1980, 5, 17),
    sex="F",
)


def subscriber(person: Person = SUBSCRIBER_AS_PATIENT, *, relationship: str = "18") -> Subscriber:
    return Subscriber(
        payer_responsibility="P",
        relationship=relationship,
        group_number="GRP100",
        claim_filing_indicator="CI",
        member_id="XYZ123456789",
        person=person,
        payer_name="ACME HEALTH PLAN",
        payer_id="60054",
    )


def line(n: int, code: str = "99213", cents: int = 12500, **changes: object) -> ServiceLine:
    base = ServiceLine(
        control_number=f"L{n:04d}",
        code=code,
        modifiers=(),
        charge_cents=cents,
        units=1,
        diagnosis_pointers=(1,),
        date_of_service=DAY,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def claim(
    claim_id: str = "C0001", lines: tuple[ServiceLine, ...] | None = None, **changes: object
) -> Claim:
    the_lines = lines if lines is not None else _lines(claim_id)
    base = Claim(
        claim_id=claim_id,
        billing_provider=BILLING_PROVIDER,
        total_cents=sum(x.charge_cents for x in the_lines),
        place_of_service="11",
        frequency="1",
        diagnoses=("E119", "I10"),
        subscriber=subscriber(),
        patient=None,
        rendering=RENDERING,
        facility=None,
        lines=the_lines,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _lines(claim_id: str) -> tuple[ServiceLine, ...]:
    return (
        replace(line(1), control_number=f"{claim_id}-1"),
        replace(line(2, "36415", 1800, diagnosis_pointers=(1, 2)), control_number=f"{claim_id}-2"),
    )


def claim_file(*claims: Claim, **changes: object) -> ClaimFile:
    base = ClaimFile(
        interchange_control_number=42,
        group_control_number=42,
        created_at=datetime(2026, 11, 26, 9, 5, 30),  # noqa: DTZ001 - wall time of the group's zone
        usage="T",
        submitter=SUBMITTER,
        claims=claims or (claim(),),
        batch_id="B000042",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def dependant_claim(claim_id: str = "C0002") -> Claim:
    parent = Person(name=PersonName(last="DOE", first="JOHN"))
    child = Person(
        name=PersonName(last="DOE", first="JIMMY"),
        address=SUBSCRIBER_AS_PATIENT.address,
        birth_date=date(2015, 2, 3),
        sex="M",
    )
    return claim(
        claim_id,
        subscriber=subscriber(parent, relationship=""),
        patient=Patient(relationship="19", person=child),
    )


def secondary_claim(claim_id: str = "C0003") -> Claim:
    """A claim to the secondary payer, with what the primary paid and adjusted."""
    base = claim(claim_id)
    primary_paid = (9000, 0)
    adjudicated = []
    for paid, the_line in zip(primary_paid, base.lines, strict=True):
        adjudicated.append(
            replace(
                the_line,
                prior_adjudications=(
                    LineAdjudication(
                        payer_id="60054",
                        paid_cents=paid,
                        code=the_line.code,
                        modifiers=the_line.modifiers,
                        units=the_line.units,
                        adjustments=(
                            Adjustment(
                                group="CO",
                                reason="45",
                                amount_cents=the_line.charge_cents - paid - 500,
                            ),
                            Adjustment(group="PR", reason="2", amount_cents=500),
                        ),
                        adjudicated_on=date(2026, 11, 24),
                    ),
                ),
            )
        )
    total_paid = sum(primary_paid)
    return replace(
        base,
        lines=tuple(adjudicated),
        subscriber=replace(
            base.subscriber,
            payer_responsibility="S",
            payer_name="SECOND CHANCE INSURANCE",
            payer_id="77777",
            member_id="SC998877",
            claim_filing_indicator="CI",
        ),
        other_subscribers=(
            OtherSubscriber(
                payer_responsibility="P",
                relationship="18",
                group_number="GRP100",
                claim_filing_indicator="CI",
                member_id="XYZ123456789",
                name=SUBSCRIBER_AS_PATIENT.name,
                payer_name="ACME HEALTH PLAN",
                payer_id="60054",
                paid_cents=total_paid,
                adjustments=(),
                adjudicated_on=date(2026, 11, 24),
            ),
        ),
    )


FACILITY = ServiceFacility(
    name="RIVERSIDE SURGERY CENTER",
    address=PostalAddress(
        line1="55 RIVER WAY", city="SPRINGFIELD", state="IL", postal_code="62703"
    ),
    npi="1659337533",
)


def many_lines(claim_id: str, count: int) -> tuple[ServiceLine, ...]:
    return tuple(
        replace(line(n, cents=1000 + n), control_number=f"{claim_id}-{n}")
        for n in range(1, count + 1)
    )


SHAPES: dict[str, ClaimFile] = {
    "patient is subscriber": claim_file(claim()),
    "dependant (HL 23)": claim_file(dependant_claim()),
    "secondary with 2320/2330 and 2430": claim_file(secondary_claim()),
    "replacement (7)": claim_file(claim(frequency="7", payer_claim_control_number="PAYER0001")),
    "void (8)": claim_file(claim(frequency="8", payer_claim_control_number="PAYER0002")),
    "several billing providers": claim_file(
        claim("C1"),
        dependant_claim("C3"),
        claim("C2", billing_provider=OTHER_SITE),
        claim("C4", billing_provider=OTHER_SITE, facility=FACILITY),
    ),
    "12 diagnoses": claim_file(
        claim(
            diagnoses=(
                "E119",
                "I10",
                "J069",
                "M545",
                "R51",
                "Z0000",
                "E785",
                "F419",
                "K219",
                "N390",
                "R0602",
                "S8001XA",
            ),
            lines=(
                replace(line(1), control_number="D-1", diagnosis_pointers=(1, 2, 3, 4)),
                replace(line(2), control_number="D-2", diagnosis_pointers=(9, 10, 11, 12)),
            ),
        )
    ),
    "50 lines": claim_file(claim("C50", lines=many_lines("C50", 50))),
    "modifiers": claim_file(
        claim(
            lines=(
                replace(line(1, "99214", 20000), control_number="M-1", modifiers=("25",)),
                replace(
                    line(2, "20610", 15075),
                    control_number="M-2",
                    modifiers=("RT", "59", "XS", "76"),
                ),
            )
        )
    ),
    "service facility elsewhere": claim_file(claim(facility=FACILITY)),
    "no rendering provider": claim_file(claim(rendering=None)),
    "facility without an NPI": claim_file(claim(facility=replace(FACILITY, npi=None))),
    "units and cents": claim_file(
        claim(lines=(replace(line(1, "J3301", 1005), control_number="U-1", units=4),))
    ),
    "hostile names": claim_file(
        claim(
            subscriber=subscriber(
                Person(
                    name=PersonName(last="o'brien*smith~jr", first="José:María^", middle="ñ"),
                    address=PostalAddress(
                        line1="12 rue de l'Église * apt ~3",
                        city="Saint-Étienne",
                        state="IL",
                        postal_code="62702",
                    ),
                    birth_date=date(1990, 1, 2),
                    sex="U",
                )
            )
        )
    ),
}


def every_shape() -> ClaimFile:
    """One file holding a claim of every shape above (claim ids and line ids renumbered)."""
    claims = tuple(c for name, f in SHAPES.items() if name != "hostile names" for c in f.claims)
    numbered = tuple(
        replace(
            c,
            claim_id=f"Z{n}",
            lines=tuple(replace(x, control_number=f"Z{n}-{i}") for i, x in enumerate(c.lines)),
        )
        for n, c in enumerate(claims)
    )
    return claim_file(*numbered, *SHAPES["hostile names"].claims)
