"""The receivables read model (`billing.receivables`): who owes the group what, now and as of
any past date (issue 13).

Every event that moves money owed to the group becomes one append-only document in `entries`:
its signed receivable lines (who owes: a payer or the patient; the site, the provider, the
claim or charge, the date of service, the amount in cents) and the time that counts,
`at` = the event's recorded time (its envelope's `time`) in UTC, ISO 8601. An answer "as of
D" sums the lines of every entry with `at` before D + 1 day at 00:00 UTC: the day boundary is
midnight UTC, whatever the site's zone (documented in docs/architecture.md). An entry's id is
`<tenant>:<at>:<event id>`, so the entries recorded in a time range are a range of ids: an
index lookup on every store (the primary key), never a scan of the tenant's entries.

Monthly snapshots (`receivable_snapshots`, rows in `receivable_snapshot_rows`) hold the sums
of the entries recorded before each month's end; they are built from the entries by a timer
(application/receivables.py `SnapshotReceivables`), not here: sums shared by thousands of
streams cannot keep a per-stream "seen" marker each. What the projection keeps for them is one
mark per tenant and month of `at` (`receivable_marks`), rewritten (its revision moves) by
every batch that records an entry in that month; a snapshot remembers the marks' revisions
it was built on and is stale once any of its months' marks has moved.

The money, as BILLING2.md words it:
- a claim's insurance balance starts at its total (a replacement's total; a void adds
  nothing; a secondary claim starts at what the primary left to the patient), less what the
  payer paid, less its contractual and other payer adjustments (CO, OA, PI, CR), less the
  patient responsibility (PR, moved to the patient's side by the ledger's own assessment);
  a reversal puts back exactly what the adjudication it names took off; a write-off takes off
  its amount; a claim replaced or voided hands its remainder over (a replacement starts at
  its own total);
- the patient's balance: responsibility assessed, less payments, plus refunds, less
  write-offs. A payment or write-off that names a charge goes to that visit first, then to
  the patient's oldest open visits; what is left over is a credit (dated the day it came);
- a provider-level adjustment (PLB) changes what the payer owes: a positive amount (the payer
  kept it back) adds to the payer's balance, a negative one (interest) takes off; it has no
  site or visit (its date of service is the fiscal period's end).

Unbilled charges are not receivables: a charge owes nothing until a claim (or a self-pay
assessment) says who owes it. No PHI: patient ids only.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from services.billing.domain.claims import taken_off
from services.billing.domain.events import (
    BillingEvent,
    ChargeCorrected,
    ChargeCreated,
    ClaimAdjudicated,
    ClaimAdjudicationReversed,
    ClaimCreated,
    ClaimRejected,
    ClaimReplaced,
    ClaimWrittenOff,
    PatientBalanceWrittenOff,
    PatientPaymentReceived,
    PatientRefunded,
    PatientResponsibilityAssessed,
    ProviderAdjustmentPosted,
)
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "billing.receivables"
ENTRIES = "receivable_entries"  # one per event that moved money owed: append-only
CLAIMS = "receivable_claims"  # a claim's context and insurance balance
CHARGES = "receivable_charges"  # a visit's context: patient, site, provider, date of service
PATIENTS = "receivable_patients"  # a patient's open visits (what payments are applied to)
SOURCES = "receivable_sources"  # one per stream: how far this read model has read it
KPIS = "receivable_kpis"  # one per site and day (of the recorded time, UTC): KPI counters
MARKS = "receivable_marks"  # one per tenant and month of `at`: moves when an entry lands there
SNAPSHOTS = "receivable_snapshots"  # one per tenant and month: the sums as of its end (timer)
SNAPSHOT_ROWS = "receivable_snapshot_rows"  # a snapshot's rows, in chunks

PAYER, PATIENT = "payer", "patient"
NO_SITE = ""

_Money = (
    ChargeCreated,
    ChargeCorrected,
    ClaimCreated,
    ClaimAdjudicated,
    ClaimAdjudicationReversed,
    ClaimWrittenOff,
    ClaimReplaced,
    PatientResponsibilityAssessed,
    PatientPaymentReceived,
    PatientRefunded,
    PatientBalanceWrittenOff,
    ProviderAdjustmentPosted,
)


def doc_id(tenant: str, key: str) -> str:
    return f"{tenant}:{key}"


def entry_id(tenant: str, at: str, event_id: str) -> str:
    """An entry's id: ordered by tenant, then recorded time (`at`, UTC ISO), then event."""
    return f"{tenant}:{at}:{event_id}"


