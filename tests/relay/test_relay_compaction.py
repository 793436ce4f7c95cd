"""Compaction of the relay log keeps catch-up correct for clients holding any old seq."""

from __future__ import annotations

import queue
import tempfile
from pathlib import Path

import pycrdt
from hypothesis import given, settings
from hypothesis import strategies as st

from yloft_relay.storage import PushJob, Reader, Result, Writer, squash

edits = st.lists(
    st.tuples(st.integers(0, 2), st.text("abcxyz", min_size=1, max_size=4), st.booleans()),
    min_size=1,
    max_size=40,
)


def apply_rows(docs: dict[str, pycrdt.Doc], rows: list[tuple[int, str, str, bytes]]) -> None:
    for _seq, _coll, doc_id, data in rows:
        docs.setdefault(doc_id, pycrdt.Doc()).apply_update(bytes(data))


def texts(docs: dict[str, pycrdt.Doc]) -> dict[str, str]:
    return {k: str(d.get("t", type=pycrdt.Text)) for k, d in docs.items()}


@settings(max_examples=40, deadline=None)
@given(edits)
def test_catch_up_from_every_old_seq_after_compaction(plan: list[tuple[int, str, bool]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "relay.db")
        done: queue.Queue[list[Result]] = queue.Queue()
        writer = Writer(db, done.put, compact_after=3, compact_max_rows=4)
        reader = Reader(db)
        authors: dict[str, pycrdt.Doc] = {}
        views: list[tuple[int, dict[str, pycrdt.Doc]]] = []  # what a client had, and its seq
        try:
            for msg_id, (n, text, compact) in enumerate(plan, start=1):
                doc_id = f"d{n}"
                author = authors.setdefault(doc_id, pycrdt.Doc())
                before = author.get_state()
                t = author.get("t", type=pycrdt.Text)
                t.insert(len(t) // 2, text)
                update = author.get_update(before)
                writer.submit(PushJob("s", "author", msg_id, "c", doc_id, update, None))
                (result,) = done.get(timeout=30)
                assert result.seq == msg_id
                if compact:
                    writer.compact_pending()
                rows, head = reader.since("s", 0)
                view: dict[str, pycrdt.Doc] = {}
                apply_rows(view, rows)
                views.append((head, view))
            writer.compact_pending()
            expected = texts(authors)
            for seq, view in views:
                # The catch-up as sent (one merged entry per document) and row by row.
                copy = {k: pycrdt.Doc() for k in view}
                for k, d in view.items():
                    copy[k].apply_update(d.get_update())
                rows, _head = reader.since("s", seq)
                apply_rows(view, rows)
                assert texts(view) == expected
                merged, _head = reader.catchup("s", seq)
                assert len({(c, d) for _s, c, d, _u in merged}) == len(merged)
                apply_rows(copy, merged)
                assert texts(copy) == expected
            final_rows, head = reader.since("s", 0)
            assert head == len(plan)
        finally:
            writer.close()
        # Bounded log: each document keeps fewer rows than the compaction threshold.
        per_doc: dict[str, int] = {}
        for _s, _c, d, _u in final_rows:
            per_doc[d] = per_doc.get(d, 0) + 1
        assert all(n < 3 for n in per_doc.values()), per_doc


def test_compaction_merges_into_one_row_with_the_highest_seq(tmp_path: Path) -> None:
    done: queue.Queue[list[Result]] = queue.Queue()
    writer = Writer(str(tmp_path / "r.db"), done.put, compact_after=10**9)
    doc: pycrdt.Doc = pycrdt.Doc()
    t = doc.get("t", type=pycrdt.Text)
    for i in range(1, 101):
        before = doc.get_state()
        t += f"{i},"
        writer.submit(PushJob("s", "a", i, "c", "d", doc.get_update(before), None))
        done.get(timeout=30)
    assert writer.compact("s", "c", "d") == 99
    writer.close()
    rows, head = Reader(str(tmp_path / "r.db")).since("s", 0)
    assert head == 100 and [r[0] for r in rows] == [100]
    fresh: pycrdt.Doc = pycrdt.Doc()
    fresh.apply_update(bytes(rows[0][3]))
    assert str(fresh.get("t", type=pycrdt.Text)) == str(t)
    # Runs of typed text are joined again: no bigger than the document's own encoding.
    assert len(rows[0][3]) <= len(doc.get_update())


def test_squash_keeps_updates_whose_dependencies_are_missing() -> None:
    a: pycrdt.Doc = pycrdt.Doc()
    t = a.get("t", type=pycrdt.Text)
    s0 = a.get_state()
    t += "one"
    u1 = a.get_update(s0)
    s1 = a.get_state()
    t += "two"
    u2 = a.get_update(s1)
    s2 = a.get_state()
    del t[0:2]
    u3 = a.get_update(s2)
    b: pycrdt.Doc = pycrdt.Doc()
    b.get("t", type=pycrdt.Text).insert(0, "other ")
    ub = b.get_update()
    ref: pycrdt.Doc = pycrdt.Doc()
    for u in (ub, u1, u2, u3):
        ref.apply_update(u)
    expected = str(ref.get("t", type=pycrdt.Text))
    assert "etwo" in expected and "other " in expected
    # u2 and u3 wait for u1, which this log never had.
    for log in ([ub, u2], [ub, u3], [ub, u2, u3], [ub, u3, u2]):
        late: pycrdt.Doc = pycrdt.Doc()
        late.apply_update(squash(log))
        for u in (u1, u2, u3):
            if u not in log:
                late.apply_update(u)
        assert str(late.get("t", type=pycrdt.Text)) == expected
