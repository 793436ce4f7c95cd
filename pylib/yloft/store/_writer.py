"""The store's write path: transactions, recording writes, the write-out, compaction.

:class:`Writer` is the one owner of writing to the store's SQLite connection. A write
(``edit``, ``apply_update``, ``delete``, ``create``, a migration) runs inside
:meth:`Writer.transaction` — BEGIN IMMEDIATE at the outermost level, a SAVEPOINT
inside it — and *records* each changed document (:meth:`Writer.persist`): its update
waits in memory (``CachedDoc.unsaved``) and the **write-out** (:meth:`Writer.write_recorded`)
writes the pending documents in batches — log rows, ``_yloft_docs`` rows, collection
rows and FTS entries — before the next read (:meth:`Writer.settled`, the one "write out
before a read" rule) or the COMMIT. A document created and edited in one ``atomic()``
so costs one log row and one extraction.

After COMMIT the ``on_commit`` hook runs — in the browser the storage layer's flush,
the durability point — then ``after_commit`` (update hooks, live queries).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..crdt import merge_updates
from ..crdt._fast import new_doc, whole_update
from ..errors import DurabilityError, StoreClosedError, TransactionAbortedError
from ..extract import field_values
from ..schema import CollectionSchema
from ._cached import CREATED, DEFERRED, STORED, WHOLE, CachedDoc
from ._compaction import compact
from ._doccache import DocCache, Ident
from ._rows import RowSQL, sync_row
from ._updates import covers

LOG_TABLES = frozenset({"_yloft_docs", "_yloft_updates"})
_MAX_DIRTY = 512
#: How many documents of a written-out batch enter the cache (a bulk import keeps only
#: its newest few; each insertion into the LRU costs).
_BATCH_CACHED = 32


class Frame:
    """One level of the transaction stack: what it touched and what to announce."""

    __slots__ = ("events", "touched", "written")

    def __init__(self) -> None:
        self.touched: set[Ident] = set()
        self.events: list[tuple[str, str, bytes, str | None]] = []
        self.written: set[str] = set()

    def merge(self, child: Frame) -> None:
        self.touched |= child.touched
        self.events += child.events
        self.written |= child.written


class Writer:
    """Owns the write transaction, the documents recorded in it, and their write-out.

    Args:
        con: the store's connection (manual transactions).
        cache: the store's document cache.
        on_commit: the durability hook, called after each COMMIT.
        after_commit: called with the committed outermost frame (hooks, live queries).
    """

    def __init__(
        self,
        con: sqlite3.Connection,
        cache: DocCache,
        on_commit: Callable[[], object] | None,
        after_commit: Callable[[Frame], None],
    ) -> None:
        self.con = con
        self.cache = cache
        self.on_commit = on_commit
        self.after_commit = after_commit
        #: Compaction limits: log rows since the snapshot, and their bytes.
        self.max_log_entries = 200
        self.max_log_bytes = 256 * 1024
        self.closed = False
        self.frames: list[Frame] = []
        # Documents recorded in the open transaction whose updates, row and FTS entry
        # are not in SQLite yet (see persist and write_recorded), oldest first.
        self.dirty: dict[Ident, tuple[CollectionSchema, CachedDoc]] = {}
        # A failed write-out poisons the open transaction: (error, frame depth).
        self.failed: tuple[BaseException, int] | None = None
        self._row_sqls: dict[CollectionSchema, RowSQL] = {}
        self._tables_of: dict[CollectionSchema, frozenset[str]] = {}

    def check_open(self) -> None:
        if self.closed:
            raise StoreClosedError("this Store is closed; open a new Store(path)")

    def settled(self) -> sqlite3.Connection:
        """The connection, once every write of the open transaction is in SQLite.

        THE "write out before a read" rule: every read of SQLite goes through here.
        """
        self.check_open()
        if self.dirty:
            self.write_recorded()
        return self.con

    # -- transactions ---------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Frame]:
        """BEGIN IMMEDIATE … COMMIT at the outermost level, a SAVEPOINT inside."""
        self.check_open()
        con = self.con
        frame = Frame()
        if not self.frames:
            con.execute("BEGIN IMMEDIATE")
            self.cache.sync()
            self.frames.append(frame)
            try:
                yield frame
                self.write_recorded()
                self.frames.pop()
                con.execute("COMMIT")
            except BaseException:
                self.cache.evict(set(self.dirty))
                self.dirty.clear()
                self.failed = None
                if self.frames and self.frames[-1] is frame:
                    self.frames.pop()
                if con.in_transaction:
                    con.execute("ROLLBACK")
                self.cache.evict(frame.touched)
                raise
            self._durable()
            self.after_commit(frame)
            return
        # A savepoint starts with every earlier write in SQLite, so rolling it back
        # leaves exactly the outer transaction's writes.
        self.write_recorded()
        depth = len(self.frames) + 1
        name = f"yloft_{depth - 1}"
        con.execute(f"SAVEPOINT {name}")
        self.frames.append(frame)
        try:
            yield frame
        except BaseException:
            self.frames.pop()
            con.execute(f"ROLLBACK TO {name}")
            con.execute(f"RELEASE {name}")
            # Every recorded document was changed inside the savepoint: drop it.
            self.cache.evict(frame.touched | set(self.dirty))
            self.dirty.clear()
            if self.failed is not None and self.failed[1] >= depth:
                self.failed = None  # the failed writes were inside the savepoint
            # Rows written inside the savepoint (also by migrations) were rolled back.
            for cached in self.cache.docs.values():
                cached.row = None
                row = con.execute(
                    "SELECT deleted FROM _yloft_docs WHERE key = ?", (cached.key,)
                ).fetchone()
                cached.deleted = bool(row[0]) if row else False
            raise
        self.frames.pop()
        con.execute(f"RELEASE {name}")
        self.frames[-1].merge(frame)

    def _durable(self) -> None:
        """The durability point: the storage's hook, once per COMMIT."""
        if self.on_commit is not None:
            try:
                self.on_commit()
            except Exception as exc:
                raise DurabilityError(
                    "the transaction was committed but the on_commit hook failed, so it "
                    f"may not be durable: {exc!r}; check the storage adapter"
                ) from exc

    def check_failed(self) -> None:
        if self.failed is not None:
            exc = self.failed[0]
            raise TransactionAbortedError(
                f"an earlier write of this atomic() block failed ({exc!r}); leave the "
                "block (its transaction is rolled back) and retry it"
            ) from exc

    # -- finding documents ------------------------------------------------------------

    def recorded(self, ident: Ident) -> CachedDoc | None:
        """The document as recorded in the open transaction (not written out yet), or None."""
        known = self.dirty.get(ident)
        return None if known is None else known[1]

    def find(
        self, collection: str, doc_id: str, *, keep: bool, raw: bool = False
    ) -> CachedDoc | None:
        """The cached document (loading it), or None when unknown.

        A ``create()``d document whose creation transaction is still deferred gets it
        run first, unless ``raw`` (``edit()`` runs it inside its own transaction).
        """
        cache = self.cache
        if not self.frames:
            cache.sync()
        ident = (collection, doc_id)
        if ident in self.dirty:
            if self.dirty[ident][1].updates:  # changed outside an edit block: drop that
                self.forget(ident)
            dirty = self.dirty[ident][1]
            if not raw:
                if dirty.stage is DEFERRED:
                    dirty.unsaved.append((dirty.be_born(), None))
                dirty.observe()
            return dirty
        cached = cache.get(ident)
        if cached is not None and cached.updates:
            # The cached Doc was changed outside an edit block: reload from disk.
            cache.evict(ident)
            cached = None
        if cached is not None:
            if not raw:
                cached.observe()
            return cached
        key = cache.key_of(collection, doc_id)
        if key is None:
            return None
        cached = cache.load(key)
        if keep:
            cache.remember(ident, cached)
        return cached

    # -- recording writes -------------------------------------------------------------

    def persist(
        self,
        schema: CollectionSchema,
        doc_id: str,
        cached: CachedDoc,
        update: bytes,
        origin: str | None,
    ) -> None:
        """Record ``update`` (already in ``cached.doc``) as a write of this transaction.

        Outside a transaction this opens one and commits it.
        """
        if not self.frames:
            with self.transaction():
                self.persist(schema, doc_id, cached, update, origin)
            return
        ident = (schema.name, doc_id)
        if self.failed is not None:
            self.forget(ident)  # the Doc holds the refused change: drop it
            self.check_failed()
        if cached.key is not None and cached.epoch != self.cache.epoch:
            # Another connection wrote since this Doc was loaded: rebase onto the
            # stored state (an incomplete Doc cannot be stale: its epoch is this one's).
            cached = self.cache.load(cached.key, update)
            self.cache.evict(ident)
        cached.unsaved.append((update, origin))
        self._record(schema, ident, cached)

    def persist_new(self, schema: CollectionSchema, doc_id: str, cached: CachedDoc) -> None:
        """Record a ``create()``d document whose creation transaction is deferred."""
        if not self.frames:
            with self.transaction():
                self.persist_new(schema, doc_id, cached)
            return
        self.check_failed()
        self._record(schema, (schema.name, doc_id), cached)

    def persist_whole(self, ident: Ident, cached: CachedDoc) -> None:
        """An unobserved document recorded in this very frame changed (edit's exit)."""
        if self.failed is not None:
            self.forget(ident)
            self.check_failed()
        cached.changed_whole()

    def _record(self, schema: CollectionSchema, ident: Ident, cached: CachedDoc) -> None:
        """Mark a document as written in the open transaction (written out later)."""
        dirty = self.dirty
        known = dirty.get(ident)
        if known is None or known[1] is not cached:
            dirty[ident] = (schema, cached)
        frame = self.frames[-1]
        frame.touched.add(ident)
        tables = self._tables_of.get(schema)
        if tables is None:
            tables = self._tables_of[schema] = frozenset(schema.tables() | LOG_TABLES)
        frame.written |= tables
        if len(dirty) > _MAX_DIRTY:
            self.write_recorded(_MAX_DIRTY // 2)

    def forget(self, ident: Ident) -> None:
        """Drop changes made to a document in memory that were not recorded.

        The document is reloaded from SQLite; one with recorded but unsaved updates
        is rebuilt from SQLite plus those.
        """
        known = self.dirty.get(ident)
        if known is None:
            self.cache.evict(ident)
            return
        schema, cached = known
        fresh = self._rebuilt(cached)
        self.dirty[ident] = (schema, fresh)
        self.cache.remember(ident, fresh)

    def _rebuilt(self, cached: CachedDoc) -> CachedDoc:
        """``cached`` rebuilt from SQLite plus its recorded (unsaved) updates only."""
        cached.settle()
        extra = _merged([u for u, _ in cached.unsaved]) if cached.unsaved else None
        if cached.key is not None:
            fresh = self.cache.load(cached.key, extra)
        else:
            fresh = CachedDoc(None, new_doc(), epoch=self.cache.epoch)
            fresh.stage = cached.stage
            if extra is not None:
                fresh.doc.apply_update(extra)
                fresh.incomplete = not covers(fresh.doc.get_state(), extra)
                fresh.updates.clear()
        fresh.unsaved = cached.unsaved
        fresh.born_at = cached.born_at
        fresh.undeleted = cached.stage is DEFERRED  # still empty: no tombstone
        return fresh

    # -- the write-out ---------------------------------------------------------------

    def write_recorded(self, keep: int = 0) -> None:
        """Write the recorded documents of the open transaction to SQLite.

        Oldest first (rows go in in rowid order, which keeps B-tree pages full) until
        at most ``keep`` remain recorded, in batches (one ``executemany`` per kind of
        row). A failure poisons the transaction: its later writes raise
        :class:`TransactionAbortedError` and it rolls back at the end.
        """
        dirty = self.dirty
        if len(dirty) <= keep:
            return
        self.check_failed()
        # Taken in one go: popping a dict's oldest items one by one costs a scan over
        # the holes left by earlier pops each time.
        items = list(dirty.items())
        cut = len(items) - keep
        batch = [(schema, ident, cached) for ident, (schema, cached) in items[:cut]]
        dirty.clear()
        dirty.update(items[cut:])
        try:
            self._write_batch(batch)
        except BaseException as exc:
            self.failed = (exc, len(self.frames))
            self.cache.evict({ident for _, ident, _ in batch})
            raise

    def _write_batch(self, batch: list[tuple[CollectionSchema, Ident, CachedDoc]]) -> None:
        """Append the documents' recorded updates to the log; rows and FTS in step."""
        con = self.con
        docs: list[tuple[CollectionSchema, Ident, CachedDoc, bool]] = []
        top = -1
        replaced: list[Ident] = []  # cached objects to drop
        for schema, ident, cached in batch:
            if cached.updates:  # changed outside an edit block: keep recorded updates only
                cached = self._rebuilt(cached)
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
        self._write_docs(docs)
        # The newest documents enter the cache; an object replaced on the way leaves it.
        self.cache.evict(set(replaced))
        newest = min(self.cache.size, _BATCH_CACHED)
        for _, ident, cached, _ in docs[-newest:] if newest else ():
            self.cache.remember(ident, cached)

    def _write_docs(self, docs: list[tuple[CollectionSchema, Ident, CachedDoc, bool]]) -> None:
        con = self.con
        minted_rows: list[tuple[int, str, str, int]] = []
        log: list[tuple[int, str | None, bytes]] = []
        events = self.frames[-1].events
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
                cached.deleted = deleted
            elif deleted != cached.deleted:
                con.execute("UPDATE _yloft_docs SET deleted = ? WHERE key = ?", (int(deleted), key))
                cached.deleted = deleted
            cached.stage = STORED
            sql = self.row_sql(schema)
            row = () if deleted else (ident[1], *values, created, updated)
            if cached.row == () and row:
                cached.row = row
                inserts.setdefault(sql, []).append((key, *row))
            else:
                cached.row = sync_row(con, sql, key, row, cached.row)
            # The Doc was just read whole: the next edit() need not look for a
            # tombstone unless the Doc changes first (CachedDoc.take() clears this).
            cached.undeleted = not deleted
            cached.epoch = epoch  # in step with the database as of this write
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
            fresh = self.cache.load(found, _merged([u for u, _ in cached.unsaved]))
            fresh.unsaved = cached.unsaved
            return fresh, False

    def row_sql(self, schema: CollectionSchema) -> RowSQL:
        sql = self._row_sqls.get(schema)
        if sql is None:
            sql = self._row_sqls[schema] = RowSQL(schema)
        return sql


def _merged(updates: list[bytes]) -> bytes:
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
            rows.append((_merged(run), origin))
            run = []
    return rows
