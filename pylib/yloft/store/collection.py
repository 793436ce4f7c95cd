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
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from ..crdt import Doc
from ..errors import MalformedUpdateError, QueryError, SchemaError
from ..extract import is_deleted, to_python
from ..schema import CollectionSchema, quote
from ._ids import check_id

if TYPE_CHECKING:
    from ._writer import Opened, Writer


def _as_bytes(data: object, what: str) -> bytes:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise MalformedUpdateError(f"{what} must be bytes (a Yjs v1 {what}), not {type(data).__name__}")


class Collection:
    """Documents of one kind with their extracted columns. See the module docstring."""

    def __init__(self, schema: CollectionSchema, writer: Writer) -> None:
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
        return self._writer.create(self.schema)

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
        return _Edit(self._writer, self.schema, doc_id)

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
        self._writer.check_open()
        doc_id = self._id(doc_id)
        data = _as_bytes(update, "update")
        if origin is not None and not isinstance(origin, str):
            raise SchemaError(f"origin must be a str or None, not {type(origin).__name__}")
        self._writer.apply(self.schema, doc_id, data, origin)

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
        self._writer.delete(self.schema, self._id(doc_id))

    # -- reads ---------------------------------------------------------------------------

    def row(self, doc_id: str) -> dict[str, Any] | None:
        """The document's row (typed values), or None when unknown or deleted."""
        con = self._writer.settled()
        doc_id = self._id(doc_id)
        row = con.execute(f"{self._select} WHERE id = ?", (doc_id,)).fetchone()
        return None if row is None else self._row_dict(row)

    def get(self, doc_id: str) -> Doc[Any]:
        """An independent Doc copy of the document's current state."""
        copy: Doc[Any] = Doc()
        copy.apply_update(self._writer.read(self.name, self._id(doc_id)).get_update())
        return copy

    def get_update(self, doc_id: str, state: bytes | None = None) -> bytes:
        """The document as a Yjs v1 update, diffed against ``state`` (a state vector)."""
        doc = self._writer.read(self.name, self._id(doc_id))
        if state is None:
            return doc.get_update()
        try:
            return doc.get_update(_as_bytes(state, "state vector"))
        except ValueError as exc:
            raise MalformedUpdateError(
                f"state vector is not valid ({exc}); pass bytes from get_state()"
            ) from exc

    def get_state(self, doc_id: str) -> bytes:
        """The document's Yjs state vector."""
        return self._writer.read(self.name, self._id(doc_id)).get_state()

    def deleted(self, doc_id: str) -> bool:
        """True when the document carries a deletion tombstone."""
        return is_deleted(self._writer.read(self.name, self._id(doc_id)))

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

    __slots__ = ("doc_id", "opened", "schema", "writer")

    def __init__(self, writer: Writer, schema: CollectionSchema, doc_id: str) -> None:
        self.writer = writer
        self.schema = schema
        self.doc_id = doc_id

    def __enter__(self) -> Doc[Any]:
        self.opened: Opened = self.writer.open(self.schema, self.doc_id)
        return self.opened.doc

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.writer.commit(self.opened)
        else:
            self.writer.abort(self.opened, exc_type, exc, tb)
