"""The notes app's Export and Import buttons, clicked as a person does, in two profiles.

Profile A exports its notes to a file (a real download); profile B imports it through the
file chooser, offline. Rows, every document's Yjs state and SQLite's integrity check must
match; a second import changes nothing; concurrent edits on both sides are both kept; a
damaged file is refused and changes nothing.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pycrdt
from apppage import call, open_app
from playwright.sync_api import Page

ROWS = "SELECT id, title, body, done, tags FROM notes ORDER BY id"


def export(page: Page, to: Path) -> Path:
    with page.expect_download() as download:
        page.click("#export")
    download.value.save_as(to)
    page.wait_for_function(
        "() => document.querySelector('#transfer').textContent.startsWith('Exported')"
    )
    return to


def import_file(page: Page, path: Path) -> str:
    page.evaluate("() => { document.querySelector('#transfer').textContent = ''; }")
    with page.expect_file_chooser() as chooser:
        page.click("#import")
    chooser.value.set_files(str(path))
    page.wait_for_function("() => document.querySelector('#transfer').textContent !== ''")
    return str(page.text_content("#transfer"))


def rows(page: Page) -> Any:
    return page.evaluate("(sql) => window.db.query(sql, [])", ROWS)


def head(page: Page) -> int:
    got = page.evaluate("() => window.db.query('SELECT max(seq) AS s FROM _yloft_updates', [])")
    return int(got[0]["s"] or 0)


def state(page: Page, nid: str) -> dict[str, Any]:
    """A document's content, decoded from the engine's whole Yjs state."""
    got = page.evaluate("(id) => window.db.request('document', ['notes', id])", nid)
    doc = pycrdt.Doc()
    doc.apply_update(base64.b64decode(got["$bytes"]))
    return {
        "title": str(doc.get("title", type=pycrdt.Text)),
        "body": str(doc.get("body", type=pycrdt.Text)),
    }


def test_export_then_import_into_another_profile_offline(
    device: Any, base_url: str, tmp_path: Path
) -> None:
    a_ctx, b_ctx = device(), device()
    a, b = open_app(a_ctx, base_url, "A"), open_app(b_ctx, base_url, "B")
    ids = [call(a, "create_note", f"note {i}", f"body {i}", ["x"]) for i in range(3)]
    call(a, "update_note", ids[0], None, None, True)
    a_ctx.set_offline(True)
    b_ctx.set_offline(True)
    first = export(a, tmp_path / "a1.yloft")
    assert "3 of 3 notes changed" in import_file(b, first)
    b.wait_for_selector(f"#notes li[data-id='{ids[2]}']")
    assert rows(b) == rows(a)
    assert all(state(b, nid) == state(a, nid) for nid in ids)
    assert b.evaluate("() => window.db.request('integrity_check', [])") == "ok"
    # The same file again: nothing new, no row and no feed entry written.
    before = head(b)
    assert "nothing new" in import_file(b, first)
    assert head(b) == before and rows(b) == rows(a)
    # Both sides edit the same note; A's new export merges into B: both edits are kept.
    call(a, "update_note", ids[1], None, "body 1, edited on A")
    call(b, "update_note", ids[1], "note 1, renamed on B")
    assert "1 of 3 notes changed" in import_file(b, export(a, tmp_path / "a2.yloft"))
    merged = next(r for r in rows(b) if r["id"] == ids[1])
    assert (merged["title"], merged["body"]) == ("note 1, renamed on B", "body 1, edited on A")


def test_a_damaged_file_is_refused_and_changes_nothing(
    device: Any, base_url: str, tmp_path: Path
) -> None:
    a_ctx, b_ctx = device(), device()
    a, b = open_app(a_ctx, base_url, "A"), open_app(b_ctx, base_url, "B")
    call(a, "create_note", "from A", "exported")
    call(b, "create_note", "B's own", "kept as it is")
    good = export(a, tmp_path / "good.yloft").read_bytes()
    before, seq = rows(b), head(b)
    for name, data in [
        ("truncated.yloft", good[: len(good) // 2]),
        ("flipped.yloft", good[:40] + bytes([good[40] ^ 0xFF]) + good[41:]),
        ("foreign.yloft", b"SQLite format 3\x00" + good[16:]),
    ]:
        (tmp_path / name).write_bytes(data)
        message = import_file(b, tmp_path / name)
        assert message.startswith("Import refused:"), message
        assert "export" in message
        assert rows(b) == before and head(b) == seq