def entries_of_days(tenant: str, days: list[date]) -> dict[str, Any]:
    """The filter of a tenant's entries recorded on these consecutive days (UTC): by `day`
    (an equality index on MongoDB) and by the range of ids they span (the primary key on
    SQLite, which has no other index). Each store serves it from an index."""
    since = day_end(days[0] - timedelta(days=1))  # the midnight the first day starts at
    return {
        "_id": {"$gte": f"{tenant}:{since}", "$lt": f"{tenant}:{day_end(days[-1])}"},
        "day": {"$in": [day_key(tenant, d.isoformat()) for d in days]},
    }


def day_key(tenant: str, day: str) -> str:
    return f"{tenant}:{day}"


def of_tenant(tenant: str) -> dict[str, Any]:
    """A tenant's documents of a small collection (marks): by `tenant` and by ids."""
    return {"tenant": tenant, "_id": {"$gte": f"{tenant}:", "$lt": f"{tenant}:~"}}


def kpi_id(tenant: str, site: str, day: str) -> str:
    return f"{tenant}:{site}:{day}"


def _line(owner: str, owner_id: str, context: Document, amount: int, **more: Any) -> dict[str, Any]:
    return {
        "owner": owner,
        "owner_id": owner_id,
        "patient_id": context.get("patient_id") or "",
        "site_id": context.get("site_id") or NO_SITE,
        "provider_id": context.get("provider_id") or "",
        "date_of_service": context.get("date_of_service"),
        "claim_id": context.get("claim_id"),
        "charge_id": context.get("charge_id"),
        "amount_cents": amount,
        **more,
    }


