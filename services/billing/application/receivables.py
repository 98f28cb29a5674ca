"""Receivables as of any date: balances by owner and aging buckets (issue 13).

Reads only the receivables read model (`projections/receivables.py`): the entries recorded up
to the end of the day asked for (midnight UTC after it), summed. Buckets count the days from a
line's date of service to the as-of date: 0-30, 31-60, 61-90, 91-120, over 120.

Monthly snapshots bound the reading: the sums of the lines recorded before each month's end,
per owner (kind and id), patient, site, provider and date of service (a day: the buckets are
days), built from the entries by a timer (`SnapshotReceivables`) for every month over. An
answer as of D reads the latest fresh snapshot at or before D's end, and only the entries
recorded after it up to D's end. A snapshot is stale once an entry of one of its months was
recorded after it was built (its month's mark moved, see the projection): it is then skipped
(an older one, or the entries alone, answer) and built again by the next round. Two forms of
the rows: fine (with the patient: answers by patient) and coarse (without: every other
answer, a few thousand rows where the fine form has one per patient with a balance).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from typing import Any, Literal

from services.billing.projections import receivables as view
from shared.clock import Clock
from shared.documents.port import Write
from shared.readmodels import ReadModels
from shared.timers import Timer

By = Literal["patient", "payer", "site", "provider"]
BUCKETS = ("0-30", "31-60", "61-90", "91-120", "over-120")


def bucket_of(date_of_service: date, as_of: date) -> str:
    days = (as_of - date_of_service).days
    if days <= 30:
        return BUCKETS[0]
    if days <= 60:
        return BUCKETS[1]
    if days <= 90:
        return BUCKETS[2]
    if days <= 120:
        return BUCKETS[3]
    return BUCKETS[4]


def owner_key(line: dict[str, Any], by: By) -> str:
    """Whom a line counts for: a payer's lines by payer, a patient's by patient ("patient"
    as the payer of the patient's side); site and provider as recorded."""
    match by:
        case "payer":
            return str(line["owner_id"]) if line["owner"] == view.PAYER else "patient"
        case "patient":
            return str(line["patient_id"])
        case "site":
            return str(line["site_id"])
        case "provider":
            return str(line["provider_id"])


@dataclass
class Aging:
    as_of: date
    total_cents: int = 0
    buckets: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))
    owners: dict[str, dict[str, int]] = field(default_factory=dict)

    def out(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "total_cents": self.total_cents,
            "buckets": self.buckets,
            "owners": [
                {"owner": owner, "total_cents": sum(b.values()), "buckets": b}
                for owner, b in sorted(self.owners.items())
            ],
        }


Row = tuple[str, str, str, str, str, str]  # owner, owner id, patient, site, provider, DOS
CHUNK = 5_000  # snapshot rows per stored document
# A chunk's rows by column (arrays of scalars: FerretDB stores no nested arrays).
COLUMNS = ("owner", "owner_id", "patient_id", "site_id", "provider_id", "date_of_service", "cents")
FINE, COARSE = "fine", "coarse"  # a snapshot's two forms of its rows: with and without patient
OLD = 120  # days: a date of service older than this at a snapshot's end is over-120 for good


def row_of(line: dict[str, Any]) -> Row:
    return (
        str(line["owner"]),
        str(line["owner_id"]),
        str(line["patient_id"]),
        str(line["site_id"]),
        str(line["provider_id"]),
        str(line["date_of_service"]),
    )


def line_of(row: Row, cents: int) -> dict[str, Any]:
    owner, owner_id, patient_id, site_id, provider_id, dos = row
    return {
        "owner": owner,
        "owner_id": owner_id,
        "patient_id": patient_id,
        "site_id": site_id,
        "provider_id": provider_id,
        "date_of_service": dos,
        "amount_cents": cents,
    }


def next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def month_end(month: str) -> str:
    """The exclusive end of a month ("YYYY-MM") in `at`'s form: its last day's `day_end`."""
    return view.day_end(month_bounds(month)[1])


def add_lines(sums: dict[Row, int], lines: Iterable[dict[str, Any]]) -> None:
    for line in lines:
        row = row_of(line)
        sums[row] = sums.get(row, 0) + int(line["amount_cents"])


