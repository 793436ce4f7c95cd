"""The relay's durable log: SQLite, one writer thread with group commit.

Every push goes to :class:`Writer`, whose thread takes all pushes waiting at that
moment, assigns per-space sequence numbers, inserts them in ONE transaction and
commits with ``synchronous=FULL`` in WAL mode (the WAL is fsynced before COMMIT
returns). Only then does it hand the results back to the event loop, which acks
and fans out. So nothing is acknowledged or forwarded before it is durable, and
under load one fsync covers many pushes.

Between batches the same thread compacts documents whose log grew past
``compact_after`` rows: at most ``compact_max_rows`` rows are merged with pycrdt
``merge_updates`` and replaced by one row carrying the highest merged seq. A
client that holds an older seq then receives the merged row, a superset of
what it missed (Yjs updates are idempotent), so catch-up stays correct.

Reads (catch-up, y-websocket sync) use their own connections from any thread.

Example:
    >>> import tempfile, os, queue
    >>> path = os.path.join(tempfile.mkdtemp(), "relay.db")
    >>> done: queue.Queue[list[Result]] = queue.Queue()
    >>> w = Writer(path, done.put)
    >>> w.submit(PushJob("s", "c1", 1, "notes", "n1", b"\\x00\\x00", None))
    >>> [r.seq for r in done.get(timeout=10)]
    [1]
    >>> w.close()
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pycrdt import Doc, get_state, get_update, merge_updates

from yloft.sync.protocol import Reader as ProtoReader

log = logging.getLogger("yloft_relay")

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


@dataclass(frozen=True, slots=True)
class PushJob:
    """One update to store; ``origin`` is opaque to the writer (the pushing peer)."""

    space: str
    client_id: str
    msg_id: int
    collection: str
    doc_id: str
    update: bytes
    origin: Any


@dataclass(frozen=True, slots=True)
class Result:
    """A committed push: its seq, or 0 when the client had pushed ``msg_id`` before."""

    job: PushJob
    seq: int


class _Lru(OrderedDict[Any, int]):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key: Any, value: int) -> None:
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.size:
            self.popitem(last=False)


class Writer:
    """The single writer: group commit of pushes, then compaction when idle."""

    def __init__(
        self,
        path: str,
        on_commit: Callable[[list[Result]], None],
        *,
        batch_max: int = 2048,
        compact_after: int = 64,
        compact_max_rows: int = 4096,
    ) -> None:
        open_db(path)
        self.path = path
        self.on_commit = on_commit
        self.batch_max = batch_max
        self.compact_after = compact_after
        self.compact_max_rows = compact_max_rows
        self._q: queue.SimpleQueue[PushJob | threading.Event | None] = queue.SimpleQueue()
        self._heads = _Lru(10_000)
        self._clients = _Lru(100_000)
        self._rows = _Lru(100_000)  # (space, collection, doc_id) -> rows in log
        self._to_compact: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        self.batches = 0
        self.compactions = 0
        self._conn = connect(path)
        self._thread = threading.Thread(target=self._run, name="yloft-relay-writer", daemon=True)
        self._thread.start()

    def submit(self, job: PushJob) -> None:
        """Queue a push; ``on_commit`` is called from the writer thread once it is durable."""
        self._q.put(job)

    def compact_pending(self, timeout: float = 60) -> None:
        """Block until every push queued so far is committed and every due compaction ran."""
        done = threading.Event()
        self._q.put(done)
        if not done.wait(timeout):
            raise TimeoutError("the relay writer did not finish its queue in time")

    def close(self) -> None:
        """Finish queued work, stop the thread, close the database."""
        self._q.put(None)
        self._thread.join()
        self._conn.close()

    # -------------------------------------------------------------- thread

    def _run(self) -> None:
        stop = False
        while not stop:
            try:
                first = self._q.get(timeout=0.05 if self._to_compact else None)
            except queue.Empty:
                self._compact_one()
                continue
            batch: list[PushJob] = []
            barrier: threading.Event | None = None
            job = first
            while True:
                if job is None:
                    stop = True
                    break
                if isinstance(job, threading.Event):
                    barrier = job
                    break
                batch.append(job)
                if len(batch) >= self.batch_max:
                    break
                try:
                    job = self._q.get_nowait()
                except queue.Empty:
                    break
            if batch:
                try:
                    self._commit(batch)
                except Exception:  # e.g. the event loop is gone: log, keep the thread alive
                    log.exception("relay writer: handing a committed batch back failed")
            if barrier is not None:
                while self._to_compact:
                    self._compact_one()
                barrier.set()

    def _head(self, space: str) -> int:
        head = self._heads.get(space)
        if head is None:
            row = self._conn.execute("SELECT max(seq) FROM log WHERE space=?", (space,)).fetchone()
            head = int(row[0] or 0)
        return head

    def _last_msg(self, space: str, client: str) -> int:
        last = self._clients.get((space, client))
        if last is None:
            row = self._conn.execute(
                "SELECT last_msg_id FROM clients WHERE space=? AND client_id=?", (space, client)
            ).fetchone()
            last = int(row[0]) if row else 0
        return last

    def _doc_rows(self, key: tuple[str, str, str]) -> int:
        n = self._rows.get(key)
        if n is None:
            row = self._conn.execute(
                "SELECT count(*) FROM log WHERE space=? AND collection=? AND doc_id=?", key
            ).fetchone()
            n = int(row[0])
        return n

    def _commit(self, batch: list[PushJob]) -> None:
        heads: dict[str, int] = {}
        lasts: dict[tuple[str, str], int] = {}
        rows: dict[tuple[str, str, str], int] = {}
        results: list[Result] = []
        inserts: list[tuple[str, int, str, str, bytes]] = []
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            for job in batch:
                ckey = (job.space, job.client_id)
                last = lasts.get(ckey)
                if last is None:
                    last = self._last_msg(*ckey)
                if job.msg_id and job.msg_id <= last:
                    results.append(Result(job, 0))
                    continue
                if job.msg_id:
                    lasts[ckey] = job.msg_id
                seq = heads.get(job.space)
                seq = (self._head(job.space) if seq is None else seq) + 1
                heads[job.space] = seq
                inserts.append((job.space, seq, job.collection, job.doc_id, job.update))
                dkey = (job.space, job.collection, job.doc_id)
                n = rows.get(dkey)
                rows[dkey] = (self._doc_rows(dkey) if n is None else n) + 1
                results.append(Result(job, seq))
            self._conn.executemany("INSERT INTO log VALUES (?, ?, ?, ?, ?)", inserts)
            self._conn.executemany(
                "INSERT INTO clients VALUES (?, ?, ?) ON CONFLICT(space, client_id)"
                " DO UPDATE SET last_msg_id=excluded.last_msg_id",
                [(s, c, m) for (s, c), m in lasts.items()],
            )
            self._conn.execute("COMMIT")  # synchronous=FULL + WAL: fsynced here
        except Exception:
            log.exception("relay log commit failed; %d pushes not acknowledged", len(batch))
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            self._heads.clear()
            self._clients.clear()
            self._rows.clear()
            self.on_commit([Result(job, -1) for job in batch])
            return
        self.batches += 1
        for space, head in heads.items():
            self._heads.put(space, head)
        for ckey, last in lasts.items():
            self._clients.put(ckey, last)
        for dkey, n in rows.items():
            self._rows.put(dkey, n)
            if n >= self.compact_after:
                self._to_compact[dkey] = None
        self.on_commit(results)

    def _compact_one(self) -> None:
        if not self._to_compact:
            return
        key, _ = self._to_compact.popitem(last=False)
        try:
            self.compact(*key)
        except Exception as exc:
            log.warning("not compacting %s: %s; its log stays as it was", key, exc)
            self._rows.put(key, -(1 << 40))  # do not retry until the relay restarts

    def compact(self, space: str, collection: str, doc_id: str) -> int:
        """Merge the oldest rows of one document into one; return the rows removed.

        Runs in one transaction: readers see either the old rows or the merged one.
        """
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            found = conn.execute(
                "SELECT seq, data FROM log WHERE space=? AND collection=? AND doc_id=?"
                " ORDER BY seq LIMIT ?",
                (space, collection, doc_id, self.compact_max_rows),
            ).fetchall()
            if len(found) < 2:
                conn.execute("ROLLBACK")
                return 0
            merged = squash([bytes(r[1]) for r in found])
            seqs = [r[0] for r in found]
            conn.execute(
                "DELETE FROM log WHERE space=? AND collection=? AND doc_id=? AND seq<=?",
                (space, collection, doc_id, seqs[-1]),
            )
            conn.execute(
                "INSERT INTO log VALUES (?, ?, ?, ?, ?)",
                (space, seqs[-1], collection, doc_id, merged),
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self.compactions += 1
        key = (space, collection, doc_id)
        left = self._doc_rows_uncached(key)
        self._rows.put(key, left)
        if left >= self.compact_after:
            self._to_compact[key] = None
        return len(found) - 1

    def _doc_rows_uncached(self, key: tuple[str, str, str]) -> int:
        row = self._conn.execute(
            "SELECT count(*) FROM log WHERE space=? AND collection=? AND doc_id=?", key
        ).fetchone()
        return int(row[0])


def _state_vector(sv: bytes) -> dict[int, int]:
    r = ProtoReader(sv)
    out = {}
    for _ in range(r.read_varuint()):
        client = r.read_varuint()
        out[client] = r.read_varuint()
    return out


def squash(updates: list[bytes]) -> bytes:
    """One update equivalent to ``updates``, as small as we can make it.

    ``merge_updates`` keeps every struct (it does not join runs of typed text), so
    the updates are also applied to a fresh document whose own encoding joins them;
    that encoding is used when it is smaller AND complete: a document silently
    drops structs and deletions whose dependencies are missing, the merge keeps them.

    Raises:
        ValueError: the updates decode one by one but not together (a hostile
            peer); the caller then leaves them as they are.
    """
    merged = merge_updates(*updates)
    state = _state_vector(get_state(merged))  # raises ValueError on a broken merge
    doc: Doc[Any] = Doc()
    try:
        for update in updates:
            doc.apply_update(update)
        encoded = doc.get_update()
    except Exception:
        return merged
    if len(encoded) >= len(merged):
        return merged
    # Complete only if nothing is left beyond the document's state that the merge
    # still holds: no pending structs and the same delete set.
    have = doc.get_state()
    if _state_vector(have) == state and get_update(merged, have) == get_update(encoded, have):
        return encoded
    return merged


class Reader:
    """Read-side queries; one connection per thread (safe from ``asyncio.to_thread``)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._local.conn = conn
        return conn

    def since(self, space: str, last_seq: int) -> tuple[list[tuple[int, str, str, bytes]], int]:
        """Rows of ``space`` after ``last_seq`` and the head seq, from one snapshot."""
        conn = self._conn()
        conn.execute("BEGIN")
        try:
            rows = conn.execute(
                "SELECT seq, collection, doc_id, data FROM log WHERE space=? AND seq>?"
                " ORDER BY seq",
                (space, last_seq),
            ).fetchall()
            head = conn.execute("SELECT max(seq) FROM log WHERE space=?", (space,)).fetchone()
        finally:
            conn.execute("COMMIT")
        return rows, int(head[0] or 0)

    def catchup(self, space: str, last_seq: int) -> tuple[list[tuple[int, str, str, bytes]], int]:
        """What a client at ``last_seq`` misses: ONE entry per document, and the head.

        Each document's rows after ``last_seq`` are merged (``merge_updates``) into
        one update carrying the document's highest seq, sorted by that seq: one
        header per document instead of one per update (about half the bytes for
        small edits). Rows that do not merge are sent as they are.
        """
        rows, head = self.since(space, last_seq)
        by_doc: dict[tuple[str, str], list[tuple[int, bytes]]] = {}
        for seq, collection, doc_id, data in rows:
            by_doc.setdefault((collection, doc_id), []).append((seq, bytes(data)))
        out: list[tuple[int, str, str, bytes]] = []
        for (collection, doc_id), items in by_doc.items():
            if len(items) == 1:
                out.append((items[0][0], collection, doc_id, items[0][1]))
                continue
            try:
                merged = merge_updates(*[u for _s, u in items])
                get_state(merged)  # updates that decode alone may still merge badly
            except ValueError:
                out += [(s, collection, doc_id, u) for s, u in items]
                continue
            out.append((items[-1][0], collection, doc_id, merged))
        out.sort()
        return out, head

    def doc_updates(self, space: str, collection: str, doc_id: str) -> list[bytes]:
        """Every stored update of one document, oldest first."""
        rows = (
            self._conn()
            .execute(
                "SELECT data FROM log WHERE space=? AND collection=? AND doc_id=? ORDER BY seq",
                (space, collection, doc_id),
            )
            .fetchall()
        )
        return [bytes(r[0]) for r in rows]
