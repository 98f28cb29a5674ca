"""Coding checks: what stops a charge from being released, in a biller's words.

Pure: whether an ICD-10-CM code exists and is billable is the code book's word (a `CodeBook`
passed in; the adapter over the CMS code list lives in `application/codebook.py`). The checks:

- diagnoses: at least one, at most 12 (a claim's limit), none twice, each an ICD-10-CM code
  that exists and is billable (a leaf: `E11` is a category, `E11.9` a code);
- lines: at least one; a CPT or HCPCS code of the right shape; up to 4 modifiers of two letters
  or digits, none twice; 1 to 999 units; 1 to 4 diagnosis pointers, none twice, each pointing
  at a diagnosis the charge has; a fee found in the payer's schedule (a line priced 0 because
  the schedule lists no fee for its code is an issue, not a free visit).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Protocol

from services.billing.domain.codes import is_diagnosis_shape, is_modifier, is_procedure_code
from services.billing.domain.events import ChargeLine, CodingIssue

MAX_DIAGNOSES = 12
MAX_MODIFIERS = 4
MAX_POINTERS = 4
MAX_UNITS = 999


class CodeBook(Protocol):
    """The ICD-10-CM code list a charge is checked against (codes with or without the dot)."""

    def exists(self, icd10: str) -> bool:
        """The code is in the list (a category, a subcategory or a billable code)."""
        ...

    def billable(self, icd10: str) -> bool:
        """The code may go on a claim: a leaf of the list, with no more specific code under it."""
        ...


def priced_by(payer_name: str, version: int | None, date_of_service: date) -> str:
    """Which schedule priced a charge, as a biller says it."""
    if version is None:
        return f"{payer_name}'s fee schedule (none in force on {date_of_service.isoformat()})"
    return f"{payer_name}'s schedule v{version}"


def check(
    book: CodeBook,
    diagnoses: Sequence[str],
    lines: Sequence[ChargeLine],
    schedule: str,
) -> tuple[CodingIssue, ...]:
    """Every problem with a charge's codes (empty: clean). `schedule` names the fee schedule
    that priced it (`priced_by`), for the line whose fee it does not list."""
    return (*_diagnoses(book, diagnoses), *_lines(diagnoses, lines, schedule))


def _diagnoses(book: CodeBook, diagnoses: Sequence[str]) -> list[CodingIssue]:
    issues: list[CodingIssue] = []
    if not diagnoses:
        issues.append(CodingIssue(line_id=None, code="", problem="the charge has no diagnosis"))
    if len(diagnoses) > MAX_DIAGNOSES:
        issues.append(
            CodingIssue(
                line_id=None,
                code="",
                problem=f"{len(diagnoses)} diagnoses: a claim carries at most {MAX_DIAGNOSES}",
            )
        )
    counts = Counter(_bare(d) for d in diagnoses)
    reported: set[str] = set()
    for code in diagnoses:
        bare = _bare(code)
        if bare in reported:
            continue
        reported.add(bare)
        if counts[bare] > 1:
            issues.append(CodingIssue(line_id=None, code=code, problem=f"{code} is listed twice"))
        if not is_diagnosis_shape(code):
            problem = f"{code} is not an ICD-10-CM code"
        elif not book.exists(code):
            problem = f"{code} is not in the ICD-10-CM code list"
        elif not book.billable(code):
            problem = (
                f"{code} is a category, not a billable code: use a more specific code under it"
            )
        else:
            continue
        issues.append(CodingIssue(line_id=None, code=code, problem=problem))
    return issues


def _lines(
    diagnoses: Sequence[str], lines: Sequence[ChargeLine], schedule: str
) -> list[CodingIssue]:
    if not lines:
        return [CodingIssue(line_id=None, code="", problem="the charge has no service line")]
    issues: list[CodingIssue] = []
    for line in lines:

        def issue(problem: str, line: ChargeLine = line) -> None:
            issues.append(CodingIssue(line_id=line.line_id, code=line.code, problem=problem))

        if not is_procedure_code(line.code):
            issue(f"{line.code} is not a CPT or HCPCS code")
        if len(line.modifiers) > MAX_MODIFIERS:
            issue(f"{len(line.modifiers)} modifiers: a line carries at most {MAX_MODIFIERS}")
        for modifier in dict.fromkeys(line.modifiers):
            if not is_modifier(modifier):
                issue(f"modifier {modifier!r} is not two letters or digits")
            if line.modifiers.count(modifier) > 1:
                issue(f"modifier {modifier} is repeated")
        if not 1 <= line.units <= MAX_UNITS:
            issue(f"{line.units} units: a line has 1 to {MAX_UNITS}")
        pointers = line.diagnosis_pointers
        if not pointers:
            issue("no diagnosis pointer: a line points at 1 to 4 of the charge's diagnoses")
        elif len(pointers) > MAX_POINTERS:
            issue(f"{len(pointers)} diagnosis pointers: a line has at most {MAX_POINTERS}")
        for pointer in dict.fromkeys(pointers):
            if not 1 <= pointer <= len(diagnoses):
                issue(
                    f"diagnosis pointer {pointer} points at no diagnosis "
                    f"(the charge has {len(diagnoses)})"
                )
            if pointers.count(pointer) > 1:
                issue(f"diagnosis pointer {pointer} is repeated")
        if line.fee_cents <= 0:
            issue(f"no fee for {line.code} in {schedule}")
    return issues


def _bare(code: str) -> str:
    return code.replace(".", "").upper()
