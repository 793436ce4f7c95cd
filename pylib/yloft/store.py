"""The Store: Yjs documents in SQLite with extracted, queryable columns.

Every write (edit, apply_update, delete, schema change) runs in one SQLite
transaction that appends the Yjs update to the log, brings the collection's row and
FTS entry in step with the document, records a change-feed entry and, when a
document's log grows past the limits, compacts it into a snapshot. After COMMIT the
``on_commit`` hook runs (durability point), then ``on_update`` hooks, then live
queries.

Example:
    >>> from yloft import Store, Field
    >>> from yloft.crdt import Map
    >>> with Store(":memory:") as store:
    ...     notes = store.collection("notes", {"title": Field("meta.title", str)})
    ...     nid = notes.create()
    ...     with notes.edit(nid) as doc:
    ...         doc.get("meta", type=Map)["title"] = "Buy milk"
    ...     store.query("SELECT title FROM notes", ())
    [{'title': 'Buy milk'}]
"""

from __future__ import annotations

import os
import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from . import _feed, _sql
from ._entry import Entry, Frame, check_id
from ._rows import RowSQL, sync_row
from ._updates import covers
from .collection import Collection
from .crdt import Doc, merge_updates
from .crdt._fast import new_doc, whole_update
from .errors import (
    CallbackError,
    DurabilityError,
    QueryError,
    ReadOnlyQueryError,
    SchemaError,
    StoreClosedError,
    TransactionAbortedError,
    UnknownCollectionError,
)
from .extract import Extracted, extract, field_values
from .live import LiveQueries, Rows, Subscription
from .schema import CollectionSchema, check_collection_name, plan_migration, quote

UpdateHook = Callable[[str, str, bytes, "str | None"], object]
Change = _feed.Change

_READ_TAG = "\n-- yloft:read"
_LOG_TABLES = frozenset({"_yloft_docs", "_yloft_updates"})
_MAX_DIRTY = 512
#: How many documents of a flushed batch enter the cache (a bulk import keeps only
#: its newest few; each insertion into the LRU costs).
_BATCH_CACHED = 32


