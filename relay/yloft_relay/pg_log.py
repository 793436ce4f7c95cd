"""The cluster backend: the relay's log in PostgreSQL, shared by many relay processes.

Sequence numbers come from a per-space counter row (``yloft_spaces.head``) locked
with ``SELECT … ORDER BY space FOR UPDATE`` inside the writing transaction, the
spaces of a batch locked in sorted order (no deadlock between processes), so seqs
are gap-free and commit in seq order: when head H is visible, every row up to H is.
Never a sequence or a timestamp (a ``bigserial`` commits out of order). The msg_id
dedup rows are read and written in the same transaction, under the same lock.
Every commit runs with ``synchronous_commit=on`` and sends ``NOTIFY yloft_log``
with ``[space, head, writer_id]`` for each space it wrote: a wake-up hint for the other
processes (:mod:`.cluster`; the writing process skips its own), never the data.

Compaction takes ``pg_try_advisory_xact_lock`` on the document and skips it when
another process holds it; it touches only that document's old rows, never the
counter row, so writers never wait for it.

Connections: one per thread (the writer thread, each reader thread), opened
again after a failure, at most once per backoff step (0.1 s doubling to 5 s).
The relay_id lives in ``yloft_meta`` and is the same for every process.

Example (needs a server)::

    log = PgLog("postgresql://relay@127.0.0.1/relay")
    log.append([PushJob("team", "c1", 1, "notes", "n1", b"\\x00\\x00", None)])
"""

from __future__ import annotations

import json
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from typing import Any

import psycopg

from .logbase import (
    Assigned,
    DocKey,
    PerThread,
    PushJob,
    Row,
    StorageUnavailable,
    assign,
    compaction_rows,
)

CHANNEL = "yloft_log"
SCHEMA_LOCK = 0x796C6F66  # advisory lock id: concurrent processes create the schema once
SCHEMA = """
CREATE TABLE IF NOT EXISTS yloft_meta(key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS yloft_spaces(space text PRIMARY KEY, head bigint NOT NULL);
CREATE TABLE IF NOT EXISTS yloft_log(
    space text NOT NULL, seq bigint NOT NULL,
    collection text NOT NULL, doc_id text NOT NULL, data bytea NOT NULL,
    PRIMARY KEY (space, seq));
CREATE INDEX IF NOT EXISTS yloft_log_doc ON yloft_log(space, collection, doc_id, seq);
CREATE TABLE IF NOT EXISTS yloft_clients(
    space text NOT NULL, client_id text NOT NULL, last_msg_id bigint NOT NULL,
    PRIMARY KEY (space, client_id));
"""


WRITE = """
WITH log AS (
    INSERT INTO yloft_log
    SELECT * FROM unnest(%s::text[], %s::bigint[], %s::text[], %s::text[], %s::bytea[])),
clients AS (
    INSERT INTO yloft_clients SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[])
    ON CONFLICT (space, client_id) DO UPDATE SET last_msg_id = excluded.last_msg_id),
heads AS (
    UPDATE yloft_spaces SET head = v.head FROM unnest(%s::text[], %s::bigint[]) v(space, head)
    WHERE yloft_spaces.space = v.space)
SELECT pg_notify(%s, hint) FROM unnest(%s::text[]) hint
"""
"""Everything one batch writes, in one statement: its rows, its clients' last msg_ids,
the new heads and a NOTIFY per space (data-modifying CTEs all run, referenced or not)."""


def columns(rows: list[tuple[Any, ...]], n: int) -> list[list[Any]]:
    """``rows`` as ``n`` column lists (for ``unnest``), ``n`` empty lists for no rows."""
    return [list(col) for col in zip(*rows, strict=True)] if rows else [[] for _ in range(n)]


