"""Claim files over HTTP: a biller makes the 837P files of the ready claims (one per payer),
reads a file's metadata, and downloads its bytes (written again from the events and checked
against the digest; every patient in it is recorded as disclosed). Files span sites: managers
do not read them; auditors read their metadata but never the PHI-laden bytes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from services.billing.application.claim_files import ClaimFileUseCases
from services.billing.application.claims import Claims
from services.billing.application.clearinghouse import Clearinghouse
from shared.access import record_disclosure
from shared.domain import Rejected
from shared.http.app import metadata
from shared.http.identity import Principal, policy
from shared.http.routes import Body, Id
from shared.usecases import Disclosures

Make = policy("biller", changes_state=True)  # and admin
ReadMetadata = policy("biller", "auditor")
Download = policy("biller")

X12_MEDIA_TYPE = "application/edi-x12"


class FilesIn(Body):
    payer_id: Id | None = None  # only this payer's ready claims


class MadeFileOut(BaseModel):
    id: str
    stream: str
    stream_version: int
    payer_id: str
    claim_ids: list[str]


class FilesOut(BaseModel):
    files: list[MadeFileOut]


def build_router(
    files: ClaimFileUseCases,
    claims: Claims,
    clearinghouse: Clearinghouse,
    disclosures: Disclosures,
) -> APIRouter:
    router = APIRouter(prefix="/billing", tags=["claim files"])

    @router.get("/work-queues/rejected-files")
    async def rejected_files(
        who: Principal = ReadMetadata,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> dict[str, Any]:
        """The clearinghouse's files billing could not take (not a 999 or 277CA it reads, or
        naming nothing of the tenant's), newest first: name, digest, reason, when. Read from
        the event store: a file on the list is there as soon as it was refused. Nothing of a
        file's contents is kept (it may hold PHI), so auditors read the list too."""
        listed = await clearinghouse.rejected_files(who.tenant)
        rejected = sorted(
            listed.rejected.values(), key=lambda e: (e.rejected_at, e.file_name), reverse=True
        )
        return {
            "total": len(rejected),
            "files": [
                {
                    "file_name": e.file_name,
                    "digest": e.digest,
                    "reason": e.reason,
                    "rejected_at": e.rejected_at.isoformat(),
                }
                for e in rejected[:limit]
            ],
        }

    @router.post("/claim-files", status_code=201)
    async def make_files(request: Request, body: FilesIn, who: Principal = Make) -> FilesOut:
        """One 837P file per payer (or only `payer_id`'s) of the ready claims in no open file;
        409 when there are none."""
        made = await files.create_files(metadata(request, who), body.payer_id)
        if not made:
            raise Rejected("no ready claims to file")
        return FilesOut(
            files=[
                MadeFileOut(
                    id=m.batch_id,
                    stream=m.outcome.stream,
                    stream_version=m.outcome.stream_version,
                    payer_id=m.payer_id,
                    claim_ids=list(m.claim_ids),
                )
                for m in made
            ]
        )

    @router.get("/claim-files/{batch_id}")
    async def file_metadata(batch_id: Id, who: Principal = ReadMetadata) -> dict[str, Any]:
        """A file's control numbers, payer, claims, digest, and whether it was sent and
        acknowledged (from the event store: there as soon as it was made)."""
        batch = await files.batch(who.tenant, batch_id)
        created = batch.created
        return {
            "id": batch_id,
            "payer_id": created.payer_id,
            "interchange_control_number": created.interchange_control_number,
            "group_control_number": created.group_control_number,
            "claim_ids": list(created.claim_ids),
            "usage": created.usage,
            "created_at": created.created_at.isoformat(),
            "digest": created.digest,
            "sent": batch.sent.model_dump(mode="json") if batch.sent else None,
            "acknowledged": (
                batch.acknowledged.model_dump(mode="json") if batch.acknowledged else None
            ),
        }

    @router.get("/claim-files/{batch_id}/x12")
    async def file_bytes(request: Request, batch_id: Id, who: Principal = Download) -> Response:
        """The file itself, as sent (409 when it can no longer be written as it was)."""
        text = await files.file_text(who.tenant, batch_id)
        patients = await files.patients_in(who.tenant, batch_id)
        await record_disclosure(disclosures, request, who, patients)
        return Response(content=text, media_type=X12_MEDIA_TYPE)

    return router
