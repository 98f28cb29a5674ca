"""The clearinghouse: claim files out through the FileDrop port, 999 and 277CA files back in.

Sending (`send_due`, the `SendClaimFiles` timer). Every file made but not yet sent (the claims
read model finds them; the claim-files stream decides) is written again from its events
(`ClaimFileUseCases.file_text`, checked against its digest), put under its deterministic name
(`medoffice-<tenant>-<ISA13>.837`), and only then recorded sent, its claims submitted
(`mark_batch_sent`). A crash between the put and the record loses nothing: the file is still
unsent, so the next round writes the same bytes under the same name (the port makes that a
no-op) and records it then. It is never put twice under two names, and never recorded sent
unless it is on the far side.

Taking back (`take_due`, the `TakeAcknowledgements` timer). Each complete incoming file is
read, and which tenant it belongs to found: from its name when it echoes one of ours, else
from what it acknowledges (the only tenant with a sent file of that group control number, or
with those claims). A 999 acknowledges its claim file (`acknowledge_batch`: on R every claim
of it is rejected); a 277CA accepts or rejects each claim with its reasons (`Claims.accept`,
`Claims.reject`). The file is then moved aside (`done`). A file that is not a 999 or 277CA
billing reads, or that names no claim file or claim of the tenant's, goes on the tenant's
rejected-files list (`ClearinghouseFileRejected`) and is moved aside too: never dropped
silently, never read again. Reading a file twice changes nothing (each step records nothing
the second time). A file whose tenant cannot be told at all is left where it is, logged once
per process (no tenant's list may show another tenant's file).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

import structlog

from services.billing.application.claim_files import ClaimFileUseCases
from services.billing.application.claims import Claims
from services.billing.application.remittances import Remittances
from services.billing.domain import streams
from services.billing.domain.claim_files import Batch
from services.billing.domain.clearinghouse import (
    Acknowledgement,
    Inbox,
    RejectFile,
    Unreadable,
    claim_reasons,
    file_code,
    file_errors,
    file_name,
    inbox,
    is_remittance,
    named_after,
    read_acknowledgement,
)
from services.billing.domain.x12.acks import ClaimAcknowledgements, FileAcknowledgement
from services.billing.domain.x12.reader835 import RemittanceFile, RemittanceRefused, read_835
from services.billing.projections import claims as view
from shared.commands import CommandHandler
from shared.domain import DomainError, NotFound
from shared.errors import RetryLater
from shared.events import Metadata
from shared.filedrop.port import FileConflict, FileDrop, NoSuchFile
from shared.readmodels import ReadModels
from shared.timers import Timer
from shared.usecases import UseCases

log = structlog.get_logger(__name__)

SYSTEM = "system:billing.clearinghouse"


class NotTaken(Exception):
    """An incoming file billing cannot take: its reason goes on the rejected-files list."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotYet(Exception):
    """A 999 or 277CA for a file put but not yet recorded sent (a crash in between, a quick
    far side): left where it is until the next round has recorded the sending."""


@dataclass(frozen=True)
class Taken:
    """What reading one incoming file did."""

    name: str
    tenant: str | None  # None: no tenant could be told (the file is left where it is)
    kind: Literal["999", "277CA", "835", "rejected", "unattributed", "waiting", "gone", "failed"]


