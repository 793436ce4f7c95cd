"""Collection: the documents of one kind, and their SQL table.

Obtain one with :meth:`yloft.Store.collection`.

Example:
    >>> from yloft import Store, Field
    >>> from yloft.crdt import Text
    >>> store = Store(":memory:")
    >>> notes = store.collection("notes", {"body": Field("body", str, fts=True)})
    >>> nid = notes.create()
    >>> with notes.edit(nid) as doc:
    ...     doc.get("body", type=Text).insert(0, "two litres")
    >>> [r["body"] for r in notes.search("litres")]
    ['two litres']
    >>> store.close()
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from ..crdt import Doc
from ..crdt._fast import new_doc, write_map
from ..errors import (
    DocumentBusyError,
    DocumentDeletedError,
    DocumentNotFoundError,
    MalformedUpdateError,
    QueryError,
    SchemaError,
)
from ..extract import is_deleted, to_python
from ..schema import RESERVED_ROOT, CollectionSchema, quote
from ._cached import DEFERRED, MINTED, CachedDoc
from ._ids import check_id, new_id
from ._updates import BAD_UPDATE, covers

if TYPE_CHECKING:
    from ._writer import Writer
    from .store import Store


def _as_bytes(data: object, what: str) -> bytes:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise MalformedUpdateError(f"{what} must be bytes (a Yjs v1 {what}), not {type(data).__name__}")


class Collection:
    """Documents of one kind with their extracted columns. See the module docstring."""

    def __init__(self, store: Store, schema: CollectionSchema, writer: Writer) -> None:
        self._store = store
        self._writer = writer
        self.schema = schema
        self.name = schema.name
        cols = schema.columns()
        self._select = f"SELECT {', '.join(quote(c) for c in cols)} FROM {quote(self.name)}"
        self._fields = dict(schema.fields)

    def __repr__(self) -> str:
        return f"<Collection {self.name!r} {self.schema.field_names()}>"

    # -- helpers -----------------------------------------------------------------------

    def _id(self, doc_id: object) -> str:
        return check_id(doc_id)

    def _require(self, doc_id: str, *, keep: bool, raw: bool = False) -> CachedDoc:
        entry = self._writer.find(self.name, doc_id, keep=keep, raw=raw)
        if entry is None:
            raise DocumentNotFoundError(
                f"collection {self.name!r} has no document {doc_id!r}; create() it or "
                "apply_update() a peer's update first"
            )
        return entry

    def _row_dict(self, row: tuple[Any, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for col, value in zip(self.schema.columns(), row, strict=True):
            field = self._fields.get(col)
            out[col] = value if field is None else to_python(value, field)
        return out

    # -- writes ------------------------------------------------------------------------

    def create(self) -> str:
        """Create a new empty document; return its id.

        Example:
            >>> from yloft import Store
            >>> store = Store(":memory:")
            >>> len(store.collection("notes", {}).create())
            32
            >>> store.close()
        """
        writer = self._writer
        writer.check_open()
        doc_id = new_id()
        # The creation transaction is deferred: an edit() in the same write
        # transaction carries it (one CRDT transaction, one log row), otherwise the
        # write-out before the next read or the COMMIT runs it alone.
        writer.persist_new(self.schema, doc_id, CachedDoc.created(new_doc(), time.time()))
        return doc_id

    def edit(self, doc_id: str) -> AbstractContextManager[Doc[Any]]:
        """Open a document for editing; the block is ONE transaction.

        The update is persisted (with row, indexes and FTS) when the block exits; if
        the block raises, nothing is saved. Use the Doc only inside the block.

        Example:
            >>> from yloft import Store, Field
            >>> from yloft.crdt import Map
            >>> store = Store(":memory:")
            >>> notes = store.collection("n", {"t": Field("m.t", str)})
            >>> nid = notes.create()
            >>> with notes.edit(nid) as doc:
            ...     doc.get("m", type=Map)["t"] = "x"
            >>> notes.row(nid)["t"]
            'x'
            >>> store.close()
        """
        return _Edit(self, doc_id)

    def apply_update(self, doc_id: str, update: bytes, *, origin: str | None = None) -> None:
        """Merge a peer's Yjs v1 update; creates the document if unknown.

        ``origin`` tags where the update came from (e.g. ``"relay"``); it is passed to
        ``on_update`` hooks and stored in the change feed, so sync layers can skip
        their own updates. Re-delivered updates change nothing and record nothing.

        Example:
            >>> from yloft import Store
            >>> store = Store(":memory:")
            >>> a, b = store.collection("a", {}), store.collection("b", {})
            >>> nid = a.create()
            >>> b.apply_update(nid, a.get_update(nid), origin="peer")
            >>> b.get_state(nid) == a.get_state(nid)
            True
            >>> store.close()
        """
        writer = self._writer
        writer.check_open()
        doc_id = self._id(doc_id)
        data = _as_bytes(update, "update")
        if origin is not None and not isinstance(origin, str):
            raise SchemaError(f"origin must be a str or None, not {type(origin).__name__}")
        ident = (self.name, doc_id)
        if ident in writer.cache.editing:
            raise DocumentBusyError(
                f"document {doc_id!r} is open in an edit block; apply updates after it"
            )
        entry = writer.find(self.name, doc_id, keep=True)
        if entry is not None and entry.incomplete and ident in writer.dirty:
            writer.write_recorded()  # an incomplete Doc is rebuilt from SQLite (below)
            entry = writer.find(self.name, doc_id, keep=True)
        if entry is None:
            entry = CachedDoc(None, new_doc())
        # A Doc holding structs that wait for dependencies is rebuilt, not patched
        # (see CachedDoc.incomplete); the bytes are then checked on a scratch Doc first.
        rebuild = entry.incomplete and entry.key is not None
        try:
            (Doc() if rebuild else entry.doc).apply_update(data)
        except BAD_UPDATE as exc:  # the Doc may hold part of it: forgotten, SQLite holds the truth
            entry.updates.clear()
            writer.forget(ident)
            raise MalformedUpdateError(
                f"update for {self.name}/{doc_id} is not a valid Yjs v1 update ({exc}); "
                "pass bytes from get_update()/Doc.get_update() or a Yjs peer"
            ) from exc
        except BaseException:
            entry.updates.clear()
            writer.forget(ident)
            raise
        if rebuild and entry.key is not None:
            entry = writer.cache.load(entry.key, data)
            writer.cache.remember(ident, entry)
            writer.persist(self.schema, doc_id, entry, data, origin)
            return
        observed = entry.take()
        entry.incomplete = not covers(entry.doc.get_state(), data)
        if observed is None and not entry.incomplete and entry.key is not None:
            return  # a re-delivery: nothing new
        writer.persist(
            self.schema, doc_id, entry, data if entry.incomplete else observed or data, origin
        )

    def delete(self, doc_id: str) -> None:
        """Delete a document with a CRDT tombstone (it syncs); its row disappears.

        Example:
            >>> from yloft import Store
            >>> store = Store(":memory:")
            >>> notes = store.collection("n", {})
            >>> nid = notes.create(); notes.delete(nid)
            >>> notes.row(nid) is None
            True
            >>> store.close()
        """
        writer = self._writer
        doc_id = self._id(doc_id)
        ident = (self.name, doc_id)
        if ident in writer.cache.editing:
            raise DocumentBusyError(
                f"document {doc_id!r} is open in an edit block; delete it after the block"
            )
        entry = self._require(doc_id, keep=True)
        if is_deleted(entry.doc):
            return
        write_map(entry.doc, RESERVED_ROOT, {"deleted": True, "updated_at": time.time()})
        update = entry.take()
        assert update is not None
        writer.persist(self.schema, doc_id, entry, update, None)

    # -- reads ---------------------------------------------------------------------------

    def row(self, doc_id: str) -> dict[str, Any] | None:
        """The document's row (typed values), or None when unknown or deleted."""
        con = self._writer.settled()
        doc_id = self._id(doc_id)
        row = con.execute(f"{self._select} WHERE id = ?", (doc_id,)).fetchone()
        return None if row is None else self._row_dict(row)

    def get(self, doc_id: str) -> Doc[Any]:
        """An independent Doc copy of the document's current state."""
        entry = self._require(self._id(doc_id), keep=False)
        copy: Doc[Any] = Doc()
        copy.apply_update(entry.doc.get_update())
        return copy

    def get_update(self, doc_id: str, state: bytes | None = None) -> bytes:
        """The document as a Yjs v1 update, diffed against ``state`` (a state vector)."""
        entry = self._require(self._id(doc_id), keep=False)
        if state is None:
            return entry.doc.get_update()
        try:
            return entry.doc.get_update(_as_bytes(state, "state vector"))
        except ValueError as exc:
            raise MalformedUpdateError(
                f"state vector is not valid ({exc}); pass bytes from get_state()"
            ) from exc

    def get_state(self, doc_id: str) -> bytes:
        """The document's Yjs state vector."""
        return self._require(self._id(doc_id), keep=False).doc.get_state()

    def deleted(self, doc_id: str) -> bool:
        """True when the document carries a deletion tombstone."""
        return is_deleted(self._require(self._id(doc_id), keep=False).doc)

    def ids(self) -> list[str]:
        """Ids of every live (not deleted) document, in creation order."""
        con = self._writer.settled()
        return [r[0] for r in con.execute(f"SELECT id FROM {quote(self.name)} ORDER BY rowid")]

    def search(self, text: str, *, limit: int = 50) -> list[dict[str, Any]]:
        """Full-text search (FTS5 syntax) over the fts fields, best match first.

        Example:
            >>> from yloft import Store, Field
            >>> store = Store(":memory:")
            >>> notes = store.collection("n", {"b": Field("body", str, fts=True)})
            >>> notes.search("anything")
            []
            >>> store.close()
        """
        self._writer.check_open()
        if not self.schema.fts_fields:
            raise QueryError(
                f"collection {self.name!r} has no full-text fields; declare one with "
                "Field(..., str, fts=True)"
            )
        if not isinstance(text, str):
            raise QueryError(f"search text must be a str, not {type(text).__name__}")
        con = self._writer.settled()
        fts = quote(self.schema.fts_table)
        cols = ", ".join(f"c.{quote(c)}" for c in self.schema.columns())
        sql = (
            f"SELECT {cols} FROM {fts} JOIN {quote(self.name)} c ON c.rowid = {fts}.rowid"
            f" WHERE {fts} MATCH ? ORDER BY {fts}.rank LIMIT ?"
        )
        try:
            rows = con.execute(sql, (text, int(limit))).fetchall()
        except sqlite3.OperationalError as exc:
            raise QueryError(
                f"search {text!r} is not a valid FTS5 query ({exc}); quote words with "
                "double quotes, e.g. '\"two-litres\"'"
            ) from exc
        return [self._row_dict(r) for r in rows]

    def __len__(self) -> int:
        con = self._writer.settled()
        row = con.execute(f"SELECT count(*) FROM {quote(self.name)}").fetchone()
        return int(row[0])