class ReceivablesProjection:
    name = PROJECTION
    contexts = ("billing",)
    collections = (
        ENTRIES,
        CLAIMS,
        CHARGES,
        PATIENTS,
        SOURCES,
        KPIS,
        MARKS,
        SNAPSHOTS,
        SNAPSHOT_ROWS,
    )
    # Every billing event: each moves its stream's marker in SOURCES (read-your-writes).
    handles: tuple[type[DomainEvent], ...] = (BillingEvent,)

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        tenant = envelope.tenant
        if isinstance(event, ClaimRejected):
            await self._rejected(event, envelope, view)
        if isinstance(event, _Money):
            counts = await self._counts(event, envelope, view)  # before the claim moves
            lines = await self._lines(event, envelope, view)
            if lines:
                await self._record(tenant, envelope, lines, view)
            for site, counted in counts.items():
                await self._count(tenant, site, envelope, counted, view)

        def mark(doc: Document | None) -> Document | None:
            return doc or {"tenant": tenant, "stream": envelope.stream}

        await view.change(SOURCES, doc_id(tenant, envelope.stream), envelope, mark)

    def keys(self, event: DomainEvent, envelope: Envelope) -> Iterable[tuple[str, str]]:
        """The documents `apply` reads (the runner reads a batch's in one go per collection);
        a KPI counter whose site comes from the claim is read when it is met."""
        tenant = envelope.tenant
        yield SOURCES, doc_id(tenant, envelope.stream)
        if not isinstance(event, (*_Money, ClaimRejected)):
            return
        at = _utc(envelope)
        yield ENTRIES, entry_id(tenant, at, envelope.id)
        yield MARKS, doc_id(tenant, at[:7])
        match event:
            case ChargeCreated():
                yield CHARGES, doc_id(tenant, event.charge_id)
            case ClaimCreated():
                yield CLAIMS, doc_id(tenant, event.claim_id)
                for charge_id in event.charge_ids:
                    yield CHARGES, doc_id(tenant, charge_id)
                if event.primary_claim_id is not None:
                    yield CLAIMS, doc_id(tenant, event.primary_claim_id)
                yield KPIS, kpi_id(tenant, event.site_id, at[:10])
            case (
                ClaimAdjudicated()
                | ClaimAdjudicationReversed()
                | ClaimWrittenOff()
                | ClaimReplaced()
                | ClaimRejected()
            ):
                yield CLAIMS, doc_id(tenant, event.claim_id)
            case (
                PatientResponsibilityAssessed()
                | PatientPaymentReceived()
                | PatientRefunded()
                | PatientBalanceWrittenOff()
            ):
                yield PATIENTS, doc_id(tenant, event.patient_id)
                if isinstance(event, PatientPaymentReceived):
                    yield KPIS, kpi_id(tenant, event.site_id, at[:10])

    async def _rejected(self, event: ClaimRejected, envelope: Envelope, view: View) -> None:
        def mark(doc: Document | None) -> Document | None:
            if doc is None:
                return None
            doc["rejected"] = True
            return doc

        await view.change(CLAIMS, doc_id(envelope.tenant, event.claim_id), envelope, mark)

    async def _counts(
        self, event: DomainEvent, envelope: Envelope, view: View
    ) -> dict[str, dict[str, int]]:
        """What an event adds to its site's KPI counters this month (docs/kpis.md)."""
        tenant = envelope.tenant
        match event:
            case ClaimCreated() if event.frequency == "1" and event.primary_claim_id is None:
                return {event.site_id: {"charges_cents": event.total_cents}}
            case ClaimAdjudicated():
                claim = await view.get(CLAIMS, doc_id(tenant, event.claim_id))
                if claim is None:
                    return {}
                contractual = sum(a.amount_cents for a in event.adjustments if a.group == "CO")
                contractual += sum(
                    a.amount_cents for ln in event.lines for a in ln.adjustments if a.group == "CO"
                )
                counted = {"payments_cents": event.paid_cents, "contractual_cents": contractual}
                if not claim.get("postings") and not claim.get("adjudicated"):
                    first_pass = event.outcome != "denied" and not claim.get("rejected")
                    counted.update(
                        first_adjudications=1,
                        denied_first=int(event.outcome == "denied"),
                        clean_first=int(first_pass),
                    )
                if event.paid_cents > 0:
                    dos = date.fromisoformat(str(claim["date_of_service"]))
                    counted.update(lag_days=(event.adjudicated_on - dos).days, lag_count=1)
                return {str(claim["site_id"]): counted}
            case ClaimAdjudicationReversed():
                claim = await view.get(CLAIMS, doc_id(tenant, event.claim_id))
                if claim is None:
                    return {}
                return {str(claim["site_id"]): {"payments_cents": -event.paid_cents}}
            case PatientPaymentReceived():
                return {event.site_id: {"payments_cents": event.amount_cents}}
        return {}

    async def _count(
        self, tenant: str, site: str, envelope: Envelope, counted: dict[str, int], view: View
    ) -> None:
        """Counters per site and day (a month is a range of days' ids): a document each
        stream's events touch keeps that stream's "seen" version, so one per day keeps those
        to a day's streams instead of a month's."""
        day = _utc(envelope)[:10]

        def add(doc: Document | None) -> Document:
            doc = doc or {"tenant": tenant, "site_id": site, "month": day[:7], "day": day}
            for name, value in counted.items():
                doc[name] = int(doc.get(name, 0)) + value
            return doc

        await view.change(KPIS, kpi_id(tenant, site, day), envelope, add)

    async def _record(
        self, tenant: str, envelope: Envelope, lines: list[dict[str, Any]], view: View
    ) -> None:
        at = _utc(envelope)

        def entry(doc: Document | None) -> Document | None:
            if doc is not None:
                return None
            return {
                "tenant": tenant,
                "at": at,
                "day": day_key(tenant, at[:10]),
                "stream": envelope.stream,
                "type": envelope.type,
                "lines": lines,
            }

        await view.change(ENTRIES, entry_id(tenant, at, envelope.id), envelope, entry)
        month = at[:7]

        def touch(doc: Document | None) -> Document:
            # Rewritten, not accumulated: its revision is what moves. Without `_seen` (the
            # view adds this event's stream alone), so it never grows with the streams.
            return {"tenant": tenant, "month": month}

        await view.change(MARKS, doc_id(tenant, month), envelope, touch)

    async def _lines(
        self, event: DomainEvent, envelope: Envelope, view: View
    ) -> list[dict[str, Any]]:
        tenant = envelope.tenant
        match event:
            case ChargeCreated():
                context = {
                    "patient_id": event.patient_id,
                    "site_id": event.site_id,
                    "provider_id": event.provider_id,
                    "date_of_service": event.date_of_service.isoformat(),
                    "charge_id": event.charge_id,
                    "payer_id": event.payer_id,
                }
                await view.change(
                    CHARGES, doc_id(tenant, event.charge_id), envelope, lambda d: d or context
                )
                return []
            case ChargeCorrected():
                return []
            case ClaimCreated():
                return await self._claim_created(event, envelope, view)
            case ClaimAdjudicated():
                posting = event.posting_id or envelope.id
                return await self._claim_moved(
                    tenant, event.claim_id, envelope, view, -taken_off(event), posting, event
                )
            case ClaimAdjudicationReversed():
                return await self._reversed(event, envelope, view)
            case ClaimWrittenOff():
                return await self._claim_moved(
                    tenant, event.claim_id, envelope, view, -event.amount_cents, None, None
                )
            case ClaimReplaced():
                claim = await view.get(CLAIMS, doc_id(tenant, event.claim_id))
                if claim is None or not claim.get("balance_cents"):
                    return []
                return await self._claim_moved(
                    tenant,
                    event.claim_id,
                    envelope,
                    view,
                    -int(claim["balance_cents"]),
                    None,
                    None,
                )
            case PatientResponsibilityAssessed():
                visit: Document = {
                    "patient_id": event.patient_id,
                    "site_id": event.site_id,
                    "provider_id": event.provider_id,
                    "date_of_service": event.date_of_service.isoformat(),
                    "charge_id": event.charge_id,
                    "claim_id": event.claim_id,
                }
                return await self._patient_moved(
                    tenant, event.patient_id, envelope, view, event.amount_cents, visit, None
                )
            case PatientPaymentReceived():
                return await self._patient_moved(
                    tenant,
                    event.patient_id,
                    envelope,
                    view,
                    -event.amount_cents,
                    None,
                    event.charge_id,
                    site_id=event.site_id,
                )
            case PatientBalanceWrittenOff():
                return await self._patient_moved(
                    tenant,
                    event.patient_id,
                    envelope,
                    view,
                    -event.amount_cents,
                    None,
                    event.charge_id,
                )
            case PatientRefunded():
                return await self._patient_moved(
                    tenant, event.patient_id, envelope, view, event.amount_cents, None, None
                )
            case ProviderAdjustmentPosted():
                plb: Document = {
                    "provider_id": "",
                    "date_of_service": event.fiscal_period_end.isoformat(),
                }
                line = _line(
                    PAYER, event.payer_id or "unknown", plb, event.amount_cents, kind="plb"
                )
                return [line]
        return []

    async def _claim_created(
        self, event: ClaimCreated, envelope: Envelope, view: View
    ) -> list[dict[str, Any]]:
        tenant = envelope.tenant
        days: list[str] = []
        for charge_id in event.charge_ids:
            charge = await view.get(CHARGES, doc_id(tenant, charge_id))
            if charge is not None and charge.get("date_of_service"):
                days.append(str(charge["date_of_service"]))
        opening = event.total_cents
        if event.frequency == "8":
            opening = 0  # a void owes nothing: the claim it voids hands its remainder over
        elif event.primary_claim_id is not None:
            primary = await view.get(CLAIMS, doc_id(tenant, event.primary_claim_id))
            if primary is not None:
                opening = min(event.total_cents, int(primary.get("patient_share_cents", 0)))
        context: Document = {
            "tenant": tenant,
            "claim_id": event.claim_id,
            "patient_id": event.patient_id,
            "payer_id": event.payer_id,
            "site_id": event.site_id,
            "provider_id": event.provider_id,
            "charge_id": event.charge_ids[0] if event.charge_ids else None,
            "date_of_service": min(days) if days else envelope.time.date().isoformat(),
            "balance_cents": opening,
            "patient_share_cents": 0,
            "postings": {},
        }
        await view.change(CLAIMS, doc_id(tenant, event.claim_id), envelope, lambda d: d or context)
        if opening == 0:
            return []
        return [_line(PAYER, event.payer_id, context, opening)]

    async def _claim_moved(
        self,
        tenant: str,
        claim_id: str,
        envelope: Envelope,
        view: View,
        amount: int,
        posting: str | None,
        adjudication: ClaimAdjudicated | None,
    ) -> list[dict[str, Any]]:
        key = doc_id(tenant, claim_id)
        claim = await view.get(CLAIMS, key)
        if claim is None:
            return []
        line = _line(PAYER, str(claim["payer_id"]), claim, amount)

        def move(doc: Document | None) -> Document | None:
            if doc is None:
                return None
            doc["balance_cents"] = int(doc["balance_cents"]) + amount
            if adjudication is not None:
                doc["adjudicated"] = True
            if posting is not None and adjudication is not None:
                doc["postings"][posting] = {
                    "taken_off": -amount,
                    "patient": adjudication.patient_responsibility_cents,
                }
                doc["patient_share_cents"] = int(doc["patient_share_cents"]) + (
                    adjudication.patient_responsibility_cents
                )
            return doc

        await _change_always(view, CLAIMS, key, envelope, move)
        return [line]

    async def _reversed(
        self, event: ClaimAdjudicationReversed, envelope: Envelope, view: View
    ) -> list[dict[str, Any]]:
        tenant = envelope.tenant
        key = doc_id(tenant, event.claim_id)
        claim = await view.get(CLAIMS, key)
        if claim is None:
            return []
        posted = claim.get("postings", {}).get(event.reverses)
        back = (
            int(posted["taken_off"])
            if posted
            else event.paid_cents + event.patient_responsibility_cents
        )
        line = _line(PAYER, str(claim["payer_id"]), claim, back)

        def move(doc: Document | None) -> Document | None:
            if doc is None:
                return None
            doc["balance_cents"] = int(doc["balance_cents"]) + back
            doc["postings"].pop(event.reverses, None)
            doc["patient_share_cents"] = max(
                0, int(doc["patient_share_cents"]) - event.patient_responsibility_cents
            )
            return doc

        await _change_always(view, CLAIMS, key, envelope, move)
        return [line]

    async def _patient_moved(
        self,
        tenant: str,
        patient_id: str,
        envelope: Envelope,
        view: View,
        amount: int,
        context: Document | None,
        charge_id: str | None,
        *,
        site_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Move the patient's balance by `amount`: a charge (positive, with its visit's
        context), or a payment or write-off (negative: to `charge_id` first, then the oldest
        visits, the rest a credit), or a refund (positive: against credits first)."""
        key = doc_id(tenant, patient_id)
        patient = await view.get(PATIENTS, key)
        items: list[Document] = [dict(i) for i in (patient or {}).get("open", [])]
        today = envelope.time.date().isoformat()
        lines: list[dict[str, Any]] = []
        if context is not None:
            item = next((i for i in items if i.get("charge_id") == context.get("charge_id")), None)
            if item is None:
                item = {**context, "open_cents": 0}
                items.append(item)
            item["open_cents"] = int(item["open_cents"]) + amount
            lines.append(_line(PATIENT, patient_id, item, amount))
        else:
            left = -amount  # > 0: pays or writes off; < 0: a refund
            if left > 0:
                order = sorted(
                    (i for i in items if int(i["open_cents"]) > 0),
                    key=lambda i: (i.get("charge_id") != charge_id, str(i["date_of_service"])),
                )
                for item in order:
                    if left == 0:
                        break
                    taken = min(left, int(item["open_cents"]))
                    item["open_cents"] = int(item["open_cents"]) - taken
                    left -= taken
                    lines.append(_line(PATIENT, patient_id, item, -taken))
                if left:
                    credit = {
                        "patient_id": patient_id,
                        "site_id": site_id or NO_SITE,
                        "provider_id": "",
                        "date_of_service": today,
                        "charge_id": None,
                        "open_cents": -left,
                    }
                    items.append(credit)
                    lines.append(_line(PATIENT, patient_id, credit, -left))
            else:
                back = -left
                for item in sorted(
                    (i for i in items if int(i["open_cents"]) < 0),
                    key=lambda i: str(i["date_of_service"]),
                ):
                    if back == 0:
                        break
                    given = min(back, -int(item["open_cents"]))
                    item["open_cents"] = int(item["open_cents"]) + given
                    back -= given
                    lines.append(_line(PATIENT, patient_id, item, given))
                if back:
                    owed = {
                        "patient_id": patient_id,
                        "site_id": NO_SITE,
                        "provider_id": "",
                        "date_of_service": today,
                        "charge_id": None,
                        "open_cents": back,
                    }
                    items.append(owed)
                    lines.append(_line(PATIENT, patient_id, owed, back))
        items = [i for i in items if int(i["open_cents"]) != 0]

        def keep(doc: Document | None) -> Document:
            return {"tenant": tenant, "patient_id": patient_id, "open": items}

        await _change_always(view, PATIENTS, key, envelope, keep)
        return lines


def _utc(envelope: Envelope) -> str:
    from datetime import UTC

    return envelope.time.astimezone(UTC).isoformat()


async def _change_always(
    view: View, collection: str, key: str, envelope: Envelope, change: Any
) -> None:
    """`view.change` for documents that several streams write: the per-stream marker still
    keeps one event from counting twice."""
    await view.change(collection, key, envelope, change)


def day_end(as_of: date) -> str:
    """The exclusive upper bound of `as_of` (UTC midnight after it) in ISO form, as `at`."""
    from datetime import UTC, datetime, time, timedelta

    return datetime.combine(as_of + timedelta(days=1), time(0), tzinfo=UTC).isoformat()