def settled(sums: dict[Row, int], month: str) -> dict[Row, int]:
    """The sums as a snapshot at the end of `month` keeps them: none that is zero, and every
    date of service more than OLD days before the month's last day folded into one (that
    day less OLD + 1): for any date from the month's end on, both are over 120 days old, so
    every bucket and total stays exactly what the rows unfolded give."""
    last = month_bounds(month)[1]
    oldest = (last - timedelta(days=OLD + 1)).isoformat()
    kept: dict[Row, int] = {}
    for row, cents in sums.items():
        if not cents:
            continue
        if row[5] < oldest:
            row = (*row[:5], oldest)
        kept[row] = kept.get(row, 0) + cents
    return {row: cents for row, cents in kept.items() if cents}


def coarse(sums: dict[Row, int]) -> dict[Row, int]:
    """The sums without the patient: for every answer but one by patient. A payer's rows by
    payer, site, provider and date of service; the patient's side likewise, as one owner."""
    kept: dict[Row, int] = {}
    for (owner, owner_id, _, site, provider, dos), cents in sums.items():
        row = (owner, owner_id if owner == view.PAYER else "", "", site, provider, dos)
        kept[row] = kept.get(row, 0) + cents
    return {row: cents for row, cents in kept.items() if cents}


@dataclass
class Snapshot:
    """A snapshot's head: the sums of the entries recorded before `through` (a month's end)."""

    month: str
    through: str
    marks: dict[str, int]  # the revision of each month's mark it was built on
    build: str
    chunks: dict[str, int]  # chunks of each form: "fine" (by patient) and "coarse"

    def fresh(self, marks: dict[str, int]) -> bool:
        """Whether no entry of its months was recorded (projected) after it was built."""
        return all(
            marks.get(month, 0) == self.marks.get(month, 0)
            for month in set(marks) | set(self.marks)
            if month <= self.month
        )


