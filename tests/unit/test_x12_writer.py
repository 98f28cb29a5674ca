"""The 837P writer: every file it writes passes pyx12 and our own checks, for every shape of
claim billing sends; what X12 cannot carry is refused, never written half right."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from services.billing.domain.events import Adjustment
from services.billing.domain.x12.model import Claim, Person, PersonName
from services.billing.domain.x12.segments import X12ValueError, tokenise
from services.billing.domain.x12.writer837 import write_837
from tests.x12_checks import assert_valid_837, check_837
from tests.x12_samples import (
    BILLING_PROVIDER,
    FACILITY,
    OTHER_SITE,
    SHAPES,
    claim,
    claim_file,
    dependant_claim,
    every_shape,
    line,
    many_lines,
    secondary_claim,
    subscriber,
)


def segments_tagged(text: str, tag: str) -> list[tuple[str, ...]]:
    return [s for s in tokenise(text)[1] if s[0] == tag]


# ------------------------------------------------------------------------ files pyx12 accepts


@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
def test_every_shape_of_claim_file_passes_pyx12_and_our_checks(shape: str) -> None:
    assert_valid_837(write_837(SHAPES[shape]))


def test_a_file_of_many_claims_passes() -> None:
    claims = [claim(f"K{n:03d}") for n in range(40)] + [
        dependant_claim("KD"),
        secondary_claim("KS"),
    ]
    assert_valid_837(write_837(claim_file(*claims)))


# ------------------------------------------------------------------------ what the file says


def test_envelope_fields() -> None:
    text = write_837(claim_file(interchange_control_number=7, group_control_number=1234))
    isa = segments_tagged(text, "ISA")[0]
    assert len(text.split("~")[0]) == 105  # fixed width: 106 with its terminator
    assert isa[5:9] == ("ZZ", "RMG0001        ", "ZZ", "LOOPBACK01     ")
    assert isa[13] == "000000007"
    assert isa[15] == "T"
    assert segments_tagged(text, "GS")[0][6] == "1234"
    assert segments_tagged(text, "GE")[0] == ("GE", "1", "1234")
    assert segments_tagged(text, "IEA")[0] == ("IEA", "1", "000000007")
    assert segments_tagged(text, "ST")[0] == ("ST", "837", "0001", "005010X222A1")
    assert segments_tagged(text, "BHT")[0][:4] == ("BHT", "0019", "00", "B000042")


def test_claim_segments() -> None:
    text = write_837(claim_file(claim("C77", place_of_service="22")))
    assert segments_tagged(text, "CLM")[0] == (
        "CLM",
        "C77",
        "143",
        "",
        "",
        "22:B:1",
        "Y",
        "A",
        "Y",
        "Y",
    )
    assert segments_tagged(text, "HI")[0] == ("HI", "ABK:E119", "ABF:I10")
    assert segments_tagged(text, "SV1")[1] == ("SV1", "HC:36415", "18", "UN", "1", "", "", "1:2")
    assert [s[2] for s in segments_tagged(text, "REF") if s[1] == "6R"] == ["C77-1", "C77-2"]
    assert not [s for s in segments_tagged(text, "REF") if s[1] == "F8"]


def test_replacement_and_void_name_the_payers_claim() -> None:
    for frequency in ("7", "8"):
        text = write_837(claim_file(claim(frequency=frequency, payer_claim_control_number="PCN9")))
        assert ("REF", "F8", "PCN9") in segments_tagged(text, "REF")
        assert segments_tagged(text, "CLM")[0][5] == f"11:B:{frequency}"


def test_dependant_gets_a_patient_loop_under_the_subscriber() -> None:
    text = write_837(claim_file(dependant_claim()))
    hls = segments_tagged(text, "HL")
    assert hls == [
        ("HL", "1", "", "20", "1"),
        ("HL", "2", "1", "22", "1"),
        ("HL", "3", "2", "23", "0"),
    ]
    assert segments_tagged(text, "PAT") == [("PAT", "19")]
    assert segments_tagged(text, "DMG") == [("DMG", "D8", "20150203", "M")]


def test_billing_providers_each_get_one_loop_in_the_order_they_first_appear() -> None:
    text = write_837(
        claim_file(
            claim("A1", billing_provider=OTHER_SITE),
            claim("B1"),
            claim("A2", billing_provider=OTHER_SITE),
        )
    )
    providers = [s[3] for s in segments_tagged(text, "NM1") if s[1] == "85"]
    assert providers == [OTHER_SITE.name, BILLING_PROVIDER.name]
    assert [s[1] for s in segments_tagged(text, "CLM")] == ["A1", "A2", "B1"]


def test_facility_at_the_billing_address_is_not_repeated() -> None:
    same = replace(FACILITY, address=BILLING_PROVIDER.address)
    text = write_837(claim_file(claim(facility=same)))
    assert not [s for s in segments_tagged(text, "NM1") if s[1] == "77"]
    text = write_837(claim_file(claim(facility=FACILITY)))
    assert [s for s in segments_tagged(text, "NM1") if s[1] == "77"]


def test_secondary_claim_carries_the_primarys_adjudication() -> None:
    text = write_837(claim_file(secondary_claim()))
    assert segments_tagged(text, "AMT") == [("AMT", "D", "90")]
    assert segments_tagged(text, "SVD")[0] == ("SVD", "60054", "90", "HC:99213", "", "1")
    assert ("CAS", "CO", "45", "30") in segments_tagged(text, "CAS")
    assert [s for s in segments_tagged(text, "DTP") if s[1] == "573"]


def test_claim_level_adjustments_are_grouped_six_reasons_to_a_segment() -> None:
    base = secondary_claim()
    adjustments = tuple(
        Adjustment(group="CO", reason=str(r), amount_cents=100) for r in range(1, 8)
    ) + (
        Adjustment(group="PR", reason="1", amount_cents=250, quantity=2),
        Adjustment(group="CO", reason="45", amount_cents=5),
    )
    other = replace(base.other_subscribers[0], adjustments=adjustments)
    text = write_837(claim_file(replace(base, other_subscribers=(other,))))
    cas = segments_tagged(text, "CAS")[:3]
    assert cas[0] == (
        "CAS",
        "CO",
        "1",
        "1",
        "",
        "2",
        "1",
        "",
        "3",
        "1",
        "",
        "4",
        "1",
        "",
        "5",
        "1",
        "",
        "6",
        "1",
    )
    assert cas[1] == ("CAS", "CO", "7", "1", "", "45", "0.05")
    assert cas[2] == ("CAS", "PR", "1", "2.5", "2")
    assert_valid_837(text)


def test_the_same_claim_file_gives_the_same_bytes() -> None:
    file = claim_file(claim(), dependant_claim(), secondary_claim())
    assert write_837(file) == write_837(replace(file))
    assert write_837(file).encode("ascii") == write_837(
        claim_file(claim(), dependant_claim(), secondary_claim())
    ).encode("ascii")


def test_hostile_text_is_folded_not_allowed_to_break_the_file() -> None:
    text = write_837(SHAPES["hostile names"])
    subscriber_name = [s for s in segments_tagged(text, "NM1") if s[1] == "IL"][0]
    assert subscriber_name[3:6] == ("O'BRIEN SMITH JR", "JOSE MARIA", "N")
    assert segments_tagged(text, "N3")[1] == ("N3", "12 RUE DE L'EGLISE APT 3")
    assert segments_tagged(text, "N4")[1][1] == "SAINT-ETIENNE"
    assert text.isascii()


def test_long_names_are_cut_to_the_element_length() -> None:
    person = Person(name=PersonName(last="X" * 80, first="Y" * 50))
    text = write_837(claim_file(claim(subscriber=subscriber(person))))
    name = [s for s in segments_tagged(text, "NM1") if s[1] == "IL"][0]
    assert (len(name[3]), len(name[4])) == (60, 35)
    assert_valid_837(text)


# ------------------------------------------------------------------------------ what is refused


def refused(**changes: Any) -> Claim:
    return claim(**changes)


@pytest.mark.parametrize(
    ("reason", "bad"),
    [
        ("cannot carry", refused(claim_id="C*1")),
        ("longer than 20", refused(claim_id="C" * 21)),
        (
            "cannot carry",
            replace(claim(), subscriber=replace(subscriber(), member_id="XÑ1")),
        ),
        ("cannot carry", refused(lines=(replace(line(1), code="99:13"),))),
        ("not the sum of its lines", refused(total_cents=1)),
        ("0 diagnoses", refused(diagnoses=())),
        ("13 diagnoses", refused(diagnoses=tuple(f"E11{n}" for n in range(13)))),
        (
            "out of range",
            refused(lines=(replace(line(1), diagnosis_pointers=(3,)),)),
        ),
        (
            "1 to 4 diagnoses",
            refused(lines=(replace(line(1), diagnosis_pointers=(1, 2, 1, 2, 1)),)),
        ),
        (": 0 lines", refused(lines=())),
        ("51 lines", refused(lines=many_lines("X", 51))),
        ("names the claim it replaces", refused(frequency="7")),
        ("names the claim it replaces", refused(frequency="8")),
        ("SBR02 is 18", refused(subscriber=subscriber(relationship=""))),
        ("SBR02 is 18", replace(dependant_claim(), subscriber=subscriber(relationship="18"))),
        (
            "empty once made safe",
            replace(claim(), subscriber=subscriber(Person(name=PersonName(last="***")))),
        ),
    ],
)
def test_what_x12_cannot_carry_is_refused(reason: str, bad: Claim) -> None:
    with pytest.raises(X12ValueError, match=reason):
        write_837(claim_file(bad))


def test_control_numbers_out_of_range_are_refused() -> None:
    with pytest.raises(X12ValueError):
        write_837(claim_file(interchange_control_number=1_000_000_000))
    with pytest.raises(X12ValueError):
        write_837(claim_file(group_control_number=0))
    with pytest.raises(X12ValueError):
        write_837(claim_file(usage="X"))


# ------------------------------------------------------------------- the checks catch mistakes


def test_our_checks_catch_what_pyx12_does_not() -> None:
    good = write_837(claim_file(claim()))
    assert check_837(good) == []
    assert check_837(good.replace("CLM*C0001*143*", "CLM*C0001*144*"))  # CLM02 off by a cent
    assert check_837(good.replace("ABF:I10", "ABF:I1.0"))  # a dotted ICD-10
    assert check_837(good.replace("ABF:I10", "ABF:4019"))  # not an ICD-10 shape
    assert check_837(good.replace("SE*", "SE*9"))  # a wrong segment count
    assert check_837(good.replace("GE*1*", "GE*2*"))
    assert check_837(good.replace("IEA*1*", "IEA*2*"))
    assert check_837(good.replace("REF*6R*C0001-2", "REF*6R*C0001-1"))  # a line id used twice
    assert check_837(good.replace("HL*2*1*22*0", "HL*2*1*22*1"))  # says it has a child
    dependant = write_837(claim_file(dependant_claim()))
    assert check_837(dependant) == []
    assert check_837(dependant.replace("HL*3*2*23", "HL*3*1*23"))  # a patient under a provider
    no_line_id = good.replace("REF*6R*C0001-2~\n", "").replace("SE*31*", "SE*30*")
    assert check_837(no_line_id) == ["a line of claim C0001 has no REF*6R"]


GOLDEN = Path(__file__).parents[1] / "fixtures" / "x12" / "ours" / "every-shape.837"


def test_the_bytes_do_not_change_from_one_version_of_the_writer_to_the_next() -> None:
    """The claims area keeps a file's digest and writes the file again when it is asked for:
    a writer change that moves one byte breaks those digests. If the change is deliberate,
    regenerate the golden file and say so in the commit."""
    assert write_837(every_shape()) == GOLDEN.read_text(encoding="ascii")
