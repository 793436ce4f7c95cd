"""Storage the browser deletes (eviction): the app notices, says so, and comes back.

Each test runs Chromium on an on-disk profile (``launch_persistent_context``): the app
writes notes, the browser closes, and the database is deleted while the browser is
closed to the app, the way a browser deletes a storage kind on its own:

- OPFS: ``Storage.clearDataForOrigin`` with ``storageTypes: "file_systems"`` (CDP). That
  runs the browser's own code for clearing one kind of a site's storage, so the files go
  the way the browser itself deletes them, while the origin's IndexedDB (and so the
  manifest) stays.
  Deleting files in the profile folder instead would leave Chromium's own records of
  them behind, which no real eviction does.
- IndexedDB fallback: the page deletes the ``yloft-fs:/yloft`` database
  (``indexedDB.deleteDatabase``), as a person deleting it in the browser's tools does.

A whole origin evicted at once leaves no manifest: that start is a fresh one
(docs/storage.md, "Eviction"), which ``test_a_fresh_start_is_not_an_eviction`` covers.
"""

from __future__ import annotations

import base64
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pycrdt
import pytest
from apppage import call, open_app, wait_until
from playwright.sync_api import Browser, BrowserContext, Page, expect

import build

ROWS = "SELECT id, title, body, done, tags FROM notes ORDER BY id"

# The origin's storage as a page sees it: OPFS files with their sizes, IndexedDB
# databases, and the manifests (read without creating their database).
STORAGE = """async () => {
  const files = {};
  async function walk(dir, prefix) {
    for await (const [name, handle] of dir.entries()) {
      if (handle.kind === "directory") await walk(handle, prefix + name + "/");
      else files[prefix + name] = (await handle.getFile()).size;
    }
  }
  await walk(await navigator.storage.getDirectory(), "");
  const databases = (await indexedDB.databases()).map((d) => d.name);
  let manifests = {};
  if (databases.includes("yloft-manifest")) {
    const db = await new Promise((ok, fail) => {
      const req = indexedDB.open("yloft-manifest");
      req.onsuccess = () => ok(req.result);
      req.onerror = () => fail(req.error);
    });
    const store = db.transaction("databases").objectStore("databases");
    const [keys, values] = await Promise.all([store.getAllKeys(), store.getAll()].map(
      (req) => new Promise((ok) => { req.onsuccess = () => ok(req.result); })));
    manifests = Object.fromEntries(keys.map((k, i) => [k, values[i]]));
    db.close();
  }
  return { files, databases, manifests };
}"""


@pytest.fixture
def profile() -> Iterator[str]:
    folder = tempfile.mkdtemp(prefix="yloft-evict-")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def launch(browser: Browser, profile: str) -> BrowserContext:
    """Chromium on the on-disk ``profile`` (the session's Playwright starts it)."""
    ctx = browser.browser_type.launch_persistent_context(
        profile,
        executable_path=shutil.which("chromium"),
        args=build.CHROMIUM_FLAGS,
        service_workers="block",
        accept_downloads=True,
    )
    ctx.set_default_timeout(60_000)
    return ctx


def storage_of(ctx: BrowserContext, origin: str) -> Any:
    """What the origin stores, read by a page of it that does not start the app."""
    page = ctx.new_page()
    page.goto(origin + "manifest.json")
    state = page.evaluate(STORAGE)
    page.close()
    return state


def wait_manifest(page: Page, key: str, check: str) -> Any:
    """Wait until the manifest ``key`` passes ``check`` (a JS expression over ``m``)."""
    return wait_until(page, f"async () => {{ const m = (await ({STORAGE})()).manifests[{key!r}];"
                      f" return m && ({check}) ? m : null; }}")  # fmt: skip


def delete_database(ctx: BrowserContext, origin: str, kind: str) -> None:
    """Delete the notes database as the browser would, leaving the rest of the origin."""
    before = storage_of(ctx, origin)
    page = ctx.new_page()
    page.goto(origin + "manifest.json")
    if kind == "opfs":
        assert before["files"]["yloft/notes.db"] > 0
        cdp = ctx.new_cdp_session(page)
        cdp.send(
            "Storage.clearDataForOrigin",
            {"origin": origin.rstrip("/"), "storageTypes": "file_systems"},
        )
    else:
        assert "yloft-fs:/yloft" in before["databases"]
        page.evaluate(
            """() => new Promise((ok, fail) => {
                 const req = indexedDB.deleteDatabase("yloft-fs:/yloft");
                 req.onsuccess = ok; req.onerror = () => fail(req.error);
                 req.onblocked = () => fail(new Error("blocked")); })"""
        )
    page.close()
    after = storage_of(ctx, origin)
    assert not any(name.startswith("yloft/notes.db") for name in after["files"]), after
    assert "yloft-fs:/yloft" not in after["databases"]
    # What outlives the database: the manifest, kept outside it.
    assert after["manifests"] == before["manifests"] != {}


