"""Columns never lie, whatever nesting of atomic() blocks commits or rolls back.

Random programs of creates, edits, deletes and reads run inside nested atomic()
blocks that randomly fail. Afterwards every document's row (and FTS entry, and
tombstone flag) must match the document, and the documents must hold exactly the
edits of the blocks that committed (checked against a small model)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from yloft import Collection, Field, Store
from yloft.crdt import Map, Text
from yloft.extract import extract
from yloft.store._updates import decode_state

FIELDS = {"title": Field("meta.title", str, index=True), "body": Field("body", str, fts=True)}


class Abort(Exception):
    pass


leaf = st.one_of(
    st.tuples(st.just("create"), st.none()),
    st.tuples(st.just("edit"), st.tuples(st.integers(0, 5), st.sampled_from("abcdef"))),
    st.tuples(st.just("delete"), st.integers(0, 5)),
    st.tuples(st.just("read"), st.integers(0, 5)),
    st.tuples(st.just("edit_fails"), st.tuples(st.integers(0, 5), st.sampled_from("xyz"))),
    st.tuples(st.just("peek"), st.integers(0, 5)),
)
program = st.recursive(
    st.lists(leaf, max_size=6),
    lambda inner: st.lists(
        st.one_of(leaf, st.tuples(st.just("nest"), st.tuples(inner, st.booleans()))),
        max_size=5,
    ),
    max_leaves=25,
)


def run(
    store: Store, notes: Collection, ops: list[Any], model: dict[str, Any], ids: list[str]
) -> None:
    for kind, arg in ops:
        live = [i for i in ids if i in model and model[i] is not None]
        if kind == "create":
            nid = notes.create()
            ids.append(nid)
            model[nid] = ""
        elif kind == "edit" and live:
            nid = live[arg[0] % len(live)]
            with notes.edit(nid) as doc:
                doc.get("meta", type=Map)["title"] = model[nid] + arg[1]
                doc.get("body", type=Text).insert(0, arg[1] + " ")
            model[nid] += arg[1]
        elif kind == "edit_fails" and live:  # the block raises: nothing of it is kept
            nid = live[arg[0] % len(live)]
            try:
                with notes.edit(nid) as doc:
                    doc.get("meta", type=Map)["title"] = "never " + arg[1]
                    doc.get("body", type=Text).insert(0, arg[1])
                    raise Abort
            except Abort:
                pass
        elif kind == "peek" and ids:  # reads the Doc (a fresh one gets its first txn)
            nid = ids[arg % len(ids)]
            if model.get(nid) is not None:
                assert notes.get(nid).get("meta", type=Map).get("title", "") == model[nid]
                notes.get_update(nid)
        elif kind == "delete" and live:
            nid = live[arg % len(live)]
            notes.delete(nid)
            model[nid] = None
        elif kind == "read" and ids:
            nid = ids[arg % len(ids)]
            row = notes.row(nid)
            if model.get(nid) is None:
                assert row is None
            else:
                assert row is not None and (row["title"] or "") == model[nid]
        elif kind == "nest":
            inner, fail = arg
            snapshot, known = dict(model), list(ids)
            try:
                with store.atomic():
                    run(store, notes, inner, model, ids)
                    if fail:
                        raise Abort
            except Abort:
                model.clear()
                model.update(snapshot)
                ids[:] = known


@settings(max_examples=200, deadline=None)
@given(ops=program, fail_outer=st.booleans(), cache=st.integers(0, 3))
def test_nested_atomic_blocks_keep_rows_true(ops: list[Any], fail_outer: bool, cache: int) -> None:
    store = Store(":memory:", cache_size=cache, max_log_entries=3)
    notes = store.collection("notes", FIELDS)
    model: dict[str, Any] = {}
    ids: list[str] = [notes.create(), notes.create()]
    model.update({i: "" for i in ids})
    run(store, notes, [("nest", (ops, fail_outer))], model, ids)

    stored = store._con.execute("SELECT id, deleted FROM _yloft_docs ORDER BY key").fetchall()
    assert sorted(i for i, _ in stored) == sorted(model)
    for doc_id, deleted_flag in stored:
        doc = notes.get(doc_id)
        ex = extract(doc, notes.schema)
        assert bool(deleted_flag) == ex.deleted == (model[doc_id] is None)
        row = notes.row(doc_id)
        if ex.deleted:
            assert row is None
            continue
        assert row is not None
        assert {k: row[k] for k in FIELDS} == ex.values
        assert (row["title"] or "") == model[doc_id]
    store._con.execute("INSERT INTO notes_fts(notes_fts) VALUES ('integrity-check')")
    for word in "abcdef":
        hits = {r["id"] for r in notes.search(word)}
        want = {i for i, t in model.items() if t is not None and word in t}
        assert hits == want
    # The change feed holds everything: replayed into an empty store it rebuilds every
    # document and row (log rows merged per document must lose nothing).
    replica = Store(":memory:")
    copies = replica.collection("notes", FIELDS)
    for _, _, doc_id, update in store.feed.changes():
        copies.apply_update(doc_id, update)
    for doc_id, _ in stored:
        assert decode_state(copies.get_state(doc_id)) == decode_state(notes.get_state(doc_id))
        assert copies.row(doc_id) == notes.row(doc_id)
    replica.close()
    store.close()