def describe_url(url: str) -> str:
    """``host:port/dbname`` of a connection URL, without the password."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return "the --db URL"
    host = info.get("host") or "localhost"
    return f"{host}:{info.get('port') or 5432}/{info.get('dbname') or ''}"


def connect(url: str, **kw: Any) -> psycopg.Connection[Any]:
    """An autocommit connection with ``synchronous_commit=on``.

    Raises:
        StorageUnavailable: the server does not answer or refuses the login.
    """
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=5, **kw)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StorageUnavailable(
            f"cannot reach PostgreSQL at {describe_url(url)} ({first}): start it or fix --db"
        ) from None
    conn.execute("SET synchronous_commit = on")
    return conn


def open_schema(url: str) -> str:
    """Create the tables if needed (once, under an advisory lock); return the relay_id."""
    with connect(url) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        conn.execute(SCHEMA)
        conn.execute(
            "INSERT INTO yloft_meta VALUES ('relay_id', %s) ON CONFLICT DO NOTHING",
            (uuid.uuid4().hex,),
        )
        row = conn.execute("SELECT value FROM yloft_meta WHERE key='relay_id'").fetchone()
        assert row is not None
        return str(row[0])


def doc_lock_id(key: DocKey) -> int:
    """A 63-bit advisory lock id for one document."""
    data = "\x1f".join(key).encode()
    return (zlib.crc32(data) << 31) ^ zlib.adler32(data)


class PgLog:
    """:class:`~.logbase.LogBackend` on a PostgreSQL database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.relay_id = open_schema(url)
        self.writer_id = uuid.uuid4().hex
        """Sent with this process's commit hints, so its own listener can skip them."""
        self._conns: PerThread[psycopg.Connection[Any]] = PerThread(psycopg.Connection.close)
        self._lock = threading.Lock()
        self._retry_at = 0.0
        self._backoff = 0.1
        self._known: set[str] = set()
        """Spaces whose counter row exists (rows are never deleted): no INSERT for them."""

    # ------------------------------------------------------- connections

    def _conn(self) -> psycopg.Connection[Any]:
        conn = self._conns.current()
        if conn is not None and not conn.closed:
            return conn
        with self._lock:
            wait = self._retry_at - time.monotonic()
        if wait > 0:
            raise StorageUnavailable(f"PostgreSQL is unreachable; retrying in {wait:.1f} s")
        try:
            conn = connect(self.url)
        except StorageUnavailable:
            with self._lock:
                self._retry_at = time.monotonic() + self._backoff
                self._backoff = min(5.0, self._backoff * 2)
            raise
        with self._lock:
            self._backoff = 0.1
        return self._conns.add(conn)

    def _drop(self) -> None:
        self._conns.drop()

    def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        try:
            return self._conn().execute(sql, params).fetchall()
        except psycopg.OperationalError as exc:
            self._drop()
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise StorageUnavailable(f"PostgreSQL connection lost: {first}") from exc
        except psycopg.Error:
            self._drop()
            raise

    # ------------------------------------------------------------ writes

    def append(
        self, batch: list[PushJob], before_commit: Callable[[Assigned], None] | None = None
    ) -> Assigned:
        """Two round trips per batch, in psycopg's pipeline mode: BEGIN and the locked
        reads (heads, client msg_ids) in one; every write, the NOTIFY and COMMIT in the
        other (:data:`WRITE`, one statement)."""
        conn = self._conn()
        spaces = sorted({job.space for job in batch})
        clients = sorted({job.client_id for job in batch})
        try:
            with conn.pipeline():
                conn.execute("BEGIN")  # explicit: psycopg's transaction() syncs at each end
                if not self._known.issuperset(spaces):  # a space's first push: its counter
                    conn.execute(
                        "INSERT INTO yloft_spaces SELECT s, 0 FROM unnest(%s::text[]) s"
                        " ORDER BY s ON CONFLICT DO NOTHING",
                        (spaces,),
                    )
                locked = conn.execute(  # the counter rows, locked in sorted order
                    "SELECT space, head FROM yloft_spaces WHERE space = ANY(%s)"
                    " ORDER BY space FOR UPDATE",
                    (spaces,),
                )
                known = conn.execute(
                    "SELECT space, client_id, last_msg_id FROM yloft_clients"
                    " WHERE space = ANY(%s) AND client_id = ANY(%s)",
                    (spaces, clients),
                )
                heads = dict(locked.fetchall())  # the first round trip
                lasts = {(s, c): m for s, c, m in known.fetchall()}
                out = assign(
                    batch,
                    head_of=lambda s: int(heads[s]),
                    last_of=lambda s, c: int(lasts.get((s, c), 0)),
                )
                if before_commit is not None:  # before anything is written
                    before_commit(out)
                if out.heads:
                    hints = [json.dumps([s, h, self.writer_id]) for s, h in out.heads.items()]
                    conn.execute(WRITE, (
                        *columns(out.inserts, 5),
                        *columns([(s, c, m) for (s, c), m in out.lasts.items()], 3),
                        *columns(list(out.heads.items()), 2),
                        CHANNEL, hints,
                    ))  # fmt: skip
                conn.execute("COMMIT")  # sent with the writes; the pipeline's exit syncs:
                # the second round trip, durable when it returns
            self._known.update(spaces)
        except BaseException:  # the open transaction (and its locks) must not survive:
            self._drop()  # closing the connection rolls it back on the server
            raise
        return out

    def reset(self) -> None:
        """Nothing is cached across transactions here: every append reads under its lock."""

    def compact(self, key: DocKey, max_rows: int) -> int:
        conn = self._conn()
        try:
            with conn.transaction():
                got = conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (doc_lock_id(key),))
                row = got.fetchone()
                if row is None or not row[0]:
                    return 0  # another process is compacting this document
                found = conn.execute(
                    "SELECT seq, data FROM yloft_log WHERE space=%s AND collection=%s"
                    " AND doc_id=%s ORDER BY seq LIMIT %s",
                    (*key, max_rows),
                ).fetchall()
                plan = compaction_rows([(int(s), bytes(d)) for s, d in found])
                if plan is None:
                    return 0
                keep, merged = plan
                conn.execute(
                    "DELETE FROM yloft_log WHERE space=%s AND collection=%s AND doc_id=%s"
                    " AND seq<=%s",
                    (*key, keep),
                )
                conn.execute(
                    "INSERT INTO yloft_log VALUES (%s, %s, %s, %s, %s)",
                    (key[0], keep, key[1], key[2], merged),
                )
        except psycopg.Error:
            self._drop()
            raise
        return len(found) - 1

    # ------------------------------------------------------------- reads

    def doc_rows(self, key: DocKey) -> int:
        rows = self._read(
            "SELECT count(*) FROM yloft_log WHERE space=%s AND collection=%s AND doc_id=%s", key
        )
        return int(rows[0][0])

    def since(self, space: str, last_seq: int) -> tuple[list[Row], int]:
        # The head and the rows up to it in ONE statement, so one snapshot: head H
        # committed means every seq <= H committed with or before it (the counter row
        # lock). Read in two statements, a compaction committed in between could move
        # rows <= H into a merged row past H, which the second would leave out.
        rows = self._read(
            "SELECT h.head, l.seq, l.collection, l.doc_id, l.data FROM"
            " (SELECT coalesce(max(head), 0) AS head FROM yloft_spaces WHERE space=%s) h"
            " LEFT JOIN yloft_log l ON l.space=%s AND l.seq>%s AND l.seq<=h.head"
            " ORDER BY l.seq",
            (space, space, last_seq),
        )
        found = [(int(s), c, d, bytes(u)) for _h, s, c, d, u in rows if s is not None]
        return found, int(rows[0][0])

    def heads(self, spaces: list[str]) -> dict[str, int]:
        found = dict(
            self._read("SELECT space, head FROM yloft_spaces WHERE space = ANY(%s)", (spaces,))
        )
        return {s: int(found.get(s, 0)) for s in spaces}

    def doc_updates(self, space: str, collection: str, doc_id: str) -> list[bytes]:
        rows = self._read(
            "SELECT data FROM yloft_log WHERE space=%s AND collection=%s AND doc_id=%s"
            " ORDER BY seq",
            (space, collection, doc_id),
        )
        return [bytes(r[0]) for r in rows]

    def close(self) -> None:
        self._conns.close_all()
