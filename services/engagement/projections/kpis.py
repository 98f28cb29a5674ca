"""The office KPIs' figures per tenant, site and month, as small documents of sums, fed by
scheduling's, billing's and staffing's contracts: a dashboard reads a month's documents by
their fields, never the visits. `domain/kpi_figures.py` turns a document into the KPIs with
`domain/kpis.py`'s computations; docs/kpis.md says what each figure counts.

- Scheduling (`engagement_kpi_months`, by the site's local month, from the site-day stream):
  appointments booked, late cancellations, completed visits, no-shows, the seconds from
  check-in to rooming and to completion (a histogram: seconds -> visits, so median and mean
  are exact), and minutes booked per provider. Each appointment keeps a working document
  (`engagement_kpi_items`) of what it counted, so a cancellation or move takes back exactly
  what its booking added.
- Scheduling's daily third-next-available measurements (by the month of the day measured):
  how many had a third slot within the horizon and their days added up, and how many had not.
- Providers' weekly availability templates per site (`engagement_kpi_availability`, with the
  site's zone from `SiteRegistered`), and beside them each provider's time off the template
  (`kind: "off"`, per tenant and provider): blocks (`TimeBlocked`), time off approved and
  cancelled, leave started and ended, each kept by its id so that they count in any order,
  before or after the template. A month's available minutes are the templates' less the time
  off they cover, computed when read (`domain/kpi_off.py`). Scheduling's events of time off
  name no site: they are off at every site.
- Billing (by the month of the recorded time, UTC, as billing counts them): charges of
  original primary claims, payments (payer payments less reversals, plus patient payments),
  contractual (CO) adjustments, the claims first adjudicated and those denied then, and
  `ar_cents`: how much the site's receivables moved in the month (claims' and patients'
  balances as billing's receivables move them, `domain/kpi_receivables.py`; each claim and
  patient keeps a working document). A month's AR is the sum of `ar_cents` over the months
  up to it, so events of any month, in any order, and a rebuild give the same balance.
- Staffing (`engagement_kpi_group`): training assignments by the month they fall due, and each
  credential's last valid day, counted once for the whole tenant and at each of the
  employee's sites as they stood when the assignment or expiry was recorded (staffing's
  events name no site: each employee's working document keeps their placements from
  `EmployeeHired` and `JobChanged`, `domain/kpi_staff.py`). An employee never seen hired
  counts for the tenant only.

Replay-safe as every projection: `View.change` skips an event a document has seen.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from services.billing.contracts import (
    ClaimAdjudicated,
    ClaimAdjudicationReversed,
    ClaimCreated,
    ClaimReplaced,
    ClaimWrittenOff,
    PatientBalanceWrittenOff,
    PatientPaymentReceived,
    PatientRefunded,
    PatientResponsibilityAssessed,
)
from services.engagement.domain import kpi_receivables, kpi_staff
from services.engagement.domain.kpi_receivables import NO_SITE
from services.engagement.domain.kpi_staff import Counted
from services.engagement.domain.kpis import LATE_CANCELLATION
from services.scheduling.contracts import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentMovedOut,
    AppointmentNoShow,
    AppointmentRescheduled,
    AppointmentWithdrawn,
    AvailabilitySet,
    PatientCheckedIn,
    PatientRoomed,
    ProviderLeaveEnded,
    ProviderLeaveStarted,
    ProviderTimeOffApproved,
    ProviderTimeOffCancelled,
    SiteRegistered,
    ThirdNextAvailableMeasured,
    TimeBlocked,
    VisitCompleted,
)
from services.staffing.contracts import (
    CredentialRecorded,
    CredentialRenewed,
    CredentialRevoked,
    EmployeeHired,
    JobChanged,
    TrainingAssigned,
    TrainingCompleted,
)
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View
from shared.readmodels import seen_version

PROJECTION = "engagement.kpis"
MONTHS = "engagement_kpi_months"  # tenant, site and month: the sums a dashboard reads
GROUP = "engagement_kpi_group"  # tenant, or tenant and site (and month): staffing's figures
AVAILABILITY = "engagement_kpi_availability"  # tenant and site: providers' weekly templates
ITEMS = "engagement_kpi_items"  # working documents: appointments, claims, assignments, ...

Tally = dict[str, int]  # a month document's counters to add (negative: to take back)


def month_id(tenant: str, site_id: str, month: str) -> str:
    return f"{tenant}:{site_id}:{month}"


def availability_id(tenant: str, site_id: str) -> str:
    return f"{tenant}:availability:{site_id}"


def off_id(tenant: str, provider_id: str) -> str:
    """A provider's time off the template (in AVAILABILITY, `kind: "off"`)."""
    return f"{tenant}:off:{provider_id}"


