"""The store's LRU of cached documents, and loading a document from SQLite."""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from typing import Any

from ..crdt import Doc, merge_updates
from ..crdt._fast import new_doc
from ._cached import CachedDoc
from ._updates import covers

Ident = tuple[str, str]
"""A document's identity: (collection, doc_id)."""


class DocCache:
    """Recently used documents, dropped when another connection writes the database.

    ``editing`` holds the documents open in an edit block: they are never evicted.
    ``epoch`` counts the writes of other connections seen so far (a document loaded
    at an older epoch is rebased before it is written).
    """

    def __init__(self, con: sqlite3.Connection, size: int) -> None:
        self.con = con
        self.size = size
        self.docs: OrderedDict[Ident, CachedDoc] = OrderedDict()
        self.editing: set[Ident] = set()
        self.epoch = 0
        self._data_version = -1

    def sync(self) -> None:
        """Drop cached documents when another connection changed the database."""
        version = self.con.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            if self._data_version != -1:
                self.docs.clear()
                self.epoch += 1
            self._data_version = version

    def clear(self) -> None:
        self.docs.clear()

    def get(self, ident: Ident) -> CachedDoc | None:
        """The cached document (now the most recently used), or None."""
        cached = self.docs.get(ident)
        if cached is not None:
            self.docs.move_to_end(ident)
        return cached

    def evict(self, idents: set[Ident] | Ident) -> None:
        for k in [idents] if isinstance(idents, tuple) else idents:
            self.docs.pop(k, None)

    def remember(self, ident: Ident, cached: CachedDoc) -> None:
        docs = self.docs
        docs[ident] = cached
        docs.move_to_end(ident)
        while len(docs) > self.size:
            for k in docs:
                if k not in self.editing:
                    del docs[k]
                    break
            else:
                break

    def fetch(self, ident: Ident, *, keep: bool) -> tuple[CachedDoc | None, bool]:
        """(the document, loaded from SQLite just now); (None, False) when it has no row.

        A cached Doc changed outside an edit block (its observer collected updates) is
        dropped and loaded again. ``keep``: a loaded document enters the cache.
        """
        cached = self.get(ident)
        if cached is not None and cached.updates:
            self.evict(ident)
            cached = None
        if cached is not None:
            return cached, False
        key = self.key_of(*ident)
        if key is None:
            return None, False
        cached = self.load(key)
        if keep:
            self.remember(ident, cached)
        return cached, True

    def rolled_back(self) -> None:
        """After ROLLBACK TO a savepoint: rows and tombstones are read again when needed."""
        for cached in self.docs.values():
            cached.row = None
            row = self.con.execute(
                "SELECT deleted FROM _yloft_docs WHERE key = ?", (cached.key,)
            ).fetchone()
            cached.deleted = bool(row[0]) if row else False

    def key_of(self, collection: str, doc_id: str) -> int | None:
        """The document's ``_yloft_docs`` key, or None when it has no row."""
        row = self.con.execute(
            "SELECT key FROM _yloft_docs WHERE collection = ? AND id = ?", (collection, doc_id)
        ).fetchone()
        return None if row is None else int(row[0])

    def load(self, key: int, extra: bytes | None = None) -> CachedDoc:
        """Build document ``key`` from its snapshot, its log and ``extra``.

        All parts are merged into one update and applied once, so structs integrate
        in clock order whatever order they arrived in.
        """
        con = self.con
        snapshot, snap_seq, deleted = con.execute(
            "SELECT snapshot, snap_seq, deleted FROM _yloft_docs WHERE key = ?", (key,)
        ).fetchone()
        log = [
            data
            for (data,) in con.execute(
                "SELECT data FROM _yloft_updates WHERE doc = ? AND seq > ? ORDER BY seq",
                (key, snap_seq),
            )
        ]
        parts: list[bytes] = ([] if snapshot is None else [snapshot]) + log
        if extra is not None:
            parts.append(extra)
        doc: Doc[Any] = new_doc()
        if not parts:
            cached = CachedDoc(key, doc, epoch=self.epoch)
            cached.deleted = bool(deleted)
            return cached
        merged = parts[0] if len(parts) == 1 else merge_updates(*parts)
        doc.apply_update(merged)
        cached = CachedDoc(key, doc, not covers(doc.get_state(), merged), self.epoch)
        cached.deleted = bool(deleted)
        cached.log_count = len(log)
        cached.log_bytes = sum(len(d) for d in log)
        cached.updates.clear()
        return cached
