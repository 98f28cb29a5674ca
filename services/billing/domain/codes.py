"""The shapes of the codes a claim carries (whether a code exists is the code book's word).

- Procedures: CPT (five digits; category II four digits and F, category III four digits and T,
  PLA four digits and U) or HCPCS level II (a letter A-V and four digits).
- Modifiers: two letters or digits.
- ICD-10-CM diagnoses: a letter, a digit, a letter or digit, then up to four more after an
  optional dot; X12 writes them without the dot.
"""

from __future__ import annotations

import re

_PROCEDURE = re.compile(r"\d{5}|\d{4}[FTU]|[A-V]\d{4}")
_MODIFIER = re.compile(r"[A-Z0-9]{2}")
_DIAGNOSIS = re.compile(r"[A-Z]\d[A-Z0-9](?:\.?[A-Z0-9]{1,4})?")


def is_procedure_code(code: str) -> bool:
    return _PROCEDURE.fullmatch(code) is not None


def is_modifier(modifier: str) -> bool:
    return _MODIFIER.fullmatch(modifier) is not None


def is_diagnosis_shape(code: str) -> bool:
    return _DIAGNOSIS.fullmatch(code) is not None


def without_dot(diagnosis: str) -> str:
    """ICD-10-CM as X12 writes it: `E11.9` -> `E119`."""
    return diagnosis.replace(".", "")


def with_dot(diagnosis: str) -> str:
    """ICD-10-CM as people write it: `E119` -> `E11.9`."""
    bare = without_dot(diagnosis)
    return bare if len(bare) <= 3 else f"{bare[:3]}.{bare[3:]}"
