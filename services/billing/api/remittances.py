"""Remittances over HTTP: an 835 file uploaded (the clearinghouse's intake takes the same path),
a remittance's posting as the event store has it, and the unmatched-remittance work queue.

Posting runs after the upload is answered (202): the answer names each payment's remittance,
whose `status` says `posting` until every claim payment has its answer, then `posted`. No
patient names are kept or shown (claim ids, payer claim numbers and amounts only): billers
and auditors read them; the front desk, clinicians and managers do not.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request

from services.billing.application.remittances import Remittances
from services.billing.domain.remittances import RemittanceState
from services.billing.domain.x12.reader835 import RemittanceRefused
from shared.http.app import metadata
from shared.http.identity import Principal, policy
from shared.http.routes import Body, Cursor, Id, Limit, decode_cursor, next_cursor
from shared.readmodels import public

Upload = policy("biller", changes_state=True)  # and admin
Read = policy("biller", "auditor")

MAX_FILE_BYTES = 16 * 1024 * 1024  # a 5,000-claim 835 is about 3 MB
FileName = Annotated[
    str, Query(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]
X12_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/edi-x12": {"schema": {"type": "string", "format": "binary"}},
            "text/plain": {"schema": {"type": "string"}},
        },
    }
}


async def file_bytes(request: Request) -> bytes:
    """The request's body, refused over the limit (413) before it is all read, or empty."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_FILE_BYTES:
        raise HTTPException(413, f"an 835 file is at most {MAX_FILE_BYTES} bytes")
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > MAX_FILE_BYTES:
            raise HTTPException(413, f"an 835 file is at most {MAX_FILE_BYTES} bytes")
    if not data.strip():
        raise HTTPException(422, "the body holds no 835 file")
    return bytes(data)


def remittance_view(state: RemittanceState) -> dict[str, Any]:
    received = state.received
    assert received is not None
    posted = state.posted
    return {
        "remittance_id": received.remittance_id,
        "status": "posting" if state.pending else "posted",
        "payer_id": received.payer_id,
        "x12_payer_id": received.x12_payer_id,
        "payer_name": received.payer_name,
        "trace_number": received.trace_number,
        "payment_method": received.payment_method,
        "payment_cents": received.payment_cents,
        "paid_on": received.paid_on.isoformat() if received.paid_on else None,
        "payee_npi": received.payee_npi,
        "file_name": received.file_name,
        "source": received.source,
        "digest": received.digest,
        "warnings": list(received.warnings),
        "received_at": received.received_at.isoformat(),
        "claim_count": len(state.claims),
        "posted": posted.posted if posted else 0,
        "already_posted": posted.already_posted if posted else 0,
        "provider_adjustments": received.provider_adjustments,
        "posted_at": posted.posted_at.isoformat() if posted else None,
        "unmatched": [
            {
                "index": u.index,
                "claim_ref": u.claim_ref,
                "payer_claim_control_number": u.payer_claim_control_number,
                "paid_cents": u.paid_cents,
                "reason": u.reason,
            }
            for u in sorted(state.waiting, key=lambda u: u.index)
        ],
        "matched": [
            {
                "index": m.index,
                "claim_id": m.claim_id,
                "matched_by": m.matched_by,
                "matched_at": m.matched_at.isoformat(),
            }
            for m in state.matched
        ],
    }


class MatchIn(Body):
    claim_id: Id | None = None  # None: the claim CLP01 names (it can take the payment now)


def build_router(remittances: Remittances) -> APIRouter:
    router = APIRouter(prefix="/billing", tags=["remittances"])

    @router.post("/remittances", status_code=202, openapi_extra=X12_BODY)
    async def upload(
        request: Request, file_name: FileName = "upload.835", who: Principal = Upload
    ) -> dict[str, Any]:
        """An 835 file's payments taken in and posted after the answer. The file is checked
        whole first (envelope, segment counts, each payment's balance: BPR02 = the claims'
        CLP04 less the PLB adjustments, and each claim's and line's): a file that fails is a
        422 naming why, nothing taken. A payment taken before (the same payer and trace
        number) adds only claims it did not hold: nothing is posted twice."""
        data = await file_bytes(request)
        try:
            receipts = await remittances.receive(metadata(request, who), data, file_name, "upload")
        except RemittanceRefused as refused:
            raise HTTPException(422, f"the 835 is refused: {refused}") from None
        return {
            "remittances": [
                {
                    "remittance_id": r.remittance_id,
                    "new": r.new,
                    "claim_count": r.claim_count,
                    "claims_added": r.claims_added,
                    "stream_version": r.stream_version,
                    "href": f"/billing/remittances/{r.remittance_id}",
                }
                for r in receipts
            ]
        }

    @router.get("/remittances/{remittance_id}")
    async def remittance(remittance_id: Id, who: Principal = Read) -> dict[str, Any]:
        """A remittance's payment, its posting's counts and the claim payments left
        unmatched, from the event store (current as soon as a posting step is recorded)."""
        state = await remittances.remittance(who.tenant, remittance_id)
        if state.received is None:
            raise HTTPException(404, f"remittance {remittance_id} not found")
        return remittance_view(state)

    @router.post("/remittances/{remittance_id}/claims/{index}/match", status_code=201)
    async def match(
        request: Request,
        remittance_id: Id,
        index: Annotated[int, Path(ge=0, le=1_000_000)],
        body: MatchIn,
        who: Principal = Upload,
    ) -> dict[str, Any]:
        """Resolve a claim payment on the unmatched queue: post it to `claim_id` (or, with
        none, to the claim CLP01 names, now it can take it). 409 with the reason when the
        claim cannot take it, or when it was matched already (a retry after an answer that
        was lost: the remittance's `matched` says to which claim); 404 when the payment is
        not on the queue."""
        state = await remittances.match(metadata(request, who), remittance_id, index, body.claim_id)
        return remittance_view(state)

    @router.get("/work-queues/unmatched-remittances")
    async def unmatched(
        who: Principal = Read, limit: Limit = 100, cursor: Cursor = None
    ) -> dict[str, Any]:
        """Claim payments that matched no claim (or a claim in no state to take them), with
        the reason, by remittance and position: a biller's to resolve, never guessed."""
        after = decode_cursor(cursor, 1)[0] if cursor else None
        page = await remittances.unmatched(who.tenant, limit, after)
        return {
            "items": [
                {k: v for k, v in (public(doc) or {}).items() if k not in ("tenant", "key", "open")}
                for doc in page
            ],
            "next_cursor": next_cursor(page, limit, lambda d: (str(d["key"]),)),
        }

    return router
