"""yloft.browser.Engine and the notes app module, on CPython with a real SQLite file."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yloft.browser import Engine
from yloft.crdt import Doc, Text

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "notes"))

import notes_app


def ask(engine: Engine, method: str, *args: Any) -> Any:
    reply = json.loads(engine.handle(json.dumps({"method": method, "args": list(args)})))
    if not reply["ok"]:
        raise AssertionError(reply["error"])
    return reply["value"]


def fail(engine: Engine, method: str, *args: Any) -> dict[str, str]:
    reply = json.loads(engine.handle(json.dumps({"method": method, "args": list(args)})))
    assert reply["ok"] is False
    return reply["error"]  # type: ignore[no-any-return]


@pytest.fixture
def engine(tmp_path: Path) -> Any:
    pushed: list[tuple[int, Any]] = []
    eng = Engine.open(
        str(tmp_path / "notes.db"), app="notes_app", notify=lambda s, r: pushed.append((s, r))
    )
    eng.pushed = pushed  # type: ignore[attr-defined]
    yield eng
    eng.close()


def test_notes_round_trip_through_json(engine: Engine) -> None:
    nid = ask(engine, "call", "create_note", "Buy milk", "two litres", ["home"])
    row = ask(engine, "call", "update_note", nid, None, "two litres of oat milk", True)
    assert row["body"] == "two litres of oat milk" and row["done"] is True
    rows = ask(engine, "query", "SELECT id, title, done, tags FROM notes", [])
    assert rows == [{"id": nid, "title": "Buy milk", "done": 1, "tags": '["home"]'}]
    hits = ask(engine, "call", "search_notes", "oat mil")
    assert [h["id"] for h in hits] == [nid]
    assert ask(engine, "call", "search_notes", 'unbalanced "quote AND (') == []
    ask(engine, "call", "delete_note", nid)
    assert ask(engine, "query", "SELECT count(*) AS n FROM notes", []) == [{"n": 0}]
    assert ask(engine, "integrity_check") == "ok"


def test_live_query_pushes_new_rows_once_per_change(engine: Engine) -> None:
    sub = ask(engine, "subscribe", "SELECT count(*) AS n FROM notes", [])
    assert sub["rows"] == [{"n": 0}]
    ask(engine, "call", "create_note", "a", "")
    assert engine.pushed == [(sub["id"], [{"n": 1}])]  # type: ignore[attr-defined]
    assert ask(engine, "unsubscribe", sub["id"]) is True
    ask(engine, "call", "create_note", "b", "")
    assert len(engine.pushed) == 1  # type: ignore[attr-defined]


def test_errors_carry_the_python_exception_name(engine: Engine) -> None:
    err = fail(engine, "call", "update_note", "no-such-id", "x")
    assert err["name"] == "DocumentNotFoundError" and "no-such-id" in err["message"]
    err = fail(engine, "query", "DELETE FROM notes", [])
    assert err["name"] == "ReadOnlyQueryError"
    assert fail(engine, "call", "_collection")["name"] == "AppFunctionError"
    assert fail(engine, "call", "FIELDS")["name"] == "AppFunctionError"
    assert fail(engine, "drop_everything")["name"] == "AppFunctionError"
    assert fail(engine, "call", "setup", None)["name"] == "AppFunctionError"


def test_bytes_results_are_tagged(engine: Engine) -> None:
    rows = ask(engine, "query", "SELECT x'00ff' AS b", [])
    assert rows == [{"b": {"$bytes": "AP8="}}]
    # Live queries too, on their first rows and on every change.
    sql = "SELECT title, CAST(title AS BLOB) AS raw, count(*) AS n FROM notes GROUP BY title"
    sub = ask(engine, "subscribe", sql, [])
    assert sub["rows"] == []
    ask(engine, "call", "create_note", "hi", "")
    last = engine.pushed[-1]  # type: ignore[attr-defined]
    assert last == (sub["id"], [{"title": "hi", "raw": {"$bytes": "aGk="}, "n": 1}])


def test_data_survives_reopening(tmp_path: Path) -> None:
    path = str(tmp_path / "notes.db")
    first = Engine.open(path, app="notes_app")
    nid = ask(first, "call", "create_note", "kept", "body")
    first.close()
    second = Engine.open(path, app="notes_app")
    assert ask(second, "call", "get_note", nid)["title"] == "kept"
    second.close()


@given(st.text(max_size=30), st.text(max_size=30))
def test_replace_text_reaches_the_new_text(old: str, new: str) -> None:
    doc: Doc[Any] = Doc()
    text = doc.get("body", type=Text)
    text += old
    notes_app.replace_text(text, new)
    assert str(text) == new


def test_replace_text_edits_only_the_middle_so_concurrent_edits_merge() -> None:
    a: Doc[Any] = Doc()
    a.get("t", type=Text).insert(0, "hello world")
    b: Doc[Any] = Doc()
    b.apply_update(a.get_update())
    notes_app.replace_text(a.get("t", type=Text), "hello brave world")
    notes_app.replace_text(b.get("t", type=Text), "hello world!")
    a.apply_update(b.get_update(a.get_state()))
    b.apply_update(a.get_update(b.get_state()))
    assert str(a.get("t", type=Text)) == str(b.get("t", type=Text)) == "hello brave world!"


# ---------------------------------------------------------------- page documents (db.doc)


def test_page_documents_sync_both_ways_without_echo(tmp_path: Path) -> None:
    pushed: list[tuple[int, bytes]] = []
    eng = Engine.open(
        str(tmp_path / "d.db"), app="notes_app", push_doc=lambda link, u: pushed.append((link, u))
    )
    try:
        nid = ask(eng, "call", "create_note", "Title", "body")
        a = ask(eng, "doc_open", "notes", nid)
        b = ask(eng, "doc_open", "notes", nid)
        assert ask(eng, "doc_links") == 2
        page = Doc()
        page.apply_update(base64.b64decode(a["state"]["$bytes"]))
        assert str(page.get("body", type=Text)) == "body"
        # The page types: the engine commits it (columns, FTS) and tells the other link only.
        before = page.get_state()
        page.get("body", type=Text).insert(4, " typed")
        reply = json.loads(eng.doc_update(a["link"], page.get_update(before)))
        assert reply["ok"] is True
        assert [link for link, _ in pushed] == [b["link"]]
        assert ask(eng, "query", "SELECT body FROM notes", []) == [{"body": "body typed"}]
        assert [h["id"] for h in ask(eng, "call", "search_notes", "typed")] == [nid]
        # An edit from Python reaches both pages, and applies cleanly to the page's copy.
        pushed.clear()
        ask(eng, "call", "update_note", nid, "New title")
        assert sorted(link for link, _ in pushed) == [a["link"], b["link"]]
        for _, update in pushed:
            page.apply_update(update)
        assert str(page.get("title", type=Text)) == "New title"
        assert ask(eng, "doc_close", a["link"]) is True
        assert ask(eng, "doc_close", a["link"]) is False
        assert ask(eng, "doc_links") == 1
    finally:
        eng.close()


def test_page_documents_refuse_bad_input_and_change_nothing(engine: Engine) -> None:
    nid = ask(engine, "call", "create_note", "kept", "as it was")
    link = ask(engine, "doc_open", "notes", nid)["link"]
    before = ask(engine, "document", "notes", nid)
    reply = json.loads(engine.doc_update(link, b"\x01\x02\x03\xfa\x07"))
    assert reply["ok"] is False and reply["error"]["name"] == "MalformedUpdateError"
    assert ask(engine, "document", "notes", nid) == before
    reply = json.loads(engine.doc_update(999, b"\x00\x00"))
    assert reply["error"]["name"] == "UnknownLinkError"
    assert fail(engine, "doc_open", "notes", "no-such-id")["name"] == "DocumentNotFoundError"
    assert fail(engine, "doc_open", "nothing", nid)["name"] == "UnknownCollectionError"
    ask(engine, "call", "delete_note", nid)
    assert fail(engine, "doc_open", "notes", nid)["name"] == "DocumentDeletedError"


def test_export_and_import_files_through_the_engine(engine: Engine, tmp_path: Path) -> None:
    """db.exportFile()/importFile()/exportRows() as the page calls them (JSON, base64)."""
    nid = ask(engine, "call", "create_note", "Buy milk", "two litres", ["home"])
    exported = ask(engine, "export")["$bytes"]
    other = Engine.open(str(tmp_path / "other.db"), app="notes_app")
    try:
        report = ask(other, "import", exported)
        assert report == {
            "documents": 1, "changed": 1, "held": 0, "collections_declared": [],
        }  # fmt: skip
        assert ask(other, "call", "search_notes", "litres")[0]["id"] == nid
        assert ask(other, "import", exported)["changed"] == 0
        dump = other.store.dump()
        damaged = bytearray(base64.b64decode(exported))
        damaged[len(damaged) // 2] ^= 0xFF
        for bad in (base64.b64encode(bytes(damaged)).decode(), "not base64 at all!"):
            assert fail(other, "import", bad)["name"] == "ArchiveError"
        assert other.store.dump() == dump
        assert ask(other, "export_rows", "notes", "csv").startswith("id,title,")
        assert ask(other, "export_rows", "notes", "json").startswith('[{"id": "' + nid)
        assert fail(other, "export_rows", "notes", "xml")["name"] == "ArchiveError"
    finally:
        other.close()


# -- calls from tabs run once (yloft.browser.once) ---------------------------------------


def send(engine: Engine, tab: str, seq: int, ack: int, method: str, *args: Any) -> Any:
    request = json.dumps({"method": method, "args": list(args)})
    return json.loads(engine.handle(request, tab, seq, ack))


def count(engine: Engine) -> int:
    return int(ask(engine, "query", "SELECT count(*) AS n FROM notes", [])[0]["n"])


def test_a_call_resent_to_the_next_writer_runs_once(tmp_path: Path) -> None:
    """The writer commits a tab's call and dies before replying; the tab resends it to
    the next writer (another engine on the same file), which answers from the record."""
    path = str(tmp_path / "notes.db")
    first = Engine.open(path, app="notes_app")
    made = send(first, "tab-b", 1, 0, "call", "create_note", "once", "")
    first.close()  # the reply is lost with the writer tab
    second = Engine.open(path, app="notes_app")
    again = send(second, "tab-b", 1, 0, "call", "create_note", "once", "")
    assert again == made and made["ok"]
    assert count(second) == 1
    # The next call of that tab runs; other tabs' numbers are their own.
    assert send(second, "tab-b", 2, 1, "call", "create_note", "two", "")["ok"]
    assert send(second, "tab-c", 1, 0, "call", "create_note", "three", "")["ok"]
    assert count(second) == 3
    # Confirmed replies are dropped; a late duplicate still does not run again.
    assert send(second, "tab-b", 1, 2, "call", "create_note", "once", "")["value"] is None
    assert count(second) == 3
    second.close()


def test_reads_and_failed_calls_leave_no_record(engine: Engine) -> None:
    nid = send(engine, "t", 1, 0, "call", "create_note", "a", "alpha")["value"]
    hits = send(engine, "t", 2, 1, "call", "search_notes", "alpha")
    assert [h["id"] for h in hits["value"]] == [nid]
    # A call that wrote nothing may run again (no commit was spent recording it).
    assert send(engine, "t", 2, 1, "call", "search_notes", "alpha") == hits
    bad = send(engine, "t", 3, 2, "call", "update_note", "no-such-id", "x", None, None)
    assert bad["ok"] is False and count(engine) == 1
    record = json.loads(engine.store.feed.cursor("tab-calls") or "{}")
    assert record == {"t": {"hi": 1, "r": {"1": json.dumps({"ok": True, "value": nid})}}}
    assert engine.forget_tabs(["t", "never-seen"]) == 1
    assert json.loads(engine.store.feed.cursor("tab-calls") or "{}") == {}


def test_a_call_that_raises_after_writing_keeps_nothing(tmp_path: Path) -> None:
    """A numbered call runs in one transaction: a failure rolls its writes back."""
    import types

    from yloft import Store

    app = types.ModuleType("failing_app")

    def setup(store: Store) -> None:
        app.notes = store.collection("notes", {})  # type: ignore[attr-defined]

    def create_then_fail() -> None:
        app.notes.create()  # type: ignore[attr-defined]
        raise ValueError("refused after writing")

    app.setup = setup  # type: ignore[attr-defined]
    app.create_then_fail = create_then_fail  # type: ignore[attr-defined]
    engine = Engine(Store(str(tmp_path / "f.db")), app)
    bad = send(engine, "t", 1, 0, "call", "create_then_fail")
    assert bad["ok"] is False and bad["error"]["name"] == "ValueError"
    assert count(engine) == 0 and engine.store.feed.cursor("tab-calls") is None
    engine.close()


@settings(deadline=None, max_examples=40)
@given(st.lists(st.tuples(st.integers(1, 6), st.booleans()), min_size=1, max_size=25))
def test_any_order_of_sends_resends_and_writer_deaths_runs_each_call_once(
    plan: list[tuple[int, bool]],
) -> None:
    """A tab sends calls 1..n in order, resending from its oldest unanswered call after
    each writer death (a new engine on the same file): each call's note exists once."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "notes.db")
        engine = Engine.open(path, app="notes_app")
        answered: dict[int, Any] = {}
        next_seq, ack = 1, 0
        for batch, dies in plan:
            for seq in range(ack + 1, next_seq + batch):
                reply = send(engine, "tab", seq, ack, "call", "create_note", f"n{seq}", "")
                if not dies:
                    answered.setdefault(seq, reply)
            next_seq += batch
            if dies:  # every reply of this batch is lost; the tab resends them
                engine.close()
                engine = Engine.open(path, app="notes_app")
            else:
                ack = next_seq - 1
        titles = [r["title"] for r in ask(engine, "query", "SELECT title FROM notes", [])]
        # Every call was sent at least once and committed exactly once.
        assert sorted(titles) == sorted(f"n{s}" for s in range(1, next_seq))
        assert all(r["ok"] for r in answered.values())
        engine.close()


