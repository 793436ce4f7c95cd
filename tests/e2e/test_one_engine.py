"""One engine per browser: only the writer tab runs Python; every other tab is its client.

Driven as a person uses the notes app (clicks and key presses), several tabs of one
browser profile. A follower's worker must never load Pyodide, yet everything works in
it; a follower opened while the writer still loads waits, then works; and the writer
crashing while two followers type and call loses nothing they were told was saved.
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Any

from apppage import READY, call, open_app, wait_until
from playwright.sync_api import BrowserContext, Error, Page, Route

import build


def worker_state(page: Page) -> Any:
    (worker,) = page.workers
    return worker.evaluate("() => self.yloftTabs()")


def new_note(page: Page, title: str, body: str) -> str:
    """Click "New note", type the title and the body with the keyboard; the note's id."""
    before = set(page.eval_on_selector_all("#notes li", "(els) => els.map((e) => e.dataset.id)"))
    page.click("#new-note")
    page.wait_for_function("() => document.activeElement?.id === 'title'")
    page.keyboard.type(title)
    page.get_by_label("Body").click()
    page.keyboard.type(body)
    page.wait_for_function(
        "(t) => [...document.querySelectorAll('#notes li .title')]"
        ".some((e) => e.textContent === t)",
        arg=title,
    )
    ids = page.eval_on_selector_all("#notes li", "(els) => els.map((e) => e.dataset.id)")
    (nid,) = set(ids) - before
    return str(nid)


