"""The contract every relay log backend meets, as a suite a new backend runs.

In the style of automerge-repo's ``runStorageAdapterTests``: a backend (a
:class:`~.logbase.LogBackend`) is done when :func:`run_log_backend_tests` passes on it.
``open_log(name)`` opens the log called ``name``: an empty log the first time, the same
log again once the previous backend on it was closed (a restart). With ``shared=True``
the log is one that several relay processes write at the same time (PostgreSQL's), and
``open_log`` is also called while another backend on the same log is open.

Each check is a plain function raising :class:`AssertionError` (no pytest needed; not
an ``assert`` statement, so ``python -O`` keeps it). The runner runs every check, each
on logs of its own, and raises :class:`ContractError` naming each one that failed.

Example::

    def test_my_log(tmp_path):
        run_log_backend_tests(lambda name: MyLog(str(tmp_path / f"{name}.db")))
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pycrdt import Doc, Text

from .logbase import Assigned, LogBackend, PushJob

OpenLog = Callable[[str], LogBackend]
Check = Callable[[OpenLog], None]

CHECKS: dict[str, Check] = {}
"""Every check by name, run on any backend."""
SHARED_CHECKS: dict[str, Check] = {}
"""Run too when the log is shared by several processes (``shared=True``)."""
TIMEOUT = 60.0
"""Seconds a check's threads may take before it fails (a backend that hangs)."""


class ContractError(AssertionError):
    """Checks of the contract failed: ``failures`` maps each one's name to its error."""

    def __init__(self, failures: dict[str, BaseException], total: int) -> None:
        self.failures = failures
        parts = [
            f"--- {name}:\n" + "".join(traceback.format_exception(exc)).rstrip()
            for name, exc in failures.items()
        ]
        super().__init__(
            f"{len(failures)} of {total} log backend checks failed: "
            f"{', '.join(failures)}\n" + "\n".join(parts)
        )


def run_log_backend_tests(open_log: OpenLog, *, shared: bool = False) -> None:
    """Run every check of the contract on the backends ``open_log`` opens.

    Raises:
        ContractError: one or more checks failed (each one's error is kept).
    """
    checks = {**CHECKS, **(SHARED_CHECKS if shared else {})}
    failures: dict[str, BaseException] = {}
    for name, check in checks.items():
        try:
            check(_named(open_log, name))
        except Exception as exc:  # every failure is reported, with its traceback
            failures[name] = exc
    if failures:
        raise ContractError(failures, len(checks))


def _named(open_log: OpenLog, prefix: str) -> OpenLog:
    """``open_log`` on names of one check's own (``"<check>-<name>"``)."""
    return lambda name: open_log(f"{prefix}-{name}")


def _check(fn: Check) -> Check:
    CHECKS[fn.__name__] = fn
    return fn


def _shared_check(fn: Check) -> Check:
    SHARED_CHECKS[fn.__name__] = fn
    return fn


def _equal(got: object, want: object, what: str) -> None:
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, expected {want!r}")


def _true(ok: bool, what: str) -> None:
    if not ok:
        raise AssertionError(what)


@contextmanager
def _opened(open_log: OpenLog, name: str = "log") -> Iterator[LogBackend]:
    log = open_log(name)
    try:
        yield log
    finally:
        log.close()


def _job(space: str, client: str, msg_id: int, doc_id: str, data: bytes) -> PushJob:
    return PushJob(space, client, msg_id, "notes", doc_id, data, None)


def _seqs(log: LogBackend, batch: list[PushJob]) -> list[int]:
    return [r.seq for r in log.append(batch).results]


class _Author:
    """Yjs updates of text documents, each appending a token; their expected texts."""

    def __init__(self) -> None:
        self.docs: dict[str, Doc[Any]] = {}

    def update(self, doc_id: str, token: str) -> bytes:
        doc = self.docs.setdefault(doc_id, Doc())
        before = doc.get_state()
        text = doc.get("t", type=Text)
        text.insert(len(text), token)
        return doc.get_update(before)


def _text(updates: list[bytes]) -> str:
    doc: Doc[Any] = Doc()
    for update in updates:
        doc.apply_update(update)
    return str(doc.get("t", type=Text))


def _run_threads(targets: list[Callable[[], None]]) -> None:
    """Run each target in a thread; re-raise the first error; fail on a hang."""
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(t,), daemon=True) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
        _true(not t.is_alive(), f"a thread of the check did not finish in {TIMEOUT} s")
    if errors:
        raise errors[0]


# ------------------------------------------------------------------ checks


