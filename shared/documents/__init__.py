"""The DocumentStore port for read models, and its adapters."""

from shared.documents.port import Document, DocumentConflict, DocumentStore, Write

__all__ = ["Document", "DocumentConflict", "DocumentStore", "Write"]