def writer_of(pages: list[Page], timeout_s: float = 60) -> Page:
    """The tab that runs the engine, once one does (after a take-over)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [p for p in pages if p.evaluate("() => window.db.status.writer")]
        if found:
            return found[0]
        pages[0].wait_for_timeout(200)
    raise AssertionError("no tab took over as the writer")


def crash(page: Page) -> None:
    with contextlib.suppress(Error):
        page.goto("chrome://crash", timeout=5_000)


def test_a_follower_without_python_creates_edits_searches_and_exports(
    context: BrowserContext, base_url: str, tmp_path: Path
) -> None:
    a = open_app(context, base_url, "writer")
    b = open_app(context, base_url, "follower")
    assert a.evaluate("() => window.db.status.writer") is True
    assert b.evaluate("() => window.db.status.writer") is False
    assert worker_state(b)["engine"] is False
    nid = new_note(b, "Typed in the follower", "a body from the keyboard")
    # Saved in the writer's database, shown in the writer's list.
    a.wait_for_selector(f"#notes li[data-id='{nid}']")
    wait_until(
        a,
        "([id]) => window.db.query('SELECT body FROM notes WHERE id = ?', [id])"
        ".then((r) => r[0]?.body === 'a body from the keyboard')",
        arg=[nid],
    )
    # Edit: tick it done in the follower.
    b.click(f"#notes li[data-id='{nid}'] input[type=checkbox]")
    wait_until(
        a,
        "([id]) => window.db.query('SELECT done FROM notes WHERE id = ?', [id])"
        ".then((r) => r[0]?.done === 1)",
        arg=[nid],
    )
    call(a, "create_note", "From the writer", "something else")
    # Search in the follower, with the keyboard.
    b.get_by_label("Search notes").click()
    b.keyboard.type("keyboard")
    b.wait_for_function(
        "() => [...document.querySelectorAll('#notes li .title')].map((e) => e.textContent)"
        ".join('|') === 'Typed in the follower'"
    )
    # Export from the follower: a real download with both notes.
    with b.expect_download() as download:
        b.click("#export")
    saved = tmp_path / "from-follower.yloft"
    download.value.save_as(saved)
    assert saved.stat().st_size > 100
    report = a.evaluate(
        """async (bytes) => window.db.importFile(new Blob([new Uint8Array(bytes)]))""",
        list(saved.read_bytes()),
    )
    assert report["documents"] == 2 and report["changed"] == 0
    # The follower never loaded Python: its worker holds no engine and no Pyodide.
    state = worker_state(b)
    assert state["engine"] is False and state["python"] is False, state
    assert b.evaluate("() => window.db.status.unsaved") == 0


def test_a_follower_opened_while_the_writer_loads_waits_then_works(
    context: BrowserContext, base_url: str
) -> None:
    a = context.new_page()
    a.set_default_timeout(60_000)
    a.goto(base_url)  # not waiting: Pyodide is still loading in its worker
    b = context.new_page()
    b.set_default_timeout(60_000)
    b.goto(base_url)
    for page in (a, b):
        page.wait_for_selector(READY, state="attached")
        assert page.get_attribute("html", "data-yloft") == "ready"
    writers = [p.evaluate("() => window.db.status.writer") for p in (a, b)]
    assert sorted(writers) == [False, True]
    follower = b if writers[0] else a
    writer = a if writers[0] else b
    nid = call(follower, "create_note", "after waiting", "")
    writer.wait_for_selector(f"#notes li[data-id='{nid}']")
    assert worker_state(follower)["engine"] is False


SAVE_LOOP = """([prefix, n]) => {
  window.saved = [];
  window.loop = (async () => {
    for (let i = 0; i < n; i++) {
      const title = `${prefix} ${i}`;
      await window.db.call('create_note', title, '');
      window.saved.push(title);
      await new Promise((r) => setTimeout(r, 40));
    }
  })();
}"""


def test_the_writer_crashes_while_two_followers_type_and_call_and_nothing_saved_is_lost(
    context: BrowserContext, base_url: str
) -> None:
    a = open_app(context, base_url, "writer")
    b = open_app(context, base_url, "b")
    c = open_app(context, base_url, "c")
    nid = call(a, "create_note", "shared", "")
    for p in (b, c):
        p.click(f"#notes li[data-id='{nid}']")
        p.wait_for_function("(id) => window.openNote?.id === id", arg=nid)
    b.evaluate(SAVE_LOOP, ["from b", 40])
    c.evaluate(SAVE_LOOP, ["from c", 40])
    b.get_by_label("Body").click()
    b.keyboard.type("bbbb ")
    c.get_by_label("Body").click()
    c.keyboard.press("Control+End")
    c.keyboard.type("cccc ")
    wait_until(b, "() => window.saved.length >= 5")
    crash(a)  # mid-stream: calls in flight, keystrokes not yet stored
    b.keyboard.type("after ")
    c.keyboard.type("later ")
    for p in (b, c):
        p.evaluate("() => window.loop")
    writer = writer_of([b, c])
    for p in (b, c):
        wait_until(p, "() => window.db.status.unsaved === 0")
    expected = set(b.evaluate("() => window.saved")) | set(c.evaluate("() => window.saved"))
    assert len(expected) == 80  # every call of both loops was answered
    rows = writer.evaluate('() => window.db.query("SELECT title FROM notes", [])')
    titles = [r["title"] for r in rows]
    assert expected <= set(titles)
    assert len(titles) == len(set(titles)), "a call ran twice"
    body = writer.evaluate(
        "([id]) => window.db.query('SELECT body FROM notes WHERE id = ?', [id])", [nid]
    )[0]["body"]
    for typed in ("bbbb", "cccc", "after", "later"):
        assert typed in body, (typed, body)
    assert writer.evaluate("() => window.db.request('integrity_check', [])") == "ok"


def test_a_tab_of_another_build_is_told_to_reload_and_sends_nothing(
    context: BrowserContext, base_url: str
) -> None:
    a = open_app(context, base_url, "old build")
    count = a.evaluate("() => window.db.query('SELECT count(*) AS n FROM notes', [])")
    manifest = json.loads((build.DIST / "manifest.json").read_text())

    def newer(route: Route) -> None:
        route.fulfill(json={**manifest, "build": "a-newer-build"})

    context.route("**/manifest.json", newer)
    b = context.new_page()
    b.set_default_timeout(60_000)
    b.goto(base_url)
    b.wait_for_selector(READY, state="attached")
    assert b.get_attribute("html", "data-yloft") == "error"
    assert "reload" in (b.text_content("#yloft-error") or "")
    assert "BuildMismatchError" in (b.text_content("#yloft-error") or "")
    assert a.evaluate("() => window.db.query('SELECT count(*) AS n FROM notes', [])") == count
