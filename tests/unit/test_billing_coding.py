"""Coding checks (`domain/coding.py`) and code shapes (`domain/codes.py`): what keeps a charge
from release, in a biller's words; and the ICD-10-CM code book over the CMS list."""

from __future__ import annotations

from datetime import date

import pytest

from services.billing.application.codebook import Icd10CodeBook
from services.billing.domain import codes
from services.billing.domain.coding import check, priced_by
from services.billing.domain.events import ChargeLine

SCHEDULE = "Acme Health's schedule v3"


class Book:
    """A code book of a few codes: categories are listed but not billable."""

    CODES = {"E11": False, "E11.9": True, "I10": True, "J45": False, "J45.909": True}

    def exists(self, icd10: str) -> bool:
        return codes.with_dot(icd10) in self.CODES

    def billable(self, icd10: str) -> bool:
        return self.CODES.get(codes.with_dot(icd10), False)


def line(
    line_id: str = "1",
    code: str = "99213",
    modifiers: tuple[str, ...] = (),
    units: int = 1,
    pointers: tuple[int, ...] = (1,),
    fee_cents: int = 12_000,
) -> ChargeLine:
    return ChargeLine(
        line_id=line_id,
        code=code,
        modifiers=modifiers,
        units=units,
        diagnosis_pointers=pointers,
        fee_cents=fee_cents,
    )


def problems(diagnoses: tuple[str, ...], *lines: ChargeLine) -> list[tuple[str | None, str, str]]:
    return [(i.line_id, i.code, i.problem) for i in check(Book(), diagnoses, lines, SCHEDULE)]


# ------------------------------------------------------------------------------ diagnoses


def test_a_clean_charge_has_no_issues() -> None:
    assert problems(("E11.9", "I10"), line(pointers=(1, 2))) == []


def test_codes_without_the_dot_are_the_same_codes() -> None:
    assert problems(("E119",), line()) == []


def test_a_category_is_not_billable() -> None:
    assert problems(("E11",), line()) == [
        (None, "E11", "E11 is a category, not a billable code: use a more specific code under it")
    ]


def test_a_code_not_in_the_list() -> None:
    assert problems(("E11.95",), line()) == [
        (None, "E11.95", "E11.95 is not in the ICD-10-CM code list")
    ]


def test_a_code_of_the_wrong_shape() -> None:
    assert problems(("11.9",), line()) == [(None, "11.9", "11.9 is not an ICD-10-CM code")]


def test_no_diagnosis() -> None:
    found = problems((), line(pointers=()))
    assert (None, "", "the charge has no diagnosis") in found


def test_at_most_twelve_diagnoses() -> None:
    thirteen = tuple(["I10"] * 13)
    found = problems(thirteen, line())
    assert (None, "", "13 diagnoses: a claim carries at most 12") in found


def test_a_diagnosis_listed_twice_is_reported_once() -> None:
    assert problems(("I10", "E11.9", "I10"), line()) == [(None, "I10", "I10 is listed twice")]


def test_the_same_code_with_and_without_the_dot_is_a_duplicate() -> None:
    assert problems(("E11.9", "E119"), line()) == [(None, "E11.9", "E11.9 is listed twice")]


# ---------------------------------------------------------------------------------- lines


def test_no_line() -> None:
    assert problems(("I10",)) == [(None, "", "the charge has no service line")]


@pytest.mark.parametrize("code", ["9921", "992134", "W1234", "99-13", "0001Z"])
def test_a_procedure_of_the_wrong_shape(code: str) -> None:
    assert problems(("I10",), line(code=code)) == [
        ("1", code, f"{code} is not a CPT or HCPCS code")
    ]


def test_modifiers_at_most_four_two_characters_no_repeat() -> None:
    assert problems(("I10",), line(modifiers=("25", "59", "RT", "LT", "76"))) == [
        ("1", "99213", "5 modifiers: a line carries at most 4")
    ]
    assert problems(("I10",), line(modifiers=("2",))) == [
        ("1", "99213", "modifier '2' is not two letters or digits")
    ]
    assert problems(("I10",), line(modifiers=("25", "25"))) == [
        ("1", "99213", "modifier 25 is repeated")
    ]


