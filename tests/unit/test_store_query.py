"""Read-only queries and live queries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from yloft import CallbackError, Field, QueryError, ReadOnlyQueryError, Store
from yloft.crdt import Map

FIELDS = {
    "title": Field("meta.title", str, index=True),
    "done": Field("meta.done", bool, index=True),
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "q.db") as s:
        s.collection("notes", FIELDS)
        s.collection("tags", {"name": Field("meta.name", str)})
        yield s


def add(store: Store, title: str, done: bool = False) -> str:
    notes = store.collection("notes")
    nid = notes.create()
    with notes.edit(nid) as doc:
        doc.get("meta", type=Map)["title"] = title
        doc.get("meta", type=Map)["done"] = done
    return nid


WRITES = [
    "DELETE FROM notes",
    "UPDATE notes SET title = 'x'",
    "INSERT INTO notes (id) VALUES ('x')",
    "DROP TABLE notes",
    "CREATE TABLE evil (x)",
    "CREATE TEMP TABLE evil (x)",
    "ALTER TABLE notes ADD COLUMN y",
    "CREATE INDEX i ON notes(title)",
    "PRAGMA user_version = 7",
    "PRAGMA writable_schema = 1",
    "PRAGMA journal_mode = delete",
    "ATTACH DATABASE ':memory:' AS other",
    "BEGIN",
    "SAVEPOINT s",
    "VACUUM",
    "REINDEX",
    "ANALYZE",
    "WITH x AS (SELECT 1) DELETE FROM notes",
    "INSERT INTO notes_x SELECT 1",
    "UPDATE sqlite_master SET sql = ''",
    "DELETE FROM _yloft_updates",
    "INSERT INTO notes_fts(notes_fts) VALUES ('rebuild')",
]


@pytest.mark.parametrize("sql", WRITES)
def test_writes_are_refused(store: Store, sql: str) -> None:
    add(store, "a")
    before = store.dump()
    with pytest.raises(QueryError):
        store.query(sql, ())
    assert store.dump() == before
    assert store.query("SELECT count(*) AS n FROM notes", ()) == [{"n": 1}]


def test_refusal_is_read_only_error(store: Store) -> None:
    with pytest.raises(ReadOnlyQueryError, match="only read"):
        store.query("DELETE FROM notes", ())


def test_internal_statements_cannot_be_borrowed(store: Store) -> None:
    # The store itself runs this exact statement; app SQL must still be refused.
    add(store, "a")
    with pytest.raises(ReadOnlyQueryError):
        store.query(
            "INSERT INTO _yloft_updates (doc, origin, data) VALUES (?, ?, ?)", (1, None, b"")
        )


def test_reads_that_pass(store: Store) -> None:
    a = add(store, "apple")
    add(store, "pear", done=True)
    assert store.query("SELECT title FROM notes WHERE done = ? ORDER BY title", (0,)) == [
        {"title": "apple"}
    ]
    assert store.query("SELECT id FROM notes WHERE title = :t", {"t": "apple"}) == [{"id": a}]
    assert store.query(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x<3)"
        " SELECT count(*) AS n FROM c",
        (),
    ) == [{"n": 3}]
    assert store.query("PRAGMA user_version", ()) == [{"user_version": 1}]
    assert {r["name"] for r in store.query("PRAGMA table_info(notes)", ())} >= {"id", "title"}
    assert store.query(
        "SELECT n.title, t.name FROM notes n LEFT JOIN tags t ON 0 ORDER BY 1 LIMIT 1", ()
    ) == [{"title": "apple", "name": None}]
    with pytest.raises(QueryError):
        store.query("SELECT 1; SELECT 2", ())
    with pytest.raises(QueryError):
        store.query("SELECT ?", ())
    with pytest.raises(QueryError):
        store.query(5, ())  # type: ignore[arg-type]


def test_query_inside_atomic_sees_pending_writes(store: Store) -> None:
    with store.atomic():
        add(store, "inside")
        assert store.query("SELECT title FROM notes", ()) == [{"title": "inside"}]


def test_live_query_fires_only_on_change(store: Store) -> None:
    calls: list[list[dict[str, Any]]] = []
    sub = store.subscribe("SELECT count(*) AS n FROM notes WHERE done = 0", (), calls.append)
    assert sub.result == [{"n": 0}] and calls == []
    a = add(store, "a")
    assert calls == [[{"n": 1}]]
    with store.collection("notes").edit(a) as doc:  # result unchanged: no call
        doc.get("meta", type=Map)["title"] = "renamed"
    assert calls == [[{"n": 1}]]
    with store.collection("notes").edit(a) as doc:
        doc.get("meta", type=Map)["done"] = True
    assert calls[-1] == [{"n": 0}]
    sub.close()
    add(store, "b")
    assert len(calls) == 2


def test_live_query_reruns_only_for_tables_it_reads(store: Store) -> None:
    runs = 0
    real = store._read

    def counting(sql: str, params: Any) -> Any:
        nonlocal runs
        runs += 1
        return real(sql, params)

    store._live._run = counting  # count re-runs without changing behaviour
    store.subscribe("SELECT count(*) AS n FROM tags", (), lambda rows: None)
    assert runs == 1
    add(store, "note only")
    assert runs == 1
    tags = store.collection("tags")
    tags.create()
    assert runs == 2


def test_live_query_batches_an_atomic_block(store: Store) -> None:
    calls: list[Any] = []
    store.subscribe("SELECT count(*) AS n FROM notes", (), calls.append)
    with store.atomic():
        for i in range(5):
            add(store, str(i))
        assert calls == []
    assert calls == [[{"n": 5}]]


def test_fts_and_joins_are_tracked(tmp_path: Path) -> None:
    with Store(tmp_path / "f.db") as s:
        notes = s.collection("notes", {"body": Field("body", str, fts=True)})
        seen: list[Any] = []
        s.subscribe(
            "SELECT count(*) AS n FROM notes_fts WHERE notes_fts MATCH 'milk'", (), seen.append
        )
        nid = notes.create()
        from yloft.crdt import Text

        with notes.edit(nid) as doc:
            doc.get("body", type=Text).insert(0, "buy milk")
        assert seen == [[{"n": 1}]]


def test_callback_exceptions_are_not_swallowed(store: Store) -> None:
    good: list[Any] = []

    def bad(rows: Any) -> None:
        raise ValueError("subscriber bug")

    store.subscribe("SELECT count(*) AS n FROM notes", (), bad)
    store.subscribe("SELECT count(*) AS m FROM notes", (), good.append)
    with pytest.raises(CallbackError) as info:
        add(store, "x")
    assert isinstance(info.value.errors[0], ValueError)
    assert good == [[{"m": 1}]]  # the other subscriber still ran
    assert store.query("SELECT count(*) AS n FROM notes", ()) == [{"n": 1}]


def test_subscription_context_manager(store: Store) -> None:
    calls: list[Any] = []
    with store.subscribe("SELECT count(*) AS n FROM notes", (), calls.append) as sub:
        add(store, "x")
    assert sub.closed and len(calls) == 1
    add(store, "y")
    assert len(calls) == 1
    with pytest.raises(TypeError):
        store.subscribe("SELECT 1", (), "not callable")  # type: ignore[arg-type]


def test_the_same_live_query_in_several_subscriptions_runs_once_per_commit() -> None:
    """The same list open in several tabs costs one query per commit, not one per tab."""
    from yloft.store.live import LiveQueries

    runs: list[str] = []
    state = {"n": 1}

    def run(sql: str, params: Any) -> Any:
        runs.append(sql)
        return [{"n": state["n"], "p": list(params)}], frozenset({"t"})

    live = LiveQueries(run)
    got: list[Any] = []
    subs = [live.add("SELECT n FROM t WHERE p = ?", [1], got.append) for _ in range(3)]
    other = live.add("SELECT n FROM t WHERE p = ?", [2], got.append)
    runs.clear()
    state["n"] = 2
    assert live.notify({"t"}) == []
    assert len(runs) == 2  # one per distinct (sql, params), not four
    assert [r[0]["n"] for r in got] == [2, 2, 2, 2]
    got[0][0]["n"] = 99  # a callback that changes its rows changes nobody else's
    assert subs[1].result[0]["n"] == 2 and other.result[0]["p"] == [2]
