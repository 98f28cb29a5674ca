"""No-show rates per provider and per site per month: visits completed and patients who did
not show, counted by the month of the appointment's local date."""

from __future__ import annotations

from services.scheduling.domain import streams
from services.scheduling.domain.events import AppointmentNoShow, VisitCompleted
from shared.documents.port import Document
from shared.events import DomainEvent, Envelope
from shared.projections import View

PROJECTION = "scheduling.no_show_rates"
RATES = "no_show_rates"


def rate_id(tenant: str, kind: str, key: str, month: str) -> str:
    return f"{tenant}:{kind}:{key}:{month}"


class NoShowRatesProjection:
    name = PROJECTION
    contexts = ("scheduling",)
    collections = (RATES,)
    handles = (VisitCompleted, AppointmentNoShow)

    def keys(self, event: DomainEvent, envelope: Envelope) -> list[tuple[str, str]]:
        return [(RATES, doc_id) for doc_id, *_ in self._counted(event, envelope)]

    def _counted(self, event: DomainEvent, envelope: Envelope) -> list[tuple[str, str, str, str]]:
        if not isinstance(event, VisitCompleted | AppointmentNoShow):
            return []
        site_id, day = streams.site_day_parts(envelope.stream)
        month = day[:7]
        return [
            (rate_id(envelope.tenant, kind, key, month), kind, key, month)
            for kind, key in (("provider", event.provider_id), ("site", site_id))
        ]

    async def apply(self, event: DomainEvent, envelope: Envelope, view: View) -> None:
        field = "no_shows" if isinstance(event, AppointmentNoShow) else "completed"
        for doc_id, kind, key, month in self._counted(event, envelope):

            def count(
                doc: Document | None, kind: str = kind, key: str = key, month: str = month
            ) -> Document:
                doc = doc or {
                    "tenant": envelope.tenant,
                    "kind": kind,
                    f"{kind}_id": key,
                    "month": month,
                    "completed": 0,
                    "no_shows": 0,
                }
                doc[field] += 1
                seen = doc["completed"] + doc["no_shows"]
                doc["no_show_rate"] = round(doc["no_shows"] / seen, 4)
                return doc

            await view.change(RATES, doc_id, envelope, count)