class _Edit:
    """The context manager of :meth:`Collection.edit` (a class: it runs per write)."""

    __slots__ = ("coll", "doc_id", "entry", "ident", "txn", "whole", "writer")

    def __init__(self, coll: Collection, doc_id: str) -> None:
        self.coll = coll
        self.doc_id = doc_id
        self.writer = coll._writer

    def __enter__(self) -> Doc[Any]:
        coll = self.coll
        writer = self.writer
        writer.check_failed()
        self.doc_id = doc_id = check_id(self.doc_id)
        self.ident = ident = (coll.name, doc_id)
        editing = writer.cache.editing
        if ident in editing:
            raise DocumentBusyError(
                f"document {doc_id!r} is already open in an edit block; finish that first"
            )
        recorded = writer.recorded(ident)
        if recorded is not None and not recorded.updates:
            entry = recorded  # written in this transaction (what _require would find)
        else:
            entry = coll._require(doc_id, keep=True, raw=True)
        self.entry = entry
        if not entry.undeleted and is_deleted(entry.doc, entry.roots):
            raise DocumentDeletedError(
                f"document {doc_id!r} of {coll.name!r} was deleted; create a new one"
            )
        # A document created in this write transaction and not written out yet goes
        # unobserved: its update is then its whole state (see CachedDoc.observer).
        self.whole = whole = entry.observer is None and recorded is not None
        if whole:
            entry.settle()  # what to go back to if this block fails
        else:
            entry.observe()
        editing.add(ident)
        self.txn = txn = entry.doc.transaction()
        try:
            txn.__enter__()
        except BaseException:
            editing.discard(ident)
            raise
        return entry.doc

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        entry = self.entry
        writer = self.writer
        ident = self.ident
        ok = False
        try:
            if exc_type is None:
                try:
                    times = {"updated_at": time.time()}
                    if entry.stage is DEFERRED:  # create() deferred its transaction
                        times["created_at"] = entry.born_at
                    write_map(entry.doc, RESERVED_ROOT, times)
                except BaseException as error:
                    self.txn.__exit__(type(error), error, error.__traceback__)
                    raise
                self.txn.__exit__(None, None, None)
                ok = True
                if entry.stage is DEFERRED:
                    entry.stage = MINTED  # the creation is in this edit's update
            else:
                self.txn.__exit__(exc_type, exc, tb)
        finally:
            writer.cache.editing.discard(ident)
            if not ok:  # nothing of the block is kept (pycrdt cannot roll back)
                entry.updates.clear()
                writer.forget(ident)
        if not ok:
            return
        if self.whole:
            # Recorded in this very frame (a new frame writes out every recorded document
            # first): only the update changes, to the Doc's whole state.
            writer.persist_whole(ident, entry)
            return
        update = entry.take()
        if update is not None:
            writer.persist(self.coll.schema, self.doc_id, entry, update, None)