def _item(tenant: str, kind: str, key: str) -> str:
    return f"{tenant}:{kind}:{key}"


def _moment(envelope: Envelope) -> str:
    """The event's recorded time, as text that sorts as the times do."""
    return _utc(envelope).isoformat(timespec="microseconds")


def _employee(tenant: str, doc: Document | None) -> Document:
    """An employee's working document (kpi_staff.py): their placements and the items
    (assignments, credentials) counted at the sites they place them."""
    found = dict(doc or {"tenant": tenant})
    return {
        **found,
        "placements": list(found.get("placements", [])),
        "items": list(found.get("items", [])),
    }


def _replaced_by(doc: Document) -> Callable[[Document | None], Document]:
    return lambda _: doc


_CREDENTIAL_EVENTS = (CredentialRecorded, CredentialRenewed, CredentialRevoked)
_APPOINTMENT_EVENTS = (
    AppointmentBooked,
    AppointmentRescheduled,
    AppointmentMovedOut,
    AppointmentWithdrawn,
    AppointmentCancelled,
    AppointmentNoShow,
    PatientCheckedIn,
    PatientRoomed,
    VisitCompleted,
)


def _appointment_item(event: DomainEvent, envelope: Envelope) -> str:
    """The working document of the appointment an event of its site-day stream is about."""
    appointment_id = str(getattr(event, "appointment_id"))  # noqa: B009
    return _item(envelope.tenant, "appointment", f"{envelope.stream}:{appointment_id}")


def _site_month(envelope: Envelope, site_id: str | None, start: datetime) -> tuple[str, str]:
    """The site and local month of an appointment: its site-day stream names both."""
    if ":site-day:" in envelope.stream:
        _, _, site, day = envelope.stream.rsplit(":", 3)
        return site, day[:7]
    return site_id or "", f"{start:%Y-%m}"


def _utc(envelope: Envelope) -> datetime:
    return envelope.time.astimezone(UTC)


def _seconds(start: str, end: datetime) -> int:
    return int((end - datetime.fromisoformat(start)).total_seconds())


def _span(start: datetime, end: datetime) -> dict[str, str]:
    return {"start": start.isoformat(), "end": end.isoformat()}


def _minutes(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds()) // 60