def test_records_of_closed_tabs_are_forgotten(engine: Engine) -> None:
    for tab in ("a", "b", "c"):
        assert send(engine, tab, 1, 0, "call", "create_note", tab, "")["ok"]
    assert engine.forget_tabs_except(json.dumps(["b"])) == 2
    assert set(json.loads(engine.store.feed.cursor("tab-calls") or "{}")) == {"b"}


def test_a_batch_of_writes_commits_once_and_a_failing_one_changes_nothing_else(
    tmp_path: Path,
) -> None:
    commits: list[int] = []
    engine = Engine.open(
        str(tmp_path / "n.db"), app="notes_app", on_commit=lambda: commits.append(1)
    )
    nid = ask(engine, "call", "create_note", "first", "")
    commits.clear()

    def item(tab: str, seq: int, *args: Any) -> dict[str, Any]:
        return {"request": json.dumps({"method": "call", "args": list(args)}),
                "tab": tab, "seq": seq, "ack": seq - 1}  # fmt: skip

    batch = [
        item("a", 1, "create_note", "from a", ""),
        item("b", 1, "update_note", "no-such-note", "x"),  # fails: nothing of it is kept
        item("c", 1, "update_note", nid, "renamed"),
    ]
    replies = json.loads(engine.handle_writes(json.dumps(batch)))
    assert [r["ok"] for r in replies] == [True, False, True]
    assert len(commits) == 1  # one durable commit for the three
    titles = {r["title"] for r in ask(engine, "query", "SELECT title FROM notes", [])}
    assert titles == {"from a", "renamed"}
    # Resent (the writer died before answering): answered from the records, not run again.
    again = json.loads(engine.handle_writes(json.dumps(batch)))
    assert again[0] == replies[0] and again[2] == replies[2]
    assert count(engine) == 2
    engine.close()