class Receivables:
    """Balances and aging from the entries; with `snapshots` (the default), from the latest
    fresh monthly snapshot at or before the date plus only the entries recorded after it.
    Both give the same answer for every date (tests/unit/test_billing_receivables_snapshots.py
    compares them)."""

    def __init__(self, read_models: ReadModels, *, snapshots: bool = True) -> None:
        self._read_models = read_models
        self._snapshots = snapshots

    async def _collection(self, collection: str) -> str:
        return await self._read_models.collection(view.PROJECTION, collection)

    async def marks(self, tenant: str) -> dict[str, int]:
        """Each month's mark revision (moves whenever an entry recorded that month lands)."""
        found = await self._read_models.find(view.PROJECTION, view.MARKS, view.of_tenant(tenant))
        return {str(d["month"]): int(d["_rev"]) for d in found if d["tenant"] == tenant}

    async def heads(self, tenant: str, months: Iterable[str]) -> list[Snapshot]:
        """The snapshots of these months that exist (by id)."""
        ids = [view.doc_id(tenant, month) for month in months]
        found = (
            await self._read_models.store.get_many(await self._collection(view.SNAPSHOTS), ids)
        ).values()
        return [
            Snapshot(
                month=str(d["month"]),
                through=str(d["through"]),
                marks={str(k): int(v) for k, v in d["marks"].items()},
                build=str(d["build"]),
                chunks={str(k): int(v) for k, v in d["chunks"].items()},
            )
            for d in found
            if d["tenant"] == tenant
        ]

    async def snapshot_rows(
        self, tenant: str, head: Snapshot, form: str = FINE
    ) -> dict[Row, int] | None:
        """A snapshot's rows in one form; None if its chunks are not all there (a rebuild in
        between)."""
        ids = chunk_ids(tenant, head.month, head.build, form, head.chunks.get(form, 0))
        found = await self._read_models.store.get_many(
            await self._collection(view.SNAPSHOT_ROWS), ids
        )
        if form not in head.chunks or len(found) != len(ids):
            return None
        sums: dict[Row, int] = {}
        for chunk in (found[i] for i in ids):
            columns = [chunk[name] for name in COLUMNS]
            for owner, owner_id, patient, site, provider, dos, cents in zip(*columns, strict=True):
                key: Row = (owner, owner_id, patient, site, provider, dos)
                sums[key] = sums.get(key, 0) + int(cents)
        return sums

    async def entry_lines(
        self, tenant: str, marks: dict[str, int], start: str | None, end: str | None
    ) -> list[dict[str, Any]]:
        """The lines of the entries recorded from `start` (inclusive) to `end` (exclusive),
        both midnights UTC (None: from the first, to the last entry); one query a month, of
        the month's days (`marks`: the months that have entries)."""
        if not marks:
            return []
        first = month_bounds(min(marks))[0]
        last = month_bounds(max(marks))[1] + timedelta(days=1)
        since = first if start is None else max(first, _midnight(start))
        until = last if end is None else min(last, _midnight(end))
        lines: list[dict[str, Any]] = []
        while since < until:
            following = month_bounds(since.isoformat()[:7])[1] + timedelta(days=1)
            upto = min(following, until)
            if since.isoformat()[:7] in marks:
                days = [since + timedelta(days=n) for n in range((upto - since).days)]
                entries = await self._read_models.find(
                    view.PROJECTION, view.ENTRIES, view.entries_of_days(tenant, days)
                )
                lines += [line for e in entries if e["tenant"] == tenant for line in e["lines"]]
            since = upto
        return lines

    async def lines(
        self,
        tenant: str,
        as_of: date | None,
        sites: Collection[str] | None = None,
        *,
        patients: bool = True,
    ) -> list[dict[str, Any]]:
        """The receivable lines recorded up to the end of `as_of` (UTC; None: all), of these
        sites: a snapshot's rows (lines summed by owner, patient, site, provider and date of
        service) and the lines recorded after it. `patients` False: the answer needs no
        patient's id (not by patient), so the snapshot's coarse rows do (no patient id, the
        patient's side as one owner "")."""
        end = None if as_of is None else view.day_end(as_of)
        start: str | None = None
        found: list[dict[str, Any]] = []
        marks = await self.marks(tenant)  # before the heads: a later mark shows as stale
        if self._snapshots and marks:
            upto = max(marks) if as_of is None else min(max(marks), as_of.isoformat()[:7])
            months = months_between(min(marks), upto)
            heads = sorted(await self.heads(tenant, months), key=lambda h: h.month, reverse=True)
            for head in heads:
                if (end is not None and head.through > end) or not head.fresh(marks):
                    continue
                rows = await self.snapshot_rows(tenant, head, FINE if patients else COARSE)
                if rows is not None:
                    found = [line_of(row, cents) for row, cents in rows.items()]
                    start = head.through
                    break
        found += await self.entry_lines(tenant, marks, start, end)
        if sites is not None:
            found = [line for line in found if line["site_id"] in sites]
        return found

    async def balances(
        self, tenant: str, as_of: date, by: By, sites: Collection[str] | None = None
    ) -> dict[str, Any]:
        totals: dict[str, int] = {}
        for line in await self.lines(tenant, as_of, sites, patients=by == "patient"):
            key = owner_key(line, by)
            totals[key] = totals.get(key, 0) + int(line["amount_cents"])
        rows = [{"owner": k, "balance_cents": v} for k, v in sorted(totals.items()) if v]
        return {
            "as_of": as_of.isoformat(),
            "by": by,
            "total_cents": sum(totals.values()),
            "balances": rows,
        }

    async def aging(
        self,
        tenant: str,
        as_of: date,
        by: By = "payer",
        sites: Collection[str] | None = None,
    ) -> Aging:
        aging = Aging(as_of)
        buckets: dict[str, str] = {}  # by date of service: one bucket_of per day
        for line in await self.lines(tenant, as_of, sites, patients=by == "patient"):
            amount = int(line["amount_cents"])
            if not amount:
                continue
            dos = str(line["date_of_service"])
            bucket = buckets.get(dos)
            if bucket is None:
                bucket = buckets[dos] = bucket_of(date.fromisoformat(dos), as_of)
            aging.total_cents += amount
            aging.buckets[bucket] += amount
            owner = aging.owners.setdefault(owner_key(line, by), dict.fromkeys(BUCKETS, 0))
            owner[bucket] += amount
        aging.owners = {k: v for k, v in aging.owners.items() if any(v.values())}
        return aging

    async def current(self, tenant: str, key: str) -> int:
        """A current balance (everything recorded so far): key "payer:<id>", "patient:<id>"
        (the patient's own side), "patient-of:<id>" (both sides), "site:<id>",
        "provider:<id>"."""
        kind, _, wanted = key.partition(":")
        total = 0
        for line in await self.lines(tenant, None, patients=kind in ("patient", "patient-of")):
            match kind:
                case "payer" | "patient":
                    hit = line["owner"] == kind and line["owner_id"] == wanted
                case "patient-of":
                    hit = line["patient_id"] == wanted
                case "site":
                    hit = line["site_id"] == wanted
                case "provider":
                    hit = line["provider_id"] == wanted
                case _:
                    raise ValueError(f"no balance kind {kind!r}")
            total += int(line["amount_cents"]) if hit else 0
        return total

    async def tenants(self) -> list[str]:
        """The tenants with an entry, from their months' marks: one lookup by id per tenant
        (the first mark past the last tenant's)."""
        tenants: list[str] = []
        while True:
            after = f"{tenants[-1]}:~" if tenants else ""
            found = await self._read_models.find(
                view.PROJECTION, view.MARKS, {"_id": {"$gt": after}}, sort=[("_id", 1)], limit=1
            )
            if not found:
                return tenants
            tenants.append(str(found[0]["tenant"]))

    async def take_snapshots(self, tenant: str, through: str) -> int:
        """Build every missing or stale snapshot of the months up to `through` ("YYYY-MM")
        from the first month with an entry, in order, each from the one before it plus its
        month's entries; return how many were built."""
        marks = await self.marks(tenant)  # before the entries: a later one shows as stale
        if not marks:
            return 0
        months = months_between(min(marks), through)
        heads = {h.month: h for h in await self.heads(tenant, months)}
        month, built = min(marks), 0
        sums: dict[Row, int] | None = {}
        previous: Snapshot | None = None
        while month <= through:
            head = heads.get(month)
            if head is not None and head.fresh(marks) and await self._whole(tenant, head):
                sums = None  # read back only if a later month needs building
                month, previous = next_month(month), head
                continue
            if sums is None:
                assert previous is not None  # sums are dropped only past a fresh snapshot
                sums = await self.snapshot_rows(tenant, previous)
                if sums is None:
                    return built  # rebuilt meanwhile: the next round starts again
            start = None if month == min(marks) else month_end(_month_before(month))
            add_lines(sums, await self.entry_lines(tenant, marks, start, month_end(month)))
            sums = settled(sums, month)
            previous = await self._write_snapshot(tenant, month, marks, sums, head)
            built += 1
            month = next_month(month)
        return built

    async def _whole(self, tenant: str, head: Snapshot) -> bool:
        """Whether all its chunks are there (counted on the ids, not read)."""
        rows_at = await self._collection(view.SNAPSHOT_ROWS)
        for form, chunks in head.chunks.items():
            ids = chunk_ids(tenant, head.month, head.build, form, chunks)
            if await self._read_models.store.count(rows_at, {"_id": {"$in": ids}}) != chunks:
                return False
        return True

    async def _write_snapshot(
        self,
        tenant: str,
        month: str,
        marks: dict[str, int],
        sums: dict[Row, int],
        replaced: Snapshot | None,
    ) -> Snapshot:
        """The rows in chunks under a new build id, then the head naming them, then the
        replaced build's chunks removed: a reader sees one whole build or misses a chunk (and
        reads another snapshot, or the entries). A build that died before its head was
        written leaves its chunks unnamed: read by no one."""
        store = self._read_models.store
        rows_at = await self._collection(view.SNAPSHOT_ROWS)
        heads_at = await self._collection(view.SNAPSHOTS)
        kept = {m: r for m, r in marks.items() if m <= month}
        build = uuid.uuid4().hex[:16]  # a build's chunks are never another build's
        writes: list[Write] = []
        chunks: dict[str, int] = {}
        for form, rows in ((FINE, sums), (COARSE, coarse(sums))):
            items = [(*row, cents) for row, cents in sorted(rows.items())]
            parts = [items[first : first + CHUNK] for first in range(0, len(items), CHUNK)]
            chunks[form] = len(parts)
            writes += [
                Write(
                    doc_id=doc_id,
                    doc={
                        "tenant": tenant,
                        "month": month,
                        **{name: [item[c] for item in part] for c, name in enumerate(COLUMNS)},
                    },
                )
                for doc_id, part in zip(
                    chunk_ids(tenant, month, build, form, len(parts)), parts, strict=True
                )
            ]
        await store.write(rows_at, writes)
        head = Snapshot(month, month_end(month), kept, build, chunks)
        await store.write(
            heads_at,
            [
                Write(
                    doc_id=view.doc_id(tenant, month),
                    doc={
                        "tenant": tenant,
                        "month": month,
                        "through": head.through,
                        "marks": head.marks,
                        "build": build,
                        "chunks": head.chunks,
                    },
                )
            ],
        )
        if replaced is not None:
            gone = [
                Write(doc_id=doc_id, doc=None)
                for form, count in replaced.chunks.items()
                for doc_id in chunk_ids(tenant, month, replaced.build, form, count)
            ]
            await store.write(rows_at, gone)
        return head


