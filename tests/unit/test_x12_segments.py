"""X12 syntax: separators from the ISA, amounts, and values made safe or refused."""

from __future__ import annotations

from datetime import date

import pytest

from services.billing.domain.x12.segments import (
    X12ValueError,
    amount,
    cents_of,
    composite,
    date_of,
    ident,
    segment,
    separators_of,
    text,
    whole_number,
)


@pytest.mark.parametrize(
    ("cents", "written"),
    [
        (10000, "100"),
        (10050, "100.5"),
        (10005, "100.05"),
        (5, "0.05"),
        (0, "0"),
        (-300, "-3"),
        (-5, "-0.05"),
    ],
)
def test_amounts_are_x12_decimals_without_trailing_zeros(cents: int, written: str) -> None:
    assert amount(cents) == written
    assert cents_of(written) == cents


def test_amounts_read_as_payers_write_them() -> None:
    assert cents_of("185.00") == 18500
    assert cents_of(".5") == 50
    with pytest.raises(X12ValueError):
        cents_of("1.005")
    with pytest.raises(X12ValueError):
        cents_of("ten")
    assert whole_number("7.00") == 7
    with pytest.raises(X12ValueError):
        whole_number("1.5")


def test_dates() -> None:
    assert date_of("20261120") == date(2026, 11, 20)
    assert date_of("20040201-20040207") == date(2004, 2, 1)
    with pytest.raises(X12ValueError):
        date_of("20261340")


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("o'brien", "O'BRIEN"),
        ("José María", "JOSE MARIA"),
        ("Smith*Jones", "SMITH JONES"),
        ("A:B^C~D", "A B C D"),
        ("  lots   of\tspace\n", "LOTS OF SPACE"),
        ("Zoë Ångström-Łukasz", "ZOE ANGSTROM-UKASZ"),
        ("emoji 🙂 here", "EMOJI HERE"),
        ("***", ""),
    ],
)
def test_free_text_is_folded_into_the_character_set(typed: str, written: str) -> None:
    assert text(typed, 60) == written
    assert text(written, 60) == written  # idempotent: a parsed file writes back the same


def test_free_text_is_cut_to_length_without_a_trailing_space() -> None:
    assert text("ABCD EFGH", 5) == "ABCD"


@pytest.mark.parametrize("bad", ["C*1", "C:1", "C~1", "C^1", "CÉ1", "", " C1", "C\n1", "X" * 21])
def test_identifiers_that_x12_cannot_carry_are_refused_not_altered(bad: str) -> None:
    with pytest.raises(X12ValueError):
        ident(bad, 20)


def test_identifiers_are_kept_as_they_are() -> None:
    assert ident("R03996273 #01", 20) == "R03996273 #01"
    assert ident("abc-123", 20) == "abc-123"


def test_trailing_empty_elements_and_components_are_dropped() -> None:
    assert segment("SBR", "P", "", "", "") == ("SBR", "P")
    assert segment("SBR", "P", "", "", "CI") == ("SBR", "P", "", "", "CI")
    assert composite("HC", "99213", "", "") == "HC:99213"


def test_separators_come_from_the_isa() -> None:
    isa = (
        "ISA|00|          |00|          |ZZ|A              |ZZ|B              |261126|0905"
        "|!|00501|000000001|0|T|>\r\nGS|HC"
    )
    seps = separators_of(isa)
    assert (seps.element, seps.repetition, seps.component, seps.segment) == ("|", "!", ">", "\r")


def test_a_file_without_an_isa_is_refused() -> None:
    with pytest.raises(X12ValueError):
        separators_of("GS*HC*" + " " * 200)