class Store:
    """A SQLite database of Yjs documents grouped in collections.

    Args:
        path: a file path or ``":memory:"``.
        on_commit: called after every successful COMMIT of a write, before the write
            call returns (the browser flushes its storage here).
        pragmas: SQLite pragmas overriding the defaults (WAL, synchronous=FULL).
        max_log_entries: compact a document once this many updates are pending.
        max_log_bytes: compact a document once its pending updates reach this size.
        cache_size: how many recently used documents to keep in memory (a 1 KB note
            costs a few KB; 256 cover switching between many open documents).

    Example:
        >>> store = Store(":memory:", pragmas={"synchronous": "normal"})
        >>> store.close()
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = ":memory:",
        *,
        on_commit: Callable[[], object] | None = None,
        pragmas: Mapping[str, str | int] | None = None,
        max_log_entries: int = 200,
        max_log_bytes: int = 256 * 1024,
        cache_size: int = 256,
    ) -> None:
        self._con = _sql.connect(os.fspath(path), pragmas)
        self._guard = _sql.ReadGuard()
        self._con.set_authorizer(self._guard)
        self._on_commit = on_commit
        self.max_log_entries = max_log_entries
        self.max_log_bytes = max_log_bytes
        self.cache_size = cache_size
        self._hooks: list[UpdateHook] = []
        self._live = LiveQueries(self._read)
        self._collections: dict[str, Collection] = {}
        self._cache: OrderedDict[tuple[str, str], Entry] = OrderedDict()
        self._editing: set[tuple[str, str]] = set()
        self._frames: list[Frame] = []
        self._row_sqls: dict[CollectionSchema, RowSQL] = {}
        self._tables_of: dict[CollectionSchema, frozenset[str]] = {}
        # Documents changed in the open transaction whose updates, row and FTS entry
        # are not in SQLite yet (see _persist and _flush), oldest first.
        self._dirty: dict[tuple[str, str], tuple[CollectionSchema, Entry]] = {}
        # A failed flush poisons the open transaction: (error, frame depth).
        self._failed: tuple[BaseException, int] | None = None
        self._read_tables: dict[str, frozenset[str]] = {}
        self._closed = False
        self._data_version = -1
        self._epoch = 0
        try:
            self._init_layout()
        except BaseException:
            self.close()
            raise

    def _init_layout(self) -> None:
        with self._write():
            version = self._con.execute("PRAGMA user_version").fetchone()[0]
            if version > _sql.LAYOUT_VERSION:
                raise SchemaError(
                    f"this database uses yloft layout {version}, newer than this yloft "
                    f"({_sql.LAYOUT_VERSION}); upgrade yloft to open it"
                )
            for stmt in _sql.INTERNAL_DDL:
                self._con.execute(stmt)
            if version != _sql.LAYOUT_VERSION:
                self._con.execute(f"PRAGMA user_version={_sql.LAYOUT_VERSION}")

    # -- lifecycle ---------------------------------------------------------------

    def close(self) -> None:
        """Close the database (idempotent)."""
        if not self._closed:
            self._closed = True
            self._cache.clear()
            self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosedError("this Store is closed; open a new Store(path)")

    def _settled(self) -> sqlite3.Connection:
        """The connection, once every write of the open transaction is in SQLite.

        THE "flush before a read" rule: every read of SQLite goes through here, so
        what the open transaction wrote so far (kept in memory until a read or the
        COMMIT needs it) is visible to the read.
        """
        self._check_open()
        if self._dirty:
            self._flush()
        return self._con

    # -- collections --------------------------------------------------------------

    def collection(self, name: str, fields: Mapping[str, Any] | None = None) -> Collection:
        """Declare (or fetch) a collection; migrates its table when fields changed.

        Without ``fields`` it returns the collection as declared before (in this
        session or stamped in the database).

        Example:
            >>> from yloft import Field
            >>> store = Store(":memory:")
            >>> notes = store.collection("notes", {"title": Field("meta.title", str)})
            >>> store.collection("notes") is notes
            True
            >>> store.close()
        """
        self._check_open()
        name = check_collection_name(name)
        stored = self._stored_schema(name)
        if fields is None:
            if name in self._collections:
                return self._collections[name]
            if stored is None:
                raise UnknownCollectionError(
                    f"no collection {name!r} is declared; call "
                    f"store.collection({name!r}, {{...fields...}}) first"
                )
            schema = stored
        else:
            schema = CollectionSchema.build(
                name, dict(fields) if isinstance(fields, Mapping) else fields
            )
            if stored is None or stored.to_json() != schema.to_json():
                self._migrate(stored, schema)
        existing = self._collections.get(name)
        if existing is not None and existing.schema == schema:
            return existing
        coll = Collection(self, schema)
        self._collections[name] = coll
        return coll

    def collections(self) -> list[str]:
        """Names of every collection declared in this database."""
        self._check_open()
        rows = self._con.execute(
            "SELECT key FROM _yloft_meta WHERE key LIKE 'collection:%' ORDER BY key"
        ).fetchall()
        return [key.split(":", 1)[1] for (key,) in rows]

    def _stored_schema(self, name: str) -> CollectionSchema | None:
        row = self._con.execute(
            "SELECT value FROM _yloft_meta WHERE key = ?", (f"collection:{name}",)
        ).fetchone()
        return None if row is None else CollectionSchema.from_json(name, row[0])

    def _migrate(self, old: CollectionSchema | None, new: CollectionSchema) -> None:
        plan = plan_migration(old, new)
        con = self._con
        with self._write() as frame:
            self._flush()
            if old is None:
                clash = con.execute(
                    "SELECT name FROM sqlite_master WHERE name IN (?, ?)",
                    (new.name, new.fts_table),
                ).fetchone()
                if clash is not None:
                    raise SchemaError(
                        f"the database already has a table {clash[0]!r} that is not a yloft "
                        "collection; pick another collection name"
                    )
            if plan.rebuild:
                if old is not None:
                    con.execute(f"DROP TABLE IF EXISTS {quote(old.fts_table)}")
                    con.execute(f"DROP TABLE IF EXISTS {quote(old.name)}")
                for stmt in new.create_sql():
                    con.execute(stmt)
                self._backfill(new, None)
            else:
                for col in plan.drop_index:
                    con.execute(f"DROP INDEX IF EXISTS {quote(new.index_name(col))}")
                fields = dict(new.fields)
                for col in plan.add:
                    con.execute(
                        f"ALTER TABLE {quote(new.name)} ADD COLUMN {quote(col)} "
                        f"{fields[col].sql_type}"
                    )
                if plan.add:
                    self._backfill(new, plan.add)
                for col in plan.add_index:
                    con.execute(new.create_index_sql(col))
            con.execute(
                "INSERT OR REPLACE INTO _yloft_meta (key, value) VALUES (?, ?)",
                (f"collection:{new.name}", new.to_json()),
            )
            frame.written |= new.tables()
            if old is not None:
                frame.written |= old.tables()
            self._cache.clear()  # cached rows have the old shape
        self._read_tables.clear()

    def _backfill(self, schema: CollectionSchema, columns: Sequence[str] | None) -> None:
        docs = self._con.execute(
            "SELECT key, id FROM _yloft_docs WHERE collection = ? AND deleted = 0 ORDER BY key",
            (schema.name,),
        ).fetchall()
        for key, doc_id in docs:
            entry = self._load_db(key)
            extracted = extract(entry.doc, schema)
            if columns is None:
                self._sync_row(schema, key, _row_of(doc_id, extracted), ())
            elif not extracted.deleted:
                sets = ", ".join(f"{quote(c)} = ?" for c in columns)
                self._con.execute(
                    f"UPDATE {quote(schema.name)} SET {sets} WHERE rowid = ?",
                    (*(extracted.values[c] for c in columns), key),
                )

    def _collection(self, name: str) -> Collection:
        if not isinstance(name, str):
            raise UnknownCollectionError(
                f"collection name must be a str, not {type(name).__name__}"
            )
        if name in self._collections:
            return self._collections[name]
        try:
            return self.collection(name)
        except SchemaError as exc:
            raise UnknownCollectionError(str(exc)) from exc

    # -- store-level sync entry points ---------------------------------------------

    def apply_update(
        self, collection: str, doc_id: str, update: bytes, *, origin: str | None = None
    ) -> None:
        """Merge a peer's update into a document of ``collection`` (see Collection)."""
        self._collection(collection).apply_update(doc_id, update, origin=origin)

    def get_update(self, collection: str, doc_id: str, state: bytes | None = None) -> bytes:
        """The update of a document against a state vector (see Collection)."""
        return self._collection(collection).get_update(doc_id, state)

    def get_state(self, collection: str, doc_id: str) -> bytes:
        """The state vector of a document (see Collection)."""
        return self._collection(collection).get_state(doc_id)

    # -- transactions ----------------------------------------------------------------

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Group writes into one SQLite transaction; nestable (SAVEPOINT).

        Example:
            >>> from yloft import Field
            >>> store = Store(":memory:")
            >>> notes = store.collection("notes", {"t": Field("m.t", str)})
            >>> with store.atomic():
            ...     ids = [notes.create() for _ in range(3)]
            >>> store.query("SELECT count(*) AS n FROM notes", ())
            [{'n': 3}]
            >>> store.close()
        """
        with self._write():
            yield

    @property
    def in_transaction(self) -> bool:
        """True inside :meth:`atomic` or while a write is running."""
        return bool(self._frames)

    @contextmanager
    def _write(self) -> Iterator[Frame]:
        self._check_open()
        con = self._con
        frame = Frame()
        if not self._frames:
            con.execute("BEGIN IMMEDIATE")
            self._sync_cache()
            self._frames.append(frame)
            try:
                yield frame
                self._flush()
                self._frames.pop()
                con.execute("COMMIT")
            except BaseException:
                self._evict(set(self._dirty))
                self._dirty.clear()
                self._failed = None
                if self._frames and self._frames[-1] is frame:
                    self._frames.pop()
                if con.in_transaction:
                    con.execute("ROLLBACK")
                self._evict(frame.touched)
                raise
            self._after_commit(frame)
            return
        # A savepoint starts with every earlier write in SQLite, so rolling it back
        # leaves exactly the outer transaction's writes.
        self._flush()
        depth = len(self._frames) + 1
        name = f"yloft_{depth - 1}"
        con.execute(f"SAVEPOINT {name}")
        self._frames.append(frame)
        try:
            yield frame
        except BaseException:
            self._frames.pop()
            con.execute(f"ROLLBACK TO {name}")
            con.execute(f"RELEASE {name}")
            # Every pending document was changed inside the savepoint: drop it.
            self._evict(frame.touched | set(self._dirty))
            self._dirty.clear()
            if self._failed is not None and self._failed[1] >= depth:
                self._failed = None  # the failed writes were inside the savepoint
            # Rows written inside the savepoint (also by migrations) were rolled back.
            for entry in self._cache.values():
                entry.row = None
                row = con.execute(
                    "SELECT deleted FROM _yloft_docs WHERE key = ?", (entry.key,)
                ).fetchone()
                entry.deleted = bool(row[0]) if row else False
            raise
        self._frames.pop()
        con.execute(f"RELEASE {name}")
        self._frames[-1].merge(frame)

    def _after_commit(self, frame: Frame) -> None:
        if self._on_commit is not None:
            try:
                self._on_commit()
            except Exception as exc:
                raise DurabilityError(
                    "the transaction was committed but the on_commit hook failed, so it "
                    f"may not be durable: {exc!r}; check the storage adapter"
                ) from exc
        errors: list[BaseException] = []
        hooks = list(self._hooks)
        for coll, doc_id, update, origin in frame.events if hooks else ():
            for hook in hooks:
                try:
                    hook(coll, doc_id, update, origin)
                except Exception as exc:
                    errors.append(exc)
        if frame.written:
            errors += self._live.notify(frame.written)
        if errors:
            raise CallbackError(
                f"{len(errors)} callback(s) raised after a committed write (the write is "
                f"saved); first: {errors[0]!r}",
                errors,
            ) from errors[0]

    # -- document cache ----------------------------------------------------------------

    def _sync_cache(self) -> None:
        """Drop cached documents when another connection changed the database."""
        version = self._con.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            if self._data_version != -1:
                self._cache.clear()
                self._epoch += 1
            self._data_version = version

    def _evict(self, keys: set[tuple[str, str]] | tuple[str, str]) -> None:
        for k in [keys] if isinstance(keys, tuple) else keys:
            self._cache.pop(k, None)

    def _remember(self, ident: tuple[str, str], entry: Entry) -> None:
        self._cache[ident] = entry
        self._cache.move_to_end(ident)
        while len(self._cache) > self.cache_size:
            for k in self._cache:
                if k not in self._editing:
                    del self._cache[k]
                    break
            else:
                break

    def _doc_key(self, collection: str, doc_id: str) -> int | None:
        row = self._con.execute(
            "SELECT key FROM _yloft_docs WHERE collection = ? AND id = ?", (collection, doc_id)
        ).fetchone()
        return None if row is None else int(row[0])

    def _load_db(self, key: int, extra: bytes | None = None) -> Entry:
        """Build document ``key`` from its snapshot, its log and ``extra``.

        All parts are merged into one update and applied once, so structs integrate
        in clock order whatever order they arrived in.
        """
        snapshot, snap_seq, deleted = self._con.execute(
            "SELECT snapshot, snap_seq, deleted FROM _yloft_docs WHERE key = ?", (key,)
        ).fetchone()
        log = [
            data
            for (data,) in self._con.execute(
                "SELECT data FROM _yloft_updates WHERE doc = ? AND seq > ? ORDER BY seq",
                (key, snap_seq),
            )
        ]
        parts: list[bytes] = ([] if snapshot is None else [snapshot]) + log
        if extra is not None:
            parts.append(extra)
        doc: Doc[Any] = new_doc()
        if not parts:
            entry = Entry(key, doc, epoch=self._epoch)
            entry.deleted = bool(deleted)
            return entry
        merged = parts[0] if len(parts) == 1 else merge_updates(*parts)
        doc.apply_update(merged)
        entry = Entry(key, doc, not covers(doc.get_state(), merged), self._epoch)
        entry.deleted = bool(deleted)
        entry.log_count = len(log)
        entry.log_bytes = sum(len(d) for d in log)
        entry.updates.clear()
        return entry

    def _entry(
        self, collection: str, doc_id: str, *, keep: bool, raw: bool = False
    ) -> Entry | None:
        """The in-memory entry of a document (loading it), or None when unknown.

        A ``create()``d document whose creation transaction is still deferred gets it
        run first, unless ``raw`` (``edit()`` runs it inside its own transaction).
        """
        if not self._frames:
            self._sync_cache()
        ident = (collection, doc_id)
        pending = self._dirty.get(ident)
        if pending is not None:
            if pending[1].updates:  # changed outside an edit block: drop those changes
                self._forget(ident)
            dirty = self._dirty[ident][1]
            if not raw:
                if dirty.born is not None:
                    self._birth(ident, dirty)
                dirty.observe()
            return dirty
        cached = self._cache.get(ident)
        if cached is not None and cached.updates:
            # The cached Doc was changed outside an edit block: reload from disk.
            self._evict(ident)
            cached = None
        if cached is not None:
            self._cache.move_to_end(ident)
            if not raw:
                cached.observe()
            return cached
        key = self._doc_key(collection, doc_id)
        if key is None:
            return None
        entry = self._load_db(key)
        if keep:
            self._remember(ident, entry)
        return entry

    # -- the write path ---------------------------------------------------------------

    def _persist(
        self,
        schema: CollectionSchema,
        doc_id: str,
        entry: Entry,
        update: bytes,
        origin: str | None,
    ) -> None:
        """Record ``update`` (already in ``entry.doc``) as a write of this transaction.

        Outside a transaction this opens one and commits it. Inside, the update waits
        in ``entry.unsaved`` and :meth:`_flush` writes it with the row and FTS entry
        before the next read or the COMMIT: a document created and edited in one
        ``atomic()`` costs one log row and one extraction.
        """
        frames = self._frames
        if not frames:
            with self._write():
                self._persist(schema, doc_id, entry, update, origin)
            return
        ident = (schema.name, doc_id)
        if self._failed is not None:
            self._forget(ident)  # the Doc holds the refused change: drop it
            self._check_failed()
        if entry.key is not None and entry.epoch != self._epoch:
            # Another connection wrote since this Doc was loaded: rebase onto the
            # stored state (a pending Doc cannot be stale: its epoch is this one's).
            entry = self._load_db(entry.key, update)
            self._evict(ident)
        entry.unsaved.append((update, origin))
        self._record(schema, ident, entry)

    def _persist_new(self, schema: CollectionSchema, doc_id: str, entry: Entry) -> None:
        """Record a ``create()``d document whose creation transaction is deferred."""
        if not self._frames:
            with self._write():
                self._persist_new(schema, doc_id, entry)
            return
        self._check_failed()
        self._record(schema, (schema.name, doc_id), entry)

    def _record(self, schema: CollectionSchema, ident: tuple[str, str], entry: Entry) -> None:
        """Mark a document as written in the open transaction (flushed later).

        Pending documents are found through ``_dirty`` (they enter the LRU cache
        when flushed).
        """
        dirty = self._dirty
        known = dirty.get(ident)
        if known is None or known[1] is not entry:
            dirty[ident] = (schema, entry)
        frame = self._frames[-1]
        frame.touched.add(ident)
        tables = self._tables_of.get(schema)
        if tables is None:
            tables = self._tables_of[schema] = frozenset(schema.tables() | _LOG_TABLES)
        frame.written |= tables
        if len(dirty) > _MAX_DIRTY:
            self._flush(_MAX_DIRTY // 2)

    def _birth(self, ident: tuple[str, str], entry: Entry) -> None:
        """Run a deferred creation transaction; record its update."""
        entry.unsaved.append((entry.be_born(), None))

    def _check_failed(self) -> None:
        if self._failed is not None:
            exc = self._failed[0]
            raise TransactionAbortedError(
                f"an earlier write of this atomic() block failed ({exc!r}); leave the "
                "block (its transaction is rolled back) and retry it"
            ) from exc

    def _flush(self, keep: int = 0) -> None:
        """Write the pending documents of the open transaction to SQLite.

        Oldest first (rows go in in rowid order, which keeps B-tree pages full) until
        at most ``keep`` remain pending, in batches (one ``executemany`` per kind of
        row). A failure poisons the transaction: its later writes raise
        :class:`TransactionAbortedError` and it rolls back at the end.
        """
        dirty = self._dirty
        if len(dirty) <= keep:
            return
        self._check_failed()
        # Taken in one go: popping a dict's oldest items one by one costs a scan over
        # the holes left by earlier pops each time.
        items = list(dirty.items())
        cut = len(items) - keep
        batch = [(schema, ident, entry) for ident, (schema, entry) in items[:cut]]
        dirty.clear()
        dirty.update(items[cut:])
        try:
            self._write_batch(batch)
        except BaseException as exc:
            self._failed = (exc, len(self._frames))
            self._evict({ident for _, ident, _ in batch})
            raise

    def _write_batch(self, batch: list[tuple[CollectionSchema, tuple[str, str], Entry]]) -> None:
        """Append the documents' pending updates to the log; rows and FTS in step."""
        con = self._con
        docs: list[tuple[CollectionSchema, tuple[str, str], Entry, bool]] = []
        top = -1
        replaced: list[tuple[str, str]] = []  # cached objects to drop
        for schema, ident, entry in batch:
            if entry.updates:  # changed outside an edit block: keep recorded updates only
                entry = self._rebuilt(entry)
                replaced.append(ident)
            if entry.born is not None:
                self._birth(ident, entry)
            new = entry.key is None
            if new:
                if entry.minted:  # a fresh random id: no other connection can have it
                    if top < 0:
                        top = con.execute(
                            "SELECT coalesce(max(key), 0) FROM _yloft_docs"
                        ).fetchone()[0]
                    top += 1
                    entry.key = top
                else:
                    entry, new = self._insert_doc(ident, entry, top)
                    top = -1 if top < 0 else max(top, entry.key or 0)
                    if not new:
                        replaced.append(ident)
            docs.append((schema, ident, entry, new))
        minted: list[tuple[int, str, str, int]] = []
        log: list[tuple[int, str | None, bytes]] = []
        events = self._frames[-1].events
        inserts: dict[RowSQL, list[tuple[Any, ...]]] = {}
        compact: list[Entry] = []
        epoch = self._epoch
        for schema, ident, entry, new in docs:
            key = entry.key
            assert key is not None
            for data, origin in _log_rows(entry, new):
                log.append((key, origin, data))
                events.append((ident[0], ident[1], data, origin))
                entry.log_count += 1
                entry.log_bytes += len(data)
            entry.unsaved.clear()
            values, created, updated, deleted = field_values(entry.doc, schema)
            if new and entry.minted:
                minted.append((key, ident[0], ident[1], 1 if deleted else 0))
                entry.deleted = deleted
            elif deleted != entry.deleted:
                con.execute("UPDATE _yloft_docs SET deleted = ? WHERE key = ?", (int(deleted), key))
                entry.deleted = deleted
            sql = self._row_sql(schema)
            row = () if deleted else (ident[1], *values, created, updated)
            if entry.row == () and row:
                entry.row = row
                inserts.setdefault(sql, []).append((key, *row))
            else:
                entry.row = sync_row(con, sql, key, row, entry.row)
            # The Doc was just read whole: the next edit() need not look for a
            # tombstone unless the Doc changes first (Entry.take() clears this).
            entry.live = not deleted
            entry.epoch = epoch  # in step with the database as of this write
            if entry.log_count >= self.max_log_entries or entry.log_bytes >= self.max_log_bytes:
                compact.append(entry)
        if minted:
            con.executemany(
                "INSERT INTO _yloft_docs (key, collection, id, deleted) VALUES (?, ?, ?, ?)",
                minted,
            )
        con.executemany("INSERT INTO _yloft_updates (doc, origin, data) VALUES (?, ?, ?)", log)
        for sql, rows in inserts.items():
            sql.insert_many(con, rows)
        for entry in compact:
            assert entry.key is not None
            self._compact(entry.key, entry)
        # The newest documents enter the cache; an object replaced on the way leaves it.
        self._evict(set(replaced))
        newest = min(self.cache_size, _BATCH_CACHED)
        for _, ident, entry, _ in docs[-newest:] if newest else ():
            self._remember(ident, entry)

    def _insert_doc(self, ident: tuple[str, str], entry: Entry, top: int) -> tuple[Entry, bool]:
        """Give a new document its ``_yloft_docs`` row; (entry, still new).

        ``top`` is the highest key handed out in this batch so far (-1: none).
        """
        try:
            cur = self._con.execute(
                "INSERT INTO _yloft_docs (key, collection, id) VALUES (?, ?, ?)",
                (None if top < 0 else top + 1, *ident),
            )
            entry.key = int(cur.lastrowid or 0)
            return entry, True
        except sqlite3.IntegrityError:  # created meanwhile by another connection
            found = self._doc_key(*ident)
            assert found is not None
            fresh = self._load_db(found, _merged([u for u, _ in entry.unsaved]))
            fresh.unsaved = entry.unsaved
            return fresh, False

    def _rebuilt(self, entry: Entry) -> Entry:
        """``entry`` rebuilt from SQLite plus its recorded (unsaved) updates only."""
        entry.settle()
        extra = _merged([u for u, _ in entry.unsaved]) if entry.unsaved else None
        if entry.key is not None:
            fresh = self._load_db(entry.key, extra)
        else:
            fresh = Entry(None, new_doc(), epoch=self._epoch)
            if extra is not None:
                fresh.doc.apply_update(extra)
                fresh.pending = not covers(fresh.doc.get_state(), extra)
                fresh.updates.clear()
        fresh.unsaved = entry.unsaved
        fresh.born = entry.born
        fresh.live = entry.born is not None  # still empty: surely no tombstone
        return fresh

    def _forget(self, ident: tuple[str, str]) -> None:
        """Drop changes made to a document in memory that were not recorded.

        The document is reloaded from SQLite; one with recorded but unsaved updates
        is rebuilt from SQLite plus those.
        """
        pending = self._dirty.get(ident)
        if pending is None:
            self._evict(ident)
            return
        schema, entry = pending
        fresh = self._rebuilt(entry)
        self._dirty[ident] = (schema, fresh)
        self._remember(ident, fresh)

    def _sync_row(
        self,
        schema: CollectionSchema,
        key: int,
        new: tuple[Any, ...],
        known: tuple[Any, ...] | None,
    ) -> tuple[Any, ...]:
        return sync_row(self._con, self._row_sql(schema), key, new, known)

    def _row_sql(self, schema: CollectionSchema) -> RowSQL:
        sql = self._row_sqls.get(schema)
        if sql is None:
            sql = self._row_sqls[schema] = RowSQL(schema)
        return sql

    def _compact(self, key: int, entry: Entry) -> None:
        """Fold a document's pending updates into its snapshot."""
        doc = entry.doc
        con = self._con
        snapshot, snap_seq = con.execute(
            "SELECT snapshot, snap_seq FROM _yloft_docs WHERE key = ?", (key,)
        ).fetchall()[0]
        pending = con.execute(
            "SELECT seq, data FROM _yloft_updates WHERE doc = ? AND seq > ? ORDER BY seq",
            (key, snap_seq),
        ).fetchall()
        if not pending:
            return
        parts = ([snapshot] if snapshot is not None else []) + [d for _, d in pending]
        state = doc.get_state()
        if all(covers(state, part) for part in parts):
            new_snapshot = doc.get_update()
        else:  # some structs wait for missing dependencies: keep them, merged
            new_snapshot = merge_updates(*parts)
        last = pending[-1][0]
        con.execute(
            "UPDATE _yloft_docs SET snapshot = ?, snap_seq = ? WHERE key = ?",
            (new_snapshot, last, key),
        )
        floor = min(last, _feed.floor(con))
        con.execute("DELETE FROM _yloft_updates WHERE doc = ? AND seq <= ?", (key, floor))
        entry.log_count = 0
        entry.log_bytes = 0

    def compact(self, collection: str, doc_id: str) -> None:
        """Fold one document's pending updates into its snapshot now."""
        coll = self._collection(collection)
        with self._write() as frame:
            entry = self._entry(coll.name, check_id(doc_id), keep=False)
            if entry is not None and entry.key is not None:
                self._compact(entry.key, entry)
                frame.written |= _LOG_TABLES

    # -- change feed and sync bookkeeping (the SQL lives in _feed) ------------------

    def changes(
        self, since: int = 0, *, local_only: bool = False, limit: int | None = None
    ) -> list[Change]:
        """Updates committed to this store after ``since``, in commit order.

        Each item is ``(seq, collection, doc_id, update)``. ``local_only`` keeps only
        updates made by this store's own edits (``apply_update`` without an origin
        counts as local too); updates applied with an ``origin`` are left out.

        Example:
            >>> from yloft import Field
            >>> store = Store(":memory:")
            >>> notes = store.collection("notes", {"t": Field("m.t", str)})
            >>> nid = notes.create()
            >>> [(c, d == nid) for _, c, d, _ in store.changes()]
            [('notes', True)]
            >>> store.close()
        """
        con = self._settled()
        if local_only:
            return _feed.local(con, since, limit)
        return _feed.changes(con, since, limit=limit)

    def changes_to_send(self, since: int = 0, *, limit: int | None = None) -> list[Change]:
        """The updates after ``since`` that a relay must get from this store.

        Everything except what the relay itself delivered (origin ``"relay"``): the
        store's own edits and those its replica tabs pushed (origin ``"tab:…"``).

        Example:
            >>> store = Store(":memory:")
            >>> notes = store.collection("notes", {})
            >>> mine = notes.create()
            >>> notes.apply_update("x" * 32, notes.get_update(mine), origin="relay")
            >>> [d == mine for _, _, d, _ in store.changes_to_send()]
            [True]
            >>> store.close()
        """
        return _feed.to_send(self._settled(), since, limit)

    def feed_floor(self) -> int:
        """The seq at or below which :meth:`changes` returns nothing (trimmed)."""
        return _feed.floor(self._settled())

    def feed_head(self) -> int:
        """The newest seq of the change feed (0 for a new store)."""
        return _feed.head(self._settled())

    def document_seqs(self) -> list[tuple[int, str, str]]:
        """``(newest seq, collection, doc_id)`` of every stored document, oldest first."""
        return _feed.doc_seqs(self._settled())

    def sync_cursor(self, name: str) -> str | None:
        """The sync cursor saved under ``name`` with :meth:`save_sync_cursor`, or None."""
        return _feed.cursor(self._settled(), name)

    def save_sync_cursor(self, name: str, value: str) -> None:
        """Save a sync cursor; inside :meth:`atomic` it commits with the updates it covers.

        Example:
            >>> store = Store(":memory:")
            >>> with store.atomic():
            ...     store.save_sync_cursor("relay:team", '{"last_seq": 3}')
            >>> store.sync_cursor("relay:team")
            '{"last_seq": 3}'
            >>> store.close()
        """
        with self._write():
            _feed.save_cursor(self._con, name, value)

    def trim_changes(self, upto: int) -> None:
        """Say that feed entries up to ``upto`` were consumed; frees their space.

        Entries at or below ``upto`` are no longer returned by :meth:`changes`; the
        log rows that compaction already folded into snapshots are deleted.
        """
        with self._write() as frame:
            _feed.trim(self._con, upto)
            frame.written |= _LOG_TABLES

    def on_update(self, hook: UpdateHook) -> Callable[[], None]:
        """Call ``hook(collection, doc_id, update, origin)`` after each committed update.

        Returns a function that removes the hook. Local edits have origin None.

        Example:
            >>> store = Store(":memory:")
            >>> remove = store.on_update(lambda c, d, u, o: None)
            >>> remove()
            >>> store.close()
        """
        self._hooks.append(hook)

        def remove() -> None:
            if hook in self._hooks:
                self._hooks.remove(hook)

        return remove

    # -- reads -------------------------------------------------------------------------

    def _read(self, sql: str, params: Sequence[Any]) -> tuple[Rows, frozenset[str]]:
        """Run app SQL under the read-only guard; return rows and tables read."""
        self._check_open()
        if not isinstance(sql, str):
            raise QueryError(f"SQL must be a str, not {type(sql).__name__}")
        tagged = sql.rstrip() + _READ_TAG
        con = self._settled()
        guard = self._guard
        guard.read_only = True
        guard.tables = set()
        guard.denied = []
        try:
            cur = con.execute(tagged, params)
            names = [d[0] for d in cur.description or ()]
            rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        except sqlite3.Error as exc:
            if guard.denied:
                raise ReadOnlyQueryError(
                    f"query refused: it would change the database ({guard.denied[0]}); "
                    "store.query/subscribe only read — change data through collections"
                ) from exc
            raise QueryError(f"query failed: {exc}; check the SQL and its parameters") from exc
        except (ValueError, TypeError, OverflowError) as exc:
            raise QueryError(f"query failed: {exc}; check the SQL parameters") from exc
        finally:
            guard.read_only = False
        tables = self._read_tables.get(tagged, frozenset()) | guard.tables
        self._read_tables[tagged] = frozenset(tables)
        return rows, frozenset(tables)

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Rows:
        """Run a read-only SQL statement; rows as dicts.

        Statements that would write raise :class:`ReadOnlyQueryError`.

        Example:
            >>> with Store(":memory:") as store:
            ...     store.query("SELECT 1 + ? AS two", (1,))
            [{'two': 2}]
        """
        return self._read(sql, params)[0]  # type: ignore[arg-type]

    def subscribe(
        self,
        sql: str,
        params: Sequence[Any],
        callback: Callable[[Rows], object],
    ) -> Subscription:
        """A live query: ``callback(rows)`` after each commit that changed its result.

        The first result is in ``sub.result``; the callback runs only on changes.

        Example:
            >>> store = Store(":memory:")
            >>> sub = store.subscribe("SELECT 1 AS one", (), print)
            >>> sub.result
            [{'one': 1}]
            >>> store.close()
        """
        self._check_open()
        return self._live.add(sql, params, callback)

    def dump(self) -> list[str]:
        """Every row of the database as SQL text (for tests and debugging)."""
        return _sql.dump(self._settled())


