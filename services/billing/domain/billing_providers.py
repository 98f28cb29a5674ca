"""Who bills for a site's visits (837P loop 2010AA) and where the site is (loop 2310C): one
stream per site, the latest setting holds; the same setting again records nothing.

Checked before it is recorded, so a claim file never carries a field its payer would reject:
the NPI's check digit (`shared.identifiers`), a TIN of 9 digits, a taxonomy code of 10
characters (3 digits, 6 letters or digits, then X), US postal addresses (a state or territory
code, a ZIP of 5 or 9 digits; no PO box for the billing provider, as 2010AA requires), and a
place of service CMS defines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import AwareDatetime

from services.billing.domain.events import BillingProviderSet, PostalAddress
from shared.domain import Command, Decider, Invalid
from shared.events import DomainEvent
from shared.identifiers import is_valid_npi

# USPS codes of the states, the District of Columbia, the territories and the freely associated
# states, and the armed forces' (AA, AE, AP).
STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY "
    "AS GU MP PR VI UM FM MH PW AA AE AP".split()
)
# CMS's Place of Service code set: the codes it defines (the others are unassigned). 02 and 10
# telehealth, 11 office, 12 home, 19 and 22 outpatient hospital, 20 urgent care, 21 inpatient
# hospital, 23 emergency room, 49 independent clinic, 50 FQHC, 71 public health clinic, 72 rural
# health clinic, 81 independent laboratory, 99 other.
PLACES_OF_SERVICE = frozenset(
    f"{n:02d}"
    for n in (
        *range(1, 28),
        *(31, 32, 33, 34, 41, 42, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58),
        *(60, 61, 62, 65, 66, 71, 72, 81, 99),
    )
)
_TIN = re.compile(r"\d{9}")
_ZIP = re.compile(r"\d{5}(?:\d{4})?")
_TAXONOMY = re.compile(r"\d{3}[A-Z0-9]{6}X")
_PO_BOX = re.compile(r"\bP\.?\s*O\.?\s*BOX\b|\bPOST\s+OFFICE\s+BOX\b", re.IGNORECASE)
MAX_TEXT = 200


class SetBillingProvider(Command):
    site_id: str
    name: str
    npi: str
    tin: str
    taxonomy_code: str
    address: PostalAddress
    place_of_service: str
    facility_name: str
    facility_address: PostalAddress
    set_at: AwareDatetime


@dataclass(frozen=True)
class SiteBilling:
    current: BillingProviderSet | None = None


def evolve(state: SiteBilling, event: DomainEvent) -> SiteBilling:
    if isinstance(event, BillingProviderSet):
        return SiteBilling(current=event)
    return state


def _text(what: str, value: str) -> None:
    if not value.strip() or len(value) > MAX_TEXT:
        raise Invalid(f"{what} must be 1 to {MAX_TEXT} characters")


def check_address(what: str, address: PostalAddress, *, po_box: bool = True) -> None:
    _text(f"the {what}'s first line", address.line1)
    if len(address.line2) > MAX_TEXT:
        raise Invalid(f"the {what}'s second line must be at most {MAX_TEXT} characters")
    _text(f"the {what}'s city", address.city)
    if address.state not in STATES:
        raise Invalid(f"the {what}'s state {address.state!r} is not a US state or territory code")
    if _ZIP.fullmatch(address.postal_code) is None:
        raise Invalid(f"the {what}'s ZIP code must be 5 or 9 digits")
    if not po_box and (_PO_BOX.search(address.line1) or _PO_BOX.search(address.line2)):
        raise Invalid(f"the {what} must be a street address, not a PO box")


def decide(state: SiteBilling, command: SetBillingProvider) -> list[DomainEvent]:
    _text("the billing provider's name", command.name)
    if not is_valid_npi(command.npi):
        raise Invalid(f"NPI {command.npi!r} is not 10 digits with a valid check digit")
    if _TIN.fullmatch(command.tin) is None:
        raise Invalid("the TIN (employer identification number) must be 9 digits")
    if _TAXONOMY.fullmatch(command.taxonomy_code) is None:
        raise Invalid(
            f"taxonomy code {command.taxonomy_code!r} must be 10 characters: 3 digits, "
            "6 letters or digits, then X"
        )
    check_address("billing provider's address", command.address, po_box=False)
    if command.place_of_service not in PLACES_OF_SERVICE:
        raise Invalid(
            f"place of service {command.place_of_service!r} is not a CMS place of service code"
        )
    _text("the service facility's name", command.facility_name)
    check_address("service facility's address", command.facility_address)
    event = BillingProviderSet(**command.model_dump())
    current = state.current
    if current is not None and current.model_dump(exclude={"set_at"}) == event.model_dump(
        exclude={"set_at"}
    ):
        return []  # the same setting again: nothing changed
    return [event]


billing_provider = Decider(initial=SiteBilling(), evolve=evolve, decide=decide)
