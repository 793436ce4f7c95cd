"""The devtools panel (web/devtools/, docs/devtools.md) as a person uses it: on the notes
app, in Chromium, located by role and label.

The notes example is built as ``yloft serve`` builds it (``build_app(devtools=True)``);
the session's ordinary bundle (``base_url``) does not enable devtools, and there the
chord, ``?devtools`` and the engine's introspection calls must do nothing.

``YLOFT_DOC_IMAGES=1`` also saves the screenshots of docs/devtools.md into docs/images/.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from apppage import call, open_app, wait_until
from playwright.sync_api import BrowserContext, Locator, Page, expect

import build
from yloft.app import build_app
from yloft.app.runtime import static_server

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "docs" / "images"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The notes app built with devtools enabled, as the dev server builds it."""
    build.build()
    out = tmp_path_factory.mktemp("devtools") / "dist"
    result = build_app(ROOT / "examples" / "notes", out, devtools=True)
    assert result.manifest["devtools"] is True
    return out


@pytest.fixture(scope="module")
def url(bundle: Path) -> Iterator[str]:
    server = static_server(bundle)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@contextlib.contextmanager
def relay(bundle: Path, db: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """A relay process serving ``bundle`` and /relay (stop it to go offline)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "relay"), str(ROOT / "pylib")]))
    args = ["--host", "127.0.0.1", "--port", "0", "--db", str(db), "--tokens", "demo=demo"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "yloft_relay", *args, "--static", str(bundle)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if match is None:
            pytest.fail(f"the relay did not start: {line!r}")
        yield f"http://127.0.0.1:{match.group(1)}/", proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=20)
        if proc.stdout is not None:
            proc.stdout.close()


def panel(page: Page) -> Locator:
    return page.get_by_role("complementary", name=re.compile("yloft devtools"))


def open_panel(page: Page) -> Locator:
    """Ctrl+Shift+Y, as a person opens it."""
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+Shift+KeyY")
    expect(panel(page)).to_be_visible()
    return panel(page)


def view(tools: Locator, name: str) -> None:
    tools.get_by_role("tab", name=name).click()
    expect(tools.get_by_role("tab", name=name)).to_have_attribute("aria-selected", "true")


def screenshot(page: Page, name: str) -> None:
    if os.environ.get("YLOFT_DOC_IMAGES"):
        IMAGES.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(IMAGES / f"devtools-{name}.png"))


def test_search_a_note_watch_its_yjs_tree_live_and_query_sql(
    context: BrowserContext, url: str
) -> None:
    page = open_app(context, url, "a")
    page.set_viewport_size({"width": 1400, "height": 900})
    for i in range(30):
        call(page, "create_note", f"chores {i}", f"list {i}")
    nid = call(page, "create_note", "Shopping", "two litres of oat milk")
    tools = open_panel(page)

    # Data: the collection and its row count, paged rows, then the full-text search.
    collections = tools.get_by_role("table", name="Collections")
    expect(collections.get_by_role("row", name=re.compile(r"notes 31 "))).to_be_visible()
    expect(tools.get_by_role("status")).to_have_text(re.compile("^1.25 of 31 rows of notes"))
    tools.get_by_role("button", name="Next page").click()
    expect(tools.get_by_role("status")).to_have_text(re.compile("^26.31 of 31 rows of notes"))
    tools.get_by_label("Full-text search").fill("oat mil")
    expect(tools.get_by_role("status")).to_have_text(re.compile("^1.1 of 1 matches"))
    screenshot(page, "data")
    tools.get_by_role("button", name=f"Inspect document {nid}").click()

    # Document: the Yjs tree, its log and size; another tab edits the note.
    expect(tools.get_by_role("tab", name="Document")).to_have_attribute("aria-selected", "true")
    tree = tools.get_by_role("tree", name="Yjs content")
    body = re.compile('^body: Y.Text .*"two litres of oat milk"$')
    expect(tree.get_by_role("treeitem", name=body)).to_be_visible()
    expect(tree.get_by_role("treeitem", name=re.compile("^meta: Y.Map"))).to_be_visible()
    expect(tree.get_by_role("treeitem", name="done: false")).to_be_visible()
    log = tools.get_by_role("table", name="Update log").get_by_role("row")
    expect(log.nth(1)).to_be_visible()  # the header and the note's first update at least
    before = log.count()

    other = open_app(context, url, "b")
    other.click(f"#notes li[data-id='{nid}']")
    other.get_by_label("Body").click()
    other.keyboard.press("Control+End")
    other.keyboard.type(" and honey")
    # The note is open in the other tab's editor and in the panel.
    open_docs = tools.get_by_role("table", name="Documents open in some tab")
    expect(open_docs.get_by_role("row", name=re.compile(f"^notes .*{nid} [2-9]$"))).to_be_visible()
    honey = re.compile('^body: Y.Text .*"two litres of oat milk and honey"$')
    expect(tree.get_by_role("treeitem", name=honey)).to_be_visible()
    wait_until(other, "() => document.querySelector('#saved').textContent === 'Saved'")
    expect(log.nth(before)).to_be_visible()  # the log grew with the other tab's edits
    screenshot(page, "document")

    # SQL: a query runs; a write is refused by the engine and changes nothing.
    view(tools, "SQL")
    sql = tools.get_by_role("textbox", name=re.compile("^SQL"))
    sql.fill("SELECT title, body FROM notes WHERE title = 'Shopping'")
    tools.get_by_role("button", name="Run query").click()
    result = tools.get_by_role("table", name="Query result")
    row = re.compile("Shopping two litres of oat milk and honey")
    expect(result.get_by_role("row", name=row)).to_be_visible()
    screenshot(page, "sql")
    for write in ("DELETE FROM notes", "UPDATE notes SET title = 'gone'", "DROP TABLE notes"):
        sql.fill(write)
        sql.press("Control+Enter")
        expect(tools.get_by_role("alert")).to_contain_text("ReadOnlyQueryError")
        expect(tools.get_by_role("alert")).to_contain_text("only reads")
    assert page.evaluate("() => window.db.query('SELECT count(*) AS n FROM notes')") == [{"n": 31}]


def test_tabs_and_outbox_while_the_relay_is_stopped(
    context: BrowserContext, bundle: Path, tmp_path: Path
) -> None:
    with relay(bundle, tmp_path / "relay.db") as (base, proc):
        sync = base + "?space=demo&token=demo"
        page = open_app(context, sync + "&devtools", "writer")
        tools = panel(page)
        expect(tools).to_be_visible()  # ?devtools opened it
        view(tools, "Sync")
        expect(tools.get_by_role("definition").first).to_have_text("online")
        follower = open_app(context, sync, "follower")  # before the relay (and its files) stop
        proc.terminate()
        proc.wait(timeout=20)
        expect(tools.get_by_role("definition").first).to_have_text("offline")
        nid = call(follower, "create_note", "written offline", "kept for the relay")
        outbox = tools.get_by_role("table", name=re.compile("^Relay outbox of space demo"))
        expect(outbox.get_by_role("row", name=re.compile(nid)).first).to_be_visible()
        expect(tools).to_contain_text(re.compile(r"outbox \(not acknowledged\)\s*[1-9]"))
        feed = tools.get_by_role("table", name=re.compile("^Change feed"))
        expect(feed.get_by_role("row", name=re.compile(f"notes {nid} ")).first).to_be_visible()
        screenshot(page, "sync")

        view(tools, "Tabs")
        tabs = tools.get_by_role("table", name="Open tabs")
        expect(tabs.get_by_role("row")).to_have_count(3)
        expect(tabs.get_by_role("row", name=re.compile("writer .*this tab"))).to_have_count(1)
        expect(tools).to_contain_text("Tab outbox: empty")
        # The follower tab sees itself as one.
        other = open_panel(follower)
        view(other, "Tabs")
        expect(other).to_contain_text("follower (forwards to the writer)")

        view(tools, "Storage")
        expect(tools.get_by_role("definition").first).to_have_text("OPFS")
        expect(tools).to_contain_text(re.compile(r"usage.* of "))


def test_actions_ask_first_and_change_nothing_when_cancelled(
    context: BrowserContext, url: str, tmp_path: Path
) -> None:
    page = open_app(context, url, "a")
    nid = call(page, "create_note", "Keep me", "pls")
    call(page, "update_note", nid, None, "please")  # a second update in its log
    tools = open_panel(page)
    view(tools, "Actions")

    tools.get_by_role("button", name="Clear local data").click()
    dialog = page.get_by_role("dialog", name="Clear local data?")
    expect(dialog).to_be_visible()
    screenshot(page, "confirm")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    assert call(page, "get_note", nid)["title"] == "Keep me"

    tools.get_by_role("button", name="Export the database").click()
    page.get_by_role("dialog", name="Export the database?").get_by_role(
        "button", name="Export"
    ).click()
    expect(tools.get_by_role("link", name=re.compile("^Download the export"))).to_be_visible()
    exported = page.evaluate(
        """async () => {
            const bytes = new Uint8Array(await (await window.db.exportFile()).arrayBuffer());
            return btoa(String.fromCharCode(...bytes));
        }"""
    )
    file = tmp_path / "notes.yloft"
    file.write_bytes(base64.b64decode(exported))
    tools.get_by_label("Export file to import").set_input_files(str(file))
    tools.get_by_role("button", name="Import the file").click()
    page.get_by_role("dialog", name="Import this file?").get_by_role(
        "button", name="Import"
    ).click()
    imported = re.compile(r"Imported 1 document\(s\), 0 changed")
    expect(tools.get_by_role("status")).to_have_text(imported)

    view(tools, "Document")
    tools.get_by_label("Document id").fill(nid)
    tools.get_by_role("button", name="Open document").click()
    log = tools.get_by_role("table", name="Update log")
    expect(log.get_by_role("row", name=re.compile(r" no$"))).to_have_count(2)
    tools.get_by_role("button", name="Compact this document").click()
    dialog = page.get_by_role("dialog", name="Compact this document?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(log.get_by_role("row", name=re.compile(r" no$"))).to_have_count(2)
    tools.get_by_role("button", name="Compact this document").click()
    page.get_by_role("dialog", name="Compact this document?").get_by_role(
        "button", name="Compact"
    ).click()
    expect(log.get_by_role("row", name=re.compile(r" yes$"))).to_have_count(2)
    assert call(page, "get_note", nid)["body"] == "please"

    # Clear local data: refused while the notes exist only here, unless told to discard.
    view(tools, "Actions")
    clear = tools.get_by_role("button", name="Clear local data")
    clear.click()
    page.get_by_role("dialog", name="Clear local data?").get_by_role(
        "button", name="Clear local data"
    ).click()
    expect(tools.get_by_role("alert")).to_contain_text("UnsyncedChangesError")
    assert call(page, "get_note", nid)["title"] == "Keep me"
    tools.get_by_label("Also discard changes that exist only here").check()
    clear.click()
    page.get_by_role("dialog", name="Clear local data?").get_by_role(
        "button", name="Clear local data"
    ).click()
    expect(tools.get_by_role("status")).to_have_text(re.compile(r"^Cleared \(1 unsynced"))
    expect(tools.get_by_role("alert")).to_contain_text("its local data was cleared")
    page.reload()
    page.wait_for_selector("html[data-yloft=ready]", state="attached")
    assert page.evaluate("() => window.db.query('SELECT count(*) AS n FROM notes')") == [{"n": 0}]


def test_unreachable_unless_the_app_enables_it(context: BrowserContext, base_url: str) -> None:
    page = open_app(context, base_url + "?devtools", "plain")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+Shift+KeyY")
    for method, args in (("devtools", ["collections"]), ("devtools_tab", [])):
        error = page.evaluate(
            "([m, a]) => window.db.request(m, a).then(() => null, (e) => [e.name, e.message])",
            [method, args],
        )
        assert error[0] == "DevtoolsDisabledError", method
        assert "connect({devtools: true})" in error[1]
    error = page.evaluate("() => window.db.openDevtools().then(() => null, (e) => e.name)")
    assert error == "DevtoolsDisabledError"
    loaded = page.evaluate(
        "() => performance.getEntriesByType('resource')"
        ".filter((e) => e.name.includes('/devtools/')).length"
    )
    assert loaded == 0
    assert page.locator("#yloft-devtools").count() == 0


def test_connect_option_enables_it_in_an_ordinary_bundle(
    context: BrowserContext, base_url: str
) -> None:
    """connect({devtools: true}) is the app's own switch (the bundle does not enable it)."""
    page = open_app(context, base_url, "plain")
    page.evaluate(
        """async () => {
            const { connect } = await import('./yloft.js');
            window.db.close();
            window.db = await connect({ name: 'notes', app: 'notes_app', devtools: true });
        }"""
    )
    nid = call(page, "create_note", "seen", "by the devtools")
    assert page.evaluate("() => window.db.request('devtools', ['collections'])")[0]["rows"] == 1
    tools = open_panel(page)
    tools.get_by_label("Full-text search").fill("devtools")
    expect(tools.get_by_role("button", name=f"Inspect document {nid}")).to_be_visible()


def test_devtools_page_beside_the_app(context: BrowserContext, url: str, base_url: str) -> None:
    """devtools/devtools.html connects to the app's engine as another tab of the app."""
    app = open_app(context, url, "app")
    nid = call(app, "create_note", "from the app", "seen from the devtools page")
    page = context.new_page()
    page.goto(url + "devtools/devtools.html")
    expect(page.get_by_role("status").first).to_have_text(
        re.compile("a tab of the app runs the engine")
    )
    tools = panel(page)
    tools.get_by_label("Full-text search").fill("devtools page")
    tools.get_by_role("button", name=f"Inspect document {nid}").click()
    tree = tools.get_by_role("tree", name="Yjs content")
    expect(tree.get_by_role("treeitem", name=re.compile('"from the app"$'))).to_be_visible()
    view(tools, "Tabs")
    expect(tools).to_contain_text("follower (forwards to the writer)")

    # An ordinary bundle's devtools page says it is not enabled and connects to nothing.
    plain = context.new_page()
    plain.goto(base_url + "devtools/devtools.html")
    expect(plain.get_by_role("status")).to_have_text(re.compile("not enabled for this bundle"))
    expect(panel(plain)).to_have_count(0)


def test_a_followers_tab_outbox_while_the_writer_is_busy(context: BrowserContext, url: str) -> None:
    """The Tabs view lists this tab's writes the engine has not answered: here while the
    writer's engine runs a long query typed into its own SQL console."""
    writer = open_app(context, url, "writer")
    follower = open_app(context, url, "follower")
    mine = open_panel(follower)
    view(mine, "Tabs")
    expect(mine).to_contain_text("Tab outbox: empty")
    busy = open_panel(writer)
    view(busy, "SQL")
    busy.get_by_role("textbox", name=re.compile("^SQL")).fill(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 60000000)"
        " SELECT count(*) AS n FROM c"
    )
    busy.get_by_role("button", name="Run query").click()
    follower.get_by_role("button", name="New note").click()  # a write the engine must answer
    outbox = mine.get_by_role("table", name="Tab outbox")
    expect(outbox.get_by_role("row", name=re.compile(r"^\d+ call create_note "))).to_be_visible()
    screenshot(follower, "tabs")
    result = busy.get_by_role("table", name="Query result")
    expect(result.get_by_role("row", name="60000000")).to_be_visible(timeout=120_000)
    expect(mine).to_contain_text("Tab outbox: empty", timeout=60_000)