def _merged(updates: list[bytes]) -> bytes:
    """One update equal to ``updates`` applied in any order."""
    return updates[0] if len(updates) == 1 else merge_updates(*updates)


def _log_rows(entry: Entry, new: bool) -> list[tuple[bytes, str | None]]:
    """The log rows of a document's pending updates: (update, origin) each."""
    if entry.whole:  # a document born in this transaction, unobserved
        entry.whole = False
        return [(whole_update(entry.doc), None)]
    unsaved = entry.unsaved
    if not unsaved:
        return []
    origin = unsaved[0][1]
    if new and not entry.pending and (len(unsaved) == 1 or all(o == origin for _, o in unsaved)):
        # A document born in this transaction: its whole state is the update.
        return [(unsaved[0][0] if len(unsaved) == 1 else entry.doc.get_update(), origin)]
    rows = []  # one log row per run of updates with the same origin
    run: list[bytes] = []
    for i, (update, origin) in enumerate(unsaved):
        run.append(update)
        if i + 1 == len(unsaved) or unsaved[i + 1][1] != origin:
            rows.append((_merged(run), origin))
            run = []
    return rows


def _row_of(doc_id: str, extracted: Extracted) -> tuple[Any, ...]:
    """The collection row of an extraction (``()`` for a deleted document)."""
    if extracted.deleted:
        return ()
    return (doc_id, *extracted.values.values(), extracted.created_at, extracted.updated_at)
