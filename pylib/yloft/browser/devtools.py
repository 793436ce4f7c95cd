"""What the devtools panel (``web/devtools/``) reads of the engine, and its one write.

The panel asks the engine through ``db.request("devtools", [action, ...args])``; the
:class:`~yloft.browser.engine.Engine` answers only when the app enabled devtools
(``connect({devtools: true})``, or a bundle built by ``yloft serve``) and raises
:class:`DevtoolsDisabledError` otherwise. Every action but :meth:`Devtools.compact` only
reads, through ``Store.query``, whose SQLite authorizer refuses any statement that would
write: the SQL console (:meth:`Devtools.sql`) is read-only in the engine itself, not only
in the panel.

Example:
    >>> from yloft import Field, Store
    >>> store = Store(":memory:")
    >>> notes = store.collection("notes", {"title": Field("title", str, fts=True)})
    >>> tools = Devtools(store)
    >>> [(c["name"], c["rows"]) for c in tools.collections()]
    [('notes', 0)]
    >>> tools.sql("DELETE FROM notes")
    Traceback (most recent call last):
    ...
    yloft.errors.ReadOnlyQueryError: the devtools SQL console only reads: query refused: ...
    >>> store.close()
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import QueryError, ReadOnlyQueryError, YloftError
from ..schema import quote
from ..store import Store
from .documents import PageDocs

PAGE_MAX = 500
"""The most rows one page of a table view, or one SQL console result, carries."""


class DevtoolsDisabledError(YloftError):
    """The app did not enable devtools: pass ``connect({devtools: true})`` (or run it with
    ``yloft serve``) to inspect its engine."""


class Devtools:
    """The engine's introspection calls over one store (see the module docstring)."""

    ACTIONS = frozenset(
        {
            "collections",
            "rows",
            "sql",
            "document",
            "open_documents",
            "feed",
            "relay_outbox",
            "compact",
        }
    )

    def __init__(self, store: Store, docs: PageDocs | None = None) -> None:
        self.store = store
        self.docs = docs

    def open_documents(self) -> list[dict[str, Any]]:
        """The documents pages hold open (``db.doc()``) in any tab: ``{collection, id,
        links}`` (``links``: how many providers, the panel's own included)."""
        if self.docs is None:
            return []
        return [{"collection": c, "id": d, "links": n} for c, d, n in self.docs.open_documents()]

    def run(self, action: str, args: list[Any]) -> Any:
        """Dispatch one panel request ``action(*args)``."""
        if action not in self.ACTIONS:
            raise QueryError(
                f"unknown devtools action {action!r}: use one of {sorted(self.ACTIONS)}"
            )
        return getattr(self, action)(*args)

    def collections(self) -> list[dict[str, Any]]:
        """Every declared collection: ``{name, rows, columns, fts}``."""
        out = []
        for name in self.store.collections():
            schema = self.store.collection(name).schema
            count = self.store.query(f"SELECT count(*) AS n FROM {quote(name)}")[0]["n"]
            out.append(
                {
                    "name": name,
                    "rows": int(count),
                    "columns": list(schema.columns()),
                    "fts": bool(schema.fts_fields),
                }
            )
        return out

    def rows(
        self, collection: str, offset: int = 0, limit: int = 25, search: str = ""
    ) -> dict[str, Any]:
        """One page of a collection's extracted columns, or of its full-text matches.

        ``search`` is what a person types: each word is matched as a prefix ("mil" finds
        "milk"), FTS5 operators are not interpreted. Returns ``{columns, rows, total,
        offset}``.
        """
        schema = self.store.collection(collection).schema
        offset, limit = max(int(offset), 0), min(max(int(limit), 1), PAGE_MAX)
        cols = ", ".join(f"c.{quote(c)}" for c in schema.columns())
        table = f"{quote(collection)} c"
        where, params, order = "", [], "c.rowid"
        words = [w for w in str(search).replace('"', " ").split() if w]
        if words:
            if not schema.fts_fields:
                raise QueryError(
                    f"collection {collection!r} has no full-text fields to search; "
                    "declare one with Field(..., str, fts=True)"
                )
            fts = quote(schema.fts_table)
            table += f" JOIN {fts} ON c.rowid = {fts}.rowid"
            where = f" WHERE {fts} MATCH ?"
            params = [" ".join(f'"{w}"*' for w in words)]
            order = f"{fts}.rank"
        total = self.store.query(f"SELECT count(*) AS n FROM {table}{where}", params)[0]["n"]
        rows = self.store.query(
            f"SELECT {cols} FROM {table}{where} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return {
            "columns": list(schema.columns()),
            "rows": rows,
            "total": int(total),
            "offset": offset,
        }

    def sql(self, sql: str, limit: int = PAGE_MAX) -> dict[str, Any]:
        """Run one read-only statement: ``{columns, rows, truncated}``.

        Raises:
            ReadOnlyQueryError: the statement would write (SQLite's authorizer refused it).
            QueryError: it failed otherwise.
        """
        if not isinstance(sql, str) or not sql.strip():
            raise QueryError("the SQL console got no statement: type a SELECT")
        try:
            rows = self.store.query(sql)
        except ReadOnlyQueryError as exc:
            raise ReadOnlyQueryError(f"the devtools SQL console only reads: {exc}") from None
        limit = min(max(int(limit), 1), PAGE_MAX)
        columns = list(rows[0]) if rows else []
        return {"columns": columns, "rows": rows[:limit], "truncated": len(rows)}

    def document(self, collection: str, doc_id: str) -> dict[str, Any]:
        """One document's storage: ``{size, snapshot, snap_seq, deleted, log}``.

        ``size`` is its whole state as one Yjs update; ``log`` lists its update log,
        oldest first, as ``{seq, origin, size, folded}`` (``folded``: the snapshot holds
        it already; the row stays for the change feed until trimmed).
        """
        found = self.store.query(
            "SELECT key, length(snapshot) AS snapshot, snap_seq, deleted FROM _yloft_docs"
            " WHERE collection = ? AND id = ?",
            [collection, doc_id],
        )
        state = self.store.get_update(collection, doc_id)  # raises for an unknown document
        doc = found[0]
        log = self.store.query(
            "SELECT seq, origin, length(data) AS size FROM _yloft_updates WHERE doc = ?"
            " ORDER BY seq",
            [doc["key"]],
        )
        snap_seq = int(doc["snap_seq"])
        return {
            "collection": collection,
            "id": doc_id,
            "size": len(state),
            "snapshot": int(doc["snapshot"] or 0),
            "snap_seq": snap_seq,
            "deleted": bool(doc["deleted"]),
            "log": [{**row, "folded": row["seq"] <= snap_seq} for row in log],
        }

    def feed(self, limit: int = 50) -> dict[str, Any]:
        """The change feed, newest first: ``{head, floor, changes: [{seq, collection, id,
        origin, size}]}``."""
        changes = self.store.query(
            "SELECT u.seq, d.collection, d.id, u.origin, length(u.data) AS size"
            " FROM _yloft_updates u JOIN _yloft_docs d ON d.key = u.doc"
            " WHERE u.seq > ? ORDER BY u.seq DESC LIMIT ?",
            [self.store.feed.floor(), min(max(int(limit), 1), PAGE_MAX)],
        )
        return {
            "head": self.store.feed.head(),
            "floor": self.store.feed.floor(),
            "changes": changes,
        }

    def relay_outbox(self, limit: int = 100) -> list[dict[str, Any]]:
        """For each relay space this store syncs: the changes after the position the
        relay acknowledged, as last saved with its cursor (``{space, acked, changes}``)."""
        out = []
        spaces = self.store.query(
            "SELECT key, value FROM _yloft_meta WHERE key LIKE 'sync:relay:%'"
        )
        for row in spaces:
            try:
                acked = int(json.loads(row["value"])["acked"])
            except (ValueError, KeyError, TypeError):
                acked = 0
            pending = self.store.feed.to_send(acked, limit=min(max(int(limit), 1), PAGE_MAX))
            changes = [
                {"seq": seq, "collection": c, "id": d, "size": len(u)} for seq, c, d, u in pending
            ]
            out.append(
                {"space": row["key"][len("sync:relay:") :], "acked": acked, "changes": changes}
            )
        return out

    def compact(self, collection: str, doc_id: str) -> dict[str, Any]:
        """Fold the document's pending updates into its snapshot now (the panel asks for a
        confirmation first); returns :meth:`document` after."""
        self.store.compact(collection, doc_id)
        return self.document(collection, doc_id)


__all__ = ["PAGE_MAX", "Devtools", "DevtoolsDisabledError"]
