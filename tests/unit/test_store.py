"""The Store on real SQLite files: API contract, columns, feed, hooks, transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from yloft import (
    CallbackError,
    DocumentBusyError,
    DocumentDeletedError,
    DocumentNotFoundError,
    DurabilityError,
    Field,
    Store,
    StoreClosedError,
    YloftError,
)
from yloft.crdt import Array, Doc, Map, Text

FIELDS = {
    "title": Field("meta.title", str, index=True),
    "done": Field("meta.done", bool, index=True),
    "tags": Field("meta.tags", list),
    "rank": Field("meta.rank", float),
    "body": Field("body", str, fts=True),
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "app.db") as s:
        yield s


def fill(store: Store, title: str, body: str, done: bool = False) -> str:
    notes = store.collection("notes", FIELDS)
    nid = notes.create()
    with notes.edit(nid) as doc:
        meta = doc.get("meta", type=Map)
        meta["title"] = title
        meta["done"] = done
        meta["tags"] = ["home"]
        doc.get("body", type=Text).insert(0, body)
    return nid


def fts_check(store: Store, table: str = "notes_fts") -> None:
    store._con.execute(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")


def test_the_issue_example(store: Store) -> None:
    notes = store.collection("notes", FIELDS)
    nid = fill(store, "Buy milk", "two litres")
    row = notes.row(nid)
    assert row is not None
    assert {k: row[k] for k in FIELDS} == {
        "title": "Buy milk",
        "done": False,
        "tags": ["home"],
        "rank": None,
        "body": "two litres",
    }
    assert row["id"] == nid and row["created_at"] <= row["updated_at"]
    doc = notes.get(nid)
    assert str(doc.get("body", type=Text)) == "two litres"
    doc.get("body", type=Text).insert(0, "copy: ")  # an independent copy
    assert notes.row(nid)["body"] == "two litres"  # type: ignore[index]
    assert store.query("SELECT id, title FROM notes WHERE done = 0 ORDER BY title", ()) == [
        {"id": nid, "title": "Buy milk"}
    ]
    assert [r["id"] for r in notes.search("litres")] == [nid]
    fts_check(store)


def test_ids_are_strings_and_unique(store: Store) -> None:
    notes = store.collection("notes", FIELDS)
    ids = {notes.create() for _ in range(20)}
    assert len(ids) == 20 and all(isinstance(i, str) for i in ids)
    assert sorted(notes.ids()) == sorted(ids) and len(notes) == 20


def test_state_and_update_round_trip(store: Store) -> None:
    notes = store.collection("notes", FIELDS)
    nid = fill(store, "a", "hello")
    peer: Doc = Doc()
    peer.apply_update(notes.get_update(nid))
    assert peer.get_state() == notes.get_state(nid)
    with notes.edit(nid) as doc:
        doc.get("body", type=Text).insert(5, " world")
    diff = notes.get_update(nid, peer.get_state())
    assert len(diff) < len(notes.get_update(nid))
    peer.apply_update(diff)
    assert str(peer.get("body", type=Text)) == "hello world"


def test_apply_update_creates_and_converges(tmp_path: Path) -> None:
    with Store(tmp_path / "a.db") as a, Store(tmp_path / "b.db") as b:
        na, nb = a.collection("notes", FIELDS), b.collection("notes", FIELDS)
        nid = fill(a, "from a", "text")
        nb.apply_update(nid, na.get_update(nid), origin="relay")
        assert nb.row(nid) == na.row(nid)
        with nb.edit(nid) as doc:
            doc.get("meta", type=Map)["rank"] = 2.5
        na.apply_update(nid, nb.get_update(nid, na.get_state(nid)))
        assert na.row(nid) == nb.row(nid) and na.row(nid)["rank"] == 2.5  # type: ignore[index]


def test_redelivery_records_nothing(store: Store) -> None:
    notes = store.collection("notes", FIELDS)
    nid = fill(store, "a", "b")
    update = notes.get_update(nid)
    before = store.feed.changes()
    notes.apply_update(nid, update, origin="relay")
    notes.apply_update(nid, update, origin="relay")
    assert store.feed.changes() == before


def test_out_of_order_updates_are_kept_until_they_apply(tmp_path: Path) -> None:
    src: Doc = Doc()
    updates: list[bytes] = []
    src.observe(lambda e: updates.append(e.update))
    text = src.get("body", type=Text)
    text.insert(0, "one ")
    text.insert(4, "two ")
    text.insert(8, "three")
    with Store(tmp_path / "x.db", max_log_entries=2) as s:
        notes = s.collection("notes", FIELDS)
        notes.apply_update("d", updates[2], origin="p")  # depends on missing updates
        notes.apply_update("d", updates[1], origin="p")
        assert notes.row("d")["body"] == ""  # type: ignore[index]
    with Store(tmp_path / "x.db", max_log_entries=2) as s:  # pending survives a reopen
        notes = s.collection("notes", FIELDS)
        notes.apply_update("d", updates[0], origin="p")
        assert notes.row("d")["body"] == "one two three"  # type: ignore[index]
        assert notes.get_state("d") == src.get_state()


def test_delete_is_a_tombstone_that_syncs(tmp_path: Path) -> None:
    with Store(tmp_path / "a.db") as a, Store(tmp_path / "b.db") as b:
        na, nb = a.collection("notes", FIELDS), b.collection("notes", FIELDS)
        nid = fill(a, "gone soon", "searchable words")
        nb.apply_update(nid, na.get_update(nid))
        state = nb.get_state(nid)
        na.delete(nid)
        assert na.row(nid) is None and na.search("searchable") == [] and na.deleted(nid)
        assert a.query("SELECT count(*) AS n FROM notes", ()) == [{"n": 0}]
        fts_check(a)
        with pytest.raises(DocumentDeletedError), na.edit(nid):
            pass
        na.delete(nid)  # deleting twice is a no-op
        nb.apply_update(nid, na.get_update(nid, state), origin="relay")
        assert nb.row(nid) is None and nb.search("searchable") == [] and nb.deleted(nid)
        fts_check(b)


def test_edit_that_raises_saves_nothing(store: Store) -> None:
    notes = store.collection("notes", FIELDS)
    nid = fill(store, "kept", "kept")
    dump = store.dump()
    with pytest.raises(RuntimeError), notes.edit(nid) as doc:
        doc.get("meta", type=Map)["title"] = "lost"
        raise RuntimeError("boom")
    assert store.dump() == dump
    assert notes.row(nid)["title"] == "kept"  # type: ignore[index]
    assert notes.get(nid).get("meta", type=Map)["title"] == "kept"


def test_edit_is_one_update_and_not_reentrant(store: Store) -> None:
    notes = store.collection("notes", FIELDS)
    nid = fill(store, "x", "y")
    n = len(store.feed.changes())
    with notes.edit(nid) as doc:
        doc.get("meta", type=Map)["title"] = "1"
        doc.get("meta", type=Map)["title"] = "2"
        doc.get("body", type=Text).insert(0, "z")
        with pytest.raises(DocumentBusyError), notes.edit(nid):
            pass
        with pytest.raises(DocumentBusyError):
            notes.apply_update(nid, b"\x00\x00")
    assert len(store.feed.changes()) == n + 1


def test_edits_outside_a_block_are_not_trusted(store: Store) -> None:
    notes = store.collection("notes", FIELDS)
    nid = fill(store, "x", "y")
    with notes.edit(nid) as doc:
        pass
    doc.get("meta", type=Map)["title"] = "sneaky"  # after the block: never saved
    with notes.edit(nid) as doc2:
        assert doc2.get("meta", type=Map)["title"] == "x"
    assert notes.row(nid)["title"] == "x"  # type: ignore[index]


def test_reopen_keeps_everything(tmp_path: Path) -> None:
    with Store(tmp_path / "r.db") as s:
        nid = fill(s, "persisted", "body text")
        row = s.collection("notes", FIELDS).row(nid)
    with Store(tmp_path / "r.db") as s:
        notes = s.collection("notes")  # the stamped declaration
        assert notes.row(nid) == row
        assert s.collections() == ["notes"]
        with notes.edit(nid) as doc:
            doc.get("meta", type=Map)["done"] = True
        assert notes.row(nid)["done"] is True  # type: ignore[index]


def test_compaction_bounds_the_log(tmp_path: Path) -> None:
    with Store(tmp_path / "c.db", max_log_entries=10) as s:
        notes = s.collection("notes", FIELDS)
        nid = fill(s, "t", "")
        for i in range(95):
            with notes.edit(nid) as doc:
                doc.get("body", type=Text).insert(0, str(i % 10))
        key, snap_seq = s._con.execute("SELECT key, snap_seq FROM _yloft_docs").fetchone()
        pending = s._con.execute(
            "SELECT count(*) FROM _yloft_updates WHERE doc = ? AND seq > ?", (key, snap_seq)
        ).fetchone()[0]
        assert snap_seq > 0 and pending < 10
        # The feed still holds every update until it is trimmed...
        assert len(s.feed.changes()) == 97
        last = s.feed.changes()[-1][0]
        s.feed.trim(last)
        assert s.feed.changes() == []
        # ...and trimming frees the rows compaction already folded.
        rows = s._con.execute("SELECT count(*) FROM _yloft_updates").fetchone()[0]
        assert rows == pending
        body = notes.row(nid)["body"]  # type: ignore[index]
    with Store(tmp_path / "c.db", max_log_entries=10) as s:
        notes = s.collection("notes", FIELDS)
        assert notes.row(nid)["body"] == body  # type: ignore[index]
        assert str(notes.get(nid).get("body", type=Text)) == body
        s.compact("notes", nid)
        snap_seq = s._con.execute("SELECT snap_seq FROM _yloft_docs").fetchone()[0]
        left = s._con.execute(
            "SELECT count(*) FROM _yloft_updates WHERE seq > ?", (snap_seq,)
        ).fetchone()[0]
        assert left == 0
        assert str(notes.get(nid).get("body", type=Text)) == body


def test_byte_limit_triggers_compaction(store: Store) -> None:
    big = Store(":memory:", max_log_bytes=2000)
    notes = big.collection("notes", FIELDS)
    nid = notes.create()
    for _ in range(5):
        with notes.edit(nid) as doc:
            doc.get("body", type=Text).insert(0, "x" * 600)
    assert big._con.execute("SELECT snap_seq FROM _yloft_docs").fetchone()[0] > 0
    big.close()


def test_changes_feed_and_origins(store: Store) -> None:
    notes = store.collection("notes", FIELDS)
    seen: list[tuple[str, str, bytes, str | None]] = []
    remove = store.on_update(lambda *args: seen.append(args))
    nid = fill(store, "local", "x")
    remote: Doc = Doc()
    remote.get("meta", type=Map)["title"] = "remote"
    notes.apply_update("peer-doc", remote.get_update(), origin="relay")
    feed = store.feed.changes()
    assert [seq for seq, *_ in feed] == sorted(seq for seq, *_ in feed)
    assert [(c, d) for _, c, d, _ in feed] == [
        ("notes", nid),
        ("notes", nid),
        ("notes", "peer-doc"),
    ]
    assert [u for *_, u in feed] == [u for _, _, u, _ in seen]
    assert [o for *_, o in seen] == [None, None, "relay"]
    local = store.feed.changes(local_only=True)
    assert [d for _, _, d, _ in local] == [nid, nid]
    assert store.feed.changes(since=feed[0][0]) == feed[1:]
    assert store.feed.changes(limit=1) == feed[:1]
    remove()
    fill(store, "after", "x")
    assert len(seen) == 3


def test_feed_replays_into_another_store(tmp_path: Path) -> None:
    with Store(tmp_path / "a.db") as a, Store(tmp_path / "b.db") as b:
        for i in range(5):
            fill(a, f"t{i}", f"body {i}")
        b.collection("notes", FIELDS)
        for _, coll, doc_id, update in a.feed.changes():
            b.apply_update(coll, doc_id, update, origin="a")
        assert a.query("SELECT * FROM notes ORDER BY id", ()) == b.query(
            "SELECT * FROM notes ORDER BY id", ()
        )


def test_atomic_commits_once_and_rolls_back_whole(store: Store) -> None:
    commits: list[int] = []
    s2 = Store(
        store._con.execute("PRAGMA database_list").fetchone()[2],
        on_commit=lambda: commits.append(1),
    )
    notes = s2.collection("notes", FIELDS)
    commits.clear()
    with s2.atomic():
        ids = [notes.create() for _ in range(5)]
        with s2.atomic():
            notes.create()
    assert commits == [1] and len(notes) == 6
    dump = s2.dump()
    with pytest.raises(ValueError), s2.atomic():
        notes.create()
        with notes.edit(ids[0]) as doc:
            doc.get("meta", type=Map)["title"] = "rolled back"
        raise ValueError("abort")
    assert s2.dump() == dump and commits == [1]
    assert notes.row(ids[0])["title"] is None  # type: ignore[index]
    with notes.edit(ids[0]) as doc:  # the cached doc was dropped with the rollback
        assert "title" not in doc.get("meta", type=Map)
    # An inner savepoint that fails leaves the outer work in place.
    with s2.atomic():
        kept = notes.create()
        with pytest.raises(KeyError), s2.atomic():
            notes.create()
            raise KeyError("inner")
    assert notes.row(kept) is not None and len(notes) == 7
    s2.close()


def test_on_commit_failure_is_reported(tmp_path: Path) -> None:
    broken = False

    def flush() -> None:
        if broken:
            raise OSError("flush failed")

    with Store(tmp_path / "d.db", on_commit=flush) as s:
        notes = s.collection("notes", FIELDS)
        broken = True
        with pytest.raises(DurabilityError) as info:
            notes.create()
        assert isinstance(info.value, OSError)


def test_callback_errors_are_raised_after_commit(store: Store) -> None:
    notes = store.collection("notes", FIELDS)

    def bad(*args: Any) -> None:
        raise ZeroDivisionError

    store.on_update(bad)
    with pytest.raises(CallbackError) as info:
        notes.create()
    assert isinstance(info.value.errors[0], ZeroDivisionError)
    assert len(notes) == 1  # committed all the same


def test_two_stores_on_one_file_see_each_other(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as a, Store(tmp_path / "s.db") as b:
        na, nb = a.collection("notes", FIELDS), b.collection("notes", FIELDS)
        nid = fill(a, "a", "x")
        with nb.edit(nid) as doc:  # b loads what a wrote
            doc.get("meta", type=Map)["title"] = "b"
        with na.edit(nid) as doc:  # a's cached copy is stale: it reloads
            assert doc.get("meta", type=Map)["title"] == "b"
            doc.get("meta", type=Map)["rank"] = 1.0
        assert nb.row(nid)["title"] == "b" and nb.row(nid)["rank"] == 1.0  # type: ignore[index]


def test_closed_store_refuses_work(tmp_path: Path) -> None:
    s = Store(tmp_path / "z.db")
    notes = s.collection("notes", FIELDS)
    s.close()
    s.close()
    assert s.closed
    for call in (notes.create, lambda: s.query("SELECT 1", ()), s.feed.changes):
        with pytest.raises(StoreClosedError):
            call()


def test_unknown_documents(store: Store) -> None:
    notes = store.collection("notes", FIELDS)
    assert notes.row("nope") is None
    for call in (notes.get, notes.get_state, notes.get_update, notes.delete):
        with pytest.raises(DocumentNotFoundError):
            call("nope")
    with pytest.raises(DocumentNotFoundError), notes.edit("nope"):
        pass


def test_arrays_and_maps_as_roots(store: Store) -> None:
    things = store.collection(
        "things", {"items": Field("items", list), "props": Field("props", dict)}
    )
    tid = things.create()
    with things.edit(tid) as doc:
        doc.get("items", type=Array).extend(["a", "b"])
        doc.get("props", type=Map)["k"] = 1
    assert things.row(tid)["items"] == ["a", "b"]  # type: ignore[index]
    assert store.query(
        "SELECT j.value AS v FROM things, json_each(things.items) j ORDER BY v", ()
    ) == [{"v": "a"}, {"v": "b"}]


def test_sqlite_is_not_written_when_nothing_changes(store: Store) -> None:
    notes = store.collection("notes", FIELDS)
    nid = fill(store, "t", "b")
    total = store._con.total_changes
    notes.apply_update(nid, notes.get_update(nid))
    assert store._con.total_changes == total


def test_durability_pragmas(tmp_path: Path) -> None:
    with Store(tmp_path / "p.db") as s:
        assert s._con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert s._con.execute("PRAGMA synchronous").fetchone()[0] == 2
    with Store(tmp_path / "q.db", pragmas={"journal_mode": "delete", "synchronous": "normal"}) as s:
        assert s._con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert s._con.execute("PRAGMA synchronous").fetchone()[0] == 1
    with pytest.raises(ValueError):
        Store(tmp_path / "bad.db", pragmas={"journal_mode": "wal; DROP TABLE x"})


def test_a_foreign_table_is_not_clobbered(tmp_path: Path) -> None:
    con = sqlite3.connect(tmp_path / "f.db")
    con.execute("CREATE TABLE notes (x)")
    con.commit()
    con.close()
    with Store(tmp_path / "f.db") as s:
        with pytest.raises(YloftError, match="not a yloft collection"):
            s.collection("notes", FIELDS)
        assert s.query("SELECT name FROM pragma_table_info('notes')", ()) == [{"name": "x"}]


def test_out_of_order_overwrite_and_delete_converge(tmp_path: Path) -> None:
    # A map key overwritten twice, the later overwrite delivered first. pycrdt 0.14.13
    # applied update by update loses the key; the store must not (Yjs keeps it).
    with Store(tmp_path / "a.db") as a, Store(tmp_path / "b.db") as b:
        na, nb = a.collection("notes", FIELDS), b.collection("notes", FIELDS)
        sent: list[bytes] = []
        a.on_update(lambda c, d, u, o: sent.append(u))
        nid = na.create()
        with na.edit(nid) as doc:
            doc.get("meta", type=Map)["title"] = "second"
        na.delete(nid)
        create, edit, delete = sent
        nb.apply_update(nid, create, origin="a")
        nb.apply_update(nid, delete, origin="a")  # depends on the edit: pending
        nb.apply_update(nid, edit, origin="a")
        assert nb.deleted(nid) and nb.row(nid) is None
        assert (
            nb.get(nid).get("_yloft", type=Map).to_py()
            == na.get(nid).get("_yloft", type=Map).to_py()
        )


def test_rows_stay_true_when_a_savepoint_that_flushed_rolls_back(store: Store) -> None:
    notes = store.collection("notes", FIELDS)
    nid = fill(store, "before", "old words")
    with store.atomic():
        with notes.edit(nid) as doc:
            doc.get("meta", type=Map)["title"] = "outer"
            doc.get("body", type=Text).insert(0, "outer ")
        try:
            with store.atomic():
                # This read flushes the outer edit's row inside the savepoint...
                assert notes.row(nid)["title"] == "outer"  # type: ignore[index]
                raise LookupError
        except LookupError:
            pass  # ...and the rollback undoes that row write.
        with notes.edit(nid) as doc:
            doc.get("meta", type=Map)["rank"] = 1.0
    row = notes.row(nid)
    assert row is not None and (row["title"], row["rank"]) == ("outer", 1.0)
    assert row["body"] == str(notes.get(nid).get("body", type=Text))
    assert [r["id"] for r in notes.search("outer")] == [nid]
    assert [r["id"] for r in notes.search("old")] == [nid]
    fts_check(store)


def test_write_by_another_connection_during_an_edit_block_is_kept(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as a, Store(tmp_path / "s.db") as b:
        na, nb = a.collection("notes", FIELDS), b.collection("notes", FIELDS)
        nid = fill(a, "a", "x")
        with na.edit(nid) as doc:
            doc.get("meta", type=Map)["rank"] = 2.0
            with nb.edit(nid) as other:  # commits while a's block is still open
                other.get("meta", type=Map)["title"] = "from b"
        row = na.row(nid)
        assert row is not None and (row["title"], row["rank"]) == ("from b", 2.0)
        assert nb.row(nid) == row
        for coll in (na, nb):
            meta = coll.get(nid).get("meta", type=Map)
            assert (meta["title"], meta["rank"]) == ("from b", 2.0)


def test_tombstone_flag_survives_a_savepoint_rollback(store: Store) -> None:
    notes = store.collection("notes", FIELDS)
    gone, kept = fill(store, "gone", "a"), fill(store, "kept", "b")
    with store.atomic():
        notes.delete(gone)
        try:
            with store.atomic():
                assert notes.row(gone) is None  # flushes the delete inside the savepoint
                raise LookupError
        except LookupError:
            pass
    assert notes.row(gone) is None and notes.ids() == [kept]
    fts_check(store)
    # A rebuild re-extracts every live document from _yloft_docs: the tombstone holds.
    store.collection("notes", {**FIELDS, "title": Field("meta.title", str)})
    rebuilt = store.collection("notes", {"title": Field("meta.title", str, fts=True)})
    assert rebuilt.ids() == [kept]
    assert rebuilt.row(gone) is None and rebuilt.deleted(gone)


def test_new_document_created_meanwhile_by_another_connection(tmp_path: Path) -> None:
    from yloft.store._cached import CachedDoc as Entry

    with Store(tmp_path / "s.db") as a, Store(tmp_path / "s.db") as b:
        na, nb = a.collection("notes", FIELDS), b.collection("notes", FIELDS)
        src: Doc = Doc()
        src.get("meta", type=Map)["title"] = "from a"
        update = src.get_update()
        # a has decided "x" is new (as apply_update does) when b creates it first.
        entry = Entry(None, Doc())
        entry.doc.apply_update(update)
        entry.take()
        other: Doc = Doc()
        other.get("meta", type=Map)["rank"] = 3.0
        nb.apply_update("x", other.get_update())
        a._writer.persist(na.schema, "x", entry, update, None)
        for coll in (na, nb):
            row = coll.row("x")
            assert row is not None and (row["title"], row["rank"]) == ("from a", 3.0)


def test_a_newer_layout_is_refused(tmp_path: Path) -> None:
    con = sqlite3.connect(tmp_path / "new.db")
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(YloftError, match="upgrade yloft"):
        Store(tmp_path / "new.db")


def _live_docs() -> int:
    import gc

    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is Doc)


def test_documents_are_freed_once_out_of_the_cache(tmp_path: Path) -> None:
    # pycrdt keeps a Doc's observers alive from Rust, out of reach of Python's garbage
    # collector: a cached document that kept its observer would never be freed.
    with Store(tmp_path / "app.db", cache_size=4) as s:
        notes = s.collection("notes", FIELDS)
        before = _live_docs()
        ids = [fill(s, f"t{i}", "body") for i in range(40)]
        with s.atomic():
            for nid in ids:
                with notes.edit(nid) as doc:
                    doc.get("meta", type=Map)["rank"] = 1.0
        for nid in ids:
            notes.get_update(nid)  # loads without caching
        assert _live_docs() - before <= 4


def test_a_tombstone_written_inside_an_edit_blocks_the_next_edit(store: Store) -> None:
    notes = store.collection("notes", FIELDS)
    with store.atomic():
        nid = notes.create()
        with notes.edit(nid) as doc:  # right after create(): the tombstone check is skipped
            doc.get("_yloft", type=Map)["deleted"] = True
        with pytest.raises(DocumentDeletedError), notes.edit(nid):
            pass
    assert notes.row(nid) is None and notes.deleted(nid)


def test_a_tombstone_from_a_peer_blocks_the_next_edit(tmp_path: Path) -> None:
    with Store(tmp_path / "a.db") as a, Store(tmp_path / "b.db") as b:
        na, nb = a.collection("notes", FIELDS), b.collection("notes", FIELDS)
        nid = na.create()
        with na.edit(nid) as doc:  # extraction marks the cached document live
            doc.get("meta", type=Map)["title"] = "x"
        nb.apply_update(nid, na.get_update(nid))
        nb.delete(nid)
        na.apply_update(nid, nb.get_update(nid), origin="b")
        with pytest.raises(DocumentDeletedError), na.edit(nid):
            pass
        assert na.row(nid) is None


def test_a_root_of_another_type_reads_as_empty(store: Store) -> None:
    """A peer may make a declared root another type; extraction must not fail on it."""
    notes = store.collection(
        "odd", {"body": Field("body", str, fts=True), "title": Field("meta.title", str)}
    )
    peer = Doc()
    peer.get("body", type=Map)["not"] = "text"
    peer.get("meta", type=Map)["title"] = "kept"
    notes.apply_update("a" * 32, peer.get_update())
    row = notes.row("a" * 32)
    assert row is not None and row["body"] == "" and row["title"] == "kept"
