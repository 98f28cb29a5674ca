"""The ICD-10-CM code book: the coding checks' `CodeBook` over the `simple_icd_10_cm` package.

The package (MIT licence) ships CMS's ICD-10-CM code list: FY2026 (the April 2026 update) in
the version pinned. It loads its data when first imported (about a second and a half), so it
is imported at the first look-up, not when the service is built. A code is billable when it
is a leaf of the list (no more specific code under it): `E11.9` is, the category `E11` is not.
"""

from __future__ import annotations

import importlib
import warnings
from functools import cache
from types import ModuleType


@cache
def _codes() -> ModuleType:
    with warnings.catch_warnings():
        # It reads its data with importlib.resources.read_text, deprecated since Python 3.11.
        warnings.simplefilter("ignore", DeprecationWarning)
        return importlib.import_module("simple_icd_10_cm")


class Icd10CodeBook:
    """ICD-10-CM FY2026 (CMS), as the `simple_icd_10_cm` package ships it."""

    def exists(self, icd10: str) -> bool:
        return bool(_codes().is_valid_item(icd10))

    def billable(self, icd10: str) -> bool:
        codes = _codes()
        return bool(codes.is_valid_item(icd10) and codes.is_leaf(icd10))
