"""Finance's month for the whole group (issue 16): the profit and loss and budget versus actual
of a 6-site group's year, against reading the events raw.

The group: 6 sites, the year 2026, `visits` completed visits (default 360,000, about 230 a site
a weekday) spread evenly over its weekdays. For each visit: scheduling's `VisitCompleted`, and
the revenue finance recognises from billing's payment of it: a payer's payment 14-60 days after
the visit for 85% of them (on one of four payer classes' accounts), a patient's payment 10-40
days after for the rest (self-pay). `invoices` (default 20,000) from 40 vendors over the year,
each received, approved two days on and paid thirty days on (one in twenty voided instead); a
payroll journal per month (salaries, every site) five days after it. An approved budget per site
for fiscal 2026, in a real event store, which the report folds as the service does.

Finance's ledger projection is fed as its runner feeds it (batches of 500, each decoded by the
registry the service reads with, applied in a View and flushed) on an embedded SQLite document
store that starts empty. Then June, for the whole group, as recorded by the year's end:
- ours: `Reports.month` (P&L, budget versus actual, cash collected, visits, cost per visit);
- raw: the same events read raw from an SQLite table (recorded time, JSON) up to that day,
  decoded with orjson and summed for the month by account: the floor of replaying the events.
Both answers are checked to agree (revenue, expenses, visits) in a first, untimed pass; then
each is timed ROUNDS times, interleaved, and the fastest kept (the machine may be shared).

Run alone: `python -m bench.finance [visits] [invoices]`.
"""

from __future__ import annotations

import asyncio
import heapq
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from bench.receivables import batched, fastest_of, weekdays
from bench.report import Figure, comparisons, table
from services.finance.app import SPEC
from services.finance.application.accounts import Accounts
from services.finance.application.budgets import Budgets
from services.finance.application.reports import Reports
from services.finance.contracts import CONTRACT
from services.finance.domain.events import (
    BudgetLine,
    CostCentre,
    InvoiceApproved,
    InvoiceLine,
    InvoicePaid,
    InvoiceReceived,
    InvoiceVoided,
    JournalLine,
    PayrollJournalPosted,
    RevenueRecognised,
)
from services.finance.projections.ledger import LedgerProjection
from services.scheduling.contracts import VisitCompleted
from shared.clock import SystemClock, UuidIds
from shared.commands import CommandHandler
from shared.documents.sqlite import SqliteDocumentStore
from shared.events import DomainEvent, Envelope, Metadata, seal
from shared.eventstore.sqlite import SqliteEventStore
from shared.projections import NewDocuments, View
from shared.readmodels import ReadModels
from shared.sqlite import SqliteDatabase

T = "acme"
SITES = [f"site-{n}" for n in range(1, 7)]
START = datetime(2026, 1, 1, 15, 0, tzinfo=UTC)
DAYS = 365
VISITS = 360_000
INVOICES = 20_000
VENDORS = 40
MONTH = date(2026, 6, 1)
AS_OF = date(2026, 12, 31)
PAYER_ACCOUNTS = ("4100", "4200", "4300", "4900")  # commercial, Medicare, Medicaid, other
SELF_PAY = "4400"
EXPENSE_ACCOUNTS = ("5200", "5300", "5400", "5500", "5600")
SALARIES = "5100"
BATCH = 500
ROUNDS = 3
META = Metadata(tenant=T, correlation_id="bench")