def rows(page: Page) -> Any:
    return page.evaluate("(sql) => window.db.query(sql, [])", ROWS)


def texts(page: Page, ids: list[str]) -> dict[str, dict[str, str]]:
    """Each note's texts, decoded from the engine's whole Yjs document."""
    out = {}
    for nid in ids:
        got = page.evaluate("(id) => window.db.request('document', ['notes', id])", nid)
        doc = pycrdt.Doc()
        doc.apply_update(base64.b64decode(got["$bytes"]))
        out[nid] = {k: str(doc.get(k, type=pycrdt.Text)) for k in ("title", "body")}
    return out


def write_notes(page: Page, n: int) -> list[str]:
    """``n`` notes with several lines of text; every fifth edited again afterwards."""
    ids = [
        call(page, "create_note", f"Note {i}", f"body of note {i}\nsecond line {i}", [f"t{i % 3}"])
        for i in range(n)
    ]
    for nid in ids[::5]:
        call(page, "update_note", nid, None, f"rewritten body of {nid}", True)
    return ids


def wait_sync(page: Page, state: str, outbox: int) -> None:
    check = "(s) => { const e = document.querySelector('#status');"
    check += " return e.dataset.sync === s[0] && e.dataset.outbox === s[1]; }"
    page.wait_for_function(check, arg=[state, str(outbox)])


def wait_count(page: Page, n: int) -> None:
    wait_until(
        page,
        "async (n) => (await window.db.query('SELECT count(*) AS n FROM notes', []))[0].n === n",
        arg=n,
    )


def test_an_evicted_database_comes_back_whole_from_the_relay(
    browser: Browser, relay_url: str, profile: str, device: Any
) -> None:
    url = relay_url + "?space=demo&token=demo"
    ctx = launch(browser, profile)
    try:
        a = open_app(ctx, url, "A")
        wait_sync(a, "online", 0)
        ids = write_notes(a, 60)
        wait_sync(a, "online", 0)  # the relay acknowledged everything
        before, before_texts = rows(a), texts(a, ids)
        assert len(before) == 60
        # The manifest knows the database held data and had synced (written at most
        # every few seconds, never per write).
        wait_manifest(a, "notes:opfs", "m.held === 60 && m.lastSeq > 0 && m.lost === null")
    finally:
        ctx.close()

    ctx = launch(browser, profile)
    try:
        delete_database(ctx, relay_url, "opfs")
        b = open_app(ctx, url, "A after eviction")
        # It says so...
        notice = b.locator("#evicted")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text("deleted the notes")
        evicted = b.evaluate("() => window.db.status.evicted")
        assert evicted["storage"] == "opfs" and evicted["documents"] == 60
        assert evicted["relay"] is True and evicted["hadRelay"] is True
        assert evicted["at"] > 0
        # ... to the page's code too, even to a listener added after connect() resolved.
        heard = b.evaluate("() => new Promise((ok) => window.db.on('evicted', ok))")
        assert heard["at"] == evicted["at"]
        # ... and comes back whole from the relay: every note, every text.
        expect(notice).to_have_attribute("data-state", "restored")
        expect(notice).to_contain_text("the relay brought them back")
        assert b.evaluate("() => window.db.status.evicted.restored") is True
        wait_count(b, 60)
        assert rows(b) == before
        assert texts(b, ids) == before_texts
        assert b.evaluate("() => window.db.request('integrity_check', [])") == "ok"

        # The restored device syncs on as a new device: its next note reaches another.
        new = call(b, "create_note", "after the eviction", "sent from the restored device")
        wait_sync(b, "online", 0)
        c = open_app(device(), url, "C")
        wait_count(c, 61)
        assert {r["id"] for r in rows(c)} == {*ids, new}
        # The loss is over: the manifest says so, and the next start says nothing.
        wait_manifest(b, "notes:opfs", "m.held === 61 && m.lost === null")
        b.reload()
        b.wait_for_selector("html[data-yloft=ready]", state="attached")
        assert b.evaluate("() => window.db.status.evicted") is None
        expect(b.locator("#evicted")).to_be_hidden()
    finally:
        ctx.close()


