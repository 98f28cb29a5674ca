"""The EventStore port and its adapters."""

from shared.eventstore.port import Commit, ConcurrencyConflict, EventStore, StoreUnavailable

__all__ = ["Commit", "ConcurrencyConflict", "EventStore", "StoreUnavailable"]
