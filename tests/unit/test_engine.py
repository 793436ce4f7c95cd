"""yloft.browser.Engine and the notes app module, on CPython with a real SQLite file."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
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