@pytest.mark.parametrize("units", [0, -1, 1000])
def test_units_from_1_to_999(units: int) -> None:
    assert problems(("I10",), line(units=units)) == [
        ("1", "99213", f"{units} units: a line has 1 to 999")
    ]


def test_pointers_one_to_four_each_at_a_diagnosis() -> None:
    assert problems(("I10",), line(pointers=())) == [
        ("1", "99213", "no diagnosis pointer: a line points at 1 to 4 of the charge's diagnoses")
    ]
    assert problems(("I10",), line(pointers=(1, 1))) == [
        ("1", "99213", "diagnosis pointer 1 is repeated")
    ]
    assert problems(("I10", "E11.9"), line(pointers=(3,))) == [
        ("1", "99213", "diagnosis pointer 3 points at no diagnosis (the charge has 2)")
    ]
    five = ("I10", "E11.9", "J45.909", "E11.9", "I10")
    found = problems(five, line(pointers=(1, 2, 3, 4, 5)))
    assert ("1", "99213", "5 diagnosis pointers: a line has at most 4") in found


def test_a_line_with_no_fee_names_the_schedule() -> None:
    assert problems(("I10",), line(code="99215", fee_cents=0)) == [
        ("1", "99215", "no fee for 99215 in Acme Health's schedule v3")
    ]


def test_the_schedule_as_a_biller_says_it() -> None:
    assert priced_by("Acme Health", 3, date(2026, 11, 26)) == "Acme Health's schedule v3"
    assert priced_by("self-pay", None, date(2026, 11, 26)) == (
        "self-pay's fee schedule (none in force on 2026-11-26)"
    )


def test_each_line_reports_its_own_issues() -> None:
    found = problems(("I10",), line("1"), line("2", code="J3301", fee_cents=0))
    assert found == [("2", "J3301", "no fee for J3301 in Acme Health's schedule v3")]


# ----------------------------------------------------------------------- code shapes


@pytest.mark.parametrize("code", ["99213", "0001F", "0042T", "0001U", "J3301", "A0425", "G0008"])
def test_procedure_codes(code: str) -> None:
    assert codes.is_procedure_code(code)


@pytest.mark.parametrize("code", ["9921", "992130", "0001X", "W1234", "99213-25", "", "j3301"])
def test_not_procedure_codes(code: str) -> None:
    assert not codes.is_procedure_code(code)


@pytest.mark.parametrize(("modifier", "ok"), [("25", True), ("RT", True), ("5", False)])
def test_modifiers(modifier: str, ok: bool) -> None:
    assert codes.is_modifier(modifier) is ok


@pytest.mark.parametrize(
    ("code", "ok"),
    [("E11.9", True), ("E119", True), ("I10", True), ("S72.001A", True), ("U07.1", True)]
    + [("E1", False), ("11.9", False), ("E11.99999", False), ("e11.9", False)],
)
def test_diagnosis_shapes(code: str, ok: bool) -> None:
    assert codes.is_diagnosis_shape(code) is ok


def test_dots_as_x12_and_people_write_them() -> None:
    assert codes.without_dot("S72.001A") == "S72001A"
    assert codes.with_dot("S72001A") == "S72.001A"
    assert codes.with_dot("I10") == "I10"


# ------------------------------------------------------------------ the CMS code list


def test_the_icd10_code_book_knows_categories_from_billable_codes() -> None:
    book = Icd10CodeBook()
    assert book.exists("E11")
    assert not book.billable("E11")
    assert book.exists("E11.9")
    assert book.billable("E11.9")
    assert book.billable("E119")  # as X12 writes it
    assert not book.exists("E11.95")
    assert book.billable("U07.1")  # COVID-19, in FY2026
    found = check(book, ("E11", "I10"), (line(pointers=(1, 2)),), SCHEDULE)
    assert [i.code for i in found] == ["E11"]
