"""Staffing's figures for the office KPIs: what a training assignment or a credential counts,
for the whole tenant once and at each of the employee's sites as they stood when it was
recorded (docs/kpis.md, kpi-training-compliance and kpi-credentials-expiring).

Staffing's training and credential events name no site, and travel on their own streams
(an employee's training record, one credential's life), so they may reach the projection
before or after the hire or job change that placed the employee. An employee's working
document therefore keeps every placement (`EmployeeHired`, `JobChanged`) with its recorded
time, and the items counted for them with theirs: an item counts at the sites of the last
placement recorded at or before its own time, whatever order the events came in, and a
placement arriving late moves the items it covers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Tally = dict[str, int]
Counted = tuple[dict[str, Any], Tally]  # a document's identity and the counters to add


def training_id(tenant: str, month: str) -> str:
    """The tenant's assignments falling due in the month."""
    return f"{tenant}:training:{month}"


def credentials_id(tenant: str) -> str:
    """The tenant's credentials by last valid day."""
    return f"{tenant}:credentials"


def site_training_id(tenant: str, site_id: str, month: str) -> str:
    return f"{tenant}:site-training:{site_id}:{month}"


def site_credentials_id(tenant: str, site_id: str) -> str:
    return f"{tenant}:site-credentials:{site_id}"


def placed(placements: Sequence[Mapping[str, Any]], placement: Mapping[str, Any]) -> list[Any]:
    """The employee's placements with one more, in recorded order (time, then version)."""
    return sorted([*placements, placement], key=lambda p: (str(p["at"]), int(p["version"])))


def sites_at(placements: Sequence[Mapping[str, Any]], at: str) -> list[str]:
    """The sites of the last placement recorded at or before `at`; none before the hire."""
    sites: list[str] = []
    for placement in placements:  # in recorded order
        if str(placement["at"]) <= at:
            sites = [str(site) for site in placement["sites"]]
    return sites


def counted(tenant: str, item: Mapping[str, Any] | None) -> dict[str, Counted]:
    """What an assignment (by its due month) or a credential (by its last valid day) counts:
    once for the tenant, and once at each of its sites."""
    if item is None:
        return {}
    sites = [str(site) for site in item.get("sites", [])]
    found: dict[str, Counted] = {}
    if "due_on" in item:
        due = str(item["due_on"])
        done = item.get("completed_on")
        tally = {"due": 1, "on_time": int(done is not None and str(done) <= due)}
        month = due[:7]
        found[training_id(tenant, month)] = (
            {"tenant": tenant, "month": month, "kind": "training"},
            tally,
        )
        for site in sites:
            identity = {"tenant": tenant, "site_id": site, "month": month, "kind": "site-training"}
            found[site_training_id(tenant, site, month)] = (identity, dict(tally))
    elif item.get("expires_on"):
        tally = {f"expiring.{item['expires_on']}": 1}
        found[credentials_id(tenant)] = ({"tenant": tenant, "kind": "credentials"}, tally)
        for site in sites:
            identity = {"tenant": tenant, "site_id": site, "kind": "site-credentials"}
            found[site_credentials_id(tenant, site)] = (identity, dict(tally))
    return found


def add_into(into: dict[str, Counted], more: Mapping[str, Counted], sign: int = 1) -> None:
    """Add `more`'s counters (times `sign`) to `into`'s, document by document."""
    for doc_id, (identity, tally) in more.items():
        _, sums = into.setdefault(doc_id, (identity, {}))
        for name, amount in tally.items():
            sums[name] = sums.get(name, 0) + sign * amount


def moved(
    tenant: str, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> dict[str, Counted]:
    """What the item's change moves: what it counts now less what it counted."""
    found: dict[str, Counted] = {}
    add_into(found, counted(tenant, after))
    add_into(found, counted(tenant, before), sign=-1)
    return found