@pytest.mark.parametrize("kind", ["opfs", "idb"])
def test_without_a_relay_the_app_says_the_notes_are_gone_and_offers_the_last_export(
    browser: Browser, base_url: str, profile: str, tmp_path: Path, kind: str
) -> None:
    url = base_url + ("?storage=idb" if kind == "idb" else "")
    ctx = launch(browser, profile)
    try:
        a = open_app(ctx, url, "A")
        ids = write_notes(a, 12)
        before, before_texts = rows(a), texts(a, ids)
        with a.expect_download() as download:
            a.click("#export")
        exported = tmp_path / "notes.yloft"
        download.value.save_as(exported)
        manifest = wait_manifest(a, f"notes:{kind}", "m.held === 12 && m.exportedAt > 0")
    finally:
        ctx.close()

    ctx = launch(browser, profile)
    try:
        delete_database(ctx, base_url, kind)
        b = open_app(ctx, url, "A after eviction")
        notice = b.locator("#evicted")
        expect(notice).to_be_visible()
        expect(notice).to_have_attribute("data-state", "gone")
        expect(notice).to_contain_text("This browser deleted the notes it had stored for this app")
        expect(notice).to_contain_text("(12 notes): they are gone from this browser")
        expect(notice).to_contain_text("You exported them on")
        evicted = b.evaluate("() => window.db.status.evicted")
        assert evicted["storage"] == kind and evicted["documents"] == 12
        assert evicted["relay"] is False and evicted["hadRelay"] is False
        assert evicted["exportedAt"] == manifest["exportedAt"]
        assert evicted["restored"] is False
        assert rows(b) == []

        # The offer: the button opens the import; the last export brings every note back.
        offer = b.get_by_role("button", name="Import the last export")
        with b.expect_file_chooser() as chooser:
            offer.click()
        chooser.value.set_files(str(exported))
        wait_count(b, 12)
        assert rows(b) == before
        assert texts(b, ids) == before_texts
        expect(notice).to_have_attribute("data-state", "restored")
        expect(notice).to_contain_text("the import brought them back")
        expect(offer).to_be_hidden()

        # Once the data is back, the next start claims nothing.
        wait_manifest(b, f"notes:{kind}", "m.held === 12 && m.lost === null")
        b.reload()
        b.wait_for_selector("html[data-yloft=ready]", state="attached")
        assert b.evaluate("() => window.db.status.evicted") is None
        expect(notice).to_be_hidden()
    finally:
        ctx.close()


def test_without_the_import_the_loss_is_said_again_at_the_next_start(
    browser: Browser, base_url: str, profile: str
) -> None:
    """A deleted database whose person has not imported anything yet stays reported."""
    ctx = launch(browser, profile)
    try:
        a = open_app(ctx, base_url, "A")
        write_notes(a, 3)
        wait_manifest(a, "notes:opfs", "m.held === 3")
    finally:
        ctx.close()
    ctx = launch(browser, profile)
    try:
        delete_database(ctx, base_url, "opfs")
        b = open_app(ctx, base_url, "after eviction")
        first = b.evaluate("() => window.db.status.evicted")
        assert first["documents"] == 3 and first["exportedAt"] is None
        expect(b.locator("#evicted")).to_contain_text("If you have an export of them")
        expect(b.get_by_role("button", name="Import an export")).to_be_visible()
        wait_manifest(b, "notes:opfs", "m.lost !== null && m.held === 0")
        b.reload()
        b.wait_for_selector("html[data-yloft=ready]", state="attached")
        assert b.evaluate("() => window.db.status.evicted") == first
        expect(b.locator("#evicted")).to_have_attribute("data-state", "gone")
    finally:
        ctx.close()


def test_a_fresh_start_is_not_an_eviction(context: BrowserContext, base_url: str) -> None:
    """No manifest (a new profile, or a whole origin evicted), an empty database, and a
    sign-out (clearLocalData) are all fresh starts: nothing claims the data was lost."""
    page = open_app(context, base_url, "fresh")
    assert page.evaluate("() => window.db.status.evicted") is None
    expect(page.locator("#evicted")).to_be_hidden()
    page.reload()  # the database exists now, empty
    page.wait_for_selector("html[data-yloft=ready]", state="attached")
    assert page.evaluate("() => window.db.status.evicted") is None

    call(page, "create_note", "kept", "until sign-out")
    wait_manifest(page, "notes:opfs", "m.held === 1")
    page.evaluate("() => window.db.clearLocalData({discardUnsynced: true})")
    page.reload()
    page.wait_for_selector("html[data-yloft=ready]", state="attached")
    assert rows(page) == []
    assert page.evaluate("() => window.db.status.evicted") is None
    expect(page.locator("#evicted")).to_be_hidden()
