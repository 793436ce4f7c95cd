"""People typing into the same note at once, on two devices and in several tabs.

Everything here is driven with Playwright's keyboard (never ``fill``): the bug this
guards against (issue 12) was a textarea whose whole text was diffed against a base
that already held someone else's words, which deleted them. Devices are browser
contexts (separate profiles, separate OPFS) synced through a real relay subprocess
that also serves the app; a stock npm y-websocket client watches the note's room.
"At once" is shown, not assumed: every tab types at the same time, and crossing.py's
logs of each tab's note document show that the edits crossed (issue 27).
"""

from __future__ import annotations

import base64
import contextlib
import json
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pycrdt
import pytest
from apppage import READY, call, open_app, wait_until
from crossing import Crossing, Typist, keyboards_at_once, type_until_crossed
from playwright.sync_api import Browser, BrowserContext, Page

ROOT = Path(__file__).resolve().parents[2]
WATCH = Path(__file__).with_name("yws_watch.mjs")


# ------------------------------------------------------------------ helpers


def wait_online(page: Page) -> None:
    page.wait_for_function("() => document.querySelector('#status').dataset.sync === 'online'")


def open_note(page: Page, nid: str) -> None:
    """Click the note in the list, as a person does, and wait for its editor."""
    page.click(f"#notes li[data-id='{nid}']")
    page.wait_for_function(
        "(id) => window.openNote?.id === id && !document.querySelector('#editor').hidden", arg=nid
    )


def body_of(page: Page) -> str:
    """What the body editor (CodeMirror) shows."""
    return str(page.evaluate("() => window.openNote.body.state.doc.toString()"))


def title_of(page: Page) -> str:
    return page.input_value("#title")


def engine_texts(page: Page, nid: str) -> tuple[str, str]:
    """Title and body of the note in this tab's engine document (not the page's copy)."""
    got = page.evaluate("([id]) => window.db.request('document', ['notes', id])", [nid])
    doc: pycrdt.Doc[Any] = pycrdt.Doc()
    doc.apply_update(base64.b64decode(got["$bytes"]))
    return str(doc.get("title", type=pycrdt.Text)), str(doc.get("body", type=pycrdt.Text))


def focus(page: Page, label: str) -> None:
    """Click the field labelled ``label``; it must take the focus and keep it.

    CodeMirror used to take the focus back from a field clicked while remote edits
    streamed into the body (see web/note-body.js): typing then went nowhere.
    """
    field = page.get_by_label(label)
    field.click()
    page.wait_for_timeout(300)  # a stolen focus would be gone by now
    assert field.evaluate("(e) => document.activeElement === e"), f"{label} lost the focus"


def click_body(page: Page, where: str, right: int = 0) -> None:
    """Put the caret in the body: ``where`` is "start" or "end", then ``right`` steps."""
    focus(page, "Body")
    page.keyboard.press("Control+Home" if where == "start" else "Control+End")
    for _ in range(right):
        page.keyboard.press("ArrowRight")


def click_title(page: Page, where: str, right: int = 0) -> None:
    focus(page, "Title")
    page.keyboard.press("Home" if where == "start" else "End")
    for _ in range(right):
        page.keyboard.press("ArrowRight")


def until(check: Callable[[], bool], what: str, timeout_s: float = 90) -> None:
    """Poll ``check`` (a hang guard for convergence, not a timing assertion)."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


class Watcher:
    """A stock y-websocket client (Node) in a note's room; keeps its latest report."""

    def __init__(self, base_url: str, nid: str, name: str) -> None:
        node = shutil.which("node")
        if node is None or not (ROOT / "node_modules" / "y-websocket").is_dir():
            pytest.fail("node and npm's y-websocket are needed: run `python3 build.py build`")
        server = base_url.replace("http://", "ws://").rstrip("/") + "/relay/yws/demo/notes"
        self.proc = subprocess.Popen(
            [node, str(WATCH), server, nid, "demo", name],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.latest: dict[str, Any] = {}
        self._lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)

    def state(self) -> dict[str, Any]:
        while True:
            try:
                self.latest = json.loads(self._lines.get_nowait())
            except queue.Empty:
                return self.latest

    def close(self) -> None:
        with contextlib.suppress(Exception):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture
