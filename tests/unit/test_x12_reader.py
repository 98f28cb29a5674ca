"""The 837P reader: the public X12 examples round-trip (segments, and the model through our
writer), and everything our writer writes parses back to the ClaimFile it came from."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest

from services.billing.domain.events import Adjustment
from services.billing.domain.x12.reader837 import read_837
from services.billing.domain.x12.segments import (
    Separators,
    X12ValueError,
    separators_of,
    tokenise,
    write,
)
from services.billing.domain.x12.writer837 import write_837
from tests.x12_checks import pyx12_verdict
from tests.x12_samples import (
    FACILITY,
    OTHER_SITE,
    SHAPES,
    claim,
    claim_file,
    every_shape,
    secondary_claim,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "x12"
EXAMPLES = sorted(FIXTURES.glob("*.837"))


def example(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="ascii")


def test_the_examples_are_there_with_their_licence() -> None:
    assert len(EXAMPLES) == 12
    assert (FIXTURES / "NOTICE").is_file()
    assert (FIXTURES / "LinuxForHealth-x12-Apache-2.0.txt").is_file()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_segments_written_back_equal_the_original(path: Path) -> None:
    original = path.read_text(encoding="ascii")
    seps, segments = tokenise(original)
    written = write(segments, seps)
    assert tokenise(written)[1] == segments
    assert written.rstrip("\n") == original.rstrip("\n")  # the same bytes, layout and all


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_model_round_trips_through_the_writer(path: Path) -> None:
    parsed = read_837(path.read_text(encoding="ascii"))
    assert read_837(write_837(parsed)) == parsed


@pytest.mark.parametrize("path", [p for p in EXAMPLES if "x222a1" in p.name], ids=lambda p: p.name)
def test_the_patched_examples_pass_pyx12_before_and_after_our_writer(path: Path) -> None:
    assert pyx12_verdict(path.read_text(encoding="ascii"))[0]
    assert pyx12_verdict(write_837(read_837(path.read_text(encoding="ascii"))))[0]


def test_what_the_commercial_example_says() -> None:
    parsed = read_837(example("lfh-demo.example1.837"))
    assert parsed.interchange_control_number == 907
    assert parsed.group_control_number == 1
    assert parsed.batch_id == "244579"
    assert parsed.created_at == datetime(2006, 10, 15, 10, 23)  # noqa: DTZ001 - BHT wall time
    assert parsed.submitter.id == "TGJ23"
    assert parsed.submitter.contact_phone == "3055552222"
    (only,) = parsed.claims
    assert only.claim_id == "26463774"
    assert only.total_cents == 10000
    assert only.diagnoses == ("0340", "V7389")  # ICD-9 under BK/BF, kept as written
    assert only.billing_provider.taxonomy_code == "203BF0100Y"
    assert only.billing_provider.address.postal_code == "331110000"  # not the pay-to's
    assert only.billing_provider.tin == "587654321"
    assert only.patient is not None
    assert only.patient.relationship == "19"
    assert only.patient.person.birth_date == date(1973, 5, 1)
    assert only.subscriber.member_id == "JS00111223333"
    assert only.subscriber.person.address is None
    assert [line.charge_cents for line in only.lines] == [4000, 1500, 3500, 1000]
    assert [line.diagnosis_pointers for line in only.lines] == [(1,), (1,), (2,), (2,)]
    assert only.lines[2].date_of_service == date(2006, 10, 10)


def test_what_the_secondary_example_says() -> None:
    (secondary,) = read_837(example("lfh-demo.cob.example3.B.837")).claims
    assert secondary.subscriber.payer_responsibility == "S"
    assert secondary.billing_provider.name == "KILDARE BEN"  # a person as billing provider
    (primary,) = secondary.other_subscribers
    assert primary.paid_cents == 3915
    assert primary.adjustments == (
        Adjustment(group="PR", reason="1", amount_cents=2189),
        Adjustment(group="PR", reason="2", amount_cents=1500),
    )
    assert primary.payer_id == "999996666"
    assert primary.relationship == "01"
    first = secondary.lines[0].prior_adjudications[0]
    assert (first.paid_cents, first.code, first.units) == (4000, "99213", 1)
    assert first.adjustments == (Adjustment(group="CO", reason="42", amount_cents=300),)
    assert first.adjudicated_on == date(2005, 10, 15)
    assert secondary.facility is not None
    assert secondary.facility.npi == "1581234567"


def test_what_the_drug_example_says() -> None:
    (drugs,) = read_837(example("lfh-demo.drug.example10.2.837")).claims
    assert drugs.subscriber.payer_id == "PLANID12345"  # under XV, not PI
    assert drugs.subscriber.person.name.last == "SMITH"  # upper-cased as the writer would
    assert [line.units for line in drugs.lines] == [7, 7, 14, 7, 14, 7]
    assert drugs.lines[0].date_of_service == date(2004, 2, 1)  # the first day of an RD8 range
    assert drugs.total_cents == sum(line.charge_cents for line in drugs.lines)


def test_what_the_dme_example_says() -> None:
    (dme,) = read_837(example("lfh-demo.example7.837")).claims
    assert dme.claim_id == "R03996273 #01"
    assert [(line.code, line.modifiers) for line in dme.lines] == [
        ("E1390", ("RR",)),
        ("E0431", ("RR",)),
    ]


# ---------------------------------------------------------- what our writer writes reads back


@pytest.mark.parametrize("shape", [s for s in SHAPES if s != "hostile names"])
def test_what_the_writer_writes_parses_back_to_the_same_claim_file(shape: str) -> None:
    assert read_837(write_837(SHAPES[shape])) == SHAPES[shape]


def test_hostile_names_read_back_as_written_and_then_stay_put() -> None:
    once = read_837(write_837(SHAPES["hostile names"]))
    assert once.claims[0].subscriber.person.name.first == "JOSE MARIA"
    assert read_837(write_837(once)) == once
    assert write_837(once) == write_837(SHAPES["hostile names"])


def test_claims_read_back_grouped_under_their_billing_provider() -> None:
    interleaved = claim_file(claim("A1"), claim("B1", billing_provider=OTHER_SITE), claim("A2"))
    parsed = read_837(write_837(interleaved))
    assert [c.claim_id for c in parsed.claims] == ["A1", "A2", "B1"]
    assert parsed == replace(interleaved, claims=tuple(interleaved.claims[i] for i in (0, 2, 1)))


def test_other_separators_and_layouts_read_the_same() -> None:
    file = SHAPES["secondary with 2320/2330 and 2430"]
    ours = write_837(file)
    theirs = ours.replace("*", "|").replace(":", ">").replace("~\n", "\r\n").replace("^", "!")
    assert separators_of(theirs) == Separators(
        element="|", repetition="!", component=">", segment="\r"
    )
    assert read_837(theirs) == file
    assert read_837(ours.replace("~\n", "~")) == file  # no layout at all
    assert read_837("\ufeff" + ours) == file  # a byte-order mark some editors add


def test_several_claims_under_one_subscriber_are_read() -> None:
    text = write_837(claim_file(claim("S1"), claim("S2")))
    segments = tokenise(text)[1]
    # drop the second claim's HL 22 and its subscriber loop: S2 then sits under S1's subscriber
    start = [n for n, s in enumerate(segments) if s[:2] == ("HL", "3")][0]
    end = [n for n, s in enumerate(segments) if s[:2] == ("CLM", "S2")][0]
    kept = segments[:start] + segments[end:]
    parsed = read_837(write(kept))
    assert [c.claim_id for c in parsed.claims] == ["S1", "S2"]
    assert parsed.claims[1].subscriber == parsed.claims[0].subscriber


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("GS*HC*A*B~", "ISA"),
        ("ISA*00*", "ISA"),
        (write_837(claim_file(secondary_claim())).replace("CAS*CO*", "CAS*XX*"), "CAS XX-"),
        (write_837(claim_file()).replace("SV1*HC:99213*125*", "SV1*HC:99213*12.505*"), "cents"),
        (
            write_837(claim_file()).replace(
                "DTP*472*D8*20261120~\nREF*6R*C0001-1", "REF*6R*C0001-1"
            ),
            "DTP\\*472",
        ),
        ("\n".join(write_837(claim_file()).splitlines()[:7]), "no claim"),
    ],
)
def test_files_the_model_cannot_hold_are_refused(content: str, reason: str) -> None:
    with pytest.raises(X12ValueError, match=reason):
        read_837(content)


def test_a_claim_file_of_every_shape_reads_back_in_one_file() -> None:
    file = every_shape()
    parsed = read_837(write_837(file))
    assert len(parsed.claims) == len(file.claims)
    assert read_837(write_837(parsed)) == parsed
    polite = {c.claim_id: c for c in file.claims if c.claim_id.startswith("Z")}
    assert {c.claim_id: c for c in parsed.claims if c.claim_id in polite} == polite


def test_a_service_facility_at_the_billing_address_reads_as_none_as_the_writer_omits_it() -> None:
    text = write_837(claim_file(claim(facility=FACILITY)))
    at_home = text.replace(
        "N3*55 RIVER WAY~\nN4*SPRINGFIELD*IL*62703", "N3*100 MAIN ST~\nN4*SPRINGFIELD*IL*62701"
    )
    assert read_837(text).claims[0].facility == FACILITY
    parsed = read_837(at_home)
    assert parsed.claims[0].facility is None
    assert read_837(write_837(parsed)) == parsed
