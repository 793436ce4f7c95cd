"""The relay's durable log: one writer thread with group commit, over a backend.

Every push goes to :class:`Writer`, whose thread takes all pushes waiting at that
moment and hands them to the backend (:mod:`.logbase`), which assigns per-space
sequence numbers and stores them in ONE transaction, durable when it returns
(SQLite: ``synchronous=FULL`` in WAL mode; PostgreSQL: ``synchronous_commit=on``).
Only then does the writer hand the results back to the event loop, which acks
and fans out. So nothing is acknowledged or forwarded before it is durable, and
under load one fsync covers many pushes.

Between batches the same thread compacts documents whose log grew past
``compact_after`` rows: at most ``compact_max_rows`` rows are merged with pycrdt
``merge_updates`` and replaced by one row carrying the highest merged seq. A
client that holds an older seq then receives the merged row, a superset of
what it missed (Yjs updates are idempotent), so catch-up stays correct.

``db`` is a SQLite path, or a ``postgresql://`` URL for a log that several relay
processes share (:mod:`.pg_log`). Reads (catch-up, y-websocket sync) go through
:class:`Reader` from any thread.

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
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from pycrdt import get_state, merge_updates

from .logbase import (
    Assigned,
    DocKey,
    LogBackend,
    PushJob,
    Result,
    Row,
    StorageUnavailable,
    squash,
)
from .sqlite_log import SqliteLog, open_db

__all__ = [
    "PushJob", "Reader", "Result", "StorageUnavailable", "Writer",
    "is_postgres", "open_db", "open_log", "squash",
]  # fmt: skip


log = logging.getLogger("yloft_relay")


def is_postgres(db: str) -> bool:
    """True when ``db`` names a PostgreSQL database rather than a SQLite file."""
    return db.startswith(("postgresql://", "postgres://"))


def open_log(db: str) -> LogBackend:
    """The backend for ``db``: a SQLite file, or PostgreSQL for a ``postgresql://`` URL.

    Raises:
        StorageUnavailable: PostgreSQL cannot be reached (the message says where).
    """
    if is_postgres(db):
        from .pg_log import PgLog  # here only because psycopg is optional: yloft[postgres]

        return PgLog(db)
    return SqliteLog(db)


class Writer:
    """The single writer of one process: group commit of pushes, then compaction."""

    def __init__(
        self,
        db: str,
        on_commit: Callable[[list[Result]], None],
        *,
        batch_max: int = 2048,
        compact_after: int = 64,
        compact_max_rows: int = 4096,
        backend: LogBackend | None = None,
        on_batch: Callable[[float, int], None] | None = None,
    ) -> None:
        self.log = backend or open_log(db)
        self.on_commit = on_commit
        self.on_batch = on_batch
        """Called with (commit seconds, pushes) after each committed batch (metrics)."""
        self.batch_max = batch_max
        self.compact_after = compact_after
        self.compact_max_rows = compact_max_rows
        self._q: queue.SimpleQueue[PushJob | threading.Event | None] = queue.SimpleQueue()
        self._rows: dict[DocKey, int] = {}
        self._to_compact: OrderedDict[DocKey, None] = OrderedDict()
        self.batches = 0
        self.compactions = 0
        self.failed = False
        """True while the last commit failed (``/healthz``)."""
        self.inflight: set[tuple[str, int]] = set()
        """(space, seq) of this writer's commits not yet handed to the fan-out."""
        self._inflight_lock = threading.Lock()
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
        self.log.close()

    def _commit(self, batch: list[PushJob]) -> None:
        t0 = time.perf_counter()
        mine: list[tuple[str, int]] = []

        def before_commit(out: Assigned) -> None:
            mine.extend((space, seq) for space, seq, *_rest in out.inserts)
            with self._inflight_lock:
                self.inflight.update(mine)

        try:
            out = self.log.append(batch, before_commit)
        except Exception as exc:
            self.settled(mine)
            log.error("relay log commit failed; %d pushes not acknowledged: %s", len(batch), exc)
            self.failed = True
            self.log.reset()
            self._rows.clear()
            self.on_commit([Result(job, -1) for job in batch])
            return
        self.batches += 1
        self.failed = False
        if self.on_batch is not None:
            self.on_batch(time.perf_counter() - t0, len(batch))
        for dkey, added in out.doc_rows.items():
            n = self._rows.get(dkey)
            if n is None:
                n = self.log.doc_rows(dkey)
            else:
                n += added
            if len(self._rows) > 100_000:
                self._rows.clear()
            self._rows[dkey] = n
            if n >= self.compact_after:
                self._to_compact[dkey] = None
        self.on_commit(out.results)

    def is_inflight(self, space: str, seq: int) -> bool:
        """True while ``seq`` is this writer's commit whose result is on its way."""
        with self._inflight_lock:
            return (space, seq) in self.inflight

    def settled(self, keys: list[tuple[str, int]]) -> None:
        """The fan-out has these results (or they failed)."""
        if keys:
            with self._inflight_lock:
                self.inflight.difference_update(keys)

    def _compact_one(self) -> None:
        if not self._to_compact:
            return
        key, _ = self._to_compact.popitem(last=False)
        try:
            self.compact(*key)
        except Exception as exc:
            log.warning("not compacting %s: %s; its log stays as it was", key, exc)
            self._rows[key] = -(1 << 40)  # do not retry until the relay restarts

    def compact(self, space: str, collection: str, doc_id: str) -> int:
        """Merge the oldest rows of one document into one; return the rows removed.

        Runs in one transaction: readers see either the old rows or the merged one.
        """
        key = (space, collection, doc_id)
        removed = self.log.compact(key, self.compact_max_rows)
        if removed:
            self.compactions += 1
        left = self.log.doc_rows(key)
        self._rows[key] = left
        if removed and left >= self.compact_after:
            self._to_compact[key] = None
        return removed


class Reader:
    """Read-side queries, safe from any thread (``asyncio.to_thread``)."""

    def __init__(self, db: str, backend: LogBackend | None = None) -> None:
        self.log = backend or open_log(db)

    def since(self, space: str, last_seq: int) -> tuple[list[Row], int]:
        """Rows of ``space`` after ``last_seq`` and the head, consistent with each other."""
        return self.log.since(space, last_seq)

    def heads(self, spaces: list[str]) -> dict[str, int]:
        """The committed head of each space."""
        return self.log.heads(spaces)

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
        return self.log.doc_updates(space, collection, doc_id)
