"""Credential and payer-enrolment use cases, and the daily expiry sweep.

Every change is decided on its own stream (a credential's, a provider's enrolment with one
payer), after folding the employee stream for what the rule needs of the employee (that they
exist, their sites, whether they are a provider). Reads come from the read models.

The sweep (`sweep`, run by `CredentialSweepTimer`) asks the credentials read model which
credentials have a reminder due today (`next_reminder_on`), then decides each on its stream:
the stream says whether that threshold already fired, so a sweep repeated after a restart, or
run by several processes at once, records each reminder once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import structlog

from services.staffing.domain import streams
from services.staffing.domain.credentials import (
    RecordCredential,
    RemindExpiry,
    RenewCredential,
    RevokeCredential,
    VerifyCredential,
    credential,
    existing,
)
from services.staffing.domain.employment import Employment
from services.staffing.domain.employment import employment as employee
from services.staffing.domain.enrolment import ChangeEnrolment, Status, enrolment
from services.staffing.domain.events import CredentialExpiryReminded, CredentialKind
from services.staffing.projections import credentials as view
from shared.commands import CommandHandler, Outcome
from shared.documents.port import Document
from shared.domain import DomainError, Invalid, NotFound
from shared.events import Metadata
from shared.readmodels import ReadModels
from shared.timers import Timer
from shared.usecases import UseCases

log = structlog.get_logger(__name__)

SYSTEM = "system:staffing"
SWEEP_BATCH = 500  # credentials decided per read of the due ones


def today_of(moment: Any) -> date:
    """The day the sweep and the expiring list count from: the clock's UTC date."""
    day: date = moment.date()
    return day


@dataclass(frozen=True)
class Expiring:
    """One row of the expiring list."""

    credential: Document
    holder: Document
    days_left: int


class Credentials(UseCases):
    def __init__(self, handler: CommandHandler, read_models: ReadModels) -> None:
        super().__init__(handler)
        self._read_models = read_models

    def today(self) -> date:
        return today_of(self.now())

    async def employee(self, tenant: str, employee_id: str) -> Employment:
        """The employee as their stream says (404 when never hired)."""
        return existing(
            await self.state(streams.employee(tenant, employee_id), employee), employee_id
        )

    async def holder_of(self, tenant: str, credential_id: str) -> Employment:
        """The employee holding a credential, from the two streams (404 for either unknown)."""
        state = await self.state(streams.credential(tenant, credential_id), credential)
        if state.recorded is None:
            raise NotFound(f"credential {credential_id} not found")
        return await self.employee(tenant, state.recorded.employee_id)

    # ---------------------------------------------------------------------------- commands

    async def record(
        self,
        meta: Metadata,
        *,
        credential_id: str,
        employee_id: str,
        kind: CredentialKind,
        issuer: str,
        number: str,
        issued_on: date,
        state: str | None = None,
        expires_on: date | None = None,
    ) -> Outcome[Any]:
        command = RecordCredential(
            credential_id=credential_id,
            employee_id=employee_id,
            kind=kind,
            issuer=issuer,
            number=number,
            state=state,
            issued_on=issued_on,
            expires_on=expires_on,
        )
        await self.employee(meta.tenant, employee_id)
        return await self._decide(meta, credential_id, command)

    async def renew(self, meta: Metadata, credential_id: str, expires_on: date) -> Outcome[Any]:
        return await self._decide(meta, credential_id, RenewCredential(expires_on=expires_on))

    async def verify(
        self, meta: Metadata, credential_id: str, *, source: str, result: str, note: str = ""
    ) -> Outcome[Any]:
        """A primary-source check, by the caller, now."""
        command = VerifyCredential.model_validate(
            {
                "source": source,
                "verified_by": meta.actor,
                "verified_at": self.now(),
                "result": result,
                "note": note,
            }
        )
        return await self._decide(meta, credential_id, command)

    async def revoke(
        self, meta: Metadata, credential_id: str, *, effective_on: date, reason: str
    ) -> Outcome[Any]:
        command = RevokeCredential(effective_on=effective_on, reason=reason)
        return await self._decide(meta, credential_id, command)

    async def remind(self, meta: Metadata, credential_id: str, today: date) -> Outcome[Any]:
        """Record the reminder due `today` for this credential, unless recorded already."""
        return await self._decide(meta, credential_id, RemindExpiry(today=today))

    async def _decide(self, meta: Metadata, credential_id: str, command: Any) -> Outcome[Any]:
        stream = streams.credential(meta.tenant, credential_id)
        return await self.decide(stream, credential, command, meta, subject=credential_id)

    # ------------------------------------------------------------------------------- sweep

    async def sweep(self, batch: int = SWEEP_BATCH) -> int:
        """Record every expiry reminder due today, in every tenant; how many were recorded.

        The due credentials come from the read model (`next_reminder_on` up to today); each
        is decided on its stream, which knows what fired already. A credential the read model
        still shows as due after its reminder (it has not caught up) is decided again and
        records nothing; the due ones are read in pages by id, each past the last."""
        today = self.today()
        recorded, after = 0, ""
        while True:
            due = await self._read_models.find(
                view.PROJECTION,
                view.CREDENTIALS,
                {"next_reminder_on": {"$lte": today.isoformat()}, "_id": {"$gt": after}},
                sort=[("_id", 1)],
                limit=batch,
            )
            if not due:
                return recorded
            after = due[-1]["_id"]
            holders = await self._holders({(d["tenant"], d["employee_id"]) for d in due})
            for doc in due:
                holder = holders.get(view.doc_id(doc["tenant"], doc["employee_id"]))
                if holder is not None and not holder.get("employed", True):
                    continue  # no reminders for someone who left
                recorded += await self._remind_one(doc, today)
            if len(due) < batch:
                return recorded

    async def _remind_one(self, doc: Document, today: date) -> int:
        meta = Metadata(
            tenant=doc["tenant"],
            actor=SYSTEM,
            correlation_id=f"credential-sweep:{doc['credential_id']}:{today.isoformat()}",
        )
        try:
            outcome = await self.remind(meta, doc["credential_id"], today)
        except DomainError as exc:
            log.info("credential_not_reminded", credential=doc["credential_id"], reason=str(exc))
            return 0
        return sum(isinstance(e, CredentialExpiryReminded) for e in outcome.events)

    async def _holders(self, keys: set[tuple[str, str]]) -> dict[str, Document]:
        name = await self._read_models.collection(view.PROJECTION, view.HOLDERS)
        ids = [view.doc_id(tenant, employee_id) for tenant, employee_id in keys]
        return await self._read_models.store.get_many(name, ids)

    # ------------------------------------------------------------------------------- reads

    async def get(self, tenant: str, credential_id: str) -> tuple[Document, Document | None]:
        """A credential and its holder, from the read model (404 when not there)."""
        doc = await self._read_models.get(
            view.PROJECTION, view.CREDENTIALS, view.doc_id(tenant, credential_id)
        )
        if doc is None:
            raise NotFound(f"credential {credential_id} not found")
        holders = await self._holders({(tenant, doc["employee_id"])})
        return doc, holders.get(view.doc_id(tenant, doc["employee_id"]))

    async def holders_of(self, tenant: str, employee_ids: list[str]) -> dict[str, Document]:
        """The holders' documents (name, sites, employed) by document id."""
        return await self._holders({(tenant, e) for e in employee_ids})

    async def holder(self, tenant: str, employee_id: str) -> Document | None:
        return await self._read_models.get(
            view.PROJECTION, view.HOLDERS, view.doc_id(tenant, employee_id)
        )

    async def of_employee(self, tenant: str, employee_id: str) -> list[Document]:
        docs = await self._read_models.find(
            view.PROJECTION,
            view.CREDENTIALS,
            {"tenant": tenant, "employee_id": employee_id},
        )
        docs.sort(key=lambda d: (d["kind"], d["issued_on"], d["credential_id"]))
        return docs

    async def expiring(
        self, tenant: str, within_days: int, sites: list[str] | None = None
    ) -> list[Expiring]:
        """Credentials not revoked whose last valid day is within `within_days` of today, on
        either side (expiring soon, or expired lately), of people employed now; soonest
        first. `sites`: only holders working at one of them (None: all)."""
        today = self.today()
        docs = await self._read_models.find(
            view.PROJECTION,
            view.CREDENTIALS,
            {
                "tenant": tenant,
                "revoked_on": None,
                "expires_on": {
                    "$gte": (today - timedelta(days=within_days)).isoformat(),
                    "$lte": (today + timedelta(days=within_days)).isoformat(),
                },
            },
        )
        holders = await self._holders({(tenant, d["employee_id"]) for d in docs})
        rows = []
        for doc in docs:
            holder = holders.get(view.doc_id(tenant, doc["employee_id"]))
            if holder is None or not holder.get("employed"):
                continue
            if sites is not None and not set(sites) & set(holder["site_ids"]):
                continue
            left = (date.fromisoformat(doc["expires_on"]) - today).days
            rows.append(Expiring(doc, holder, left))
        rows.sort(key=lambda r: (r.days_left, r.credential["credential_id"]))
        return rows


