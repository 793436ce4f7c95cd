"""The write-out: the recorded documents of a transaction, written to SQLite in batches.

The :class:`~yloft.store._writer.Writer` records each write in memory (the document's
``unsaved`` updates); :meth:`WriteOut.write` moves a batch of such documents into
SQLite inside the open transaction: one ``executemany`` per kind of row — log rows in
``_yloft_updates``, ``_yloft_docs`` rows of new documents, collection rows and their FTS
entries — then compaction of the documents whose log went over the limits.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..crdt import merge_updates
from ..crdt._fast import new_doc, whole_update
from ..extract import field_values
from ..schema import CollectionSchema
from ._cached import CREATED, DEFERRED, WHOLE, CachedDoc
from ._compaction import compact
from ._doccache import DocCache, Ident
from ._rows import RowSQL, sync_row
from ._updates import covers

#: How many documents of a written-out batch enter the cache (a bulk import keeps only
#: its newest few; each insertion into the LRU costs).
_BATCH_CACHED = 32

Event = tuple[str, str, bytes, "str | None"]
"""A log row written, as ``on_update`` hooks get it: (collection, doc_id, update, origin)."""


class WriteOut:
    """Writes recorded documents to SQLite (one owner per store: the Writer's).

    Args:
        con: the store's connection, inside a write transaction.
        cache: the store's document cache.
    """

    def __init__(self, con: sqlite3.Connection, cache: DocCache) -> None:
        self.con = con
        self.cache = cache
        #: Compaction limits: log rows since the snapshot, and their bytes.
        self.max_log_entries = 200
        self.max_log_bytes = 256 * 1024
        self._row_sqls: dict[CollectionSchema, RowSQL] = {}

    def rebuilt(self, cached: CachedDoc) -> CachedDoc:
        """``cached`` rebuilt from SQLite plus its recorded (unsaved) updates only."""
        cached.settle()
        extra = merged([u for u, _ in cached.unsaved]) if cached.unsaved else None
        if cached.key is not None:
            fresh = self.cache.load(cached.key, extra)
        else:
            fresh = CachedDoc(None, new_doc(), epoch=self.cache.epoch)
            if extra is not None:
                fresh.doc.apply_update(extra)
                fresh.incomplete = not covers(fresh.doc.get_state(), extra)
                fresh.updates.clear()
        fresh.inherit(cached)
        return fresh

    def write(
        self, batch: list[tuple[CollectionSchema, Ident, CachedDoc]], events: list[Event]
    ) -> None:
        """Append the documents' recorded updates to the log; rows and FTS in step.

        Each log row written is appended to ``events`` (for the hooks after COMMIT).
        """
        con = self.con
        docs: list[tuple[CollectionSchema, Ident, CachedDoc, bool]] = []
        top = -1
        replaced: list[Ident] = []  # cached objects to drop
        for schema, ident, cached in batch:
            if cached.updates:  # changed outside an edit block: keep recorded updates only
                cached = self.rebuilt(cached)
                replaced.append(ident)
            if cached.stage is DEFERRED:
                cached.unsaved.append((cached.be_born(), None))
            new = cached.key is None
            if new:
                if cached.stage in CREATED:  # a fresh random id: nobody else can have it
                    if top < 0:
                        top = con.execute(
                            "SELECT coalesce(max(key), 0) FROM _yloft_docs"
                        ).fetchone()[0]
                    top += 1
                    cached.key = top
                else:
                    cached, new = self._insert_doc(ident, cached, top)
                    top = -1 if top < 0 else max(top, cached.key or 0)
                    if not new:
                        replaced.append(ident)
            docs.append((schema, ident, cached, new))
        self._write_docs(docs, events)
        # The newest documents enter the cache; an object replaced on the way leaves it.
        self.cache.evict(set(replaced))
        newest = min(self.cache.size, _BATCH_CACHED)
        for _, ident, cached, _ in docs[-newest:] if newest else ():
            self.cache.remember(ident, cached)

    def _write_docs(
        self, docs: list[tuple[CollectionSchema, Ident, CachedDoc, bool]], events: list[Event]
    ) -> None:
        con = self.con
        minted_rows: list[tuple[int, str, str, int]] = []
        log: list[tuple[int, str | None, bytes]] = []
        inserts: dict[RowSQL, list[tuple[Any, ...]]] = {}
        to_compact: list[CachedDoc] = []
        epoch = self.cache.epoch
        for schema, ident, cached, new in docs:
            key = cached.key
            assert key is not None
            batch_insert = new and cached.stage in CREATED
            for data, origin in _log_rows(cached, new):
                log.append((key, origin, data))
                events.append((ident[0], ident[1], data, origin))
                cached.log_count += 1
                cached.log_bytes += len(data)
            cached.unsaved.clear()
            values, created, updated, deleted = field_values(cached.doc, schema)
            if batch_insert:
                minted_rows.append((key, ident[0], ident[1], 1 if deleted else 0))
            elif deleted != cached.deleted:
                con.execute("UPDATE _yloft_docs SET deleted = ? WHERE key = ?", (int(deleted), key))
            cached.stored(deleted, epoch)
            sql = self.row_sql(schema)
            row = () if deleted else (ident[1], *values, created, updated)
            if cached.row == () and row:
                cached.row = row
                inserts.setdefault(sql, []).append((key, *row))
            else:
                cached.row = sync_row(con, sql, key, row, cached.row)
            if cached.log_count >= self.max_log_entries or cached.log_bytes >= self.max_log_bytes:
                to_compact.append(cached)
        if minted_rows:
            con.executemany(
                "INSERT INTO _yloft_docs (key, collection, id, deleted) VALUES (?, ?, ?, ?)",
                minted_rows,
            )
        con.executemany("INSERT INTO _yloft_updates (doc, origin, data) VALUES (?, ?, ?)", log)
        for sql, rows in inserts.items():
            sql.insert_many(con, rows)
        for cached in to_compact:
            compact(con, cached)

    def _insert_doc(self, ident: Ident, cached: CachedDoc, top: int) -> tuple[CachedDoc, bool]:
        """Give a new document its ``_yloft_docs`` row; (cached, still new).

        ``top`` is the highest key handed out in this batch so far (-1: none).
        """
        try:
            cur = self.con.execute(
                "INSERT INTO _yloft_docs (key, collection, id) VALUES (?, ?, ?)",
                (None if top < 0 else top + 1, *ident),
            )
            cached.key = int(cur.lastrowid or 0)
            return cached, True
        except sqlite3.IntegrityError:  # created meanwhile by another connection
            found = self.cache.key_of(*ident)
            assert found is not None
            fresh = self.cache.load(found, merged([u for u, _ in cached.unsaved]))
            fresh.inherit(cached)
            return fresh, False

    def row_sql(self, schema: CollectionSchema) -> RowSQL:
        sql = self._row_sqls.get(schema)
        if sql is None:
            sql = self._row_sqls[schema] = RowSQL(schema)
        return sql


def merged(updates: list[bytes]) -> bytes:
    """One update equal to ``updates`` applied in any order."""
    return updates[0] if len(updates) == 1 else merge_updates(*updates)


def _log_rows(cached: CachedDoc, new: bool) -> list[tuple[bytes, str | None]]:
    """The log rows of a document's recorded updates: (update, origin) each."""
    if cached.stage is WHOLE:  # a document born in this transaction, unobserved
        return [(whole_update(cached.doc), None)]
    unsaved = cached.unsaved
    if not unsaved:
        return []
    origin = unsaved[0][1]
    if new and not cached.incomplete and all(o == origin for _, o in unsaved):
        # A document born in this transaction: its whole state is the update.
        return [(unsaved[0][0] if len(unsaved) == 1 else cached.doc.get_update(), origin)]
    rows = []  # one log row per run of updates with the same origin
    run: list[bytes] = []
    for i, (update, origin) in enumerate(unsaved):
        run.append(update)
        if i + 1 == len(unsaved) or unsaved[i + 1][1] != origin:
            rows.append((merged(run), origin))
            run = []
    return rows