@_check
def relay_id(open_log: OpenLog) -> None:
    """A non-empty id, kept across a restart, not the same as another log's."""
    with _opened(open_log, "a") as log:
        first = log.relay_id
    _true(isinstance(first, str) and first != "", f"relay_id is {first!r}")
    with _opened(open_log, "a") as log:
        _equal(log.relay_id, first, "relay_id after a restart")
    with _opened(open_log, "b") as log:
        _true(log.relay_id != first, "two logs have the same relay_id")


@_check
def gap_free_seqs(open_log: OpenLog) -> None:
    """Each space numbers its pushes 1, 2, 3 … in batch order; results keep batch order."""
    with _opened(open_log) as log:
        _equal(log.heads(["s", "t"]), {"s": 0, "t": 0}, "heads of an empty log")
        batch = [_job("s", "c1", 1, "a", b"1"), _job("t", "c1", 1, "a", b"2"),
                 _job("s", "c1", 2, "b", b"3"), _job("s", "c2", 1, "a", b"4"),
                 _job("t", "c2", 1, "b", b"5")]  # fmt: skip
        out = log.append(batch)
        _equal([r.job for r in out.results], batch, "results (batch order)")
        _equal([r.seq for r in out.results], [1, 1, 2, 3, 2], "seqs of the first batch")
        _equal(out.heads, {"s": 3, "t": 2}, "Assigned.heads")
        _equal(out.doc_rows, {("s", "notes", "a"): 2, ("s", "notes", "b"): 1,
                              ("t", "notes", "a"): 1, ("t", "notes", "b"): 1},
               "Assigned.doc_rows")  # fmt: skip
        _equal(_seqs(log, [_job("s", "c1", 3, "a", b"6")]), [4], "the next batch's seq")
        _equal(_seqs(log, [_job("t", "c3", 0, "a", b"7")] * 2), [3, 4], "msg_id 0 (no dedup)")
        _equal(log.heads(["s", "t", "u"]), {"s": 4, "t": 4, "u": 0}, "heads()")
        _equal(log.append([]).results, [], "an empty batch")
        _equal(log.heads(["s"]), {"s": 4}, "heads after an empty batch")


@_check
def msg_id_dedup(open_log: OpenLog) -> None:
    """A (space, client) msg_id at or below the last stored one gets seq 0, stores nothing."""
    with _opened(open_log) as log:
        _equal(_seqs(log, [_job("s", "c", 5, "a", b"x"), _job("s", "c", 5, "a", b"x")]),
               [1, 0], "the same msg_id twice in one batch")  # fmt: skip
        _equal(_seqs(log, [_job("s", "c", 5, "a", b"x")]), [0], "a msg_id pushed before")
        _equal(_seqs(log, [_job("s", "c", 4, "a", b"x")]), [0], "an older msg_id")
        _equal(_seqs(log, [_job("s", "d", 5, "a", b"y")]), [2], "another client's msg_id 5")
        _equal(_seqs(log, [_job("t", "c", 5, "a", b"z")]), [1], "the same client in another space")
        _equal(_seqs(log, [_job("s", "c", 6, "a", b"w")]), [3], "the next msg_id")
        rows, head = log.since("s", 0)
        _equal([(r[0], bytes(r[3])) for r in rows], [(1, b"x"), (2, b"y"), (3, b"w")],
               "rows stored (no duplicates)")  # fmt: skip
        _equal(head, 3, "head")


@_check
def catch_up_from_a_cursor(open_log: OpenLog) -> None:
    """``since`` gives the space's rows after the cursor, in seq order, as stored, and the head."""
    binary = bytes(range(256))
    names = [("notes", "n 1/é"), ("tags", "a" * 200), ("notes", "x")]
    with _opened(open_log) as log:
        for i, (collection, doc_id) in enumerate(names, start=1):
            log.append([PushJob("s", "c", i, collection, doc_id, binary + bytes([i]), None),
                        PushJob("other", "c", i, collection, doc_id, b"no", None)])  # fmt: skip
        want = [(i, c, d, binary + bytes([i])) for i, (c, d) in enumerate(names, start=1)]
        for cursor in (0, 1, 2):
            rows, head = log.since("s", cursor)
            got = [(s, c, d, bytes(u)) for s, c, d, u in rows]
            _equal(got, want[cursor:], f"since('s', {cursor})")
            _equal(head, 3, f"the head from since('s', {cursor})")
            _true(all(type(s) is int and isinstance(u, bytes) for s, _c, _d, u in rows),
                  "rows are (int, str, str, bytes)")  # fmt: skip
        _equal(log.since("s", 3), ([], 3), "since the head")
        _equal(log.since("s", 10), ([], 3), "since past the head")
        _equal(log.since("nowhere", 0), ([], 0), "since in an unknown space")


