"""The store's write path: transactions, recording writes, and a collection's verbs.

:class:`Writer` is the one owner of writing to the store's SQLite connection. A write
(``edit``, ``apply_update``, ``delete``, ``create``, a migration) runs inside
:meth:`Writer.transaction` — BEGIN IMMEDIATE at the outermost level, a SAVEPOINT
inside it — and *records* each changed document (:meth:`Writer.persist`): its update
waits in memory (``CachedDoc.unsaved``) and the **write-out** (:meth:`Writer.write_recorded`,
``_writeout``) writes the pending documents in batches — log rows, ``_yloft_docs`` rows,
collection rows and FTS entries — before the next read (:meth:`Writer.settled`, the one
"write out before a read" rule) or the COMMIT. A document created and edited in one
``atomic()`` so costs one log row and one extraction.

A Collection uses the Writer through its verbs only: ``create``, ``open`` / ``commit``
/ ``abort`` (an edit block), ``apply``, ``delete``, ``read``, ``settled``, ``check_open``.
Every stage move of a cached document happens on the write path (here and in
``_writeout``), through CachedDoc's transition methods.

After COMMIT the ``on_commit`` hook runs — in the browser the storage layer's flush,
the durability point — then ``after_commit`` (update hooks, live queries).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..crdt import Doc
from ..crdt._fast import new_doc, write_map
from ..errors import (
    DocumentBusyError,
    DocumentDeletedError,
    DocumentNotFoundError,
    DurabilityError,
    MalformedUpdateError,
    StoreClosedError,
    TransactionAbortedError,
)
from ..extract import is_deleted
from ..schema import RESERVED_ROOT, CollectionSchema
from ._cached import DEFERRED, CachedDoc
from ._doccache import DocCache, Ident
from ._ids import check_id, new_id
from ._updates import BAD_UPDATE
from ._writeout import Event, WriteOut

LOG_TABLES = frozenset({"_yloft_docs", "_yloft_updates"})
_MAX_DIRTY = 512


class Frame:
    """One level of the transaction stack: what it touched and what to announce."""

    __slots__ = ("events", "touched", "written")

    def __init__(self) -> None:
        self.touched: set[Ident] = set()
        self.events: list[Event] = []
        self.written: set[str] = set()

    def merge(self, child: Frame) -> None:
        self.touched |= child.touched
        self.events += child.events
        self.written |= child.written


class Opened:
    """A document open in an edit block, inside its CRDT transaction (:meth:`Writer.open`)."""

    __slots__ = ("doc", "doc_id", "entry", "ident", "schema", "txn", "whole")
    doc: Doc[Any]
    doc_id: str
    entry: CachedDoc
    ident: Ident
    schema: CollectionSchema
    txn: Any
    whole: bool


class Writer:
    """Owns the write transaction, the documents recorded in it, and their write-out.

    Args:
        con: the store's connection (manual transactions).
        cache: the store's document cache.
        out: the write-out of the same connection and cache.
        on_commit: the durability hook, called after each COMMIT.
        after_commit: called with the committed outermost frame (hooks, live queries).
    """

    def __init__(
        self,
        con: sqlite3.Connection,
        cache: DocCache,
        out: WriteOut,
        on_commit: Callable[[], object] | None,
        after_commit: Callable[[Frame], None],
    ) -> None:
        self.con = con
        self.cache = cache
        self.out = out
        self.on_commit = on_commit
        self.after_commit = after_commit
        self.closed = False
        self.frames: list[Frame] = []
        # Documents recorded in the open transaction whose updates, row and FTS entry
        # are not in SQLite yet (see persist and write_recorded), oldest first.
        self.dirty: dict[Ident, tuple[CollectionSchema, CachedDoc]] = {}
        # A failed write-out poisons the open transaction: (error, frame depth).
        self.failed: tuple[BaseException, int] | None = None
        self._tables_of: dict[CollectionSchema, frozenset[str]] = {}

    def check_open(self) -> None:
        if self.closed:
            raise StoreClosedError("this Store is closed; open a new Store(path)")

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if not self.closed:
            self.closed = True
            self.cache.clear()
            self.con.close()

    def settled(self) -> sqlite3.Connection:
        """The connection, once every write of the open transaction is in SQLite.

        THE "write out before a read" rule: every read of SQLite goes through here.
        """
        self.check_open()
        if self.dirty:
            self.write_recorded()
        return self.con

    # -- transactions ---------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        """True inside :meth:`transaction`."""
        return bool(self.frames)

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
            self.cache.rolled_back()  # also rows written by migrations
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

    # -- a collection's verbs ---------------------------------------------------------

    def create(self, schema: CollectionSchema) -> str:
        """Record a new empty document of ``schema``'s collection; its id.

        The creation transaction is deferred: an edit() in the same write transaction
        carries it (one CRDT transaction, one log row), otherwise the write-out before
        the next read or the COMMIT runs it alone.
        """
        self.check_open()
        doc_id = new_id()
        cached = CachedDoc.created(new_doc(), time.time())
        if not self.frames:
            with self.transaction():
                self._record(schema, (schema.name, doc_id), cached)
        else:
            self.check_failed()
            self._record(schema, (schema.name, doc_id), cached)
        return doc_id

    def open(self, schema: CollectionSchema, doc_id: object) -> Opened:
        """Open a document for an edit block: ONE CRDT transaction until commit or abort."""
        self.check_failed()
        it = Opened()
        it.schema, it.doc_id = schema, check_id(doc_id)
        it.ident = ident = (schema.name, it.doc_id)
        self._not_editing(ident, "already open in an edit block; finish that first")
        recorded = self.recorded(ident)
        if recorded is not None and not recorded.updates:
            entry = recorded  # written in this transaction (what _require would find)
        else:
            entry = self._require(*ident, keep=True, raw=True)
        if not entry.undeleted and is_deleted(entry.doc, entry.roots):
            raise DocumentDeletedError(
                f"document {it.doc_id!r} of {schema.name!r} was deleted; create a new one"
            )
        # A document created in this write transaction and not written out yet goes
        # unobserved: its update is then its whole state (see CachedDoc.observer).
        it.whole = entry.observer is None and recorded is not None
        if it.whole:
            entry.settle()  # what to go back to if this block fails
        else:
            entry.observe()
        it.entry, it.doc = entry, entry.doc
        self.cache.editing.add(ident)
        it.txn = txn = entry.doc.transaction()
        try:
            txn.__enter__()
        except BaseException:
            self.cache.editing.discard(ident)
            raise
        return it

    def commit(self, it: Opened) -> None:
        """An edit block ran to its end: timestamps in its transaction, then its update."""
        entry = it.entry
        try:
            try:
                entry.stamp(time.time())
            except BaseException as error:
                it.txn.__exit__(type(error), error, error.__traceback__)
                raise
            it.txn.__exit__(None, None, None)
        except BaseException:
            self._drop(it)
            raise
        self.cache.editing.discard(it.ident)
        entry.carried_birth()  # the creation is in this edit's update
        if it.whole:
            # Recorded in this very frame (a new frame writes out every recorded document
            # first): only the update changes, to the Doc's whole state.
            if self.failed is not None:
                self.forget(it.ident)
                self.check_failed()
            entry.changed_whole()
            return
        update = entry.take()
        if update is not None:
            self.persist(it.schema, it.doc_id, entry, update, None)

    def abort(self, it: Opened, exc_type: Any, exc: Any, tb: Any) -> None:
        """An edit block raised: nothing of it is kept (pycrdt cannot roll back)."""
        try:
            it.txn.__exit__(exc_type, exc, tb)
        finally:
            self._drop(it)

    def _drop(self, it: Opened) -> None:
        self.cache.editing.discard(it.ident)
        it.entry.updates.clear()
        self.forget(it.ident)

    def apply(self, schema: CollectionSchema, doc_id: str, data: bytes, origin: str | None) -> None:
        """Merge a peer's update (checked bytes) into a document; creates it if unknown."""
        name = schema.name
        ident = (name, doc_id)
        self._not_editing(ident, "open in an edit block; apply updates after it")
        entry = self.find(name, doc_id, keep=True)
        if entry is not None and entry.incomplete and ident in self.dirty:
            self.write_recorded()  # an incomplete Doc is rebuilt from SQLite (below)
            entry = self.find(name, doc_id, keep=True)
        if entry is None:
            entry = CachedDoc(None, new_doc())
        # A Doc holding structs that wait for dependencies is rebuilt, not patched
        # (see CachedDoc.incomplete); the bytes are then checked on a scratch Doc first.
        rebuild = entry.incomplete and entry.key is not None
        try:
            (Doc() if rebuild else entry.doc).apply_update(data)
        except BaseException as exc:  # the Doc may hold part of it: SQLite holds the truth
            entry.updates.clear()
            self.forget(ident)
            if isinstance(exc, BAD_UPDATE):
                raise MalformedUpdateError(
                    f"update for {name}/{doc_id} is not a valid Yjs v1 update ({exc}); "
                    "pass bytes from get_update()/Doc.get_update() or a Yjs peer"
                ) from exc
            raise
        if rebuild and entry.key is not None:
            entry = self.cache.load(entry.key, data)
            self.cache.remember(ident, entry)
            self.persist(schema, doc_id, entry, data, origin)
            return
        update = entry.applied(data)
        if update is not None:  # None: a re-delivery, nothing new
            self.persist(schema, doc_id, entry, update, origin)

    def delete(self, schema: CollectionSchema, doc_id: str) -> None:
        """Write a tombstone into the document (nothing when it has one)."""
        self._not_editing((schema.name, doc_id), "open in an edit block; delete it after the block")
        entry = self._require(schema.name, doc_id, keep=True)
        if is_deleted(entry.doc):
            return
        write_map(entry.doc, RESERVED_ROOT, {"deleted": True, "updated_at": time.time()})
        update = entry.take()
        assert update is not None
        self.persist(schema, doc_id, entry, update, None)

    def read(self, collection: str, doc_id: str) -> Doc[Any]:
        """The document's Doc as it stands (read it, do not change it)."""
        return self._require(collection, doc_id, keep=False).doc

    # -- finding documents ------------------------------------------------------------

    def _not_editing(self, ident: Ident, what: str) -> None:
        if ident in self.cache.editing:
            raise DocumentBusyError(f"document {ident[1]!r} is {what}")

    def _require(self, collection: str, doc_id: str, *, keep: bool, raw: bool = False) -> CachedDoc:
        entry = self.find(collection, doc_id, keep=keep, raw=raw)
        if entry is None:
            raise DocumentNotFoundError(
                f"collection {collection!r} has no document {doc_id!r}; create() it or "
                "apply_update() a peer's update first"
            )
        return entry

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
        cached, loaded = cache.fetch(ident, keep=keep)
        if cached is not None and not raw and not loaded:
            cached.observe()
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
        fresh = self.out.rebuilt(cached)
        self.dirty[ident] = (schema, fresh)
        self.cache.remember(ident, fresh)

    # -- the write-out ---------------------------------------------------------------

    def write_recorded(self, keep: int = 0) -> None:
        """Write the recorded documents of the open transaction to SQLite (``_writeout``).

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
            self.out.write(batch, self.frames[-1].events)
        except BaseException as exc:
            self.failed = (exc, len(self.frames))
            self.cache.evict({ident for _, ident, _ in batch})
            raise