def watcher(relay_url: str) -> Iterator[Callable[[str, str], Watcher]]:
    made: list[Watcher] = []

    def make(nid: str, name: str) -> Watcher:
        w = Watcher(relay_url, nid, name)
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()


def typists(pages: list[Page], codes: list[str]) -> list[Typist]:
    """The four tabs, named by their code; a1 and a2 are one device, b1 and b2 the other.
    Each types distinct 5-character words (with their space): code + a number."""
    names = ["a1", "a2", "b1", "b2"]
    return [Typist(p, n, n[0], c) for p, n, c in zip(pages, names, codes, strict=True)]


# ------------------------------------------------------------------ tests


def test_two_devices_two_tabs_typing_at_once_lose_nothing(
    device: Any, relay_url: str, watcher: Callable[[str, str], Watcher]
) -> None:
    url = relay_url + "?space=demo&token=demo&user="
    a_ctx, b_ctx = device(), device()
    a1, b1 = open_app(a_ctx, url + "Ann", "a1"), open_app(b_ctx, url + "Ben", "b1")
    wait_online(a1)
    wait_online(b1)
    nid = call(a1, "create_note", "Title here", "hello world")
    b1.wait_for_selector(f"#notes li[data-id='{nid}']")
    a2, b2 = open_app(a_ctx, url + "Amy", "a2"), open_app(b_ctx, url + "Bob", "b2")
    stock = watcher(nid, "Stocky")
    pages = [a1, a2, b1, b2]
    for p in pages:
        open_note(p, nid)

    # The body: four places, ten words each (and more if the edits have not crossed yet),
    # typed into the four tabs at the same time.
    click_body(a1, "end")
    click_body(a2, "start")
    click_body(b1, "start", right=5)  # after "hello"
    click_body(b2, "start", right=6)  # before "world"
    in_body = typists(pages, ["aa", "ab", "ba", "bb"])
    type_until_crossed(Crossing(in_body, "body"), keyboards_at_once, first=10)
    # The title: the same at four other places, three words each.
    click_title(a1, "end")
    click_title(a2, "start")
    click_title(b1, "start", right=5)  # after "Title"
    click_title(b2, "end")
    in_title = typists(pages, ["ta", "tb", "tc", "td"])
    type_until_crossed(Crossing(in_title, "title"), keyboards_at_once, first=3)
    typed = [t.words for t in in_body]
    titled = [t.words for t in in_title]

    def converged() -> bool:
        bodies = {body_of(p) for p in pages}
        titles = {title_of(p) for p in pages}
        engines = {engine_texts(p, nid) for p in pages}
        seen = stock.state()
        return (
            len(bodies) == 1 == len(titles) == len(engines)
            and engines == {(titles.copy().pop(), bodies.copy().pop())}
            and (seen.get("title"), seen.get("body")) == engines.copy().pop()
        )

    until(converged, "four editors, four engines and the stock client to agree")
    title, body = engine_texts(a1, nid)
    for w in [w for ws in typed for w in ws]:
        assert w.strip() in body, f"{w!r} typed into the body is missing: {body!r}"
    for w in [w for ws in titled for w in ws]:
        assert w.strip() in title, f"{w!r} typed into the title is missing: {title!r}"
    assert "hello" in body and "world" in body and "Title" in title and "here" in title
    assert len(body) == len("hello world") + 5 * sum(map(len, typed))
    assert len(title) == len("Title here") + 5 * sum(map(len, titled))
    # Each tab's words are in the order it typed them (nobody's text was rearranged).
    for ws in typed:
        at = [body.index(w.strip()) for w in ws]
        assert at == sorted(at)
    # A word typed in the editor is found by full-text search on both devices.
    for p in (a1, b1):
        wait_until(
            p,
            "async ([q, id]) => (await window.db.call('search_notes', q)).some((h) => h.id === id)",
            arg=["bb07", nid],
        )
    for p in pages:
        p.wait_for_function("() => window.openNote.provider.unsaved === 0")
        assert p.text_content("#saved") == "Saved"