@_check
def document_rows(open_log: OpenLog) -> None:
    """``doc_rows`` counts one document's rows; ``doc_updates`` gives them oldest first."""
    with _opened(open_log) as log:
        log.append([_job("s", "c", 1, "a", b"a1"), _job("s", "c", 2, "b", b"b1"),
                    _job("s", "c", 3, "a", b"a2"), _job("t", "c", 1, "a", b"t1")])  # fmt: skip
        log.append([_job("s", "c", 4, "a", b"a3")])
        _equal(log.doc_rows(("s", "notes", "a")), 3, "doc_rows of a")
        _equal(log.doc_rows(("s", "notes", "b")), 1, "doc_rows of b")
        _equal(log.doc_rows(("s", "notes", "z")), 0, "doc_rows of an unknown document")
        _equal(log.doc_updates("s", "notes", "a"), [b"a1", b"a2", b"a3"], "doc_updates of a")
        _equal(log.doc_updates("s", "tags", "a"), [], "doc_updates in another collection")


class _Refused(Exception):
    pass


@_check
def failed_append_stores_nothing(open_log: OpenLog) -> None:
    """A batch that fails before COMMIT leaves no row, head or msg_id; after ``reset()``
    the next batch takes the seqs it would have had."""
    with _opened(open_log) as log:
        log.append([_job("s", "c", 1, "a", b"1")])
        seen: list[list[int]] = []

        def refuse(out: Assigned) -> None:
            seen.append([seq for _space, seq, *_rest in out.inserts])
            raise _Refused

        try:
            log.append([_job("s", "c", 2, "a", b"2"), _job("t", "c", 1, "a", b"3")], refuse)
        except _Refused:
            pass
        else:
            raise AssertionError("append did not raise what before_commit raised")
        _equal(seen, [[2, 1]], "the seqs before_commit saw")
        _equal(log.heads(["s", "t"]), {"s": 1, "t": 0}, "heads after the failed batch")
        _equal(log.since("t", 0), ([], 0), "rows after the failed batch")
        log.reset()
        _equal(_seqs(log, [_job("s", "c", 2, "a", b"2"), _job("t", "c", 1, "a", b"3")]),
               [2, 1], "the same batch again")  # fmt: skip


@_check
def restart_keeps_everything(open_log: OpenLog) -> None:
    """After close and reopen: the rows, heads and msg_ids are all there."""
    with _opened(open_log) as log:
        log.append([_job("s", "c", 1, "a", b"1"), _job("s", "c", 2, "b", b"2")])
        log.append([_job("s", "c", 3, "a", b"3")])
        before = log.since("s", 0)
    with _opened(open_log) as log:
        _equal(log.since("s", 0), before, "rows and head after a restart")
        _equal(log.heads(["s"]), {"s": 3}, "heads after a restart")
        _equal(log.doc_rows(("s", "notes", "a")), 2, "doc_rows after a restart")
        _equal(_seqs(log, [_job("s", "c", 3, "a", b"3")]), [0], "a msg_id from before")
        _equal(_seqs(log, [_job("s", "c", 4, "a", b"4")]), [4], "the next seq")


@_check
def compaction(open_log: OpenLog) -> None:
    """``compact`` merges a document's oldest rows into one at the highest merged seq:
    catch-up from any cursor still yields every update; other rows and heads stay."""
    author = _Author()
    a_updates: list[tuple[int, bytes]] = []
    with _opened(open_log) as log:
        for i in range(1, 13):  # a at odd seqs, b at even seqs
            doc_id = "ab"[(i + 1) % 2]
            update = author.update(doc_id, f"{i},")
            log.append([_job("s", "c", i, doc_id, update)])
            if doc_id == "a":
                a_updates.append((i, update))
        key = ("s", "notes", "a")
        full = str(author.docs["a"].get("t", type=Text))
        b_before = log.doc_updates("s", "notes", "b")
        _equal(log.compact(key, 4), 3, "rows removed merging a's 4 oldest")
        _equal(log.doc_rows(key), 3, "a's rows after compaction")
        rows, head = log.since("s", 0)
        _equal(head, 12, "head after compaction")
        _equal([r[0] for r in rows], [2, 4, 6, 7, 8, 9, 10, 11, 12], "seqs after compaction")
        _equal(_text(log.doc_updates("s", "notes", "a")), full, "a's text after compaction")
        _equal(log.doc_updates("s", "notes", "b"), b_before, "b's rows")
        for cursor in range(13):  # a client holding a's updates up to ``cursor``
            held = [update for seq, update in a_updates if seq <= cursor]
            later = [bytes(u) for _s, _c, d, u in log.since("s", cursor)[0] if d == "a"]
            _equal(_text(held + later), full, f"a caught up from seq {cursor}")
        _equal(log.compact(key, 100), 2, "rows removed merging the rest")
        _equal([r[0] for r in log.since("s", 0)[0] if r[2] == "a"], [11], "a's one row")
        _equal(log.compact(key, 100), 0, "compacting a single row")
        _equal(log.compact(("s", "notes", "none"), 100), 0, "compacting an unknown document")
        _equal(_seqs(log, [_job("s", "c", 13, "a", author.update("a", "13,"))]), [13],
               "the next seq after compaction")  # fmt: skip