def workload(
    visits: int, invoices: int, *, seed: int = 16
) -> Iterator[tuple[str, DomainEvent, datetime]]:
    """(stream, event, recorded time) in recorded-time order, made day by day: what happens
    later waits in a heap until its day comes."""
    rng = random.Random(seed)
    opened = weekdays(START, DAYS)
    waiting: list[tuple[datetime, int, str, DomainEvent]] = []
    order = 0

    def later(at: datetime, stream: str, event: DomainEvent) -> None:
        nonlocal order
        order += 1
        heapq.heappush(waiting, (at, order, stream, event))

    def due(until: datetime) -> Iterator[tuple[str, DomainEvent, datetime]]:
        while waiting and waiting[0][0] < until:
            at, _, stream, event = heapq.heappop(waiting)
            yield stream, event, at

    n = i = 0
    for index, day in enumerate(opened):
        yield from due(day)
        while n < visits and n * len(opened) // visits == index:
            visit(rng, n, day + timedelta(minutes=n % 480), later)
            n += 1
        while i < invoices and i * len(opened) // invoices == index:
            invoice(rng, i, day, later)
            i += 1
        if day.month != (day + timedelta(days=1)).month or day == opened[-1]:
            payroll(rng, day, later)
    yield from due(datetime.max.replace(tzinfo=UTC))


def visit(rng: random.Random, n: int, at: datetime, later: Any) -> None:
    site = SITES[n % len(SITES)]
    appointment = f"appt-{n}"
    completed = VisitCompleted(
        appointment_id=appointment, patient_id=f"pat-{n % 9000}", provider_id=f"dr-{n % 36}",
        site_id=site, visit_type_id="follow-up", start=at, procedures=("99213",),
        diagnoses=("I10",), completed_at=at + timedelta(minutes=30),
    )  # fmt: skip
    later(at + timedelta(minutes=30), f"{T}:site-day:{site}:{at.date()}", completed)
    payer = rng.random() < 0.85
    paid = at + timedelta(days=rng.randint(14, 60) if payer else rng.randint(10, 40))
    revenue = RevenueRecognised(
        learnt_from=f"payment-{n}", kind="payer_payment" if payer else "patient_payment",
        site_id=site, account_code=rng.choice(PAYER_ACCOUNTS) if payer else SELF_PAY,
        amount_cents=rng.randint(4_000, 18_000) if payer else rng.randint(1_000, 5_000),
        date_of_service=at.date(), posted_on=paid.date(), recognised_at=paid,
    )  # fmt: skip
    later(paid, f"{T}:revenue:{n}", revenue)


def invoice(rng: random.Random, n: int, day: datetime, later: Any) -> None:
    vendor, invoice_id = f"vendor-{n % VENDORS}", f"inv-{n}"
    stream = f"{T}:vendor:{vendor}"
    lines = tuple(
        InvoiceLine(
            account_code=rng.choice(EXPENSE_ACCOUNTS),
            site_id=rng.choice(SITES),
            amount_cents=rng.randint(1_000, 80_000),
        )  # fmt: skip
        for _ in range(rng.randint(1, 3))
    )
    received = InvoiceReceived(
        vendor_id=vendor, invoice_id=invoice_id, invoice_number=f"V{n}", invoice_date=day.date(),
        received_on=day.date(), terms="net_30", due_on=(day + timedelta(days=30)).date(),
        lines=lines, total_cents=sum(line.amount_cents for line in lines), approvals_needed=1,
        received_by="ap-clerk", received_at=day,
    )  # fmt: skip
    later(day, stream, received)
    approved = day + timedelta(days=2)
    later(approved, stream, InvoiceApproved(
        vendor_id=vendor, invoice_id=invoice_id, approved_by="manager", approvals_given=1,
        approvals_needed=1, approved_at=approved,
    ))  # fmt: skip
    if n % 20 == 0:
        voided = day + timedelta(days=10)
        later(voided, stream, InvoiceVoided(
            vendor_id=vendor, invoice_id=invoice_id, reason="billed twice", voided_by="ap-clerk",
            voided_on=voided.date(), voided_at=voided,
        ))  # fmt: skip
        return
    paid = day + timedelta(days=30)
    later(paid, stream, InvoicePaid(
        vendor_id=vendor, invoice_id=invoice_id, run_id=f"run-{paid.date()}",
        amount_cents=received.total_cents, paid_on=paid.date(), paid_at=paid,
    ))  # fmt: skip


