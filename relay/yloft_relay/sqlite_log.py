"""The embedded backend: the relay's log in one SQLite file (WAL, ``synchronous=FULL``).

One relay process owns the file. Heads and last msg_ids are cached in memory
(nobody else writes), so an append is one ``BEGIN IMMEDIATE`` … ``COMMIT`` with
plain inserts. Reads use one connection per thread.

Example:
    >>> import tempfile, os
    >>> log = SqliteLog(os.path.join(tempfile.mkdtemp(), "relay.db"))
    >>> out = log.append([PushJob("s", "c1", 1, "notes", "n1", b"\\x00\\x00", None)])
    >>> [r.seq for r in out.results], log.heads(["s", "t"])
    ([1], {'s': 1, 't': 0})
    >>> log.close()
"""

from __future__ import annotations

import sqlite3
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .logbase import Assigned, DocKey, PerThread, PushJob, Row, assign, compaction_rows

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log(
    space TEXT NOT NULL, seq INTEGER NOT NULL,
    collection TEXT NOT NULL, doc_id TEXT NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (space, seq)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS log_doc ON log(space, collection, doc_id, seq);
CREATE TABLE IF NOT EXISTS clients(
    space TEXT NOT NULL, client_id TEXT NOT NULL, last_msg_id INTEGER NOT NULL,
    PRIMARY KEY (space, client_id)) WITHOUT ROWID;
"""


@contextmanager
def transaction(conn: sqlite3.Connection, begin: str) -> Iterator[sqlite3.Connection]:
    """``begin`` … COMMIT around the block; ROLLBACK if it raises (autocommit connection)."""
    conn.execute(begin)
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def connect(path: str) -> sqlite3.Connection:
    """A connection with the relay's pragmas (WAL, synchronous=FULL)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


def open_db(path: str) -> str:
    """Create the schema if needed; return the log's id (fixed at creation)."""
    conn = connect(path)
    try:
        conn.executescript(SCHEMA)
        conn.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('relay_id', ?)", (uuid.uuid4().hex,)
        )
        row = conn.execute("SELECT value FROM meta WHERE key='relay_id'").fetchone()
        return str(row[0])
    finally:
        conn.close()


class _Lru(OrderedDict[Any, int]):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key: Any, value: int) -> None:
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.size:
            self.popitem(last=False)


class SqliteLog:
    """:class:`~.logbase.LogBackend` on one SQLite file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.relay_id = open_db(path)
        self._heads = _Lru(10_000)
        self._clients = _Lru(100_000)
        self._conns: PerThread[sqlite3.Connection] = PerThread(sqlite3.Connection.close)

    def _conn(self) -> sqlite3.Connection:
        return self._conns.current() or self._conns.add(connect(self.path))

    def _head(self, space: str) -> int:
        head = self._heads.get(space)
        if head is None:
            row = self._conn().execute("SELECT max(seq) FROM log WHERE space=?", (space,))
            head = int(row.fetchone()[0] or 0)
        return head

    def _last_msg(self, space: str, client: str) -> int:
        last = self._clients.get((space, client))
        if last is None:
            row = (
                self._conn()
                .execute(
                    "SELECT last_msg_id FROM clients WHERE space=? AND client_id=?", (space, client)
                )
                .fetchone()
            )
            last = int(row[0]) if row else 0
        return last

    def append(
        self, batch: list[PushJob], before_commit: Callable[[Assigned], None] | None = None
    ) -> Assigned:
        with transaction(self._conn(), "BEGIN IMMEDIATE") as conn:
            out = assign(batch, head_of=self._head, last_of=self._last_msg)
            conn.executemany("INSERT INTO log VALUES (?, ?, ?, ?, ?)", out.inserts)
            conn.executemany(
                "INSERT INTO clients VALUES (?, ?, ?) ON CONFLICT(space, client_id)"
                " DO UPDATE SET last_msg_id=excluded.last_msg_id",
                [(s, c, m) for (s, c), m in out.lasts.items()],
            )
            if before_commit is not None:
                before_commit(out)
        # COMMIT ran at the end of the block: synchronous=FULL + WAL, fsynced there
        for space, head in out.heads.items():
            self._heads.put(space, head)
        for ckey, last in out.lasts.items():
            self._clients.put(ckey, last)
        return out

    def reset(self) -> None:
        self._heads.clear()
        self._clients.clear()

    def doc_rows(self, key: DocKey) -> int:
        row = self._conn().execute(
            "SELECT count(*) FROM log WHERE space=? AND collection=? AND doc_id=?", key
        )
        return int(row.fetchone()[0])

    def compact(self, key: DocKey, max_rows: int) -> int:
        with transaction(self._conn(), "BEGIN IMMEDIATE") as conn:
            found = conn.execute(
                "SELECT seq, data FROM log WHERE space=? AND collection=? AND doc_id=?"
                " ORDER BY seq LIMIT ?",
                (*key, max_rows),
            ).fetchall()
            plan = compaction_rows(found)
            if plan is None:
                return 0  # nothing written: the COMMIT is empty
            keep, merged = plan
            conn.execute(
                "DELETE FROM log WHERE space=? AND collection=? AND doc_id=? AND seq<=?",
                (*key, keep),
            )
            conn.execute(
                "INSERT INTO log VALUES (?, ?, ?, ?, ?)", (*key[:1], keep, *key[1:], merged)
            )
        return len(found) - 1

    def since(self, space: str, last_seq: int) -> tuple[list[Row], int]:
        with transaction(self._conn(), "BEGIN") as conn:  # one snapshot for rows and head
            rows = conn.execute(
                "SELECT seq, collection, doc_id, data FROM log WHERE space=? AND seq>?"
                " ORDER BY seq",
                (space, last_seq),
            ).fetchall()
            head = conn.execute("SELECT max(seq) FROM log WHERE space=?", (space,)).fetchone()
        return rows, int(head[0] or 0)

    def heads(self, spaces: list[str]) -> dict[str, int]:
        conn = self._conn()
        return {
            s: int(conn.execute("SELECT max(seq) FROM log WHERE space=?", (s,)).fetchone()[0] or 0)
            for s in spaces
        }

    def doc_updates(self, space: str, collection: str, doc_id: str) -> list[bytes]:
        rows = (
            self._conn()
            .execute(
                "SELECT data FROM log WHERE space=? AND collection=? AND doc_id=? ORDER BY seq",
                (space, collection, doc_id),
            )
            .fetchall()
        )
        return [bytes(r[0]) for r in rows]

    def close(self) -> None:
        self._conns.close_all()
