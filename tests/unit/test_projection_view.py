"""A projection's View: a change edits a copy, so a change that gives up leaves nothing behind."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from shared.documents.port import Document, put
from shared.documents.sqlite import SqliteDocumentStore
from shared.events import DomainEvent, Envelope, Metadata, seal
from shared.projections import View
from shared.readmodels import physical
from shared.sqlite import SqliteDatabase


class NoteFiled(DomainEvent):
    context: ClassVar[str] = "fixture"
    note: str


def filed(version: int) -> Envelope:
    return seal(
        NoteFiled(note="n"),
        stream="acme:s",
        stream_version=version,
        meta=Metadata(tenant="acme", correlation_id="c"),
        event_id=f"e{version}",
        time=datetime(2026, 11, 27, tzinfo=UTC),
    )


async def test_a_change_that_gives_up_after_editing_leaves_the_document_as_it_was() -> None:
    store = SqliteDocumentStore(SqliteDatabase(":memory:"))
    original = {"lines": [{"code": "a"}], "meta": {"n": 1}, "pair": [1, 2]}
    await put(store, physical("c", 1), "d", original)
    view = View(store, 1)

    def edit_then_give_up(doc: Document | None) -> Document | None:
        assert doc is not None
        doc["lines"][0]["code"] = "changed"
        doc["meta"]["n"] = 2
        doc["pair"].append(3)
        return None

    def edit(doc: Document | None) -> Document | None:
        assert doc is not None
        doc["lines"].append({"code": "b"})
        return doc

    await view.change("c", "d", filed(1), edit_then_give_up)
    await view.change("c", "d", filed(2), edit)
    await view.flush()

    stored = await store.get(physical("c", 1), "d")
    assert stored is not None
    assert stored["lines"] == [{"code": "a"}, {"code": "b"}]
    assert stored["meta"] == {"n": 1}
    assert stored["pair"] == [1, 2]
    await store.close()


async def test_a_document_orjson_will_not_write_is_still_edited_on_a_copy() -> None:
    """A lone surrogate (stored through `json`) takes the slow copy; giving up still leaves
    the document as it was."""
    store = SqliteDocumentStore(SqliteDatabase(":memory:"))
    await put(store, physical("c", 1), "d", {"text": "\ud800", "lines": [{"code": "a"}]})
    view = View(store, 1)

    def edit_then_give_up(doc: Document | None) -> Document | None:
        assert doc is not None
        doc["lines"][0]["code"] = "changed"
        return None

    def edit(doc: Document | None) -> Document | None:
        assert doc is not None
        doc["lines"].append({"code": "b"})
        return doc

    await view.change("c", "d", filed(1), edit_then_give_up)
    await view.change("c", "d", filed(2), edit)
    await view.flush()

    stored = await store.get(physical("c", 1), "d")
    assert stored is not None
    assert stored["text"] == "\ud800"
    assert stored["lines"] == [{"code": "a"}, {"code": "b"}]
    await store.close()