@_check
def compaction_refuses_rows_that_do_not_merge(open_log: OpenLog) -> None:
    """Rows that do not merge (a hostile peer): ``compact`` raises ValueError, rows stay."""
    author = _Author()
    with _opened(open_log) as log:
        log.append([_job("s", "c", 1, "a", author.update("a", "ok")),
                    _job("s", "c", 2, "a", b"\xff\xfe not a Yjs update")])  # fmt: skip
        before = log.doc_updates("s", "notes", "a")
        try:
            log.compact(("s", "notes", "a"), 100)
        except ValueError:
            pass
        else:
            raise AssertionError("compact of rows that do not merge did not raise ValueError")
        _equal(log.doc_updates("s", "notes", "a"), before, "rows after the refused compaction")
        _equal(log.since("s", 0)[1], 2, "head after the refused compaction")


@_check
def reads_during_writes(open_log: OpenLog) -> None:
    """Reads from other threads while one thread appends and compacts: every ``since``
    holds every update up to the head it returns, seqs ascending, heads never go back."""
    author = _Author()
    jobs = [(i, f"d{i % 3}", f"{i},") for i in range(1, 121)]
    updates = {i: author.update(doc_id, token) for i, doc_id, token in jobs}
    done = threading.Event()
    with _opened(open_log) as log:

        def write() -> None:
            try:
                for i, doc_id, _token in jobs:
                    log.append([_job("s", "w", i, doc_id, updates[i])])
                    if i % 15 == 0:
                        log.compact(("s", "notes", doc_id), 8)
            finally:
                done.set()

        def read() -> None:
            last_head = 0
            while not done.is_set():
                rows, head = log.since("s", 0)
                _true(head >= last_head, f"the head went back from {last_head} to {head}")
                last_head = head
                seqs = [r[0] for r in rows]
                _equal(seqs, sorted(set(seqs)), "seqs of one since()")
                _true(not seqs or seqs[-1] <= head, f"a row after the head {head}")
                for d in ("d0", "d1", "d2"):
                    want = "".join(t for i, doc_id, t in jobs if doc_id == d and i <= head)
                    got = _text([bytes(u) for _s, _c, doc_id, u in rows if doc_id == d])
                    _equal(got, want, f"{d}'s text from since() at head {head}")

        _run_threads([write, read, read])
        _equal(log.heads(["s"]), {"s": 120}, "the head after the writes")


@_shared_check
def concurrent_writers(open_log: OpenLog) -> None:
    """Two backends on one log append at once: seqs stay unique and gap-free, and a
    msg_id pushed through both is stored once."""
    per_writer = 60
    logs = [open_log("log"), open_log("log")]
    results: list[list[tuple[int, int, bytes]]] = [[], []]
    try:
        rounds = threading.Barrier(2, timeout=TIMEOUT)  # both append in every round

        def write(n: int) -> None:
            try:
                for i in range(1, per_writer + 1):
                    mine = _job("s", f"w{n}", i, f"d{n}", f"{n}:{i}".encode())
                    both = _job("s", "both", i, "shared", f"both:{i}".encode())
                    rounds.wait()
                    out = logs[n].append([mine, both])
                    results[n] += [(r.seq, r.job.msg_id, r.job.update) for r in out.results]
            except BaseException:
                rounds.abort()  # the other writer stops too
                raise

        _run_threads([lambda: write(0), lambda: write(1)])
        stored = sorted(seq for rs in results for seq, _m, _u in rs if seq)
        total = 2 * per_writer + per_writer
        _equal(stored, list(range(1, total + 1)), "seqs given by both backends")
        both = sorted(m for rs in results for seq, m, u in rs if seq and u.startswith(b"both"))
        _equal(both, list(range(1, per_writer + 1)), "msg_ids of the client pushing to both")
        rows, head = logs[0].since("s", 0)
        _equal(head, total, "head")
        by_seq = {seq: u for rs in results for seq, _m, u in rs if seq}
        _equal([(s, bytes(u)) for s, _c, _d, u in rows], sorted(by_seq.items()), "rows")
        _equal(logs[1].heads(["s"]), {"s": total}, "the other backend's head")
    finally:
        for log in logs:
            log.close()
