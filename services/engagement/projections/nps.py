"""Net promoter score per site and month, and per provider at a site and month: the counts of
promoters, passives and detractors among survey answers, by the month of the visit (NPS is
computed from them when read, by `surveys.nps`). Replay-safe: each document records the survey
streams it counted (an answer is its survey stream's one `SurveyAnswered`), so a redelivery
counts nothing twice.
"""

from __future__ import annotations

from typing import Any

from services.engagement.domain.events import SurveyAnswered
from services.engagement.domain.surveys import DETRACTOR_MAX, PROMOTER_MIN, month_of, nps
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "engagement.nps"
NPS = "engagement_nps"


def site_doc_id(tenant: str, site_id: str, month: str) -> str:
    return f"{tenant}:site:{site_id}:{month}"


def provider_doc_id(tenant: str, site_id: str, provider_id: str, month: str) -> str:
    return f"{tenant}:provider:{site_id}:{provider_id}:{month}"


def band(score: int) -> str:
    if score >= PROMOTER_MIN:
        return "promoters"
    return "detractors" if score <= DETRACTOR_MAX else "passives"


def scored(doc: dict[str, Any]) -> dict[str, Any]:
    """A document as served: its counts and their NPS (null for no answers)."""
    counts = {k: int(doc.get(k, 0)) for k in ("promoters", "passives", "detractors")}
    # One score per band stands for all of it: NPS depends on the counts only.
    scores = [10] * counts["promoters"] + [8] * counts["passives"] + [0] * counts["detractors"]
    served: dict[str, Any] = {k: doc[k] for k in ("site_id", "provider_id", "month") if k in doc}
    return {**served, **counts, "answers": sum(counts.values()), "nps": nps(scores)}


class NpsProjection:
    name = PROJECTION
    contexts = ("engagement",)
    collections = (NPS,)
    handles: tuple[type[DomainEvent], ...] = (SurveyAnswered,)

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        if not isinstance(event, SurveyAnswered):
            return
        tenant, site, month = envelope.tenant, event.site_id, month_of(event)
        counted = band(event.likelihood_to_recommend)
        keys = {
            site_doc_id(tenant, event.site_id, month): {"kind": "site"},
            provider_doc_id(tenant, event.site_id, event.provider_id, month): {
                "kind": "provider",
                "provider_id": event.provider_id,
            },
        }
        for doc_id, identity in keys.items():

            def change(doc: Document | None, identity: dict[str, str] = identity) -> Document:
                doc = doc or {
                    "tenant": tenant,
                    "site_id": site,
                    "month": month,
                    **identity,
                }
                doc[counted] = int(doc.get(counted, 0)) + 1
                return doc

            await view.change(NPS, doc_id, envelope, change)
