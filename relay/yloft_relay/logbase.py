"""The log interface both backends implement, and the logic they share.

A backend (:class:`LogBackend`) stores the relay's log: per-space rows
``(seq, collection, doc_id, data)``, per-space heads, and per-client last msg_ids.
:mod:`.sqlite_log` keeps it in one SQLite file (one relay process);
:mod:`.pg_log` keeps it in PostgreSQL, shared by any number of relay processes.

What does not depend on the engine lives here: sequence numbers and msg_id dedup
for a batch (:func:`assign`), what a compaction writes (:func:`squash`), the
push/result records, one connection per thread (:class:`PerThread`) and the error a
backend raises when its database cannot be reached (:class:`StorageUnavailable`).

Example:
    >>> job = PushJob("s", "c1", 1, "notes", "n1", b"\\x00\\x00", None)
    >>> out = assign([job, job], head_of=lambda s: 0, last_of=lambda s, c: 0)
    >>> [r.seq for r in out.results], out.heads
    ([1, 0], {'s': 1})
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from pycrdt import Doc, get_state, get_update, merge_updates

from yloft.wire import Reader as ProtoReader

Row = tuple[int, str, str, bytes]
"""One log row as read back: ``(seq, collection, doc_id, data)``."""
DocKey = tuple[str, str, str]
"""``(space, collection, doc_id)``."""


class StorageUnavailable(OSError):
    """The log's database cannot be reached; the message names it and what to do."""


@dataclass(frozen=True, slots=True)
class PushJob:
    """One update to store; ``origin`` is opaque to the log (the pushing peer)."""

    space: str
    client_id: str
    msg_id: int
    collection: str
    doc_id: str
    update: bytes
    origin: Any
    early: int = 0
    """A room push already written to its room's peers on arrival: the relay's join tick
    then (room peers that joined later get it after COMMIT); 0 for every other push."""


@dataclass(frozen=True, slots=True)
class Result:
    """A committed push: its seq, 0 when the client had pushed ``msg_id`` before,
    -1 when the batch could not be stored (nothing of it is acknowledged)."""

    job: PushJob
    seq: int


@dataclass
class Assigned:
    """What one batch writes: results in batch order, rows, client msg_ids, heads."""

    results: list[Result] = field(default_factory=list)
    inserts: list[tuple[str, int, str, str, bytes]] = field(default_factory=list)
    lasts: dict[tuple[str, str], int] = field(default_factory=dict)
    heads: dict[str, int] = field(default_factory=dict)
    doc_rows: dict[DocKey, int] = field(default_factory=dict)
    """Rows added per document by this batch."""


def assign(
    batch: list[PushJob],
    *,
    head_of: Callable[[str], int],
    last_of: Callable[[str, str], int],
) -> Assigned:
    """Give each new push the next seq of its space; a msg_id seen before gets 0.

    ``head_of``/``last_of`` read the committed head and last msg_id (inside the
    writing transaction, where the backend holds whatever lock makes them stable).
    """
    out = Assigned()
    for job in batch:
        ckey = (job.space, job.client_id)
        last = out.lasts.get(ckey)
        if last is None:
            last = last_of(*ckey)
        if job.msg_id and job.msg_id <= last:
            out.results.append(Result(job, 0))
            continue
        if job.msg_id:
            out.lasts[ckey] = job.msg_id
        seq = out.heads.get(job.space)
        seq = (head_of(job.space) if seq is None else seq) + 1
        out.heads[job.space] = seq
        out.inserts.append((job.space, seq, job.collection, job.doc_id, job.update))
        dkey = (job.space, job.collection, job.doc_id)
        out.doc_rows[dkey] = out.doc_rows.get(dkey, 0) + 1
        out.results.append(Result(job, seq))
    return out


class LogBackend(Protocol):
    """One engine behind the relay's log. Writes come from one thread per process;
    reads (``since``, ``doc_updates``, ``heads``) from any thread."""

    relay_id: str
    """The log's id, fixed when the log is created; the same for every process."""

    def append(
        self, batch: list[PushJob], before_commit: Callable[[Assigned], None] | None = None
    ) -> Assigned:
        """Store a batch in one transaction, durable when this returns; raises on failure.

        ``before_commit`` sees the seqs just before COMMIT (the fan-out then knows
        them as this process's own, whichever of hint and result reaches it first).
        """

    def reset(self) -> None:
        """Forget cached state after a failed append (the next one re-reads or reconnects)."""

    def doc_rows(self, key: DocKey) -> int:
        """How many rows one document has in the log."""

    def compact(self, key: DocKey, max_rows: int) -> int:
        """Merge up to ``max_rows`` oldest rows of one document into one (the highest
        seq kept); return the rows removed (0 when skipped). Never blocks writers."""

    def since(self, space: str, last_seq: int) -> tuple[list[Row], int]:
        """Rows of ``space`` after ``last_seq`` in seq order, and the head, consistent:
        every row up to the head is included (or merged into a later included row)."""

    def heads(self, spaces: list[str]) -> dict[str, int]:
        """The committed head of each space (absent: 0)."""

    def doc_updates(self, space: str, collection: str, doc_id: str) -> list[bytes]:
        """Every stored update of one document, oldest first."""

    def close(self) -> None:
        """Close every connection."""


C = TypeVar("C")


class PerThread(Generic[C]):
    """One connection per thread; :meth:`close_all` closes every one (``close()``).

    A connection is kept until :meth:`drop` (its thread's, after a failure) or
    :meth:`close_all`; one whose thread has ended is closed when another is added.
    After :meth:`close_all` each thread opens a new one on its next use.
    """

    def __init__(self, close: Callable[[C], None]) -> None:
        self._close = close
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[tuple[threading.Thread, C]] = []
        self._generation = 0

    def current(self) -> C | None:
        """This thread's connection, or None (none yet, dropped or closed since)."""
        entry: tuple[int, C] | None = getattr(self._local, "entry", None)
        if entry is None or entry[0] != self._generation:
            return None
        return entry[1]

    def add(self, conn: C) -> C:
        """Keep ``conn`` as this thread's connection; return it."""
        with self._lock:
            ended = [c for t, c in self._open if not t.is_alive()]
            self._open = [(t, c) for t, c in self._open if t.is_alive()]
            self._open.append((threading.current_thread(), conn))
            self._local.entry = (self._generation, conn)
        for old in ended:
            self._close(old)
        return conn

    def drop(self) -> None:
        """Close and forget this thread's connection."""
        conn = self.current()
        self._local.entry = None
        if conn is None:
            return
        with self._lock:
            self._open = [(t, c) for t, c in self._open if c is not conn]
        self._close(conn)

    def close_all(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            conns = [c for _t, c in self._open]
            self._open = []
            self._generation += 1
        for conn in conns:
            self._close(conn)


def compaction_rows(found: list[tuple[int, bytes]]) -> tuple[int, bytes] | None:
    """``(seq to keep, merged update)`` for the oldest rows of a document, or None."""
    if len(found) < 2:
        return None
    return found[-1][0], squash([bytes(d) for _s, d in found])


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
