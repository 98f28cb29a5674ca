"""Rosters for a group of 2,000 employees with 5 years of history: the roster query's latency
against the raw reads it cannot do without.

The group: 20 sites of 100 non-provider staff each, 5 years of weeks (261), each employee on 4
shifts a week from the sites' templates (early 07:00-15:00, day 08:00-16:00, late 12:00-20:00,
Monday to Friday), and minimum staffing per site for every weekday hour 07:00-20:00 (some by
role). That is 2.09 million shifts. The roster read model holds one document per site and ISO
week (its shifts) and one per site (zone, templates, minimums): 5,220 week documents of 400
shifts, written here straight into the staffing service's read-model store with the fields the
roster projection writes (`ShiftAssigned.model_dump(mode="json")` per shift), since replaying
2 million events through the projection would take the whole run; the query reads nothing
else, and never the event store.

Measured in one run, on the embedded backend, the whole suite in this process (as in
bench/scheduling.py: requests through its HTTP app in-process):
- ours, HTTP: `GET /staffing/sites/{site}/roster?week=` (auth, routing, the query, JSON);
- ours, query: the roster query alone (`projections.roster.roster_week`: the week's and the
  previous week's documents, the site's, shifts per day and the gaps);
- raw: the same three documents read with sqlite3 by id and parsed (`json.loads`): the reads
  the query cannot do without;
- the HTTP floor: an authenticated GET reading one small document
  (`/staffing/sites/{site}/pto-balances` of a site with no one), what any request costs.

Run alone: `python -m bench.rosters [queries]`.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from bench.report import Latencies, latency_comparisons, latency_table
from services.staffing.projections import roster as view
from services.suite import build_suite
from shared.clock import SystemClock
from shared.documents.port import Write
from shared.http.identity import mint_token
from shared.readmodels import ReadModels, physical, seen_key
from shared.settings import Settings

TENANT = "acme"
SITES = 20
PER_SITE = 100
YEARS = 5
SHIFTS_PER_WEEK = 4
ZONE = "America/New_York"
TEMPLATES = {"early": (7, 15), "day": (8, 16), "late": (12, 20)}
ROLES = ("medical_assistant", "nurse", "front_desk")
QUERIES = 1000


@dataclass(frozen=True)
class Group:
    sites: list[str]
    weeks: list[str]
    shifts: int


def progress(text: str) -> None:
    print(f"  [{text}]", file=sys.stderr, flush=True)


def weeks(last: date, years: int) -> list[str]:
    monday = last - timedelta(days=last.weekday())
    count = years * 52 + 1
    return [view.week_of(monday - timedelta(weeks=n)) for n in reversed(range(count))]


def site_doc(site_id: str) -> dict[str, Any]:
    minimums = [
        {"weekday": d, "hour": h, "headcount": 30, "role": None}
        for d in range(5)
        for h in range(7, 20)
    ] + [{"weekday": d, "hour": 8, "headcount": 10, "role": "nurse"} for d in range(5)]
    templates = {
        tid: {
            "site_id": site_id,
            "template_id": tid,
            "name": tid,
            "start": f"{a:02d}:00:00",
            "end": f"{b:02d}:00:00",
            "weekdays": [0, 1, 2, 3, 4],
            "role": None,
        }
        for tid, (a, b) in TEMPLATES.items()
    }
    stream = f"{TENANT}:roster-site:{site_id}"
    return {
        "tenant": TENANT,
        "site_id": site_id,
        "time_zone": ZONE,
        "templates": templates,
        "minimums": minimums,
        "_seen": {seen_key(stream): 2 + len(TEMPLATES)},
    }


def week_doc(site_id: str, week: str, rng: random.Random, zone: ZoneInfo) -> dict[str, Any]:
    """A site's week as the roster projection leaves it: each shift as its ShiftAssigned."""
    monday = view.monday_of(week)
    shifts: dict[str, Any] = {}
    seen: dict[str, int] = {}
    for n in range(PER_SITE):
        employee_id = f"{site_id}-e{n:03d}"
        role = ROLES[n % len(ROLES)]
        template_id = rng.choice(list(TEMPLATES))
        begin, finish = TEMPLATES[template_id]
        for weekday in sorted(rng.sample(range(5), SHIFTS_PER_WEEK)):
            day = monday + timedelta(days=weekday)
            start = datetime(day.year, day.month, day.day, begin, tzinfo=zone).astimezone(UTC)
            end = datetime(day.year, day.month, day.day, finish, tzinfo=zone).astimezone(UTC)
            shift_id = f"{employee_id}-{day.isoformat()}"
            shifts[shift_id] = {
                "shift_id": shift_id,
                "employee_id": employee_id,
                "site_id": site_id,
                "day": day.isoformat(),
                "start": start.isoformat().replace("+00:00", "Z"),
                "end": end.isoformat().replace("+00:00", "Z"),
                "role": role,
                "template_id": template_id,
            }
            stream = seen_key(f"{TENANT}:employee-time:{employee_id}")
            seen[stream] = seen.get(stream, 0) + 1
    return {"tenant": TENANT, "site_id": site_id, "week": week, "shifts": shifts, "_seen": seen}