def test_undo_takes_back_only_my_own_text(device: Any, relay_url: str) -> None:
    url = relay_url + "?space=demo&token=demo&user="
    a, b = open_app(device(), url + "Ann", "a"), open_app(device(), url + "Ben", "b")
    wait_online(a)
    wait_online(b)
    nid = call(a, "create_note", "undo", "start")
    b.wait_for_selector(f"#notes li[data-id='{nid}']")
    open_note(a, nid)
    open_note(b, nid)
    click_body(a, "end")
    a.keyboard.type(" mine")
    click_body(b, "start")
    b.keyboard.type("theirs ")
    until(lambda: body_of(a) == body_of(b) == "theirs start mine", "both edits to merge")
    a.keyboard.press("Control+z")
    until(lambda: body_of(a) == body_of(b) == "theirs start", "A's undo to reach both")
    a.keyboard.press("Control+Shift+Z")  # what a keyboard sends: Shift makes "Z"
    until(lambda: body_of(a) == body_of(b) == "theirs start mine", "A's redo to reach both")
    # The title has its own undo, which also leaves the other person's text alone.
    click_title(a, "end")
    a.keyboard.type("!")
    click_title(b, "start")
    b.keyboard.type("my ")
    until(lambda: title_of(a) == title_of(b) == "my undo!", "both title edits to merge")
    a.get_by_label("Title").press("Control+z")
    until(lambda: title_of(a) == title_of(b) == "my undo", "A's title undo to reach both")


def test_presence_shows_who_is_here_and_where_and_goes_when_they_leave(
    device: Any, relay_url: str, watcher: Callable[[str, str], Watcher]
) -> None:
    url = relay_url + "?space=demo&token=demo&user="
    a_ctx = device()
    a = open_app(a_ctx, url + "Ann", "a")
    b = open_app(device(), url + "Ben", "b")
    wait_online(a)
    wait_online(b)
    nid = call(a, "create_note", "presence", "some text to point at")
    b.wait_for_selector(f"#notes li[data-id='{nid}']")
    a2 = open_app(a_ctx, url + "Amy", "a2")  # a second tab on A's device
    stock = watcher(nid, "Stocky")
    for p in (a, a2, b):
        open_note(p, nid)
    click_body(b, "start", right=4)
    b.keyboard.type("X")  # B's caret is now in the text

    here = (
        "(name) => [...document.querySelectorAll('#here li')].some((e) => e.textContent === name)"
    )
    caret = "(name) => [...document.querySelectorAll('.cm-ySelectionInfo')]"
    caret += ".some((e) => e.textContent === name)"
    for name in ("Ann (you)", "Amy", "Ben", "Stocky"):
        a.wait_for_function(here, arg=name)
    b.wait_for_function(here, arg="Amy")  # another device's second tab, through the relay
    # B's caret and name are drawn in A's editor.
    a.wait_for_function(caret, arg="Ben")
    assert a.locator(".cm-ySelectionCaret").count() >= 1
    until(
        lambda: {"Ann", "Amy", "Ben"} <= set(stock.state().get("users", [])),
        "the stock client to see everyone",
    )

    b.close()  # B's only tab: the device leaves
    a.wait_for_function(f"(name) => !({here})(name)", arg="Ben")
    a.wait_for_function(f"(name) => !({caret})(name)", arg="Ben")
    until(lambda: "Ben" not in stock.state().get("users", []), "the stock client to see Ben leave")
    a2.close()  # a tab of A's own device
    a.wait_for_function(f"(name) => !({here})(name)", arg="Amy")
    a.wait_for_function(here, arg="Stocky")


