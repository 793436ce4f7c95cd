"""The engine's devtools requests (yloft.browser.devtools), on CPython: refused unless
enabled, read-only but for compaction, and what the panel shows."""

from __future__ import annotations

import doctest
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from yloft.browser import Engine, devtools

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples" / "notes"))


def ask(engine: Engine, action: str, *args: Any) -> Any:
    reply = json.loads(engine.handle(json.dumps({"method": "devtools", "args": [action, *args]})))
    if not reply["ok"]:
        raise AssertionError(reply["error"])
    return reply["value"]


def refused(engine: Engine, action: str, *args: Any) -> dict[str, str]:
    reply = json.loads(engine.handle(json.dumps({"method": "devtools", "args": [action, *args]})))
    assert reply["ok"] is False
    return dict(reply["error"])


def call(engine: Engine, fn: str, *args: Any) -> Any:
    return json.loads(engine.handle(json.dumps({"method": "call", "args": [fn, *args]})))["value"]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = Engine.open(str(tmp_path / "notes.db"), app="notes_app", devtools=True)
    yield engine
    engine.close()


def test_refused_unless_the_app_enabled_devtools(tmp_path: Path) -> None:
    engine = Engine.open(str(tmp_path / "off.db"), app="notes_app")
    try:
        for action in ("collections", "sql", "compact"):
            error = refused(engine, action, "SELECT 1")
            assert error["name"] == "DevtoolsDisabledError"
            assert "connect({devtools: true})" in error["message"]
    finally:
        engine.close()


def test_collections_rows_paged_and_searched(engine: Engine) -> None:
    for i in range(30):
        call(engine, "create_note", f"note {i:02}", "milk" if i % 3 == 0 else "bread")
    (notes,) = ask(engine, "collections")
    assert notes["name"] == "notes" and notes["rows"] == 30 and notes["fts"] is True
    assert {"id", "title", "body", "done", "tags"} <= set(notes["columns"])
    page = ask(engine, "rows", "notes", 25, 25)
    assert page["total"] == 30 and len(page["rows"]) == 5 and page["offset"] == 25
    found = ask(engine, "rows", "notes", 0, 25, "mil")
    assert found["total"] == 10
    assert {r["body"] for r in found["rows"]} == {"milk"}
    # Whatever a person types is a valid search (quotes, FTS5 operators).
    assert ask(engine, "rows", "notes", 0, 25, 'AND "( OR')["total"] == 0


def test_sql_console_reads_and_the_engine_refuses_writes(engine: Engine) -> None:
    nid = call(engine, "create_note", "Milk", "2 l")
    result = ask(engine, "sql", "SELECT id, title FROM notes")
    assert result["columns"] == ["id", "title"] and result["rows"] == [{"id": nid, "title": "Milk"}]
    for write in (
        "DELETE FROM notes",
        "UPDATE notes SET title = 'x'",
        "DROP TABLE notes",
        "INSERT INTO _yloft_meta VALUES ('a', 'b')",
        "PRAGMA user_version = 9",
    ):
        error = refused(engine, "sql", write)
        assert error["name"] == "ReadOnlyQueryError", write
        assert "only reads" in error["message"]
    assert ask(engine, "sql", "SELECT title FROM notes")["rows"] == [{"title": "Milk"}]
    assert refused(engine, "sql", "SELEC nothing")["name"] == "QueryError"
    assert refused(engine, "sql", "  ")["name"] == "QueryError"


def test_document_log_feed_and_compaction(engine: Engine) -> None:
    nid = call(engine, "create_note", "Milk", "2 l")
    for body in ("2 l.", "2 l..", "3 l"):
        call(engine, "update_note", nid, None, body)
    doc = ask(engine, "document", "notes", nid)
    assert doc["size"] > 0 and doc["deleted"] is False
    # create() and its first edit, then three edits
    assert len(doc["log"]) == 5 and not any(e["folded"] for e in doc["log"])
    assert all(e["size"] > 0 and e["origin"] is None for e in doc["log"])
    feed = ask(engine, "feed", 10)
    assert [c["seq"] for c in feed["changes"]] == [e["seq"] for e in reversed(doc["log"])]
    assert feed["head"] == doc["log"][-1]["seq"] and feed["changes"][0]["id"] == nid
    after = ask(engine, "compact", "notes", nid)
    assert after["snap_seq"] == doc["log"][-1]["seq"] and after["snapshot"] > 0
    assert all(e["folded"] for e in after["log"])
    assert call(engine, "get_note", nid)["body"] == "3 l"
    assert refused(engine, "document", "notes", "f" * 32)["name"] == "DocumentNotFoundError"
    assert refused(engine, "rm_rf")["name"] == "QueryError"


def test_relay_outbox_lists_what_the_relay_has_not_acknowledged(engine: Engine) -> None:
    assert ask(engine, "relay_outbox") == []
    call(engine, "create_note", "one")
    acked = engine.store.feed.head()
    cursor = {"client_id": "c", "relay_id": "r", "last_seq": 1, "acked": acked}
    engine.store.feed.save_cursor("relay:team", json.dumps(cursor))
    second = call(engine, "create_note", "two")
    (space,) = ask(engine, "relay_outbox")
    assert space["space"] == "team" and space["acked"] == acked
    assert {c["id"] for c in space["changes"]} == {second}
    assert all(c["seq"] > acked and c["size"] > 0 for c in space["changes"])


def test_docstring_examples() -> None:
    result = doctest.testmod(devtools, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_open_documents_are_the_links_pages_hold(engine: Engine) -> None:
    nid = call(engine, "create_note", "open me")
    assert ask(engine, "open_documents") == []
    opened = json.loads(engine.handle(json.dumps({"method": "doc_open", "args": ["notes", nid]})))
    engine.handle(json.dumps({"method": "doc_open", "args": ["notes", nid]}))
    assert ask(engine, "open_documents") == [{"collection": "notes", "id": nid, "links": 2}]
    engine.handle(json.dumps({"method": "doc_close", "args": [opened["value"]["link"]]}))
    assert ask(engine, "open_documents") == [{"collection": "notes", "id": nid, "links": 1}]