def payroll(rng: random.Random, day: datetime, later: Any) -> None:
    month = day.date().replace(day=1)
    lines = tuple(
        JournalLine(site_id=site, account_code=SALARIES, amount_cents=rng.randint(20, 30) * 10**6)
        for site in SITES
    )
    posted = day + timedelta(days=5)
    later(posted, f"{T}:payroll:{month:%Y-%m}", PayrollJournalPosted(
        journal_id=f"payroll-{month:%Y-%m}", month=month, lines=lines,
        total_cents=sum(line.amount_cents for line in lines), digest="0" * 64,
        source=f"payroll-{month:%Y-%m}.csv", posted_by="finance", posted_at=posted,
    ))  # fmt: skip


def envelopes(visits: int, invoices: int) -> Iterator[Envelope]:
    versions: dict[str, int] = {}
    rng = random.Random(61)
    for stream, event, at in workload(visits, invoices):
        versions[stream] = versions.get(stream, 0) + 1
        yield seal(
            event, stream=stream, stream_version=versions[stream], meta=META,
            event_id=str(uuid.UUID(int=rng.getrandbits(128))), time=at,
        )  # fmt: skip


async def project(
    store: SqliteDocumentStore, feed: Iterator[Envelope], raw: sqlite3.Connection
) -> tuple[int, float]:
    """Feed the projection as its runner does; the raw table is written on the way, untimed."""
    projection = LedgerProjection()
    registry = SPEC.reads
    assert registry is not None  # finance reads billing's and scheduling's events too
    new = NewDocuments(fresh=True)
    fed, seconds = 0, 0.0
    for batch in batched(feed, BATCH):
        raw.executemany(
            "INSERT INTO events VALUES (?, ?)",
            [(e.time.isoformat(), e.model_dump_json()) for e in batch],
        )
        started = time.perf_counter()
        unit = View(store, 1, new)
        events = [registry.decode(envelope) for envelope in batch]
        await unit.prefetch(  # as the runner does for a projection that names its keys
            key for e, env in zip(events, batch, strict=True) for key in projection.keys(e, env)
        )
        for event, envelope in zip(events, batch, strict=True):
            await projection.apply(event, envelope, unit)
        new.wrote(await unit.flush())
        seconds += time.perf_counter() - started
        fed += len(batch)
    return fed, seconds


async def budgets(handler: CommandHandler) -> Accounts:
    """The cost centres and an approved budget per site for fiscal 2026, in the event store."""
    accounts = Accounts(handler)
    centres = tuple(CostCentre(cost_centre_id=f"cc-{s}", site_id=s, name=s) for s in SITES)
    await accounts.set_cost_centres(META.model_copy(update={"actor": "finance"}), centres)
    planner = Budgets(handler, accounts)
    months = [date(2026, m, 1) for m in range(1, 13)]
    codes = (*PAYER_ACCOUNTS, SELF_PAY, SALARIES, *EXPENSE_ACCOUNTS)
    for site in SITES:
        lines = tuple(
            BudgetLine(account_code=code, month=month, amount_cents=1_000_000 * (n + 1))
            for n, code in enumerate(codes)
            for month in months
        )
        drafted = META.model_copy(update={"actor": "finance"})
        await planner.draft(drafted, site_id=site, fiscal_year=2026, first_month=1, lines=lines)
        approver = META.model_copy(update={"actor": "manager"})
        await planner.approve(
            approver, site_id=site, fiscal_year=2026, budget_version=1, roles=("manager",)
        )
    return accounts


