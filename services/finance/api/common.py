"""What finance's routes share: who reads which sites' books, and the dates they take."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import HTTPException
from pydantic import Field

from shared.http.identity import Principal, policy
from shared.http.routes import PlausibleDay

Day = PlausibleDay
Cents = Annotated[int, Field(ge=-(10**13), le=10**13)]
Reason = Annotated[str, Field(min_length=1, max_length=500)]

Work = policy("finance", changes_state=True)  # and admin
Approve = policy("finance", "manager", site_scoped=True, changes_state=True)
ApproveBudget = policy("manager", site_scoped=True, changes_state=True)
Read = policy("finance", "manager", "auditor", site_scoped=True)
ReadAll = policy("finance", "auditor")


def group_wide(who: Principal) -> bool:
    """Finance, auditors and admins read every site's books; managers only their sites'."""
    return bool({"finance", "auditor", "admin"} & set(who.roles))


def readable_sites(who: Principal) -> list[str] | None:
    """The sites whose books the caller reads (None: all)."""
    if group_wide(who) or who.sites == "*":
        return None
    return list(who.sites)


def check_sites(who: Principal, site_ids: list[str]) -> None:
    """403 unless the caller reads every one of the sites."""
    sites = readable_sites(who)
    if sites is not None and not set(site_ids) <= set(sites):
        raise HTTPException(403, "You do not work at every site this touches")


def first_of_month(text: str) -> date:
    """A month `YYYY-MM`, as its first day; anything else is a 422."""
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError(text)
        day = date(int(year), int(month), 1)
    except ValueError:
        raise HTTPException(422, f"month {text!r} is not YYYY-MM") from None
    if not 1900 <= day.year <= 2200:
        raise HTTPException(422, "a month between the years 1900 and 2200")
    return day
