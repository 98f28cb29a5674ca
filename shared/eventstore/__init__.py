"""The EventStore port and its adapters."""

from shared.eventstore.port import (
    Commit,
    ConcurrencyConflict,
    EventStore,
    StoreUnavailable,
    TagsOf,
)

__all__ = ["Commit", "ConcurrencyConflict", "EventStore", "StoreUnavailable", "TagsOf"]