def chunk_ids(tenant: str, month: str, build: str, form: str, count: int) -> list[str]:
    return [f"{tenant}:{month}:{build}:{form}:{n:06d}" for n in range(count)]


def months_between(first: str, last: str) -> list[str]:
    """The months from `first` to `last` ("YYYY-MM"), both included."""
    months = []
    while first <= last:
        months.append(first)
        first = next_month(first)
    return months


def _midnight(bound: str) -> date:
    """The day a bound in `at`'s form starts (bounds are midnights UTC: `day_end`)."""
    day = date.fromisoformat(bound[:10])
    assert bound == view.day_end(day - timedelta(days=1)), f"not a midnight UTC: {bound}"
    return day


def _month_before(month: str) -> str:
    year, number = int(month[:4]), int(month[5:7])
    return f"{year - 1:04d}-12" if number == 1 else f"{year:04d}-{number - 1:02d}"


class SnapshotReceivables(Timer):
    """Monthly snapshots of the receivables: each round builds, per tenant, every missing or
    stale snapshot of the months already over (by the kit's clock, UTC)."""

    name = "billing.receivable_snapshots"

    def __init__(self, receivables: Receivables, clock: Clock, every: float) -> None:
        super().__init__(every)
        self._receivables = receivables
        self._clock = clock

    async def fire_due(self) -> int:
        done = 0
        last = _month_before(self._clock.now().astimezone(UTC).date().isoformat()[:7])
        for tenant in await self._receivables.tenants():
            done += await self._receivables.take_snapshots(tenant, last)
        return done