def raw_month(path: Path, bound: str) -> dict[str, int]:
    """The month's revenue, expenses and visits from the events read raw up to `bound`."""
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT body FROM events WHERE at < ? ORDER BY at", (bound,)).fetchall()
    conn.close()
    month = MONTH.isoformat()[:7]
    revenue = expenses = visits = 0
    invoices: dict[str, int] = {}
    for (body,) in rows:
        envelope = orjson.loads(body)
        kind, data = envelope["type"], envelope["data"]
        if kind.endswith(".RevenueRecognised.v1"):
            if data["posted_on"].startswith(month):
                revenue += data["amount_cents"]
        elif kind.endswith(".VisitCompleted.v1"):
            visits += data["start"].startswith(month)
        elif kind.endswith(".InvoiceReceived.v1"):
            if data["invoice_date"].startswith(month):
                invoices[data["invoice_id"]] = data["total_cents"]
        elif kind.endswith(".InvoiceVoided.v1"):
            invoices.pop(data["invoice_id"], None)
        elif kind.endswith(".PayrollJournalPosted.v1") and data["month"].startswith(month):
            expenses += data["total_cents"]
    return {"revenue": revenue, "expenses": expenses + sum(invoices.values()), "visits": visits}


async def raw_month_async(path: Path, bound: str) -> dict[str, int]:
    return raw_month(path, bound)


async def run(visits: int, invoices: int) -> list[Figure]:
    bound = (AS_OF + timedelta(days=1)).isoformat()
    with tempfile.TemporaryDirectory() as folder:
        raw_path = Path(folder) / "raw.db"
        raw = sqlite3.connect(raw_path)
        raw.execute("CREATE TABLE events (at TEXT, body TEXT)")
        raw.execute("CREATE INDEX events_at ON events (at)")
        docs_db = SqliteDatabase(Path(folder) / "docs.db", durability="normal")
        events_db = SqliteDatabase(Path(folder) / "events.db", durability="normal")
        store = SqliteDocumentStore(docs_db)
        event_store = SqliteEventStore(events_db)
        handler = CommandHandler(event_store, CONTRACT.registry, SystemClock(), UuidIds())
        try:
            accounts = await budgets(handler)
            fed, projected = await project(store, envelopes(visits, invoices), raw)
            raw.commit()
            raw.close()
            (upto,) = sqlite3.connect(raw_path).execute("SELECT count(*) FROM events").fetchone()
            reports = Reports(ReadModels(store), accounts)
            ours = await reports.month(T, MONTH, None, AS_OF)
            floor = raw_month(raw_path, bound)
            pnl = ours["profit_and_loss"]
            answered = {
                "revenue": pnl["revenue_cents"],
                "expenses": pnl["expenses_cents"],
                "visits": ours["visits"],
            }
            assert answered == floor, (answered, floor)
            fastest = await fastest_of(
                {
                    "ours": lambda: reports.month(T, MONTH, None, AS_OF),
                    "site": lambda: reports.month(T, MONTH, SITES[0], AS_OF),
                    "raw": lambda: raw_month_async(raw_path, bound),
                }
            )
        finally:
            await store.close()
            await docs_db.close()
            await event_store.close()
            await events_db.close()
    note = (
        f"revenue {pnl['revenue_cents'] / 100:,.0f} USD, expenses "
        f"{pnl['expenses_cents'] / 100:,.0f} USD, {ours['visits']:,} visits"
    )
    return [
        Figure("projection fed (no bus)", "embedded", fed, projected),
        Figure(f"month report, whole group, {MONTH:%B}", "embedded", upto, fastest["ours"], note),
        Figure(f"month report, one site, {MONTH:%B}", "embedded", upto, fastest["site"]),
        Figure("raw read and sum, whole group", "embedded", upto, fastest["raw"]),
    ]


def report_results(figures: list[Figure], visits: int, invoices: int) -> None:
    print(
        f"Group: {len(SITES)} sites, {visits:,} visits and {invoices:,} invoices over "
        f"{START.year}; June's month as recorded by {AS_OF}."
    )
    table(figures)
    print()
    comparisons(
        [
            ("whole group's month vs raw read", figures[1], figures[3]),
            ("one site's month vs raw read", figures[2], figures[3]),
        ]
    )


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    visits = int(args[0]) if args else VISITS
    invoices = int(args[1]) if len(args) > 1 else INVOICES
    report_results(asyncio.run(run(visits, invoices)), visits, invoices)


if __name__ == "__main__":
    main()
