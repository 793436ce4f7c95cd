"""Writes inside a transaction reach SQLite in batches (Store._flush); these tests pin
what that must never change: columns match documents, the log holds every change,
and a failed batch leaves the database exactly as it was."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from yloft import Field, Store, TransactionAbortedError
from yloft.crdt import Doc, Map, Text
from yloft.extract import extract
from yloft.store._updates import decode_state
from yloft.store._writer import _MAX_DIRTY

FIELDS = {
    "title": Field("meta.title", str, index=True),
    "tags": Field("meta.tags", list),
    "body": Field("body", str, fts=True),
}


def _boom_on(path: Path, title: str) -> None:
    """Triggers (set up from another connection) that fail writing such a row."""
    con = sqlite3.connect(path)
    for event in ("INSERT", "UPDATE"):
        con.execute(
            f"CREATE TRIGGER boom_{event} BEFORE {event} ON notes WHEN NEW.title = '{title}'"
            " BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        )
    con.commit()
    con.close()


def _write(notes_doc: Doc[Map], title: str, body: str = "") -> None:
    notes_doc.get("meta", type=Map)["title"] = title
    if body:
        notes_doc.get("body", type=Text).insert(0, body)


def test_a_failed_batch_aborts_the_whole_transaction(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = Store(path)
    notes = store.collection("notes", FIELDS)
    kept = notes.create()
    with notes.edit(kept) as doc:
        _write(doc, "kept", "before")
    _boom_on(path, "boom")
    before = store.dump()
    with pytest.raises(TransactionAbortedError), store.atomic():
        a = notes.create()
        with notes.edit(a) as doc:
            _write(doc, "fine")
        b = notes.create()
        with notes.edit(b) as doc:
            _write(doc, "boom")
        with pytest.raises(sqlite3.IntegrityError, match="injected failure"):
            store.query("SELECT count(*) FROM notes")  # the read flushes: it fails
        with notes.edit(kept) as doc:  # a later write in the block is refused
            _write(doc, "changed")
    assert store.dump() == before
    assert notes.row(kept)["title"] == "kept"  # type: ignore[index]
    assert notes.get(kept).get("meta", type=Map)["title"] == "kept"
    # The store goes on working.
    with notes.edit(kept) as doc:
        _write(doc, "after")
    assert store.query("SELECT title FROM notes") == [{"title": "after"}]
    store.close()


def test_a_failed_single_edit_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = Store(path)
    notes = store.collection("notes", FIELDS)
    nid = notes.create()
    _boom_on(path, "boom")
    before = store.dump()
    other = notes.create()
    with pytest.raises(sqlite3.IntegrityError), notes.edit(other) as doc:
        _write(doc, "boom")  # the first row of `other` is inserted by this edit
    # create() committed on its own; the failed edit left nothing of itself.
    assert notes.row(other) is not None and notes.row(other)["title"] is None  # type: ignore[index]
    assert "boom" not in str(notes.get(other).get("meta", type=Map).to_py())
    with notes.edit(nid) as doc:
        _write(doc, "ok")
    assert sorted(r["title"] or "" for r in store.query("SELECT title FROM notes")) == ["", "ok"]
    assert len(store.dump()) > len(before)
    store.close()


def test_a_savepoint_that_fails_to_flush_can_be_retried(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = Store(path)
    notes = store.collection("notes", FIELDS)
    _boom_on(path, "boom")
    with store.atomic():
        a = notes.create()
        with notes.edit(a) as doc:
            _write(doc, "outer")
        with pytest.raises(sqlite3.IntegrityError), store.atomic():
            b = notes.create()
            with notes.edit(b) as doc:
                _write(doc, "boom")
            notes.row(b)  # flushes inside the savepoint: fails there
        c = notes.create()  # the savepoint rolled back: the transaction goes on
        with notes.edit(c) as doc:
            _write(doc, "after")
    titles = sorted(r["title"] for r in store.query("SELECT title FROM notes"))
    assert titles == ["after", "outer"]
    assert notes.row(b) is None
    store.close()


def test_many_documents_in_one_transaction(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db", cache_size=4)
    notes = store.collection("notes", FIELDS)
    events: list[tuple[str, bytes]] = []
    store.on_update(lambda c, d, u, o: events.append((d, u)))
    count = 2 * _MAX_DIRTY + 37  # several batches, some cut between create and edit
    with store.atomic():
        ids = []
        for i in range(count):
            nid = notes.create()
            ids.append(nid)
            if i % 3:
                with notes.edit(nid) as doc:
                    _write(doc, f"t{i}", f"body {i}")
                    doc.get("meta", type=Map)["tags"] = [i, "x"]
    assert len(set(ids)) == count
    rows = {r["id"]: r for r in store.query("SELECT * FROM notes", ())}
    assert set(rows) == set(ids)
    for i, nid in enumerate(ids):
        doc = notes.get(nid)
        values = extract(doc, notes.schema).values
        assert {k: rows[nid][k] for k in FIELDS} == values
        assert values["title"] == (f"t{i}" if i % 3 else None)
        assert values["tags"] == (f'[{i},"x"]' if i % 3 else None)
    # Hooks saw every change: their updates rebuild each document.
    rebuilt: dict[str, Doc[Map]] = {}
    for nid, update in events:
        rebuilt.setdefault(nid, Doc()).apply_update(update)
    assert all(rebuilt[n].get_state() == notes.get_state(n) for n in ids)
    # One log row per document: created and edited in the same flush, or not.
    per_doc = store.query("SELECT doc, count(*) AS n FROM _yloft_updates GROUP BY doc", ())
    assert max(r["n"] for r in per_doc) <= 2
    assert sum(r["n"] == 1 for r in per_doc) >= count - 2
    keys = [r["key"] for r in store.query("SELECT key FROM _yloft_docs", ())]
    assert len(keys) == len(set(keys)) == count
    store.close()


def test_a_document_changed_after_its_edit_block_keeps_columns_true(tmp_path: Path) -> None:
    """Using the Doc outside its block is a bug in the app; whatever is kept of such a
    change, the row must match the stored document."""
    store = Store(tmp_path / "s.db")
    notes = store.collection("notes", FIELDS)
    old = notes.create()
    with notes.edit(old) as doc:
        _write(doc, "old")
    with store.atomic():
        fresh = notes.create()
        with notes.edit(fresh) as kept_fresh:
            _write(kept_fresh, "fresh")
        with notes.edit(old) as kept_old:
            _write(kept_old, "old2")
        _write(kept_fresh, "stray-fresh")
        _write(kept_old, "stray-old")
    for nid in (old, fresh):
        copy = notes.get(nid)
        assert {k: notes.row(nid)[k] for k in FIELDS} == extract(copy, notes.schema).values  # type: ignore[index]
    replica = Store(":memory:")
    copies = replica.collection("notes", FIELDS)
    for _, _, nid, update in store.feed.changes():
        copies.apply_update(nid, update)
    for nid in (old, fresh):
        assert decode_state(copies.get_state(nid)) == decode_state(notes.get_state(nid))
    assert notes.row(old)["title"] == "old2"  # type: ignore[index]
    replica.close()
    store.close()


def test_reads_inside_a_transaction_see_its_writes(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    notes = store.collection("notes", FIELDS)
    with store.atomic():
        nid = notes.create()
        assert notes.get(nid).get("_yloft", type=Map)["created_at"] > 0  # runs its txn
        assert len(store.feed.changes()) == 1
        with notes.edit(nid) as doc:
            _write(doc, "x", "words here")
        assert [r["id"] for r in notes.search("words")] == [nid]
        assert store.query("SELECT title FROM notes", ()) == [{"title": "x"}]
        assert len(notes) == 1 and notes.ids() == [nid]
    changes = store.feed.changes()
    assert len(changes) == 2 and {c[2] for c in changes} == {nid}
    store.close()


def test_log_rows_keep_origins_apart(tmp_path: Path) -> None:
    """Within one transaction a document's updates are merged into one log row per
    run of the same origin, so local_only feeds still leave a peer's changes out."""
    store = Store(tmp_path / "s.db")
    notes = store.collection("notes", FIELDS)
    peer = Doc()
    peer.get("meta", type=Map)["tags"] = ["from-peer"]
    with store.atomic():
        nid = notes.create()
        with notes.edit(nid) as doc:
            _write(doc, "mine")
        notes.apply_update(nid, peer.get_update(), origin="relay")
        with notes.edit(nid) as doc:
            doc.get("body", type=Text).insert(0, "local words")
    origins = [
        r["origin"] for r in store.query("SELECT origin FROM _yloft_updates ORDER BY seq", ())
    ]
    assert origins == [None, "relay", None]
    replica = Store(":memory:")
    copies = replica.collection("notes", FIELDS)
    for _, _, doc_id, update in store.feed.changes(local_only=True):
        copies.apply_update(doc_id, update)
    row = copies.row(nid)
    assert row is not None and row["title"] == "mine" and row["body"] == "local words"
    assert row["tags"] is None  # the peer's change is not in the local feed
    assert notes.row(nid)["tags"] == ["from-peer"]  # type: ignore[index]
    replica.close()
    store.close()