def test_typing_offline_merges_and_the_text_comes_back_from_opfs_offline(
    browser: Browser, device: Any, relay_url: str
) -> None:
    url = relay_url + "?space=demo&token=demo&user="
    a_ctx = browser.new_context(service_workers="allow")  # the app must load offline
    try:
        a = open_app(a_ctx, url + "Ann", "a")
        a.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
        b = open_app(device(), url + "Ben", "b")
        wait_online(a)
        wait_online(b)
        nid = call(a, "create_note", "trip", "pack")
        b.wait_for_selector(f"#notes li[data-id='{nid}']")
        open_note(a, nid)
        open_note(b, nid)

        a_ctx.set_offline(True)
        a.wait_for_function("() => document.querySelector('#status').dataset.sync === 'offline'")
        click_body(a, "end")
        a.keyboard.type(" tent stove")
        click_body(b, "start")
        b.keyboard.type("maps ")
        a.wait_for_function("() => window.openNote.provider.unsaved === 0")  # durable in OPFS

        a.reload()  # still offline: the service worker serves the app, OPFS the note
        a.wait_for_selector(READY, state="attached")
        assert a.get_attribute("html", "data-yloft") == "ready", a.text_content("#error")
        open_note(a, nid)
        assert body_of(a) == "pack tent stove"
        click_body(a, "end")
        a.keyboard.type(" rope")

        a_ctx.set_offline(False)
        wait_online(a)
        until(
            lambda: body_of(a) == body_of(b) == "maps pack tent stove rope",
            "the offline and online edits to merge",
        )
    finally:
        a_ctx.close()


def test_refused_update_and_unknown_ids_are_clear_errors(
    context: BrowserContext, base_url: str
) -> None:
    page = open_app(context, base_url, "p")
    nid = call(page, "create_note", "kept", "as it was")
    open_note(page, nid)
    before = page.evaluate("([id]) => window.db.request('document', ['notes', id])", [nid])
    page.evaluate("() => window.openNote.provider.sendRawUpdate(new Uint8Array([1, 2, 3, 250, 7]))")
    page.wait_for_function(
        "() => document.querySelector('#saved').textContent.startsWith('Not saved: ')"
    )
    assert "MalformedUpdateError" in (page.text_content("#saved") or "")
    after = page.evaluate("([id]) => window.db.request('document', ['notes', id])", [nid])
    assert after == before
    assert page.evaluate("() => window.db.request('integrity_check', [])") == "ok"

    errors = page.evaluate(
        """async () => {
          const out = {};
          for (const [c, id] of [["notes", "no-such-id"], ["nothing", "x"]]) {
            const p = window.db.doc(c, id);
            const fail = (e) => ({name: e.name, message: e.message});
            out[c] = await p.whenSynced.then(() => null, fail);
            p.destroy();
          }
          try { window.db.doc("notes", ""); } catch (e) { out.empty = e.name; }
          return out;
        }"""
    )
    assert errors["notes"]["name"] == "DocumentNotFoundError"
    assert "no-such-id" in errors["notes"]["message"]
    assert errors["nothing"]["name"] == "UnknownCollectionError"
    assert errors["empty"] == "TypeError"

    # Destroying providers releases their links on both sides.
    links = page.evaluate(
        """async (id) => {
          const ps = [0, 1, 2].map(() => window.db.doc("notes", id));
          await Promise.all(ps.map((p) => p.whenSynced));
          const open = await window.db.request("doc_links", []);
          ps.forEach((p) => p.destroy());
          await window.db.query("SELECT 1", []);  // after the unlink requests
          return [open, await window.db.request("doc_links", []), window.db.providers.size];
        }""",
        nid,
    )
    assert links == [4, 1, 1]  # the open note's editor keeps its own link