class KpiProjection:
    name = PROJECTION
    contexts = ("scheduling", "billing", "staffing")
    collections = (MONTHS, GROUP, AVAILABILITY, ITEMS)
    handles: tuple[type[DomainEvent], ...] = (
        *_APPOINTMENT_EVENTS,
        AvailabilitySet,
        SiteRegistered,
        TimeBlocked,
        ProviderTimeOffApproved,
        ProviderTimeOffCancelled,
        ProviderLeaveStarted,
        ProviderLeaveEnded,
        ThirdNextAvailableMeasured,
        ClaimCreated,
        ClaimAdjudicated,
        ClaimAdjudicationReversed,
        ClaimWrittenOff,
        ClaimReplaced,
        PatientResponsibilityAssessed,
        PatientPaymentReceived,
        PatientRefunded,
        PatientBalanceWrittenOff,
        EmployeeHired,
        JobChanged,
        TrainingAssigned,
        TrainingCompleted,
        CredentialRecorded,
        CredentialRenewed,
        CredentialRevoked,
    )

    def keys(self, event: DomainEvent, envelope: Envelope) -> list[tuple[str, str]]:
        """The documents an appointment's event reads: its working document and, on its
        site-day stream, its month's (read together for a batch: `View.prefetch`)."""
        if not isinstance(event, _APPOINTMENT_EVENTS):
            return []
        keys = [(ITEMS, _appointment_item(event, envelope))]
        if ":site-day:" in envelope.stream:
            site, month = _site_month(envelope, None, envelope.time)
            keys.append((MONTHS, month_id(envelope.tenant, site, month)))
        return keys

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        match event:
            case AvailabilitySet():
                await self._availability(event, envelope, view)
            case SiteRegistered():
                await self._site(event, envelope, view)
            case (
                TimeBlocked()
                | ProviderTimeOffApproved()
                | ProviderTimeOffCancelled()
                | ProviderLeaveStarted()
                | ProviderLeaveEnded()
            ):
                await self._off(event, envelope, view)
            case ThirdNextAvailableMeasured():
                await self._third_next_available(event, envelope, view)
            case _ if isinstance(event, _APPOINTMENT_EVENTS):
                await self._appointment(event, envelope, view)
            case (
                ClaimCreated()
                | ClaimAdjudicated()
                | ClaimAdjudicationReversed()
                | ClaimWrittenOff()
                | ClaimReplaced()
                | PatientResponsibilityAssessed()
                | PatientPaymentReceived()
                | PatientRefunded()
                | PatientBalanceWrittenOff()
            ):
                await self._revenue(event, envelope, view)
            case EmployeeHired() | JobChanged():
                await self._placement(event, envelope, view)
            case (
                TrainingAssigned()
                | TrainingCompleted()
                | CredentialRecorded()
                | CredentialRenewed()
                | CredentialRevoked()
            ):
                await self._staff_item(event, envelope, view)

    # ------------------------------------------------------------------ appointments

    async def _appointment(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        tenant = envelope.tenant
        key = _appointment_item(event, envelope)
        before = await view.get(ITEMS, key)
        if before is None and not isinstance(event, AppointmentBooked):
            return
        doc: Document = dict(before) if before else {}
        tally: Tally = {}
        if isinstance(event, AppointmentBooked):
            if before is not None:
                return
            site, month = _site_month(envelope, event.site_id, event.start)
            doc = {
                "tenant": tenant,
                "site_id": site,
                "month": month,
                "provider_id": event.provider_id,
                "start": event.start.isoformat(),
                "minutes": _minutes(event.start, event.end),
                "status": "booked",
            }
            tally = {"booked": 1, f"booked_minutes.{event.provider_id}": doc["minutes"]}
        else:
            tally = self._appointment_change(event, doc)
        await view.change(ITEMS, key, envelope, lambda _: doc)
        if tally:
            await self._add(
                view, envelope, month_id(tenant, doc["site_id"], doc["month"]), doc, tally
            )

    @staticmethod
    def _appointment_change(event: DomainEvent, doc: Document) -> Tally:
        """What the event changes of the appointment's document (in place) and of its month."""
        booked = doc["status"] == "booked"
        provider, minutes = str(doc["provider_id"]), int(doc["minutes"])
        match event:
            case AppointmentRescheduled() if booked:
                doc.update(
                    provider_id=event.provider_id,
                    start=event.start.isoformat(),
                    minutes=_minutes(event.start, event.end),
                )
                tally = {f"booked_minutes.{provider}": -minutes}
                key = f"booked_minutes.{event.provider_id}"
                tally[key] = tally.get(key, 0) + int(doc["minutes"])
                return tally
            case AppointmentMovedOut() | AppointmentWithdrawn() if booked:
                doc["status"] = "gone"
                return {"booked": -1, f"booked_minutes.{provider}": -minutes}
            case AppointmentCancelled() if booked:
                doc["status"] = "cancelled"
                start = datetime.fromisoformat(str(doc["start"]))
                late = int(start - event.cancelled_at < LATE_CANCELLATION)
                return {
                    "cancelled": 1,
                    "late_cancelled": late,
                    f"booked_minutes.{provider}": -minutes,
                }
            case AppointmentNoShow() if booked:
                doc["status"] = "no_show"
                return {"no_shows": 1}
            case PatientCheckedIn():
                doc["checked_in_at"] = event.checked_in_at.isoformat()
            case PatientRoomed() if "checked_in_at" in doc and "roomed" not in doc:
                doc["roomed"] = True
                return {f"wait.{_seconds(str(doc['checked_in_at']), event.roomed_at)}": 1}
            case VisitCompleted() if booked:
                doc["status"] = "completed"
                tally = {"completed": 1}
                if "checked_in_at" in doc:
                    seconds = _seconds(str(doc["checked_in_at"]), event.completed_at)
                    tally[f"cycle.{seconds}"] = 1
                return tally
        return {}

    async def _availability(self, event: AvailabilitySet, envelope: Envelope, view: View) -> None:
        template = {
            # Objects, not nested arrays: FerretDB stores no arrays of arrays.
            "windows": [
                {
                    "weekday": w.weekday,
                    "start": w.start.hour * 60 + w.start.minute,
                    "end": w.end.hour * 60 + w.end.minute,
                }
                for w in event.windows
            ],
            "from": event.effective_from.isoformat(),
            "until": event.effective_until.isoformat() if event.effective_until else None,
        }

        def change(doc: Document | None) -> Document:
            doc = doc or {"tenant": envelope.tenant, "site_id": event.site_id, "providers": {}}
            doc["providers"].setdefault(event.provider_id, {})[event.template_id] = template
            return doc

        doc_id = availability_id(envelope.tenant, event.site_id)
        await view.change(AVAILABILITY, doc_id, envelope, change)

    async def _site(self, event: SiteRegistered, envelope: Envelope, view: View) -> None:
        """The site's zone: its templates' windows are its local time."""

        def change(doc: Document | None) -> Document:
            doc = doc or {"tenant": envelope.tenant, "site_id": event.site_id, "providers": {}}
            doc["time_zone"] = event.time_zone
            return doc

        doc_id = availability_id(envelope.tenant, event.site_id)
        await view.change(AVAILABILITY, doc_id, envelope, change)

    async def _off(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        """A block, time off or leave of the provider's, by its id: an approval keeps its
        cancellation whichever came first, a leave's end its start; the earliest end counts
        (as scheduling's `on_leave`)."""
        provider = str(getattr(event, "provider_id"))  # noqa: B009

        def change(doc: Document | None) -> Document:
            doc = doc or {"tenant": envelope.tenant, "kind": "off", "provider_id": provider}
            match event:
                case TimeBlocked():
                    blocks = doc.setdefault("blocks", {})
                    blocks[event.block_id] = _span(event.start, event.end)
                case ProviderTimeOffApproved():
                    entry = doc.setdefault("time_off", {}).setdefault(event.time_off_id, {})
                    entry.update(_span(event.start, event.end))
                case ProviderTimeOffCancelled():
                    entry = doc.setdefault("time_off", {}).setdefault(event.time_off_id, {})
                    entry["cancelled"] = True
                case ProviderLeaveStarted():
                    leave = doc.setdefault("leaves", {}).setdefault(event.leave_id, {})
                    leave["from"] = event.starts_on.isoformat()
                case ProviderLeaveEnded():
                    leave = doc.setdefault("leaves", {}).setdefault(event.leave_id, {})
                    back = event.returned_on.isoformat()
                    leave["back"] = min(back, str(leave.get("back", back)))
            return doc

        await view.change(AVAILABILITY, off_id(envelope.tenant, provider), envelope, change)

    async def _third_next_available(
        self, event: ThirdNextAvailableMeasured, envelope: Envelope, view: View
    ) -> None:
        """Scheduling's daily measure, counted in the month of the day measured: the days to
        the third open slot added up over the measurements with one, the others counted."""
        tenant, month = envelope.tenant, event.measured_on.isoformat()[:7]
        tally = {"tna_measured": 1, "tna_days": event.days or 0}
        if event.days is None:
            tally = {"tna_beyond": 1}
        identity = {"tenant": tenant, "site_id": event.site_id, "month": month}
        await self._add(view, envelope, month_id(tenant, event.site_id, month), identity, tally)

    # ---------------------------------------------------------------------- revenue

    async def _revenue(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        """Billing's counting (docs/kpis.md, "Revenue-cycle KPIs"), by the recorded month,
        and each site's receivables moved (`ar_cents`, kpi_receivables.py)."""
        tenant, month = envelope.tenant, f"{_utc(envelope):%Y-%m}"
        tallies: dict[str, Tally] = {}
        match event:
            case ClaimCreated() | ClaimAdjudicated() | ClaimAdjudicationReversed():
                tallies = await self._claim(event, envelope, view)
            case ClaimWrittenOff() | ClaimReplaced():
                tallies = await self._claim(event, envelope, view)
            case PatientPaymentReceived():
                tallies = await self._patient(event, envelope, view)
                payments = tallies.setdefault(event.site_id, {})
                payments["payments_cents"] = event.amount_cents
            case PatientResponsibilityAssessed() | PatientRefunded() | PatientBalanceWrittenOff():
                tallies = await self._patient(event, envelope, view)
        for site, tally in tallies.items():
            if site != NO_SITE and tally:
                identity = {"tenant": tenant, "site_id": site, "month": month}
                await self._add(view, envelope, month_id(tenant, site, month), identity, tally)

    async def _claim(self, event: DomainEvent, envelope: Envelope, view: View) -> dict[str, Tally]:
        """A claim's event: its working document (site, insurance balance, postings) moved,
        and what it counts at the claim's site."""
        tenant = envelope.tenant
        claim_id = str(getattr(event, "claim_id"))  # noqa: B009
        key = _item(tenant, "claim", claim_id)
        before = await view.get(ITEMS, key)
        if seen_version(before, envelope.stream) >= envelope.stream_version:
            return {}
        if isinstance(event, ClaimCreated):
            if before is not None:
                return {}
            doc: Document = {"tenant": tenant, "site_id": event.site_id, "first": False}
            opening = event.total_cents
            if event.frequency == "8":
                opening = 0
            elif event.primary_claim_id is not None:
                primary = await view.get(ITEMS, _item(tenant, "claim", event.primary_claim_id))
                share = int((primary or {}).get("patient_share_cents", 0))
                opening = min(event.total_cents, share)
            doc.update(balance_cents=opening, patient_share_cents=0, postings={})
            tally: Tally = {"ar_cents": opening}
            if event.frequency == "1" and event.primary_claim_id is None:
                tally["charges_cents"] = event.total_cents
        elif before is None:
            return {}
        else:
            doc = {**before, "postings": dict(before.get("postings", {}))}
            tally = self._claim_change(event, envelope, doc)
        doc["balance_cents"] = int(doc.get("balance_cents", 0)) + tally.get("ar_cents", 0)
        await view.change(ITEMS, key, envelope, lambda _: doc)
        return {str(doc["site_id"]): {k: v for k, v in tally.items() if v}}

    @staticmethod
    def _claim_change(event: DomainEvent, envelope: Envelope, doc: Document) -> Tally:
        """What a claim's later event counts (`ar_cents`: its balance moved); `doc` updated
        in place but for its balance."""
        balance = int(doc.get("balance_cents", 0))
        match event:
            case ClaimAdjudicated():
                contractual = sum(a.amount_cents for a in event.adjustments if a.group == "CO")
                contractual += sum(
                    a.amount_cents for ln in event.lines for a in ln.adjustments if a.group == "CO"
                )
                off = kpi_receivables.taken_off(event)
                posting = event.posting_id or envelope.id
                doc["postings"][posting] = {
                    "taken_off": off,
                    "patient": event.patient_responsibility_cents,
                }
                doc["patient_share_cents"] = (
                    int(doc.get("patient_share_cents", 0)) + event.patient_responsibility_cents
                )
                tally = {
                    "payments_cents": event.paid_cents,
                    "contractual_cents": contractual,
                    "ar_cents": -off,
                }
                if not doc["first"]:
                    tally.update(first_adjudications=1, denied_first=int(event.outcome == "denied"))
                    doc["first"] = True
                return tally
            case ClaimAdjudicationReversed():
                posted = doc["postings"].pop(event.reverses, None)
                back = (
                    int(posted["taken_off"])
                    if posted
                    else event.paid_cents + event.patient_responsibility_cents
                )
                doc["patient_share_cents"] = max(
                    0, int(doc.get("patient_share_cents", 0)) - event.patient_responsibility_cents
                )
                return {"payments_cents": -event.paid_cents, "ar_cents": back}
            case ClaimWrittenOff():
                return {"ar_cents": -event.amount_cents}
            case ClaimReplaced():
                return {"ar_cents": -balance}
        return {}

    async def _patient(
        self, event: DomainEvent, envelope: Envelope, view: View
    ) -> dict[str, Tally]:
        """A patient's money event: their open visits and credits moved as billing moves
        them (kpi_receivables.patient_moved), and the receivables moved at each site."""
        tenant = envelope.tenant
        key = _item(tenant, "patient", str(getattr(event, "patient_id")))  # noqa: B009
        before = await view.get(ITEMS, key)
        if seen_version(before, envelope.stream) >= envelope.stream_version:
            return {}
        items = list((before or {}).get("open", []))
        today = envelope.time.date().isoformat()
        match event:
            case PatientResponsibilityAssessed():
                visit = {
                    "site_id": event.site_id,
                    "date_of_service": event.date_of_service.isoformat(),
                    "charge_id": event.charge_id,
                }
                items, moved = kpi_receivables.patient_moved(
                    items, event.amount_cents, visit=visit, today=today
                )
            case PatientPaymentReceived():
                items, moved = kpi_receivables.patient_moved(
                    items,
                    -event.amount_cents,
                    charge_id=event.charge_id,
                    site_id=event.site_id,
                    today=today,
                )
            case PatientBalanceWrittenOff():
                items, moved = kpi_receivables.patient_moved(
                    items, -event.amount_cents, charge_id=event.charge_id, today=today
                )
            case PatientRefunded():
                items, moved = kpi_receivables.patient_moved(items, event.amount_cents, today=today)
            case _:
                return {}
        doc = {"tenant": tenant, "open": items}
        await view.change(ITEMS, key, envelope, lambda _: doc)
        return {site: {"ar_cents": cents} for site, cents in moved.items()}

    # --------------------------------------------------------------------- staffing

    async def _placement(
        self, event: EmployeeHired | JobChanged, envelope: Envelope, view: View
    ) -> None:
        """The employee's sites from this moment (recorded time) on; their training and
        credentials already counted from then on move to these sites. Events of other streams
        may come before or after it: each is counted at the sites in force at its own time."""
        tenant = envelope.tenant
        key = _item(tenant, "employee", event.employee_id)
        before = await view.get(ITEMS, key)
        if seen_version(before, envelope.stream) >= envelope.stream_version:
            return
        employee = _employee(tenant, before)
        placement = {
            "at": _moment(envelope),
            "version": envelope.stream_version,
            "sites": sorted(set(event.site_ids)),
        }
        employee["placements"] = kpi_staff.placed(employee["placements"], placement)
        moved: dict[str, Counted] = {}
        for entry in employee["items"]:
            item_key = str(entry["key"])
            item = await view.get(ITEMS, item_key)
            sites = kpi_staff.sites_at(employee["placements"], str(entry["at"]))
            if item is None or item.get("sites", []) == sites:
                continue
            now: Document = {**item, "sites": sites}
            kpi_staff.add_into(moved, kpi_staff.moved(tenant, item, now))
            await view.change(ITEMS, item_key, envelope, _replaced_by(now))
        await view.change(ITEMS, key, envelope, lambda _: employee)
        await self._add_all(view, envelope, moved)

    async def _staff_item(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        """A training assignment (counted in the month it falls due; on time once completed
        by then; either event may come first) or a credential (its last valid day; a revoked
        one no longer expires): counted for the tenant once and at each of the employee's
        sites as they stood when the assignment or the credential's last expiry was recorded.
        """
        tenant = envelope.tenant
        kind = "credential" if isinstance(event, _CREDENTIAL_EVENTS) else "assignment"
        item_id = str(getattr(event, f"{kind}_id"))
        key = _item(tenant, kind, item_id)
        before = await view.get(ITEMS, key)
        if seen_version(before, envelope.stream) >= envelope.stream_version:
            return
        if before is None and isinstance(event, CredentialRenewed | CredentialRevoked):
            return
        doc: Document = dict(before or {"tenant": tenant, "kind": kind, "sites": []})
        placed = False
        match event:
            case TrainingAssigned() if "due_on" not in doc:
                doc["due_on"], placed = event.due_on.isoformat(), True
            case TrainingCompleted() if "completed_on" not in doc:
                doc["completed_on"] = event.completed_on.isoformat()
            case CredentialRecorded() | CredentialRenewed():
                expires = event.expires_on
                doc["expires_on"], placed = expires.isoformat() if expires else None, True
            case CredentialRevoked():
                doc["expires_on"] = None
            case _:
                return
        if placed:
            employee_key = _item(tenant, "employee", str(getattr(event, "employee_id")))  # noqa: B009
            employee = _employee(tenant, await view.get(ITEMS, employee_key))
            at = _moment(envelope)
            others = [entry for entry in employee["items"] if entry["key"] != key]
            employee["items"] = [*others, {"key": key, "at": at}]
            doc["sites"] = kpi_staff.sites_at(employee["placements"], at)
            await view.change(ITEMS, employee_key, envelope, lambda _: employee)
        await view.change(ITEMS, key, envelope, lambda _: doc)
        await self._add_all(view, envelope, kpi_staff.moved(tenant, before, doc))

    async def _add_all(self, view: View, envelope: Envelope, moved: dict[str, Counted]) -> None:
        for doc_id, (identity, tally) in sorted(moved.items()):
            if any(tally.values()):
                await self._add(view, envelope, doc_id, identity, tally, GROUP)

    # ----------------------------------------------------------------------- sums

    @staticmethod
    async def _add(
        view: View,
        envelope: Envelope,
        doc_id: str,
        identity: dict[str, Any],
        tally: Tally,
        collection: str = MONTHS,
    ) -> None:
        """Add the tally's counters to the document ("a.b": counter b of map a)."""
        keep: dict[str, Any] = {
            k: identity[k] for k in ("tenant", "site_id", "month", "kind") if k in identity
        }

        def change(doc: Document | None) -> Document:
            doc = doc or dict(keep)
            for name, amount in tally.items():
                field, _, sub = name.partition(".")
                if sub:
                    counts = doc.setdefault(field, {})
                    counts[sub] = int(counts.get(sub, 0)) + amount
                    if not counts[sub]:
                        del counts[sub]
                else:
                    doc[field] = int(doc.get(field, 0)) + amount
            return doc

        await view.change(collection, doc_id, envelope, change)
