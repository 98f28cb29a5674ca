"""Identifiers every service checks the same way, pure so that domain code may use them
(tests/unit/test_architecture.py allows it): staffing's provider NPIs, billing's billing
providers' NPIs.

The National Provider Identifier's check digit: an NPI is 10 digits; the last is a Luhn
check digit computed over the first nine prefixed by `80840` (the card issuer prefix CMS
assigned to health applications: ISO 7812 "80" + "840", the United States), which is what
CMS's "NPI check digit" rule says.
"""

from __future__ import annotations

PREFIX = "80840"


def luhn_check_digit(digits: str) -> int:
    """The digit that, appended to `digits`, makes the whole pass the Luhn check."""
    total = 0
    # From the right: every second digit of the payload (starting with the rightmost) doubled.
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def is_valid_npi(npi: str) -> bool:
    """Ten ASCII digits whose last is the Luhn check digit of `80840` + the first nine."""
    if len(npi) != 10 or not npi.isascii() or not npi.isdigit():
        return False
    return luhn_check_digit(PREFIX + npi[:9]) == int(npi[9])