async def write_group(read_models: ReadModels, today: date) -> Group:
    store, rng, zone = read_models.store, random.Random(11), ZoneInfo(ZONE)
    sites = [f"site{n:02d}" for n in range(SITES)]
    history = weeks(today, YEARS)
    await store.write(
        physical(view.SITES, 1),
        [Write(view.site_doc_id(TENANT, s), site_doc(s), expected_rev=0) for s in sites],
    )
    shifts = 0
    for n, site_id in enumerate(sites):
        batch = []
        for week in history:
            doc = week_doc(site_id, week, rng, zone)
            shifts += len(doc["shifts"])
            batch.append(Write(view.week_doc_id(TENANT, site_id, week), doc, expected_rev=0))
        await store.write(physical(view.WEEKS, 1), batch)
        progress(f"site {n + 1}/{SITES}: {len(history)} weeks written")
    return Group(sites, history, shifts)


async def timed(what: str, calls: list[Any], run: Any) -> Latencies:
    seconds = []
    began = time.perf_counter()
    for call in calls:
        start = time.perf_counter()
        await run(*call)
        seconds.append(time.perf_counter() - start)
    return Latencies(what, "embedded", tuple(seconds), time.perf_counter() - began)


async def run(queries: int = QUERIES) -> tuple[Group, list[Latencies]]:
    with tempfile.TemporaryDirectory(prefix="medoffice-bench-") as tmp:
        settings = Settings(
            data_dir=Path(tmp) / "suite",
            seed_demo=False,
            env="test",
            log_json=False,
            kafka_bootstrap=None,
            mongo_url=None,
        )
        suite = await build_suite(settings)
        await suite.start()
        try:
            documents = await suite.backends.documents("staffing")
            read_models = ReadModels(documents)
            today = SystemClock().now().date()
            group = await write_group(read_models, today)
            token = mint_token(
                settings.jwt_secret,
                issuer=settings.jwt_issuer,
                subject="bench",
                tenant=TENANT,
                roles=["manager"],
                sites=None,
                now=SystemClock().now(),
            )
            rng = random.Random(5)
            # The recent year, where rosters are read; every site.
            picks = [
                (rng.choice(group.sites), rng.choice(group.weeks[-53:])) for _ in range(queries)
            ]
            conn = sqlite3.connect(settings.data_dir / "staffing" / "readmodels.db")

            async def raw(site_id: str, week: str) -> None:
                previous = view.week_of(view.monday_of(week) - timedelta(days=1))
                ids = [
                    view.week_doc_id(TENANT, site_id, week),
                    view.week_doc_id(TENANT, site_id, previous),
                ]
                rows = conn.execute(
                    "SELECT body FROM documents WHERE collection = ? AND id IN (?, ?)",
                    (physical(view.WEEKS, 1), *ids),
                ).fetchall()
                site = conn.execute(
                    "SELECT body FROM documents WHERE collection = ? AND id = ?",
                    (physical(view.SITES, 1), view.site_doc_id(TENANT, site_id)),
                ).fetchone()
                assert len(rows) == 2
                assert site is not None
                for row in (*rows, site):
                    json.loads(row[0])

            async def query(site_id: str, week: str) -> None:
                await view.roster_week(read_models, TENANT, site_id, week)

            transport = httpx.ASGITransport(app=suite.app)
            async with httpx.AsyncClient(
                transport=transport,
                base_url="http://medoffice",
                headers={"authorization": f"Bearer {token}"},
                timeout=60,
            ) as client:

                async def http(site_id: str, week: str) -> None:
                    response = await client.get(
                        f"/staffing/sites/{site_id}/roster", params={"week": week}
                    )
                    assert response.status_code == 200, response.text
                    assert sum(len(d["shifts"]) for d in response.json()["days"]) == 400

                async def floor(site_id: str, week: str) -> None:
                    response = await client.get("/staffing/sites/nobody/pto-balances")
                    assert response.status_code == 200, response.text

                warm = picks[:50]
                for measure in (raw, query, http, floor):
                    for call in warm:
                        await measure(*call)
                figures = [
                    await timed("raw: 3 documents by id, parsed", picks, raw),
                    await timed("roster query (read model)", picks, query),
                    await timed("GET roster?week= (HTTP)", picks, http),
                    await timed("HTTP floor: GET of one small document", picks, floor),
                ]
            conn.close()
        finally:
            await suite.stop()
    return group, figures


def report_results(group: Group, figures: list[Latencies]) -> None:
    print(
        f"Group: {len(group.sites)} sites x {PER_SITE} staff = {len(group.sites) * PER_SITE:,} "
        f"employees, {len(group.weeks)} weeks ({YEARS} years), {group.shifts:,} shifts in "
        f"{len(group.sites) * len(group.weeks):,} week documents."
    )
    latency_table(figures)
    raw, query, http, floor = figures
    print()
    latency_comparisons(
        [
            ("query p50 vs raw p50", "ms", query.quantile(0.5) * 1000, raw.quantile(0.5) * 1000),
            ("query p95 vs raw p95", "ms", query.quantile(0.95) * 1000, raw.quantile(0.95) * 1000),
            ("HTTP p50 vs raw p50", "ms", http.quantile(0.5) * 1000, raw.quantile(0.5) * 1000),
            ("HTTP p95 vs raw p95", "ms", http.quantile(0.95) * 1000, raw.quantile(0.95) * 1000),
            (
                "HTTP p50 vs HTTP floor p50",
                "ms",
                http.quantile(0.5) * 1000,
                floor.quantile(0.5) * 1000,
            ),
        ]
    )


def main() -> None:
    queries = int(sys.argv[1]) if len(sys.argv) > 1 else QUERIES
    group, figures = asyncio.run(run(queries))
    report_results(group, figures)


if __name__ == "__main__":
    main()
