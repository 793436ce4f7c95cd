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
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import (
    CallbackError,
    QueryError,
    SchemaError,
    UnknownCollectionError,
)
from ..schema import CollectionSchema, check_collection_name
from . import _held, _sql, archive
from ._compaction import compact
from ._doccache import DocCache
from ._ids import check_id
from ._migrate import migrate
from ._writeout import WriteOut
from ._writer import LOG_TABLES, Frame, Writer
from .collection import Collection
from .feed import Feed
from .live import LiveQueries, Rows, Subscription

UpdateHook = Callable[[str, str, bytes, "str | None"], object]

_READ_TAG = "\n-- yloft:read"


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
        self._hooks: list[UpdateHook] = []
        self._live = LiveQueries(self._read)
        self._collections: dict[str, Collection] = {}
        self._read_tables: dict[str, frozenset[str]] = {}
        self._cache = DocCache(self._con, cache_size)
        self._out = WriteOut(self._con, self._cache)
        self._writer = Writer(self._con, self._cache, self._out, on_commit, self._announce)
        #: The change feed and sync cursors (:class:`~yloft.store.feed.Feed`).
        self.feed = Feed(self._con, self._writer)
        self.max_log_entries = max_log_entries
        self.max_log_bytes = max_log_bytes
        try:
            self._init_layout()
        except BaseException:
            self.close()
            raise

    def _init_layout(self) -> None:
        with self._writer.transaction():
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
        self._writer.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._writer.closed

    @property
    def max_log_entries(self) -> int:
        """Compact a document once this many updates are stored since its snapshot."""
        return self._out.max_log_entries

    @max_log_entries.setter
    def max_log_entries(self, value: int) -> None:
        self._out.max_log_entries = value

    @property
    def max_log_bytes(self) -> int:
        """Compact a document once its updates since its snapshot reach this size."""
        return self._out.max_log_bytes

    @max_log_bytes.setter
    def max_log_bytes(self, value: int) -> None:
        self._out.max_log_bytes = value

    @property
    def cache_size(self) -> int:
        """How many recently used documents are kept in memory."""
        return self._cache.size

    @cache_size.setter
    def cache_size(self, value: int) -> None:
        self._cache.size = value

    def _check_open(self) -> None:
        self._writer.check_open()

    def _settled(self) -> sqlite3.Connection:
        """The connection with every write of the open transaction in SQLite."""
        return self._writer.settled()

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
        coll = Collection(schema, self._writer)
        self._collections[name] = coll
        if _held.held(self._con, name):  # updates that waited for this declaration
            with self._writer.transaction():
                _held.apply_to(self._con, name, coll.apply_update)
        return coll

    def hold_update(
        self, collection: str, doc_id: str, update: bytes, *, origin: str | None = None
    ) -> None:
        """Keep an update for a collection not declared yet; it applies once it is.

        Sync uses this for updates a newer version of the app made, so that declaring
        the collection later still gets the whole collection. A declared collection
        applies the update at once (as :meth:`apply_update`).

        Example:
            >>> from yloft import Field
            >>> store = Store(":memory:")
            >>> peer = Store(":memory:")
            >>> tid = peer.collection("tasks", {}).create()
            >>> store.hold_update("tasks", tid, peer.get_update("tasks", tid))
            >>> store.collection("tasks", {"t": Field("m.t", str)}).ids() == [tid]
            True
            >>> peer.close(); store.close()
        """
        name = check_collection_name(collection)
        if name in self._collections or self._stored_schema(name) is not None:
            self.apply_update(name, doc_id, update, origin=origin)
            return
        with self._writer.transaction():
            _held.hold(self._con, name, check_id(doc_id), update, origin)

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
        with self._writer.transaction() as frame:
            frame.written |= migrate(self._writer, old, new)
        self._read_tables.clear()

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
        with self._writer.transaction():
            yield

    @property
    def in_transaction(self) -> bool:
        """True inside :meth:`atomic` or while a write is running."""
        return self._writer.in_transaction

    def _announce(self, frame: Frame) -> None:
        """After a COMMIT made durable by the writer: update hooks, then live queries."""
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

    def compact(self, collection: str, doc_id: str) -> None:
        """Fold one document's pending updates into its snapshot now."""
        coll = self._collection(collection)
        with self._writer.transaction() as frame:
            cached = self._writer.find(coll.name, check_id(doc_id), keep=False)
            if cached is not None and cached.key is not None:
                compact(self._con, cached)
                frame.written |= LOG_TABLES

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
        guard = self._guard
        rows = guard.read(self._settled(), tagged, params)
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

    def export_to(self, path: str | os.PathLike[str]) -> None:
        """Write every document, schema and held update to an export file (yloft.store.archive)."""
        archive.write_file(path, archive.encode_store(self))

    def import_from(self, path: str | os.PathLike[str]) -> archive.ImportReport:
        """Merge an export file in, all or nothing; ArchiveError refuses a bad file."""
        return archive.import_bytes(self, Path(path).read_bytes())

    def held_updates(self) -> list[tuple[str, str, bytes]]:
        """``(collection, doc_id, update)`` held for collections not declared yet."""
        return [(c, i, u) for c, i, u, _ in _held.all_held(self._settled())]

    def dump(self) -> list[str]:
        """Every row of the database as SQL text (for tests and debugging)."""
        return _sql.dump(self._settled())