class Clearinghouse(UseCases):
    def __init__(
        self,
        handler: CommandHandler,
        read_models: ReadModels,
        drop: FileDrop,
        claims: Claims,
        files: ClaimFileUseCases,
        remittances: Remittances,
    ) -> None:
        super().__init__(handler)
        self._read_models = read_models
        self.drop = drop
        self._claims = claims
        self._files = files
        self._remittances = remittances
        self._unattributed: set[tuple[str, str]] = set()  # (name, digest) logged already

    # ------------------------------------------------------------------------- sending

    async def unsent(self) -> list[tuple[str, str]]:
        """(tenant, batch id) of files made and not yet sent, oldest first, as the read model
        has them (each is checked against the event store before it is sent). All of them: a
        few at a time normally, and a limit would let files that cannot be sent (a patient
        forgotten since) starve the others."""
        docs = await self._read_models.find(
            view.PROJECTION, view.FILES, {"status": "created"}, sort=[("created_at", 1)]
        )
        return [(doc["tenant"], doc["batch_id"]) for doc in docs]

    async def send(self, tenant: str, batch_id: str) -> str | None:
        """Put one claim file on the far side and record it sent; None when it was sent (or
        acknowledged) already."""
        batch = await self._files.batch(tenant, batch_id)
        if batch.sent is not None or batch.acknowledged is not None:
            return None
        name = file_name(tenant, batch.created.interchange_control_number)
        text = await self._files.file_text(tenant, batch_id)  # its digest checked
        await self.drop.put(name, text.encode("ascii"))
        meta = Metadata(tenant=tenant, actor=SYSTEM, correlation_id=f"clearinghouse:{name}")
        await self._files.mark_batch_sent(meta, batch_id, name)
        log.info("claim_file_sent", tenant=tenant, batch_id=batch_id, file_name=name)
        return name

    async def send_due(self) -> int:
        """Send every file made and not yet sent. The far side unreachable stops the round
        (FileDropUnavailable: retried next round); a file that cannot be sent is logged and
        the others go."""
        sent = 0
        for tenant, batch_id in await self.unsent():
            try:
                sent += await self.send(tenant, batch_id) is not None
            except (DomainError, FileConflict) as exc:
                reason = exc.reason if isinstance(exc, DomainError) else str(exc)
                log.error("claim_file_not_sent", tenant=tenant, batch_id=batch_id, reason=reason)
        return sent

    # ------------------------------------------------------------------------- taking back

    async def take_due(self) -> list[Taken]:
        """Read every complete incoming file. A backend or the far side unreachable stops the
        round (RetryLater); a file failing otherwise (a bug) is logged and left for the next
        round, and the files after it are still taken."""
        taken = []
        for name in await self.drop.incoming():
            try:
                taken.append(await self.take(name))
            except RetryLater:
                raise
            except Exception:  # noqa: BLE001 - one file must not hold back the others
                log.exception("clearinghouse_file_failed", file_name=name)
                taken.append(Taken(name, None, "failed"))
        return taken

    async def take(self, name: str) -> Taken:
        try:
            data = await self.drop.read(name)
        except NoSuchFile:
            return Taken(name, None, "gone")  # another process took it meanwhile
        digest = hashlib.sha256(data).hexdigest()
        if is_remittance(data):
            return await self._take_remittance(name, data, digest)
        try:
            ack = read_acknowledgement(data)
        except Unreadable as exc:
            tenant = await self._tenant_of(name, None)
            return await self._not_taken(name, digest, tenant, str(exc))
        tenant = await self._tenant_of(name, ack)
        if tenant is None:
            return await self._not_taken(name, digest, None, "names no tenant's claim file")
        try:
            kind = await self._take(tenant, name, ack)
        except NotTaken as exc:
            return await self._not_taken(name, digest, tenant, exc.reason)
        except NotYet:
            return Taken(name, tenant, "waiting")
        await self.drop.done(name)
        log.info("clearinghouse_file_taken", tenant=tenant, file_name=name, kind=kind)
        return Taken(name, tenant, kind)

    async def _take_remittance(self, name: str, data: bytes, digest: str) -> Taken:
        """An 835: its payments taken in (`Remittances.receive_file`), for the tenant whose
        claims it pays; a file refused (unbalanced, miscounted) goes on the rejected list."""
        try:
            file = read_835(data)
        except RemittanceRefused as exc:
            tenant = await self._tenant_of(name, None)
            return await self._not_taken(name, digest, tenant, f"remittance refused: {exc}")
        tenant = await self._tenant_paid(file) or await self._tenant_of(name, None)
        if tenant is None:
            return await self._not_taken(name, digest, None, "pays no tenant's claims")
        meta = Metadata(tenant=tenant, actor=SYSTEM, correlation_id=f"clearinghouse:{name}")
        await self._remittances.receive_file(meta, file, name, "clearinghouse")
        await self.drop.done(name)
        log.info("clearinghouse_file_taken", tenant=tenant, file_name=name, kind="835")
        return Taken(name, tenant, "835")

    async def _tenant_paid(self, file: RemittanceFile) -> str | None:
        """The only tenant with claims the file pays (CLP01), as the claims read model has
        them (a claim is in it long before its payment comes back)."""
        refs = sorted({c.claim_ref for r in file.remittances for c in r.claims})[:500]
        if not refs:
            return None
        docs = await self._read_models.find(
            view.PROJECTION, view.CLAIMS, {"claim_id": {"$in": refs}}
        )
        tenants = {str(d["tenant"]) for d in docs}
        return tenants.pop() if len(tenants) == 1 else None

    async def rejected_files(self, tenant: str) -> Inbox:
        """The tenant's rejected-files list (from the event store)."""
        state: Inbox = await self.state(streams.clearinghouse_inbox(tenant), inbox)
        return state

    async def _take(self, tenant: str, name: str, ack: Acknowledgement) -> Literal["999", "277CA"]:
        meta = Metadata(tenant=tenant, actor=SYSTEM, correlation_id=f"clearinghouse:{name}")
        if isinstance(ack, FileAcknowledgement):
            batch = await self._batch_acknowledged(tenant, ack)
            try:
                await self._submit_left(meta, batch)
                await self._files.acknowledge_batch(
                    meta, batch.created.batch_id, file_code(ack), file_errors(ack)
                )
            except DomainError as exc:  # say, a second 999 saying otherwise
                raise NotTaken(
                    f"cannot acknowledge claim file {batch.created.batch_id}: {exc.reason}"
                ) from exc
            return "999"
        answered = (await self._files.files(tenant)).batches.get(ack.batch_id)
        if answered is not None and answered.sent is None:
            raise NotYet
        if answered is not None:
            try:
                await self._submit_left(meta, answered)
            except DomainError as exc:
                raise NotTaken(f"cannot take claim file {ack.batch_id}: {exc.reason}") from exc
        unknown: list[str] = []
        refused: list[str] = []
        for status in ack.claims:
            try:
                await self._claims.claim_state(tenant, status.claim_id)
            except NotFound:
                unknown.append(status.claim_id)
                continue
            try:  # each step records nothing when the same answer is read twice
                if status.accepted:
                    await self._claims.accept(
                        meta, status.claim_id, status.payer_claim_control_number
                    )
                else:
                    await self._claims.reject(meta, status.claim_id, claim_reasons(status))
            except DomainError as exc:
                refused.append(f"{status.claim_id} ({exc.reason})")
        if unknown or refused:
            parts = []
            if unknown:
                parts.append(f"names claims billing does not know: {', '.join(unknown)}")
            if refused:
                parts.append(f"answers claims that cannot take it: {', '.join(refused)}")
            raise NotTaken("; ".join(parts))
        return "277CA"

    async def _batch_acknowledged(self, tenant: str, ack: FileAcknowledgement) -> Batch:
        files = await self._files.files(tenant)
        for batch in files.batches.values():
            if batch.created.group_control_number == ack.group_control_number:
                if batch.sent is None:
                    raise NotYet
                return batch
        raise NotTaken(f"acknowledges no claim file (group {ack.group_control_number})")

    async def _tenant_of(self, name: str, ack: Acknowledgement | None) -> str | None:
        """The tenant the file is for: named by it, or the only one it can be for."""
        named = named_after(name)
        if named is not None:
            ours = await self._read_models.find(
                view.PROJECTION,
                view.FILES,
                {
                    "tenant": named.tenant,
                    "interchange_control_number": named.interchange_control_number,
                },
                limit=1,
            )
            if ours:  # a name that only looks like ours says nothing
                return named.tenant
        tenants: set[str] = set()
        if isinstance(ack, FileAcknowledgement):
            # Group control numbers are per tenant: of the tenants with a file of that number,
            # the one whose file was sent (the event store says; the read model may lag).
            docs = await self._read_models.find(
                view.PROJECTION,
                view.FILES,
                {"group_control_number": ack.group_control_number},
            )
            tenants = {doc["tenant"] for doc in docs}
            if len(tenants) > 1:
                tenants = {t for t in tenants if await self._sent_group(t, ack)}
        elif isinstance(ack, ClaimAcknowledgements):
            docs = await self._read_models.find(
                view.PROJECTION, view.FILES, {"batch_id": ack.batch_id}
            )
            tenants = {doc["tenant"] for doc in docs}
        else:
            docs = await self._read_models.find(view.PROJECTION, view.FILES, limit=1)
            if docs:
                only = docs[0]["tenant"]
                others = await self._read_models.find(
                    view.PROJECTION, view.FILES, {"tenant": {"$ne": only}}, limit=1
                )
                tenants = {only} if not others else {only, others[0]["tenant"]}
        return tenants.pop() if len(tenants) == 1 else None

    async def _submit_left(self, meta: Metadata, batch: Batch) -> None:
        """A file recorded sent whose claims were not all submitted yet (a crash between the
        two steps of `mark_batch_sent`): that step again, before its answer is taken, while
        the file is open (a claim in an open file is in no other)."""
        if batch.sent is None or batch.acknowledged is not None:
            return
        for claim_id in batch.created.claim_ids:
            state = await self._claims.claim_state(meta.tenant, claim_id)
            if state.status == "ready":
                await self._files.mark_batch_sent(
                    meta, batch.created.batch_id, batch.sent.file_name
                )
                return

    async def _sent_group(self, tenant: str, ack: FileAcknowledgement) -> bool:
        files = await self._files.files(tenant)
        return any(
            b.sent is not None and b.created.group_control_number == ack.group_control_number
            for b in files.batches.values()
        )

    async def _not_taken(self, name: str, digest: str, tenant: str | None, reason: str) -> Taken:
        if tenant is None:
            if (name, digest) not in self._unattributed:
                self._unattributed.add((name, digest))
                log.error(
                    "clearinghouse_file_unattributed", file_name=name, digest=digest, reason=reason
                )
            return Taken(name, None, "unattributed")
        meta = Metadata(tenant=tenant, actor=SYSTEM, correlation_id=f"clearinghouse:{name}")
        command = RejectFile(file_name=name, digest=digest, reason=reason, rejected_at=self.now())
        await self.decide(streams.clearinghouse_inbox(tenant), inbox, command, meta)
        await self.drop.done(name)
        log.warning("clearinghouse_file_rejected", tenant=tenant, file_name=name, reason=reason)
        return Taken(name, tenant, "rejected")


# ----------------------------------------------------------------------------- timers


class SendClaimFiles(Timer):
    """Sends every claim file made and not yet sent (see `Clearinghouse.send_due`)."""

    name = "billing.clearinghouse.send"

    def __init__(self, clearinghouse: Clearinghouse, every: float) -> None:
        super().__init__(every)
        self._clearinghouse = clearinghouse

    async def fire_due(self) -> int:
        return await self._clearinghouse.send_due()

    async def stop(self) -> None:
        await super().stop()
        await self._clearinghouse.drop.close()


class TakeAcknowledgements(Timer):
    """Takes the clearinghouse's 999 and 277CA files back in (`Clearinghouse.take_due`)."""

    name = "billing.clearinghouse.take"

    def __init__(self, clearinghouse: Clearinghouse, every: float) -> None:
        super().__init__(every)
        self._clearinghouse = clearinghouse

    async def fire_due(self) -> int:
        return len(await self._clearinghouse.take_due())

    async def stop(self) -> None:
        await super().stop()
        await self._clearinghouse.drop.close()
