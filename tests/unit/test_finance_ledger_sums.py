"""The month report reads the ledger's sums per recording day: they give, for every month, as
of every day and on both revenue bases, what summing the postings, invoices and visits one
by one gives; a rebuild (another generation, fed in other batches, every batch delivered
twice) gives the same reports; AP aging, which reads only the invoices that may be owed, gives
what a look at every invoice gives."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bench.finance import META, T, budgets, envelopes
from services.finance.app import SPEC
from services.finance.application.reports import Reports
from services.finance.contracts import CONTRACT
from services.finance.domain.aging import BUCKETS, bucket
from services.finance.domain.events import (
    InvoiceApproved,
    InvoiceLine,
    InvoicePaid,
    InvoiceReceived,
    InvoiceRejected,
    InvoiceVoided,
)
from services.finance.projections.ledger import (
    INVOICES,
    POSTINGS,
    VISITS,
    LedgerProjection,
)
from shared.clock import SystemClock, UuidIds
from shared.commands import CommandHandler
from shared.documents.sqlite import SqliteDocumentStore
from shared.events import DomainEvent, Envelope, seal
from shared.eventstore.sqlite import SqliteEventStore
from shared.projections import NewDocuments, View
from shared.readmodels import ReadModels, physical
from shared.sqlite import SqliteDatabase

MONTHS = [date(2026, m, 1) for m in range(1, 13)]
EXTRA = f"{T}:vendor:extra"


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 16, tzinfo=UTC)


def _extra() -> list[Envelope]:
    """Invoices the benchmark's year has not: dated a month before they were received, one
    rejected, one voided on a day before it was received, one paid."""
    events: list[DomainEvent] = []
    for n, (dated, received) in enumerate(
        [(date(2026, 5, 28), date(2026, 6, 3)), (date(2026, 6, 10), date(2026, 6, 12))] * 2
    ):
        lines = (
            InvoiceLine(account_code="5200", site_id="site-1", amount_cents=1_000 + n),
            InvoiceLine(account_code="5200", site_id="site-1", amount_cents=500),
            InvoiceLine(account_code="5300", site_id="site-2", amount_cents=70),
        )
        events.append(
            InvoiceReceived(
                vendor_id="extra",
                invoice_id=f"x-{n}",
                invoice_number=f"X{n}",
                invoice_date=dated,
                received_on=received,
                terms="net_30",
                due_on=received + timedelta(days=30),
                lines=lines,
                total_cents=sum(line.amount_cents for line in lines),
                approvals_needed=1,
                received_by="ap-clerk",
                received_at=_at(received),
            )  # fmt: skip
        )
    events += [
        InvoiceRejected(
            vendor_id="extra", invoice_id="x-0", reason="not ours", rejected_by="manager",
            rejected_on=date(2026, 6, 20), rejected_at=_at(date(2026, 6, 20)),
        ),
        InvoiceVoided(
            vendor_id="extra", invoice_id="x-1", reason="withdrawn", voided_by="ap-clerk",
            voided_on=date(2026, 6, 1), voided_at=_at(date(2026, 6, 25)),
        ),
        InvoiceApproved(
            vendor_id="extra", invoice_id="x-2", approved_by="manager", approvals_given=1,
            approvals_needed=1, approved_at=_at(date(2026, 6, 5)),
        ),
        InvoicePaid(
            vendor_id="extra", invoice_id="x-2", run_id="run-x", amount_cents=1_572,
            paid_on=date(2026, 7, 9), paid_at=_at(date(2026, 7, 9)),
        ),
    ]  # fmt: skip
    return [
        seal(
            event,
            stream=EXTRA,
            stream_version=n,
            meta=META,
            event_id=f"extra-{n}",
            time=_at(date(2026, 6, 26)),
        )  # fmt: skip
        for n, event in enumerate(events, 1)
    ]


@dataclass
class Ledger:
    store: SqliteDocumentStore
    read_models: ReadModels
    reports: Reports
    events: list[Envelope]


async def _feed(
    store: SqliteDocumentStore, generation: int, feed: list[Envelope], batch: int, times: int
) -> None:
    projection, registry = LedgerProjection(), SPEC.reads
    assert registry is not None
    new = NewDocuments(fresh=times == 1)
    for start in range(0, len(feed), batch):
        for _ in range(times):  # a batch delivered again applies nothing twice
            view = View(store, generation, new)
            envelopes = feed[start : start + batch]
            events = [registry.decode(envelope) for envelope in envelopes]
            if generation == 1:  # the runner's prefetch; the rebuild reads one by one
                await view.prefetch(
                    key
                    for e, env in zip(events, envelopes, strict=True)
                    for key in projection.keys(e, env)
                )
            for event, envelope in zip(events, envelopes, strict=True):
                await projection.apply(event, envelope, view)
            new.wrote(await view.flush())


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[Ledger]:
    docs_db = SqliteDatabase(tmp_path / "docs.db", durability="normal")
    events_db = SqliteDatabase(tmp_path / "events.db", durability="normal")
    store, event_store = SqliteDocumentStore(docs_db), SqliteEventStore(events_db)
    handler = CommandHandler(event_store, CONTRACT.registry, SystemClock(), UuidIds())
    try:
        accounts = await budgets(handler)
        feed = [*envelopes(600, 100), *_extra()]
        await _feed(store, 1, feed, 500, 1)
        read_models = ReadModels(store)
        yield Ledger(store, read_models, Reports(read_models, accounts), feed)
    finally:
        await store.close()
        await docs_db.close()
        await event_store.close()
        await events_db.close()


def _days(month: date) -> Iterable[date]:
    """As-of days around a month: before it, within it, after it."""
    yield month - timedelta(days=1)
    yield month + timedelta(days=14)
    for n in (1, 25, 60, 400):
        yield (month + timedelta(days=32)).replace(day=1) - timedelta(days=1) + timedelta(days=n)


def _on(doc: dict[str, Any], field: str, as_of: date) -> bool:
    value = doc.get(field)
    return value is not None and value <= as_of.isoformat()


async def _one_by_one(store: SqliteDocumentStore, month: date, as_of: date) -> dict[str, Any]:
    """The month summed from the postings, invoices and visits one document each."""
    by: dict[str, dict[tuple[str, str], int]] = {"posting": {}, "service": {}, "expense": {}}

    def add(kind: str, site: str, code: str, cents: int) -> None:
        by[kind][(site, code)] = by[kind].get((site, code), 0) + cents

    m = month.isoformat()
    for doc in await store.find(physical(POSTINGS, 1), {"tenant": T}):
        if not _on(doc, "recorded_on", as_of):
            continue
        site, code, cents = doc["site_id"], doc["account_code"], doc["amount_cents"]
        if doc["kind"] == "payroll":
            if doc["month"] == m:
                add("expense", site, code, cents)
            continue
        if doc["month"] == m:
            add("posting", site, code, cents)
        if doc["service_month"] == m:
            add("service", site, code, cents)
    for doc in await store.find(physical(INVOICES, 1), {"tenant": T, "month": m}):
        if _on(doc, "received_on", as_of) and not any(
            _on(doc, f, as_of) for f in ("voided_on", "rejected_on")
        ):
            for line in doc["lines"]:
                add("expense", line["site_id"], line["account_code"], line["amount_cents"])
    visits: dict[str, int] = {}
    for doc in await store.find(physical(VISITS, 1), {"tenant": T, "month": m}):
        if _on(doc, "recorded_on", as_of):
            visits[doc["site_id"]] = visits.get(doc["site_id"], 0) + 1
    found = {kind: {k: v for k, v in sums.items() if v} for kind, sums in by.items()}
    return {**found, "visits": visits}


async def _from_sums(reports: Reports, month: date, as_of: date) -> dict[str, Any]:
    def keyed(rows: Iterable[Any]) -> dict[tuple[str, str], int]:
        return {(r.site_id, r.account_code): r.amount_cents for r in rows}

    visits = {}
    for site in ("site-1", "site-2", "site-3", "site-4", "site-5", "site-6"):
        count = await reports._visits(T, month, as_of, site)
        if count:
            visits[site] = count
    return {
        "posting": keyed(await reports._revenue(T, month, as_of, "posting")),
        "service": keyed(await reports._revenue(T, month, as_of, "service")),
        "expense": keyed(await reports._expenses(T, month, as_of)),
        "visits": visits,
    }


async def test_the_sums_give_what_the_documents_one_by_one_give(ledger: Ledger) -> None:
    for month in MONTHS:
        for as_of in _days(month):
            expected = await _one_by_one(ledger.store, month, as_of)
            assert await _from_sums(ledger.reports, month, as_of) == expected, (month, as_of)


async def test_an_invoice_counts_from_receipt_until_voided_or_rejected(ledger: Ledger) -> None:
    def supplies(report: dict[str, Any]) -> int:
        return int(
            next(
                line["amount_cents"]
                for line in report["profit_and_loss"]["expenses"]
                if line["account_code"] == "5200"
            )
        )

    async def on(day: date) -> int:
        return supplies(await ledger.reports.month(T, date(2026, 6, 1), "site-1", day))

    # x-1 and x-3 are dated June and received 12 June; x-1 was voided "on 1 June" (recorded
    # on the 25th): it never counts. x-0 and x-2 are dated May.
    before, received = await on(date(2026, 6, 11)), await on(date(2026, 6, 12))
    assert received - before == 1_003 + 500
    may = date(2026, 5, 1)
    may_before = await ledger.reports.month(T, may, "site-1", date(2026, 6, 2))
    may_received = await ledger.reports.month(T, may, "site-1", date(2026, 6, 3))
    may_rejected = await ledger.reports.month(T, may, "site-1", date(2026, 6, 20))
    assert supplies(may_received) - supplies(may_before) == (1_000 + 500) + (1_002 + 500)
    assert supplies(may_received) - supplies(may_rejected) == 1_000 + 500


async def test_a_rebuild_fed_in_other_batches_twice_gives_the_same_reports(
    ledger: Ledger,
) -> None:
    await _feed(ledger.store, 2, ledger.events, 37, 2)
    first = [
        await ledger.reports.month(T, month, site, as_of, basis)
        for month in (date(2026, 3, 1), date(2026, 6, 1), date(2026, 12, 1))
        for site in (None, "site-2")
        for as_of in _days(month)
        for basis in ("posting", "service")
    ]
    await ledger.read_models.set_generation("finance.ledger", 2)
    rebuilt = [
        await ledger.reports.month(T, month, site, as_of, basis)
        for month in (date(2026, 3, 1), date(2026, 6, 1), date(2026, 12, 1))
        for site in (None, "site-2")
        for as_of in _days(month)
        for basis in ("posting", "service")
    ]
    assert rebuilt == first
    assert any(r["profit_and_loss"]["expenses_cents"] for r in first)


async def test_ap_aging_reads_what_may_be_owed_and_answers_as_every_invoice_does(
    ledger: Ledger,
) -> None:
    every = await ledger.store.find(physical(INVOICES, 1), {"tenant": T})
    for as_of in (date(2026, 1, 20), date(2026, 6, 12), date(2026, 6, 30), date(2027, 1, 5)):
        for sites in (None, ["site-1"]):
            totals = dict.fromkeys(BUCKETS, 0)
            owed = set()
            for doc in every:
                if (
                    _on(doc, "received_on", as_of)
                    and not any(_on(doc, f, as_of) for f in ("paid_on", "voided_on", "rejected_on"))
                    and (sites is None or set(doc["site_ids"]) & set(sites))
                ):
                    days = (as_of - date.fromisoformat(doc["due_on"])).days
                    totals[bucket(days)] += doc["total_cents"]
                    owed.add(doc["invoice_id"])
            aging = await ledger.reports.ap_aging(T, as_of, sites)
            assert aging["buckets"] == totals, as_of
            assert {i["invoice_id"] for i in aging["invoices"]} == owed
    assert owed  # at the year's end some invoices are still owed