class Enrolments(UseCases):
    def __init__(self, handler: CommandHandler, read_models: ReadModels) -> None:
        super().__init__(handler)
        self._read_models = read_models

    async def change(
        self,
        meta: Metadata,
        *,
        employee_id: str,
        payer_id: str,
        status: Status,
        effective_from: date,
        effective_until: date | None = None,
    ) -> Outcome[Any]:
        """Move a provider's enrolment with a payer to `status` (the first change applies)."""
        command = ChangeEnrolment(
            enrolment_id=self.new_id(),
            employee_id=employee_id,
            payer_id=payer_id,
            status=status,
            effective_from=effective_from,
            effective_until=effective_until,
        )
        person = existing(
            await self.state(streams.employee(meta.tenant, employee_id), employee), employee_id
        )
        if not person.is_provider:
            raise Invalid(f"employee {employee_id} is a {person.role}: only providers enrol")
        stream = streams.enrolment(meta.tenant, employee_id, payer_id)
        return await self.decide(stream, enrolment, command, meta, subject=employee_id)

    async def find(
        self,
        tenant: str,
        *,
        employee_id: str | None = None,
        payer_id: str | None = None,
        status: str | None = None,
    ) -> list[Document]:
        where: dict[str, Any] = {"tenant": tenant}
        for name, value in (
            ("employee_id", employee_id),
            ("payer_id", payer_id),
            ("status", status),
        ):
            if value is not None:
                where[name] = value
        docs = await self._read_models.find(view.ENROLMENTS_PROJECTION, view.ENROLMENTS, where)
        docs.sort(key=lambda d: (d["employee_id"], d["payer_id"]))
        return docs


class CredentialSweepTimer(Timer):
    """The daily credential sweep, run every `every` seconds (an hour by default): each round
    records the expiry reminders due today that are not recorded yet. The due credentials
    come from the read model and each reminder is decided on its credential's stream, so the
    timer survives restarts and several processes may run it at once: each reminder is
    recorded once."""

    name = "staffing.credential_sweep"

    def __init__(self, credentials: Credentials, every: float) -> None:
        super().__init__(every)
        self._credentials = credentials

    async def fire_due(self) -> int:
        return await self._credentials.sweep()
