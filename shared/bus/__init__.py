"""The Bus port and its adapters."""

from shared.bus.port import Bus, MessageHandler, Subscription

__all__ = ["Bus", "MessageHandler", "Subscription"]
