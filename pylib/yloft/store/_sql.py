"""The SQLite side of the store: connection setup, internal tables, the read guard.

Internal tables (all prefixed ``_yloft_``):

- ``_yloft_meta(key, value)``: declarations of collections, the change-feed floor.
- ``_yloft_docs(key, collection, id, snapshot, snap_seq, deleted)``: one row per
  document; ``snapshot`` is a Yjs v1 update holding everything up to ``snap_seq``.
  The row is written when a document is created, compacted or (un)deleted, not on
  every edit.
- ``_yloft_updates(seq, doc, origin, data)``: the update log and change feed; a
  document's state is its snapshot plus its updates with ``seq > snap_seq``.
- ``_yloft_held(seq, collection, id, origin, data)``: updates for collections not
  declared yet (``_held`` reads and writes it).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from ..errors import QueryError, ReadOnlyQueryError

#: Version of the internal table layout, stamped in ``PRAGMA user_version``.
LAYOUT_VERSION = 1

DEFAULT_PRAGMAS: dict[str, str | int] = {
    # Pages freed by trimming the change feed go back to the file system (incremental
    # vacuum after each trim, _feed.trim); takes effect in databases created with it.
    "auto_vacuum": "incremental",
    "journal_mode": "wal",
    "synchronous": "full",
    "foreign_keys": "off",
}

INTERNAL_DDL = (
    "CREATE TABLE IF NOT EXISTS _yloft_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS _yloft_docs ("
    " key INTEGER PRIMARY KEY,"
    " collection TEXT NOT NULL,"
    " id TEXT NOT NULL,"
    " snapshot BLOB,"
    " snap_seq INTEGER NOT NULL DEFAULT 0,"
    " deleted INTEGER NOT NULL DEFAULT 0,"
    " UNIQUE (collection, id))",
    "CREATE TABLE IF NOT EXISTS _yloft_updates ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " doc INTEGER NOT NULL,"
    " origin TEXT,"
    " data BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS _yloft_updates_doc ON _yloft_updates (doc, seq)",
    "CREATE TABLE IF NOT EXISTS _yloft_held ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " collection TEXT NOT NULL,"
    " id TEXT NOT NULL,"
    " origin TEXT,"
    " data BLOB NOT NULL)",
)


def connect(path: str, pragmas: Mapping[str, str | int] | None) -> sqlite3.Connection:
    """Open the write connection in manual-transaction mode and apply pragmas.

    ``pragmas`` override :data:`DEFAULT_PRAGMAS` key by key; a value of None drops a
    default. Example: ``connect("app.db", {"synchronous": "normal"})``.
    """
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    settings: dict[str, str | int | None] = dict(DEFAULT_PRAGMAS)
    settings.update(pragmas or {})
    for name, value in settings.items():
        if value is None:
            continue
        if not name.replace("_", "").isalnum() or not str(value).replace("-", "").isalnum():
            con.close()
            raise ValueError(f"pragma {name}={value!r} is not a simple pragma setting")
        con.execute(f"PRAGMA {name}={value}").fetchall()
    return con


def dump(con: sqlite3.Connection) -> list[str]:
    """Every row of every table as text, for before/after comparisons in tests."""
    return list(con.iterdump())


# Authorizer action codes (stable numbers from sqlite3.h; not all are exported by
# every Python build, so they are spelled out here).
_READ = 20
_SELECT = 21
_FUNCTION = 31
_RECURSIVE = 33
_PRAGMA = 19
_UPDATE = 23
_OK = 0
_DENY = 1

#: Read-only pragmas that take an argument (a table, an index, a check's limit).
_SETTABLE_READ_PRAGMAS = frozenset(
    {"table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo"}
    | {"foreign_key_list", "integrity_check", "quick_check"}
)
_READ_ONLY_PRAGMAS = _SETTABLE_READ_PRAGMAS | {
    "compile_options",
    "data_version",
    "page_count",
    "page_size",
    "freelist_count",
    "function_list",
    "pragma_list",
    "collation_list",
    "database_list",
    "user_version",
    "schema_version",
    "application_id",
    "encoding",
}
_SCHEMA_TABLES = frozenset({"sqlite_master", "sqlite_schema", "sqlite_temp_master"})


class ReadGuard:
    """The connection's authorizer: allows all internal SQL, only reads for app SQL.

    While :attr:`read_only` is True every statement SQLite prepares is checked:
    reads, SELECT, functions and read-only pragmas pass, everything else is denied.
    The tables read are collected in :attr:`tables` (live-query invalidation).
    """

    def __init__(self) -> None:
        self.read_only = False
        self.tables: set[str] = set()
        self.denied: list[str] = []

    def __call__(
        self,
        action: int,
        arg1: str | None,
        arg2: str | None,
        dbname: str | None,
        source: str | None,
    ) -> int:
        if not self.read_only:
            return _OK
        if action == _READ:
            if arg1:
                self.tables.add(arg1)
            return _OK
        if action in (_SELECT, _FUNCTION, _RECURSIVE):
            return _OK
        if action == _PRAGMA and arg1 is not None:
            name = arg1.lower()
            if name in _READ_ONLY_PRAGMAS and (arg2 is None or name in _SETTABLE_READ_PRAGMAS):
                return _OK
        if action == _UPDATE and arg1 in _SCHEMA_TABLES and source is None:
            # SQLite authorizes this internally when an eponymous virtual table such as
            # json_each is first used; writing the schema itself needs writable_schema,
            # a pragma this guard denies.
            return _OK
        self.denied.append(f"action {action} on {arg1!r}")
        return _DENY

    def read(self, con: sqlite3.Connection, sql: str, params: Any) -> list[dict[str, Any]]:
        """Run app SQL with only reads allowed; rows as dicts (tables read: ``tables``).

        Raises:
            ReadOnlyQueryError: the statement would write.
            QueryError: it failed otherwise.
        """
        self.read_only = True
        self.tables = set()
        self.denied = []
        try:
            cur = con.execute(sql, params)
            names = [d[0] for d in cur.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        except sqlite3.Error as exc:
            if self.denied:
                raise ReadOnlyQueryError(
                    f"query refused: it would change the database ({self.denied[0]}); "
                    "store.query/subscribe only read — change data through collections"
                ) from exc
            raise QueryError(f"query failed: {exc}; check the SQL and its parameters") from exc
        except (ValueError, TypeError, OverflowError) as exc:
            raise QueryError(f"query failed: {exc}; check the SQL parameters") from exc
        finally:
            self.read_only = False