def month_bounds(month: str) -> tuple[date, date]:
    """The first and last day of a month "YYYY-MM" (ValueError if it is not one)."""
    first = date.fromisoformat(f"{month}-01")
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def _months_back(month: str, n: int) -> list[str]:
    first, _ = month_bounds(month)
    out = []
    year, number = first.year, first.month
    for _ in range(n):
        out.append(f"{year:04d}-{number:02d}")
        year, number = (year - 1, 12) if number == 1 else (year, number - 1)
    return out


def _ratio(part: int, whole: int, digits: int = 4) -> float | None:
    return None if whole == 0 else round(part / whole, digits)


class Kpis:
    """Revenue-cycle KPIs per site and month (docs/kpis.md has the definitions)."""

    def __init__(self, read_models: ReadModels, receivables: Receivables) -> None:
        self._read_models = read_models
        self._receivables = receivables

    async def _counters(self, tenant: str, site: str, month: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        first, last = month_bounds(month)
        ids = [
            view.kpi_id(tenant, site, (first + timedelta(days=n)).isoformat())
            for n in range((last - first).days + 1)
        ]
        collection = await self._read_models.collection(view.PROJECTION, view.KPIS)
        for doc in (await self._read_models.store.get_many(collection, ids)).values():
            for k, v in doc.items():
                if isinstance(v, int) and k != "_rev":
                    counts[k] = counts.get(k, 0) + v
        return counts

    async def of(self, tenant: str, site: str, month: str) -> dict[str, Any]:
        first, last = month_bounds(month)
        counts = await self._counters(tenant, site, month)
        aging = await self._receivables.aging(tenant, last, "payer", [site])
        quarter = [await self._counters(tenant, site, m) for m in _months_back(month, 3)]
        charged = sum(c.get("charges_cents", 0) for c in quarter)
        days = (last - month_bounds(_months_back(month, 3)[-1])[0]).days + 1
        over_90 = aging.buckets["91-120"] + aging.buckets["over-120"]
        net = counts.get("charges_cents", 0) - counts.get("contractual_cents", 0)
        first_adjudications = counts.get("first_adjudications", 0)
        lag = counts.get("lag_count", 0)
        return {
            "site_id": site,
            "month": month,
            "ar_cents": aging.total_cents,
            "days_in_ar": None if charged == 0 else round(aging.total_cents / (charged / days), 1),
            "net_collection_rate": _ratio(counts.get("payments_cents", 0), net),
            "first_pass_resolution_rate": _ratio(counts.get("clean_first", 0), first_adjudications),
            "denial_rate": _ratio(counts.get("denied_first", 0), first_adjudications),
            "ar_over_90_share": _ratio(over_90, aging.total_cents),
            "ar_over_120_share": _ratio(aging.buckets["over-120"], aging.total_cents),
            "average_payment_lag_days": None
            if lag == 0
            else round(counts.get("lag_days", 0) / lag, 1),
            "counts": {
                "charges_cents": counts.get("charges_cents", 0),
                "payments_cents": counts.get("payments_cents", 0),
                "contractual_cents": counts.get("contractual_cents", 0),
                "first_adjudications": first_adjudications,
                "denied_first": counts.get("denied_first", 0),
                "clean_first": counts.get("clean_first", 0),
                "charges_last_3_months_cents": charged,
            },
            "first_day": first.isoformat(),
            "last_day": last.isoformat(),
        }
